"""The scenario screen's 'maximise attendance' objective in headless Chromium."""

import os
from pathlib import Path

import pytest

from dashapp import ids
from layouts.scenarios import DECAY_KEYS, OBJECTIVE_KEYS
from tests.auth_helpers import browser_sign_in

pytestmark = pytest.mark.browser


def test_scn101_attendance_objective_runs_and_says_attended_demand(
    dash_duo, app, tmp_path
):
    browser_sign_in(dash_duo, app)
    dash_duo.driver.get(dash_duo.server_url + "/scenarios")
    dash_duo.wait_for_contains_text(
        f"#{ids.SCN_INSTANT}", "Centres ouverts", timeout=20
    )
    dash_duo.select_dcc_dropdown(
        f"#{ids.SCN_OBJECTIVE}", index=OBJECTIVE_KEYS.index("attendance")
    )
    dash_duo.wait_for_contains_text(
        f"#{ids.SCN_OBJECTIVE}", "Maximiser la fréquentation"
    )
    dash_duo.select_dcc_dropdown(f"#{ids.SCN_DECAY}", index=DECAY_KEYS.index("linear"))
    dash_duo.wait_for_contains_text(f"#{ids.SCN_DECAY}", "Linéaire")
    # the decay's distance is labelled in the access measure's unit
    label = f"#{ids.SCN_DECAY_DISTANCE_LABEL}"
    assert dash_duo.find_element(label).text == "Distance de la baisse (km)"
    dash_duo.driver.execute_script(
        "const e = document.getElementById(arguments[0]);"
        "e.scrollIntoView({block: 'center'}); e.click();",
        ids.SCN_RUN,
    )
    dash_duo.wait_for_contains_text(
        f"#{ids.SCN_STATUS}", "optimal (prouvé)", timeout=90
    )
    dash_duo.wait_for_contains_text(
        "#scn-attendance-shown", "demandes/semaine attendues sur", timeout=30
    )
    assert "attendues" in dash_duo.find_element(f"#{ids.SCN_STATUS}").text
    # the demo has roads: with a travel time the decay is in minutes
    radios = dash_duo.find_elements(f"#{ids.SCN_MEASURE} input")
    dash_duo.driver.execute_script("arguments[0].click();", radios[1])
    dash_duo.wait_for_text_to_equal(label, "Temps de trajet de la baisse (min)")
    dash_duo.driver.execute_script(
        "document.getElementById(arguments[0]).scrollIntoView({block: 'center'});",
        ids.SCN_DECAY_DISTANCE,
    )
    shot = Path(os.environ.get("SCN101_SCREENSHOT", tmp_path / "scn101.png"))
    dash_duo.driver.save_screenshot(str(shot))
    assert dash_duo.get_logs() == []
