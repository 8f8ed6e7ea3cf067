"""A new country with no service center, planned from nothing in headless Chromium."""

import pytest
from dash.testing.wait import until

from dashapp import create_app, ids
from dashapp.config import Config
from data.store import Store
from geo.access import nearest_center
from tests.auth_helpers import browser_sign_in
from tests.tiny import new_country_bundle

pytestmark = pytest.mark.browser

MAP = "document.querySelector('#scn-map .js-plotly-plot')"


@pytest.fixture
def app(tmp_path):
    """The app on a data folder whose active dataset has communes, no center."""
    store = Store(f"sqlite:///{tmp_path / 'dashapp.sqlite'}")
    store.upgrade()
    store.add_dataset(new_country_bundle(), kind="imported", access=nearest_center)
    store.engine.dispose()
    return create_app(Config(data_dir=tmp_path))


def _markers(duo) -> int:
    return duo.driver.execute_script(
        f"const gd = {MAP}; return gd && gd.data[2] ? gd.data[2].lon.length : -1;"
    )


def test_new001_plan_a_country_without_centers(dash_duo, app):
    browser_sign_in(dash_duo, app, "planner", "/scenarios")
    dash_duo.wait_for_contains_text("#scn-no-sites", "ni centre ni site", timeout=20)
    dash_duo.wait_for_contains_text(f"#{ids.SCN_INSTANT}", "Centres ouverts")
    checked = dash_duo.find_element(f"#{ids.SCN_CLICK_MODE} input:checked")
    assert checked.get_attribute("value") == "add"
    until(
        lambda: dash_duo.driver.execute_script(
            f"const gd = {MAP};"
            "return Boolean(gd && gd._fullLayout && gd._fullLayout.map"
            " && gd._fullLayout.map._subplot.map.loaded());"
        ),
        20,
    )
    assert _markers(dash_duo) == 0
    # add three candidate sites, as clicks on communes in "add" mode do
    for n, commune in enumerate(("C1", "C2", "C4"), start=1):
        dash_duo.driver.execute_script(
            f"const gd = {MAP};"
            "const i = gd.data[1].locations.indexOf(arguments[0]);"
            "gd.emit('plotly_click', {points: [{curveNumber: 1, pointNumber: i,"
            " pointIndex: i, location: gd.data[1].locations[i], data: gd.data[1],"
            " fullData: gd._fullData[1]}], event: {}});",
            commune,
        )
        until(lambda n=n: _markers(dash_duo) == n, 15)
    dash_duo.wait_for_contains_text(f"#{ids.SCN_SITES_LIST}", "Commune C4")
    new = dash_duo.find_element(f"#{ids.SCN_NEW}")
    new.clear()
    new.send_keys("2\n")
    dash_duo.driver.execute_script(
        "const e = document.getElementById(arguments[0]);"
        "e.scrollIntoView({block: 'center'}); e.click();",
        ids.SCN_RUN,
    )
    dash_duo.wait_for_contains_text(
        f"#{ids.SCN_STATUS}", "optimal (prouvé)", timeout=60
    )
    dash_duo.wait_for_contains_text(f"#{ids.SCN_DELTAS}", "Proposition")
    dash_duo.wait_for_contains_text(f"#{ids.SCN_CENTERS_GRID}", "ouvert", timeout=20)
    result_view = dash_duo.find_elements(f"#{ids.SCN_VIEW} input")[1]
    dash_duo.driver.execute_script("arguments[0].click();", result_view)
    until(
        lambda: (
            dash_duo.driver.execute_script(
                f"return {MAP}.data[2].marker.color.join(',')"
            ).count("#1a9850")
            == 2
        ),
        15,
    )
    assert dash_duo.get_logs() == []
