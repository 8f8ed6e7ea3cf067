"""p-center's quick test per radius (reductions, cover search, LP bound).

Against enumeration of every plan on small instances with many tied
distances, locked/forbidden sites and a distance cap; the MIP-only path
(quick test switched off) must give the same optima.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from optimization import InfeasibleError, PCenter, SiteRules
from optimization import pcenter as pc
from tests.unit.optimization import bruteforce as bf

SEEDS = range(30)


def instance(seed):
    """Up to 18 points, 9 sites, distances 0-12 (many ties), locks, bans, cap."""
    rng = np.random.default_rng(seed + 900)
    n, m = int(rng.integers(8, 19)), int(rng.integers(4, 10))
    D = rng.integers(0, 13, (n, m)).astype(float)
    p = int(rng.integers(1, min(m, 5) + 1))
    locked = [int(rng.integers(m))] if rng.random() < 0.4 else []
    free = [j for j in range(m) if j not in locked]
    forbidden = [j for j in free if rng.random() < 0.2][: m - p]
    cap = float(rng.integers(6, 13)) if rng.random() < 0.3 else None
    w = np.where(rng.random(n) < 0.15, 0.0, 1.0)
    return D, w, p, locked, forbidden, cap


def expected(D, w, p, locked, forbidden, cap):
    return bf.pcenter(D[w > 0], p, max_distance=cap, locked=locked, forbidden=forbidden)


def model_of(D, w, p, locked, forbidden, cap):
    rules = SiteRules.build(D.shape[1], locked=locked, forbidden=forbidden)
    return PCenter.from_cost_matrix(D, w, p, rules, max_distance=cap)


def solve_and_check(case):
    best = expected(*case)
    if math.isinf(best):
        with pytest.raises(InfeasibleError):
            model_of(*case).solve()
        return None
    model = model_of(*case).solve()
    assert model.status == "optimal"
    assert model.objective == pytest.approx(best)
    assert model.bound == pytest.approx(best)
    D, w, p, locked, forbidden, _ = case
    opened = set(model.open_sites.tolist())
    assert len(opened) == p and set(locked) <= opened and not opened & set(forbidden)
    return model


@pytest.mark.parametrize("seed", SEEDS)
def test_quick_test_is_exact_at_every_radius(seed):
    """A 'plan' is a valid plan within the radius; 'none' only below the optimum."""
    D, w, p, locked, forbidden, cap = case = instance(seed)
    best = expected(*case)
    model = model_of(*case)
    Dm = np.where(model.allowed_pairs(), model.cost_matrix, np.inf)[w > 0]
    if not Dm.shape[0] or not np.isfinite(Dm.min(axis=1)).all():
        pytest.skip("a point without any allowed site")
    for radius in np.unique(Dm[np.isfinite(Dm) & (Dm.min(axis=1).max() <= Dm)]):
        for moves in (0, 50, pc.SEARCH_MOVES):
            kind, mask = model._quick_at(float(radius), Dm, None, None, moves)
            if kind == pc._PLAN:
                assert (
                    mask.sum() == p and mask[locked].all() and not mask[forbidden].any()
                )
                assert np.where(mask[None, :], Dm, np.inf).min(axis=1).max() <= radius
            elif kind == pc._NONE:
                assert radius < best
            else:
                assert kind == pc._OPEN


@pytest.mark.parametrize("seed", SEEDS)
def test_optimum_against_enumeration(seed):
    solve_and_check(instance(seed))


@pytest.mark.parametrize("seed", SEEDS)
def test_mip_only_gives_the_same_optimum(seed, monkeypatch):
    """With the quick test switched off, the covering MIPs decide every radius."""
    monkeypatch.setattr(PCenter, "_quick_at", lambda *a: (pc._OPEN, None))
    model = solve_and_check(instance(seed))
    if model is not None:
        decided = model.report.details["radii decided"]
        assert decided["search"] == decided["bound"] == 0 and decided["mip"] >= 1


def test_quick_test_decides_the_demo_like_radii_without_a_mip(monkeypatch):
    """On a plain instance every radius is settled by the search or the bounds
    except the one just below the optimum (at most a few MIPs)."""
    rng = np.random.default_rng(5)
    pts, sites = rng.random((120, 2)) * 100, rng.random((60, 2)) * 100
    D = np.hypot(*(pts[:, None, :] - sites[None, :, :]).transpose(2, 0, 1))
    first = PCenter.from_cost_matrix(D, np.ones(120), 6).solve()
    decided = first.report.details["radii decided"]
    assert first.status == "optimal" and decided["search"] >= 3
    assert decided["mip"] <= 3
    # the same run again: same steps, same plan (bounded by moves, not time)
    again = PCenter.from_cost_matrix(D, np.ones(120), 6).solve()
    assert again.report.details == first.report.details
    assert again.open_sites.tolist() == first.open_sites.tolist()
    # and the MIP-only path proves the same optimum
    monkeypatch.setattr(PCenter, "_quick_at", lambda *a: (pc._OPEN, None))
    mip = PCenter.from_cost_matrix(D, np.ones(120), 6).solve()
    assert mip.objective == pytest.approx(first.objective)
    assert mip.report.details["radii decided"]["search"] == 0


def test_too_many_forced_sites_prove_a_radius_infeasible():
    """Three points each reachable within 1 by one site only: at radius 1
    they force three sites, so p = 2 is infeasible there without any MIP."""
    D = np.array([[1.0, 5.0, 5.0], [5.0, 1.0, 5.0], [5.0, 5.0, 1.0]])
    model = PCenter.from_cost_matrix(D, np.ones(3), 2)
    Dm = model.cost_matrix
    assert model._quick_at(1.0, Dm, None)[0] == pc._NONE
    assert model._quick_at(5.0, Dm, None)[0] == pc._PLAN
    solved = PCenter.from_cost_matrix(D, np.ones(3), 2).solve()
    assert solved.objective == 5.0 and solved.bound == 5.0
    assert solved.report.details["radii decided"]["mip"] == 0


def test_lp_bound_proves_a_radius_infeasible():
    """A 5-cycle of points, each site covering two neighbours: the LP needs
    2.5 sites, so 2 sites cannot cover it (no forced site, the search fails)."""
    D = np.full((5, 5), 9.0)
    for j in range(5):
        D[j, j] = D[(j + 1) % 5, j] = 1.0
    model = PCenter.from_cost_matrix(D, np.ones(5), 2)
    assert model._lp_sites(sp.csr_matrix(D <= 1.0), None) == 3.0
    assert model._quick_at(1.0, D, None)[0] == pc._NONE


def test_lp_bound_equal_to_p_leaves_the_radius_to_the_mip():
    """Greedy needs 3 sites here, 2 suffice and the LP says 2: without search
    moves the quick test must leave radius 1 open (not call it infeasible),
    and the solve finds the 2-site plan."""
    A = np.array(
        [
            [1, 1, 1, 0, 0, 0, 1],
            [0, 0, 1, 0, 0, 1, 0],
            [0, 1, 0, 1, 1, 0, 0],
            [1, 0, 1, 0, 1, 0, 1],
            [0, 0, 0, 1, 1, 1, 1],
            [1, 0, 1, 1, 0, 0, 1],
            [1, 0, 1, 0, 1, 0, 1],
            [1, 0, 0, 1, 0, 0, 0],
        ],
        bool,
    )
    D = np.where(A, 1.0, 9.0)
    model = PCenter.from_cost_matrix(D, np.ones(8), 2)
    assert model._quick_at(1.0, D, None, None, 0)[0] == pc._OPEN
    assert PCenter.from_cost_matrix(D, np.ones(8), 2).solve().objective == 1.0


def test_covering_mip_runs_without_rens(monkeypatch):
    """The covering MIP of a radius skips HiGHS's RENS (half its time on the
    demo country) and still finds the plan."""
    seen = []
    solve = pc.solve_model

    def spy(*a, **k):
        seen.append(k.get("highs_options"))
        return solve(*a, **k)

    monkeypatch.setattr(pc, "solve_model", spy)
    D = np.array([[1.0, 5.0, 2.0], [5.0, 1.0, 2.0], [4.0, 4.0, 9.0]])
    model = PCenter.from_cost_matrix(D, np.ones(3), 2)
    open_mask, rep = model._feasible_at(4.0, None, None, False)
    assert rep.status == "optimal" and open_mask.sum() == 2
    assert np.where(open_mask[None, :], D, np.inf).min(axis=1).max() <= 4.0
    assert seen == [{"mip_heuristic_run_rens": False}]
