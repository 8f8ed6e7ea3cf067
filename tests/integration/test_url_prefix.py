"""The app served under a sub-path (``DASHAPP_URL_PREFIX=/plan/``), as behind a
reverse proxy that passes ``/plan/...`` on unchanged: pages, the sign-in round
trip, links, assets, the API, share links and the language switch all stay
under ``/plan/``; nothing answers outside it but ``/healthz``."""

from __future__ import annotations

import json
import re

import pytest

from dashapp import create_app, ids, services
from dashapp.config import Config
from dashapp.i18n import t
from dashapp.share import share_url
from data.scenarios import save_scenario
from tests.auth_helpers import PASSWORD, csrf_of, ensure_user
from tests.dash_client import DashClient
from tests.stores import make_tiny_store

P = "/plan/"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    data = tmp_path_factory.mktemp("prefix")
    make_tiny_store(f"sqlite:///{data / 'dashapp.sqlite'}").engine.dispose()
    return create_app(Config(data_dir=data, url_prefix="/plan"), prepare_store=False)


def sign_in(app, role: str = "admin", next_path: str | None = None):
    """Sign a test client in through the form under the prefix; (client, answer)."""
    store = services.get_store(app.server.config["DASHAPP"].database_url)
    user = ensure_user(store, role)
    client = app.server.test_client()
    query = f"?next={next_path}" if next_path else ""
    form = client.get(f"{P}login{query}")
    assert form.status_code == 200
    answer = client.post(
        f"{P}login{query}",
        data={"username": user.username, "password": PASSWORD,
              "csrf": csrf_of(form.data)},
    )  # fmt: skip
    return client, answer


def test_the_config_keeps_one_form_of_the_prefix():
    assert Config(url_prefix="plan").url_prefix == "/plan/"
    assert Config(url_prefix="/a/b//").url("/x") == "/a/b/x"
    assert Config.from_env({"DASHAPP_URL_PREFIX": "/plan/"}).url_prefix == "/plan/"
    with pytest.raises(ValueError, match="plain path such as /plan/"):
        Config(url_prefix="/plan/../etc")
    with pytest.raises(ValueError, match="plain path such as /plan/"):
        Config(url_prefix="/pl an")


def test_sign_in_sends_back_to_the_page_under_the_prefix(app):
    client = app.server.test_client()
    first = client.get(f"{P}scenarios?scenario=1")
    assert first.status_code == 302
    assert first.headers["Location"] == f"{P}login?next=/scenarios%3Fscenario%3D1"
    form = client.get(first.headers["Location"])
    html = form.get_data(as_text=True)
    assert f'href="{P}vendor/bootstrap.min.css"' in html
    assert f'href="{P}lang/en?next=' in html
    assert 'href="/vendor' not in html and 'href="/lang' not in html
    _, done = sign_in(app, next_path="/scenarios")
    assert done.status_code == 302 and done.headers["Location"] == f"{P}scenarios"
    # a Dash request without a session: the JSON names the sign-in page
    refused = client.post(f"{P}_dash-update-component", json={})
    assert refused.status_code == 401 and refused.get_json()["login"] == f"{P}login"


def test_pages_scripts_styles_and_assets_are_under_the_prefix(app):
    client, _ = sign_in(app)
    page = client.get(P)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    links = re.findall(r'(?:href|src)="([^"]+)"', html)
    assert links and all(u.startswith(P) for u in links), links
    assert f"{P}vendor/bootstrap.min.css" in links
    assert any(u.startswith(f"{P}assets/") for u in links)
    assert any(u.startswith(f"{P}_dash-component-suites/") for u in links)
    for link in links:
        assert client.get(link).status_code == 200, link
    config = re.search(r'id="_dash-config" type="application/json">([^<]+)<', html)
    assert json.loads(config.group(1))["requests_pathname_prefix"] == P


def test_the_router_shows_each_screen_and_its_links_carry_the_prefix(app):
    client, _ = sign_in(app)
    page = DashClient(app, client, prefix=P).open(f"{P}scenarios")
    assert ids.SCN_RUN in page.props  # the scenario screen, not "page not found"
    links = list(_links(client.get(f"{P}_dash-layout").get_json()))
    assert {f"{P}scenarios", f"{P}compte", f"{P}logout", f"{P}lang/en"} <= set(links)
    assert all(h.startswith(P) for h in links), links
    missing = DashClient(app, client, prefix=P).open(f"{P}nowhere")
    texts = str(missing.props[ids.PAGE][1].get("children"))
    assert t("page.not_found", "fr") in texts


def _links(node):
    """Every ``href`` and ``action`` in a layout's JSON."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("href", "action") and isinstance(value, str):
                yield value
            else:
                yield from _links(value)
    elif isinstance(node, list):
        for child in node:
            yield from _links(child)


def test_the_api_the_share_links_and_the_language_switch(app):
    client, _ = sign_in(app)
    datasets = client.get(f"{P}api/v1/datasets")
    assert datasets.status_code == 200 and datasets.get_json()
    assert client.get(f"{P}api/v2/x").status_code == 404
    config = app.server.config["DASHAPP"]
    store = services.get_store(config.database_url)
    dataset = store.datasets()[0].id
    record = save_scenario(store, dataset, "Plan partagé", {"whatif": {}})
    link = share_url(config, store, record.id)
    assert link.startswith(f"{P}share/")
    shared = client.get(link)
    assert shared.status_code == 200
    assert f'href="{P}vendor/bootstrap.min.css"' in shared.get_data(as_text=True)
    switch = client.get(
        f"{P}lang/en", headers={"Referer": f"http://localhost{P}scenarios?x=1"}
    )
    assert switch.status_code == 302 and switch.headers["Location"] == (
        f"{P}scenarios?x=1"
    )
    assert "Path=/plan/" in switch.headers["Set-Cookie"]


def test_nothing_answers_outside_the_prefix_but_healthz(app):
    client = app.server.test_client()
    assert client.get("/scenarios").status_code == 404
    assert client.get("/vendor/bootstrap.min.css").status_code == 404
    assert client.get("/api/v1/datasets").status_code == 404
    bare = client.get("/plan?x=1")
    assert bare.status_code == 308 and bare.headers["Location"] == "/plan/?x=1"
    assert client.get("/healthz").status_code == 200
    assert client.get(f"{P}healthz").status_code == 200
