"""Forecasts screen: level backtest in the background, then series chart and accuracy;
risk drivers in the background."""

from __future__ import annotations

from dash import Input, Output, State, no_update
from dash.exceptions import PreventUpdate

from dashapp import ids, services
from dashapp.auth import requires
from dashapp.config import Config
from dashapp.context import current_config
from dashapp.i18n import t
from dashapp.jobs import with_config
from dashapp.parsing import BadInputError
from dashapp.services import forecasting
from data import forecast as fc
from data import risk
from layouts import forecast as lay
from layouts.messages import alert, bad_input_alert

CONTEXT_STATES = [State(ids.DATASET, "data"), State(ids.LANG, "data")]


def render(search: str | None, lang: str, dataset_id):
    """The page (route ``/prevision``); starts the forecasts' precompute if needed."""
    config = current_config()
    store = services.get_store(config.database_url)
    dctx = services.context(config.database_url, dataset_id)
    forecasting.start_precompute(config, dctx.info.id)
    return lay.page(dctx, fc.level_codes(store, dctx.info.id), lang)


@requires("forecast")
def update_series_options(level, series, dataset_id, lang):
    """Units (or centers) of the chosen level; keep the choice when still valid."""
    dctx = services.context(current_config().database_url, dataset_id)
    options = lay.series_options(dctx, level, lang)
    values = [o["value"] for o in options]
    return options, series if series in values else (values[0] if values else None)


@requires("forecast")
def run_level_forecast(config: Config, set_progress, level, dataset_id):
    """The level's backtest and forecasts: precomputed, or waited for, or computed."""
    if not level or dataset_id is None:
        raise PreventUpdate

    def progress(done: int, total: int) -> None:
        set_progress((round(100 * done / total),))

    try:
        dctx = services.context(config.database_url, dataset_id)
        error = forecasting.level_error(config, dctx.info.id, level)
        if error is not None:
            raise error
        if not forecasting.is_computed(config, dctx.info.id, level):
            forecasting.ready_level_forecast(config, dctx.info.id, level, progress)
    except fc.ForecastError as exc:  # worded by update_forecast
        return {"dataset": dataset_id, "level": level, "error": exc.to_dict()}
    except BadInputError:  # unknown or malformed dataset id
        error = {"code": "unknown_dataset", "params": {}}
        return {"dataset": dataset_id, "level": level, "error": error}
    return {"dataset": dataset_id, "level": level}


@requires("forecast")
def update_forecast(ready, series, doc_type, horizon, level, dataset_id, lang):
    """Chart, chosen model and backtest accuracy of the selected series."""
    try:
        services.context(current_config().database_url, dataset_id)
    except BadInputError as exc:
        return no_update, "", [], bad_input_alert(exc, lang)
    if (
        not isinstance(ready, dict)
        or ready.get("level") != level
        or ready.get("dataset") != dataset_id
    ):
        raise PreventUpdate  # the level's computation is not finished yet
    if ready.get("error"):
        message = alert(lay.error_text(ready["error"], lang), "danger")
        return no_update, "", [], message
    result = forecasting.cached_level_forecast(current_config(), dataset_id, level)
    if result is None:
        raise PreventUpdate
    try:
        step = fc.check_horizon(horizon)
        row = result.series_index(series, doc_type)
    except fc.ForecastError as exc:
        message = alert(lay.error_text(exc.to_dict(), lang))
        return no_update, "", [], message
    table = result.table(step)
    mine = table.iloc[row * step : (row + 1) * step]
    key = result.panel.keys.iloc[row]
    name = t("fc.national_name", lang) if key["series"] == fc.NATIONAL else key["name"]
    figure = lay.forecast_figure(
        result.panel.weeks,
        result.panel.values[row],
        mine,
        f"{name} · {doc_type}",
        lang,
    )
    selection = result.selection_scores(step, row)
    weeks = result.backtest.n_eval
    model = lay.chosen_text(selection, step, weeks, lang)
    panel = lay.accuracy_panel(
        result.accuracy(step, [row]), result.accuracy(step), step, lang,
        selection, weeks,
    )  # fmt: skip
    return figure, model, panel, []


@requires("forecast")
def run_risk(config: Config, set_progress, active_tab, target, dataset_id, lang):
    """Fit both risk classifiers for the outcome; ROC, importance, confusion."""
    if active_tab != "risk" or dataset_id is None:
        raise PreventUpdate
    set_progress((10,))
    try:
        dctx = services.context(config.database_url, dataset_id)
    except BadInputError as exc:
        return bad_input_alert(exc, lang), "", no_update, no_update, []
    try:
        report = forecasting.risk_report(config, dctx.info.id, target)
    except risk.RiskError as exc:
        message = alert(t("risk.error", lang, error=str(exc)), "danger")
        return message, "", no_update, no_update, []
    set_progress((100,))
    return (
        [],
        lay.risk_summary(report, lang),
        lay.roc_figure(report, lang),
        lay.importance_figure(report, lang),
        lay.confusion_tables(report, lang),
    )


def register(app) -> None:
    config: Config = app.server.config["DASHAPP"]
    app.callback(
        Output(ids.FC_SERIES, "options"),
        Output(ids.FC_SERIES, "value"),
        Input(ids.FC_LEVEL, "value"),
        State(ids.FC_SERIES, "value"),
        *CONTEXT_STATES,
        prevent_initial_call=True,
    )(update_series_options)
    app.callback(
        Output(ids.FC_READY, "data"),
        Input(ids.FC_LEVEL, "value"),
        State(ids.DATASET, "data"),
        background=True,
        running=[
            (Output(ids.FC_PROGRESS_BOX, "style"), {}, {"display": "none"}),
            (Output(ids.FC_CANCEL, "disabled"), False, True),
        ],
        cancel=[Input(ids.FC_CANCEL, "n_clicks")],
        progress=[Output(ids.FC_PROGRESS, "value")],
        interval=250,  # a precomputed level is ready at once: show it without delay
    )(with_config(run_level_forecast, config))
    app.callback(
        Output(ids.FC_CHART, "figure"),
        Output(ids.FC_MODEL, "children"),
        Output(ids.FC_ACCURACY, "children"),
        Output(ids.FC_MESSAGES, "children"),
        Input(ids.FC_READY, "data"),
        Input(ids.FC_SERIES, "value"),
        Input(ids.FC_DOC_TYPE, "value"),
        Input(ids.FC_HORIZON, "value"),
        State(ids.FC_LEVEL, "value"),
        *CONTEXT_STATES,
    )(update_forecast)
    app.callback(
        Output(ids.RISK_MESSAGES, "children"),
        Output(ids.RISK_SUMMARY, "children"),
        Output(ids.RISK_ROC, "figure"),
        Output(ids.RISK_IMPORTANCE, "figure"),
        Output(ids.RISK_CONFUSION, "children"),
        Input(ids.FC_TABS, "active_tab"),
        Input(ids.RISK_TARGET, "value"),
        *CONTEXT_STATES,
        background=True,
        running=[
            (Output(ids.RISK_PROGRESS_BOX, "style"), {}, {"display": "none"}),
            (Output(ids.RISK_CANCEL, "disabled"), False, True),
        ],
        cancel=[Input(ids.RISK_CANCEL, "n_clicks")],
        progress=[Output(ids.RISK_PROGRESS, "value")],
    )(with_config(run_risk, config))
