"""Segmentation and cluster locations on crafted data with a known structure."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box
from sklearn.metrics import adjusted_rand_score

from data.indicators import commune_indicators
from data.kpi import MEASURES
from geo.distance import haversine_km
from geo.segmentation import (
    adjacency,
    cluster_sites,
    is_contiguous,
    metric_xy,
    order_labels,
    prepare_features,
    recommendation,
    segment,
    traits,
)


def _blobs(seed=0, n=30):
    """Three tight groups in (a, b); group 1 is the most populated, then 2, then 0."""
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    truth = np.repeat([0, 1, 2], n)
    xy = centres[truth] + rng.normal(0, 0.5, (3 * n, 2))
    pop = np.array([100.0, 1000.0, 500.0])[truth]
    frame = pd.DataFrame({"a": xy[:, 0], "b": xy[:, 1], "population": pop})
    return frame, truth


def _grid(nx=10, ny=6):
    """nx x ny unit squares, row by row from the bottom left."""
    return [box(i, j, i + 1, j + 1) for j in range(ny) for i in range(nx)]


def test_kmeans_recovers_three_groups_and_chooses_k_3():
    frame, truth = _blobs()
    seg = segment(frame, ["a", "b"], k="auto", k_range=(2, 6))
    assert seg.k == 3 and seg.scores.best_k == 3
    assert seg.scores.ks == [2, 3, 4, 5, 6]
    assert np.nanargmax(seg.scores.silhouette) == 1
    assert adjusted_rand_score(truth, seg.labels) == 1.0
    # labels ordered by population: the 1,000-people group is cluster 0
    assert seg.labels[truth == 1].unique().tolist() == [0]
    assert seg.labels[truth == 2].unique().tolist() == [1]
    assert seg.labels[truth == 0].unique().tolist() == [2]
    # inertia falls with k (elbow curve) and drops most from 2 to 3
    drops = -np.diff(seg.scores.inertia)
    assert (drops > 0).all() and np.argmax(drops) == 0


def test_analyst_can_override_k_and_a_k_outside_the_range_widens_the_curves():
    frame, _ = _blobs()
    seg = segment(frame, ["a", "b"], k=4, k_range=(2, 3))
    assert seg.k == 4 and seg.scores.ks == [2, 3, 4] and seg.scores.best_k == 3
    assert seg.labels.nunique() == 4


def test_same_inputs_give_identical_labels_and_row_order_does_not_matter():
    frame, _ = _blobs(seed=3)
    first = segment(frame, ["a", "b"], k="auto", k_range=(2, 5))
    again = segment(frame, ["a", "b"], k="auto", k_range=(2, 5))
    assert first.labels.tolist() == again.labels.tolist()
    assert first.scores.silhouette == again.scores.silhouette
    shuffled = frame.sample(frac=1.0, random_state=7)
    other = segment(shuffled, ["a", "b"], k="auto", k_range=(2, 5))
    assert other.labels.reindex(frame.index).tolist() == first.labels.tolist()


def test_profile_means_differences_and_traits_are_pinned():
    frame = pd.DataFrame(
        {
            "distance_km": [80.0, 90.0, 10.0, 20.0],
            "mean_delay": [10.0, 10.0, 10.0, 10.0],  # constant: z is 0, no trait
            "population": [100, 100, 300, 300],
        }
    )
    seg = segment(frame, ["distance_km", "mean_delay"], k=2, k_range=(2, 2))
    prof = seg.profile.set_index("cluster")
    assert seg.labels.tolist() == [1, 1, 0, 0]
    assert prof["n_communes"].tolist() == [2, 2]
    assert prof["population"].tolist() == [600.0, 200.0]
    assert prof["population_share"].tolist() == [75.0, 25.0]
    assert prof["distance_km_mean"].tolist() == [15.0, 85.0]
    assert prof["distance_km_diff"].tolist() == [-35.0, 35.0]
    assert prof["distance_km_z"].round(4).tolist() == [-0.9899, 0.9899]  # 35 / √1250
    assert prof["mean_delay_z"].tolist() == [0.0, 0.0]
    assert prof["mean_delay_mean"].tolist() == [10.0, 10.0]
    assert seg.traits == {0: [("distance_km", "low")], 1: [("distance_km", "high")]}
    assert seg.recommendations == {0: "maintain", 1: "new_site"}


def test_missing_values_are_imputed_by_the_median_and_reported():
    frame, _ = _blobs()
    frame.loc[[0, 5, 40], "a"] = np.nan
    frame.loc[[7], "b"] = np.inf
    prepared = prepare_features(frame, ["a", "b"])
    assert prepared.imputed == {"a": 3, "b": 1}
    assert prepared.fill_values["a"] == pytest.approx(np.nanmedian(frame["a"]))
    assert int(prepared.imputed_rows.sum()) == 4
    assert np.isfinite(prepared.X).all()
    assert np.allclose(prepared.X.mean(axis=0), 0) and np.allclose(prepared.X.std(0), 1)
    seg = segment(frame, ["a", "b"], k=3)
    assert seg.imputed == {"a": 3, "b": 1} and seg.n_imputed_rows == 4
    # profiles use observed values only: cluster means skip the imputed cells
    observed = frame["a"][seg.labels == 0].mean()
    assert seg.profile.loc[0, "a_mean"] == pytest.approx(observed)


def test_log_scale_keeps_one_huge_value_from_making_a_cluster_alone():
    density = [5.0, 8.0, 10.0, 12.0, 200.0, 300.0, 400.0, 5000.0]
    frame = pd.DataFrame({"density": density, "population": 1})
    plain = segment(frame, ["density"], k=2)
    logged = segment(frame, ["density"], k=2, log_features=["density"])
    assert plain.labels.value_counts().min() == 1
    assert logged.labels.value_counts().tolist() == [4, 4]
    assert logged.profile["density_mean"].max() > 1000  # reported in its own unit


def test_contiguous_clusters_are_each_one_connected_set():
    geoms = _grid()
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"a": rng.normal(size=60), "b": rng.normal(size=60)})
    frame["population"] = 10
    matrix = adjacency(geoms)
    for k in (2, 4, 7):
        seg = segment(frame, ["a", "b"], k=k, method="contiguous", geometry=geoms)
        assert seg.labels.nunique() == k
        assert is_contiguous(seg.labels.to_numpy(), matrix)
    kmeans = segment(frame, ["a", "b"], k=4)
    assert not is_contiguous(kmeans.labels.to_numpy(), matrix)


def test_contiguous_splits_alike_but_separate_areas_kmeans_joins_them():
    geoms = _grid()
    column = np.tile(np.arange(10), 6)
    # the two outer strips look alike, the middle differs
    a = np.where((column < 3) | (column > 6), 5.0, 0.0)
    frame = pd.DataFrame({"a": a, "population": 1})
    kmeans = segment(frame, ["a"], k=2)
    assert kmeans.labels[column < 3].nunique() == 1
    assert kmeans.labels[column < 3].iloc[0] == kmeans.labels[column > 6].iloc[0]
    contiguous = segment(frame, ["a"], k=3, method="contiguous", geometry=geoms)
    left = contiguous.labels[column < 3].unique().tolist()
    right = contiguous.labels[column > 6].unique().tolist()
    middle = contiguous.labels[(column >= 3) & (column <= 6)].unique().tolist()
    assert len(left) == len(right) == len(middle) == 1
    assert len({left[0], right[0], middle[0]}) == 3


def test_islands_are_bridged_to_the_nearest_commune_and_reported():
    geoms = [*_grid(4, 2), box(10, 0, 11, 1)]  # the last one touches nothing
    frame = pd.DataFrame({"a": np.arange(9.0), "population": 1})
    seg = segment(frame, ["a"], k=2, method="contiguous", geometry=geoms)
    assert seg.bridges == [(3, 8)]  # bottom-right square of the grid
    assert adjacency(geoms)[8].nnz == 0


def test_adjacency_is_queen_contiguity():
    matrix = adjacency(_grid(3, 3)).toarray()
    assert matrix.sum(axis=1).tolist() == [3, 5, 3, 5, 8, 5, 3, 5, 3]
    assert (matrix == matrix.T).all()


def test_order_labels_by_population_then_first_row():
    assert order_labels(
        np.array([3, 3, 1, 1, 2]), np.array([1, 1, 1, 1, 5])
    ).tolist() == [
        1,
        1,
        2,
        2,
        0,
    ]


def test_traits_and_recommendations():
    prof = pd.DataFrame(
        {
            "cluster": [0, 1],
            "demand_per_1000_z": [-1.5, 0.2],
            "poverty_rate_z": [0.9, -0.3],
            "mean_delay_z": [0.1, 0.6],
        }
    )
    feats = ["demand_per_1000", "poverty_rate", "mean_delay"]
    found = traits(prof, feats)
    assert found == {
        0: [("demand_per_1000", "low"), ("poverty_rate", "high")],
        1: [("mean_delay", "high")],
    }
    assert recommendation(found[0]) == "outreach"
    assert recommendation(found[1]) == "reinforce"
    assert recommendation([("internet_rate", "high")]) == "digital"
    assert recommendation([("demand_per_1000", "high")]) == "anticipate"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"features": []}, "at least one indicator"),
        ({"features": ["zz"]}, "unknown indicators: zz"),
        ({"features": ["a", "a"]}, "chosen once"),
        ({"features": ["empty"]}, "no value in any commune: empty"),
        ({"k": 1}, "k should be between 2 and 89"),
        ({"k": "three"}, "integer or 'auto'"),
        ({"k": 2.5}, "integer or 'auto'"),
        ({"method": "dbscan"}, "method should be one of"),
        ({"method": "contiguous"}, "needs one polygon per commune"),
        ({"k_range": (1, 4)}, "2 <= low <= high"),
        ({"k_range": "x"}, "two integers"),
    ],
)
def test_bad_inputs_give_clear_errors(kwargs, message):
    frame, _ = _blobs()
    frame["empty"] = np.nan
    args = {"features": ["a", "b"], **kwargs}
    with pytest.raises(ValueError, match=message):
        segment(frame, **args)


def test_too_few_communes_and_constant_values():
    with pytest.raises(ValueError, match="at least 3 communes"):
        segment(pd.DataFrame({"a": [1.0, 2.0], "population": 1}), ["a"])
    with pytest.raises(ValueError, match="all values identical"):
        segment(pd.DataFrame({"a": [1.0] * 5, "population": 1}), ["a"], k_range=(2, 3))
    with pytest.raises(TypeError, match="'frame' should be DataFrame"):
        prepare_features(np.zeros((3, 2)), ["a"])


# -- cluster locations ---------------------------------------------------------------
def _towns():
    """Two groups of 0.1-degree communes near the equator, the east one 3x as big."""
    geoms, pops = [], []
    for x0, pop in ((0.0, 100), (2.0, 300)):
        for i in range(3):
            for j in range(3):
                geoms.append(
                    box(x0 + 0.1 * i, 0.1 * j, x0 + 0.1 * (i + 1), 0.1 * (j + 1))
                )
                pops.append(pop * (5 if (i, j) == (0, 0) else 1))
    rep = [g.centroid for g in geoms]
    return gpd.GeoDataFrame(
        {
            "id": range(1, 19),
            "code": [f"C{i:02d}" for i in range(1, 19)],
            "name": [f"Commune {i}" for i in range(1, 19)],
            "rep_lon": [p.x for p in rep],
            "rep_lat": [p.y for p in rep],
            "population": pops,
        },
        geometry=geoms,
        crs="EPSG:4326",
    )


def test_sites_sit_at_population_weighted_centres_biggest_catchment_first():
    towns = _towns()
    sites = cluster_sites(towns, 2)
    assert sites["code"].tolist() == ["SEG01", "SEG02"]
    assert sites["population_served"].tolist() == [3900.0, 1300.0]
    assert sites["n_communes"].tolist() == [9, 9]
    # weighted centre of the east group: pulled towards its big corner commune
    east = towns.iloc[9:]
    w = east["population"].to_numpy()
    assert sites.loc[0, "lon"] == pytest.approx(
        np.average(east["rep_lon"], weights=w), abs=1e-4
    )
    assert sites.loc[0, "lat"] == pytest.approx(
        np.average(east["rep_lat"], weights=w), abs=1e-4
    )
    assert sites.loc[0, "commune_code"] == "C14"
    assert towns.geometry.iloc[13].covers(
        Point(sites.loc[0, "lon"], sites.loc[0, "lat"])
    )
    assert sites.equals(cluster_sites(towns, 2))  # reproducible


def test_a_centre_outside_every_commune_is_snapped_to_the_nearest_commune():
    # a ring of communes around an empty middle: the centre falls in the hole
    geoms = [
        box(i, j, i + 1, j + 1) for i in range(3) for j in range(3) if (i, j) != (1, 1)
    ]
    rep = [g.centroid for g in geoms]
    ring = gpd.GeoDataFrame(
        {
            "id": range(8),
            "code": [f"R{i}" for i in range(8)],
            "name": [f"R{i}" for i in range(8)],
            "rep_lon": [p.x for p in rep],
            "rep_lat": [p.y for p in rep],
            "population": [10, 10, 10, 10, 11, 10, 10, 10],
        },
        geometry=geoms,
        crs="EPSG:4326",
    )
    site = cluster_sites(ring, 1).iloc[0]
    assert site["commune_code"] == "R4"  # the nearest, a hair heavier
    assert (site["lon"], site["lat"]) == (rep[4].x, rep[4].y)


def test_metric_projection_gives_true_distances_not_degrees():
    xy = metric_xy([Point(-3.0, 14.0), Point(1.0, 14.0), Point(-1.0, 10.0)])
    planar = np.hypot(*(xy[0] - xy[1])) / 1000
    assert planar == pytest.approx(haversine_km(-3.0, 14.0, 1.0, 14.0), rel=0.005)


def test_cluster_sites_bad_inputs():
    towns = _towns()
    with pytest.raises(ValueError, match="between 1 and 18"):
        cluster_sites(towns, 19)
    with pytest.raises(ValueError, match="should be an integer"):
        cluster_sites(towns, "2")
    with pytest.raises(ValueError, match="EPSG:4326"):
        cluster_sites(towns.to_crs("EPSG:3857"), 2)
    with pytest.raises(TypeError, match="should be GeoDataFrame"):
        cluster_sites(pd.DataFrame(towns), 2)
    with pytest.raises(ValueError, match="lack columns: population"):
        cluster_sites(towns.drop(columns="population"), 2)
    bad = towns.assign(population=-towns["population"])
    with pytest.raises(ValueError, match="should not be negative"):
        cluster_sites(bad, 2)


# -- indicators from measures --------------------------------------------------------
def test_commune_indicators_match_the_kpi_rules():
    communes = pd.DataFrame(
        {
            "id": [1, 2],
            "code": ["C1", "C2"],
            "name": ["Un", "Deux"],
            "population": [1000, 0],
            "area_km2": [4.0, 0.0],
            "poverty_rate": [0.5, None],
            "literacy_rate": [0.25, 0.75],
            "internet_rate": [0.1, 0.2],
        }
    )
    m = pd.DataFrame({k: [0.0, 0.0] for k in MEASURES}, index=[1, 2])
    m.loc[1, ["requests", "rejected", "delivered", "delay_days", "population"]] = [
        26.0,
        2.0,
        20.0,
        200.0,
        1000.0,
    ]
    m.loc[1, ["pop_distance", "pop_with_distance"]] = [12000.0, 1000.0]
    m.attrs["n_weeks"] = 26
    out = commune_indicators(communes, m)
    one = out.loc[1]
    assert one["demand_per_1000"] == pytest.approx(52.0)  # 26 per 1,000 in half a year
    assert one["rejection_rate"] == pytest.approx(100 * 2 / 26)
    assert one["mean_delay"] == pytest.approx(10.0)
    assert one["distance_km"] == pytest.approx(12.0)
    assert one["density"] == 250.0
    assert one[["poverty_rate", "literacy_rate", "internet_rate"]].tolist() == [
        50.0,
        25.0,
        10.0,
    ]
    two = out.loc[2]
    assert (
        two[["demand_per_1000", "mean_delay", "distance_km", "density", "poverty_rate"]]
        .isna()
        .all()
    )
    with pytest.raises(ValueError, match="lack columns: area_km2"):
        commune_indicators(communes.drop(columns="area_km2"), m)
