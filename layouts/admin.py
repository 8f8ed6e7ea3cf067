"""User management and audit log (``/admin``), and the account page (``/compte``)."""

from __future__ import annotations

import json
from typing import Any

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import pandas as pd
from dash import dcc, html

from dashapp import ids
from dashapp.i18n import STRINGS, t
from data.users import RIGHTS, ROLES, Principal, UserError, allowed
from layouts.figures import fmt
from layouts.locale import grid_locale_text

USER_COLUMNS = (
    "username",
    "full_name",
    "role",
    "active",
    "must_change",
    "created",
    "last_login",
    "actions",
)
AUDIT_COLUMNS = ("at", "username", "action", "target", "detail", "address")


def when(value: Any, empty: str = "—") -> str:
    """A stored UTC time as ``YYYY-MM-DD HH:MM``, or ``empty`` when there is none."""
    if value is None or pd.isna(value):
        return empty
    return f"{pd.Timestamp(value):%Y-%m-%d %H:%M}"


def user_error_text(exc: UserError, lang: str) -> str:
    """A refused user operation in ``lang`` (``user.error.<code>``)."""
    key = f"user.error.{exc.code}"
    if key not in STRINGS:
        return str(exc)
    try:
        return t(key, lang, **exc.values)
    except (KeyError, IndexError):  # a value the sentence needs is missing
        return str(exc)


def alert(text, color: str = "success", **kwargs) -> dbc.Alert:
    return dbc.Alert(text, color=color, className="py-2 mb-2", **kwargs)


def secret_alert(title: str, secret: str, hint: str, secret_id: str, extra=None):
    """A secret shown once: the text to copy, a copy button and what to do with it."""
    return dbc.Alert(
        [
            html.Div(title, className="fw-semibold"),
            html.Div(
                [
                    html.Code(secret, id=secret_id, className="fs-5 user-select-all"),
                    dcc.Clipboard(target_id=secret_id, className="ms-2 d-inline"),
                ],
                className="my-1",
            ),
            html.Div(hint, className="small"),
            *(extra or []),
        ],
        color="info",
        className="py-2 mb-2",
    )


def role_options(lang: str) -> list[dict]:
    return [{"label": t(f"role.{r}", lang), "value": r} for r in ROLES]


def _yes_no(value: Any, lang: str) -> str:
    return t("adm.yes" if bool(value) else "adm.no", lang)


def _role_picker(row, lang: str) -> dbc.InputGroup:
    uid = int(row.id)
    return dbc.InputGroup(
        [
            dbc.Select(
                id=ids.adm_role(uid),
                options=role_options(lang),
                value=row.role,
                style={"minWidth": "9.5rem"},
            ),
            dbc.Button(
                t("adm.set_role", lang),
                id=ids.adm_set_role(uid),
                color="primary",
                outline=True,
            ),
        ],
        size="sm",
        className="flex-nowrap",
    )


def _user_actions(row, lang: str) -> html.Div:
    uid = int(row.id)
    action = "disable" if row.is_active else "enable"
    return html.Div(
        [
            dbc.Button(
                t(f"adm.{action}", lang),
                id=ids.adm_toggle(uid, action),
                size="sm",
                color="danger" if row.is_active else "success",
                outline=True,
                className="text-nowrap",
            ),
            dbc.Button(
                t("adm.reset", lang),
                id=ids.adm_reset(uid),
                size="sm",
                color="secondary",
                outline=True,
                className="text-nowrap",
            ),
        ],
        className="d-flex gap-1 flex-nowrap",
    )


def users_table(frame: pd.DataFrame, lang: str, me: str = "") -> dbc.Table:
    """Every user, one row each, with the role picker and the actions."""
    head = html.Thead(html.Tr([html.Th(t(f"adm.col.{c}", lang)) for c in USER_COLUMNS]))
    rows = []
    for row in frame.itertuples(index=False):
        name = [html.Span(row.username, className="fw-semibold")]
        if row.username == me:
            name.append(html.Small(" " + t("adm.you", lang), className="text-muted"))
        active = dbc.Badge(
            _yes_no(row.is_active, lang),
            color="success" if row.is_active else "secondary",
        )
        rows.append(
            html.Tr(
                [
                    html.Td(name),
                    html.Td(row.full_name or ""),
                    html.Td(_role_picker(row, lang)),
                    html.Td(active),
                    html.Td(_yes_no(row.must_change_password, lang)),
                    html.Td(when(row.created_at), className="text-nowrap"),
                    html.Td(
                        when(row.last_login_at, t("adm.never", lang)),
                        className="text-nowrap",
                    ),
                    html.Td(_user_actions(row, lang)),
                ],
                className="" if row.is_active else "text-muted",
            )
        )
    return dbc.Table(
        [head, html.Tbody(rows)],
        size="sm",
        hover=True,
        responsive=True,
        className="align-middle small mb-0",
    )


def add_user_form(lang: str) -> dbc.Card:
    """User name, full name and role of a new user; the password is generated."""
    return dbc.Card(
        dbc.CardBody(
            [
                html.H5(t("adm.add_title", lang), className="card-title"),
                html.P(t("adm.add_hint", lang), className="small text-muted"),
                dbc.Row(
                    [
                        dbc.Col(
                            [
                                dbc.Label(
                                    t("adm.col.username", lang),
                                    html_for=ids.ADM_NEW_USERNAME,
                                    className="small mb-0",
                                ),
                                dbc.Input(
                                    id=ids.ADM_NEW_USERNAME,
                                    size="sm",
                                    maxLength=64,
                                    autoComplete="off",
                                ),
                                dbc.FormText(t("adm.username_hint", lang)),
                            ],
                            md=3,
                        ),
                        dbc.Col(
                            [
                                dbc.Label(
                                    t("adm.col.full_name", lang),
                                    html_for=ids.ADM_NEW_FULL_NAME,
                                    className="small mb-0",
                                ),
                                dbc.Input(
                                    id=ids.ADM_NEW_FULL_NAME,
                                    size="sm",
                                    maxLength=120,
                                    autoComplete="off",
                                ),
                            ],
                            md=4,
                        ),
                        dbc.Col(
                            [
                                dbc.Label(
                                    t("adm.col.role", lang),
                                    html_for=ids.ADM_NEW_ROLE,
                                    className="small mb-0",
                                ),
                                dbc.Select(
                                    id=ids.ADM_NEW_ROLE,
                                    options=role_options(lang),
                                    value="viewer",
                                    size="sm",
                                ),
                            ],
                            md=3,
                        ),
                        dbc.Col(
                            dbc.Button(
                                t("adm.add", lang),
                                id=ids.ADM_ADD,
                                size="sm",
                                color="primary",
                                className="w-100",
                            ),
                            md=2,
                            className="pt-md-4",
                        ),
                    ],
                    className="g-2",
                ),
            ]
        ),
        className="mb-3",
    )


#: Audit details whose values are roles, worded as the role names.
ROLE_DETAILS = ("role", "before")


def detail_value(key: str, value: Any, lang: str) -> str:
    """One recorded value as the user reads it: roles and yes/no worded, lists
    joined, numbers written the language's way; names and files as recorded."""
    if key in ROLE_DETAILS and f"role.{value}" in STRINGS:
        return t(f"role.{value}", lang)
    if isinstance(value, bool):
        return t("audit.yes" if value else "audit.no", lang)
    if isinstance(value, int | float):
        return fmt(value, 0 if float(value).is_integer() else 1, lang)
    if isinstance(value, list | tuple):
        return ", ".join(detail_value(key, v, lang) for v in value)
    if value is None:
        return t("kpi.no_data", lang)
    return str(value)


def detail_text(detail: Any, lang: str = "fr") -> str:
    """An audit event's JSON details in ``lang``: ``Rôle : administrateur ;
    avant : lecteur`` (keys from the catalogue, ``audit.detail.<key>``; a key
    it does not know is shown as recorded)."""
    try:
        values = json.loads(detail) if isinstance(detail, str) else detail
    except ValueError:
        return str(detail)
    if not isinstance(values, dict):
        return "" if values is None else str(values)
    parts = []
    for k, v in values.items():
        name = (
            t(f"audit.detail.{k}", lang) if f"audit.detail.{k}" in STRINGS else str(k)
        )
        parts.append(t("audit.detail_pair", lang, name=name,
                       value=detail_value(str(k), v, lang)))  # fmt: skip
    return (" ; " if lang == "fr" else "; ").join(parts)


def audit_action(code: str, lang: str) -> str:
    """An audit event's action named in ``lang`` (an unknown code as it is)."""
    key = f"audit.action.{code}"
    return t(key, lang) if key in STRINGS else str(code)


def audit_rows(frame: pd.DataFrame, lang: str = "fr") -> list[dict]:
    """The audit events as grid rows, actions named, times and details written out."""
    return [
        {
            "at": when(row.at),
            "username": row.username,
            "action": audit_action(row.action, lang),
            "target": row.target,
            "detail": detail_text(row.detail, lang),
            "address": row.address,
        }
        for row in frame.itertuples(index=False)
    ]


def audit_table(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The audit events as the grid shows them, headed in ``lang`` (the export)."""
    rows = pd.DataFrame(audit_rows(frame, lang), columns=list(AUDIT_COLUMNS))
    return rows.rename(columns={c: t(f"adm.audit.{c}", lang) for c in AUDIT_COLUMNS})


def audit_grid(frame: pd.DataFrame, lang: str) -> dag.AgGrid:
    """The newest audit events first: sortable, filterable, paginated."""
    widths = {"at": 150, "username": 130, "action": 160, "address": 120}
    columns = [
        {
            "field": c,
            "headerName": t(f"adm.audit.{c}", lang),
            **({"width": widths[c]} if c in widths else {"flex": 1, "minWidth": 160}),
        }
        for c in AUDIT_COLUMNS
    ]
    return dag.AgGrid(
        id=ids.ADM_AUDIT,
        rowData=audit_rows(frame, lang),
        columnDefs=columns,
        defaultColDef={"sortable": True, "filter": True, "resizable": True},
        dashGridOptions={
            "pagination": True,
            "paginationPageSize": 50,
            "localeText": grid_locale_text(lang),
        },
        style={"height": "480px"},
    )


def audit_card(frame: pd.DataFrame, lang: str, limit: int) -> dbc.Card:
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div(
                    [
                        html.H5(t("adm.audit", lang), className="card-title mb-0"),
                        html.Div(
                            [
                                dbc.Button(
                                    t("adm.audit_refresh", lang),
                                    id=ids.ADM_AUDIT_REFRESH,
                                    size="sm",
                                    color="secondary",
                                    outline=True,
                                ),
                                dbc.Button(
                                    t("adm.audit_export", lang),
                                    id=ids.ADM_AUDIT_EXPORT,
                                    size="sm",
                                    color="primary",
                                    outline=True,
                                ),
                            ],
                            className="d-flex gap-1",
                        ),
                    ],
                    className="d-flex justify-content-between align-items-center",
                ),
                html.P(
                    t("adm.audit_hint", lang, n=limit),
                    className="small text-muted mb-2",
                ),
                audit_grid(frame, lang),
                dcc.Download(id=ids.ADM_AUDIT_DOWNLOAD),
            ]
        ),
        className="mb-3",
    )


def admin_page(
    users: pd.DataFrame,
    audit: pd.DataFrame | None,
    lang: str,
    me: str,
    audit_limit: int = 500,
) -> html.Div:
    """The whole ``/admin`` screen; the audit log only when ``audit`` is given."""
    return html.Div(
        [
            html.H4(t("adm.title", lang), className="mt-3"),
            html.P(t("adm.intro", lang), className="small text-muted"),
            add_user_form(lang),
            html.Div(id=ids.ADM_MESSAGE),
            dbc.Card(
                dbc.CardBody(html.Div(users_table(users, lang, me), id=ids.ADM_USERS)),
                className="mb-3",
            ),
            dcc.Store(id=ids.ADM_CHANGED),
            audit_card(audit, lang, audit_limit) if audit is not None else None,
        ]
    )


def refused_page(user: Principal | None, lang: str, least: str = "admin"):
    """What a user whose role ranks below ``least`` sees instead of the page."""
    roles = ", ".join(t(f"role.{r}", lang) for r in ROLES[ROLES.index(least) :])
    return dbc.Alert(
        t(
            "auth.page_denied",
            lang,
            roles=roles,
            role=t(f"role.{user.role}", lang) if user else "-",
        ),
        color="warning",
        className="mt-3",
        id="adm-refused",
    )


# -- account page ------------------------------------------------------------------------
def tokens_table(frame: pd.DataFrame, lang: str):
    """One's API tokens: name, prefix, dates, and a revoke button on active ones."""
    if frame.empty:
        return html.P(t("acc.no_tokens", lang), className="small text-muted mb-0")
    cols = ("name", "prefix", "created", "last_used", "revoked")
    head = html.Thead(
        html.Tr([html.Th(t(f"acc.col.{c}", lang)) for c in cols] + [html.Th("")])
    )
    rows = []
    for row in frame.itertuples(index=False):
        revoked = row.revoked_at is not None and not pd.isna(row.revoked_at)
        action = (
            ""
            if revoked
            else dbc.Button(
                t("acc.revoke", lang),
                id=ids.acc_revoke(int(row.id)),
                size="sm",
                color="danger",
                outline=True,
            )
        )
        rows.append(
            html.Tr(
                [
                    html.Td(row.name),
                    html.Td(html.Code(row.prefix + "…")),
                    html.Td(when(row.created_at), className="text-nowrap"),
                    html.Td(
                        when(row.last_used_at, t("adm.never", lang)),
                        className="text-nowrap",
                    ),
                    html.Td(
                        when(row.revoked_at)
                        if revoked
                        else dbc.Badge(t("acc.active", lang), color="success")
                    ),
                    html.Td(action),
                ],
                className="text-muted" if revoked else "",
            )
        )
    return dbc.Table(
        [head, html.Tbody(rows)],
        size="sm",
        hover=True,
        responsive=True,
        className="align-middle small mb-0",
    )


def token_secret(name: str, secret: str, api_url: str, lang: str) -> dbc.Alert:
    """A new token, shown once, with a request that uses it."""
    example = f'curl -H "Authorization: Bearer {secret}" {api_url}'
    return secret_alert(
        t("acc.token_created", lang, name=name),
        secret,
        t("acc.token_usage", lang),
        ids.ACC_SECRET,
        [html.Pre(example, className="small bg-light p-2 mb-0 mt-1 text-wrap")],
    )


def account_page(
    user: Principal, tokens: pd.DataFrame, lang: str, password_url: str
) -> html.Div:
    """Who I am, a link to change my password, and my API tokens."""
    rights = [t(f"right.{r}", lang) for r in RIGHTS if allowed(user.role, r)]
    facts = [
        (t("acc.username", lang), user.username),
        (t("acc.full_name", lang), user.full_name or "—"),
        (t("acc.role", lang), t(f"role.{user.role}", lang)),
        (t("acc.rights", lang), ", ".join(rights)),
    ]
    who = dbc.Card(
        dbc.CardBody(
            [
                html.H5(t("acc.title", lang), className="card-title"),
                html.Dl(
                    [
                        item
                        for label, value in facts
                        for item in (
                            html.Dt(label, className="col-sm-3"),
                            html.Dd(value, className="col-sm-9"),
                        )
                    ],
                    className="row small mb-2",
                    id="acc-who",
                ),
                dbc.Button(
                    t("acc.change_password", lang),
                    href=password_url,
                    external_link=True,
                    size="sm",
                    color="secondary",
                    outline=True,
                    id="acc-password-link",
                ),
            ]
        ),
        className="mb-3",
    )
    tokens_card = dbc.Card(
        dbc.CardBody(
            [
                html.H5(t("acc.tokens", lang), className="card-title"),
                html.P(t("acc.tokens_hint", lang), className="small text-muted"),
                dbc.Label(
                    t("acc.token_name", lang),
                    html_for=ids.ACC_TOKEN_NAME,
                    className="small mb-0",
                ),
                dbc.InputGroup(
                    [
                        dbc.Input(
                            id=ids.ACC_TOKEN_NAME,
                            maxLength=120,
                            autoComplete="off",
                            placeholder=t("acc.token_placeholder", lang),
                        ),
                        dbc.Button(
                            t("acc.create_token", lang),
                            id=ids.ACC_TOKEN_CREATE,
                            color="primary",
                        ),
                    ],
                    size="sm",
                    className="mb-2",
                    style={"maxWidth": "36rem"},
                ),
                html.Div(id=ids.ACC_MESSAGE),
                html.Div(tokens_table(tokens, lang), id=ids.ACC_TOKENS),
            ]
        ),
        className="mb-3",
    )
    return html.Div(
        dbc.Row(
            [dbc.Col(who, lg=5), dbc.Col(tokens_card, lg=7)],
            className="mt-3",
        )
    )
