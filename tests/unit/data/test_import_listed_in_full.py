"""Every problem row is in the report, never the first 20 of a
total that is then wrong (geometry problems of a boundary layer, unknown codes and
inconsistent counts of the operations)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from shapely.geometry import Point

from data.importers import ImportSpec, Report, Source, assemble
from tests.unit.data import import_files as f


def _source(path) -> Source:
    return Source(path.name, path)


def _run(tmp_path, **kw):
    report = Report()
    path = f.write_cod_ab(tmp_path)
    bundle = assemble(ImportSpec([Source(path.name, path)], **kw), report)
    return bundle, report


def test_every_geometry_problem_is_listed_beyond_twenty(tmp_path):
    layer = f.communes()
    strays = gpd.GeoDataFrame(
        {"ADM3_PCODE": [f"P{k}" for k in range(25)]},
        geometry=[Point(-4.9, 12.0 + k / 1000) for k in range(25)],
        crs=4326,
    )
    path = tmp_path / "melange.geojson"
    pd.concat([layer, strays]).to_file(path, driver="GeoJSON")
    report = Report()
    assemble(ImportSpec([_source(path)]), report)
    wrong = [i for i in report.errors if i.code == "wrong_geometry"]
    assert [i.row for i in wrong] == list(range(9, 34))
    assert not any("more" in i.params for i in report.issues)


def test_every_unknown_code_of_the_operations_is_listed(tmp_path):
    rows = [
        {"week": "2026-01-05", "commune_code": f"XY{k}", "center_code": "SC9",
         "doc_type": "CNI", "requests": 5, "delivered": 6, "delivered_on_time": 7,
         "rejected": 9, "backlog": 0}
        for k in range(30)
    ]  # fmt: skip
    _, report = _run(
        tmp_path,
        centers=Source("centres.csv", f.write_centers(tmp_path)),
        operations=Source("ops.csv", f.write_operations(tmp_path, rows)),
    )
    counts = pd.Series([(i.code, i.field) for i in report.errors]).value_counts()
    assert counts[("unmatched_code", "commune_code")] == 30
    assert counts[("unmatched_code", "center_code")] == 30
    assert counts[("inconsistent_counts", "rejected")] == 30
    assert counts[("inconsistent_counts", "delivered_on_time")] == 30


def test_every_duplicate_code_of_a_layer_is_listed(tmp_path):
    path = tmp_path / "quatre_fois.geojson"
    pd.concat([f.communes()] * 4).to_file(path, driver="GeoJSON")
    report = Report()
    assemble(ImportSpec([_source(path)]), report)
    dup = [i for i in report.errors if i.code == "duplicate_code"]
    assert [i.row for i in dup] == list(range(9, 33))
