"""Lagrangian branch-and-bound for the plain p-median (Beasley 1993).

Relaxing the assignment rows ``sum_j x_ij = 1`` with multipliers ``u_i``
leaves one subproblem per site: open, site ``j`` serves every point with a
negative reduced cost, worth ``rho_j = sum_i min(0, c_ij - u_i)``. The
relaxed optimum opens the sites fixed open and the cheapest free ones, so
``L(u) = sum_i u_i + sum_{open} rho_j`` is a lower bound of every plan of the
node (any ``u``). Subgradient steps raise it.

At each node, with bound ``L`` and the best plan's cost ``UB``, a free site
``j`` left out of the relaxed choice would raise the bound to
``L + rho_j - rho_k`` if forced open (``rho_k`` the last site chosen), and a
chosen one to ``L - rho_j + rho_{k+1}`` if forced closed: when that exceeds
what a better plan may cost (``UB - step``, with ``step`` = 1 when every plan
costs an integer), the site is fixed for the whole subtree. The search is
depth first, branching on the chosen free site whose closing would raise
the bound most (its open branch first), and warm starts every node from its
parent's multipliers. A point's multiplier never needs to exceed its cost to
the nearest site fixed open (lowering it there cannot lower the bound).

Everything is bounded by work (nodes, subgradient steps) and has no random
part, so the same input gives the same plan and bound; the time limit only
cuts a run short, and the bound returned is then the least over the parts
of the tree left unexplored, still a proven one.

Reference: Beasley (1993), *Lagrangean heuristics for location problems*,
EJOR 65, 383-399.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from optimization.solver import relative_gap

__all__ = [
    "SparseCosts",
    "TreeResult",
    "lagrangian_tree",
    "node_bound",
    "site_fixings",
]

#: Subgradient steps at the root and at every other node.
ROOT_ITERATIONS = 1_500
NODE_ITERATIONS = 80
#: Steps without a better bound before the step factor is halved.
ROOT_STALL = 40
NODE_STALL = 8
#: First step factor at the root and at other nodes (warm started).
ROOT_THETA = 2.0
NODE_THETA = 1.0
#: Relaxed choices of sites evaluated as plans: one in this many steps.
PLAN_EVERY = 4


@dataclass
class NodeBound:
    """The best Lagrangian bound of one node, and what it fixes."""

    bound: float
    lam: np.ndarray
    chosen: np.ndarray  # bool over the node's columns: the relaxed choice
    rho: np.ndarray
    fix_closed: np.ndarray  # bool over columns (free sites only)
    fix_open: np.ndarray
    close_bound: np.ndarray  # bound with each chosen free site closed (inf else)
    excluded: float  # least bound of what the fixings cut off (inf: none)
    iterations: int
    best_cost: float
    best_plan: np.ndarray | None  # bool over columns, a plan cheaper than UB


@dataclass
class TreeResult:
    """Best plan and proven bound of :func:`lagrangian_tree`.

    ``complete`` is True when the whole tree was explored: the plan is then
    optimal (within ``gap_rel``) and ``bound`` proves it.
    """

    plan: np.ndarray
    cost: float
    bound: float
    complete: bool
    nodes: int
    iterations: int


def _round(bound: float, step: float) -> float:
    if step <= 0 or not math.isfinite(bound):
        return bound
    return step * math.ceil(bound / step - 1e-6)


def _cuts(bound: float, upper: float, step: float, gap_rel: float) -> bool:
    """No plan of a region with this lower bound is worth exploring.

    Its plans cost at least ``round(bound)``: nothing there beats ``upper``
    by more than the gap tolerance (with integer costs: by a whole step).
    The test is the one a solve's status is given by (:func:`relative_gap`),
    so a tree that cuts everything proves its plan within ``gap_rel``.
    """
    return relative_gap(upper, _round(bound, step)) <= gap_rel


def site_fixings(
    bound: float,
    rho: np.ndarray,
    free_idx: np.ndarray,
    k: int,
    upper: float,
    step: float = 0.0,
    gap_rel: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Free sites the Lagrangian bound fixes for every plan better than ``upper``.

    ``bound`` is the Lagrangian value at site values ``rho`` that opens the
    ``k`` cheapest free sites ``free_idx`` (plus those fixed open). A left-out
    site forced open replaces the k-th chosen: bound ``bound + rho_j - rho_k``;
    a chosen site forced closed lets in the first left out: ``bound - rho_j
    + rho_{k+1}``. When that bound cuts (see :func:`_cuts`: with integer
    costs, it exceeds ``upper - step``), the site is fixed.

    Returns
    -------
    fix_closed, fix_open : ndarray of bool, like ``rho``
    close_bound : ndarray
        Bound with each chosen free site closed (``inf`` for the others).
    excluded : float
        Least bound of the plans the fixings cut off (``inf``: none).

    Examples
    --------
    Plans cost integers; the best known costs 10; sites worth 8, 9 and 10:

    >>> closed, opened, _, _ = site_fixings(
    ...     8.0, np.array([8.0, 9.0, 10.0]), np.arange(3), 1, 10.0, step=1.0)
    >>> closed.tolist(), opened.tolist()  # a plan on site 1 could cost 9
    ([False, False, True], [False, False, False])
    """
    mc = rho.size
    fix_closed = np.zeros(mc, bool)
    fix_open = np.zeros(mc, bool)
    close_bound = np.full(mc, math.inf)
    excluded = math.inf
    order = free_idx[np.argsort(rho[free_idx], kind="stable")]
    sel, rest = order[:k], order[k:]
    if k <= 0 or not rest.size or _cuts(bound, upper, step, gap_rel):
        return fix_closed, fix_open, close_bound, excluded
    kth, next_out = rho[sel[-1]], rho[rest[0]]
    opened_bound = bound + rho[rest] - kth
    cut = np.array([_cuts(b, upper, step, gap_rel) for b in opened_bound])
    fix_closed[rest[cut]] = True
    if cut.any():
        excluded = min(excluded, float(opened_bound[cut].min()))
    close_bound[sel] = bound - rho[sel] + next_out
    cut = np.array([_cuts(b, upper, step, gap_rel) for b in close_bound[sel]])
    fix_open[sel[cut]] = True
    if cut.any():
        excluded = min(excluded, float(close_bound[sel][cut].min()))
    return fix_closed, fix_open, close_bound, excluded


class SparseCosts:
    """Each point's ``T`` cheapest sites, for pricing a node in ``n x T`` work.

    A Lagrangian node only needs the pairs whose reduced cost ``c_ij - u_i``
    is negative. With ``u_i`` kept at most the cost of the point's cheapest
    site left out (:attr:`cap`), every pair left out has a reduced cost of at
    least 0, so the node's bound is computed exactly from the ``T`` kept
    pairs: a valid bound for these multipliers, at a fraction of the work of
    every pair (the cap can only make the bound weaker, never wrong).

    Examples
    --------
    >>> S = SparseCosts(np.array([[3.0, 1.0, 2.0], [5.0, 4.0, 6.0]]), 2)
    >>> S.site.tolist(), S.cost.tolist(), S.cap.tolist()
    ([[1, 2], [1, 0]], [[1.0, 2.0], [4.0, 5.0]], [3.0, 6.0])
    """

    def __init__(self, C: np.ndarray, T: int):
        n, m = C.shape
        self.m = m
        T = int(min(max(T, 1), m))
        if m > T:
            idx = np.argpartition(C, T, axis=1)
            self.cap = np.take_along_axis(C, idx[:, T : T + 1], axis=1)[:, 0]
            idx = idx[:, :T]
        else:
            idx = np.broadcast_to(np.arange(m), (n, m))
            self.cap = C.max(axis=1)
        cost = np.take_along_axis(C, idx, axis=1)
        order = np.argsort(cost, axis=1, kind="stable")
        self.site = np.take_along_axis(idx, order, axis=1)
        self.cost = np.take_along_axis(cost, order, axis=1)
        self.flat = self.site.ravel()


def _dense_pricing(C: np.ndarray, is_open: np.ndarray):
    """Site values and subgradients of a node over its columns ``C`` (every pair)."""
    cap = C[:, is_open].min(axis=1) if is_open.any() else C.max(axis=1)
    buf = np.empty_like(C)

    def price(lam: np.ndarray):
        red = np.subtract(C, lam[:, None], out=buf)
        np.minimum(red, 0.0, out=red)
        rho = red.sum(axis=0)

        def served(chosen: np.ndarray) -> np.ndarray:
            return (red[:, chosen] < 0).sum(axis=1)

        return rho, served

    def plan_cost(chosen: np.ndarray) -> float:
        return float(C[:, chosen].min(axis=1).sum())

    return cap, price, plan_cost


def _sparse_pricing(
    S: SparseCosts, C: np.ndarray, cols: np.ndarray, is_open: np.ndarray
):
    """As :func:`_dense_pricing` on the kept pairs ``S`` of the node's columns ``cols``."""
    m = S.m
    alive = np.zeros(m, bool)
    alive[cols] = True
    live = alive[S.site]
    open_full = np.zeros(m, bool)
    open_full[cols[is_open]] = True
    # u_i never above the cheapest site left out, nor above a site fixed open.
    cap = np.where(live & open_full[S.site], S.cost, np.inf).min(axis=1)
    cap = np.minimum(cap, S.cap)
    big = np.where(live, 0.0, math.inf)  # closed sites' pairs never price
    base = S.cost + big
    buf = np.empty_like(base)

    def price(lam: np.ndarray):
        red = np.subtract(base, lam[:, None], out=buf)
        np.minimum(red, 0.0, out=red)
        rho = np.bincount(S.flat, weights=red.ravel(), minlength=m)[cols]

        def served(chosen: np.ndarray) -> np.ndarray:
            full = np.zeros(m, bool)
            full[cols[chosen]] = True
            return ((red < 0) & full[S.site]).sum(axis=1)

        return rho, served

    def plan_cost(chosen: np.ndarray) -> float:
        return float(C[:, cols[chosen]].min(axis=1).sum())

    return cap, price, plan_cost


def node_bound(
    C: np.ndarray,
    is_open: np.ndarray,
    k: int,
    lam: np.ndarray,
    upper: float,
    step: float = 0.0,
    gap_rel: float = 0.0,
    max_iter: int = NODE_ITERATIONS,
    stall_limit: int = NODE_STALL,
    theta: float = NODE_THETA,
    deadline: float | None = None,
    sparse: SparseCosts | None = None,
    cols: np.ndarray | None = None,
) -> NodeBound:
    """Subgradient optimisation of the node's bound, then its site fixings.

    Parameters
    ----------
    C : ndarray (n, mc)
        Weighted costs of the node's columns (sites not fixed closed); with
        ``sparse``, the costs of every site (``cols`` are the node's columns).
    is_open : ndarray of bool (mc,)
        Columns fixed open.
    k : int
        Free columns to open (``p`` minus the fixed open), ``0 < k < free``.
    lam : ndarray (n,)
        Starting multipliers.
    upper : float
        Cost of the best plan known (steers the steps; fixings keep every
        plan beating it).
    sparse, cols : SparseCosts, ndarray of int, optional
        Price the node on each point's kept pairs only (see
        :class:`SparseCosts`); ``cols`` are the node's columns in ``C``.
    """
    if sparse is None:
        cap, price, plan_cost = _dense_pricing(C, is_open)
    else:
        cap, price, plan_cost = _sparse_pricing(sparse, C, cols, is_open)
    mc = is_open.size
    free = ~is_open
    free_idx = np.flatnonzero(free)
    lam = np.minimum(lam, cap)
    best = -math.inf
    best_lam = lam
    best_rho = np.zeros(mc)
    best_chosen = is_open.copy()
    best_cost, best_plan = math.inf, None
    stall = 0
    it = 0
    for it in range(1, max_iter + 1):
        rho, served = price(lam)
        rf = rho[free_idx]
        sel = free_idx[np.argpartition(rf, k - 1)[:k]] if k < rf.size else free_idx
        chosen = is_open.copy()
        chosen[sel] = True
        value = float(lam.sum() + rho[chosen].sum())
        if value > best + 1e-9 * max(1.0, abs(best)) or not math.isfinite(best):
            best, best_lam, best_rho, best_chosen, stall = (
                value,
                lam,
                rho,
                chosen,
                0,
            )
        else:
            stall += 1
            if stall >= stall_limit:
                theta, stall = theta / 2.0, 0
        if it % PLAN_EVERY == 1:
            cost = plan_cost(chosen)
            if cost < min(upper, best_cost):
                best_cost, best_plan = cost, chosen
        target = min(upper, best_cost)
        if _cuts(best, target, step, gap_rel) or theta < 1e-3:
            break
        if deadline is not None and time.perf_counter() > deadline:
            break
        g = 1.0 - served(chosen)
        norm = float(g @ g)
        if norm == 0:
            break  # the relaxed choice serves every point once: tight
        lam = np.minimum(lam + theta * (target - value) / norm * g, cap)
    upper = min(upper, best_cost)
    fix_closed, fix_open, close_bound, excluded = site_fixings(
        best, best_rho, free_idx, k, upper, step, gap_rel
    )
    return NodeBound(
        bound=best,
        lam=best_lam,
        chosen=best_chosen,
        rho=best_rho,
        fix_closed=fix_closed,
        fix_open=fix_open,
        close_bound=close_bound,
        excluded=excluded,
        iterations=it,
        best_cost=best_cost,
        best_plan=best_plan,
    )


def lagrangian_tree(
    C: np.ndarray,
    p: int,
    plan: np.ndarray,
    upper: float,
    lam: np.ndarray,
    closed: np.ndarray | None = None,
    opened: np.ndarray | None = None,
    step: float = 0.0,
    gap_rel: float = 0.0,
    max_work: float = 3e11,
    deadline: float | None = None,
    improve=None,
    on_bound=None,
    prefix: int | None = None,
    on_prove=None,
) -> TreeResult:
    """Depth-first Lagrangian branch-and-bound over the sites.

    Parameters
    ----------
    C : ndarray (n, m)
        Weighted costs (finite; a forbidden pair costs more than any plan).
    p : int
        Sites to open.
    plan, upper : ndarray of bool (m,), float
        Best plan known and its cost (``C``'s nearest-site sum).
    lam : ndarray (n,)
        Multipliers to start from (e.g. the root's Lagrangian stage).
    closed, opened : ndarray of bool (m,), optional
        Sites closed (open) in every plan better than ``plan``.
    step, gap_rel : float
        Plans cost multiples of ``step`` (0: any value); relative gap at
        which a region is cut.
    max_work : float
        Work bound (points x columns x subgradient steps, summed over the
        nodes); past it the search stops with the bound of what is left.
    deadline : float, optional
        ``time.perf_counter()`` time after which the search stops.
    improve : callable, optional
        ``plan -> plan``: a local search applied to each better plan found.
    on_bound : callable, optional
        Told each better plan's cost (progress display).
    on_prove : callable, optional
        Told the tree's bound so far (the least bound of the regions left and
        cut off) each time it rises (progress display).
    prefix : int, optional
        Price the nodes on each point's ``prefix`` cheapest sites only
        (:class:`SparseCosts`): same bounds where no multiplier reaches its
        cap, ``n x prefix`` work per step instead of ``n x m``.
    """
    n, m = C.shape
    closed = np.zeros(m, bool) if closed is None else closed.copy()
    opened = np.zeros(m, bool) if opened is None else opened.copy()
    best_plan, best_cost = plan.copy(), float(upper)
    excluded = math.inf  # least bound of every region cut off so far
    nodes = iterations = 0
    work = 0.0
    # A node: (closed, opened, multipliers, bound of its parent)
    stack = [(closed, opened, np.asarray(lam, float), -math.inf)]
    complete = True
    sparse = SparseCosts(C, prefix) if prefix is not None and prefix < m else None

    def offer(mask: np.ndarray, cost: float) -> None:
        nonlocal best_plan, best_cost
        if improve is not None:
            better = improve(mask)
            c2 = float(C[:, better].min(axis=1).sum())
            if c2 < cost:
                mask, cost = better, c2
        if cost < best_cost:
            best_plan, best_cost = mask.copy(), cost
            if on_bound is not None:
                on_bound(cost)

    shown = -math.inf
    while stack:
        if on_prove is not None:
            # Every plan lies in a region on the stack, one cut off (excluded)
            # or a leaf offered: the least of their bounds is proven now.
            now = min(excluded, min(entry[3] for entry in stack))
            now = min(best_cost, _round(now, step))
            if now > shown:
                shown = now
                on_prove(now)
        if work >= max_work or (
            deadline is not None and time.perf_counter() > deadline
        ):
            complete = False
            break
        cl, op, lam_n, parent = stack.pop()
        if _cuts(parent, best_cost, step, gap_rel):
            excluded = min(excluded, parent)
            continue
        nodes += 1
        cols = np.flatnonzero(~cl)
        k = p - int(op.sum())
        if k < 0 or cols.size < p:
            continue  # no plan here
        if cols.size == p or k == 0:
            leaf = np.zeros(m, bool)
            leaf[cols if cols.size == p else np.flatnonzero(op)] = True
            offer(leaf, float(C[:, leaf].min(axis=1).sum()))
            continue
        is_open = op[cols]
        root = nodes == 1
        nb = node_bound(
            C[:, cols] if sparse is None else C,
            is_open,
            k,
            lam_n,
            best_cost,
            step,
            gap_rel,
            max_iter=ROOT_ITERATIONS if root else NODE_ITERATIONS,
            stall_limit=ROOT_STALL if root else NODE_STALL,
            theta=ROOT_THETA if root else NODE_THETA,
            deadline=deadline,
            sparse=sparse,
            cols=cols,
        )
        iterations += nb.iterations
        width = cols.size if sparse is None else sparse.site.shape[1]
        work += float(nb.iterations) * n * width
        if nb.best_plan is not None:
            mask = np.zeros(m, bool)
            mask[cols[nb.best_plan]] = True
            offer(mask, nb.best_cost)
        if _cuts(nb.bound, best_cost, step, gap_rel):
            excluded = min(excluded, nb.bound)
            continue
        excluded = min(excluded, nb.excluded)
        cl = cl.copy()
        op = op.copy()
        cl[cols[nb.fix_closed]] = True
        op[cols[nb.fix_open]] = True
        k = p - int(op.sum())
        left = int((~cl).sum())
        if k < 0 or left < p:
            continue  # no plan left here
        if k == 0 or left == p:
            leaf = op if k == 0 else ~cl
            offer(leaf, float(C[:, leaf].min(axis=1).sum()))
            # Its plans other than the leaf were cut off by the fixings.
            continue
        # Branch on the chosen free site whose closing raises the bound most.
        free_left = ~is_open & ~nb.fix_open & ~nb.fix_closed
        cand = nb.chosen & free_left
        if not cand.any():
            cand = free_left
        score = np.where(cand, nb.close_bound, -math.inf)
        score = np.where(cand & ~np.isfinite(score), nb.bound, score)
        j = cols[int(np.argmax(score))]
        bclosed = float(max(nb.bound, score.max()))
        cl_child = cl.copy()
        cl_child[j] = True
        op_child = op.copy()
        op_child[j] = True
        # Depth first: the open branch is explored first (pushed last).
        stack.append((cl_child, op, nb.lam, bclosed))
        stack.append((cl, op_child, nb.lam, nb.bound))
    if not complete:
        for _, _, _, b in stack:
            excluded = min(excluded, b)
    bound = min(best_cost, _round(excluded, step))
    return TreeResult(best_plan, best_cost, bound, complete, nodes, iterations)
