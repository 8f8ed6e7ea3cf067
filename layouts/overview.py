"""The main screen: filters, KPI cards, map, capacity chart and weekly series."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashapp import ids
from dashapp.filters import Resolved
from dashapp.i18n import dropdown_labels, t
from data.kpi import CARD_KPIS, KPIS, MAP_KPIS
from data.views import DatasetContext, filter_levels, fixed_units, units_below
from layouts.briefs import brief_control
from layouts.figures import fmt
from layouts.locale import graph_config
from layouts.maps import SCALE_BAND_PX
from layouts.road_access import map_controls, road_access_card

#: the main map's height, px
MAP_HEIGHT_PX = 560
#: the box (width, height in px) the country or a selection is fitted in by the
#: view the server draws first (the map's width in a window 1280 px wide, its
#: height less the band of colour bars below it); the browser then fits it to the
#: map's real width (layouts.maps.fit_view, assets/mapfit.js)
MAP_FIT_PX = (590, MAP_HEIGHT_PX - SCALE_BAND_PX)


def area_options(ctx: DatasetContext, level: int, above: str | None) -> list[dict]:
    """Units of ``level`` inside unit ``above`` (the whole country for ``None``)."""
    units = units_below(ctx, level, above)
    return [
        {"label": n, "value": c}
        for c, n in zip(units["code"], units["name"], strict=True)
    ]


def area_choices(ctx: DatasetContext, areas, lang: str) -> list[tuple[list, str]]:
    """Options and placeholder of each area filter, given the values chosen.

    A filter lists the units inside the deepest unit chosen above it.
    """
    out, above = [], None
    for level, value in zip(filter_levels(ctx), areas, strict=True):
        placeholder = (
            t("filters.all", lang)
            if above is None
            else t("filters.all_within", lang, name=ctx.unit(above)["name"])
        )
        out.append((area_options(ctx, level, above), placeholder))
        above = value or above
    return out


def area_filters(ctx: DatasetContext, areas: tuple, lang: str) -> list:
    """One dropdown per filter level, labelled with the dataset's level name.

    A single unit on top (the country) is written as fixed text instead.
    """
    col = "name_fr" if lang == "fr" else "name_en"
    level_names = dict(zip(ctx.levels["level"], ctx.levels[col], strict=True))
    out = [
        html.Div(
            t("filters.fixed", lang, level=level_names[row.level], name=row.name),
            className="small text-muted mb-2",
        )
        for row in fixed_units(ctx).itertuples()
    ]
    choices = area_choices(ctx, areas, lang)
    for level, value, (options, placeholder) in zip(
        filter_levels(ctx), areas, choices, strict=True
    ):
        out += [
            dbc.Label(level_names[level]),
            dcc.Dropdown(
                labels=dropdown_labels(lang),
                id=ids.area_filter(level),
                value=value,
                placeholder=placeholder,
                options=options,
                className="mb-2",
            ),
        ]
    return out


def filter_panel(ctx: DatasetContext, r: Resolved, lang: str) -> dbc.Card:
    """Sidebar of filters, prefilled with resolved values."""
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
                html.Div(area_filters(ctx, r.areas, lang), id=ids.AREAS),
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
                brief_control("area", lang, className="mt-3 d-grid"),
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
            dbc.CardHeader(
                [
                    html.Div(t("map.title", lang), className="me-3"),
                    map_controls(lang),
                ],
                className="d-flex flex-wrap align-items-center",
            ),
            dcc.Graph(
                id=ids.MAP,
                style={"height": f"{MAP_HEIGHT_PX}px"},
                config=graph_config(lang, scrollZoom=True),
            ),
            dcc.Store(id=ids.MAP_LAYER),
            dbc.CardFooter(
                [
                    html.Small(t("map.centers_legend", lang), className="text-muted"),
                    html.Small(" " + t("map.travel_note", lang),
                               className="text-muted"),
                ]  # fmt: skip
            ),
        ]
    )


def capacity_card(ctx: DatasetContext, lang: str) -> dbc.Card:
    """Capacity against demand, by center or by unit of the level above communes.

    The second choice (value ``"department"``) is named after that level; a
    country without a level between the nation and its communes has none.
    """
    modes = [{"label": t("chart.by_center", lang), "value": "center"}]
    levels = filter_levels(ctx)
    if levels:
        name = ctx.level_name(levels[-1], lang).lower()
        modes.append(
            {"label": t("chart.by_level", lang, name=name), "value": "department"}
        )
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
    graph = dcc.Graph(
        id=ids.CAPACITY_CHART, config=graph_config(lang, displayModeBar=False)
    )
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
            # the box is watched for the scroll (the graph's own element is
            # replaced once plotly has loaded)
            html.Div(
                dcc.Graph(id=ids.TIMESERIES, config=graph_config(lang)),
                id=ids.TIMESERIES_BOX,
            ),
            # below the map: drawn once scrolled to (callbacks.overview), so the
            # browser draws the map first
            dcc.Store(id=ids.TIMESERIES_SEEN, data=False),
        ],
        className="mt-2 mb-4",
    )
    main = [
        html.Div(id=ids.SCOPE_LABEL, className="fw-semibold mb-1"),
        dbc.Row(id=ids.KPI_CARDS, className="g-2"),
        road_access_card(lang),
        dbc.Row(
            [dbc.Col(map_card(lang), lg=7), dbc.Col(capacity_card(ctx, lang), lg=5)],
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
