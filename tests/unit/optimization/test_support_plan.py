"""Capacitated p-median: the plan of the support-site MIP.

When the Lagrangian stage leaves a gap above 1%, ``support_plan`` solves the
split relaxation's MIP restricted to the sites the relaxation opens or nearly
opens (``lagrangian_support``), bounded by HiGHS interrupt checks, and serves
its open sites by ``plan_for``; ``support_search`` then improves that plan by
exact-cost site swaps, in a thread of its own under a time limit while the
split relaxation's MIP runs. These tests check that the plan is a checked
plan of the model asked for (never below the enumerated optimum), that the
support respects the site rules and the Lagrangian fixings, that the same
input gives the same plan, that the search runs beside the split relaxation
and hands back its errors, and that a solve running it still proves the
optimum.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

import optimization.assignment as assignment_module
from optimization import PMedian
from optimization.assignment import (
    assignment_pairs,
    lagrangian_stage,
    lagrangian_support,
    support_plan,
    support_search,
)
from optimization.inputs import SiteRules
from optimization.solver import SolveOptions
from tests.unit.optimization.test_lagrangian import _check_plan, _random_model
from tests.unit.optimization.test_split_relaxation import _tight


@pytest.mark.parametrize("seed", range(25))
@pytest.mark.parametrize("split", [False, True])
@pytest.mark.parametrize("rules", [False, True])
def test_the_support_plan_is_a_checked_plan_above_the_optimum(seed, split, rules):
    model, optimum, _ = _random_model(seed, split=split, rules=rules)
    if not np.isfinite(optimum):
        pytest.skip("infeasible instance")
    pairs = assignment_pairs(model)
    lag = lagrangian_stage(model, pairs, SolveOptions())
    if lag.plan is None:
        pytest.skip("no Lagrangian plan")
    keep = pairs | (lag.plan.alloc.toarray() > 0)
    plan = support_plan(model, pairs, keep, lag, lag.plan, None, SolveOptions())
    if plan is None:
        return
    _check_plan(model, plan)
    assert plan.objective >= optimum - 1e-6 * max(1.0, abs(optimum))
    sites = lagrangian_support(model, lag) | lag.plan.open
    assert not (plan.open & ~sites).any()


def test_the_support_respects_the_rules_and_the_fixings():
    rng = np.random.default_rng(3)
    D = rng.random((12, 8)) * 50
    w = rng.integers(1, 20, 12).astype(float)
    rules = SiteRules.build(8, locked=[1], forbidden=[2, 5], capacities=60.0)
    model = PMedian.from_cost_matrix(D, w, 3, rules)
    pairs = assignment_pairs(model)
    lag = lagrangian_stage(model, pairs, SolveOptions())
    assert lag.plan is not None
    # Values that would pick the forbidden sites first, a site the test closed.
    lag.site_values = np.array([0.0, 0.0, -9.0, 0.0, -5.0, -9.0, -5.0, 0.0])
    lag.closed = np.zeros(8, bool)
    lag.closed[6] = True
    support = lagrangian_support(model, lag)
    assert support[1]  # locked
    assert not support[2] and not support[5]  # forbidden
    assert not support[6]  # closed by the Lagrangian test
    assert support[4]
    assert not (lag.plan.open & ~support & ~lag.closed).any()


@pytest.mark.parametrize("split", [False, True])
def test_the_support_holds_the_near_ties_of_the_chosen_sites(split):
    rng = np.random.default_rng(4)
    D = rng.random((10, 6)) * 50
    w = np.ones(10)
    rules = SiteRules.build(6, capacities=8.0)
    model = PMedian.from_cost_matrix(D, w, 2, rules, split=split)
    lag = lagrangian_stage(model, assignment_pairs(model), SolveOptions())
    lag.plan.open[:] = False
    lag.plan.open[[0, 1]] = True
    lag.site_values = np.array([-10.0, -7.0, -7.0 + 1e-5, -6.8, -6.999, 5.0])
    lag.closed, lag.opened = np.zeros(6, bool), np.zeros(6, bool)
    support = lagrangian_support(model, lag)
    # Chosen: 0 and 1; 2 and 4 lie within 0.1% of 7 (single assignment's
    # tolerance), 3 within 4% (split's); 5 in neither.
    assert support.tolist() == [True, True, True, split, True, False]


@pytest.mark.parametrize("split", [False, True])
def test_the_support_plan_is_repeatable(split):
    model = _tight(7, split=split)
    pairs = assignment_pairs(model)
    lag = lagrangian_stage(model, pairs, SolveOptions())
    keep = pairs.copy()
    plans = [
        support_plan(model, pairs, keep, lag, lag.plan, None, SolveOptions(), None, 5)
        for _ in range(2)
    ]
    assert (plans[0] is None) == (plans[1] is None)
    if plans[0] is not None:
        assert plans[0].objective == plans[1].objective
        assert np.array_equal(plans[0].open, plans[1].open)
        assert (plans[0].alloc != plans[1].alloc).nnz == 0


@pytest.mark.parametrize("seed", [7, 8, 11])
@pytest.mark.parametrize("split", [False, True])
def test_a_solve_through_the_support_plan_proves_the_optimum(seed, split, monkeypatch):
    exact = _tight(seed, split=split).solve()
    assert exact.status == "optimal"
    monkeypatch.setattr(assignment_module, "SPLIT_BOUND_FROM", -1.0)
    model = _tight(seed, split=split)
    found = assignment_module.solve_assignment(model, SolveOptions())
    assert any(it["status"] == "support plan" for it in found.iterations)
    assert found.report.status == "optimal"
    assert found.report.objective == pytest.approx(exact.objective, rel=1e-6)
    assert found.report.bound <= exact.objective * (1 + 1e-6)
    alloc = found.plan.alloc.toarray()  # a MIP's values, to 1e-9
    if not split:
        assert np.allclose(alloc, np.round(alloc), atol=1e-6)
    assert np.allclose(alloc.sum(axis=1)[model.weights > 0], 1.0)
    assert np.all(model.weights @ alloc <= model.rules.capacities + 1e-6)


def test_when_the_support_plan_runs(monkeypatch):
    calls = []
    real = assignment_module.support_search

    def spy(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    swaps = []
    real_swaps = assignment_module.transport_swaps

    def swaps_spy(*args, **kwargs):
        swaps.append(1)
        return real_swaps(*args, **kwargs)

    monkeypatch.setattr(assignment_module, "support_search", spy)
    monkeypatch.setattr(assignment_module, "transport_swaps", swaps_spy)
    monkeypatch.setattr(assignment_module, "SPLIT_BOUND_MIN_CORE", 0.0)
    monkeypatch.setattr(assignment_module, "SPLIT_BOUND_FROM", 0.5)
    assignment_module.solve_assignment(_tight(7), SolveOptions(time_limit=600))
    assert calls == []  # gap below the threshold
    monkeypatch.setattr(assignment_module, "SPLIT_BOUND_FROM", -1.0)
    monkeypatch.setattr(assignment_module, "SPLIT_BOUND_MIN_CORE", 2.0)
    swaps.clear()  # the stage itself may have run them below the threshold
    assignment_module.solve_assignment(_tight(7), SolveOptions(time_limit=600))
    assert calls == []  # the Lagrangian stage had less than that of a core
    assert swaps == [1]  # the stage's site swaps run instead
    swaps.clear()
    assignment_module.solve_assignment(_tight(7), SolveOptions())
    assert calls == [1]  # without a time limit the machine's load is no matter
    monkeypatch.setattr(assignment_module, "SPLIT_BOUND_MIN_CORE", 0.0)
    assignment_module.solve_assignment(_tight(7), SolveOptions(time_limit=600))
    assert calls == [1, 1]
    assert swaps == [1, 1]  # after the support MIP, from its plan, each time


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("split", [False, True])
def test_the_support_search_returns_a_better_checked_plan_or_none(seed, split):
    model, optimum, _ = _random_model(seed, split=split, rules=False)
    if not np.isfinite(optimum):
        pytest.skip("infeasible instance")
    pairs = assignment_pairs(model)
    lag = lagrangian_stage(model, pairs, SolveOptions())
    if lag.plan is None:
        pytest.skip("no Lagrangian plan")
    keep = pairs | (lag.plan.alloc.toarray() > 0)
    plan = support_search(model, pairs, keep, lag, lag.plan, None, SolveOptions())
    if plan is None:
        return
    _check_plan(model, plan)
    assert plan.objective < lag.plan.objective
    assert plan.objective >= optimum - 1e-6 * max(1.0, abs(optimum))


def test_the_swaps_improve_the_support_plan(monkeypatch):
    # No plan from the support MIP: the swaps alone must improve a start one
    # site swap away from the Lagrangian plan.
    model = _tight(7, split=True)
    pairs = assignment_pairs(model)
    lag = lagrangian_stage(model, pairs, SolveOptions())
    worse = lag.plan
    # A start the swaps can improve: the best plan with its cheapest open
    # site swapped for the site the Lagrangian values like least.
    closed = np.flatnonzero(~worse.open & ~model.rules.forbidden)
    out = np.flatnonzero(worse.open)
    start_open = worse.open.copy()
    start_open[out[0]] = False
    start_open[closed[np.argmax(lag.site_values[closed])]] = True
    start = assignment_module.plan_for(model, start_open, pairs, None)
    assert start is not None and start.objective > worse.objective
    monkeypatch.setattr(assignment_module, "_support_mip", lambda *a: (None, True))
    keep = pairs.copy()
    plan = support_search(model, pairs, keep, lag, start, None, SolveOptions())
    assert plan is not None and plan.objective < start.objective
    _check_plan(model, plan)


def test_the_support_search_runs_beside_the_split_relaxation(monkeypatch):
    threads = {}
    real_search = assignment_module.support_search
    real_split = assignment_module.split_relaxation

    def search_spy(*args, **kwargs):
        threads["search"] = threading.current_thread()
        return real_search(*args, **kwargs)

    def split_spy(*args, **kwargs):
        threads["split"] = threading.current_thread()
        return real_split(*args, **kwargs)

    monkeypatch.setattr(assignment_module, "support_search", search_spy)
    monkeypatch.setattr(assignment_module, "split_relaxation", split_spy)
    monkeypatch.setattr(assignment_module, "SPLIT_BOUND_FROM", -1.0)
    monkeypatch.setattr(assignment_module, "SPLIT_BOUND_MIN_CORE", 0.0)
    found = assignment_module.solve_assignment(
        _tight(7, split=True), SolveOptions(time_limit=600)
    )
    assert threads["split"] is threading.main_thread()
    assert threads["search"] is not threading.main_thread()
    statuses = [it["status"] for it in found.iterations]
    assert statuses[0].startswith("split relaxation")
    assert statuses[1] == "support plan"
    # Without a time limit there is no split relaxation to run beside.
    threads.clear()
    assignment_module.solve_assignment(_tight(7, split=True), SolveOptions())
    assert "split" not in threads and "search" in threads


def test_an_error_in_the_support_search_reaches_the_caller(monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("support search failed")

    monkeypatch.setattr(assignment_module, "support_search", broken)
    monkeypatch.setattr(assignment_module, "SPLIT_BOUND_FROM", -1.0)
    monkeypatch.setattr(assignment_module, "SPLIT_BOUND_MIN_CORE", 0.0)
    with pytest.raises(ValueError, match="support search failed"):
        assignment_module.solve_assignment(_tight(7), SolveOptions(time_limit=600))


def test_the_support_search_tries_a_second_seed_unless_the_first_is_proven(
    monkeypatch,
):
    model = _tight(7, split=True)
    pairs = assignment_pairs(model)
    lag = lagrangian_stage(model, pairs, SolveOptions())
    seeds = []
    real = assignment_module._support_mip

    def spy(*args):
        seeds.append(args[-1])
        return real(*args)

    monkeypatch.setattr(assignment_module, "_support_mip", spy)
    support_search(model, pairs, pairs.copy(), lag, lag.plan, None, SolveOptions())
    assert seeds == [0]  # a small support: its MIP proves its optimum

    def unproven(*args):
        seeds.append(args[-1])
        return real(*args)[0], False

    seeds.clear()
    monkeypatch.setattr(assignment_module, "_support_mip", unproven)
    support_search(model, pairs, pairs.copy(), lag, lag.plan, None, SolveOptions())
    assert seeds == list(range(assignment_module.SUPPORT_SEEDS))
    assert len(seeds) == 2
    # Single assignment: one seed (its support is the relaxation's ties).
    seeds.clear()
    single = _tight(7)
    pairs = assignment_pairs(single)
    lag = lagrangian_stage(single, pairs, SolveOptions())
    support_search(single, pairs, pairs.copy(), lag, lag.plan, None, SolveOptions())
    assert seeds == [0]
