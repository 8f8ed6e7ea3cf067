"""Tests of the synthetic demo country generator (data.demo)."""

from __future__ import annotations

import datetime as dt
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from data.demo import DemoCountry, generate_demo, scaled_sizes

EQUAL_AREA = "EPSG:6933"  # WGS 84 / NSIDC EASE-Grid 2.0 Global (equal area)


@pytest.fixture(scope="module")
def country() -> DemoCountry:
    return generate_demo()


@pytest.fixture(scope="module")
def communes(country: DemoCountry) -> gpd.GeoDataFrame:
    return country.units[country.units["level"] == 2].reset_index(drop=True)


@pytest.fixture(scope="module")
def center_weeks(country: DemoCountry) -> pd.DataFrame:
    ops = country.operations
    weekly = (
        ops.groupby(["center_code", "week"], observed=True)
        .agg(
            requests=("requests", "sum"),
            delay=("delay_mean_days", "mean"),
        )
        .reset_index()
        .merge(country.centers[["center_code", "capacity_week"]], on="center_code")
    )
    weekly["utilisation"] = weekly["requests"] / weekly["capacity_week"]
    return weekly


def _distance_to_nearest_center(country: DemoCountry) -> pd.Series:
    units = country.units[country.units["level"] == 2]
    points = units.set_index("unit_code").representative_point().to_crs(EQUAL_AREA)
    centers = gpd.GeoSeries(
        gpd.points_from_xy(country.centers["lon"], country.centers["lat"]),
        crs="EPSG:4326",
    ).to_crs(EQUAL_AREA)
    xy = shapely.get_coordinates(points.to_numpy())
    cxy = shapely.get_coordinates(centers.to_numpy())
    d = np.hypot(xy[:, None, 0] - cxy[None, :, 0], xy[:, None, 1] - cxy[None, :, 1])
    return pd.Series(d.min(axis=1) / 1000.0, index=points.index)


# ---------------------------------------------------------------------- arguments


@pytest.mark.parametrize("n_communes", [19, 0, -5])
def test_generate_demo_rejects_too_few_communes(n_communes):
    with pytest.raises(ValueError, match="'n_communes' should be at least 20"):
        generate_demo(n_communes=n_communes)


@pytest.mark.parametrize("n_communes", [400.0, "400", True, None])
def test_generate_demo_rejects_non_int_communes(n_communes):
    with pytest.raises(ValueError, match="'n_communes' should be an int"):
        generate_demo(n_communes=n_communes)


@pytest.mark.parametrize("seed", [-1, 1.5, "42", None])
def test_generate_demo_rejects_bad_seed(seed):
    with pytest.raises(ValueError, match="'seed' should be a non-negative int"):
        generate_demo(seed=seed)


def test_scaled_sizes_pinned_values():
    assert scaled_sizes(400) == {
        "regions": 5,
        "departments": 38,
        "centers": 50,
        "candidates": 200,
    }
    assert scaled_sizes(5000) == {
        "regions": 11,
        "departments": 87,
        "centers": 177,
        "candidates": 910,
    }


# ------------------------------------------------------------------------- tables


def test_default_counts_are_in_the_specified_ranges(country, communes):
    units = country.units
    assert (units["level"] == 0).sum() == 5
    assert 35 <= (units["level"] == 1).sum() <= 40
    assert len(communes) == 400
    assert 40 <= len(country.centers) <= 60
    assert 150 <= len(country.candidates) <= 250
    assert len(country.operations) == 156 * 400 * 3
    assert 8e6 <= communes["population"].sum() <= 15e6


def test_fixed_tables_and_columns(country):
    assert country.levels.to_dict("list") == {
        "level": [0, 1, 2],
        "code": ["region", "department", "commune"],
        "name_fr": ["Région", "Département", "Commune"],
        "name_en": ["Region", "Department", "Commune"],
    }
    assert country.doc_types["code"].tolist() == ["CNI", "PASS", "ACTE"]
    assert country.doc_types["target_delay_days"].tolist() == [15, 21, 7]
    assert list(country.units.columns) == [
        "unit_code", "name", "level", "parent_code", "population", "area_km2",
        "urban", "poverty_rate", "literacy_rate", "internet_rate", "geometry",
    ]  # fmt: skip
    assert list(country.centers.columns) == [
        "center_code", "name", "commune_code", "lon", "lat", "capacity_week",
        "staff", "status", "opened_on",
    ]  # fmt: skip
    assert list(country.candidates.columns) == [
        "site_code", "name", "commune_code", "lon", "lat", "opening_cost",
        "capacity_week",
    ]  # fmt: skip
    assert list(country.operations.columns) == [
        "week", "commune_code", "center_code", "doc_type", "requests", "delivered",
        "delivered_on_time", "rejected", "backlog", "delay_mean_days",
        "delay_p90_days",
    ]  # fmt: skip
    assert "synthétiques" in country.name


def test_codes_and_names_are_unique_per_level(country):
    units = country.units
    assert units["unit_code"].is_unique
    assert (
        not units.groupby("level")["name"].apply(lambda s: s.duplicated().any()).any()
    )
    assert country.centers["center_code"].is_unique
    assert country.centers["name"].is_unique
    assert country.candidates["site_code"].is_unique
    assert units.loc[0, "unit_code"] == "R01"
    assert units["unit_code"].str.fullmatch(r"R\d{2}(D\d{2}(C\d{3})?)?").all()


def test_weeks_are_156_mondays_ending_2026_10_26(country):
    weeks = pd.DatetimeIndex(country.operations["week"].unique())
    assert country.operations["week"].dtype == "datetime64[ns]"
    assert len(weeks) == 156
    assert weeks.min() == pd.Timestamp("2023-11-06")
    assert weeks.max() == pd.Timestamp("2026-10-26")
    assert (weeks.day_of_week == 0).all()
    assert (np.diff(weeks.asi8) == pd.Timedelta(days=7).value).all()


# ----------------------------------------------------------------------- geometry


def test_country_sits_in_west_africa(country):
    lon_min, lat_min, lon_max, lat_max = country.units.total_bounds
    assert -13 <= lon_min < lon_max <= 3
    assert 6 <= lat_min < lat_max <= 17
    width_km = (lon_max - lon_min) * 111.3 * np.cos(np.radians(11.5))
    assert 400 <= width_km <= 1000


def test_communes_tile_the_country_without_gaps_or_overlaps(communes):
    geoms = communes.geometry.to_numpy()
    assert shapely.is_valid(geoms).all()
    assert (shapely.get_type_id(geoms) == 3).all()
    country = shapely.union_all(geoms)
    assert country.geom_type == "Polygon"
    assert len(country.interiors) == 0  # no gap inside the country
    assert shapely.area(geoms).sum() == pytest.approx(country.area, rel=1e-3)
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = left < right
    overlap = shapely.area(shapely.intersection(geoms[left[keep]], geoms[right[keep]]))
    assert overlap.sum() < 1e-9 * country.area


def test_area_km2_matches_an_equal_area_projection(country):
    area = country.units.to_crs(EQUAL_AREA).area / 1e6
    np.testing.assert_allclose(country.units["area_km2"], area, rtol=5e-3)


def test_urban_communes_are_small_and_populous(communes):
    urban = communes[communes["urban"]]
    rural = communes[~communes["urban"]]
    assert 0.1 <= len(urban) / len(communes) <= 0.4
    assert urban["area_km2"].median() < rural["area_km2"].median() / 10
    assert (urban["population"] / urban["area_km2"]).median() > 20 * (
        rural["population"] / rural["area_km2"]
    ).median()
    # Rural communes of very different sizes.
    assert rural["area_km2"].quantile(0.9) > 4 * rural["area_km2"].quantile(0.1)
    assert communes.loc[communes["population"].idxmax(), "urban"]


# ---------------------------------------------------------------------- hierarchy


def test_every_unit_has_a_parent_one_level_up(country):
    units = country.units.set_index("unit_code")
    assert units.loc[units["level"] == 0, "parent_code"].isna().all()
    children = units[units["level"] > 0]
    parents = units.loc[children["parent_code"]]
    assert (parents["level"].to_numpy() == children["level"].to_numpy() - 1).all()
    assert all(
        code.startswith(parent)
        for code, parent in zip(children.index, children["parent_code"], strict=True)
    )


@pytest.mark.parametrize("level", [0, 1])
def test_upper_levels_are_contiguous_dissolves_of_their_communes(country, level):
    units = country.units
    communes = units[units["level"] == 2].copy()
    communes["group"] = communes["unit_code"].str[: 3 + 3 * level]
    upper = units[units["level"] == level].set_index("unit_code")
    assert (upper.geom_type == "Polygon").all()  # contiguous
    population = communes.groupby("group")["population"].sum()
    np.testing.assert_array_equal(upper["population"], population.loc[upper.index])
    area = communes.groupby("group")["area_km2"].sum()
    np.testing.assert_allclose(upper["area_km2"], area.loc[upper.index], rtol=1e-6)
    dissolved = communes.dissolve("group").geometry.loc[upper.index]
    diff = shapely.area(shapely.symmetric_difference(upper.geometry, dissolved))
    assert (diff < 1e-9).all()


def test_rates_are_shares_and_follow_urbanity(country, communes):
    for rate in ["poverty_rate", "literacy_rate", "internet_rate"]:
        assert country.units[rate].between(0, 1).all()
    means = communes.groupby("urban")[["poverty_rate", "internet_rate"]].mean()
    assert means.loc[True, "internet_rate"] > means.loc[False, "internet_rate"] + 0.15
    assert means.loc[True, "poverty_rate"] < means.loc[False, "poverty_rate"] - 0.15
    assert not country.units.loc[country.units["level"] < 2, "urban"].any()


# ------------------------------------------------------------ centers and sites


@pytest.mark.parametrize("table", ["centers", "candidates"])
def test_points_lie_inside_their_commune(country, communes, table):
    frame = getattr(country, table)
    polygons = communes.set_index("unit_code").geometry.loc[frame["commune_code"]]
    points = shapely.points(frame["lon"], frame["lat"])
    assert shapely.contains(polygons.to_numpy(), points).all()


def test_centers_are_open_staffed_and_concentrated_in_cities(country, communes):
    centers = country.centers
    assert (centers["status"] == "open").all()
    assert (centers["opened_on"] < dt.date(2023, 11, 6)).all()
    assert isinstance(centers.loc[0, "opened_on"], dt.date)
    assert (centers["staff"] >= 2).all()
    per_staff = centers["capacity_week"] / centers["staff"]
    assert per_staff.between(30, 55).all()
    urban = communes.set_index("unit_code").loc[centers["commune_code"], "urban"]
    population_share = (
        communes.loc[communes["urban"], "population"].sum()
        / communes["population"].sum()
    )
    assert urban.mean() > population_share
    assert not set(country.candidates["commune_code"]) & set(centers["commune_code"])
    assert (country.candidates["opening_cost"] > 0).all()


def test_some_regions_are_under_served(country, communes):
    region = communes.set_index("unit_code")["parent_code"].str[:3]
    served = country.centers["commune_code"].map(region).value_counts()
    population = communes.groupby(communes["unit_code"].str[:3])["population"].sum()
    per_100k = served.reindex(population.index, fill_value=0) / population * 1e5
    assert per_100k.max() > 2 * per_100k.min()


# -------------------------------------------------------------------- operations


def test_operations_identities(country):
    ops = country.operations
    counts = ["requests", "delivered", "delivered_on_time", "rejected", "backlog"]
    assert (ops[counts] >= 0).all().all()
    assert all(pd.api.types.is_integer_dtype(ops[c]) for c in counts)
    assert (ops["rejected"] <= ops["requests"]).all()
    assert (ops["delivered_on_time"] <= ops["delivered"]).all()
    assert (ops["delay_p90_days"] >= ops["delay_mean_days"]).all()
    assert (ops["delay_mean_days"] > 0).all()
    previous = ops.groupby(["commune_code", "doc_type"], observed=True)[
        "backlog"
    ].shift(fill_value=0)
    balance = previous + ops["requests"] - ops["rejected"] - ops["delivered"]
    np.testing.assert_array_equal(balance, ops["backlog"])


def test_each_commune_is_served_by_its_nearest_center(country):
    ops = country.operations
    served = ops.groupby("commune_code", observed=True)["center_code"].nunique()
    assert (served == 1).all()
    assert set(ops["center_code"].unique()) <= set(country.centers["center_code"])
    hosts = dict(
        zip(
            country.centers["commune_code"], country.centers["center_code"], strict=True
        )
    )
    first = ops[ops["week"] == ops["week"].min()].drop_duplicates("commune_code")
    own = first[first["commune_code"].isin(hosts)]
    assert (own["center_code"] == own["commune_code"].map(hosts)).all()


def test_per_capita_demand_decreases_with_distance(country, communes):
    demand = country.operations.groupby("commune_code", observed=True)["requests"].sum()
    people = communes.set_index("unit_code")["population"]
    per_capita = demand.loc[people.index] / people
    distance = _distance_to_nearest_center(country).loc[people.index]
    assert per_capita.corr(distance, method="spearman") < -0.3


def test_passports_follow_internet_access(country, communes):
    ops = country.operations
    passports = (
        ops[ops["doc_type"] == "PASS"]
        .groupby("commune_code", observed=True)["requests"]
        .sum()
    )
    people = communes.set_index("unit_code")
    rate = passports.loc[people.index] / people["population"]
    assert rate.corr(people["internet_rate"], method="spearman") > 0.3


def test_delays_rise_with_utilisation(center_weeks):
    busy = center_weeks["utilisation"] > 1.0
    calm = center_weeks["utilisation"] < 0.7
    assert busy.mean() > 0.03
    assert center_weeks.loc[busy, "delay"].mean() > 1.5 * (
        center_weeks.loc[calm, "delay"].mean()
    )
    corr = center_weeks["utilisation"].corr(center_weeks["delay"], method="spearman")
    assert corr > 0.6


def test_on_time_share_is_lower_at_overloaded_centers(country, center_weeks):
    ops = country.operations.merge(
        center_weeks[["center_code", "week", "utilisation"]],
        on=["center_code", "week"],
    )
    busy = ops[ops["utilisation"] > 1.0]
    calm = ops[ops["utilisation"] < 0.7]
    share = lambda f: f["delivered_on_time"].sum() / f["delivered"].sum()  # noqa: E731
    assert share(busy) < share(calm) - 0.2
    assert busy["rejected"].sum() / busy["requests"].sum() > (
        calm["rejected"].sum() / calm["requests"].sum()
    )


def test_seasonality_and_trend(country):
    ops = country.operations
    monthly = ops.groupby([ops["week"].dt.month, "doc_type"], observed=True)[
        "requests"
    ].sum()
    monthly = monthly.unstack()
    assert monthly.loc[9, "ACTE"] > 1.3 * monthly.loc[2, "ACTE"]
    assert monthly.loc[6, "PASS"] > 1.3 * monthly.loc[11, "PASS"]
    weekly = ops.groupby("week")["requests"].sum().to_numpy()
    assert weekly[-52:].sum() > 1.05 * weekly[:52].sum()


# ------------------------------------------------------------------ determinism


def test_same_seed_gives_identical_output():
    a, b = generate_demo(7, 60), generate_demo(7, 60)
    assert a.name == b.name
    for table in ["levels", "centers", "candidates", "doc_types", "operations"]:
        pd.testing.assert_frame_equal(getattr(a, table), getattr(b, table))
    pd.testing.assert_frame_equal(
        a.units.drop(columns="geometry"), b.units.drop(columns="geometry")
    )
    assert a.units.geometry.geom_equals_exact(b.units.geometry, tolerance=0).all()


def test_different_seeds_give_different_countries():
    a, b = generate_demo(7, 60), generate_demo(8, 60)
    assert a.name != b.name
    assert not np.allclose(a.units.total_bounds, b.units.total_bounds)
    assert a.units["name"].tolist() != b.units["name"].tolist()


def test_small_country_still_tiles_and_is_contiguous():
    country = generate_demo(3, 20)
    assert (country.units["level"] == 2).sum() == 20
    assert (country.units.geom_type == "Polygon").all()
    assert country.units.is_valid.all()


def test_5000_communes_are_generated_quickly():
    start = time.perf_counter()
    country = generate_demo(3, 5000)
    elapsed = time.perf_counter() - start
    units = country.units
    assert (units["level"] == 2).sum() == 5000
    assert 60 <= (units["level"] == 1).sum() <= 100
    assert 8 <= (units["level"] == 0).sum() <= 14
    assert (units.geom_type == "Polygon").all()
    assert len(country.operations) == 156 * 5000 * 3
    assert (country.operations["rejected"] <= country.operations["requests"]).all()
    assert elapsed < 20
