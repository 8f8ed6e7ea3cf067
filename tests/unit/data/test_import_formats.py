"""Every vector format the pinned GDAL reads, point layers
as centers and candidate sites, one clear message for a file of the wrong kind or
format.

Each file is written here, in the format under test, with geopandas/pyogrio.
"""

from __future__ import annotations

import zipfile

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import LineString, MultiPoint, box

from dashapp.services.importing import issue_text
from data.importers import ImportSpec, Report, Source, assemble
from data.importers.sites import guess_point_role
from data.importers.vector import GEO_SUFFIXES
from tests.unit.data import import_files as f
from tests.unit.data.test_import_bad_files import refused


def _boundaries(tmp_path) -> Source:
    path = f.write_cod_ab(tmp_path)
    return Source(path.name, path)


def _run(tmp_path, **kw):
    """Assemble COD-AB communes with the given sources; the bundle and report."""
    report = Report()
    bundle = assemble(ImportSpec([_boundaries(tmp_path)], **kw), report)
    return bundle, report


def _codes(report: Report, severity: str | None = None) -> list[str]:
    return [i.code for i in report.issues if severity in (None, i.severity)]


def _source(path, **kw) -> Source:
    return Source(path.name, path, **kw)


def test_the_formats_offered_are_the_ones_gdal_reads_here():
    drivers = pyogrio.list_drivers()
    assert {".geojson", ".gpkg", ".fgb", ".kml", ".kmz", ".zip"} <= set(GEO_SUFFIXES)
    assert "FlatGeobuf" in drivers and "OpenFileGDB" in drivers and "LIBKML" in drivers


# -- centers and candidate sites from point layers -------------------------------------


@pytest.mark.parametrize("name", ["centres.geojson", "centres.gpkg", "centres.fgb",
                                  "centres.kml", "centres.kmz", "centres_shp.zip"])  # fmt: skip
def test_centers_from_every_point_format(tmp_path, name):
    path = f.write_layer(f.sites(), tmp_path, name)
    bundle, report = _run(tmp_path, centers=_source(path))
    assert report.ok, [i.text() for i in report.errors]
    centers = bundle.centers.sort_values("center_code").reset_index(drop=True)
    assert centers["center_code"].tolist() == ["SC1", "SC2"]
    assert centers["name"].tolist() == ["Centre Saint-Louis", "Centre Grand-Kouraba"]
    assert centers["commune_code"].tolist() == ["XY0101001", "XY0203005"]
    assert centers["capacity_week"].tolist() == [300.0, 500.0]
    np.testing.assert_allclose(centers["lon"], [-4.95, -4.75], atol=1e-9)
    np.testing.assert_allclose(centers["lat"], [12.05, 12.05], atol=1e-9)


def test_projected_point_layer_is_reprojected_to_lon_lat(tmp_path):
    path = f.write_layer(f.sites().to_crs(32630), tmp_path, "centres_utm.gpkg")
    bundle, report = _run(tmp_path, centers=_source(path))
    assert report.ok and "reprojected" in _codes(report, "info")
    np.testing.assert_allclose(bundle.centers["lon"], [-4.95, -4.75], atol=1e-6)


def test_columns_of_a_point_layer_are_guessed_then_overridden(tmp_path):
    frame = f.sites().rename(columns={"code": "ID_CENTRE", "nom": "LIBELLE_LONG"})
    frame["libelle"] = ["court 1", "court 2"]
    path = f.write_layer(frame, tmp_path, "guichets.gpkg")
    bundle, report = _run(tmp_path, centers=_source(path))
    assert report.ok and bundle.centers["name"].tolist() == ["court 1", "court 2"]
    assert bundle.centers["center_code"].str.startswith("CTR-").all()  # no code guess
    mapping = {"code": "ID_CENTRE", "name": "LIBELLE_LONG", "capacity_week": None}
    bundle, report = _run(tmp_path, centers=_source(path, mapping=mapping))
    assert report.ok and bundle.centers["center_code"].tolist() == ["SC1", "SC2"]
    assert bundle.centers["name"].tolist()[0] == "Centre Saint-Louis"
    assert (bundle.centers["capacity_week"] == 0).all()  # none: unknown capacity


def test_osm_places_without_code_become_candidate_sites(tmp_path):
    path = f.write_osm_places(tmp_path)
    bundle, report = _run(tmp_path, candidates=_source(path))
    assert report.ok, [i.text() for i in report.errors]
    sites = bundle.candidates
    assert sites["site_code"].tolist() == ["n3101", "n3102", "n8815"]
    assert sites["name"].tolist() == ["Kaya", "Koro", "Sabou"]
    assert sites["commune_code"].tolist() == ["XY0101002", "XY0204007", "XY0204008"]
    (note,) = [i for i in report.issues if i.code == "codes_from_column"]
    assert note.severity == "info" and note.params["column"] == "osm_id"
    assert "osm_id" in issue_text(note, "fr") and "n3101" in issue_text(note, "en")


def test_places_without_any_id_are_numbered_by_row(tmp_path):
    frame = gpd.read_file(f.write_osm_places(tmp_path)).drop(
        columns=["osm_id", "osm_type"]
    )
    path = f.write_layer(frame, tmp_path, "villes.geojson")
    bundle, report = _run(tmp_path, candidates=_source(path))
    assert report.ok
    assert bundle.candidates["site_code"].tolist() == [
        "SITE-0001", "SITE-0002", "SITE-0003"
    ]  # fmt: skip
    (note,) = [i for i in report.issues if i.code == "codes_from_rows"]
    assert (note.params["first"], note.params["last"]) == ("SITE-0001", "SITE-0003")


def test_a_guessed_code_column_that_repeats_gives_way_to_the_osm_id(tmp_path):
    """Geofabrik's places layer: ``code`` is the feature class (1001...), not an id."""
    frame = gpd.read_file(f.write_osm_places(tmp_path)).drop(columns=["osm_type"])
    frame["code"] = [1001, 1002, 1002]
    frame["fclass"] = ["town", "village", "village"]
    path = f.write_layer(frame, tmp_path, "gis_osm_places_free_1.zip")
    bundle, report = _run(tmp_path, candidates=_source(path))
    assert report.ok and bundle.candidates["site_code"].tolist() == [
        "3101", "3102", "8815"
    ]  # fmt: skip
    assert {"code_column_not_unique", "codes_from_column"} <= set(_codes(report))
    given = _source(path, mapping={"code": "code"})  # chosen by the user: kept
    _, report = _run(tmp_path, candidates=given)
    assert [(i.code, i.row) for i in report.errors] == [("duplicate_code", 3)]


def test_centers_and_candidates_both_from_layers_share_no_code(tmp_path):
    centers = f.write_layer(f.sites(), tmp_path, "centres.fgb")
    places = f.write_layer(f.sites(), tmp_path, "places.geojson")
    _, report = _run(tmp_path, centers=_source(centers), candidates=_source(places))
    assert _codes(report, "error") == ["site_code_is_center"] * 2


def test_one_point_multipoints_are_points_and_outlines_among_points_are_warned(
    tmp_path,
):
    frame = f.sites()
    frame.loc[0, "geometry"] = MultiPoint([(-4.95, 12.05)])
    frame.loc[1, "geometry"] = box(-4.76, 12.04, -4.74, 12.06)  # a building outline
    bundle, report = _run(tmp_path, centers=_source(
        f.write_layer(frame, tmp_path, "centres.gpkg")))  # fmt: skip
    assert report.ok
    (warning,) = [i for i in report.warnings if i.code == "point_from_polygon"]
    assert (warning.code, warning.row, warning.field) == ("point_from_polygon", 2,
                                                          "geometry")  # fmt: skip
    assert bundle.centers["commune_code"].tolist() == ["XY0101001", "XY0203005"]


def test_rows_that_are_not_one_point_are_errors_naming_them(tmp_path):
    frame = f.sites()
    frame.loc[0, "geometry"] = MultiPoint([(-4.95, 12.05), (-4.85, 12.05)])
    frame.loc[1, "geometry"] = LineString([(-4.95, 12.05), (-4.85, 12.05)])
    frame = pd.concat([frame, f.sites().assign(code=["SC3", "SC4"])])
    _, report = _run(tmp_path, centers=_source(
        f.write_layer(frame, tmp_path, "centres.geojson")))  # fmt: skip
    assert [(i.code, i.row) for i in report.errors] == [
        ("multipoint", 1), ("not_a_point", 2)
    ]  # fmt: skip
    assert report.errors[0].params["n"] == 2


def test_polygons_given_as_centers_are_one_clear_error(tiny_store, tmp_path):
    path = f.write_layer(f.communes(), tmp_path, "communes.fgb")
    spec = ImportSpec([_boundaries(tmp_path)], centers=_source(path))
    (issue,) = refused(tiny_store, spec, "polygons_as_sites")
    assert issue.file == "communes.fgb" and "Polygon" in issue.params["type"]
    assert "give it as boundaries" in issue_text(issue, "en")


def test_point_layer_without_crs(tiny_store, tmp_path):
    in_degrees = f.write_layer(f.sites().set_crs(None, allow_override=True),
                               tmp_path, "sans_crs.fgb")  # fmt: skip
    bundle, report = _run(tmp_path, centers=_source(in_degrees))
    assert report.ok and "crs_assumed" in _codes(report, "warning")
    in_metres = f.write_layer(
        f.sites().to_crs(32630).set_crs(None, allow_override=True),
        tmp_path, "sans_crs_utm.fgb",
    )  # fmt: skip
    spec = ImportSpec([_boundaries(tmp_path)], centers=_source(in_metres))
    (issue,) = refused(tiny_store, spec, "no_crs")
    assert "EPSG:4326" in issue_text(issue, "en")


def test_empty_point_layer_and_several_point_layers(tiny_store, tmp_path):
    empty = tmp_path / "vide.geojson"
    empty.write_text('{"type": "FeatureCollection", "features": []}')
    refused(tiny_store, ImportSpec([_boundaries(tmp_path)], centers=_source(empty)),
            "no_features")  # fmt: skip
    path = tmp_path / "sites.gpkg"
    f.sites().to_file(path, layer="centres", driver="GPKG")
    f.sites().to_file(path, layer="anciens", driver="GPKG")
    f.communes().to_file(path, layer="communes", driver="GPKG")
    spec = ImportSpec([_boundaries(tmp_path)], centers=_source(path))
    (issue,) = refused(tiny_store, spec, "many_layers")
    assert (
        "centres" in issue.params["layers"] and "communes" not in issue.params["layers"]
    )
    bundle, report = _run(tmp_path, centers=_source(path, layer="centres"))
    assert report.ok and len(bundle.centers) == 2


# -- boundaries: FlatGeobuf, File Geodatabase, KML/KMZ ---------------------------------


@pytest.mark.parametrize("name", ["xy_adm3.fgb", "xy_adm3.kml", "xy_adm3.kmz"])
def test_boundaries_in_flatgeobuf_and_kml(tmp_path, name):
    path = f.write_layer(f.communes(), tmp_path, name)
    report = Report()
    bundle = assemble(ImportSpec([_source(path)]), report)
    assert report.ok, [i.text() for i in report.errors]
    assert bundle.summary()["units"] == [2, 4, 8]
    assert bundle.conventions == ["cod-ab"]


def test_zipped_file_geodatabase_as_ocha_publishes_it(tiny_store, tmp_path):
    communes = f.communes()
    regions = communes.dissolve("ADM1_PCODE", as_index=False)[
        ["ADM0_PCODE", "ADM1_PCODE", "ADM1_FR", "geometry"]
    ]
    path = f.write_gdb_zip(tmp_path, {
        "xy_admbnda_adm1": regions, "xy_admbnda_adm3": communes,
        "xy_admbndp_admALL": f.sites(),  # points: never a boundary candidate
    })  # fmt: skip
    (issue,) = refused(tiny_store, ImportSpec([_source(path)]), "many_layers")
    assert "xy_admbnda_adm1" in issue.params["layers"]
    assert "xy_admbndp_admALL" not in issue.params["layers"]
    report = Report()
    bundle = assemble(ImportSpec([_source(path, layer="xy_admbnda_adm3")]), report)
    assert report.ok and bundle.summary()["units"] == [2, 4, 8]
    single = tmp_path / "one"
    single.mkdir()
    path = f.write_gdb_zip(single, {"adm3": communes, "points": f.sites()})
    report = Report()
    bundle = assemble(ImportSpec([_source(path)]), report)  # the one polygon layer
    assert report.ok and len(bundle.units) == 14


def test_points_given_as_boundaries_are_one_error_naming_file_and_type(
    tiny_store, tmp_path
):
    path = f.write_layer(f.sites(), tmp_path, "centres.geojson")
    (issue,) = refused(tiny_store, ImportSpec([_source(path)]), "points_as_boundaries")
    assert (issue.file, issue.params["type"]) == ("centres.geojson", "Point")
    assert len(run_errors(tiny_store, path)) == 1
    assert "comme centres ou comme sites candidats" in issue_text(issue, "fr")
    lines = gpd.GeoDataFrame(
        {"code": ["R1"]}, geometry=[LineString([(0, 0), (1, 1)])], crs=4326
    )
    path = f.write_layer(lines, tmp_path, "routes.gpkg")
    (issue,) = refused(tiny_store, ImportSpec([_source(path)]), "not_polygons")
    assert issue.params["type"] == "LineString"


def run_errors(store, path):
    from dashapp.services.importing import run_import

    return run_import(store, ImportSpec([_source(path)]))[0].errors


# -- files that are not what their name says --------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("stats.json", b'{"a": 1}', "not_geojson"),
        ("liste.json", b"[1, 2, 3]", "not_geojson"),
        ("communes.geojson", b"code;nom\nC1;Kaya\n", "not_geojson"),
        ("communes.geojson", b"\x89PNG\r\n\x1a\n\x00\x00", "not_geojson"),
        ("communes.fgb", b"not a flatgeobuf at all", "unrecognised"),
        ("communes.gpkg", b"SQLite format 3\x00 broken", "unrecognised"),
        ("communes.zip", b"PK but not a zip", "not_a_zip"),
    ],
)
def test_a_file_that_is_not_its_format_is_one_clear_message(
    tiny_store, tmp_path, name, content, code
):
    path = tmp_path / name
    path.write_bytes(content)
    (issue,) = refused(tiny_store, ImportSpec([_source(path)]), code)
    assert [i.code for i in run_errors(tiny_store, path)] == [code]
    for lang in ("fr", "en"):
        text = issue_text(issue, lang)
        assert text.startswith(f"{name} : " if lang == "fr" else f"{name}: ")
        assert str(tmp_path) not in text and "/vsi" not in text
    if code != "not_a_zip":
        assert "format" in issue_text(issue, "en").split(":")[1]


def test_a_zip_without_any_layer(tiny_store, tmp_path):
    path = tmp_path / "docs.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("lisez-moi.txt", "rien")
        archive.writestr("__MACOSX/._communes.shp", "resource fork")
    (issue,) = refused(tiny_store, ImportSpec([_source(path)]), "zip_no_layer")
    assert ".shp" in issue.params["contents"] and ".gdb" in issue.params["contents"]


def test_in_memory_uploads_read_like_files(tmp_path):
    path = f.write_layer(f.sites(), tmp_path, "centres_shp.zip")
    report = Report()
    bundle = assemble(
        ImportSpec([_boundaries(tmp_path)],
                   centers=Source("centres_shp.zip", path.read_bytes())),
        report,
    )  # fmt: skip
    assert report.ok and len(bundle.centers) == 2


# -- role of a point layer ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "columns", "role"),
    [
        ("osm_places.geojson", ["osm_id", "name", "place", "population"], "candidates"),
        ("centres.gpkg", ["code", "nom", "capacite"], "centers"),
        ("points.geojson", ["code", "nom"], "centers"),
        ("points.geojson", ["nom"], "candidates"),
        ("sites_candidats.fgb", ["code", "nom"], "candidates"),
        ("export.kml", ["Name", "cout_ouverture"], "candidates"),
        ("export.kml", ["Name", "effectif", "statut"], "centers"),
    ],
)
def test_point_layer_role_is_guessed_from_name_and_columns(name, columns, role):
    assert guess_point_role(name, columns) == role
