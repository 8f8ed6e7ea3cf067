"""Input errors are clear; distances are great-circle, cached and explicit."""

from __future__ import annotations

import io

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point, box

from optimization import (
    LSCP,
    MCLP,
    CapacityReallocation,
    DistanceCache,
    EquityRule,
    InfeasibleError,
    Labels,
    PCenter,
    PMedian,
    SiteRules,
    load_cost_matrix_csv,
    representative_points,
)

D = np.array([[1.0, 4.0, 2.0], [3.0, 1.0, 5.0]])


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"cost_matrix": np.zeros((0, 3)), "weights": []}, ValueError, "empty"),
        ({"cost_matrix": D, "weights": [1, np.nan]}, ValueError, "NaN"),
        ({"cost_matrix": D, "weights": [1, -2]}, ValueError, "negative"),
        (
            {"cost_matrix": D, "weights": [1, 2, 3]},
            ValueError,
            "3 values but the cost matrix has 2",
        ),
        ({"cost_matrix": D[0], "weights": [1]}, ValueError, "2-D"),
        ({"cost_matrix": [[1, np.nan]], "weights": [1]}, ValueError, "NaN at"),
        ({"cost_matrix": [[-1, 2]], "weights": [1]}, ValueError, "negative entries"),
        (
            {"cost_matrix": D, "weights": [1, 2], "p": 4},
            ValueError,
            "larger than the number of sites",
        ),
        ({"cost_matrix": D, "weights": [1, 2], "p": 0}, ValueError, "positive integer"),
        (
            {
                "cost_matrix": D,
                "weights": [1, 2],
                "p": 1,
                "rules": {"locked": [0], "forbidden": [0]},
            },
            ValueError,
            "both locked and forbidden",
        ),
        (
            {"cost_matrix": D, "weights": [1, 2], "p": 1, "rules": {"locked": [7]}},
            ValueError,
            "outside",
        ),
        (
            {
                "cost_matrix": D,
                "weights": [1, 2],
                "p": 1,
                "rules": {"capacities": [1, 2]},
            },
            ValueError,
            "'capacities' has 2 values",
        ),
        (
            {"cost_matrix": D, "weights": [1, 2], "p": 1, "sites": {"max_new": 1}},
            TypeError,
            "'sites' should be SiteRules, got dict",
        ),
        (
            {"cost_matrix": D, "weights": [1, 2], "sites": SiteRules.build(2)},
            ValueError,
            "'sites' has rules for 2 sites but the cost matrix has 3",
        ),
        (
            {
                "cost_matrix": D,
                "weights": [1, 2],
                "equity": EquityRule.build(None, 3, 5.0, 0.5),
            },
            ValueError,
            "'equity' has 3 group labels but there are 2 demand points",
        ),
        (
            {"cost_matrix": D, "weights": [1, 2], "labels": Labels(["a"])},
            ValueError,
            "'demand_names' has 1 entries, expected 2",
        ),
    ],
)
def test_pmedian_input_errors(kwargs, error, match):
    kwargs = dict(kwargs)
    rules = kwargs.pop("rules", None)
    with pytest.raises(error, match=match):
        if rules is not None:
            kwargs["sites"] = SiteRules.build(D.shape[1], **rules)
        PMedian.from_cost_matrix(**kwargs)


def test_rule_objects_refuse_what_they_cannot_hold():
    with pytest.raises(ValueError, match="non-negative 'radius', got None"):
        EquityRule.build(None, 2, None, 0.5)
    with pytest.raises(ValueError, match="'min_share' names unknown groups"):
        EquityRule.build(["a", "b"], 2, 5.0, {"c": 0.5})
    # A model refuses the site rules it does not model rather than ignore them.
    with pytest.raises(ValueError, match="LSCP does not take max_new in 'sites'"):
        LSCP.from_cost_matrix(D, 2.0, None, SiteRules.build(3, max_new=1))
    modules = SiteRules.build(3, capacities=5.0, module_size=1.0)
    with pytest.raises(ValueError, match="PCenter does not take module_size"):
        PCenter.from_cost_matrix(D, [1, 1], 1, modules)
    with pytest.raises(ValueError, match="MCLP does not take module_size"):
        MCLP.from_cost_matrix(D, [1, 1], 2.0, 1, modules)


def test_spopt_order_and_name():
    # spopt's shape: cost matrix, weights, p, the facilities' rules, the name.
    model = PMedian.from_cost_matrix(D, [1, 2], 1, None, "plan 2027").solve()
    assert model.name == "plan 2027" and model.build_model().name == "plan 2027"
    lscp = LSCP.from_cost_matrix(D, 2.0, [1, 1], SiteRules.build(3, existing=[2]))
    assert lscp.solve().open_sites.tolist() == [1, 2]  # keeps the existing site


def test_other_model_input_errors():
    with pytest.raises(ValueError, match="service_radius"):
        MCLP.from_cost_matrix(D, [1, 1], -1.0, 1)
    with pytest.raises(ValueError, match="'objective' should be one of"):
        CapacityReallocation.from_loads([1, 2], [3, 3], [1, 1], objective="speed")
    with pytest.raises(ValueError, match="needs staff"):
        CapacityReallocation.from_loads([1, 2], [3, 3], [0, 1])


def test_infeasibility_is_explained_in_planner_words():
    with pytest.raises(
        InfeasibleError,
        match=r"commune Y is 3\.0 km from every allowed site, above the 2\.0 km cap",
    ):
        PMedian.from_cost_matrix(
            D,
            [1, 2],
            1,
            SiteRules.build(3, forbidden=[1]),
            max_distance=2.0,
            labels=Labels(demand_names=["X", "Y"]),
        ).solve()
    with pytest.raises(
        InfeasibleError,
        match="total capacity 4 requests/week of the sites that may open is below demand 5",
    ):
        PMedian.from_cost_matrix(
            D, [2, 3], 2, SiteRules.build(3, capacities=[1, 1, 2])
        ).solve()
    with pytest.raises(InfeasibleError, match="only 1 sites may open"):
        PMedian.from_cost_matrix(
            D, [2, 3], 2, SiteRules.build(3, forbidden=[0, 1])
        ).solve()
    with pytest.raises(InfeasibleError, match="below the 100% minimum") as info:
        PMedian.from_cost_matrix(
            D, [2, 3], 1, equity=EquityRule.build(["a", "b"], 2, 0.5, {"b": 1.0})
        ).solve()
    assert info.value.reasons[0].code == "equity_unreachable"
    with pytest.raises(
        InfeasibleError, match="from every allowed site, above the 0.5 km radius"
    ):
        LSCP.from_cost_matrix(D, 0.5).solve()
    with pytest.raises(InfeasibleError, match="needs 4 agents but only 2"):
        CapacityReallocation.from_loads([1, 2], [3, 3], [1, 1], min_staff=2).solve()


def test_solver_detected_infeasibility_is_explained():
    # Each check passes alone; p=1 with the equity rule and the capacity cannot.
    with pytest.raises(InfeasibleError, match="no plan satisfies"):
        PMedian.from_cost_matrix(
            D,
            [2, 3],
            1,
            SiteRules.build(3, capacities=[5, 5, 5]),
            equity=EquityRule.build(["a", "b"], 2, 1.0, 1.0),
        ).solve()


def test_distance_cache_reuses_matrix():
    cache = DistanceCache(max_entries=1)
    a = cache.haversine([0, 1], [0, 1], [2], [2])
    assert cache.haversine([0, 1], [0, 1], [2], [2]) is a
    assert not a.flags.writeable
    cache.haversine([0], [0], [2], [2])
    assert cache.haversine([0, 1], [0, 1], [2], [2]) is not a


def test_cost_csv_missing_pairs_are_explicit():
    text = "origin,destination,cost\na,x,12\na,y,30\nb,x,7\n"
    with pytest.raises(
        ValueError, match=r"missing 1 origin/destination pairs, e.g. \(b, y\)"
    ):
        load_cost_matrix_csv(io.StringIO(text), ["a", "b"], ["x", "y"])
    filled = load_cost_matrix_csv(io.StringIO(text), ["a", "b"], ["x", "y"], missing=99)
    assert filled[1, 1] == 99
    forbid = load_cost_matrix_csv(
        io.StringIO(text), ["a", "b"], ["x", "y"], missing="forbid"
    )
    assert np.isinf(forbid[1, 1])
    model = PMedian.from_cost_matrix(forbid, [1, 1], 1).solve()
    assert model.open_sites.tolist() == [0]  # (b, y) is never used, never zero
    with pytest.raises(ValueError, match="negative cost"):
        load_cost_matrix_csv(
            io.StringIO("origin,destination,cost\na,x,-1\n"), ["a"], ["x"]
        )


def test_representative_points_weighted_and_inside():
    communes = gpd.GeoDataFrame(
        {"name": ["A", "B"]}, geometry=[box(0, 0, 1, 1), box(2, 0, 3, 1)], crs=4326
    )
    people = gpd.GeoDataFrame(
        {"population": [10, 30]}, geometry=[Point(0.2, 0.5), Point(0.6, 0.5)], crs=4326
    )
    pts = representative_points(communes, people)
    assert pts.iloc[0].x == pytest.approx(0.5, abs=1e-3)  # weighted mean of 0.2 and 0.6
    assert pts.iloc[1].within(communes.geometry.iloc[1])  # no people: inside point
    with pytest.raises(TypeError, match="'gdf' should be GeoDataFrame"):
        representative_points(communes.drop(columns="geometry"))


def test_from_geodataframe_crs_checks():
    demand = gpd.GeoDataFrame(
        {"pop": [10, 20]}, geometry=[Point(2.0, 48.0), Point(2.5, 48.5)], crs=4326
    )
    sites = gpd.GeoDataFrame(geometry=[Point(2.1, 48.1), Point(2.4, 48.4)], crs=4326)
    model = PMedian.from_geodataframe(demand, sites, "pop", 1).solve()
    assert model.status == "optimal"
    with pytest.raises(ValueError, match="projected metric CRS"):
        PMedian.from_geodataframe(demand, sites, "pop", 1, distance="euclidean")
    with pytest.raises(ValueError, match="CRS mismatch"):
        PMedian.from_geodataframe(demand, sites.to_crs(2154), "pop", 1)
    with pytest.raises(TypeError, match="'demand_gdf' should be GeoDataFrame"):
        PMedian.from_geodataframe(demand.drop(columns="geometry"), sites, "pop", 1)
    lam = PMedian.from_geodataframe(
        demand.to_crs(2154), sites.to_crs(2154), "pop", 1, distance="euclidean"
    ).solve()
    assert lam.objective == pytest.approx(model.objective, rel=0.01)
