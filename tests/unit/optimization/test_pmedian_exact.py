"""The uncapacitated p-median's exact engine: Lagrangian bound, radius cuts, determinism.

Random instances small enough to enumerate every plan: the Lagrangian bound
never exceeds the optimum, the distance caps it gives hold for every plan
costing no more than the incumbent, the solve through the cut radius model
reaches the enumerated optimum, and two solves of one input give one plan.
"""

from __future__ import annotations

import time
from itertools import combinations

import numpy as np
import pytest

from optimization import PMedian, SiteRules
from optimization.heuristics import (
    distance_caps,
    greedy_interchange,
    lagrangian_bound,
    perturbed_interchange,
    pmedian_cost,
    round_bound,
)
from optimization.radius import _finish, _radius_loop, plan_cost_step
from optimization.solver import SolveOptions, SolveReport

SEEDS = range(20)


def clustered(seed: int, n: int = 14, m: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Integer distances between points in a few clusters (ties, as in OR-Library)."""
    rng = np.random.default_rng(seed)
    centers = rng.random((3, 2)) * 60
    pts = centers[rng.integers(0, 3, n)] + rng.random((n, 2)) * 25
    sites = pts[rng.choice(n, m, replace=False)] + rng.random((m, 2)) * 3
    D = np.rint(np.hypot(*(pts[:, None, :] - sites[None, :, :]).transpose(2, 0, 1)))
    w = rng.integers(1, 6, n).astype(float)
    return D, w


def every_plan(D: np.ndarray, w: np.ndarray, p: int) -> list[tuple[float, tuple]]:
    m = D.shape[1]
    plans = []
    for S in combinations(range(m), p):
        mask = np.zeros(m, bool)
        mask[list(S)] = True
        plans.append((pmedian_cost(D, w, mask), S))
    return sorted(plans)


@pytest.mark.parametrize("seed", SEEDS)
def test_lagrangian_bound_and_caps_hold_for_every_plan_within_the_incumbent(seed):
    D, w = clustered(seed)
    p = 2 + seed % 3
    plans = every_plan(D, w, p)
    optimum = plans[0][0]
    start = greedy_interchange(D, w, p, max_swaps=0)
    upper = pmedian_cost(D, w, start)
    lag = lagrangian_bound(D, w, p, upper, start, max_iter=200)
    assert lag["bound"] <= optimum + 1e-9
    upper = min(upper, lag["upper"])
    caps = distance_caps(w, lag, upper)
    for cost, S in plans:
        if cost > upper:
            break
        nearest = D[:, list(S)].min(axis=1)
        assert np.all(nearest <= caps + 1e-9), (cost, S)
        # Sites fixed closed are in no such plan, sites fixed open in each.
        assert not lag["fix_closed"][list(S)].any() or cost >= upper - 1e-9
        if cost < upper - 1e-9:
            assert set(np.flatnonzero(lag["fix_open"])) <= set(S)


@pytest.mark.parametrize("seed", SEEDS)
def test_exact_solve_matches_enumeration_with_bound_below(seed):
    D, w = clustered(seed, n=16, m=11)
    p = 2 + seed % 4
    optimum = every_plan(D, w, p)[0][0]
    model = PMedian.from_cost_matrix(D, w, p).solve()
    assert model.status == "optimal"
    assert model.objective == pytest.approx(optimum, abs=1e-9)
    assert model.bound <= optimum + 1e-6
    lag_bound = model.report.details.get("lagrangian_bound")
    if lag_bound is not None:
        assert lag_bound <= optimum + 1e-6


@pytest.mark.parametrize("seed", SEEDS)
def test_radius_model_cut_at_the_lagrangian_radii_is_exact(seed):
    """A poor start and a weak bound: the cut model alone must find the optimum."""
    D, w = clustered(seed, n=18, m=12)
    p = 2 + seed % 3
    optimum = every_plan(D, w, p)[0][0]
    rng = np.random.default_rng(seed)
    start = np.zeros(12, bool)
    start[rng.choice(12, p, replace=False)] = True
    upper = pmedian_cost(D, w, start)
    lag = lagrangian_bound(D, w, p, upper, start, max_iter=15)
    caps = distance_caps(w, lag, min(upper, lag["upper"]))
    if lag["upper"] < upper:
        start = lag["best_open"]
    model = PMedian.from_cost_matrix(D, w, p)
    result = _radius_loop(model, start, SolveOptions(), time.perf_counter(), caps)
    assert "Lagrangian radii" in result.report.details["formulation"]
    assert result.report.status == "optimal"
    assert result.objective == pytest.approx(optimum, abs=1e-9)
    assert result.report.bound <= optimum + 1e-6
    # the cut model has no level beyond the caps, so one round suffices
    assert len(result.iterations) <= 1


def test_same_input_gives_the_same_plan_twice():
    rng = np.random.default_rng(7)
    pts, sites = rng.random((300, 2)) * 100, rng.random((120, 2)) * 100
    D = np.hypot(*(pts[:, None, :] - sites[None, :, :]).transpose(2, 0, 1))
    w = rng.integers(1, 50, 300).astype(float)
    runs = [PMedian.from_cost_matrix(D, w, 8).solve(gap_rel=0.002) for _ in range(2)]
    a, b = runs
    assert a.open_sites.tolist() == b.open_sites.tolist()
    assert a.objective == b.objective and a.bound == b.bound
    assert a.report.details == b.report.details


def test_heuristics_are_bounded_by_work_not_the_clock():
    rng = np.random.default_rng(3)
    D = rng.random((200, 60)) * 100
    w = np.ones(200)
    start = greedy_interchange(D, w, 6, max_swaps=0)
    one = perturbed_interchange(D, w, 6, start, rounds=5, seed=1)
    two = perturbed_interchange(D, w, 6, start, rounds=5, seed=1)
    assert one.tolist() == two.tolist()
    lag1 = lagrangian_bound(D, w, 6, pmedian_cost(D, w, one), one, max_iter=150)
    lag2 = lagrangian_bound(D, w, 6, pmedian_cost(D, w, one), one, max_iter=150)
    assert lag1["iterations"] == lag2["iterations"] <= 150
    assert lag1["bound"] == lag2["bound"]
    # no swap allowed: greedy's plan is returned as is
    assert greedy_interchange(D, w, 6, max_swaps=0).sum() == 6


def test_locked_and_forbidden_sites_still_exact_through_the_cuts():
    D, w = clustered(11, n=16, m=11)
    rules = SiteRules.build(11, locked=[0], forbidden=[3, 4])
    best = min(
        pmedian_cost(D, w, np.isin(np.arange(11), S))
        for S in combinations([j for j in range(11) if j not in (3, 4)], 3)
        if 0 in S
    )
    model = PMedian.from_cost_matrix(D, w, 3, rules).solve()
    assert model.status == "optimal"
    assert model.objective == pytest.approx(best)
    assert 0 in model.open_sites and not {3, 4} & set(model.open_sites.tolist())


# --- Integer costs: a plan better than UB costs at most UB - 1 ---------------


@pytest.mark.parametrize("seed", SEEDS)
def test_integer_step_fixings_and_caps_hold_for_every_strictly_better_plan(seed):
    """With ``step=1`` the tests use UB - 1: check them against every plan."""
    D, w = clustered(seed)
    p = 2 + seed % 3
    plans = every_plan(D, w, p)
    optimum = plans[0][0]
    start = greedy_interchange(D, w, p, max_swaps=0)
    upper = pmedian_cost(D, w, start)
    lag = lagrangian_bound(D, w, p, upper, start, max_iter=200, step=1.0)
    assert round_bound(lag["bound"], 1.0) <= optimum
    upper = min(upper, lag["upper"])
    caps = distance_caps(w, lag, upper - 1.0)
    for cost, S in plans:
        if cost > upper - 1.0:
            break
        assert np.all(D[:, list(S)].min(axis=1) <= caps + 1e-9), (cost, S)
        assert not lag["fix_closed"][list(S)].any(), (cost, S)
        assert set(np.flatnonzero(lag["fix_open"])) <= set(S)


def test_plan_cost_step_is_one_only_when_every_plan_costs_an_integer():
    D, w = clustered(3)
    assert plan_cost_step(PMedian.from_cost_matrix(D, w, 2)) == 1.0
    # half weights on even distances still give integer products
    assert plan_cost_step(PMedian.from_cost_matrix(2 * D, w / 2, 2)) == 1.0
    assert plan_cost_step(PMedian.from_cost_matrix(D + 0.25, w, 2)) == 0.0
    # a forbidden pair's distance does not count
    D2 = D.copy()
    D2[0, 0] = 1.5
    rules = SiteRules.build(D.shape[1], forbidden=[0])
    assert plan_cost_step(PMedian.from_cost_matrix(D2, w, 2, rules)) == 1.0
    # site costs count once they weigh in the objective
    costly = SiteRules.build(D.shape[1], opening_cost=np.full(D.shape[1], 0.5))
    model = PMedian(D, w, 2, costly, cost_weight=1.0)
    assert plan_cost_step(model) == 0.0
    assert plan_cost_step(PMedian(D, w, 2, costly, cost_weight=2.0)) == 1.0


def test_bound_rounded_up_only_when_plans_cost_integers():
    plan = np.array([True, False])
    proven = SolveReport(solver="")
    _finish(proven, plan, 10.0, 9.2, 1e-6, step=1.0)
    assert proven.status == "optimal" and proven.bound == 10.0
    assert proven.gap == 0.0
    open_gap = SolveReport(solver="")
    _finish(open_gap, plan, 10.0, 9.2, 1e-6)
    assert open_gap.status == "feasible" and open_gap.bound == 9.2
    # an integer bound with rounding noise is not raised a whole step
    noisy = SolveReport(solver="")
    _finish(noisy, plan, 11.0, 9.0000000001, 1e-6, step=1.0)
    assert noisy.status == "feasible" and noisy.bound == 9.0


@pytest.mark.parametrize("seed", range(8))
def test_fractional_costs_still_solved_exactly_without_rounding(seed):
    D, w = clustered(seed, n=16, m=11)
    D = D + np.random.default_rng(seed).random(D.shape) * 0.9
    p = 2 + seed % 4
    optimum = every_plan(D, w, p)[0][0]
    model = PMedian.from_cost_matrix(D, w, p)
    assert plan_cost_step(model) == 0.0
    model.solve()
    assert model.status == "optimal"
    assert model.objective == pytest.approx(optimum, abs=1e-9)
    assert model.bound <= optimum + 1e-6
