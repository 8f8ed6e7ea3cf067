"""Sparse model assembly and honest solving (HiGHS by default, CBC as fallback).

Models are assembled as numpy/scipy arrays by :class:`LinearModel` (no Python
object per coefficient) and handed to HiGHS through ``highspy`` in one call.
The same arrays become a :class:`pulp.LpProblem` (``LinearModel.to_pulp``) for
CBC or any other PuLP solver and for LP/MPS export.

Whatever the solver says, the status reported here is computed from the
incumbent objective and the proven bound: a time-limited incumbent is
``"feasible"`` with its gap, never ``"optimal"``.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pulp
import scipy.sparse as sp

__all__ = [
    "FEASIBLE",
    "INFEASIBLE",
    "NO_SOLUTION",
    "OPTIMAL",
    "LinearModel",
    "Relaxation",
    "SolveOptions",
    "SolveProgress",
    "SolveReport",
    "fix_by_reduced_cost",
    "load_highs",
    "out_of_time",
    "relative_gap",
    "solve_fixed",
    "solve_model",
    "solve_relaxation",
]

OPTIMAL = "optimal"
FEASIBLE = "feasible"
INFEASIBLE = "infeasible"
NO_SOLUTION = "no_solution"
UNBOUNDED = "unbounded"

#: Relative gap below which a solution is called optimal when none is given.
DEFAULT_GAP = 1e-6

#: ``(column values, objective) -> objective of the plan they give, or None``.
PlanCheck = Callable[[np.ndarray, float], "float | None"]


@dataclass
class SolveReport:
    """What a solve achieved, with the evidence.

    Attributes
    ----------
    status : str
        ``"optimal"`` (gap within tolerance, proven), ``"feasible"`` (a solution
        with a positive proven gap), ``"infeasible"``, ``"no_solution"`` (time
        limit reached before any solution) or ``"unbounded"``.
    objective : float or None
        Objective of the returned solution.
    bound : float or None
        Best proven bound on the optimum (lower bound when minimising).
    gap : float or None
        Relative gap ``|objective - bound| / |objective|``.
    build_seconds, solve_seconds : float
        Wall-clock time to assemble and to solve the model(s).
    solver : str
        Solver that produced the result.
    """

    status: str = NO_SOLUTION
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    build_seconds: float = 0.0
    solve_seconds: float = 0.0
    solver: str = ""
    message: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready primitives."""
        return {
            "status": self.status,
            "objective": _finite_or_none(self.objective),
            "bound": _finite_or_none(self.bound),
            "gap": _finite_or_none(self.gap),
            "build_seconds": round(self.build_seconds, 4),
            "solve_seconds": round(self.solve_seconds, 4),
            "solver": self.solver,
            "message": self.message,
            **{k: v for k, v in self.details.items() if _is_jsonable(v)},
        }


def _finite_or_none(x: float | None) -> float | None:
    if x is None or not math.isfinite(x):
        return None
    return float(x)


def _is_jsonable(v: Any) -> bool:
    return isinstance(v, (int, float, str, bool, type(None), list))


def relative_gap(objective: float, bound: float, maximize: bool = False) -> float:
    """Relative distance between an incumbent and a proven bound.

    Examples
    --------
    >>> relative_gap(110.0, 100.0)
    0.09090909090909091
    >>> relative_gap(0.0, 0.0)
    0.0
    """
    diff = (bound - objective) if maximize else (objective - bound)
    diff = max(diff, 0.0)
    if diff <= 1e-9 * max(1.0, abs(objective)):
        return 0.0
    return diff / max(abs(objective), 1e-9)


class SolveProgress:
    """Best plan and proven bound of a running solve, for a progress display.

    Models report into it while they work (another thread may read
    :meth:`snapshot` at any time): :meth:`plan` with the objective of each
    full plan they find, :meth:`prove` with each bound they prove, including
    the live bound of HiGHS's branch-and-bound. The bound shown never passes
    the best plan, so the gap it gives is a proven one.

    Examples
    --------
    >>> progress = SolveProgress()
    >>> progress.plan(120.0); progress.prove(90.0); progress.prove(100.0)
    >>> progress.snapshot()
    {'objective': 120.0, 'bound': 100.0, 'gap': 0.16666666666666666}
    """

    def __init__(self, maximize: bool = False):
        self.maximize = maximize
        self._objective: float | None = None
        self._bound: float | None = None

    def plan(self, objective: float | None) -> None:
        """A full plan of this objective exists."""
        if objective is None or not math.isfinite(objective):
            return
        better = max if self.maximize else min
        self._objective = (
            objective if self._objective is None else better(self._objective, objective)
        )

    def prove(self, bound: float | None) -> None:
        """No plan is better than ``bound``."""
        if bound is None or not math.isfinite(bound):
            return
        tighter = min if self.maximize else max
        self._bound = bound if self._bound is None else tighter(self._bound, bound)

    def snapshot(self) -> dict[str, float | None]:
        """``{"objective", "bound", "gap"}`` so far (None when not known)."""
        objective, bound = self._objective, self._bound
        if objective is not None and bound is not None:
            bound = (
                min(bound, objective) if not self.maximize else max(bound, objective)
            )
        gap = None
        if objective is not None and bound is not None:
            gap = relative_gap(objective, bound, self.maximize)
        return {"objective": objective, "bound": bound, "gap": gap}


class LinearModel:
    """A mixed-integer linear model stored as sparse arrays.

    Columns and rows are added in blocks with vectorised numpy arrays, which
    keeps model building free of per-coefficient Python overhead.

    Parameters
    ----------
    name : str
        Model name, used in the PuLP problem.
    maximize : bool
        Maximise the objective instead of minimising it.

    Examples
    --------
    >>> m = LinearModel("toy", maximize=True)
    >>> x = m.add_vars("x", 2, ub=1, cost=[3.0, 2.0], integer=True)
    >>> rows = m.add_rows("cap", [0, 0], x, [1.0, 1.0], hi=1.0)
    >>> values, report = solve_model(m)
    >>> report.status, report.objective
    ('optimal', 3.0)
    """

    def __init__(self, name: str = "model", maximize: bool = False):
        self.name = name
        self.maximize = maximize
        self.offset = 0.0
        self.n_cols = 0
        self.n_rows = 0
        self._lb: list[np.ndarray] = []
        self._ub: list[np.ndarray] = []
        self._cost: list[np.ndarray] = []
        self._int: list[np.ndarray] = []
        self._col_blocks: list[tuple[str, int, int]] = []
        self._r: list[np.ndarray] = []
        self._c: list[np.ndarray] = []
        self._v: list[np.ndarray] = []
        self._rlo: list[np.ndarray] = []
        self._rhi: list[np.ndarray] = []
        self._row_blocks: list[tuple[str, int, int]] = []
        self._cache: tuple | None = None

    def add_vars(
        self,
        name: str,
        size: int,
        lb: Any = 0.0,
        ub: Any = np.inf,
        cost: Any = 0.0,
        integer: bool = False,
    ) -> np.ndarray:
        """Add ``size`` columns and return their indices."""
        idx = np.arange(self.n_cols, self.n_cols + size, dtype=np.int64)
        self._lb.append(np.broadcast_to(np.asarray(lb, float), (size,)).copy())
        self._ub.append(np.broadcast_to(np.asarray(ub, float), (size,)).copy())
        self._cost.append(np.broadcast_to(np.asarray(cost, float), (size,)).copy())
        self._int.append(np.full(size, bool(integer)))
        self._col_blocks.append((name, self.n_cols, self.n_cols + size))
        self.n_cols += size
        self._cache = None
        return idx

    def add_rows(
        self,
        name: str,
        rows: Any,
        cols: Any,
        vals: Any,
        lo: Any = -np.inf,
        hi: Any = np.inf,
        n: int | None = None,
    ) -> np.ndarray:
        """Add rows ``lo <= A x <= hi`` given in coordinate form.

        ``rows`` are local row numbers ``0..n-1``; ``n`` defaults to
        ``max(rows) + 1``. Returns the global indices of the new rows.
        """
        rows = np.asarray(rows, dtype=np.int64)
        cols = np.asarray(cols, dtype=np.int64)
        vals = np.broadcast_to(np.asarray(vals, float), rows.shape)
        if n is None:
            n = int(rows.max()) + 1 if rows.size else 0
        self._r.append(rows + self.n_rows)
        self._c.append(cols)
        self._v.append(vals.copy())
        self._rlo.append(np.broadcast_to(np.asarray(lo, float), (n,)).copy())
        self._rhi.append(np.broadcast_to(np.asarray(hi, float), (n,)).copy())
        self._row_blocks.append((name, self.n_rows, self.n_rows + n))
        out = np.arange(self.n_rows, self.n_rows + n, dtype=np.int64)
        self.n_rows += n
        self._cache = None
        return out

    def arrays(self) -> tuple:
        """Return ``(cost, lb, ub, integer, A (CSR), row_lo, row_hi)``."""
        if self._cache is None:
            cat = np.concatenate
            cost = cat(self._cost) if self._cost else np.zeros(0)
            lb = cat(self._lb) if self._lb else np.zeros(0)
            ub = cat(self._ub) if self._ub else np.zeros(0)
            integer = cat(self._int) if self._int else np.zeros(0, bool)
            if self._r:
                A = sp.csr_matrix(
                    (cat(self._v), (cat(self._r), cat(self._c))),
                    shape=(self.n_rows, self.n_cols),
                )
                A.sum_duplicates()
                rlo, rhi = cat(self._rlo), cat(self._rhi)
            else:
                A = sp.csr_matrix((0, self.n_cols))
                rlo = rhi = np.zeros(0)
            self._cache = (cost, lb, ub, integer, A, rlo, rhi)
        return self._cache

    @property
    def is_mip(self) -> bool:
        """True when some column is integer."""
        return bool(self.arrays()[3].any())

    def objective_value(self, x: np.ndarray) -> float:
        """Objective of the column vector ``x``."""
        return float(self.arrays()[0] @ x + self.offset)

    def is_feasible(self, x: np.ndarray, tol: float = 1e-6) -> bool:
        """True when ``x`` satisfies bounds, integrality and every row."""
        cost, lb, ub, integer, A, rlo, rhi = self.arrays()
        if x.shape != (self.n_cols,):
            return False
        if np.any(x < lb - tol) or np.any(x > ub + tol):
            return False
        if np.any(np.abs(x[integer] - np.round(x[integer])) > tol):
            return False
        ax = A @ x
        return bool(np.all(ax >= rlo - tol) and np.all(ax <= rhi + tol))

    def fix_columns(self, cols: Any, values: Any) -> None:
        """Fix columns ``cols`` at ``values`` (both bounds), e.g. after a proof."""
        cols = np.asarray(cols, dtype=np.int64)
        values = np.broadcast_to(np.asarray(values, float), cols.shape)
        for block, (_, start, stop) in enumerate(self._col_blocks):
            inside = (cols >= start) & (cols < stop)
            if inside.any():
                local = cols[inside] - start
                self._lb[block][local] = values[inside]
                self._ub[block][local] = values[inside]
        self._cache = None

    def to_pulp(self) -> tuple[pulp.LpProblem, list[pulp.LpVariable]]:
        """Build the equivalent :class:`pulp.LpProblem` and its variables."""
        cost, lb, ub, integer, A, rlo, rhi = self.arrays()
        sense = pulp.LpMaximize if self.maximize else pulp.LpMinimize
        prob = pulp.LpProblem(re.sub(r"\W", "_", self.name), sense)
        names = np.empty(self.n_cols, dtype=object)
        for name, start, stop in self._col_blocks:
            names[start:stop] = [f"{name}_{k}" for k in range(stop - start)]
        xs = [
            prob.add_variable(
                names[k],
                lowBound=None if math.isinf(lb[k]) else float(lb[k]),
                upBound=None if math.isinf(ub[k]) else float(ub[k]),
                cat=pulp.LpInteger if integer[k] else pulp.LpContinuous,
            )
            for k in range(self.n_cols)
        ]
        nz = np.flatnonzero(cost)
        prob.setObjective(
            pulp.LpAffineExpression(
                [(xs[k], float(cost[k])) for k in nz], constant=self.offset
            )
        )
        prob._add_variables(xs)  # keep unused columns in the problem
        indptr, indices, data = A.indptr, A.indices, A.data
        for r in range(self.n_rows):
            s, e = indptr[r], indptr[r + 1]
            expr = pulp.LpAffineExpression(
                [
                    (xs[c], float(v))
                    for c, v in zip(indices[s:e], data[s:e], strict=True)
                ]
            )
            lo, hi = rlo[r], rhi[r]
            if lo == hi:
                prob.addConstraint(
                    pulp.LpConstraint(expr, pulp.LpConstraintEQ, f"r{r}", lo)
                )
                continue
            if not math.isinf(lo):
                prob.addConstraint(
                    pulp.LpConstraint(expr, pulp.LpConstraintGE, f"r{r}_lo", lo)
                )
            if not math.isinf(hi):
                prob.addConstraint(
                    pulp.LpConstraint(expr, pulp.LpConstraintLE, f"r{r}_hi", hi)
                )
        return prob, xs


# --------------------------------------------------------------------------
# Solving
# --------------------------------------------------------------------------


def _resolve_solver(solver: Any) -> tuple[str, dict[str, Any]]:
    """Map a solver argument to a backend name and the options it carries."""
    if solver is None:
        return "highs", {}
    if isinstance(solver, str):
        key = solver.lower()
        if key in {"highs", "highspy"}:
            return "highs", {}
        if key in {"cbc", "coin", "pulp_cbc_cmd"}:
            return "cbc", {}
        raise ValueError(
            f"Unknown solver {solver!r}; use 'highs', 'cbc' or a PuLP solver"
        )
    if isinstance(solver, pulp.HiGHS):
        opts = {
            "time_limit": solver.timeLimit,
            "gap_rel": solver.gapRel,
            "msg": bool(solver.msg),
            "threads": solver.threads,
        }
        return "highs", {k: v for k, v in opts.items() if v is not None}
    if isinstance(solver, pulp.COIN_CMD):
        opts = {
            "time_limit": solver.timeLimit,
            "gap_rel": solver.optionsDict.get("gapRel"),
            "msg": bool(solver.msg),
            "path": solver.path,
        }
        return "cbc", {k: v for k, v in opts.items() if v is not None}
    if isinstance(solver, pulp.LpSolver):
        return "pulp", {"solver": solver}
    raise TypeError(f"'solver' should be a str or a pulp solver, got {type(solver)}")


def solve_model(
    model: LinearModel,
    solver: Any = None,
    time_limit: float | None = None,
    gap_rel: float | None = None,
    warm_start: np.ndarray | None = None,
    msg: bool = False,
    threads: int | None = None,
    presolve: bool = True,
    progress: SolveProgress | None = None,
    progress_plans: bool | PlanCheck = False,
    highs_options: dict[str, Any] | None = None,
    work_limit: int | None = None,
) -> tuple[np.ndarray | None, SolveReport]:
    """Solve ``model`` and report status, objective, bound and gap honestly.

    Parameters
    ----------
    model : LinearModel
        The model to solve.
    solver : {"highs", "cbc"} or pulp solver, optional
        Default HiGHS through ``highspy``; CBC (bundled with PuLP) is used when
        HiGHS is unavailable or fails. A ``pulp.HiGHS``/``pulp.PULP_CBC_CMD``
        instance is honoured with its time limit and gap options; any other
        PuLP solver is called through PuLP.
    time_limit : float, optional
        Seconds; arguments override options carried by a solver instance.
    gap_rel : float, optional
        Relative gap under which the solver may stop; a result is called
        ``"optimal"`` only if its proven gap is within it (default 1e-6).
    warm_start : ndarray, optional
        A full column vector used as starting solution when it is feasible.
    presolve : bool
        HiGHS's presolve (other solvers keep their default). Switched off
        where HiGHS 1.15's MIP presolve was seen to cut off better solutions
        of models whose columns were fixed by :func:`fix_by_reduced_cost`.
    progress : SolveProgress, optional
        Receives HiGHS's proven bound during the branch-and-bound (a bound of
        ``model``: pass it only when that bounds the caller's problem too).
    progress_plans : bool or callable
        True: each improving solution's objective goes to ``progress`` too
        (when a solution of ``model`` is a plan of the caller's problem). A
        callable ``(values, objective) -> float | None`` says instead what
        plan, if any, a solution gives (e.g. a relaxation's solution that
        happens to be a full plan).
    highs_options : dict, optional
        Further HiGHS options (name -> value), e.g. ``{"mip_heuristic_effort":
        0.0}`` when a caller's start is known to be strong; other solvers
        ignore them.
    work_limit : int, optional
        HiGHS stops after this many of its interrupt checks, which come at
        fixed points of its search (cut rounds, nodes), so where it stops does
        not depend on the machine's load as a time limit does; the result is
        then ``"feasible"`` with the bound reached. Other solvers ignore it.

    Returns
    -------
    values : ndarray or None
        Column values of the solution, None when there is none.
    report : SolveReport

    Examples
    --------
    >>> m = LinearModel()
    >>> x = m.add_vars("x", 1, lb=2.5, cost=1.0)
    >>> solve_model(m)[1].objective
    2.5
    """
    backend, opts = _resolve_solver(solver)
    if time_limit is not None:
        opts["time_limit"] = time_limit
    if gap_rel is not None:
        opts["gap_rel"] = gap_rel
    opts.setdefault("gap_rel", DEFAULT_GAP)
    opts["msg"] = opts.get("msg", False) or msg
    if threads is not None:
        opts["threads"] = threads
    if warm_start is not None and not model.is_feasible(np.asarray(warm_start, float)):
        warm_start = None
    if backend == "highs":
        try:
            return _solve_highs(
                model,
                warm_start=warm_start,
                presolve=presolve,
                progress=progress,
                progress_plans=progress_plans,
                options=highs_options,
                work_limit=work_limit,
                **opts,
            )
        except (ImportError, RuntimeError) as exc:  # fall back to CBC
            values, report = _solve_cbc(model, warm_start=warm_start, **opts)
            report.message = f"HiGHS failed ({exc}); solved with CBC. " + report.message
            return values, report
    if backend == "cbc":
        opts.pop("threads", None)
        return _solve_cbc(model, warm_start=warm_start, **opts)
    return _solve_pulp_generic(model, opts["solver"], opts["gap_rel"])


def _finish(
    report: SolveReport,
    objective: float | None,
    bound: float | None,
    maximize: bool,
    gap_rel: float,
) -> SolveReport:
    report.objective = objective
    report.bound = bound
    if objective is None:
        return report
    if bound is None or not math.isfinite(bound):
        report.gap = None
        report.status = FEASIBLE
        return report
    report.gap = relative_gap(objective, bound, maximize)
    report.status = OPTIMAL if report.gap <= gap_rel + 1e-12 else FEASIBLE
    return report


def load_highs(model: LinearModel, msg: bool = False, relax: bool = False) -> Any:
    """A ``highspy.Highs`` holding ``model`` (integrality dropped if ``relax``)."""
    import highspy

    cost, lb, ub, integer, A, rlo, rhi = model.arrays()
    h = highspy.Highs()
    h.setOptionValue("output_flag", bool(msg))
    inf = highspy.kHighsInf
    status = h.passModel(
        model.n_cols,
        model.n_rows,
        int(A.nnz),
        2,  # row-wise
        -1 if model.maximize else 1,
        float(model.offset),
        cost.astype(np.float64),
        np.where(np.isinf(lb), -inf, lb),
        np.where(np.isinf(ub), inf, ub),
        np.where(np.isinf(rlo), -inf, rlo),
        np.where(np.isinf(rhi), inf, rhi),
        A.indptr[:-1].astype(np.int32),
        A.indices.astype(np.int32),
        A.data.astype(np.float64),
        np.zeros(model.n_cols, np.int32) if relax else integer.astype(np.int32),
    )
    if status == highspy.HighsStatus.kError:
        raise RuntimeError("HiGHS rejected the model")
    return h


@dataclass
class Relaxation:
    """An optimal solution of a model's LP relaxation.

    Attributes
    ----------
    values : ndarray
        Column values.
    reduced_costs : ndarray
        Reduced cost of each column (objective sense of the model).
    objective : float
        Optimal LP objective: a bound on the model's optimum.
    """

    values: np.ndarray
    reduced_costs: np.ndarray
    objective: float


def solve_relaxation(
    model: LinearModel, time_limit: float | None = None
) -> Relaxation | None:
    """Solve the LP relaxation of ``model`` with HiGHS.

    Returns None when HiGHS is not installed or the LP is not solved to
    optimality (time limit, infeasible...): callers then go without it.

    Examples
    --------
    >>> m = LinearModel()
    >>> x = m.add_vars("x", 2, ub=1, cost=[1.0, 3.0], integer=True)
    >>> rows = m.add_rows("r", [0, 0], x, [2.0, 2.0], lo=1.0)
    >>> r = solve_relaxation(m)
    >>> r.objective, r.values.tolist(), r.reduced_costs.tolist()
    (0.5, [0.5, 0.0], [0.0, 2.0])
    """
    try:
        import highspy
    except ImportError:
        return None
    h = load_highs(model, relax=True)
    if time_limit is not None:
        h.setOptionValue("time_limit", float(max(time_limit, 0.01)))
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    sol = h.getSolution()
    values = np.asarray(sol.col_value, dtype=float)
    return Relaxation(
        values=values,
        reduced_costs=np.asarray(sol.col_dual, dtype=float),
        objective=model.objective_value(values),
    )


def fix_by_reduced_cost(
    model: LinearModel,
    relaxation: Relaxation,
    upper: float,
    integral: np.ndarray | None = None,
) -> np.ndarray:
    """Fix the integer columns no solution better than ``upper`` can move.

    Classic reduced-cost fixing: a minimisation LP optimum ``z`` with reduced
    costs ``d`` proves that any solution moving an integer column off the
    bound where the LP leaves it costs at least ``z + |d_j|`` (the move is at
    least 1). Columns with ``|d_j| > upper - z`` are fixed at that bound, so
    every solution better than ``upper`` stays in the model. Exact: the
    model's optimum is kept, or ``upper`` was already optimal.

    ``integral`` (boolean, one per column; default the integer columns) may
    add continuous columns that take 0/1 bound values in some optimal
    completion of every integer solution (e.g. the radius formulation's
    ``z``): the same argument applies to that completion.

    Returns the positions of the fixed columns.

    Examples
    --------
    >>> m = LinearModel()
    >>> x = m.add_vars("x", 2, ub=1, cost=[1.0, 3.0], integer=True)
    >>> rows = m.add_rows("r", [0, 0], x, [1.0, 1.0], lo=1.0)
    >>> fix_by_reduced_cost(m, solve_relaxation(m), upper=1.0).tolist()
    [1]
    """
    if model.maximize:
        raise ValueError("reduced-cost fixing is implemented for minimisation")
    _, lb, ub, integer, *_ = model.arrays()
    if integral is not None:
        integer = integer | integral
    x, d = relaxation.values, relaxation.reduced_costs
    slack = upper - relaxation.objective
    slack += 1e-7 * max(1.0, abs(upper))  # numerical margin: never over-fix
    at_lb = integer & (x <= lb + 1e-9) & (d > slack) & (ub > lb)
    at_ub = integer & (x >= ub - 1e-9) & (-d > slack) & (ub > lb)
    cols = np.flatnonzero(at_lb | at_ub)
    model.fix_columns(cols, np.where(at_lb[cols], lb[cols], ub[cols]))
    return cols


def _solve_highs(
    model: LinearModel,
    time_limit: float | None = None,
    gap_rel: float = DEFAULT_GAP,
    msg: bool = False,
    threads: int | None = None,
    warm_start: np.ndarray | None = None,
    path: str | None = None,
    presolve: bool = True,
    progress: SolveProgress | None = None,
    progress_plans: bool | PlanCheck = False,
    options: dict[str, Any] | None = None,
    work_limit: int | None = None,
) -> tuple[np.ndarray | None, SolveReport]:
    import highspy

    t0 = time.perf_counter()
    integer = model.arrays()[3]
    h = load_highs(model, msg)
    for key, value in (options or {}).items():
        h.setOptionValue(key, value)
    if not presolve:
        h.setOptionValue("presolve", "off")
    h.setOptionValue("mip_rel_gap", float(gap_rel))
    h.setOptionValue("mip_abs_gap", 1e-9)
    if time_limit is not None:
        h.setOptionValue("time_limit", float(max(time_limit, 0.01)))
    if threads is not None:
        h.setOptionValue("threads", int(threads))
    is_mip = bool(integer.any())
    if warm_start is not None and is_mip:
        h.setSolution(
            model.n_cols,
            np.arange(model.n_cols, dtype=np.int32),
            np.asarray(warm_start, np.float64),
        )
    if progress is not None and is_mip:
        _report_progress(h, progress, progress_plans)
    if work_limit is not None and is_mip:
        _limit_work(h, work_limit)
    report = SolveReport(solver="HiGHS", build_seconds=time.perf_counter() - t0)
    t1 = time.perf_counter()
    h.run()
    report.solve_seconds = time.perf_counter() - t1
    ms = h.getModelStatus()
    info = h.getInfo()
    S = highspy.HighsModelStatus
    report.message = h.modelStatusToString(ms)
    if ms == S.kInfeasible:
        report.status = INFEASIBLE
        return None, report
    if ms in (S.kUnbounded, S.kUnboundedOrInfeasible):
        report.status = UNBOUNDED if ms == S.kUnbounded else INFEASIBLE
        return None, report
    if ms in (
        S.kLoadError,
        S.kModelError,
        S.kPresolveError,
        S.kSolveError,
        S.kPostsolveError,
    ):
        raise RuntimeError(report.message)
    has_solution = info.primal_solution_status == 2
    if not has_solution:
        report.status = NO_SOLUTION
        if is_mip and math.isfinite(info.mip_dual_bound):
            report.bound = float(info.mip_dual_bound)
        return None, report
    x = np.asarray(h.getSolution().col_value, dtype=float)
    obj = model.objective_value(x)
    if is_mip:
        bound = float(info.mip_dual_bound)
        if not math.isfinite(bound):
            bound = None
    else:
        bound = obj if ms == S.kOptimal else None
    report.details["nodes"] = int(info.mip_node_count) if is_mip else 0
    return x, _finish(report, obj, bound, model.maximize, gap_rel)


def _report_progress(h: Any, progress: SolveProgress, plans: bool | PlanCheck) -> None:
    """Pass HiGHS's live bound (and improving plans) to ``progress``."""
    last = [0.0]

    def on_interrupt(event: Any) -> None:  # called often: keep it cheap
        now = time.perf_counter()
        if now - last[0] >= 0.25:
            last[0] = now
            progress.prove(float(event.data_out.mip_dual_bound))

    def on_solution(event: Any) -> None:
        objective = float(event.data_out.objective_function_value)
        if callable(plans):
            values = np.asarray(event.data_out.mip_solution, dtype=float)
            objective = plans(values, objective)
        progress.plan(objective)

    h.cbMipInterrupt.subscribe(on_interrupt)
    if plans:
        h.cbMipImprovingSolution.subscribe(on_solution)


def _limit_work(h: Any, checks: int) -> None:
    """Interrupt HiGHS at its ``checks``-th interrupt check."""
    seen = [0]

    def on_interrupt(event: Any) -> None:
        seen[0] += 1
        if seen[0] >= checks:
            event.data_in.user_interrupt = True

    h.cbMipInterrupt.subscribe(on_interrupt)


_CBC_RESULT = re.compile(r"^Result - (.*)$", re.M)
_CBC_OBJ = re.compile(r"^Objective value:\s*(\S+)", re.M)
_CBC_BOUND = re.compile(r"^(?:Lower|Upper) bound:\s*(\S+)", re.M)


def _solve_cbc(
    model: LinearModel,
    time_limit: float | None = None,
    gap_rel: float = DEFAULT_GAP,
    msg: bool = False,
    warm_start: np.ndarray | None = None,
    threads: int | None = None,
    path: str | None = None,
) -> tuple[np.ndarray | None, SolveReport]:
    t0 = time.perf_counter()
    prob, xs = model.to_pulp()
    report = SolveReport(solver="CBC", build_seconds=time.perf_counter() - t0)
    if warm_start is not None:
        for var, val in zip(xs, warm_start, strict=True):
            var.setInitialValue(float(val), check=False)
    fd, log_path = tempfile.mkstemp(suffix=".log")
    os.close(fd)
    try:
        kwargs: dict[str, Any] = {
            "msg": False,
            "timeLimit": time_limit,
            "gapRel": gap_rel,
            "logPath": log_path,
            "warmStart": warm_start is not None,
        }
        cbc = (
            pulp.COIN_CMD(path=path, **kwargs) if path else pulp.PULP_CBC_CMD(**kwargs)
        )
        t1 = time.perf_counter()
        prob.solve(cbc)
        report.solve_seconds = time.perf_counter() - t1
        with open(log_path) as fh:
            log = fh.read()
    finally:
        os.unlink(log_path)
    return _read_pulp_solution(model, prob, xs, report, gap_rel, log)


def _read_pulp_solution(
    model: LinearModel,
    prob: pulp.LpProblem,
    xs: list[pulp.LpVariable],
    report: SolveReport,
    gap_rel: float,
    log: str = "",
) -> tuple[np.ndarray | None, SolveReport]:
    result = _CBC_RESULT.search(log)
    report.message = result.group(1).strip() if result else pulp.LpStatus[prob.status]
    if prob.status == pulp.LpStatusInfeasible:
        report.status = INFEASIBLE
        return None, report
    if prob.status == pulp.LpStatusUnbounded:
        report.status = UNBOUNDED
        return None, report
    if prob.sol_status not in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
        report.status = NO_SOLUTION
        return None, report
    x = np.array([v.varValue if v.varValue is not None else 0.0 for v in xs], float)
    obj = model.objective_value(x)
    bound: float | None = None
    if not model.is_mip and prob.sol_status == pulp.LpSolutionOptimal:
        bound = obj
    elif log:
        m = _CBC_BOUND.search(log)
        if m:
            bound = float(m.group(1))
        elif result and result.group(1).startswith("Optimal"):
            objm = _CBC_OBJ.search(log)
            bound = float(objm.group(1)) if objm else obj
    elif prob.sol_status == pulp.LpSolutionOptimal:
        bound = obj
    return x, _finish(report, obj, bound, model.maximize, gap_rel)


def _solve_pulp_generic(
    model: LinearModel, solver: pulp.LpSolver, gap_rel: float
) -> tuple[np.ndarray | None, SolveReport]:
    t0 = time.perf_counter()
    prob, xs = model.to_pulp()
    report = SolveReport(
        solver=type(solver).__name__, build_seconds=time.perf_counter() - t0
    )
    t1 = time.perf_counter()
    prob.solve(solver)
    report.solve_seconds = time.perf_counter() - t1
    return _read_pulp_solution(model, prob, xs, report, gap_rel)


class ReportedResults:
    """``status``, ``objective``, ``bound`` and ``gap`` read from ``self.report``,
    and the model's complete formulation as ``problem`` (a PuLP problem).

    Shared by every model class: the :class:`SolveReport` of the last solve is the
    one source of these numbers (``None`` before solving).
    """

    report: SolveReport | None = None

    def build_model(self) -> LinearModel:
        """The model's complete formulation as a :class:`LinearModel`."""
        raise NotImplementedError(f"{type(self).__name__} does not export a model")

    def _solve_and_keep(
        self,
        model: LinearModel,
        solver: Any,
        time_limit: float | None,
        gap_rel: float | None,
        msg: bool,
        progress: SolveProgress | None = None,
    ) -> tuple[np.ndarray | None, SolveReport]:
        """Solve ``model`` (default gap if None) and keep its report.

        ``model`` is the whole problem, so its live solutions and bound go to
        ``progress`` as they come.
        """
        gap = DEFAULT_GAP if gap_rel is None else gap_rel
        values, self.report = solve_model(
            model,
            solver,
            time_limit,
            gap,
            None,
            msg,
            progress=progress,
            progress_plans=True,
        )
        if progress is not None:
            progress.plan(self.report.objective)
            progress.prove(self.report.bound)
        return values, self.report

    @property
    def problem(self) -> pulp.LpProblem:
        """The complete formulation as a :class:`pulp.LpProblem`, as in spopt.

        Built on demand from :meth:`build_model`: the whole model, without the
        truncations and reductions :meth:`solve` applies on the way to the
        same optimum. Use it to inspect the model, write it with
        ``.writeLP(path)``/``.writeMPS(path)``, or solve it with any PuLP
        solver.
        """
        return self.build_model().to_pulp()[0]

    @property
    def status(self) -> str | None:
        """``optimal``, ``feasible``, ``infeasible`` or ``no_solution``."""
        return None if self.report is None else self.report.status

    @property
    def objective(self) -> float | None:
        """Objective of the solution found."""
        return None if self.report is None else self.report.objective

    @property
    def bound(self) -> float | None:
        """Best proven bound on the optimal objective."""
        return None if self.report is None else self.report.bound

    @property
    def gap(self) -> float | None:
        """Relative gap between ``objective`` and ``bound``."""
        return None if self.report is None else self.report.gap


#: Share of a time limit a truncated model's LP relaxation may take.
LP_SHARE = 0.3


@dataclass
class SolveOptions:
    """How an algorithm of several solves is to run (one object, passed along).

    ``progress`` always exists (a private one when nobody follows the solve);
    ``live`` is the caller's, or None: HiGHS callbacks only when someone follows.
    """

    solver: Any = None
    time_limit: float | None = None
    gap_rel: float = DEFAULT_GAP
    msg: bool = False
    progress: SolveProgress = field(default_factory=lambda: SolveProgress())
    live: SolveProgress | None = None


def out_of_time(left: float | None) -> bool:
    """True when a time left (None: no limit) has run out."""
    return left is not None and left <= 0


def solve_fixed(
    model: LinearModel,
    solver: Any,
    time_limit: float | None,
    gap_rel: float,
    warm: np.ndarray | None,
    msg: bool,
    fixed: int,
    progress: SolveProgress | None = None,
    plans: PlanCheck | bool = False,
    highs_options: dict[str, Any] | None = None,
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
            highs_options=highs_options,
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
