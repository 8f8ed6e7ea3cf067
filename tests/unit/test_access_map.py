"""Travel-time access drawn on the map (geo.access_map): per-unit values by the
one access rule, catchment outlines, road lines by class within a budget."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString, box

from geo.access_map import catchment_borders, road_display, unit_access
from geo.roads import ROAD_CLASSES, access_kpis
from layouts import maps

INF = float("inf")


def _length(lon, lat) -> float:
    """Total length of None-separated lines (degrees)."""
    total, parts, current = 0.0, [], []
    for x, y in zip(lon, lat, strict=True):
        if x is None:
            parts.append(current)
            current = []
        else:
            current.append((x, y))
    for part in parts:
        total += LineString(part).length
    return total


def test_unit_values_are_access_kpis_of_their_communes():
    minutes = [10.0, 45.0, 130.0, INF, 20.0]
    population = [100.0, 200.0, 300.0, 400.0, np.nan]
    groups = ["A", "A", "B", "B", "C"]
    got = unit_access(minutes, population, groups, ["B", "A", "C", "Z"])
    assert list(got.index) == ["B", "A", "C", "Z"]
    for code, rows in {"A": [0, 1], "B": [2, 3]}.items():
        expected = access_kpis(np.array(minutes)[rows], np.array(population)[rows])
        for key, value in expected.items():
            assert got.loc[code, key] == pytest.approx(value)
    assert got.loc["A", "mean_minutes"] == pytest.approx((10 * 100 + 45 * 200) / 300)
    assert got.loc["B", "within_120_min"] == 0.0
    assert got.loc["B", "unreachable"] == pytest.approx(400 / 700)
    # unknown population only, and a unit without communes: no figure at all
    assert got.loc["C"].isna().all()
    assert got.loc["Z"].isna().all()


def test_a_unit_nobody_reaches_has_no_minutes_never_zero():
    got = unit_access([INF, INF], [50.0, 60.0], ["X", "X"], ["X"])
    assert np.isnan(got.loc["X", "mean_minutes"])
    assert got.loc["X", "unreachable"] == 1.0
    assert got.loc["X", "within_30_min"] == 0.0


def test_unit_access_checks_lengths():
    with pytest.raises(ValueError, match="differ in length: 2, 1, 2"):
        unit_access([1.0, 2.0], [1.0], ["A", "B"], ["A"])
    empty = unit_access([], [], [], ["A"])
    assert empty.loc["A"].isna().all()


def test_catchment_outlines_follow_the_assignment():
    # a row of four unit squares: c1 c1 c2 (none)
    squares = [box(i, 0, i + 1, 1) for i in range(4)]
    lon, lat = catchment_borders(squares, ["c1", "c1", "c2", None])
    assert lon.count(None) == 3  # one outline per group, unreached ones too
    # c1 (2x1: 6) + c2 (4) + unreached (4): the border inside c1 is not drawn
    assert _length(lon, lat) == pytest.approx(14.0)
    lon, lat = catchment_borders(squares, ["c1"] * 4)
    assert _length(lon, lat) == pytest.approx(10.0)


def test_catchment_outlines_of_a_split_catchment_and_bad_input():
    squares = [box(0, 0, 1, 1), box(5, 0, 6, 1)]
    lon, _ = catchment_borders(squares, ["c1", "c1"])
    assert lon.count(None) == 2  # two separate pieces, both outlined
    with pytest.raises(ValueError, match="differ in length: 2, 1"):
        catchment_borders(squares, ["c1"])
    assert catchment_borders([], []) == ([], [])


def _roads(classes, n_points=2):
    geoms = [
        LineString([(i, k * 0.001) for k in range(n_points)])
        for i, _ in enumerate(classes)
    ]
    return gpd.GeoDataFrame({"road_class": classes}, geometry=geoms, crs=4326)


def test_roads_by_class_keep_the_main_ones_within_the_budget():
    lines = _roads(["trunk", "track", "path", "trunk", "secondary"])
    drawn, left_out = road_display(lines, tolerance_deg=0.0)
    assert list(drawn) == ["trunk", "secondary", "track", "path"]  # importance
    assert left_out == []
    assert drawn["trunk"][0] == [0.0, 0.0, None, 3.0, 3.0, None]
    drawn, left_out = road_display(lines, tolerance_deg=0.0, max_coords=6)
    assert list(drawn) == ["trunk", "secondary"] and left_out == ["track", "path"]


def test_roads_are_simplified_for_display():
    wiggly = gpd.GeoDataFrame(
        {"road_class": ["local"]},
        geometry=[LineString([(x / 100, 0.00001 * (x % 2)) for x in range(101)])],
        crs=4326,
    )
    drawn, _ = road_display(wiggly, tolerance_deg=0.001)
    assert drawn["local"][0] == [0.0, 1.0, None]


def test_road_display_refuses_what_it_cannot_draw():
    lines = _roads(["trunk"])
    with pytest.raises(TypeError, match="should be GeoDataFrame"):
        road_display(lines.drop(columns="geometry").to_dict())
    with pytest.raises(ValueError, match="EPSG:4326"):
        road_display(lines.to_crs(32631))
    with pytest.raises(ValueError, match="road_class"):
        road_display(lines.rename(columns={"road_class": "kind"}))


def test_map_road_styles_cover_every_class_in_order():
    assert tuple(maps.ROAD_STYLES) == ROAD_CLASSES
    widths = [w for _, w in maps.ROAD_STYLES.values()]
    assert widths == sorted(widths, reverse=True)  # the main roads stand out


def test_overlays_are_listed_after_the_sites_and_drawn_under_them():
    sites = maps.site_layer([1.0], [2.0], colors="#000", sizes=9)
    overlays = maps.road_layers({"trunk": ([0.0, 1.0, None], [0.0, 0.0, None])}, "en")
    overlays.append(maps.catchment_layer(None, "en"))
    def ctx_layer():
        return maps.context_layer({"type": "FeatureCollection", "features": []}, [],
                                  "en")  # fmt: skip

    fig = maps.map_figure({"center": {"lon": 0, "lat": 0}, "zoom": 5},
                          context=ctx_layer(), choropleth=ctx_layer(), sites=[sites],
                          overlays=overlays)  # fmt: skip
    assert fig["data"][maps.site_index(0)] is sites
    assert fig["data"][maps.halo_index(0)]["uid"] == maps.HALO_UID
    # the choropleths stack in data order, under the overlays
    assert [fig["data"][i]["below"] for i in range(maps.HIGHLIGHT + 1)] == [""] * 3
    trunk = fig["data"][maps.overlay_index(0)]
    assert trunk["name"] == "Trunk road" and trunk["showlegend"] is True
    assert trunk["below"] == f"plotly-trace-layer-{maps.HALO_UID}-fill"
    assert fig["data"][maps.overlay_index(1)]["lon"] == [None]
    assert fig["data"][maps.overlay_index(1)]["showlegend"] is False
    assert fig["layout"]["showlegend"] is True
    assert fig["layout"]["legend"]["orientation"] == "h"
    # above the map, outside it: its background hides no strip of the map
    assert fig["layout"]["legend"]["y"] >= 1
    assert fig["layout"]["legend"]["yanchor"] == "bottom"
    # a map without overlays keeps its layers and its legend as before
    plain = maps.map_figure({"center": {"lon": 0, "lat": 0}, "zoom": 5},
                            context=ctx_layer(), choropleth=ctx_layer(), sites=[sites])
    assert len(plain["data"]) == maps.site_index(0) + 1
    assert "uid" not in plain["data"][maps.halo_index(0)]
    assert "below" not in plain["data"][maps.CHOROPLETH]
    assert plain["layout"]["showlegend"] is False
