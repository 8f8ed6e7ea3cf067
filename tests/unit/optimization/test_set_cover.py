"""Set covering: the reductions keep the optimum, the fast path proves what the MIP does."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from optimization import LSCP, SiteRules
from optimization.coverage import (
    _cover_local_search,
    cover_greedy,
    cover_search,
    reduce_cover,
)
from optimization.solver import LinearModel, solve_model


def best_cover(A, cost):
    """Cheapest set of columns covering every row, by enumeration."""
    A = np.asarray(A, bool)
    best, best_set = np.inf, None
    for k in range(A.shape[1] + 1):
        for S in itertools.combinations(range(A.shape[1]), k):
            if A[:, list(S)].any(axis=1).all():
                c = float(cost[list(S)].sum())
                if c < best - 1e-12:
                    best, best_set = c, S
    return best, best_set


def random_cover(seed, n=9, m=7, density=0.35):
    rng = np.random.default_rng(seed)
    A = rng.random((n, m)) < density
    A[np.arange(n), rng.integers(0, m, n)] = True  # every row coverable
    cost = rng.choice([1.0, 1.0 - 0.5 / (m + 1)], m)
    locked = rng.random(m) < 0.15
    return A, cost, locked


@pytest.mark.parametrize("seed", range(40))
def test_reductions_keep_the_optimum(seed):
    A, cost, locked = random_cover(seed)
    lock_cost = float(cost[locked].sum())
    keep = ~A[:, locked].any(axis=1)
    expected, _ = best_cover(A[keep][:, ~locked], cost[~locked])
    expected += lock_cost
    red = reduce_cover(A, cost, locked=locked)
    assert set(np.flatnonzero(locked)) <= set(red.forced.tolist())
    rest, rest_set = best_cover(red.matrix.toarray(), cost[red.cols])
    assert float(cost[red.forced].sum()) + rest == pytest.approx(expected)
    # the reduced optimum with the forced columns covers the original rows
    chosen = np.concatenate([red.forced, red.cols[list(rest_set)]]).astype(int)
    assert A[:, chosen].any(axis=1).all()
    # rows and columns left are original positions, in order
    assert (np.diff(red.rows) > 0).all() and (np.diff(red.cols) > 0).all()
    assert (red.matrix.toarray() == A[np.ix_(red.rows, red.cols)]).all()


def test_reductions_drop_duplicate_rows_and_dominated_columns():
    A = np.array(
        [
            [1, 1, 0, 0],
            [1, 1, 0, 0],  # duplicate of row 0
            [0, 1, 1, 0],
            [0, 0, 1, 1],
            [1, 1, 1, 1],  # contains every other row's set
        ]
    )
    red = reduce_cover(A, np.ones(4))
    assert 1 not in red.rows.tolist() and 4 not in red.rows.tolist()
    # column 0 covers rows {0, 1, 4}, inside column 1's {0, 1, 2, 4}: it goes
    assert 0 not in red.cols.tolist() and 0 not in red.forced.tolist()


def test_a_cheaper_column_is_not_dropped_for_a_larger_dearer_one():
    A = np.array([[1, 1], [0, 1]])
    red = reduce_cover(A, np.array([0.5, 1.0]))
    # column 1 is forced by row 1 and covers row 0 as well
    assert red.forced.tolist() == [1] and red.matrix.shape[0] == 0
    A = np.array([[1, 1, 0], [0, 1, 1], [1, 0, 1]])
    red = reduce_cover(A, np.array([0.5, 1.0, 1.0]))
    assert 0 in red.cols.tolist() or 0 in red.forced.tolist()


def test_reduction_refuses_an_uncoverable_row():
    with pytest.raises(ValueError, match="no column"):
        reduce_cover(np.array([[1, 0], [0, 0]]), np.ones(2))


def geometric(seed, n, m, radius):
    rng = np.random.default_rng(seed)
    a, b = rng.random((n, 2)) * 100, rng.random((m, 2)) * 100
    D = np.hypot(a[:, None, 0] - b[None, :, 0], a[:, None, 1] - b[None, :, 1])
    return D, radius


@pytest.mark.parametrize("seed", range(4))
def test_lscp_proves_the_same_count_as_the_whole_mip(seed):
    D, radius = geometric(seed, 300, 90, 18.0)
    ours = LSCP.from_cost_matrix(D, radius).solve()
    full = LSCP.from_cost_matrix(D, radius)
    values, report = solve_model(full.build_model())
    assert ours.status == "optimal" and ours.gap == 0
    assert ours.objective == round(values[: D.shape[1]].sum())
    covered = (D[:, ours.open_sites] <= radius).any(axis=1)
    assert covered.all()


def test_lscp_without_local_search_falls_back_on_highs_and_stays_exact():
    D, radius = geometric(0, 300, 90, 18.0)
    quick = LSCP.from_cost_matrix(D, radius).solve()
    greedy_only = LSCP.from_cost_matrix(D, radius).solve(moves=0)
    assert greedy_only.status == "optimal"
    assert greedy_only.objective == quick.objective
    assert "HiGHS" in greedy_only.report.solver


def test_lscp_is_deterministic_and_reports_its_reductions():
    D, radius = geometric(2, 400, 120, 18.0)
    a = LSCP.from_cost_matrix(D, radius).solve()
    b = LSCP.from_cost_matrix(D, radius).solve()
    assert a.open_sites.tolist() == b.open_sites.tolist()
    d = a.report.details
    assert d["rows"] == 400 and d["rows_left"] < 400 and d["sites_left"] <= 120


@pytest.mark.parametrize("seed", range(6))
def test_lscp_tie_break_keeps_the_most_existing_centers(seed):
    rng = np.random.default_rng(seed + 70)
    D = rng.integers(0, 30, (8, 6)).astype(float)
    radius = 12.0
    existing = [j for j in range(6) if rng.random() < 0.5]
    near = radius >= D
    if not near.any(axis=1).all():
        return
    cost = np.ones(6) - 0.5 / (len(existing) + 1) * np.isin(np.arange(6), existing)
    best, _ = best_cover(near, cost)
    model = LSCP.from_cost_matrix(
        D, radius, None, SiteRules.build(6, existing=existing)
    ).solve()
    assert model.status == "optimal"
    assert model.objective == np.ceil(best - 1e-9)
    kept = len(set(existing) & set(model.open_sites.tolist()))
    assert float(cost[model.open_sites].sum()) == pytest.approx(best)
    assert kept == round((model.objective - best) * (len(existing) + 1) / 0.5)


def test_local_search_reaches_its_target_from_a_redundant_cover():
    A = np.eye(4, dtype=int)
    A = np.hstack([A, np.array([[1], [1], [0], [0]]), np.array([[0], [0], [1], [1]])])
    import scipy.sparse as sp

    chosen = _cover_local_search(sp.csr_matrix(A), np.ones(6, bool), 2, 200)
    assert chosen.sum() == 2 and (A[:, chosen].sum(axis=1) >= 1).all()


def reduced_instance(seed, n, m, radius):
    D, radius = geometric(seed, n, m, radius)
    return reduce_cover(radius >= D, np.ones(m)).matrix


def test_pausing_the_search_hands_out_its_best_cover_and_does_not_change_it():
    A = reduced_instance(11, 400, 120, 18.0)
    start = cover_greedy(A)
    plain = _cover_local_search(A, start, 0, 3000)
    paused = list(cover_search(A, start, 0, 3000, stall=100))
    assert len(paused) > 2
    assert [done for _, done in paused] == [False] * (len(paused) - 1) + [True]
    sizes = [int(cover.sum()) for cover, _ in paused]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] <= start.sum()
    assert paused[-1][0].tolist() == plain.tolist()
    for cover, _ in paused:
        assert (A[:, np.flatnonzero(cover)].sum(axis=1) >= 1).all()


def test_work_limit_stops_highs_at_the_same_point_with_a_valid_bound():
    A = reduced_instance(11, 400, 120, 18.0)
    model = LinearModel("cover")
    y = model.add_vars("y", A.shape[1], ub=1.0, cost=1.0, integer=True)
    ii, jj = A.nonzero()
    model.add_rows("cover", ii, y[jj], 1.0, lo=1.0, n=A.shape[0])
    start = cover_greedy(A).astype(float)
    runs = [solve_model(model, warm_start=start, work_limit=4)[1] for _ in range(3)]
    _, full = solve_model(model)
    assert full.status == "optimal" and full.objective < start.sum()
    for run in runs:
        assert run.status == "feasible" and run.gap > 0
        assert (run.objective, run.bound) == (runs[0].objective, runs[0].bound)
        assert run.bound <= full.objective + 1e-9


@pytest.mark.parametrize(
    "case", [(1, 400, 120, 18.0), (4, 300, 90, 18.0), (2, 400, 150, 15.0)]
)
def test_a_stalled_search_near_the_bound_is_proven_by_highs_cut_rounds(case):
    D, radius = geometric(*case)
    ours = LSCP.from_cost_matrix(D, radius).solve()
    assert ours.report.solver == "reductions + local search + HiGHS proof"
    assert ours.report.details["proof_attempts"] == 1
    values, _ = solve_model(LSCP.from_cost_matrix(D, radius).build_model())
    assert ours.status == "optimal" and ours.gap == 0 and ours.bound == ours.objective
    assert ours.objective == round(values[: D.shape[1]].sum())
    assert (D[:, ours.open_sites] <= radius).any(axis=1).all()
    # CBC gets no work-limited attempt: the same plan, proven by the full solve
    cbc = LSCP.from_cost_matrix(D, radius).solve(solver="cbc")
    assert cbc.report.details["proof_attempts"] == 0
    assert cbc.open_sites.tolist() == ours.open_sites.tolist()
