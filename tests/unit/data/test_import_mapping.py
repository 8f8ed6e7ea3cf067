"""Boundary files mapped one by one.

Real layers do not share column names: regions, departments and communes come as
three files, each with its own code, name and parent columns (or none). Each file
is mapped on its own; every option works alone; every guess is reported; parents
join by code, by name, or by overlap, and the report says which.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from dashapp.__main__ import main
from dashapp.services.importing import issue_text
from data.importers import ImportSpec, Report, Source, assemble
from data.importers.boundaries import LayerMapping, detect_mapping, resolve_mapping
from tests.unit.data import import_files as f


def three_files(folder: Path, region_parent: str = "code") -> list[Path]:
    """Regions, departments and communes, each file with its own columns.

    ``region_parent``: whether the departments' ``region`` column holds the
    regions' codes or their names (spelled differently).
    """
    base = f.communes()
    reg = base.dissolve(by="ADM1_PCODE", aggfunc="first").reset_index()
    dep = base.dissolve(by="ADM2_PCODE", aggfunc="first").reset_index()
    parent = (
        dep["ADM1_PCODE"]
        if region_parent == "code"
        else dep["ADM1_FR"].str.upper()  # 'NORD', 'SUD'
    )
    frames = {
        "regions.geojson": {"reg_id": reg["ADM1_PCODE"], "reg_nom": reg["ADM1_FR"]},
        "departements.geojson": {
            "dep_code": dep["ADM2_PCODE"],
            "dep_name": dep["ADM2_FR"],
            "region": parent,
        },
        "communes.geojson": {
            "id_com": base["ADM3_PCODE"],
            "libelle": base["ADM3_FR"],
            "hab": f.POPULATION,
        },
    }
    geoms = {
        "regions.geojson": reg.geometry,
        "departements.geojson": dep.geometry,
        "communes.geojson": base.geometry,
    }
    paths = []
    for name, columns in frames.items():
        path = folder / name
        gpd.GeoDataFrame(columns, geometry=geoms[name].to_numpy(), crs=4326).to_file(
            path
        )
        paths.append(path)
    return paths


def _units(bundle) -> pd.DataFrame:
    return bundle.units.set_index("unit_code")


# -- one mapping per file, parents by code, by name, by overlap ----------------------


def test_three_files_with_their_own_columns_build_the_hierarchy(tmp_path):
    regions, depts, communes = three_files(tmp_path)
    spec = ImportSpec(
        [
            Source(communes.name, communes, {"code": "id_com"}),  # any order
            Source(regions.name, regions, {"code": "reg_id"}),
            Source(depts.name, depts, {"code": "dep_code"}),
        ]
    )
    report = Report()
    bundle = assemble(spec, report)
    assert bundle is not None, [i.text() for i in report.errors]
    units = _units(bundle)
    assert units.groupby("level").size().tolist() == [2, 4, 8]
    # names from each file's own name column, never the codes
    assert units.loc["XY01", "name"] == "Nord"
    assert units.loc["XY0102", "name"] == "Département 2"
    assert units.loc["XY0203006", "name"] == "N'Diaye"
    # departments by their region column (codes), communes by overlap
    assert units.loc["XY0102", "parent_code"] == "XY01"
    assert units.loc["XY0203006", "parent_code"] == "XY0203"
    joined = {
        i.file: i.params["how"] for i in report.issues if i.code == "parents_joined"
    }
    assert joined == {"departements.geojson": "code", "communes.geojson": "overlap"}
    # every guess is said, file by file
    guessed = [(i.file, i.params["guessed"]) for i in report.issues
               if i.code == "columns_guessed"]  # fmt: skip
    assert guessed == [
        ("communes.geojson", "name=libelle"),
        ("regions.geojson", "name=reg_nom"),
        ("departements.geojson", "name=dep_name; parents=region"),
        ("communes.geojson", "population=hab"),  # where it is read, once
    ]
    assert bundle.units.loc[bundle.units["level"] == 2, "population"].sum() == sum(
        f.POPULATION
    )


def test_a_parent_column_of_names_joins_by_name(tmp_path):
    regions, depts, communes = three_files(tmp_path, region_parent="name")
    spec = ImportSpec(
        [Source(p.name, p, {"code": c}) for p, c in
         ((regions, "reg_id"), (depts, "dep_code"), (communes, "id_com"))]
    )  # fmt: skip
    report = Report()
    bundle = assemble(spec, report)
    assert bundle is not None, [i.text() for i in report.errors]
    assert _units(bundle).loc["XY0203", "parent_code"] == "XY02"  # 'SUD' -> Sud
    issue = next(i for i in report.issues if i.code == "parents_joined"
                 and i.file == "departements.geojson")  # fmt: skip
    assert issue.params["how"] == "name"
    assert "par son nom" in issue_text(issue, "fr")


def test_a_parent_that_matches_nothing_is_an_error_naming_the_row(tmp_path):
    regions, depts, _ = three_files(tmp_path)
    frame = gpd.read_file(depts)
    frame.loc[3, "region"] = "XY99"  # 3 of 4 match: joined by code, one not found
    frame.to_file(depts)
    spec = ImportSpec(
        [Source(regions.name, regions, {"code": "reg_id"}),
         Source(depts.name, depts, {"code": "dep_code"})]
    )  # fmt: skip
    report = Report()
    assert assemble(spec, report) is None
    [error] = report.errors
    assert (error.code, error.file, error.row, error.field, error.params["value"]) == (
        "parent_not_found",
        "departements.geojson",
        4,
        "region",
        "XY99",
    )


def test_three_files_without_stated_levels_no_longer_crash(tmp_path):
    """Regression: sorting layers without levels compared ``None`` (list.sort
    empties the list while it runs, so a check inside the key saw no layer)."""
    paths = three_files(tmp_path)
    report = Report()
    spec = ImportSpec(
        [Source(p.name, p, {"code": c}) for p, c in
         zip(paths, ("reg_id", "dep_code", "id_com"), strict=True)]
    )  # fmt: skip
    assert assemble(spec, report) is not None


# -- each option alone; guesses said ---------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected", "guessed"),
    [
        (None, ("ADM3_PCODE", "ADM3_FR", 2), "code=ADM3_PCODE; name=ADM3_FR; parents="),
        ({"name": "ADM3_PCODE"}, ("ADM3_PCODE", "ADM3_PCODE", 2), "code=ADM3_PCODE;"),
        ({"code": "ADM2_PCODE"}, ("ADM2_PCODE", "ADM2_FR", 1), "name=ADM2_FR;"),
        ({"parents": []}, ("ADM3_PCODE", "ADM3_FR", 0), "code=ADM3_PCODE; name="),
        ({"population": "pop"}, ("ADM3_PCODE", "ADM3_FR", 2), "code=ADM3_PCODE;"),
    ],
)
def test_each_field_can_be_given_alone_the_others_guessed(given, expected, guessed):
    columns = [*f.communes().columns, "pop"]
    report = Report()
    mapping = resolve_mapping(columns, given, "adm3.geojson", report)
    assert (mapping.code, mapping.name, len(mapping.parents)) == expected
    [note] = [i for i in report.issues if i.code == "columns_guessed"]
    assert note.params["guessed"].startswith(guessed)
    given_keys = set(given or {})
    for key in given_keys:  # a field given is never listed as guessed
        assert f"{key}=" not in note.params["guessed"]


def test_a_layer_without_a_name_column_says_units_show_their_codes():
    report = Report()
    mapping = resolve_mapping(["ident", "surface"], {"code": "ident"}, "a.gpkg", report)
    assert mapping.name is None
    [warning] = report.warnings
    assert (warning.code, warning.field) == ("no_name_column", "ident")
    assert "porteront leur code" in issue_text(warning, "fr")


def test_no_code_column_is_an_error_listing_the_columns():
    report = Report()
    assert (
        resolve_mapping(["reg_id", "reg_nom"], None, "regions.geojson", report) is None
    )
    assert report.errors[0].code == "no_code_column"
    assert report.errors[0].params["columns"] == "reg_id, reg_nom"


def test_a_region_column_alone_is_a_parent_by_name():
    mapping = detect_mapping(["code", "nom", "region"])
    assert mapping.parents == (("region", None),)


def test_mapping_round_trips_with_its_population_column():
    mapping = LayerMapping("c", "n", (("r", "rn"),), "generic", None, "pop")
    assert LayerMapping.from_dict(mapping.to_dict()) == mapping
    assert mapping.columns() == ["c", "n", "r", "rn", "pop"]


def census_layer(folder: Path) -> Path:
    """Communes whose population column has a name no guess knows."""
    frame = f.communes()[["ADM3_PCODE", "ADM3_FR", "geometry"]]
    path = folder / "communes_rgph.gpkg"
    frame.assign(rgph_2013=f.POPULATION).to_file(path)
    return path


def test_population_column_of_the_boundary_file_without_a_table(tmp_path):
    path = census_layer(tmp_path)
    spec = ImportSpec([Source(path.name, path)], population_column="rgph_2013")
    report = Report()
    bundle = assemble(spec, report)
    communes = bundle.units[bundle.units["level"] == bundle.units["level"].max()]
    assert communes["population"].tolist() == f.POPULATION
    spec.population_column = "nope"
    report = Report()
    assert assemble(spec, report) is None
    assert (report.errors[0].code, report.errors[0].field) == ("missing_column", "nope")


# -- the command line: options per file, each alone -------------------------------------


def _cli(capsys, tmp_path, *args) -> tuple[int, str, str]:
    code = main(["import", "--data-dir", str(tmp_path / "data"), "--dry-run",
                 "--lang", "en", *map(str, args)])  # fmt: skip
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_maps_each_boundary_file_with_its_own_columns(capsys, tmp_path):
    regions, depts, communes = three_files(tmp_path)
    code, out, err = _cli(
        capsys, tmp_path,
        "--boundaries", regions, "--boundaries", depts, "--boundaries", communes,
        "--code-column", "reg_id", "--code-column", "dep_code",
        "--code-column", "id_com", "--levels", "region,department,commune",
    )  # fmt: skip
    assert code == 0, err
    assert "2 region / 4 department / 8 commune" in out
    assert "communes.geojson: columns guessed from their names" in err
    assert "by overlap of the boundaries" in err


def test_cli_per_file_option_counts_must_fit(capsys, tmp_path):
    regions, depts, communes = three_files(tmp_path)
    code, _, err = _cli(
        capsys, tmp_path, "--boundaries", regions, "--boundaries", depts,
        "--boundaries", communes, "--code-column", "reg_id", "--code-column", "dep",
    )  # fmt: skip
    assert code == 2
    assert err.strip().splitlines() == [
        "error: --code-column given 2 times for 3 --boundaries files: give it once "
        "(every file) or once per file, in the same order ('' to guess)"
    ]


def test_cli_name_column_alone_and_parent_names(capsys, tmp_path):
    adm3 = f.write_cod_ab(tmp_path)
    code, out, err = _cli(
        capsys, tmp_path, "--boundaries", adm3, "--name-column", "ADM3_PCODE",
        "--parent-columns", "ADM1_PCODE:ADM1_FR,ADM2_PCODE:ADM2_FR",
    )  # fmt: skip
    assert code == 0, err
    assert "code “ADM3_PCODE”" in err  # the code is still guessed, and said
    assert "upper levels" not in err  # given, not guessed


def test_cli_population_column_without_a_table_reads_the_boundary_file(
    capsys, tmp_path
):
    path = census_layer(tmp_path)
    code, out, err = _cli(capsys, tmp_path, "--boundaries", path)
    assert code == 0, err
    assert "population unknown" in out  # rgph_2013: no guess knows it
    code, out, err = _cli(capsys, tmp_path, "--boundaries", path,
                          "--population-column", "rgph_2013")  # fmt: skip
    assert code == 0, err
    assert "population unknown" not in out and "65,000" in out


def test_cli_bad_parent_columns_is_one_line(capsys, tmp_path):
    adm3 = f.write_cod_ab(tmp_path)
    code, _, err = _cli(capsys, tmp_path, "--boundaries", adm3,
                        "--parent-columns", "ADM1_PCODE:,x")  # fmt: skip
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "--parent-columns 'ADM1_PCODE:,x': expected CODE[:NAME]" in err


def test_cli_join_column_alone_joins_names_when_codes_do_not_match(capsys, tmp_path):
    adm3 = f.write_cod_ab(tmp_path)
    census = f.population_by_name(tmp_path)  # 'commune' column holds names
    code, out, err = _cli(capsys, tmp_path, "--boundaries", adm3, "--population",
                          census, "--join-column", "commune")  # fmt: skip
    assert code == 0, err
    assert "population unknown" not in out


def test_no_population_column_by_choice_is_not_guessed_again(tmp_path):
    path = f.write_generic(tmp_path)  # its 'habitants' would be guessed
    spec = ImportSpec([Source(path.name, path, {"code": "ident", "population": ""})])
    report = Report()
    bundle = assemble(spec, report)
    assert bundle.units["population"].isna().all()
    assert [i.code for i in report.warnings][:1] == ["population_absent"]
    spec = ImportSpec([Source(path.name, path, {"code": "ident"})])
    report = Report()
    bundle = assemble(spec, report)
    communes = bundle.units[bundle.units["level"] == bundle.units["level"].max()]
    assert communes["population"].tolist() == f.POPULATION
    assert "population=habitants" in [
        i.params.get("guessed") for i in report.issues if i.code == "columns_guessed"
    ]
