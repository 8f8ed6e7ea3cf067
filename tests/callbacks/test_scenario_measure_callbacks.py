"""The scenario workspace's access measure: km, or travel time by mode and season.

The demo has a road network, so every measure is offered; a dataset without one
gets the switch disabled and says why. The evaluation, the validation, the run,
the saved spec, the reopened page, the exports and the API all carry the measure.
"""

import base64
import io
import json
import zipfile

import pandas as pd
import pytest
from dash import no_update

from callbacks import scenario_library as lib_cb
from callbacks import scenario_plan as plan_cb
from callbacks import scenario_run as run_cb
from callbacks import scenarios as scn
from dashapp import ids, services
from data.scenarios import get_scenario, list_scenarios
from optimization.whatif import WhatIf
from tests.auth_helpers import signed_in_client
from tests.callbacks.test_scenario_callbacks import _panel

pytestmark = pytest.mark.writes_demo  # runs save scenarios, a dataset is added


@pytest.fixture
def dataset_id(call):
    return call(lambda: services.context(scn.current_config().database_url).info.id)


@pytest.fixture
def roadless(call, demo_app):
    """A second dataset, the tiny country, without any road network."""
    from tests.tiny import tiny_bundle

    store = services.get_store(demo_app.server.config["DASHAPP"].database_url)
    return store.add_dataset(tiny_bundle(), kind="imported", activate=False).id


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


def _rows(table) -> dict:
    """KPI rows of a kpi_table by id: (label, today, plan)."""
    return {
        r.id["index"]: tuple(str(c.children) for c in r.children[:3])
        for r in table.children[1].children
    }


def test_the_switch_is_offered_with_roads_and_disabled_without(call, dataset_id,
                                                               roadless):  # fmt: skip
    page = call(scn.render, "", "fr", dataset_id)
    switch = _find(page, ids.SCN_MEASURE)
    assert switch.value == "km" and not any(o["disabled"] for o in switch.options)
    labels = [o["label"] for o in switch.options]
    assert labels[:2] == ["Distance à vol d'oiseau (km)",
                          "Temps de trajet motorisé, saison sèche (min)"]  # fmt: skip
    assert "par la route" in str(_find(page, ids.SCN_MEASURE_NOTE).children)

    page = call(scn.render, "", "en", roadless)
    switch = _find(page, ids.SCN_MEASURE)
    assert [o["value"] for o in switch.options if not o["disabled"]] == ["km"]
    note = str(_find(page, ids.SCN_MEASURE_NOTE).children)
    assert "no road network" in note and "Import screen" in note


def test_labels_and_note_follow_the_measure(call, dataset_id, roadless):
    radius, max_distance, note, legend, decay = call(
        scn.measure_labels, "walking|rainy", dataset_id, "fr"
    )
    assert (radius, max_distance) == ("Rayon R (min)", "Temps de trajet max. (min)")
    assert decay == "Temps de trajet de la baisse (min)"
    assert "minutes" in note and legend.startswith("Communes : temps de trajet")
    assert call(scn.measure_labels, "km", dataset_id, "en")[:2] == (
        "Radius R (km)", "Max. distance (km)",
    )  # fmt: skip
    assert call(scn.measure_labels, "km", dataset_id, "en")[4] == "Decay distance (km)"
    assert call(scn.measure_labels, "walking|dry", dataset_id, "en")[4] == (
        "Decay travel time (min)"
    )
    # without roads the radius stays in km whatever the browser sends
    assert call(scn.measure_labels, "motorised|dry", roadless, "fr")[0] == (
        "Rayon R (km)"
    )
    assert call(scn.measure_labels, "motorised|dry", roadless, "fr")[4] == (
        "Distance de la baisse (km)"
    )
    assert call(scn.measure_labels, "km", "9999", "fr") == (no_update,) * 5


def test_instant_evaluation_in_minutes_says_so(call, dataset_id):
    km_table, _, _ = call(plan_cb.evaluate_plan, _panel(), None, dataset_id, "fr")
    table, _, messages = call(plan_cb.evaluate_plan, _panel(measure="motorised|dry"),
                              None, dataset_id, "fr")  # fmt: skip
    assert messages == []
    km, minutes = _rows(km_table.children[0]), _rows(table.children[0])
    assert km["mean_distance"][0].endswith("(km)") and "mean_minutes" not in km
    assert minutes["mean_distance"][0] == (
        "Temps de trajet moyen pondéré par la demande, demande desservie (min)"
    )
    assert minutes["share_within_radius"][0].startswith("Demande à moins de R min")
    assert minutes["mean_minutes"][0].endswith("(min)")
    assert {"within_30_min", "within_60_min", "within_120_min", "unreachable"} <= set(
        minutes
    )
    assert minutes["mean_distance"][1] != km["mean_distance"][1]  # not km relabelled
    shown = str(table.children[1].children)
    assert shown == "Mesure : Temps de trajet motorisé, saison sèche (min)"
    fig = call(plan_cb.draw_map, "plan", None, None, "distance",
               _panel(measure="walking|dry"), dataset_id, "en")  # fmt: skip
    chor = next(d for d in fig["data"] if d.get("colorbar", {}).get("title"))
    assert chor["colorbar"]["title"]["text"] == "min"
    assert chor["hovertemplate"].endswith(" min<extra></extra>")


def test_validation_speaks_in_minutes(call, demo_app, dataset_id):
    config = demo_app.server.config["DASHAPP"]
    store = services.get_store(config.database_url)
    before = len(list_scenarios(store))
    result, status = call(run_cb.run_optimisation, config, lambda _: None, 1,
                          _panel(radius_km=-5, measure="walking|dry"), dataset_id,
                          "fr")  # fmt: skip
    assert result is None and "Rayon R (min) : -5 n'est pas entre" in str(status)
    _, _, messages = call(plan_cb.evaluate_plan, _panel(measure="by-air"), None,
                          dataset_id, "en")  # fmt: skip
    assert "Access measure: invalid value" in str(messages)
    assert len(list_scenarios(store)) == before


def test_a_travel_time_asked_without_roads_is_refused_in_words(call, roadless):
    _, _, messages = call(plan_cb.evaluate_plan, {"measure": "motorised|dry"}, None,
                          roadless, "fr")  # fmt: skip
    assert messages.id == "scn-no-roads"
    assert "pas de réseau routier" in str(messages.children)


def test_the_run_saves_the_measure_and_reopening_restores_it(call, demo_app,
                                                             dataset_id):  # fmt: skip
    config = demo_app.server.config["DASHAPP"]
    panel = _panel(measure="motorised|dry", radius_km=45)
    result, status = call(run_cb.run_optimisation, config, lambda _: None, 1, panel,
                          dataset_id, "fr")  # fmt: skip
    assert "optimal" in str(status) and "dem./sem.·min" in str(status)
    record = get_scenario(services.get_store(config.database_url), result["id"])
    # what is saved is exactly what ran: the panel's measure and the engine's spec
    assert record.params["whatif"] == WhatIf.from_panel(panel).to_dict()
    assert record.params["whatif"]["measure"] == "motorised|dry"
    assert record.params["spec"]["distance"] == {
        "kind": "travel_time", "missing": "error", "unit": "min", "mode": "motorised",
        "season": "dry",
    }  # fmt: skip
    assert record.summary["units"]["distance"] == "min"

    deltas, _, communes = call(run_cb.show_result, result, None, "fr", dataset_id)
    rows = _rows(deltas.children[0])
    assert rows["max_distance"][0] == "Temps de trajet maximal, demande desservie (min)"
    assert "within_60_min" in rows
    assert "Temps de trajet motorisé, saison sèche (min)" in str(deltas.children[1])
    headers = [c["headerName"] for c in communes[1].columnDefs]
    assert "Temps de trajet proposé (min)" in headers

    page = call(scn.render, f"?scenario={record.id}", "fr", dataset_id)
    assert _find(page, ids.SCN_MEASURE).value == "motorised|dry"
    assert _find(page, ids.SCN_RADIUS).value == 45
    assert _find(page, ids.SCN_RADIUS_LABEL).children == "Rayon R (min)"

    # the CSV export names the measure and its unit in the interface language
    sent, _ = call(lib_cb.export, 1, None, None, result, "fr",
                   trigger=f"{ids.SCN_EXPORT_CSV}.n_clicks")  # fmt: skip
    assert sent["base64"]
    archive = zipfile.ZipFile(io.BytesIO(base64.b64decode(sent["content"])))
    params = pd.read_csv(io.BytesIO(archive.read("parameters.csv")),
                         encoding="utf-8-sig")  # fmt: skip
    measure = params.set_index(params.columns[0]).loc["scenario.measure"].iloc[0]
    assert measure == "Temps de trajet motorisé, saison sèche (min)"
    communes_csv = archive.read("communes.csv").decode("utf-8-sig")
    assert "Temps de trajet aujourd'hui (min)" in communes_csv.splitlines()[0]

    # and the API says which measure the figures are in
    client = signed_in_client(demo_app, "viewer")
    body = client.get(f"/api/v1/scenarios/{record.id}").get_json()
    assert body["measure"] == {"code": "motorised|dry", "unit": "min"}
    assert json.dumps(body["params"]["spec"]["distance"]).count("travel_time") == 1
