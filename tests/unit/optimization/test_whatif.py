import numpy as np
import pandas as pd
import pytest

from optimization.scenario import NetworkInputs, ScenarioError, load_spec
from optimization.whatif import (
    WhatIf,
    apply_to_network,
    build_spec,
    demand_vector,
    evaluate_as_is,
    open_mask_as_is,
)


def _network():
    return NetworkInputs(
        commune_ids=["A", "B", "C"],
        commune_names=["a", "b", "c"],
        department_ids=["D"] * 3,
        department_names=["d"] * 3,
        region_ids=["R"] * 3,
        region_names=["r"] * 3,
        population=[100, 200, 300],
        lon=[0.0, 0.1, 0.2],
        lat=[0.0, 0.0, 0.0],
        center_ids=["S1", "S2"],
        center_names=["s1", "s2"],
        center_lon=[0.0, 0.2],
        center_lat=[0.0, 0.0],
        center_capacity=[100.0, 50.0],
        center_staff=[2, 1],
        center_status=["open", "open"],
        candidate_ids=["K1"],
        candidate_names=["k1"],
        candidate_lon=[0.1],
        candidate_lat=[0.0],
        candidate_opening_cost=[10.0],
        candidate_capacity=[80.0],
    )


def test_spec_counts_open_centers_and_maps_choices():
    w = WhatIf(
        objective="distance",
        new_centers=2,
        sites={"S1": "closed", "K1": "locked"},
        budget=50,
        max_distance_km=40,
        min_coverage_pct=80,
    )
    spec = build_spec(w, n_existing=10)
    assert spec["model"] == "pmedian" and spec["parameters"]["p"] == 11
    assert spec["sites"]["locked"] == ["K1"] and spec["sites"]["forbidden"] == ["S1"]
    assert spec["sites"]["budget"] == 50 and spec["parameters"]["max_distance"] == 40
    assert spec["equity"]["min_share"] == pytest.approx(0.8)
    load_spec(spec)  # the engine accepts it
    lscp = build_spec(WhatIf(objective="fewest", radius_km=15), 10)
    assert lscp["model"] == "lscp" and lscp["parameters"] == {"service_radius": 15.0}
    assert (
        build_spec(WhatIf(objective="rebalance"), 10)["sites"]["use_candidates"]
        is False
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"objective": "teleport"}, "objective should be one of"),
        ({"new_centers": -1}, "new_centers should be between 0 and 500"),
        ({"growth_pct": 1e6}, "growth_pct should be between"),
        ({"radius_km": "far"}, "radius_km should be between"),
        ({"budget": -5}, "budget should be between"),
        ({"growth_by_doc_pct": {"CNI": -95}}, r"growth_by_doc_pct\[CNI\]"),
        ({"sites": {"S1": "demolished"}}, "unknown site states"),
    ],
)
def test_absurd_parameters_are_named(kwargs, message):
    with pytest.raises(ScenarioError, match=message):
        WhatIf(**kwargs)


def test_round_trip_through_a_dict():
    w = WhatIf(
        objective="coverage",
        added=("B",),
        sites={"K1": "forbidden"},
        growth_by_doc_pct={"PASS": 5.0},
    )
    assert WhatIf.from_dict(w.to_dict()) == w
    with pytest.raises(ScenarioError, match="unknown scenario parameters"):
        WhatIf.from_dict({"colour": "blue"})


def test_growth_applies_per_document_type():
    base = pd.DataFrame({"CNI": [10.0, 20.0], "PASS": [1.0, 2.0]})
    w = WhatIf(growth_pct=10, years=2, growth_by_doc_pct={"PASS": 10})
    np.testing.assert_allclose(
        demand_vector(base, w), [10 * 1.21 + 1 * 1.44, 20 * 1.21 + 2 * 1.44]
    )


def test_added_sites_and_capacity_change():
    net = apply_to_network(_network(), WhatIf(added=("B",), capacity_change_pct=-50))
    assert list(net.candidate_ids) == ["K1", "NEW-B"]
    assert net.candidate_lon[-1] == pytest.approx(0.1)
    np.testing.assert_allclose(net.center_capacity, [50.0, 25.0])
    with pytest.raises(ScenarioError, match="unknown communes"):
        apply_to_network(_network(), WhatIf(added=("Z",)))


def test_as_is_evaluation_follows_the_map_choices():
    cost = np.array([[0.0, 20.0, 10.0], [10.0, 10.0, 0.0], [20.0, 0.0, 10.0]])
    sites = ["S1", "S2", "K1"]
    w = WhatIf(sites={"S2": "closed", "K1": "locked"}, radius_km=5)
    assert open_mask_as_is(sites, 2, w).tolist() == [True, False, True]
    assignment, mask, kpis = evaluate_as_is(
        cost, np.array([1.0, 1.0, 1.0]), sites, np.array([10.0, 10.0, 10.0]), 2, w
    )
    assert assignment.tolist() == [0, 2, 2]
    assert kpis["open_centers"] == 2
    assert kpis["mean_distance"] == pytest.approx(10.0 / 3)


def test_forecast_demand_replaces_today_and_is_checked():
    base = pd.DataFrame({"CNI": [10.0, 20.0]})
    w = WhatIf(demand_source="forecast", forecast_weeks=8, growth_pct=50)
    np.testing.assert_allclose(demand_vector(base, w, np.array([3.0, 4.0])), [3, 4])
    with pytest.raises(ScenarioError, match="forecast demand is missing"):
        demand_vector(base, w)
    with pytest.raises(ScenarioError, match="NaN or negative"):
        demand_vector(base, w, np.array([1.0, -2.0]))
    with pytest.raises(
        ScenarioError, match="forecast_weeks should be between 4 and 26"
    ):
        WhatIf(demand_source="forecast", forecast_weeks=52)
    with pytest.raises(ScenarioError, match="demand_source"):
        WhatIf(demand_source="guess")


def test_closing_costs_and_capacity_modules_reach_the_spec():
    w = WhatIf(
        closing_cost=5,
        capacitated=True,
        module_size=100,
        module_cost=20,
        allow_closures=True,
    )
    spec = build_spec(w, n_existing=10)
    assert spec["sites"]["closing_cost"] == 5.0
    assert spec["parameters"]["modules"] == {"size": 100.0, "cost": 20.0, "max": 3}
    load_spec(spec)
    with pytest.raises(ScenarioError, match="closing_cost should be between"):
        WhatIf(closing_cost=-1)


def test_only_the_chosen_document_types_count():
    base = pd.DataFrame({"CNI": [10.0, 20.0], "PASS": [1.0, 2.0]})
    np.testing.assert_allclose(demand_vector(base, WhatIf(doc_types=("PASS",))), [1, 2])
    with pytest.raises(ScenarioError, match="no demand for document types"):
        demand_vector(base, WhatIf(doc_types=("ACTE",)))


def test_area_kpis_count_loads_from_outside_the_area():
    from optimization.results import network_kpis

    D = np.array([[1.0, 9.0], [8.0, 2.0], [3.0, 7.0]])
    k = network_kpis(
        D,
        np.array([1.0, 3.0, 4.0]),
        np.array([True, True]),
        np.array([0, 1, 0]),
        np.array([2.0, 10.0]),
        2.5,
        rows=np.array([True, False, False]),
        site_rows=np.array([True, False]),
        population=np.array([100.0, 100.0, 100.0]),
    )
    # site 0 serves communes 0 (in) and 2 (out): load 5 > capacity 2
    assert k["overloaded_centers"] == 1 and k["unmet_demand"] == pytest.approx(3.0)
    assert k["mean_distance"] == pytest.approx(1.0)
    assert k["centers_per_100k"] == pytest.approx(1000.0)


def test_period_is_checked():
    WhatIf(period_start="2026-01-05", period_end="2026-06-01")
    with pytest.raises(ScenarioError, match="period starts after it ends"):
        WhatIf(period_start="2026-06-01", period_end="2026-01-05")
    with pytest.raises(ScenarioError, match="period should be ISO dates"):
        WhatIf(period_start="yesterday")


@pytest.mark.parametrize(
    ("panel", "expected"),
    [
        ({"radius_km": -5}, [("radius_km", -5, "range")]),
        ({"radius_km": 0}, [("radius_km", 0, "range")]),
        ({"radius_km": None}, [("radius_km", None, "empty")]),
        (
            {"new_centers": -2, "time_limit_s": 0},
            [("new_centers", -2, "range"), ("time_limit_s", 0, "range")],
        ),
        (
            {"time_limit_s": "", "forecast_weeks": 40},
            [("time_limit_s", "", "empty"), ("forecast_weeks", 40, "range")],
        ),
    ],
)
def test_panel_values_are_never_replaced_but_named(panel, expected):
    from optimization.whatif import PanelError

    with pytest.raises(PanelError) as info:
        WhatIf.from_panel(panel)
    assert [(p.field, p.value, p.reason) for p in info.value.problems] == expected


def test_optional_fields_may_be_left_empty():
    w = WhatIf.from_panel(
        {"budget": None, "module_size": "", "max_distance_km": None, "radius_km": 7}
    )
    assert (w.budget, w.module_size, w.max_distance_km, w.radius_km) == (
        None,
        None,
        None,
        7,
    )
