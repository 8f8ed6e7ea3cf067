"""The forecasts screen: demand forecast with its backtest accuracy, risk drivers.

Figures are plain dicts (as in :mod:`layouts.figures`).
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
import numpy as np
import pandas as pd
from dash import dcc, html

from dashapp import ids
from dashapp.i18n import dropdown_labels, t
from data.forecast import CENTER, MAX_HORIZON, N_EVAL, NATIONAL
from data.risk import RISK_MODELS, TARGETS
from data.views import DatasetContext
from layouts.figures import fmt
from layouts.locale import graph_config, separators

MODEL_COLORS = {"logistic": "#1f77b4", "gradient_boosting": "#d62728"}
HISTORY_WEEKS = 104


def pct(value: float, decimals: int, lang: str) -> str:
    """A percentage as each language writes it (French: 12,5 %; English: 12.5%)."""
    return fmt(value, decimals, lang) + (" %" if lang == "fr" else "%")


#: Why a forecast cannot be made (:class:`data.forecast.ForecastError` codes): the
#: parameters each wording takes, as catalogue keys ``fc.err.<code>``.
ERROR_PARAMS: dict[str, tuple[str, ...]] = {
    "unknown_level": ("level",),
    "unknown_doc_types": ("types",),
    "no_requests": (),
    "short_history": ("need", "got"),
    "missing_values": (),
    "needs_two_levels": (),
    "horizon": ("longest",),
    "unknown_series": ("series", "doc_type"),
    "unknown_dataset": (),
    "internal": (),
}


def error_text(error, lang: str) -> str:
    """The message "Cannot forecast: <reason>" in ``lang``, from ``to_dict()`` of a
    :class:`data.forecast.ForecastError`.

    ``error`` comes back from the browser: an unknown code, or parameters that are
    missing or not plain text and numbers, word as an internal error; text
    parameters are cut to 80 characters.
    """
    code = error.get("code") if isinstance(error, dict) else None
    params = error.get("params") if isinstance(error, dict) else None
    names = ERROR_PARAMS.get(code) if isinstance(code, str) else None
    if names is None or not isinstance(params, dict):
        code, names, params = "internal", (), {}
    values = {}
    for name in names:
        value = params.get(name)
        if isinstance(value, bool) or not isinstance(value, str | int):
            code, values = "internal", {}
            break
        values[name] = fmt(value, 0, lang) if isinstance(value, int) else value[:80]
    return t("fc.error", lang, error=t(f"fc.err.{code}", lang, **values))


def level_options(ctx: DatasetContext, levels: list[str], lang: str) -> list[dict]:
    """Radio options of the forecast levels, named in the dataset's words."""
    names = {
        row.code: row.name_fr if lang == "fr" else row.name_en
        for row in ctx.levels.itertuples()
    }
    names[NATIONAL] = t("fc.level.national", lang)
    names[CENTER] = t("fc.level.center", lang)
    return [{"label": names.get(code, code), "value": code} for code in levels]


def series_options(ctx: DatasetContext, level: str, lang: str) -> list[dict]:
    """The units (or centers) of a level, by name."""
    if level == NATIONAL:
        return [{"label": t("fc.national_name", lang), "value": NATIONAL}]
    if level == CENTER:
        frame = ctx.centers[["code", "name"]]
    else:
        row = ctx.levels[ctx.levels["code"] == level]
        if row.empty:
            return []
        frame = ctx.units_at(int(row["level"].iloc[0]))[["code", "name"]]
    frame = frame.sort_values("name")
    return [
        {"label": n, "value": c}
        for c, n in zip(frame["code"], frame["name"], strict=True)
    ]


def page(ctx: DatasetContext, levels: list[str], lang: str) -> html.Div:
    """The whole screen; figures and tables are filled by callbacks."""
    col = "name_fr" if lang == "fr" else "name_en"
    docs = [
        {"label": n, "value": c}
        for c, n in zip(ctx.doc_types["code"], ctx.doc_types[col], strict=True)
    ]
    default_level = "department" if "department" in levels else levels[0]
    options = series_options(ctx, default_level, lang)
    controls = dbc.Card(
        dbc.CardBody(
            [
                dbc.Label(t("fc.level", lang), html_for=ids.FC_LEVEL),
                dbc.RadioItems(
                    id=ids.FC_LEVEL,
                    value=default_level,
                    options=level_options(ctx, levels, lang),
                    className="mb-2",
                ),
                dbc.Label(t("fc.series", lang), html_for=ids.FC_SERIES),
                dcc.Dropdown(
                    labels=dropdown_labels(lang),
                    id=ids.FC_SERIES,
                    options=options,
                    value=options[0]["value"] if options else None,
                    clearable=False,
                    className="mb-2",
                ),
                dbc.Label(t("fc.doc_type", lang), html_for=ids.FC_DOC_TYPE),
                dbc.RadioItems(
                    id=ids.FC_DOC_TYPE,
                    value=docs[0]["value"] if docs else None,
                    options=docs,
                    className="mb-2",
                ),
                dbc.Label(t("fc.horizon", lang), html_for=ids.FC_HORIZON),
                dcc.Slider(
                    id=ids.FC_HORIZON,
                    min=4,
                    max=MAX_HORIZON,
                    step=1,
                    value=12,
                    marks={v: str(v) for v in (4, 8, 12, 16, 20, 26)},
                    tooltip={"placement": "bottom"},
                ),
                _progress(
                    ids.FC_PROGRESS_BOX,
                    ids.FC_PROGRESS,
                    ids.FC_CANCEL,
                    "fc.computing",
                    lang,
                ),
            ]
        ),
        className="mb-3",
    )
    chart = dbc.Card(
        [
            dbc.CardHeader(t("fc.chart_title", lang)),
            dcc.Graph(
                id=ids.FC_CHART,
                config=graph_config(lang),
                style={"height": "460px"},
            ),
            dbc.CardFooter(html.Small(id=ids.FC_MODEL, className="text-muted")),
        ]
    )
    accuracy = dbc.Card(dbc.CardBody(id=ids.FC_ACCURACY), className="h-100")
    forecast_tab = dbc.Row(
        [
            dbc.Col(controls, md=3, xl=2),
            dbc.Col(
                [
                    html.Div(id=ids.FC_MESSAGES),
                    dbc.Row(
                        [dbc.Col(chart, lg=8), dbc.Col(accuracy, lg=4)],
                        className="g-2",
                    ),
                ],
                md=9,
                xl=10,
            ),
        ],
        className="mt-2",
    )
    return html.Div(
        [
            dcc.Store(id=ids.FC_READY),
            html.H4(t("fc.title", lang), className="mt-2"),
            html.P(t("fc.intro", lang, weeks=N_EVAL), className="text-muted small"),
            dbc.Tabs(
                [
                    dbc.Tab(
                        forecast_tab,
                        label=t("fc.tab.forecast", lang),
                        tab_id="forecast",
                    ),
                    dbc.Tab(
                        risk_tab(lang), label=t("fc.tab.risk", lang), tab_id="risk"
                    ),
                ],
                id=ids.FC_TABS,
                active_tab="forecast",
            ),
        ],
        className="mb-4",
    )


def _progress(
    box_id: str, bar_id: str, cancel_id: str, key: str, lang: str
) -> html.Div:
    return html.Div(
        [
            html.Small(t(key, lang), className="text-muted d-block mt-3"),
            dbc.Progress(id=bar_id, value=0, striped=True, animated=True),
            dbc.Button(
                t("fc.cancel", lang),
                id=cancel_id,
                size="sm",
                color="secondary",
                outline=True,
                disabled=True,
                className="mt-2 w-100",
            ),
        ],
        id=box_id,
        style={"display": "none"},
    )


def risk_tab(lang: str) -> html.Div:
    """Outcome choice, caution, ROC curves, importances and confusion matrices."""
    caution = dbc.Alert(
        [
            html.Strong(t("risk.caution_title", lang)),
            html.P(t("risk.caution", lang), className="mb-0 small"),
        ],
        color="info",
        id=ids.RISK_CAUTION,
    )
    controls = dbc.Card(
        dbc.CardBody(
            [
                dbc.Label(t("risk.target", lang), html_for=ids.RISK_TARGET),
                dbc.RadioItems(
                    id=ids.RISK_TARGET,
                    value="late",
                    options=[
                        {"label": t(f"risk.target.{k}", lang), "value": k}
                        for k in TARGETS
                    ],
                ),
                _progress(
                    ids.RISK_PROGRESS_BOX,
                    ids.RISK_PROGRESS,
                    ids.RISK_CANCEL,
                    "risk.computing",
                    lang,
                ),
            ]
        ),
        className="mb-3",
    )
    graphs = dbc.Row(
        [
            dbc.Col(
                dbc.Card(
                    [
                        dbc.CardHeader(t("risk.roc_title", lang)),
                        dcc.Graph(
                            id=ids.RISK_ROC,
                            config=graph_config(lang, displayModeBar=False),
                        ),
                    ]
                ),
                lg=5,
            ),
            dbc.Col(
                dbc.Card(
                    [
                        dbc.CardHeader(t("risk.importance_title", lang)),
                        dcc.Graph(
                            id=ids.RISK_IMPORTANCE,
                            config=graph_config(lang, displayModeBar=False),
                        ),
                    ]
                ),
                lg=7,
            ),
        ],
        className="g-2",
    )
    confusion = dbc.Card(
        [
            dbc.CardHeader(t("risk.confusion_title", lang)),
            dbc.CardBody(id=ids.RISK_CONFUSION),
        ],
        className="mt-2",
    )
    return dbc.Row(
        [
            dbc.Col(controls, md=3, xl=2),
            dbc.Col(
                [
                    caution,
                    html.Div(id=ids.RISK_MESSAGES),
                    html.P(id=ids.RISK_SUMMARY, className="small"),
                    graphs,
                    confusion,
                ],
                md=9,
                xl=10,
            ),
        ],
        className="mt-2",
    )


# ------------------------------------------------------------------ forecast figure


def _dates(values) -> list[str]:
    return [pd.Timestamp(v).date().isoformat() for v in values]


def forecast_figure(
    weeks, history: np.ndarray, table: pd.DataFrame, title: str, lang: str
) -> dict:
    """History (last two years), forecast line and its 80% / 95% bands."""
    weeks, history = weeks[-HISTORY_WEEKS:], history[-HISTORY_WEEKS:]
    future = _dates(table["week"])
    band_x = future + future[::-1]

    def band(lo: str, hi: str, name: str, color: str) -> dict:
        return {
            "type": "scatter",
            "x": band_x,
            "y": table[hi].round(1).tolist() + table[lo].round(1).tolist()[::-1],
            "fill": "toself",
            "fillcolor": color,
            "line": {"width": 0},
            "hoverinfo": "skip",
            "name": name,
        }

    # the forecast line starts at the last observed week so the two join
    join_x = [_dates(weeks[-1:])[0], *future]
    join_y = [float(history[-1]), *table["forecast"].round(1).tolist()]
    data = [
        band("lo95", "hi95", t("fc.band95", lang), "rgba(255,127,14,0.15)"),
        band("lo80", "hi80", t("fc.band80", lang), "rgba(255,127,14,0.30)"),
        {
            "type": "scatter",
            "mode": "lines",
            "x": _dates(weeks),
            "y": np.round(history, 1).tolist(),
            "name": t("fc.history", lang),
            "line": {"color": "#1f77b4", "width": 1.5},
        },
        {
            "type": "scatter",
            "mode": "lines+markers",
            "x": join_x,
            "y": join_y,
            "name": t("fc.forecast", lang),
            "line": {"color": "#ff7f0e", "width": 2, "dash": "dash"},
            "marker": {"size": 4},
        },
    ]
    return {
        "data": data,
        "layout": {
            "title": {"text": title, "font": {"size": 14}},
            "margin": {"l": 50, "r": 10, "t": 40, "b": 40},
            "yaxis": {
                "title": {"text": t("chart.requests", lang)},
                "rangemode": "tozero",
            },
            "xaxis": {"title": {"text": t("chart.week", lang)}},
            "legend": {"orientation": "h", "y": -0.18},
            "hovermode": "x unified",
            "separators": separators(lang),
        },
    }


def accuracy_table(
    acc: pd.DataFrame,
    lang: str,
    selection: pd.DataFrame | None = None,
    step: int | None = None,
) -> dbc.Table:
    """MAPE, WAPE and skill per model (rows as in ``data.forecast.accuracy``).

    With ``selection`` (``data.forecast.selection_scores``), a last column gives
    the WAPE over steps ``1..step`` that chose the model, the chosen one ticked.
    """
    heads = [t(f"fc.col.{c}", lang) for c in ("model", "mape", "wape", "skill")]
    if selection is not None:
        heads.append(t("fc.col.selection", lang, h=step))
    head = html.Thead(html.Tr([html.Th(h) for h in heads]))
    rows = []
    for name, r in acc.iterrows():
        skill = fmt(r["skill"], 0, lang)
        if np.isfinite(r["skill"]) and r["skill"] > 0:
            skill = "+" + skill
        cells = [
            html.Td(t(f"fc.model.{name}", lang)),
            html.Td(pct(r["mape"], 1, lang)),
            html.Td(pct(r["wape"], 1, lang)),
            html.Td(skill + (" %" if lang == "fr" else "%")),
        ]
        if selection is not None:
            cells.append(_selection_cell(selection, name, lang))
        rows.append(html.Tr(cells))
    return dbc.Table(
        [head, html.Tbody(rows)], size="sm", bordered=False, className="small mb-2"
    )


def _selection_cell(selection: pd.DataFrame, name: str, lang: str) -> html.Td:
    if name not in selection.index:
        return html.Td("—")
    value = selection.loc[name, "wape"]
    text = pct(value, 1, lang) if np.isfinite(value) else "—"
    if selection.loc[name, "chosen"]:
        return html.Td("✓ " + text, className="fw-semibold")
    return html.Td(text)


def chosen_text(selection: pd.DataFrame, step: int, weeks: int, lang: str) -> str:
    """The model used for a series and the score that chose it
    (``selection``: ``data.forecast.selection_scores``)."""
    name = selection.index[selection["chosen"].to_numpy()][0]
    model = t(f"fc.model.{name}", lang)
    wape = selection.loc[name, "wape"]
    if not np.isfinite(wape):
        return t("fc.chosen_no_requests", lang, model=model, weeks=weeks)
    return t(
        "fc.chosen",
        lang,
        model=model,
        wape=pct(wape, 1, lang),
        h=step,
        weeks=weeks,
        n=fmt(int(selection.loc[name, "n"]), 0, lang),
    )


def accuracy_panel(
    series_acc: pd.DataFrame,
    level_acc: pd.DataFrame,
    step: int,
    lang: str,
    selection: pd.DataFrame | None = None,
    weeks: int = N_EVAL,
) -> list:
    """Backtest accuracy of the series (with the score that chose its model when
    ``selection`` is given) and of its level, next to the chart."""
    return [
        html.H6(t("fc.accuracy_title", lang, h=step)),
        html.Div(t("fc.accuracy_series", lang), className="small text-muted"),
        html.Div(
            accuracy_table(series_acc, lang, selection, step),
            id=ids.FC_ACCURACY_SERIES,
        ),
        html.Div(t("fc.accuracy_level", lang), className="small text-muted"),
        html.Div(accuracy_table(level_acc, lang), id=ids.FC_ACCURACY_LEVEL),
        html.Small(
            t("fc.accuracy_help", lang, h=step, weeks=weeks), className="text-muted"
        ),
    ]


# ------------------------------------------------------------------ risk figures


def roc_figure(report, lang: str) -> dict:
    """ROC curve of each model with its AUC, and the chance diagonal."""
    data = [
        {
            "type": "scatter",
            "mode": "lines",
            "x": [0, 1],
            "y": [0, 1],
            "name": t("risk.chance", lang),
            "line": {"color": "#999", "dash": "dot"},
        }
    ]
    for name in RISK_MODELS:
        m = report.models[name]
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": np.round(m.fpr, 4).tolist(),
                "y": np.round(m.tpr, 4).tolist(),
                "name": f"{t(f'risk.model.{name}', lang)} (AUC {fmt(m.auc, 3, lang)})",
                "line": {"color": MODEL_COLORS[name]},
            }
        )
    return {
        "data": data,
        "layout": {
            "margin": {"l": 50, "r": 10, "t": 10, "b": 40},
            "xaxis": {"title": {"text": t("risk.fpr", lang)}, "range": [0, 1]},
            "yaxis": {"title": {"text": t("risk.tpr", lang)}, "range": [0, 1.02]},
            "legend": {"x": 0.35, "y": 0.05},
            "height": 380,
            "separators": separators(lang),
        },
    }


def importance_figure(report, lang: str) -> dict:
    """Permutation importance of each feature, both models side by side."""
    order = report.models[RISK_MODELS[-1]].importance.index[::-1]
    labels = [t(f"risk.feature.{f}", lang) for f in order]
    data = []
    for name in RISK_MODELS:
        imp = report.models[name].importance.reindex(order)
        data.append(
            {
                "type": "bar",
                "orientation": "h",
                "y": labels,
                "x": imp["mean"].round(4).tolist(),
                "error_x": {"type": "data", "array": imp["std"].round(4).tolist()},
                "name": t(f"risk.model.{name}", lang),
                "marker": {"color": MODEL_COLORS[name]},
            }
        )
    return {
        "data": data,
        "layout": {
            "barmode": "group",
            "margin": {"l": 200, "r": 10, "t": 10, "b": 40},
            "xaxis": {"title": {"text": "AUC"}},
            "legend": {"orientation": "h", "y": -0.15},
            "height": 380,
            "separators": separators(lang),
        },
    }


def confusion_tables(report, lang: str) -> dbc.Row:
    """One 2x2 table per model: observed rows, predicted columns."""
    neg, pos = t("risk.negative", lang), t("risk.positive", lang)
    cols = []
    for name in RISK_MODELS:
        cm = report.models[name].confusion
        table = dbc.Table(
            [
                html.Thead(
                    html.Tr(
                        [
                            html.Th(
                                f"{t('risk.actual', lang)} \\ {t('risk.predicted', lang)}"
                            ),
                            html.Th(neg),
                            html.Th(pos),
                        ]
                    )
                ),
                html.Tbody(
                    [
                        html.Tr(
                            [
                                html.Th(neg),
                                html.Td(int(cm[0, 0])),
                                html.Td(int(cm[0, 1])),
                            ]
                        ),
                        html.Tr(
                            [
                                html.Th(pos),
                                html.Td(int(cm[1, 0])),
                                html.Td(int(cm[1, 1])),
                            ]
                        ),
                    ]
                ),
            ],
            size="sm",
            bordered=True,
            className="small text-center",
            id=ids.risk_confusion(name),
        )
        cols.append(dbc.Col([html.H6(t(f"risk.model.{name}", lang)), table], md=6))
    return dbc.Row(cols)


def risk_summary(report, lang: str) -> str:
    """One sentence: split, sizes and positive shares."""
    return t(
        "risk.summary",
        lang,
        n_train=fmt(report.n_train, 0, lang),
        n_test=fmt(report.n_test, 0, lang),
        split=report.split_week.strftime("%d/%m/%Y"),
        pos_train=pct(report.positive_train * 100, 0, lang),
        pos_test=pct(report.positive_test * 100, 0, lang),
    )
