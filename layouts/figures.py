"""Plotly figures of the overview screen: plain functions from data to figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

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


def colorscale_for(kpi_id: str) -> str:
    """Sequential scale; reversed so that 'worse' is always the darker red."""
    better = KPIS[kpi_id].higher_is_better
    if better is True:
        return "RdYlGn"
    if better is False:
        return "RdYlGn_r"
    return "Blues"


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
        fmt(v, kpi.decimals, lang) + (f" {kpi.unit}" if kpi.unit else "") for v in z
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
        "colorbar": {"title": {"text": kpi.unit or kpi.name(lang)[:12]}},
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
) -> go.Figure:
    """The whole map: grey context layer, choropleth, centers, offline style."""
    context = go.Choroplethmap(
        geojson=geojson,
        locations=codes,
        z=[0] * len(codes),
        featureidkey="id",
        colorscale=[[0, "#cfd6dc"], [1, "#cfd6dc"]],
        showscale=False,
        marker={"line": {"width": 0.4, "color": "#ffffff"}},
        hoverinfo="skip",
        name=t("map.outside", lang),
    )
    chor = go.Choroplethmap(
        geojson=geojson,
        locations=codes,
        featureidkey="id",
        z=choropleth["z"],
        customdata=choropleth["customdata"],
        hovertemplate=choropleth["hovertemplate"],
        colorscale=choropleth["colorscale"],
        colorbar={
            **choropleth["colorbar"],
            "x": 0.0,
            "xanchor": "left",
            "len": 0.6,
            "thickness": 12,
        },
        marker={"line": {"width": 0.6, "color": "#ffffff"}, "opacity": 0.85},
        name=t("map.title", lang),
    )
    pts = go.Scattermap(
        lon=centers["lon"],
        lat=centers["lat"],
        mode="markers",
        ids=centers["ids"],
        marker={
            "size": centers["marker.size"],
            "color": centers["marker.color"],
            "colorscale": UTIL_SCALE,
            "cmin": UTIL_RANGE[0],
            "cmax": UTIL_RANGE[1],
            "showscale": False,
            "opacity": 0.95,
        },
        customdata=centers["customdata"],
        hovertemplate=centers["hovertemplate"],
        name=t("map.centers", lang),
    )
    fig = go.Figure([context, chor, pts])
    fig.update_layout(
        map={"style": basemap_style or OFFLINE_STYLE, **view},
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        showlegend=False,
        uirevision=uirevision,
        clickmode="event",
    )
    return fig


def capacity_chart(frame: pd.DataFrame, label_col: str, lang: str) -> go.Figure:
    """Horizontal bars: weekly capacity against mean weekly demand."""
    fig = go.Figure()
    if frame.empty:
        fig.add_annotation(
            text=t("chart.no_center", lang),
            showarrow=False,
            x=0.5,
            y=0.5,
            xref="paper",
            yref="paper",
        )
        fig.update_xaxes(visible=False)
        fig.update_yaxes(visible=False)
    else:
        frame = frame.sort_values("demand_week")
        over = frame["demand_week"] > frame["capacity_week"]
        fig.add_bar(
            y=frame[label_col],
            x=frame["capacity_week"],
            orientation="h",
            name=t("chart.capacity", lang),
            marker_color="#c7d3dd",
        )
        fig.add_bar(
            y=frame[label_col],
            x=frame["demand_week"],
            orientation="h",
            name=t("chart.demand", lang),
            marker_color=np.where(over, "#d73027", "#4575b4").tolist(),
            width=0.45,
        )
    fig.update_layout(
        barmode="overlay",
        height=max(320, 16 * len(frame) + 80),
        margin={"l": 10, "r": 10, "t": 10, "b": 30},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom"},
        xaxis_title=t("chart.requests_per_week", lang),
        template="plotly_white",
    )
    return fig


def timeseries_chart(
    frame: pd.DataFrame, doc_names: dict[str, str], lang: str
) -> go.Figure:
    """Weekly requests, one line per document type."""
    fig = go.Figure()
    for code, part in frame.groupby("doc_type", sort=True):
        fig.add_scatter(
            x=part["week"],
            y=part["requests"],
            mode="lines",
            name=doc_names.get(code, code),
            line={"color": DOC_COLORS.get(code), "width": 1.6},
        )
    fig.update_layout(
        height=300,
        margin={"l": 10, "r": 10, "t": 10, "b": 30},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom"},
        xaxis_title=t("chart.week", lang),
        yaxis_title=t("chart.requests", lang),
        template="plotly_white",
        hovermode="x unified",
    )
    return fig
