"""The scenario screen's 'maximise attendance' objective: option, decay fields, run."""

import pytest

from callbacks import scenario_run as run_cb
from callbacks import scenarios as scn
from dashapp import ids, services
from data.scenarios import get_scenario
from layouts.scenarios import DECAY_KEYS, OBJECTIVE_KEYS, parameter_panel
from optimization.whatif import PanelError, WhatIf, build_spec
from tests.callbacks.test_scenario_callbacks import _panel

pytestmark = pytest.mark.writes_demo  # a run saves its scenario


def _find(component, id_):
    """The component of ``id_`` in a layout tree (None when absent)."""
    if getattr(component, "id", None) == id_:
        return component
    children = getattr(component, "children", None)
    if children is None:
        return None
    for child in children if isinstance(children, (list, tuple)) else [children]:
        found = _find(child, id_)
        if found is not None:
            return found
    return None


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_objective_list_offers_attendance_with_its_decay_fields(lang):
    import pandas as pd

    docs = pd.DataFrame({"code": ["CNI"], "name_fr": ["CNI"], "name_en": ["ID"]})
    card = parameter_panel(docs, lang)
    objective = _find(card, ids.SCN_OBJECTIVE)
    assert [o["value"] for o in objective.options] == list(OBJECTIVE_KEYS)
    label = next(o["label"] for o in objective.options if o["value"] == "attendance")
    assert label.startswith(
        "Maximiser la fréquentation" if lang == "fr" else "Maximise"
    )
    decay = _find(card, ids.SCN_DECAY)
    assert [o["value"] for o in decay.options] == list(DECAY_KEYS)
    assert decay.value == WhatIf().decay
    assert _find(card, ids.SCN_DECAY_DISTANCE).value == WhatIf().decay_distance
    assert _find(card, ids.SCN_DECAY_EXPONENT).value == WhatIf().decay_exponent
    # the panel the callbacks read carries the three fields
    panel = scn.panel()
    assert {"decay", "decay_distance", "decay_exponent"} <= set(panel)


@pytest.mark.parametrize(
    ("decay", "expected"),
    [
        ("linear", {"function": "linear", "cutoff": 25.0}),
        ("exponential", {"function": "exponential", "half_distance": 25.0}),
        ("power", {"function": "power", "exponent": 1.5, "scale": 25.0}),
    ],
)
def test_the_panel_becomes_the_engines_decay(decay, expected):
    whatif = WhatIf.from_panel(
        _panel(
            objective="attendance",
            decay=decay,
            decay_distance=25,
            decay_exponent=1.5,
            max_distance_km=60,
        )
    )
    spec = build_spec(whatif, n_existing=50)
    assert spec["model"] == "attendance"
    assert spec["parameters"]["decay"] == expected
    assert spec["parameters"]["p"] == 52 and spec["parameters"]["max_distance"] == 60


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"decay": "gravity"}, "decay"),
        ({"decay_distance": 0}, "decay_distance"),
        ({"decay_distance": None}, "decay_distance"),
        ({"decay_exponent": 99}, "decay_exponent"),
        ({"decay_exponent": "beaucoup"}, "decay_exponent"),
    ],
)
def test_unusable_decay_values_are_named(changes, field):
    with pytest.raises(PanelError) as err:
        WhatIf.from_panel(_panel(objective="attendance", **changes))
    assert field in [p.field for p in err.value.problems]


def test_an_attendance_run_is_saved_with_attended_against_potential(call, demo_app):
    config = demo_app.server.config["DASHAPP"]
    dataset_id = call(lambda: services.context(config.database_url).info.id)
    panel = _panel(objective="attendance", decay="linear", decay_distance=40)
    result, status = call(
        run_cb.run_optimisation, config, lambda _: None, 1, panel, dataset_id, "en"
    )
    assert "optimal" in str(status)
    assert "requests/week attended" in str(status)
    record = get_scenario(services.get_store(config.database_url), result["id"])
    assert record.params["whatif"]["objective"] == "attendance"
    attendance = record.summary["attendance"]
    assert attendance["decay"] == {"function": "linear", "cutoff": 40.0}
    assert 0 < attendance["after"]["share"] <= 1
    assert attendance["after"]["attended"] >= attendance["before"]["attended"] - 1e-6
    assert attendance["after"]["attended"] == pytest.approx(
        record.summary["solve"]["objective"]
    )
    deltas, centers, communes = call(run_cb.show_result, result, None, "en", dataset_id)
    assert len(communes[1].rowData) == 400
    line = _find(deltas, "scn-attendance-shown")
    share = f"{100 * attendance['after']['share']:.1f} %"
    assert line.children.startswith("Attendance: ") and share in line.children
    assert f"of {attendance['potential']:,.0f} possible" in line.children
