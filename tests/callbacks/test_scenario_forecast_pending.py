"""A scenario on forecast demand opened while the precompute still runs answers at
once ("being computed") and asks again on a timer; no request thread waits."""

from __future__ import annotations

import json
import time

import pytest
from dash import no_update

from callbacks import scenario_plan
from dashapp import ids
from dashapp.services import forecasting
from optimization.whatif import WhatIf


def _panel() -> dict:
    panel = {k: v for k, v in WhatIf(demand_source="forecast").to_dict().items()
             if k not in ("sites", "added")}  # fmt: skip
    panel["map_choices"] = {"sites": {}, "added": []}
    return panel


def _poll(index: str) -> str:
    return json.dumps(ids.scn_forecast_poll(index), separators=(",", ":"),
                      sort_keys=True) + ".n_intervals"  # fmt: skip


def _ids(component) -> list:
    found = []

    def walk(node):
        if hasattr(node, "to_plotly_json"):
            found.append(getattr(node, "id", None))
            children = getattr(node, "children", None)
            for child in children if isinstance(children, list) else [children]:
                walk(child)

    walk(component)
    return found


def _timers(component) -> list:
    return [i for i in _ids(component)
            if isinstance(i, dict) and i.get("type") == "scn-forecast-poll"]  # fmt: skip


def _text(component) -> str:
    return json.dumps(component.to_plotly_json(), default=lambda o: o.to_plotly_json(),
                      ensure_ascii=False)  # fmt: skip


@pytest.fixture
def running(monkeypatch):
    """A precompute that runs and has stored nothing yet."""
    started = []
    monkeypatch.setattr(forecasting, "start_precompute",
                        lambda config, dataset_id: started.append(dataset_id))  # fmt: skip
    monkeypatch.setattr(forecasting, "precompute_running", lambda *_: True)
    monkeypatch.setattr(forecasting, "is_computed", lambda *_: False)
    return started


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_instant_evaluation_says_pending_at_once_with_a_timer(call, running,
                                                                   lang):  # fmt: skip
    began = time.monotonic()
    instant, sites, messages = call(scenario_plan.evaluate_plan, _panel(), None,
                                    None, lang)  # fmt: skip
    assert time.monotonic() - began < 5  # not the 300 s it could wait before
    assert running  # the precompute was asked to start (it runs once)
    assert ids.scn_forecast_poll("wait") in _ids(instant)
    word = "en cours de calcul" if lang == "fr" else "being computed"
    assert word in _text(instant)
    assert sites is no_update and messages == []


def test_the_map_waits_for_the_forecast_without_blocking(call, running):
    began = time.monotonic()
    fig = call(scenario_plan.draw_map, "plan", None, None, "distance", _panel(),
               None, "fr")  # fmt: skip
    assert fig is no_update and time.monotonic() - began < 5


def test_when_ready_the_timer_stops_and_the_map_draws_once_more(call, monkeypatch):
    # no precompute runs (the suite disables it): the forecast is computed here,
    # as before, and the timer's tick shows the evaluation
    instant, _sites, _ = call(scenario_plan.evaluate_plan, _panel(), None, None,
                              "fr", [1], trigger=_poll("wait"))  # fmt: skip
    shown = _ids(instant)
    assert ids.scn_forecast_poll("wait") not in shown
    assert ids.scn_forecast_poll("done") in shown  # one tick for the map
    fig = call(scenario_plan.draw_map, "plan", None, None, "distance", _panel(),
               None, "fr", [1], trigger=_poll("done"))  # fmt: skip
    assert isinstance(fig, dict) and fig["data"]
    again, _, _ = call(scenario_plan.evaluate_plan, _panel(), None, None, "fr", [1],
                       trigger=_poll("done"))  # fmt: skip
    assert _timers(again) == []  # no timer left


def test_a_forecast_the_precompute_could_not_make_is_said_not_pending(
    call, monkeypatch
):
    from data.forecast import ForecastError

    monkeypatch.setattr(forecasting, "is_computed", lambda *_: True)
    monkeypatch.setattr(forecasting, "results", lambda config: {})
    monkeypatch.setattr(
        forecasting, "level_error",
        lambda *_: ForecastError("no weekly requests", "no_requests"),
    )  # fmt: skip
    monkeypatch.setattr(forecasting, "cached_level_forecast", lambda *_: None)
    with pytest.raises(ForecastError) as caught:
        call(scenario_plan.evaluate_plan, _panel(), None, None, "fr")
    assert caught.value.code == "no_requests"


def test_today_demand_never_asks_for_a_forecast(call, running):
    panel = _panel() | {"demand_source": "today"}
    instant, _, _ = call(scenario_plan.evaluate_plan, panel, None, None, "fr")
    assert _timers(instant) == [] and running == []
    assert "Centres ouverts" in _text(instant)
