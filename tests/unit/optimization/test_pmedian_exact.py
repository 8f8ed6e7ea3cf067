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
)
from optimization.radius import _radius_loop
from optimization.solver import SolveOptions

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
