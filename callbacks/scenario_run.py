"""Scenario workspace: the optimisation run in the background, saved, and shown."""

from __future__ import annotations

import datetime as dt
import json
import logging

import dash_bootstrap_components as dbc
from dash import Input, Output, State, html
from plotly.utils import PlotlyJSONEncoder

from callbacks.scenarios import context_states, panel, result_id, result_record
from dashapp import ids, services
from dashapp.auth import current_user, requires
from dashapp.auth import record as record_event
from dashapp.config import Config
from dashapp.context import current_config
from dashapp.i18n import LANGUAGES, t
from dashapp.jobs import with_config
from dashapp.parsing import BadInputError
from dashapp.services.forecasting import whatif_forecast
from data.kpi import measure_of, objective_unit
from data.scenarios import (
    ScenarioStoreError,
    record_from_result,
    save_scenario,
)
from layouts import figures
from layouts.messages import bad_input_alert
from layouts.scenario_results import (
    attendance_line,
    is_worded,
    kpi_table,
    measure_line,
    refusal_alert,
    run_feedback,
    status_alert,
    unserved_list,
)
from layouts.scenarios import (
    NUMBER_FIELDS,
    centers_grid,
    communes_grid,
    no_demand_alert,
    status_labels,
)
from optimization.results import unserved_table
from optimization.scenario import NoDemandError, ScenarioError
from optimization.whatif import PanelError, WhatIf, measure_unit

log = logging.getLogger(__name__)
POLL_MS = 1000  # how often the browser asks a running solve for news


@requires("scenario.run")
def run_optimisation(config: Config, set_progress, n_clicks, panel: dict, dataset_id,
                     lang):  # fmt: skip
    """Solve the scenario in the background; save it; return its id and status."""
    try:
        ws = services.workspace(config.database_url, dataset_id)
    except BadInputError as exc:
        return None, bad_input_alert(exc, lang)
    try:
        whatif = WhatIf.from_panel(panel)
        run = ws.prepare_run(whatif, whatif_forecast(config, ws.dataset_id, whatif))
    except ScenarioError as exc:
        return None, _refused(exc, lang, measure_unit(panel.get("measure")))
    units = {"demand": "requests/week", "distance": whatif.unit}
    unit = objective_unit(run.spec.model, units, lang)
    try:
        result = run.solve(
            lambda snapshot, seconds: set_progress(
                running_text(snapshot, seconds, lang, unit)
            )
        )
    except NoDemandError as exc:
        return None, no_demand_alert(exc, lang, id="scn-no-demand-run")
    except ScenarioError as exc:
        return None, _refused(exc, lang, whatif.unit)
    except Exception:  # said to the planner; the error's text goes to the log only
        log.exception("scenario solve failed")
        return None, _failed(t("scn.failed_unexpected", lang), lang)
    finally:
        set_progress("")
    record = save_run(config, ws.dataset_id, whatif, run.spec, result, lang)
    return {"id": record.id}, status_alert(result.report, result.summary, lang)


@requires("view")
def mark_invalid(*values):
    """Flag each number field whose value the engine cannot use (none is replaced)."""
    panel = dict(zip(NUMBER_FIELDS, values, strict=True))
    try:
        WhatIf.from_panel(panel)
    except PanelError as exc:
        bad = {p.field for p in exc.problems}
        return [field in bad for field in NUMBER_FIELDS]
    return [False] * len(NUMBER_FIELDS)


def _failed(reason: str, lang: str) -> dbc.Alert:
    return dbc.Alert(t("scn.failed", lang, reason=reason), color="danger")


def _refused(exc: ScenarioError, lang: str, unit: str) -> dbc.Alert:
    """The refusal worded for the planner; an engine text no code words goes to
    the log, not to the screen."""
    if not is_worded(exc):
        log.warning("scenario refused: %s", exc)
    return refusal_alert(exc, lang, unit)


# the browser's answer to Lancer and Annuler, before the server's (a background
# job takes seconds to start): its words are filled in by feedback_script
_FEEDBACK_JS = """
function (run, cancel, lang) {
    const words = __WORDS__;
    const said = words[lang] || words.fr;
    const fired = window.dash_clientside.callback_context.triggered_id;
    if (fired === __CANCEL__) {
        return [said.cancelled, ""];
    }
    return [null, said.starting];
}
"""


def feedback_script() -> str:
    """The clientside callback of Lancer and Annuler: on Lancer, the last status
    cleared and "Démarrage…" shown at once; on Annuler, the cancelled notice and
    no progress line. Its words are the catalogue's (:func:`run_feedback`), in
    every language, picked by the page's language in the browser."""
    words = {lang: run_feedback(lang) for lang in LANGUAGES}
    return _FEEDBACK_JS.replace(
        "__WORDS__", json.dumps(words, cls=PlotlyJSONEncoder)
    ).replace("__CANCEL__", json.dumps(ids.SCN_CANCEL))


def running_text(snapshot: dict, seconds: float, lang: str, unit: str = "") -> str:
    """Progress line of a running solve: time, then best plan, bound and gap.

    Each figure appears once the solver has it (``SolveProgress.snapshot``);
    the gap is a proven one; ``unit`` is the objective's
    (:func:`data.kpi.objective_unit`).
    """
    text = t("scn.running", lang, seconds=f"{seconds:.0f}")
    parts = []
    after = f" {unit}" if unit else ""
    if snapshot.get("objective") is not None:
        value = figures.fmt(snapshot["objective"], 1, lang) + after
        parts.append(t("scn.running.plan", lang, objective=value))
    if snapshot.get("bound") is not None:
        value = figures.fmt(snapshot["bound"], 1, lang) + after
        parts.append(t("scn.running.bound", lang, bound=value))
    if snapshot.get("gap") is not None:
        value = f"{figures.fmt(100 * snapshot['gap'], 2, lang)} %"
        parts.append(t("scn.running.gap", lang, gap=value))
    return " · ".join([text, *parts])


def save_run(
    config: Config, dataset_id: int, whatif: WhatIf, spec, result, lang: str = "fr"
):
    """Save a run under a fresh automatic name (renamed later by the planner)."""
    store = services.get_store(config.database_url)
    stem = t("scn.auto_name", lang, when=f"{dt.datetime.now():%Y-%m-%d %H:%M:%S}")
    params = {"whatif": whatif.to_dict(), "spec": spec.to_dict()}
    for n in range(1, 100):
        name = stem if n == 1 else f"{stem} ({n})"
        try:
            user = current_user()
            record = save_scenario(
                store,
                dataset_id,
                name,
                params,
                owner_id=user.id if user else None,
                **record_from_result(result),
            )
            record_event(store, "scenario.run", record.id, name=record.name)
            return record
        except ScenarioStoreError as exc:
            if exc.code != "name_taken":
                raise
    raise ScenarioStoreError(f"no free name for {stem!r}", "name_taken")


@requires("view")
def show_result(result, zone, lang, dataset_id):
    """KPI deltas and the per-center and per-commune tables of the last run, in
    the access measure it ran with (km or min)."""
    config = current_config()
    try:
        record = result_record(config, result)
    except BadInputError as exc:
        return bad_input_alert(exc, lang, id="scn-bad-result"), [], []
    except ScenarioStoreError:
        shown = t("scn.not_found", lang, id=result_id(result))
        return dbc.Alert(shown, color="warning", className="py-2 small"), [], []
    if record is None or record.summary is None:
        return html.P(t("scn.no_result", lang), className="text-muted"), [], []
    ws = services.workspace(config.database_url, int(record.dataset_id))
    area = ws.area(zone)
    before, after = ws.result_kpis(record, area)
    headers = (t("scn.today_nearest", lang), t("scn.proposal", lang))
    units = record.summary.get("units")
    measure = measure_of(record.params)
    parts = [
        kpi_table(before, after, lang, headers, units),
        measure_line(measure, lang),
    ]
    if record.summary.get("attendance"):
        parts.append(attendance_line(record.summary["attendance"], lang))
    left_out = record.summary.get("demand") or {}
    if left_out.get("unknown_communes"):
        parts.insert(
            0,
            dbc.Alert(
                t("scn.demand_left_out", lang, n=left_out["unknown_communes"],
                  total=left_out["communes"]),
                color="warning",
                className="py-2 small",
                id="scn-demand-left-out",
            ),
        )  # fmt: skip
    centers, communes = ws.result_tables(record, area)
    if communes is not None:
        parts.append(unserved_list(unserved_table(communes), lang))
    deltas = html.Div(parts)
    return (
        deltas,
        centers_grid(centers, status_labels(lang), lang),
        communes_grid(communes, lang, measure_unit(measure)),
    )


def register(app) -> None:
    config: Config = app.server.config["DASHAPP"]
    app.callback(
        output=[
            Output(ids.SCN_RESULT, "data"),
            Output(ids.SCN_STATUS, "children"),
        ],
        inputs={
            "n_clicks": Input(ids.SCN_RUN, "n_clicks"),
            "panel": panel(State),
            **context_states(),
        },
        background=True,
        running=[
            (Output(ids.SCN_RUN, "disabled"), True, False),
            (Output(ids.SCN_CANCEL, "disabled"), False, True),
        ],
        cancel=[Input(ids.SCN_CANCEL, "n_clicks")],
        progress=[Output(ids.SCN_PROGRESS, "children")],
        # the progress line is emptied once the job ends, and at once when
        # Annuler is clicked (the renderer applies it then), whatever the last
        # poll brought
        progress_default=[""],
        # the browser asks every second: the progress line counts whole seconds,
        # and at 0.3 s the polls of a few running solves cost the pages' server
        # more CPU than the results drawn (bench/bench_load.py)
        interval=POLL_MS,
        prevent_initial_call=True,
    )(with_config(run_optimisation, config))
    app.clientside_callback(
        feedback_script(),
        Output(ids.SCN_STATUS, "children", allow_duplicate=True),
        Output(ids.SCN_PROGRESS, "children", allow_duplicate=True),
        Input(ids.SCN_RUN, "n_clicks"),
        Input(ids.SCN_CANCEL, "n_clicks"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )
    app.callback(
        [Output(id_, "invalid") for id_, _ in NUMBER_FIELDS.values()],
        [Input(id_, "value") for id_, _ in NUMBER_FIELDS.values()],
    )(mark_invalid)
    app.callback(
        Output(ids.SCN_DELTAS, "children"),
        Output(ids.SCN_CENTERS_GRID, "children"),
        Output(ids.SCN_COMMUNES_GRID, "children"),
        Input(ids.SCN_RESULT, "data"),
        Input(ids.SCN_ZONE, "value"),
        State(ids.LANG, "data"),
        State(ids.DATASET, "data"),
    )(show_result)
