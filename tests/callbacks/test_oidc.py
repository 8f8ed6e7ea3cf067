"""Single sign-on with OpenID Connect against a real provider on loopback.

The provider is panva's certified ``oidc-provider`` (Node), run by
``tests/oidc_provider/server.mjs`` and installed from that folder's lock file by
``scripts/test.sh`` (``npm ci``). Its development sign-in pages let any of its test
accounts sign in; ``requests`` plays the browser on its side, Flask's test client
on the app's side, and redirects are followed by hand. To play a hostile or
broken provider, a test asks it to change its next answer (``tamper``): the ID
token is then re-signed with the provider's own key, so only the claim under test
is wrong.
"""

from __future__ import annotations

import doctest
import html
import json
import re
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import pytest
import requests

from dashapp import create_app, oidc, services
from dashapp.config import Config
from dashapp.i18n import t
from data import users
from data.store import Store
from geo.access import nearest_center
from tests.tiny import tiny_bundle

PROVIDER_DIR = Path(__file__).resolve().parents[1] / "oidc_provider"
APP = "http://127.0.0.1:8050"  # the app as the provider knows it (Flask's test client)
CALLBACK = APP + oidc.CALLBACK
CLIENT_ID, CLIENT_SECRET = "dashapp", "dashapp-secret"  # as in server.mjs


@dataclass
class Provider:
    issuer: str

    def tamper(self, **change) -> None:
        """Make the provider change its next answer of one kind (see server.mjs)."""
        requests.post(
            self.issuer + "/__test/tamper", data=json.dumps(change or None), timeout=5
        ).raise_for_status()


@pytest.fixture(scope="module")
def provider():
    """The local OpenID provider, started on a free loopback port."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed: the single sign-on tests need Node 20+")
    if not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        pytest.fail(
            f"oidc-provider is not installed in {PROVIDER_DIR}: run scripts/test.sh, "
            f"or npm ci --prefix {PROVIDER_DIR}"
        )
    process = subprocess.Popen(
        [node, "server.mjs", CALLBACK],
        cwd=PROVIDER_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    first_line: list[str] = []
    reader = threading.Thread(
        target=lambda: first_line.append(process.stdout.readline()), daemon=True
    )
    reader.start()
    reader.join(timeout=30)
    if not first_line or not first_line[0].strip():
        process.kill()
        _, errors = process.communicate(timeout=10)
        pytest.fail(f"the OpenID provider did not start:\n{errors[-3000:]}")
    yield Provider(json.loads(first_line[0])["issuer"])
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(autouse=True)
def honest_provider(provider):
    """No test leaves the provider tampering with another test's answers."""
    yield
    provider.tamper()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    """A data folder holding the tiny country, copied for each test."""
    path = tmp_path_factory.mktemp("sso") / "data"
    path.mkdir()
    store = Store(f"sqlite:///{path / 'dashapp.sqlite'}")
    store.upgrade()
    store.add_dataset(tiny_bundle(), kind="imported", access=nearest_center)
    store.engine.dispose()
    return path


def sso_config(data_dir: Path, tmp_path: Path, issuer: str, **more) -> Config:
    target = tmp_path / "data"
    shutil.copytree(data_dir, target)
    return Config(
        data_dir=target,
        oidc_issuer=issuer,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=CLIENT_SECRET,
        oidc_role_claim="groups",
        **more,
    )


@pytest.fixture
def app(provider, data_dir, tmp_path):
    """The app with single sign-on at the local provider, on its own data folder."""
    return create_app(sso_config(data_dir, tmp_path, provider.issuer))


def store_of(app) -> Store:
    return services.get_store(app.server.config["DASHAPP"].database_url)


class Browser:
    """Flask's test client at the address the provider sends the browser back to."""

    def __init__(self, app) -> None:
        self.client = app.server.test_client()

    def get(self, path: str):
        return self.client.get(path, base_url=APP)

    def session(self) -> dict:
        with self.client.session_transaction(base_url=APP) as session:
            return dict(session)


def through_provider(url: str, account: str, *, cancel: bool = False) -> str:
    """Sign ``account`` in at the provider; the URL it sends the browser back to."""
    with requests.Session() as browser:
        for _ in range(12):
            if url.startswith(APP):
                return url
            response = browser.get(url, allow_redirects=False, timeout=10)
            if response.status_code == 200 and "/interaction/" in url:
                if cancel:
                    url = url.rstrip("/") + "/abort"
                    continue
                prompt = re.search(r'name="prompt" value="(\w+)"', response.text)[1]
                action = re.search(r'<form[^>]* action="([^"]+)"', response.text)[1]
                form = {"prompt": prompt}
                if prompt == "login":
                    form |= {"login": account, "password": "anything"}
                response = browser.post(
                    urljoin(url, html.unescape(action)),
                    data=form,
                    allow_redirects=False,
                    timeout=10,
                )
            assert response.status_code in (302, 303), (url, response.text[:500])
            url = urljoin(url, response.headers["Location"])
    raise AssertionError(f"the provider never sent the browser back: {url}")


def start(browser: Browser, next_path: str = "/") -> str:
    """Press the button: the provider's authorization URL the app redirects to."""
    response = browser.get(f"{oidc.START}?{urlencode({'next': next_path})}")
    assert response.status_code == 302, response.data[:300]
    return response.headers["Location"]


def sso_sign_in(browser: Browser, account: str, next_path: str = "/"):
    """The whole round trip; the app's answer to the provider's redirect."""
    back = through_provider(start(browser, next_path), account)
    return browser.get(back.removeprefix(APP))


def refusal(browser: Browser, response) -> str:
    """The sign-in page the refused browser lands on: its error message."""
    assert response.status_code == 302, response.data[:300]
    assert urlsplit(response.headers["Location"]).path == "/login"
    page = browser.get(response.headers["Location"])
    assert page.status_code == 200
    found = re.search(r'id="auth-error">([^<]*)<', page.get_data(as_text=True))
    assert found, page.get_data(as_text=True)[:800]
    return html.unescape(found[1])


def signed_in(browser: Browser) -> bool:
    """Whether the browser's session opens the home page."""
    return browser.get("/").status_code == 200


def audit_actions(app) -> list[tuple[str, str]]:
    events = users.audit_events(store_of(app))
    return list(zip(events["action"], events["target"], strict=True))[::-1]


# -- the sign-in page ------------------------------------------------------------------
def test_the_sign_in_page_offers_the_organisation_directory(app):
    page = Browser(app).get("/login?next=/scenarios").get_data(as_text=True)

    button = re.search(r'<a [^>]*id="auth-oidc"\s+href="([^"]+)">([^<]+)</a>', page)
    assert button, page
    assert html.unescape(button[1]) == "/login/oidc?next=/scenarios"
    assert html.unescape(button[2]) == t("auth.sso", "fr")
    assert t("auth.sso", "fr") == "Se connecter avec l'annuaire de l'organisation"


def test_without_single_sign_on_there_is_no_button_and_no_route(data_dir, tmp_path):
    shutil.copytree(data_dir, tmp_path / "data")
    app = create_app(Config(data_dir=tmp_path / "data"))
    browser = Browser(app)

    assert 'id="auth-oidc"' not in browser.get("/login").get_data(as_text=True)
    assert {"oidc_login", "oidc_callback"}.isdisjoint(app.server.view_functions)
    for path in (oidc.START, oidc.CALLBACK + "?code=x&state=y"):
        response = browser.get(path)  # no route: not public, as any unknown path
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")
        assert "uid" not in browser.session()


def test_the_app_asks_for_a_code_with_pkce_state_and_nonce(app, provider):
    url = urlsplit(start(Browser(app)))
    query = {k: v[0] for k, v in parse_qs(url.query).items()}

    assert f"{url.scheme}://{url.netloc}{url.path}" == provider.issuer + "/auth"
    assert query["response_type"] == "code"
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == CALLBACK
    assert query["code_challenge_method"] == "S256"
    assert set(query["scope"].split()) == {"openid", "profile", "email"}
    assert len(query["state"]) >= 20 and len(query["nonce"]) >= 20


# -- accounts --------------------------------------------------------------------------
def test_a_first_sign_in_creates_the_account_with_its_role_and_a_session(app):
    browser = Browser(app)
    before = users.list_users(store_of(app))

    response = sso_sign_in(browser, "sub-amina", next_path="/scenarios")

    assert response.status_code == 302
    assert response.headers["Location"] == "/scenarios"
    amina = users.get_user(store_of(app), "amina.diallo")
    assert (amina.role, amina.full_name, amina.must_change_password) == (
        "planner",  # groups ["staff", "planner"]
        "Amina Diallo",
        False,
    )
    assert len(users.list_users(store_of(app))) == len(before) + 1
    session = browser.session()
    assert session["uid"] == amina.id
    assert session["epoch"] == users.session_epoch(store_of(app), amina.id)
    assert session["csrf"]
    assert not [k for k in session if k.startswith("_state_")]  # a new session
    assert signed_in(browser)
    assert audit_actions(app)[-2:] == [
        ("user.create", "amina.diallo"),
        ("user.sign_in_oidc", "amina.diallo"),
    ]


def test_a_second_sign_in_uses_the_same_account(app):
    sso_sign_in(Browser(app), "sub-amina")
    first = users.get_user(store_of(app), "amina.diallo")
    count = len(users.list_users(store_of(app)))
    browser = Browser(app)

    response = sso_sign_in(browser, "sub-amina")

    assert response.headers["Location"] == "/"
    assert browser.session()["uid"] == first.id
    assert len(users.list_users(store_of(app))) == count
    events = audit_actions(app)
    assert events.count(("user.create", "amina.diallo")) == 1
    assert events.count(("user.sign_in_oidc", "amina.diallo")) == 2


def test_a_role_changed_by_an_admin_stays_at_the_next_sign_in(app):
    sso_sign_in(Browser(app), "sub-amina")
    users.set_role(store_of(app), "amina.diallo", "viewer")
    browser = Browser(app)

    sso_sign_in(browser, "sub-amina")

    assert users.get_user(store_of(app), "amina.diallo").role == "viewer"
    assert signed_in(browser)


def test_a_provider_account_named_admin_gets_an_account_of_its_own(app):
    admin = users.get_user(store_of(app), "admin")
    browser = Browser(app)

    sso_sign_in(browser, "sub-impostor")

    impostor = users.get_user(store_of(app), "admin-2")
    assert impostor.role == "viewer"
    assert browser.session()["uid"] == impostor.id != admin.id
    assert users.get_user(store_of(app), "admin") == admin


@pytest.mark.parametrize(
    ("account", "username", "role"),
    [
        ("sub-emile", "Emile-Zola", "analyst"),  # groups: "analyst", one string
        ("sub-kofi", "kofi-mensah-sso@example.org", "viewer"),  # e-mail; no role
    ],
)
def test_user_names_and_roles_come_from_the_claims(app, account, username, role):
    sso_sign_in(Browser(app), account)

    assert users.get_user(store_of(app), username).role == role


def test_the_default_role_is_configurable(provider, data_dir, tmp_path):
    app = create_app(
        sso_config(data_dir, tmp_path, provider.issuer, oidc_default_role="analyst")
    )

    sso_sign_in(Browser(app), "sub-kofi")

    assert users.get_user(store_of(app), "kofi-mensah-sso@example.org").role == (
        "analyst"
    )


def test_a_disabled_account_is_refused(app):
    sso_sign_in(Browser(app), "sub-amina")
    users.set_active(store_of(app), "amina.diallo", False)
    browser = Browser(app)

    message = refusal(browser, sso_sign_in(browser, "sub-amina"))

    assert message == t("auth.sso_disabled", "fr")
    assert "uid" not in browser.session()
    assert not signed_in(browser)
    assert audit_actions(app)[-1] == ("user.sign_in_oidc", "amina.diallo")  # the first


# -- refusals --------------------------------------------------------------------------
def test_a_tampered_state_is_refused(app):
    browser = Browser(app)
    back = urlsplit(through_provider(start(browser), "sub-amina"))
    query = {k: v[0] for k, v in parse_qs(back.query).items()}
    query["state"] = query["state"][:-2] + (
        "xy" if query["state"][-2:] != "xy" else "zz"
    )

    message = refusal(browser, browser.get(f"{back.path}?{urlencode(query)}"))

    assert message == t("auth.sso_expired", "fr")
    assert "uid" not in browser.session()
    with pytest.raises(users.UserError, match="no user named"):
        users.get_user(store_of(app), "amina.diallo")


def test_an_answer_used_twice_is_refused_the_second_time(app):
    browser = Browser(app)
    back = through_provider(start(browser), "sub-amina").removeprefix(APP)
    assert browser.get(back).headers["Location"] == "/"
    other = Browser(app)  # the same answer, replayed by someone else

    assert refusal(other, other.get(back)) == t("auth.sso_expired", "fr")
    assert refusal(browser, browser.get(back)) == t("auth.sso_expired", "fr")


def test_a_cancelled_sign_in_says_so(app):
    browser = Browser(app)
    back = through_provider(start(browser), "sub-amina", cancel=True)
    assert "error=access_denied" in back

    assert refusal(browser, browser.get(back.removeprefix(APP))) == t(
        "auth.sso_cancelled", "fr"
    )
    assert not signed_in(browser)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"claims": {"aud": "someone-else"}}, "'aud'"),
        # accepted by Authlib's defaults, which check "aud" only through "azp"
        ({"claims": {"aud": ["someone-else"], "azp": CLIENT_ID}}, "'aud'"),
        ({"claims": {"iss": "http://127.0.0.1:9/"}}, "'iss'"),
        ({"claims": {"nonce": "not-the-one-sent"}}, "'nonce'"),
        ({"claims": {"exp": 1_000_000_000, "iat": 999_999_000}}, "expired"),
        ({"claims": {}, "key": "other"}, "bad_signature"),  # the kid, another key
        ({"drop": "id_token"}, "no ID token"),
    ],
    ids=["audience", "audience-with-azp", "issuer", "nonce", "expired", "key", "none"],
)
def test_an_id_token_that_does_not_verify_is_refused(
    app, provider, change, reason, caplog
):
    browser = Browser(app)
    authorize = start(browser)
    provider.tamper(**change)

    message = refusal(browser, sso_sign_in_from(browser, authorize, "sub-amina"))

    assert message == t("auth.sso_invalid", "fr")
    assert reason in caplog.text
    assert "uid" not in browser.session()
    assert [a for a, _ in audit_actions(app)] == ["user.create"]  # the first admin


def sso_sign_in_from(browser: Browser, authorize: str, account: str):
    return browser.get(through_provider(authorize, account).removeprefix(APP))


def test_an_untampered_answer_after_those_still_signs_in(app, provider):
    provider.tamper(claims={"aud": "someone-else"})
    browser = Browser(app)
    refusal(browser, sso_sign_in(browser, "sub-amina"))

    assert sso_sign_in(browser, "sub-amina").headers["Location"] == "/"
    assert signed_in(browser)


def test_metadata_naming_another_issuer_is_refused(provider, data_dir, tmp_path):
    app = create_app(sso_config(data_dir, tmp_path, provider.issuer))
    provider.tamper(discovery={"issuer": "http://127.0.0.1:9"})
    browser = Browser(app)

    response = browser.get(oidc.START)

    assert refusal(browser, response) == t("auth.sso_failed", "fr")


def test_a_provider_that_does_not_answer_is_named(data_dir, tmp_path):
    with socket.socket() as sock:  # a loopback port where nothing listens
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = create_app(sso_config(data_dir, tmp_path, f"http://127.0.0.1:{port}"))
    browser = Browser(app)

    started = time.monotonic()
    message = refusal(browser, browser.get(oidc.START + "?next=/scenarios"))

    assert message == t("auth.sso_unreachable", "fr")
    assert time.monotonic() - started < oidc.TIMEOUT_S
    page = browser.get("/login?next=/scenarios").get_data(as_text=True)
    assert 'id="auth-oidc"' in page  # try again later


def test_an_answer_with_no_state_at_all_is_refused(app, provider):
    browser = Browser(app)
    start(browser)
    query = urlencode({"code": "abc", "iss": provider.issuer})

    message = refusal(browser, browser.get(f"{oidc.CALLBACK}?{query}"))

    assert message == t("auth.sso_expired", "fr")


def test_an_answer_naming_another_issuer_is_refused(app):
    """RFC 9207: a mix-up with another provider is caught before the code is used."""
    browser = Browser(app)
    back = urlsplit(through_provider(start(browser), "sub-amina"))
    query = {k: v[0] for k, v in parse_qs(back.query).items()}

    for iss in ("http://127.0.0.1:9", None):
        sent = {k: v for k, v in query.items() if k != "iss"}
        sent |= {"iss": iss} if iss else {}
        message = refusal(browser, browser.get(f"{back.path}?{urlencode(sent)}"))
        assert message == t("auth.sso_invalid", "fr")
    assert browser.get(f"{back.path}?{urlencode(query)}").headers["Location"] == "/"


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/"])
def test_after_signing_in_the_browser_stays_on_this_site(app, target):
    assert sso_sign_in(Browser(app), "sub-amina", target).headers["Location"] == "/"


def test_the_claim_helpers_examples():
    assert doctest.testmod(oidc, optionflags=doctest.ELLIPSIS).failed == 0
