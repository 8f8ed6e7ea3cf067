"""Lagrangian branch-and-bound of the p-median, checked against enumeration.

Random instances small enough to enumerate every plan, with many ties (costs
drawn from a few integers) and with fractional costs: the node bound never
exceeds the best plan of its node, the site fixings keep every strictly
better plan, the tree reaches the enumerated optimum from a poor start and
zero multipliers, and a tree cut short by its work bound still returns a
bound no plan beats. ``site_fixings`` is checked on the off-by-one case: a
plan exactly one step better than the incumbent must survive.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest
from scipy.sparse.csgraph import shortest_path

from optimization import PMedian, SiteRules
from optimization.pmedian_tree import (
    SparseCosts,
    lagrangian_tree,
    node_bound,
    site_fixings,
)
from optimization.solver import relative_gap

SEEDS = range(40)


def instance(seed: int) -> tuple[np.ndarray, int, bool]:
    """Weighted costs (n x m), p, and whether every cost is an integer."""
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(8, 22)), int(rng.integers(6, 13))
    p = int(rng.integers(2, min(6, m)))
    integer = seed % 2 == 0
    C = rng.integers(0, 5 if seed % 4 == 0 else 30, size=(n, m)).astype(float)
    C *= rng.integers(1, 4, size=n)[:, None]  # demand weights
    if not integer:
        C += rng.random((n, m))
    return C, p, integer


def every_plan(C: np.ndarray, p: int) -> dict[tuple, float]:
    return {
        S: float(C[:, list(S)].min(axis=1).sum())
        for S in combinations(range(C.shape[1]), p)
    }


def mask(m: int, S) -> np.ndarray:
    out = np.zeros(m, bool)
    out[list(S)] = True
    return out


@pytest.mark.parametrize("seed", SEEDS)
def test_tree_reaches_the_enumerated_optimum_from_a_poor_start(seed):
    C, p, integer = instance(seed)
    plans = every_plan(C, p)
    optimum = min(plans.values())
    worst = max(plans, key=plans.get)
    lam = np.zeros(C.shape[0]) if seed % 3 else C.min(axis=1)
    res = lagrangian_tree(
        C,
        p,
        mask(C.shape[1], worst),
        plans[worst],
        lam,
        step=1.0 if integer else 0.0,
        gap_rel=0.0,
    )
    assert res.complete
    assert res.plan.sum() == p
    assert res.cost == pytest.approx(plans[tuple(np.flatnonzero(res.plan))])
    assert res.cost == pytest.approx(optimum, abs=1e-9)
    assert optimum - 1e-9 * optimum <= res.bound <= optimum + 1e-9


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("gap_rel", [1e-6, 0.02])
def test_complete_tree_proves_its_plan_within_the_gap_a_status_reads(seed, gap_rel):
    # The solve calls a plan optimal when relative_gap(plan, bound) <= gap_rel:
    # a complete tree must meet that test, not a looser one of its own.
    C, p, _ = instance(seed)
    C = C * 1000.0 + 0.123  # large fractional costs: the gap is relative
    plans = every_plan(C, p)
    optimum = min(plans.values())
    worst = max(plans, key=plans.get)
    res = lagrangian_tree(
        C, p, mask(C.shape[1], worst), plans[worst], np.zeros(len(C)), gap_rel=gap_rel
    )
    assert res.complete
    assert relative_gap(res.cost, res.bound) <= gap_rel
    assert res.bound <= optimum + 1e-9 * optimum
    assert (res.cost - optimum) <= gap_rel * res.cost + 1e-9 * optimum


@pytest.mark.parametrize("seed", SEEDS)
def test_tree_cut_short_by_its_work_bound_keeps_a_valid_bound(seed):
    C, p, integer = instance(seed)
    plans = every_plan(C, p)
    optimum = min(plans.values())
    worst = max(plans, key=plans.get)
    res = lagrangian_tree(
        C,
        p,
        mask(C.shape[1], worst),
        plans[worst],
        np.zeros(C.shape[0]),
        step=1.0 if integer else 0.0,
        max_work=float(C.size * (1 + seed % 5)),
    )
    assert res.bound <= optimum + 1e-9
    assert res.cost >= optimum - 1e-9
    assert res.cost == pytest.approx(plans[tuple(np.flatnonzero(res.plan))])


@pytest.mark.parametrize("seed", SEEDS)
def test_node_bound_and_its_fixings_hold_for_every_strictly_better_plan(seed):
    C, p, integer = instance(seed)
    m = C.shape[1]
    plans = every_plan(C, p)
    rng = np.random.default_rng(seed)
    # A node with one site fixed open; the incumbent is a middling plan.
    j0 = int(rng.integers(m))
    is_open = np.zeros(m, bool)
    is_open[j0] = True
    node = {S: c for S, c in plans.items() if j0 in S}
    upper = float(np.median(list(node.values())))
    step = 1.0 if integer else 0.0
    nb = node_bound(C, is_open, p - 1, np.zeros(C.shape[0]), upper, step, 0.0)
    assert nb.bound <= min(node.values()) + 1e-9
    upper = min(upper, nb.best_cost)
    better = upper - step if step else upper - 1e-9 * upper
    for S, cost in node.items():
        cut_off = nb.fix_closed[list(S)].any() or not (
            set(np.flatnonzero(nb.fix_open)) <= set(S)
        )
        if cost <= better - 1e-9:
            assert not cut_off, (S, cost, upper)
        if cut_off:
            # What the fixings cut off costs at least the bound they report.
            assert cost >= nb.excluded - 1e-9, (S, cost, nb.excluded)


def test_fixings_keep_a_plan_exactly_one_step_better():
    # Site values 8, 9, 10 (one site opens; the bound 8 is exact, as for
    # p = 1 with large multipliers); the best plan known costs 10. Forcing
    # site 1 open gives 9 = 10 - 1: a plan of cost 9 may exist, so site 1
    # stays free; site 2 (bound 10) is closed. Closing site 0 gives 9: not fixed.
    rho = np.array([8.0, 9.0, 10.0])
    closed, opened, close_bound, excluded = site_fixings(
        8.0, rho, np.arange(3), 1, 10.0, step=1.0
    )
    assert closed.tolist() == [False, False, True]
    assert opened.tolist() == [False, False, False]
    assert close_bound[0] == 9.0 and excluded == 10.0
    # Against a best plan of 9, site 1 is fixed closed and site 0 open.
    closed, opened, _, _ = site_fixings(8.0, rho, np.arange(3), 1, 9.0, step=1.0)
    assert closed.tolist() == [False, True, True]
    assert opened.tolist() == [True, False, False]
    # A bound of 9.5 proves 10 when plans cost integers, not otherwise.
    rho = np.array([8.0, 9.5, 10.0])
    closed, _, _, _ = site_fixings(8.0, rho, np.arange(3), 1, 10.0, step=1.0)
    assert closed.tolist() == [False, True, True]
    closed, _, _, _ = site_fixings(8.0, rho, np.arange(3), 1, 10.0, step=0.0)
    assert closed.tolist() == [False, False, True]


def test_tree_finds_the_plan_one_step_below_the_incumbent():
    # p = 1: plan {j} costs the column sum of j: 12 (site 0), 13 (1), 14 (2).
    C = np.array([[4.0, 4.0, 6.0], [4.0, 5.0, 4.0], [4.0, 4.0, 4.0]])
    res = lagrangian_tree(
        C, 1, mask(3, [1]), 13.0, np.full(3, 10.0), step=1.0, gap_rel=0.0
    )
    assert res.complete and res.cost == 12.0 and res.plan.tolist() == [1, 0, 0]
    assert res.bound == 12.0


def test_same_input_gives_the_same_tree():
    C, p, integer = instance(7)
    plans = every_plan(C, p)
    worst = max(plans, key=plans.get)
    runs = [
        lagrangian_tree(C, p, mask(C.shape[1], worst), plans[worst], np.zeros(len(C)))
        for _ in range(2)
    ]
    assert runs[0].plan.tolist() == runs[1].plan.tolist()
    assert (runs[0].nodes, runs[0].iterations) == (runs[1].nodes, runs[1].iterations)


def road_graph(seed: int, n: int = 30) -> np.ndarray | None:
    """Shortest paths of a sparse random graph with integer lengths (as OR-Library)."""
    rng = np.random.default_rng(seed)
    W = np.zeros((n, n))
    for i in range(n):
        for j in rng.choice(n, 3, replace=False):
            if i != j:
                W[i, j] = W[j, i] = rng.integers(1, 100)
    D = shortest_path(W, directed=False)
    return D if np.isfinite(D).all() else None


def test_solve_uses_the_tree_and_proves_the_enumerated_optimum():
    # Small p on sparse graphs: the root's Lagrangian bound often leaves a
    # gap, so the solve goes through the tree; its result must be the
    # enumerated optimum, proven.
    through_tree = 0
    for seed in range(24):
        D = road_graph(seed)
        if D is None:
            continue
        p = 3 + seed % 2
        model = PMedian.from_cost_matrix(D, np.ones(len(D)), p).solve()
        best = min(every_plan(D, p).values())
        assert model.status == "optimal", seed
        assert model.objective == best and model.bound == best, seed
        assert model.open_sites.size == p
        if model.report.details.get("tree_nodes", 0) > 1:
            through_tree += 1
    assert through_tree >= 3


def test_tree_keeps_locked_forbidden_sites_and_points_without_demand():
    # The tree works on the points with demand and starts from the stage's
    # fixings plus the locked (open) and forbidden (closed) sites.
    through_tree = 0
    for seed in range(30):
        D = road_graph(seed, n=26)
        if D is None:
            continue
        rng = np.random.default_rng(seed)
        w = rng.integers(0, 4, len(D)).astype(float)
        w[0] = 1.0
        p = 3 + seed % 2
        locked = [int(rng.integers(len(D)))] if seed % 3 else []
        forbidden = [int(j) for j in rng.choice(len(D), 4, replace=False)]
        forbidden = [j for j in forbidden if j not in locked]
        rules = SiteRules.build(len(D), locked=locked, forbidden=forbidden)
        model = PMedian.from_cost_matrix(D, w, p, rules).solve()
        allowed = [j for j in range(len(D)) if j not in forbidden]
        best = min(
            float(w @ D[:, list(S)].min(axis=1))
            for S in combinations(allowed, p)
            if set(locked) <= set(S)
        )
        assert model.status == "optimal", seed
        assert model.objective == best and model.bound == best, seed
        opened = set(model.open_sites.tolist())
        assert set(locked) <= opened and not opened & set(forbidden)
        if model.report.details.get("tree_nodes", 0) > 1:
            through_tree += 1
    assert through_tree >= 2


def test_fixings_use_the_gap_test_of_the_status_exactly():
    # Best plan 1,000,000, gap 1e-6: a region is cut off only when its bound
    # is within 1.0 of it (the solve's own relative_gap test), not 1.0005.
    rho = np.array([0.0, 998.9995, 999.0005])
    closed, _, _, excluded = site_fixings(
        999_000.0, rho, np.arange(3), 1, 1_000_000.0, step=0.0, gap_rel=1e-6
    )
    assert closed.tolist() == [False, False, True]
    assert relative_gap(1_000_000.0, excluded) <= 1e-6


@pytest.mark.parametrize("min_gap", [0.0, 1.0])
def test_fractional_costs_take_the_tree_only_on_a_gap_of_at_least_its_minimum(
    monkeypatch, min_gap
):
    # With costs that are not all integers a small gap goes to the radius MIP
    # (the demo's attendance model: 0.07% left took the tree 67 s, the MIP
    # 0.7 s); either way the solve proves the enumerated optimum.
    from optimization import radius

    steps = []

    def spy(*args, **kwargs):
        steps.append(kwargs["step"])
        return lagrangian_tree(*args, **kwargs)

    monkeypatch.setattr(radius, "lagrangian_tree", spy)
    monkeypatch.setattr(radius, "TREE_MIN_GAP", min_gap)
    for seed in range(24):
        D = road_graph(seed)
        if D is None:
            continue
        p = 3 + seed % 2
        w = np.full(len(D), 1.37)  # every cost fractional
        model = PMedian.from_cost_matrix(D, w, p).solve()
        best = min(every_plan(D * w[:, None], p).values())
        assert model.status == "optimal", seed
        assert model.objective == pytest.approx(best, rel=1e-9), seed
    if min_gap == 0.0:
        assert steps and all(step == 0 for step in steps)
    else:
        assert steps == []


# Sparse pricing: each point keeps only its ``prefix`` cheapest sites, its
# multiplier capped at the cheapest site left out. Prefixes from 1 site up,
# on the instances above (ties, fractional costs): same optimum, valid bounds.


@pytest.mark.parametrize("seed", SEEDS)
def test_sparse_costs_keep_the_cheapest_pairs_and_cap_at_the_first_left_out(seed):
    C, _, _ = instance(seed)
    T = 1 + seed % (C.shape[1] - 1)
    S = SparseCosts(C, T)
    assert S.site.shape == (C.shape[0], T)
    assert np.array_equal(np.take_along_axis(C, S.site, axis=1), S.cost)
    assert (np.diff(S.cost, axis=1) >= 0).all()
    for i in range(C.shape[0]):
        left_out = np.setdiff1d(np.arange(C.shape[1]), S.site[i])
        assert len(set(S.site[i].tolist())) == T
        assert S.cap[i] == C[i, left_out].min()
        assert S.cost[i].max() <= S.cap[i]


@pytest.mark.parametrize("seed", SEEDS)
def test_sparse_tree_reaches_the_enumerated_optimum(seed):
    C, p, integer = instance(seed)
    plans = every_plan(C, p)
    optimum = min(plans.values())
    worst = max(plans, key=plans.get)
    lam = np.zeros(C.shape[0]) if seed % 3 else C.min(axis=1)
    res = lagrangian_tree(
        C,
        p,
        mask(C.shape[1], worst),
        plans[worst],
        lam,
        step=1.0 if integer else 0.0,
        gap_rel=0.0,
        prefix=1 + seed % 3,
    )
    assert res.complete
    assert res.plan.sum() == p
    assert res.cost == pytest.approx(plans[tuple(np.flatnonzero(res.plan))])
    assert res.cost == pytest.approx(optimum, abs=1e-9)
    assert optimum - 1e-9 * optimum <= res.bound <= optimum + 1e-9


@pytest.mark.parametrize("seed", SEEDS)
def test_sparse_tree_cut_short_keeps_a_valid_bound(seed):
    C, p, integer = instance(seed)
    plans = every_plan(C, p)
    optimum = min(plans.values())
    worst = max(plans, key=plans.get)
    res = lagrangian_tree(
        C,
        p,
        mask(C.shape[1], worst),
        plans[worst],
        C.max(axis=1),  # multipliers above every cap: clipped, still valid
        step=1.0 if integer else 0.0,
        max_work=float(C.shape[0] * 2 * (1 + seed % 5)),
        prefix=2,
    )
    assert res.bound <= optimum + 1e-9
    assert res.cost >= optimum - 1e-9
    assert res.cost == pytest.approx(plans[tuple(np.flatnonzero(res.plan))])


@pytest.mark.parametrize("seed", SEEDS)
def test_sparse_node_bound_and_fixings_hold_for_every_strictly_better_plan(seed):
    # A node with one site closed and one open, priced on 2 or 3 pairs per
    # point: its bound and fixings are checked against every plan of the node.
    C, p, integer = instance(seed)
    m = C.shape[1]
    plans = every_plan(C, p)
    rng = np.random.default_rng(seed)
    j_open, j_closed = (int(j) for j in rng.choice(m, 2, replace=False))
    cols = np.setdiff1d(np.arange(m), [j_closed])
    is_open = cols == j_open
    node = {S: c for S, c in plans.items() if j_open in S and j_closed not in S}
    upper = float(np.median(list(node.values())))
    step = 1.0 if integer else 0.0
    S = SparseCosts(C, 2 + seed % 2)
    lam = C.min(axis=1) + rng.random(C.shape[0]) * 10
    nb = node_bound(C, is_open, p - 1, lam, upper, step, 0.0, sparse=S, cols=cols)
    assert nb.bound <= min(node.values()) + 1e-9
    upper = min(upper, nb.best_cost)
    better = upper - step if step else upper - 1e-9 * upper
    for plan, cost in node.items():
        pos = np.searchsorted(cols, list(plan))
        cut_off = nb.fix_closed[pos].any() or not (
            set(np.flatnonzero(nb.fix_open)) <= set(pos.tolist())
        )
        if cost <= better - 1e-9:
            assert not cut_off, (plan, cost, upper)
        if cut_off:
            assert cost >= nb.excluded - 1e-9, (plan, cost, nb.excluded)
    if nb.best_plan is not None:
        chosen = tuple(cols[nb.best_plan].tolist())
        assert nb.best_cost == pytest.approx(plans[chosen])


def test_solve_prices_large_trees_sparsely_and_proves_the_enumerated_optimum(
    monkeypatch,
):
    # Above SPARSE_CELLS the tree keeps tree_prefix(m, p) sites per point:
    # lowered to every model and 3 sites, the solve still proves the optimum.
    from optimization import pmedian_tree, radius

    prefixes = []

    def spy(*args, **kwargs):
        prefixes.append(kwargs["prefix"])
        return lagrangian_tree(*args, **kwargs)

    monkeypatch.setattr(radius, "lagrangian_tree", spy)
    monkeypatch.setattr(radius, "SPARSE_CELLS", 0)
    monkeypatch.setattr(radius, "tree_prefix", lambda m, p: 3)
    built = []
    real = pmedian_tree.SparseCosts

    def sparse(C, T):
        built.append(T)
        return real(C, T)

    monkeypatch.setattr(pmedian_tree, "SparseCosts", sparse)
    for seed in range(24):
        D = road_graph(seed)
        if D is None:
            continue
        p = 3 + seed % 2
        model = PMedian.from_cost_matrix(D, np.ones(len(D)), p).solve()
        best = min(every_plan(D, p).values())
        assert model.status == "optimal", seed
        assert model.objective == best and model.bound == best, seed
    assert prefixes and set(prefixes) == {3}
    assert built and set(built) == {3}


@pytest.mark.parametrize("seed", SEEDS)
def test_tree_tells_its_bound_as_it_rises_and_never_past_the_optimum(seed):
    C, p, integer = instance(seed)
    plans = every_plan(C, p)
    optimum = min(plans.values())
    worst = max(plans, key=plans.get)
    told = []
    res = lagrangian_tree(
        C,
        p,
        mask(C.shape[1], worst),
        plans[worst],
        np.zeros(C.shape[0]),
        step=1.0 if integer else 0.0,
        on_prove=told.append,
        prefix=None if seed % 2 else 2,
    )
    assert all(b <= optimum + 1e-9 for b in told)
    assert told == sorted(told)
    if res.nodes > 1:
        assert told and told[-1] <= res.bound + 1e-9


def test_solve_progress_shows_the_tree_bound_while_it_runs(monkeypatch):
    # The display's bound during the tree is the tree's (it rises above the
    # stage's), not the Lagrangian stage's alone.
    from optimization import radius
    from optimization.solver import SolveProgress

    seen = []
    told = 0

    def spy(*args, **kwargs):
        prove = kwargs["on_prove"]

        def record(bound):
            seen.append(bound)
            prove(bound)

        kwargs["on_prove"] = record
        return lagrangian_tree(*args, **kwargs)

    monkeypatch.setattr(radius, "lagrangian_tree", spy)
    for seed in range(24):
        D = road_graph(seed)
        if D is None:
            continue
        p = 3 + seed % 2
        progress = SolveProgress()
        model = PMedian.from_cost_matrix(D, np.ones(len(D)), p).solve(progress=progress)
        best = min(every_plan(D, p).values())
        assert all(b <= best for b in seen)
        assert progress.snapshot()["bound"] == model.bound == best
        told += len(seen)
        seen.clear()
    assert told
