"""p-center: minimise the largest distance from a demand point to its center.

Solved exactly by bisection over the sorted distinct distances: for a radius
``r`` a covering model says whether ``p`` centers (with the site rules) can
reach every demand point within ``r``. The smallest feasible ``r`` is the
optimum; the largest proven infeasible level below it is the bound.

Without a cap on new sites or a budget, each radius is first tried without a
MIP: the exact set-cover reductions of :func:`optimization.coverage.reduce_cover`
(too many forced sites proves the radius infeasible), a seeded local search
for a cover of at most ``p`` sites (a plan), and the LP bound on the number
of sites (above ``p``: infeasible). Only the radii those leave open are
decided by the covering MIP, usually just the one below the best plan found.

With capacities in the site rules each radius is decided by an assignment
MIP instead: every demand point goes to one open site within the radius
(or is shared between such sites with ``split=True``) and no site serves
more than its capacity. Feasibility still only grows with the radius, so
the bisection stays exact; the quick tests, which know nothing of loads,
are skipped.
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Any

import numpy as np
import scipy.sparse as sp

from optimization.base import LocationModel
from optimization.coverage import cover_greedy, cover_search, reduce_cover
from optimization.errors import InfeasibleError
from optimization.inputs import Labels, SiteRules
from optimization.solver import (
    FEASIBLE,
    INFEASIBLE,
    NO_SOLUTION,
    OPTIMAL,
    LinearModel,
    SolveProgress,
    SolveReport,
    solve_model,
)

__all__ = ["PCenter"]

#: Moves of the cover local search at one radius. A count, not seconds, so the
#: same instance takes the same steps on any machine; a radius it leaves open
#: goes to the covering MIP, so it changes the time, never the answer.
SEARCH_MOVES = 8000

#: Moves of each search in the first bisection (from a greedy cover only).
FIRST_MOVES = 500

#: Plans found in a row by the MIP just below the best plan's worst distance
#: before the bisection halves the remaining radii instead (keeps the number
#: of MIPs logarithmic in the number of distinct distances).
MAX_PROBES = 3

#: HiGHS options for the covering MIP of one radius. Its RENS heuristic (a
#: sub-MIP at the root) took about half of each such MIP on the demo country
#: (p = 25: 0.9 CPU s with it, 0.4 without, at radii both sides of the
#: optimum); a heuristic, so the answer is the same.
_COVER_MIP = {"mip_heuristic_run_rens": False}

#: What the quick test at one radius found (see :meth:`PCenter._quick_at`).
_PLAN, _NONE, _OPEN = "plan", "none", "open"


class PCenter(LocationModel):
    """Minimise the worst distance with ``p`` centers.

    Points with zero weight are ignored.

    Parameters
    ----------
    cost_matrix : array-like, shape (n, m)
    weights : array-like, shape (n,)
        Only their sign matters: points with weight 0 are ignored.
    p : int
        Number of open centers.
    sites : SiteRules, optional
        Site rules as for :class:`optimization.PMedian`, capacities included
        (no capacity modules). With capacities, no open site serves more
        demand than its capacity and the assignment is the model's, not
        each point's nearest open site.
    name : str, optional
        Name of the problem (default ``"p-center"``).
    max_distance, labels
        As for :class:`optimization.PMedian`.
    split : bool, optional
        With capacities, a demand point may be shared between open sites
        (each within the radius); default one site a point.

    Examples
    --------
    >>> import numpy as np
    >>> cost = np.array([[1.0, 6.0, 3.0], [6.0, 1.0, 3.0], [4.0, 4.0, 9.0]])
    >>> model = PCenter.from_cost_matrix(cost, np.ones(3), p=1).solve()
    >>> model.objective, model.open_sites.tolist()
    (6.0, [0])
    """

    name = "p-center"

    def __init__(
        self,
        cost_matrix: Any,
        weights: Any,
        p: int,
        sites: SiteRules | None = None,
        name: str | None = None,
        *,
        max_distance: float | None = None,
        labels: Labels | None = None,
        split: bool = False,
    ):
        super().__init__(
            cost_matrix,
            weights,
            p,
            sites,
            name,
            max_distance=max_distance,
            labels=labels,
        )
        self._refuse_rules("module_size")
        self.split = bool(split)
        if self.split and self.rules.capacities is None:
            raise ValueError("'split' needs capacities in 'sites'")

    def build_model(self) -> LinearModel:
        """The classic one-model p-center formulation.

        ``min r`` with ``r >= sum_j d_ij x_ij`` for every point with demand,
        one unit of assignment per point, ``x_ij <= y_j``, the site rules and,
        with capacities, ``sum_i w_i x_ij <= cap_j y_j`` (``x`` binary unless
        ``split``, where ``r >= d_ij u_ij`` with a binary ``u_ij >= x_ij``
        bounds every pair carrying a share).
        :meth:`solve` does not use it: it bisects on the covering radius,
        which reaches the same optimum with small covering models.

        Examples
        --------
        >>> cost = np.array([[1.0, 6.0], [5.0, 2.0]])
        >>> PCenter.from_cost_matrix(cost, [1, 1], p=1).build_model().n_cols
        7
        """
        pos = np.flatnonzero(self.weights > 0)
        pairs = self.allowed_pairs()[pos]
        model = LinearModel(self.name)
        y = self.add_site_columns(model)
        r = model.add_vars("radius", 1, cost=1.0)
        ii, jj = np.nonzero(pairs)
        caps = self.rules.capacities
        single = caps is not None and not self.split
        x = model.add_vars("x", ii.size, ub=1.0, integer=single)
        model.add_rows("assign", ii, x, 1.0, lo=1.0, hi=1.0, n=pos.size)
        self.add_link_rows(model, x, y[jj])
        if caps is not None:
            model.add_rows(
                "capacity",
                np.concatenate([jj, np.arange(self.m)]),
                np.concatenate([x, y]),
                np.concatenate([self.weights[pos[ii]], -caps]),
                hi=0.0,
                n=self.m,
            )
        d = self.cost_matrix[pos[ii], jj]
        if self.split:
            # a shared point: r bounds every pair carrying a share (u >= x)
            u = model.add_vars("used", ii.size, ub=1.0, integer=True)
            self.add_link_rows(model, x, u)
            rows = np.arange(ii.size)
            model.add_rows(
                "radius",
                np.concatenate([rows, rows]),
                np.concatenate([np.repeat(r, ii.size), u]),
                np.concatenate([np.ones(ii.size), -d]),
                lo=0.0,
                n=ii.size,
            )
        else:
            model.add_rows(
                "radius",
                np.concatenate([np.arange(pos.size), ii]),
                np.concatenate([np.repeat(r, pos.size), x]),
                np.concatenate([np.ones(pos.size), -d]),
                lo=0.0,
                n=pos.size,
            )
        self.add_site_rows(model, y)
        return model

    def _quick_at(
        self,
        radius: float,
        D: np.ndarray,
        solver: Any,
        start: np.ndarray | None = None,
        moves: int = SEARCH_MOVES,
    ) -> tuple[str, np.ndarray | None]:
        """Decide radius ``radius`` without a MIP when it is easy.

        ``D`` holds the distances of the points with demand (inf where a pair
        is not allowed). For site rules without ``max_new``/budget only.
        Returns ``(_PLAN, open mask)`` for a cover of at most ``p`` sites
        (padded to ``p`` with allowed sites), ``(_NONE, None)`` when no such
        cover exists, ``(_OPEN, None)`` when this could not tell.
        """
        r = self.rules
        red = reduce_cover(radius >= D, np.ones(self.m), r.locked)
        # Forced sites are in every minimum cover, and the reduction keeps
        # the minimum size: too many of them and no cover fits in p sites.
        room = self.p - red.forced.size
        A = red.matrix
        if room < 0 or (room == 0 and A.shape[0]):
            return _NONE, None
        chosen = np.zeros(self.m, bool)
        chosen[red.forced] = True
        if A.shape[0]:
            first = None if start is None else start[red.cols]
            cover = self._search_cover(A, room, first, moves)
            if cover is None:
                return (_NONE if self._lp_sites(A, solver) > room else _OPEN), None
            chosen[red.cols[cover]] = True
        spare = np.flatnonzero(r.allowed & ~chosen)
        chosen[spare[: self.p - int(chosen.sum())]] = True
        return _PLAN, chosen

    @staticmethod
    def _search_cover(
        A: Any, room: int, start: np.ndarray | None, moves: int
    ) -> np.ndarray | None:
        """A cover of ``A``'s rows by at most ``room`` columns, or None.

        Seeded local search (:func:`optimization.coverage.cover_search`)
        from the columns ``start`` completed greedily to a cover, then, if
        that finds none, from a greedy cover.
        """
        firsts = [cover_greedy(A)]
        if start is not None:
            first = start.copy()
            short = np.asarray(A @ first.astype(float)).ravel() == 0
            if short.any():
                first |= cover_greedy(A[short])
            firsts.insert(0, first)
        for first in firsts:
            *_, (cover, _) = cover_search(A, first, room, moves, seed=0)
            covered = np.asarray(A @ cover.astype(float)).ravel() > 0
            if int(cover.sum()) <= room and covered.all():
                return cover
        return None

    @staticmethod
    def _lp_sites(A: Any, solver: Any) -> float:
        """Fewest sites covering every row of ``A``, rounded up from its LP.

        A lower bound on any cover's size (0 when the LP is not solved)."""
        model = LinearModel("p-center LP")
        y = model.add_vars("y", A.shape[1], ub=1.0, cost=1.0)
        coo = A.tocoo()
        model.add_rows("cover", coo.row, y[coo.col], 1.0, lo=1.0, n=A.shape[0])
        x, rep = solve_model(model, solver)
        if x is None or rep.status != OPTIMAL or rep.objective is None:
            return 0.0
        return float(math.ceil(rep.objective - 1e-6))

    def _capacitated_at(
        self, radius: float, solver: Any, time_left: float | None, msg: bool
    ) -> tuple[np.ndarray | None, Any, SolveReport]:
        """A plan serving every point within ``radius`` inside the capacities.

        Returns ``(open mask, allocation, report)``; the allocation (sparse,
        points x sites, shares of each point's demand) covers the points with
        demand. ``(None, None, report)`` when the solver found no plan.
        """
        pos = np.flatnonzero(self.weights > 0)
        near = (self.allowed_pairs() & (self.cost_matrix <= radius))[pos]
        ii, jj = np.nonzero(near)
        w = self.weights[pos]
        model = LinearModel(self.name)
        y = self.add_site_columns(model)
        x = model.add_vars("x", ii.size, ub=1.0, integer=not self.split)
        model.add_rows("assign", ii, x, 1.0, lo=1.0, hi=1.0, n=pos.size)
        self.add_link_rows(model, x, y[jj])
        model.add_rows(
            "capacity",
            np.concatenate([jj, np.arange(self.m)]),
            np.concatenate([x, y]),
            np.concatenate([w[ii], -self.rules.capacities]),
            hi=0.0,
            n=self.m,
        )
        self.add_site_rows(model, y)
        sol, rep = solve_model(model, solver, time_left, None, None, msg)
        if sol is None:
            return None, None, rep
        share = np.clip(sol[x], 0.0, 1.0)
        keep = share > 1e-9
        alloc = sp.csr_matrix(
            (share[keep], (pos[ii[keep]], jj[keep])), shape=(self.n, self.m)
        )
        return sol[y] > 0.5, alloc, rep

    def _plan_at(
        self, radius: float, solver: Any, time_left: float | None, msg: bool
    ) -> tuple[np.ndarray | None, Any, SolveReport]:
        """``(open mask, allocation or None, report)`` of a plan within ``radius``
        found by a MIP (the capacitated one when the rules have capacities)."""
        if self.rules.capacities is not None:
            return self._capacitated_at(radius, solver, time_left, msg)
        open_mask, rep = self._feasible_at(radius, solver, time_left, msg)
        return open_mask, None, rep

    def _feasible_at(
        self, radius: float, solver: Any, time_left: float | None, msg: bool
    ) -> tuple[np.ndarray | None, SolveReport]:
        pos = np.flatnonzero(self.weights > 0)
        near = (self.allowed_pairs() & (self.cost_matrix <= radius))[pos]
        r = self.rules
        red = None
        if r.max_new is None and r.budget is None and near.shape[0]:
            # Exact reductions (forced, dominated sites and points); a cover
            # with fewer than p sites can be padded with allowed sites (p
            # never exceeds them), so "at most p" decides feasibility.
            red = reduce_cover(near, np.ones(self.m), r.locked)
        if red is not None and red.matrix.shape[0]:
            model = LinearModel(self.name)
            y = model.add_vars("y", red.cols.size, ub=1.0, integer=True)
            A = red.matrix.tocoo()
            model.add_rows("cover", A.row, y[A.col], 1.0, lo=1.0, n=A.shape[0])
            room = self.p - red.forced.size
            model.add_rows("p", np.zeros(y.size), y, 1.0, hi=room, n=1)
            x, rep = solve_model(
                model, solver, time_left, None, None, msg, highs_options=_COVER_MIP
            )
            if x is None:
                return None, rep
            chosen = np.zeros(self.m, bool)
            chosen[red.forced] = True
            chosen[red.cols[x[y] > 0.5]] = True
            spare = np.flatnonzero(r.allowed & ~chosen)
            chosen[spare[: self.p - int(chosen.sum())]] = True
            return chosen, rep
        model = LinearModel(self.name)
        y = self.add_site_columns(model)
        ii, jj = np.nonzero(near)
        model.add_rows("cover", ii, y[jj], 1.0, lo=1.0, n=near.shape[0])
        self.add_site_rows(model, y)
        x, rep = solve_model(model, solver, time_left, None, None, msg)
        if x is None:
            return None, rep
        return x[y] > 0.5, rep

    def _uncapacitated_bound(
        self, solver: Any, time_limit: float | None, msg: bool
    ) -> float:
        """A proven lower bound on the capacitated optimum: that of the same
        p-center without capacities (fewer constraints), usually solved to
        optimality in a fraction of the time of one capacitated MIP; 0 when
        it found no plan in time. Raises InfeasibleError when even that one
        has no plan (nor then has the capacitated one)."""
        free = PCenter(
            self.cost_matrix,
            self.weights,
            self.p,
            dataclasses.replace(self.rules, capacities=None),
            max_distance=self.max_distance,
            labels=self.labels,
        )
        free.solve(solver, time_limit, None, msg)
        if free.report is None or free.report.bound is None:
            return 0.0
        return float(free.report.bound)

    def _worst_allocated(self, alloc: Any) -> float:
        """Largest distance of a pair carrying a share of demand (0 if none)."""
        coo = alloc.tocoo()
        if not coo.nnz:
            return 0.0
        return float(self.cost_matrix[coo.row, coo.col].max())

    def solve(
        self,
        solver: Any = None,
        time_limit: float | None = None,
        gap_rel: float | None = None,
        msg: bool = False,
        progress: SolveProgress | None = None,
    ) -> PCenter:
        """Solve; ``objective`` is the largest assigned distance.

        ``progress`` follows the bisection: each plan's worst distance and
        each radius proven too small.
        """
        progress = SolveProgress() if progress is None else progress
        reasons = self.diagnose()
        if reasons:
            raise InfeasibleError(reasons)
        t0 = time.perf_counter()
        pos = self.weights > 0
        pairs = self.allowed_pairs()
        D = np.where(pairs, self.cost_matrix, np.inf)[pos]
        # The optimum is at least the largest nearest-site distance.
        floor = float(D.min(axis=1).max()) if D.size else 0.0
        if self.rules.capacities is not None and pos.any():
            floor = max(floor, self._uncapacitated_bound(solver, time_limit, msg))
        levels = np.unique(D[np.isfinite(D) & (floor <= D)])
        if not pos.any():
            levels = np.zeros(1)  # no demand: any plan meeting the site rules
        r = self.rules
        capacitated = r.capacities is not None
        formulation = "bisection on covering radius" + (
            ", capacitated assignment at each radius" if capacitated else ""
        )
        report = SolveReport(details={"formulation": formulation})
        quick = (
            bool(pos.any())
            and r.max_new is None
            and r.budget is None
            and not capacitated
        )
        decided = {"search": 0, "bound": 0, "mip": 0}  # radii decided by each
        quick_open: set[int] = set()  # radii the quick test left open
        lo, hi = 0, levels.size - 1
        best: np.ndarray | None = None
        best_alloc: Any = None  # with capacities: the best plan's allocation
        proven_lower = floor
        stopped = False  # by the time limit, with levels left to decide

        def out_of_time() -> bool:
            return time_limit is not None and time.perf_counter() - t0 >= time_limit

        def found(open_mask: np.ndarray, alloc: Any = None) -> None:
            # The plan's own worst distance may be below the level tried.
            nonlocal best, best_alloc, hi
            best, best_alloc = open_mask, alloc
            if alloc is not None:
                worst = self._worst_allocated(alloc)
            elif D.shape[0]:
                worst = float(np.where(open_mask[None, :], D, np.inf).min(axis=1).max())
            else:
                worst = 0.0
            hi = min(hi, int(np.searchsorted(levels, worst)) - 1)
            progress.plan(worst)

        def too_small(k: int) -> None:
            nonlocal lo, proven_lower
            proven_lower = float(levels[k + 1]) if k + 1 < levels.size else math.inf
            lo = k + 1
            progress.prove(proven_lower)

        def quick_test(k: int, start: np.ndarray | None, moves: int) -> bool:
            """The quick test at level ``k``; True when it decided it."""
            kind, open_mask = self._quick_at(float(levels[k]), D, solver, start, moves)
            if kind == _PLAN:
                decided["search"] += 1
                found(open_mask)
            elif kind == _NONE:
                decided["bound"] += 1
                too_small(k)
            elif start is not None:  # from no plan, a longer search may tell
                quick_open.add(k)
            return kind != _OPEN

        def descend() -> None:
            # From the best plan, the radius just below its worst distance,
            # searching from that plan (a few points short of a cover there).
            while quick and lo <= hi and hi not in quick_open and not out_of_time():
                if not quick_test(hi, best, SEARCH_MOVES):
                    return

        if quick:
            # A first bisection with a short quick test alone: a radius it
            # leaves open is treated as too small, so this ends near the
            # optimum with a plan (and proofs for the radii shown too small).
            a = lo
            while a <= hi and not out_of_time():
                mid = (a + hi) // 2
                if not quick_test(mid, None, FIRST_MOVES):
                    a = mid + 1
                a = max(a, lo)
            descend()
        streak = 0  # plans found in a row by the MIP just below the best plan
        tried = False  # with capacities: the largest radius and the floor tried
        while lo <= hi:
            # Once there is a plan, try just below its worst distance: when
            # that is infeasible the plan is proven optimal in one step. After
            # MAX_PROBES plans in a row that way, bisect instead.
            # (Not with capacities: a feasibility MIP's plan sits anywhere below
            # the radius tried, so probing just below it gains a level at a time.)
            probe = best is not None and streak < MAX_PROBES and not capacitated
            mid = hi if probe else (lo + hi) // 2
            if capacitated and not tried:
                # First the largest radius (no plan there: none at all), then
                # the uncapacitated optimum (capacities often leave it be).
                mid = hi if best is None and lo == 0 else lo
                tried = best is not None or lo > 0
            left = (
                None if time_limit is None else time_limit - (time.perf_counter() - t0)
            )
            if left is not None and left <= 0:
                stopped = True
                break
            if quick and mid not in quick_open and quick_test(mid, best, SEARCH_MOVES):
                descend()
                continue
            open_mask, alloc, rep = self._plan_at(float(levels[mid]), solver, left, msg)
            report.solver = rep.solver
            report.build_seconds += rep.build_seconds
            report.solve_seconds += rep.solve_seconds
            if open_mask is None and rep.status != INFEASIBLE:
                stopped = True
                break  # out of time: keep what is proven
            decided["mip"] += 1
            if open_mask is None:
                too_small(mid)
                continue
            found(open_mask, alloc)
            streak = streak + 1 if probe else 0
            descend()
        report.details["radii decided"] = decided
        if best is None:
            # Every level was decided and none has a plan: even the largest
            # distance (every allowed pair) cannot meet the site rules.
            # (With no demand the single level 0 only asks for the rules.)
            report.status = NO_SOLUTION if stopped else INFEASIBLE
            self.report = report
            self._infeasible(report)
            return self
        self.open_sites = np.flatnonzero(best)
        self.assignment = self.nearest_open(best)
        if best_alloc is None:
            worst = float(np.max(self.assigned_distance()[pos])) if pos.any() else 0.0
        else:
            # the model's assignment (points without demand: nearest open site)
            self.allocation = best_alloc
            served = np.asarray(best_alloc.sum(axis=1)).ravel() > 0
            main = np.asarray(best_alloc.argmax(axis=1)).ravel()
            self.assignment = np.where(served, main, self.assignment)
            worst = self._worst_allocated(best_alloc)
        report.objective = worst
        report.bound = min(proven_lower, worst)
        report.gap = 0.0 if worst <= 0 else (worst - report.bound) / worst
        report.status = OPTIMAL if report.gap <= 1e-12 else FEASIBLE
        self.report = report
        return self
