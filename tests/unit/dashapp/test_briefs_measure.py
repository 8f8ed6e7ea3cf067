"""The scenario and comparison briefs say how access was measured (km or min)."""

import datetime as dt

from dashapp.services.briefs import (
    _method_box,
    asked_text,
    assumptions,
    scenario_kpi_rows,
)
from data.scenarios import ScenarioRecord

NOW = dt.datetime(2026, 11, 1)


def _record(measure_spec=None, **whatif):
    params = {"whatif": {"objective": "coverage", "radius_km": 45,
                         "max_distance_km": 90, "min_coverage_pct": 80, **whatif},
              "spec": {"model": "mclp"}}  # fmt: skip
    if measure_spec:
        params["spec"]["distance"] = measure_spec
    return ScenarioRecord(1, 1, "v1", "Plan", "", params, {}, None, None, "optimal",
                          NOW, NOW)  # fmt: skip


WALK = {"kind": "travel_time", "mode": "walking", "season": "dry", "unit": "min"}


def test_assumptions_and_asked_say_minutes_by_road():
    record = _record(WALK)
    text = assumptions(record, "fr")
    assert text[0] == (
        "Accès : Temps de trajet à pied, saison sèche (min), par la route (plus court "
        "chemin, marche hors route comprise)."
    )
    assert text[-1] == "Rayon de couverture : 45 min de trajet."
    asked = asked_text(record, "en")
    assert "Objective: serve the most demand within 45 min by road." in asked
    assert "No commune more than 90 min from its center by road." in asked
    assert any("within 45 min by road" in line for line in asked if "80" in line)
    km = _record()
    assert assumptions(km, "fr")[-1] == "Rayon de couverture : 45 km."
    assert "Objectif : servir le plus de demande à moins de 45 km." in asked_text(
        km, "fr"
    )


def test_the_method_box_names_the_measure():
    box = _method_box("fr", 45.0, measures=["walking|dry"])
    travel = [line for line in box.lines if "par la route" in line]
    assert travel and "Temps de trajet à pied, saison sèche (min)" in travel[0]
    assert "jamais à 0 min" in travel[0] and "45 min" in travel[0]
    mixed = _method_box("en", None, measures=["km", "motorised|rainy"])
    assert any("great-circle distance (km)" in line for line in mixed.lines)
    assert any("Motorised travel time, rainy season (min)" in line
               for line in mixed.lines)  # fmt: skip
    assert any("within 45 km" in line for line in _method_box("en", 45.0).lines)


def test_kpi_rows_in_minutes_with_the_access_by_road():
    rows = scenario_kpi_rows(
        {"mean_distance": 80.0, "within_60_min": 0.4},
        {"mean_distance": 60.0, "within_60_min": 0.5},
        "fr",
        {"distance": "min"},
    )
    labels = [r[0] for r in rows]
    assert labels == [
        "Temps de trajet moyen pondéré par la demande, demande desservie (min)",
        "Population à moins de 60 min d'un centre (%)",
    ]
    assert rows[1][1:3] == ("40,0", "50,0")
