"""Segmentation and proposed sites with communes of unknown population: left out
of what the population weighs, counted and said, never weighted as 0."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from dashapp.segmentation_tables import export_tables
from data.indicators import POPULATION_INDICATORS
from geo.segmentation import (
    UnknownPopulationError,
    cluster_sites,
    profile,
    segment,
)
from layouts.segmentation import messages, profile_table

NAN = float("nan")


def _frame(population):
    """Two groups on ``a`` (low: rows 0-2, high: rows 3-5) and a feature ``b``."""
    return pd.DataFrame(
        {
            "a": [0.0, 0.1, 0.2, 9.0, 9.1, 9.2],
            "b": [1.0, 1.0, 1.0, 5.0, 5.0, 5.0],
            "population": population,
        },
        index=[11, 12, 13, 14, 15, 16],
    )


def test_population_indicators_are_the_per_capita_and_weighted_ones():
    assert set(POPULATION_INDICATORS) == {"demand_per_1000", "distance_km", "density"}


def test_a_commune_of_unknown_population_is_left_out_of_population_features():
    frame = _frame([10, 10, 10, 1, 1, NAN])
    seg = segment(frame, ["a", "b"], k=2, population_features=["a"])
    assert seg.left_out == [16] and 16 not in seg.labels.index
    assert seg.imputed == {"a": 0, "b": 0}  # left out, not given the median
    assert seg.population_features == ("a",)
    out = seg.to_dict(list("UVWXYZ"))
    assert out["left_out"] == ["Z"] and set(out["labels"]) == set("UVWXY")
    assert len(out["pc1"]) == 5
    assert seg.profile["n_communes"].tolist() == [3, 2]


def test_without_a_population_feature_it_is_clustered_but_not_counted_as_people():
    frame = _frame([10, 10, 10, 1, 1, NAN])
    seg = segment(frame, ["a", "b"], k=2, population_features=["density"])
    assert seg.left_out == [] and seg.population_unknown == 1
    assert seg.labels.loc[16] == seg.labels.loc[14]
    prof = seg.profile.set_index("cluster")
    assert prof.loc[1, "population"] == 2.0  # 1 + 1, the unknown one not as 0
    assert prof.loc[1, "population_unknown"] == 1
    assert prof.loc[1, "n_communes"] == 3


def test_a_cluster_without_any_known_population_reads_nd():
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "population": [5.0, NAN, NAN]})
    prof = profile(frame, np.array([0, 1, 1]), ["a"])
    assert prof["population"].iloc[0] == 5.0 and np.isnan(prof["population"].iloc[1])
    assert prof["population_unknown"].tolist() == [0, 2]
    assert prof["population_share"].iloc[0] == 100.0


def test_no_known_population_with_a_feature_that_needs_it_is_a_clear_error():
    with pytest.raises(UnknownPopulationError, match="none of the 6 communes") as exc:
        segment(_frame([NAN] * 6), ["a", "b"], k=2, population_features=["a"])
    assert exc.value.features == ("a",) and exc.value.communes == 6


def _named(population):
    """:func:`_frame` with the catalogue's names: ``a`` as density, ``b`` as delay."""
    frame = _frame(population).rename(columns={"a": "density", "b": "mean_delay"})
    frame["code"] = list("UVWXYZ")
    frame["name"] = frame["code"]
    return frame


def test_screen_words_the_counts_and_the_export_lists_the_left_out():
    frame = _named([10, 10, 10, 1, 1, NAN])
    seg = segment(frame, ["density", "mean_delay"], k=2,
                  population_features=POPULATION_INDICATORS)  # fmt: skip
    result = seg.to_dict(frame["code"].tolist())
    text = messages(result, "fr")[0]
    assert text.startswith("1 commune(s) sans population connue laissée(s) hors")
    assert "qui en dépendent (densité de population)" in text
    communes, _ = export_tables(result, frame, {}, "fr")
    row = communes.set_index("code").loc["Z"]
    assert pd.isna(row["cluster"]) and row["description"].startswith("n.d.")
    assert communes.set_index("code").loc["U", "cluster"] == 1


def test_profile_cell_says_nd_and_how_many_communes_it_lacks():
    frame = _named([10, 10, 10, NAN, NAN, NAN])
    result = segment(frame, ["mean_delay"], k=2,
                     population_features=POPULATION_INDICATORS).to_dict(
        frame["code"].tolist()
    )  # fmt: skip
    assert result["left_out"] == [] and result["population_unknown"] == 3
    table = str(profile_table(result, "fr"))
    assert "n.d. + 3 commune(s) n.d." in table
    assert any(
        m.startswith("3 commune(s) sans population connue : segmentée(s)")
        for m in messages(result, "fr")
    )


def _towns(population):
    """Two towns west (0, 1) and two east (2, 3), 1 degree apart."""
    return gpd.GeoDataFrame(
        {
            "id": [1, 2, 3, 4],
            "code": ["W1", "W2", "E1", "E2"],
            "name": ["W1", "W2", "E1", "E2"],
            "rep_lon": [0.5, 0.6, 5.5, 5.6],
            "rep_lat": [0.5, 0.5, 0.5, 0.5],
            "population": population,
        },
        geometry=[
            box(0, 0, 0.55, 1),
            box(0.55, 0, 1, 1),
            box(5, 0, 5.55, 1),
            box(5.55, 0, 6, 1),
        ],
        crs="EPSG:4326",
    )


def test_sites_leave_unknown_population_out_of_weights_and_catchments():
    sites = cluster_sites(_towns([100, 300, 200, NAN]), 2)
    assert sites.attrs["population_unknown"] == 1
    assert sites["population_served"].tolist() == [400.0, 200.0]
    # E2 is in no catchment: not a commune of 0 inhabitants served at some distance
    assert sites["n_communes"].tolist() == [2, 1]
    east = sites.iloc[1]
    assert east["commune_code"] == "E1"
    assert east["mean_distance_km"] == pytest.approx(0.0, abs=1e-9)
    known = cluster_sites(_towns([100, 300, 200, 50]), 2)
    assert known.attrs["population_unknown"] == 0


def test_sites_without_any_known_population_are_refused_clearly():
    with pytest.raises(UnknownPopulationError, match="none of the 4 communes"):
        cluster_sites(_towns([NAN] * 4), 1)
