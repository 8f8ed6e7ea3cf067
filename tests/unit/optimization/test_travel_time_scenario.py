"""Scenarios on travel times: the spec's ``travel_time`` kind, the matrix handed by
the network, communes the roads do not reach, and the access figures in minutes."""

from __future__ import annotations

import numpy as np
import pytest

from optimization.scenario import NetworkInputs, load_spec, run_scenario
from optimization.spec import ScenarioError

INF = np.inf
# 4 communes x (2 centers, 1 candidate), minutes; commune D reaches nothing
MINUTES = np.array(
    [
        [10.0, 50.0, 40.0],
        [45.0, 20.0, 25.0],
        [90.0, 70.0, 15.0],
        [INF, INF, INF],
    ]
)


def network(times=MINUTES, calls=None) -> NetworkInputs:
    def travel_times(mode, season, cutoff):
        if calls is not None:
            calls.append((mode, season, cutoff))
        return times

    return NetworkInputs(
        commune_ids=["A", "B", "C", "D"],
        commune_names=["A", "B", "C", "D"],
        department_ids=["D1"] * 4,
        department_names=["D1"] * 4,
        region_ids=["R1"] * 4,
        region_names=["R1"] * 4,
        population=[100.0, 200.0, 300.0, 400.0],
        lon=[0.0, 0.1, 0.2, 0.3],
        lat=[0.0] * 4,
        center_ids=["S1", "S2"],
        center_names=["S1", "S2"],
        center_lon=[0.0, 0.1],
        center_lat=[0.0, 0.0],
        center_capacity=[1000.0, 1000.0],
        center_staff=[1.0, 1.0],
        center_status=["open", "open"],
        candidate_ids=["K1"],
        candidate_names=["K1"],
        candidate_lon=[0.2],
        candidate_lat=[0.0],
        candidate_opening_cost=[1.0],
        candidate_capacity=[1000.0],
        travel_times=travel_times,
    )


SPEC = {
    "model": "pmedian",
    "parameters": {"p": 2},
    "sites": {"closable": True},
    "distance": {"kind": "travel_time", "mode": "walking", "season": "rainy"},
    "report_radius": 30,
}


def test_spec_accepts_travel_time_and_names_bad_keys():
    spec = load_spec(SPEC)
    assert spec.distance == {"kind": "travel_time", "missing": "error", "unit": "min",
                             "mode": "walking", "season": "rainy"}  # fmt: skip
    default = load_spec({"model": "pmedian", "distance": {"kind": "travel_time"}})
    assert (default.distance["mode"], default.distance["season"]) == (
        "motorised",
        "dry",
    )
    bad = [
        ({"kind": "travel_time", "mode": "car"}, r"'distance.mode' should be one of"),
        ({"kind": "travel_time", "season": "wet"}, r"'distance.season' should be one"),
        ({"mode": "walking"}, r"sets 'mode' but 'kind' is not 'travel_time'"),
        ({"kind": "travel_time", "unit": "km"}, r"'unit' should be 'min'"),
        (
            {"kind": "travel_time", "cutoff_min": 0},
            r"'distance.cutoff_min' should be >=",
        ),
    ]
    for distance, message in bad:
        with pytest.raises(ScenarioError, match=message):
            load_spec({"model": "pmedian", "distance": distance})


def test_pmedian_on_minutes_leaves_out_unreachable_communes_with_a_note():
    calls = []
    result = run_scenario(load_spec(SPEC), network(calls=calls))
    assert calls == [("walking", "rainy", None)]
    # S1+S2: 100*10 + 200*20 + 300*70 = 26,000; S1+K1: 1,000 + 200*25 + 300*15 = 10,500;
    # S2+K1: 100*40 + 200*20 + 300*15 = 12,500
    assert result.report.objective == pytest.approx(10_500)
    status = dict(zip(result.centers["site_id"], result.centers["status"], strict=True))
    assert status == {"S1": "kept", "S2": "closed", "K1": "opened"}
    assert any("reach no site on the roads" in n and "'D'" in n
               for n in result.summary["notes"])  # fmt: skip
    assert result.summary["units"]["distance"] == "min"
    tt = result.summary["travel_time"]
    assert (tt["mode"], tt["season"]) == ("walking", "rainy")
    # before: A 10 min, B 20, C 70 (S1, S2 open), D unreachable (population 400 of 1000)
    assert tt["before"]["mean_minutes"] == pytest.approx((1000 + 4000 + 21000) / 600)
    assert tt["before"]["within_30_min"] == pytest.approx(0.3)
    assert tt["before"]["unreachable"] == pytest.approx(0.4)
    assert tt["after"]["within_30_min"] == pytest.approx(0.6)


def test_no_road_network_is_a_clear_refusal():
    with pytest.raises(ScenarioError, match="needs a road network"):
        run_scenario(load_spec(SPEC), network(times=None))


def test_no_commune_reaching_any_site_is_refused():
    with pytest.raises(ScenarioError, match="no commune reaches any site"):
        run_scenario(load_spec(SPEC), network(times=np.full((4, 3), INF)))


def test_coverage_radius_in_minutes():
    spec = load_spec({**SPEC, "model": "mclp", "parameters": {"p": 1,
                                                              "service_radius": 30}})  # fmt: skip
    result = run_scenario(spec, network())
    # one site within 30 min: S2 covers B (200), K1 covers B and C (500)
    assert result.report.objective == pytest.approx(500)


def test_pcenter_and_equity_in_minutes():
    spec = load_spec({**SPEC, "model": "pcenter", "parameters": {"p": 1}})
    result = run_scenario(spec, network())
    # worst time of A, B, C: S1 90, S2 70, K1 40 (D reaches nothing: left out)
    assert result.report.objective == pytest.approx(40)

    def equity(share):
        return load_spec(
            {**SPEC, "parameters": {"p": 1},
             "equity": {"level": "department", "radius": 30, "min_share": share}}
        )  # fmt: skip

    # within 30 min: S1 serves A (100), S2 B (200), K1 B and C (500 of the 600
    # known): one site reaches 83 % at best
    result = run_scenario(equity(0.8), network())
    status = dict(zip(result.centers["site_id"], result.centers["status"], strict=True))
    assert status["K1"] == "opened"
    with pytest.raises(ScenarioError, match="minimum coverage shares"):
        run_scenario(equity(0.9), network())
