"""The scenario screen's pieces say the measure's unit: curve, panel, alerts."""

import pandas as pd

from layouts.scenarios import (
    curve_figure,
    field_label,
    invalid_alert,
    measure_control,
    measure_texts,
    parameter_panel,
    scenario_small_map,
)
from optimization.whatif import NoRoadsError, PanelError, Problem
from optimization.workspace import CoverageCurve


def test_the_curve_reads_minutes_for_a_travel_time():
    minutes = curve_figure(CoverageCurve([0, 1], [50.0, 60.0], [80.0, 70.0], "min"), "fr")
    assert minutes["layout"]["yaxis2"]["title"]["text"] == "Temps de trajet moyen (min)"
    km = curve_figure(CoverageCurve([0, 1], [50.0, 60.0], [8.0, 7.0]), "en")
    assert km["layout"]["yaxis2"]["title"]["text"] == "Mean distance (km)"


def test_labels_and_messages_take_the_unit():
    assert field_label("radius_km", "fr", "min") == "Rayon R (min)"
    assert field_label("max_distance_km", "en", "min") == "Max. travel time (min)"
    assert field_label("radius_km", "en") == "Radius R (km)"
    assert field_label("new_centers", "fr", "min") == "Nouveaux centres"  # no unit
    alert = invalid_alert(PanelError([Problem("radius_km", 0, "range", 0.1, 1000)]),
                          "fr", "min")  # fmt: skip
    assert "Rayon R (min) : 0 n'est pas entre" in str(alert.children)
    assert invalid_alert(NoRoadsError(), "en").id == "scn-no-roads"
    assert measure_texts("walking|dry", False, "fr")[0] == "Rayon R (km)"
    assert measure_texts("walking|dry", True, "en")[3].startswith(
        "Communes: travel time by road"
    )
    assert measure_texts("km", True, "en")[3].startswith("Communes: distance")
    # the attendance decay's distance: the measure's unit, never "km or min"
    assert measure_texts("walking|dry", True, "fr")[4] == (
        "Temps de trajet de la baisse (min)"
    )
    assert measure_texts("walking|dry", False, "en")[4] == "Decay distance (km)"
    assert field_label("decay_distance", "en", "min") == "Decay travel time (min)"


def _find(node, id_):
    """The component ``id_`` in a layout tree, or None."""
    if getattr(node, "id", None) == id_:
        return node
    children = getattr(node, "children", None)
    for child in children if isinstance(children, (list, tuple)) else [children]:
        if child is not None and not isinstance(child, (str, int, float)):
            found = _find(child, id_)
            if found is not None:
                return found
    return None


def test_the_panel_labels_the_decay_distance_in_the_measure_unit():
    from dashapp import ids

    def label(panel):
        return _find(panel, ids.SCN_DECAY_DISTANCE_LABEL).children

    docs = pd.DataFrame({"code": ["CNI"], "name_fr": ["CNI"], "name_en": ["ID"]})
    minutes = parameter_panel(docs, "fr", {"measure": "motorised|dry"}, roads=True)
    assert label(minutes) == "Temps de trajet de la baisse (min)"
    roadless = parameter_panel(docs, "en", {"measure": "motorised|dry"}, roads=False)
    assert label(roadless) == "Decay distance (km)"
    assert label(parameter_panel(docs, "fr")) == "Distance de la baisse (km)"


def test_the_switch_keeps_km_without_roads():
    without = measure_control("motorised|dry", False, "fr")
    radio = without.children[1]
    assert radio.value == "km"  # a saved travel-time value shown on a roadless dataset
    assert [o["disabled"] for o in radio.options] == [False, True, True, True, True]
    assert measure_control("walking|rainy", True, "en").children[1].value == (
        "walking|rainy"
    )


def test_small_maps_say_their_unit():
    geojson = {"type": "FeatureCollection", "features": []}
    centers = pd.DataFrame({"status": ["kept"], "lon": [0.0], "lat": [0.0],
                            "name": ["A"]})  # fmt: skip
    fig = scenario_small_map(geojson, ["R1"], (0, 0, 1, 1), centers, "fr", [42.0],
                             (0.0, 50.0), True, "min")  # fmt: skip
    chor = next(d for d in fig["data"] if d.get("colorbar"))
    assert chor["colorbar"]["title"]["text"] == "min"
    assert "Temps de trajet moyen" in chor["hovertemplate"]
