"""The user management screen in headless Chromium."""

import pytest
from selenium.webdriver.support.ui import Select

from dashapp import ids, services
from data import users
from tests.auth_helpers import browser_sign_in

pytestmark = pytest.mark.browser


def test_adm001_admin_creates_a_user(dash_duo, app):
    store = services.get_store(app.server.config["DASHAPP"].database_url)
    browser_sign_in(dash_duo, app, "admin", "/admin")
    dash_duo.driver.set_window_size(1400, 1600)
    dash_duo.wait_for_contains_text(f"#{ids.ADM_USERS}", "test-admin (vous)")
    dash_duo.find_element(f"#{ids.ADM_NEW_USERNAME}").send_keys("mariama.sow")
    dash_duo.find_element(f"#{ids.ADM_NEW_FULL_NAME}").send_keys("Mariama Sow")
    Select(dash_duo.find_element(f"#{ids.ADM_NEW_ROLE}")).select_by_value("analyst")
    dash_duo.find_element(f"#{ids.ADM_ADD}").click()
    dash_duo.wait_for_contains_text(
        f"#{ids.ADM_MESSAGE}", "Mot de passe à usage unique de mariama.sow"
    )
    password = dash_duo.find_element(f"#{ids.ADM_SECRET}").text
    assert users.authenticate(store, "mariama.sow", password).role == "analyst"
    dash_duo.wait_for_contains_text(f"#{ids.ADM_USERS}", "Mariama Sow")
    username_field = dash_duo.find_element(f"#{ids.ADM_NEW_USERNAME}")
    assert username_field.get_attribute("value") == ""  # ready for the next one
    dash_duo.wait_for_contains_text(f"#{ids.ADM_AUDIT}", "création d'un compte")
    dash_duo.driver.save_screenshot("/tmp/admin.png")
    assert dash_duo.get_logs() == []
