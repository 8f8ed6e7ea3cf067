"""Distances between communes and sites: great-circle, cached, or user-supplied.

Great-circle distances are :func:`geo.distance.distance_matrix_km` (haversine on
the mean Earth radius), here memoised. A user cost matrix (e.g. travel minutes from a routing
engine) can replace them; pairs missing from it are handled explicitly: an
error, forbidden (``inf``) or a stated fill value, never a silent zero.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geo.distance import distance_matrix_km

__all__ = [
    "DistanceCache",
    "load_cost_matrix_csv",
    "representative_points",
]


class DistanceCache:
    """Memoise distance matrices keyed by the coordinates' bytes.

    Parameters
    ----------
    max_entries : int
        Least-recently-used matrices beyond this count are dropped.

    Examples
    --------
    >>> cache = DistanceCache()
    >>> d1 = cache.haversine([0.0], [0.0], [1.0], [0.0])
    >>> d2 = cache.haversine([0.0], [0.0], [1.0], [0.0])
    >>> d1 is d2
    True
    """

    def __init__(self, max_entries: int = 8):
        self.max_entries = max_entries
        self._store: OrderedDict[str, np.ndarray] = OrderedDict()

    @staticmethod
    def _key(*arrays: Any) -> str:
        h = hashlib.blake2b(digest_size=16)
        for a in arrays:
            arr = np.ascontiguousarray(np.asarray(a, dtype=float))
            h.update(str(arr.shape).encode())
            h.update(arr.tobytes())
        return h.hexdigest()

    def haversine(self, lon_a: Any, lat_a: Any, lon_b: Any, lat_b: Any) -> np.ndarray:
        """Cached :func:`geo.distance.distance_matrix_km`; the result is read-only."""
        key = self._key(lon_a, lat_a, lon_b, lat_b)
        if key in self._store:
            self._store.move_to_end(key)
            return self._store[key]
        d = distance_matrix_km(lon_a, lat_a, lon_b, lat_b)
        d.flags.writeable = False
        self._store[key] = d
        if len(self._store) > self.max_entries:
            self._store.popitem(last=False)
        return d

    def clear(self) -> None:
        """Forget every cached matrix."""
        self._store.clear()


def representative_points(
    gdf: Any,
    population_points: Any = None,
    population_column: str = "population",
) -> Any:
    """One point per polygon, as lon/lat: population-weighted when possible.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Commune polygons, any CRS.
    population_points : geopandas.GeoDataFrame, optional
        Points (e.g. population grid cells or buildings) with a
        ``population_column``. Communes containing points get their
        population-weighted centroid; the others get
        ``representative_point()``, a point guaranteed inside the polygon.
    population_column : str
        Column of weights in ``population_points``.

    Returns
    -------
    geopandas.GeoSeries
        Points in EPSG:4326, indexed like ``gdf``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> communes = gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1)], crs=4326)
    >>> pts = representative_points(communes)
    >>> pts.iloc[0].within(communes.geometry.iloc[0])
    True
    """
    import geopandas as gpd

    if not isinstance(gdf, gpd.GeoDataFrame):
        raise TypeError(f"'gdf' should be GeoDataFrame, got {type(gdf)}")
    if gdf.crs is None:
        raise ValueError("'gdf' has no CRS; set it (e.g. gdf.set_crs(4326)) first")
    # representative_point is computed in the data's CRS: it stays inside the
    # polygon whatever the CRS, and reprojection keeps it inside.
    rep = gdf.geometry.representative_point().to_crs(4326)
    if population_points is None:
        return rep
    if not isinstance(population_points, gpd.GeoDataFrame):
        raise TypeError(
            f"'population_points' should be GeoDataFrame, got {type(population_points)}"
        )
    if population_column not in population_points.columns:
        raise ValueError(f"'population_points' has no column {population_column!r}")
    pts = population_points.to_crs(gdf.crs)[[population_column, "geometry"]]
    joined = gpd.sjoin(pts, gdf[["geometry"]], how="inner", predicate="within")
    joined = joined[joined[population_column] > 0]
    if joined.empty:
        return rep
    ll = joined.geometry.to_crs(4326)
    # Average on the unit sphere so that longitudes near +/-180 average correctly.
    lon, lat = np.radians(ll.x.to_numpy()), np.radians(ll.y.to_numpy())
    w = joined[population_column].to_numpy(float)
    frame = (
        pd.DataFrame(
            {
                "x": w * np.cos(lat) * np.cos(lon),
                "y": w * np.cos(lat) * np.sin(lon),
                "z": w * np.sin(lat),
                "key": joined["index_right"].to_numpy(),
            }
        )
        .groupby("key")[["x", "y", "z"]]
        .sum()
    )
    wlon = np.degrees(np.arctan2(frame["y"], frame["x"]))
    wlat = np.degrees(np.arctan2(frame["z"], np.hypot(frame["x"], frame["y"])))
    out = rep.copy()
    out.loc[frame.index] = gpd.points_from_xy(wlon, wlat, crs=4326)
    return out


def load_cost_matrix_csv(
    path: str | Path,
    origin_ids: Sequence[Any],
    destination_ids: Sequence[Any],
    origin_column: str = "origin",
    destination_column: str = "destination",
    cost_column: str = "cost",
    missing: str | float = "error",
) -> np.ndarray:
    """Read a long-format cost CSV (one row per origin/destination pair).

    Parameters
    ----------
    path : str or Path
        CSV with at least the three named columns, e.g. travel minutes
        computed by a routing engine.
    origin_ids, destination_ids : sequence
        The ids, in the order of the rows and columns wanted.
    missing : {"error", "forbid"} or float
        What to do with pairs absent from the file (or with an empty cost):
        ``"error"`` raises and lists a few, ``"forbid"`` sets ``inf`` (the
        models never assign such a pair), a number fills them with it.

    Returns
    -------
    ndarray, shape (len(origin_ids), len(destination_ids))

    Examples
    --------
    >>> import io
    >>> csv = io.StringIO("origin,destination,cost\\na,x,12\\na,y,30\\nb,x,7\\n")
    >>> load_cost_matrix_csv(csv, ["a", "b"], ["x", "y"], missing="forbid")
    array([[12., 30.],
           [ 7., inf]])
    """
    if not (missing in ("error", "forbid") or isinstance(missing, (int, float))):
        raise ValueError(
            f"'missing' should be 'error', 'forbid' or a number, got {missing!r}"
        )
    table = pd.read_csv(path, dtype={origin_column: str, destination_column: str})
    for col in (origin_column, destination_column, cost_column):
        if col not in table.columns:
            raise ValueError(
                f"cost CSV has no column {col!r}; columns: {list(table.columns)}"
            )
    costs = pd.to_numeric(table[cost_column], errors="coerce")
    if (costs < 0).any():
        bad = table.loc[costs < 0].iloc[0]
        raise ValueError(
            f"negative cost {bad[cost_column]} for pair "
            f"({bad[origin_column]}, {bad[destination_column]})"
        )
    o_pos = {str(k): i for i, k in enumerate(origin_ids)}
    d_pos = {str(k): j for j, k in enumerate(destination_ids)}
    rows = table[origin_column].map(o_pos)
    cols = table[destination_column].map(d_pos)
    keep = rows.notna() & cols.notna() & costs.notna()
    out = np.full((len(o_pos), len(d_pos)), np.nan)
    out[rows[keep].astype(int).to_numpy(), cols[keep].astype(int).to_numpy()] = costs[
        keep
    ].to_numpy(float)
    holes = np.isnan(out)
    if holes.any():
        if missing == "error":
            oi, dj = np.nonzero(holes)
            examples = ", ".join(
                f"({origin_ids[a]}, {destination_ids[b]})"
                for a, b in zip(oi[:5], dj[:5], strict=True)
            )
            raise ValueError(
                f"cost CSV is missing {int(holes.sum())} origin/destination pairs, "
                f"e.g. {examples}; pass missing='forbid' to disallow them"
            )
        out[holes] = np.inf if missing == "forbid" else float(missing)
    return out
