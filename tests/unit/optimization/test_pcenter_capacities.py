"""The capacitated p-center against exhaustive enumeration on tiny instances."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy.optimize import linprog

from optimization import InfeasibleError, PCenter, SiteRules
from optimization.solver import solve_model
from tests.unit.optimization import bruteforce as bf

SEEDS = range(30)


def _single_fits(D, w, S, cap, radius):
    """Whether every point with demand goes to one site of S within ``radius``
    without a site serving more than its capacity (all assignments tried)."""
    pos = [i for i in np.argsort(-w) if w[i] > 0]
    load = dict.fromkeys(S, 0.0)

    def rec(t):
        if t == len(pos):
            return True
        i = pos[t]
        for j in S:
            if D[i, j] <= radius and load[j] + w[i] <= cap[j] + 1e-9:
                load[j] += w[i]
                if rec(t + 1):
                    return True
                load[j] -= w[i]
        return False

    return rec(0)


def _split_fits(D, w, S, cap, radius):
    """The same with each point's demand shared between sites (an LP)."""
    pos = np.flatnonzero(w > 0)
    if not pos.size:
        return True
    S = list(S)
    n, k = pos.size, len(S)
    sub = D[np.ix_(pos, S)]
    bounds = [(0, 1 if sub[i, j] <= radius else 0) for i in range(n) for j in range(k)]
    A_eq = np.kron(np.eye(n), np.ones(k))
    A_ub = np.zeros((k, n * k))
    for j in range(k):
        A_ub[j, j::k] = w[pos]
    res = linprog(
        np.zeros(n * k),
        A_ub=A_ub,
        b_ub=[cap[j] for j in S],
        A_eq=A_eq,
        b_eq=np.ones(n),
        bounds=bounds,
        method="highs",
    )
    return res.status == 0


def brute_pcenter(D, w, p, cap, split=False, max_distance=None, **rules):
    """Smallest worst distance over every open set and assignment (inf: none)."""
    if max_distance is not None:
        D = np.where(max_distance < D, np.inf, D)
    fits = _split_fits if split else _single_fits
    levels = sorted({0.0, *D[np.isfinite(D)].ravel().tolist()})
    best = math.inf
    for S, _ in bf.subsets(D.shape[1], p, **rules):
        for r in levels:
            if r >= best:
                break
            if fits(D, w, S, cap, r):
                best = r
                break
    return best


def loads(model, w):
    alloc = model.allocation
    return np.asarray(alloc.multiply(w[:, None]).sum(axis=0)).ravel()


def instance(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 7))
    m = int(rng.integers(2, 5))
    D = rng.integers(0, 30, (n, m)).astype(float)
    w = rng.integers(0, 6, n).astype(float)
    p = int(rng.integers(1, m + 1))
    # tight capacities: often binding, sometimes infeasible
    cap = rng.integers(1, max(2, int(w.sum() * 2 / p) + 2), m).astype(float)
    return rng, D, w, p, cap


def check(model, expected, D, w, cap):
    if math.isinf(expected):
        with pytest.raises(InfeasibleError):
            model.solve()
        return
    model.solve()
    assert model.status == "optimal"
    assert model.objective == pytest.approx(expected)
    load = loads(model, w)
    assert np.all(load <= cap + 1e-6)
    assert set(np.flatnonzero(load > 1e-9)) <= set(model.open_sites.tolist())
    # every point with demand is fully served, within the objective
    alloc = model.allocation.toarray()
    pos = w > 0
    assert np.allclose(alloc[pos].sum(axis=1), 1.0)
    assert np.all(D[alloc > 1e-9] <= model.objective + 1e-9)


@pytest.mark.parametrize("seed", SEEDS)
def test_single_assignment_matches_enumeration(seed):
    _, D, w, p, cap = instance(seed)
    m = D.shape[1]
    model = PCenter.from_cost_matrix(D, w, p, SiteRules.build(m, capacities=cap))
    check(model, brute_pcenter(D, w, p, cap), D, w, cap)
    if model.allocation is not None:
        assert np.all(np.isin(model.allocation.data, [1.0]))  # one site a point


@pytest.mark.parametrize("seed", SEEDS)
def test_split_assignment_matches_enumeration(seed):
    _, D, w, p, cap = instance(seed + 100)
    m = D.shape[1]
    model = PCenter.from_cost_matrix(
        D, w, p, SiteRules.build(m, capacities=cap), split=True
    )
    check(model, brute_pcenter(D, w, p, cap, split=True), D, w, cap)


@pytest.mark.parametrize("seed", SEEDS)
def test_capacities_with_site_rules_and_distance_cap(seed):
    rng, D, w, p, cap = instance(seed + 200)
    m = D.shape[1]
    existing = [j for j in range(m) if rng.random() < 0.5] or [0]
    rules = {
        "existing": existing,
        "locked": [existing[0]] if rng.random() < 0.3 else [],
        "forbidden": [j for j in range(m) if j not in existing and rng.random() < 0.2],
        "opening_cost": rng.integers(1, 10, m).astype(float),
        "budget": float(rng.integers(0, 15)),
        "max_new": int(rng.integers(0, m)),
    }
    limit = float(rng.integers(15, 30))
    model = PCenter.from_cost_matrix(
        D,
        w,
        p,
        SiteRules.build(m, capacities=cap, **rules),
        max_distance=limit,
    )
    expected = brute_pcenter(D, w, p, cap, max_distance=limit, **rules)
    check(model, expected, D, w, cap)


def test_capacity_moves_a_point_off_its_nearest_site():
    # Both points are nearest to site 0, which can serve only one of them.
    D = np.array([[1.0, 5.0], [2.0, 9.0]])
    w = np.array([1.0, 1.0])
    free = PCenter.from_cost_matrix(D, w, 2).solve()
    assert free.objective == 2.0
    model = PCenter.from_cost_matrix(
        D, w, 2, SiteRules.build(2, capacities=[1.0, 1.0])
    ).solve()
    # point 1 at site 0 (2), point 0 at site 1 (5): worst 5, not 9
    assert model.objective == 5.0
    assert model.assignment.tolist() == [1, 0]
    assert loads(model, w).tolist() == [1.0, 1.0]


def test_split_without_capacities_is_refused():
    with pytest.raises(ValueError, match="'split' needs capacities"):
        PCenter.from_cost_matrix(np.ones((2, 2)), [1, 1], 1, split=True)


def test_capacity_modules_are_refused():
    rules = SiteRules.build(
        2, capacities=[1, 1], module_size=[1, 1], module_cost=[1, 1], max_modules=[1, 1]
    )
    with pytest.raises(ValueError, match="does not take module_size"):
        PCenter.from_cost_matrix(np.ones((2, 2)), [1, 1], 1, rules)


def test_enumeration_reference_sees_capacity():
    # the reference itself: one site of capacity 1 cannot serve two points
    D = np.zeros((2, 1))
    assert math.isinf(brute_pcenter(D, np.ones(2), 1, [1.0]))
    assert brute_pcenter(D, np.ones(2), 1, [2.0]) == 0.0
    assert list(itertools.islice(bf.subsets(2, 1), 2))


@pytest.mark.parametrize("split", [False, True])
@pytest.mark.parametrize("seed", range(8))
def test_one_model_formulation_agrees_with_the_bisection(seed, split):
    # build_model (the PuLP export) states the same capacitated problem
    _, D, w, p, cap = instance(seed + 300)
    m = D.shape[1]
    expected = brute_pcenter(D, w, p, cap, split=split)
    model = PCenter.from_cost_matrix(
        D, w, p, SiteRules.build(m, capacities=cap), split=split
    )
    values, report = solve_model(model.build_model())
    if math.isinf(expected):
        assert values is None
    else:
        assert report.objective == pytest.approx(expected)


def test_a_capacitated_min_max_scenario_respects_capacities():
    # The scenario's p-center imposes the capacities it is asked for: with two
    # candidate sites of 40 requests/week, the free plan overloads one (45); the
    # capacitated plan serves a commune farther and overloads none.
    from optimization.scenario import load_spec, run_scenario
    from tests.unit.optimization.test_scenario import network

    net = network(candidate_capacity=[40.0, 40.0])

    def run(capacitated):
        spec = load_spec(
            {
                "model": "pcenter",
                "demand": {"source": "requests"},
                "parameters": {"p": 3, "capacitated": capacitated},
            }
        )
        return run_scenario(spec, net)

    free, held = run(False), run(True)
    assert free.summary["kpis"]["after"]["overloaded_centers"] == 1
    assert free.summary["kpis"]["capacitated"] is False
    assert held.summary["kpis"]["capacitated"] is True
    assert held.summary["kpis"]["after"]["overloaded_centers"] == 0
    centers = held.centers
    assert (centers["assigned_demand"] <= centers["capacity"] + 1e-9).all()
    assert held.report.status == "optimal"
    assert held.report.objective == pytest.approx(31.45, abs=0.01)  # c3 to E2
    # the tables show the model's assignment, not each commune's nearest site
    assert held.assignments.set_index("commune_id").loc["c3", "site_id"] == "E2"
