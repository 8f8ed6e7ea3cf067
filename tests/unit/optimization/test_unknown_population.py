"""Communes of unknown population in a plan: left out of the demand and said so,
never counted as 0 inhabitants; no demand at all is one clear refusal."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from dashapp.__main__ import main
from data.exports import summary_frame
from data.scenarios import ScenarioRecord
from data.store import Store
from geo.access import nearest_center
from optimization.network import network_from_store
from optimization.scenario import (
    NetworkInputs,
    NoDemandError,
    ScenarioError,
    known_demand,
    load_spec,
    run_scenario,
    scenario_demand,
)
from optimization.whatif import unknown_requests, with_unknown
from tests.tiny import new_country_bundle

NAN = float("nan")


def _network(population, requests=None, source="operations"):
    """Four communes on a line 10 km apart; candidates K0, K1, K2 at C2, C3, C4."""
    lon = [0.0, 0.09, 0.18, 0.27]
    return NetworkInputs(
        commune_ids=["C1", "C2", "C3", "C4"],
        commune_names=["c1", "c2", "c3", "c4"],
        department_ids=["D"] * 4,
        department_names=["d"] * 4,
        region_ids=["R"] * 4,
        region_names=["r"] * 4,
        population=population,
        lon=lon,
        lat=[0.0] * 4,
        center_ids=[],
        center_names=[],
        center_lon=[],
        center_lat=[],
        center_capacity=[],
        center_staff=[],
        center_status=[],
        candidate_ids=["K0", "K1", "K2"],
        candidate_names=["k0", "k1", "k2"],
        candidate_lon=lon[1:],
        candidate_lat=[0.0] * 3,
        candidate_opening_cost=[0.0] * 3,
        candidate_capacity=[100.0] * 3,
        requests=requests,
        requests_source=source,
    )


def test_known_demand_leaves_unknown_out_and_refuses_nothing_to_plan():
    w, unknown = known_demand([4.0, NAN, 0.0, 1.0])
    assert w.tolist() == [4.0, 0.0, 0.0, 1.0]
    assert unknown.tolist() == [False, True, False, False]
    with pytest.raises(NoDemandError, match="no demand to plan for") as exc:
        known_demand([NAN, NAN, NAN])
    assert exc.value.reason == "unknown" and exc.value.communes == 3
    assert "import --population" in str(exc.value)
    with pytest.raises(NoDemandError, match="zero in every commune") as exc:
        known_demand([0.0, NAN])
    assert exc.value.reason == "zero"
    assert issubclass(NoDemandError, ScenarioError)  # callers catching it still do


def test_a_nan_population_is_unknown_demand_not_an_input_error():
    net = _network([100.0, NAN, 300.0, 400.0])
    weights, unit = scenario_demand(load_spec({"model": "pmedian"}), net)
    assert unit == "inhabitants" and np.isnan(weights[1])
    with pytest.raises(ScenarioError, match="'population' has NaN or negative"):
        _network([100.0, -1.0, 300.0, 400.0])
    per_capita = load_spec({"model": "pmedian",
                            "demand": {"requests_per_capita": 0.5}})  # fmt: skip
    assert np.isnan(scenario_demand(per_capita, net)[0][1])


def test_pmedian_plans_for_the_known_population_and_says_who_is_left_out():
    # C4 (400 inhabitants if known) unknown: K0 at C2 serves C1 and C3 at 10 km
    # (100 x 10 + 300 x 10 = 4000 inhabitant-km); with C4 counted K1 would win
    net = _network([100.0, 250.0, 300.0, NAN])
    spec = load_spec({"model": "pmedian", "parameters": {"p": 1},
                      "report_radius": 5.0})  # fmt: skip
    result = run_scenario(spec, net)
    opened = result.centers.loc[result.centers["status"] == "opened", "site_id"]
    assert opened.tolist() == ["K0"]
    assert result.report.objective == pytest.approx(4000, rel=1e-3)
    after = result.summary["kpis"]["after"]
    # weighted by the 650 known inhabitants, not by a 0 for C4
    assert after["mean_distance"] == pytest.approx(4000 / 650, rel=1e-3)
    assert after["share_within_radius"] == pytest.approx(250 / 650)
    assert result.summary["demand"] == {
        "communes": 4, "unknown_communes": 1, "unknown_examples": ["C4"]
    }  # fmt: skip
    table = result.assignments.set_index("commune_id")
    assert np.isnan(table.loc["C4", "demand"])  # n.d., never 0
    assert table.loc["C1", "demand"] == 100.0
    assert table.loc["C4", "site_id"] == "K0"  # still shown where it would go
    note = "1 of 4 communes have no known population (e.g. ['C4']): left out"
    assert any(n.startswith(note) for n in result.summary["notes"])
    geo = {f["properties"].get("commune_id"): f["properties"]
           for f in result.geojson["features"]}  # fmt: skip
    assert geo["C4"]["demand"] is None and geo["C1"]["demand"] == 100.0


def test_estimated_requests_of_unknown_population_are_left_out_too():
    net = _network([100.0, 250.0, 300.0, NAN], requests=[1.0, 2.5, 3.0, NAN],
                   source="estimated")  # fmt: skip
    spec = load_spec({"model": "pmedian", "parameters": {"p": 1},
                      "demand": {"source": "requests"}})  # fmt: skip
    result = run_scenario(spec, net)
    assert result.summary["demand"]["unknown_communes"] == 1
    assert np.isnan(result.assignments["demand"].iloc[3])
    assert unknown_requests(net).tolist() == [False, False, False, True]


def test_screen_demand_marks_its_unknown_communes_for_the_engine():
    net = _network([100.0, 250.0, 300.0, NAN], requests=[1.0, 2.5, 3.0, NAN],
                   source="estimated")  # fmt: skip
    demand = with_unknown(np.array([1.0, 2.5, 3.0, 0.0]), unknown_requests(net))
    spec = load_spec({"model": "pmedian", "parameters": {"p": 1}})
    result = run_scenario(spec, net, demand=demand)
    assert result.summary["demand"]["unknown_communes"] == 1
    everywhere = with_unknown(np.zeros(4), np.ones(4, dtype=bool))
    with pytest.raises(NoDemandError, match="none of the 4 communes"):
        run_scenario(spec, net, demand=everywhere)


def test_no_population_anywhere_is_one_refusal_saying_what_to_import():
    net = _network([NAN] * 4)
    for demand in ({}, {"source": "requests"}, {"requests_per_capita": 0.1}):
        spec = load_spec({"model": "pmedian", "parameters": {"p": 1},
                          "demand": demand})  # fmt: skip
        with pytest.raises(NoDemandError, match="no demand to plan for") as exc:
            run_scenario(spec, net)
        assert exc.value.reason == "unknown"
        assert "import --operations" in str(exc.value)


def test_the_exported_summary_counts_the_communes_left_out():
    net = _network([100.0, 250.0, 300.0, NAN])
    result = run_scenario(load_spec({"model": "pmedian", "parameters": {"p": 1}}), net)
    record = ScenarioRecord(
        id=1, dataset_id=1, dataset_version="v", name="s", author="a", params={},
        summary=result.summary, centers=result.centers, communes=result.assignments,
        status="optimal", created_at=None, updated_at=None,
    )  # fmt: skip
    frame = summary_frame(record).set_index(["section", "name"])
    assert frame.loc[("demand", "unknown_communes"), "value"] == 1
    assert frame.loc[("demand", "communes"), "value"] == 4


@pytest.fixture
def partial_store(tmp_path):
    """Boundaries, population for C1-C3 only (a partial join), no operation."""
    store = Store(f"sqlite:///{tmp_path / 'dashapp.sqlite'}")
    store.upgrade()
    store.add_dataset(
        new_country_bundle(candidates=True, unknown=("C4",)),
        kind="imported",
        access=nearest_center,
    )
    return store


def test_store_network_keeps_unknown_population_unknown(partial_store):
    net = network_from_store(partial_store)
    assert np.isnan(net.population[3]) and net.population[0] == 1000.0
    # no estimate without population: unknown, not 0 requests
    assert net.requests_source == "estimated" and np.isnan(net.requests[3])


def _cli(store_dir, spec, out, capsys):
    scenario = store_dir / "s.json"
    scenario.write_text(json.dumps(spec))
    code = main(["optimize", "--scenario", str(scenario), "--out", str(out),
                 "--data-dir", str(store_dir)])  # fmt: skip
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("source", ["population", "requests"])
def test_cli_leaves_unknown_population_out_and_says_so(
    partial_store, tmp_path, capsys, source
):
    spec = {"model": "pmedian", "parameters": {"p": 1}, "demand": {"source": source}}
    code, out, err = _cli(tmp_path, spec, tmp_path / "out", capsys)
    assert code == 0, err
    assert "note: 1 of 4 communes have no known population (e.g. ['C4'])" in out
    rows = pd.read_csv(tmp_path / "out" / "assignments.csv", dtype={"demand": str})
    assert rows.set_index("commune_id")["demand"].isna().to_dict() == {
        "C1": False, "C2": False, "C3": False, "C4": True
    }  # fmt: skip
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["demand"]["unknown_communes"] == 1


def test_cli_without_any_population_nor_operations_is_exit_2(tmp_path, capsys):
    store = Store(f"sqlite:///{tmp_path / 'dashapp.sqlite'}")
    store.upgrade()
    bundle = new_country_bundle(candidates=True, unknown=("C1", "C2", "C3", "C4"))
    store.add_dataset(bundle, kind="imported", access=nearest_center)
    for demand in ({}, {"source": "requests"}):
        spec = {"model": "pmedian", "parameters": {"p": 1}, "demand": demand}
        code, out, err = _cli(tmp_path, spec, tmp_path / "out", capsys)
        assert code == 2 and out == ""
        assert err.startswith("error: no demand to plan for: none of the 4 communes")
        assert err.count("\n") == 1 and "Traceback" not in err
        assert not (tmp_path / "out").exists()
