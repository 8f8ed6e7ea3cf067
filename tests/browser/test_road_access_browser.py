"""The main screen's road-access card in headless Chromium."""

import pytest

from dashapp import ids
from tests.auth_helpers import browser_sign_in
from tests.browser.waits import until

pytestmark = pytest.mark.browser

FIGURE = (
    "return document.getElementById(arguments[0])?.querySelector('.fw-semibold')"
    "?.textContent"
)


def _figure(duo, kpi_id):
    element_id = f'{{"index":"{kpi_id}","type":"road-kpi"}}'
    return duo.driver.execute_script(FIGURE, element_id)


def test_road001_access_by_road_follows_mode_and_season(dash_duo, app):
    browser_sign_in(dash_duo, app)
    dash_duo.wait_for_contains_text(f"#{ids.ROAD_ACCESS}", "min", timeout=30)
    until(lambda: (_figure(dash_duo, "mean_minutes") or "").endswith("min"), 20)
    dry = _figure(dash_duo, "mean_minutes")
    dash_duo.driver.save_screenshot("/tmp/road_access_card.png")
    labels = dash_duo.find_elements(f"#{ids.ROAD_MEASURE} label")
    assert [x.text for x in labels][:2] == [
        "Motorisé, saison sèche",
        "Motorisé, saison des pluies",
    ]
    labels[1].click()
    until(lambda: _figure(dash_duo, "mean_minutes") != dry, 20)
    # the rainy season is slower on the demo's unpaved roads
    assert float(
        _figure(dash_duo, "mean_minutes").split()[0].replace(",", ".")
    ) > float(dry.split()[0].replace(",", "."))
    assert dash_duo.get_logs() == []
