"""What the main map draws, whatever the dataset's levels and size.

A level is drawn as its units while they are at most
:data:`data.views.MAX_MAP_UNITS` in the area shown (:func:`data.views.map_scope`).
Beyond that the map groups them: by a coarser level when the dataset has a useful
one, else into square grid cells whose value sums their communes' measures like
any unit's. Once the user zooms in far enough that the units in view (plus a
margin) fit in the budget, those units are drawn, simplified to about a pixel at
that zoom; a grid follows the view too, with cells as fine as the budget allows.

Plain functions of the dataset context, the scope and the view: no Dash here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pandas as pd

from dashapp import services
from data import kpi as kpi_mod
from data import views
from geo.display import (
    MapView,
    grid_codes,
    grid_geojson,
    grid_size,
    in_box,
    to_geojson,
    tolerance_for_zoom,
)

# Cells a grid may have: a square is ~100 bytes of GeoJSON plus its hover text.
MAX_GRID_CELLS = 1_500


@dataclass(frozen=True)
class MapLayer:
    """The units the choropleth draws and how communes group into them.

    ``kind`` is ``"units"`` (units of the level asked: the whole scope, or those in
    view when ``in_view``), ``"level"`` (units of the coarser ``scope.group_level``)
    or ``"grid"`` (cells of ``cell_deg`` degrees). ``names`` has ``code``, then
    ``name`` and the ``parent_<level>`` names shown on hover (units), or ``n`` the
    units in each cell (grid); ``groups`` maps each commune id to its cell.
    """

    kind: str
    scope: views.MapScope
    level: int
    names: pd.DataFrame
    in_view: bool = False
    groups: pd.Series | None = None
    cell_deg: float | None = None
    tolerance_deg: float | None = None

    @property
    def codes(self) -> list[str]:
        return self.names["code"].tolist()

    @property
    def key(self) -> str:
        """Short text that differs when the layer draws other shapes.

        The browser keeps it, so a move of the map that leaves the drawing as it
        is sends nothing back.
        """
        digest = hashlib.blake2b(",".join(self.codes).encode(), digest_size=8)
        return (
            ":".join(
                map(str, (self.kind, self.level, self.cell_deg, self.tolerance_deg))
            )
            + f":{digest.hexdigest()}"
        )


def map_layer(
    ctx: views.DatasetContext, scope: views.MapScope, view: MapView | None = None
) -> MapLayer:
    """What to draw for ``scope``, seen through ``view`` (``None``: the whole area).

    The view only matters for a grouped scope: it is how the user gets to the
    units themselves without a filter level to narrow the area.
    """
    if not scope.grouped:
        return MapLayer(
            "units",
            scope,
            scope.level,
            views.parent_names(ctx, scope.level, scope.within),
        )
    units = views.scope_units(ctx, scope.level, scope.within)
    if view is not None:
        units = units[in_box(units.geometry.bounds.to_numpy(), view.expanded())]
        if len(units) <= views.MAX_MAP_UNITS:
            names = views.parent_names(ctx, scope.level, scope.within)
            names = names[names["code"].isin(set(units["code"]))]
            return MapLayer(
                "units",
                scope,
                scope.level,
                names.reset_index(drop=True),
                in_view=True,
                tolerance_deg=tolerance_for_zoom(view.zoom),
            )
    if scope.group_level is not None:
        names = views.parent_names(ctx, scope.group_level, scope.within)
        return MapLayer("level", scope, scope.group_level, names)
    return _grid_layer(ctx, scope, units, view is not None)


def _grid_layer(ctx, scope, units, in_view: bool) -> MapLayer:
    x, y = units["rep_lon"].to_numpy(float), units["rep_lat"].to_numpy(float)
    size = grid_size(x, y, MAX_GRID_CELLS)
    cell_of_unit = pd.Series(grid_codes(x, y, size), index=units["code"].to_numpy())
    counts = cell_of_unit.value_counts().sort_index()
    # communes go to cells through their ancestor at the level asked (themselves
    # for communes); those of units left out (out of view) belong to none
    groups = ctx.group_of_communes(scope.level).map(cell_of_unit).dropna()
    names = pd.DataFrame({"code": counts.index.to_numpy(), "n": counts.to_numpy()})
    return MapLayer(
        "grid", scope, scope.level, names, in_view, groups=groups, cell_deg=size
    )


def layer_values(
    url: str, ctx: views.DatasetContext, resolved, layer: MapLayer
) -> pd.DataFrame:
    """KPI values of the units (or cells) the layer draws, in its order, for
    resolved filters (:func:`dashapp.filters.resolve`). Units take their level's
    values memoised (:func:`dashapp.services.level_kpis`), so an indicator or area
    change does not sum the communes again."""
    if layer.kind == "grid":
        measures = services.measures_for(url, ctx, resolved)
        values = kpi_mod.kpi_values(kpi_mod.aggregate(measures, layer.groups))
    else:
        values = views.scope_kpis(
            ctx,
            services.level_kpis(url, ctx, resolved, layer.level),
            layer.level,
            resolved.selection,
            layer.scope.within,
        )
    return values.reindex(layer.codes)


def layer_geojson(url: str, ctx: views.DatasetContext, layer: MapLayer) -> dict:
    """GeoJSON of what the layer draws (memoised for whole levels and selections)."""
    if layer.kind == "grid":
        return grid_geojson(layer.codes)
    if layer.in_view:
        units = views.scope_units(ctx, layer.level, layer.scope.within)
        units = units[units["code"].isin(set(layer.codes))]
        tolerance = max(
            layer.tolerance_deg, services.display_tolerance(ctx, layer.level) / 4
        )
        return to_geojson(
            units, "code", tolerance_deg=tolerance, max_coords=services.MAX_MAP_COORDS
        )
    if layer.scope.within is None:
        return services.level_geojson(url, ctx.info.id, layer.level)
    return services.within_geojson(url, ctx.info.id, layer.level, layer.scope.within)


def grouped_count(layer: MapLayer) -> int:
    """Units of the level asked that the layer draws (``n`` of the scope if all)."""
    return len(layer.names) if layer.in_view else layer.scope.n_units


def unit_mean_distance(
    ctx: views.DatasetContext, communes: pd.DataFrame | None, codes: list[str]
) -> list[float | None]:
    """Demand-weighted mean km to the assigned center in each top-level unit
    ``codes`` of a saved result's communes table (``None``: no served demand).

    The values the small maps of a comparison colour their units by.
    """
    if communes is None or not {"commune_id", "distance", "demand"} <= set(communes):
        return [None] * len(codes)
    top = ctx.communes().set_index("code")["ancestor_0"]
    frame = pd.DataFrame(
        {
            "unit": communes["commune_id"].astype(str).map(top).to_numpy(),
            "km": pd.to_numeric(communes["distance"], errors="coerce").to_numpy(),
            "w": pd.to_numeric(communes["demand"], errors="coerce").to_numpy(),
        }
    ).dropna()
    frame = frame[frame["w"] > 0]
    frame["wkm"] = frame["w"] * frame["km"]
    sums = frame.groupby("unit")[["wkm", "w"]].sum()
    mean = (sums["wkm"] / sums["w"]).to_dict()
    return [mean.get(code) for code in codes]
