"""Covering models: maximal covering (MCLP) and location set covering (LSCP)."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from optimization import explain
from optimization.base import LocationModel
from optimization.errors import InfeasibleError, Reason
from optimization.inputs import EquityRule, Labels, SiteRules
from optimization.solver import LinearModel, SolveProgress

__all__ = ["LSCP", "MCLP"]


def _check_radius(radius: float) -> float:
    if radius is None or not np.isfinite(radius) or radius < 0:
        raise ValueError(
            f"'service_radius' should be a non-negative number, got {radius!r}"
        )
    return float(radius)


class MCLP(LocationModel):
    """Maximal covering: most demand within ``service_radius`` of ``p`` centers.

    With capacities in ``sites`` a covered point must be assigned to one open
    site within the radius whose capacity it consumes (single assignment
    unless ``split=True``); points that are not covered are not assigned.

    Parameters
    ----------
    cost_matrix : array-like, shape (n, m)
        Distances (``inf`` forbids a pair).
    weights : array-like, shape (n,)
        Demand of each point.
    service_radius : float
        A point is covered when an open site is within this distance.
    p : int, optional
        Exact number of open centers.
    sites : SiteRules, optional
        Site rules as for :class:`optimization.PMedian` (capacity modules
        excepted).
    name : str, optional
        Name of the problem (default ``"mclp"``).
    equity, max_distance, split, labels
        As for :class:`optimization.PMedian`.

    Examples
    --------
    >>> import numpy as np
    >>> cost = np.array([[1.0, 9.0], [2.0, 9.0], [9.0, 1.0]])
    >>> model = MCLP.from_cost_matrix(cost, [5, 5, 3], service_radius=3, p=1).solve()
    >>> model.objective, model.open_sites.tolist(), model.covered.tolist()
    (10.0, [0], [True, True, False])
    """

    name = "mclp"

    def __init__(
        self,
        cost_matrix: Any,
        weights: Any,
        service_radius: float,
        p: int | None = None,
        sites: SiteRules | None = None,
        name: str | None = None,
        *,
        equity: EquityRule | None = None,
        max_distance: float | None = None,
        split: bool = False,
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
        self._refuse_rules("module_size")
        self.service_radius = _check_radius(service_radius)
        self.split = bool(split)
        self.covered: np.ndarray | None = None

    def diagnose(self) -> list[Reason]:
        """Reasons, found without solving, why the model is infeasible."""
        reasons = explain.check_site_counts(self.rules, self.p, self.labels.site_names)
        if self.equity is not None:
            reasons += explain.check_equity(
                self.cost_matrix,
                self.weights,
                self.rules,
                self.equity,
                self.labels.unit,
            )
        return reasons

    def solve(
        self,
        solver: Any = None,
        time_limit: float | None = None,
        gap_rel: float | None = None,
        msg: bool = False,
        progress: SolveProgress | None = None,
    ) -> MCLP:
        """Solve; results in ``objective`` (covered demand), ``covered``, ``open_sites``.

        ``progress`` (a :class:`~optimization.solver.SolveProgress`) follows
        the best plan and bound while the solve runs.
        """
        reasons = self.diagnose()
        if reasons:
            raise InfeasibleError(reasons)
        built = self._build()
        model, y, c, near = built["model"], built["y"], built["c"], built["near"]
        caps = self.rules.capacities
        sol, report = self._solve_and_keep(
            model, solver, time_limit, gap_rel, msg, progress
        )
        self._infeasible(report)
        if sol is None:
            return self
        open_mask = sol[y] > 0.5
        self.open_sites = np.flatnonzero(open_mask)
        if caps is None:
            self.covered = near[:, open_mask].any(axis=1)
            self.assignment = np.where(self.covered, self.nearest_open(open_mask), -1)
        else:
            frac = sol[built["x"]]
            alloc = sp.csr_matrix(
                (frac, (built["ii"], built["jj"])), shape=(self.n, self.m)
            )
            alloc.eliminate_zeros()
            self.allocation = alloc
            self.covered = sol[c] > 0.5
            best = np.asarray(alloc.argmax(axis=1)).ravel()
            self.assignment = np.where(self.covered, best, -1)
        return self

    def build_model(self) -> LinearModel:
        """The formulation :meth:`solve` hands to the solver."""
        return self._build()["model"]

    def _build(self) -> dict[str, Any]:
        near = self.allowed_pairs() & (self.cost_matrix <= self.service_radius)
        w = self.weights
        model = LinearModel(self.name, maximize=True)
        y = self.add_site_columns(model)
        c = model.add_vars("covered", self.n, ub=1.0, cost=w)
        ii, jj = np.nonzero(near)
        caps = self.rules.capacities
        if caps is None:
            model.add_rows(
                "cover",
                np.concatenate([np.arange(self.n), ii]),
                np.concatenate([c, y[jj]]),
                np.concatenate([np.ones(self.n), -np.ones(ii.size)]),
                hi=0.0,
                n=self.n,
            )
        else:
            P = ii.size
            x = model.add_vars("x", P, ub=1.0, integer=not self.split)
            model.add_rows(
                "cover",
                np.concatenate([np.arange(self.n), ii]),
                np.concatenate([c, x]),
                np.concatenate([np.ones(self.n), -np.ones(P)]),
                lo=0.0,
                hi=0.0,
                n=self.n,
            )
            self.add_link_rows(model, x, y[jj])
            model.add_rows(
                "capacity",
                np.concatenate([jj, np.arange(self.m)]),
                np.concatenate([x, y]),
                np.concatenate([w[ii], -caps]),
                hi=0.0,
                n=self.m,
            )
        self.add_site_rows(model, y)
        self.add_equity_rows(model, y)
        return {
            "model": model,
            "y": y,
            "c": c,
            "x": None if caps is None else x,
            "near": near,
            "ii": ii,
            "jj": jj,
        }


class LSCP(LocationModel):
    """Location set covering: fewest centers so that every point is within reach.

    Points with zero weight are ignored. Among plans with the fewest centers,
    ties are broken towards keeping existing centers.

    Parameters
    ----------
    cost_matrix : array-like, shape (n, m)
    service_radius : float
        Every point with positive weight needs an open site within it.
    weights : array-like, optional
        Points with weight 0 need no coverage (default all ones).
    sites : SiteRules, optional
        Existing, locked and forbidden sites (the only rules a cover takes).
    name : str, optional
        Name of the problem (default ``"lscp"``).
    labels : Labels, optional
        Names and units quoted in explanations.

    Examples
    --------
    >>> import numpy as np
    >>> cost = np.array([[1.0, 9.0, 5.0], [9.0, 1.0, 5.0]])
    >>> LSCP.from_cost_matrix(cost, service_radius=6).solve().open_sites.tolist()
    [2]
    """

    name = "lscp"

    def __init__(
        self,
        cost_matrix: Any,
        service_radius: float,
        weights: Any = None,
        sites: SiteRules | None = None,
        name: str | None = None,
        *,
        labels: Labels | None = None,
    ):
        if weights is None:
            cost = np.asarray(cost_matrix, dtype=float)
            weights = np.ones(cost.shape[0] if cost.ndim == 2 else 0)
        super().__init__(cost_matrix, weights, None, sites, name, labels=labels)
        self._refuse_rules("max_new", "budget", "capacities")
        self.service_radius = _check_radius(service_radius)

    @classmethod
    def from_geodataframe(
        cls,
        demand_gdf: Any,
        sites_gdf: Any,
        weights_col: str,
        service_radius: float,
        *args: Any,
        distance: str = "great_circle",
        **kwargs: Any,
    ) -> LSCP:
        """Build from GeoDataFrames (see :meth:`LocationModel.from_geodataframe`)."""
        from optimization.base import geodataframe_costs

        cost = geodataframe_costs(demand_gdf, sites_gdf, distance=distance)
        return cls(
            cost, service_radius, demand_gdf[weights_col].to_numpy(), *args, **kwargs
        )

    def diagnose(self) -> list[Reason]:
        """Communes with no allowed site within the radius."""
        pos = self.weights > 0
        labels = self.labels
        reasons = explain.check_site_counts(self.rules, None, labels.site_names)
        names = (
            None
            if labels.demand_names is None
            else np.asarray(labels.demand_names)[pos]
        )
        D = np.where(self.allowed_pairs(), self.cost_matrix, np.inf)[pos]
        reasons += explain.check_coverage_radius(
            D, self.rules, self.service_radius, names, labels.unit
        )
        return reasons

    def solve(
        self,
        solver: Any = None,
        time_limit: float | None = None,
        gap_rel: float | None = None,
        msg: bool = False,
        progress: SolveProgress | None = None,
    ) -> LSCP:
        """Solve; ``objective`` is the number of open centers.

        ``progress`` receives the count and its bound once solved (the MIP's
        tie-broken objective is not a count while it runs).
        """
        reasons = self.diagnose()
        if reasons:
            raise InfeasibleError(reasons)
        model = self.build_model()
        y = np.arange(self.m)  # the site columns come first
        sol, report = self._solve_and_keep(model, solver, time_limit, gap_rel, msg)
        self._infeasible(report)
        if sol is None:
            return self
        open_mask = sol[y] > 0.5
        self.open_sites = np.flatnonzero(open_mask)
        report.objective = float(open_mask.sum())
        if report.bound is not None:
            # The bound of the tie-broken objective rounds up to a bound on the count.
            report.bound = float(np.ceil(report.bound - 1e-6))
            report.gap = (report.objective - report.bound) / max(report.objective, 1.0)
            report.status = "optimal" if report.gap <= 1e-9 else "feasible"
        self.assignment = self.nearest_open(open_mask)
        if progress is not None:
            progress.plan(report.objective)
            progress.prove(report.bound)
        return self

    def build_model(self) -> LinearModel:
        """The covering formulation, with its tie-break towards existing sites.

        Its objective is the number of open sites minus less than 0.5 in
        total, so rounding it up gives the count.
        """
        pos = np.flatnonzero(self.weights > 0)
        near = (self.allowed_pairs() & (self.cost_matrix <= self.service_radius))[pos]
        model = LinearModel(self.name)
        y = self.add_site_columns(model)
        # Integer objective: a tie-break below 1 on closing existing centers
        # cannot change the number of centers.
        closing = self.rules.existing.astype(float)
        tie = 0.5 / (closing.sum() + 1.0)
        model._cost[0] = np.ones(self.m) - tie * closing
        ii, jj = np.nonzero(near)
        model.add_rows("cover", ii, y[jj], 1.0, lo=1.0, n=pos.size)
        return model
