"""Optional single sign-on with OpenID Connect, through Authlib's client.

On when :attr:`Config.oidc_issuer` and :attr:`Config.oidc_client_id` are set: the
sign-in page then shows a button to :data:`START`, which sends the browser to the
organisation's provider (authorization code flow with PKCE, ``state`` and ``nonce``);
the provider sends it back to :data:`CALLBACK`. There the ID token is checked
(signature with the provider's published keys, issuer, audience, expiry, nonce),
the person is found by the token's ``sub`` among the local users, or given a new
local account on their first sign-in, and a session starts exactly as after a
password sign-in. Rights stay the local account's: the role comes from the
provider only when the account is created.

Anything that goes wrong (provider down, expired or forged ``state``, a token that
does not verify, a cancelled sign-in, a disabled account) sends the browser back
to the sign-in page with a message; the reason is in the server log.
"""

from __future__ import annotations

import logging
import re
import secrets
import unicodedata
from typing import Any
from urllib.parse import quote, urlsplit

import flask
import requests
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import OAuth
from joserfc.errors import JoseError

from dashapp import auth
from dashapp.config import Config
from dashapp.i18n import t
from dashapp.paths import url
from data import users
from data.users import Principal, UserError

log = logging.getLogger(__name__)

START = auth.LOGIN + "/oidc"
CALLBACK = auth.LOGIN + "/oidc/callback"
SCOPE = "openid profile email"
TIMEOUT_S = 10  # per request to the provider: a hung provider must not hold a worker
_NAME = "organisation"  # the provider's name in Authlib's registry
_NEXT = "oidc_next"  # session key: where to go after signing in
_EXTENSION = "dashapp.oidc"  # the server's Authlib client, under server.extensions
_OTHER_CHARS = re.compile(r"[^A-Za-z0-9._@-]+")


class SignInRefusedError(Exception):
    """Single sign-on cannot go on; ``key`` names the message for the person."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(reason)
        self.key = key


def enabled(config: Config) -> bool:
    """Whether single sign-on is configured (issuer and client id set)."""
    return bool(config.oidc_issuer and config.oidc_client_id)


def discovery_url(issuer: str) -> str:
    """Where a provider publishes its metadata (OpenID Connect Discovery 1.0).

    Examples
    --------
    >>> discovery_url("https://id.example.org/realms/staff/")
    'https://id.example.org/realms/staff/.well-known/openid-configuration'
    """
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


def username_from(value: Any) -> str:
    """``value`` reduced to the characters a user name may hold ("" if too short).

    Accents are dropped, other characters become ``-``, and the name starts with
    a letter or digit (:data:`data.users.USERNAME_RE`).

    Examples
    --------
    >>> username_from("Émile Zola"), username_from("kofi mensah+sso@example.org")
    ('Emile-Zola', 'kofi-mensah-sso@example.org')
    >>> username_from("--x"), username_from(None)
    ('', '')
    """
    if not isinstance(value, str):
        return ""
    text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    text = _OTHER_CHARS.sub("-", text.strip()).lstrip("._@-")[:64].rstrip("-")
    return text if users.USERNAME_RE.match(text) else ""


def username_candidates(claims: dict[str, Any]):
    """User names to try for a new account: ``base``, ``base-2``, ``base-3``...

    ``base`` comes from ``preferred_username``, else ``email``, else is ``user``.

    Examples
    --------
    >>> names = username_candidates({"preferred_username": "awa"})
    >>> next(names), next(names), next(names)
    ('awa', 'awa-2', 'awa-3')
    """
    base = (
        username_from(claims.get("preferred_username"))
        or username_from(claims.get("email"))
        or "user"
    )
    yield base
    for n in range(2, 100):
        suffix = f"-{n}"
        yield base[: 64 - len(suffix)] + suffix
    while True:  # very common names: stop counting, draw
        yield base[:55] + "-" + secrets.token_hex(4)


def role_from(value: Any, default: str) -> str:
    """The highest role named by a claim (a role name or a list of groups).

    Names are compared without regard to case; a claim naming no role (or
    missing) gives ``default``.

    Examples
    --------
    >>> role_from(["staff", "Planner", "viewer"], "viewer")
    'planner'
    >>> role_from("analyst", "viewer"), role_from(["staff"], "viewer")
    ('analyst', 'viewer')
    """
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list):
        return default
    named = {n.strip().lower() for n in names if isinstance(n, str)}
    found = [role for role in users.ROLES if role in named]
    return found[-1] if found else default


# -- the provider ---------------------------------------------------------------------
def _provider():
    """Authlib's client for the provider, its metadata loaded and checked."""
    config = flask.current_app.config["DASHAPP"]
    client = flask.current_app.extensions[_EXTENSION]
    try:
        metadata = client.load_server_metadata()
    except (requests.RequestException, ValueError) as exc:
        raise SignInRefusedError(
            "auth.sso_unreachable",
            f"no metadata at {discovery_url(config.oidc_issuer)}: {exc}",
        ) from exc
    # Discovery 1.0 section 4.3: the document must name the issuer it was fetched for
    if str(metadata.get("issuer", "")).rstrip("/") != config.oidc_issuer.rstrip("/"):
        raise SignInRefusedError(
            "auth.sso_failed",
            f"the provider's metadata names the issuer {metadata.get('issuer')!r}, "
            f"not {config.oidc_issuer!r} (check DASHAPP_OIDC_ISSUER)",
        )
    return client, metadata


def _check_response_issuer(metadata: dict[str, Any]) -> None:
    """RFC 9207: the ``iss`` sent back must be our provider's (no mix-up)."""
    sent = flask.request.args.get("iss")
    if sent is None and not metadata.get(
        "authorization_response_iss_parameter_supported"
    ):
        return
    if sent != metadata["issuer"]:
        raise SignInRefusedError(
            "auth.sso_invalid", f"authorization response from issuer {sent!r}"
        )


def _verified_claims(client, metadata: dict[str, Any]) -> dict[str, Any]:
    """The ID token's claims once verified, completed by the UserInfo endpoint."""
    config = flask.current_app.config["DASHAPP"]
    error = flask.request.args.get("error")
    if error:
        key = "auth.sso_cancelled" if error == "access_denied" else "auth.sso_failed"
        detail = flask.request.args.get("error_description", "")[:200]
        raise SignInRefusedError(key, f"provider answered {error!r} {detail!r}")
    _check_response_issuer(metadata)
    # Authlib checks ``aud`` only through ``azp`` unless asked: ask for both
    options = {
        "iss": {"essential": True, "value": metadata["issuer"]},
        "aud": {"essential": True, "values": [config.oidc_client_id]},
        "sub": {"essential": True},
    }
    try:
        token = client.authorize_access_token(claims_options=options)
    except MismatchingStateError as exc:
        raise SignInRefusedError("auth.sso_expired", "unknown or reused state") from exc
    except requests.RequestException as exc:
        raise SignInRefusedError("auth.sso_unreachable", str(exc)) from exc
    except OAuthError as exc:  # e.g. the token endpoint refused the code
        raise SignInRefusedError("auth.sso_failed", repr(exc)) from exc
    except (JoseError, ValueError) as exc:  # signature, claims, malformed token
        raise SignInRefusedError("auth.sso_invalid", repr(exc)) from exc
    claims = token.get("userinfo")
    if not claims:  # Authlib verifies an ID token only when there is one
        raise SignInRefusedError("auth.sso_invalid", "the token answer has no ID token")
    claims = dict(claims)
    if metadata.get("userinfo_endpoint"):
        try:
            info = dict(client.userinfo(token=token))
        except (requests.RequestException, OAuthError, ValueError) as exc:
            raise SignInRefusedError(
                "auth.sso_unreachable", f"userinfo: {exc}"
            ) from exc
        # OpenID Connect Core 5.3.4: userinfo must be about the token's subject
        if info.get("sub") != claims["sub"]:
            raise SignInRefusedError("auth.sso_invalid", "userinfo of another subject")
        claims = {**info, **claims}
    return claims


# -- local accounts -------------------------------------------------------------------
def local_user(store, claims: dict[str, Any], config: Config) -> tuple[Principal, bool]:
    """The local user of a verified identity, created on its first sign-in.

    Returns ``(user, created)``. A user is found only by the provider's ``sub``,
    never by name: a provider account called ``admin`` gets an account of its own
    (``admin-2``), not the local administrator's. Raises :class:`UserError`
    ``disabled`` for a disabled user.
    """
    subject = str(claims["sub"])
    for username in username_candidates(claims):
        user = users.oidc_sign_in(store, subject)
        if user is not None:
            return user, False
        try:
            users.create_user(
                store,
                username,
                secrets.token_urlsafe(32),  # never shown: no password sign-in
                role_from(claims.get(config.oidc_role_claim), config.oidc_default_role),
                full_name=str(claims.get("name") or ""),
                must_change_password=False,
                oidc_subject=subject,
            )
        except UserError as exc:
            if exc.code != "user_exists":  # the name, or this subject just now
                raise
            continue
        return users.oidc_sign_in(store, subject), True
    raise AssertionError("unreachable: username_candidates never ends")


# -- routes ---------------------------------------------------------------------------
def _lang() -> str:
    from dashapp.context import request_lang

    return request_lang(flask.current_app.config["DASHAPP"])


def _refused(exc: SignInRefusedError, target: str):
    log.warning("single sign-on refused: %s", exc)
    flask.flash(t(exc.key, _lang()), "sign-in")
    return flask.redirect(url(f"{auth.LOGIN}?next={quote(target, safe='/')}"))


def start_view():
    """Send the browser to the provider's sign-in page."""
    target = auth.safe_next(flask.request.args.get("next"))
    try:
        client, _ = _provider()
        response = client.authorize_redirect(
            flask.url_for("oidc_callback", _external=True)
        )
    except SignInRefusedError as exc:
        return _refused(exc, target)
    flask.session[_NEXT] = target
    return response


def callback_view():
    """Back from the provider: verify, find or create the user, start a session."""
    from dashapp import services

    config = flask.current_app.config["DASHAPP"]
    target = auth.safe_next(flask.session.pop(_NEXT, None))
    store = services.get_store(config.database_url)
    try:
        client, metadata = _provider()
        claims = _verified_claims(client, metadata)
        user, created = local_user(store, claims, config)
    except UserError as exc:
        if exc.code != "disabled":
            raise
        return _refused(SignInRefusedError("auth.sso_disabled", str(exc)), target)
    except SignInRefusedError as exc:
        return _refused(exc, target)
    flask.session.clear()  # a new session id for the signed-in user, as login_view
    flask.session.permanent = True
    flask.session["uid"] = user.id
    flask.session["epoch"] = users.session_epoch(store, user.id)
    flask.session["csrf"] = secrets.token_urlsafe(24)
    flask.g.user = user
    if created:
        auth.record(store, "user.create", user.username, role=user.role, via="oidc")
    auth.record(store, "user.sign_in_oidc", user.username, subject=claims["sub"])
    if user.must_change_password:
        return flask.redirect(url(auth.PASSWORD))
    return flask.redirect(url(target))


def _sign_in_button() -> dict[str, str]:
    """The single sign-on button's link and label, on the sign-in page only."""
    if flask.request.endpoint != "login":
        return {}
    target = auth.safe_next(flask.request.args.get("next"))
    return {
        "sso_url": url(f"{START}?next={quote(target, safe='/')}"),
        "sso_label": t("auth.sso", _lang()),
    }


def init_oidc(server: flask.Flask, config: Config) -> None:
    """Register the provider and the single sign-on routes, when configured."""
    if not enabled(config):
        if config.oidc_issuer or config.oidc_client_id:
            log.warning(
                "single sign-on is off: set both DASHAPP_OIDC_ISSUER and "
                "DASHAPP_OIDC_CLIENT_ID"
            )
        return
    parts = urlsplit(config.oidc_issuer)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise ValueError(
            "DASHAPP_OIDC_ISSUER should be the provider's https URL, got "
            f"{config.oidc_issuer!r}"
        )
    if parts.scheme == "http" and parts.hostname not in (
        "127.0.0.1",
        "::1",
        "localhost",
    ):
        log.warning("DASHAPP_OIDC_ISSUER is not https: tokens travel in clear")
    if config.oidc_default_role not in users.ROLES:
        raise ValueError(
            f"DASHAPP_OIDC_DEFAULT_ROLE should be one of {', '.join(users.ROLES)}, "
            f"got {config.oidc_default_role!r}"
        )
    server.extensions[_EXTENSION] = OAuth(server).register(
        _NAME,
        client_id=config.oidc_client_id,
        client_secret=config.oidc_client_secret or None,
        server_metadata_url=discovery_url(config.oidc_issuer),
        client_kwargs={
            "scope": SCOPE,
            "code_challenge_method": "S256",
            "default_timeout": TIMEOUT_S,
        },
    )
    server.add_url_rule(START, "oidc_login", start_view)
    server.add_url_rule(CALLBACK, "oidc_callback", callback_view)
    server.context_processor(_sign_in_button)
