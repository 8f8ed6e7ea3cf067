"""What answers without sign-in: the public routes, whole, at the root and under a prefix.

Public paths were matched by their start (``path.startswith("/login")``), so any
path beginning like one (``/loginx``, ``/login/../_dash-layout``, ``/healthz/x``)
reached Dash's catch-all page without a session. A request is now public only when
Flask routes it to one of :data:`dashapp.auth.PUBLIC_ROUTES`.
"""

from __future__ import annotations

import re

import pytest

from dashapp import auth, create_app, services
from dashapp.config import Config
from dashapp.share import share_url
from data.scenarios import save_scenario
from tests.auth_helpers import PASSWORD, csrf_of, ensure_user
from tests.stores import make_tiny_store

PREFIXES = ["/", "/plan/"]

# paths that only start like a public one: Dash's catch-all would serve its page
LOOK_ALIKES = [
    "/loginx",
    "/login/",
    "/login/../_dash-layout",
    "/login/oidc/../../_dash-layout",
    "/login/%2e%2e/_dash-layout",
    "/healthz/anything",
    "/healthzx",
    "/lang/x/y",
    "/vendor/x",
    "/vendor/bootstrap.min.css/x",
    "/_dash-component-suites/x",
    "/_favicon.ico/x",
]


@pytest.fixture(scope="module", params=PREFIXES, ids=["root", "prefix"])
def app(request, tmp_path_factory):
    data = tmp_path_factory.mktemp("public")
    make_tiny_store(f"sqlite:///{data / 'dashapp.sqlite'}").engine.dispose()
    config = Config(data_dir=data, url_prefix=request.param)
    return create_app(config, prepare_store=False)


def _url(app, path: str) -> str:
    return app.server.config["DASHAPP"].url(path)


def _signed_in(app):
    store = services.get_store(app.server.config["DASHAPP"].database_url)
    user = ensure_user(store, "viewer")
    client = app.server.test_client()
    form = client.get(_url(app, "/login"))
    done = client.post(
        _url(app, "/login"),
        data={
            "username": user.username,
            "password": PASSWORD,
            "csrf": csrf_of(form.data),
        },
    )
    assert done.status_code == 302
    return client


@pytest.mark.parametrize("path", LOOK_ALIKES)
def test_a_path_that_only_starts_like_a_public_one_needs_sign_in(app, path):
    client = app.server.test_client()
    answer = client.get(_url(app, path))
    if path.startswith("/_dash-"):  # Dash's requests are told in JSON
        assert answer.status_code == 401, (path, answer.status_code, answer.data[:80])
        assert answer.get_json()["login"] == _url(app, "/login")
    else:
        assert answer.status_code == 302, (path, answer.status_code, answer.data[:80])
        assert answer.headers["Location"].startswith(_url(app, "/login?next="))
    assert b"_dash-config" not in answer.data  # not Dash's page
    refused = client.post(_url(app, path), json={})
    assert refused.status_code == 401 and refused.get_json()["error"] == "sign in first"


def test_the_public_routes_answer_without_sign_in(app):
    config = app.server.config["DASHAPP"]
    anonymous = app.server.test_client()
    login = anonymous.get(_url(app, "/login"))
    assert login.status_code == 200 and b'name="csrf"' in login.data
    # what the sign-in page loads
    for link in re.findall(r'(?:href|src)="([^"]+)"', login.get_data(as_text=True)):
        if not link.startswith(_url(app, "/lang/")):
            assert anonymous.get(link).status_code == 200, link
    assert anonymous.get(_url(app, "/healthz")).status_code == 200
    assert anonymous.get(_url(app, "/lang/en")).status_code == 302
    # static files of Dash's page and of share pages
    page = _signed_in(app).get(config.url_prefix)
    scripts = re.findall(r'src="([^"]+)"', page.get_data(as_text=True))
    assert any("/_dash-component-suites/" in s for s in scripts)
    for link in [*scripts, _url(app, "/assets/mapfit.js"),
                 _url(app, "/vendor/plotly.min.js")]:  # fmt: skip
        assert anonymous.get(link).status_code == 200, link
    store = services.get_store(config.database_url)
    record = save_scenario(store, store.datasets()[0].id, "Partagé", {"whatif": {}})
    shared = anonymous.get(share_url(config, store, record.id))
    assert shared.status_code == 200
    # the single sign-on routes are public where they exist (tests/callbacks/test_oidc)
    assert {auth.LOGIN + "/oidc", auth.LOGIN + "/oidc/callback"} <= auth.PUBLIC_ROUTES


def test_every_public_route_is_a_route_of_the_app(app):
    """A route renamed (by Dash or here) must be renamed in PUBLIC_ROUTES too."""
    rules = {rule.rule for rule in app.server.url_map.iter_rules()}
    oidc = {auth.LOGIN + "/oidc", auth.LOGIN + "/oidc/callback"}
    assert auth.PUBLIC_ROUTES - oidc <= rules, auth.PUBLIC_ROUTES - oidc - rules
