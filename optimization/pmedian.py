"""Capacitated p-median with an existing network.

Two exact formulations, chosen automatically:

* **Uncapacitated** (no ``capacities``): Elloumi's radius formulation over the
  sorted distinct distances of each demand point, truncated and grown
  iteratively (García, Labbé & Marín 2011). The truncated model charges a
  demand point at most its next distance level, so it is a relaxation: its
  bound is a valid lower bound, and when its solution is charged exactly the
  solution is optimal. Otherwise the levels of the under-charged points are
  extended and the model is solved again, warm-started by the best solution.
* **Capacitated**: the classic assignment formulation with strong linking
  rows ``x_ij <= y_j``, capacity rows and optional capacity modules; single
  (binary) or split assignment.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import time
from typing import Any

import numpy as np
import scipy.sparse as sp

from optimization.base import LocationModel
from optimization.capacitated import assign_to_open_sites, round_open_sites
from optimization.heuristics import (
    greedy_interchange,
    lagrangian_bound,
    perturbed_interchange,
)
from optimization.inputs import EquityRule, Labels, SiteRules
from optimization.solver import (
    DEFAULT_GAP,
    FEASIBLE,
    INFEASIBLE,
    NO_SOLUTION,
    OPTIMAL,
    LinearModel,
    PlanCheck,
    SolveProgress,
    SolveReport,
    fix_by_reduced_cost,
    relative_gap,
    solve_model,
    solve_relaxation,
)

__all__ = ["PMedian"]


def _out_of_time(left: float | None) -> bool:
    return left is not None and left <= 0


def _solve_fixed(
    model: LinearModel,
    solver: Any,
    time_limit: float | None,
    gap_rel: float,
    warm: np.ndarray | None,
    msg: bool,
    fixed: int,
    progress: SolveProgress | None = None,
    plans: PlanCheck | bool = False,
) -> tuple[np.ndarray | None, SolveReport]:
    """Solve a MIP whose columns may have been fixed from the warm start's gap.

    HiGHS 1.15's MIP presolve was seen, rarely (one random capacitated model
    with modules in about 2,500), to cut off better plans of such a model,
    calling it infeasible or its warm start optimal. When columns were fixed
    in a model with general integers (capacity modules, the only kind where
    it was seen) and the solve ends there, it is repeated with presolve off.
    ``progress`` gets the live bound, and the plans ``plans`` finds in the
    improving solutions (the model is a truncated relaxation: its solutions
    are plans only once checked).
    """
    t0 = time.perf_counter()

    def run(limit: float | None, presolve: bool) -> tuple:
        return solve_model(
            model,
            solver,
            limit,
            gap_rel,
            warm,
            msg,
            presolve=presolve,
            progress=progress,
            progress_plans=plans,
        )

    x, rep = run(time_limit, True)
    _, _, ub, integer, *_ = model.arrays()
    if not fixed or warm is None or not (integer & (ub > 1)).any():
        return x, rep
    upper = model.objective_value(warm)
    stuck = rep.status == INFEASIBLE or (
        rep.objective is not None
        and rep.objective >= upper - 1e-9 * max(1.0, abs(upper))
    )
    if not stuck:
        return x, rep
    if time_limit is not None:
        time_limit -= time.perf_counter() - t0
        if time_limit <= 0:
            return x, rep
    x2, rep2 = run(time_limit, False)
    rep2.build_seconds += rep.build_seconds
    rep2.solve_seconds += rep.solve_seconds
    rep2.details["presolve_off_check"] = True
    return x2, rep2


KTH = 2  # warm levels reach the 2nd-nearest open site of the start
#: Share of a time limit the capacitated model's LP relaxation may take.
LP_SHARE = 0.3


class PMedian(LocationModel):
    """Minimise demand-weighted distance with an existing network of centers.

    Build it from numpy arrays (``PMedian(...)``, or :meth:`from_cost_matrix`,
    spopt's name for the same call) or with :meth:`from_geodataframe`, then
    call :meth:`solve`.

    Parameters
    ----------
    cost_matrix : array-like, shape (n, m)
        Distance (km) or travel time between demand points and sites;
        ``inf`` forbids a pair.
    weights : array-like, shape (n,)
        Demand of each point (population, weekly requests, a forecast...).
    p : int, optional
        Exact number of open centers. ``None`` lets the site rules'
        ``max_new``/``budget`` decide how many candidates open next to the
        existing centers.
    sites : SiteRules, optional
        Existing, locked and forbidden sites, opening/closing costs,
        ``max_new``, budget, capacities (which make the model capacitated)
        and capacity modules. ``None``: every site a free candidate.
    name : str, optional
        Name of the problem (default ``"p-median"``).
    equity : EquityRule, optional
        At least a share of each group's demand within a radius of an open
        site.
    max_distance : float, optional
        No demand point may be assigned farther than this.
    split : bool
        Allow a demand point to be split between centers (capacitated only;
        by default each point is served by one center).
    cost_weight : float
        Objective weight of the site costs, in distance x demand per cost unit.
    labels : Labels, optional
        Names and units quoted in explanations.

    Examples
    --------
    >>> import numpy as np
    >>> cost = np.array([[0.0, 4.0, 9.0], [3.0, 1.0, 6.0], [8.0, 5.0, 0.0]])
    >>> model = PMedian.from_cost_matrix(cost, np.array([10, 20, 5]), p=2).solve()
    >>> model.status, model.objective, model.open_sites.tolist()
    ('optimal', 45.0, [0, 1])
    >>> model.assignment.tolist()
    [0, 1, 1]

    With an existing network (site 0), at most one new center and capacities:

    >>> from optimization.inputs import SiteRules
    >>> sites = SiteRules.build(3, existing=[0], max_new=1, capacities=[30, 30, 30])
    >>> PMedian(cost, [10, 20, 5], None, sites).solve().open_sites.tolist()
    [0, 1]
    """

    name = "p-median"
    #: First truncation of the capacitated model: cheapest pairs per point.
    pairs_per_point = 40

    def __init__(
        self,
        cost_matrix: Any,
        weights: Any,
        p: int | None = None,
        sites: SiteRules | None = None,
        name: str | None = None,
        *,
        equity: EquityRule | None = None,
        max_distance: float | None = None,
        split: bool = False,
        cost_weight: float = 0.0,
        labels: Labels | None = None,
    ):
        super().__init__(
            cost_matrix,
            weights,
            p,
            sites,
            name,
            equity=equity,
            max_distance=max_distance,
            labels=labels,
        )
        self.split = bool(split)
        if not np.isfinite(cost_weight) or cost_weight < 0:
            raise ValueError(
                f"'cost_weight' should be a non-negative number, got {cost_weight!r}"
            )
        self.cost_weight = float(cost_weight)
        self.iterations: list[dict[str, Any]] = []

    # ------------------------------------------------------------------------

    def solve(
        self,
        solver: Any = None,
        time_limit: float | None = None,
        gap_rel: float | None = None,
        msg: bool = False,
        progress: SolveProgress | None = None,
    ) -> PMedian:
        """Solve the model and store the results as attributes.

        Parameters
        ----------
        solver : {"highs", "cbc"} or pulp solver, optional
            Default HiGHS via highspy, CBC as fallback.
        time_limit : float, optional
            Seconds for the whole solve.
        gap_rel : float, optional
            Relative gap at which to stop (default 1e-6, i.e. optimal).
        msg : bool
            Show the solver log.
        progress : SolveProgress, optional
            Follows the best full plan and the proven bound while it runs
            (e.g. for a progress display in another thread).

        Returns
        -------
        PMedian
            ``self``, with ``status``, ``objective``, ``bound``, ``gap``,
            ``open_sites``, ``assignment`` and ``report`` set.

        Raises
        ------
        InfeasibleError
            With planner-readable reasons, found before or after solving.
        """
        from optimization.errors import InfeasibleError

        reasons = self.diagnose()
        if reasons:
            raise InfeasibleError(reasons)
        gap_rel = DEFAULT_GAP if gap_rel is None else float(gap_rel)
        self._progress = SolveProgress() if progress is None else progress
        # HiGHS callbacks only when someone follows the solve.
        self._live = progress
        if self.rules.capacities is None:
            report = self._solve_radius(solver, time_limit, gap_rel, msg)
        else:
            report = self._solve_assignment(solver, time_limit, gap_rel, msg)
        self.report = report
        self._infeasible(report)
        return self

    def build_model(self) -> LinearModel:
        """The complete formulation: every distance level, or every pair.

        Uncapacitated: the radius formulation with all levels; capacitated:
        the assignment formulation with all allowed pairs. :meth:`solve`
        reaches the same optimum through truncated, fixed versions of it.

        Examples
        --------
        >>> cost = np.array([[0.0, 4.0], [3.0, 1.0]])
        >>> sites = SiteRules.build(2, capacities=[2, 2])
        >>> m = PMedian.from_cost_matrix(cost, [1, 1], 1, sites)
        >>> m.build_model().n_cols  # 2 sites + 4 pairs
        6
        """
        if self.rules.capacities is not None:
            pairs = self._assignment_pairs()
            return self._build_assignment(pairs, pairs)["model"]
        lv = self._levels()
        full_L = np.maximum(lv["K"] - 1, 0)
        full_L[self.weights <= 0] = 0
        return self._build_radius(lv, full_L)["model"]

    # -- uncapacitated: truncated radius formulation ------------------------------

    def _levels(self) -> dict[str, np.ndarray]:
        """Sorted distinct distance levels of each demand point over allowed pairs."""
        pairs = self.allowed_pairs()
        D = np.where(pairs, self.cost_matrix, np.inf)
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
        return {
            "order": order,
            "Ds": Ds,
            "lev": lev,
            "K": K,
            "values": values,
            "finite": finite,
            "pairs": pairs,
        }

    def _level_of(self, lv: dict[str, np.ndarray], dist: np.ndarray) -> np.ndarray:
        """0-based level index of ``dist`` in each row's distinct levels."""
        vals = lv["values"]
        return np.array(
            [
                int(np.searchsorted(vals[i, : lv["K"][i]], dist[i]))
                for i in range(self.n)
            ]
        )

    def _build_radius(self, lv: dict[str, np.ndarray], L: np.ndarray) -> dict[str, Any]:
        n = self.n
        w = self.weights
        model = LinearModel(self.name)
        y = self._add_site_columns(model, self.cost_weight)
        values = lv["values"]
        model.offset += float(np.sum(w * np.where(lv["K"] > 0, values[:, 0], 0.0)))
        total = int(L.sum())
        start = np.concatenate([[0], np.cumsum(L)[:-1]]).astype(np.int64)
        owner = np.repeat(np.arange(n), L)
        k = np.arange(total) - start[owner]  # 0-based: z index k means "beyond level k"
        step = values[owner, k + 1] - values[owner, k]
        z = model.add_vars("z", total, ub=1.0, cost=w[owner] * step)
        lev, order, finite = lv["lev"], lv["order"], lv["finite"]
        sel = finite & (lev < L[:, None])
        ii, cc = np.nonzero(sel)
        y_rows = start[ii] + lev[ii, cc]
        y_cols = y[order[ii, cc]]
        chain = np.flatnonzero(k > 0)
        rows = np.concatenate([y_rows, np.arange(total), chain])
        cols = np.concatenate([y_cols, z, z[chain - 1]])
        vals = np.concatenate(
            [np.ones(y_rows.size), np.ones(total), -np.ones(chain.size)]
        )
        lo = np.where(k == 0, 1.0, 0.0)
        model.add_rows("radius", rows, cols, vals, lo=lo, n=total)
        self._add_coverage_rows(model, y, lv)
        self._add_site_rows(model, y)
        self._add_equity_rows(model, y)
        return {"model": model, "y": y, "z": z, "start": start, "owner": owner, "k": k}

    def _add_coverage_rows(self, model: LinearModel, y: np.ndarray, lv: dict) -> None:
        """Every demand point must have an allowed open site."""
        pairs = lv["pairs"]
        allowed = self.rules.allowed
        full = (pairs == allowed[None, :]).all(axis=1) | (self.weights <= 0)
        if full.all():
            cols = y[np.flatnonzero(allowed)]
            model.add_rows("any_open", np.zeros(cols.size), cols, 1.0, lo=1.0, n=1)
            return
        idx = np.flatnonzero(~full)
        ii, jj = np.nonzero(pairs[idx])
        model.add_rows("reach", ii, y[jj], 1.0, lo=1.0, n=idx.size)

    def _warm_radius(
        self, built: dict, lv: dict, open_mask: np.ndarray, L: np.ndarray
    ) -> np.ndarray:
        model: LinearModel = built["model"]
        x = np.zeros(model.n_cols)
        x[built["y"]] = open_mask
        dist = self._nearest_distance(open_mask)
        lvl = self._level_of(lv, dist)
        owner, k = built["owner"], built["k"]
        x[built["z"]] = (k < lvl[owner]).astype(float)
        if self.equity is not None:
            self._warm_equity(model, x, open_mask)
        return x

    def _warm_equity(
        self, model: LinearModel, x: np.ndarray, open_mask: np.ndarray
    ) -> None:
        name_start = [(nm, s, e) for nm, s, e in model._col_blocks if nm == "cov"]
        if not name_start:
            return
        _, s, e = name_start[0]
        eq = self.equity
        near = ((self.cost_matrix <= eq.radius) & open_mask[None, :]).any(axis=1)
        need = np.array([eq.min_share.get(g, 0.0) > 0 for g in eq.groups])
        x[s:e] = near[need].astype(float)

    def _kth_open_distance(self, open_mask: np.ndarray, k: int) -> np.ndarray:
        D = np.where(
            self.allowed_pairs() & open_mask[None, :], self.cost_matrix, np.inf
        )
        k = min(k, int(open_mask.sum()))
        out = np.partition(D, k - 1, axis=1)[:, k - 1]
        return np.where(np.isfinite(out), out, D.min(axis=1))

    def _nearest_distance(self, open_mask: np.ndarray) -> np.ndarray:
        D = np.where(
            self.allowed_pairs() & open_mask[None, :], self.cost_matrix, np.inf
        )
        return D.min(axis=1)

    def _true_objective(self, open_mask: np.ndarray) -> float:
        d = self._nearest_distance(open_mask)
        pos = self.weights > 0
        if not np.all(np.isfinite(d[pos])):
            return math.inf
        dist = float(self.weights[pos] @ d[pos])
        return dist + self.cost_weight * self.rules.change_cost(open_mask)

    def _start_solution(self) -> np.ndarray | None:
        r = self.rules
        if self.p is None:
            start = (r.existing | r.locked) & r.allowed
            return start if start.any() else None
        pairs = self.allowed_pairs()
        D = np.where(pairs, self.cost_matrix, np.inf)
        return greedy_interchange(D, self.weights, self.p, r.locked, r.allowed)

    def _lagrangian_applies(self) -> bool:
        r = self.rules
        return (
            self.p is not None
            and r.max_new is None
            and r.budget is None
            and self.equity is None
            and (
                self.cost_weight == 0
                or not (r.opening_cost.any() or r.closing_cost.any())
            )
        )

    def _solve_radius(
        self, solver: Any, time_limit: float | None, gap_rel: float, msg: bool
    ) -> SolveReport:
        t_start = time.perf_counter()
        start = self._start_solution()
        start_obj = math.inf if start is None else self._true_objective(start)
        if not math.isfinite(start_obj) or not self._lagrangian_applies():
            report, best_open, _ = self._radius_loop(
                start, solver, time_limit, gap_rel, msg, t_start
            )
            self._store_radius(report, best_open)
            return report
        D = np.where(self.allowed_pairs(), self.cost_matrix, np.inf)
        # On large instances the MIP's root LP alone outlasts any sensible time
        # limit, so the Lagrangian bound gets most of the time there.
        large = self.n * self.m > 2_000_000
        share = 0.45 if large else 0.25
        budget = 30.0 if time_limit is None else max(share * time_limit, 0.1)
        r = self.rules
        lag = lagrangian_bound(
            D,
            self.weights,
            self.p,
            start_obj,
            start,
            r.locked,
            r.allowed,
            time_budget=budget,
            target_gap=gap_rel,
        )
        if lag["upper"] < start_obj:
            start = lag["best_open"]
            start_obj = self._true_objective(start)
        if relative_gap(start_obj, lag["bound"]) > gap_rel:
            # Local search from the Lagrangian plan, then tighten with the better
            # upper bound (steps towards it converge faster).
            polished = greedy_interchange(
                D,
                self.weights,
                self.p,
                r.locked,
                r.allowed,
                time_budget=budget,
                start=lag["chosen"],
            )
            obj = self._true_objective(polished)
            if obj < start_obj:
                start, start_obj = polished, obj
            if large and relative_gap(start_obj, lag["bound"]) > gap_rel:
                # The radius MIP will not finish at this size: spend the time
                # on kicks + interchange, then on the bound with a closer target.
                kicked = perturbed_interchange(
                    D,
                    self.weights,
                    self.p,
                    start,
                    r.locked,
                    r.allowed,
                    time_budget=0.3 * (120.0 if time_limit is None else time_limit),
                )
                obj = self._true_objective(kicked)
                if obj < start_obj:
                    start, start_obj = kicked, obj
            if start_obj < lag["upper"]:
                again = lagrangian_bound(
                    D,
                    self.weights,
                    self.p,
                    start_obj,
                    start,
                    r.locked,
                    r.allowed,
                    time_budget=budget,
                    target_gap=gap_rel,
                    lam0=lag["lam"],
                )
                if again["bound"] > lag["bound"]:
                    lag = again
                if again["upper"] < start_obj:
                    start = again["best_open"]
                    start_obj = self._true_objective(start)
        del D
        lag_bound = float(lag["bound"])
        self._progress.plan(start_obj)
        self._progress.prove(lag_bound)
        fixed_open = r.locked | lag["fix_open"]
        if int(fixed_open.sum()) == self.p and np.array_equal(fixed_open, start):
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
            self._finish_radius(report, start, start_obj, lag_bound, gap_rel)
            self._store_radius(report, start)
            return report
        # Sites fixed by the Lagrangian test are closed (open) in every plan
        # better than the start, so the reduced model keeps the optimum.
        reduced = copy.copy(self)
        reduced.rules = dataclasses.replace(
            self.rules,
            forbidden=self.rules.forbidden | lag["fix_closed"],
            locked=self.rules.locked | lag["fix_open"],
        )
        report, best_open, best_obj = reduced._radius_loop(
            start, solver, time_limit, gap_rel, msg, t_start
        )
        report.details.update(details)
        self.iterations = reduced.iterations
        lower = report.bound if report.bound is not None else -math.inf
        if best_open is None or best_obj >= start_obj:
            best_open, best_obj = start, start_obj
        bound = max(lag_bound, min(lower, start_obj))
        self._finish_radius(report, best_open, best_obj, bound, gap_rel)
        self._store_radius(report, best_open)
        return report

    def _finish_radius(
        self,
        report: SolveReport,
        best_open: np.ndarray | None,
        best_obj: float,
        lower: float,
        gap_rel: float,
    ) -> None:
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

    def _store_radius(self, report: SolveReport, best_open: np.ndarray | None) -> None:
        if best_open is None or report.status == INFEASIBLE:
            return
        self.open_sites = np.flatnonzero(best_open)
        self.assignment = self.nearest_open(best_open)

    def _radius_loop(
        self,
        start: np.ndarray | None,
        solver: Any,
        time_limit: float | None,
        gap_rel: float,
        msg: bool,
        t_start: float,
    ) -> tuple[SolveReport, np.ndarray | None, float]:
        lv = self._levels()
        K = lv["K"]
        full_L = np.maximum(K - 1, 0)
        full_L[self.weights <= 0] = 0
        best_open, best_obj = None, math.inf
        if start is not None:
            obj = self._true_objective(start)
            if math.isfinite(obj):
                best_open, best_obj = start, obj
        if best_open is not None:
            L = np.minimum(
                self._level_of(lv, self._kth_open_distance(best_open, KTH)), full_L
            )
        else:
            L = np.minimum(full_L, 8)
        L[self.weights <= 0] = 0
        report = SolveReport(solver="", details={"formulation": "radius (truncated)"})
        report.build_seconds = time.perf_counter() - t_start
        lower = -math.inf
        self.iterations = []
        while True:
            tb = time.perf_counter()
            built = self._build_radius(lv, L)
            model = built["model"]
            warm = (
                self._warm_radius(built, lv, best_open, L)
                if best_open is not None
                else None
            )
            if warm is not None and not model.is_feasible(warm):
                # The heuristic ignores budgets, equity...: keep it only for levels.
                best_open, best_obj, warm = None, math.inf, None
            if warm is not None:
                self._progress.plan(best_obj)
            remaining = None
            if time_limit is not None:
                remaining = time_limit - (time.perf_counter() - t_start)
                if remaining <= 0:
                    break
            lp_limit = None
            if remaining is not None:
                lp_limit = min(remaining, LP_SHARE * time_limit)
            relax = solve_relaxation(model, lp_limit)
            fixed = 0
            if relax is not None:
                lower = max(lower, relax.objective)
                self._progress.prove(lower)
                if warm is None:
                    # A plan rounded from the LP often meets budgets and equity.
                    rounded = round_open_sites(
                        relax.values[built["y"]], self.rules, self.weights, self.p
                    )
                    if rounded is not None and not self.iterations:
                        # Model the levels that plan reaches, as for the start.
                        reach = self._level_of(
                            lv, self._kth_open_distance(rounded, KTH)
                        )
                        wider = np.where(self.weights > 0, np.minimum(reach, full_L), 0)
                        if (wider > L).any():
                            L = np.maximum(L, wider)
                            built = self._build_radius(lv, L)
                            model = built["model"]
                            relax = solve_relaxation(model, lp_limit)
                            if relax is None:
                                rounded = None
                            else:
                                lower = max(lower, relax.objective)
                    if rounded is not None:
                        cand = self._warm_radius(built, lv, rounded, L)
                        obj = self._true_objective(rounded)
                        if model.is_feasible(cand) and math.isfinite(obj):
                            best_open, best_obj, warm = rounded, obj, cand
                            self._progress.plan(best_obj)
                if warm is not None:
                    if relative_gap(best_obj, lower) <= gap_rel:
                        report.build_seconds += time.perf_counter() - tb
                        report.solver = report.solver or "HiGHS (LP bound)"
                        break  # the LP bound proves the plan optimal
                    # z takes 0/1 values in the best completion of any plan.
                    z_cols = np.zeros(model.n_cols, bool)
                    z_cols[built["z"]] = True
                    fixed = fix_by_reduced_cost(model, relax, best_obj, z_cols).size
            report.build_seconds += time.perf_counter() - tb
            if time_limit is not None:
                remaining = time_limit - (time.perf_counter() - t_start)
                if remaining <= 0:
                    break
            y_cols = built["y"]
            x, rep = _solve_fixed(
                model,
                solver,
                remaining,
                gap_rel,
                warm,
                msg,
                fixed,
                self._live,
                # Any solution's open sites are a plan: charge it exactly.
                lambda v, _obj, y_cols=y_cols: self._true_objective(v[y_cols] > 0.5),
            )
            report.solver = rep.solver
            report.build_seconds += rep.build_seconds
            report.solve_seconds += rep.solve_seconds
            self.iterations.append(
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
                return report, None, math.inf
            if rep.bound is not None and math.isfinite(rep.bound):
                lower = max(lower, rep.bound)
            self._progress.prove(lower)
            if x is None:
                break
            open_mask = x[built["y"]] > 0.5
            obj = self._true_objective(open_mask)
            if obj < best_obj - 1e-9 * max(1.0, abs(obj)):
                best_open, best_obj = open_mask, obj
                self._progress.plan(best_obj)
            if relative_gap(best_obj, lower) <= gap_rel:
                break
            # Extend the levels of the points the truncated model under-charged.
            dist = self._nearest_distance(open_mask)
            lvl = self._level_of(lv, dist)
            under = (lvl > L) & (self.weights > 0)
            if not under.any():
                break  # truncation exact for this incumbent: the solver's gap stands
            grow = np.maximum(lvl, 2 * L + 1)
            L = np.where(under, np.minimum(grow, full_L), L)
        report.details["iterations"] = len(self.iterations)
        if report.status == INFEASIBLE:
            return report, None, math.inf
        self._finish_radius(report, best_open, best_obj, lower, gap_rel)
        return report, best_open, best_obj

    # -- capacitated: assignment formulation -----------------------------------

    def _assignment_pairs(self) -> np.ndarray:
        """Pairs that may carry demand in some feasible plan.

        With single assignment a point heavier than a site's largest possible
        capacity can never use it, so that pair is left out.
        """
        w = self.weights
        pairs = self.allowed_pairs() & (w > 0)[:, None]
        if not self.split:
            cap = self.rules.max_capacity()
            pairs &= w[:, None] <= cap[None, :] * (1 + 1e-12) + 1e-9
        return pairs

    def _nearest_pairs(self, pairs: np.ndarray, k: np.ndarray) -> np.ndarray:
        """Mask of the ``k[i]`` cheapest allowed pairs of each point (ties kept)."""
        D = np.where(pairs, self.cost_matrix, np.inf)
        kk = np.clip(k, 1, self.m)
        Ds = np.sort(D, axis=1)
        cut = Ds[np.arange(self.n), kk - 1]
        return pairs & (cut[:, None] >= D)

    def _build_assignment(self, pairs: np.ndarray, keep: np.ndarray) -> dict[str, Any]:
        """Assignment model on the ``keep`` pairs, a relaxation of the full one.

        A point whose allowed pairs are not all kept gets a *far* column
        ``f_i`` costing its cheapest dropped pair, which uses no site capacity
        and needs an open site among the dropped ones. Any plan of the full
        model maps to a plan of this model at no higher cost, so its optimum
        and its bound are lower bounds of the full optimum; a solution with no
        far column used is a plan of the full model at the same cost.
        """
        r = self.rules
        w = self.weights
        ii, jj = np.nonzero(keep)
        P = ii.size
        model = LinearModel(self.name)
        y = self._add_site_columns(model, self.cost_weight)
        x = model.add_vars(
            "x",
            P,
            ub=1.0,
            cost=w[ii] * self.cost_matrix[ii, jj],
            integer=not self.split,
        )
        dropped = pairs & ~keep
        far_pts = np.flatnonzero(dropped.any(axis=1))
        far_cost = np.where(dropped[far_pts], self.cost_matrix[far_pts], np.inf).min(
            axis=1
        )
        f = model.add_vars("far", far_pts.size, ub=1.0, cost=w[far_pts] * far_cost)
        model.add_rows(
            "assign",
            np.concatenate([ii, far_pts]),
            np.concatenate([x, f]),
            1.0,
            lo=(w > 0).astype(float),
            hi=1.0,
            n=self.n,
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
        self._add_link_rows(model, x, y[jj])
        k = None
        cap_rows = [jj, np.arange(self.m)]
        cap_cols = [x, y]
        cap_vals = [w[ii], -r.capacities]
        if r.module_size is not None:
            k = model.add_vars(
                "modules",
                self.m,
                ub=r.max_modules,
                cost=self.cost_weight * r.module_cost,
                integer=True,
            )
            cap_rows.append(np.arange(self.m))
            cap_cols.append(k)
            cap_vals.append(-r.module_size)
            model.add_rows(
                "module_open",
                np.concatenate([np.arange(self.m)] * 2),
                np.concatenate([k, y]),
                np.concatenate([np.ones(self.m), -r.max_modules]),
                hi=0.0,
                n=self.m,
            )
        model.add_rows(
            "capacity",
            np.concatenate(cap_rows),
            np.concatenate(cap_cols),
            np.concatenate(cap_vals),
            hi=0.0,
            n=self.m,
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
        self._add_site_rows(model, y, k)
        self._add_equity_rows(model, y)
        return {
            "model": model,
            "y": y,
            "x": x,
            "f": f,
            "far_pts": far_pts,
            "k": k,
            "ii": ii,
            "jj": jj,
        }

    def _warm_assignment(self, built: dict, sol: dict) -> np.ndarray | None:
        """Column vector of a full-model plan on a (larger) truncated model."""
        model: LinearModel = built["model"]
        x = np.zeros(model.n_cols)
        x[built["y"]] = sol["open"]
        if built["k"] is not None:
            x[built["k"]] = sol["modules"]
        pos = np.full((self.n, self.m), -1, dtype=np.int64)
        pos[built["ii"], built["jj"]] = built["x"]
        alloc = sol["alloc"].tocoo()
        cols = pos[alloc.row, alloc.col]
        if (cols < 0).any():
            return None
        x[cols] = alloc.data
        if self.equity is not None:
            self._warm_equity(model, x, sol["open"])
        return x if model.is_feasible(x) else None

    def _solve_assignment(
        self, solver: Any, time_limit: float | None, gap_rel: float, msg: bool
    ) -> SolveReport:
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
        pairs = self._assignment_pairs()
        per_point = np.full(self.n, self.pairs_per_point)
        keep = self._nearest_pairs(pairs, per_point)
        report = SolveReport(
            solver="",
            details={"formulation": "assignment (capacitated, truncated, fixed)"},
        )
        best: dict | None = None
        lower = -math.inf
        self.iterations = []

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
            built = self._build_assignment(pairs, keep)
            relax = None
            if not _out_of_time(left()):
                relax = solve_relaxation(built["model"], lp_left())
            if relax is not None:
                lower = max(lower, relax.objective)
                self._progress.prove(lower)
                if best is None:
                    best = self._plan(relax.values[built["y"]], pairs, deadline)
                    self._progress.plan(None if best is None else best["objective"])
                    used = None if best is None else best["alloc"].toarray() > 0
                    if used is not None and (used & ~keep).any():
                        # Keep the plan's pairs so that it is a solution here.
                        keep |= used
                        built = self._build_assignment(pairs, keep)
                        relax = solve_relaxation(built["model"], lp_left())
            warm = None if best is None else self._warm_assignment(built, best)
            fixed = 0
            if relax is not None and warm is not None:
                if relative_gap(best["objective"], lower) <= gap_rel:
                    report.build_seconds += time.perf_counter() - tb
                    report.solver = report.solver or "HiGHS (LP bound)"
                    self.iterations.append(
                        {"pairs": int(keep.sum()), "status": "lp bound", "bound": lower}
                    )
                    break  # the LP bound proves the plan optimal
                # With single assignment a far column is 0/1 (the assignment
                # row with binary pairs): it may be fixed like them.
                far_cols = np.zeros(built["model"].n_cols, bool)
                if not self.split:
                    far_cols[built["f"]] = True
                fixed = fix_by_reduced_cost(
                    built["model"], relax, best["objective"], far_cols
                ).size
            report.build_seconds += time.perf_counter() - tb
            if _out_of_time(left()):
                break
            mip_limit = left()
            if mip_limit is not None:
                # Keep time to turn a relaxed plan into a full one.
                mip_limit -= min(0.1 * time_limit, 3.0)
            far_idx = built["f"]
            x, rep = _solve_fixed(
                built["model"],
                solver,
                mip_limit,
                gap_rel,
                warm,
                msg,
                fixed,
                self._live,
                # A solution sending no point far is a full plan at that cost.
                lambda v, obj, far_idx=far_idx: (
                    obj if not (v[far_idx] > 1e-7).any() else None
                ),
            )
            report.solver = rep.solver
            report.build_seconds += rep.build_seconds
            report.solve_seconds += rep.solve_seconds
            far = np.zeros(self.n, bool)
            if x is not None:
                far[built["far_pts"]] = x[built["f"]] > 1e-7
            self.iterations.append(
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
                return report
            if rep.bound is not None and math.isfinite(rep.bound):
                # After fixing, a bound on the plans better than the incumbent:
                # the final bound min(lower, incumbent) is valid either way.
                lower = max(lower, rep.bound)
                self._progress.prove(lower)
            if x is None:
                break
            if not far.any():
                obj = rep.objective
                if best is None or obj < best["objective"]:
                    best = self._assignment_solution(built, x, obj)
                    self._progress.plan(obj)
                break  # the relaxation's plan is a full plan: its gap stands
            # A full plan on the relaxation's open sites may beat the incumbent.
            plan = self._plan_for(x[built["y"]] > 0.5, pairs, deadline)
            if plan is not None and (
                best is None or plan["objective"] < best["objective"]
            ):
                best = plan
                keep |= plan["alloc"].toarray() > 0  # a solution of next round
                self._progress.plan(plan["objective"])
            if best is not None and relative_gap(best["objective"], lower) <= gap_rel:
                break
            # Points sent "far" need more of their pairs: double them.
            per_point = np.where(far, per_point * 2, per_point)
            keep |= self._nearest_pairs(pairs, per_point) & far[:, None]
        report.details["iterations"] = len(self.iterations)
        report.details["fixed_columns"] = sum(
            it.get("fixed_columns", 0) for it in self.iterations
        )
        if best is None:
            report.status = NO_SOLUTION
            report.bound = lower if math.isfinite(lower) else None
            return report
        report.objective = best["objective"]
        report.bound = min(lower, best["objective"]) if math.isfinite(lower) else None
        if report.bound is None:
            report.status = FEASIBLE
        else:
            report.gap = relative_gap(best["objective"], report.bound)
            report.status = OPTIMAL if report.gap <= gap_rel + 1e-12 else FEASIBLE
        self._store_assignment(best)
        return report

    def _plan(
        self, y: np.ndarray, pairs: np.ndarray, deadline: float | None
    ) -> dict | None:
        """The best full plan rounded from fractional open values, or None.

        With a free number of sites, both "open from 0.5" and "open every site
        the LP uses" are tried.
        """
        thresholds = [0.5] if self.p is not None else [0.5, 1e-6]
        best = None
        for threshold in thresholds:
            open_mask = round_open_sites(y, self.rules, self.weights, self.p, threshold)
            plan = (
                None
                if open_mask is None
                else self._plan_for(open_mask, pairs, deadline)
            )
            if plan is not None and (
                best is None or plan["objective"] < best["objective"]
            ):
                best = plan
        return best

    def _plan_for(
        self, open_mask: np.ndarray, pairs: np.ndarray, deadline: float | None
    ) -> dict | None:
        """A full plan serving the demand from ``open_mask``, checked, or None.

        ``deadline`` is a :func:`time.perf_counter` time (None: no limit).
        """
        time_limit = None if deadline is None else deadline - time.perf_counter()
        if _out_of_time(time_limit):
            return None
        plan = assign_to_open_sites(
            self.cost_matrix,
            self.weights,
            open_mask,
            pairs,
            self.rules,
            split=self.split,
            cost_weight=self.cost_weight,
            time_limit=time_limit,
        )
        if plan is None:
            return None
        # Checked against the full model's rows (p, budget, equity...).
        full = self._build_assignment(pairs, plan["alloc"].toarray() > 0)
        x = self._warm_assignment(full, plan)
        if x is None:
            return None
        plan["objective"] = full["model"].objective_value(x)
        return plan

    def _assignment_solution(self, built: dict, x: np.ndarray, obj: float) -> dict:
        frac = x[built["x"]]
        used = frac > 1e-9
        return {
            "objective": obj,
            "open": x[built["y"]] > 0.5,
            "modules": None
            if built["k"] is None
            else np.round(x[built["k"]]).astype(int),
            "alloc": sp.csr_matrix(
                (frac[used], (built["ii"][used], built["jj"][used])),
                shape=(self.n, self.m),
            ),
        }

    def _store_assignment(self, best: dict) -> None:
        open_mask = best["open"]
        self.open_sites = np.flatnonzero(open_mask)
        if best["modules"] is not None:
            self.modules = best["modules"]
        alloc = best["alloc"]
        self.allocation = alloc
        best_site = np.asarray(alloc.argmax(axis=1)).ravel()
        has = np.asarray(alloc.max(axis=1).todense()).ravel() > 1e-9
        self.assignment = np.where(has, best_site, self.nearest_open(open_mask))

    def site_capacity(self) -> np.ndarray | None:
        """Capacity of each site in the solution, modules included."""
        r = self.rules
        if r.capacities is None:
            return None
        cap = r.capacities.copy()
        if self.modules is not None and r.module_size is not None:
            cap = cap + r.module_size * self.modules
        return cap
