"""A run's result is drawn by several callbacks at once (KPI deltas and tables, map,
share links): the saved scenario is read and parsed once for all of them
(``services.saved_scenario``), never changed by them, and never served in a state
the store no longer holds (renamed, re-run, deleted)."""

from __future__ import annotations

import hashlib
import pickle

import pytest

from callbacks import scenario_library as lib
from callbacks import scenario_plan as plan_cb
from callbacks import scenario_run as run_cb
from dashapp import services
from dashapp.cache import clear_memos
from data.scenarios import ScenarioStoreError, delete_scenario, rename_scenario
from tests.callbacks.test_scenario_callbacks import _panel
from tests.callbacks.test_scenario_library_callbacks import _run

pytestmark = pytest.mark.writes_demo


def _draw(call, result, dataset_id):
    """What the page asks when a result arrives (its scn-result.data inputs)."""
    deltas, centers, communes = call(run_cb.show_result, result, None, "fr", dataset_id)
    fig = call(plan_cb.draw_map, "result", result, None, "distance", _panel(),
               dataset_id, "fr")  # fmt: skip
    share = call(lib.share_link, result, "fr")
    return deltas, centers, communes, fig, share


def _digest(value) -> str:
    return hashlib.sha256(pickle.dumps(value)).hexdigest()


def test_a_result_drawn_reads_the_saved_scenario_once(call, demo_app):
    config = demo_app.server.config["DASHAPP"]
    url = config.database_url
    dataset_id = services.get_store(url).active_dataset().id
    result = _run(call, demo_app)
    clear_memos()
    first = _draw(call, result, dataset_id)
    memo = services._saved_scenario
    assert (memo.misses, memo.hits) == (1, 2)  # parsed once for three callbacks
    (record,) = memo.entries.values()
    before = _digest(record)
    again = _draw(call, result, dataset_id)
    assert memo.misses == 1 and memo.hits == 5
    assert _digest(record) == before  # nobody changed the shared record
    assert str(again[0]) == str(first[0]) and str(again[4]) == str(first[4])
    assert f"scenario={result['id']}" in str(first[4]) and "scn-public-link" in str(
        first[4]
    )
    assert again[1][1].rowData == first[1][1].rowData


def test_a_changed_or_deleted_scenario_is_never_served_from_memory(call, demo_app):
    config = demo_app.server.config["DASHAPP"]
    url = config.database_url
    store = services.get_store(url)
    result = _run(call, demo_app)
    shown = services.saved_scenario(url, result["id"])
    assert services.saved_scenario(url, str(result["id"])) is shown
    rename_scenario(store, result["id"], "Renamed while shown")
    renamed = services.saved_scenario(url, result["id"])
    assert renamed is not shown and renamed.name == "Renamed while shown"
    delete_scenario(store, result["id"])
    with pytest.raises(ScenarioStoreError, match="no scenario"):
        services.saved_scenario(url, result["id"])
    assert services.saved_scenario(url, result["id"], include_deleted=True).deleted_at
    dataset_id = store.active_dataset().id
    deltas, centers, communes = call(run_cb.show_result, result, None, "fr", dataset_id)
    assert str(result["id"]) in str(deltas) and centers == [] and communes == []
    share = str(call(lib.share_link, result, "fr"))
    assert f"scenario={result['id']}" in share and "scn-public-link" not in share


@pytest.mark.parametrize("bad", [0, -3, "x", None, 2**70, 10**9])
def test_a_bad_or_unknown_scenario_id_is_refused_not_remembered(demo_app, bad):
    url = demo_app.server.config["DASHAPP"].database_url
    misses = services._saved_scenario.misses
    with pytest.raises(ScenarioStoreError) as exc:
        services.saved_scenario(url, bad)
    assert exc.value.code == "unknown_id"
    assert services._saved_scenario.misses == misses  # refused before any read
