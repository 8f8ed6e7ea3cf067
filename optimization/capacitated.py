"""Feasible plans rounded from an LP relaxation, found fast.

Mostly for the capacitated p-median; :func:`round_open_sites` also serves
the uncapacitated radius formulation (budgets, equity), where capacities are
simply absent.

The exact capacitated solve (:meth:`optimization.pmedian.PMedian.solve`) needs
a good full plan early: it is the incumbent that lets reduced-cost fixing
remove most columns before the MIP, and the MIP's warm start. A plan is built
in two steps, both plain LP/MIP on small models:

1. :func:`round_open_sites` turns the LP relaxation's fractional open sites
   into a set of open sites with enough capacity;
2. :func:`assign_to_open_sites` serves the demand from those sites: the
   transportation LP (split assignment, exact for that set), then, for single
   assignment, a small MIP re-assigns the few points the LP split, within the
   capacity the others leave.

Nothing here decides optimality: a plan is only an upper bound.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from optimization.inputs import SiteRules
from optimization.solver import LinearModel, solve_model, solve_relaxation

__all__ = [
    "Plan",
    "assign_to_open_sites",
    "greedy_assignment",
    "reassign_single",
    "round_open_sites",
]

#: Points whose swaps :func:`greedy_assignment` tries at each move (the
#: costliest ones): a work bound.
SWAP_CANDIDATES = 64

#: Open sites per point (its cheapest ones, besides its own) that
#: :func:`reassign_single` may move it to.
REASSIGN_NEAREST = 5

#: HiGHS interrupt checks :func:`reassign_single`'s MIP may use: a work
#: bound, so that the same plan comes out however loaded the machine.
REASSIGN_WORK = 400

#: Capacity margin over total demand asked of a rounded set of sites when
#: the number of sites is free (single assignment needs some slack).
CAPACITY_MARGIN = 1.02


def round_open_sites(
    y: np.ndarray,
    rules: SiteRules,
    weights: np.ndarray,
    p: int | None = None,
    threshold: float = 0.5,
) -> np.ndarray | None:
    """Open sites rounded from LP values, with capacity for the whole demand.

    Parameters
    ----------
    y : ndarray, shape (m,)
        Fractional open values (e.g. the LP relaxation's).
    rules : SiteRules
        Locked and forbidden sites, capacities (modules included).
    weights : ndarray, shape (n,)
        Demand.
    p : int, optional
        Exact number of sites to open; otherwise sites with ``y >= threshold``
        open, and more by decreasing ``y`` while capacity is short, within the
        most new sites allowed.
    threshold : float
        LP value from which a site opens when ``p`` is not given.

    Returns
    -------
    ndarray of bool or None
        None when no rounding with enough capacity was found.

    Examples
    --------
    >>> rules = SiteRules.build(3, capacities=[5, 10, 10])
    >>> y, demand = np.array([0.9, 0.6, 0.5]), np.array([6.0, 5.0, 5.0])
    >>> round_open_sites(y, rules, demand, p=2).tolist()  # 5 + 10 < 16: swap
    [False, True, True]
    """
    cap = rules.max_capacity()
    if cap is None:  # uncapacitated: any set has room
        cap = np.full(y.size, np.inf)
    demand = float(weights.sum())
    score = np.where(rules.locked, 2.0, np.where(rules.forbidden, -1.0, y))
    order = np.argsort(-score, kind="stable")
    allowed_order = order[score[order] >= 0]
    open_mask = np.zeros(y.size, bool)
    if p is not None:
        if allowed_order.size < p:
            return None
        open_mask[allowed_order[:p]] = True
        # Swap the smallest open site for a larger closed one until capacity
        # suffices (locked sites stay).
        for _ in range(p):
            if cap[open_mask].sum() >= demand:
                return open_mask
            out = np.flatnonzero(open_mask & ~rules.locked)
            if out.size == 0:
                return None
            j_out = out[np.argmin(cap[out] + 1e-6 * score[out])]
            closed = allowed_order[~open_mask[allowed_order]]
            bigger = closed[cap[closed] > cap[j_out]]
            if bigger.size == 0:
                return None
            open_mask[j_out] = False
            open_mask[bigger[0]] = True  # highest score among the bigger ones
        return open_mask if cap[open_mask].sum() >= demand else None
    new_left = np.inf if rules.max_new is None else rules.max_new
    for j in allowed_order:
        enough = cap[open_mask].sum() >= CAPACITY_MARGIN * demand
        if score[j] < threshold and enough:
            break
        if not rules.existing[j]:
            if new_left <= 0:
                continue
            new_left -= 1
        open_mask[j] = True
    return open_mask if cap[open_mask].sum() >= demand else None


@dataclass
class Plan:
    """A full plan of the capacitated p-median.

    Attributes
    ----------
    open : ndarray of bool, shape (m,)
        Open sites.
    modules : ndarray of int or None
        Capacity modules added to each site (None without modules).
    alloc : scipy.sparse.csr_matrix, shape (n, m)
        Share of each point's demand served by each site.
    objective : float
        Its objective in the full model (NaN until charged).
    """

    open: np.ndarray
    modules: np.ndarray | None
    alloc: sp.csr_matrix
    objective: float = math.nan


def assign_to_open_sites(
    cost: np.ndarray,
    weights: np.ndarray,
    open_mask: np.ndarray,
    pairs: np.ndarray,
    rules: SiteRules,
    split: bool = False,
    cost_weight: float = 0.0,
    time_limit: float | None = None,
) -> Plan | None:
    """Serve all demand from the open sites within their capacities.

    Parameters
    ----------
    cost : ndarray, shape (n, m)
        Distance or travel time.
    weights : ndarray, shape (n,)
        Demand.
    open_mask : ndarray of bool, shape (m,)
        Open sites.
    pairs : ndarray of bool, shape (n, m)
        Pairs that may be used.
    rules : SiteRules
        Capacities and capacity modules.
    split : bool
        Allow a point to be served by several sites.
    cost_weight : float
        Objective weight of module costs.
    time_limit : float, optional
        Seconds for the transportation LP and for each re-assignment MIP
        (single assignment; at most 1 s, then 5 s).

    Returns
    -------
    Plan or None
        Its ``open`` sites, ``modules`` and ``alloc`` (a sparse n x m matrix
        of served shares), not yet charged; None when no plan was found.

    Examples
    --------
    >>> rules = SiteRules.build(2, capacities=[3, 10])
    >>> D = np.array([[1.0, 5.0], [1.0, 6.0], [2.0, 1.0]])
    >>> w, both = np.array([2.0, 2.0, 1.0]), np.array([True, True])
    >>> plan = assign_to_open_sites(D, w, both, np.ones((3, 2), bool), rules)
    >>> plan.alloc.toarray().tolist()  # site 0 holds one of the first two
    [[0.0, 1.0], [1.0, 0.0], [0.0, 1.0]]
    """
    n, m = cost.shape
    w = weights
    pos = w > 0
    use = pairs & open_mask[None, :] & pos[:, None]
    ii, jj = np.nonzero(use)
    model = LinearModel("transport")
    x = model.add_vars("x", ii.size, ub=1.0, cost=w[ii] * cost[ii, jj])
    model.add_rows("assign", ii, x, 1.0, lo=pos.astype(float), hi=1.0, n=n)
    cap_rows, cap_cols, cap_vals = [jj], [x], [w[ii]]
    k = None
    if rules.module_size is not None:
        k = model.add_vars(
            "modules",
            m,
            ub=np.where(open_mask, rules.max_modules, 0.0),
            cost=cost_weight * rules.module_cost,
        )
        cap_rows.append(np.arange(m))
        cap_cols.append(k)
        cap_vals.append(-rules.module_size)
    model.add_rows(
        "capacity",
        np.concatenate(cap_rows),
        np.concatenate(cap_cols),
        np.concatenate(cap_vals),
        hi=np.where(open_mask, rules.capacities, 0.0),
        n=m,
    )
    lp = solve_relaxation(model, time_limit)
    if lp is None:
        return None
    share = lp.values[x]
    modules = None
    capacity = rules.capacities.astype(float)
    if k is not None:
        modules = np.ceil(lp.values[k] - 1e-7).astype(int)
        capacity = capacity + rules.module_size * modules
    if split:
        keep = share > 1e-12
        alloc = sp.csr_matrix((share[keep], (ii[keep], jj[keep])), shape=(n, m))
        return Plan(open_mask.copy(), modules, alloc)
    # Single assignment: points the LP serves whole keep their site; the few
    # split points (at most one per open site in a basic solution) are placed
    # by a small MIP in the capacity left.
    whole = share > 1 - 1e-7
    site = np.full(n, -1)
    site[ii[whole]] = jj[whole]
    load = np.bincount(site[site >= 0], weights=w[site >= 0], minlength=m)
    rest = np.flatnonzero(pos & (site < 0))
    if rest.size:
        placed = _place(cost, w, rest, use, capacity - load, 1.0, time_limit)
        if placed is not None:
            site[rest] = placed
        else:
            # The split points do not fit in what is left: re-assign everyone,
            # by the greedy placement when it finds room, else by a MIP over
            # every pair.
            greedy = greedy_assignment(cost, w, open_mask, use, capacity)
            if greedy is not None:
                site = greedy
            else:
                every = np.flatnonzero(pos)
                placed = _place(cost, w, every, use, capacity, 5.0, time_limit)
                if placed is None:
                    return None
                site[every] = placed
        # Points placed in the room others left may be far from it: chains of
        # moves bring them back (on the demo's stress case the rounded plan
        # was 13% above the best assignment of its sites).
        site = reassign_single(
            cost, w, open_mask, use, capacity, site, time_limit=time_limit
        )
    served = np.flatnonzero(site >= 0)
    alloc = sp.csr_matrix((np.ones(served.size), (served, site[served])), shape=(n, m))
    return Plan(open_mask.copy(), modules, alloc)


def _place(
    cost: np.ndarray,
    w: np.ndarray,
    points: np.ndarray,
    use: np.ndarray,
    room: np.ndarray,
    seconds: float,
    time_limit: float | None,
) -> np.ndarray | None:
    """Single-assign ``points`` to sites with ``room`` left, at least cost.

    A small MIP given ``seconds`` at most (less if ``time_limit`` is nearer).
    """
    fits = use[points] & (w[points, None] <= room[None, :] + 1e-9)
    pi, jj = np.nonzero(fits)
    model = LinearModel("place")
    x = model.add_vars(
        "x", pi.size, ub=1.0, cost=w[points[pi]] * cost[points[pi], jj], integer=True
    )
    model.add_rows("assign", pi, x, 1.0, lo=1.0, hi=1.0, n=points.size)
    model.add_rows("room", jj, x, w[points[pi]], hi=room, n=room.size)
    limit = seconds if time_limit is None else max(min(time_limit, seconds), 0.05)
    values, _ = solve_model(model, "highs", limit, 1e-4)
    if values is None:
        return None
    chosen = values[x] > 0.5
    out = np.full(points.size, -1)
    out[pi[chosen]] = jj[chosen]
    return out if (out >= 0).all() else None


def greedy_assignment(
    cost: np.ndarray,
    weights: np.ndarray,
    open_mask: np.ndarray,
    pairs: np.ndarray,
    capacity: np.ndarray,
    max_moves: int | None = None,
) -> np.ndarray | None:
    """Single assignment within capacities: regret greedy, then shifts and swaps.

    Points with demand are placed by decreasing regret (weighted gap between
    their two cheapest open sites), each on its cheapest open site with room;
    then the best improving *shift* (one point to another site with room) or
    *swap* (two points of two sites exchange them) is applied while one
    exists, at most ``max_moves`` times (default ``n / 4``); swaps are looked
    for among the :data:`SWAP_CANDIDATES` costliest points. Deterministic, in
    numpy, far faster than a MIP: a good plan, not a proven one.

    Parameters
    ----------
    cost : ndarray, shape (n, m)
        Distance or travel time.
    weights : ndarray, shape (n,)
        Demand.
    open_mask : ndarray of bool, shape (m,)
        Open sites.
    pairs : ndarray of bool, shape (n, m)
        Pairs that may be used.
    capacity : ndarray, shape (m,)
        Capacity of each site.
    max_moves : int, optional
        Work bound of the local search.

    Returns
    -------
    ndarray of int or None
        Site of each point (-1 for points without demand); None when the
        greedy step could not place every point.

    Examples
    --------
    >>> D = np.array([[1.0, 5.0], [1.0, 6.0], [2.0, 1.0]])
    >>> both = np.array([True, True])
    >>> greedy_assignment(D, np.array([2.0, 2.0, 1.0]), both,
    ...                   np.ones((3, 2), bool), np.array([3.0, 10.0])).tolist()
    [1, 0, 1]
    """
    sites = np.flatnonzero(open_mask)
    pts = np.flatnonzero(weights > 0)
    out = np.full(weights.size, -1)
    if pts.size == 0:
        return out
    if sites.size == 0:
        return None
    w = weights[pts].astype(float)
    cap = capacity[sites].astype(float) + 1e-9 * max(1.0, float(w.max()))
    C = np.where(pairs[np.ix_(pts, sites)], cost[np.ix_(pts, sites)], np.inf)
    W = w[:, None] * C
    k = sites.size
    srt = np.sort(W, axis=1)
    if k > 1:
        regret = np.where(np.isfinite(srt[:, 1]), srt[:, 1] - srt[:, 0], np.inf)
    else:
        regret = np.zeros(pts.size)
    # By regret first; when that order leaves a point without room, heaviest
    # first (what packs tight capacities best).
    for order in (np.lexsort((-w, -regret)), np.argsort(-w, kind="stable")):
        a = _greedy_place(W, w, cap, order)
        if a is not None:
            break
    else:
        return None
    load = np.bincount(a, weights=w, minlength=k)
    idx = np.arange(pts.size)
    moves = max(pts.size // 4, 10) if max_moves is None else max_moves
    tol = 1e-9 * max(1.0, float(np.nansum(W[idx, a])))
    while moves > 0:
        # Best shift.
        cur = W[idx, a]
        room = cap - load
        delta = W - cur[:, None]
        delta[w[:, None] > room[None, :]] = np.inf
        delta[idx, a] = np.inf
        flat = int(np.argmin(delta))
        i, b = divmod(flat, k)
        if delta[i, b] < -tol:
            load[a[i]] -= w[i]
            load[b] += w[i]
            a[i] = b
            moves -= 1
            continue
        # Best swap between one of the costliest points and any other point.
        top = np.argsort(-cur, kind="stable")[:SWAP_CANDIDATES]
        at = a[top]
        gain = W[top][:, a] - cur[top][:, None] + W[:, at].T - cur[None, :]
        fit = (load[at][:, None] - w[top][:, None] + w[None, :] <= cap[at][:, None]) & (
            load[a][None, :] - w[None, :] + w[top][:, None] <= cap[a][None, :]
        )
        gain = np.where(fit & (a[None, :] != at[:, None]), gain, np.inf)
        flat = int(np.argmin(gain))
        t, j = divmod(flat, pts.size)
        if not gain[t, j] < -tol:
            break
        i = top[t]
        ai, aj = a[i], a[j]
        load[ai] += w[j] - w[i]
        load[aj] += w[i] - w[j]
        a[i], a[j] = aj, ai
        moves -= 1
    out[pts] = sites[a]
    return out


def _greedy_place(
    W: np.ndarray, w: np.ndarray, cap: np.ndarray, order: np.ndarray
) -> np.ndarray | None:
    """Each point in ``order`` on its cheapest site with room, or None.

    Each point's sites are sorted once (ties by site index, as ``argmin``
    breaks them) and walked in plain Python until one has room: most points
    take their first site, so this is many times faster than a numpy pass
    over every site per point, with the same result.
    """
    ranked = np.argsort(W, axis=1, kind="stable").tolist()
    finite = np.isfinite(W).sum(axis=1).tolist()
    load = [0.0] * cap.size
    room = cap.tolist()
    weight = w.tolist()
    a = np.full(w.size, -1)
    for i in order.tolist():
        wi = weight[i]
        for b in ranked[i][: finite[i]]:
            if load[b] + wi <= room[b]:
                a[i] = b
                load[b] += wi
                break
        else:
            return None
    return a


def reassign_single(
    cost: np.ndarray,
    weights: np.ndarray,
    open_mask: np.ndarray,
    pairs: np.ndarray,
    capacity: np.ndarray,
    site: np.ndarray,
    nearest: int = REASSIGN_NEAREST,
    work_limit: int = REASSIGN_WORK,
    time_limit: float | None = None,
) -> np.ndarray:
    """A cheaper single assignment to the same open sites, or ``site`` itself.

    The generalised assignment problem restricted to each point's
    ``nearest`` cheapest open sites (allowed, with room for the point
    alone) plus its current one, solved by HiGHS from ``site`` as warm
    start within ``work_limit`` interrupt checks (and ``time_limit``). The
    greedy local search of :func:`greedy_assignment` moves one or two points
    at a time; this one moves chains of them, which is what tight capacities
    need (on the demo's stress case the greedy plan was 1.5% above the best
    assignment of its sites). Never worse than ``site``.

    Parameters
    ----------
    cost, weights, open_mask, pairs, capacity
        As for :func:`greedy_assignment`.
    site : ndarray of int, shape (n,)
        A capacity-feasible assignment of the open sites (-1 for points
        without demand).
    nearest : int
        Cheapest open sites per point kept in the MIP.
    work_limit : int
        HiGHS interrupt checks (see :func:`optimization.solver.solve_model`).
    time_limit : float, optional
        Seconds at most.

    Examples
    --------
    >>> D = np.array([[1.0, 2.0], [1.0, 9.0], [5.0, 1.0]])
    >>> w, both = np.array([2.0, 2.0, 1.0]), np.array([True, True])
    >>> reassign_single(D, w, both, np.ones((3, 2), bool), np.array([2.0, 3.0]),
    ...                 np.array([0, 1, 1])).tolist()  # point 1 is far: swap
    [1, 0, 1]
    """
    pts = np.flatnonzero(weights > 0)
    sites = np.flatnonzero(open_mask)
    if pts.size == 0 or sites.size < 2:
        return site
    w = weights[pts].astype(float)
    ok = pairs[np.ix_(pts, sites)] & (w[:, None] <= capacity[sites][None, :] + 1e-9)
    C = np.where(ok, cost[np.ix_(pts, sites)], np.inf)
    rank = np.argsort(np.argsort(C, axis=1, kind="stable"), axis=1, kind="stable")
    use = ok & (rank < nearest)
    now = np.searchsorted(sites, site[pts])
    use[np.arange(pts.size), now] = True
    pi, jj = np.nonzero(use)
    model = LinearModel("reassign")
    x = model.add_vars(
        "x", pi.size, ub=1.0, cost=w[pi] * cost[pts[pi], sites[jj]], integer=True
    )
    model.add_rows("assign", pi, x, 1.0, lo=1.0, hi=1.0, n=pts.size)
    model.add_rows("room", jj, x, w[pi], hi=capacity[sites], n=sites.size)
    warm = (jj == now[pi]).astype(float)
    if not model.is_feasible(warm):
        return site
    values, _ = solve_model(
        model,
        "highs",
        time_limit,
        1e-6,
        warm_start=warm,
        threads=1,
        work_limit=work_limit,
    )
    if values is None:
        return site
    chosen = values[x] > 0.5
    if np.bincount(pi[chosen], minlength=pts.size).min() != 1:
        return site
    better = site.copy()
    better[pts[pi[chosen]]] = sites[jj[chosen]]
    old = float(w @ cost[pts, site[pts]])
    new = float(w @ cost[pts, better[pts]])
    load = np.bincount(better[pts], weights=w, minlength=cost.shape[1])
    if new >= old or (load > capacity * (1 + 1e-9) + 1e-9).any():
        return site
    return better
