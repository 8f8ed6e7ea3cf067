"""Uncapacitated p-median: a Lagrangian start, then the truncated radius formulation.

:func:`solve_radius` is the algorithm :meth:`optimization.PMedian.solve` runs
when no site has a capacity. It starts from greedy + interchange and, for a
plain p-median, a Lagrangian bound that may prove the start optimal or fix
sites; then Elloumi's radius formulation over the sorted distinct distances
of each demand point, truncated and grown (García, Labbé & Marín 2011), each
round tightened by LP reduced-cost fixing. A truncated model charges a demand
point at most its next distance level, so it is a relaxation: its bound is
valid, and a solution charged exactly is optimal. See docs/optimization.md.

Each step returns a small dataclass (:class:`Levels`, :class:`RadiusModel`,
:class:`RadiusResult`); the p-median itself is passed as ``pm``, read-only.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optimization.base import PMedianProblem
from optimization.capacitated import round_open_sites
from optimization.heuristics import (
    SWAPS_PER_SITE,
    distance_caps,
    greedy_interchange,
    lagrangian_bound,
    objective_step,
    perturbed_interchange,
    round_bound,
)
from optimization.pmedian_tree import TreeResult, lagrangian_tree
from optimization.solver import (
    FEASIBLE,
    INFEASIBLE,
    LP_SHARE,
    NO_SOLUTION,
    OPTIMAL,
    LinearModel,
    SolveOptions,
    SolveReport,
    fix_by_reduced_cost,
    relative_gap,
    solve_fixed,
    solve_relaxation,
)

__all__ = [
    "Levels",
    "RadiusModel",
    "RadiusResult",
    "build_radius",
    "core_plan",
    "distance_levels",
    "plan_objective",
    "solve_radius",
    "tree_prefix",
]

KTH = 2  # warm levels reach the 2nd-nearest open site of the start
#: Model every level within the Lagrangian radii at once when that is at most
#: this many times the levels of the start's 2nd-nearest sites.
CAP_GROWTH = 4.0
#: HiGHS options once the Lagrangian stage has left a strong start: its
#: sub-MIP heuristics then spend much of the time without finding better.
#: Work bounds of the first Lagrangian run (every site) when the dense
#: Lagrangian branch-and-bound follows (:data:`SPARSE_CELLS`); 3,000/100 otherwise.
FIRST_ITERATIONS = 1_500
FIRST_STALL = 50
#: Work bounds of the Lagrangian runs on the sites left after fixing.
REDUCED_ITERATIONS = 600
REDUCED_STALL = 25
#: Lagrangian branch-and-bound: most (points x sites) of a model it runs on,
#: its work bound (cells x subgradient steps) and its share of a time limit.
TREE_CELLS = 12_000_000
#: Above this many points x sites the tree prices each node on every point's
#: :func:`tree_prefix` cheapest sites only (``pmedian_tree.SparseCosts``).
SPARSE_CELLS = 4_000_000
TREE_WORK = 3e11
TREE_SHARE = 0.6
#: With costs that are not all integers, the tree runs only on a gap left of at
#: least this: its leaves need a subgradient bound within the gap tolerance of
#: the best plan, which a small gap over a tight LP (the demo's attendance model,
#: 0.07% left, 13,397 nodes in 67 s) takes far longer to reach than the radius
#: MIP (0.7 s); the OR-Library's 1% formulation gaps have integer costs.
TREE_MIN_GAP = 0.005
#: Models of more points x sites than this are "large": the radius MIP will
#: not finish, so the Lagrangian stage spends work on better plans first.
LARGE_CELLS = 2_000_000
#: Core heuristic of large models (:func:`core_plan`): sites kept per site to
#: open, and the work bound of its tree (cells x subgradient steps). At
#: 5,000 x 1,000, p = 50 the 2 p core is solved at its root (0.8 CPU s), its
#: plan 0.16% better than interchange and kicks; the 3 p core's tree stops at
#: its work bound (24 CPU s) with a plan 0.05% better again.
CORE_SITES = 3
CORE_WORK = 5e9
#: Work bound of the start's interchange (swaps x points x sites) and its
#: safety cap in seconds: bounded by work, the start is the same on a busy
#: machine (a 30 s clock cap cut 10,000 x 2,000 short, earlier when loaded).
START_WORK = 8e8
START_CAP = 600.0
STRONG_START_HIGHS: dict[str, Any] = {
    "mip_heuristic_effort": 0.0,
    "mip_heuristic_run_rens": False,
    "mip_heuristic_run_rins": False,
    "mip_heuristic_run_root_reduced_cost": False,
    "mip_heuristic_run_feasibility_jump": False,
}


@dataclass(frozen=True)
class Levels:
    """Sorted distinct distances ("levels") of each demand point over allowed pairs.

    Attributes
    ----------
    order : ndarray (n, m)
        Sites of each row by increasing distance.
    lev : ndarray (n, m)
        0-based level of each sorted entry.
    K : ndarray (n,)
        Number of distinct finite levels per row.
    values : ndarray (n, m)
        The distinct levels of each row, then ``inf``.
    finite : ndarray (n, m)
        Sorted entries that are allowed pairs.
    pairs : ndarray (n, m)
        Allowed pairs.
    """

    order: np.ndarray
    lev: np.ndarray
    K: np.ndarray
    values: np.ndarray
    finite: np.ndarray
    pairs: np.ndarray

    def level_of(self, dist: np.ndarray) -> np.ndarray:
        """0-based level index of ``dist`` in each row's distinct levels."""
        return np.array(
            [
                int(np.searchsorted(self.values[i, : self.K[i]], dist[i]))
                for i in range(self.K.size)
            ]
        )

    def all_levels(self, weights: np.ndarray) -> np.ndarray:
        """Levels of the full model: every level of every point with demand."""
        full = np.maximum(self.K - 1, 0)
        full[weights <= 0] = 0
        return full


@dataclass(frozen=True)
class RadiusModel:
    """A radius formulation truncated at ``L`` levels per point, and its columns.

    ``z[start[i] + k]`` (owner ``i``) is 1 when no open site is within level
    ``k`` of point ``i``; ``y`` are the site columns.
    """

    model: LinearModel
    y: np.ndarray
    z: np.ndarray
    start: np.ndarray
    owner: np.ndarray
    k: np.ndarray


@dataclass
class RadiusResult:
    """What the uncapacitated solve found: its report, best plan and rounds."""

    report: SolveReport
    open_mask: np.ndarray | None = None
    objective: float = math.inf
    iterations: list[dict[str, Any]] = field(default_factory=list)


def distance_levels(pm: PMedianProblem) -> Levels:
    """The :class:`Levels` of the p-median ``pm`` over its allowed pairs."""
    pairs = pm.allowed_pairs()
    D = np.where(pairs, pm.cost_matrix, np.inf)
    order = np.argsort(D, axis=1, kind="stable")
    Ds = np.take_along_axis(D, order, axis=1)
    new = np.ones_like(Ds, dtype=bool)
    new[:, 1:] = Ds[:, 1:] != Ds[:, :-1]
    finite = np.isfinite(Ds)
    new &= finite
    lev = np.cumsum(new, axis=1) - 1  # 0-based level in sorted order
    K = new.sum(axis=1)
    values = np.full(Ds.shape, np.inf)
    r, c = np.nonzero(new)
    values[r, lev[r, c]] = Ds[r, c]
    return Levels(order, lev, K, values, finite, pairs)


def build_radius(pm: PMedianProblem, lv: Levels, L: np.ndarray) -> RadiusModel:
    """The radius formulation of ``pm`` with the first ``L[i]`` levels of point i."""
    n = pm.n
    w = pm.weights
    model = LinearModel(pm.name)
    y = pm.add_site_columns(model, pm.cost_weight)
    values = lv.values
    model.offset += float(np.sum(w * np.where(lv.K > 0, values[:, 0], 0.0)))
    total = int(L.sum())
    start = np.concatenate([[0], np.cumsum(L)[:-1]]).astype(np.int64)
    owner = np.repeat(np.arange(n), L)
    k = np.arange(total) - start[owner]  # 0-based: z index k means "beyond level k"
    step = values[owner, k + 1] - values[owner, k]
    z = model.add_vars("z", total, ub=1.0, cost=w[owner] * step)
    sel = lv.finite & (lv.lev < L[:, None])
    ii, cc = np.nonzero(sel)
    y_rows = start[ii] + lv.lev[ii, cc]
    y_cols = y[lv.order[ii, cc]]
    chain = np.flatnonzero(k > 0)
    rows = np.concatenate([y_rows, np.arange(total), chain])
    cols = np.concatenate([y_cols, z, z[chain - 1]])
    vals = np.concatenate([np.ones(y_rows.size), np.ones(total), -np.ones(chain.size)])
    lo = np.where(k == 0, 1.0, 0.0)
    model.add_rows("radius", rows, cols, vals, lo=lo, n=total)
    _add_coverage_rows(pm, model, y, lv)
    pm.add_site_rows(model, y)
    pm.add_equity_rows(model, y)
    return RadiusModel(model, y, z, start, owner, k)


def _add_coverage_rows(
    pm: PMedianProblem, model: LinearModel, y: np.ndarray, lv: Levels
) -> None:
    """Every demand point must have an allowed open site."""
    allowed = pm.rules.allowed
    full = (lv.pairs == allowed[None, :]).all(axis=1) | (pm.weights <= 0)
    if full.all():
        cols = y[np.flatnonzero(allowed)]
        model.add_rows("any_open", np.zeros(cols.size), cols, 1.0, lo=1.0, n=1)
        return
    idx = np.flatnonzero(~full)
    ii, jj = np.nonzero(lv.pairs[idx])
    model.add_rows("reach", ii, y[jj], 1.0, lo=1.0, n=idx.size)


def _warm_radius(
    pm: PMedianProblem, built: RadiusModel, lv: Levels, open_mask: np.ndarray
) -> np.ndarray:
    """Column values of the plan ``open_mask`` in the truncated model ``built``."""
    x = np.zeros(built.model.n_cols)
    x[built.y] = open_mask
    lvl = lv.level_of(nearest_distance(pm, open_mask))
    x[built.z] = (built.k < lvl[built.owner]).astype(float)
    if pm.equity is not None:
        pm.warm_equity(built.model, x, open_mask)
    return x


def _open_costs(pm: PMedianProblem, open_mask: np.ndarray) -> np.ndarray:
    return np.where(pm.allowed_pairs() & open_mask[None, :], pm.cost_matrix, np.inf)


def kth_open_distance(pm: PMedianProblem, open_mask: np.ndarray, k: int) -> np.ndarray:
    """Distance of each point to its k-th nearest allowed open site (or nearest)."""
    D = _open_costs(pm, open_mask)
    k = min(k, int(open_mask.sum()))
    out = np.partition(D, k - 1, axis=1)[:, k - 1]
    return np.where(np.isfinite(out), out, D.min(axis=1))


def nearest_distance(pm: PMedianProblem, open_mask: np.ndarray) -> np.ndarray:
    """Distance of each point to its nearest allowed open site (inf if none)."""
    return _open_costs(pm, open_mask).min(axis=1)


def plan_objective(pm: PMedianProblem, open_mask: np.ndarray) -> float:
    """True objective of the plan ``open_mask``: nearest-site distances + costs."""
    d = nearest_distance(pm, open_mask)
    pos = pm.weights > 0
    if not np.all(np.isfinite(d[pos])):
        return math.inf
    dist = float(pm.weights[pos] @ d[pos])
    return dist + pm.cost_weight * pm.rules.change_cost(open_mask)


def _start(pm: PMedianProblem) -> np.ndarray | None:
    """Today's network (free count) or greedy + interchange (given ``p``)."""
    r = pm.rules
    if pm.p is None:
        start = (r.existing | r.locked) & r.allowed
        return start if start.any() else None
    D = np.where(pm.allowed_pairs(), pm.cost_matrix, np.inf)
    swaps = SWAPS_PER_SITE * pm.p + 100
    swaps = max(1, min(swaps, int(START_WORK // max(pm.n * pm.m, 1))))
    return greedy_interchange(
        D,
        pm.weights,
        pm.p,
        r.locked,
        r.allowed,
        time_budget=START_CAP,
        max_swaps=swaps,
    )


def plan_cost_step(pm: PMedianProblem) -> float:
    """1.0 when every plan of ``pm`` costs an integer (integer weighted costs), else 0.

    Then a bound ``b`` proves ``ceil(b)`` and a plan is optimal once a bound
    exceeds its cost minus 1 (see :func:`optimization.heuristics.round_bound`).
    """
    if pm.cost_weight > 0:
        r = pm.rules
        costs = np.concatenate([r.opening_cost, r.closing_cost]) * pm.cost_weight
        if objective_step(costs) == 0.0:
            return 0.0
    pos = np.flatnonzero(pm.weights > 0)
    pairs = pm.allowed_pairs()
    # By blocks of rows: a large non-integer matrix is told apart at once.
    for lo in range(0, pos.size, 256):
        rows = pos[lo : lo + 256]
        block = np.where(pairs[rows], pm.cost_matrix[rows], 0.0)
        if objective_step(pm.weights[rows, None] * block) == 0.0:
            return 0.0
    return 1.0


def _lagrangian_applies(pm: PMedianProblem) -> bool:
    """The Lagrangian bound is the plain p-median's (locks, forbidden, a cap)."""
    r = pm.rules
    return (
        pm.p is not None
        and r.max_new is None
        and r.budget is None
        and pm.equity is None
        and (pm.cost_weight == 0 or not (r.opening_cost.any() or r.closing_cost.any()))
    )


def _finish(
    report: SolveReport,
    best_open: np.ndarray | None,
    best_obj: float,
    lower: float,
    gap_rel: float,
    step: float = 0.0,
) -> None:
    """Status, objective, bound and gap of ``report`` from the best plan.

    With ``step`` > 0 (plans cost multiples of it) the bound is rounded up.
    """
    lower = round_bound(lower, step)
    if best_open is not None:
        lower = min(lower, best_obj)
    if best_open is None:
        report.status = NO_SOLUTION
        report.bound = lower if math.isfinite(lower) else None
        return
    report.objective = best_obj
    report.bound = lower if math.isfinite(lower) else None
    if report.bound is None:
        report.status = FEASIBLE
    else:
        report.gap = relative_gap(best_obj, report.bound)
        report.status = OPTIMAL if report.gap <= gap_rel + 1e-12 else FEASIBLE


def core_plan(
    pm: PMedianProblem,
    start: np.ndarray,
    start_obj: float,
    lam: np.ndarray,
    step: float = 0.0,
    time_budget: float = 600.0,
) -> np.ndarray:
    """Best plan on the core sites: the restricted p-median solved by the tree.

    The core is the :data:`CORE_SITES` ``x p`` allowed sites whose Lagrangian
    values ``rho_j = sum_i min(0, c_ij - lam_i)`` are the lowest (the sites the
    relaxation would open first), plus the open sites of ``start`` and the
    locked ones. The p-median on the core alone is solved by
    :func:`lagrangian_tree` from ``lam`` (bounded by :data:`CORE_WORK`, so the
    same input gives the same plan), then the interchange runs on every site
    from its plan. Returns ``start`` when nothing better is found; any result
    is a plan of ``pm`` (a heuristic: exactness never depends on it).

    Examples
    --------
    >>> from optimization import PMedian
    >>> D = np.array([[0.0, 4.0, 9.0], [4.0, 0.0, 5.0], [9.0, 5.0, 0.0]])
    >>> pm = PMedian.from_cost_matrix(D, np.ones(3), 1)
    >>> start = np.array([True, False, False])
    >>> core_plan(pm, start, 13.0, np.array([4.0, 4.0, 5.0])).tolist()
    [False, True, False]
    """
    r = pm.rules
    keep = pm.weights > 0
    D = np.where(pm.allowed_pairs(), pm.cost_matrix, np.inf)
    C = pm.weights[keep, None] * D[keep]
    finite = np.isfinite(C)
    if not finite.any():
        return start
    # A forbidden pair costs more than any plan: never part of a better one.
    C = np.where(finite, C, float(C[finite].sum()) + 1.0)
    lam = np.asarray(lam, float)
    rho = np.minimum(C - lam[:, None], 0.0).sum(axis=0)
    free = np.flatnonzero(r.allowed & ~r.locked & ~start)
    size = max(CORE_SITES * pm.p - int((start | r.locked).sum()), 0)
    core = start | (r.locked & r.allowed)
    core[free[np.argsort(rho[free], kind="stable")[:size]]] = True
    idx = np.flatnonzero(core)
    if idx.size <= pm.p:
        return start
    tree = lagrangian_tree(
        C[:, idx],
        pm.p,
        start[idx],
        start_obj,
        lam,
        opened=r.locked[idx],
        step=step,
        gap_rel=1e-6,
        max_work=CORE_WORK,
        deadline=time.perf_counter() + time_budget,
    )
    plan = np.zeros(pm.m, bool)
    plan[idx[tree.plan]] = True
    w = pm.weights
    plan = greedy_interchange(
        D, w, pm.p, r.locked, r.allowed, time_budget=time_budget, start=plan
    )
    return plan if plan_objective(pm, plan) < start_obj else start


def _lagrangian_stage(
    pm: PMedianProblem,
    start: np.ndarray,
    start_obj: float,
    opts: SolveOptions,
    step: float = 0.0,
) -> tuple[np.ndarray, float, dict[str, Any]]:
    """Lagrangian bound, better starts, and what the bound rules out.

    Returns the best plan, its cost and a dict: ``bound`` (valid lower
    bound), ``fix_closed``/``fix_open`` (sites closed/open in every plan
    better than the best), ``caps`` (largest distance of each point in such
    a plan) and ``iterations``. Every step is bounded by work; the time
    limit only caps the subgradient runs on a machine too slow to finish.
    ``step`` > 0: plans cost multiples of it (see :func:`plan_cost_step`),
    so the bound is rounded up and a better plan costs ``step`` less.
    """
    time_limit, gap_rel = opts.time_limit, opts.gap_rel
    D = np.where(pm.allowed_pairs(), pm.cost_matrix, np.inf)
    w = pm.weights
    r = pm.rules
    large = pm.n * pm.m > LARGE_CELLS
    # The dense tree re-tightens the bound at its root; the sparse one (larger
    # models) rarely runs on fractional costs, so they keep the longer run.
    tree_follows = int((w > 0).sum()) * pm.m <= min(TREE_CELLS, SPARSE_CELLS)
    # Safety cap of each subgradient run (seconds), never the normal end.
    cap = 600.0 if time_limit is None else max(0.45 * time_limit, 0.1)
    lag = lagrangian_bound(
        D,
        w,
        pm.p,
        start_obj,
        start,
        r.locked,
        r.allowed,
        time_budget=cap,
        target_gap=gap_rel,
        step=step,
        # With the tree to follow (which re-tightens the bound), a shorter run.
        max_iter=FIRST_ITERATIONS if tree_follows else 3_000,
        stall=FIRST_STALL if tree_follows else 100,
    )
    iterations = int(lag["iterations"])
    if lag["upper"] < start_obj:
        start = lag["best_open"]
        start_obj = plan_objective(pm, start)
    if relative_gap(start_obj, round_bound(lag["bound"], step)) > gap_rel:
        # Local search from the Lagrangian plan, then tighten with the better
        # upper bound (steps towards it converge faster).
        polished = greedy_interchange(
            D, w, pm.p, r.locked, r.allowed, time_budget=cap, start=lag["chosen"]
        )
        obj = plan_objective(pm, polished)
        if obj < start_obj:
            start, start_obj = polished, obj
        kick = True
        if large and relative_gap(start_obj, lag["bound"]) > gap_rel:
            # The radius MIP will not finish at this size: solve the model
            # restricted to the sites the bound prices best (exactly, by the
            # tree, bounded by work); seeded kicks + interchange if it finds
            # nothing better.
            cored = core_plan(pm, start, start_obj, lag["lam"], step, cap)
            obj = plan_objective(pm, cored)
            kick = obj >= start_obj  # kicks only when the core found nothing
            if obj < start_obj:
                start, start_obj = cored, obj
        if large and kick and relative_gap(start_obj, lag["bound"]) > gap_rel:
            kicked = perturbed_interchange(
                D, w, pm.p, start, r.locked, r.allowed, time_budget=cap
            )
            obj = plan_objective(pm, kicked)
            if obj < start_obj:
                start, start_obj = kicked, obj
        # Once the bound has closed most sites, the runs on the sites left
        # (below) tighten it towards the better plan for a fraction of the
        # work of another run on every site.
        few_left = 2 * int(lag["fix_closed"].sum()) >= int(r.allowed.sum())
        if start_obj < lag["upper"] and not few_left:
            again = lagrangian_bound(
                D,
                w,
                pm.p,
                start_obj,
                start,
                r.locked,
                r.allowed,
                time_budget=cap,
                target_gap=gap_rel,
                lam0=lag["lam"],
                step=step,
            )
            iterations += int(again["iterations"])
            if again["bound"] > lag["bound"]:
                lag = again
            if again["upper"] < start_obj:
                start = again["best_open"]
                start_obj = plan_objective(pm, start)
    bound = round_bound(float(lag["bound"]), step)
    closed = lag["fix_closed"].copy()
    opened = lag["fix_open"].copy()
    # Caps for every plan better than the start, i.e. costing ``step`` less.
    caps = distance_caps(w, lag, start_obj - step)
    # Without the closed sites the relaxation is tighter: bound again on the
    # sites left, which fixes more sites and cuts the radii closer. These
    # bounds hold for every plan better than ``start``, so min(start, bound)
    # is a valid bound.
    state = {"start": start, "obj": start_obj, "lam": lag["lam"], "it": iterations}

    def restricted(locked_sub, allowed_sub, sub, **kw):
        """Lagrangian bound on the sites ``sub``; a better plan becomes the start."""
        res = lagrangian_bound(
            D[:, sub],
            w,
            pm.p,
            state["obj"],
            state["start"][sub],
            locked_sub,
            allowed_sub,
            time_budget=cap,
            lam0=state["lam"],
            step=step,
            **kw,
        )
        state["it"] += int(res["iterations"])
        if res["upper"] < state["obj"]:
            plan = np.zeros(pm.m, bool)
            plan[sub[res["best_open"]]] = True
            obj = plan_objective(pm, plan)
            if obj < state["obj"]:
                # Fixings so far hold for every plan better than the old
                # start, so for every plan better than this one too.
                state["start"], state["obj"] = plan, obj
        return res

    for _ in range(3):
        if relative_gap(state["obj"], bound) <= gap_rel:
            break
        sub = np.flatnonzero(r.allowed & ~closed)
        if sub.size <= pm.p:
            break
        again = restricted(
            (r.locked | opened)[sub],
            None,
            sub,
            target_gap=gap_rel,
            max_iter=REDUCED_ITERATIONS,
            stall=REDUCED_STALL,
        )
        new_closed = sub[again["fix_closed"]]
        opened[sub[again["fix_open"]]] = True
        bound = max(bound, min(state["obj"], round_bound(again["bound"], step)))
        caps = np.minimum(caps, distance_caps(w, again, state["obj"] - step))
        state["lam"] = again["lam"]
        closed[new_closed] = True
        if new_closed.size == 0:
            break

    start, start_obj, iterations = state["start"], state["obj"], state["it"]
    return (
        start,
        start_obj,
        {
            "bound": min(bound, start_obj),
            "fix_closed": closed,
            "fix_open": opened & ~r.locked,
            "caps": caps,
            "iterations": iterations,
            "lam": state["lam"],
        },
    )


def solve_radius(pm: PMedianProblem, opts: SolveOptions) -> RadiusResult:
    """Solve the uncapacitated p-median ``pm``; see the module docstring."""
    t_start = time.perf_counter()
    gap_rel = opts.gap_rel
    start = _start(pm)
    start_obj = math.inf if start is None else plan_objective(pm, start)
    if not math.isfinite(start_obj) or not _lagrangian_applies(pm):
        return _radius_loop(pm, start, opts, t_start)
    r = pm.rules
    step = plan_cost_step(pm)
    start, start_obj, lag = _lagrangian_stage(pm, start, start_obj, opts, step)
    lag_bound = float(lag["bound"])
    opts.progress.plan(start_obj)
    opts.progress.prove(lag_bound)
    fixed_open = r.locked | lag["fix_open"]
    if int(fixed_open.sum()) == pm.p and np.array_equal(fixed_open, start):
        # Every plan better than the start would contain these p sites,
        # i.e. be the start itself: the start is optimal.
        lag_bound = start_obj
    details = {
        "lagrangian_bound": lag_bound,
        "lagrangian_iterations": int(lag["iterations"]),
        "sites_fixed_closed": int(lag["fix_closed"].sum()),
        "sites_fixed_open": int(lag["fix_open"].sum()),
    }
    if relative_gap(start_obj, lag_bound) <= gap_rel:
        report = SolveReport(
            solver="lagrangian",
            details={
                "formulation": "greedy+interchange with Lagrangian bound",
                **details,
            },
        )
        report.build_seconds = time.perf_counter() - t_start
        _finish(report, start, start_obj, lag_bound, gap_rel, step)
        return RadiusResult(report, start, start_obj)
    tree = _tree_stage(pm, start, start_obj, lag, opts, t_start, step)
    if tree is not None:
        details.update(
            tree_nodes=tree.nodes,
            tree_iterations=tree.iterations,
            tree_complete=tree.complete,
        )
        plan = tree.plan
        obj = plan_objective(pm, plan)
        if obj < start_obj:
            start, start_obj = plan, obj
            opts.progress.plan(start_obj)
        lag_bound = max(lag_bound, min(tree.bound, start_obj))
        opts.progress.prove(lag_bound)
        if tree.complete or relative_gap(start_obj, lag_bound) <= gap_rel:
            report = SolveReport(
                solver="lagrangian tree",
                details={"formulation": "Lagrangian branch-and-bound", **details},
            )
            report.build_seconds = time.perf_counter() - t_start
            _finish(report, start, start_obj, lag_bound, gap_rel, step)
            return RadiusResult(report, start, start_obj)
    # Sites fixed by the Lagrangian test are closed (open) in every plan
    # better than the start, and every point lies within its cap there, so
    # the reduced model keeps the optimum.
    reduced = copy.copy(pm)
    reduced.rules = dataclasses.replace(
        pm.rules,
        forbidden=pm.rules.forbidden | lag["fix_closed"],
        locked=pm.rules.locked | lag["fix_open"],
    )
    result = _radius_loop(reduced, start, opts, t_start, caps=lag["caps"])
    report = result.report
    report.details.update(details)
    lower = report.bound if report.bound is not None else -math.inf
    best_open, best_obj = result.open_mask, result.objective
    if best_open is None or best_obj >= start_obj:
        best_open, best_obj = start, start_obj
    bound = max(lag_bound, min(round_bound(lower, step), start_obj))
    _finish(report, best_open, best_obj, bound, gap_rel, step)
    return RadiusResult(report, best_open, best_obj, result.iterations)


def tree_prefix(m: int, p: int) -> int:
    """Sites kept per point when the tree prices sparsely: 5 x m / p, at least 50.

    The Lagrangian stage prices with the same count, so the multipliers it
    hands over are within the caps (a point's multiplier rarely needs to
    reach past five times the sites each open site serves on average).

    Examples
    --------
    >>> tree_prefix(1000, 50), tree_prefix(1000, 5), tree_prefix(2000, 400)
    (100, 1000, 50)
    """
    return int(min(m, max(50, 5 * math.ceil(m / max(p, 1)))))


def _tree_stage(
    pm: PMedianProblem,
    start: np.ndarray,
    start_obj: float,
    lag: dict[str, Any],
    opts: SolveOptions,
    t_start: float,
    step: float,
) -> TreeResult | None:
    """Lagrangian branch-and-bound from the Lagrangian stage (plain p-median).

    Starts from the stage's multipliers and fixings (they hold for every
    plan better than ``start``). Bounded by work (:data:`TREE_WORK` cells
    of subgradient steps); with a time limit, by :data:`TREE_SHARE` of it.
    Above :data:`SPARSE_CELLS` the nodes are priced on each point's
    :func:`tree_prefix` cheapest sites. None when the model is too large for
    it (:data:`TREE_CELLS`), or its costs
    are not all integers and the gap left is small (:data:`TREE_MIN_GAP`).
    """
    r = pm.rules
    keep = pm.weights > 0
    if pm.p is None or int(keep.sum()) * pm.m > TREE_CELLS:
        return None
    if step <= 0 and relative_gap(start_obj, lag["bound"]) < TREE_MIN_GAP:
        return None
    D = np.where(pm.allowed_pairs(), pm.cost_matrix, np.inf)
    C = pm.weights[keep, None] * D[keep]
    finite = np.isfinite(C)
    # A forbidden pair costs more than any plan: never part of a better one.
    big = float(C[finite].sum()) + 1.0 if finite.any() else 1.0
    C = np.where(finite, C, big)
    deadline = None
    if opts.time_limit is not None:
        deadline = t_start + TREE_SHARE * opts.time_limit
    w = pm.weights

    def improve(mask: np.ndarray) -> np.ndarray:
        return greedy_interchange(D, w, pm.p, r.locked, r.allowed, start=mask)

    cells = int(keep.sum()) * pm.m
    return lagrangian_tree(
        C,
        pm.p,
        start,
        start_obj,
        lag["lam"],
        prefix=tree_prefix(pm.m, pm.p) if cells > SPARSE_CELLS else None,
        closed=lag["fix_closed"] | ~r.allowed,
        opened=lag["fix_open"] | r.locked,
        step=step,
        gap_rel=opts.gap_rel,
        max_work=TREE_WORK,
        deadline=deadline,
        improve=improve,
        on_bound=opts.progress.plan,
        on_prove=opts.progress.prove,
    )


def _radius_loop(
    pm: PMedianProblem,
    start: np.ndarray | None,
    opts: SolveOptions,
    t_start: float,
    caps: np.ndarray | None = None,
) -> RadiusResult:
    """Truncated radius models, grown until the incumbent and the bound meet.

    ``caps`` (optional, one per point) is the largest distance of each point
    in any plan better than ``start`` (see :func:`distance_caps`): levels
    beyond it are never modelled and the point must have an open site within
    it, which makes the truncation exact where it is reached.
    """
    time_limit, gap_rel = opts.time_limit, opts.gap_rel
    step = plan_cost_step(pm)
    lv = distance_levels(pm)
    full_L = lv.all_levels(pm.weights)
    best_open, best_obj = None, math.inf
    if start is not None:
        obj = plan_objective(pm, start)
        if math.isfinite(obj):
            best_open, best_obj = start, obj
    if best_open is not None:
        L = np.minimum(lv.level_of(kth_open_distance(pm, best_open, KTH)), full_L)
    else:
        L = np.minimum(full_L, 8)
    L[pm.weights <= 0] = 0
    report = SolveReport(solver="", details={"formulation": "radius (truncated)"})
    cap_L, cut = full_L, np.zeros(pm.n, bool)
    if caps is not None and best_open is not None:
        # Levels within each point's cap; the last one must be reached.
        within = (lv.values <= caps[:, None]).sum(axis=1)
        if np.any((within == 0) & (pm.weights > 0)):
            # A point has no allowed site within its cap: no plan is better.
            report.solver = "lagrangian (radius cut)"
            report.build_seconds = time.perf_counter() - t_start
            _finish(report, best_open, best_obj, best_obj, gap_rel, step)
            return RadiusResult(report, best_open, best_obj)
        cut = (within < lv.K) & (pm.weights > 0)
        cap_L = np.where(cut, within, full_L)
        cap_L[pm.weights <= 0] = 0
        if cap_L.sum() <= CAP_GROWTH * max(int(L.sum()), 1):
            L = cap_L.copy()
        else:
            L = np.minimum(L, cap_L)
        report.details["formulation"] = "radius (truncated at the Lagrangian radii)"
    report.build_seconds = time.perf_counter() - t_start
    strong = caps is not None and best_open is not None
    lower = -math.inf
    iterations: list[dict[str, Any]] = []
    while True:
        tb = time.perf_counter()
        built = build_radius(pm, lv, L)
        model = built.model
        if caps is not None:
            # z beyond the cap is 0 in every plan better than the start.
            at_cap = cut & (cap_L == L) & (L > 0)
            idx = np.flatnonzero(at_cap)
            if idx.size:
                model.fix_columns(built.z[built.start[idx] + L[idx] - 1], 0.0)
        warm = None if best_open is None else _warm_radius(pm, built, lv, best_open)
        if warm is not None and not model.is_feasible(warm):
            # The heuristic ignores budgets, equity...: keep it only for levels.
            best_open, best_obj, warm = None, math.inf, None
        if warm is not None:
            opts.progress.plan(best_obj)
        remaining = None
        if time_limit is not None:
            remaining = time_limit - (time.perf_counter() - t_start)
            if remaining <= 0:
                break
        lp_limit = None
        if remaining is not None:
            lp_limit = min(remaining, LP_SHARE * time_limit)
        # With the Lagrangian radii the start is strong and the model exact
        # where cut: the MIP's own root LP does the LP's work.
        relax = None if strong else solve_relaxation(model, lp_limit)
        fixed = 0
        if relax is not None:
            lower = max(lower, relax.objective)
            opts.progress.prove(lower)
            if warm is None:
                # A plan rounded from the LP often meets budgets and equity.
                rounded = round_open_sites(
                    relax.values[built.y], pm.rules, pm.weights, pm.p
                )
                if rounded is not None and not iterations:
                    # Model the levels that plan reaches, as for the start.
                    reach = lv.level_of(kth_open_distance(pm, rounded, KTH))
                    wider = np.where(pm.weights > 0, np.minimum(reach, full_L), 0)
                    if (wider > L).any():
                        L = np.maximum(L, wider)
                        built = build_radius(pm, lv, L)
                        model = built.model
                        relax = solve_relaxation(model, lp_limit)
                        if relax is None:
                            rounded = None
                        else:
                            lower = max(lower, relax.objective)
                if rounded is not None:
                    cand = _warm_radius(pm, built, lv, rounded)
                    obj = plan_objective(pm, rounded)
                    if model.is_feasible(cand) and math.isfinite(obj):
                        best_open, best_obj, warm = rounded, obj, cand
                        opts.progress.plan(best_obj)
            if warm is not None:
                if relative_gap(best_obj, round_bound(lower, step)) <= gap_rel:
                    report.build_seconds += time.perf_counter() - tb
                    report.solver = report.solver or "HiGHS (LP bound)"
                    break  # the LP bound proves the plan optimal
                # z takes 0/1 values in the best completion of any plan.
                z_cols = np.zeros(model.n_cols, bool)
                z_cols[built.z] = True
                fixed = fix_by_reduced_cost(model, relax, best_obj, z_cols).size
        report.build_seconds += time.perf_counter() - tb
        if time_limit is not None:
            remaining = time_limit - (time.perf_counter() - t_start)
            if remaining <= 0:
                break
        y_cols = built.y
        x, rep = solve_fixed(
            model,
            opts.solver,
            remaining,
            gap_rel,
            warm,
            opts.msg,
            fixed,
            opts.live,
            # Any solution's open sites are a plan: charge it exactly.
            lambda v, _obj, y_cols=y_cols: plan_objective(pm, v[y_cols] > 0.5),
            STRONG_START_HIGHS if strong else None,
        )
        report.solver = rep.solver
        report.build_seconds += rep.build_seconds
        report.solve_seconds += rep.solve_seconds
        iterations.append(
            {
                "z_vars": int(L.sum()),
                "rows": model.n_rows,
                "lp_bound": None if relax is None else relax.objective,
                "fixed_columns": fixed,
                "status": rep.status,
                "bound": rep.bound,
                "objective": rep.objective,
            }
        )
        if rep.status == INFEASIBLE:
            if best_open is not None:
                break  # nothing better than the incumbent survived fixing
            report.status = INFEASIBLE
            return RadiusResult(report, None, math.inf, iterations)
        if rep.bound is not None and math.isfinite(rep.bound):
            lower = max(lower, rep.bound)
        opts.progress.prove(lower)
        if x is None:
            break
        open_mask = x[built.y] > 0.5
        obj = plan_objective(pm, open_mask)
        if obj < best_obj - 1e-9 * max(1.0, abs(obj)):
            best_open, best_obj = open_mask, obj
            opts.progress.plan(best_obj)
        if relative_gap(best_obj, round_bound(lower, step)) <= gap_rel:
            break
        # Extend the levels of the points the truncated model under-charged.
        lvl = lv.level_of(nearest_distance(pm, open_mask))
        under = (lvl > L) & (pm.weights > 0)
        if not under.any():
            break  # truncation exact for this incumbent: the solver's gap stands
        grow = np.maximum(lvl, 2 * L + 1)
        L = np.where(under, np.minimum(grow, cap_L), L)
    report.details["iterations"] = len(iterations)
    _finish(report, best_open, best_obj, lower, gap_rel, step)
    return RadiusResult(report, best_open, best_obj, iterations)
