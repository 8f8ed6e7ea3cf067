"""``python -m dashapp roads ...`` and ``optimize`` on travel times, called in-process.

Bad input: one line on stderr, exit code 2, the store as it was.
"""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
from shapely.geometry import LineString

from dashapp.__main__ import main
from data import roads as road_store
from tests.stores import make_tiny_store

# the tiny country: communes C1..C4 of 0.1 degree, centers S1 (C1) and S2 (C4)
ROADS = gpd.GeoDataFrame(
    {"CLASSE": [1, 1, 6, 6]},
    geometry=[
        LineString([(0.05, 0.05), (0.15, 0.05)]),
        LineString([(0.15, 0.05), (0.15, 0.15)]),
        LineString([(0.05, 0.05), (0.05, 0.15)]),
        LineString([(0.05, 0.15), (0.15, 0.15)]),
    ],
    crs=4326,
)


@pytest.fixture
def setup(tmp_path):
    url = f"sqlite:///{tmp_path / 'tiny.sqlite'}"
    make_tiny_store(url).engine.dispose()
    path = tmp_path / "routes.geojson"
    ROADS.to_file(path, driver="GeoJSON")
    return url, tmp_path, path


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def test_import_report_access_and_optimize_on_minutes(setup, capsys):
    url, tmp, path = setup
    db = ["--database-url", url]
    code = main(["roads", "import", str(path), "--class-column", "CLASSE",
                 "--class-map", "1=trunk,6=track", *db])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    assert "length by class: trunk 22.2 km, track 22.2 km" in out
    assert "connected parts: 1" in out
    assert main(["roads", "report", *db]) == 0
    assert "roads of routes.geojson" in capsys.readouterr().out
    assert main(["roads", "access", "--mode", "walking", "--out",
                 str(tmp / "acces.csv"), *db]) == 0  # fmt: skip
    assert "mean travel time to the nearest center" in capsys.readouterr().out
    assert (tmp / "acces.csv").read_text().startswith("commune,nearest_center,minutes")
    scenario = tmp / "s.json"
    scenario.write_text(json.dumps({
        "model": "pmedian", "parameters": {"p": 1},
        "distance": {"kind": "travel_time", "mode": "motorised", "season": "rainy"},
    }))  # fmt: skip
    assert main(["optimize", "--scenario", str(scenario), "--out",
                 str(tmp / "out"), *db]) == 0  # fmt: skip
    summary = json.loads((tmp / "out" / "summary.json").read_text())
    assert summary["units"]["distance"] == "min"
    assert summary["travel_time"]["season"] == "rainy"
    assert set(summary["travel_time"]["after"]) == {
        "mean_minutes", "within_30_min", "within_60_min", "within_120_min",
        "unreachable",
    }  # fmt: skip


def test_profile_set_reset_and_bad_values(setup, capsys):
    url, tmp, path = setup
    db = ["--database-url", url]
    assert main(["roads", "import", str(path), "--class-column", "CLASSE",
                 "--class-map", "1=trunk,6=track", *db]) == 0  # fmt: skip
    capsys.readouterr()
    slow = tmp / "slow.json"
    slow.write_text(json.dumps({"offroad_cap_km": 4}))
    assert main(["roads", "profile", "--set", str(slow), *db]) == 0
    assert json.loads(capsys.readouterr().out)["offroad_cap_km"] == 4
    bad = tmp / "bad.json"
    bad.write_text(
        json.dumps({"road_kmh": {"walking": {"dry": {"trunk": {"paved": "x"}}}}})
    )
    assert main(["roads", "profile", "--set", str(bad), *db]) == 2
    assert "road_kmh.walking.dry.trunk.paved" in one_error_line(capsys)
    ds = 1
    assert road_store.network_info(_store(url), ds)["profile"]["offroad_cap_km"] == 4
    assert main(["roads", "profile", "--reset", *db]) == 0
    assert json.loads(capsys.readouterr().out)["offroad_cap_km"] == 10


def _store(url):
    from data.store import Store

    return Store(url)


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (["--class-map", "1=autoroute"], "not road classes"),
        (["--class-map", "1"], "expected VALUE=CLASS"),
        (["--class-column", "TYPE"], "missing_column"),
        (["--tolerance", "nan"], "--tolerance"),
        (["--class-map", "7=trunk"], "no_roads"),
    ],
)
def test_bad_imports_end_with_one_line_and_store_nothing(setup, capsys, args, phrase):
    url, _, path = setup
    code = main(["roads", "import", str(path), "--class-column", "CLASSE", *args,
                 "--database-url", url])  # fmt: skip
    assert code == 2
    line = one_error_line(capsys)
    assert phrase in line
    assert road_store.network_info(_store(url), 1) is None


def test_travel_time_without_roads_is_refused(setup, capsys):
    url, tmp, _ = setup
    scenario = tmp / "s.json"
    scenario.write_text(json.dumps({"model": "pmedian", "parameters": {"p": 1},
                                    "distance": {"kind": "travel_time"}}))  # fmt: skip
    code = main(["optimize", "--scenario", str(scenario), "--out", str(tmp / "o"),
                 "--database-url", url])  # fmt: skip
    assert code == 2
    assert "needs a road network" in one_error_line(capsys)
    assert main(["roads", "report", "--database-url", url]) == 2
    assert "has no road network" in one_error_line(capsys)
