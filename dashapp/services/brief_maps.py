"""Static maps of the briefs, drawn with matplotlib (no browser, no tiles).

Each map is drawn in the area's azimuthal equidistant CRS
(:func:`geo.distance.local_crs`), where a kilometre is a kilometre in every
direction from the centre: the scale bar is true and north is up. PNG bytes carry
no date, so the same data draw the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")  # before pyplot: no display, ever

import geopandas as gpd  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.colors import Normalize  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from dashapp import palette  # noqa: E402
from dashapp.i18n import number, t  # noqa: E402
from data import views  # noqa: E402
from data.kpi import KPIS  # noqa: E402
from geo.distance import local_crs  # noqa: E402

DPI = 150
NO_DATA = "#d9d9d9"
# the screen's colours (dashapp.palette): utilisation blue with room, orange past
# capacity; sites by status; distance light near, dark far
UTIL_CMAP = palette.matplotlib_cmap(palette.UTIL_SCALE, "utilisation")
UTIL_RANGE = palette.UTIL_RANGE
STATUS_COLORS = {s: palette.SITE_COLORS[s] for s in ("kept", "opened", "closed")}
DISTANCE_CMAP = palette.matplotlib_cmap(palette.SEQUENTIAL, "distance")


def kpi_cmap(kpi_id: str):
    """The screen's scale of a KPI: the worse end dark, blues when neither is."""
    better = KPIS[kpi_id].higher_is_better
    scale = {True: palette.SEQUENTIAL_DARK_TO_LIGHT, False: palette.SEQUENTIAL}
    return palette.matplotlib_cmap(scale.get(better, palette.LIGHT_TO_DARK), kpi_id)


def _communes(ctx: views.DatasetContext, area: str | None) -> gpd.GeoDataFrame:
    communes = ctx.communes()
    if area is not None:
        level = int(ctx.unit(area)["level"])
        communes = communes[communes[f"ancestor_{level}"] == area]
    return communes


def _project(frame: gpd.GeoDataFrame):
    bounds = frame.total_bounds
    lon = np.array([bounds[0], bounds[2]])
    lat = np.array([bounds[1], bounds[3]])
    crs = local_crs(lon, lat)
    return frame.to_crs(crs), crs


def _points(lon, lat, crs) -> np.ndarray:
    pts = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs="EPSG:4326").to_crs(crs)
    return np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()])


def _nice_km(span_km: float) -> float:
    """A round scale-bar length about a fifth of the map's width."""
    target = max(span_km / 5.0, 0.1)
    power = 10 ** np.floor(np.log10(target))
    for step in (5, 2, 1):
        if step * power <= target:
            return float(step * power)
    return float(power)


def _decorate(ax, lang: str) -> None:
    """Scale bar (bottom left) and north arrow (top right), in axes units."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    km = _nice_km((x1 - x0) / 1000.0)
    length = km * 1000.0
    bx, by = x0 + 0.04 * (x1 - x0), y0 + 0.05 * (y1 - y0)
    ax.plot([bx, bx + length], [by, by], color="black", linewidth=3,
            solid_capstyle="butt")  # fmt: skip
    ax.plot([bx, bx], [by - 0.008 * (y1 - y0), by + 0.008 * (y1 - y0)],
            color="black", linewidth=1)  # fmt: skip
    ax.text(bx + length / 2, by + 0.02 * (y1 - y0),
            f"{number(km, 0 if km >= 1 else 1, lang)} km",
            ha="center", va="bottom", fontsize=7)  # fmt: skip
    ax.annotate(
        t("brief.map.north", lang),
        xy=(0.95, 0.95),
        xytext=(0.95, 0.83),
        xycoords="axes fraction",
        ha="center",
        va="center",
        fontsize=9,
        fontweight="bold",
        arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.5},
    )


def _png(fig) -> tuple[bytes, float]:
    width, height = fig.get_size_inches()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue(), float(height / width)


def _frame_axes(ax, projected: gpd.GeoDataFrame) -> None:
    minx, miny, maxx, maxy = projected.total_bounds
    pad = 0.04 * max(maxx - minx, maxy - miny)
    ax.set_xlim(minx - pad, maxx + pad)
    ax.set_ylim(miny - pad, maxy + pad)
    ax.set_aspect("equal")
    ax.set_axis_off()


def area_map(
    ctx: views.DatasetContext,
    area: str | None,
    values: pd.Series,
    kpi_id: str,
    centers: pd.DataFrame,
    lang: str,
    radius_km: float,
) -> tuple[bytes, float]:
    """Communes coloured by ``values`` (by commune code), centers by capacity and
    utilisation; legend, scale bar, north arrow. PNG bytes and height/width."""
    communes = _communes(ctx, area)
    projected, crs = _project(communes)
    z = values.reindex(communes["code"].to_numpy()).to_numpy(dtype=float)
    fig, ax = plt.subplots(figsize=(7.0, 5.2))
    fig.subplots_adjust(left=0.01, right=0.99, top=0.99, bottom=0.01)
    finite = np.isfinite(z)
    cmap = plt.get_cmap(kpi_cmap(kpi_id))
    norm = Normalize(*(np.nanpercentile(z[finite], [2, 98]) if finite.any()
                       else (0.0, 1.0)))  # fmt: skip
    colors = [cmap(norm(v)) if np.isfinite(v) else NO_DATA for v in z]
    projected.plot(ax=ax, color=colors, edgecolor="white", linewidth=0.3)
    _frame_axes(ax, projected)
    scalar = plt.cm.ScalarMappable(norm=norm, cmap=cmap)
    bar = fig.colorbar(scalar, ax=ax, shrink=0.55, pad=0.01, fraction=0.04)
    unit = KPIS[kpi_id].unit_in(lang)
    if unit:  # the KPI's name is in the caption; the unit heads the scale
        bar.ax.set_title(unit, fontsize=7)
    bar.ax.tick_params(labelsize=6)
    bar.ax.yaxis.set_major_formatter(
        matplotlib.ticker.FuncFormatter(lambda v, _: number(v, 0 if abs(v) >= 10
                                                            else 1, lang))  # fmt: skip
    )
    if not centers.empty:
        xy = _points(centers["lon"], centers["lat"], crs)
        capacity = centers["capacity_week"].to_numpy(dtype=float)
        size = 15 + 120 * np.sqrt(np.nan_to_num(capacity) / max(np.nanmax(capacity), 1))
        util = centers["utilisation"].to_numpy(dtype=float)
        unorm = Normalize(*UTIL_RANGE)
        ucmap = plt.get_cmap(UTIL_CMAP)
        ucolors = [ucmap(unorm(u)) if np.isfinite(u) else "white" for u in util]
        ax.scatter(xy[:, 0], xy[:, 1], s=size, c=ucolors, edgecolors="black",
                   linewidths=0.7, zorder=3)  # fmt: skip
        handles = [
            Line2D([], [], marker="o", linestyle="", markerfacecolor=ucmap(unorm(u)),
                   markeredgecolor="black", markersize=7,
                   label=t("brief.map.util", lang, pct=number(u, 0, lang)))
            for u in (60.0, 100.0, 140.0)
        ]  # fmt: skip
        handles.append(Line2D([], [], linestyle="", label=t("brief.map.size", lang)))
        ax.legend(handles=handles, loc="lower right", fontsize=6.5, frameon=True,
                  title=t("brief.map.centers", lang), title_fontsize=7)  # fmt: skip
    _decorate(ax, lang)
    return _png(fig)


def _distance_map(ax, projected, distances, norm, sites_xy, statuses):
    cmap = plt.get_cmap(DISTANCE_CMAP)
    colors = [cmap(norm(v)) if np.isfinite(v) else NO_DATA for v in distances]
    projected.plot(ax=ax, color=colors, edgecolor="white", linewidth=0.25)
    for status, color in STATUS_COLORS.items():
        mask = statuses == status
        if mask.any():
            ax.scatter(sites_xy[mask, 0], sites_xy[mask, 1], s=22, c=color,
                       marker="X" if status == "closed" else "o",
                       edgecolors="black", linewidths=0.5, zorder=3)  # fmt: skip


def _scenario_panels(
    ctx, area, panels: Sequence[tuple[str, pd.Series, pd.DataFrame, np.ndarray]],
    lang: str,
    units: Sequence[str] | None = None,
) -> list[tuple[bytes, float, str]]:
    """One small map per panel (caption, distance by commune code, sites, status
    mask), the panels of one unit (``units``: km, or min for a travel-time run)
    at one colour scale so they compare."""
    communes = _communes(ctx, area)
    projected, crs = _project(communes)
    codes = communes["code"].astype(str).to_numpy()
    units = list(units or ["km"] * len(panels))
    norms = {}
    for unit in set(units):
        all_values = np.concatenate(
            [d.reindex(codes).to_numpy(dtype=float)
             for (_, d, _, _), u in zip(panels, units, strict=True) if u == unit]
        )  # fmt: skip
        finite = all_values[np.isfinite(all_values)]
        top = float(np.percentile(finite, 98)) if finite.size else 1.0
        norms[unit] = Normalize(0.0, top)
    out = []
    for (caption, distances, sites, statuses), unit in zip(panels, units, strict=True):
        norm = norms[unit]
        fig, ax = plt.subplots(figsize=(3.6, 3.4))
        fig.subplots_adjust(left=0.01, right=0.99, top=0.99, bottom=0.2)
        xy = _points(sites["lon"], sites["lat"], crs) if len(sites) else np.empty((0, 2))
        _distance_map(ax, projected, distances.reindex(codes).to_numpy(dtype=float),
                      norm, xy, statuses)  # fmt: skip
        _frame_axes(ax, projected)
        cax = fig.add_axes([0.15, 0.12, 0.7, 0.03])
        bar = fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=DISTANCE_CMAP),
                           cax=cax, orientation="horizontal")  # fmt: skip
        key = "brief.map.distance.min" if unit == "min" else "brief.map.distance"
        bar.set_label(t(key, lang), fontsize=6)
        bar.ax.tick_params(labelsize=5.5)
        handles = [
            Line2D([], [], marker="X" if s == "closed" else "o", linestyle="",
                   markerfacecolor=c, markeredgecolor="black", markersize=5,
                   label=t(f"brief.change.{s}", lang))
            for s, c in STATUS_COLORS.items()
        ]  # fmt: skip
        ax.legend(handles=handles, loc="lower right", fontsize=5.5, frameon=True)
        _decorate(ax, lang)
        png, aspect = _png(fig)
        out.append((png, aspect, caption))
    return out


def _sites_inside(ctx, area, centers: pd.DataFrame) -> pd.DataFrame:
    if area is None or centers.empty:
        return centers
    communes = _communes(ctx, area)
    bounds = communes.total_bounds
    return centers[
        centers["lon"].between(bounds[0], bounds[2])
        & centers["lat"].between(bounds[1], bounds[3])
    ]


def scenario_maps(ctx, area, record, communes: pd.DataFrame, lang: str):
    """Before and after: communes by distance (km, or travel minutes for a run
    measured so) to their center, same colour scale."""
    table = communes.set_index(communes["commune_id"].astype(str))
    sites = _sites_inside(ctx, area, record.centers)
    sites = sites[sites["status"].isin(list(STATUS_COLORS))]
    status = sites["status"].to_numpy()
    before_status = np.where(status == "opened", "", np.where(status == "closed",
                                                             "kept", status))  # fmt: skip
    return _scenario_panels(
        ctx,
        area,
        [
            # a run saved without today's assignment draws today as no data
            (t("brief.map.before", lang),
             table.get("distance_before", pd.Series(dtype=float)), sites,
             before_status),
            (t("brief.map.after", lang), table["distance"], sites, status),
        ],
        lang,
        [_unit(record)] * 2,
    )  # fmt: skip


def comparison_maps(ctx, area, records, labels: Sequence[str], lang: str):
    """Each scenario's proposal, at one colour scale per unit (km or min)."""
    panels = []
    for label, record in zip(labels, records, strict=True):
        table = record.communes.set_index(record.communes["commune_id"].astype(str))
        sites = _sites_inside(ctx, area, record.centers)
        sites = sites[sites["status"].isin(list(STATUS_COLORS))]
        panels.append((label, table["distance"], sites, sites["status"].to_numpy()))
    return _scenario_panels(ctx, area, panels, lang, [_unit(r) for r in records])


def _unit(record) -> str:
    """The unit of a saved run's distances: min for a travel time, else km."""
    from data.kpi import ACCESS_MEASURES, measure_of

    return ACCESS_MEASURES[measure_of(record.params)].unit
