"""Sign-in, sessions and rights, checked on the server for every request.

* Every request needs a signed-in user, except those routed to the sign-in pages,
  static files and share links (:data:`PUBLIC_ROUTES`): a ``before_request`` hook
  loads the user from the session cookie (or from an ``Authorization: Bearer`` API
  token under ``/api/``) and answers 401 otherwise; it never trusts a role sent by
  a browser.
* Each Dash callback declares the right it needs with :func:`requires`; the check
  runs inside the callback on the server, in background jobs too (the user travels
  to the job through Dash's ``custom_data`` hook, computed from the session), and
  :func:`create_app` refuses to start if any callback declares none.
* Sessions are Flask's signed cookies (HttpOnly, SameSite=Lax, Secure behind TLS)
  holding the user id and a *session epoch*: signing out, a password reset, a role
  change or disabling the user bumps the epoch, which ends every open session of
  that user at once (copies of the cookie included).
* Unsafe requests from another origin are refused (``Origin`` check), forms carry
  a CSRF token, request bodies are size-limited.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import re
import secrets
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import dash
import flask
from itsdangerous import URLSafeSerializer
from werkzeug.exceptions import RequestEntityTooLarge

from dashapp import ids
from dashapp.config import Config
from dashapp.i18n import t
from dashapp.parsing import BadInputError
from dashapp.paths import url
from data import users
from data.store import AuditNote
from data.users import Principal, UserError

log = logging.getLogger(__name__)

LOGIN = "/login"
LOGOUT = "/logout"
PASSWORD = "/account/password"
SHARE = "/share/"
# The routes anyone may fetch, as Flask's rules (paths from the app's root, the URL
# prefix taken off by dashapp.paths.PrefixMiddleware): the sign-in pages (password
# and single sign-on), share links, the language switch, static code and styles,
# the health check. A request is public only when Flask routes it to one of them:
# a path that merely starts like one (/loginx, /login/../x, /vendor/x) goes to
# Dash's catch-all page, which needs sign-in.
PUBLIC_ROUTES = frozenset(
    {
        LOGIN,
        LOGIN + "/oidc",  # dashapp.oidc.START and CALLBACK
        LOGIN + "/oidc/callback",
        SHARE + "<path:token>",
        "/lang/<code>",
        "/assets/<path:filename>",
        "/vendor/bootstrap.min.css",
        "/vendor/plotly.min.js",
        "/_dash-component-suites/<string:package_name>/<path:fingerprinted_path>",
        "/_favicon.ico",
        "/healthz",
    }
)
# a callback body beyond this is refused unless it is the import screen's upload
MAX_CALLBACK_BYTES = 2 * 1024**2
SESSION_HOURS = 12


class AccessDeniedError(PermissionError):
    """The signed-in user lacks the right a callback or route needs."""

    def __init__(self, right: str, user: Principal | None) -> None:
        super().__init__(
            f"{user.username if user else 'anonymous'} ({user.role if user else '-'}) "
            f"lacks the right {right!r}"
        )
        self.right = right
        self.user = user


# -- the current user ---------------------------------------------------------------------
def current_user() -> Principal | None:
    """Who makes the current request (or started the current background job)."""
    if flask.has_app_context() and "user" in flask.g:
        return flask.g.user
    try:
        data = dash.callback_context.custom_data.get("auth")
    except Exception:  # outside a Dash callback
        return None
    return Principal.from_dict(data)


def require(right: str) -> Principal:
    """The current user if they have ``right``; :class:`AccessDeniedError` otherwise."""
    user = current_user()
    if user is None or not user.can(right):
        raise AccessDeniedError(right, user)
    return user


def requires(right: str) -> Callable:
    """Decorate a callback: refuse it on the server to users without ``right``.

    The right is kept on the function (``required_right``) so the app can check
    that every registered callback declares one.
    """
    if right not in users.RIGHTS:
        raise ValueError(f"unknown right {right!r}")

    def wrap(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def checked(*args, **kwargs):
            require(right)
            return fn(*args, **kwargs)

        checked.required_right = right
        return checked

    return wrap


def client_address() -> str:
    """The client's address as this server sees it (a proxy must set it right)."""
    return (flask.request.remote_addr or "") if flask.has_request_context() else ""


def record(store, action: str, target: Any = "", **detail: Any) -> None:
    """Write an audit event for the current user."""
    users.audit(
        store, current_user() or "anonymous", action, target, detail, client_address()
    )


def audit_note(action: str, **detail: Any) -> AuditNote:
    """The current user's audit event, for a change that writes it in its own
    transaction (``Store.add_dataset(audit=...)``)."""
    return users.note(current_user() or "anonymous", action, detail, client_address())


# -- secret key -------------------------------------------------------------------------
def secret_key(config: Config) -> str:
    """The key that signs sessions and share links.

    ``DASHAPP_SECRET_KEY`` when set (same value on every server of a deployment);
    otherwise one generated on first start and kept in ``<data_dir>/secret_key``
    (mode 600). Changing it ends every session and share link.
    """
    if config.secret_key:
        return config.secret_key
    path = Path(config.data_dir) / "secret_key"
    if not path.exists():
        _create_key_file(path)
    key = path.read_text().strip()
    if len(key) < 32:
        raise RuntimeError(f"{path} is too short to be a secret key")
    return key


def _create_key_file(path: Path) -> None:
    """Write a new key to a private file, then link it to ``path`` if still free.

    Workers starting together may all get here: the link is atomic, so exactly
    one key wins and no process ever reads the file before its key is written
    (an ``O_EXCL`` create followed by a write leaves a moment when it is empty).
    """
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another process was first
            os.link(draft, path)
    finally:
        draft.unlink()


def share_serializer(key: str) -> URLSafeSerializer:
    return URLSafeSerializer(key, salt="scenario-share")


def upload_serializer(key: str) -> URLSafeSerializer:
    return URLSafeSerializer(key, salt="import-upload")


# -- first admin -------------------------------------------------------------------------
def ensure_admin(store, config: Config) -> str | None:
    """Create the first admin on an empty user table; return the one-time password.

    The password is ``DASHAPP_ADMIN_PASSWORD`` when set, otherwise random and
    printed once on the console; either way it must be changed at first sign-in.
    """
    if users.count_users(store):
        return None
    password = config.admin_password or users.new_password()
    try:
        users.create_user(store, "admin", password, "admin", full_name="Administrator")
    except UserError as exc:
        if exc.code == "user_exists":  # another worker created it just now
            return None
        raise
    users.audit(store, "system", "user.create", "admin", {"role": "admin"})
    if not config.admin_password:
        banner = (
            "\n" + "=" * 70 + "\n"
            "First start: an administrator account was created.\n"
            f"  user name: admin\n  one-time password: {password}\n"
            "Sign in and choose a new password. This is shown only once.\n"
            + "=" * 70
            + "\n"
        )
        print(banner, flush=True)
    return password


# -- request hooks ---------------------------------------------------------------------
def _store():
    from dashapp import services

    return services.get_store(flask.current_app.config["DASHAPP"].database_url)


def _is_public() -> bool:
    """Whether the request is routed to one of :data:`PUBLIC_ROUTES`."""
    rule = flask.request.url_rule  # None when no route matches (404, 405)
    return rule is not None and rule.rule in PUBLIC_ROUTES


def _wants_json(path: str) -> bool:
    return (
        path.startswith("/api/")
        or path.startswith("/_dash-")
        or flask.request.method not in ("GET", "HEAD")
    )


def _json_error(status: int, message: str, **extra: Any):
    response = flask.jsonify({"error": message, **extra})
    response.status_code = status
    return response


def _same_origin() -> bool:
    origin = flask.request.headers.get("Origin")
    if not origin or origin == "null" and flask.request.method in ("GET", "HEAD"):
        return True
    parts = urlsplit(origin)
    return parts.netloc == flask.request.host and parts.scheme in ("http", "https")


def _load_user() -> Principal | None:
    header = flask.request.headers.get("Authorization", "")
    if flask.request.path.startswith("/api/") and header.startswith("Bearer "):
        return users.token_user(_store(), header.removeprefix("Bearer ").strip())
    return users.session_user(
        _store(), flask.session.get("uid"), flask.session.get("epoch")
    )


def _body_too_large() -> bool:
    """Whether the body is over the callback cap (the import's upload may be).

    A chunked body names no length: it is read now, at most one byte past the
    cap (Flask's per-request ``max_content_length``: Werkzeug's stream then stops
    there), and kept for Dash. Browsers always send a length, so the import's
    upload never comes chunked.
    """
    length = flask.request.content_length
    if length is None:
        flask.request.max_content_length = MAX_CALLBACK_BYTES + 1
        try:
            length = len(flask.request.get_data(cache=True))
        except RequestEntityTooLarge:
            return True
        return length > MAX_CALLBACK_BYTES
    if length <= MAX_CALLBACK_BYTES:
        return False
    if flask.request.path.endswith("_dash-update-component"):
        body = flask.request.get_json(silent=True)
        output = body.get("output") if isinstance(body, dict) else None
        # the upload callback has several outputs: its key is "..imp-uploads.data...."
        return not isinstance(output, str) or f"{ids.IMP_UPLOADS}.data" not in (
            output.strip(".").split("...")
        )
    return True


def _callback_problem() -> str | None:
    """Why a POST to Dash's callback route is not one its renderer would send.

    Dash answers a body it cannot read with a 500 page; this names the problem.
    """
    body = flask.request.get_json(silent=True)
    callbacks = flask.current_app.extensions.get("dash_callbacks", {})
    output = body.get("output") if isinstance(body, dict) else None
    if not isinstance(output, str) or output not in callbacks:
        return "the body names none of this app's callbacks"
    for key in ("inputs", "state"):
        sent = body.get(key, [])
        items = (
            [i for x in sent for i in (x if isinstance(x, list) else [x])]
            if isinstance(sent, list)
            else None
        )
        if items is None or len(sent) != len(callbacks[output][key]):
            return f"its {key!r} are not the callback's"
        if not all(
            isinstance(i, dict) and {"id", "property"} <= i.keys() for i in items
        ):
            return f"its {key!r} are not the callback's"
    if not isinstance(body.get("outputs", []), dict | list) or not isinstance(
        body.get("changedPropIds", []), list
    ):
        return "its 'outputs' or 'changedPropIds' are malformed"
    return None


def before_request():
    """Refuse what the session does not allow; set ``g.user``."""
    path = flask.request.path
    if flask.request.method not in ("GET", "HEAD", "OPTIONS") and not _same_origin():
        return _json_error(403, "cross-origin request refused")
    if _is_public():
        return None
    user = _load_user()
    if user is None:
        if _wants_json(path):
            return _json_error(401, "sign in first", login=url(LOGIN))
        back = quote(safe_next(flask.request.full_path), safe="/")
        return flask.redirect(url(f"{LOGIN}?next={back}"))
    flask.g.user = user
    if user.must_change_password and path not in (PASSWORD, LOGOUT):
        if _wants_json(path):
            return _json_error(403, "choose a new password first", url=url(PASSWORD))
        return flask.redirect(url(PASSWORD))
    if _body_too_large():
        return _json_error(413, "request too large")
    if (
        path.endswith("_dash-update-component")
        and flask.request.method == "POST"
        and (problem := _callback_problem())
    ):
        return _json_error(400, f"malformed callback request: {problem}")
    return None


def after_request(response):
    """Headers that keep pages out of frames and caches, and types unsniffed."""
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
    if not _is_public() or flask.request.path.startswith(LOGIN):
        headers.setdefault("Cache-Control", "no-store")
    return response


def safe_next(target: str | None) -> str:
    """A same-site path to go back to after sign-in or a language switch.

    Only a path starting with one ``/`` and free of backslashes, control
    characters and scheme or host parts is kept; anything else becomes ``/``.

    Examples
    --------
    >>> safe_next("/scenarios?scenario=3"), safe_next("//evil.example/x")
    ('/scenarios?scenario=3', '/')
    >>> safe_next("/\\t/evil.example"), safe_next("https://evil.example")
    ('/', '/')
    """
    if not isinstance(target, str) or not target.startswith("/"):
        return "/"
    if len(target) > 2000 or any(ord(c) < 33 or ord(c) == 127 for c in target):
        return "/"
    if "\\" in target or target.startswith("//"):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target.rstrip("?") or "/"


# -- Dash hooks -------------------------------------------------------------------------
def _custom_data(_ctx) -> dict | None:
    user = flask.g.get("user") if flask.has_app_context() else None
    return user.to_dict() if user else None


def install_dash_hooks() -> None:
    """Pass the server-side user to every callback, background jobs included."""
    if not getattr(install_dash_hooks, "done", False):
        dash.hooks.custom_data("auth")(_custom_data)
        install_dash_hooks.done = True


_DENIED_IN_JOB = re.compile(
    r"^An error occurred inside a background callback: "
    r"\S+ \(\w+\) lacks the right '([\w.]+)'"
)


_FORECAST_IN_JOB = re.compile(
    r"^An error occurred inside a background callback: ForecastError (\{.*?\})$",
    re.M,
)
_BUSY_JOB = re.compile(
    r"^An error occurred inside a background callback: "
    r"JobsBusyError: (user|server)\b"
)
_LOST_JOB = re.compile(
    r"^An error occurred inside a background callback: "
    r"(?:JobLostError|NoWorkerError): (lost|no_worker)\b"
)


def on_callback_error(err: Exception):
    """Turn a refused right, a refused value or an unexpected error into an alert."""
    from dash import set_props

    from data.forecast import ForecastError  # here: the CLI imports this module

    lang = request_language()
    if not isinstance(err, AccessDeniedError):
        # a background job reports its refusal as text: find the right in it
        found = _DENIED_IN_JOB.search(str(err))
        if found and found.group(1) in users.RIGHTS:
            err = AccessDeniedError(found.group(1), current_user())
    in_job = _FORECAST_IN_JOB.search(str(err))
    if in_job:  # dashapp.jobs.JobForecastError: the job's forecast error, as JSON
        with contextlib.suppress(ValueError):
            err = ForecastError.from_dict(json.loads(in_job.group(1)))
    lost = _LOST_JOB.search(str(err))
    busy = _BUSY_JOB.search(str(err))
    if busy:  # too many jobs at once: this one never started (dashapp.job_context)
        text, color = t(f"jobs.busy_{busy.group(1)}", lang), "warning"
    elif lost:  # a Celery worker died under the job, or none runs (dashapp.workers)
        log.warning("background job %s", lost.group(1))
        text = t("jobs.no_worker" if lost.group(1) == "no_worker" else "jobs.lost",
                 lang)  # fmt: skip
        color = "warning"
    elif isinstance(err, AccessDeniedError):
        text = t(
            "auth.denied",
            lang,
            role=t(f"role.{err.user.role}", lang) if err.user else "-",
            right=t(f"right.{err.right}", lang),
        )
        color = "warning"
    elif isinstance(err, BadInputError):  # a browser's value, e.g. a forged id
        from layouts.messages import bad_input_text

        text, color = bad_input_text(err, lang), "warning"
    elif isinstance(err, ForecastError):  # a forecast asked for outside its screen
        from layouts.forecast import error_text  # (scenario demand = forecast...)

        log.info("forecast refused: %s", err)
        text, color = error_text(err.to_dict(), lang), "warning"
    else:
        from dashapp.logs import request_id

        # the request id: the one line the user quotes finds the log entry
        ref = request_id() or uuid.uuid4().hex[:8]
        log.exception("callback failed (ref %s)", ref, exc_info=err)
        text = t("app.error", lang, ref=ref)
        color = "danger"
    import dash_bootstrap_components as dbc

    set_props(
        ids.ALERTS,
        {
            "children": dbc.Alert(
                text, color=color, dismissable=True, className="py-2 mb-2"
            )
        },
    )
    return None


def request_language() -> str:
    from dashapp.context import request_lang

    config = (
        flask.current_app.config["DASHAPP"]
        if flask.has_app_context()
        else Config(data_dir=Path("."))
    )
    return request_lang(config)


def check_every_callback_guarded(app: dash.Dash) -> None:
    """Refuse to start an app with a callback that declares no right."""
    missing = []
    for key, entry in app.callback_map.items():
        fn = entry.get("callback")
        if fn is None:  # clientside
            continue
        if not getattr(fn, "required_right", None):
            missing.append(key)
    if missing:
        raise RuntimeError(
            "callbacks without a declared right (use dashapp.auth.requires): "
            + ", ".join(sorted(missing))
        )


# -- sign-in pages ----------------------------------------------------------------------
PAGE = """<!doctype html>
<html lang="{{ lang }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title><link rel="stylesheet" href="{{ root }}vendor/bootstrap.min.css">
<link rel="icon" href="{{ root }}_favicon.ico">
</head><body class="bg-light">
<nav class="navbar navbar-dark bg-dark mb-4"><div class="container-fluid">
<span class="navbar-brand">{{ app_title }}</span>
<span><a class="btn btn-sm btn-outline-light" href="{{ root }}lang/fr?next={{ here }}">FR</a>
<a class="btn btn-sm btn-outline-light" href="{{ root }}lang/en?next={{ here }}">EN</a></span>
</div></nav>
<main class="container" style="max-width: 28rem">
<h1 class="h4 mb-3">{{ title }}</h1>
{% if intro %}<p class="text-muted">{{ intro }}</p>{% endif %}
{% if error %}<div class="alert alert-danger py-2" id="auth-error">{{ error }}</div>{% endif %}
<form method="post" autocomplete="on">
<input type="hidden" name="csrf" value="{{ csrf }}">
{% for f in fields %}<div class="mb-3"><label class="form-label" for="{{ f.id }}">
{{ f.label }}</label><input class="form-control" id="{{ f.id }}" name="{{ f.id }}"
type="{{ f.type }}" autocomplete="{{ f.auto }}" required maxlength="256"></div>
{% endfor %}<button class="btn btn-primary" type="submit" id="auth-submit">
{{ submit }}</button></form>
{# sso_url, sso_label: from dashapp.oidc, on the sign-in page, with single sign-on #}
{% if sso_url %}<hr><a class="btn btn-outline-primary w-100" id="auth-oidc"
href="{{ sso_url }}">{{ sso_label }}</a>{% endif %}</main></body></html>"""


def csrf_token() -> str:
    if "csrf" not in flask.session:
        flask.session["csrf"] = secrets.token_urlsafe(24)
    return flask.session["csrf"]


def _csrf_ok() -> bool:
    sent = flask.request.form.get("csrf", "")
    expected = flask.session.get("csrf", "")
    return bool(expected) and secrets.compare_digest(str(sent), str(expected))


def _form_page(lang: str, title_key: str, fields, submit_key: str, error=None,
               intro=None, status=200):  # fmt: skip
    html = flask.render_template_string(
        PAGE,
        lang=lang,
        title=t(title_key, lang),
        app_title=t("app.title", lang),
        root=url("/"),
        here=quote(safe_next(flask.request.full_path), safe="/"),
        intro=intro,
        error=error,
        csrf=csrf_token(),
        fields=fields,
        submit=t(submit_key, lang),
    )
    return html, status


def login_view():
    """GET: the sign-in form; POST: check it, start a session, go back."""
    lang = request_language()
    fields = [
        {"id": "username", "label": t("auth.username", lang), "type": "text",
         "auto": "username"},
        {"id": "password", "label": t("auth.password", lang), "type": "password",
         "auto": "current-password"},
    ]  # fmt: skip
    target = safe_next(flask.request.args.get("next"))
    if flask.request.method == "GET":
        # a refused single sign-on (dashapp.oidc) comes back here once, flashed
        flashed = flask.get_flashed_messages(category_filter=["sign-in"])
        error = flashed[0] if flashed else None
        return _form_page(lang, "auth.sign_in", fields, "auth.sign_in", error)
    if not _csrf_ok():
        return _form_page(
            lang, "auth.sign_in", fields, "auth.sign_in",
            t("auth.expired_form", lang), status=400,
        )  # fmt: skip
    store = _store()
    try:
        user = users.authenticate(
            store,
            flask.request.form.get("username", ""),
            flask.request.form.get("password", ""),
            client_address(),
        )
    except UserError as exc:
        key = "auth.locked" if exc.code == "locked" else "auth.bad_credentials"
        return _form_page(
            lang, "auth.sign_in", fields, "auth.sign_in", t(key, lang),
            status=429 if exc.code == "locked" else 401,
        )  # fmt: skip
    flask.session.clear()  # a new session id for the signed-in user
    flask.session.permanent = True
    flask.session["uid"] = user.id
    flask.session["epoch"] = users.session_epoch(store, user.id)
    flask.session["csrf"] = secrets.token_urlsafe(24)
    flask.g.user = user
    record(store, "user.sign_in", user.username)
    if user.must_change_password:
        return flask.redirect(url(PASSWORD))
    return flask.redirect(url(target))


def logout_view():
    """End the session (POST with the CSRF token; GET shows a confirm button).

    The user's session epoch moves on, so the cookie is refused on the server too,
    copies of it and the user's sessions in other browsers included.
    """
    lang = request_language()
    if flask.request.method == "POST" and _csrf_ok():
        user = flask.g.get("user")
        if user is not None and user.id is not None:
            store = _store()
            users.end_sessions(store, user.id)
            record(store, "user.sign_out", user.username)
        flask.session.clear()
        return flask.redirect(url(LOGIN))
    return _form_page(lang, "auth.sign_out", [], "auth.sign_out")


def password_view():
    """Choose a new password (required after a one-time password)."""
    lang = request_language()
    fields = [
        {"id": "current", "label": t("auth.current_password", lang),
         "type": "password", "auto": "current-password"},
        {"id": "new", "label": t("auth.new_password", lang), "type": "password",
         "auto": "new-password"},
        {"id": "confirm", "label": t("auth.confirm_password", lang),
         "type": "password", "auto": "new-password"},
    ]  # fmt: skip
    user = flask.g.user
    intro = t("auth.must_change", lang) if user.must_change_password else None

    def page(error=None, status=200):
        return _form_page(
            lang, "auth.change_password", fields, "auth.save_password", error,
            intro, status,
        )  # fmt: skip

    if flask.request.method == "GET":
        return page()
    if not _csrf_ok():
        return page(t("auth.expired_form", lang), 400)
    form = flask.request.form
    store = _store()
    try:
        users.authenticate(store, user.username, form.get("current", ""),
                           client_address())  # fmt: skip
    except UserError as exc:
        key = "auth.locked" if exc.code == "locked" else "auth.bad_current"
        return page(t(key, lang), 401)
    if form.get("new", "") != form.get("confirm", ""):
        return page(t("auth.mismatch", lang), 400)
    if form.get("new", "") == form.get("current", ""):
        return page(t("auth.same_password", lang), 400)
    try:
        users.set_password(store, user.username, form.get("new", ""))
    except UserError:
        return page(t("auth.weak_password", lang, min=users.MIN_PASSWORD), 400)
    flask.session["epoch"] = users.session_epoch(store, user.id)
    record(store, "user.password", user.username)
    return flask.redirect(url("/"))


def init_auth(server: flask.Flask, config: Config) -> None:
    """Session settings, request hooks and the sign-in routes on ``server``."""
    import datetime as dt

    server.secret_key = secret_key(config)
    server.config.update(
        SESSION_COOKIE_NAME="dashapp_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_PATH=config.url_prefix,  # not sent to other apps of the host
        SESSION_COOKIE_SECURE=config.secure_cookies,
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=SESSION_HOURS),
        # only responses that change the session set its cookie: otherwise a callback
        # answered after a sign-out would put the old session back in the browser
        SESSION_REFRESH_EACH_REQUEST=False,
        MAX_CONTENT_LENGTH=config.max_request_mb * 1024**2,
    )
    if config.proxy_hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(config.proxy_hops)
        server.wsgi_app = ProxyFix(
            server.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
        )
    server.before_request(before_request)
    server.after_request(after_request)
    server.add_url_rule(LOGIN, "login", login_view, methods=["GET", "POST"])
    server.add_url_rule(LOGOUT, "logout", logout_view, methods=["GET", "POST"])
    server.add_url_rule(PASSWORD, "password", password_view, methods=["GET", "POST"])

    @server.errorhandler(413)
    def _too_large(_exc):
        return _json_error(
            413, f"request larger than {config.max_request_mb} MB refused"
        )

    install_dash_hooks()
