"""Live progress of a solve: every figure shown while it runs is honest."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from optimization import MCLP, EquityRule, PCenter, PMedian, SiteRules
from optimization.solver import SolveProgress


def test_progress_keeps_the_best_plan_and_the_tightest_bound():
    low = SolveProgress()
    assert low.snapshot() == {"objective": None, "bound": None, "gap": None}
    low.plan(130.0)
    low.plan(120.0)
    low.plan(125.0)
    low.prove(100.0)
    low.prove(90.0)
    low.plan(float("inf"))
    assert low.snapshot()["objective"] == 120.0 and low.snapshot()["bound"] == 100.0
    # A bound past the best plan (e.g. of a model with columns fixed from it)
    # is shown as the plan: the gap is then zero, never negative.
    low.prove(125.0)
    assert low.snapshot() == {"objective": 120.0, "bound": 120.0, "gap": 0.0}
    high = SolveProgress(maximize=True)
    high.plan(50.0)
    high.plan(60.0)
    high.prove(80.0)
    high.prove(70.0)
    assert high.snapshot()["objective"] == 60.0 and high.snapshot()["bound"] == 70.0


def _watch(solve, progress):
    """Run ``solve`` in a thread and record the snapshots seen meanwhile."""
    seen = []
    worker = threading.Thread(target=solve)
    worker.start()
    while worker.is_alive():
        seen.append(progress.snapshot())
        time.sleep(0.01)
    worker.join()
    seen.append(progress.snapshot())
    return seen


def _instance(seed=0, n=150, m=60):
    rng = np.random.default_rng(seed)
    a, b = rng.random((n, 2)), rng.random((m, 2))
    D = np.hypot(a[:, None, 0] - b[None, :, 0], a[:, None, 1] - b[None, :, 1]) * 100
    w = rng.integers(1, 40, n).astype(float)
    return D, w


@pytest.mark.parametrize("capacitated", [False, True])
def test_pmedian_progress_brackets_the_optimum_all_along(capacitated):
    D, w = _instance()
    sites = SiteRules.build(60, capacities=w.sum() / 9) if capacitated else None
    groups = np.where(np.arange(150) % 3 == 0, "north", "south")
    equity = EquityRule.build(groups, 150, 15.0, 0.6)
    exact = PMedian.from_cost_matrix(D, w, 12, sites, equity=equity).solve()
    progress = SolveProgress()
    model = PMedian.from_cost_matrix(D, w, 12, sites, equity=equity)
    seen = _watch(lambda: model.solve(progress=progress), progress)
    optimum = exact.objective
    assert any(s["objective"] is not None for s in seen)
    for s in seen:
        if s["objective"] is not None:
            assert s["objective"] >= optimum - 1e-6 * optimum
        if s["bound"] is not None:
            assert s["bound"] <= optimum + 1e-6 * optimum
    assert seen[-1]["objective"] == pytest.approx(model.objective)
    assert seen[-1]["gap"] == pytest.approx(0.0, abs=1e-6)


def test_mclp_and_pcenter_progress():
    D, w = _instance(1, n=80, m=30)
    progress = SolveProgress(maximize=True)
    model = MCLP.from_cost_matrix(D, w, 12.0, 5).solve(progress=progress)
    final = progress.snapshot()
    assert final["objective"] == pytest.approx(model.objective)
    assert final["bound"] >= model.objective - 1e-6
    progress = SolveProgress()
    seen = _watch(
        lambda: PCenter.from_cost_matrix(D, w, 5).solve(progress=progress), progress
    )
    exact = PCenter.from_cost_matrix(D, w, 5).solve().objective
    for s in seen:
        if s["objective"] is not None:
            assert s["objective"] >= exact - 1e-9
        if s["bound"] is not None:
            assert s["bound"] <= exact + 1e-9
    assert seen[-1]["objective"] == pytest.approx(exact)
