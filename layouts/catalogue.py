"""The KPI catalogue page: every indicator, its rule, unit, direction and SQL."""

from __future__ import annotations

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import html

from dashapp import ids
from dashapp.i18n import t
from data.kpi import catalogue_frame


def catalogue(lang: str) -> html.Div:
    """Grid of KPIs with their SQL."""
    frame = catalogue_frame(lang)
    better = {
        "↑": t("catalogue.higher", lang),
        "↓": t("catalogue.lower", lang),
        "–": t("catalogue.neutral", lang),
    }
    frame["better"] = frame["better"].map(better)
    columns = [
        {
            "field": "name",
            "headerName": t("catalogue.name", lang),
            "pinned": "left",
            "width": 220,
            "wrapText": True,
            "autoHeight": True,
        },
        {
            "field": "rule",
            "headerName": t("catalogue.rule", lang),
            "width": 380,
            "wrapText": True,
            "autoHeight": True,
        },
        {"field": "unit", "headerName": t("catalogue.unit", lang), "width": 90},
        {"field": "better", "headerName": t("catalogue.better", lang), "width": 130},
        {
            "field": "sql",
            "headerName": t("catalogue.sql", lang),
            "flex": 1,
            "wrapText": True,
            "autoHeight": True,
            "cellStyle": {
                "fontFamily": "monospace",
                "fontSize": "11px",
                "lineHeight": "1.35",
                "whiteSpace": "pre-wrap",
            },
        },
    ]
    return html.Div(
        [
            html.H4(t("catalogue.title", lang), className="mt-2"),
            dbc.Alert(t("catalogue.intro", lang), color="light"),
            dag.AgGrid(
                id=ids.CATALOGUE_GRID,
                rowData=frame.to_dict("records"),
                columnDefs=columns,
                defaultColDef={"resizable": True, "sortable": True},
                style={"height": "75vh"},
                dashGridOptions={"domLayout": "normal"},
            ),
        ]
    )
