"""The main screen's road-access card: travel mode and season, and the access KPIs."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from dashapp import ids
from dashapp.i18n import t
from data.kpi import TRAVEL_KPIS
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
