"""The p-median probe's bound measures (``bench/bench_pmedian_probe.py``).

Its LP by pricing pairs must reach the LP of every pair (a relaxation in
every round, the full LP at its end), its duals' Lagrangian value must be a
proven bound, and its best-first tree must prove the optimum within the
target when run to its end.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import linprog

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench"))

import bench_pmedian_probe as probe  # noqa: E402


def instance(seed: int, n: int = 40, m: int = 12) -> np.ndarray:
    rng = np.random.default_rng(seed)
    pts, sites = rng.random((n, 2)), rng.random((m, 2))
    d = np.hypot(
        pts[:, None, 0] - sites[None, :, 0], pts[:, None, 1] - sites[None, :, 1]
    )
    return rng.integers(1, 20, n)[:, None] * d


def full_lp(C: np.ndarray, p: int) -> float:
    """LP of the p-median on every pair, by scipy (x_ij <= y_j, sum_j x_ij = 1)."""
    n, m = C.shape
    nx = n * m
    cost = np.concatenate([np.zeros(m), C.ravel()])
    a_eq = np.zeros((n + 1, m + nx))
    for i in range(n):
        a_eq[i, m + i * m : m + (i + 1) * m] = 1.0
    a_eq[n, :m] = 1.0
    a_ub = np.zeros((nx, m + nx))
    a_ub[np.arange(nx), m + np.arange(nx)] = 1.0
    a_ub[np.arange(nx), np.tile(np.arange(m), n)] = -1.0
    res = linprog(
        cost,
        A_ub=a_ub,
        b_ub=np.zeros(nx),
        A_eq=a_eq,
        b_eq=np.r_[np.ones(n), p],
        bounds=(0, 1),
        method="highs",
    )
    return float(res.fun)


def optimum(C: np.ndarray, p: int) -> float:
    m = C.shape[1]
    return min(
        float(C[:, list(s)].min(axis=1).sum())
        for s in itertools.combinations(range(m), p)
    )


@pytest.mark.parametrize("seed", range(6))
def test_lp_by_pricing_reaches_the_full_lp(seed):
    C = instance(seed)
    p = 3
    # Poor multipliers (half of each point's nearest cost): few pairs at first,
    # so pairs and truncated points must be priced in over the rounds.
    lam = 0.5 * C.min(axis=1)
    res = probe.lp_bound(C, p, lam, rounds=30, extra=2)
    lp = full_lp(C, p)
    assert res["lp_exact"] == pytest.approx(lp, rel=1e-7)
    assert res["proven_bound"] <= lp * (1 + 1e-7)
    assert res["proven_bound"] == pytest.approx(lp, rel=1e-6)
    for r in res["rounds"]:
        assert r["lp"] <= lp * (1 + 1e-7)  # each round a relaxation


@pytest.mark.parametrize("seed", range(6))
def test_lagrangian_value_is_a_lower_bound(seed):
    C = instance(seed)
    rng = np.random.default_rng(seed)
    for _ in range(5):
        lam = rng.random(C.shape[0]) * C.max(axis=1)
        assert probe.lagrangian_value(C, 3, lam) <= optimum(C, 3) + 1e-9


@pytest.mark.parametrize("seed", range(6))
def test_best_first_proves_the_target(seed):
    C = instance(seed, n=30, m=10)
    p = 3
    best = optimum(C, p)
    lam = np.sort(C, axis=1)[:, 1]
    res = probe.best_first(C, p, lam, best, 0.001, 600.0, 10)
    assert res["complete"]
    assert best * (1 - 0.001) - 1e-6 <= res["bound"] <= best + 1e-9


def test_best_first_branches_to_the_optimum():
    # Given a plan 2% over the optimum and no gap allowed, the tree must find
    # the optimum and prove it; on these seeds that takes branching.
    nodes = []
    for seed in range(6):
        C = instance(seed, n=30, m=12)
        p = 4
        best = optimum(C, p)
        lam = np.sort(C, axis=1)[:, 1]
        res = probe.best_first(C, p, lam, 1.02 * best, 0.0, 600.0, 12)
        assert res["complete"]
        assert res["bound"] == pytest.approx(best, rel=1e-9)
        bounds = [b for _, _, b in res["trace"]]
        assert bounds == sorted(bounds)  # the proven bound never falls
        nodes.append(res["nodes"])
    assert max(nodes) > 1


def lp_duals(C: np.ndarray, p: int) -> tuple[float, np.ndarray]:
    """The LP of every pair by the probe's pricing, and its assignment rows' duals."""
    res = probe.lp_bound(C, p, np.sort(C, axis=1)[:, 1], rounds=30, extra=C.shape[1])
    return res["lp_exact"], res["duals"]


@pytest.mark.parametrize("seed", range(6))
def test_semi_lagrangian_value_is_a_lower_bound(seed):
    C = instance(seed, n=30, m=10)
    p = 3
    best = optimum(C, p)
    rng = np.random.default_rng(seed)
    for scale in (0.5, 1.0, 2.0, 5.0):
        u = scale * rng.random(C.shape[0]) * C.max(axis=1)
        sub = probe.slr_subproblem(C, p, u)
        assert sub["optimal"]
        assert sub["bound"] <= best + 1e-7
        # its value is that of its own solution: sum u + the reduced costs served
        opened = sub["open"]
        assert opened.sum() <= p
        served = np.setdiff1d(np.arange(C.shape[0]), sub["unserved"])
        red = (C[served][:, opened] - u[served, None]).min(axis=1)
        assert sub["bound"] == pytest.approx(u.sum() + red.sum(), rel=1e-7, abs=1e-7)
    # far above every cost: each point served, the subproblem is the p-median
    big = probe.slr_subproblem(C, p, C.max(axis=1) + 1.0)
    assert big["bound"] == pytest.approx(best, rel=1e-9)
    assert big["unserved"].size == 0


@pytest.mark.parametrize("seed", range(6))
def test_semi_lagrangian_at_the_lp_duals_is_at_least_the_lp(seed):
    C = instance(seed, n=30, m=10)
    p = 3
    lp, duals = lp_duals(C, p)
    assert lp == pytest.approx(full_lp(C, p), rel=1e-7)
    sub = probe.slr_subproblem(C, p, duals)
    assert sub["optimal"]
    assert lp - 1e-6 * lp <= sub["bound"] <= optimum(C, p) + 1e-7
    # and above the ordinary Lagrangian value at the same multipliers
    assert sub["bound"] >= probe.lagrangian_value(C, p, duals) - 1e-7


@pytest.mark.parametrize("seed", [3, 5, 8])
def test_semi_lagrangian_ascent_closes_the_lp_gap(seed):
    # Instances whose LP is below the optimum: the ascent from the LP duals
    # must rise from the LP to the optimum and prove it (every point served).
    C = instance(seed, n=40, m=14)
    p = 4
    best = optimum(C, p)
    lp, duals = lp_duals(C, p)
    assert lp < best - 1e-3
    res = probe.slr_ascent(C, p, duals, 600.0)
    assert res["all_served"]
    assert res["bound"] == pytest.approx(best, rel=1e-9)
    bounds = [r["bound"] for r in res["trace"]]
    assert bounds[0] >= lp - 1e-6 * lp
    assert all(b <= best + 1e-7 for b in bounds)
    # non-decreasing in u (every subproblem solved to optimality)
    assert all(b >= a - 1e-7 for a, b in itertools.pairwise(bounds))
    assert res["trace"][-1]["plan"] == pytest.approx(best, rel=1e-9)


@pytest.mark.parametrize("seed", range(6))
def test_semi_lagrangian_ascent_from_poor_multipliers(seed):
    # From half of each point's cheapest cost (no pair in the subproblem at
    # first) the ascent must still reach the optimum.
    C = instance(seed, n=30, m=10)
    p = 3
    best = optimum(C, p)
    res = probe.slr_ascent(C, p, 0.5 * C.min(axis=1), 600.0)
    assert res["trace"][0]["pairs"] == 0
    assert res["all_served"]
    assert res["bound"] == pytest.approx(best, rel=1e-9)
    assert res["iterations"] > 1


def test_semi_lagrangian_ascent_stops_at_its_target():
    C = instance(0, n=30, m=10)
    p = 3
    best = optimum(C, p)
    _, duals = lp_duals(C, p)
    full = probe.slr_ascent(C, p, duals, 600.0)
    target = full["trace"][0]["bound"] + 0.5 * (best - full["trace"][0]["bound"])
    res = probe.slr_ascent(C, p, duals, 600.0, target=target)
    assert res["reached_target"]
    assert target <= res["bound"] <= best + 1e-7
    assert res["iterations"] <= full["iterations"]
