"""Plotly figures of the overview screen: plain functions from data to figures."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashapp.i18n import t
from data.kpi import KPIS

# plotly's built-in "white-bg" style has no tile source; its glyph URL is only
# fetched for text labels, which this map never draws, so nothing leaves the
# machine. (An inline style dict would be re-applied with setStyle on every
# Patch and MapLibre then raises "Map error".)
OFFLINE_STYLE = "white-bg"
DOC_COLORS = {"CNI": "#1f77b4", "PASS": "#ff7f0e", "ACTE": "#2ca02c"}
UTIL_SCALE = [
    [0.0, "#1a9850"],
    [0.4, "#a6d96a"],
    [0.55, "#fee08b"],
    [0.75, "#f46d43"],
    [1.0, "#a50026"],
]
UTIL_RANGE = (40.0, 160.0)


def fmt(value: float, decimals: int = 1, lang: str = "fr") -> str:
    """Format a number the way the language writes it (French: 12 345,6)."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return t("kpi.no_data", lang)
    text = f"{value:,.{decimals}f}"
    if lang == "fr":
        text = text.replace(",", "\u202f").replace(".", ",")
    return text


# Explicit scales: figures go to plotly.js as dicts, and plotly.js reads named
# scales in its own direction ("Blues" dark to light) and knows no "_r" names.
GOOD_TO_BAD = [[0.0, "#1a9850"], [0.5, "#fee08b"], [1.0, "#d73027"]]
BAD_TO_GOOD = [[0.0, "#d73027"], [0.5, "#fee08b"], [1.0, "#1a9850"]]
LIGHT_TO_DARK = [[0.0, "#f7fbff"], [0.5, "#6baed6"], [1.0, "#08306b"]]


def colorscale_for(kpi_id: str) -> list:
    """Low to high values; red is always the worse end, blue when neither is."""
    better = KPIS[kpi_id].higher_is_better
    if better is True:
        return BAD_TO_GOOD
    if better is False:
        return GOOD_TO_BAD
    return LIGHT_TO_DARK


def choropleth_arrays(
    values: pd.DataFrame,
    kpi_id: str,
    units: pd.DataFrame,
    parents: list[str],
    lang: str,
    radius_km: float | None = None,
) -> dict:
    """z values, custom data and hover template for the choropleth trace."""
    kpi = KPIS[kpi_id]
    z = values[kpi_id].to_numpy(dtype=float)
    shown = [
        fmt(v, kpi.decimals, lang) + (f" {kpi.unit_in(lang)}" if kpi.unit else "")
        for v in z
    ]
    parent_cols = [units[p].fillna("").to_numpy() for p in parents]
    custom = (
        np.column_stack([units["name"].to_numpy(), *parent_cols, shown])
        if parent_cols
        else np.column_stack([units["name"].to_numpy(), shown])
    )
    lines = ["<b>%{customdata[0]}</b>"]
    lines += [f"%{{customdata[{i + 1}]}}" for i in range(len(parent_cols))]
    lines.append(
        f"{kpi.name(lang, radius_km)} : %{{customdata[{len(parent_cols) + 1}]}}"
    )
    z_plot = [None if not np.isfinite(v) else float(v) for v in z]
    return {
        "z": z_plot,
        "customdata": custom.tolist(),
        "hovertemplate": "<br>".join(lines) + "<extra></extra>",
        "colorscale": colorscale_for(kpi_id),
        "colorbar": {"title": {"text": kpi.unit_in(lang) or kpi.name(lang)[:12]}},
    }


def center_arrays(centers: pd.DataFrame, lang: str) -> dict:
    """Marker positions, sizes, colours and hover of the centers trace."""
    cap = centers["capacity_week"].to_numpy(dtype=float)
    size = 7 + 18 * np.sqrt(cap / max(cap.max(), 1.0)) if len(cap) else []
    util = centers["utilisation"].to_numpy(dtype=float)
    custom = (
        np.column_stack(
            [
                centers["name"].to_numpy(),
                [fmt(v, 0, lang) for v in cap],
                [fmt(v, 0, lang) for v in centers["demand_week"]],
                [fmt(v, 0, lang) for v in util],
                centers["staff"].to_numpy(),
            ]
        ).tolist()
        if len(centers)
        else []
    )
    template = (
        "<b>%{customdata[0]}</b><br>"
        f"{t('hover.capacity', lang)} : %{{customdata[1]}}<br>"
        f"{t('hover.demand', lang)} : %{{customdata[2]}}<br>"
        f"{t('hover.utilisation', lang)} : %{{customdata[3]}} %<br>"
        f"{t('hover.staff', lang)} : %{{customdata[4]}}<extra></extra>"
    )
    return {
        "lon": centers["lon"].tolist(),
        "lat": centers["lat"].tolist(),
        "marker.size": list(np.round(size, 1)) if len(cap) else [],
        "marker.color": [
            None if not np.isfinite(u) else round(float(u), 1) for u in util
        ],
        "customdata": custom,
        "hovertemplate": template,
        "ids": centers["code"].tolist(),
    }


def map_figure(
    geojson: dict,
    codes: list[str],
    choropleth: dict,
    centers: dict,
    view: dict,
    lang: str,
    basemap_style: str | None = None,
    uirevision: str = "",
    context: tuple[dict, list[str]] | None = None,
    note: str | None = None,
) -> dict:
    """The whole map: grey context layer, choropleth, centers, offline style.

    The grey layer draws ``context`` (GeoJSON and codes) when given, else the same
    units as the choropleth; ``note`` is written in a box at the top of the map.
    Figures are plain dicts: building them through ``plotly.graph_objects`` costs
    more server time than the queries behind them.
    """
    context_geojson, context_codes = context or (geojson, codes)
    grey = {
        "type": "choroplethmap",
        "geojson": context_geojson,
        "locations": context_codes,
        "z": [0] * len(context_codes),
        "featureidkey": "id",
        "colorscale": [[0, "#cfd6dc"], [1, "#cfd6dc"]],
        "showscale": False,
        "marker": {"line": {"width": 0.4, "color": "#ffffff"}},
        "hoverinfo": "skip",
        "name": t("map.outside", lang),
    }
    colorbar = {
        **choropleth["colorbar"],
        "x": 0.0,
        "xanchor": "left",
        "len": 0.6,
        "thickness": 12,
    }
    chor = {
        "type": "choroplethmap",
        "geojson": geojson,
        "locations": codes,
        "featureidkey": "id",
        "z": choropleth["z"],
        "customdata": choropleth["customdata"],
        "hovertemplate": choropleth["hovertemplate"],
        "colorscale": choropleth["colorscale"],
        "colorbar": colorbar,
        "marker": {"line": {"width": 0.6, "color": "#ffffff"}, "opacity": 0.85},
        "name": t("map.title", lang),
    }
    pts = {
        "type": "scattermap",
        "lon": centers["lon"],
        "lat": centers["lat"],
        "mode": "markers",
        "ids": centers["ids"],
        "marker": {
            "size": centers["marker.size"],
            "color": centers["marker.color"],
            "colorscale": UTIL_SCALE,
            "cmin": UTIL_RANGE[0],
            "cmax": UTIL_RANGE[1],
            "showscale": False,
            "opacity": 0.95,
        },
        "customdata": centers["customdata"],
        "hovertemplate": centers["hovertemplate"],
        "name": t("map.centers", lang),
    }
    layout = {
        "map": {"style": basemap_style or OFFLINE_STYLE, **view},
        "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
        "showlegend": False,
        "uirevision": uirevision,
        "clickmode": "event",
    }
    if note:
        layout["annotations"] = map_note(note)
    return {"data": [grey, chor, pts], "layout": layout}


def map_note(note: str | None) -> list[dict]:
    """The map's annotations: ``note`` in a box at the bottom (none for ``None``)."""
    if not note:
        return []
    return [
        {
            "text": note,
            "showarrow": False,
            "x": 0.5,
            "y": 0.01,
            "xref": "paper",
            "yref": "paper",
            "xanchor": "center",
            "yanchor": "bottom",
            "align": "center",
            "bgcolor": "rgba(255,255,255,0.92)",
            "bordercolor": "#6c8ebf",
            "borderwidth": 1,
            "borderpad": 6,
            "font": {"size": 13, "color": "#1f3b5a"},
        }
    ]


def grid_names(
    cells: pd.DataFrame, cell_deg: float, level_name: str, lang: str
) -> pd.DataFrame:
    """Hover names of grid cells (``code``, ``n``): their size and unit count."""
    size = fmt(cell_deg, 2 if cell_deg < 0.1 else 1, lang)
    return pd.DataFrame(
        {
            "code": cells["code"].to_numpy(),
            "name": [
                t("map.cell", lang, size=size, n=fmt(n, 0, lang), level=level_name)
                for n in cells["n"]
            ],
        }
    )


def _chart_layout(height: int, x_title: str, y_title: str | None = None) -> dict:
    axis = {"gridcolor": "#e5e9ee", "zerolinecolor": "#c9d1d9"}
    return {
        "height": height,
        "margin": {"l": 10, "r": 10, "t": 10, "b": 30},
        "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom"},
        "xaxis": {**axis, "title": {"text": x_title}, "automargin": True},
        "yaxis": {**axis, "title": {"text": y_title or ""}, "automargin": True},
        "plot_bgcolor": "#ffffff",
        "paper_bgcolor": "#ffffff",
        "font": {"family": "system-ui, sans-serif", "size": 12},
    }


def capacity_chart(frame: pd.DataFrame, label_col: str, lang: str) -> dict:
    """Horizontal bars: weekly capacity against mean weekly demand."""
    layout = _chart_layout(
        max(320, 16 * len(frame) + 80), t("chart.requests_per_week", lang)
    )
    layout["barmode"] = "overlay"
    if frame.empty:
        layout["annotations"] = [
            {
                "text": t("chart.no_center", lang),
                "showarrow": False,
                "x": 0.5,
                "y": 0.5,
                "xref": "paper",
                "yref": "paper",
            }
        ]
        layout["xaxis"]["visible"] = layout["yaxis"]["visible"] = False
        return {"data": [], "layout": layout}
    frame = frame.sort_values("demand_week")
    labels = frame[label_col].tolist()
    # a capacity of 0 is unknown (not given at import): never shown as overloaded
    over = (
        (frame["demand_week"] > frame["capacity_week"]) & (frame["capacity_week"] > 0)
    ).to_numpy()
    data = [
        {
            "type": "bar",
            "orientation": "h",
            "y": labels,
            "x": frame["capacity_week"].round(1).tolist(),
            "name": t("chart.capacity", lang),
            "marker": {"color": "#c7d3dd"},
        },
        {
            "type": "bar",
            "orientation": "h",
            "y": labels,
            "x": frame["demand_week"].round(1).tolist(),
            "width": 0.45,
            "name": t("chart.demand", lang),
            "marker": {"color": np.where(over, "#d73027", "#4575b4").tolist()},
        },
    ]
    return {"data": data, "layout": layout}


def timeseries_chart(frame: pd.DataFrame, doc_names: dict[str, str], lang: str) -> dict:
    """Weekly requests, one line per document type."""
    data = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": doc_names.get(code, code),
            "x": part["week"].dt.strftime("%Y-%m-%d").tolist(),
            "y": part["requests"].tolist(),
            "line": {"color": DOC_COLORS.get(code), "width": 1.6},
        }
        for code, part in frame.groupby("doc_type", sort=True)
    ]
    layout = _chart_layout(300, t("chart.week", lang), t("chart.requests", lang))
    layout["hovermode"] = "x unified"
    return {"data": data, "layout": layout}
