"""Core heuristic of large p-medians (``radius.core_plan``), against enumeration.

The core is the sites the Lagrangian multipliers price best plus the start's
open and the locked ones; the p-median restricted to it is solved by the tree,
then the interchange runs on every site. On instances small enough to
enumerate (integer costs with ties, fractional costs, locked and forbidden
sites): the result is a plan of the model, never worse than the start, the
same on every run, and the enumerated optimum when the core holds every site.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest

from optimization import PMedian, SiteRules, radius
from optimization.radius import core_plan, plan_objective

SEEDS = range(30)


def model(seed: int) -> tuple[PMedian, list[int], list[int]]:
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(10, 25)), int(rng.integers(7, 12))
    p = int(rng.integers(2, 5))
    D = rng.integers(0, 6 if seed % 3 == 0 else 40, size=(n, m)).astype(float)
    if seed % 2:
        D += rng.random((n, m))
    w = rng.integers(0, 4, n).astype(float)
    w[0] = 1.0
    locked = [int(rng.integers(m))] if seed % 4 == 1 else []
    forbidden = [int(j) for j in rng.choice(m, 2, replace=False) if j not in locked]
    rules = SiteRules.build(m, locked=locked, forbidden=forbidden)
    return PMedian.from_cost_matrix(D, w, p, rules), locked, forbidden


def best_plan(pm: PMedian, locked, forbidden) -> float:
    allowed = [j for j in range(pm.m) if j not in forbidden]
    return min(
        plan_objective(pm, np.isin(np.arange(pm.m), S))
        for S in combinations(allowed, pm.p)
        if set(locked) <= set(S)
    )


def worst_start(pm: PMedian, locked, forbidden) -> np.ndarray:
    allowed = [j for j in range(pm.m) if j not in forbidden]
    plans = [
        np.isin(np.arange(pm.m), S)
        for S in combinations(allowed, pm.p)
        if set(locked) <= set(S)
    ]
    return max(plans, key=lambda mask: plan_objective(pm, mask))


def multipliers(pm: PMedian, seed: int) -> np.ndarray:
    keep = pm.weights > 0
    C = pm.weights[keep, None] * pm.cost_matrix[keep]
    rng = np.random.default_rng(seed)
    return C.min(axis=1) + rng.random(int(keep.sum())) * C.mean(axis=1)


@pytest.mark.parametrize("seed", SEEDS)
def test_core_plan_is_a_plan_no_worse_than_the_start_and_repeatable(seed):
    pm, locked, forbidden = model(seed)
    start = worst_start(pm, locked, forbidden)
    start_obj = plan_objective(pm, start)
    lam = multipliers(pm, seed)
    step = radius.plan_cost_step(pm)
    plan = core_plan(pm, start, start_obj, lam, step)
    assert plan.sum() == pm.p
    assert set(locked) <= set(np.flatnonzero(plan).tolist())
    assert not plan[forbidden].any()
    assert plan_objective(pm, plan) <= start_obj
    assert plan_objective(pm, plan) >= best_plan(pm, locked, forbidden) - 1e-9
    again = core_plan(pm, start, start_obj, lam, step)
    assert again.tolist() == plan.tolist()


@pytest.mark.parametrize("seed", SEEDS)
def test_core_of_every_site_gives_the_enumerated_optimum(monkeypatch, seed):
    pm, locked, forbidden = model(seed)
    monkeypatch.setattr(radius, "CORE_SITES", pm.m)
    start = worst_start(pm, locked, forbidden)
    plan = core_plan(pm, start, plan_objective(pm, start), multipliers(pm, seed))
    best = best_plan(pm, locked, forbidden)
    assert plan_objective(pm, plan) == pytest.approx(best, rel=1e-6)


def test_core_plan_runs_in_the_large_model_solve(monkeypatch):
    # Above 2M points x sites the Lagrangian stage solves the core after the
    # interchange; a smaller model goes through the same code when that size
    # is lowered, and the solve still proves the enumerated optimum.
    calls = []

    def spy(*args, **kwargs):
        calls.append(args[2])
        return core_plan(*args, **kwargs)

    monkeypatch.setattr(radius, "core_plan", spy)
    monkeypatch.setattr(radius, "LARGE_CELLS", 0)
    solved = 0
    for seed in range(12):
        pm, locked, forbidden = model(seed)
        result = pm.solve()
        assert result.status == "optimal", seed
        assert result.objective == pytest.approx(
            best_plan(pm, locked, forbidden), rel=1e-9
        )
        solved += 1
    assert solved and calls
