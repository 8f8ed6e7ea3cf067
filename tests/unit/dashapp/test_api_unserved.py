"""The API's scenario result gives the demand, population and communes no center
serves, and lists those communes."""

import io

import pandas as pd
import pytest

from dashapp import create_app
from dashapp.config import Config
from data.scenarios import record_from_result, save_scenario
from data.store import Store
from geo.access import nearest_center
from optimization.network import network_from_store
from optimization.scenario import load_spec, run_scenario
from tests.auth_helpers import signed_in_client
from tests.tiny import tiny_bundle

# one center within 2 km: most of the tiny country is left without one
SPEC = {
    "model": "mclp",
    "sites": {"use_candidates": True},
    "parameters": {"p": 1, "service_radius": 2.0},
    "report_radius": 2.0,
}


@pytest.fixture
def run(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'dashapp.sqlite'}")
    store.upgrade()
    info = store.add_dataset(tiny_bundle(), kind="imported", access=nearest_center)
    result = run_scenario(load_spec(SPEC), network_from_store(store))
    saved = save_scenario(
        store, info.id, "Couverture", SPEC, **record_from_result(result)
    )
    store.engine.dispose()
    app = create_app(Config(data_dir=tmp_path))
    return signed_in_client(app, "viewer"), signed_in_client(app, "analyst"), saved


def test_the_result_and_the_list_of_communes_with_no_center(run):
    client, analyst, saved = run
    body = client.get(f"/api/v1/scenarios/{saved.id}").get_json()
    after = body["summary"]["kpis"]["after"]
    missing = saved.communes[saved.communes["site_id"].isna()]
    assert after["unserved_communes"] == len(missing) > 0
    assert after["unassigned_demand"] == pytest.approx(missing["demand"].sum())
    assert after["unserved_population"] == pytest.approx(missing["population"].sum())
    listed = client.get(f"/api/v1/scenarios/{saved.id}/unserved").get_json()
    assert sorted(r["commune_id"] for r in listed) == sorted(missing["commune_id"])
    demands = [r["demand"] for r in listed]
    assert demands == sorted(demands, reverse=True)
    # CSV is an export: a scenario with no owner needs export.any
    res = analyst.get(f"/api/v1/scenarios/{saved.id}/unserved?format=csv")
    assert res.status_code == 200 and res.mimetype == "text/csv"
    frame = pd.read_csv(io.BytesIO(res.data))
    assert frame.columns.tolist() == [
        "commune_id", "name", "demand", "population", "distance_before",
    ]  # fmt: skip
    res = client.get("/api/v1/scenarios/999/unserved")
    assert res.status_code == 404
