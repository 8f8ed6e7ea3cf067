"""Sign-in and roles in headless Chromium: who sees and may trigger what."""

import pytest

from callbacks import scenario_run as run_cb
from dashapp import ids, services
from dashapp.share import share_url
from data.scenarios import list_scenarios
from tests.auth_helpers import PASSWORD, browser_sign_in, ensure_user
from tests.browser.maps import fitted, viewport
from tests.browser.waits import until
from tests.callbacks.conftest import run_callback
from tests.callbacks.test_scenario_callbacks import _panel

pytestmark = pytest.mark.browser


def _store(app):
    return services.get_store(app.server.config["DASHAPP"].database_url)


def _nav_texts(dash_duo) -> list[str]:
    return [a.text for a in dash_duo.find_elements(".navbar .nav-link")]


def test_aut001_sign_in_is_required_and_sign_out_ends_it(dash_duo, app):
    user = ensure_user(_store(app), "planner")
    dash_duo.start_server(app, navigate=False)
    base = dash_duo.server.url.rstrip("/")
    dash_duo.driver.get(base + "/scenarios")
    dash_duo.wait_for_element("#auth-submit")  # sent to the sign-in page
    dash_duo.find_element("#username").send_keys(user.username)
    dash_duo.find_element("#password").send_keys("not the password")
    dash_duo.find_element("#auth-submit").click()
    dash_duo.wait_for_contains_text("#auth-error", "incorrect")
    dash_duo.find_element("#username").clear()
    dash_duo.find_element("#username").send_keys(user.username)
    dash_duo.find_element("#password").send_keys(PASSWORD)
    dash_duo.find_element("#auth-submit").click()
    # back where the user was going, signed in
    dash_duo.wait_for_contains_text(
        f"#{ids.SCN_INSTANT}", "Centres ouverts", timeout=30
    )
    assert dash_duo.driver.current_url.endswith("/scenarios")
    dash_duo.wait_for_contains_text("#user-menu", user.username)
    assert "planificateur" in dash_duo.find_element("#user-menu").text
    dash_duo.find_element("#sign-out").click()
    dash_duo.wait_for_element("#auth-submit")
    dash_duo.driver.get(base + "/")
    dash_duo.wait_for_element("#auth-submit")  # the session is gone
    assert "/login" in dash_duo.driver.current_url


def test_aut002_viewer_reads_scenarios_but_cannot_run_or_import(dash_duo, app):
    store = _store(app)
    before = len(list_scenarios(store))
    browser_sign_in(dash_duo, app, "viewer", "/scenarios")
    dash_duo.wait_for_contains_text("#scn-read-only", "Lecture seule", timeout=30)
    nav = _nav_texts(dash_duo)
    assert "Scénarios" in nav and "Importer" not in nav and "Utilisateurs" not in nav
    run = dash_duo.find_element(f"#{ids.SCN_RUN}")
    assert not run.is_displayed()
    # a viewer who forces the hidden button is refused by the server
    dash_duo.driver.execute_script(f"document.getElementById('{ids.SCN_RUN}').click()")
    dash_duo.wait_for_contains_text(f"#{ids.ALERTS}", "ne permet pas", timeout=30)
    assert len(list_scenarios(store)) == before
    dash_duo.driver.save_screenshot("/tmp/aut002-viewer.png")
    dash_duo.driver.get(dash_duo.server_url + "/import")
    dash_duo.wait_for_contains_text("#page-denied", "administrateur", timeout=20)
    assert dash_duo.get_logs() == []


def test_aut003_planner_cannot_import(dash_duo, app):
    browser_sign_in(dash_duo, app, "planner", "/import")
    dash_duo.wait_for_contains_text("#page-denied", "planificateur", timeout=20)
    assert "Importer" not in _nav_texts(dash_duo)
    assert dash_duo.find_elements(f"#{ids.IMP_UPLOAD}") == []
    assert dash_duo.get_logs() == []


def _run_as(app, user) -> int:
    """Run and save a scenario as ``user``, as the run button does."""
    config = app.server.config["DASHAPP"]
    dataset_id = _store(app).active_dataset().id

    result, _ = run_callback(
        app, run_cb.run_optimisation, config, lambda _: None, 1, _panel(),
        dataset_id, "fr", user=user,
    )  # fmt: skip
    return result["id"]


def test_aut004_share_link_opens_read_only_without_account(dash_duo, app, tmp_path):
    store = _store(app)
    planner = ensure_user(store, "planner")
    scenario_id = _run_as(app, planner)
    config = app.server.config["DASHAPP"]
    with app.server.test_request_context("/"):
        link = share_url(config, store, scenario_id)
    dash_duo.start_server(app, navigate=False)
    base = dash_duo.server.url.rstrip("/")
    dash_duo.driver.get(base + link)  # no session in this browser
    dash_duo.wait_for_contains_text("#share-read-only", "Lecture seule")
    dash_duo.wait_for_contains_text("#share-kpis", "Distance")
    until(
        lambda: dash_duo.driver.execute_script(
            "const gd = document.getElementById('share-map');"
            "return Boolean(gd && gd.data && gd.data.some("
            "t => t.type === 'choroplethmap' && t.locations && t.locations.length));"
        ),
        20,
    )
    # the map is fitted to its real width (assets/mapfit.js), on a phone too
    until(lambda: fitted(dash_duo, "body"), 20)
    dash_duo.driver.save_screenshot(str(tmp_path / "share-wide.png"))
    viewport(dash_duo, 390, 800)
    until(lambda: (fitted(dash_duo, "body") or [0, 999])[1] < 390, 20)
    dash_duo.driver.save_screenshot(str(tmp_path / "share-390.png"))
    dash_duo.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    # nothing else opens with it: the app itself still asks to sign in
    dash_duo.driver.get(base + "/scenarios")
    dash_duo.wait_for_element("#auth-submit")
    # a new link revokes the old one
    with app.server.test_request_context("/"):
        share_url(config, store, scenario_id, renew=True)
    dash_duo.driver.get(base + link)
    until(lambda: "révoqué" in dash_duo.find_element("body").text, 10)
