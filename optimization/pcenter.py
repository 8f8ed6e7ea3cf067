"""p-center: minimise the largest distance from a demand point to its center.

Solved exactly by bisection over the sorted distinct distances: for a radius
``r`` a covering model says whether ``p`` centers (with the site rules) can
reach every demand point within ``r``. The smallest feasible ``r`` is the
optimum; the largest proven infeasible level below it is the bound.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from optimization.base import LocationModel
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


def _reduce_cover(
    near: np.ndarray, locked: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Drop dominated sites and covered rows of a covering matrix.

    A free site whose covered points are a subset of another site's can be
    swapped for it in any cover, so it is left out (of two equal sites the
    later one goes); a point whose covering sites include all of another
    point's is covered whenever that point is, so its row goes. Both keep
    the answer to "is there a cover with at most p sites?".

    Returns the reduced matrix (dropped sites' columns cleared) and the mask
    of dropped sites.
    """
    B = near.astype(np.float32)
    inter = B.T @ B  # inter[j, k] = points covered by both
    size = np.diag(inter).copy()
    m = near.shape[1]
    subset = inter >= size[:, None] - 0.5  # cover(j) within cover(k)
    np.fill_diagonal(subset, False)
    equal = subset & subset.T
    later = np.triu(np.ones((m, m), bool), 1).T  # j > k
    strict = subset & ~equal
    drop = (strict | (equal & later)).any(axis=1) & ~locked
    near = near & ~drop[None, :]
    Bk = near.astype(np.float32)
    rows = Bk @ Bk.T  # rows[i, h] = sites covering both
    cnt = np.diag(rows).copy()
    sup = rows >= cnt[:, None] - 0.5  # sites(i) within sites(h)
    np.fill_diagonal(sup, False)
    n = near.shape[0]
    req = sup & sup.T
    later_r = np.triu(np.ones((n, n), bool), 1).T
    # drop h when some i has sites(i) within sites(h) (keep one of equals)
    redundant = ((sup & ~req) | (req & later_r.T)).any(axis=0)
    return near[~redundant], drop


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
        Site rules as for :class:`optimization.PMedian`, without capacities.
    name : str, optional
        Name of the problem (default ``"p-center"``).
    max_distance, labels
        As for :class:`optimization.PMedian`.

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
        self._refuse_rules("capacities")

    def build_model(self) -> LinearModel:
        """The classic one-model p-center formulation.

        ``min r`` with ``r >= sum_j d_ij x_ij`` for every point with demand,
        one unit of assignment per point, ``x_ij <= y_j`` and the site rules.
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
        x = model.add_vars("x", ii.size, ub=1.0)
        model.add_rows("assign", ii, x, 1.0, lo=1.0, hi=1.0, n=pos.size)
        self.add_link_rows(model, x, y[jj])
        model.add_rows(
            "radius",
            np.concatenate([np.arange(pos.size), ii]),
            np.concatenate([np.repeat(r, pos.size), x]),
            np.concatenate([np.ones(pos.size), -self.cost_matrix[pos[ii], jj]]),
            lo=0.0,
            n=pos.size,
        )
        self.add_site_rows(model, y)
        return model

    def _feasible_at(
        self, radius: float, solver: Any, time_left: float | None, msg: bool
    ) -> tuple[np.ndarray | None, SolveReport]:
        pos = np.flatnonzero(self.weights > 0)
        near = (self.allowed_pairs() & (self.cost_matrix <= radius))[pos]
        r = self.rules
        simple = r.max_new is None and r.budget is None
        drop = np.zeros(self.m, bool)
        if simple:
            near, drop = _reduce_cover(near, r.locked)
        model = LinearModel(self.name)
        y = self.add_site_columns(model)
        ii, jj = np.nonzero(near)
        model.add_rows("cover", ii, y[jj], 1.0, lo=1.0, n=near.shape[0])
        if simple:
            # Any cover with fewer than p sites can be padded with allowed
            # sites (p never exceeds them), so "at most p" decides feasibility
            # and lets dominated sites be left out.
            model.add_rows("p", np.zeros(self.m), y, 1.0, hi=self.p, n=1)
        else:
            self.add_site_rows(model, y)
        x, rep = solve_model(model, solver, time_left, None, None, msg)
        if x is None:
            return None, rep
        chosen = (x[y] > 0.5) & ~drop
        if simple:
            spare = np.flatnonzero(r.allowed & ~chosen)
            chosen[spare[: self.p - int(chosen.sum())]] = True
        return chosen, rep

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
        levels = np.unique(D[np.isfinite(D) & (floor <= D)])
        if not pos.any():
            levels = np.zeros(1)  # no demand: any plan meeting the site rules
        report = SolveReport(details={"formulation": "bisection on covering radius"})
        lo, hi = 0, levels.size - 1
        best: np.ndarray | None = None
        proven_lower = floor
        probe = False
        stopped = False  # by the time limit, with levels left to decide
        while lo <= hi:
            # After a bisection step finds a plan, try just below its worst
            # distance: when that is infeasible the plan is proven optimal in
            # one step instead of bisecting towards it.
            was_probe, probe = probe, False
            mid = hi if was_probe else (lo + hi) // 2
            left = (
                None if time_limit is None else time_limit - (time.perf_counter() - t0)
            )
            if left is not None and left <= 0:
                stopped = True
                break
            open_mask, rep = self._feasible_at(float(levels[mid]), solver, left, msg)
            report.solver = rep.solver
            report.build_seconds += rep.build_seconds
            report.solve_seconds += rep.solve_seconds
            if open_mask is not None:
                best = open_mask
                # The plan's own worst distance may be below the level tried.
                worst = (
                    np.where(open_mask[None, :], D, np.inf).min(axis=1).max()
                    if D.shape[0]
                    else 0.0
                )
                hi = min(mid, int(np.searchsorted(levels, worst))) - 1
                probe = not was_probe
                progress.plan(float(worst))
            elif rep.status == INFEASIBLE:
                proven_lower = (
                    float(levels[mid + 1]) if mid + 1 < levels.size else math.inf
                )
                lo = mid + 1
                progress.prove(proven_lower)
            else:
                stopped = True
                break  # out of time: keep what is proven
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
        worst = float(np.max(self.assigned_distance()[pos])) if pos.any() else 0.0
        report.objective = worst
        report.bound = min(proven_lower, worst)
        report.gap = 0.0 if worst <= 0 else (worst - report.bound) / worst
        report.status = OPTIMAL if report.gap <= 1e-12 else FEASIBLE
        self.report = report
        return self
