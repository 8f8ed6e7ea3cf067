"""A new country with no service center, planned from nothing in headless Chromium."""

import pytest
from selenium.webdriver.common.by import By

from dashapp import create_app, ids
from dashapp.config import Config
from data.kpi import SCENARIO_KPIS
from data.store import Store
from geo.access import nearest_center
from layouts.maps import SITE_COLORS, site_index
from tests.auth_helpers import browser_sign_in
from tests.browser.waits import until
from tests.tiny import new_country_bundle
from tests.unit.data import import_files

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
        f"const gd = {MAP}; return gd && gd.data[4] ? gd.data[4].lon.filter(x => x !== null).length : -1;"
    )


def _click_commune(dash_duo, commune: str) -> None:
    """A click on ``commune`` of the scenario map, as Plotly reports one."""
    dash_duo.driver.execute_script(
        f"const gd = {MAP};"
        "const i = gd.data[1].locations.indexOf(arguments[0]);"
        "gd.emit('plotly_click', {points: [{curveNumber: 1, pointNumber: i,"
        " pointIndex: i, location: gd.data[1].locations[i], data: gd.data[1],"
        " fullData: gd._fullData[1]}], event: {}});",
        commune,
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
        _click_commune(dash_duo, commune)
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
                f"return {MAP}.data[4].marker.color.join(',')"
            ).count(SITE_COLORS["opened"])
            == 2
        ),
        15,
    )
    assert dash_duo.get_logs() == []


MAP_LOADED = (
    f"const gd = {MAP};"
    "return Boolean(gd && gd._fullLayout && gd._fullLayout.map"
    " && gd._fullLayout.map._subplot.map.loaded());"
)
KPI_ROWS = (
    f"return [...document.querySelectorAll('#{ids.SCN_DELTAS} tr')]"
    ".map(r => [...r.cells].map(c => c.innerText))"
)


def _click(duo, element_id):
    duo.driver.execute_script(
        "const e = document.getElementById(arguments[0]);"
        "e.scrollIntoView({block: 'center'}); e.click();",
        element_id,
    )


def test_new002_import_boundaries_and_population_then_place_two_centers(
    dash_duo, demo_copy, tmp_path
):
    """A ministry's first hour: a country with no center, imported from its
    boundaries and census table, then "where to put 2 centers" from scratch."""
    app = create_app(Config(data_dir=demo_copy))
    browser_sign_in(dash_duo, app, "admin", "/import")
    dash_duo.wait_for_text_to_equal("h5.card-title", "Jeux de données")
    # boundaries alone (COD-AB, no population column) and a census table by name
    files = [
        import_files.write_cod_ab(tmp_path),
        import_files.population_by_name(tmp_path),
    ]
    dash_duo.driver.find_element(
        By.CSS_SELECTOR, f"#{ids.IMP_UPLOAD} input[type=file]"
    ).send_keys("\n".join(str(f) for f in files))
    dash_duo.wait_for_contains_text(f"#{ids.IMP_FILES}", "population_noms.csv")
    _click(dash_duo, ids.IMP_COMMIT)
    dash_duo.wait_for_contains_text(f"#{ids.IMP_REPORT}", "importé (n°", timeout=60)
    assert "0 centre" in dash_duo.find_element(f"#{ids.IMP_REPORT}").text

    dash_duo.wait_for_page(dash_duo.server_url + "/scenarios")
    dash_duo.wait_for_contains_text("#scn-no-sites", "ni centre ni site", timeout=30)
    dash_duo.wait_for_contains_text("#scn-estimated-demand", "estimée à partir")
    dash_duo.wait_for_contains_text(f"#{ids.SCN_INSTANT}", "Centres ouverts")
    until(lambda: dash_duo.driver.execute_script(MAP_LOADED), 30)
    communes = dash_duo.driver.execute_script(f"return {MAP}.data[1].locations")
    assert len(communes) == 8 and _markers(dash_duo) == 0
    # candidate sites in four communes, by clicks on the map in "add" mode
    chosen = [communes[0], communes[3], communes[4], communes[7]]
    for n, commune in enumerate(chosen, start=1):
        _click_commune(dash_duo, commune)
        until(lambda n=n: _markers(dash_duo) == n, 20)
    dash_duo.wait_for_contains_text(f"#{ids.SCN_SITES_LIST}", "Médina-Gare")
    new = dash_duo.find_element(f"#{ids.SCN_NEW}")
    new.clear()
    new.send_keys("2\n")
    _click(dash_duo, ids.SCN_RUN)
    dash_duo.wait_for_contains_text(
        f"#{ids.SCN_STATUS}", "optimal (prouvé)", timeout=90
    )
    dash_duo.wait_for_contains_text(f"#{ids.SCN_DELTAS}", "Proposition", timeout=30)
    rows = {r[0]: r[1:] for r in dash_duo.driver.execute_script(KPI_ROWS) if r}
    assert rows["Centres ouverts"][:2] == ["0", "2"], rows
    mean = SCENARIO_KPIS["mean_distance"].label("fr")  # the catalogue's, with km
    today, proposal = rows[mean][:2]
    assert today == "n.d." and proposal not in ("", "n.d.", "0,0"), rows
    dash_duo.wait_for_contains_text(f"#{ids.SCN_CENTERS_GRID}", "ouvert", timeout=20)
    result_view = dash_duo.find_elements(f"#{ids.SCN_VIEW} input")[1]
    dash_duo.driver.execute_script("arguments[0].click();", result_view)
    until(
        lambda: (
            dash_duo.driver.execute_script(
                f"return {MAP}.data[4].marker.color.join(',')"
            ).count(SITE_COLORS["opened"])
            == 2
        ),
        20,
    )
    dash_duo.driver.set_window_size(1500, 2400)  # the proposal and its KPIs at once
    dash_duo.driver.save_screenshot(str(tmp_path / "new002.png"))
    assert dash_duo.get_logs() == []


assert site_index() == 4  # the site layer the scripts above read (gd.data[4])
