"""User management and audit log (``/admin``); account page and API tokens (``/compte``).

One-time passwords and token secrets are returned once, in the callback's answer,
and kept nowhere else: reloading the page never shows them again.
"""

from __future__ import annotations

import datetime as dt
import time

import flask
from dash import ALL, Input, Output, State, ctx, dcc, no_update
from dash.exceptions import PreventUpdate

from dashapp import ids, services
from dashapp.api import PREFIX
from dashapp.auth import PASSWORD, current_user, record, requires
from dashapp.context import current_config
from dashapp.i18n import t
from dashapp.parsing import BadInputError, parse_id
from dashapp.paths import url
from data import exports, users
from data.users import UserError
from layouts import admin as lay
from layouts.messages import bad_input_alert

AUDIT_ROWS = 500  # shown on screen
AUDIT_EXPORT_ROWS = 100_000  # in the CSV file


def _store():
    return services.get_store(current_config().database_url)


def render_admin(search: str | None, lang: str, dataset_id):
    """The page (route ``/admin``): users and, with ``audit.read``, the audit log."""
    user = current_user()
    if user is None or not user.can("users.manage"):
        return lay.refused_page(user, lang)
    store = _store()
    audit = users.audit_events(store, AUDIT_ROWS) if user.can("audit.read") else None
    return lay.admin_page(
        users.list_users(store), audit, lang, user.username, AUDIT_ROWS
    )


def render_account(search: str | None, lang: str, dataset_id):
    """The page (route ``/compte``): who I am, my password, my API tokens."""
    user = current_user()
    if user is None or not user.can("view"):
        return lay.refused_page(user, lang, "viewer")
    tokens = users.list_tokens(_store(), user)
    return lay.account_page(user, tokens, lang, url(PASSWORD))


# -- users -------------------------------------------------------------------------------
def _users_table(store, lang: str):
    me = current_user()
    return lay.users_table(users.list_users(store), lang, me.username if me else "")


def _refused(exc: Exception, lang: str):
    if isinstance(exc, BadInputError):
        return bad_input_alert(exc, lang, className="py-2 mb-2")
    return lay.alert(lay.user_error_text(exc, lang), "warning")


def _one_time(username: str, password: str, lang: str):
    return lay.secret_alert(
        t("adm.one_time", lang, username=username),
        password,
        t("adm.one_time_hint", lang, username=username),
        ids.ADM_SECRET,
    )


@requires("users.manage")
def add_user(n_clicks, username, full_name, role, lang):
    """Add a user with a one-time password, shown here once."""
    if not n_clicks:
        raise PreventUpdate
    store = _store()
    password = users.new_password()
    try:
        user = users.create_user(
            store,
            username,
            password,
            role,
            full_name=full_name or "",
            must_change_password=True,
        )
    except UserError as exc:
        return _refused(exc, lang), no_update, no_update, no_update, no_update
    record(store, "user.create", user.username, role=user.role)
    message = [
        lay.alert(
            t(
                "adm.created",
                lang,
                username=user.username,
                role=t(f"role.{user.role}", lang),
            ),
        ),
        _one_time(user.username, password, lang),
    ]
    return message, _users_table(store, lang), time.time(), "", ""


def _user_row(store, user_id: int):
    """The listed user whose id the browser sent (``unknown_user`` if none)."""
    frame = users.list_users(store)
    rows = frame[frame["id"] == user_id]
    if rows.empty:
        raise UserError("unknown_user", f"no user with id {user_id}")
    return rows.iloc[0].to_dict()


def _set_role(store, row, role, lang):
    if role == row["role"]:
        return lay.alert(
            t(
                "adm.role_same",
                lang,
                username=row["username"],
                role=t(f"role.{role}", lang),
            ),
            "secondary",
        )
    user = users.set_role(store, row["username"], role)
    record(store, "user.role", user.username, role=user.role, before=row["role"])
    return lay.alert(
        t(
            "adm.role_set",
            lang,
            username=user.username,
            role=t(f"role.{user.role}", lang),
        ),
    )


def _set_active(store, row, action: str, lang):
    me = current_user()
    if action == "disable" and me is not None and me.username == row["username"]:
        return lay.alert(t("adm.self_disable", lang), "warning")
    users.set_active(store, row["username"], action == "enable")
    record(store, f"user.{action}", row["username"])
    return lay.alert(t(f"adm.{action}d", lang, username=row["username"]))


def _reset_password(store, row, lang):
    password = users.new_password()
    users.set_password(store, row["username"], password, must_change=True)
    record(store, "user.reset_password", row["username"])
    return [
        lay.alert(t("adm.reset_done", lang, username=row["username"])),
        _one_time(row["username"], password, lang),
    ]


@requires("users.manage")
def change_user(role_clicks, toggle_clicks, reset_clicks, role_values, role_ids, lang):
    """Apply one row's action: set the role, disable or enable, new password."""
    trigger = ctx.triggered_id
    clicked = [*(role_clicks or []), *(toggle_clicks or []), *(reset_clicks or [])]
    # rows drawn anew have no clicks: only a real click goes on
    if not isinstance(trigger, dict) or not any(clicked):
        raise PreventUpdate
    kind = trigger.get("type")
    store = _store()
    try:
        row = _user_row(store, parse_id(trigger.get("index"), "user"))
        if kind == "adm-set-role":
            chosen = {
                i.get("index"): v
                for v, i in zip(role_values or [], role_ids or [], strict=False)
                if isinstance(i, dict)
            }
            message = _set_role(store, row, chosen.get(int(row["id"])), lang)
        elif kind == "adm-toggle" and trigger.get("action") in ("disable", "enable"):
            message = _set_active(store, row, trigger["action"], lang)
        elif kind == "adm-reset":
            message = _reset_password(store, row, lang)
        else:
            raise PreventUpdate
    except (BadInputError, UserError) as exc:
        return _refused(exc, lang), no_update, no_update
    return message, _users_table(store, lang), time.time()


# -- audit log ---------------------------------------------------------------------------
@requires("audit.read")
def show_audit(changed, n_refresh, lang="fr"):
    """The newest audit events, again after a change or on request."""
    return lay.audit_rows(users.audit_events(_store(), AUDIT_ROWS), lang)


def audit_csv(frame, lang: str = "fr") -> bytes:
    """Audit events as the grid words them, for spreadsheets: headers in ``lang``,
    formulas neutralised, UTF-8 with BOM."""
    return exports.csv_text(lay.audit_table(frame, lang)).encode("utf-8-sig")


@requires("audit.read")
def export_audit(n_clicks, lang="fr"):
    """The audit log as a CSV file (newest first), in the interface language."""
    if not n_clicks:
        raise PreventUpdate
    store = _store()
    frame = users.audit_events(store, AUDIT_EXPORT_ROWS)
    record(store, "audit.export", "audit", rows=len(frame))
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M")
    return dcc.send_bytes(audit_csv(frame, lang), f"audit-{stamp}.csv")


# -- account: API tokens -----------------------------------------------------------------
def _api_example_url() -> str:
    host = flask.request.host_url if flask.has_request_context() else "http://host/"
    return host.rstrip("/") + PREFIX + "/datasets"


@requires("view")
def create_api_token(n_clicks, name, lang):
    """Create a personal API token; its secret is shown here once."""
    if not n_clicks:
        raise PreventUpdate
    user = current_user()
    store = _store()
    token_id, secret = users.create_token(store, user, name)
    tokens = users.list_tokens(store, user)
    label = tokens.loc[tokens["id"] == token_id, "name"].iloc[0]
    record(store, "token.create", user.username, token_id=token_id, name=label)
    message = lay.token_secret(label, secret, _api_example_url(), lang)
    return message, lay.tokens_table(tokens, lang), ""


@requires("view")
def revoke_api_token(clicks, lang):
    """Revoke one of one's own API tokens."""
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not any(clicks or []):
        raise PreventUpdate
    user = current_user()
    store = _store()
    try:
        token_id = parse_id(trigger.get("index"), "token")
        # this page lists one's own tokens only, admins included
        if token_id not in set(users.list_tokens(store, user)["id"]):
            raise UserError("unknown_token", f"no token {token_id} of yours")
        users.revoke_token(store, user, token_id)
    except (BadInputError, UserError) as exc:
        return _refused(exc, lang), no_update
    record(store, "token.revoke", user.username, token_id=token_id)
    return (
        lay.alert(t("acc.token_revoked", lang, id=token_id)),
        lay.tokens_table(users.list_tokens(store, user), lang),
    )


# path -> render(search, lang, dataset_id), for the router in callbacks/shell.py
PAGES = {"/admin": render_admin, "/compte": render_account}


def register(app) -> None:
    app.callback(
        Output(ids.ADM_MESSAGE, "children"),
        Output(ids.ADM_USERS, "children"),
        Output(ids.ADM_CHANGED, "data"),
        Output(ids.ADM_NEW_USERNAME, "value"),
        Output(ids.ADM_NEW_FULL_NAME, "value"),
        Input(ids.ADM_ADD, "n_clicks"),
        State(ids.ADM_NEW_USERNAME, "value"),
        State(ids.ADM_NEW_FULL_NAME, "value"),
        State(ids.ADM_NEW_ROLE, "value"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(add_user)
    app.callback(
        Output(ids.ADM_MESSAGE, "children", allow_duplicate=True),
        Output(ids.ADM_USERS, "children", allow_duplicate=True),
        Output(ids.ADM_CHANGED, "data", allow_duplicate=True),
        Input(ids.adm_set_role(ALL), "n_clicks"),
        Input(ids.adm_toggle(ALL, ALL), "n_clicks"),
        Input(ids.adm_reset(ALL), "n_clicks"),
        State(ids.adm_role(ALL), "value"),
        State(ids.adm_role(ALL), "id"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(change_user)
    app.callback(
        Output(ids.ADM_AUDIT, "rowData"),
        Input(ids.ADM_CHANGED, "data"),
        Input(ids.ADM_AUDIT_REFRESH, "n_clicks"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(show_audit)
    app.callback(
        Output(ids.ADM_AUDIT_DOWNLOAD, "data"),
        Input(ids.ADM_AUDIT_EXPORT, "n_clicks"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(export_audit)
    app.callback(
        Output(ids.ACC_MESSAGE, "children"),
        Output(ids.ACC_TOKENS, "children"),
        Output(ids.ACC_TOKEN_NAME, "value"),
        Input(ids.ACC_TOKEN_CREATE, "n_clicks"),
        State(ids.ACC_TOKEN_NAME, "value"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(create_api_token)
    app.callback(
        Output(ids.ACC_MESSAGE, "children", allow_duplicate=True),
        Output(ids.ACC_TOKENS, "children", allow_duplicate=True),
        Input(ids.acc_revoke(ALL), "n_clicks"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(revoke_api_token)
