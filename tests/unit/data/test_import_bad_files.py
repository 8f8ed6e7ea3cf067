"""A corpus of bad files: each gets a clear message naming file, row and field, and
the store is left exactly as it was."""

from __future__ import annotations

import io
import zipfile

import geopandas as gpd
import pytest
from shapely.geometry import Point, Polygon

from dashapp.i18n import STRINGS
from dashapp.services.importing import issue_text, run_import
from data.importers import ImportSpec, Report, Source
from data.importers.validate import ISSUE_CODES
from tests.unit.data import import_files as f

TABLES = (
    "datasets", "admin_levels", "admin_units", "unit_closure", "document_types",
    "service_centers", "candidate_sites", "operations", "commune_access",
    "demand_estimates",
)  # fmt: skip


def snapshot(store) -> dict:
    counts = {
        t: int(store.read_frame(f"SELECT COUNT(*) AS n FROM {t}")["n"].iloc[0])
        for t in TABLES
    }
    return {"counts": counts, "active": store.active_dataset()}


def refused(store, spec: ImportSpec, code: str) -> list:
    """Run the import; it must fail with ``code`` and leave the store unchanged."""
    before = snapshot(store)
    report, info, summary = run_import(store, spec)
    assert info is None and summary is None
    assert snapshot(store) == before
    hits = [i for i in report.errors if i.code == code]
    assert hits, [i.text() for i in report.issues]
    for issue in hits:
        for lang in ("fr", "en"):
            text = issue_text(issue, lang)
            assert issue.file in text and "{" not in text
    return hits


def boundaries(path, **kw) -> ImportSpec:
    return ImportSpec([Source(path.name, path)], **kw)


def with_population(tmp_path, path, **kw) -> ImportSpec:
    pop = Source("population.csv", f.population_by_pcode(tmp_path))
    return ImportSpec([Source(path.name, path)], population=pop, **kw)


def test_every_issue_code_has_french_and_english_text():
    for code in ISSUE_CODES:
        assert set(STRINGS[f"imp.issue.{code}"]) == {"fr", "en"}


def test_truncated_json_names_its_line(tiny_store, tmp_path):
    good = f.write_cod_ab(tmp_path).read_text()
    path = tmp_path / "cut.geojson"
    path.write_text(good[: len(good) // 2])
    (issue,) = refused(tiny_store, boundaries(path), "truncated")
    assert issue.file == "cut.geojson" and issue.row == issue.params["line"] >= 1
    assert "line" in issue_text(issue, "en") and "ligne" in issue_text(issue, "fr")


def test_points_instead_of_polygons(tiny_store, tmp_path):
    frame = f.communes()
    frame.loc[2, "geometry"] = Point(-4.95, 12.25)
    path = tmp_path / "points.geojson"
    frame.to_file(path, driver="GeoJSON")
    (issue,) = refused(tiny_store, with_population(tmp_path, path), "wrong_geometry")
    assert (issue.row, issue.field, issue.params["type"]) == (3, "geometry", "Point")


def test_self_intersection_repaired_with_warning_or_refused(tiny_store, tmp_path):
    frame = f.communes()
    x0, y0 = -4.9, 12.0  # commune 3: a bow-tie over its own square
    frame.loc[2, "geometry"] = Polygon(
        [(x0, y0), (x0 + 0.1, y0 + 0.1), (x0 + 0.1, y0), (x0, y0 + 0.1)]
    )
    path = tmp_path / "bowtie.geojson"
    frame.to_file(path, driver="GeoJSON")
    (issue,) = refused(
        tiny_store, with_population(tmp_path, path, repair=False), "invalid_geometry"
    )
    assert issue.row == 3 and "Self-intersection" in issue.params["reason"]
    report, info, _ = run_import(tiny_store, with_population(tmp_path, path))
    assert info is not None
    (warning,) = [i for i in report.warnings if i.code == "repaired"]
    assert (warning.file, warning.row, warning.field) == (
        "bowtie.geojson",
        3,
        "geometry",
    )
    assert tiny_store.units(info.id).geometry.is_valid.all()


def test_projected_coordinates_labelled_as_lon_lat(tiny_store, tmp_path):
    frame = f.communes().to_crs(32630).set_crs(4326, allow_override=True)
    path = tmp_path / "mixed_crs.geojson"
    frame.to_file(path, driver="GeoJSON")
    (issue,) = refused(tiny_store, boundaries(path), "crs_mismatch")
    assert "WGS 84" in issue.params["crs"]


def test_shapefile_without_prj_in_metres(tiny_store, tmp_path):
    shp = tmp_path / "noprj"
    shp.mkdir()
    f.communes().to_crs(32630).to_file(shp / "adm3.shp")
    (shp / "adm3.prj").unlink()
    path = tmp_path / "noprj.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for part in shp.iterdir():
            archive.write(part, part.name)
    refused(tiny_store, boundaries(path), "no_crs")


def test_zip_with_path_traversal_is_refused_before_reading(tiny_store, tmp_path):
    path = tmp_path / "evil.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("../../etc/evil.shp", b"x")
        archive.writestr("ok.txt", b"x")
    (issue,) = refused(tiny_store, boundaries(path), "zip_traversal")
    assert issue.params["member"] == "../../etc/evil.shp"
    assert not (tmp_path.parent / "etc").exists()


def test_oversized_upload(tiny_store, tmp_path):
    path = f.write_cod_ab(tmp_path)
    spec = boundaries(path, max_bytes=1024)
    (issue,) = refused(tiny_store, spec, "too_large")
    assert issue.params["limit_mb"] == 0 and issue.params["size_mb"] >= 0
    # in memory (an upload) the same check applies
    spec = ImportSpec([Source("upload.geojson", path.read_bytes())], max_bytes=1024)
    refused(tiny_store, spec, "too_large")


def test_duplicate_codes_name_the_second_row(tiny_store, tmp_path):
    frame = f.communes()
    frame.loc[5, "ADM3_PCODE"] = frame.loc[4, "ADM3_PCODE"]
    path = tmp_path / "dup.geojson"
    frame.to_file(path, driver="GeoJSON")
    (issue,) = refused(tiny_store, boundaries(path), "duplicate_code")
    assert (issue.row, issue.field, issue.params["value"]) == (
        6, "ADM3_PCODE", "XY0203005",
    )  # fmt: skip


def test_commune_under_two_departments(tiny_store, tmp_path):
    frame = f.communes()
    frame.loc[1, "ADM1_PCODE"] = "XY02"  # department XY0101 now in two regions
    path = tmp_path / "parents.geojson"
    frame.to_file(path, driver="GeoJSON")
    (issue,) = refused(tiny_store, boundaries(path), "conflicting_parent")
    assert issue.row == 2 and issue.params["parent"] == "XY02"


def test_unmatched_names_are_reported_by_name_with_suggestions(tiny_store, tmp_path):
    names = ["Saint-Louis", "Kaolak", "Ste-Mariama", "Diassé", "Grand Kouraba",
             "N'Diaye", "Sokodougou", "Atlantis"]  # fmt: skip
    pop = Source("noms.csv", f.population_by_name(tmp_path, names))
    spec = ImportSpec(
        [Source("adm3.geojson", f.write_cod_ab(tmp_path))], population=pop
    )
    issues = refused(tiny_store, spec, "unmatched_name")
    assert [(i.row, i.params["value"]) for i in issues] == [
        (2, "Kaolak"),
        (8, "Atlantis"),
    ]
    assert issues[0].params["suggestions"] == "Kaolack"
    assert "Kaolak" in issue_text(issues[0], "fr")


def test_commune_without_population(tiny_store, tmp_path):
    pop = tmp_path / "pop.csv"
    pop.write_text("ADM3_PCODE,T_TL\nXY0101001,100\n")
    spec = ImportSpec(
        [Source("adm3.geojson", f.write_cod_ab(tmp_path))],
        population=Source("pop.csv", pop),
    )
    issues = refused(tiny_store, spec, "no_population")
    assert len(issues) == 7 and issues[0].params["value"] == "XY0101002 (Kaolack)"


@pytest.mark.parametrize(
    ("raw", "row"),
    [
        ("ADM3_PCODE,T_TL\nXY0101001,1\n".encode("utf-16-le"), 1),
        (b"ADM3_PCODE,T_TL\nXY0101001,1\nXY0101002,\x81\x8d\n", 3),
    ],
    ids=["utf16-without-bom", "undefined-bytes"],
)
def test_unknown_encoding(tiny_store, tmp_path, raw, row):
    spec = ImportSpec(
        [Source("adm3.geojson", f.write_cod_ab(tmp_path))],
        population=Source("pop.csv", raw),
    )
    (issue,) = refused(tiny_store, spec, "encoding_unknown")
    assert issue.row == row and issue.file == "pop.csv"


def test_windows_1252_is_read_and_noted():
    report = Report()
    from data.importers.tables import read_table

    frame = read_table(
        io.BytesIO("nom;pop\nDiassé;1\n".encode("cp1252")), "p.csv", report
    )
    assert frame["nom"].tolist() == ["Diassé"]
    assert report.ok and report.issues[0].code == "encoding_used"


def test_undecidable_delimiter(tiny_store, tmp_path):
    spec = ImportSpec(
        [Source("adm3.geojson", f.write_cod_ab(tmp_path))],
        population=Source("pop.csv", b"code population\nXY0101001 12\n"),
    )
    refused(tiny_store, spec, "delimiter_unknown")


def test_centers_outside_and_bad_numbers(tiny_store, tmp_path):
    centers = f.write_centers(
        tmp_path, ["SC3,Centre perdu,2.5,48.8,100,1", "SC4,Centre sans x,abc,12.1,1,1"]
    )
    spec = with_population(tmp_path, f.write_cod_ab(tmp_path),
                           centers=Source("centres.csv", centers))  # fmt: skip
    (outside,) = refused(tiny_store, spec, "point_outside")
    assert (outside.row, outside.field) == (3, "longitude/latitude")
    (nan,) = [
        i for i in run_import(tiny_store, spec)[0].errors if i.code == "not_a_number"
    ]
    assert (nan.row, nan.field, nan.params["value"]) == (4, "lon", "abc")


def test_operations_with_unknown_codes_and_inconsistent_counts(tiny_store, tmp_path):
    rows = [
        {"week": "05/01/2026", "commune_code": "XY0101001", "center_code": "SC1",
         "doc_type": "CNI", "requests": 5, "delivered": 3, "delivered_on_time": 4,
         "rejected": 9, "backlog": 0},
        {"week": "2026-13-01", "commune_code": "XY9", "center_code": "SC1",
         "doc_type": "VISA", "requests": 1, "delivered": 1, "delivered_on_time": 1,
         "rejected": 0, "backlog": 0},
    ]  # fmt: skip
    spec = with_population(
        tmp_path,
        f.write_cod_ab(tmp_path),
        centers=Source("centres.csv", f.write_centers(tmp_path)),
        operations=Source("ops.csv", f.write_operations(tmp_path, rows)),
    )
    refused(tiny_store, spec, "inconsistent_counts")
    errors = run_import(tiny_store, spec)[0].errors
    where = {(i.code, i.row, i.field) for i in errors}
    assert {
        ("inconsistent_counts", 1, "rejected"),
        ("inconsistent_counts", 1, "delivered_on_time"),
        ("not_a_date", 2, "week"),
        ("unmatched_code", 2, "commune_code"),
        ("unknown_doc_type", 2, "doc_type"),
    } <= where


def test_unsupported_format_and_empty_layer(tiny_store, tmp_path):
    path = tmp_path / "communes.dxf"  # GDAL reads DXF, the import does not
    path.write_text("0\nSECTION\n")
    (issue,) = refused(tiny_store, boundaries(path), "unsupported_format")
    assert ".fgb" in issue.params["formats"] and ".kmz" in issue.params["formats"]
    kml = tmp_path / "communes.kml"
    kml.write_text("<kml/>")
    (issue,) = refused(tiny_store, boundaries(kml), "unrecognised")
    assert issue_text(issue, "en").startswith("communes.kml: unrecognised format: not")
    empty = tmp_path / "empty.geojson"
    gpd.GeoDataFrame({"ADM3_PCODE": []}, geometry=[], crs=4326).to_file(
        empty, driver="GeoJSON"
    )
    refused(tiny_store, boundaries(empty), "no_features")
