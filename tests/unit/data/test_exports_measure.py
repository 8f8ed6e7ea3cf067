"""Exports and comparisons name the access measure (km, or travel minutes)."""

import datetime as dt

import pandas as pd

from data.exports import (
    compare_kpis,
    parameters_frame,
    readable_comparison,
    summary_frame,
)
from data.kpi import measure_label
from data.scenarios import ScenarioRecord
from layouts.scenario_results import export_text

NOW = dt.datetime(2026, 11, 1)
TRAVEL = {"kind": "travel_time", "mode": "motorised", "season": "rainy", "unit": "min"}


def _record(i, measure_spec, mean, units="km"):
    params = {"whatif": {"radius_km": 30}, "spec": {"model": "pmedian"}}
    if measure_spec:
        params["spec"]["distance"] = measure_spec
    summary = {
        "units": {"distance": units, "demand": "requests/week"},
        "kpis": {"before": {"mean_distance": mean + 5}, "after": {
            "mean_distance": mean, "unassigned_demand": 0.0}},
    }  # fmt: skip
    if measure_spec:
        summary["travel_time"] = {
            "mode": "motorised", "season": "rainy",
            "before": {"mean_minutes": 90.0, "within_60_min": 0.4, "unreachable": 0.1},
            "after": {"mean_minutes": 70.0, "within_60_min": 0.55, "unreachable": 0.05},
        }  # fmt: skip
    return ScenarioRecord(i, 1, "v1", f"S{i}", "", params, summary, None, None,
                          "optimal", NOW, NOW)  # fmt: skip


def test_the_parameters_name_the_measure_in_words_or_as_a_code():
    record = _record(1, TRAVEL, 60.0, "min")
    raw = parameters_frame(record).set_index("parameter")["value"]
    assert raw["scenario.measure"] == "motorised|rainy"  # the engine's identifier
    fr = parameters_frame(record, export_text("fr", "min"))
    values = dict(zip(fr.iloc[:, 0], fr.iloc[:, 1], strict=True))
    assert values["scenario.measure"] == "Temps de trajet motorisé, saison des pluies (min)"
    km = parameters_frame(_record(2, None, 12.0), export_text("en"))
    assert dict(zip(km.iloc[:, 0], km.iloc[:, 1], strict=True))["scenario.measure"] == (
        "Straight-line distance (km)"
    )


def test_the_summary_carries_minutes_and_the_access_by_road():
    frame = summary_frame(_record(1, TRAVEL, 60.0, "min"), export_text("en", "min"))
    names = frame.iloc[:, 1].tolist()
    assert "Demand-weighted mean travel time, demand served (min)" in names
    row = frame[frame.iloc[:, 1] == "Population within 60 min of a center (%)"]
    assert row.iloc[0, 3:].tolist() == [40.0, 55.0, 15.0]  # in %, as on screen
    assert "Population reaching no center (%)" in names
    # a run in km has no such section
    assert "travel_time" not in summary_frame(_record(2, None, 12.0))["section"].tolist()


def test_headers_of_the_distance_columns_say_the_unit():
    assert export_text("fr", "min").header("distance") == "Temps de trajet proposé (min)"
    assert export_text("fr").header("distance") == "Distance proposée (km)"
    assert export_text("en", "min").header("distance_before") == "Travel time today (min)"


def test_a_comparison_of_two_measures_names_them_and_marks_no_best_distance():
    km, minutes = _record(1, None, 12.0), _record(2, TRAVEL, 60.0, "min")
    table = compare_kpis([km, minutes], lang="fr")
    assert table.loc["measure", "S1"] == measure_label("km", "fr")
    assert table.loc["measure", "S2"] == "Temps de trajet motorisé, saison des pluies (min)"
    assert table.loc["mean_distance", "unit"] == "km, min"
    assert table.loc["mean_distance", "best"] is None  # km and min do not compare
    same = compare_kpis([_record(3, TRAVEL, 50.0, "min"), minutes], lang="en")
    assert same.loc["mean_distance", "kpi"] == (
        "Demand-weighted mean travel time, demand served"
    )
    assert same.loc["mean_distance", "best"] == "S3"  # one measure: they compare
    readable = readable_comparison(table, export_text("fr"))
    assert isinstance(readable, pd.DataFrame)
    assert "Distance à vol d'oiseau (km)" in readable.to_numpy().ravel().tolist()
