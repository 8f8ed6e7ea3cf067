"""Capacitated p-median: plans, reduced-cost fixing, and exactness with every rule."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pulp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import optimization.assignment as assignment_module
import optimization.radius as radius_module
from optimization import PMedian
from optimization.capacitated import assign_to_open_sites, round_open_sites
from optimization.inputs import EquityRule, SiteRules
from optimization.solver import (
    LinearModel,
    fix_by_reduced_cost,
    solve_model,
    solve_relaxation,
)
from tests.unit.optimization import bruteforce as bf
from tests.unit.optimization.test_models_bruteforce import check, instance


@pytest.mark.parametrize("seed", range(30))
@pytest.mark.parametrize("split", [False, True])
@pytest.mark.parametrize("per_point", [1, 40])
def test_capacitated_with_every_site_rule_matches_enumeration(
    seed, split, per_point, monkeypatch
):
    # Existing network, closing and opening costs, budget, max new sites, a
    # distance cap and an equity share, all at once with capacities; one pair
    # per point at first forces the far columns and the rounds that grow them.
    monkeypatch.setattr(PMedian, "pairs_per_point", per_point)
    rng, D, w = instance(seed + 500, n=(4, 7), m=(3, 6))
    n, m = D.shape
    caps = rng.integers(6, 30, m).astype(float)
    rules = {
        "existing": [j for j in range(m) if rng.random() < 0.5] or [0],
        "opening_cost": rng.integers(1, 10, m).astype(float),
        "closing_cost": rng.integers(0, 5, m).astype(float),
        "budget": float(rng.integers(5, 25)),
        "max_new": int(rng.integers(1, m)),
    }
    extra = {"cost_weight": float(rng.choice([0.0, 0.5]))}
    if rng.random() < 0.5:
        extra["max_distance"] = float(rng.integers(15, 30))
    groups = None
    if rng.random() < 0.5:
        groups = list(rng.choice(["A", "B"], n))
    share = 0.5
    expected = bf.pmedian(
        D,
        w,
        None,
        capacities=caps,
        split=split,
        groups=groups,
        radius=None if groups is None else 12.0,
        share=share,
        **rules,
        **extra,
    )
    equity = None if groups is None else EquityRule.build(groups, n, 12.0, share)
    sites = SiteRules.build(m, capacities=caps, **rules)
    model = check(
        lambda: PMedian.from_cost_matrix(
            D, w, None, sites, split=split, equity=equity, **extra
        ),
        expected,
    )
    if model is not None:
        load = np.asarray(model.allocation.multiply(w[:, None]).sum(axis=0)).ravel()
        assert np.all(load <= caps + 1e-6)


def _geometric(seed, n=120, m=60, slack=1.4):
    rng = np.random.default_rng(seed)
    a, b = rng.random((n, 2)), rng.random((m, 2))
    D = np.hypot(a[:, None, 0] - b[None, :, 0], a[:, None, 1] - b[None, :, 1]) * 100
    w = rng.integers(1, 40, n).astype(float)
    caps = rng.choice([1.0, 2.0], m) * w.sum() / 20
    return D, w, caps


@pytest.mark.parametrize("split", [False, True])
def test_reduced_cost_fixing_removes_columns_and_keeps_the_optimum(split, monkeypatch):
    D, w, caps = _geometric(0)
    existing = np.arange(12)
    sites = SiteRules.build(60, existing, existing, max_new=4, capacities=caps)
    fixed = PMedian.from_cost_matrix(D, w, None, sites, split=split).solve()
    assert fixed.status == "optimal"
    if not split:
        assert fixed.report.details["fixed_columns"] > 0
    # The same model solved with fixing switched off.
    monkeypatch.setattr(
        assignment_module, "fix_by_reduced_cost", lambda *a, **k: np.zeros(0, int)
    )
    plain = PMedian.from_cost_matrix(D, w, None, sites, split=split).solve()
    assert plain.status == "optimal"
    assert fixed.objective == pytest.approx(plain.objective, rel=1e-6)
    assert (
        fixed.report.details["fixed_columns"] >= plain.report.details["fixed_columns"]
    )


@st.composite
def binary_programs(draw):
    """Small covering programs: min c x, A x >= 1, x binary."""
    n_cols = draw(st.integers(2, 8))
    n_rows = draw(st.integers(1, 6))
    seed = draw(st.integers(0, 10_000))
    rng = np.random.default_rng(seed)
    A = (rng.random((n_rows, n_cols)) < 0.5).astype(float)
    A[np.arange(n_rows), rng.integers(0, n_cols, n_rows)] = 1.0
    c = rng.integers(1, 20, n_cols).astype(float)
    return A, c, draw(st.floats(0.0, 5.0))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(binary_programs())
def test_reduced_cost_fixing_never_cuts_off_a_better_solution(program):
    A, c, extra = program

    def build():
        model = LinearModel("cover")
        x = model.add_vars("x", c.size, ub=1.0, cost=c, integer=True)
        r, k = np.nonzero(A)
        model.add_rows("cover", r, x[k], 1.0, lo=1.0, n=A.shape[0])
        return model

    _, exact = solve_model(build())
    model = build()
    relax = solve_relaxation(model)
    assert relax.objective <= exact.objective + 1e-9
    # Any upper bound at or above the optimum keeps the optimum in the model.
    fix_by_reduced_cost(model, relax, exact.objective + extra)
    _, again = solve_model(model)
    assert again.objective == pytest.approx(exact.objective)


def test_round_open_sites_respects_rules_and_capacity():
    rules = SiteRules.build(4, capacities=[5, 10, 10, 3], locked=[3], forbidden=[1])
    y = np.array([0.9, 0.8, 0.4, 0.2])
    w = np.array([4.0, 4.0, 4.0])
    open_mask = round_open_sites(y, rules, w, p=2)
    # Site 3 is locked, site 1 forbidden; 3 + 5 < 12 so site 0 gives way to 2.
    assert open_mask.tolist() == [False, False, True, True]
    # Without p: y >= 0.5 plus sites by decreasing y until capacity suffices.
    assert round_open_sites(y, rules, w).tolist() == [True, False, True, True]
    # Not enough capacity among the sites that may open.
    assert round_open_sites(y, rules, np.full(3, 10.0), p=2) is None


def test_assign_to_open_sites_keeps_capacities_and_rounds_modules_up():
    D = np.array([[1.0, 9.0], [2.0, 8.0], [3.0, 7.0], [9.0, 1.0]])
    w = np.array([3.0, 3.0, 3.0, 1.0])
    pairs = np.ones(D.shape, bool)
    both = np.array([True, True])
    rules = SiteRules.build(2, capacities=[6, 6])
    plan = assign_to_open_sites(D, w, both, pairs, rules)
    alloc = plan.alloc.toarray()
    assert alloc.sum(axis=1).tolist() == [1.0] * 4
    assert set(alloc.ravel().tolist()) <= {0.0, 1.0}
    assert (w @ alloc <= [6, 6]).all()
    assert alloc[0, 0] == 1 and alloc[1, 0] == 1 and alloc[2, 1] == 1
    # Only one site open: not enough capacity.
    assert assign_to_open_sites(D, w, np.array([True, False]), pairs, rules) is None
    # Modules: site 0 needs 3 more units; half a module of 2 would do in the LP,
    # the plan adds whole modules.
    modular = SiteRules.build(
        2, capacities=[6, 6], module_size=2, module_cost=0.1, max_modules=3
    )
    plan = assign_to_open_sites(D, w, both, pairs, modular, cost_weight=1.0)
    cap = modular.capacities + modular.module_size * plan.modules
    assert (w @ plan.alloc.toarray() <= cap + 1e-9).all()
    assert plan.modules.dtype.kind == "i"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_radius_fixing_with_equity_keeps_the_optimum(seed, monkeypatch):
    # The uncapacitated p-median with an equity rule goes through the radius
    # formulation, where a plan (the start, or one rounded from the LP) lets
    # y and z columns be fixed, or proves itself optimal by the LP bound.
    D, w, _ = _geometric(seed, n=150, m=60)
    groups = np.where(np.arange(150) % 3 == 0, "north", "south")
    equity = EquityRule.build(groups, 150, 15.0, 0.6)
    fixed = PMedian.from_cost_matrix(D, w, 8, equity=equity).solve()
    monkeypatch.setattr(
        radius_module, "fix_by_reduced_cost", lambda *a, **k: np.zeros(0, int)
    )
    plain = PMedian.from_cost_matrix(D, w, 8, equity=equity).solve()
    assert fixed.status == plain.status == "optimal"
    assert fixed.objective == pytest.approx(plain.objective, rel=1e-9)
    n_fixed = sum(it["fixed_columns"] for it in fixed.iterations)
    # Seed 2's plan is proven optimal by the LP bound before any MIP.
    assert (n_fixed > 0) if seed < 2 else (fixed.iterations == [])


PRESOLVE_CASES = json.loads(
    (Path(__file__).parent / "data" / "presolve_cases.json").read_text()
)


@pytest.mark.parametrize("case", PRESOLVE_CASES, ids=lambda c: c["name"])
def test_instances_where_highs_presolve_misled_the_solve(case, monkeypatch):
    # Two random instances (found by a review) where HiGHS 1.15's MIP presolve
    # called a fixed or truncated model infeasible, or its warm start optimal:
    # one once far columns were integer, one after reduced-cost fixing.
    monkeypatch.setattr(PMedian, "pairs_per_point", case["pairs_per_point"])
    D = np.array(
        [[np.inf if v is None else v for v in row] for row in case["cost"]], float
    )
    options = {"split", "cost_weight", "max_distance"}
    rules = {
        k: np.array(v, float) if k.startswith(("module", "max_mod", "capac")) else v
        for k, v in case["kwargs"].items()
        if k not in options
    }
    sites = SiteRules.build(D.shape[1], **rules)
    kwargs = {k: v for k, v in case["kwargs"].items() if k in options}
    build = lambda: PMedian.from_cost_matrix(  # noqa: E731
        D, np.array(case["weights"]), case["p"], sites, **kwargs
    )
    model = build().solve()
    problem = build().problem
    problem.solve(pulp.PULP_CBC_CMD(msg=False))
    assert model.status == "optimal"
    assert model.objective == pytest.approx(pulp.value(problem.objective), rel=1e-7)
