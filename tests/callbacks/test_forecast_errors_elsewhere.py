"""A forecast error escaping a callback outside the forecast screen (the scenario
panel with demand = forecast, its map) reads in the interface language through
the forecast screen's catalogue (``fc.err.*``), never as Python's English text."""

from __future__ import annotations

from contextvars import copy_context

import pytest
from dash._callback_context import context_value
from dash._utils import AttributeDict

from callbacks import scenario_plan
from dashapp import auth, ids
from data.forecast import ForecastError


def shown(app, err, lang: str):
    """What ``on_callback_error`` puts in the page's alerts for ``err``."""
    updated: dict = {}

    def inner():
        context_value.set(AttributeDict(triggered_inputs=[], updated_props=updated))
        with app.server.test_request_context("/", headers={"Cookie": f"dashapp_lang={lang}"}):
            auth.on_callback_error(err)

    copy_context().run(inner)
    alert = updated[ids.ALERTS]["children"]
    return alert.children, alert.color


@pytest.mark.parametrize(
    ("err", "fr", "en"),
    [
        (ForecastError("no weekly requests recorded for this selection", "no_requests"),
         "Prévision impossible", "Cannot forecast"),
        (ForecastError("horizon should be an integer in 1..26 weeks, got 30", "horizon",
                       longest=26), "26", "26"),
    ],
)  # fmt: skip
def test_a_forecast_error_is_worded_in_the_language(demo_app, err, fr, en):
    text_fr, color = shown(demo_app, err, "fr")
    text_en, _ = shown(demo_app, err, "en")
    assert color == "warning"
    assert fr in text_fr and en in text_en
    assert str(err) not in text_fr and str(err) not in text_en


def test_the_scenario_panel_on_forecast_demand_words_the_refusal(
    call, demo_app, monkeypatch
):
    """The instant evaluation asks for the forecast; when it cannot be made, the
    error goes to the app's handler, which words it (as above)."""

    def refuse(*_args):
        raise ForecastError("no weekly requests recorded for this selection",
                            "no_requests")  # fmt: skip

    monkeypatch.setattr(scenario_plan, "whatif_forecast", refuse)
    from optimization.whatif import WhatIf

    panel = {k: v for k, v in WhatIf(demand_source="forecast").to_dict().items()
             if k not in ("sites", "added")}  # fmt: skip
    panel["map_choices"] = {"sites": {}, "added": []}
    with pytest.raises(ForecastError) as caught:
        call(scenario_plan.evaluate_plan, panel, None, None, "fr")
    text, _ = shown(demo_app, caught.value, "fr")
    assert text.startswith("Prévision impossible")


def test_a_forecast_error_in_a_background_job_keeps_its_code(demo_app):
    """Dash gives the error handler only a job's text: the job wrapper puts the
    error's code and values in it, and the handler words them (a scenario run or
    coverage curve on forecast demand)."""
    import traceback

    from dash.exceptions import BackgroundCallbackError

    from dashapp.jobs import JobForecastError, with_config

    def job(config, set_progress, n):
        raise ForecastError("horizon should be in 1..26 weeks, got 30", "horizon",
                            longest=26)  # fmt: skip

    job.required_right = "scenario.run"
    wrapped = with_config(job, demo_app.server.config["DASHAPP"])
    assert wrapped.required_right == "scenario.run" and wrapped.__wrapped__ is job
    with pytest.raises(JobForecastError) as caught:
        wrapped(print, 1)
    # what Dash's manager keeps of it, and hands the handler in the web process
    text = (f"An error occurred inside a background callback: {caught.value}\n"
            + "".join(traceback.format_exception(caught.value)))  # fmt: skip
    worded, color = shown(demo_app, BackgroundCallbackError(text), "en")
    assert color == "warning" and worded.startswith("Cannot forecast")
    assert "from 1 to 26" in worded and "got 30" not in worded
