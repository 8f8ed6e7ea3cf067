"""The demo country's generated road network: seeded, connected, one bridge missing."""

from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import LineString

from data.demo import generate_demo
from data.demo_roads import demo_river, demo_roads
from geo.roads import build_graph, travel_time_matrix


@pytest.fixture(scope="module")
def country():
    return generate_demo(seed=42, n_communes=400)


@pytest.fixture(scope="module")
def roads(country):
    return demo_roads(country)


def test_same_seed_same_roads(country, roads):
    again = demo_roads(country)
    assert again.geometry.geom_equals_exact(roads.geometry, 0).all()
    assert (again["road_class"] == roads["road_class"]).all()
    other = demo_roads(generate_demo(seed=7, n_communes=400))
    assert (
        len(other) != len(roads) or not other.geometry.geom_equals(roads.geometry).all()
    )


def test_every_class_and_one_connected_network(roads):
    assert set(roads["road_class"]) == {"trunk", "secondary", "local", "track"}
    assert set(roads.loc[roads["road_class"] == "trunk", "surface"]) == {"paved"}
    assert set(roads.loc[roads["road_class"] == "track", "surface"]) == {"unpaved"}
    report = build_graph(roads).report
    assert report.components == 1
    # the trunk roads are longest per line, tracks most numerous
    assert (roads["road_class"] == "track").sum() > (
        roads["road_class"] == "trunk"
    ).sum()


def test_river_is_crossed_only_on_bridges_and_one_trunk_bridge_is_missing(
    country, roads
):
    river = demo_river(country)
    crossing = roads[roads.geometry.intersects(river)]
    assert len(crossing) >= 1
    assert set(crossing["road_class"]) <= {"trunk", "secondary"}
    # the trunk network alone breaks at the river: its graph has two parts
    trunk = roads[roads["road_class"] == "trunk"]
    assert build_graph(trunk, tolerance_m=0).report.components >= 2


def test_every_commune_and_site_reaches_a_center_by_road_in_the_dry_season(
    country, roads
):
    graph = build_graph(roads)
    communes = country.units[country.units["level"] == 2]
    rep = communes.geometry.representative_point()
    centers = country.centers
    t = travel_time_matrix(graph, rep.x, rep.y, centers["lon"], centers["lat"],
                           mode="motorised", season="dry")  # fmt: skip
    assert np.isfinite(t.min(axis=1)).all()
    wet = travel_time_matrix(graph, rep.x, rep.y, centers["lon"], centers["lat"],
                             mode="motorised", season="rainy", cutoff_min=None)  # fmt: skip
    assert (wet.min(axis=1) >= t.min(axis=1) - 1e-9).all()
    assert wet.min(axis=1).mean() > t.min(axis=1).mean()


def test_a_line_never_crosses_the_river_without_a_bridge(country, roads):
    river = demo_river(country)
    tracks = roads[roads["road_class"].isin(["track", "local"])]
    assert not tracks.geometry.intersects(river).any()
    assert isinstance(river, LineString)
