"""Re-assignment of a single-assignment plan's points (chains of moves by a small MIP)."""

from __future__ import annotations

import numpy as np
import pytest

import optimization.assignment as assignment_module
from optimization import PMedian
from optimization.assignment import assignment_pairs, quick_plan, reassigned
from optimization.capacitated import greedy_assignment, reassign_single
from optimization.inputs import SiteRules
from tests.unit.optimization import bruteforce as bf


def _cost(D, w, site):
    served = w > 0
    return float(w[served] @ D[np.flatnonzero(served), site[served]])


def _check_assignment(D, w, open_mask, cap, site):
    served = w > 0
    assert np.all((site >= 0) == served)
    assert np.all(open_mask[site[served]])
    load = np.bincount(site[served], weights=w[served], minlength=D.shape[1])
    assert np.all(load <= cap + 1e-9)


@pytest.mark.parametrize("seed", range(40))
def test_reassign_single_reaches_the_enumerated_best_assignment(seed):
    # With every open site kept per point, the MIP is the whole generalised
    # assignment problem of these sites: its answer is the enumerated optimum,
    # whatever feasible start it is given (here the greedy placement of the
    # *reversed* costs, a poor one), and never worse than the start.
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(5, 10)), int(rng.integers(2, 5))
    D = rng.integers(1, 40, (n, m)).astype(float)
    w = rng.integers(0, 9, n).astype(float)
    w[0] = max(w[0], 1.0)
    open_mask = rng.random(m) < 0.8
    open_mask[0] = True
    cap = np.full(m, 0.0)
    cap[open_mask] = rng.uniform(1.1, 1.5) * w.sum() / open_mask.sum() + 4
    pairs = np.ones((n, m), bool)
    start = greedy_assignment(50.0 - D, w, open_mask, pairs, cap, max_moves=0)
    assert start is not None
    better = reassign_single(D, w, open_mask, pairs, cap, start, nearest=m)
    _check_assignment(D, w, open_mask, cap, better)
    best = bf.single_assignment_cost(D, w, list(np.flatnonzero(open_mask)), cap)
    assert _cost(D, w, better) == pytest.approx(best)
    assert _cost(D, w, better) <= _cost(D, w, start) + 1e-9


def test_reassign_single_moves_a_chain_the_greedy_search_cannot():
    # Site 0 holds 2 units, site 1 holds 3. Point 1 is far from site 1, but
    # moving it to site 0 needs point 0 out first (a swap the capacities
    # allow only as a whole).
    D = np.array([[1.0, 2.0], [1.0, 9.0], [5.0, 1.0]])
    w = np.array([2.0, 2.0, 1.0])
    both = np.ones(2, bool)
    site = np.array([0, 1, 1])
    out = reassign_single(D, w, both, np.ones((3, 2), bool), np.array([2.0, 3.0]), site)
    assert out.tolist() == [1, 0, 1]


def test_reassign_single_keeps_the_plan_when_nothing_is_better_or_possible():
    D = np.array([[1.0, 5.0], [6.0, 1.0]])
    w = np.array([1.0, 1.0])
    both = np.ones(2, bool)
    site = np.array([0, 1])
    pairs = np.ones((2, 2), bool)
    cap = np.array([1.0, 1.0])
    assert reassign_single(D, w, both, pairs, cap, site) is site
    # One open site only: nothing to move.
    assert reassign_single(D, w, np.array([True, False]), pairs, cap, site) is site
    # Almost no work allowed: a valid assignment no worse than the start.
    far = np.array([1, 0])
    out = reassign_single(D, w, both, pairs, cap, far, work_limit=1)
    _check_assignment(D, w, both, cap, out)
    assert _cost(D, w, out) <= _cost(D, w, far)
    # A start that overloads a site is not a warm start: it comes back as is.
    crowded = np.array([0, 0])
    assert reassign_single(D, w, both, pairs, cap, crowded) is crowded
    # Points without demand keep -1 and are never placed.
    w0 = np.array([1.0, 0.0])
    out = reassign_single(D, w0, both, pairs, np.array([1.0, 1.0]), np.array([1, -1]))
    assert out.tolist() == [0, -1]


@pytest.mark.parametrize("seed", range(12))
def test_reassigned_plans_stay_valid_and_never_cost_more(seed):
    rng = np.random.default_rng(seed + 40)
    n, m, p = 60, 15, 4
    a, b = rng.random((n, 2)) * 100, rng.random((m, 2)) * 100
    D = np.hypot(a[:, None, 0] - b[None, :, 0], a[:, None, 1] - b[None, :, 1])
    w = rng.integers(1, 60, n).astype(float)
    caps = rng.choice([0.25, 0.4], m) * w.sum()
    model = PMedian.from_cost_matrix(D, w, p, SiteRules.build(m, capacities=caps))
    pairs = assignment_pairs(model)
    open_mask = np.zeros(m, bool)
    open_mask[np.argsort(-caps, kind="stable")[:p]] = True
    plan = quick_plan(model, open_mask, pairs, 0)
    assert plan is not None
    out = reassigned(model, plan, pairs, None)
    assert out.objective <= plan.objective + 1e-9
    assert assignment_module.plan_is_valid(model, out, pairs)
    site = out.alloc.tocoo()
    load = np.bincount(site.col, weights=w[site.row], minlength=m)
    assert np.all(load <= caps + 1e-9)
    assert np.array_equal(out.open, plan.open)
    assert out.objective == pytest.approx(float(w[site.row] @ D[site.row, site.col]))


def test_reassigned_leaves_split_plans_and_modules_alone():
    D = np.array([[1.0, 5.0], [6.0, 1.0]])
    w = np.array([1.0, 1.0])
    split = PMedian.from_cost_matrix(
        D, w, 2, SiteRules.build(2, capacities=[2.0, 2.0]), split=True
    )
    pairs = assignment_pairs(split)
    plan = quick_plan(split, np.ones(2, bool), pairs)
    assert reassigned(split, plan, pairs, None) is plan


def _split_model(seed: int, n: int = 9, m: int = 6, p: int = 3, **rules):
    rng = np.random.default_rng(seed + 70)
    a, b = rng.random((n, 2)) * 100, rng.random((m, 2)) * 100
    D = np.hypot(a[:, None, 0] - b[None, :, 0], a[:, None, 1] - b[None, :, 1])
    w = rng.integers(1, 20, n).astype(float)
    caps = rng.choice([0.3, 0.45, 0.6], m) * w.sum()
    site_rules = SiteRules.build(m, capacities=caps, **rules)
    model = PMedian.from_cost_matrix(D, w, p, site_rules, split=True)
    return model, D, w, caps


@pytest.mark.parametrize("seed", range(15))
def test_transport_swaps_end_at_a_swap_optimum_checked_by_enumeration(
    seed, monkeypatch
):
    # Every closed site a candidate and work enough: no single swap of the
    # result's sites is cheaper, by an LP per swap (bruteforce), and the
    # result's cost is the enumerated split cost of its sites.
    model, D, w, caps = _split_model(seed)
    m = D.shape[1]
    monkeypatch.setattr(assignment_module, "TRANSPORT_CANDIDATES", m)
    pairs = assignment_pairs(model)
    order = np.argsort(-caps, kind="stable")
    start_open = np.zeros(m, bool)
    start_open[order[:3]] = True  # the largest sites: enough capacity
    start = assignment_module.plan_for(model, start_open, pairs, None)
    assert start is not None
    out = assignment_module.transport_swaps(
        model, start, pairs, np.zeros(m), max_evals=10_000
    )
    assert out.objective <= start.objective + 1e-9
    assert assignment_module.plan_is_valid(model, out, pairs)
    S = list(np.flatnonzero(out.open))
    assert len(S) == 3
    assert out.objective == pytest.approx(bf.split_assignment_cost(D, w, S, caps))
    for j in S:
        for k in set(range(m)) - set(S):
            swapped = [s for s in S if s != j] + [k]
            cost = bf.split_assignment_cost(D, w, swapped, caps)
            assert cost >= out.objective - 1e-6 * max(1.0, out.objective)


def test_transport_swaps_keep_locked_forbidden_and_max_new():
    model, D, w, caps = _split_model(3, n=10, m=7, existing=[0, 1, 2], max_new=1)
    m = D.shape[1]
    pairs = assignment_pairs(model)
    r = model.rules
    start_open = np.zeros(m, bool)
    start_open[[0, 1, 2]] = True
    start = assignment_module.plan_for(model, start_open, pairs, None)
    if start is None:
        pytest.skip("the existing sites lack capacity for this draw")
    out = assignment_module.transport_swaps(model, start, pairs, np.zeros(m), 10_000)
    assert int((out.open & ~r.existing).sum()) <= 1
    assert assignment_module.plan_is_valid(model, out, pairs)
    locked = PMedian.from_cost_matrix(
        D,
        w,
        3,
        SiteRules.build(m, capacities=caps, locked=[0], forbidden=[5]),
        split=True,
    )
    start = assignment_module.plan_for(locked, start_open, pairs, None)
    if start is not None:
        out = assignment_module.transport_swaps(locked, start, pairs, np.zeros(m))
        assert out.open[0] and not out.open[5]


@pytest.mark.parametrize("seed", range(10))
def test_transport_swaps_give_valid_single_plans_never_worse(seed):
    # Single assignment: the split cost guides the swaps, the plan on the
    # sites found is a single one (enumerated optimum as a floor).
    model, D, w, caps = _split_model(seed, n=10, m=6)
    single = PMedian.from_cost_matrix(D, w, 3, model.rules)
    pairs = assignment_pairs(single)
    open_mask = np.zeros(D.shape[1], bool)
    open_mask[np.argsort(-caps, kind="stable")[:3]] = True
    plan = quick_plan(single, open_mask, pairs)
    assert plan is not None
    out = assignment_module.transport_swaps(single, plan, pairs, np.zeros(6), 10_000)
    assert out.objective <= plan.objective + 1e-9
    assert assignment_module.plan_is_valid(single, out, pairs)
    coo = out.alloc.tocoo()
    assert np.allclose(coo.data, 1.0)
    assert np.bincount(coo.row, minlength=10).tolist() == [1] * 10
    S = list(np.flatnonzero(out.open))
    floor = bf.single_assignment_cost(D, w, S, caps)
    assert out.objective >= floor - 1e-6


def test_transport_swaps_count_site_costs_and_leave_modules_alone():
    # With opening/closing costs in the objective, a swap is judged on the
    # travel plus the site costs: the result is a swap optimum of the total.
    model, D, w, caps = _split_model(4, n=9, m=6)
    m = D.shape[1]
    rules = SiteRules.build(
        m,
        capacities=caps,
        existing=[0, 1, 2],
        opening_cost=np.array([0.0, 0.0, 0.0, 400.0, 50.0, 900.0]),
        closing_cost=np.full(m, 100.0),
    )
    costly = PMedian.from_cost_matrix(D, w, 3, rules, split=True, cost_weight=1.0)
    pairs = assignment_pairs(costly)
    start_open = np.zeros(m, bool)
    start_open[np.argsort(-caps, kind="stable")[:3]] = True
    start = assignment_module.plan_for(costly, start_open, pairs, None)
    if start is None:
        pytest.skip("no plan on the largest sites for this draw")
    old = assignment_module.TRANSPORT_CANDIDATES
    try:
        assignment_module.TRANSPORT_CANDIDATES = m
        out = assignment_module.transport_swaps(
            costly, start, pairs, np.zeros(m), 10_000
        )
    finally:
        assignment_module.TRANSPORT_CANDIDATES = old

    def total(S):
        mask = np.zeros(m, bool)
        mask[S] = True
        return bf.split_assignment_cost(D, w, S, caps) + rules.change_cost(mask)

    S = list(np.flatnonzero(out.open))
    assert out.objective == pytest.approx(total(S))
    for j in S:
        for k in set(range(m)) - set(S):
            swapped = [s for s in S if s != j] + [k]
            assert total(swapped) >= out.objective - 1e-6 * max(1.0, out.objective)
    modular = PMedian.from_cost_matrix(
        D,
        w,
        3,
        SiteRules.build(m, capacities=caps, module_size=10.0, max_modules=2),
        split=True,
    )
    plan = assignment_module.plan_for(modular, start_open, pairs, None)
    if plan is not None:
        assert (
            assignment_module.transport_swaps(modular, plan, pairs, np.zeros(m)) is plan
        )


def test_transport_swaps_stopped_by_a_deadline_still_serve_the_sites_found(
    monkeypatch,
):
    # The deadline passes after the first swap LPs: the sites found so far
    # are still served by a checked plan (not dropped for lack of time).
    model, D, w, caps = _split_model(2)
    m = D.shape[1]
    pairs = assignment_pairs(model)
    start_open = np.zeros(m, bool)
    start_open[np.argsort(-caps, kind="stable")[:3]] = True
    start = assignment_module.plan_for(model, start_open, pairs, None)
    clock = iter([0.0, 0.0] + [100.0] * 10_000)
    monkeypatch.setattr(assignment_module.time, "perf_counter", lambda: next(clock))
    out = assignment_module.transport_swaps(
        model, start, pairs, np.zeros(m), 10_000, deadline=50.0
    )
    assert out.objective < start.objective - 1e-6  # the first swap found
    assert assignment_module.plan_is_valid(model, out, pairs)
