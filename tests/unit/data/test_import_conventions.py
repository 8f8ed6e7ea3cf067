"""Imports of small crafted files in each convention, stored in one transaction."""

from __future__ import annotations

import pandas as pd
import pytest

from dashapp.services.importing import run_import
from data.importers import ImportSpec, Report, Source, assemble
from data.importers.boundaries import LayerMapping, detect_mapping
from tests.unit.data import import_files as f


def _spec(paths, **kw) -> ImportSpec:
    return ImportSpec([Source(p.name, p) for p in paths], **kw)


def _units(bundle, level):
    return bundle.units[bundle.units["level"] == level].set_index("unit_code")


def test_cod_ab_single_layer_dissolves_regions_and_departments(tmp_path):
    report = Report()
    bundle = assemble(
        _spec(
            [f.write_cod_ab(tmp_path)],
            population=Source("population.csv", f.population_by_pcode(tmp_path)),
        ),
        report,
    )
    assert report.ok, [i.text() for i in report.issues]
    assert bundle.conventions == ["cod-ab"]
    assert bundle.levels["code"].tolist() == ["region", "department", "commune"]
    regions, depts, communes = (_units(bundle, k) for k in range(3))
    assert regions.index.tolist() == ["XY01", "XY02"]
    assert regions.loc["XY01", "name"] == "Nord"
    assert depts.loc["XY0102", "parent_code"] == "XY01"
    assert communes.loc["XY0101002", "parent_code"] == "XY0101"
    assert communes.loc["XY0101001", "population"] == 12000
    # upper levels: sums of their communes, areas from the dissolved polygons
    assert regions.loc["XY01", "population"] == 12000 + 8000 + 5000 + 7000
    assert regions.loc["XY01", "area_km2"] == pytest.approx(
        communes["area_km2"].iloc[:4].sum(), abs=0.01
    )
    assert regions.geometry.iloc[0].geom_type == "Polygon"


def test_geoboundaries_levels_without_parents_nest_by_largest_overlap(tmp_path):
    report = Report()
    bundle = assemble(
        _spec(
            reversed(f.write_geoboundaries(tmp_path)),  # order must not matter
            population=Source("pop.csv", f.population_by_name(tmp_path)),
        ),
        report,
    )
    assert report.ok, [i.text() for i in report.issues]
    assert bundle.conventions == ["geoboundaries"]
    regions, depts, communes = (_units(bundle, k) for k in range(3))
    assert len(regions) == 2 and len(depts) == 4 and len(communes) == 8
    parent_name = communes["parent_code"].map(depts["name"])
    assert parent_name[communes["name"] == "Médina-Gare"].iloc[0] == "Département 4"
    assert depts["parent_code"].map(regions["name"]).tolist() == [
        "Nord",
        "Nord",
        "Sud",
        "Sud",
    ]
    # joined by names spelled differently (ST LOUIS, Ste Mariama, MEDINA GARE, ...)
    pops = dict(zip(communes["name"], communes["population"], strict=True))
    assert pops["Saint-Louis"] == 12000 and pops["Médina-Gare"] == 6000


def test_generic_layer_needs_and_uses_a_column_mapping(tmp_path):
    path = f.write_generic(tmp_path)
    report = Report()
    assert assemble(_spec([path]), report) is None
    assert report.errors[0].code == "no_code_column"
    assert report.errors[0].file == "communes_generic.gpkg"
    mapping = LayerMapping(
        "ident", "appellation", (("zone_sup", None), ("circonscription", None))
    )
    report = Report()
    bundle = assemble(
        ImportSpec(
            [Source(path.name, path, mapping)],
            level_names=["region", "prefecture", "commune"],
        ),
        report,
    )
    assert report.ok, [i.text() for i in report.issues]
    assert bundle.levels["name_fr"].tolist() == ["Région", "Préfecture", "Commune"]
    assert _units(bundle, 2).loc["XY0203006", "parent_code"] == "XY0203"
    assert _units(bundle, 2)["population"].sum() == 65000  # 'habitants' column


def test_zipped_projected_shapefile_is_reprojected(tmp_path):
    report = Report()
    bundle = assemble(
        _spec(
            [f.write_zipped_shapefile(tmp_path)],
            population=Source("population.csv", f.population_by_pcode(tmp_path)),
        ),
        report,
    )
    assert report.ok, [i.text() for i in report.issues]
    assert "reprojected" in [i.code for i in report.issues]
    minx, miny, maxx, maxy = _units(bundle, 2).total_bounds
    assert (minx, miny, maxx, maxy) == pytest.approx((-5.0, 12.0, -4.6, 12.2), abs=1e-6)


def test_geopackage_and_tables_store_in_one_transaction(tiny_store, tmp_path):
    spec = ImportSpec(
        [Source("adm3.gpkg", _gpkg(tmp_path))],
        population=Source("population.csv", f.population_by_pcode(tmp_path, ";")),
        centers=Source("centres.csv", f.write_centers(tmp_path)),
        candidates=Source("sites.csv", f.write_candidates(tmp_path)),
        operations=Source("operations.csv", f.write_operations(tmp_path)),
        name="Pays test",
    )
    report, info, summary = run_import(tiny_store, spec)
    assert report.ok and info is not None
    assert tiny_store.active_dataset().id == info.id
    assert summary["units"] == [2, 4, 8]
    centers = tiny_store.centers(info.id)
    units = tiny_store.units(info.id).set_index("id")
    assert units.loc[centers["commune_id"], "code"].tolist() == [
        "XY0101001",
        "XY0203005",
    ]
    assert centers["capacity_week"].tolist() == [300, 500]
    assert len(tiny_store.candidates(info.id)) == 2
    ops = tiny_store.read_frame(
        "SELECT requests FROM operations WHERE dataset_id = :d", {"d": info.id}
    )
    assert ops["requests"].sum() == 14
    assert tiny_store.demand_estimates(info.id).empty  # operations were given
    access = tiny_store.read_frame(
        "SELECT distance_km FROM commune_access WHERE dataset_id = :d", {"d": info.id}
    )
    assert len(access) == 8 and access["distance_km"].notna().all()


def _gpkg(folder):
    path = folder / "adm3.gpkg"
    f.communes().to_file(path, layer="adm3", driver="GPKG")
    return path


def test_population_only_estimates_demand_and_marks_indicators_missing(
    tiny_store, tmp_path
):
    spec = _spec(
        [f.write_cod_ab(tmp_path)],
        population=Source("population.csv", f.population_by_pcode(tmp_path)),
        rates={"CNI": 0.052, "PASS": 0.0052},
    )
    report, info, summary = run_import(tiny_store, spec)
    assert info is not None
    demand = tiny_store.demand_estimates(info.id)
    first = demand[demand["commune_code"] == "XY0101001"].set_index("doc_type")
    # 12,000 inhabitants x 0.052 requests a year / 52 weeks = 12 a week
    assert first.loc["CNI", "requests_week"] == pytest.approx(12.0)
    assert first.loc["PASS", "requests_week"] == pytest.approx(1.2)
    assert {"mean_delay", "rejection_rate", "mean_distance", "poverty_rate"} <= set(
        summary["missing"]
    )
    units = tiny_store.units(info.id)
    assert units["poverty_rate"].isna().all()  # missing, not 0
    access = tiny_store.read_frame(
        "SELECT distance_km FROM commune_access WHERE dataset_id = :d", {"d": info.id}
    )
    assert access["distance_km"].isna().all()  # no center: no distance, not 0


def test_detect_mapping_conventions():
    cod = detect_mapping(["ADM1_PCODE", "ADM1_EN", "ADM2_PCODE", "ADM2_EN"])
    assert (cod.code, cod.name, cod.parents, cod.level) == (
        "ADM2_PCODE",
        "ADM2_EN",
        (("ADM1_PCODE", "ADM1_EN"),),
        2,
    )
    generic = detect_mapping(["code_commune", "nom", "code_region", "region"])
    assert generic.parents == (("code_region", "region"),)
    assert detect_mapping(["foo", "bar"]) is None


def test_levels_below_three_get_a_national_level(tmp_path):
    frame = f.communes()[["ADM2_PCODE", "ADM2_FR", "ADM3_PCODE", "ADM3_FR", "geometry"]]
    path = tmp_path / "two_levels.geojson"
    frame.to_file(path, driver="GeoJSON")
    report = Report()
    bundle = assemble(
        _spec([path], population=Source("p.csv", f.population_by_pcode(tmp_path)),
              name="Pays test"),
        report,
    )  # fmt: skip
    assert report.ok
    assert "national_level_added" in [i.code for i in report.issues]
    top = _units(bundle, 0)
    assert top.index.tolist() == ["NAT"] and top["name"].iloc[0] == "Pays test"
    assert bundle.levels["code"].tolist() == ["country", "region", "commune"]
    assert pd.Series(_units(bundle, 1)["parent_code"]).eq("NAT").all()
