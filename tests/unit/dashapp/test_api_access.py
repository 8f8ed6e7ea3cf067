"""``GET /api/v1/access``: travel-time access by road, checked parameters."""

import geopandas as gpd
import pytest
from shapely.geometry import LineString

from dashapp import create_app
from dashapp.config import Config
from data.kpi import TRAVEL_KPIS
from data.store import Store
from geo.access import nearest_center
from geo.road_access import store_roads
from tests.auth_helpers import signed_in_client
from tests.tiny import tiny_bundle

ROADS = gpd.GeoDataFrame(
    {"road_class": ["primary", "primary", "track"]},
    geometry=[LineString([(0.05, 0.05), (0.15, 0.05)]),
              LineString([(0.15, 0.05), (0.15, 0.15)]),
              LineString([(0.05, 0.05), (0.05, 0.15)])],
    crs=4326,
)  # fmt: skip


@pytest.fixture
def client(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'dashapp.sqlite'}")
    store.upgrade()
    info = store.add_dataset(tiny_bundle(), kind="imported", access=nearest_center)
    store_roads(store, info.id, ROADS, source="test")
    store.engine.dispose()
    return signed_in_client(create_app(Config(data_dir=tmp_path)), "viewer")


def test_access_by_road_in_minutes(client):
    res = client.get("/api/v1/access?mode=walking&season=rainy&lang=en")
    assert res.status_code == 200, res.get_json()
    body = res.get_json()
    assert (body["mode"], body["season"]) == ("walking", "rainy")
    assert [k["id"] for k in body["kpis"]] == list(TRAVEL_KPIS)
    assert body["kpis"][0]["unit"] == "min"
    by_code = {c["code"]: c for c in body["communes"]}
    assert by_code["C1"]["nearest_center"] == "S1" and by_code["C1"]["minutes"] == 0
    assert all(c["minutes"] is None or c["minutes"] >= 0 for c in body["communes"])


@pytest.mark.parametrize(
    ("query", "parameter"),
    [("mode=car", "mode"), ("season=wet", "season"), ("lang=de", "lang"),
     ("radius=3", "radius"), ("dataset=abc", "dataset")],
)  # fmt: skip
def test_bad_parameters_are_named(client, query, parameter):
    res = client.get(f"/api/v1/access?{query}")
    assert res.status_code == 400
    assert res.get_json()["parameter"] == parameter


def test_unknown_dataset_and_no_roads(client, tmp_path):
    assert client.get("/api/v1/access?dataset=99").status_code == 404
    store = Store(f"sqlite:///{tmp_path / 'dashapp.sqlite'}")
    other = store.add_dataset(tiny_bundle(), kind="imported", access=nearest_center,
                              activate=False)  # fmt: skip
    res = client.get(f"/api/v1/access?dataset={other.id}")
    assert res.status_code == 404 and "no road network" in res.get_json()["error"]


def test_access_needs_a_signed_in_user(tmp_path):
    Store(f"sqlite:///{tmp_path / 'dashapp.sqlite'}").upgrade()
    app = create_app(Config(data_dir=tmp_path))
    res = app.server.test_client().get("/api/v1/access")
    assert res.status_code == 401
