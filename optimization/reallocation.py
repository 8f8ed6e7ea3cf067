"""Capacity reallocation: keep the sites, move staff between existing centers.

Each center ``j`` has a weekly demand ``a_j`` (the requests it receives), a
staff count ``s_j`` and a capacity ``c_j``; ``c_j / s_j`` is its productivity.
Staff counts are integers, so every objective below is exact:

* ``"unmet"``: minimise the total demand beyond capacity, ``sum max(0, a - c)``.
* ``"overload"``: minimise the largest share of a center's demand it cannot
  serve, ``max (a - c) / a``.
* ``"delay"``: minimise the total expected time in system of an M/M/1 queue,
  ``sum a / (c - a)`` (in weeks x requests); this function of an integer staff
  count is represented exactly by the secants between consecutive integers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from optimization.errors import InfeasibleError, Reason, fmt_number
from optimization.inputs import check_weights
from optimization.solver import (
    LinearModel,
    ReportedResults,
    SolveProgress,
    SolveReport,
)

__all__ = ["CapacityReallocation"]

OBJECTIVES = ("unmet", "overload", "delay")


def mm1_delay(load: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """Total M/M/1 time in system ``a / (c - a)``; ``inf`` when ``c <= a``.

    Examples
    --------
    >>> mm1_delay(np.array([50.0]), np.array([100.0])).tolist()
    [1.0]
    """
    load = np.asarray(load, float)
    capacity = np.asarray(capacity, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(capacity > load, load / (capacity - load), np.inf)
    return np.where(load <= 0, 0.0, out)


class CapacityReallocation(ReportedResults):
    """Move staff between existing centers to minimise unmet demand, overload or delay.

    Examples
    --------
    >>> model = CapacityReallocation.from_loads(
    ...     loads=[90, 30], capacity=[60, 60], staff=[2, 2], objective="unmet"
    ... ).solve()
    >>> model.staff_after.tolist(), model.objective
    ([3, 1], 0.0)
    """

    def __init__(
        self,
        loads: Any,
        capacity: Any,
        staff: Any,
        *,
        objective: str = "unmet",
        total_staff: int | None = None,
        budget: float | None = None,
        staff_cost: float | None = None,
        min_staff: Any = 1,
        max_staff: Any = None,
        names: Sequence[Any] | None = None,
    ):
        self.loads = check_weights(loads, np.size(loads), "loads")
        m = self.loads.size
        if m == 0:
            raise ValueError("'loads' is empty: no center to reallocate")
        self.capacity = check_weights(capacity, m, "capacity")
        staff_arr = check_weights(staff, m, "staff")
        if np.any(staff_arr != np.round(staff_arr)):
            raise ValueError("'staff' should be whole numbers")
        if np.any((staff_arr == 0) & (self.capacity > 0)):
            raise ValueError(
                "a center with capacity needs staff > 0 to know its productivity"
            )
        self.staff = staff_arr.astype(int)
        with np.errstate(divide="ignore", invalid="ignore"):
            self.rate = np.where(self.staff > 0, self.capacity / self.staff, 0.0)
        if objective not in OBJECTIVES:
            raise ValueError(
                f"'objective' should be one of {OBJECTIVES}, got {objective!r}"
            )
        self.objective_name = objective
        self.min_staff = np.broadcast_to(np.asarray(min_staff, int), (m,)).copy()
        current_total = int(self.staff.sum())
        if budget is not None:
            if staff_cost is None or staff_cost <= 0:
                raise ValueError("a 'budget' needs a positive 'staff_cost'")
            if total_staff is not None:
                raise ValueError("give either 'total_staff' or 'budget', not both")
            self.max_total = current_total + int(math.floor(budget / staff_cost + 1e-9))
            self.exact_total = False
        else:
            self.max_total = current_total if total_staff is None else int(total_staff)
            self.exact_total = True
        default_max = self.max_total
        self.max_staff = (
            np.full(m, default_max)
            if max_staff is None
            else np.broadcast_to(np.asarray(max_staff, int), (m,)).copy()
        )
        if names is not None and len(names) != m:
            raise ValueError(f"'names' has {len(names)} entries, expected {m}")
        self.names = None if names is None else list(names)
        self.report: SolveReport | None = None
        self.staff_after: np.ndarray | None = None

    @classmethod
    def from_loads(
        cls, loads: Any, capacity: Any, staff: Any, **kwargs: Any
    ) -> CapacityReallocation:
        """Build from the weekly demand each center receives.

        Parameters
        ----------
        loads : array-like, shape (m,)
            Demand arriving at each center (requests/week).
        capacity : array-like, shape (m,)
            Today's capacity of each center (requests/week).
        staff : array-like of int, shape (m,)
            Today's staff; ``capacity / staff`` is the productivity per agent.
        objective : {"unmet", "overload", "delay"}
        total_staff : int, optional
            Staff to distribute (default: today's total, kept fixed).
        budget, staff_cost : float, optional
            Instead of a fixed total: hire up to ``budget / staff_cost`` more.
        min_staff, max_staff : int or array-like
            Bounds per center (default at least 1 agent everywhere).
        names : sequence, optional
            Center names, used in explanations.
        """
        return cls(loads, capacity, staff, **kwargs)

    @classmethod
    def from_cost_matrix(
        cls, cost_matrix: Any, weights: Any, capacity: Any, staff: Any, **kwargs: Any
    ) -> CapacityReallocation:
        """Build from communes: each commune's demand goes to its nearest center."""
        from optimization.inputs import check_cost_matrix

        D = check_cost_matrix(cost_matrix)
        w = check_weights(weights, D.shape[0])
        loads = np.bincount(D.argmin(axis=1), weights=w, minlength=D.shape[1])
        return cls(loads, capacity, staff, **kwargs)

    def _stable_min(self) -> np.ndarray:
        """Smallest staff keeping each center strictly below saturation."""
        with np.errstate(divide="ignore", invalid="ignore"):
            need = np.where(self.rate > 0, np.floor(self.loads / self.rate) + 1, np.inf)
        need = np.where(self.loads <= 0, 0, need)
        return np.maximum(need, self.min_staff)

    def diagnose(self) -> list[Reason]:
        """Reasons, found without solving, why no staffing is possible."""
        reasons = []
        lo = int(self.min_staff.sum())
        hi = int(np.minimum(self.max_staff, self.max_total).sum())
        if lo > self.max_total:
            reasons.append(
                Reason(
                    "staff_below_minimum",
                    f"minimum staffing needs {lo} agents but only {self.max_total} are available",
                    {"needed": lo, "available": self.max_total},
                )
            )
        if self.exact_total and hi < self.max_total:
            reasons.append(
                Reason(
                    "staff_above_maximum",
                    f"{self.max_total} agents must be placed but the centers can take at most {hi}",
                    {"total": self.max_total, "maximum": hi},
                )
            )
        if np.any(self.min_staff > self.max_staff):
            reasons.append(
                Reason("staff_bounds", "a center's minimum staff exceeds its maximum")
            )
        if self.objective_name == "delay":
            need = self._stable_min()
            bad = np.flatnonzero(~np.isfinite(need) | (need > self.max_staff))
            for j in bad[:5]:
                who = self.names[j] if self.names else f"center #{j}"
                reasons.append(
                    Reason(
                        "center_cannot_stabilise",
                        f"center {who} receives {fmt_number(self.loads[j])} requests/week, more "
                        "than it can serve with its maximum staff",
                        {"center": str(who), "load": float(self.loads[j])},
                    )
                )
            total_need = float(np.where(np.isfinite(need), need, 0).sum())
            if not bad.size and total_need > self.max_total:
                reasons.append(
                    Reason(
                        "staff_below_saturation",
                        f"keeping every center below 100% utilisation needs {int(total_need)} "
                        f"agents but only {self.max_total} are available",
                        {"needed": int(total_need), "available": self.max_total},
                    )
                )
        return reasons

    def solve(
        self,
        solver: Any = None,
        time_limit: float | None = None,
        gap_rel: float | None = None,
        msg: bool = False,
        progress: SolveProgress | None = None,
    ) -> CapacityReallocation:
        """Solve; results in ``staff_after``, ``capacity_after``, ``objective``.

        ``progress`` follows the best staffing and bound while it runs.
        """
        reasons = self.diagnose()
        if reasons:
            raise InfeasibleError(reasons)
        model = self.build_model()
        s = np.arange(self.loads.size)  # the staff columns come first
        x, report = self._solve_and_keep(
            model, solver, time_limit, gap_rel, msg, progress
        )
        if report.status == "infeasible":
            raise InfeasibleError(
                [
                    Reason(
                        "constraints_incompatible",
                        "no staffing satisfies the totals and per-center bounds together",
                    )
                ]
            )
        if x is not None:
            self.staff_after = np.round(x[s]).astype(int)
            report.objective = self.evaluate(self.staff_after)
        return self

    def build_model(self) -> LinearModel:
        """Integer staff per center, with the chosen objective made linear.

        The M/M/1 delay is convex in staff, so it is the maximum of the lines
        through consecutive integer staffings: exact at every integer point.
        """
        a, rate = self.loads, self.rate
        m = a.size
        lo = self.min_staff.astype(float)
        if self.objective_name == "delay":
            lo = np.maximum(lo, self._stable_min())
        hi = np.minimum(self.max_staff, self.max_total).astype(float)
        model = LinearModel(f"reallocation-{self.objective_name}")
        s = model.add_vars("staff", m, lb=lo, ub=hi, integer=True)
        total_lo = self.max_total if self.exact_total else -np.inf
        model.add_rows(
            "total", np.zeros(m), s, 1.0, lo=total_lo, hi=self.max_total, n=1
        )
        if self.objective_name == "unmet":
            u = model.add_vars("unmet", m, cost=1.0)
            model.add_rows(
                "unmet",
                np.r_[np.arange(m), np.arange(m)],
                np.r_[u, s],
                np.r_[np.ones(m), rate],
                lo=a,
                n=m,
            )
        elif self.objective_name == "overload":
            t = model.add_vars("overload", 1, cost=1.0)
            pos = np.flatnonzero(a > 0)
            k = pos.size
            model.add_rows(
                "overload",
                np.r_[np.arange(k), np.arange(k)],
                np.r_[np.repeat(t, k), s[pos]],
                np.r_[np.ones(k), rate[pos] / a[pos]],
                lo=1.0,
                n=k,
            )
        else:
            d = model.add_vars("delay", m, cost=1.0)
            rows, cols, vals, rhs = [], [], [], []
            r = 0
            for j in range(m):
                if a[j] <= 0:
                    continue
                for k in range(int(lo[j]), int(hi[j])):
                    f0 = mm1_delay(a[j], rate[j] * k)
                    f1 = mm1_delay(a[j], rate[j] * (k + 1))
                    slope = float(f1 - f0)
                    # d_j >= f0 + slope * (s_j - k)
                    rows += [r, r]
                    cols += [d[j], s[j]]
                    vals += [1.0, -slope]
                    rhs.append(float(f0) - slope * k)
                    r += 1
                if int(lo[j]) >= int(hi[j]):
                    rows.append(r)
                    cols.append(d[j])
                    vals.append(1.0)
                    rhs.append(float(mm1_delay(a[j], rate[j] * lo[j])))
                    r += 1
            if r:
                model.add_rows("delay", rows, cols, vals, lo=np.array(rhs), n=r)
        return model

    def evaluate(self, staff: Any) -> float:
        """Objective value of a staffing vector (used by tests and KPIs)."""
        cap = self.rate * np.asarray(staff, float)
        if self.objective_name == "unmet":
            return float(np.maximum(self.loads - cap, 0).sum())
        if self.objective_name == "overload":
            pos = self.loads > 0
            if not pos.any():
                return 0.0
            return float(
                max(0.0, ((self.loads[pos] - cap[pos]) / self.loads[pos]).max())
            )
        return float(mm1_delay(self.loads, cap).sum())

    @property
    def capacity_after(self) -> np.ndarray | None:
        """Capacity of each center after reallocation."""
        return None if self.staff_after is None else self.rate * self.staff_after
