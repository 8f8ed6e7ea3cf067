"""Great-circle distances, vectorised.

Examples
--------
>>> import numpy as np
>>> from geo.distance import haversine_km
>>> round(float(haversine_km(0.0, 0.0, 1.0, 0.0)), 1)
111.2
"""

from __future__ import annotations

import numpy as np
import pyproj

EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG)


def haversine_km(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Great-circle distance in km between points given in degrees (broadcasting)."""
    lon1, lat1, lon2, lat2 = (
        np.radians(np.asarray(v, dtype=float)) for v in (lon1, lat1, lon2, lat2)
    )
    a = (
        np.sin((lat2 - lat1) / 2.0) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2.0) ** 2
    )
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def _coords(name: str, values) -> np.ndarray:
    arr = np.asarray(values, dtype=float).ravel()
    if np.isnan(arr).any():
        raise ValueError(f"'{name}' contains NaN coordinates")
    return arr


def distance_matrix_km(
    lon_a, lat_a, lon_b, lat_b, chunk_rows: int = 2048
) -> np.ndarray:
    """Great-circle distances (km) between every point of A and every point of B.

    The one great-circle matrix of the project: models, scenarios and screens
    all use it. Rows are computed ``chunk_rows`` at a time, so the temporary
    arrays stay small next to the result.

    Parameters
    ----------
    lon_a, lat_a : array-like, shape (n,)
        Longitudes and latitudes of the origins, in degrees (WGS84).
    lon_b, lat_b : array-like, shape (m,)
        Longitudes and latitudes of the destinations, in degrees.
    chunk_rows : int
        Rows computed at once.

    Returns
    -------
    ndarray, shape (n, m)

    Raises
    ------
    ValueError
        Longitudes and latitudes of different lengths, NaN coordinates, or
        latitudes beyond +/-90 (projected metres are not degrees).

    Examples
    --------
    >>> distance_matrix_km([0, 1], [0, 0], [0], [0]).shape
    (2, 1)
    >>> round(float(distance_matrix_km([2.3522], [48.8566], [4.8357], [45.7640])[0, 0]))
    391
    """
    lon_a, lat_a = _coords("lon_a", lon_a), _coords("lat_a", lat_a)
    lon_b, lat_b = _coords("lon_b", lon_b), _coords("lat_b", lat_b)
    if lon_a.shape != lat_a.shape or lon_b.shape != lat_b.shape:
        raise ValueError("longitudes and latitudes should have the same shape")
    for name, lat in (("lat_a", lat_a), ("lat_b", lat_b)):
        if lat.size and np.abs(lat).max() > 90:
            raise ValueError(
                f"'{name}' has values beyond +/-90 degrees: coordinates must be "
                "longitude/latitude in degrees (EPSG:4326), not projected metres"
            )
    out = np.empty((lon_a.size, lon_b.size), dtype=float)
    for s in range(0, lon_a.size, chunk_rows):
        e = min(s + chunk_rows, lon_a.size)
        out[s:e] = haversine_km(
            lon_a[s:e, None], lat_a[s:e, None], lon_b[None, :], lat_b[None, :]
        )
    return out


def nearest_km(
    lon_a, lat_a, lon_b, lat_b, chunk: int = 4096
) -> tuple[np.ndarray, np.ndarray]:
    """Index of and distance to the nearest ``b`` point for every ``a`` point.

    Works in row chunks so memory stays bounded for large inputs. With no ``b``
    points, indices are -1 and distances NaN.

    Examples
    --------
    >>> idx, dist = nearest_km([0.0], [0.0], [5.0, 1.0], [0.0, 0.0])
    >>> int(idx[0]), round(float(dist[0]), 1)
    (1, 111.2)
    """
    lon_a, lat_a = np.asarray(lon_a, float), np.asarray(lat_a, float)
    lon_b, lat_b = np.asarray(lon_b, float), np.asarray(lat_b, float)
    n = lon_a.shape[0]
    idx = np.full(n, -1, dtype=np.int64)
    dist = np.full(n, np.nan)
    if lon_b.size == 0:
        return idx, dist
    for start in range(0, n, chunk):
        # haversine_km itself: a point without coordinates gets NaN, not an error
        block = haversine_km(
            lon_a[start : start + chunk, None],
            lat_a[start : start + chunk, None],
            lon_b[None, :],
            lat_b[None, :],
        )
        idx[start : start + chunk] = block.argmin(axis=1)
        dist[start : start + chunk] = block.min(axis=1)
    return idx, dist


def local_crs(lon: np.ndarray, lat: np.ndarray) -> pyproj.CRS:
    """Azimuthal equidistant CRS in metres centred on the points' mean position.

    Distances from the centre are true, and across a country-sized area the scale
    error elsewhere stays below ~1 %, so planar KMeans on it is sound (raw degrees
    are not: a degree of longitude shrinks with latitude).

    Examples
    --------
    >>> local_crs(np.array([2.0]), np.array([12.0])).to_dict()["proj"]
    'aeqd'
    """
    lon0 = float(np.mean(lon))
    lat0 = float(np.mean(lat))
    return pyproj.CRS.from_proj4(
        f"+proj=aeqd +lat_0={lat0:.6f} +lon_0={lon0:.6f} +datum=WGS84 +units=m"
    )
