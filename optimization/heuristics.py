"""Starting solutions for the p-median: greedy addition then best-swap interchange.

Only used to warm-start the exact solver and to choose the first truncation of
the radius formulation; exactness never depends on them.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp

__all__ = ["greedy_interchange", "pmedian_cost"]


def pmedian_cost(D: np.ndarray, w: np.ndarray, open_mask: np.ndarray) -> float:
    """Weighted distance when every demand point uses its nearest open site."""
    if not open_mask.any():
        return float("inf")
    d = D[:, open_mask].min(axis=1)
    pos = w > 0
    return float(w[pos] @ d[pos])


def greedy_interchange(
    D: np.ndarray,
    w: np.ndarray,
    p: int,
    locked: np.ndarray | None = None,
    allowed: np.ndarray | None = None,
    time_budget: float = 30.0,
) -> np.ndarray:
    """A good set of ``p`` open sites for the p-median.

    Greedy addition, then the swap of best profit is applied while one improves
    the objective (Resende & Werneck's gain/loss/extra decomposition, computed
    with dense numpy operations).

    Parameters
    ----------
    D : ndarray, shape (n, m)
        Costs; ``inf`` marks forbidden pairs.
    w : ndarray, shape (n,)
        Demand weights.
    p : int
        Number of sites to open.
    locked, allowed : ndarray of bool, optional
        Sites that must be open / may be open.
    time_budget : float
        Seconds after which the interchange stops.

    Returns
    -------
    ndarray of bool, shape (m,)

    Examples
    --------
    >>> D = np.array([[0.0, 5.0, 9.0], [5.0, 0.0, 4.0], [9.0, 4.0, 0.0]])
    >>> greedy_interchange(D, np.ones(3), 1).nonzero()[0].tolist()
    [1]
    """
    t0 = time.perf_counter()
    n, m = D.shape
    locked = np.zeros(m, bool) if locked is None else locked
    allowed = np.ones(m, bool) if allowed is None else allowed
    finite = D[np.isfinite(D)]
    big = (finite.max() if finite.size else 1.0) * 10.0 + 1.0
    Df = np.where(np.isfinite(D), D, big)
    Df[:, ~allowed] = big * 10.0
    keep = w > 0
    Df, w = Df[keep], w[keep]
    is_open = locked.copy()
    cur = (
        Df[:, is_open].min(axis=1) if is_open.any() else np.full(Df.shape[0], big * 100)
    )
    while is_open.sum() < p:
        gain = w @ np.maximum(cur[:, None] - Df, 0.0)
        gain[is_open | ~allowed] = -np.inf
        j = int(np.argmax(gain))
        is_open[j] = True
        cur = np.minimum(cur, Df[:, j])
    swappable = is_open & ~locked
    if not swappable.any() or (allowed & ~is_open).sum() == 0:
        return is_open
    rows = np.arange(Df.shape[0])
    while time.perf_counter() - t0 < time_budget:
        open_idx = np.flatnonzero(is_open)
        sub = Df[:, open_idx]
        order = np.argsort(sub, axis=1)[:, :2]
        phi1 = open_idx[order[:, 0]]
        d1 = sub[rows, order[:, 0]]
        d2 = (
            sub[rows, order[:, 1]]
            if open_idx.size > 1
            else np.full(d1.shape, big * 100)
        )
        gain = w @ np.maximum(d1[:, None] - Df, 0.0)
        loss = np.bincount(phi1, weights=w * (d2 - d1), minlength=m)
        M = w[:, None] * np.maximum(d2[:, None] - np.maximum(Df, d1[:, None]), 0.0)
        S = sp.csr_matrix((np.ones(rows.size), (phi1, rows)), shape=(m, rows.size))
        extra = np.asarray(S @ M)  # extra[r, j]
        profit = gain[None, :] - loss[:, None] + extra
        profit[~(is_open & ~locked), :] = -np.inf
        profit[:, is_open | ~allowed] = -np.inf
        r, j = np.unravel_index(int(np.argmax(profit)), profit.shape)
        if profit[r, j] <= 1e-9 * max(1.0, float(w @ d1)):
            break
        is_open[r], is_open[j] = False, True
    return is_open
