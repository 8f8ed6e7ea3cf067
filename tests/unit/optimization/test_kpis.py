"""One KPI rule for the engine, the instant evaluation and an area of a result."""

import numpy as np
import pytest

from optimization.results import network_kpis

D = np.array([[1.0, 9.0], [8.0, 2.0], [3.0, 7.0]])
W = np.array([1.0, 3.0, 4.0])
BOTH = np.array([True, True])


def test_unassigned_demand_is_unmet_with_or_without_an_area():
    k = network_kpis(D, W, BOTH, np.array([0, -1, 0]), np.array([10.0, 10.0]))
    assert k["unassigned_demand"] == 3.0 and k["unmet_demand"] == 3.0
    area = network_kpis(
        D, W, BOTH, np.array([0, -1, 0]), np.array([10.0, 10.0]),
        rows=np.array([False, True, False]), site_rows=np.array([False, True]),
    )  # fmt: skip
    assert area["unmet_demand"] == 3.0 and area["overloaded_centers"] == 0


def test_a_plan_leaving_people_unserved_never_looks_better():
    capacity = np.array([5.0, 1.0])
    # everyone served, site 1 overloaded by 2
    served = network_kpis(D, W, BOTH, np.array([0, 1, 0]), capacity)
    # commune 1 left without a center, nothing overloaded
    unserved = network_kpis(D, W, BOTH, np.array([0, -1, 0]), capacity)
    assert served["unmet_demand"] == 2.0 and served["overloaded_centers"] == 1
    assert unserved["unmet_demand"] == 3.0 and unserved["overloaded_centers"] == 0
    assert unserved["unmet_demand"] > served["unmet_demand"]


def test_missing_values_are_nan_never_none_nor_zero():
    nothing_open = np.array([False, False])
    k = network_kpis(
        D, W, nothing_open, np.array([-1, -1, -1]), np.array([5.0, 5.0]), 5.0,
        population=np.array([np.nan, np.nan, np.nan]),
    )  # fmt: skip
    for key in ("mean_distance", "max_distance", "centers_per_100k"):
        assert np.isnan(k[key]), key
    assert k["share_within_radius"] == 0.0 and k["unmet_demand"] == W.sum()
    no_demand = network_kpis(D, np.zeros(3), BOTH, np.array([0, 1, 0]), radius=5.0)
    assert np.isnan(no_demand["share_within_radius"])
    assert np.isnan(no_demand["mean_distance"])


def test_unknown_demand_counts_as_none():
    k = network_kpis(D, np.array([1.0, np.nan, 4.0]), BOTH, np.array([0, 1, 0]))
    assert k["mean_distance"] == pytest.approx((1.0 + 4 * 3.0) / 5)
    assert k["max_distance"] == 3.0  # commune 1 has no known demand


def test_an_area_counts_its_communes_and_the_loads_its_sites_carry():
    k = network_kpis(
        D, W, BOTH, np.array([0, 1, 0]), np.array([2.0, 10.0]), 2.5,
        rows=np.array([True, False, False]), site_rows=np.array([True, False]),
        population=np.array([100.0, 200.0, 300.0]),
    )  # fmt: skip
    assert k["open_centers"] == 1 and k["mean_distance"] == 1.0
    assert k["overloaded_centers"] == 1 and k["unmet_demand"] == 3.0  # 5 on 2
    assert k["share_within_radius"] == 1.0
    assert k["centers_per_100k"] == pytest.approx(1000.0)
    whole = network_kpis(D, W, BOTH, np.array([0, 1, 0]), np.array([2.0, 10.0]), 2.5)
    assert whole["open_centers"] == 2 and whole["unmet_demand"] == 3.0
    assert whole["mean_distance"] == pytest.approx((1 + 6 + 12) / 8)
