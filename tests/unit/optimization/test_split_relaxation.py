"""Capacitated p-median: the bound of the split relaxation's MIP.

A hard case under a time limit (a gap above 1% after the Lagrangian stage)
runs the MIP of the truncated model with continuous pair columns before the
LP rounds (``optimization.assignment.split_relaxation``). These tests check
that with single assignment its bound never passes the single optimum (found
by enumeration), that the plan it suggests is a checked plan, and that
statuses stay honest.
"""

from __future__ import annotations

import numpy as np
import pytest

import optimization.assignment as assignment_module
from optimization import PMedian
from optimization.assignment import assignment_pairs, split_relaxation
from optimization.inputs import SiteRules
from optimization.lagrangian import LagrangianResult
from optimization.solver import NO_SOLUTION, SolveOptions, SolveReport
from tests.unit.optimization import bruteforce as bf
from tests.unit.optimization.test_lagrangian import _check_plan, _random_model


def _no_lagrangian(m: int) -> LagrangianResult:
    """A Lagrangian result without a plan: no site is fixed."""
    return LagrangianResult(
        bound=-np.inf,
        plan=None,
        multipliers=np.zeros(0),
        site_values=np.zeros(m),
        closed=np.zeros(m, bool),
        opened=np.zeros(m, bool),
        iterations=0,
        plans_tried=0,
        runners_up=[],
    )


@pytest.mark.parametrize("seed", range(30))
@pytest.mark.parametrize("rules", [False, True])
def test_split_bound_lies_between_the_split_and_single_optima(seed, rules):
    model, single, kw = _random_model(seed, split=False, rules=rules)
    if not np.isfinite(single):
        pytest.skip("infeasible instance (covered below)")
    D, w = model.cost_matrix, model.weights
    caps = model.rules.capacities
    split = bf.pmedian(
        D,
        w,
        model.p,
        capacities=caps,
        split=True,
        **kw,
        cost_weight=model.cost_weight,
    )
    pairs = assignment_pairs(model)
    bound, plan, rep = split_relaxation(
        model, pairs, pairs, _no_lagrangian(model.m), 60.0, SolveOptions()
    )
    assert rep.status == "optimal"
    assert bound <= single + 1e-6 * max(1.0, abs(single))
    assert bound >= split - 1e-5 * max(1.0, abs(split))
    if plan is not None:
        _check_plan(model, plan)
        assert plan.objective >= single - 1e-6


def _tight(
    seed: int, n: int = 40, m: int = 20, p: int = 5, split: bool = False
) -> PMedian:
    """Clustered points, heterogeneous capacities summing to 1.25 x demand
    over the p largest sites: single assignment leaves a gap of a few percent
    after the LP, as the demo's stress case does (seeds 7, 8, 11: 5-7%)."""
    rng = np.random.default_rng(seed)
    centres = rng.random((6, 2)) * 100
    pts = centres[rng.integers(0, 6, n)] + rng.normal(0, 8, (n, 2))
    sites = rng.random((m, 2)) * 100
    D = np.hypot(*(pts[:, None, :] - sites[None, :, :]).transpose(2, 0, 1))
    w = rng.integers(1, 60, n).astype(float)
    caps = rng.choice([1.0, 2.0, 3.0], m)
    caps = caps * 1.25 * w.sum() / np.sort(caps)[-p:].sum()
    rules = SiteRules.build(m, capacities=caps)
    return PMedian.from_cost_matrix(D, w, p, rules, split=split)


@pytest.mark.parametrize("seed", [7, 8, 11])
@pytest.mark.parametrize("split", [False, True])
def test_a_forced_split_stage_keeps_the_proven_optimum(seed, split, monkeypatch):
    exact = _tight(seed, split=split).solve()
    assert exact.status == "optimal"
    monkeypatch.setattr(assignment_module, "SPLIT_BOUND_FROM", -1.0)
    monkeypatch.setattr(assignment_module, "SPLIT_BOUND_MIN_CORE", 0.0)
    model = _tight(seed, split=split)
    found = assignment_module.solve_assignment(model, SolveOptions(time_limit=600))
    ran = any(it["status"].startswith("split relaxation") for it in found.iterations)
    assert ran  # split assignment too: its own MIP, without the LP first
    # The LP rounds and their MIP still run after it: the same optimum, proven.
    assert found.report.status == "optimal"
    assert found.report.objective == pytest.approx(exact.objective, rel=1e-6)
    assert found.report.bound <= exact.objective * (1 + 1e-6)
    alloc = found.plan.alloc.toarray()  # a MIP's values, to 1e-9
    if not split:
        assert np.allclose(alloc, np.round(alloc), atol=1e-6)
    assert np.allclose(alloc.sum(axis=1)[model.weights > 0], 1.0)
    assert np.all(model.weights @ alloc <= model.rules.capacities + 1e-6)


@pytest.mark.parametrize("seed", [7, 11])
def test_the_split_stage_bound_is_a_bound_of_the_single_optimum(seed, monkeypatch):
    # The split stage alone: the binary MIP after it finds nothing (as when
    # its time runs out). The bound it leaves is above the LP's and below the
    # proven single optimum; the plan is a checked single plan above it.
    exact = _tight(seed).solve()
    assert exact.status == "optimal"
    monkeypatch.setattr(assignment_module, "SPLIT_BOUND_FROM", -1.0)
    monkeypatch.setattr(assignment_module, "SPLIT_BOUND_MIN_CORE", 0.0)
    real = assignment_module.solve_fixed
    calls = []

    def split_only(model, *args, **kwargs):
        calls.append(model.name)
        if len(calls) > 1:
            return None, SolveReport(status=NO_SOLUTION, solver="HiGHS")
        return real(model, *args, **kwargs)

    monkeypatch.setattr(assignment_module, "solve_fixed", split_only)
    model = _tight(seed)
    found = assignment_module.solve_assignment(model, SolveOptions(time_limit=600))
    assert len(calls) == 2
    split_run = [it for it in found.iterations if "split" in it["status"]]
    assert split_run and split_run[0]["bound"] is not None
    report = found.report
    lp_bound = found.iterations[-1]["lp_bound"]
    assert report.bound > lp_bound * (1 + 1e-4)  # the split MIP's own bound
    assert report.bound <= exact.objective * (1 + 1e-6)
    assert report.objective >= exact.objective * (1 - 1e-6)
    _check_plan(model, found.plan)
    assert report.gap == pytest.approx(
        (report.objective - report.bound) / report.objective
    )


def test_when_the_split_stage_runs(monkeypatch):
    calls = []
    real = assignment_module.split_relaxation

    def spy(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(assignment_module, "split_relaxation", spy)
    monkeypatch.setattr(assignment_module, "SPLIT_BOUND_FROM", -1.0)
    monkeypatch.setattr(assignment_module, "SPLIT_BOUND_MIN_CORE", 0.0)
    assignment_module.solve_assignment(_tight(7), SolveOptions())
    assert calls == []  # no time limit: the binary MIP runs to the end
    monkeypatch.setattr(assignment_module, "SPLIT_BOUND_FROM", 0.5)
    assignment_module.solve_assignment(_tight(7), SolveOptions(time_limit=600))
    assert calls == []  # gap below the threshold
    monkeypatch.setattr(assignment_module, "SPLIT_BOUND_FROM", -1.0)
    monkeypatch.setattr(assignment_module, "SPLIT_BOUND_MIN_CORE", 2.0)
    assignment_module.solve_assignment(_tight(7), SolveOptions(time_limit=600))
    assert calls == []  # the Lagrangian stage had less than that of a core
    monkeypatch.setattr(assignment_module, "SPLIT_BOUND_MIN_CORE", 0.0)
    assignment_module.solve_assignment(_tight(7), SolveOptions(time_limit=600))
    assert calls == [1]
    # Split assignment: the stage is its own MIP, run before any LP round.
    model = _tight(7, split=True)
    assignment_module.solve_assignment(model, SolveOptions(time_limit=600))
    assert calls == [1, 1]


def test_an_infeasible_single_model_stays_infeasible_under_a_time_limit(
    monkeypatch,
):
    # Two points heavier together than any one site, p = 1, single assignment.
    monkeypatch.setattr(assignment_module, "SPLIT_BOUND_FROM", -1.0)
    monkeypatch.setattr(assignment_module, "SPLIT_BOUND_MIN_CORE", 0.0)
    D = np.array([[1.0, 2.0], [2.0, 1.0]])
    w = np.array([5.0, 5.0])
    rules = SiteRules.build(2, capacities=[6.0, 6.0])
    with pytest.raises(Exception, match="(?i)infeasible"):
        PMedian.from_cost_matrix(D, w, 1, rules).solve(time_limit=60)
