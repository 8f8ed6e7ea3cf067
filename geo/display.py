"""Display geometry: topology-preserving simplification, GeoJSON for the map, views.

Neighbouring polygons are simplified together as one coverage
(:func:`shapely.coverage_simplify`), so shared borders stay shared: no slivers or
gaps appear between units as they would if each polygon were simplified alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely


def simplify_coverage(geoms, tolerance_deg: float) -> np.ndarray:
    """Simplify polygons that tile an area, keeping shared borders identical.

    Falls back to per-polygon simplification with topology preserved if the
    input is not a valid coverage (overlaps), which keeps each polygon valid.
    """
    geoms = np.asarray(geoms, dtype=object)
    if tolerance_deg <= 0 or len(geoms) == 0:
        return geoms
    if shapely.coverage_is_valid(geoms):
        out = shapely.coverage_simplify(geoms, tolerance_deg)
    else:
        out = shapely.simplify(geoms, tolerance_deg, preserve_topology=True)
    return shapely.make_valid(out)


def to_geojson(
    units: gpd.GeoDataFrame,
    id_column: str = "code",
    tolerance_deg: float = 0.002,
    decimals: int = 4,
    max_coords: int | None = None,
) -> dict:
    """GeoJSON FeatureCollection of ``units``, ids from ``id_column``, light geometry.

    With ``max_coords``, the tolerance is doubled until the simplified geometry has
    at most that many coordinates (about 18 bytes of JSON each): a size budget that
    holds whatever the detail of the boundaries.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> gdf = gpd.GeoDataFrame({"code": ["A"]}, geometry=[box(0, 0, 1, 1)],
    ...                        crs="EPSG:4326")
    >>> to_geojson(gdf)["features"][0]["id"]
    'A'
    """
    if not isinstance(units, gpd.GeoDataFrame):
        raise TypeError(f"'units' should be GeoDataFrame, got {type(units)}")
    if units.crs is None or not units.crs.equals("EPSG:4326"):
        raise ValueError("display geometry should be in EPSG:4326 (lon/lat degrees)")
    geoms = simplify_coverage(units.geometry.values, tolerance_deg)
    while (
        max_coords is not None
        and int(shapely.get_num_coordinates(geoms).sum()) > max_coords
        and tolerance_deg < 1.0
    ):
        tolerance_deg *= 2
        geoms = simplify_coverage(units.geometry.values, tolerance_deg)
    geoms = shapely.set_precision(geoms, 10.0**-decimals, mode="valid_output")
    features = []
    for code, geom in zip(units[id_column].astype(str), geoms, strict=True):
        mapping = shapely.geometry.mapping(geom)
        features.append(
            {
                "type": "Feature",
                "id": code,
                "properties": {},
                "geometry": _round(mapping, decimals),
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _round(mapping: dict, decimals: int) -> dict:
    def rnd(coords):
        if isinstance(coords[0], (int, float)):
            return [round(c, decimals) for c in coords]
        return [rnd(c) for c in coords]

    return {"type": mapping["type"], "coordinates": rnd(mapping["coordinates"])}


def view_for_bounds(
    minx: float,
    miny: float,
    maxx: float,
    maxy: float,
    width_px: int = 700,
    height_px: int = 560,
) -> dict:
    """Map centre and zoom that fit a lon/lat box in a viewport of the given size.

    Examples
    --------
    >>> view = view_for_bounds(-5, 10, 1, 15)
    >>> view["center"]
    {'lon': -2.0, 'lat': 12.5}
    """
    lon_span = max(maxx - minx, 1e-3)
    y0 = math.log(math.tan(math.pi / 4 + math.radians(miny) / 2))
    y1 = math.log(math.tan(math.pi / 4 + math.radians(maxy) / 2))
    lat_span = max(abs(y1 - y0), 1e-5)
    # MapLibre: 512 px tiles show 360 degrees at zoom 0.
    zoom_x = math.log2(width_px * 360.0 / (512.0 * lon_span))
    zoom_y = math.log2(height_px * 2 * math.pi / (512.0 * lat_span))
    zoom = max(0.0, min(zoom_x, zoom_y) - 0.15)
    return {
        "center": {
            "lon": round((minx + maxx) / 2, 4),
            "lat": round((miny + maxy) / 2, 4),
        },
        "zoom": round(zoom, 2),
    }


# Cell sides the grid can use, in degrees: a short list, so cells stay put while
# the map is panned and zooming in goes from one size to the next.
GRID_SIZES_DEG = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)
GRID_PREFIX = "grid:"


def _cells(x, y, size: float) -> tuple[np.ndarray, np.ndarray]:
    """Column and row of the cell of side ``size`` holding each point."""
    ix = np.floor(np.asarray(x, float) / size).astype(np.int64)
    iy = np.floor(np.asarray(y, float) / size).astype(np.int64)
    return ix, iy


def _cell_keys(ix: np.ndarray, iy: np.ndarray) -> np.ndarray:
    # one integer per cell: rows and columns stay within +-10**6 at 0.0001 degrees
    return (ix + 2_000_000) * 4_000_000 + (iy + 2_000_000)


def grid_size(x, y, max_cells: int) -> float:
    """The smallest cell side of :data:`GRID_SIZES_DEG` giving at most ``max_cells``.

    Only cells holding at least one of the points (``x``, ``y``: lon/lat) count.

    Examples
    --------
    >>> grid_size([0.01, 0.03, 0.31], [0.0, 0.0, 0.0], 2)
    0.05
    """
    for size in GRID_SIZES_DEG:
        if len(np.unique(_cell_keys(*_cells(x, y, size)))) <= max_cells:
            return size
    return GRID_SIZES_DEG[-1]


def grid_codes(x, y, size: float) -> np.ndarray:
    """Code of the grid cell of side ``size`` degrees holding each lon/lat point.

    Codes start with :data:`GRID_PREFIX` (``grid:0.2:-26:60`` is the cell whose
    south-west corner is at -5.2, 12.0), so they never read as a unit's code.

    Examples
    --------
    >>> grid_codes([-5.1], [12.05], 0.2).tolist()
    ['grid:0.2:-26:60']
    """
    ix, iy = _cells(x, y, size)
    keys, first, inverse = np.unique(
        _cell_keys(ix, iy), return_index=True, return_inverse=True
    )
    names = np.array(
        [f"{GRID_PREFIX}{size:g}:{ix[k]}:{iy[k]}" for k in first], dtype=object
    )
    return names[inverse.reshape(-1)] if len(keys) else names


def grid_geojson(codes, decimals: int = 4) -> dict:
    """GeoJSON squares of the grid cells named by :func:`grid_codes`.

    Examples
    --------
    >>> grid_geojson(["grid:0.5:1:2"])["features"][0]["geometry"]["coordinates"]
    [[[1.0, 1.0], [1.0, 1.5], [0.5, 1.5], [0.5, 1.0], [1.0, 1.0]]]
    """
    features = []
    for code in codes:
        size, i, j = (float(v) for v in code.removeprefix(GRID_PREFIX).split(":"))
        x0, y0 = round(i * size, decimals), round(j * size, decimals)
        x1, y1 = round(x0 + size, decimals), round(y0 + size, decimals)
        ring = [[x1, y0], [x1, y1], [x0, y1], [x0, y0], [x1, y0]]
        features.append(
            {
                "type": "Feature",
                "id": code,
                "properties": {},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
    return {"type": "FeatureCollection", "features": features}


@dataclass(frozen=True)
class MapView:
    """The part of the map in view: a lon/lat box and the zoom it is seen at."""

    bbox: tuple[float, float, float, float]
    zoom: float

    def expanded(self, share: float = 0.25) -> tuple[float, float, float, float]:
        """The box grown by ``share`` of its size on each side (panning margin)."""
        minx, miny, maxx, maxy = self.bbox
        dx, dy = (maxx - minx) * share, (maxy - miny) * share
        return (
            max(minx - dx, -180.0),
            max(miny - dy, -90.0),
            min(maxx + dx, 180.0),
            min(maxy + dy, 90.0),
        )


def map_view(relayout) -> MapView | None:
    """The view a map's ``relayoutData`` reports after the user moved it, or None.

    plotly sends ``{"map.zoom": z, "map._derived": {"coordinates": [[lon, lat],
    ...]}}`` (the four corners) at the end of a pan or zoom; any other content
    (``{"autosize": true}``, a forged value) gives ``None``.

    Examples
    --------
    >>> corners = [[-6, 14], [-4, 14], [-4, 12], [-6, 12]]
    >>> map_view({"map.zoom": 7, "map._derived": {"coordinates": corners}})
    MapView(bbox=(-6.0, 12.0, -4.0, 14.0), zoom=7.0)
    >>> map_view({"autosize": True}) is None
    True
    """
    if not isinstance(relayout, dict):
        return None
    derived = relayout.get("map._derived")
    zoom = relayout.get("map.zoom")
    corners = derived.get("coordinates") if isinstance(derived, dict) else None
    if not isinstance(corners, list) or not 1 <= len(corners) <= 8:
        return None
    try:
        zoom = float(zoom)
        points = np.array(corners, dtype=float)
    except (TypeError, ValueError):
        return None
    if points.ndim != 2 or points.shape[1] != 2 or not np.isfinite(points).all():
        return None
    if not (math.isfinite(zoom) and 0.0 <= zoom <= 24.0):
        return None
    lon = np.clip(points[:, 0], -180.0, 180.0)
    lat = np.clip(points[:, 1], -90.0, 90.0)
    bbox = (float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max()))
    if bbox[2] <= bbox[0] or bbox[3] <= bbox[1]:
        return None
    return MapView(bbox, zoom)


def tolerance_for_zoom(zoom: float, floor_deg: float = 0.0002) -> float:
    """A simplification tolerance of about one screen pixel at ``zoom``, in degrees.

    MapLibre draws 360 degrees over 512 px at zoom 0; the zoom is rounded down so
    the tolerance changes by halves, never for a small zoom step.

    Examples
    --------
    >>> tolerance_for_zoom(8.6)
    0.00274658203125
    """
    return max(360.0 / (512.0 * 2.0 ** math.floor(max(zoom, 0.0))), floor_deg)


def in_box(bounds: np.ndarray, bbox) -> np.ndarray:
    """Which rows of ``bounds`` (minx, miny, maxx, maxy) touch the box ``bbox``."""
    bounds = np.asarray(bounds, float).reshape(-1, 4)
    minx, miny, maxx, maxy = bbox
    return (
        (bounds[:, 0] <= maxx)
        & (bounds[:, 2] >= minx)
        & (bounds[:, 1] <= maxy)
        & (bounds[:, 3] >= miny)
    )


def _mercator_px(lon, lat, zoom: float) -> tuple[np.ndarray, np.ndarray]:
    """Screen pixels of lon/lat at ``zoom`` (MapLibre: 512 px for 360 degrees)."""
    world = 512.0 * 2.0**zoom
    lat = np.clip(np.asarray(lat, dtype=float), -85.0511, 85.0511)
    x = (np.asarray(lon, dtype=float) + 180.0) / 360.0 * world
    y = (1.0 - np.log(np.tan(np.pi / 4 + np.radians(lat) / 2)) / np.pi) / 2 * world
    return x, y


def first_overlapping(lon, lat, size_px, index: int, zoom: float, prefer) -> int:
    """The marker a click on marker ``index`` means when markers overlap.

    Among the markers that cover marker ``index``'s centre, or whose centre it
    covers, at ``zoom`` (circles of diameters ``size_px``), the nearest one
    ``prefer`` marks (e.g. existing centers before candidate sites); ``index``
    itself when it is preferred or no such marker hides it.

    Examples
    --------
    >>> lon, lat = [2.0, 2.0001, 3.0], [45.0, 45.0, 45.0]
    >>> first_overlapping(lon, lat, [17, 13, 17], 1, 7.0, [True, False, True])
    0
    >>> first_overlapping(lon, lat, [17, 13, 17], 1, 18.0, [True, False, True])
    1
    """
    prefer = np.asarray(prefer, dtype=bool)
    if prefer[index]:
        return index
    x, y = _mercator_px(lon, lat, zoom)
    size = np.asarray(size_px, dtype=float)
    dist = np.hypot(x - x[index], y - y[index])
    near = prefer & (dist < np.maximum(size, size[index]) / 2) & np.isfinite(dist)
    if not near.any():
        return index
    return int(np.flatnonzero(near)[np.argmin(dist[near])])
