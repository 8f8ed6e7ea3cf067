"""The scenario workspace: parameters, map of sites, instant evaluation, results."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashapp import ids
from dashapp.i18n import t
from layouts.figures import fmt

OBJECTIVE_KEYS = ("distance", "coverage", "fewest", "worst", "rebalance")
# (KPI key of optimization.results.network_kpis, i18n key, decimals, scale, better)
KPI_ROWS = (
    ("mean_distance", "scn.kpi.mean_distance", 1, 1.0, "lower"),
    ("max_distance", "scn.kpi.max_distance", 1, 1.0, "lower"),
    ("share_within_radius", "scn.kpi.share_within", 1, 100.0, "higher"),
    ("open_centers", "scn.kpi.open_centers", 0, 1.0, None),
    ("overloaded_centers", "scn.kpi.overloaded", 0, 1.0, "lower"),
    ("unmet_demand", "scn.kpi.unmet", 0, 1.0, "lower"),
    ("cost", "scn.kpi.cost", 1, 1.0, "lower"),
)


def _number(id_, value, label, lang, **kw):
    return html.Div(
        [
            dbc.Label(t(label, lang), html_for=id_, className="small mb-0"),
            dbc.Input(
                id=id_, type="number", value=value, size="sm", debounce=True, **kw
            ),
        ],
        className="mb-2",
    )


def parameter_panel(doc_types, lang: str) -> dbc.Card:
    """Scenario parameters; every value is checked by ``optimization.whatif.WhatIf``."""
    docs = [
        dbc.InputGroup(
            [
                dbc.InputGroupText(row.code, className="small"),
                dbc.Input(
                    id=ids.scn_growth_doc(row.code),
                    type="number",
                    value=0,
                    size="sm",
                    debounce=True,
                ),
                dbc.InputGroupText("%", className="small"),
            ],
            size="sm",
            className="mb-1",
        )
        for row in doc_types.itertuples()
    ]
    return dbc.Card(
        dbc.CardBody(
            [
                html.H5(t("scn.parameters", lang), className="card-title"),
                dbc.Label(
                    t("scn.objective", lang),
                    html_for=ids.SCN_OBJECTIVE,
                    className="small mb-0",
                ),
                dcc.Dropdown(
                    id=ids.SCN_OBJECTIVE,
                    value="distance",
                    clearable=False,
                    options=[
                        {"label": t(f"scn.objective.{k}", lang), "value": k}
                        for k in OBJECTIVE_KEYS
                    ],
                    className="mb-2",
                ),
                dbc.Row(
                    [
                        dbc.Col(
                            _number(
                                ids.SCN_NEW, 3, "scn.new_centers", lang, min=0, step=1
                            )
                        ),
                        dbc.Col(
                            _number(ids.SCN_BUDGET, None, "scn.budget", lang, min=0)
                        ),
                    ],
                    className="g-2",
                ),
                dbc.Row(
                    [
                        dbc.Col(_number(ids.SCN_RADIUS, 20, "scn.radius", lang, min=1)),
                        dbc.Col(
                            _number(
                                ids.SCN_TIME_LIMIT, 30, "scn.time_limit", lang, min=1
                            )
                        ),
                    ],
                    className="g-2",
                ),
                dbc.Row(
                    [
                        dbc.Col(_number(ids.SCN_GROWTH, 0, "scn.growth", lang)),
                        dbc.Col(
                            _number(ids.SCN_YEARS, 1, "scn.years", lang, min=0, step=1)
                        ),
                    ],
                    className="g-2",
                ),
                dbc.Label(t("scn.growth_by_doc", lang), className="small mb-0"),
                html.Div(docs, className="mb-2"),
                _number(ids.SCN_CAPACITY, 0, "scn.capacity_change", lang),
                dbc.Switch(
                    id=ids.SCN_CLOSURES,
                    value=False,
                    label=t("scn.allow_closures", lang),
                    className="small",
                ),
                dbc.Switch(
                    id=ids.SCN_CAPACITATED,
                    value=False,
                    label=t("scn.capacitated", lang),
                    className="small mb-2",
                ),
                html.Div(t("scn.equity", lang), className="small fw-semibold"),
                dbc.Row(
                    [
                        dbc.Col(
                            _number(
                                ids.SCN_MIN_COVERAGE,
                                None,
                                "scn.min_coverage",
                                lang,
                                min=0,
                                max=100,
                            )
                        ),
                        dbc.Col(
                            _number(
                                ids.SCN_MAX_DISTANCE,
                                None,
                                "scn.max_distance",
                                lang,
                                min=1,
                            )
                        ),
                    ],
                    className="g-2",
                ),
                html.Hr(className="my-2"),
                dbc.Label(t("scn.click_mode", lang), className="small mb-0"),
                dbc.RadioItems(
                    id=ids.SCN_CLICK_MODE,
                    value="toggle",
                    className="small",
                    options=[
                        {"label": t("scn.click_toggle", lang), "value": "toggle"},
                        {"label": t("scn.click_add", lang), "value": "add"},
                    ],
                ),
                html.Div(id=ids.SCN_SITES_LIST, className="small mt-2"),
                dbc.Button(
                    t("scn.sites_reset", lang),
                    id=ids.SCN_SITES_RESET,
                    size="sm",
                    color="secondary",
                    outline=True,
                    className="mt-2 w-100",
                ),
            ]
        ),
        className="mb-3",
    )


def site_choices(sites: dict, added: list, names: dict, lang: str) -> list:
    """The planner's map choices, as badges."""
    colors = {"locked": "success", "closed": "danger", "forbidden": "dark"}
    items = [
        dbc.Badge(
            f"{names.get(code, code)} · {t(f'scn.state.{state}', lang)}",
            color=colors[state],
            className="me-1 mb-1",
        )
        for code, state in sorted(sites.items())
    ]
    items += [
        dbc.Badge(f"+ {names.get(code, code)}", color="primary", className="me-1 mb-1")
        for code in added
    ]
    return items or [html.Span(t("scn.no_choice", lang), className="text-muted")]


def kpi_table(
    before: dict, after: dict, lang: str, headers: tuple[str, str]
) -> dbc.Table:
    """Today against the scenario, with the difference, better values in green."""
    rows = []
    for key, label, decimals, scale, better in KPI_ROWS:
        b, a = before.get(key), after.get(key)
        if b is None and a is None:
            continue
        b = None if b is None else b * scale
        a = None if a is None else a * scale
        delta = None if a is None or b is None else a - b
        color = ""
        if delta and better:
            good = delta < 0 if better == "lower" else delta > 0
            color = "text-success" if good else "text-danger"
        sign = "+" if delta and delta > 0 else ""
        rows.append(
            html.Tr(
                [
                    html.Td(t(label, lang)),
                    html.Td(fmt(b, decimals, lang), className="text-end"),
                    html.Td(fmt(a, decimals, lang), className="text-end"),
                    html.Td(
                        sign + fmt(delta, decimals, lang) if delta is not None else "",
                        className=f"text-end {color}",
                    ),
                ],
                id={"type": "scn-kpi-row", "index": key},
            )
        )
    head = html.Thead(
        html.Tr(
            [
                html.Th(t("scn.kpi", lang)),
                html.Th(headers[0], className="text-end"),
                html.Th(headers[1], className="text-end"),
                html.Th("Δ", className="text-end"),
            ]
        )
    )
    return dbc.Table(
        [head, html.Tbody(rows)],
        size="sm",
        className="mb-0",
        bordered=False,
        hover=True,
    )


def scenarios_page(doc_types, lang: str) -> html.Div:
    """The whole workspace; figures and tables are filled by callbacks."""
    map_card = dbc.Card(
        [
            dbc.CardHeader(
                html.Div(
                    [
                        html.Span(t("scn.map", lang)),
                        dbc.RadioItems(
                            id=ids.SCN_VIEW,
                            value="plan",
                            inline=True,
                            className="small",
                            options=[
                                {"label": t("scn.view.plan", lang), "value": "plan"},
                                {
                                    "label": t("scn.view.result", lang),
                                    "value": "result",
                                },
                            ],
                        ),
                    ],
                    className="d-flex justify-content-between flex-wrap",
                )
            ),
            dcc.Graph(
                id=ids.SCN_MAP,
                style={"height": "520px"},
                config={"displaylogo": False, "scrollZoom": True},
            ),
            dbc.CardFooter(
                html.Small(t("scn.map_legend", lang), className="text-muted")
            ),
        ]
    )
    run_card = dbc.Card(
        dbc.CardBody(
            [
                html.H6(t("scn.instant", lang)),
                html.Div(id=ids.SCN_INSTANT),
                html.Hr(),
                dbc.Button(
                    t("scn.run", lang),
                    id=ids.SCN_RUN,
                    color="primary",
                    className="me-2",
                ),
                dbc.Button(
                    t("scn.cancel", lang),
                    id=ids.SCN_CANCEL,
                    color="secondary",
                    outline=True,
                    disabled=True,
                ),
                html.Div(id=ids.SCN_PROGRESS, className="small text-muted mt-2"),
                html.Div(id=ids.SCN_STATUS, className="mt-2"),
            ]
        )
    )
    results = html.Div(
        [
            html.H5(t("scn.results", lang), className="mt-3"),
            html.Div(id=ids.SCN_DELTAS),
            html.Div(id=ids.SCN_CENTERS_GRID, className="mt-3"),
            html.Div(id=ids.SCN_COMMUNES_GRID, className="mt-3"),
        ]
    )
    return html.Div(
        [
            dcc.Store(id=ids.SCN_SITES, data={"sites": {}, "added": []}),
            dcc.Store(id=ids.SCN_RESULT, data=None),
            html.Div(id=ids.SCN_MESSAGES),
            dbc.Row(
                [
                    dbc.Col(parameter_panel(doc_types, lang), md=3, xl=3),
                    dbc.Col(
                        [
                            dbc.Row(
                                [dbc.Col(map_card, lg=7), dbc.Col(run_card, lg=5)],
                                className="g-2",
                            ),
                            results,
                        ],
                        md=9,
                        xl=9,
                    ),
                ]
            ),
        ]
    )
