"""Capacitated p-median: truncated assignment models tightened by reduced-cost fixing.

:func:`solve_assignment` is the algorithm :meth:`optimization.PMedian.solve`
runs when the sites have capacities: the assignment formulation with strong
links, capacity rows and optional capacity modules, single (binary) or split
assignment, on each point's cheapest pairs plus a *far* column, so that every
round is a relaxation of the full model. Each round solves the LP, rounds it
to a full plan (:mod:`optimization.capacitated`), fixes the columns whose
reduced cost exceeds the gap, and solves the MIP warm-started by the plan;
points the MIP sends far get more pairs. See docs/optimization.md.

Each step returns a small dataclass (:class:`AssignmentModel`,
:class:`~optimization.capacitated.Plan`, :class:`AssignmentResult`); the
p-median itself is passed as ``pm``, read-only.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from optimization.base import PMedianProblem
from optimization.capacitated import (
    Plan,
    assign_to_open_sites,
    greedy_assignment,
    reassign_single,
    round_open_sites,
)
from optimization.lagrangian import (
    LagrangianResult,
    SiteKnapsacks,
    lagrangian_bound,
    select_sites,
)
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
    load_highs,
    out_of_time,
    relative_gap,
    solve_fixed,
    solve_model,
    solve_relaxation,
)

__all__ = [
    "AssignmentModel",
    "AssignmentResult",
    "assignment_pairs",
    "build_assignment",
    "lagrangian_stage",
    "solve_assignment",
    "split_relaxation",
    "support_plan",
    "support_search",
]

#: Share of a time limit the Lagrangian stage may take before the exact one.
LAGRANGIAN_SHARE = 0.25


@dataclass(frozen=True)
class AssignmentModel:
    """An assignment model on some pairs, and where its columns are.

    ``x[p]`` serves point ``ii[p]`` from site ``jj[p]``; ``f[q]`` is the far
    column of point ``far_pts[q]``; ``y`` are the sites, ``k`` the capacity
    modules (None without modules).
    """

    model: LinearModel
    y: np.ndarray
    x: np.ndarray
    f: np.ndarray
    far_pts: np.ndarray
    k: np.ndarray | None
    ii: np.ndarray
    jj: np.ndarray


@dataclass
class AssignmentResult:
    """What the capacitated solve found: its report, best plan and rounds."""

    report: SolveReport
    plan: Plan | None = None
    iterations: list[dict[str, Any]] = field(default_factory=list)


def assignment_pairs(pm: PMedianProblem) -> np.ndarray:
    """Pairs that may carry demand in some feasible plan.

    With single assignment a point heavier than a site's largest possible
    capacity can never use it, so that pair is left out.
    """
    w = pm.weights
    pairs = pm.allowed_pairs() & (w > 0)[:, None]
    if not pm.split:
        cap = pm.rules.max_capacity()
        pairs &= w[:, None] <= cap[None, :] * (1 + 1e-12) + 1e-9
    return pairs


def nearest_pairs(pm: PMedianProblem, pairs: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Mask of the ``k[i]`` cheapest allowed pairs of each point (ties kept)."""
    D = np.where(pairs, pm.cost_matrix, np.inf)
    kk = np.clip(k, 1, pm.m)
    Ds = np.sort(D, axis=1)
    cut = Ds[np.arange(pm.n), kk - 1]
    return pairs & (cut[:, None] >= D)


def build_assignment(
    pm: PMedianProblem,
    pairs: np.ndarray,
    keep: np.ndarray,
    split: bool | None = None,
) -> AssignmentModel:
    """Assignment model on the ``keep`` pairs, a relaxation of the full one.

    A point whose allowed pairs are not all kept gets a *far* column
    ``f_i`` costing its cheapest dropped pair, which uses no site capacity
    and needs an open site among the dropped ones. Any plan of the full
    model maps to a plan of this model at no higher cost, so its optimum
    and its bound are lower bounds of the full optimum; a solution with no
    far column used is a plan of the full model at the same cost.

    ``split`` overrides ``pm.split`` for the pair columns only (same columns,
    same rows): ``split=True`` on a single-assignment model gives its split
    relaxation, whose MIP bound is a lower bound of the single optimum.
    """
    split = pm.split if split is None else split
    r = pm.rules
    w = pm.weights
    ii, jj = np.nonzero(keep)
    P = ii.size
    model = LinearModel(pm.name)
    y = pm.add_site_columns(model, pm.cost_weight)
    x = model.add_vars(
        "x",
        P,
        ub=1.0,
        cost=w[ii] * pm.cost_matrix[ii, jj],
        integer=not split,
    )
    dropped = pairs & ~keep
    far_pts = np.flatnonzero(dropped.any(axis=1))
    far_cost = np.where(dropped[far_pts], pm.cost_matrix[far_pts], np.inf).min(axis=1)
    f = model.add_vars("far", far_pts.size, ub=1.0, cost=w[far_pts] * far_cost)
    model.add_rows(
        "assign",
        np.concatenate([ii, far_pts]),
        np.concatenate([x, f]),
        1.0,
        lo=(w > 0).astype(float),
        hi=1.0,
        n=pm.n,
    )
    if far_pts.size:
        fi, fj = np.nonzero(dropped[far_pts])
        model.add_rows(
            "far_link",
            np.concatenate([np.arange(far_pts.size), fi]),
            np.concatenate([f, y[fj]]),
            np.concatenate([np.ones(far_pts.size), -np.ones(fi.size)]),
            hi=0.0,
            n=far_pts.size,
        )
    pm.add_link_rows(model, x, y[jj])
    k = None
    cap_rows = [jj, np.arange(pm.m)]
    cap_cols = [x, y]
    cap_vals = [w[ii], -r.capacities]
    if r.module_size is not None:
        k = model.add_vars(
            "modules",
            pm.m,
            ub=r.max_modules,
            cost=pm.cost_weight * r.module_cost,
            integer=True,
        )
        cap_rows.append(np.arange(pm.m))
        cap_cols.append(k)
        cap_vals.append(-r.module_size)
        model.add_rows(
            "module_open",
            np.concatenate([np.arange(pm.m)] * 2),
            np.concatenate([k, y]),
            np.concatenate([np.ones(pm.m), -r.max_modules]),
            hi=0.0,
            n=pm.m,
        )
    model.add_rows(
        "capacity",
        np.concatenate(cap_rows),
        np.concatenate(cap_cols),
        np.concatenate(cap_vals),
        hi=0.0,
        n=pm.m,
    )
    # Every unit of demand is served by some open site: the open capacity
    # covers the total demand (valid for the full model, and it keeps far
    # columns from ignoring capacity altogether).
    agg_cols = [y] if k is None else [y, k]
    agg_vals = [r.capacities] if k is None else [r.capacities, r.module_size]
    model.add_rows(
        "total_capacity",
        np.zeros(sum(c.size for c in agg_cols)),
        np.concatenate(agg_cols),
        np.concatenate(agg_vals),
        lo=float(w.sum()) * (1 - 1e-9),
        n=1,
    )
    pm.add_site_rows(model, y, k)
    pm.add_equity_rows(model, y)
    return AssignmentModel(model, y, x, f, far_pts, k, ii, jj)


def warm_assignment(
    pm: PMedianProblem, built: AssignmentModel, sol: Plan
) -> np.ndarray | None:
    """Column vector of a full-model plan on a (larger) truncated model."""
    model: LinearModel = built.model
    x = np.zeros(model.n_cols)
    x[built.y] = sol.open
    if built.k is not None:
        x[built.k] = sol.modules
    pos = np.full((pm.n, pm.m), -1, dtype=np.int64)
    pos[built.ii, built.jj] = built.x
    alloc = sol.alloc.tocoo()
    cols = pos[alloc.row, alloc.col]
    if (cols < 0).any():
        return None
    x[cols] = alloc.data
    if pm.equity is not None:
        pm.warm_equity(model, x, sol.open)
    return x if model.is_feasible(x) else None


def lagrangian_stage(
    pm: PMedianProblem,
    pairs: np.ndarray,
    opts: SolveOptions,
    deadline: float | None = None,
    swaps_up_to: float = math.inf,
) -> LagrangianResult:
    """A lower bound and a capacity-feasible plan from the Lagrangian relaxation.

    The relaxation of the assignment rows (:mod:`optimization.lagrangian`),
    its chosen sites turned into full plans by :func:`plan_for`. Work-bounded
    (see :func:`~optimization.lagrangian.lagrangian_bound`); ``deadline`` only
    cuts it short. :func:`transport_swaps` runs only while the stage's gap
    is at most ``swaps_up_to`` (:func:`solve_assignment` gives larger gaps
    to :func:`support_plan` instead).
    """
    knapsacks = SiteKnapsacks(
        pm.cost_matrix, pm.weights, pairs, pm.rules, pm.cost_weight
    )
    evaluate = _PlanMaker(pm, pairs, deadline)
    # A first plan by greedy addition and locate-allocate: its upper bound
    # steers the steps, its weighted distances are the first multipliers.
    first = initial_plan(pm, pairs, evaluate)
    D = np.where(pairs, pm.cost_matrix, np.inf)
    if first is not None:
        on = first.alloc.tocoo()
        start = np.zeros(pm.n)
        np.add.at(
            start, on.row, on.data * pm.weights[on.row] * pm.cost_matrix[on.row, on.col]
        )
        opts.progress.plan(first.objective)
    else:
        near = D.min(axis=1)
        start = np.where(np.isfinite(near), pm.weights * near, 0.0)
    result = lagrangian_bound(
        knapsacks,
        pm.rules,
        pm.p,
        evaluate,
        start,
        gap_rel=opts.gap_rel,
        deadline=deadline,
        on_bound=opts.progress.prove,
        on_plan=opts.progress.plan,
        plan=first,
    )
    if result.plan is not None:
        # Local search from the best plan and the next best open sets.
        for start_plan in [result.plan, *result.runners_up]:
            better = locate_allocate(pm, start_plan, pairs, evaluate, full=True)
            if better.objective < result.plan.objective - 1e-9 * abs(better.objective):
                result.plan = better
                opts.progress.plan(better.objective)
        better = swap_sites(pm, result.plan, pairs, evaluate, result.site_values)
        if better.objective < result.plan.objective - 1e-9 * abs(better.objective):
            result.plan = better
            opts.progress.plan(better.objective)
    if result.plan is not None:
        better = polished(pm, result.plan, pairs, deadline)
        gap = relative_gap(better.objective, result.bound)
        if TRANSPORT_SWAPS_FROM < gap <= swaps_up_to:
            better = transport_swaps(
                pm, better, pairs, result.site_values, deadline=deadline
            )
        if better is not result.plan:
            result.plan = better
            opts.progress.plan(better.objective)
    return result


def polished(
    pm: PMedianProblem, plan: Plan, pairs: np.ndarray, deadline: float | None
) -> Plan:
    """The cheapest service of ``plan``'s open sites found, or ``plan`` itself.

    The greedy plans of the local searches assign whole points without
    capacity modules. With split assignment or modules, the transportation
    solve on the same sites (:func:`plan_for`) may split points or add
    modules; with single assignment, :func:`reassigned` moves chains of
    points.
    """
    if pm.split or pm.rules.module_size is not None:
        better = plan_for(pm, plan.open, pairs, deadline)
        if better is not None and better.objective < plan.objective:
            return better
        return plan
    return reassigned(pm, plan, pairs, deadline)


#: Transportation LPs :func:`transport_swaps` may solve (a work bound; each
#: is a hot start of the previous one, about 40 ms on the demo's stress case).
TRANSPORT_SWAPS = 150

#: Closed sites (lowest Lagrangian value first) tried against each open one.
TRANSPORT_CANDIDATES = 12

#: Most pairs in :func:`transport_swaps`'s LP (the demo's 400 x 250 has
#: 100,000; the random 1,000 x 300 case, 300,000, is left to the exact stage).
TRANSPORT_MAX_PAIRS = 150_000

#: Proven gap of the Lagrangian stage above which its plan gets
#: :func:`transport_swaps` (below, the exact stage closes it sooner: on the
#: demo's split scenarios the stage ends within 0.0001%, the stress case at
#: 3.5%).
TRANSPORT_SWAPS_FROM = 0.005


def transport_swaps(
    pm: PMedianProblem,
    plan: Plan,
    pairs: np.ndarray,
    site_values: np.ndarray,
    max_evals: int = TRANSPORT_SWAPS,
    deadline: float | None = None,
) -> Plan:
    """Site swaps judged by the exact cost of split assignment, or ``plan``.

    Without capacity modules: one transportation LP over every allowed pair
    (at most :data:`TRANSPORT_MAX_PAIRS`) holds all sites, closed ones with
    their columns at 0;
    a swap (one open site closed, one of the :data:`TRANSPORT_CANDIDATES`
    closed sites of lowest Lagrangian value opened, within ``max_new``) only
    changes column bounds, so HiGHS re-solves it from the previous basis.
    The open sites of highest distance per unit served are tried first; the
    first cheaper swap is kept and the search starts again, at most
    ``max_evals`` LPs (work-bounded; ``deadline`` only stops the swaps). The
    best sites found are served by :func:`plan_for` (checked against every
    row of the full model). With single assignment the split cost is the
    guide (a lower bound of the single cost of the same sites, far closer to
    it than the greedy assignment's cost), and the plan on the best sites
    found is the single one of :func:`plan_for`, kept when cheaper.
    """
    import highspy

    r = pm.rules
    if r.module_size is not None or plan.open.sum() < 1:
        return plan
    w = pm.weights
    ii, jj = np.nonzero(pairs & (w > 0)[:, None])
    if ii.size > TRANSPORT_MAX_PAIRS:
        return plan
    model = LinearModel("transport swaps")
    x = model.add_vars(
        "x",
        ii.size,
        ub=plan.open[jj].astype(float),
        cost=w[ii] * pm.cost_matrix[ii, jj],
    )
    model.add_rows("assign", ii, x, 1.0, lo=(w > 0).astype(float), hi=1.0, n=pm.n)
    model.add_rows("capacity", jj, x, w[ii], hi=r.capacities, n=pm.m)
    h = load_highs(model)
    h.setOptionValue("threads", 1)
    cols_of = [np.flatnonzero(jj == j).astype(np.int32) for j in range(pm.m)]

    def set_site(j: int, value: float) -> None:
        cols = cols_of[j]
        if cols.size:
            h.changeColsBounds(
                cols.size, cols, np.zeros(cols.size), np.full(cols.size, value)
            )

    def solve() -> float:
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return math.inf
        return float(h.getInfo().objective_function_value)

    def site_cost(open_mask: np.ndarray) -> float:
        return pm.cost_weight * r.change_cost(open_mask, None)

    best_open = plan.open.copy()
    best = solve() + site_cost(best_open)
    evals = 1
    max_new = math.inf if r.max_new is None else r.max_new
    while evals < max_evals and math.isfinite(best):
        improved = False
        sol = np.asarray(h.getSolution().col_value)
        share = sol * w[ii]
        load = np.bincount(jj, share, minlength=pm.m)
        dist = np.bincount(jj, share * pm.cost_matrix[ii, jj], minlength=pm.m)
        per_unit = np.where(load > 0, dist / np.maximum(load, 1e-12), 0.0)
        out = np.flatnonzero(best_open & ~r.locked)
        out = out[np.argsort(-per_unit[out], kind="stable")]
        closed = np.flatnonzero(~best_open & ~r.forbidden)
        closed = closed[np.argsort(site_values[closed], kind="stable")]
        closed = closed[:TRANSPORT_CANDIDATES]
        new_count = int((best_open & ~r.existing).sum())
        for j in out:
            for k in closed:
                if not r.existing[k] and r.existing[j] and new_count >= max_new:
                    continue
                if evals >= max_evals or out_of_time(
                    None if deadline is None else deadline - time.perf_counter()
                ):
                    break
                set_site(j, 0.0)
                set_site(k, 1.0)
                trial = best_open.copy()
                trial[j], trial[k] = False, True
                value = solve() + site_cost(trial)
                evals += 1
                if value < best - 1e-9 * abs(best):
                    best_open[j], best_open[k] = False, True
                    best, improved = value, True
                    break
                set_site(k, 0.0)
                set_site(j, 1.0)
            if improved or evals >= max_evals:
                break
        if not improved:
            break
    if np.array_equal(best_open, plan.open):
        return plan
    # Not cut by ``deadline`` (which may just have stopped the swaps): the
    # plan of the sites found is bounded work (an LP, small MIPs).
    better = plan_for(pm, best_open, pairs, None)
    if better is not None and better.objective < plan.objective:
        return better
    return plan


def reassigned(
    pm: PMedianProblem, plan: Plan, pairs: np.ndarray, deadline: float | None
) -> Plan:
    """``plan`` with its points re-assigned at less cost, or ``plan`` itself.

    Single assignment without capacity modules only (where plans come from
    the greedy assignment): :func:`~optimization.capacitated.reassign_single`
    moves chains of points within the open sites' capacities, work-bounded.
    The result is checked against every row of the full model.
    """
    if pm.split or pm.rules.module_size is not None:
        return plan
    left = None if deadline is None else deadline - time.perf_counter()
    if out_of_time(left):
        return plan
    coo = plan.alloc.tocoo()
    if not np.allclose(coo.data, 1.0):
        return plan
    site = np.full(pm.n, -1)
    site[coo.row] = coo.col
    new_site = reassign_single(
        pm.cost_matrix,
        pm.weights,
        plan.open,
        pairs,
        pm.rules.capacities,
        site,
        time_limit=left,
    )
    if new_site is site:
        return plan
    served = np.flatnonzero(new_site >= 0)
    alloc = sp.csr_matrix(
        (np.ones(served.size), (served, new_site[served])), shape=(pm.n, pm.m)
    )
    full = build_assignment(pm, pairs, alloc.toarray() > 0)
    candidate = Plan(plan.open.copy(), plan.modules, alloc)
    x = warm_assignment(pm, full, candidate)
    if x is None:
        return plan
    candidate.objective = full.model.objective_value(x)
    if candidate.objective >= plan.objective - 1e-9 * abs(plan.objective):
        return plan
    return candidate


class _PlanMaker:
    """``open_mask -> Plan or None`` for the Lagrangian heuristic.

    The numpy greedy assignment (:func:`greedy_assignment`, single assignment
    without modules) first; the transportation LP (:func:`plan_for`) when it
    fails, and only while no plan is known (it costs a MIP). A plan is
    checked against the full model only when it beats the best one so far
    (the only ones kept).
    """

    def __init__(self, pm: PMedianProblem, pairs: np.ndarray, deadline: float | None):
        self.pm, self.pairs, self.deadline = pm, pairs, deadline
        self.best = math.inf
        self.lp_used = 0
        # A short local search per candidate set; the best set gets a full one.
        self.moves = max(pm.n // 20, 10)

    def left(self) -> float | None:
        """Seconds left (None: no limit)."""
        return None if self.deadline is None else self.deadline - time.perf_counter()

    def __call__(self, open_mask: np.ndarray) -> Plan | None:
        pm = self.pm
        plan = quick_plan(pm, open_mask, self.pairs, self.moves)
        if plan is None:
            if self.lp_used or math.isfinite(self.best):
                return None
            self.lp_used += 1
            plan = plan_for(pm, open_mask, self.pairs, self.deadline)
        elif plan.objective < self.best and not plan_is_valid(pm, plan, self.pairs):
            return None
        if plan is not None:
            self.best = min(self.best, plan.objective)
        return plan


def initial_plan(
    pm: PMedianProblem, pairs: np.ndarray, evaluate: _PlanMaker
) -> Plan | None:
    """Greedy addition (uncapacitated) rounded to enough capacity, improved.

    With ``p`` given, sites are added one by one where they cut the weighted
    distance most (locked ones first, forbidden ones never, at most
    ``max_new`` candidates); without it, today's open sites start. The set is
    rounded to enough capacity, assigned, then improved by
    :func:`locate_allocate`. None when no plan came out.
    """
    r = pm.rules
    WD = np.where(
        pairs, pm.weights[:, None] * np.where(pairs, pm.cost_matrix, 0), np.inf
    )
    served = pm.weights > 0
    WD = WD[served]
    open_mask = r.locked.copy()
    if pm.p is None:
        open_mask |= r.existing & ~r.forbidden
    else:
        new_left = math.inf if r.max_new is None else r.max_new
        new_left -= int((open_mask & ~r.existing).sum())
        best = WD[:, open_mask].min(axis=1) if open_mask.any() else None
        while open_mask.sum() < pm.p:
            ok = ~open_mask & ~r.forbidden & (r.existing | (new_left > 0))
            if not ok.any():
                return None
            cur = np.full(WD.shape[0], np.inf) if best is None else best
            total = np.minimum(WD, cur[:, None])
            total = np.where(np.isfinite(total), total, 1e300).sum(axis=0)
            j = int(np.argmin(np.where(ok, total, np.inf)))
            open_mask[j] = True
            new_left -= int(not r.existing[j])
            best = np.minimum(cur, WD[:, j])
    rounded = round_open_sites(open_mask.astype(float), r, pm.weights, pm.p, 0.5)
    if rounded is None:
        return None
    plan = evaluate(rounded)
    return None if plan is None else locate_allocate(pm, plan, pairs, evaluate)


def locate_allocate(
    pm: PMedianProblem,
    plan: Plan,
    pairs: np.ndarray,
    evaluate: _PlanMaker,
    rounds: int = 10,
    full: bool = False,
) -> Plan:
    """Move each open site to the best site for the points it serves, repeat.

    Cooper's alternation: for each open site (not locked), the closed site
    that serves its points at least weighted distance, within its capacity
    and the rule on new sites, replaces it when the re-assigned plan is
    cheaper. At most ``rounds`` rounds and ``3 p`` re-assignments
    (work-bounded); ``full`` gives the result a complete local search of its
    assignment.
    """
    r = pm.rules
    moves = None if full else evaluate.moves
    best = plan
    WD = np.where(
        pairs, pm.weights[:, None] * np.where(pairs, pm.cost_matrix, 0), np.inf
    )
    cap = r.capacities
    budget = 3 * int(plan.open.sum())
    for _ in range(rounds):
        improved = False
        coo = best.alloc.tocoo()
        site_of = np.full(pm.n, -1)
        site_of[coo.row] = coo.col
        new_count = int((best.open & ~r.existing).sum())
        max_new = math.inf if r.max_new is None else r.max_new
        for j in np.flatnonzero(best.open & ~r.locked):
            if out_of_time(evaluate.left()):
                break
            members = np.flatnonzero(site_of == j)
            if members.size == 0:
                continue
            load = float(pm.weights[members].sum())
            cost_there = WD[members].sum(axis=0)
            ok = ~best.open & ~r.forbidden & (cap >= load)
            if not r.existing[j]:
                pass  # a new site for a new site keeps the count
            elif new_count >= max_new:
                ok &= r.existing
            cost_there = np.where(ok, cost_there, np.inf)
            k = int(np.argmin(cost_there))
            if not cost_there[k] < WD[members, j].sum() - 1e-9:
                continue
            if budget <= 0:
                break
            budget -= 1
            open_mask = best.open.copy()
            open_mask[j], open_mask[k] = False, True
            candidate = quick_plan(pm, open_mask, pairs, moves)
            if (
                candidate is not None
                and candidate.objective < best.objective - 1e-9 * abs(best.objective)
                and plan_is_valid(pm, candidate, pairs)
            ):
                best, improved = candidate, True
                coo = best.alloc.tocoo()
                site_of = np.full(pm.n, -1)
                site_of[coo.row] = coo.col
                new_count = int((best.open & ~r.existing).sum())
        if not improved:
            break
    if full:
        final = quick_plan(pm, best.open, pairs, None)
        if final is not None and final.objective < best.objective:
            best = final
    evaluate.best = min(evaluate.best, best.objective)
    return best


def swap_sites(
    pm: PMedianProblem,
    plan: Plan,
    pairs: np.ndarray,
    evaluate: _PlanMaker,
    site_values: np.ndarray,
    worst: int = 8,
    candidates: int = 6,
    budget: int | None = 0,
) -> Plan:
    """Close one of the costliest open sites, open a promising closed one.

    The ``worst`` open sites (not locked) by weighted distance per unit
    served are tried against the ``candidates`` closed sites of lowest
    Lagrangian value (within ``max_new``); the first cheaper valid plan is
    kept and the search starts again, at most ``budget`` re-assignments
    (0: ``2 p``, work-bounded; None: until ``evaluate``'s deadline).
    """
    r = pm.rules
    best = plan
    if budget == 0:
        budget = 2 * int(plan.open.sum())
    elif budget is None:
        budget = math.inf if evaluate.deadline is not None else 2 * pm.m
    max_new = math.inf if r.max_new is None else r.max_new
    while budget > 0 and not out_of_time(evaluate.left()):
        alloc = best.alloc.tocoo()
        share = alloc.data * pm.weights[alloc.row]
        load = np.bincount(alloc.col, share, minlength=pm.m)
        dist = np.bincount(
            alloc.col, share * pm.cost_matrix[alloc.row, alloc.col], minlength=pm.m
        )
        per_unit = np.where(load > 0, dist / np.maximum(load, 1e-12), 0.0)
        out = np.flatnonzero(best.open & ~r.locked)
        out = out[np.argsort(-per_unit[out], kind="stable")][:worst]
        closed = np.flatnonzero(~best.open & ~r.forbidden)
        closed = closed[np.argsort(site_values[closed], kind="stable")][:candidates]
        new_count = int((best.open & ~r.existing).sum())
        improved = False
        for j in out:
            for k in closed:
                if not r.existing[k] and r.existing[j] and new_count >= max_new:
                    continue
                if budget <= 0 or out_of_time(evaluate.left()):
                    break
                budget -= 1
                open_mask = best.open.copy()
                open_mask[j], open_mask[k] = False, True
                candidate = quick_plan(pm, open_mask, pairs, evaluate.moves)
                if (
                    candidate is not None
                    and candidate.objective
                    < best.objective - 1e-9 * abs(best.objective)
                    and plan_is_valid(pm, candidate, pairs)
                ):
                    best, improved = candidate, True
                    break
            if improved:
                break
        if not improved:
            break
    if best is not plan:
        final = quick_plan(pm, best.open, pairs, None)
        if final is not None and final.objective < best.objective:
            best = final
        best = locate_allocate(pm, best, pairs, evaluate)
    evaluate.best = min(evaluate.best, best.objective)
    return best


def quick_plan(
    pm: PMedianProblem,
    open_mask: np.ndarray,
    pairs: np.ndarray,
    max_moves: int | None = None,
) -> Plan | None:
    """A plan on ``open_mask`` by :func:`greedy_assignment`, charged, unchecked.

    Whole points, no capacity modules (a plan of the split model too). The
    rows on sites (``p``, budget, equity) are not checked: see
    :func:`plan_is_valid`.
    """
    r = pm.rules
    site = greedy_assignment(
        pm.cost_matrix, pm.weights, open_mask, pairs, r.capacities, max_moves
    )
    if site is None:
        return None
    served = np.flatnonzero(site >= 0)
    alloc = sp.csr_matrix(
        (np.ones(served.size), (served, site[served])), shape=(pm.n, pm.m)
    )
    modules = None if r.module_size is None else np.zeros(pm.m, int)
    travel = float(pm.weights[served] @ pm.cost_matrix[served, site[served]])
    objective = travel + pm.cost_weight * r.change_cost(open_mask, modules)
    return Plan(open_mask.copy(), modules, alloc, objective)


def plan_is_valid(pm: PMedianProblem, plan: Plan, pairs: np.ndarray) -> bool:
    """True when ``plan`` satisfies every row of the full model."""
    full = build_assignment(pm, pairs, plan.alloc.toarray() > 0)
    return warm_assignment(pm, full, plan) is not None


def solve_assignment(pm: PMedianProblem, opts: SolveOptions) -> AssignmentResult:
    """Truncated assignment models, tightened by LP reduced-cost fixing.

    Each round builds the relaxation on the kept pairs and solves its LP.
    A capacity-feasible plan rounded from the LP is the incumbent: integer
    columns whose reduced cost exceeds the gap between that plan and the LP
    bound cannot appear in a better plan and are fixed (most candidate
    sites, pairs and far columns on real networks), and the plan warm-starts
    the MIP. When the MIP still sends points "far", their pairs double and
    the next round starts.
    """
    t_start = time.perf_counter()
    time_limit, gap_rel = opts.time_limit, opts.gap_rel
    pairs = assignment_pairs(pm)
    per_point = np.full(pm.n, pm.pairs_per_point)
    keep = nearest_pairs(pm, pairs, per_point)
    report = SolveReport(
        solver="",
        details={"formulation": "assignment (capacitated, truncated, fixed)"},
    )
    best: Plan | None = None
    lower = -math.inf
    iterations: list[dict[str, Any]] = []

    deadline = None if time_limit is None else t_start + time_limit

    # First the Lagrangian relaxation: a bound and a plan whatever the time
    # limit leaves to the exact stage, and the sites that stage may fix.
    lag_deadline = (
        None if time_limit is None else t_start + LAGRANGIAN_SHARE * time_limit
    )
    tl, cpu = time.perf_counter(), time.process_time()
    # Above SPLIT_BOUND_FROM the stage's site swaps give way to support_plan
    # (demo stress cases: 237,142 in 5 CPU s where the swaps reach 237,965
    # in 6), and the time they took goes to the bound.
    lag = lagrangian_stage(pm, pairs, opts, lag_deadline, SPLIT_BOUND_FROM)
    # Share of a core the stage got: on a busy machine a MIP root does not
    # end in the time left, which site swaps use better.
    core_share = (time.process_time() - cpu) / max(time.perf_counter() - tl, 1e-9)
    report.details["lagrangian"] = {
        "bound": lag.bound if math.isfinite(lag.bound) else None,
        "objective": None if lag.plan is None else lag.plan.objective,
        "iterations": lag.iterations,
        "plans_tried": lag.plans_tried,
        "sites_closed": int(lag.closed.sum()),
        "sites_opened": int(lag.opened.sum()),
        "seconds": time.perf_counter() - tl,
    }
    report.build_seconds += time.perf_counter() - tl
    lower = max(lower, lag.bound)
    best = lag.plan
    if best is not None:
        keep |= best.alloc.toarray() > 0  # the plan is a solution of each round
        if math.isfinite(lower) and relative_gap(best.objective, lower) <= gap_rel:
            iterations.append(
                {"pairs": int(keep.sum()), "status": "lagrangian bound", "bound": lower}
            )
            return _finish_assignment(report, best, lower, gap_rel, iterations)

    def left() -> float | None:
        return None if deadline is None else deadline - time.perf_counter()

    def adopt(plan: Plan | None) -> None:
        """Keep ``plan`` when it beats the best one; its pairs join ``keep``
        (so it is a solution of every later round)."""
        nonlocal best
        if plan is not None and (best is None or plan.objective < best.objective):
            best = plan
            keep[:] |= plan.alloc.toarray() > 0
            opts.progress.plan(plan.objective)

    hard = (
        best is not None
        and math.isfinite(lower)
        and relative_gap(best.objective, lower) > SPLIT_BOUND_FROM
    )
    if hard and deadline is not None and core_share < SPLIT_BOUND_MIN_CORE:
        # No support plan on a busy machine (below): the site swaps the
        # Lagrangian stage left to it run instead, in what is left of the
        # stage's share, as they did within it.
        better = transport_swaps(
            pm, best, pairs, lag.site_values, deadline=lag_deadline
        )
        adopt(better)
    if hard and (deadline is None or core_share >= SPLIT_BOUND_MIN_CORE):
        # A hard case: the sites the relaxation opens or nearly opens hold
        # better plans than the site swaps reach; a small, work-bounded MIP
        # on them finds one, then exact-cost site swaps improve it
        # (:func:`support_search`). Not on a busy machine under a time
        # limit: cut short there it found nothing (at load 8, 7 CPU s in a
        # 30-s limit, 10.0% instead of 7.5%), and the wider site swaps of the
        # "LP out of time" path get the time. Under a time limit it runs in a
        # thread of its own while the split relaxation's MIP (below) proves
        # the bound on the other core: both need more than half of a 30-s
        # limit's CPU seconds on the demo's stress cases.
        reserve = 0.0 if deadline is None else min(0.1 * time_limit, 3.0)
        limit = None if deadline is None else left() - reserve
        if limit is None or limit > 0:
            ts = time.perf_counter()
            # In a thread: the split relaxation's MIP runs beside it under a
            # time limit (HiGHS releases the GIL while it solves).
            search = _Background(
                support_search,
                pm,
                pairs,
                keep.copy(),
                lag,
                best,
                limit,
                opts,
                None if deadline is None else deadline - reserve,
            )
            limit = None if deadline is None else SPLIT_BOUND_SHARE * (left() - reserve)
            if limit is not None and limit > 0:
                # The MIP of the split relaxation, from the Lagrangian plan (its
                # root is the LP the rounds below would solve first; on the
                # demo's stress cases that LP fixes nothing and the binary MIP,
                # one binary column per pair, does not end its root in 30 s).
                # With split assignment it is the rounds' own MIP, here without
                # the LP solved apart first.
                tr = time.perf_counter()
                bound, plan, rep = split_relaxation(
                    pm, pairs, keep, lag, limit, opts, deadline, best
                )
                report.solver = rep.solver
                report.build_seconds += rep.build_seconds
                report.solve_seconds += rep.solve_seconds
                iterations.append(
                    {
                        "pairs": int(keep.sum()),
                        "status": "split relaxation " + rep.status,
                        "bound": bound,
                        "objective": None if plan is None else plan.objective,
                        "seconds": time.perf_counter() - tr,
                    }
                )
                if bound is not None and bound > lower:
                    lower = bound
                    opts.progress.prove(lower)
                adopt(plan)
            plan = search.result()
            iterations.append(
                {
                    "pairs": int(keep.sum()),
                    "status": "support plan",
                    "objective": None if plan is None else plan.objective,
                    "seconds": time.perf_counter() - ts,
                }
            )
            adopt(plan)
            if relative_gap(best.objective, lower) <= gap_rel:
                return _finish_assignment(report, best, lower, gap_rel, iterations)

    rounded_tried = False

    def lp_left() -> float | None:
        # An LP that outlasts its share is dropped: the MIP gets the rest.
        if deadline is None:
            return None
        return min(left(), LP_SHARE * time_limit)

    while True:
        tb = time.perf_counter()
        built = _fixed_build(pm, pairs, keep, lag)
        relax = None
        if not out_of_time(left()):
            relax = solve_relaxation(built.model, lp_left())
        if relax is not None:
            lower = max(lower, relax.objective)
            opts.progress.prove(lower)
            if not rounded_tried:
                # The LP's open values, rounded, may beat the Lagrangian plan.
                rounded_tried = True
                rounded = rounded_plan(pm, relax.values[built.y], pairs, deadline)
                if rounded is not None and (
                    best is None or rounded.objective < best.objective
                ):
                    best = rounded
                    opts.progress.plan(best.objective)
                used = None if rounded is None else rounded.alloc.toarray() > 0
                if used is not None and best is rounded and (used & ~keep).any():
                    # Keep the plan's pairs so that it is a solution here.
                    keep |= used
                    built = _fixed_build(pm, pairs, keep, lag)
                    relax = solve_relaxation(built.model, lp_left())
        if relax is None and best is not None and deadline is not None:
            # The LP did not fit in its share: the MIP, whose root is that LP,
            # would not either. The plan and the bound found so far stand.
            # The time left goes to a wider swap search from the best plan's
            # sites. Its candidates are served by the greedy assignment, so it
            # starts from the greedy service of those sites (the best plan's
            # own, polished, would hide better sites), and its result is
            # polished in the time kept for it.
            maker = _PlanMaker(pm, pairs, deadline - min(0.1 * time_limit, 3.0))
            start = quick_plan(pm, best.open, pairs, None)
            if start is None or start.objective < best.objective:
                start = best
            maker.best = start.objective
            wider = swap_sites(
                pm, start, pairs, maker, lag.site_values, pm.m, 12, budget=None
            )
            if wider is not start:
                wider = polished(pm, wider, pairs, deadline)
            if wider.objective < best.objective:
                best = wider
                opts.progress.plan(best.objective)
            report.build_seconds += time.perf_counter() - tb
            iterations.append({"pairs": int(keep.sum()), "status": "lp out of time"})
            break
        warm = None if best is None else warm_assignment(pm, built, best)
        fixed = 0
        if relax is not None and warm is not None:
            if relative_gap(best.objective, lower) <= gap_rel:
                report.build_seconds += time.perf_counter() - tb
                report.solver = report.solver or "HiGHS (LP bound)"
                iterations.append(
                    {"pairs": int(keep.sum()), "status": "lp bound", "bound": lower}
                )
                break  # the LP bound proves the plan optimal
            # With single assignment a far column is 0/1 (the assignment
            # row with binary pairs): it may be fixed like them.
            far_cols = np.zeros(built.model.n_cols, bool)
            if not pm.split:
                far_cols[built.f] = True
            fixed = fix_by_reduced_cost(
                built.model, relax, best.objective, far_cols
            ).size
        report.build_seconds += time.perf_counter() - tb
        if out_of_time(left()):
            break
        mip_limit = left()
        if mip_limit is not None:
            # Keep time to turn a relaxed plan into a full one.
            mip_limit -= min(0.1 * time_limit, 3.0)
        far_idx = built.f
        x, rep = solve_fixed(
            built.model,
            opts.solver,
            mip_limit,
            gap_rel,
            warm,
            opts.msg,
            fixed,
            opts.live,
            # A solution sending no point far is a full plan at that cost.
            lambda v, obj, far_idx=far_idx: (
                obj if not (v[far_idx] > 1e-7).any() else None
            ),
        )
        report.solver = rep.solver
        report.build_seconds += rep.build_seconds
        report.solve_seconds += rep.solve_seconds
        far = np.zeros(pm.n, bool)
        if x is not None:
            far[built.far_pts] = x[built.f] > 1e-7
        iterations.append(
            {
                "pairs": int(keep.sum()),
                "lp_bound": None if relax is None else relax.objective,
                "fixed_columns": fixed,
                "status": rep.status,
                "bound": rep.bound,
                "objective": rep.objective,
                "far_points": int(far.sum()),
            }
        )
        if rep.status == INFEASIBLE:
            if best is not None:
                break  # nothing better than the incumbent survived fixing
            # The truncated model is a relaxation: the full one is infeasible.
            report.status = INFEASIBLE
            return AssignmentResult(report, None, iterations)
        if rep.bound is not None and math.isfinite(rep.bound):
            # After fixing, a bound on the plans better than the incumbent:
            # the final bound min(lower, incumbent) is valid either way.
            lower = max(lower, rep.bound)
            opts.progress.prove(lower)
        if x is None:
            break
        if not far.any():
            obj = rep.objective
            if best is None or obj < best.objective:
                best = _solution_plan(pm, built, x, obj)
                opts.progress.plan(obj)
            break  # the relaxation's plan is a full plan: its gap stands
        # A full plan on the relaxation's open sites may beat the incumbent.
        plan = plan_for(pm, x[built.y] > 0.5, pairs, deadline)
        adopt(plan)
        if best is not None and relative_gap(best.objective, lower) <= gap_rel:
            break
        # Points sent "far" need more of their pairs: double them.
        per_point = np.where(far, per_point * 2, per_point)
        keep |= nearest_pairs(pm, pairs, per_point) & far[:, None]
    return _finish_assignment(report, best, lower, gap_rel, iterations)


#: Gap left by the Lagrangian stage from which :func:`support_plan` runs and,
#: under a time limit, :func:`split_relaxation` before the LP rounds (and
#: above which the stage skips its site swaps). The demo's other capacitated
#: models leave at most 0.2% there; its stress cases 3-3.6%.
SPLIT_BOUND_FROM = 0.01

#: Share of the time left :func:`split_relaxation` may take (the rest goes
#: to the LP rounds, or to site swaps when their LP does not fit). All of
#: it since :func:`support_plan` runs first: its MIP needs 7 CPU s for its
#: root LP and 10-11 for its first cut round on the demo's stress cases,
#: where the binary MIP after it never ends its root.
SPLIT_BOUND_SHARE = 1.0

#: Share of a core the Lagrangian stage must have had for
#: :func:`split_relaxation` to run: at load 5-7 on the 2-core machine (13 CPU
#: s in a 60-s limit) its root did not end and the site swaps it took the
#: time from had found a 0.4% better plan.
SPLIT_BOUND_MIN_CORE = 0.5


def split_relaxation(
    pm: PMedianProblem,
    pairs: np.ndarray,
    keep: np.ndarray,
    lag: LagrangianResult,
    time_limit: float,
    opts: SolveOptions,
    deadline: float | None = None,
    start: Plan | None = None,
) -> tuple[float | None, Plan | None, SolveReport]:
    """A bound from the MIP of the split relaxation, and a plan on its sites.

    The truncated model on the ``keep`` pairs (sites settled by the
    Lagrangian test fixed) with continuous pair columns, warm-started by
    ``start`` (default the Lagrangian plan; a better plan whose pairs
    ``keep`` holds). With split assignment it is the model itself; with
    single assignment every single plan is one of its solutions, so its MIP
    bound is a lower bound of the single optimum (of the plans better than
    the Lagrangian plan when sites were fixed; the final
    ``min(bound, incumbent)`` is valid either way). Its MIP has one binary
    column per site where the single one has one per kept pair: HiGHS ends
    its root, cuts included, far sooner (demo stress case, 250 sites and
    16,000 pairs: 231,842 after 15 CPU s, where the binary MIP's root stood at
    230,950 after 12.5). The open sites of its best solution are served by
    :func:`plan_for` (a checked plan of the model asked for).

    ``deadline`` (a :func:`time.perf_counter` time) bounds that plan's
    solves. Returns the bound (None when the MIP gave none), that plan (or
    None) and the MIP's report.
    """
    relaxed = _fixed_build(pm, pairs, keep, lag, split=True)
    start = lag.plan if start is None else start
    warm = None if start is None else warm_assignment(pm, relaxed, start)
    x, rep = solve_fixed(
        relaxed.model,
        opts.solver,
        max(time_limit, 0.05),
        opts.gap_rel,
        warm,
        opts.msg,
        int(lag.closed.sum() + lag.opened.sum()),
        opts.live,  # its live bound only: its solutions are not plans
    )
    bound = rep.bound if rep.bound is not None and math.isfinite(rep.bound) else None
    if rep.status == INFEASIBLE:
        # Nothing better than the Lagrangian plan survived its site fixing;
        # as for the exact stage's MIP, no proof is drawn from it.
        bound = None
    plan = None
    if x is not None:
        plan = plan_for(pm, x[relaxed.y] > 0.5, pairs, deadline)
    return bound, plan, rep


#: Sites whose Lagrangian value lies within this share (of the largest
#: chosen site's value, in magnitude) of the sites the relaxation opens join
#: the support of :func:`support_plan`. Within 0.1% are the relaxation's ties,
#: the sites the LP opens fractionally (demo stress cases: 38 sites, best
#: plans 237,142 split, 237,059 single's split service, where HiGHS proves
#: 237,059 optimal on the LP's 40 sites); within 4%, 68 sites, whose MIP
#: finds 234,064 (split) and 234,095 (single) at its 24th check, 12 CPU s
#: (1%: 47 sites, 235,680 / 238,448; 3%: 59, 235,450).
SUPPORT_TOLERANCE = 0.04

#: The same for single assignment, kept to the ties: the 68-site MIP's
#: sites cost 238,380 once served whole (7 CPU s more, for the single
#: service), the ties' 238,194 (its split service 237,059, 2 CPU s).
SUPPORT_TOLERANCE_SINGLE = 1e-3

#: HiGHS interrupt checks :func:`support_plan`'s MIP may use: a work bound,
#: so that the same plan comes out however loaded the machine (unless its
#: time share runs out first). On the demo's stress cases the best plans
#: came at the 24th check (about 12 CPU s on the shared machine).
SUPPORT_WORK = 25

#: Random seeds of HiGHS :func:`support_search` tries the support MIP with
#: (each work-bounded), one after the other while time is left; split
#: assignment only. Single assignment's support is the relaxation's ties (38
#: sites on the demo's stress case, near the 40 the LP uses, where HiGHS
#: proves 237,059 the best split cost), and the single service of the sites
#: is what costs: there a second seed took 10 CPU s of the swaps' time and
#: found nothing better (load 4-5).
SUPPORT_SEEDS = 2

#: :func:`support_plan` does not serve the sites of a MIP solution costing
#: more than the best plan by this share (its own service of those sites is
#: seldom improved that much; on a busy machine, cut short, it was 18% above).
SUPPORT_SKIP = 0.01


def lagrangian_support(pm: PMedianProblem, lag: LagrangianResult) -> np.ndarray:
    """Sites the Lagrangian relaxation opens or nearly opens, and its plan's.

    The sites :func:`~optimization.lagrangian.select_sites` opens at the best
    multipliers, those whose value is within :data:`SUPPORT_TOLERANCE` (single
    assignment: :data:`SUPPORT_TOLERANCE_SINGLE`) of the largest of them,
    the plan's open sites and the locked ones; never a forbidden site or one
    the Lagrangian test closed.
    """
    g = lag.site_values
    chosen = select_sites(g, pm.rules, pm.p)
    support = np.zeros(pm.m, bool) if chosen is None else chosen.copy()
    if support.any():
        level = float(g[support].max())
        tol = SUPPORT_TOLERANCE if pm.split else SUPPORT_TOLERANCE_SINGLE
        support |= g <= level + tol * max(abs(level), 1.0)
    if lag.plan is not None:
        support |= lag.plan.open
    support |= pm.rules.locked | lag.opened
    return support & ~pm.rules.forbidden & ~lag.closed


def support_plan(
    pm: PMedianProblem,
    pairs: np.ndarray,
    keep: np.ndarray,
    lag: LagrangianResult,
    best: Plan,
    time_limit: float | None,
    opts: SolveOptions,
    deadline: float | None = None,
    work_limit: int = SUPPORT_WORK,
    seed: int = 0,
) -> Plan | None:
    """A plan from the split relaxation's MIP on the Lagrangian's support sites.

    The truncated model on the ``keep`` pairs (which hold ``best``'s), with
    continuous pair columns and every site outside :func:`lagrangian_support`
    and ``best``'s open sites closed: 68 binary
    columns instead of 250 on the demo's stress cases, where HiGHS's root
    heuristics find a plan 1.6% better than the site swaps' in 12 CPU
    seconds (on the 40 sites the LP uses HiGHS proves, in 22 CPU s, that no
    split plan beats 237,059). Bounded by ``work_limit`` interrupt checks (one thread), and by
    ``time_limit`` seconds. The open sites of its best solution are served by
    :func:`plan_for` (single or split as ``pm`` asks, checked against the
    full model). Only a plan: nothing is proven from this restricted model.
    Returns that plan, or None.
    """
    open_mask, _ = _support_mip(
        pm, pairs, keep, lag, best, time_limit, opts, work_limit, seed
    )
    return None if open_mask is None else plan_for(pm, open_mask, pairs, deadline)


def _support_mip(
    pm: PMedianProblem,
    pairs: np.ndarray,
    keep: np.ndarray,
    lag: LagrangianResult,
    best: Plan,
    time_limit: float | None,
    opts: SolveOptions,
    work_limit: int,
    seed: int,
) -> tuple[np.ndarray | None, bool]:
    """The open sites of :func:`support_plan`'s MIP solution, and whether that
    MIP proved them optimal on the support (then another seed finds no better
    sites). None when it found none, or none within :data:`SUPPORT_SKIP` of
    ``best``."""
    sites = lagrangian_support(pm, lag) | best.open
    relaxed = _fixed_build(pm, pairs, keep, lag, split=True)
    relaxed.model.fix_columns(relaxed.y[~sites], 0.0)
    # No warm start: from ``best`` HiGHS skips the root heuristics that find
    # the better plans (demo split stress case: 237,965 kept after 83 checks
    # with it, 237,142 at check 18 without).
    x, rep = solve_model(
        relaxed.model,
        opts.solver,
        None if time_limit is None else max(time_limit, 0.05),
        opts.gap_rel,
        threads=1,
        highs_options={"random_seed": int(seed)},
        work_limit=work_limit,
    )
    proven = rep.status == OPTIMAL
    if x is None or rep.objective is None:
        return None, proven
    if rep.objective > best.objective * (1 + SUPPORT_SKIP):
        # Cut short far above the best plan (a busy machine): serving its
        # sites (for single assignment, small MIPs) would only take time.
        return None, proven
    return x[relaxed.y] > 0.5, proven


def support_search(
    pm: PMedianProblem,
    pairs: np.ndarray,
    keep: np.ndarray,
    lag: LagrangianResult,
    best: Plan,
    time_limit: float | None,
    opts: SolveOptions,
    deadline: float | None = None,
) -> Plan | None:
    """:func:`support_plan` with :data:`SUPPORT_SEEDS` seeds, then site swaps.

    Which plan the support MIP's heuristics find within its work bound
    depends on HiGHS's random seed far more than on its work (demo split
    stress case, 25 checks, served and then swapped: 235,122, 234,335,
    240,298 and 236,411 for seeds 0-3; seed 0 at 70 checks still 235,652), so
    the first seeds are tried in turn (until one proves its sites optimal on
    the support); single assignment tries one (see :data:`SUPPORT_SEEDS`).
    Site swaps priced by the split cost on the kept pairs
    (:func:`transport_swaps`) improve each seed's plan (235,652 -> 235,122 in
    0.9 CPU s; ``best`` when no seed gave one), and the best is kept. Every
    step is work-bounded; ``time_limit`` (seconds) and ``deadline`` (a
    :func:`time.perf_counter` time) only cut them short, and a seed starts
    only while time is left.
    Returns a plan better than ``best``, or None.
    """
    t0 = time.perf_counter()
    found = None
    for seed in range(SUPPORT_SEEDS if pm.split else 1):
        limit = None if time_limit is None else time_limit - (time.perf_counter() - t0)
        if seed and out_of_time(limit):
            break
        open_mask, proven = _support_mip(
            pm, pairs, keep, lag, best, limit, opts, SUPPORT_WORK, seed
        )
        plan = None if open_mask is None else plan_for(pm, open_mask, pairs, deadline)
        if plan is not None:
            # Swapped at once: cut short by the time limit (a busy machine),
            # the next seed's MIP would leave nothing swapped.
            plan = _swapped(pm, plan, pairs, keep, lag, deadline)
            if found is None or plan.objective < found.objective:
                found = plan
        if proven:
            break  # the support's optimum: another seed would find it again
    if found is None:
        found = _swapped(pm, best, pairs, keep, lag, deadline)
    return found if found.objective < best.objective else None


def _swapped(
    pm: PMedianProblem,
    plan: Plan,
    pairs: np.ndarray,
    keep: np.ndarray,
    lag: LagrangianResult,
    deadline: float | None,
) -> Plan:
    """:func:`transport_swaps` from ``plan`` on the kept pairs, or ``plan``.

    The swaps' LP on the ``keep`` pairs (and the plan's): 16,000 columns
    instead of 100,000 on the demo's stress cases, where the same swaps are
    found (235,652 -> 235,122) in 0.9 CPU s instead of 6.8. The sites found
    are then served over every pair.
    """
    kept = keep | (plan.alloc.toarray() > 0)
    swapped = transport_swaps(pm, plan, kept, lag.site_values, deadline=deadline)
    if swapped is plan:
        return plan
    served = plan_for(pm, swapped.open, pairs, deadline)
    if served is not None and served.objective < swapped.objective:
        swapped = served
    return swapped if swapped.objective < plan.objective else plan


class _Background:
    """``fn(*args)`` run in a thread of its own; :meth:`result` waits for it.

    HiGHS releases the GIL while it solves, so two solves in two threads use
    two cores. An exception in the thread is raised again by :meth:`result`.
    """

    def __init__(self, fn: Any, *args: Any):
        self._value: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(fn, args), daemon=True)
        self._thread.start()

    def _run(self, fn: Any, args: tuple) -> None:
        try:
            self._value = fn(*args)
        except BaseException as exc:  # handed to the caller by result()
            self._error = exc

    def result(self) -> Any:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value


def _fixed_build(
    pm: PMedianProblem,
    pairs: np.ndarray,
    keep: np.ndarray,
    lag: LagrangianResult,
    split: bool | None = None,
) -> AssignmentModel:
    """:func:`build_assignment` with the sites the Lagrangian test settled fixed.

    No plan better than the Lagrangian plan opens a ``closed`` site or closes
    an ``opened`` one, and that plan itself respects both: the round keeps
    every plan that matters.
    """
    built = build_assignment(pm, pairs, keep, split)
    if lag.plan is not None:
        built.model.fix_columns(built.y[lag.closed], 0.0)
        built.model.fix_columns(built.y[lag.opened], 1.0)
    return built


def _finish_assignment(
    report: SolveReport,
    best: Plan | None,
    lower: float,
    gap_rel: float,
    iterations: list[dict[str, Any]],
) -> AssignmentResult:
    """The result of the best plan and the best bound, statuses as proven."""
    report.details["iterations"] = len(iterations)
    report.details["fixed_columns"] = sum(
        it.get("fixed_columns", 0) for it in iterations
    )
    if best is None:
        report.status = NO_SOLUTION
        report.bound = lower if math.isfinite(lower) else None
        return AssignmentResult(report, None, iterations)
    report.objective = best.objective
    report.bound = min(lower, best.objective) if math.isfinite(lower) else None
    if report.bound is None:
        report.status = FEASIBLE
    else:
        report.gap = relative_gap(best.objective, report.bound)
        report.status = OPTIMAL if report.gap <= gap_rel + 1e-12 else FEASIBLE
    return AssignmentResult(report, best, iterations)


def rounded_plan(
    pm: PMedianProblem, y: np.ndarray, pairs: np.ndarray, deadline: float | None
) -> Plan | None:
    """The best full plan rounded from fractional open values, or None.

    With a free number of sites, both "open from 0.5" and "open every site
    the LP uses" are tried.
    """
    thresholds = [0.5] if pm.p is not None else [0.5, 1e-6]
    best = None
    for threshold in thresholds:
        open_mask = round_open_sites(y, pm.rules, pm.weights, pm.p, threshold)
        plan = None if open_mask is None else plan_for(pm, open_mask, pairs, deadline)
        if plan is not None and (best is None or plan.objective < best.objective):
            best = plan
    return best


def plan_for(
    pm: PMedianProblem, open_mask: np.ndarray, pairs: np.ndarray, deadline: float | None
) -> Plan | None:
    """A full plan serving the demand from ``open_mask``, checked, or None.

    ``deadline`` is a :func:`time.perf_counter` time (None: no limit).
    """
    time_limit = None if deadline is None else deadline - time.perf_counter()
    if out_of_time(time_limit):
        return None
    plan = assign_to_open_sites(
        pm.cost_matrix,
        pm.weights,
        open_mask,
        pairs,
        pm.rules,
        split=pm.split,
        cost_weight=pm.cost_weight,
        time_limit=time_limit,
    )
    if plan is None:
        return None
    # Checked against the full model's rows (p, budget, equity...).
    full = build_assignment(pm, pairs, plan.alloc.toarray() > 0)
    x = warm_assignment(pm, full, plan)
    if x is None:
        return None
    plan.objective = full.model.objective_value(x)
    return plan


def _solution_plan(
    pm: PMedianProblem, built: AssignmentModel, x: np.ndarray, obj: float
) -> Plan:
    """The plan of a solution of ``built`` that sends no point far."""
    frac = x[built.x]
    used = frac > 1e-9
    return Plan(
        open=x[built.y] > 0.5,
        modules=None if built.k is None else np.round(x[built.k]).astype(int),
        alloc=sp.csr_matrix(
            (frac[used], (built.ii[used], built.jj[used])), shape=(pm.n, pm.m)
        ),
        objective=obj,
    )
