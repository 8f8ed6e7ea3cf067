"""Starting solutions and Lagrangian bounds for the uncapacitated p-median.

Greedy addition then best-swap interchange, kicks + interchange, and the
Lagrangian bound relaxing the assignment rows (with the sites and the
distances it rules out for every better plan). The heuristics only warm-start
the exact solver and choose the first truncation of the radius formulation;
exactness never depends on them.

Every loop here is bounded by work (swaps, rounds, iterations) and seeded, so
the same input gives the same result on a fast or a busy machine; the
``time_budget`` arguments are only an outer safety cap.
"""

from __future__ import annotations

import math
import time

import numpy as np
import scipy.sparse as sp

__all__ = [
    "distance_caps",
    "greedy_interchange",
    "lagrangian_bound",
    "objective_step",
    "perturbed_interchange",
    "pmedian_cost",
    "round_bound",
]

STALL = 100  # subgradient iterations without progress before halving the step
#: Work bound of one interchange: at most ``SWAPS_PER_SITE * p + 100`` swaps.
SWAPS_PER_SITE = 20


def pmedian_cost(D: np.ndarray, w: np.ndarray, open_mask: np.ndarray) -> float:
    """Weighted distance when every demand point uses its nearest open site."""
    if not open_mask.any():
        return float("inf")
    d = D[:, open_mask].min(axis=1)
    pos = w > 0
    return float(w[pos] @ d[pos])


def objective_step(values: np.ndarray) -> float:
    """1.0 when every finite value is an integer (plans then cost integers), else 0.

    When every weighted distance and site cost is an integer, every plan costs
    an integer, so a plan costing ``UB`` is optimal as soon as a lower bound
    exceeds ``UB - 1``, and a bound ``b`` proves ``ceil(b)``
    (:func:`round_bound`).

    Examples
    --------
    >>> objective_step(np.array([[3.0, np.inf], [12.0, 0.0]]))
    1.0
    >>> objective_step(np.array([3.0, 2.5]))
    0.0
    """
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    # Beyond 2**52 a float no longer tells integers apart.
    if v.size and np.abs(v).max() >= 2.0**52:
        return 0.0
    return 1.0 if np.array_equal(v, np.round(v)) else 0.0


def round_bound(bound: float, step: float) -> float:
    """Lower bound ``bound`` raised to the next multiple of ``step`` (0: unchanged).

    A bound within 1e-6 of ``step`` above a multiple is taken as that
    multiple, so rounding errors of the bound never raise it a whole step.

    Examples
    --------
    >>> round_bound(9933.2, 1.0), round_bound(9933.0000001, 1.0), round_bound(9.5, 0)
    (9934.0, 9933.0, 9.5)
    """
    if step <= 0 or not math.isfinite(bound):
        return bound
    return step * math.ceil(bound / step - 1e-6)


def greedy_interchange(
    D: np.ndarray,
    w: np.ndarray,
    p: int,
    locked: np.ndarray | None = None,
    allowed: np.ndarray | None = None,
    time_budget: float = 30.0,
    start: np.ndarray | None = None,
    max_swaps: int | None = None,
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
        Safety cap: seconds after which the interchange stops (it normally
        ends at a local optimum or after ``max_swaps``, whatever the clock).
    start : ndarray of bool, optional
        Open sites to start the interchange from instead of greedy addition.
    max_swaps : int, optional
        Work bound (default ``SWAPS_PER_SITE * p + 100``).

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
    if start is not None and int((start & allowed | locked).sum()) <= p:
        is_open |= start & allowed
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
    swaps_left = SWAPS_PER_SITE * p + 100 if max_swaps is None else max_swaps
    while swaps_left > 0 and time.perf_counter() - t0 < time_budget:
        swaps_left -= 1
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


def perturbed_interchange(
    D: np.ndarray,
    w: np.ndarray,
    p: int,
    start: np.ndarray,
    locked: np.ndarray | None = None,
    allowed: np.ndarray | None = None,
    time_budget: float = 30.0,
    seed: int = 0,
    rounds: int = 20,
) -> np.ndarray:
    """Iterated local search: kick a few sites, re-run the interchange, keep gains.

    Each of ``rounds`` rounds swaps ``max(2, p // 15)`` random free open
    sites (seeded) for random allowed closed ones and runs
    :func:`greedy_interchange` from there; the result replaces the incumbent
    only when it is cheaper. ``time_budget`` is a safety cap only.

    Examples
    --------
    >>> D = np.array([[0.0, 5.0, 9.0], [5.0, 0.0, 4.0], [9.0, 4.0, 0.0]])
    >>> start = np.array([True, False, False])
    >>> perturbed_interchange(D, np.ones(3), 1, start, time_budget=0.5).nonzero()[0]
    array([1])
    """
    t0 = time.perf_counter()
    m = D.shape[1]
    locked = np.zeros(m, bool) if locked is None else locked
    allowed = np.ones(m, bool) if allowed is None else allowed
    rng = np.random.default_rng(seed)
    best = greedy_interchange(D, w, p, locked, allowed, time_budget, start=start)
    best_cost = pmedian_cost(D, w, best)
    kick = max(2, p // 15)
    for _ in range(rounds):
        left = time_budget - (time.perf_counter() - t0)
        if left <= 0:
            break
        free_open = np.flatnonzero(best & ~locked)
        closed = np.flatnonzero(allowed & ~best)
        k = min(kick, free_open.size, closed.size)
        if k == 0:
            break
        trial = best.copy()
        trial[rng.choice(free_open, k, replace=False)] = False
        trial[rng.choice(closed, k, replace=False)] = True
        trial = greedy_interchange(D, w, p, locked, allowed, left, start=trial)
        cost = pmedian_cost(D, w, trial)
        if cost < best_cost - 1e-9 * max(1.0, best_cost):
            best, best_cost = trial, cost
    return best


def lagrangian_bound(
    D: np.ndarray,
    w: np.ndarray,
    p: int,
    upper: float,
    start_open: np.ndarray,
    locked: np.ndarray | None = None,
    allowed: np.ndarray | None = None,
    max_iter: int = 3_000,
    time_budget: float = 600.0,
    target_gap: float = 0.0,
    lam0: np.ndarray | None = None,
    stall: int = STALL,
    step: float = 0.0,
) -> dict[str, np.ndarray | float]:
    """Lagrangian lower bound of the p-median and the sites it can fix.

    The assignment rows ``sum_j x_ij = 1`` are relaxed with multipliers
    ``lam``; for any ``lam`` the relaxed optimum ``L(lam)`` is a valid lower
    bound. Multipliers follow a subgradient method with Polyak steps towards
    ``upper`` (the cost of a known solution).

    A site whose forced opening (closing) raises the bound above ``upper``
    is closed (open) in every solution better than ``upper``, so fixing it
    keeps the search exact.

    The run is bounded by work: it ends after ``max_iter`` iterations, when
    the step has been halved below 1e-4 (halved after ``stall`` iterations
    without progress) or when the gap reaches ``target_gap``;
    ``time_budget`` (seconds) is only a safety cap, so the same input gives
    the same bound on any machine that does not reach it.

    With ``step`` > 0 every plan costs a multiple of ``step`` (see
    :func:`objective_step`): a better plan costs at most ``upper - step``,
    so the run also ends once the bound exceeds that (``upper`` is then
    proven optimal) and a site is fixed when forcing it lifts the bound
    above it.

    Returns
    -------
    dict
        ``bound`` (best lower bound), ``fix_closed`` and ``fix_open`` (bool
        masks), ``iterations``, ``upper``/``best_open`` (best plan seen, cost
        over the demand points with positive weight), ``lam`` (multipliers of
        the bound, one per point with positive weight) and ``chosen`` (the
        relaxation's sites at ``lam``).
    """
    t0 = time.perf_counter()
    n, m = D.shape
    locked = np.zeros(m, bool) if locked is None else locked
    allowed = np.ones(m, bool) if allowed is None else allowed
    keep = w > 0
    C = w[keep, None] * np.where(np.isfinite(D[keep]), D[keep], np.inf)
    finite = np.isfinite(C)
    big = float(C[finite].max()) * 10.0 + 1.0 if finite.any() else 1.0
    C = np.where(finite, C, big)
    free = allowed & ~locked
    k_free = p - int(locked.sum())
    # Sparse pricing: only the T cheapest sites of each point are kept and its
    # multiplier is capped at the T-th cost, so dropped pairs (cost >= cap)
    # could never price negatively: the bound stays exact for these multipliers.
    T = int(min(m, max(50, 5 * math.ceil(m / max(p, 1)))))
    if m > T:
        It = np.argpartition(C, T - 1, axis=1)[:, :T]
    else:
        It = np.broadcast_to(np.arange(m), C.shape).copy()
    Ct = np.take_along_axis(C, It, axis=1)
    cap = Ct.max(axis=1)
    flat_sites = It.ravel()
    dense = m <= T  # It is every site in order: sums by column, no scatter
    red = np.empty_like(Ct)  # reduced costs min(0, c - lam), one buffer
    lam = np.where(start_open[None, :], C, np.inf).min(axis=1) if lam0 is None else lam0
    lam = np.minimum(lam, cap)
    best = -np.inf
    best_rho = None
    best_order = None
    best_open = start_open.copy()
    stall_limit = stall
    theta, stall = 2.0, 0
    it = 0
    for _ in range(max_iter):
        it += 1
        np.subtract(Ct, lam[:, None], out=red)
        np.minimum(red, 0.0, out=red)
        if dense:
            rho = red.sum(axis=0)  # every site kept, in order: column sums
        else:
            rho = np.bincount(flat_sites, weights=red.ravel(), minlength=m)
        cand = np.where(free, rho, np.inf)
        order = np.argsort(cand, kind="stable")
        chosen = locked.copy()
        chosen[order[:k_free]] = True
        value = float(lam.sum() + rho[chosen].sum())
        if not np.isfinite(best) or value > best + 1e-9 * max(1.0, abs(best)):
            best, best_rho, best_order, stall = value, rho.copy(), order, 0
            best_lam, best_chosen = lam.copy(), chosen.copy()
        else:
            stall += 1
            if stall >= max(stall_limit, 1):
                theta, stall = theta / 2.0, 0
        if it % 5 == 1:
            # Lagrangian heuristic: the relaxed choice of sites is a valid plan.
            cost = float(C[:, chosen].min(axis=1).sum())
            if cost < upper:
                upper, best_open = cost, chosen.copy()
        if upper - best <= target_gap * upper or theta < 1e-4:
            break
        if step > 0 and best > upper - step + 1e-9 * abs(upper):
            break  # no plan costs less than upper: it is optimal
        if time.perf_counter() - t0 > time_budget:
            break
        if dense:
            g = 1.0 - (red[:, chosen] < 0).sum(axis=1)
        else:
            g = 1.0 - ((red < 0) & chosen[It]).sum(axis=1)
        norm = float(g @ g)
        if norm == 0:
            break  # relaxed solution is feasible: the bound is the optimum
        lam = np.minimum(lam + theta * (upper - value) / norm * g, cap)
    fix_closed = np.zeros(m, bool)
    fix_open = np.zeros(m, bool)
    if best_rho is not None and k_free > 0:
        cand = np.where(free, best_rho, np.inf)
        sel = best_order[:k_free]
        rest = best_order[k_free:]
        rest = rest[np.isfinite(cand[rest])]
        worst_in = float(cand[sel].max())
        # Every plan better than ``upper`` costs at most ``better``.
        better = upper - step if step > 0 else upper
        if rest.size:
            best_out = float(cand[rest].min())
            limit = better + 1e-9 * abs(upper)
            fix_closed[rest] = best + cand[rest] - worst_in > limit
            fix_open[sel] = best - cand[sel] + best_out > limit
    return {
        "bound": best,
        "fix_closed": fix_closed,
        "fix_open": fix_open,
        "iterations": it,
        "upper": upper,
        "best_open": best_open,
        "lam": best_lam,
        "chosen": best_chosen,
    }


def distance_caps(
    w: np.ndarray, lag: dict, upper: float, tol: float = 1e-7
) -> np.ndarray:
    """Largest distance each demand point can have in a plan costing ``upper`` or less.

    For multipliers ``lam`` with Lagrangian value ``L`` (the result ``lag`` of
    :func:`lagrangian_bound`), any plan whose points are at distances ``d``
    costs at least ``L + sum_i max(0, w_i d_i - lam_i)``: the relaxed
    choice of sites is the cheapest for these multipliers, and each point
    pays its reduced cost on top. So in a plan costing at most ``upper``,
    ``w_i d_i <= lam_i + (upper - L)`` for every point: the radius of each
    point is cut there (``inf`` for points without demand).

    Examples
    --------
    >>> lag = {"bound": 10.0, "lam": np.array([4.0, 6.0])}
    >>> distance_caps(np.array([1.0, 2.0]), lag, 12.0, tol=0.0).tolist()
    [6.0, 4.0]
    """
    w = np.asarray(w, float)
    keep = w > 0
    slack = upper - float(lag["bound"]) + tol * max(1.0, abs(upper))
    caps = np.full(w.shape, np.inf)
    caps[keep] = (np.asarray(lag["lam"], float) + slack) / w[keep]
    return caps
