"""Plotly figures of the overview screen: plain functions from data to figures."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashapp.i18n import number, t
from data.kpi import KPIS
from layouts import maps

# the document types' lines (Okabe-Ito: told apart with a colour-vision deficiency)
DOC_COLORS = {"CNI": "#0072B2", "PASS": "#E69F00", "ACTE": "#CC79A7"}


def fmt(value: float, decimals: int = 1, lang: str = "fr") -> str:
    """Format a number the way the language writes it (French: 12 345,6).

    The one rule is :func:`dashapp.i18n.number`, which the printed briefs use too.
    """
    return number(value, decimals, lang)


def colorscale_for(kpi_id: str) -> list:
    """Low to high values; the worse end is always the dark one, blue shades when
    neither end is worse (explicit scales: plotly.js reads named scales in its own
    direction and knows no "_r" names)."""
    better = KPIS[kpi_id].higher_is_better
    if better is True:
        return maps.SEQUENTIAL_DARK_TO_LIGHT
    if better is False:
        return maps.SEQUENTIAL
    return maps.LIGHT_TO_DARK


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
        "colorbar_title": kpi.unit_in(lang) or kpi.name(lang)[:12],
    }


def center_layer(centers: pd.DataFrame, lang: str) -> dict:
    """The centers as a site layer: size by capacity, colour by utilisation."""
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
    return maps.site_layer(
        centers["lon"].tolist(),
        centers["lat"].tolist(),
        colors=[None if not np.isfinite(u) else round(float(u), 1) for u in util],
        sizes=[float(v) for v in np.round(size, 1)] if len(cap) else [],
        customdata=custom,
        hovertemplate=template,
        ids=centers["code"].tolist(),
        name=t("map.centers", lang),
        colorscale=maps.UTIL_SCALE,
        crange=maps.UTIL_RANGE,
        colorbar_title=f"{t('hover.utilisation', lang)} (%)",
    )


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


def chart_layout(height: int, x_title: str, y_title: str | None = None) -> dict:
    """A chart's plain white layout with titled axes, legend on top."""
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
    layout = chart_layout(
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
            "marker": {
                "color": np.where(
                    over, maps.DIVERGING[-1][1], maps.DIVERGING[0][1]
                ).tolist()
            },
        },
    ]
    return {"data": data, "layout": layout}


def timeseries_chart(frame: pd.DataFrame, doc_names: dict[str, str], lang: str) -> dict:
    """Weekly requests, one line per document type; a message instead of empty
    axes when the selection has none (a country imported without operations)."""
    if frame.empty or not frame["requests"].fillna(0).any():
        return maps.message_figure(t("chart.no_requests", lang), 300)
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
    layout = chart_layout(300, t("chart.week", lang), t("chart.requests", lang))
    layout["hovermode"] = "x unified"
    return {"data": data, "layout": layout}
