"""A country with no center yet, missing demand and missing capacities: planned, or
refused with a clear message, never a TypeError and never a silent zero."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from dashapp.__main__ import main
from data.store import Store
from geo.access import nearest_center
from optimization.network import network_from_store
from optimization.results import center_table, network_kpis
from optimization.scenario import (
    NetworkInputs,
    ScenarioError,
    _site_frame,
    load_spec,
    run_scenario,
)
from tests.tiny import new_country_bundle, tiny_bundle

NAN = float("nan")


def _network(centers=0, candidates=3, capacity=100.0, requests=None, **kw):
    """A line of four communes 10 km apart (0.09 degrees at the equator)."""
    lon = [0.0, 0.09, 0.18, 0.27]
    return NetworkInputs(
        commune_ids=["C1", "C2", "C3", "C4"],
        commune_names=["c1", "c2", "c3", "c4"],
        department_ids=["D"] * 4,
        department_names=["d"] * 4,
        region_ids=["R"] * 4,
        region_names=["r"] * 4,
        population=[100, 250, 300, 400],
        lon=lon,
        lat=[0.0] * 4,
        center_ids=[f"S{i}" for i in range(centers)],
        center_names=[f"s{i}" for i in range(centers)],
        center_lon=lon[:centers],
        center_lat=[0.0] * centers,
        center_capacity=[capacity] * centers,
        center_staff=[1] * centers,
        center_status=["open"] * centers,
        candidate_ids=[f"K{i}" for i in range(candidates)],
        candidate_names=[f"k{i}" for i in range(candidates)],
        candidate_lon=lon[4 - candidates :] if candidates else [],
        candidate_lat=[0.0] * candidates,
        candidate_opening_cost=[0.0] * candidates,
        candidate_capacity=[capacity] * candidates,
        requests=requests,
        **kw,
    )


def test_site_table_keeps_its_dtypes_without_centers():
    spec = load_spec({"model": "pmedian", "sites": {"locked": ["K0"]}})
    sites = _site_frame(_network(), spec)
    assert sites["locked"].dtype == bool and sites["existing"].dtype == bool
    assert sites["locked"].tolist() == [True, False, False]
    assert sites["capacity"].dtype == float
    plain = load_spec({"model": "pmedian"})
    only_centers = _site_frame(_network(centers=2, candidates=0), plain)
    assert only_centers["existing"].tolist() == [True, True]
    assert only_centers["locked"].dtype == bool


def test_pmedian_places_new_centers_in_a_country_without_any():
    spec = load_spec({"model": "pmedian", "parameters": {"p": 2}})
    result = run_scenario(spec, _network())
    assert result.report.status == "optimal"
    # candidates at C2, C3, C4; K0 + K2 cost 100 x 10 + 300 x 10 inhabitant-km,
    # K1 + K2 100 x 20 + 250 x 10, K0 + K1 100 x 10 + 400 x 10
    opened = result.centers.loc[result.centers["status"] == "opened", "site_id"]
    assert sorted(opened) == ["K0", "K2"]
    assert result.summary["changes"] == {"kept": 0, "closed": 0, "opened": 2}
    assert result.summary["kpis"]["before"]["open_centers"] == 0
    assert result.summary["kpis"]["after"]["unassigned_demand"] == 0.0


def test_no_center_and_no_candidate_is_a_clear_error():
    spec = load_spec({"model": "pmedian", "parameters": {"p": 1}})
    with pytest.raises(ScenarioError, match="no active center and no candidate site"):
        run_scenario(spec, _network(candidates=0))


def test_zero_demand_is_refused_not_solved_to_objective_zero():
    spec = load_spec({"model": "pmedian", "demand": {"source": "requests"},
                      "parameters": {"p": 1}})  # fmt: skip
    with pytest.raises(ScenarioError, match="zero in every commune"):
        run_scenario(spec, _network(requests=[0.0] * 4))
    with pytest.raises(ScenarioError, match="no operations and no demand estimate"):
        run_scenario(spec, _network(requests=None))


def test_unknown_capacity_is_unlimited_reported_and_refused_when_capacitated():
    net = _network(centers=2, candidates=1, capacity=NAN, requests=[50.0] * 4)
    spec = load_spec({"model": "pmedian", "demand": {"source": "requests"},
                      "parameters": {"p": 2}})  # fmt: skip
    result = run_scenario(spec, net)
    kpis = result.summary["kpis"]
    assert kpis["before"]["overloaded_centers"] == 0
    assert kpis["after"]["overloaded_centers"] == 0
    assert kpis["after"]["unmet_demand"] == 0.0
    assert result.centers["utilisation"].isna().all()
    assert any("3 site(s) without a known capacity" in n
               for n in result.summary["notes"])  # fmt: skip
    capacitated = load_spec({**spec.to_dict(), "parameters": {"p": 2,
                             "capacitated": True}})  # fmt: skip
    with pytest.raises(ScenarioError, match="needs every site's capacity"):
        run_scenario(capacitated, net)


def test_kpis_and_table_never_count_an_unknown_capacity_as_overloaded():
    D = np.array([[1.0, 2.0], [2.0, 1.0]])
    kpis = network_kpis(D, np.array([5.0, 5.0]), np.array([True, True]),
                        np.array([0, 1]), np.array([NAN, 1.0]))  # fmt: skip
    assert kpis["overloaded_centers"] == 1 and kpis["unmet_demand"] == 4.0
    table = center_table(["a", "b"], ["A", "B"], np.array([True, True]),
                         np.array([True, True]), np.array([5.0, 5.0]),
                         np.array([0, 1]), np.array([NAN, 1.0]))  # fmt: skip
    assert np.isnan(table["utilisation"][0]) and table["utilisation"][1] == 5.0


def test_duplicate_center_and_candidate_codes_are_named():
    net = dataclasses.asdict(_network(centers=1, candidates=1))
    net["candidate_ids"] = ["S0"]
    with pytest.raises(ScenarioError, match=r"used twice: \['S0'\]"):
        NetworkInputs(**net)


@pytest.fixture
def new_store(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'dashapp.sqlite'}")
    store.upgrade()
    store.add_dataset(
        new_country_bundle(candidates=True), kind="imported", access=nearest_center
    )
    return store


def test_store_network_uses_the_import_estimates_without_operations(new_store):
    net = network_from_store(new_store)
    assert list(net.center_ids) == [] and list(net.candidate_ids) == ["K1"]
    assert net.requests_source == "estimated"
    # rates A 0.5 + B 0.1 a year per inhabitant: C1's 1000 inhabitants -> 600/52
    np.testing.assert_allclose(net.requests[0], 600 / 52, atol=0.01)


def test_store_network_without_operations_nor_estimates_has_no_requests(tmp_path):
    bundle = tiny_bundle()
    bundle = dataclasses.replace(
        bundle,
        operations=bundle.operations.iloc[0:0],
        centers=bundle.centers.assign(capacity_week=0),
    )
    store = Store(f"sqlite:///{tmp_path / 'x.sqlite'}")
    store.upgrade()
    store.add_dataset(bundle, kind="imported", access=nearest_center)
    net = network_from_store(store)
    assert net.requests is None and net.requests_source == "none"
    assert np.isnan(net.center_capacity).all()  # 0 at import: unknown


def _cli(store_dir, scenario, out, capsys):
    code = main(["optimize", "--scenario", scenario, "--out", str(out),
                 "--data-dir", str(store_dir)])  # fmt: skip
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_plans_a_country_without_centers_and_says_what_it_assumed(
    new_store, tmp_path, capsys
):
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps({"model": "pmedian", "parameters": {"p": 1},
                                    "demand": {"source": "requests"}}))  # fmt: skip
    code, out, err = _cli(tmp_path, str(scenario), tmp_path / "out", capsys)
    assert code == 0, err
    assert "pmedian: optimal" in out
    assert "note: no operations in the dataset: requests/week are the estimates" in out
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["changes"]["opened"] == 1 and summary["notes"]


def test_cli_without_any_site_is_one_clear_error(tmp_path, capsys):
    store = Store(f"sqlite:///{tmp_path / 'dashapp.sqlite'}")
    store.upgrade()
    store.add_dataset(new_country_bundle(), kind="imported", access=nearest_center)
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps({"model": "pmedian", "parameters": {"p": 1}}))
    code, out, err = _cli(tmp_path, str(scenario), tmp_path / "out", capsys)
    assert code == 3 and out == ""
    assert err.startswith("error: the network has no active center and no candidate")
    assert "Traceback" not in err
