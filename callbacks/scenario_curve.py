"""Scenario workspace: the coverage curve, optimal p-medians for 0..N new centers."""

from __future__ import annotations

import json
import logging

from dash import Input, Output, State, no_update

from callbacks.scenarios import panel
from dashapp import ids, services
from dashapp.auth import requires
from dashapp.config import Config
from dashapp.i18n import t
from dashapp.jobs import with_config
from dashapp.parsing import BadInputError, parse_number
from dashapp.services.forecasting import results, whatif_forecast
from layouts.maps import message_figure
from layouts.messages import bad_input_alert
from layouts.scenario_results import curve_failure, is_worded
from layouts.scenarios import curve_figure, invalid_alert, no_demand_alert
from optimization.errors import InfeasibleError
from optimization.scenario import NoDemandError, ScenarioError
from optimization.whatif import WhatIf, measure_unit

log = logging.getLogger(__name__)
CURVE_MAX = 30  # p-median solves of one curve, at most


@requires("scenario.run")
def coverage_curve(config: Config, set_progress, n_clicks, max_added, panel: dict,
                   dataset_id, lang):  # fmt: skip
    """Optimal p-median for 0..N added centers: coverage within R and mean distance.

    Computed in a background job and kept in the on-disk results cache (shared
    by the server and its job processes) under the plan's parameters.
    """
    try:
        ws = services.workspace(config.database_url, dataset_id)
        whatif = WhatIf.from_panel(panel)
        wanted = parse_number(max_added or 8, "max_added")
    except BadInputError as exc:  # shown in the progress line: the figure has no room
        set_progress(bad_input_alert(exc, lang))
        return no_update
    except ScenarioError as exc:
        set_progress(invalid_alert(exc, lang, measure_unit(panel.get("measure"))))
        return message_figure(t("scn.curve_none", lang))  # see _failed
    n_max = int(max(1, min(CURVE_MAX, wanted)))
    key = "coverage-curve:" + json.dumps(
        [ws.dataset_id, n_max, whatif.to_dict()], sort_keys=True, default=str
    )
    cache = results(config)
    curve = cache.get(key)
    if curve is None:
        reached = [0]  # the number of added centers being solved

        def progress(done: int, total: int) -> None:
            reached[0] = done
            set_progress(t("scn.curve_progress", lang, done=done, total=total))

        try:
            curve = ws.coverage_curve(
                whatif,
                n_max,
                whatif_forecast(config, ws.dataset_id, whatif),
                progress,
            )
        except NoDemandError as exc:
            set_progress(no_demand_alert(exc, lang))
            return no_update
        except (ScenarioError, InfeasibleError) as exc:
            if not is_worded(exc):
                log.warning("coverage curve refused: %s", exc)
            return _failed(set_progress, exc, reached[0], lang)
        except Exception:  # said to the planner; the error's text goes to the log
            log.exception("coverage curve failed")
            return _failed(set_progress, None, reached[0], lang)
        set_progress("")
        cache.set(key, curve)
    return curve_figure(curve, lang)


def _failed(set_progress, exc: Exception | None, added: int, lang: str) -> dict:
    """The job ends with why there is no curve in the progress line, and a chart
    that points to it (a figure, not ``no_update``, so that the answer carries the
    last progress: Dash sends nothing back for a job that updates nothing)."""
    set_progress(curve_failure(exc, added, lang))
    return message_figure(t("scn.curve_none", lang))  # the graph's box sets its height


def register(app) -> None:
    config: Config = app.server.config["DASHAPP"]
    app.callback(
        output=Output(ids.SCN_CURVE, "figure"),
        inputs={
            "n_clicks": Input(ids.SCN_CURVE_RUN, "n_clicks"),
            "max_added": State(ids.SCN_CURVE_MAX, "value"),
            "panel": panel(State),
            "dataset_id": State(ids.DATASET, "data"),
            "lang": State(ids.LANG, "data"),
        },
        background=True,
        running=[(Output(ids.SCN_CURVE_RUN, "disabled"), True, False)],
        progress=[Output(ids.SCN_CURVE_PROGRESS, "children")],
        interval=500,
        prevent_initial_call=True,
    )(with_config(coverage_curve, config))
