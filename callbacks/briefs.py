"""Decision briefs from the main screen, a saved scenario and a comparison.

Each brief is built in a background job (progress shown, other screens usable)
by :func:`dashapp.services.briefs.build_anywhere`, then downloaded as a PDF.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, no_update

from callbacks.overview import FILTERS
from callbacks.scenarios import result_id
from dashapp import ids, services
from dashapp.auth import requires
from dashapp.config import Config
from dashapp.filters import resolve
from dashapp.i18n import t
from dashapp.jobs import with_config
from dashapp.parsing import BadInputError, parse_ids
from dashapp.services.briefs import (
    MAX_COMPARED,
    BriefError,
    BriefRequest,
    brief_filename,
    build_anywhere,
)
from layouts.messages import bad_input_alert


def _refused(text: str) -> dbc.Alert:
    return dbc.Alert(text, color="warning", className="py-1 small mb-0")


def _deliver(config: Config, request: BriefRequest, set_progress, lang: str):
    def progress(percent: int, step: str) -> None:
        set_progress(t("brief.progress", lang, step=step, pct=percent))

    try:
        pdf = build_anywhere(config, request, progress)
    except BriefError as exc:
        set_progress("")
        return no_update, _refused(str(exc))
    set_progress("")
    return dcc.send_bytes(pdf, brief_filename(request)), None


@requires("view")
def area_brief(config: Config, set_progress, n_clicks, filters: dict, dataset_id,
               lang):  # fmt: skip
    """The brief of the area and filters shown on the main screen."""
    try:
        dctx = services.context(config.database_url, dataset_id)
    except BadInputError as exc:
        return no_update, bad_input_alert(exc, lang, className="py-1 small mb-0")
    r = resolve(dctx, lang, **filters)
    request = BriefRequest(
        area=r.selection, lang=lang, indicator=r.indicator, dataset_id=dctx.info.id,
        doc_types=tuple(r.doc_types), start=r.start.isoformat(),
        end=r.end.isoformat(), radius_km=float(r.radius_km),
    )  # fmt: skip
    return _deliver(config, request, set_progress, lang)


@requires("view")
def scenario_brief(config: Config, set_progress, n_clicks, result, zone, dataset_id,
                   lang):  # fmt: skip
    """The brief of the saved scenario shown, for the area chosen on the screen."""
    try:
        shown = result_id(result)
        dctx = services.context(config.database_url, dataset_id)
    except BadInputError as exc:
        return no_update, bad_input_alert(exc, lang, className="py-1 small mb-0")
    if shown is None:
        return no_update, _refused(t("brief.no_scenario", lang))
    request = BriefRequest(area=zone or None, scenarios=(shown,), lang=lang,
                           dataset_id=dctx.info.id)  # fmt: skip
    return _deliver(config, request, set_progress, lang)


@requires("view")
def comparison_brief(config: Config, set_progress, n_clicks, selected, dataset_id,
                     lang):  # fmt: skip
    """The brief comparing the 2 to 4 saved scenarios picked."""
    try:
        picks = parse_ids(selected, "scenarios", most=MAX_COMPARED)
        dctx = services.context(config.database_url, dataset_id)
    except BadInputError as exc:
        return no_update, bad_input_alert(exc, lang, className="py-1 small mb-0")
    if not 2 <= len(picks) <= MAX_COMPARED:
        return no_update, _refused(t("scn.compare_need", lang))
    request = BriefRequest(scenarios=tuple(picks), lang=lang, dataset_id=dctx.info.id)
    return _deliver(config, request, set_progress, lang)


def _background(app, config: Config, fn, kind: str, inputs: dict) -> None:
    app.callback(
        output=[
            Output(ids.brief(kind, "download"), "data"),
            Output(ids.brief(kind, "message"), "children"),
        ],
        inputs={
            "n_clicks": Input(ids.brief(kind, "button"), "n_clicks"),
            **inputs,
            "dataset_id": State(ids.DATASET, "data"),
            "lang": State(ids.LANG, "data"),
        },
        background=True,
        running=[(Output(ids.brief(kind, "button"), "disabled"), True, False)],
        progress=[Output(ids.brief(kind, "progress"), "children")],
        interval=500,
        prevent_initial_call=True,
    )(with_config(fn, config))


def register(app) -> None:
    config: Config = app.server.config["DASHAPP"]
    states = {key: State(i.component_id, i.component_property)
              for key, i in FILTERS.items() if key != "areas"}  # fmt: skip
    states["areas"] = State(FILTERS["areas"].component_id, "value")
    _background(app, config, area_brief, "area", {"filters": states})
    _background(app, config, scenario_brief, "scenario", {
        "result": State(ids.SCN_RESULT, "data"),
        "zone": State(ids.SCN_ZONE, "value"),
    })  # fmt: skip
    _background(app, config, comparison_brief, "comparison", {
        "selected": State(ids.SCN_COMPARE_PICK, "value"),
    })  # fmt: skip
