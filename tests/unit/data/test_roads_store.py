"""Road networks in the store: migration, import of each format, bad files, cache.

Run on SQLite and on PostgreSQL (``tiny_store`` and ``store_url`` are
parametrised by backend).
"""

from __future__ import annotations

import json
import zipfile

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from alembic import command
from shapely.geometry import LineString, Point
from sqlalchemy import inspect, text

from data import roads as road_store
from data.store import Store, StoreError, _alembic_config
from geo.access import nearest_center
from geo.road_access import (
    RoadImportError,
    import_roads,
    road_graph,
    site_minutes,
    store_roads,
)
from tests.tiny import tiny_bundle

# the tiny country: four 0.1-degree communes between (0, 0) and (0.2, 0.2)
ROADS = gpd.GeoDataFrame(
    {
        "highway": ["primary", "track", "proposed", "footway", None, "volcano"],
        "surface": ["asphalt", None, None, "dirt", None, None],
        "oneway": ["no", None, None, None, None, "yes"],
    },
    geometry=[
        LineString([(0.05, 0.05), (0.15, 0.05)]),
        LineString([(0.15, 0.05), (0.15, 0.15)]),
        LineString([(0.05, 0.15), (0.15, 0.15)]),
        LineString([(0.05, 0.05), (0.05, 0.15)]),
        LineString([(0.0, 0.0), (0.01, 0.01)]),
        LineString([(0.1, 0.1), (0.11, 0.11)]),
    ],
    crs=4326,
)


def counts(store: Store) -> dict[str, int]:
    return {
        t: int(store.read_frame(f"SELECT COUNT(*) AS n FROM {t}")["n"][0])
        for t in ("road_networks", "road_segments", "travel_time_cache")
    }


def dataset(store: Store) -> int:
    return store.active_dataset().id


def test_migration_0007_adds_the_road_tables_and_keeps_data(store_url):
    store = Store(store_url)
    cfg = _alembic_config(store.engine)
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0006")
    assert "road_segments" not in inspect(store.engine).get_table_names()
    store.add_dataset(tiny_bundle(), kind="imported", access=nearest_center)
    before = store.read_frame("SELECT * FROM admin_units ORDER BY id")

    store.upgrade()

    assert store.revision() == store.head_revision()
    assert {"road_networks", "road_segments", "travel_time_cache"} <= set(
        inspect(store.engine).get_table_names()
    )
    after = store.read_frame("SELECT * FROM admin_units ORDER BY id")
    pd.testing.assert_frame_equal(after, before, check_dtype=False)
    assert road_store.network_info(store, dataset(store)) is None


def test_geojson_import_maps_osm_classes_and_reports_what_was_left_out(
    tiny_store, tmp_path
):
    path = tmp_path / "routes.geojson"
    ROADS.to_file(path, driver="GeoJSON")
    ds = dataset(tiny_store)
    network, report = import_roads(
        tiny_store, ds, path, path.name, class_column="highway",
        surface_column="surface", oneway_column="oneway",
    )  # fmt: skip
    codes = {i.code: i for i in report.issues}
    assert codes["not_roads"].params["values"] == "'proposed' x 1"
    assert codes["road_class_unknown"].params["values"] == "'volcano' x 1"
    assert codes["road_class_unknown"].row == 6
    assert codes["road_class_missing"].row == 5
    assert network["lines_kept"] == 3
    assert set(network["length_km_by_class"]) == {"primary", "track", "path"}
    assert network["components"] == 1
    lines = road_store.road_lines(tiny_store, ds)
    assert sorted(lines["road_class"]) == ["path", "primary", "track"]
    assert lines.set_index("road_class").loc["primary", "surface"] == "paved"
    info = road_store.network_info(tiny_store, ds)
    assert info["source"] == "routes.geojson" and info["report"]["lines_kept"] == 3


def test_national_classes_from_a_zipped_shapefile(tiny_store, tmp_path):
    frame = gpd.GeoDataFrame(
        {"CLASSE": [1, 3, 6]},
        geometry=[LineString([(0.02, 0.02), (0.18, 0.02)]),
                  LineString([(0.18, 0.02), (0.18, 0.18)]),
                  LineString([(0.18, 0.18), (0.02, 0.18)])],
        crs=4326,
    ).to_crs(32631)  # fmt: skip
    shp = tmp_path / "shp"
    shp.mkdir()
    frame.to_file(shp / "routes.shp")
    archive = tmp_path / "routes.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for part in shp.iterdir():
            z.write(part, part.name)
    network, report = import_roads(
        tiny_store, dataset(tiny_store), archive.read_bytes(), archive.name,
        class_column="CLASSE", class_map={"1": "trunk", "3": "secondary", "6": "track"},
    )  # fmt: skip
    assert [i.code for i in report.issues] == ["reprojected"]
    assert set(network["length_km_by_class"]) == {"trunk", "secondary", "track"}
    assert network["length_km_by_class"]["trunk"] == pytest.approx(17.81, abs=0.02)


@pytest.mark.parametrize(
    ("suffix", "driver"), [(".gpkg", "GPKG"), (".fgb", "FlatGeobuf")]
)
def test_geopackage_and_flatgeobuf(tiny_store, tmp_path, suffix, driver):
    path = tmp_path / f"routes{suffix}"
    ROADS.iloc[:2].to_file(path, driver=driver)
    network, _ = import_roads(tiny_store, dataset(tiny_store), path, path.name,
                              class_column="highway")  # fmt: skip
    assert network["lines_kept"] == 2


def write_pbf(path) -> None:
    import osmium

    with osmium.SimpleWriter(str(path)) as writer:
        coords = {1: (0.05, 0.05), 2: (0.15, 0.05), 3: (0.15, 0.15), 4: (0.05, 0.15)}
        for node_id, (lon, lat) in coords.items():
            writer.add_node(osmium.osm.mutable.Node(id=node_id, location=(lon, lat)))
        ways = [(10, [1, 2], {"highway": "primary", "surface": "asphalt"}),
                (11, [2, 3], {"highway": "track"}),
                (12, [3, 4], {"highway": "construction"}),
                (13, [4, 1], {"waterway": "river"})]  # fmt: skip
        for way_id, nodes, tags in ways:
            writer.add_way(osmium.osm.mutable.Way(id=way_id, nodes=nodes, tags=tags))


def test_osm_pbf_extract(tiny_store, tmp_path):
    path = tmp_path / "extrait.osm.pbf"
    write_pbf(path)
    network, report = import_roads(tiny_store, dataset(tiny_store), path, path.name,
                                   class_column="highway", surface_column="surface")  # fmt: skip
    assert network["lines_kept"] == 2  # the river is no road, construction is reported
    assert [i.code for i in report.issues] == ["not_roads"]
    lines = road_store.road_lines(tiny_store, dataset(tiny_store))
    assert sorted(lines["road_class"]) == ["primary", "track"]


def refused(store, tmp_path, name, content, code, **kw):
    before = counts(store)
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        content.to_file(path, driver="GeoJSON")
    with pytest.raises(RoadImportError) as err:
        import_roads(
            store, dataset(store), path, name, **({"class_column": "highway"} | kw)
        )
    assert counts(store) == before  # nothing stored
    codes = [i.code for i in err.value.report.errors]
    assert code in codes, codes
    assert name in str(err.value)
    return err.value.report.errors[0]


def test_bad_road_files_are_named_and_nothing_is_stored(tiny_store, tmp_path):
    s = tiny_store
    refused(s, tmp_path, "vide.geojson", b"", "not_geojson")
    refused(
        s,
        tmp_path,
        "casse.geojson",
        b'{"type": "FeatureCollection", "feat',
        "truncated",
    )
    refused(s, tmp_path, "routes.txt", b"a,b\n", "unsupported_format")
    issue = refused(s, tmp_path, "casse.osm.pbf", b"garbage" * 10, "unrecognised")
    assert "PBF error" in issue.params["detail"]
    refused(s, tmp_path, "vide.osm.pbf", b"", "unrecognised")
    points = gpd.GeoDataFrame(
        {"highway": ["primary"]}, geometry=[Point(0, 0)], crs=4326
    )
    refused(s, tmp_path, "points.geojson", points, "not_lines")
    issue = refused(s, tmp_path, "sans_colonne.geojson", ROADS.drop(columns="highway"),
                    "missing_column")  # fmt: skip
    assert issue.field == "highway"
    unknown = ROADS.assign(highway=["a", "b", "c", "d", "e", "f"])
    issue = refused(s, tmp_path, "classes.geojson", unknown, "no_roads")
    assert issue.params["lines"] == 6
    metres = ROADS.set_crs(None, allow_override=True)
    metres.geometry = metres.geometry.scale(1e6, 1e6, origin=(0, 0))
    refused(s, tmp_path, "metres.geojson", metres, "crs_mismatch")
    with pytest.raises(ValueError, match="not road classes"):
        refused(s, tmp_path, "ok.geojson", ROADS, "none", class_map={"1": "autoroute"})


def test_a_failed_import_keeps_the_previous_network(tiny_store, tmp_path):
    ds = dataset(tiny_store)
    store_roads(tiny_store, ds, ROADS.iloc[:2].drop(columns=["surface", "oneway"]).assign(road_class=["primary", "track"]),
                source="first")  # fmt: skip
    before = road_store.road_lines(tiny_store, ds)
    path = tmp_path / "bad.geojson"
    path.write_bytes(b"{")
    with pytest.raises(RoadImportError):
        import_roads(tiny_store, ds, path, path.name, class_column="highway")
    pd.testing.assert_frame_equal(road_store.road_lines(tiny_store, ds), before)
    assert road_store.network_info(tiny_store, ds)["source"] == "first"
    with pytest.raises(StoreError, match="no dataset"):
        road_store.save_network(tiny_store, 999, before, source="x", tolerance_m=1,
                                report={})  # fmt: skip


def test_travel_times_are_cached_and_recomputed_only_on_change(tiny_store):
    ds = dataset(tiny_store)
    lines = (
        ROADS.iloc[:2]
        .drop(columns=["surface", "oneway"])
        .assign(road_class=["primary", "track"])
    )
    store_roads(tiny_store, ds, lines, source="roads")
    communes = tiny_store.units(ds, 2)
    centers = tiny_store.centers(ds)
    args = (communes["rep_lon"], communes["rep_lat"], centers["lon"], centers["lat"])
    first = site_minutes(tiny_store, ds, *args, mode="motorised", season="dry")
    # C3's point is 11 km from both roads, beyond the 10 km walk: unreachable
    assert first.shape == (4, 2) and np.isinf(first[2]).all()
    assert np.isfinite(first[[0, 1, 3]]).all() and first[0, 0] == 0
    assert counts(tiny_store)["travel_time_cache"] == 1
    stamp = tiny_store.read_frame("SELECT created_at FROM travel_time_cache")
    again = site_minutes(tiny_store, ds, *args, mode="motorised", season="dry")
    np.testing.assert_allclose(again, first, rtol=1e-6)
    assert tiny_store.read_frame("SELECT created_at FROM travel_time_cache").equals(
        stamp
    )
    # another site: recomputed for the new points
    moved = (*args[:2], centers["lon"] + 0.01, centers["lat"])
    site_minutes(tiny_store, ds, *moved, mode="motorised", season="dry")
    fp = tiny_store.read_frame("SELECT fingerprint FROM travel_time_cache")
    assert len(fp) == 1
    # an edited profile drops the cache, and the times follow it
    slow = {"road_kmh": {"motorised": {"dry": {"primary": {"paved": 10},
                                               "track": {"unpaved": 5}}}}}  # fmt: skip
    road_store.save_profile(tiny_store, ds, slow)
    assert counts(tiny_store)["travel_time_cache"] == 0
    slower = site_minutes(tiny_store, ds, *args, mode="motorised", season="dry")
    assert (slower >= first - 1e-9).all() and (slower > first).any()
    # new roads: a new version, the cache goes with the old ones
    graph_before = road_graph(tiny_store, ds)
    store_roads(tiny_store, ds, lines.iloc[:1], source="roads 2")
    assert counts(tiny_store)["travel_time_cache"] == 0
    assert road_graph(tiny_store, ds) is not graph_before
    assert (
        json.loads(
            tiny_store.read_frame("SELECT report_json FROM road_networks")[
                "report_json"
            ][0]
        )["lines"]
        == 1
    )


def test_no_roads_no_times(tiny_store):
    ds = dataset(tiny_store)
    assert site_minutes(tiny_store, ds, [0.0], [0.0], [0.1], [0.1], mode="walking",
                        season="dry") is None  # fmt: skip
    with pytest.raises(StoreError, match="no road network"):
        road_store.save_profile(tiny_store, ds, None)


def test_access_is_kept_per_process_and_follows_the_profile(tiny_store):
    from geo.road_access import selection_access, travel_access

    ds = dataset(tiny_store)
    lines = ROADS.iloc[:2].drop(columns=["surface", "oneway"])
    store_roads(tiny_store, ds, lines.assign(road_class=["primary", "track"]),
                source="roads")  # fmt: skip
    first = travel_access(tiny_store, ds, mode="motorised", season="dry")
    assert travel_access(tiny_store, ds, mode="motorised", season="dry") is first
    assert first["nearest_center"][0] == "S1" and first["minutes"][0] == 0
    assert np.isinf(first["minutes"][2])  # C3: 11 km from any road
    road_store.save_profile(tiny_store, ds, {"offroad_cap_km": 20})
    wider = travel_access(tiny_store, ds, mode="motorised", season="dry")
    assert wider is not first and np.isfinite(wider["minutes"]).all()
    ids = tiny_store.units(ds, 2)["id"]
    part = selection_access(tiny_store, ds, ids[:2], mode="motorised", season="dry")
    assert part["unreachable"] == 0 and part["mean_minutes"] >= 0


def test_an_unreadable_cached_matrix_is_recomputed(tiny_store):
    ds = dataset(tiny_store)
    lines = ROADS.iloc[:2].drop(columns=["surface", "oneway"])
    store_roads(tiny_store, ds, lines.assign(road_class=["primary", "track"]),
                source="roads")  # fmt: skip
    args = ([0.05, 0.15], [0.05, 0.05], [0.15], [0.05])
    first = site_minutes(tiny_store, ds, *args, mode="walking", season="dry")
    with tiny_store.engine.begin() as conn:
        conn.execute(text("UPDATE travel_time_cache SET matrix = :m"), {"m": b"old"})
    again = site_minutes(tiny_store, ds, *args, mode="walking", season="dry")
    np.testing.assert_allclose(again, first, rtol=1e-6)
    blob = tiny_store.read_frame("SELECT matrix FROM travel_time_cache")["matrix"][0]
    assert bytes(blob) != b"old"
