"""Every model against exhaustive enumeration on many small random instances."""

from __future__ import annotations

import math

import numpy as np
import pytest

from optimization import (
    LSCP,
    MCLP,
    CapacityReallocation,
    EquityRule,
    InfeasibleError,
    PCenter,
    PMedian,
    SiteRules,
)
from tests.unit.optimization import bruteforce as bf

SEEDS = range(25)


def instance(seed, n=(3, 8), m=(2, 6)):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(*n))
    m = int(rng.integers(*m))
    D = rng.integers(0, 30, (n, m)).astype(float)
    w = rng.integers(0, 10, n).astype(float)
    return rng, D, w


def check(model_fn, expected, **solve):
    if math.isinf(expected):
        with pytest.raises(InfeasibleError):
            model_fn().solve(**solve)
        return None
    model = model_fn().solve(**solve)
    assert model.status == "optimal"
    assert model.objective == pytest.approx(expected, abs=1e-6)
    assert model.bound <= model.objective + 1e-6
    return model


@pytest.mark.parametrize("seed", SEEDS)
def test_pmedian_plain_locked_forbidden(seed):
    rng, D, w = instance(seed)
    m = D.shape[1]
    p = int(rng.integers(1, m + 1))
    check(lambda: PMedian.from_cost_matrix(D, w, p), bf.pmedian(D, w, p))
    locked = [int(rng.integers(m))]
    forbidden = [j for j in range(m) if j not in locked and rng.random() < 0.3]
    expected = bf.pmedian(D, w, p, locked=locked, forbidden=forbidden)
    model = check(
        lambda: PMedian.from_cost_matrix(
            D, w, p, SiteRules.build(m, locked=locked, forbidden=forbidden)
        ),
        expected,
    )
    if model is not None:
        assert set(locked) <= set(model.open_sites.tolist())
        assert not set(forbidden) & set(model.open_sites.tolist())
        # assignment is consistent with the reported objective
        assert float(w @ model.assigned_distance()) == pytest.approx(expected)


@pytest.mark.parametrize("seed", SEEDS)
def test_pmedian_max_distance_and_forbidden_pairs(seed):
    rng, D, w = instance(seed)
    m = D.shape[1]
    p = int(rng.integers(1, m + 1))
    D[rng.random(D.shape) < 0.15] = np.inf
    cap = float(rng.integers(10, 30))
    expected = bf.pmedian(D, w, p, max_distance=cap)
    check(lambda: PMedian.from_cost_matrix(D, w, p, max_distance=cap), expected)


@pytest.mark.parametrize("seed", SEEDS)
def test_pmedian_existing_network_budget_max_new(seed):
    rng, D, w = instance(seed)
    m = D.shape[1]
    existing = [j for j in range(m) if rng.random() < 0.5] or [0]
    oc = rng.integers(1, 10, m).astype(float)
    cc = rng.integers(0, 5, m).astype(float)
    budget = float(rng.integers(0, 15))
    max_new = int(rng.integers(0, m))
    cost_weight = float(rng.choice([0.0, 0.5]))
    rules = {
        "existing": existing,
        "opening_cost": oc,
        "closing_cost": cc,
        "budget": budget,
        "max_new": max_new,
    }
    expected = bf.pmedian(D, w, None, cost_weight=cost_weight, **rules)
    model = check(
        lambda: PMedian.from_cost_matrix(
            D, w, None, SiteRules.build(m, **rules), cost_weight=cost_weight
        ),
        expected,
    )
    if model is not None:
        opened = set(model.open_sites.tolist()) - set(existing)
        assert len(opened) <= max_new


@pytest.mark.parametrize("seed", SEEDS)
def test_pmedian_capacitated_single_and_split(seed):
    rng, D, w = instance(seed, n=(3, 7), m=(2, 5))
    m = D.shape[1]
    p = int(rng.integers(1, m + 1))
    caps = rng.integers(5, 25, m).astype(float)
    locked = [0] if rng.random() < 0.3 else []
    expected = bf.pmedian(D, w, p, capacities=caps, locked=locked)
    check(
        lambda: PMedian.from_cost_matrix(
            D, w, p, SiteRules.build(m, locked=locked, capacities=caps)
        ),
        expected,
    )
    expected = bf.pmedian(D, w, p, capacities=caps, split=True, locked=locked)
    model = check(
        lambda: PMedian.from_cost_matrix(
            D, w, p, SiteRules.build(m, locked=locked, capacities=caps), split=True
        ),
        expected,
    )
    if model is not None:
        load = np.asarray(model.allocation.multiply(w[:, None]).sum(axis=0)).ravel()
        assert np.all(load <= caps + 1e-6)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("split", [False, True])
def test_pmedian_capacitated_truncated_pairs_same_optimum(seed, split, monkeypatch):
    # One pair per point at first: the far columns are used and the pairs
    # grow until the relaxation's plan is a full plan, as on large instances.
    monkeypatch.setattr(PMedian, "pairs_per_point", 1)
    rng, D, w = instance(seed + 100, n=(5, 9), m=(3, 6))
    m = D.shape[1]
    p = int(rng.integers(1, m))
    caps = rng.integers(8, 30, m).astype(float)
    expected = bf.pmedian(D, w, p, capacities=caps, split=split)
    model = check(
        lambda: PMedian.from_cost_matrix(
            D, w, p, SiteRules.build(m, capacities=caps), split=split
        ),
        expected,
    )
    if model is not None:
        load = np.asarray(model.allocation.multiply(w[:, None]).sum(axis=0)).ravel()
        assert np.all(load <= caps + 1e-6)
        assert model.allocation.sum(axis=1).A1[w > 0] == pytest.approx(1.0)


@pytest.mark.parametrize("seed", range(10))
def test_pmedian_capacity_modules(seed):
    rng, D, w = instance(seed, n=(3, 6), m=(2, 4))
    m = D.shape[1]
    p = int(rng.integers(1, m + 1))
    caps = rng.integers(3, 15, m).astype(float)
    size, mcost = 5.0, 2.0
    sites = SiteRules.build(
        m, capacities=caps, module_size=size, module_cost=mcost, max_modules=2
    )
    model = PMedian.from_cost_matrix(D, w, p, sites, cost_weight=1.0)
    # reference: enumerate module counts per site
    best = math.inf
    for mods in np.ndindex(*([3] * m)):
        mods = np.array(mods)
        val = bf.pmedian(D, w, p, capacities=caps + size * mods)
        # modules only count on open sites; enumeration of all counts covers that
        best = min(best, val + mcost * mods.sum())
    check(lambda: model, best)


@pytest.mark.parametrize("seed", SEEDS)
def test_pmedian_equity_min_coverage(seed):
    rng, D, w = instance(seed)
    m = D.shape[1]
    p = int(rng.integers(1, m + 1))
    groups = rng.choice(["A", "B"], D.shape[0])
    share = float(rng.choice([0.5, 0.8]))
    radius = 10.0
    expected = bf.pmedian(D, w, p, groups=list(groups), radius=radius, share=share)
    check(
        lambda: PMedian.from_cost_matrix(
            D, w, p, equity=EquityRule.build(groups, D.shape[0], radius, share)
        ),
        expected,
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_mclp(seed):
    rng, D, w = instance(seed)
    m = D.shape[1]
    p = int(rng.integers(1, m + 1))
    forbidden = [m - 1] if m > p else []
    check(
        lambda: MCLP.from_cost_matrix(
            D, w, 10.0, p, SiteRules.build(m, forbidden=forbidden)
        ),
        bf.mclp(D, w, 10.0, p, forbidden=forbidden),
    )
    caps = rng.integers(3, 20, m).astype(float)
    check(
        lambda: MCLP.from_cost_matrix(
            D, w, 12.0, p, SiteRules.build(m, capacities=caps)
        ),
        bf.mclp(D, w, 12.0, p, capacities=caps),
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_lscp(seed):
    rng, D, _ = instance(seed)
    locked = [0] if rng.random() < 0.3 else []
    radius = float(rng.integers(5, 25))
    check(
        lambda: LSCP.from_cost_matrix(
            D, radius, None, SiteRules.build(D.shape[1], locked=locked)
        ),
        bf.lscp(D, radius, locked=locked),
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_pcenter(seed):
    rng, D, _ = instance(seed)
    m = D.shape[1]
    p = int(rng.integers(1, m + 1))
    forbidden = [j for j in range(m) if rng.random() < 0.2][: m - p]
    check(
        lambda: PCenter.from_cost_matrix(
            D, np.ones(D.shape[0]), p, SiteRules.build(m, forbidden=forbidden)
        ),
        bf.pcenter(D, p, forbidden=forbidden),
    )


def _site_rules(rng, m):
    """Existing network, locks, costs, budget and max new sites, drawn at random."""
    existing = [j for j in range(m) if rng.random() < 0.5] or [0]
    return {
        "existing": existing,
        "locked": [existing[0]] if rng.random() < 0.3 else [],
        "forbidden": [j for j in range(m) if j not in existing and rng.random() < 0.2],
        "opening_cost": rng.integers(1, 10, m).astype(float),
        "closing_cost": rng.integers(0, 5, m).astype(float),
        "budget": float(rng.integers(0, 15)),
        "max_new": int(rng.integers(0, m)),
    }


@pytest.mark.parametrize("seed", SEEDS)
def test_mclp_site_rules_and_equity(seed):
    rng, D, w = instance(seed + 300)
    n, m = D.shape
    p = int(rng.integers(1, m + 1))
    rules = _site_rules(rng, m)
    groups = list(rng.choice(["A", "B"], n))
    equity = EquityRule.build(groups, n, 15.0, 0.5)
    check(
        lambda: MCLP.from_cost_matrix(
            D, w, 10.0, p, SiteRules.build(m, **rules), equity=equity
        ),
        bf.mclp(D, w, 10.0, p, groups=groups, eq_radius=15.0, share=0.5, **rules),
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_pcenter_site_rules_and_distance_cap(seed):
    rng, D, _ = instance(seed + 400)
    n, m = D.shape
    p = int(rng.integers(1, m + 1))
    rules = _site_rules(rng, m)
    cap = float(rng.integers(15, 30))
    check(
        lambda: PCenter.from_cost_matrix(
            D, np.ones(n), p, SiteRules.build(m, **rules), max_distance=cap
        ),
        bf.pcenter(D, p, max_distance=cap, **rules),
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_lscp_existing_locked_forbidden(seed):
    rng, D, _ = instance(seed + 450)
    m = D.shape[1]
    existing = [j for j in range(m) if rng.random() < 0.5]
    locked = existing[:1]
    forbidden = [j for j in range(m) if j not in existing and rng.random() < 0.3]
    radius = float(rng.integers(5, 25))
    model = check(
        lambda: LSCP.from_cost_matrix(
            D,
            radius,
            None,
            SiteRules.build(m, existing, locked, forbidden),
        ),
        bf.lscp(D, radius, locked=locked, forbidden=forbidden),
    )
    if model is not None:
        assert set(locked) <= set(model.open_sites.tolist())
        assert not set(forbidden) & set(model.open_sites.tolist())


def compositions(total, m, lo, hi):
    if m == 1:
        if lo[0] <= total <= hi[0]:
            yield (total,)
        return
    for k in range(lo[0], min(hi[0], total) + 1):
        for rest in compositions(total - k, m - 1, lo[1:], hi[1:]):
            yield (k, *rest)


@pytest.mark.parametrize("seed", range(15))
@pytest.mark.parametrize("objective", ["unmet", "overload", "delay"])
def test_capacity_reallocation(seed, objective):
    rng = np.random.default_rng(seed)
    m = int(rng.integers(2, 5))
    staff = rng.integers(1, 4, m)
    rate = rng.integers(10, 30, m).astype(float)
    loads = rng.integers(0, 60, m).astype(float)
    total = int(staff.sum()) + int(rng.integers(0, 3))
    model = CapacityReallocation.from_loads(
        loads, rate * staff, staff, objective=objective, total_staff=total
    )
    best = math.inf
    for comp in compositions(total, m, [1] * m, [total] * m):
        best = min(best, model.evaluate(comp))
    if math.isinf(best):
        with pytest.raises(InfeasibleError, match="utilisation|serve"):
            model.solve()
        return
    model.solve()
    assert model.status == "optimal"
    assert model.objective == pytest.approx(best, rel=1e-6, abs=1e-6)
    assert model.staff_after.sum() == total


@pytest.mark.parametrize("seed", range(15))
@pytest.mark.parametrize("objective", ["unmet", "overload", "delay"])
def test_capacity_reallocation_with_a_hiring_budget(seed, objective):
    rng = np.random.default_rng(seed + 70)
    m = int(rng.integers(2, 4))
    staff = rng.integers(1, 4, m)
    rate = rng.integers(10, 30, m).astype(float)
    loads = rng.integers(0, 80, m).astype(float)
    cost, budget = 3.0, float(rng.integers(0, 10))
    model = CapacityReallocation.from_loads(
        loads, rate * staff, staff, objective=objective, budget=budget, staff_cost=cost
    )
    most = int(staff.sum()) + int(budget // cost)
    best = math.inf
    for total in range(m, most + 1):  # at least one agent per center
        for comp in compositions(total, m, [1] * m, [most] * m):
            best = min(best, model.evaluate(comp))
    if math.isinf(best):
        with pytest.raises(InfeasibleError):
            model.solve()
        return
    model.solve()
    assert model.status == "optimal"
    assert model.objective == pytest.approx(best, rel=1e-6, abs=1e-6)
    assert model.staff_after.sum() <= most


def test_pcenter_without_demand_opens_any_plan_meeting_the_rules():
    D = np.array([[1.0, 2.0, 9.0], [3.0, 4.0, 1.0]])
    model = PCenter.from_cost_matrix(
        D, [0, 0], 2, SiteRules.build(3, locked=[2])
    ).solve()
    assert model.status == "optimal" and model.objective == 0.0
    assert 2 in model.open_sites and model.open_sites.size == 2
