"""Road graph, snapping, speed profiles and travel times against hand-computed cases.

The crafted networks are drawn in UTM zone 31N near its central meridian
(x = 500 km), where a projected metre is a true metre to 0.04 %, so the
expected minutes are worked out by hand from the lengths below.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from pyproj import Transformer
from shapely.geometry import LineString, MultiLineString, Point

from geo.roads import (
    DEFAULT_PROFILE,
    SpeedProfile,
    access_kpis,
    build_graph,
    nearest_site_minutes,
    travel_time_matrix,
)

X0, Y0 = 500_000.0, 1_000_000.0  # UTM 31N, about 9 N 3 E
TO_LL = Transformer.from_crs(32631, 4326, always_xy=True)


def km(x: float, y: float = 0.0) -> tuple[float, float]:
    return (X0 + x * 1000.0, Y0 + y * 1000.0)


def lonlat(*points: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = zip(*(km(*p) for p in points), strict=True)
    return TO_LL.transform(np.array(xs), np.array(ys))


def roads(*rows, crs=32631) -> gpd.GeoDataFrame:
    """Rows of (class, [km points], extra columns dict)."""
    data = {"road_class": [r[0] for r in rows]}
    extra = {k for r in rows if len(r) > 2 for k in r[2]}
    for key in extra:
        data[key] = [r[2].get(key) if len(r) > 2 else None for r in rows]
    geoms = [LineString([km(*p) for p in r[1]]) for r in rows]
    return gpd.GeoDataFrame(data, geometry=geoms, crs=crs)


def minutes(graph, origins, sites, mode="motorised", season="dry", **kw):
    olon, olat = lonlat(*origins)
    slon, slat = lonlat(*sites)
    return travel_time_matrix(
        graph, olon, olat, slon, slat, mode=mode, season=season, **kw
    )


# a profile with round speeds and no direct walk, to check times by hand
FLAT = SpeedProfile.from_dict(
    {
        "road_kmh": {
            "motorised": {
                "dry": {"trunk": {"paved": 60}, "track": {"unpaved": 30}},
                "rainy": {"trunk": {"paved": 60}, "track": {"unpaved": 0}},
            }
        },
        "offroad_kmh": {"motorised": {"dry": 6, "rainy": 6}},
        "offroad_cap_km": 2,
    }
)


def test_dijkstra_matches_hand_computed_times():
    # A(0,0) -- trunk 60 km -- B(60,0) ; A -- track 10 km -- C(0,10) -- track 10 km -- D(10,10)
    # D -- trunk 50 km -- B. From A: B 60 min; C 20 min; D 40 min (tracks) vs 110 (trunks).
    g = build_graph(
        roads(
            ("trunk", [(0, 0), (60, 0)]),
            ("track", [(0, 0), (0, 10), (10, 10)]),
            ("trunk", [(10, 10), (60, 0)]),
        )
    )
    assert g.report.components == 1 and g.report.joined_ends == 0
    t = minutes(g, [(0, 0)], [(60, 0), (0, 10), (10, 10)], profile=FLAT)
    trunk_db = np.hypot(50, 10)  # km
    assert t[0] == pytest.approx([60.0, 20.0, 40.0], rel=1e-3)
    # from D to B: the direct trunk beats going round by A
    t = minutes(g, [(10, 10)], [(60, 0)], profile=FLAT)
    assert t[0, 0] == pytest.approx(trunk_db, rel=1e-3)


def test_offroad_legs_are_walked_and_capped():
    g = build_graph(roads(("trunk", [(0, 0), (60, 0)])))
    # 1 km off the road at each end at 6 km/h: 10 + 60 + 10 minutes
    t = minutes(g, [(0, 1)], [(60, -1)], profile=FLAT)
    assert t[0, 0] == pytest.approx(80.0, rel=1e-3)
    # 3 km from the road, beyond the 2 km cap: unreachable, never 0
    t = minutes(g, [(0, 3)], [(60, 0)], profile=FLAT)
    assert np.isinf(t[0, 0])


def test_direct_walk_when_close():
    g = build_graph(roads(("trunk", [(0, 0), (60, 0)])))
    # both 1.5 km from the road but 1 km apart: the straight walk (10 min) wins
    t = minutes(g, [(30, 1.5)], [(31, 1.5)], profile=FLAT)
    assert t[0, 0] == pytest.approx(10.0, rel=1e-3)


def test_missing_bridge_makes_the_far_bank_slow_or_unreachable():
    # two banks joined only by a track far upstream: 20 + 40 + 20 km of detour
    lines = roads(
        ("trunk", [(0, 0), (20, 0)]),
        ("trunk", [(22, 0), (40, 0)]),  # the bridge (20..22) is missing
        ("track", [(0, 0), (0, 20), (40, 20), (40, 0)]),
    )
    g = build_graph(lines, tolerance_m=50)
    t = minutes(g, [(19, 0)], [(23, 0)], profile=FLAT)
    # 19 km back on trunk (19 min), 80 km of track (160 min), 17 km of trunk (17 min)
    assert t[0, 0] == pytest.approx(196.0, rel=1e-3)
    # in the rainy season the track is closed: no route at all
    t = minutes(g, [(19, 0)], [(23, 0)], season="rainy", profile=FLAT)
    assert np.isinf(t[0, 0])
    # with a 3 km snapping tolerance the gap is bridged (a 2 km connector, trunk)
    bridged = build_graph(lines, tolerance_m=3000)
    assert bridged.report.joined_ends == 1
    assert bridged.report.max_gap_m == pytest.approx(2000, rel=1e-3)
    t = minutes(bridged, [(19, 0)], [(23, 0)], profile=FLAT)
    assert t[0, 0] == pytest.approx(4.0, rel=1e-3)


def test_one_way_road_is_followed_in_its_direction():
    lines = roads(
        ("trunk", [(0, 0), (30, 0)], {"oneway": True}),
        ("track", [(0, 0), (0, 5), (30, 5), (30, 0)], {"oneway": False}),
    )
    g = build_graph(lines)
    there = minutes(g, [(0, 0)], [(30, 0)], profile=FLAT)
    back = minutes(g, [(30, 0)], [(0, 0)], profile=FLAT)
    assert there[0, 0] == pytest.approx(30.0, rel=1e-3)
    assert back[0, 0] == pytest.approx(80.0, rel=1e-3)  # 40 km of track at 30 km/h


def test_island_is_unreachable_and_reported():
    lines = roads(
        ("trunk", [(0, 0), (50, 0)]),
        ("secondary", [(100, 0), (110, 0)]),  # an island
    )
    g = build_graph(lines)
    r = g.report
    assert r.components == 2
    assert r.unconnected_km == pytest.approx(10.0, rel=1e-3)
    assert r.unconnected_parts[0]["edges"] == 1
    assert r.main_share == pytest.approx(50 / 60, rel=1e-3)
    t = minutes(g, [(105, 0), (10, 0)], [(0, 0)], profile=FLAT)
    assert np.isinf(t[0, 0]) and np.isfinite(t[1, 0])
    best, idx = nearest_site_minutes(
        g, *lonlat((105, 0)), *lonlat((0, 0)), mode="motorised", season="dry"
    )
    assert np.isinf(best[0]) and idx[0] == -1


def test_snapping_splits_a_segment_at_a_t_junction():
    # a side road ends 30 m short of the middle of a trunk segment
    lines = roads(
        ("trunk", [(0, 0), (20, 0)]),
        ("track", [(10, 0.03), (10, 10)]),
    )
    g = build_graph(lines, tolerance_m=50)
    r = g.report
    assert (r.joined_ends, r.components) == (1, 1)
    assert r.joined_length_m == pytest.approx(30.0, abs=0.5)
    # the split keeps the trunk's length: 20 km + 10 km of track (+ 30 m connector)
    assert r.length_km_by_class == pytest.approx(
        {"trunk": 20.0, "track": 9.97}, rel=1e-3
    )
    t = minutes(g, [(0, 0)], [(10, 10)], profile=FLAT)
    assert t[0, 0] == pytest.approx(10 + 0.03 * 2 + 9.97 * 2, rel=1e-3)
    assert build_graph(lines, tolerance_m=10).report.components == 2


def test_rainy_season_slows_unpaved_roads():
    g = build_graph(roads(("secondary", [(0, 0), (40, 0)], {"surface": "unpaved"})))
    dry = minutes(g, [(0, 0)], [(40, 0)])[0, 0]
    wet = minutes(g, [(0, 0)], [(40, 0)], season="rainy")[0, 0]
    p = DEFAULT_PROFILE
    assert dry == pytest.approx(
        40 / p.speed("motorised", "dry", "secondary", "unpaved") * 60, rel=1e-3
    )
    assert wet == pytest.approx(
        40 / p.speed("motorised", "rainy", "secondary", "unpaved") * 60, rel=1e-3
    )
    assert wet > dry
    paved = build_graph(roads(("secondary", [(0, 0), (40, 0)])))  # paved by default
    assert minutes(paved, [(0, 0)], [(40, 0)])[0, 0] < dry


def test_walking_is_slower_than_driving():
    g = build_graph(roads(("primary", [(0, 0), (20, 0)])))
    walk = minutes(g, [(0, 0)], [(20, 0)], mode="walking")[0, 0]
    drive = minutes(g, [(0, 0)], [(20, 0)], mode="motorised")[0, 0]
    assert walk == pytest.approx(20 / 5 * 60, rel=1e-3)
    assert drive < walk


def test_cutoff_makes_far_sites_unreachable():
    g = build_graph(
        roads(("trunk", [(0, 0), (100, 0)]), ("trunk", [(100, 0), (200, 0)]))
    )
    t = minutes(g, [(0, 0)], [(50, 0), (150, 0)], profile=FLAT, cutoff_min=120)
    assert t[0, 0] == pytest.approx(50.0, rel=1e-3)
    assert np.isinf(t[0, 1])
    with pytest.raises(ValueError, match="cutoff_min"):
        minutes(g, [(0, 0)], [(50, 0)], cutoff_min=0)


def test_multilines_and_crs_are_handled():
    ml = MultiLineString([[km(0, 0), km(10, 0)], [km(10, 0), km(20, 0)]])
    frame = gpd.GeoDataFrame({"road_class": ["trunk"]}, geometry=[ml], crs=32631)
    g = build_graph(frame.to_crs(4326))
    assert g.report.lines == 2 and g.report.components == 1
    assert g.report.length_km_by_class["trunk"] == pytest.approx(20.0, rel=1e-3)


def test_bad_inputs_are_named():
    good = roads(("trunk", [(0, 0), (1, 0)]))
    with pytest.raises(TypeError, match="GeoDataFrame"):
        build_graph(good.to_dict())
    with pytest.raises(ValueError, match="no CRS"):
        build_graph(good.set_crs(None, allow_override=True))
    with pytest.raises(ValueError, match="values outside"):
        build_graph(roads(("motorway", [(0, 0), (1, 0)])))
    with pytest.raises(ValueError, match="lines only"):
        build_graph(
            gpd.GeoDataFrame(
                {"road_class": ["trunk"]}, geometry=[Point(km(0))], crs=32631
            )
        )
    with pytest.raises(ValueError, match="no line"):
        build_graph(good.iloc[:0])
    with pytest.raises(ValueError, match="surface"):
        build_graph(roads(("trunk", [(0, 0), (1, 0)], {"surface": "gravel"})))
    with pytest.raises(ValueError, match="'oneway' should hold true/false"):
        build_graph(roads(("trunk", [(0, 0), (1, 0)], {"oneway": "no"})))
    g = build_graph(good)
    with pytest.raises(ValueError, match="mode"):
        minutes(g, [(0, 0)], [(1, 0)], mode="flying")
    with pytest.raises(ValueError, match="degrees"):
        travel_time_matrix(g, [X0], [Y0], [0.0], [0.0], mode="walking", season="dry")


def test_profile_round_trip_and_refusals():
    p = SpeedProfile.from_dict(DEFAULT_PROFILE.to_dict())
    assert p.fingerprint() == DEFAULT_PROFILE.fingerprint()
    assert FLAT.fingerprint() != DEFAULT_PROFILE.fingerprint()
    with pytest.raises(ValueError, match=r"road_kmh.walking': unknown keys \['wet'\]"):
        SpeedProfile.from_dict({"road_kmh": {"walking": {"wet": {}}}})
    with pytest.raises(ValueError, match="offroad_cap_km"):
        SpeedProfile.from_dict({"offroad_cap_km": "far"})
    with pytest.raises(ValueError, match="unknown keys"):
        SpeedProfile.from_dict({"speed": 3})
    # defaults: rainy never faster than dry, paths closed to vehicles in the rains
    dry, wet = p.speeds("motorised", "dry"), p.speeds("motorised", "rainy")
    assert (wet <= dry).all() and p.speed("motorised", "rainy", "path", "paved") == 0


def test_parallel_edges_keep_the_fastest():
    lines = roads(("track", [(0, 0), (10, 0)]), ("trunk", [(0, 0), (10, 0)]))
    g = build_graph(lines)
    assert minutes(g, [(0, 0)], [(10, 0)], profile=FLAT)[0, 0] == pytest.approx(
        10.0, rel=1e-3
    )


def test_access_kpis_are_the_catalogue_entries():
    from data.kpi import TRAVEL_KPIS

    k = access_kpis([5.0, 45.0, 100.0, np.inf, 20.0], [10, 20, 30, 40, np.nan])
    assert list(k) == list(TRAVEL_KPIS)
    # the commune of unknown population is left out; 40 of 100 reach nothing
    assert k["mean_minutes"] == pytest.approx((50 + 900 + 3000) / 60)
    assert (k["within_30_min"], k["within_60_min"], k["within_120_min"]) == (
        pytest.approx(0.1),
        pytest.approx(0.3),
        pytest.approx(0.6),
    )
    assert k["unreachable"] == pytest.approx(0.4)
