"""Display geometry: topology-preserving simplification, GeoJSON for the map, views.

Neighbouring polygons are simplified together as one coverage
(:func:`shapely.coverage_simplify`), so shared borders stay shared: no slivers or
gaps appear between units as they would if each polygon were simplified alone.
"""

from __future__ import annotations

import math

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
) -> dict:
    """GeoJSON FeatureCollection of ``units``, ids from ``id_column``, light geometry.

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
