import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Polygon

from geo.access import nearest_center
from geo.display import simplify_coverage, to_geojson, view_for_bounds
from geo.distance import distance_matrix_km, haversine_km, nearest_km


def test_haversine_known_distances():
    assert haversine_km(0, 0, 1, 0) == pytest.approx(111.195, abs=1e-3)
    # Dakar -> Bamako, about 1,050 km great-circle
    assert haversine_km(-17.4467, 14.6928, -8.0029, 12.6392) == pytest.approx(
        1049, abs=5
    )
    assert haversine_km(3.0, 10.0, 3.0, 10.0) == 0.0


def test_distance_matrix_shape_and_symmetry():
    lon, lat = np.array([0.0, 1.0, 2.0]), np.array([0.0, 1.0, 0.5])
    d = distance_matrix_km(lon, lat, lon, lat)
    assert d.shape == (3, 3)
    np.testing.assert_allclose(d, d.T)
    np.testing.assert_allclose(np.diag(d), 0.0)
    with pytest.raises(ValueError, match="same shape"):
        distance_matrix_km([0, 1], [0], [0], [0])


def test_distance_matrix_known_values_chunks_and_refusals():
    d = distance_matrix_km([0.0, 2.3522], [0.0, 48.8566], [1.0, 2.3522], [0.0, 48.8566])
    assert d[0, 0] == pytest.approx(111.195, abs=0.01)  # one degree on the equator
    assert d[1, 1] == 0.0
    back = distance_matrix_km(
        [1.0, 2.3522], [0.0, 48.8566], [0.0, 2.3522], [0.0, 48.8566]
    )
    np.testing.assert_allclose(d, back.T)
    rng = np.random.default_rng(5)
    a, b = rng.uniform(-60, 60, (37, 2)), rng.uniform(-60, 60, (5, 2))
    whole = distance_matrix_km(a[:, 0], a[:, 1], b[:, 0], b[:, 1])
    chunked = distance_matrix_km(a[:, 0], a[:, 1], b[:, 0], b[:, 1], chunk_rows=4)
    np.testing.assert_array_equal(whole, chunked)
    np.testing.assert_array_equal(
        whole, haversine_km(a[:, :1], a[:, 1:], b[None, :, 0], b[None, :, 1])
    )
    with pytest.raises(ValueError, match="'lat_a' has values beyond"):
        distance_matrix_km([650000.0], [6860000.0], [0.0], [0.0])
    with pytest.raises(ValueError, match="'lon_b' contains NaN"):
        distance_matrix_km([0.0], [0.0], [np.nan], [0.0])


def test_nearest_in_chunks_matches_brute_force():
    rng = np.random.default_rng(3)
    a = rng.uniform(-5, 5, size=(50, 2))
    b = rng.uniform(-5, 5, size=(7, 2))
    idx, dist = nearest_km(a[:, 0], a[:, 1], b[:, 0], b[:, 1], chunk=8)
    full = distance_matrix_km(a[:, 0], a[:, 1], b[:, 0], b[:, 1])
    np.testing.assert_array_equal(idx, full.argmin(axis=1))
    np.testing.assert_allclose(dist, full.min(axis=1))
    idx, dist = nearest_km([0.0], [0.0], [], [])
    assert idx.tolist() == [-1] and np.isnan(dist).all()
    # a point without coordinates has no distance rather than stopping the others
    idx, dist = nearest_km([np.nan, 0.0], [0.0, 0.0], [1.0], [0.0])
    assert np.isnan(dist[0]) and dist[1] == pytest.approx(111.195, abs=0.01)


def test_nearest_center_ignores_closed_centers():
    communes = pd.DataFrame(
        {"id": [1, 2], "rep_lon": [0.0, 1.0], "rep_lat": [0.0, 0.0]}
    )
    centers = pd.DataFrame(
        {
            "id": [10, 11],
            "lon": [0.0, 1.0],
            "lat": [0.0, 0.0],
            "status": ["closed", "open"],
        }
    )
    out = nearest_center(communes, centers)
    assert out["nearest_center_id"].tolist() == [11, 11]
    assert out["distance_km"].iloc[0] == pytest.approx(111.195, abs=1e-3)
    none_open = nearest_center(communes, centers.assign(status="closed"))
    assert none_open["nearest_center_id"].isna().all()


def _jagged_tiles():
    """Four tiles sharing a wiggly border, as administrative boundaries do."""
    xs = np.linspace(0, 1, 200)
    wiggle = 0.5 + 0.01 * np.sin(xs * 60)
    bottom = Polygon([(0, 0), (1, 0), *zip(xs[::-1], wiggle[::-1], strict=True)])
    top = Polygon([*zip(xs, wiggle, strict=True), (1, 1), (0, 1)])
    # neighbours carry the vertices where the wiggly border meets them
    left = Polygon([(-1, 0), (0, 0), (0, wiggle[0]), (0, 1), (-1, 1)])
    right = Polygon([(1, 0), (2, 0), (2, 1), (1, 1), (1, wiggle[-1])])
    return [bottom, top, left, right]


def test_coverage_simplification_keeps_tiles_without_gaps_or_overlaps():
    tiles = _jagged_tiles()
    simple = simplify_coverage(tiles, 0.02)
    assert (
        sum(shapely.get_num_coordinates(simple))
        < sum(shapely.get_num_coordinates(tiles)) / 3
    )
    union_area = shapely.union_all(simple).area
    assert sum(g.area for g in simple) == pytest.approx(union_area, rel=1e-9)
    assert union_area == pytest.approx(shapely.union_all(tiles).area, rel=1e-3)
    assert all(g.is_valid for g in simple)


def test_geojson_ids_rounding_and_crs_checks():
    gdf = gpd.GeoDataFrame(
        {"code": ["A", "B"]}, geometry=_jagged_tiles()[:2], crs="EPSG:4326"
    )
    gj = to_geojson(gdf, tolerance_deg=0.01, decimals=3)
    assert [f["id"] for f in gj["features"]] == ["A", "B"]
    coords = gj["features"][0]["geometry"]["coordinates"][0]
    assert all(round(c, 3) == c for pt in coords for c in pt)
    with pytest.raises(ValueError, match="EPSG:4326"):
        to_geojson(gdf.set_crs("EPSG:3857", allow_override=True))
    with pytest.raises(TypeError, match="should be GeoDataFrame"):
        to_geojson(pd.DataFrame(gdf))


def test_view_fits_bounds():
    wide = view_for_bounds(-12, 7, 2, 16)
    small = view_for_bounds(-1.1, 12.0, -1.0, 12.1)
    assert wide["center"] == {"lon": -5.0, "lat": 11.5}
    assert 4 < wide["zoom"] < 7
    assert small["zoom"] > wide["zoom"] + 5
