"""Demand aggregation for national-scale models, with a provable error bound.

Communes are grouped by weighted k-means in a local metric projection (km);
each group becomes one demand point at its weighted centroid carrying the
group's total weight. For the p-median the error this introduces is bounded by
``E = sum_i w_i d(i, a(i))`` (triangle inequality: ``|d(i, j) - d(a(i), j)| <=
d(i, a(i))``), which :func:`aggregation_error` computes with great-circle
distances, so the bound does not depend on the projection used to cluster.

Examples
--------
>>> import numpy as np
>>> lon, lat = np.array([0.0, 0.01, 1.0, 1.01]), np.zeros(4)
>>> alon, alat, aw, mapping = aggregate_points(lon, lat, np.ones(4), 2)
>>> aw.tolist(), bool(mapping[0] == mapping[1]), bool(mapping[0] != mapping[2])
([2.0, 2.0], True, True)
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from geo.distance import EARTH_RADIUS_KM, haversine_km

__all__ = ["aggregate_points", "aggregation_error", "sparse_lagrangian_bound"]


def _project(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Equirectangular km around the points' mean, good enough for grouping."""
    lon0 = float(lon.mean())
    lat0 = float(lat.mean())
    k = np.pi / 180.0 * EARTH_RADIUS_KM
    xy = np.column_stack(
        ((lon - lon0) * k * np.cos(np.radians(lat0)), (lat - lat0) * k)
    )
    return xy, lon0, lat0


def _unproject(xy: np.ndarray, lon0: float, lat0: float) -> tuple:
    k = np.pi / 180.0 * EARTH_RADIUS_KM
    lat = xy[:, 1] / k + lat0
    lon = xy[:, 0] / (k * np.cos(np.radians(lat0))) + lon0
    return lon, lat


def _quotas(sizes: np.ndarray, total: int) -> np.ndarray:
    """Points per group: proportional to its size, at least one, at most its size."""
    q = np.maximum(1, np.floor(sizes * total / sizes.sum()).astype(int))
    q = np.minimum(q, sizes)
    # Hand out what is left to the groups with the largest remainders.
    spare = total - int(q.sum())
    if spare > 0:
        frac = sizes * total / sizes.sum() - q
        for g in np.argsort(-frac, kind="stable"):
            if spare == 0:
                break
            if q[g] < sizes[g]:
                q[g] += 1
                spare -= 1
    return q


def _cluster(xy: np.ndarray, w: np.ndarray, k: int, seed: int) -> np.ndarray:
    from sklearn.cluster import KMeans

    if k >= len(xy):
        return np.arange(len(xy))
    # Zero-weight groups still need a partition: cluster them unweighted.
    sw = w if w.sum() > 0 else np.ones_like(w)
    with warnings.catch_warnings():
        # Duplicate coordinates yield fewer distinct clusters; handled below.
        warnings.simplefilter("ignore")
        km = KMeans(n_clusters=k, n_init=1, max_iter=100, random_state=seed)
        labels = km.fit(xy, sample_weight=sw).labels_
    return np.unique(labels, return_inverse=True)[1]


def aggregate_points(
    lon: Any,
    lat: Any,
    weights: Any,
    max_points: int,
    groups: Sequence[Any] | None = None,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Group demand points into at most ``max_points`` weighted aggregates.

    Parameters
    ----------
    lon, lat : array-like, shape (n,)
        Demand points in degrees (WGS84).
    weights : array-like, shape (n,)
        Non-negative demand; the aggregates' weights sum to the same total.
    max_points : int
        Upper bound on the number of aggregates. With ``max_points >= n`` the
        points are returned unchanged (``mapping = arange(n)``).
    groups : sequence, optional
        A label per point (e.g. department); aggregates never mix labels and
        each label keeps at least one aggregate.
    seed : int
        Seed of k-means; the result is deterministic for a given seed.

    Returns
    -------
    agg_lon, agg_lat, agg_weights : ndarray, shape (k,)
        Weighted centroids (zero-weight groups: plain centroids) and weights.
    mapping : ndarray of int, shape (n,)
        Aggregate index of every point.

    Raises
    ------
    ValueError
        Mismatched shapes, NaN or negative weights, ``max_points < 1`` or
        fewer allowed points than groups.

    Examples
    --------
    >>> alon, alat, aw, m = aggregate_points([0, 0.01, 0.02], [0, 0, 0], [1, 1, 2], 1)
    >>> aw.tolist(), m.tolist()
    ([4.0], [0, 0, 0])
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    w = np.asarray(weights, dtype=float)
    n = lon.shape[0]
    if lon.shape != (n,) or lat.shape != (n,) or w.shape != (n,):
        raise ValueError("'lon', 'lat' and 'weights' should be 1-D of equal length")
    if n == 0:
        raise ValueError("no demand points to aggregate")
    if np.isnan(w).any() or (w < 0).any():
        raise ValueError("'weights' has NaN or negative values")
    if isinstance(max_points, bool) or int(max_points) != max_points or max_points < 1:
        raise ValueError(f"'max_points' should be an integer >= 1, got {max_points!r}")
    max_points = int(max_points)
    if max_points >= n:
        return lon.copy(), lat.copy(), w.copy(), np.arange(n)
    if groups is None:
        codes = np.zeros(n, dtype=int)
    else:
        if len(groups) != n:
            raise ValueError(f"'groups' has {len(groups)} entries, expected {n}")
        codes = np.unique(np.asarray([str(g) for g in groups]), return_inverse=True)[1]
    sizes = np.bincount(codes)
    if len(sizes) > max_points:
        raise ValueError(
            f"'max_points' = {max_points} is below the number of groups {len(sizes)}"
        )
    quotas = _quotas(sizes, max_points)
    mapping = np.empty(n, dtype=np.int64)
    out_lon: list[np.ndarray] = []
    out_lat: list[np.ndarray] = []
    out_w: list[np.ndarray] = []
    offset = 0
    for g, k in enumerate(quotas):
        idx = np.flatnonzero(codes == g)
        xy, lon0, lat0 = _project(lon[idx], lat[idx])
        labels = _cluster(xy, w[idx], int(k), seed)
        kk = int(labels.max()) + 1
        wg = np.bincount(labels, weights=w[idx], minlength=kk)
        # Centroid weights: the demand, or equal weights inside a zero-demand group.
        cw = np.where(wg[labels] > 0, w[idx], 1.0)
        den = np.bincount(labels, weights=cw, minlength=kk)
        cx = np.bincount(labels, weights=cw * xy[:, 0], minlength=kk) / den
        cy = np.bincount(labels, weights=cw * xy[:, 1], minlength=kk) / den
        glon, glat = _unproject(np.column_stack((cx, cy)), lon0, lat0)
        out_lon.append(glon)
        out_lat.append(glat)
        out_w.append(wg)
        mapping[idx] = labels + offset
        offset += kk
    return (
        np.concatenate(out_lon),
        np.concatenate(out_lat),
        np.concatenate(out_w),
        mapping,
    )


def sparse_lagrangian_bound(
    lon: Any,
    lat: Any,
    weights: Any,
    site_lon: Any,
    site_lat: Any,
    p: int,
    upper: float,
    lam0: Any,
    locked: Any = None,
    allowed: Any = None,
    nearest: int | None = None,
    time_budget: float = 20.0,
    chunk: int = 2048,
) -> dict[str, float]:
    """Lagrangian lower bound of the uncapacitated p-median on every point.

    Only each point's ``nearest`` closest sites are kept (``n x T`` costs,
    computed in chunks, never the dense matrix) and each multiplier is capped
    at the T-th cost, so the dropped pairs can never price negatively and the
    bound is exact for the multipliers used. Dropping any other constraint
    (``max_new``, budget) or non-negative site costs only lowers it, so it is
    also a bound for those variants.

    Parameters
    ----------
    lon, lat, weights : array-like, shape (n,)
    site_lon, site_lat : array-like, shape (m,)
    p : int
        Sites to open (at most ``p`` gives the same bound).
    upper : float
        Cost of a known plan (Polyak step target).
    lam0 : array-like, shape (n,)
        Starting multipliers, e.g. ``w_i`` x distance to the plan's nearest site.
    locked, allowed : array-like of bool, shape (m,), optional
        Sites that must be open / may be open.
    nearest : int, optional
        Sites kept per point (default ``max(50, 5 * ceil(m / p))``).

    Returns
    -------
    dict
        ``bound``, ``iterations``, ``nearest``, ``seconds``.

    Examples
    --------
    >>> r = sparse_lagrangian_bound([0.0, 1.0], [0.0, 0.0], [1.0, 1.0],
    ...                             [0.0, 1.0], [0.0, 0.0], 2, 0.0, [0.0, 0.0])
    >>> r["bound"]
    0.0
    """
    t0 = time.perf_counter()
    lon = np.asarray(lon, float)
    lat = np.asarray(lat, float)
    w = np.asarray(weights, float)
    slon = np.asarray(site_lon, float)
    slat = np.asarray(site_lat, float)
    n, m = lon.size, slon.size
    locked = np.zeros(m, bool) if locked is None else np.asarray(locked, bool)
    allowed = np.ones(m, bool) if allowed is None else np.asarray(allowed, bool)
    T = int(min(m, nearest or max(50, 5 * math.ceil(m / max(p, 1)))))
    It = np.empty((n, T), dtype=np.int64)
    Ct = np.empty((n, T))
    for s in range(0, n, chunk):
        D = w[s : s + chunk, None] * haversine_km(
            lon[s : s + chunk, None], lat[s : s + chunk, None], slon, slat
        )
        idx = np.argpartition(D, T - 1, axis=1)[:, :T] if m > T else None
        if idx is None:
            idx = np.broadcast_to(np.arange(m), D.shape)
        It[s : s + chunk] = idx
        Ct[s : s + chunk] = np.take_along_axis(D, idx, axis=1)
    cap = Ct.max(axis=1)
    flat = It.ravel()
    free = allowed & ~locked
    k_free = p - int(locked.sum())
    lam = np.minimum(np.asarray(lam0, float), cap)
    best, theta, stall, it = -np.inf, 2.0, 0, 0
    while time.perf_counter() - t0 < time_budget:
        it += 1
        red = np.minimum(Ct - lam[:, None], 0.0)
        rho = np.bincount(flat, weights=red.ravel(), minlength=m)
        chosen = locked.copy()
        if k_free > 0:
            cand = np.where(free, rho, np.inf)
            chosen[np.argpartition(cand, k_free - 1)[:k_free]] = True
            chosen &= allowed | locked
        value = float(lam.sum() + rho[chosen].sum())
        if not np.isfinite(best) or value > best + 1e-9 * max(1.0, abs(best)):
            best, stall = value, 0
        else:
            stall += 1
            if stall >= 20:
                theta, stall = theta / 2.0, 0
        if upper - best <= 1e-6 * upper or theta < 1e-4:
            break
        g = 1.0 - ((red < 0) & chosen[It]).sum(axis=1)
        norm = float(g @ g)
        if norm == 0:
            break
        lam = np.minimum(lam + theta * (upper - value) / norm * g, cap)
    return {
        "bound": float(best),
        "iterations": it,
        "nearest": T,
        "seconds": time.perf_counter() - t0,
    }


def aggregation_error(
    lon: Any, lat: Any, weights: Any, agg_lon: Any, agg_lat: Any, mapping: Any
) -> float:
    """Bound ``sum_i w_i d(i, a(i))`` (great-circle km) on the p-median error.

    For any set of open sites the p-median objective on the aggregates and on
    the original points differ by at most this amount.

    Examples
    --------
    >>> round(aggregation_error([0.0, 1.0], [0.0, 0.0], [1.0, 1.0],
    ...                         [0.5], [0.0], [0, 0]), 1)
    111.2
    """
    mapping = np.asarray(mapping)
    d = haversine_km(
        lon,
        lat,
        np.asarray(agg_lon, float)[mapping],
        np.asarray(agg_lat, float)[mapping],
    )
    return float(np.asarray(weights, float) @ d)
