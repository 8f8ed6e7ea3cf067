"""Properties of the p-median and honesty of the reported gap."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimization import PMedian, SiteRules
from optimization.solver import LinearModel, solve_model
from tests.unit.optimization import bruteforce as bf

FAST = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@st.composite
def instances(draw):
    n = draw(st.integers(2, 7))
    m = draw(st.integers(2, 6))
    seed = draw(st.integers(0, 10_000))
    rng = np.random.default_rng(seed)
    D = rng.integers(0, 50, (n, m)).astype(float)
    w = rng.integers(0, 20, n).astype(float)
    return D, w


@FAST
@given(instances(), st.data())
def test_more_centers_never_worsen(inst, data):
    D, w = inst
    m = D.shape[1]
    p = data.draw(st.integers(1, m - 1))
    a = PMedian.from_cost_matrix(D, w, p).solve().objective
    b = PMedian.from_cost_matrix(D, w, p + 1).solve().objective
    assert b <= a + 1e-9


@FAST
@given(instances(), st.data())
def test_locking_a_site_never_improves(inst, data):
    D, w = inst
    m = D.shape[1]
    p = data.draw(st.integers(1, m))
    j = data.draw(st.integers(0, m - 1))
    free = PMedian.from_cost_matrix(D, w, p).solve().objective
    locked = PMedian.from_cost_matrix(
        D, w, p, SiteRules.build(D.shape[1], locked=[j])
    ).solve()
    assert locked.objective >= free - 1e-9
    assert j in locked.open_sites


def _hard_capacitated(seed=0, n=60, m=30, share=7):
    rng = np.random.default_rng(seed)
    xy, sxy = rng.random((n, 2)), rng.random((m, 2))
    D = (
        np.hypot(xy[:, None, 0] - sxy[None, :, 0], xy[:, None, 1] - sxy[None, :, 1])
        * 100
    )
    w = rng.integers(1, 30, n).astype(float)
    caps = np.full(m, w.sum() / share)
    return D, w, caps


def test_time_limited_solve_is_never_called_optimal():
    D, w, caps = _hard_capacitated()
    model = PMedian.from_cost_matrix(
        D, w, 8, SiteRules.build(caps.size, capacities=caps)
    ).solve(time_limit=0.05)
    assert model.status in {"feasible", "no_solution", "optimal"}
    if model.status == "feasible":
        assert model.gap > 1e-6
        assert model.bound <= model.objective
    exact = PMedian.from_cost_matrix(
        D, w, 8, SiteRules.build(caps.size, capacities=caps)
    ).solve()
    if model.status == "feasible":
        # the reported gap bounds the true distance to the optimum
        assert model.objective - exact.objective <= model.gap * model.objective + 1e-6
        assert model.bound <= exact.objective + 1e-6


@pytest.mark.parametrize("gap", [0.05, 0.2])
def test_reported_gap_bounds_distance_to_optimum(gap):
    D, w, caps = _hard_capacitated(seed=4, n=40, m=20, share=5)
    loose = PMedian.from_cost_matrix(
        D, w, 6, SiteRules.build(caps.size, capacities=caps)
    ).solve(gap_rel=gap)
    exact = PMedian.from_cost_matrix(
        D, w, 6, SiteRules.build(caps.size, capacities=caps)
    ).solve()
    assert exact.status == "optimal"
    assert loose.bound <= exact.objective + 1e-6 <= loose.objective + 2e-6
    assert (loose.objective - exact.objective) / loose.objective <= loose.gap + 1e-9


def test_cbc_fallback_matches_highs():
    rng = np.random.default_rng(7)
    D = rng.integers(0, 40, (8, 5)).astype(float)
    w = rng.integers(1, 10, 8).astype(float)
    caps = np.full(5, w.sum() / 2)
    highs = PMedian.from_cost_matrix(
        D, w, 3, SiteRules.build(caps.size, capacities=caps)
    ).solve()
    cbc = PMedian.from_cost_matrix(
        D, w, 3, SiteRules.build(caps.size, capacities=caps)
    ).solve(solver="cbc")
    assert cbc.report.solver == "CBC"
    assert cbc.status == "optimal"
    assert cbc.objective == pytest.approx(highs.objective)
    assert cbc.objective == pytest.approx(bf.pmedian(D, w, 3, capacities=caps))


def test_pulp_solver_instances_are_accepted():
    import pulp

    D = np.array([[1.0, 5.0], [5.0, 1.0], [2.0, 2.0]])
    model = PMedian.from_cost_matrix(D, [1, 1, 1], 1, SiteRules.build(2, capacities=10))
    model.solve(solver=pulp.HiGHS(msg=False, timeLimit=10))
    assert model.status == "optimal" and model.objective == 8.0


def test_linear_model_to_pulp_roundtrip():
    m = LinearModel("t", maximize=True)
    x = m.add_vars("x", 3, ub=1, cost=[5, 4, 3], integer=True)
    m.add_rows("c", [0, 0, 0], x, [2, 3, 1], hi=5)
    prob, xs = m.to_pulp()
    assert len(xs) == 3 and len(prob.variables()) == 3
    _, rep = solve_model(m, solver="cbc")
    _, rep2 = solve_model(m)
    assert rep.objective == rep2.objective == 9.0


def test_infeasible_model_reports_infeasible():
    m = LinearModel("t")
    x = m.add_vars("x", 1, ub=1, integer=True)
    m.add_rows("c", [0], x, [1.0], lo=2)
    values, rep = solve_model(m)
    assert values is None and rep.status == "infeasible"
