"""Maximise attendance: demand that falls with the distance to the nearest center.

A commune's demand is only its potential: the share that comes falls with
the distance (or travel time) to the nearest open center through a decay
function the planner chooses, so a center opened closer to people is valued
for the demand it creates (ArcGIS's *maximize attendance*).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from optimization import explain
from optimization.base import LocationModel
from optimization.errors import InfeasibleError, Reason
from optimization.inputs import EquityRule, Labels, SiteRules
from optimization.solver import (
    DEFAULT_GAP,
    FEASIBLE,
    OPTIMAL,
    LinearModel,
    SolveProgress,
    relative_gap,
)

__all__ = ["DECAY_FUNCTIONS", "Attendance", "Decay"]

#: Decay functions and the parameter each one needs.
DECAY_FUNCTIONS = {
    "linear": "cutoff",
    "exponential": "half_distance",
    "power": "exponent",
}


def _positive(value: Any, name: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ValueError(f"'{name}' should be a positive number, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class Decay:
    """Share of a commune's demand that attends a center at distance ``d``.

    ``linear``: ``1 - d / cutoff``, nothing from ``cutoff`` on;
    ``exponential``: ``0.5 ** (d / half_distance)`` (half the demand at
    ``half_distance``); ``power``: ``(1 + d / scale) ** -exponent``. Every
    function is 1 at distance 0 and never increases with distance. Distances
    are in the scenario's unit (km, or minutes for a travel time).

    Examples
    --------
    >>> Decay("linear", cutoff=20)(np.array([0.0, 5.0, 30.0])).tolist()
    [1.0, 0.75, 0.0]
    >>> Decay("exponential", half_distance=10)(np.array([10.0, 20.0])).tolist()
    [0.5, 0.25]
    >>> Decay("power", exponent=2, scale=10)(np.array([10.0])).tolist()
    [0.25]
    >>> Decay("linear")
    Traceback (most recent call last):
    ...
    ValueError: the 'linear' decay needs 'cutoff' (distance where demand reaches 0)
    """

    function: str
    cutoff: float | None = None
    half_distance: float | None = None
    exponent: float | None = None
    scale: float = 1.0

    def __post_init__(self) -> None:
        if self.function not in DECAY_FUNCTIONS:
            raise ValueError(
                f"'function' should be one of {list(DECAY_FUNCTIONS)}, "
                f"got {self.function!r}"
            )
        needed = DECAY_FUNCTIONS[self.function]
        meaning = {
            "cutoff": "distance where demand reaches 0",
            "half_distance": "distance where half the demand comes",
            "exponent": "how fast demand falls",
        }
        for key in DECAY_FUNCTIONS.values():
            value = getattr(self, key)
            if key == needed:
                if value is None:
                    raise ValueError(
                        f"the '{self.function}' decay needs '{key}' ({meaning[key]})"
                    )
                object.__setattr__(self, key, _positive(value, key))
            elif value is not None:
                raise ValueError(
                    f"'{key}' is for the '{_owner(key)}' decay, not '{self.function}'"
                )
        object.__setattr__(self, "scale", _positive(self.scale, "scale"))
        if self.function != "power" and self.scale != 1.0:
            raise ValueError(f"'scale' is for the 'power' decay, not '{self.function}'")

    def __call__(self, distance: Any) -> np.ndarray:
        """The attending share at each distance (0 where the distance is inf)."""
        d = np.asarray(distance, dtype=float)
        with np.errstate(over="ignore", invalid="ignore"):
            if self.function == "linear":
                out = np.clip(1.0 - d / self.cutoff, 0.0, 1.0)
            elif self.function == "exponential":
                out = np.power(0.5, d / self.half_distance)
            else:
                out = np.power(1.0 + d / self.scale, -self.exponent)
        return np.where(np.isfinite(d) & (d >= 0), out, 0.0)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Decay:
        """From the scenario file's ``parameters.decay`` object."""
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        """The function and its parameter, as the scenario file writes them."""
        out: dict[str, Any] = {"function": self.function}
        key = DECAY_FUNCTIONS[self.function]
        out[key] = getattr(self, key)
        if self.function == "power":
            out["scale"] = self.scale
        return out


def _owner(key: str) -> str:
    return next(f for f, k in DECAY_FUNCTIONS.items() if k == key)


class Attendance(LocationModel):
    """Maximise attendance: open ``p`` sites so the most demand comes.

    A commune attends its nearest open site, with the share ``decay(d)`` of
    its demand. The formulation ``max Σ w_i f(d_ij) x_ij`` with
    ``Σ_j x_ij <= 1`` and ``x_ij <= y_j`` (:meth:`build_model`) is exact:
    ``f`` never increases with distance, so a best solution sends each
    commune to its nearest open site (or to one as near with the same share).
    It is the p-median of the costs ``1 - f(d_ij)`` (1 where no demand
    comes) subtracted from the potential demand, so :meth:`solve` hands that
    p-median to :class:`optimization.PMedian`'s exact algorithm and reports
    attendance, bound and gap in attended demand (the direct formulation
    when an equity rule, whose radius is a distance, is set).

    Parameters
    ----------
    cost_matrix : array-like, shape (n, m)
        Distances or travel times (``inf`` forbids a pair).
    weights : array-like, shape (n,)
        Potential demand of each point (what would come at distance 0).
    p : int, optional
        Exact number of open centers.
    sites : SiteRules, optional
        Existing, locked, forbidden sites, new-site count and budget
        (capacities are not modelled).
    name : str, optional
        Name of the problem (default ``"attendance"``).
    decay : Decay
        How attendance falls with distance.
    equity, max_distance, labels
        As for :class:`optimization.PMedian`; beyond ``max_distance`` no
        demand comes.

    Examples
    --------
    >>> cost = np.array([[0.0, 10.0], [10.0, 0.0], [4.0, 12.0]])
    >>> decay = Decay("linear", cutoff=20)
    >>> model = Attendance(cost, [10, 30, 10], 1, decay=decay).solve()
    >>> model.open_sites.tolist(), model.objective, model.attended.tolist()
    ([1], 39.0, [5.0, 30.0, 4.0])
    """

    name = "attendance"

    def __init__(
        self,
        cost_matrix: Any,
        weights: Any,
        p: int | None = None,
        sites: SiteRules | None = None,
        name: str | None = None,
        *,
        decay: Decay,
        equity: EquityRule | None = None,
        max_distance: float | None = None,
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
        self._refuse_rules("capacities", "module_size")
        if not isinstance(decay, Decay):
            raise TypeError(f"'decay' should be Decay, got {type(decay).__name__}")
        self.decay = decay
        self.attended: np.ndarray | None = None

    @property
    def potential(self) -> float:
        """Demand that would come if every commune had a center at distance 0."""
        return float(self.weights.sum())

    def attendance(self) -> np.ndarray:
        """``(n, m)`` demand of each point that would attend each allowed site."""
        share = np.where(self.allowed_pairs(), self.decay(self.cost_matrix), 0.0)
        return self.weights[:, None] * share

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
    ) -> Attendance:
        """Solve; ``objective`` is the attended demand, ``attended`` per point.

        ``progress`` (maximising) follows the best plan and the bound, in
        attended demand, while the solver runs.
        """
        reasons = self.diagnose()
        if reasons:
            raise InfeasibleError(reasons)
        gap = DEFAULT_GAP if gap_rel is None else float(gap_rel)
        if self.equity is None:
            open_mask = self._solve_as_pmedian(solver, time_limit, gap, msg, progress)
        else:
            built = self._build()
            sol, _ = self._solve_and_keep(
                built["model"], solver, time_limit, gap, msg, progress
            )
            self._infeasible(self.report)
            open_mask = None if sol is None else sol[built["y"]] > 0.5
        if open_mask is None:
            return self
        self.open_sites = np.flatnonzero(open_mask)
        self.assignment = self.nearest_open(open_mask)
        self.attended = self.attended_demand(open_mask)
        report = self.report
        report.details["formulation"] = (
            "attendance as p-median" if self.equity is None else "attendance MIP"
        )
        report.details["potential_demand"] = self.potential
        report.details["attended_demand"] = float(self.attended.sum())
        return self

    def _solve_as_pmedian(
        self,
        solver: Any,
        time_limit: float | None,
        gap: float,
        msg: bool,
        progress: SolveProgress | None,
    ) -> np.ndarray | None:
        """Solve the equivalent p-median; the report in attended demand."""
        from optimization.pmedian import PMedian

        potential = self.potential
        lost = 1.0 - np.where(self.allowed_pairs(), self.decay(self.cost_matrix), 0.0)
        rules = self.rules
        median = PMedian(lost, self.weights, self.p, rules, self.name)
        # The p-median's gap is on the demand lost: ask for the one that gives
        # ``gap`` on the demand attended (a greedy plan's attendance at least).
        guess = self._greedy_attended()
        lost_guess = max(potential - guess, 1e-9)
        median_gap = min(max(gap * guess / lost_guess, 1e-9), 1.0) if guess else gap
        follow = None if progress is None else _AttendanceProgress(potential, progress)
        median.solve(solver, time_limit, median_gap, msg, follow)
        report = median.report
        if report.objective is not None:
            report.objective = potential - report.objective
        if report.bound is not None:
            report.bound = potential - report.bound
        if report.objective is not None and report.bound is not None:
            report.gap = relative_gap(report.objective, report.bound, maximize=True)
            report.status = OPTIMAL if report.gap <= gap + 1e-12 else FEASIBLE
        self.report = report
        self._infeasible(report)
        if median.open_sites is None:
            return None
        open_mask = np.zeros(self.m, bool)
        open_mask[median.open_sites] = True
        if progress is not None:
            progress.plan(report.objective)
            progress.prove(report.bound)
        return open_mask

    def _greedy_attended(self) -> float:
        """Attended demand of a greedy plan of ``p`` sites (0 without ``p``)."""
        if self.p is None:
            return 0.0
        att = self.attendance()
        r = self.rules
        open_mask = r.locked.copy()
        best = att[:, open_mask].max(axis=1) if open_mask.any() else np.zeros(self.n)
        free = ~r.forbidden & ~open_mask
        for _ in range(self.p - int(open_mask.sum())):
            gain = np.maximum(att - best[:, None], 0.0).sum(axis=0)
            gain[~free] = -1.0
            j = int(np.argmax(gain))
            if gain[j] < 0:
                break
            open_mask[j], free[j] = True, False
            best = np.maximum(best, att[:, j])
        return float(best.sum())

    def attended_demand(self, open_mask: Any) -> np.ndarray:
        """Demand each point sends to its best open site under ``open_mask``."""
        open_mask = np.asarray(open_mask, bool)
        att = self.attendance()[:, open_mask]
        return att.max(axis=1) if att.shape[1] else np.zeros(self.n)

    def build_model(self) -> LinearModel:
        """The formulation :meth:`solve` hands to the solver."""
        return self._build()["model"]

    def _build(self) -> dict[str, Any]:
        att = self.attendance()
        ii, jj = np.nonzero(att > 0)
        model = LinearModel(self.name, maximize=True)
        y = self.add_site_columns(model)
        x = model.add_vars("x", ii.size, ub=1.0, cost=att[ii, jj])
        model.add_rows("one_site", ii, x, 1.0, hi=1.0, n=self.n)
        self.add_link_rows(model, x, y[jj])
        self.add_site_rows(model, y)
        self.add_equity_rows(model, y)
        return {"model": model, "y": y, "x": x}


class _AttendanceProgress(SolveProgress):
    """Takes the p-median's figures (demand lost), passes attended demand on."""

    def __init__(self, potential: float, target: SolveProgress):
        super().__init__(maximize=False)
        self.potential = potential
        self.target = target

    def plan(self, objective: float | None) -> None:
        super().plan(objective)
        if objective is not None and math.isfinite(objective):
            self.target.plan(self.potential - objective)

    def prove(self, bound: float | None) -> None:
        super().prove(bound)
        if bound is not None and math.isfinite(bound):
            self.target.prove(self.potential - bound)
