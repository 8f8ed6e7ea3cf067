"""Travel-time access drawn on a map: values per unit, catchments, road lines.

Pure functions on arrays and geometries (no store, no Dash): the main map's
travel-time indicators are :func:`geo.roads.access_kpis` (the one definition,
also the road-access card's and the CLI's) applied to the communes of each unit;
a center's catchment is the communes whose nearest center by travel time it is;
the road network is drawn by class, simplified for display within a budget.

Examples
--------
>>> import numpy as np
>>> v = unit_access([10.0, 50.0, np.inf], [100, 300, 100], ["A", "A", "B"], ["A", "B"])
>>> float(v.loc["A", "mean_minutes"]), float(v.loc["B", "unreachable"])
(40.0, 1.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.roads import ROAD_CLASSES, access_kpis

__all__ = [
    "ROAD_DISPLAY_MAX_COORDS",
    "catchment_borders",
    "road_display",
    "unit_access",
]

#: Coordinates the road layer may send at most (~18 bytes of JSON each, ~1.8 MB):
#: beyond it the least important classes are left out, most important kept.
ROAD_DISPLAY_MAX_COORDS = 100_000


def unit_access(
    minutes: Any, population: Any, groups: Sequence, codes: Sequence[str]
) -> pd.DataFrame:
    """:func:`geo.roads.access_kpis` of the communes of each unit.

    Parameters
    ----------
    minutes, population : array-like
        Per commune: travel time to the nearest center (``inf``: none reached)
        and population (NaN: unknown, left out as ``access_kpis`` does).
    groups : sequence
        Per commune, the code of the unit (or cell) it belongs to.
    codes : sequence of str
        The units wanted, in the order of the rows returned; a unit without
        communes gets NaN everywhere.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``codes``, one column per key of ``access_kpis``. A unit none
        of whose communes reaches a center has ``mean_minutes`` NaN (never 0)
        and ``unreachable`` 1.

    Examples
    --------
    >>> v = unit_access([20.0, 90.0], [100, 100], ["X", "X"], ["X", "Y"])
    >>> float(v.loc["X", "within_30_min"]), float(v.loc["X", "mean_minutes"])
    (0.5, 55.0)
    >>> bool(v.loc["Y"].isna().all())
    True
    """
    t = np.asarray(minutes, dtype=float)
    w = np.asarray(population, dtype=float)
    g = np.asarray(list(groups), dtype=object)
    if not (len(t) == len(w) == len(g)):
        raise ValueError(
            f"minutes, population and groups differ in length: {len(t)}, {len(w)}, "
            f"{len(g)}"
        )
    columns = list(access_kpis([], []))
    rows = {}
    if len(g):
        order = pd.Series(np.arange(len(g))).groupby(pd.Series(g)).indices
        for code, index in order.items():
            rows[code] = access_kpis(t[index], w[index])
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=columns)
    return frame.reindex(list(codes)).astype(float)


def catchment_borders(
    geometries: Any, labels: Sequence, tolerance_deg: float = 0.0, decimals: int = 4
) -> tuple[list, list]:
    """Outlines of the catchments: the communes grouped by the center they reach
    first, each group's boundary as lon and lat lists (``None`` between lines).

    ``labels`` is each geometry's center (``None``: no center reached; those
    communes form one group too, so their edge is outlined). Shared borders
    are drawn once per side.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> two = [box(0, 0, 1, 1), box(1, 0, 2, 1)]
    >>> catchment_borders(two, ["c1", "c1"])[0].count(None)  # one outline
    1
    >>> catchment_borders(two, ["c1", None])[0].count(None)  # one each
    2
    """
    geoms = np.asarray(geometries, dtype=object)
    keys = np.asarray(["\0none" if lab is None else str(lab) for lab in labels])
    if len(geoms) != len(keys):
        raise ValueError(
            f"geometries and labels differ in length: {len(geoms)}, {len(keys)}"
        )
    lon: list = []
    lat: list = []
    for key in dict.fromkeys(keys.tolist()):
        merged = shapely.union_all(geoms[keys == key])
        if tolerance_deg > 0:
            merged = shapely.simplify(merged, tolerance_deg, preserve_topology=True)
        for line in _lines(shapely.boundary(merged)):
            coords = np.round(shapely.get_coordinates(line), decimals)
            lon += coords[:, 0].tolist() + [None]
            lat += coords[:, 1].tolist() + [None]
    return lon, lat


def _lines(geom) -> list:
    if geom is None or geom.is_empty:
        return []
    if hasattr(geom, "geoms"):
        return [g for part in geom.geoms for g in _lines(part)]
    return [geom]


def road_display(
    lines: gpd.GeoDataFrame,
    tolerance_deg: float = 0.001,
    max_coords: int = ROAD_DISPLAY_MAX_COORDS,
    decimals: int = 4,
) -> tuple[dict[str, tuple[list, list]], list[str]]:
    """The road lines to draw, by class: ``{class: (lon, lat)}`` with ``None``
    between lines, and the classes left out to stay within ``max_coords``.

    Lines are simplified (``tolerance_deg``, topology kept); classes are kept
    from the most important (trunk) down while the coordinates fit, so a
    national network shows its main roads and says which classes it leaves out.

    Raises
    ------
    TypeError
        ``lines`` is not a GeoDataFrame.
    ValueError
        ``lines`` are not in EPSG:4326 or have no ``road_class`` column.

    Examples
    --------
    >>> from shapely.geometry import LineString
    >>> roads = gpd.GeoDataFrame({"road_class": ["trunk", "path"]}, geometry=[
    ...     LineString([(0, 0), (1, 0)]), LineString([(0, 1), (0, 2)])], crs=4326)
    >>> drawn, left_out = road_display(roads, max_coords=3)
    >>> drawn["trunk"], left_out
    (([0.0, 1.0, None], [0.0, 0.0, None]), ['path'])
    """
    if not isinstance(lines, gpd.GeoDataFrame):
        raise TypeError(f"'lines' should be GeoDataFrame, got {type(lines)}")
    if lines.crs is None or not lines.crs.equals("EPSG:4326"):
        raise ValueError("road lines to draw should be in EPSG:4326 (lon/lat degrees)")
    if "road_class" not in lines.columns:
        raise ValueError("road lines to draw need a 'road_class' column")
    drawn: dict[str, tuple[list, list]] = {}
    left_out: list[str] = []
    used = 0
    for road_class in ROAD_CLASSES:
        part = lines.geometry.values[(lines["road_class"] == road_class).to_numpy()]
        if not len(part):
            continue
        geoms = shapely.simplify(part, tolerance_deg, preserve_topology=True)
        n = int(shapely.get_num_coordinates(geoms).sum())
        if left_out or used + n > max_coords:
            left_out.append(road_class)
            continue
        used += n
        lon: list = []
        lat: list = []
        for geom in geoms:
            for line in _lines(geom):
                coords = np.round(shapely.get_coordinates(line), decimals)
                lon += coords[:, 0].tolist() + [None]
                lat += coords[:, 1].tolist() + [None]
        drawn[road_class] = (lon, lat)
    return drawn, left_out
