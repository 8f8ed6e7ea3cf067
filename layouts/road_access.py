"""The main screen's road access: the card (travel mode and season, the access
KPIs) and the map's access controls (colour by travel time, roads, catchments)."""

from __future__ import annotations

import dash_bootstrap_components as dbc
import numpy as np
from dash import html

from dashapp import ids
from dashapp.i18n import t
from data.kpi import TRAVEL_KPIS
from layouts import maps
from layouts.figures import fmt

#: The access measures offered, as ``mode|season`` (the first is the default).
MEASURES = ("motorised|dry", "motorised|rainy", "walking|dry", "walking|rainy")


def parse_measure(value) -> tuple[str, str]:
    """``(mode, season)`` of a measure value; the default for anything else."""
    text = value if isinstance(value, str) and value in MEASURES else MEASURES[0]
    mode, season = text.split("|")
    return mode, season


def road_access_card(lang: str) -> dbc.Card:
    """The card: a measure switch and a body the callback fills."""
    options = [
        {"label": t(f"road.measure.{m.replace('|', '.')}", lang), "value": m}
        for m in MEASURES
    ]
    return dbc.Card(
        [
            dbc.CardHeader(t("road.title", lang)),
            dbc.CardBody(
                [
                    dbc.RadioItems(
                        id=ids.ROAD_MEASURE,
                        options=options,
                        value=MEASURES[0],
                        inline=True,
                        className="small mb-2",
                    ),  # fmt: skip
                    html.Div(id=ids.ROAD_ACCESS),
                ]
            ),
        ],
        className="mt-2",
    )


def road_access_body(kpis: dict[str, float] | None, lang: str) -> list:
    """The access KPIs as a row of figures, or the word that the roads are missing."""
    if kpis is None:
        return [html.Div(t("road.none", lang), className="text-muted small")]
    cells = []
    for k in TRAVEL_KPIS.values():
        shown = fmt(kpis.get(k.id, float("nan")) * k.scale, k.decimals, lang)
        cells.append(
            dbc.Col(
                [
                    html.Div(k.name(lang), className="small text-muted"),
                    html.Div(
                        f"{shown} {k.unit_in(lang)}".strip(), className="fw-semibold"
                    ),
                ],  # fmt: skip
                xs=6,
                md=4,
                xl=2,
                className="mb-1",
                id={"type": "road-kpi", "index": k.id},
            )  # fmt: skip
        )
    return [dbc.Row(cells, className="g-2"),
            html.Div(t("road.note", lang), className="small text-muted")]  # fmt: skip


# -- the main map coloured by travel time ---------------------------------------------
#: What the map can be coloured by besides the filters' indicator: the access
#: indicators by road (ids of :data:`data.kpi.TRAVEL_KPIS`), for the card's measure.
MAP_ACCESS = ("mean_minutes", "within_30_min", "within_60_min", "within_120_min")
MAP_LAYERS = ("roads", "catchments")


def parse_map_access(value) -> str | None:
    """The travel indicator colouring the map, None for the filters' indicator."""
    return value if isinstance(value, str) and value in MAP_ACCESS else None


def parse_map_layers(value) -> frozenset[str]:
    """The overlays asked for (anything else ignored)."""
    if not isinstance(value, list | tuple):
        return frozenset()
    return frozenset(v for v in value if isinstance(v, str) and v in MAP_LAYERS)


def map_controls(lang: str) -> html.Div:
    """Above the map: what colours it (the filters' indicator or an access
    indicator by road) and the overlays (road network, catchments)."""
    options = [{"label": t("map.colour.indicator", lang), "value": "indicator"}]
    options += [{"label": TRAVEL_KPIS[k].name(lang), "value": k} for k in MAP_ACCESS]
    return html.Div(
        [
            html.Div(
                [
                    dbc.Label(t("map.colour_by", lang), html_for=ids.MAP_ACCESS,
                              className="small mb-0 me-2"),
                    dbc.Select(id=ids.MAP_ACCESS, options=options, value="indicator",
                               size="sm", style={"maxWidth": "24rem"}),
                ],  # fmt: skip
                className="d-flex align-items-center me-3",
            ),
            dbc.Checklist(
                id=ids.MAP_LAYERS,
                options=[
                    {"label": t(f"map.layer.{k}", lang), "value": k}
                    for k in MAP_LAYERS
                ],
                value=[],
                inline=True,
                switch=True,
                className="small",
            ),
        ],
        className="d-flex flex-wrap align-items-center gap-1",
    )


def travel_choropleth_arrays(
    values, kpi_id: str, units, parents: list[str], lang: str
) -> dict:
    """z values, hover and colours of the map coloured by an access indicator.

    A unit none of whose inhabitants reaches a center says "not reached" (its
    minutes are never 0); at commune level the hover names the nearest center.
    """
    kpi = TRAVEL_KPIS[kpi_id]
    z = values[kpi_id].to_numpy(dtype=float) * kpi.scale
    unreached = (values["unreachable"].to_numpy(dtype=float) >= 1.0) & ~np.isnan(
        values["unreachable"].to_numpy(dtype=float)
    )
    unit = kpi.unit_in(lang)
    shown = [
        t("map.not_reached", lang) if gone and np.isnan(v)
        else f"{fmt(v, kpi.decimals, lang)} {unit}".strip()
        for v, gone in zip(z, unreached, strict=True)
    ]  # fmt: skip
    columns = [units["name"].to_numpy(), *[units[p].fillna("").to_numpy()
                                            for p in parents], shown]  # fmt: skip
    lines = ["<b>%{customdata[0]}</b>"]
    lines += [f"%{{customdata[{i + 1}]}}" for i in range(len(parents))]
    lines.append(f"{kpi.name(lang)} : %{{customdata[{len(parents) + 1}]}}")
    if "nearest" in values.columns:
        nearest = values["nearest"].to_numpy(dtype=object)
        columns.append([n if isinstance(n, str) else t("map.not_reached", lang)
                        for n in nearest])  # fmt: skip
        lines.append(f"{t('map.nearest_center', lang)} : "
                     f"%{{customdata[{len(parents) + 2}]}}")  # fmt: skip
    custom = np.column_stack(columns)
    # the worse end dark, as the other indicators' scales
    higher = kpi.better == "higher"
    scale = maps.SEQUENTIAL_DARK_TO_LIGHT if higher else maps.SEQUENTIAL
    return {
        "z": [None if not np.isfinite(v) else float(v) for v in z],
        "customdata": custom.tolist(),
        "hovertemplate": "<br>".join(lines) + "<extra></extra>",
        "colorscale": scale,
        "colorbar_title": unit,
        "unreached": [c for c, gone in zip(units["code"], unreached, strict=True)
                      if gone],  # fmt: skip
    }
