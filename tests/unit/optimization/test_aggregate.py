"""Demand aggregation: determinism, conservation, and a gap that is really proven."""

from __future__ import annotations

import numpy as np
import pytest

from optimization import scenario as scenario_mod
from optimization.aggregate import aggregate_points, aggregation_error
from optimization.scenario import (
    NetworkInputs,
    ScenarioError,
    load_spec,
    run_scenario,
)
from optimization.solver import relative_gap


def random_network(n=300, m_existing=4, m_cand=36, seed=0):
    # Communes in a 2 x 2 degree box in West Africa, two departments split at
    # a longitude; sites drawn from the same box.
    rng = np.random.default_rng(seed)
    lon = rng.uniform(-2.0, 0.0, n)
    lat = rng.uniform(12.0, 14.0, n)
    m = m_existing + m_cand
    slon = rng.uniform(-2.0, 0.0, m)
    slat = rng.uniform(12.0, 14.0, m)
    dep = np.where(lon < -1.0, "D1", "D2")
    return NetworkInputs(
        commune_ids=[f"c{i}" for i in range(n)],
        commune_names=[f"C{i}" for i in range(n)],
        department_ids=list(dep),
        department_names=list(dep),
        region_ids=["R"] * n,
        region_names=["R"] * n,
        population=rng.integers(100, 5000, n).astype(float),
        lon=lon,
        lat=lat,
        center_ids=[f"E{j}" for j in range(m_existing)],
        center_names=[f"E{j}" for j in range(m_existing)],
        center_lon=slon[:m_existing],
        center_lat=slat[:m_existing],
        center_capacity=[1e6] * m_existing,
        center_staff=[1] * m_existing,
        center_status=["open"] * m_existing,
        candidate_ids=[f"N{j}" for j in range(m_cand)],
        candidate_names=[f"N{j}" for j in range(m_cand)],
        candidate_lon=slon[m_existing:],
        candidate_lat=slat[m_existing:],
        candidate_opening_cost=[0.0] * m_cand,
        candidate_capacity=[1e6] * m_cand,
    )


def test_aggregate_points_deterministic_and_conserves_weight():
    rng = np.random.default_rng(1)
    lon, lat = rng.uniform(-5, 5, 500), rng.uniform(5, 15, 500)
    w = rng.uniform(0, 10, 500)
    groups = np.where(lat < 10, "a", "b")
    a = aggregate_points(lon, lat, w, 40, groups=groups, seed=3)
    b = aggregate_points(lon, lat, w, 40, groups=groups, seed=3)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    alon, alat, aw, mapping = a
    assert len(aw) <= 40
    assert aw.sum() == pytest.approx(w.sum())
    np.testing.assert_allclose(np.bincount(mapping, weights=w), aw)
    # Aggregates never straddle groups.
    for k in range(len(aw)):
        assert len(set(groups[mapping == k])) == 1


def test_aggregate_points_identity_and_errors():
    lon, lat, w = [0.0, 1.0, 2.0], [10.0, 10.0, 10.0], [1.0, 0.0, 2.0]
    alon, alat, aw, mapping = aggregate_points(lon, lat, w, 3)
    assert mapping.tolist() == [0, 1, 2] and aw.tolist() == w
    assert aggregation_error(lon, lat, w, alon, alat, mapping) == 0.0
    with pytest.raises(ValueError, match="below the number of groups"):
        aggregate_points(lon, lat, w, 1, groups=["a", "b", "c"])
    with pytest.raises(ValueError, match="negative"):
        aggregate_points(lon, lat, [1.0, -1.0, 0.0], 2)
    # A zero-demand group still gets an aggregate, with weight 0.
    _, _, aw, _ = aggregate_points(lon, lat, w, 2, groups=["a", "b", "a"])
    assert sorted(aw.tolist()) == [0.0, 3.0]


def test_max_points_at_least_n_equals_unaggregated_solve():
    net = random_network(n=120, seed=2)
    base = {"model": "pmedian", "parameters": {"p": 4}}
    plain = run_scenario(load_spec(base), net)
    agg = run_scenario(load_spec({**base, "aggregate": {"max_points": 500}}), net)
    assert agg.summary["aggregation"] == {
        **agg.summary["aggregation"],
        "points": 120,
        "communes": 120,
        "error_bound": 0.0,
    }
    assert agg.report.objective == pytest.approx(plain.report.objective)
    assert agg.report.status == plain.report.status == "optimal"
    assert agg.centers["status"].tolist() == plain.centers["status"].tolist()
    assert agg.assignments["site_id"].tolist() == plain.assignments["site_id"].tolist()
    assert agg.summary["kpis"]["after"] == pytest.approx(plain.summary["kpis"]["after"])


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_proven_gap_bounds_distance_to_true_optimum(seed):
    net = random_network(seed=seed)
    base = {"model": "pmedian", "parameters": {"p": 6}}
    exact = run_scenario(load_spec(base), net)
    assert exact.report.status == "optimal"
    opt = exact.report.objective
    agg = run_scenario(load_spec({**base, "aggregate": {"max_points": 40}}), net)
    rep, info = agg.report, agg.summary["aggregation"]
    assert info["points"] <= 40 and info["error_bound"] > 0
    assert rep.bound <= opt * (1 + 1e-9) <= rep.objective * (1 + 1e-9)
    assert rep.gap >= relative_gap(rep.objective, opt) - 1e-9
    agg_bound = rep.details["aggregated_bound"] - info["error_bound"]
    assert rep.details["aggregation_bound"] == pytest.approx(agg_bound)
    assert agg_bound <= opt
    assert rep.details["lagrangian_bound"] <= opt * (1 + 1e-9)
    assert rep.bound == max(agg_bound, rep.details["lagrangian_bound"])
    # The Lagrangian bound on every commune is far tighter than the aggregation one.
    assert rep.gap < 0.05 < relative_gap(rep.objective, agg_bound)
    # The true objective is the one of the communes' nearest open sites.
    w = agg.assignments["demand"].to_numpy()
    assert rep.objective == pytest.approx(w @ agg.assignments["distance"].to_numpy())


def test_aggregate_spec_validates():
    spec = load_spec({"model": "pmedian", "aggregate": {"max_points": 50}})
    assert spec.aggregate == {"max_points": 50, "enabled": True}
    assert spec.to_dict()["aggregate"] == spec.aggregate
    assert load_spec({"model": "pmedian"}).aggregate is None
    with pytest.raises(ScenarioError, match=r"'aggregate.max_points' should be >= 1"):
        load_spec({"model": "pmedian", "aggregate": {"max_points": 0}})
    with pytest.raises(ScenarioError, match="unknown keys in 'aggregate'"):
        load_spec({"model": "pmedian", "aggregate": {"points": 5}})
    with pytest.raises(ScenarioError, match="model 'mclp'"):
        load_spec(
            {
                "model": "mclp",
                "parameters": {"p": 2, "service_radius": 10},
                "aggregate": {"max_points": 5},
            }
        )
    with pytest.raises(ScenarioError, match="'parameters.capacitated'"):
        load_spec(
            {
                "model": "pmedian",
                "parameters": {"capacitated": True},
                "aggregate": {},
            }
        )
    with pytest.raises(ScenarioError, match="'parameters.max_distance'"):
        load_spec(
            {
                "model": "pmedian",
                "parameters": {"max_distance": 30},
                "aggregate": {},
            }
        )
    # Switching aggregation off is allowed for every model.
    off = load_spec(
        {
            "model": "mclp",
            "parameters": {"p": 2, "service_radius": 10},
            "aggregate": {"enabled": False},
        }
    )
    assert off.aggregate["enabled"] is False


def test_precomputed_matrix_refuses_explicit_aggregation():
    net = random_network(n=50, seed=4)
    spec = load_spec({"model": "pmedian", "parameters": {"p": 2}, "aggregate": {}})
    with pytest.raises(ScenarioError, match="precomputed cost matrix"):
        run_scenario(spec, net, cost_matrix=np.ones((50, 40)))


def test_threshold_triggers_aggregation(monkeypatch):
    net = random_network(n=300, seed=5)
    spec = load_spec({"model": "pmedian", "parameters": {"p": 5}})
    assert "aggregation" not in run_scenario(spec, net).summary
    monkeypatch.setattr(scenario_mod, "AGGREGATE_POINTS", 30)
    res = run_scenario(spec, net, aggregate_threshold=300 * 40 - 1)
    assert res.summary["aggregation"]["points"] <= 30
    assert res.summary["aggregation"]["communes"] == 300
    assert len(res.assignments) == 300
    # Switched off, or a model the bound does not cover: no aggregation.
    off = load_spec(
        {"model": "pmedian", "parameters": {"p": 5}, "aggregate": {"enabled": False}}
    )
    assert "aggregation" not in run_scenario(off, net, aggregate_threshold=1).summary
    mclp = load_spec({"model": "mclp", "parameters": {"p": 5, "service_radius": 20}})
    assert "aggregation" not in run_scenario(mclp, net, aggregate_threshold=1).summary
