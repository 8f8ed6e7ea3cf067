"""Travel-time access on the main map: values of the units drawn, catchment
outlines and the road network to draw, memoised per road network version.

Plain arguments, no Dash: the map callback asks here, the values come from
:func:`geo.road_access.travel_access` (each commune's minutes to its nearest open
center, the road-access card's and the CLI's input) and the one KPI rule
:func:`geo.roads.access_kpis` through :mod:`geo.access_map`.
"""

from __future__ import annotations

import json

import pandas as pd

from dashapp import services
from dashapp.cache import cache
from dashapp.services.maps import MapLayer
from data import roads as road_store
from data import views
from geo import access_map

#: Display simplification of catchment outlines and roads (degrees, ~100 m).
OUTLINE_TOLERANCE_DEG = 0.001


def road_stamp(url: str, dataset_id: int) -> tuple | None:
    """What travel times depend on besides the points: the network's version and
    its speed profile; None when the dataset has no roads."""
    info = road_store.network_info(services.get_store(url), dataset_id)
    if info is None:
        return None
    return info["version"], json.dumps(info["profile"], sort_keys=True)


def commune_travel(url: str, dataset_id: int, mode: str, season: str) -> dict | None:
    """Each commune's minutes to its nearest open center and that center
    (:func:`geo.road_access.travel_access`); None without roads."""
    from geo.road_access import travel_access

    return travel_access(
        services.get_store(url), dataset_id, mode=mode, season=season
    )


def layer_access(
    url: str,
    ctx: views.DatasetContext,
    layer: MapLayer,
    selection: str | None,
    mode: str,
    season: str,
) -> pd.DataFrame | None:
    """The access indicators of each unit (or cell) the map layer draws, in its
    order, plus ``nearest`` (the center's name) when the layer draws communes.

    Units outside ``selection`` get NaN, as the other indicators' do. None when
    the dataset has no roads.
    """
    found = commune_travel(url, ctx.info.id, mode, season)
    if found is None:
        return None
    ids = pd.Index(found["commune_ids"])
    if layer.kind == "grid":
        groups = layer.groups
    else:
        groups = ctx.group_of_communes(layer.level)
    labels = groups.reindex(ids).to_numpy()
    values = access_map.unit_access(
        found["minutes"], found["population"], labels, layer.codes
    )
    if selection is not None and selection != layer.scope.within:
        inside = set(groups.reindex(ctx.communes_under(selection)).dropna())
        values.loc[~values.index.isin(inside)] = float("nan")
    if layer.kind == "units" and layer.level == ctx.commune_level:
        names = dict(zip(ctx.centers["code"], ctx.centers["name"], strict=True))
        nearest = pd.Series(
            [names.get(c) if c is not None else None for c in found["nearest_center"]],
            index=found["communes"],
        )
        values["nearest"] = nearest.reindex(values.index).to_numpy()
    return values


def catchments(url: str, dataset_id: int, mode: str, season: str) -> tuple | None:
    """Outlines of every center's catchment by travel time (lon and lat lists);
    None without roads."""
    stamp = road_stamp(url, dataset_id)
    if stamp is None:
        return None
    return _catchments(url, dataset_id, stamp, mode, season)


@cache.memoize()
def _catchments(url: str, dataset_id: int, stamp: tuple, mode: str, season: str):
    found = commune_travel(url, dataset_id, mode, season)
    if found is None:
        return None
    ctx = services.context(url, dataset_id)
    communes = ctx.communes().set_index("id")
    geoms = communes.geometry.reindex(found["commune_ids"]).to_numpy()
    return access_map.catchment_borders(
        geoms, found["nearest_center"], tolerance_deg=OUTLINE_TOLERANCE_DEG
    )


def roads(url: str, dataset_id: int) -> tuple | None:
    """The road lines to draw by class and the classes left out
    (:func:`geo.access_map.road_display`); None without roads."""
    stamp = road_stamp(url, dataset_id)
    if stamp is None:
        return None
    return _roads(url, dataset_id, stamp[0])


@cache.memoize()
def _roads(url: str, dataset_id: int, version: str):
    lines = road_store.road_lines(services.get_store(url), dataset_id)
    if lines is None:
        return None
    return access_map.road_display(lines, tolerance_deg=OUTLINE_TOLERANCE_DEG)
