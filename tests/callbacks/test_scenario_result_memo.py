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


def test_a_new_result_leaves_the_plan_map_alone_and_draws_the_result_map(
    call, demo_app
):
    from dash import no_update

    from dashapp import ids

    url = demo_app.server.config["DASHAPP"].database_url
    dataset_id = services.get_store(url).active_dataset().id
    result = _run(call, demo_app)
    fired = f"{ids.SCN_RESULT}.data"
    args = (result, None, "distance", _panel(), dataset_id, "fr")
    # the plan's map does not read the result: nothing to redraw, nothing read
    clear_memos()
    assert call(plan_cb.draw_map, "plan", *args, trigger=fired) is no_update
    assert services._saved_scenario.misses == 0
    # the result's map is drawn from it, and so is the plan's on any other change
    shown = call(plan_cb.draw_map, "result", *args, trigger=fired)
    plan = call(plan_cb.draw_map, "plan", *args,
                trigger=[fired, f"{ids.SCN_NEW}.value"])  # fmt: skip
    assert shown is not no_update and plan is not no_update
    assert shown["data"] != plan["data"]
    assert (
        call(plan_cb.draw_map, "plan", *args, trigger=f"{ids.SCN_VIEW}.value")["data"]
        == plan["data"]
    )


def test_the_browser_polls_a_running_solve_once_a_second(demo_app):
    """The progress line counts whole seconds: faster polls would show nothing
    new and cost the pages' server CPU while solves run."""
    from dashapp import ids

    (spec,) = [
        cb
        for key, cb in demo_app.callback_map.items()
        if f"{ids.SCN_RESULT}.data" in key and cb.get("background")
    ]
    assert spec["background"]["interval"] == run_cb.POLL_MS == 1000
    assert run_cb.running_text({}, 1.4, "fr") == run_cb.running_text({}, 0.6, "fr")


def test_the_first_plan_map_is_drawn_when_the_page_answers_with_no_result(call):
    """The renderer may hold the map's first draw until the library's callback
    answers for the result store: fired by the result alone, with none, it draws."""
    from dashapp import ids

    with_result_none = call(plan_cb.draw_map, "plan", None, None, "distance",
                            _panel(), _dataset(call), "fr",
                            trigger=f"{ids.SCN_RESULT}.data")  # fmt: skip
    assert isinstance(with_result_none, dict) and with_result_none["data"]


def _dataset(call):
    from dashapp.context import current_config

    return call(lambda: services.context(current_config().database_url).info.id)
