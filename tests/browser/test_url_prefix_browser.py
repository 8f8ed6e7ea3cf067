"""The app under a sub-path (``DASHAPP_URL_PREFIX=/plan/``) in headless Chromium:
signed in through ``/plan/login``, the scenario screen at ``/plan/scenarios`` with
its styles, the language switch and the navigation staying under ``/plan/``."""

import pytest

from dashapp import create_app, ids
from dashapp.config import Config
from tests.auth_helpers import browser_sign_in
from tests.browser.waits import until
from tests.stores import make_tiny_store

pytestmark = pytest.mark.browser


@pytest.fixture
def app(tmp_path):
    make_tiny_store(f"sqlite:///{tmp_path / 'dashapp.sqlite'}").engine.dispose()
    return create_app(Config(data_dir=tmp_path, url_prefix="/plan/"))


def test_prf001_scenarios_styles_language_and_links_under_a_sub_path(dash_duo, app):
    browser_sign_in(dash_duo, app, path="/scenarios")
    driver = dash_duo.driver
    assert dash_duo.server_url.endswith("/plan")
    dash_duo.wait_for_contains_text(f"#{ids.SCN_INSTANT}", "Centres ouverts")
    # Bootstrap came from /plan/vendor/: the dark navbar is dark
    navbar = driver.find_element("css selector", "nav.navbar")
    assert navbar.value_of_css_property("background-color") == "rgba(33, 37, 41, 1)"
    # the language switch comes back to this screen, under the prefix
    driver.find_element("css selector", "a[href='/plan/lang/en']").click()
    dash_duo.wait_for_contains_text(f"#{ids.SCN_INSTANT}", "Open centers")
    assert driver.execute_script("return location.pathname") == "/plan/scenarios"
    # the navigation bar's links stay under it
    driver.find_element("css selector", "a.nav-link[href='/plan/']").click()
    until(lambda: driver.execute_script("return location.pathname") == "/plan/", 20)
    dash_duo.wait_for_element(f"#{ids.PAGE} .js-plotly-plot")
    assert "not found" not in dash_duo.find_element(f"#{ids.PAGE}").text.lower()
    assert dash_duo.get_logs() == []
