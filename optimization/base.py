"""Shared machinery of the location models: inputs, site rules, solve, results."""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from optimization import explain
from optimization.errors import InfeasibleError, Reason
from optimization.inputs import (
    EquityRule,
    Labels,
    SiteRules,
    check_cost_matrix,
    check_weights,
)
from optimization.solver import INFEASIBLE, LinearModel, ReportedResults, SolveReport

__all__ = ["LocationModel", "PMedianProblem", "geodataframe_costs"]


def geodataframe_costs(
    demand_gdf: Any,
    sites_gdf: Any,
    distance: str = "great_circle",
) -> np.ndarray:
    """Distance matrix between two GeoDataFrames of points (or polygons).

    Parameters
    ----------
    demand_gdf, sites_gdf : geopandas.GeoDataFrame
        Polygons are reduced to a point guaranteed inside them.
    distance : {"great_circle", "euclidean"}
        ``"great_circle"`` gives km on the sphere from any CRS;
        ``"euclidean"`` needs a projected (metric) CRS and gives km.

    Raises
    ------
    TypeError
        When an input is not a GeoDataFrame.
    ValueError
        Missing or mismatched CRS, or a geographic CRS with ``"euclidean"``.
    """
    import geopandas as gpd

    from geo.distance import distance_matrix_km

    for label, g in (("demand_gdf", demand_gdf), ("sites_gdf", sites_gdf)):
        if not isinstance(g, gpd.GeoDataFrame):
            raise TypeError(f"'{label}' should be GeoDataFrame, got {type(g)}")
        if g.crs is None:
            raise ValueError(f"'{label}' has no CRS; set one with .set_crs(...)")
        if len(g) == 0:
            raise ValueError(f"'{label}' is empty")
    if not demand_gdf.crs.equals(sites_gdf.crs):
        raise ValueError(
            f"CRS mismatch: demand is {demand_gdf.crs.to_string()} but sites are "
            f"{sites_gdf.crs.to_string()}; reproject one with .to_crs(...)"
        )

    def points(g: Any) -> Any:
        geom = g.geometry
        if not (geom.geom_type == "Point").all():
            geom = geom.representative_point()
        return geom

    a, b = points(demand_gdf), points(sites_gdf)
    if distance == "great_circle":
        a4, b4 = a.to_crs(4326), b.to_crs(4326)
        return distance_matrix_km(a4.x, a4.y, b4.x, b4.y)
    if distance == "euclidean":
        if demand_gdf.crs.is_geographic:
            raise ValueError(
                f"euclidean distances need a projected metric CRS, got geographic "
                f"{demand_gdf.crs.to_string()}; use .to_crs(2154) (Lambert-93) or "
                "distance='great_circle'"
            )
        ax, ay = a.x.to_numpy()[:, None], a.y.to_numpy()[:, None]
        bx, by = b.x.to_numpy()[None, :], b.y.to_numpy()[None, :]
        return np.hypot(ax - bx, ay - by) / 1000.0
    raise ValueError(
        f"'distance' should be 'great_circle' or 'euclidean', got {distance!r}"
    )


def _checked(value: Any, kind: type, label: str, default: Any) -> Any:
    """``value`` if it is a ``kind`` (``default`` if None), else a TypeError."""
    if value is None:
        return default
    if not isinstance(value, kind):
        raise TypeError(
            f"'{label}' should be {kind.__name__}, got {type(value).__name__}"
        )
    return value


class LocationModel(ReportedResults):
    """Base of the facility location models (not used directly).

    Every model takes, as spopt's ``from_cost_matrix`` does, the cost matrix,
    the weights, the number of centers and the facilities' rules, then a name:
    ``Model(cost_matrix, weights, p, sites, name, *, equity, max_distance,
    labels, ...)``; :meth:`from_cost_matrix` is the same call under spopt's
    name. ``sites`` is a :class:`~optimization.inputs.SiteRules`, ``equity``
    an :class:`~optimization.inputs.EquityRule`, ``labels`` the
    :class:`~optimization.inputs.Labels` explanations quote.

    After :meth:`solve`, results are attributes: ``status``, ``objective``,
    ``bound``, ``gap``, ``open_sites`` (site positions), ``assignment`` (site
    position per demand point, -1 when unassigned), ``fac2cli``/``cli2fac``
    (spopt's names) and ``report`` (a :class:`~optimization.solver.SolveReport`).
    """

    name = "location"

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
        labels: Labels | None = None,
    ):
        self.cost_matrix = check_cost_matrix(cost_matrix)
        n, m = self.cost_matrix.shape
        self.weights = check_weights(weights, n)
        if p is not None:
            if isinstance(p, bool) or int(p) != p or p < 1:
                raise ValueError(f"'p' should be a positive integer, got {p!r}")
            p = int(p)
            if p > m:
                raise ValueError(f"'p' = {p} is larger than the number of sites ({m})")
        self.p = p
        if name is not None:
            self.name = str(name)
        self.rules = _checked(sites, SiteRules, "sites", SiteRules.build(m))
        if self.rules.m != m:
            raise ValueError(
                f"'sites' has rules for {self.rules.m} sites but the cost matrix has {m}"
            )
        if max_distance is not None and (
            not np.isfinite(max_distance) or max_distance < 0
        ):
            raise ValueError(
                f"'max_distance' should be a non-negative number, got {max_distance!r}"
            )
        self.max_distance = max_distance
        self.equity = _checked(equity, EquityRule, "equity", None)
        if self.equity is not None and self.equity.groups.shape != (n,):
            raise ValueError(
                f"'equity' has {self.equity.groups.size} group labels but there are "
                f"{n} demand points"
            )
        self.labels = _checked(labels, Labels, "labels", Labels())
        self.labels.check(n, m)
        self.report: SolveReport | None = None
        self.open_sites: np.ndarray | None = None
        self.assignment: np.ndarray | None = None
        self.allocation: Any = None
        self.modules: np.ndarray | None = None

    @property
    def groups(self) -> np.ndarray | None:
        """Group label of each demand point (the equity rule's), or None."""
        return None if self.equity is None else self.equity.groups

    def _refuse_rules(self, *fields: str) -> None:
        """Raise ValueError when ``sites`` sets a rule this model does not model."""
        given = [f for f in fields if getattr(self.rules, f) is not None]
        if given:
            raise ValueError(
                f"{type(self).__name__} does not take {', '.join(given)} in 'sites'"
            )

    # -- adapters -----------------------------------------------------------------

    @classmethod
    def from_geodataframe(
        cls,
        demand_gdf: Any,
        sites_gdf: Any,
        weights_col: str,
        *args: Any,
        distance: str = "great_circle",
        **kwargs: Any,
    ) -> LocationModel:
        """Build the model from GeoDataFrames of demand points and sites.

        Parameters
        ----------
        demand_gdf : geopandas.GeoDataFrame
            Communes (points or polygons) with a weight column.
        sites_gdf : geopandas.GeoDataFrame
            Existing centers and candidate sites.
        weights_col : str
            Column of ``demand_gdf`` with the demand weights.
        *args, **kwargs
            Passed to ``from_cost_matrix`` after the weights (``p``, ``sites``...).
        distance : {"great_circle", "euclidean"}
            See :func:`geodataframe_costs`.
        """
        import geopandas as gpd

        if not isinstance(demand_gdf, gpd.GeoDataFrame):
            raise TypeError(
                f"'demand_gdf' should be GeoDataFrame, got {type(demand_gdf)}"
            )
        if weights_col not in demand_gdf.columns:
            raise ValueError(f"'demand_gdf' has no column {weights_col!r}")
        cost = geodataframe_costs(demand_gdf, sites_gdf, distance=distance)
        return cls.from_cost_matrix(
            cost, demand_gdf[weights_col].to_numpy(), *args, **kwargs
        )

    @classmethod
    def from_cost_matrix(cls, *args: Any, **kwargs: Any) -> LocationModel:
        """Build the model from a cost matrix: the class's own arguments.

        spopt's name for the constructor; see the subclass for its parameters.
        """
        return cls(*args, **kwargs)

    # -- shared modelling pieces ---------------------------------------------------

    @property
    def n(self) -> int:
        """Number of demand points."""
        return self.cost_matrix.shape[0]

    @property
    def m(self) -> int:
        """Number of sites."""
        return self.cost_matrix.shape[1]

    def allowed_pairs(self) -> np.ndarray:
        """Boolean (n, m): pairs a demand point may be assigned to."""
        ok = np.isfinite(self.cost_matrix) & self.rules.allowed[None, :]
        if self.max_distance is not None:
            ok &= self.cost_matrix <= self.max_distance
        return ok

    def diagnose(self) -> list[Reason]:
        """Reasons, found without solving, why the model is infeasible."""
        rules = self.rules
        labels = self.labels
        reasons = explain.check_site_counts(rules, self.p, labels.site_names)
        pairs = self.allowed_pairs()
        reasons += explain.check_reach(
            self.cost_matrix,
            self.weights,
            pairs,
            rules,
            self.max_distance,
            labels.demand_names,
            labels.unit,
        )
        reasons += explain.check_new_sites(
            pairs, self.weights, rules, labels.demand_names
        )
        reasons += explain.check_capacity(
            self.weights, pairs, rules, self.p, self.groups, labels.demand_unit
        )
        if self.equity is not None:
            reasons += explain.check_equity(
                self.cost_matrix, self.weights, rules, self.equity, labels.unit
            )
        return reasons

    def add_site_columns(
        self, model: LinearModel, cost_weight: float = 0.0
    ) -> np.ndarray:
        """Open/close variables ``y`` with locked/forbidden bounds and their rows."""
        r = self.rules
        lb = r.locked.astype(float)
        ub = (~r.forbidden).astype(float)
        change = np.where(r.existing, -r.closing_cost, r.opening_cost)
        y = model.add_vars(
            "y", self.m, lb=lb, ub=ub, cost=cost_weight * change, integer=True
        )
        model.offset += cost_weight * float(r.closing_cost[r.existing].sum())
        return y

    @staticmethod
    def add_link_rows(model: LinearModel, x: np.ndarray, y_of_x: np.ndarray) -> None:
        """Strong links ``x_k <= y_j`` between each pair column and its site."""
        P = x.size
        model.add_rows(
            "link",
            np.concatenate([np.arange(P)] * 2),
            np.concatenate([x, y_of_x]),
            np.concatenate([np.ones(P), -np.ones(P)]),
            hi=0.0,
            n=P,
        )

    def add_site_rows(
        self,
        model: LinearModel,
        y: np.ndarray,
        k: np.ndarray | None = None,
        p: int | None = None,
    ) -> None:
        """The site rules' rows: ``p`` open sites, at most ``max_new`` new ones and
        the budget, which counts the cost of the module columns ``k`` when given."""
        r = self.rules
        p = self.p if p is None else p
        if p is not None:
            model.add_rows("p", np.zeros(self.m), y, 1.0, lo=p, hi=p, n=1)
        if r.max_new is not None:
            new = np.flatnonzero(~r.existing)
            model.add_rows(
                "max_new", np.zeros(new.size), y[new], 1.0, hi=r.max_new, n=1
            )
        if r.budget is not None:
            change = np.where(r.existing, -r.closing_cost, r.opening_cost)
            cols, vals = [y], [change]
            if k is not None:
                cols.append(k)
                vals.append(r.module_cost)
            cols_a, vals_a = np.concatenate(cols), np.concatenate(vals)
            model.add_rows(
                "budget",
                np.zeros(cols_a.size),
                cols_a,
                vals_a,
                hi=r.budget - float(r.closing_cost[r.existing].sum()),
                n=1,
            )

    def add_equity_rows(self, model: LinearModel, y: np.ndarray) -> None:
        """The equity rule's rows: each group's share of demand near an open site."""
        eq = self.equity
        if eq is None:
            return
        near = (self.cost_matrix <= eq.radius) & self.rules.allowed[None, :]
        need = np.array([eq.min_share.get(g, 0.0) > 0 for g in eq.groups])
        clients = np.flatnonzero(need)
        if clients.size == 0:
            return
        cov = model.add_vars("cov", clients.size, ub=1.0)
        ii, jj = np.nonzero(near[clients])
        rows = np.concatenate([np.arange(clients.size), ii])
        cols = np.concatenate([cov, y[jj]])
        vals = np.concatenate([np.ones(clients.size), -np.ones(ii.size)])
        model.add_rows("cov_link", rows, cols, vals, hi=0.0, n=clients.size)
        labels = list(eq.min_share)
        g_of = np.array(
            [labels.index(g) if g in eq.min_share else -1 for g in eq.groups[clients]]
        )
        keep = g_of >= 0
        w = self.weights[clients]
        totals = np.array([self.weights[eq.groups == g].sum() for g in labels])
        model.add_rows(
            "equity",
            g_of[keep],
            cov[keep],
            w[keep],
            lo=np.array([eq.min_share[g] for g in labels]) * totals - 1e-9,
            n=len(labels),
        )

    def warm_equity(
        self, model: LinearModel, x: np.ndarray, open_mask: np.ndarray
    ) -> None:
        """Set the coverage columns of :meth:`add_equity_rows` for ``open_mask``."""
        name_start = [(nm, s, e) for nm, s, e in model._col_blocks if nm == "cov"]
        if not name_start:
            return
        _, s, e = name_start[0]
        eq = self.equity
        near = ((self.cost_matrix <= eq.radius) & open_mask[None, :]).any(axis=1)
        need = np.array([eq.min_share.get(g, 0.0) > 0 for g in eq.groups])
        x[s:e] = near[need].astype(float)

    def _infeasible(self, report: SolveReport) -> None:
        if report.status == INFEASIBLE:
            raise InfeasibleError(self.diagnose() or [self._generic_reason()])

    def _generic_reason(self) -> Reason:
        parts = []
        if self.p is not None:
            parts.append(f"{self.p} centers")
        if self.rules.max_new is not None:
            parts.append(f"at most {self.rules.max_new} new centers")
        if self.rules.budget is not None:
            parts.append(f"a budget of {self.rules.budget:,.0f}")
        if self.rules.capacities is not None:
            parts.append("the site capacities")
        if self.max_distance is not None:
            parts.append(f"a {self.max_distance:g} {self.labels.unit} distance cap")
        if self.equity is not None:
            parts.append("the minimum coverage shares")
        together = ", ".join(parts) or "the constraints"
        # the same constraints as codes and figures, for a translated message
        params = {
            "parts": [
                code
                for code, on in (
                    ("p", self.p is not None),
                    ("max_new", self.rules.max_new is not None),
                    ("budget", self.rules.budget is not None),
                    ("capacities", self.rules.capacities is not None),
                    ("max_distance", self.max_distance is not None),
                    ("equity", self.equity is not None),
                )
                if on
            ],
            "p": self.p,
            "max_new": self.rules.max_new,
            "budget": self.rules.budget,
            "max_distance": self.max_distance,
            "unit": self.labels.unit,
        }
        return Reason(
            "constraints_incompatible",
            f"no plan satisfies {together} together; relax one of them",
            params,
        )

    # -- results ------------------------------------------------------------------

    @property
    def fac2cli(self) -> list[list[int]] | None:
        """Demand points assigned to each site (spopt's attribute name)."""
        if self.assignment is None:
            return None
        out: list[list[int]] = [[] for _ in range(self.m)]
        for i, j in enumerate(self.assignment):
            if j >= 0:
                out[j].append(i)
        return out

    @property
    def cli2fac(self) -> list[list[int]] | None:
        """Site serving each demand point (spopt's attribute name)."""
        if self.assignment is None:
            return None
        return [[int(j)] if j >= 0 else [] for j in self.assignment]

    def assigned_distance(self) -> np.ndarray:
        """Distance from each demand point to its assigned site (inf if none)."""
        if self.assignment is None:
            raise ValueError("solve the model first")
        a = self.assignment
        out = np.full(self.n, np.inf)
        ok = a >= 0
        out[ok] = self.cost_matrix[np.flatnonzero(ok), a[ok]]
        return out

    def nearest_open(self, open_mask: np.ndarray) -> np.ndarray:
        """Nearest allowed open site of each demand point (-1 if none).

        Points without demand may fall back on any open site.
        """
        pairs = self.allowed_pairs()
        zero = self.weights <= 0
        pairs[zero] |= np.isfinite(self.cost_matrix[zero])
        D = np.where(pairs & open_mask[None, :], self.cost_matrix, np.inf)
        j = D.argmin(axis=1)
        j[~np.isfinite(D[np.arange(self.n), j])] = -1
        return j


class PMedianProblem(Protocol):
    """What the p-median algorithms read of the model they solve.

    :func:`optimization.radius.solve_radius` and
    :func:`optimization.assignment.solve_assignment` take any object of this shape;
    :class:`optimization.PMedian` is the one that calls them.
    """

    cost_matrix: np.ndarray
    weights: np.ndarray
    p: int | None
    name: str
    rules: SiteRules
    equity: EquityRule | None
    split: bool
    cost_weight: float
    pairs_per_point: int

    @property
    def n(self) -> int: ...

    @property
    def m(self) -> int: ...

    def allowed_pairs(self) -> np.ndarray: ...

    def add_site_columns(
        self, model: LinearModel, cost_weight: float = 0.0
    ) -> np.ndarray: ...

    @staticmethod
    def add_link_rows(
        model: LinearModel, x: np.ndarray, y_of_x: np.ndarray
    ) -> None: ...

    def add_site_rows(
        self,
        model: LinearModel,
        y: np.ndarray,
        k: np.ndarray | None = None,
        p: int | None = None,
    ) -> None: ...

    def add_equity_rows(self, model: LinearModel, y: np.ndarray) -> None: ...

    def warm_equity(
        self, model: LinearModel, x: np.ndarray, open_mask: np.ndarray
    ) -> None: ...
