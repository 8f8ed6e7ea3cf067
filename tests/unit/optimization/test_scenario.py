"""Scenario spec validation, runs on a hand-built network, and written outputs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from optimization.scenario import (
    NetworkInputs,
    ScenarioError,
    load_spec,
    run_scenario,
    write_outputs,
)


def network(**overrides):
    # Six communes on a line of longitudes at 45N (1 degree ~ 78.6 km), two
    # departments; two existing centers and two candidate sites.
    lon = [0.0, 0.1, 0.2, 1.0, 1.1, 1.2]
    data = {
        "commune_ids": [f"c{i}" for i in range(6)],
        "commune_names": ["Aa", "Bb", "Cc", "Dd", "Ee", "Ff"],
        "department_ids": ["01", "01", "01", "02", "02", "02"],
        "department_names": ["Ain"] * 3 + ["Aisne"] * 3,
        "region_ids": ["R1"] * 6,
        "region_names": ["Region"] * 6,
        "population": [1000, 2000, 500, 800, 1200, 300],
        "lon": lon,
        "lat": [45.0] * 6,
        "center_ids": ["E1", "E2"],
        "center_names": ["Centre 1", "Centre 2"],
        "center_lon": [0.1, 0.6],
        "center_lat": [45.0, 45.0],
        "center_capacity": [60.0, 40.0],
        "center_staff": [3, 2],
        "center_status": ["open", "open"],
        "candidate_ids": ["N1", "N2"],
        "candidate_names": ["Cand 1", "Cand 2"],
        "candidate_lon": [1.1, 0.2],
        "candidate_lat": [45.0, 45.0],
        "candidate_opening_cost": [100.0, 50.0],
        "candidate_capacity": [50.0, 50.0],
        "requests": [20.0, 30.0, 5.0, 15.0, 25.0, 5.0],
        "polygons": [box(x - 0.05, 44.95, x + 0.05, 45.05) for x in lon],
    }
    data.update(overrides)
    return NetworkInputs(**data)


def test_load_spec_from_file_and_defaults(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"model": "pmedian", "parameters": {"p": 2}}))
    spec = load_spec(path)
    assert spec.model == "pmedian"
    assert spec.demand["source"] == "population"
    assert spec.distance["kind"] == "great_circle"
    assert spec.base_dir == tmp_path


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        ({"model": "kmeans"}, "'model' should be one of"),
        ({"model": "pmedian", "colour": 1}, "unknown scenario keys"),
        ({"model": "pmedian", "parameters": {"p": 1.5}}, "whole number"),
        ({"model": "pmedian", "parameters": {"q": 1}}, "unknown keys in 'parameters'"),
        (
            {"model": "mclp", "parameters": {"p": 2}},
            "needs 'parameters.service_radius'",
        ),
        ({"model": "pcenter"}, "needs 'parameters.p'"),
        ({"model": "pmedian", "distance": {"kind": "matrix"}}, "matrix_csv"),
        ({"model": "pmedian", "solver": {"name": "gurobi"}}, "solver.name"),
        ({"model": "pmedian", "equity": {"radius": 5}}, "min_share"),
        ({"model": "pmedian", "equity": {"radius": 5, "min_share": 1.5}}, "<= 1.0"),
    ],
)
def test_load_spec_rejects_bad_input(raw, match):
    with pytest.raises(ScenarioError, match=match):
        load_spec(raw)


def test_load_spec_missing_file_and_bad_json(tmp_path):
    with pytest.raises(ScenarioError, match="does not exist"):
        load_spec(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{model: ")
    with pytest.raises(ScenarioError, match="not valid JSON"):
        load_spec(bad)


def test_network_inputs_checks_lengths():
    with pytest.raises(ScenarioError, match="'lat' has 2 entries, expected 6"):
        network(lat=[45.0, 45.0])
    with pytest.raises(ScenarioError, match="unique"):
        network(candidate_ids=["E1", "N2"])


def test_pmedian_scenario_outputs(tmp_path):
    spec = load_spec({"model": "pmedian", "parameters": {"p": 2}, "report_radius": 20})
    result = run_scenario(spec, network())
    assert result.report.status == "optimal"
    # p=2 on two clusters: one center near each cluster.
    opened = set(
        result.centers.loc[result.centers.status.isin(["kept", "opened"]), "site_id"]
    )
    assert opened == {"E1", "N1"}
    after = result.summary["kpis"]["after"]
    before = result.summary["kpis"]["before"]
    assert after["mean_distance"] < before["mean_distance"]
    assert result.summary["changes"] == {"kept": 1, "closed": 1, "opened": 1}
    paths = write_outputs(result, tmp_path / "out")
    summary = json.loads(paths["summary"].read_text())
    assert summary["solve"]["status"] == "optimal"
    assert summary["solve"]["gap"] == 0.0
    centers = pd.read_csv(paths["centers"])
    assert list(centers.columns[:4]) == ["site_id", "name", "lon", "lat"]
    assignments = pd.read_csv(paths["assignments"])
    assert len(assignments) == 6 and assignments["site_id"].notna().all()
    geo = json.loads(paths["geojson"].read_text())
    kinds = [f["properties"]["kind"] for f in geo["features"]]
    assert kinds.count("site") == 4 and kinds.count("commune") == 6
    assert geo["features"][-1]["geometry"]["type"] == "Polygon"


def test_capacitated_scenario_needs_request_units():
    spec = load_spec({"model": "pmedian", "parameters": {"p": 2, "capacitated": True}})
    with pytest.raises(ScenarioError, match="requests/week"):
        run_scenario(spec, network())


def test_capacitated_infeasible_is_explained():
    spec = load_spec(
        {
            "model": "pmedian",
            "demand": {"source": "requests"},
            "parameters": {"p": 1, "capacitated": True},
        }
    )
    with pytest.raises(ScenarioError, match="even the 1 largest sites offer only 60"):
        run_scenario(spec, network())


def test_distance_cap_infeasible_names_commune():
    spec = load_spec(
        {
            "model": "pmedian",
            "parameters": {"p": 1, "max_distance": 30},
            "sites": {"forbidden": ["N1", "N2", "E2"]},
        }
    )
    with pytest.raises(
        ScenarioError, match=r"commune Dd is 70\.\d km from every allowed site"
    ):
        run_scenario(spec, network())


def test_equity_and_locked_and_growth():
    spec = load_spec(
        {
            "model": "pmedian",
            "demand": {"source": "requests", "growth_rate": 0.1, "years": 2},
            "parameters": {"p": 2},
            "sites": {"locked": ["E2"]},
            "equity": {"level": "department", "radius": 10, "min_share": {"02": 0.5}},
        }
    )
    result = run_scenario(spec, network())
    status = dict(zip(result.centers.site_id, result.centers.status, strict=True))
    assert status["E2"] == "kept"
    assert status["N1"] == "opened"  # needed for department 02's coverage
    assert result.assignments["demand"].sum() == pytest.approx(100 * 1.21)


def test_forecast_demand_vector_and_mclp():
    spec = load_spec({"model": "mclp", "parameters": {"p": 1, "service_radius": 10}})
    result = run_scenario(spec, network(), demand=[0, 0, 0, 10, 10, 10])
    assert result.summary["covered_demand"] == pytest.approx(30)


def test_lscp_and_pcenter_scenarios():
    r = run_scenario(
        load_spec({"model": "lscp", "parameters": {"service_radius": 10}}), network()
    )
    assert r.report.objective == 2
    r = run_scenario(load_spec({"model": "pcenter", "parameters": {"p": 2}}), network())
    assert r.report.status == "optimal"


def test_reallocation_scenario(tmp_path):
    spec = load_spec(
        {
            "model": "reallocation",
            "demand": {"source": "requests"},
            "reallocation": {"objective": "unmet"},
        }
    )
    result = run_scenario(spec, network())
    assert (
        result.summary["reallocation"]["after"]
        <= result.summary["reallocation"]["before"]
    )
    assert result.centers["staff_after"].sum() == 5
    write_outputs(result, tmp_path)
    assert (tmp_path / "centers.csv").exists()


def test_matrix_csv_with_missing_pairs(tmp_path):
    net = network()
    rows = [
        (c, s, 10.0 + i + j)
        for i, c in enumerate(net.commune_ids)
        for j, s in enumerate(["E1", "E2", "N1", "N2"])
        if not (i == 0 and s == "N2")
    ]
    pd.DataFrame(rows, columns=["origin", "destination", "cost"]).to_csv(
        tmp_path / "t.csv", index=False
    )
    raw = {
        "model": "pmedian",
        "parameters": {"p": 1},
        "distance": {"kind": "matrix", "matrix_csv": "t.csv"},
    }
    (tmp_path / "s.json").write_text(json.dumps(raw))
    with pytest.raises(ScenarioError, match="missing 1 origin/destination pairs"):
        run_scenario(load_spec(tmp_path / "s.json"), net)
    raw["distance"]["missing"] = "forbid"
    (tmp_path / "s.json").write_text(json.dumps(raw))
    result = run_scenario(load_spec(tmp_path / "s.json"), net)
    assert result.summary["units"]["distance"] == "min"
    assert np.isfinite(result.assignments["distance"]).all()


@pytest.mark.parametrize(
    ("model", "cls"), [("pmedian", "PMedian"), ("reallocation", "CapacityReallocation")]
)
def test_solve_seconds_count_every_stage_not_only_the_last_solver_call(
    monkeypatch, model, cls
):
    import time

    from optimization import scenario as sc

    klass = getattr(sc, cls)
    real = klass.solve

    def with_a_first_stage(self, *args, **kwargs):
        time.sleep(0.3)  # a stage (heuristic, bound) before the solver's own call
        return real(self, *args, **kwargs)

    monkeypatch.setattr(klass, "solve", with_a_first_stage)
    raw = {"model": model, "demand": {"source": "requests"}}
    if model == "reallocation":
        raw["reallocation"] = {"objective": "unmet"}
    report = run_scenario(load_spec(raw), network()).report
    assert report.status == "optimal"
    assert report.build_seconds + report.solve_seconds >= 0.3
