"""The main screen: filters, KPI cards, map, capacity chart and weekly series."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashapp import ids
from dashapp.filters import Resolved
from dashapp.i18n import dropdown_labels, t
from data.kpi import CARD_KPIS, KPIS, MAP_KPIS
from data.views import DatasetContext
from layouts.figures import fmt


def department_options(ctx: DatasetContext, region: str | None) -> list[dict]:
    """Departments (level 1) of a region, or of the whole country."""
    depts = ctx.units_at(1)
    if region:
        depts = depts[depts["ancestor_0"] == region]
    return [
        {"label": n, "value": c}
        for c, n in sorted(
            zip(depts["code"], depts["name"], strict=True), key=lambda x: x[1]
        )
    ]


def filter_panel(ctx: DatasetContext, r: Resolved, lang: str) -> dbc.Card:
    """Sidebar of filters, prefilled with resolved values."""
    regions = ctx.units_at(0).sort_values("name")
    level_code = ctx.levels.loc[ctx.levels["level"] == r.level, "code"].iloc[0]
    docs = ctx.doc_types
    first, last = (ctx.weeks[0], ctx.weeks[-1]) if ctx.weeks else (r.start, r.end)
    return dbc.Card(
        dbc.CardBody(
            [
                html.H5(t("filters.title", lang), className="card-title"),
                dbc.Label(t("filters.level", lang), html_for=ids.LEVEL),
                dbc.RadioItems(
                    id=ids.LEVEL,
                    value=level_code,
                    inline=True,
                    className="mb-2",
                    options=[
                        {
                            "label": row.name_fr if lang == "fr" else row.name_en,
                            "value": row.code,
                        }
                        for row in ctx.levels.itertuples()
                    ],
                ),
                dbc.Label(t("filters.indicator", lang), html_for=ids.INDICATOR),
                dcc.Dropdown(
                    labels=dropdown_labels(lang),
                    id=ids.INDICATOR,
                    value=r.indicator,
                    clearable=False,
                    options=[
                        {"label": KPIS[k].name(lang), "value": k} for k in MAP_KPIS
                    ],
                    className="mb-2",
                ),
                dbc.Label(t("filters.region", lang), html_for=ids.REGION),
                dcc.Dropdown(
                    labels=dropdown_labels(lang),
                    id=ids.REGION,
                    value=r.region,
                    placeholder=t("filters.all", lang),
                    options=[
                        {"label": n, "value": c}
                        for c, n in zip(regions["code"], regions["name"], strict=True)
                    ],
                    className="mb-2",
                ),
                dbc.Label(t("filters.department", lang), html_for=ids.DEPARTMENT),
                dcc.Dropdown(
                    labels=dropdown_labels(lang),
                    id=ids.DEPARTMENT,
                    value=r.department,
                    placeholder=t("filters.all_departments", lang),
                    options=department_options(ctx, r.region),
                    className="mb-2",
                ),
                dbc.Label(t("filters.doc_types", lang), html_for=ids.DOC_TYPES),
                dbc.Checklist(
                    id=ids.DOC_TYPES,
                    value=list(r.doc_types),
                    className="mb-2",
                    options=[
                        {
                            "label": row.name_fr if lang == "fr" else row.name_en,
                            "value": row.code,
                        }
                        for row in docs.itertuples()
                    ],
                ),
                dbc.Label(t("filters.period", lang), html_for=ids.PERIOD),
                dcc.DatePickerRange(
                    id=ids.PERIOD,
                    start_date=r.start.isoformat(),
                    end_date=r.end.isoformat(),
                    min_date_allowed=first.isoformat(),
                    start_date_placeholder_text=t("filters.start", lang),
                    end_date_placeholder_text=t("filters.end", lang),
                    max_date_allowed=last.isoformat(),
                    display_format="DD/MM/YYYY",
                    first_day_of_week=1,
                    className="mb-2 d-block",
                ),
                dbc.Label(
                    t("filters.radius", lang), html_for=ids.RADIUS, className="mt-2"
                ),
                dcc.Slider(
                    id=ids.RADIUS,
                    min=5,
                    max=100,
                    step=5,
                    value=r.radius_km,
                    marks={v: str(v) for v in (5, 20, 40, 60, 80, 100)},
                    tooltip={"placement": "bottom"},
                ),
                dbc.Button(
                    t("filters.reset", lang),
                    id=ids.RESET,
                    color="secondary",
                    outline=True,
                    size="sm",
                    className="mt-3 w-100",
                ),
                html.Small(
                    t("filters.click_hint", lang), className="text-muted d-block mt-2"
                ),
            ]
        ),
        className="mb-3",
    )


def kpi_card(kid: str, value: float, lang: str, radius_km: float) -> dbc.Col:
    """One small card: KPI name (rule on hover), value and unit."""
    kpi = KPIS[kid]
    name = html.Div(
        kpi.name(lang, radius_km),
        title=kpi.rule(lang),
        className="small text-muted kpi-name",
    )
    number = html.Span(
        fmt(value, kpi.decimals, lang),
        id=ids.kpi_card(kid),
        className="fs-5 fw-semibold",
    )
    unit = html.Span(" " + kpi.unit_in(lang), className="small text-muted")
    body = dbc.CardBody([name, html.Div([number, unit])], className="p-2")
    return dbc.Col(dbc.Card(body), xs=6, md=4, xl=True, className="mb-2")


def kpi_cards(values, lang: str, radius_km: float) -> list:
    """One card per KPI of the selection."""
    return [
        kpi_card(k, values.get(k, float("nan")), lang, radius_km) for k in CARD_KPIS
    ]


def map_card(lang: str) -> dbc.Card:
    """The map with its legend."""
    return dbc.Card(
        [
            dbc.CardHeader(t("map.title", lang)),
            dcc.Graph(
                id=ids.MAP,
                style={"height": "560px"},
                config={"displaylogo": False, "scrollZoom": True},
            ),
            dbc.CardFooter(
                html.Small(t("map.centers_legend", lang), className="text-muted")
            ),
        ]
    )


def capacity_card(lang: str) -> dbc.Card:
    """Capacity against demand, with the by-center / by-department switch."""
    modes = [
        {"label": t("chart.by_center", lang), "value": "center"},
        {"label": t("chart.by_department", lang), "value": "department"},
    ]
    header = html.Div(
        [
            html.Span(t("chart.capacity_title", lang)),
            dbc.RadioItems(
                id=ids.CAPACITY_MODE,
                value="center",
                inline=True,
                className="small",
                options=modes,
            ),
        ],
        className="d-flex justify-content-between flex-wrap",
    )
    graph = dcc.Graph(id=ids.CAPACITY_CHART, config={"displayModeBar": False})
    return dbc.Card(
        [
            dbc.CardHeader(header),
            html.Div(graph, style={"maxHeight": "560px", "overflowY": "auto"}),
        ]
    )


def overview(ctx: DatasetContext, r: Resolved, lang: str) -> html.Div:
    """The whole main screen (figures are filled by callbacks)."""
    messages = [
        dbc.Alert(m, color="warning", dismissable=True, className="py-2")
        for m in r.messages
    ]
    series = dbc.Card(
        [
            dbc.CardHeader(t("chart.timeseries_title", lang)),
            dcc.Graph(id=ids.TIMESERIES, config={"displaylogo": False}),
        ],
        className="mt-2 mb-4",
    )
    main = [
        html.Div(id=ids.SCOPE_LABEL, className="fw-semibold mb-1"),
        dbc.Row(id=ids.KPI_CARDS, className="g-2"),
        dbc.Row(
            [dbc.Col(map_card(lang), lg=7), dbc.Col(capacity_card(lang), lg=5)],
            className="mt-1 g-2",
        ),
        series,
    ]
    return html.Div(
        [
            html.Div(messages, id=ids.URL_MESSAGES),
            html.Div(id=ids.FILTER_MESSAGES),
            dbc.Row(
                [
                    dbc.Col(filter_panel(ctx, r, lang), md=3, xl=2),
                    dbc.Col(main, md=9, xl=10),
                ]
            ),
        ]
    )
