"""Covering models: maximal covering (MCLP) and location set covering (LSCP)."""

from __future__ import annotations

import math
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

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
    SolveReport,
    solve_model,
    solve_relaxation,
)

__all__ = [
    "LSCP",
    "MCLP",
    "CoverReduction",
    "cover_greedy",
    "cover_search",
    "reduce_cover",
]


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
        moves: int = 20_000,
    ) -> LSCP:
        """Solve; ``objective`` is the number of open centers.

        Exact in three steps, each stopping as soon as the count is proven:
        reductions that keep every optimum (:func:`reduce_cover`), then the
        LP bound of what is left with a seeded local search for a cover
        (at most ``moves`` moves, so the same input gives the same plan);
        each time the search stalls (a tenth of ``moves`` without a smaller
        cover) with the LP bound within half a center of the next smaller
        count, HiGHS gets a few cut rounds (a work limit, not a time limit)
        to prove the cover optimal; last, HiGHS on the reduced model only,
        started from that cover, when the bound has still not met it. The
        formulation :meth:`build_model` gives has the same optimum.
        ``progress`` receives the count and its bound.
        """
        reasons = self.diagnose()
        if reasons:
            raise InfeasibleError(reasons)
        t0 = time.perf_counter()
        pos = np.flatnonzero(self.weights > 0)
        near = (self.allowed_pairs() & (self.cost_matrix <= self.service_radius))[pos]
        cost = self._column_costs()
        # every plan's objective is a multiple of this step
        step = self._tie() if self.rules.existing.any() else 1.0
        red = reduce_cover(near, cost, locked=self.rules.locked)
        open_mask = np.zeros(self.m, bool)
        open_mask[red.forced] = True
        A, sub_cost = red.matrix, cost[red.cols]
        report = SolveReport(solver="reductions")
        report.details.update(
            formulation="reduced set covering",
            rows=int(pos.size),
            rows_left=int(A.shape[0]),
            sites_left=int(A.shape[1]),
            sites_forced=int(red.forced.size),
        )
        lower = 0.0
        if A.shape[0]:
            sub = LinearModel(self.name)
            y = sub.add_vars("y", A.shape[1], ub=1.0, cost=sub_cost, integer=True)
            ii, jj = A.nonzero()
            sub.add_rows("cover", ii, y[jj], 1.0, lo=1.0, n=A.shape[0])
            relaxed = solve_relaxation(sub, time_limit)
            lower = relaxed.objective if relaxed is not None else 0.0
            if progress is not None:
                progress.prove(math.ceil(float(cost[red.forced].sum()) + lower - 1e-6))
            target = math.ceil(lower - 1e-6)
            report.solver = "reductions + local search"

            def time_left() -> float | None:
                if time_limit is None:
                    return None
                return max(time_limit - (time.perf_counter() - t0), 0.01)

            def highs_gap(upper: float) -> float:
                # HiGHS stops at this relative gap only once it is below one step
                return max(gap_rel or DEFAULT_GAP, 0.999 * step / max(upper, 1.0))

            search = cover_search(
                A, cover_greedy(A), target, moves, stall=max(moves // 10, 1)
            )
            attempts, tried = 0, math.inf
            for chosen, finished in search:
                upper = float(sub_cost[chosen].sum())
                if progress is not None:
                    progress.plan(float(open_mask.sum() + chosen.sum()))
                tol = 1e-7 * max(1.0, upper)
                if finished or upper - lower < step - tol:
                    break
                hopeful = upper - step - lower < _PROOF_MARGIN and upper < tried
                if not hopeful or solver not in (None, "highs"):
                    continue
                # The search stalls near the bound: HiGHS's first cut rounds
                # often prove the cover optimal, cheaper than searching on.
                # Its solutions are ignored so the plan stays the search's.
                attempts, tried = attempts + 1, upper
                _, attempt = solve_model(
                    sub,
                    solver,
                    time_left(),
                    highs_gap(upper),
                    chosen.astype(float),
                    msg,
                    highs_options={"mip_heuristic_effort": 0.0},
                    work_limit=_PROOF_CHECKS,
                )
                if attempt.bound is not None:
                    lower = max(lower, float(attempt.bound))
                if progress is not None:
                    progress.prove(
                        math.ceil(float(cost[red.forced].sum()) + lower - 1e-6)
                    )
                if upper - lower < step - tol:
                    report.solver = "reductions + local search + HiGHS proof"
                    lower = upper
                    break
            search.close()
            report.details["proof_attempts"] = attempts
            if upper - lower >= step - tol:
                values, mip = solve_model(
                    sub,
                    solver,
                    time_left(),
                    highs_gap(upper),
                    chosen.astype(float),
                    msg,
                )
                better = mip.objective is not None and mip.objective < upper - tol
                if values is not None and better:
                    chosen, upper = values > 0.5, float(mip.objective)
                if mip.bound is not None:
                    lower = max(lower, float(mip.bound))
                report.solver = f"reductions + local search + {mip.solver}"
                report.details["nodes"] = mip.details.get("nodes", 0)
                if upper - lower < step - tol:
                    lower = upper
            else:
                lower = upper
            open_mask[red.cols[chosen]] = True
        self.open_sites = np.flatnonzero(open_mask)
        count = float(open_mask.sum())
        # costs are 1 less a tie-break below 0.5 in total: a bound on the
        # objective rounds up to a bound on the count
        bound = min(count, math.ceil(float(cost[red.forced].sum()) + lower - 1e-6))
        report.objective = count
        report.bound = bound
        report.gap = (count - bound) / max(count, 1.0)
        report.status = OPTIMAL if report.gap <= 1e-9 else FEASIBLE
        report.solve_seconds = time.perf_counter() - t0
        self.report = report
        self.assignment = self.nearest_open(open_mask)
        if progress is not None:
            progress.plan(report.objective)
            progress.prove(report.bound)
        return self

    def _tie(self) -> float:
        """The tie-break per existing center closed: all of them sum below 0.5."""
        return 0.5 / (self.rules.existing.sum() + 1.0)

    def _column_costs(self) -> np.ndarray:
        """Cost of opening each site: 1, less the tie-break for existing ones."""
        return np.ones(self.m) - self._tie() * self.rules.existing.astype(float)

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
        model._cost[0] = self._column_costs()
        ii, jj = np.nonzero(near)
        model.add_rows("cover", ii, y[jj], 1.0, lo=1.0, n=pos.size)
        return model


# -- set covering: exact reductions, Lagrangian bound and heuristic ---------------

#: A stalled local search's cover is handed to HiGHS for a proof only when the
#: LP bound is within this fraction of a center of the next smaller count: its
#: first cut rounds lift the bound by less than that.
_PROOF_MARGIN = 0.5

#: HiGHS's interrupt checks a proof attempt may take (a work limit, not a time
#: limit, so the same cover is proven or not whatever the machine's load); a
#: proof, when it comes, comes within the first three or four.
_PROOF_CHECKS = 6

#: Above this many pair products, a domination test would cost more than it saves.
_DOMINATION_LIMIT = 20_000_000


@dataclass
class CoverReduction:
    """A set covering instance after exact reductions.

    Attributes
    ----------
    matrix : scipy.sparse.csr_matrix
        Rows still to cover (``rows``) by columns still free (``cols``), 0/1.
    rows, cols : ndarray
        Positions, in the original instance, of the remaining rows and columns.
    forced : ndarray
        Original columns every optimal cover contains (locked ones, and the
        only coverer of some row).
    """

    matrix: sp.csr_matrix
    rows: np.ndarray
    cols: np.ndarray
    forced: np.ndarray


def _dominated(M: sp.csr_matrix, cost: np.ndarray | None) -> np.ndarray:
    """Rows of ``M`` whose set contains another row's set (that other row kept).

    With ``cost`` the rows are columns of the covering problem: row ``a`` is
    dropped when another row ``b`` contains it and costs no more; equal sets
    of equal cost keep the first. Without ``cost`` (rows to cover): row ``k``
    is dropped when another row's set is inside it (covering that one covers
    ``k``); equal sets keep the first.
    """
    deg = np.diff(M.indptr)
    if (
        int((np.bincount(M.indices, minlength=M.shape[1]) ** 2).sum())
        > _DOMINATION_LIMIT
    ):
        return np.zeros(M.shape[0], bool)
    P = (M @ M.T).tocoo()
    a, b, shared = P.row, P.col, P.data
    off = a != b
    if cost is None:
        # a inside b: drop b
        inside = off & (shared == deg[a]) & ((deg[a] < deg[b]) | (a < b))
        return np.isin(np.arange(M.shape[0]), b[inside])
    # a inside b (a's rows all covered by b) and b no dearer: drop a
    inside = (
        off
        & (shared == deg[a])
        & ((cost[b] < cost[a]) | ((cost[b] == cost[a]) & ((deg[a] < deg[b]) | (b < a))))
    )
    return np.isin(np.arange(M.shape[0]), a[inside])


def reduce_cover(
    A: Any, cost: np.ndarray, locked: np.ndarray | None = None
) -> CoverReduction:
    """Exact reductions of ``min cost·y, A y >= 1, y binary`` (costs > 0).

    Repeated until nothing changes: locked columns and columns that are the
    only coverer of a row are forced (their rows leave); a row whose set of
    coverers contains another row's leaves (covering the other covers it);
    a column whose rows are inside a no-dearer column's leaves (swapping it
    for that one never costs more); columns covering nothing leave. Every
    optimal cover of the reduced instance plus ``forced`` is an optimal
    cover of the original one, of the same cost.

    Examples
    --------
    >>> A = np.array([[1, 1, 0], [0, 1, 1], [0, 0, 1]])
    >>> red = reduce_cover(A, np.ones(3))
    >>> red.forced.tolist(), red.matrix.shape
    ([0, 2], (0, 0))
    """
    A = sp.csr_matrix(A, dtype=np.int32)
    A.data[:] = 1
    A.eliminate_zeros()
    rows = np.arange(A.shape[0])
    cols = np.arange(A.shape[1])
    cost = np.asarray(cost, float)
    forced: list[np.ndarray] = []
    lock = np.zeros(A.shape[1], bool) if locked is None else np.asarray(locked, bool)
    while True:
        shape = A.shape
        deg = np.diff(A.indptr)
        if (deg == 0).any():
            raise ValueError("a row has no column that covers it")
        single = A[deg == 1].indices
        take = np.zeros(A.shape[1], bool)
        take[single] = True
        take |= lock
        if take.any():
            forced.append(cols[take])
            done = np.asarray(A[:, take].sum(axis=1)).ravel() > 0
            A, rows = A[~done], rows[~done]
            A, cols, lock = A[:, ~take], cols[~take], lock[~take]
        if A.shape[0]:
            drop = _dominated(A, None)
            A, rows = A[~drop], rows[~drop]
        At = A.T.tocsr()
        useless = (np.diff(At.indptr) == 0) | _dominated(At, cost[cols])
        A, cols, lock = A[:, ~useless].tocsr(), cols[~useless], lock[~useless]
        if A.shape == shape:
            break
    forced_all = np.sort(np.concatenate(forced)) if forced else np.zeros(0, int)
    return CoverReduction(A.tocsr(), rows, cols, forced_all)


def cover_greedy(A: sp.csr_matrix) -> np.ndarray:
    """A cover by the greedy rule: the column covering most uncovered rows."""
    r, c = A.shape
    At = A.T.tocsr()
    uncovered = np.ones(r)
    chosen = np.zeros(c, bool)
    while uncovered.any():
        gain = At @ uncovered
        j = int(np.argmax(gain))
        chosen[j] = True
        uncovered[At.indices[At.indptr[j] : At.indptr[j + 1]]] = 0.0
    return chosen


def _cover_local_search(
    A: sp.csr_matrix,
    start: np.ndarray,
    target: int,
    moves: int,
    seed: int = 0,
) -> np.ndarray:
    """Fewest columns covering every row, by row-weighting local search.

    Gao, Weise and Li's RWLS for unicost set covering: from a cover, drop a
    column whenever every row stays covered; otherwise swap the column whose
    removal uncovers the least row weight for one covering a random
    uncovered row, and make the rows still uncovered weigh more. Seeded and
    bounded by ``moves`` (not by the clock), so the same input gives the same
    cover; stops at ``target`` columns (a proven bound).
    """
    *_, (best, _) = cover_search(A, start, target, moves, seed)
    return best


def cover_search(
    A: sp.csr_matrix,
    start: np.ndarray,
    target: int,
    moves: int,
    seed: int = 0,
    stall: int | None = None,
) -> Iterator[tuple[np.ndarray, bool]]:
    """:func:`_cover_local_search`, pausing to hand out its best cover.

    Yields ``(best cover so far, finished)``: each time ``stall`` moves go by
    without a smaller cover (so a caller can try to prove it optimal and stop
    there), and once finished. Pausing does not change the search.
    """
    r, c = A.shape
    At = A.T.tocsr()
    rows_of = [At.indices[At.indptr[j] : At.indptr[j + 1]].tolist() for j in range(c)]
    cols_of = [A.indices[A.indptr[i] : A.indptr[i + 1]].tolist() for i in range(r)]
    near = [sorted({k for i in rows_of[j] for k in cols_of[i]} - {j}) for j in range(c)]
    rng = random.Random(seed)
    in_s = [False] * c
    cnt = [0] * r
    w = [1] * r
    score = [0] * c
    stamp = [0] * c
    can_add = [True] * c
    uncovered: set[int] = set(range(r))
    chosen: set[int] = set()

    def add(j: int) -> None:
        in_s[j] = True
        chosen.add(j)
        score[j] = -score[j]
        for i in rows_of[j]:
            cnt[i] += 1
            if cnt[i] == 1:
                uncovered.discard(i)
                for k in cols_of[i]:
                    if k != j:
                        score[k] -= w[i]
            elif cnt[i] == 2:
                for k in cols_of[i]:
                    if k != j and in_s[k]:
                        score[k] += w[i]
                        break
        for k in near[j]:
            can_add[k] = True

    def remove(j: int) -> None:
        in_s[j] = False
        chosen.discard(j)
        score[j] = -score[j]
        for i in rows_of[j]:
            cnt[i] -= 1
            if cnt[i] == 0:
                uncovered.add(i)
                for k in cols_of[i]:
                    if k != j:
                        score[k] += w[i]
            elif cnt[i] == 1:
                for k in cols_of[i]:
                    if in_s[k]:
                        score[k] -= w[i]
                        break
        can_add[j] = False
        for k in near[j]:
            can_add[k] = True

    for j in range(c):  # score = weight of the uncovered rows a column covers
        score[j] = len(rows_of[j])
    for j in np.flatnonzero(start).tolist():
        add(j)
    best = set(chosen)
    tabu = -1
    paused = 0  # the move at which the best cover last improved or was handed out
    for step in range(moves):
        while not uncovered:
            if len(chosen) < len(best):
                best = set(chosen)
                paused = step
            if len(best) <= target or not chosen:
                yield _as_mask(best, c), True
                return
            j = max(chosen, key=lambda k: (score[k], -stamp[k]))
            remove(j)
            stamp[j] = step
        j = max(
            (k for k in chosen if k != tabu),
            key=lambda k: (score[k], -stamp[k]),
            default=None,
        )
        if j is not None:
            remove(j)
            stamp[j] = step
        i = (
            rng.choice(sorted(uncovered))
            if len(uncovered) > 1
            else next(iter(uncovered))
        )
        pool = [k for k in cols_of[i] if can_add[k]] or cols_of[i]
        k = max(pool, key=lambda q: (score[q], -stamp[q]))
        add(k)
        stamp[k] = step
        tabu = k
        for i in uncovered:
            w[i] += 1
            for q in cols_of[i]:
                score[q] += 1
        if stall is not None and step + 1 - paused >= stall:
            paused = step + 1
            yield _as_mask(best, c), False
    if not uncovered and len(chosen) < len(best):
        best = set(chosen)
    yield _as_mask(best, c), True


def _as_mask(cols: set[int], size: int) -> np.ndarray:
    mask = np.zeros(size, bool)
    mask[list(cols)] = True
    return mask
