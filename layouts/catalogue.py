"""The KPI catalogue page: every indicator, its rule, unit, direction and SQL."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from dashapp import ids
from dashapp.i18n import t
from data.kpi import (
    catalogue_frame,
    scenario_catalogue_frame,
    travel_catalogue_frame,
)


def catalogue(lang: str) -> html.Div:
    """Table of KPIs with their rule and SQL (a plain table: eleven rows)."""
    frame = catalogue_frame(lang)
    better = {
        "↑": t("catalogue.higher", lang),
        "↓": t("catalogue.lower", lang),
        "–": t("catalogue.neutral", lang),
    }
    header = html.Thead(
        html.Tr(
            [
                html.Th(t(f"catalogue.{col}", lang))
                for col in ("name", "rule", "unit", "better", "sql")
            ]
        )
    )
    rows = [
        html.Tr(
            [
                html.Td(html.Strong(row.name), style={"minWidth": "12rem"}),
                html.Td(row.rule, style={"minWidth": "16rem"}),
                html.Td(row.unit),
                html.Td(better[row.better]),
                html.Td(
                    html.Code(
                        row.sql,
                        className="small text-break",
                        style={"whiteSpace": "pre-wrap"},
                    )
                ),
            ],
            id={"type": "catalogue-row", "index": row.id},
        )
        for row in frame.itertuples()
    ]
    return html.Div(
        [
            html.H4(t("catalogue.title", lang), className="mt-2"),
            dbc.Alert(t("catalogue.intro", lang), color="light"),
            dbc.Table(
                [header, html.Tbody(rows)],
                id=ids.CATALOGUE_GRID,
                bordered=True,
                hover=True,
                responsive=True,
                size="sm",
                className="bg-white",
            ),
            *_rule_table(scenario_catalogue_frame(lang), "scenario", lang, better),
            *_rule_table(travel_catalogue_frame(lang), "travel", lang, better),
        ]
    )


def _rule_table(frame, kind: str, lang: str, better: dict[str, str]) -> list:
    """KPIs whose rule is said in words (no SQL can express them): the travel-time
    access KPIs, and the scenario KPIs, computed from a plan's assignment."""
    header = html.Thead(
        html.Tr([html.Th(t(f"catalogue.{col}", lang))
                 for col in ("name", "rule", "unit", "better")])
    )  # fmt: skip
    rows = [
        html.Tr(
            [
                html.Td(html.Strong(row.name)),
                html.Td(row.rule),
                html.Td(row.unit),
                html.Td(better[row.better]),
            ],
            id={"type": "catalogue-row", "index": f"{kind}-{row.id}"},
        )  # fmt: skip
        for row in frame.itertuples()
    ]
    return [
        html.H5(t(f"catalogue.{kind}_title", lang), className="mt-4"),
        dbc.Alert(t(f"catalogue.{kind}_intro", lang), color="light"),
        dbc.Table([header, html.Tbody(rows)], bordered=True, hover=True,
                  responsive=True, size="sm", className="bg-white"),
    ]  # fmt: skip
