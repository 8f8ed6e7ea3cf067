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
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from optimization.base import PMedianProblem
from optimization.capacitated import Plan, assign_to_open_sites, round_open_sites
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
    out_of_time,
    relative_gap,
    solve_fixed,
    solve_relaxation,
)

__all__ = [
    "AssignmentModel",
    "AssignmentResult",
    "assignment_pairs",
    "build_assignment",
    "solve_assignment",
]


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
    pm: PMedianProblem, pairs: np.ndarray, keep: np.ndarray
) -> AssignmentModel:
    """Assignment model on the ``keep`` pairs, a relaxation of the full one.

    A point whose allowed pairs are not all kept gets a *far* column
    ``f_i`` costing its cheapest dropped pair, which uses no site capacity
    and needs an open site among the dropped ones. Any plan of the full
    model maps to a plan of this model at no higher cost, so its optimum
    and its bound are lower bounds of the full optimum; a solution with no
    far column used is a plan of the full model at the same cost.
    """
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
        integer=not pm.split,
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

    def left() -> float | None:
        return None if deadline is None else deadline - time.perf_counter()

    def lp_left() -> float | None:
        # An LP that outlasts its share is dropped: the MIP gets the rest.
        if deadline is None:
            return None
        return min(left(), LP_SHARE * time_limit)

    while True:
        tb = time.perf_counter()
        built = build_assignment(pm, pairs, keep)
        relax = None
        if not out_of_time(left()):
            relax = solve_relaxation(built.model, lp_left())
        if relax is not None:
            lower = max(lower, relax.objective)
            opts.progress.prove(lower)
            if best is None:
                best = rounded_plan(pm, relax.values[built.y], pairs, deadline)
                opts.progress.plan(None if best is None else best.objective)
                used = None if best is None else best.alloc.toarray() > 0
                if used is not None and (used & ~keep).any():
                    # Keep the plan's pairs so that it is a solution here.
                    keep |= used
                    built = build_assignment(pm, pairs, keep)
                    relax = solve_relaxation(built.model, lp_left())
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
        if plan is not None and (best is None or plan.objective < best.objective):
            best = plan
            keep |= plan.alloc.toarray() > 0  # a solution of next round
            opts.progress.plan(plan.objective)
        if best is not None and relative_gap(best.objective, lower) <= gap_rel:
            break
        # Points sent "far" need more of their pairs: double them.
        per_point = np.where(far, per_point * 2, per_point)
        keep |= nearest_pairs(pm, pairs, per_point) & far[:, None]
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
