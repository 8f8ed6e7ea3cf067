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

The class holds the problem and its results; the two algorithms are
functions of it, :func:`optimization.radius.solve_radius` and
:func:`optimization.assignment.solve_assignment`, each returning a small
result dataclass.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from optimization.assignment import assignment_pairs, build_assignment, solve_assignment
from optimization.base import LocationModel
from optimization.capacitated import Plan
from optimization.inputs import EquityRule, Labels, SiteRules
from optimization.radius import build_radius, distance_levels, solve_radius
from optimization.solver import (
    DEFAULT_GAP,
    INFEASIBLE,
    LinearModel,
    SolveOptions,
    SolveProgress,
)

__all__ = ["PMedian"]


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
        opts = SolveOptions(
            solver=solver,
            time_limit=time_limit,
            gap_rel=DEFAULT_GAP if gap_rel is None else float(gap_rel),
            msg=msg,
            progress=SolveProgress() if progress is None else progress,
            live=progress,
        )
        if self.rules.capacities is None:
            found = solve_radius(self, opts)
            report, self.iterations = found.report, found.iterations
            if found.open_mask is not None and report.status != INFEASIBLE:
                self.open_sites = np.flatnonzero(found.open_mask)
                self.assignment = self.nearest_open(found.open_mask)
        else:
            result = solve_assignment(self, opts)
            report, self.iterations = result.report, result.iterations
            if result.plan is not None:
                self._store_assignment(result.plan)
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
            pairs = assignment_pairs(self)
            return build_assignment(self, pairs, pairs).model
        lv = distance_levels(self)
        return build_radius(self, lv, lv.all_levels(self.weights)).model

    def _store_assignment(self, plan: Plan) -> None:
        """Results of a capacitated plan as attributes."""
        self.open_sites = np.flatnonzero(plan.open)
        if plan.modules is not None:
            self.modules = plan.modules
        self.allocation = plan.alloc
        best_site = np.asarray(plan.alloc.argmax(axis=1)).ravel()
        has = np.asarray(plan.alloc.max(axis=1).todense()).ravel() > 1e-9
        self.assignment = np.where(has, best_site, self.nearest_open(plan.open))

    def site_capacity(self) -> np.ndarray | None:
        """Capacity of each site in the solution, modules included."""
        r = self.rules
        if r.capacities is None:
            return None
        cap = r.capacities.copy()
        if self.modules is not None and r.module_size is not None:
            cap = cap + r.module_size * self.modules
        return cap
