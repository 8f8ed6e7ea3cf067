"""Signing in from tests: users with known passwords, signed-in clients and browsers."""

from __future__ import annotations

import re

from data import users
from data.users import Principal

PASSWORD = "correct-horse-battery"


def ensure_user(store, role: str = "admin", username: str | None = None) -> Principal:
    """A user of ``role`` (created once per store) whose password is PASSWORD."""
    username = username or f"test-{role}"
    try:
        return users.get_user(store, username)
    except users.UserError:
        return users.create_user(
            store, username, PASSWORD, role, must_change_password=False
        )


def csrf_of(html: bytes | str) -> str:
    text = html.decode() if isinstance(html, bytes) else html
    return re.search(r'name="csrf" value="([^"]+)"', text).group(1)


def sign_in(client, username: str, password: str = PASSWORD):
    """Sign a Flask test client in through the real form; returns the response."""
    page = client.get("/login")
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf": csrf_of(page.data)},
    )


def signed_in_client(app, role: str = "admin", username: str | None = None):
    """A test client of ``app`` (a Dash app) signed in as a user of ``role``."""
    from dashapp import services

    store = services.get_store(app.server.config["DASHAPP"].database_url)
    user = ensure_user(store, role, username)
    client = app.server.test_client()
    response = sign_in(client, user.username)
    assert response.status_code == 302, response.data[:500]
    return client


def browser_sign_in(dash_duo, app, role: str = "admin", path: str = "/") -> None:
    """Start ``app`` for dash_duo, sign in through the form, open ``path``.

    Under a URL prefix (``/plan/``), the server URL the tests build on ends with it.
    """
    from dashapp import services

    config = app.server.config["DASHAPP"]
    store = services.get_store(config.database_url)
    user = ensure_user(store, role)
    dash_duo.start_server(app, navigate=False)
    base = dash_duo.server.url.rstrip("/") + config.url_prefix.rstrip("/")
    dash_duo.driver.get(base + "/login")
    dash_duo.wait_for_element("#username").send_keys(user.username)
    dash_duo.find_element("#password").send_keys(PASSWORD)
    dash_duo.find_element("#auth-submit").click()
    dash_duo.wait_for_element("#react-entry-point", timeout=30)
    dash_duo.server_url = base  # what the tests build their URLs on
    if path != "/":
        dash_duo.wait_for_page(base + path)
