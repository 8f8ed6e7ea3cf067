"""Numbers out of range, stated levels that do not fit, and polygons GEOS cannot
dissolve: each is a reported issue naming file, row and column, never a crash, and
a refused import leaves the store exactly as it was."""

from __future__ import annotations

import pandas as pd
import pytest
from shapely.geometry import Polygon

from dashapp.services.importing import issue_text, run_import
from data.importers import ImportSpec, Report, Source, assemble
from data.importers.bundle import MAX_RATE, check_rate
from data.importers.tables import MAX_VALUE
from tests.unit.data import import_files as f
from tests.unit.data.test_import_bad_files import (
    boundaries,
    refused,
    snapshot,
    with_population,
)


def population_file(tmp_path, values) -> Source:
    frame = f.communes()[["ADM3_PCODE"]].assign(T_TL=values)
    path = tmp_path / "pop.csv"
    frame.to_csv(path, index=False)
    return Source("pop.csv", path)


def test_population_of_1e20_is_refused_not_wrapped_around(tiny_store, tmp_path):
    values = [*f.POPULATION[:3], "1e20", *f.POPULATION[4:]]
    spec = ImportSpec(
        [Source("adm3.geojson", f.write_cod_ab(tmp_path))],
        population=population_file(tmp_path, values),
    )
    (issue,) = refused(tiny_store, spec, "out_of_range")
    assert (issue.file, issue.row, issue.field) == ("pop.csv", 4, "T_TL")
    assert issue.params["value"] == "1e20"
    assert issue.params["maximum"] == MAX_VALUE["population"]
    assert "1e20" in issue_text(issue, "fr") and "hors des valeurs" in issue_text(
        issue, "fr"
    )
    assert "outside the accepted values" in issue_text(issue, "en")


@pytest.mark.parametrize(
    ("cell", "code"),
    [("inf", "not_a_number"), ("nan", "not_a_number"), ("-5", "negative"),
     ("9" * 400, "not_a_number"), ("2000000001", "out_of_range")],
)  # fmt: skip
def test_population_cells_that_are_not_counts(tiny_store, tmp_path, cell, code):
    values = [cell, *f.POPULATION[1:]]
    spec = ImportSpec(
        [Source("adm3.geojson", f.write_cod_ab(tmp_path))],
        population=population_file(tmp_path, values),
    )
    (issue,) = refused(tiny_store, spec, code)
    assert (issue.row, issue.field) == (1, "T_TL")


def test_population_in_the_boundary_layer_is_checked_too(tiny_store, tmp_path):
    frame = f.communes().assign(population=f.POPULATION)
    frame["population"] = frame["population"].astype(float)
    frame.loc[6, "population"] = 1e20
    path = tmp_path / "with_pop.geojson"
    frame.to_file(path, driver="GeoJSON")
    (issue,) = refused(tiny_store, boundaries(path), "out_of_range")
    assert (issue.file, issue.row, issue.field) == ("with_pop.geojson", 7, "population")


def test_centers_and_sites_out_of_range(tiny_store, tmp_path):
    centers = tmp_path / "centres.csv"
    centers.write_text(
        "code,nom,longitude,latitude,capacite,effectif\n"
        "SC1,Centre A,-4.95,12.05,1e20,4\n"
        "SC2,Centre B,200,12.05,500,6\n"
        "SC3,Centre C,-4.75,-95,500,6\n"
        "SC4,Centre D,-4.75,12.05,500,1e9\n"
    )
    sites = tmp_path / "sites.csv"
    sites.write_text("code,nom,lon,lat,cout,capacite\nCS1,Site,-4.95,12.15,1e30,250\n")
    spec = with_population(
        tmp_path,
        f.write_cod_ab(tmp_path),
        centers=Source("centres.csv", centers),
        candidates=Source("sites.csv", sites),
    )
    refused(tiny_store, spec, "out_of_range")
    where = {
        (i.file, i.row, i.field)
        for i in run_import(tiny_store, spec)[0].errors
        if i.code == "out_of_range"
    }
    assert where == {
        ("centres.csv", 1, "capacite"),
        ("centres.csv", 2, "lon"),
        ("centres.csv", 3, "lat"),
        ("centres.csv", 4, "effectif"),
        ("sites.csv", 1, "cout"),
    }


def test_operation_counts_and_delays_out_of_range(tiny_store, tmp_path):
    row = {
        "week": "2026-01-05", "commune_code": "XY0101001", "center_code": "SC1",
        "doc_type": "CNI", "requests": 10, "delivered": 8, "delivered_on_time": 7,
        "rejected": 1, "backlog": 1, "delay_mean_days": 9.5, "delay_p90_days": 14.0,
    }  # fmt: skip
    rows = [row, {**row, "requests": "1e12"}, {**row, "delay_p90_days": "1e9"}]
    spec = with_population(
        tmp_path,
        f.write_cod_ab(tmp_path),
        centers=Source("centres.csv", f.write_centers(tmp_path)),
        operations=Source("ops.csv", f.write_operations(tmp_path, rows)),
    )
    hits = refused(tiny_store, spec, "out_of_range")
    assert {(i.row, i.field) for i in hits} == {(2, "requests"), (3, "delay_p90_days")}


def test_socio_economic_rates_out_of_range(tiny_store, tmp_path):
    frame = f.communes()[["ADM3_PCODE"]].assign(
        T_TL=f.POPULATION, taux_pauvrete=[30, 40, 1e5, 20, 10, 5, 50, 60]
    )
    path = tmp_path / "pop.csv"
    frame.to_csv(path, index=False)
    spec = ImportSpec(
        [Source("adm3.geojson", f.write_cod_ab(tmp_path))],
        population=Source("pop.csv", path),
    )
    (issue,) = refused(tiny_store, spec, "out_of_range")
    assert (issue.row, issue.field) == (3, "taux_pauvrete")


def test_values_at_the_limits_are_stored(tiny_store, tmp_path):
    values = [int(MAX_VALUE["population"]), *f.POPULATION[1:]]
    spec = ImportSpec(
        [Source("adm3.geojson", f.write_cod_ab(tmp_path))],
        population=population_file(tmp_path, values),
    )
    report, info, _ = run_import(tiny_store, spec)
    assert info is not None, [i.text() for i in report.errors]
    units = tiny_store.units(info.id)
    assert units["population"].min() >= 0
    regions = units[units["level"] == 0]["population"]
    assert regions.sum() == sum(values)  # exact: no wrap-around, no float rounding


# -- yearly rates and level names ------------------------------------------------------
@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-0.1", "abc", "", None,
                                   True, MAX_RATE * 2, float("nan")])  # fmt: skip
def test_rates_must_be_finite_and_in_range(value):
    with pytest.raises(ValueError, match="rate of CNI should be a number in 0..1"):
        check_rate("CNI", value)


def test_rates_of_unknown_document_types_are_refused():
    assert check_rate("PASS", "0.006") == 0.006
    with pytest.raises(ValueError, match="unknown document type 'VISA'"):
        check_rate("VISA", 0.01)


def test_level_names_that_do_not_fit_the_files_are_an_error(tiny_store, tmp_path):
    path = f.write_cod_ab(tmp_path)  # region, department, commune
    spec = with_population(tmp_path, path, level_names=["region", "commune"])
    (issue,) = refused(tiny_store, spec, "levels_mismatch")
    assert (issue.field, issue.params["expected"], issue.params["given"]) == (
        "levels",
        3,
        2,
    )
    assert "region, commune" in issue_text(issue, "en")


def test_level_names_without_the_added_national_level_are_fine(tmp_path):
    frame = f.communes()[["ADM1_PCODE", "ADM1_FR", "ADM3_PCODE", "ADM3_FR",
                          "geometry"]]  # fmt: skip
    path = tmp_path / "two_levels.geojson"
    frame.to_file(path, driver="GeoJSON")
    report = Report()
    bundle = assemble(
        with_population(tmp_path, path, level_names=["province", "commune"]), report
    )
    assert bundle is not None, [i.text() for i in report.errors]
    assert bundle.levels["code"].tolist() == ["country", "province", "commune"]


# -- geometry GEOS refuses to dissolve -----------------------------------------
def bowtie_over_neighbour(tmp_path):
    """Commune 3 drawn as a bow-tie whose wing crosses into commune 4's square."""
    frame = f.communes()
    x0, y0 = -4.9, 12.0  # its square is x0..x0+0.1, y0..y0+0.1; commune 4 is above
    frame.loc[2, "geometry"] = Polygon(
        [(x0, y0), (x0 + 0.1, y0 + 0.15), (x0 + 0.1, y0), (x0, y0 + 0.15)]
    )
    path = tmp_path / "bowtie_overlap.geojson"
    frame.to_file(path, driver="GeoJSON")
    return path


def test_self_intersection_over_a_neighbour_is_repaired_and_reported(
    tiny_store, tmp_path
):
    path = bowtie_over_neighbour(tmp_path)
    before = snapshot(tiny_store)
    report, info, _ = run_import(tiny_store, with_population(tmp_path, path))
    assert info is not None, [i.text() for i in report.errors]
    assert snapshot(tiny_store) != before
    (repaired,) = [i for i in report.warnings if i.code == "repaired"]
    (overlap,) = [i for i in report.warnings if i.code == "overlapping_units"]
    assert (repaired.row, overlap.file, overlap.row, overlap.field) == (
        3,
        "bowtie_overlap.geojson",
        4,
        "geometry",
    )
    assert (overlap.params["value"], overlap.params["other"]) == (
        "XY0102004",
        "XY0102003",
    )
    for lang in ("fr", "en"):
        text = issue_text(overlap, lang)
        assert "XY0102004" in text and "XY0102003" in text and "{" not in text
    units = tiny_store.units(info.id).set_index("code")
    assert units.geometry.is_valid.all()
    department = units.geometry["XY0102"].buffer(1e-9)
    assert department.covers(units.geometry["XY0102003"])
    assert department.covers(units.geometry["XY0102004"])


def test_the_same_file_is_refused_without_repair(tiny_store, tmp_path):
    path = bowtie_over_neighbour(tmp_path)
    spec = with_population(tmp_path, path, repair=False)
    (issue,) = refused(tiny_store, spec, "invalid_geometry")
    assert (issue.row, issue.field) == (3, "geometry")
    assert "Self-intersection" in issue.params["reason"]


def test_overlapping_valid_polygons_are_reported_once(tmp_path):
    frame = f.communes()
    frame.loc[3, "geometry"] = frame.loc[3, "geometry"].buffer(0.03, join_style=2)
    path = tmp_path / "overlap.geojson"
    frame.to_file(path, driver="GeoJSON")
    report = Report()
    bundle = assemble(with_population(tmp_path, path), report)
    assert bundle is not None
    overlaps = [i for i in report.issues if i.code == "overlapping_units"]
    pairs = {(i.row, i.params["value"], i.params["other"]) for i in overlaps}
    assert len(pairs) == len(overlaps) >= 1  # once, though dissolved for two levels
    assert all(i.severity == "warning" and i.field == "geometry" for i in overlaps)
    assert pd.Series([i.file for i in overlaps]).eq("overlap.geojson").all()
