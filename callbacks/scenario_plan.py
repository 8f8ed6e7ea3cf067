"""Scenario workspace: the network as set, evaluated at once and drawn on the map."""

from __future__ import annotations

from dash import ALL, Input, Output, ctx, html, no_update

from callbacks.scenarios import context_states, map_area_view, panel, result_record
from dashapp import ids, services
from dashapp.auth import requires
from dashapp.context import current_config
from dashapp.i18n import t
from dashapp.parsing import BadInputError
from dashapp.services.forecasting import ForecastPending, whatif_forecast
from data.scenarios import ScenarioStoreError
from layouts.messages import bad_input_alert, forecast_done, forecast_pending
from layouts.scenario_results import kpi_table, measure_line
from layouts.scenarios import invalid_alert, scenario_map, site_choices
from optimization.scenario import ScenarioError
from optimization.whatif import WhatIf, measure_unit


@requires("view")
def evaluate_plan(panel: dict, zone, dataset_id, lang, poll=None):
    """Instant KPIs of the network as set against today's, in the access measure
    chosen (km or min), and the choice list."""
    config = current_config()
    try:
        ws = services.workspace(config.database_url, dataset_id)
    except BadInputError as exc:
        return no_update, no_update, bad_input_alert(exc, lang)
    try:
        whatif = WhatIf.from_panel(panel)
        forecast = whatif_forecast(config, ws.dataset_id, whatif, False)  # no wait
        evaluation = ws.evaluate(whatif, ws.area(zone), forecast)
    except ForecastPending:  # never wait in a request: say so, ask again soon
        return forecast_pending(lang, ids.scn_forecast_poll("wait")), no_update, []
    except ScenarioError as exc:
        unit = measure_unit(panel.get("measure"))
        return no_update, no_update, invalid_alert(exc, lang, unit)
    headers = (t("scn.today", lang), t("scn.as_set", lang))
    units = {"distance": whatif.unit}
    table = kpi_table(evaluation.before, evaluation.after, lang, headers, units)
    note = html.Small(t("scn.instant_rule", lang), className="text-muted")
    shown = [table, measure_line(whatif.measure, lang), note]
    if ctx.triggered_id == ids.scn_forecast_poll("wait"):  # ready now: map once more
        shown.append(forecast_done(ids.scn_forecast_poll("done")))
    return (
        html.Div(shown),
        site_choices(whatif.sites, list(whatif.added), ws.names(), lang),
        [],
    )


@requires("view")
def draw_map(view, result, zone, color_by, panel: dict, dataset_id, lang, poll=None):
    """Communes by distance (or its change) to their center; sites by state.

    Always a whole figure: the map's inputs change together with its view, and a
    Patch racing the first draw would have nothing to patch. A run's result
    arriving while the map shows the plan leaves it as drawn (the plan's map does
    not read it); an empty result may be the page's first answer (the renderer
    holds the first draw until the result's other callback has answered).
    """
    fired = set(ctx.triggered_prop_ids or ())
    if view != "result" and result and fired == {f"{ids.SCN_RESULT}.data"}:
        return no_update
    config = current_config()
    dctx = services.context(config.database_url, dataset_id)
    ws = services.workspace(config.database_url, dctx.info.id)
    try:
        record = result_record(config, result) if view == "result" else None
    except (BadInputError, ScenarioStoreError):  # the result panel says why
        record = None
    try:
        whatif = WhatIf.from_panel(panel)
        forecast = whatif_forecast(config, ws.dataset_id, whatif, False)  # no wait
        shown = ws.map_view(whatif, forecast, record)
    except (ScenarioError, ForecastPending):
        return no_update
    return scenario_map(
        services.level_geojson(config.database_url, dctx.info.id, dctx.commune_level),
        ([str(c) for c in ws.network.commune_ids], list(ws.network.commune_names)),
        shown,
        color_by == "change",
        map_area_view(dctx, zone),
        lang,
        config.basemap_style,
        uirevision=f"scenario-{zone}",
        result=record is not None,
    )


def register(app) -> None:
    app.callback(
        output=[
            Output(ids.SCN_INSTANT, "children"),
            Output(ids.SCN_SITES_LIST, "children"),
            Output(ids.SCN_MESSAGES, "children"),
        ],
        inputs={
            "panel": panel(Input),
            "zone": Input(ids.SCN_ZONE, "value"),
            **context_states(),
            "poll": Input(ids.scn_forecast_poll(ALL), "n_intervals"),
        },
    )(evaluate_plan)
    app.callback(
        output=Output(ids.SCN_MAP, "figure"),
        inputs={
            "view": Input(ids.SCN_VIEW, "value"),
            "result": Input(ids.SCN_RESULT, "data"),
            "zone": Input(ids.SCN_ZONE, "value"),
            "color_by": Input(ids.SCN_COLOR_BY, "value"),
            "panel": panel(Input),
            **context_states(),
            "poll": Input(ids.scn_forecast_poll(ALL), "n_intervals"),
        },
    )(draw_map)
