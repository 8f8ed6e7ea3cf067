"""The API's CSV downloads are exports: the screen's rule and its audit event.

JSON reads need only a signed-in user; ``?format=csv`` needs ``scenario.export``
and to own the scenario, or ``export.any`` (``data.scenarios.missing_export_right``),
and writes a ``scenario.export`` audit event, as the screen's downloads do.
"""

import io
import json

import pandas as pd
import pytest

from dashapp import create_app, services
from dashapp.config import Config
from data.scenarios import record_from_result, save_scenario
from data.users import audit_events
from geo.access import nearest_center
from optimization.network import network_from_store
from optimization.scenario import load_spec, run_scenario
from tests.auth_helpers import ensure_user, signed_in_client
from tests.tiny import tiny_bundle

SPEC = {
    "model": "pmedian",
    "sites": {"use_candidates": True},
    "parameters": {"p": 2},
    "report_radius": 10.0,
}
TABLES = ("centers", "communes", "unserved")
PEOPLE = {
    "uviewer": "viewer",
    "uplanner": "planner",
    "planner2": "planner",
    "uanalyst": "analyst",
    "uadmin": "admin",
}


@pytest.fixture
def world(tmp_path):
    """uplanner's run, a run saved before sign-in existed (no owner), and a
    signed-in client per user."""
    app = create_app(Config(data_dir=tmp_path))
    store = services.get_store(app.server.config["DASHAPP"].database_url)
    info = store.add_dataset(tiny_bundle(), kind="imported", access=nearest_center)
    people = {name: ensure_user(store, role, name) for name, role in PEOPLE.items()}
    fields = record_from_result(run_scenario(load_spec(SPEC), network_from_store(store)))
    owned = save_scenario(
        store, info.id, "Plan", SPEC, owner_id=people["uplanner"].id, **fields
    )
    legacy = save_scenario(store, info.id, "Ancien plan", SPEC, **fields)
    clients = {name: signed_in_client(app, role, name) for name, role in PEOPLE.items()}
    return store, clients, owned, legacy


def exports(store) -> pd.DataFrame:
    events = audit_events(store)
    return events[events["action"] == "scenario.export"]


@pytest.mark.parametrize("table", TABLES)
def test_a_viewer_reads_json_but_gets_a_403_for_csv(world, table):
    store, clients, owned, _ = world
    viewer = clients["uviewer"]
    assert viewer.get(f"/api/v1/scenarios/{owned.id}/{table}").status_code == 200
    for scenario_id in (owned.id, 999):  # an unknown id too: nothing said of it
        res = viewer.get(f"/api/v1/scenarios/{scenario_id}/{table}?format=csv")
        assert res.status_code == 403 and res.is_json
        body = res.get_json()
        assert body["right"] == "scenario.export"
        assert "lacks the right 'scenario.export'" in body["error"]
        assert "Content-Disposition" not in res.headers
    assert exports(store).empty


@pytest.mark.parametrize("table", TABLES)
def test_a_planner_gets_a_403_for_another_users_scenario_as_csv(world, table):
    store, clients, owned, legacy = world
    other = clients["planner2"]
    assert other.get(f"/api/v1/scenarios/{owned.id}/{table}").status_code == 200
    for scenario in (owned, legacy):  # a scenario with no owner is nobody's own
        res = other.get(f"/api/v1/scenarios/{scenario.id}/{table}?format=csv")
        assert res.status_code == 403 and res.is_json
        assert res.get_json() == {
            "error": f"scenario {scenario.id} belongs to another user: downloading "
            "its tables as CSV needs the right 'export.any'",
            "right": "export.any",
        }
    assert exports(store).empty


def test_the_owner_downloads_csv_and_the_download_is_audited(world):
    store, clients, owned, _ = world
    res = clients["uplanner"].get(f"/api/v1/scenarios/{owned.id}/communes?format=csv")
    assert res.status_code == 200 and res.mimetype == "text/csv"
    assert res.headers["Content-Disposition"] == (
        f"attachment; filename=scenario-{owned.id}-communes.csv"
    )
    frame = pd.read_csv(io.BytesIO(res.data))
    pd.testing.assert_frame_equal(frame, owned.communes, check_dtype=False)
    (event,) = exports(store).itertuples()
    assert (event.username, event.target) == ("uplanner", str(owned.id))
    assert json.loads(event.detail) == {
        "via": "api",
        "file": f"scenario-{owned.id}-communes.csv",
    }
    clients["uplanner"].get(f"/api/v1/scenarios/{owned.id}/communes")  # JSON
    assert len(exports(store)) == 1  # a read is not an export


@pytest.mark.parametrize("who", ["uanalyst", "uadmin"])
def test_export_any_downloads_every_scenario_as_csv_audited(world, who):
    store, clients, owned, legacy = world
    for scenario in (owned, legacy):
        for table in TABLES:
            res = clients[who].get(f"/api/v1/scenarios/{scenario.id}/{table}?format=csv")
            assert res.status_code == 200 and res.mimetype == "text/csv"
    events = exports(store)
    assert len(events) == 2 * len(TABLES) and set(events["username"]) == {who}
    assert sorted(set(events["target"])) == sorted({str(owned.id), str(legacy.id)})
