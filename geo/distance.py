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


def distance_matrix_km(lon_a, lat_a, lon_b, lat_b) -> np.ndarray:
    """Matrix of great-circle distances (km), rows ``a`` and columns ``b``.

    Examples
    --------
    >>> distance_matrix_km([0, 1], [0, 0], [0], [0]).shape
    (2, 1)
    """
    lon_a, lat_a = np.asarray(lon_a, float), np.asarray(lat_a, float)
    lon_b, lat_b = np.asarray(lon_b, float), np.asarray(lat_b, float)
    if lon_a.shape != lat_a.shape or lon_b.shape != lat_b.shape:
        raise ValueError("longitudes and latitudes should have the same shape")
    return haversine_km(lon_a[:, None], lat_a[:, None], lon_b[None, :], lat_b[None, :])


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
    n = lon_a.shape[0]
    idx = np.full(n, -1, dtype=np.int64)
    dist = np.full(n, np.nan)
    if len(np.asarray(lon_b)) == 0:
        return idx, dist
    for start in range(0, n, chunk):
        block = distance_matrix_km(
            lon_a[start : start + chunk], lat_a[start : start + chunk], lon_b, lat_b
        )
        idx[start : start + chunk] = block.argmin(axis=1)
        dist[start : start + chunk] = block.min(axis=1)
    return idx, dist
