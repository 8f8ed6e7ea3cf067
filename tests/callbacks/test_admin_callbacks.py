"""User management, audit log and API tokens: the callbacks called directly."""

from __future__ import annotations

import base64
import csv
import io
import json

import pandas as pd
import pytest
from dash.exceptions import PreventUpdate

from callbacks import admin
from dashapp import ids, services
from dashapp.auth import AccessDeniedError
from data import users
from data.users import Principal, UserError
from tests.auth_helpers import PASSWORD, ensure_user

ADD = f"{ids.ADM_ADD}.n_clicks"


pytestmark = pytest.mark.writes_demo  # these tests change users


@pytest.fixture
def store(demo_app):
    return services.get_store(demo_app.server.config["DASHAPP"].database_url)


@pytest.fixture
def boss(store) -> Principal:
    return ensure_user(store, "admin")


def text_of(component) -> str:
    """Every string in a component tree, space-separated."""
    if component is None:
        return ""
    if isinstance(component, str | int | float):
        return str(component)
    if isinstance(component, list | tuple):
        return " ".join(text_of(c) for c in component)
    return text_of(getattr(component, "children", None))


def find(component, component_id):
    """The component with ``component_id`` in a tree, or None."""
    if isinstance(component, list | tuple):
        return next(
            (f for c in component if (f := find(c, component_id)) is not None), None
        )
    if getattr(component, "id", None) == component_id:
        return component
    children = getattr(component, "children", None)
    return None if children is None else find(children, component_id)


def trigger(component_id: dict, prop: str = "n_clicks") -> str:
    return json.dumps(component_id) + f".{prop}"


def row_action(call, user, kind: str, user_id: int, role=None, lang="fr"):
    """Click one row's button (kind: set-role, disable, enable, reset) as ``user``."""
    if kind == "set-role":
        button = ids.adm_set_role(user_id)
    elif kind == "reset":
        button = ids.adm_reset(user_id)
    else:
        button = ids.adm_toggle(user_id, kind)
    return call(
        admin.change_user,
        [1] if kind == "set-role" else [None],
        [1] if kind in ("disable", "enable") else [None],
        [1] if kind == "reset" else [None],
        [role],
        [ids.adm_role(user_id)],
        lang,
        trigger=trigger(button),
        user=user,
    )


def last_event(store) -> dict:
    return users.audit_events(store, 1).iloc[0].to_dict()


def test_add_user_shows_a_working_one_time_password_once(call, store, boss):
    message, table, changed, name, full_name = call(
        admin.add_user, 1, "awa.diop", "Awa Diop", "planner", "fr",
        trigger=ADD, user=boss,
    )  # fmt: skip
    password = find(message, ids.ADM_SECRET).children
    assert "Utilisateur awa.diop créé avec le rôle planificateur." in text_of(message)
    assert "Mot de passe à usage unique de awa.diop" in text_of(message)
    assert (name, full_name) == ("", "") and changed
    assert "Awa Diop" in text_of(table)
    user = users.authenticate(store, "awa.diop", password)
    assert user.role == "planner" and user.must_change_password
    # shown once: neither the page drawn again nor the audit log holds it
    page = call(admin.render_admin, None, "fr", None, user=boss)
    assert "awa.diop" in text_of(page) and password not in str(page)
    event = last_event(store)
    assert (event["username"], event["action"], event["target"]) == (
        boss.username, "user.create", "awa.diop",
    )  # fmt: skip
    assert json.loads(event["detail"]) == {"role": "planner"}
    assert password not in users.audit_events(store).to_string()


def test_refusals_are_alerts_in_the_users_language(call, store, boss):
    before = users.list_users(store)
    message, table, *_ = call(
        admin.add_user, 1, "x", "", "viewer", "fr", trigger=ADD, user=boss
    )
    assert "Nom d'utilisateur refusé" in text_of(message)
    assert message.color == "warning" and table is not None
    message, *_ = call(
        admin.add_user, 1, boss.username, "", "viewer", "en", trigger=ADD, user=boss
    )
    assert f"User {boss.username} exists already" in text_of(message)
    message, *_ = call(
        admin.add_user, 1, "new.one", "", "root", "en", trigger=ADD, user=boss
    )
    assert "Unknown role" in text_of(message)
    pd.testing.assert_frame_equal(users.list_users(store), before)
    with pytest.raises(PreventUpdate):
        call(admin.add_user, None, "a.b", "", "viewer", "fr", user=boss)


def test_role_change_disable_and_reset_end_sessions(call, store, boss):
    kofi = users.create_user(store, "kofi", PASSWORD, "viewer",
                             must_change_password=False)  # fmt: skip
    epoch = users.session_epoch(store, kofi.id)
    assert users.session_user(store, kofi.id, epoch) is not None

    message, table, _ = row_action(call, boss, "set-role", kofi.id, "analyst", "en")
    assert "kofi now has the role analyst" in text_of(message)
    assert users.get_user(store, "kofi").role == "analyst"
    assert users.session_user(store, kofi.id, epoch) is None
    event = last_event(store)
    assert (event["action"], event["target"]) == ("user.role", "kofi")
    assert json.loads(event["detail"]) == {"role": "analyst", "before": "viewer"}

    epoch = users.session_epoch(store, kofi.id)
    message, table, _ = row_action(call, boss, "disable", kofi.id)
    assert "kofi est désactivé" in text_of(message)
    assert find(table, ids.adm_toggle(kofi.id, "enable")) is not None
    assert users.session_user(store, kofi.id, epoch) is None
    with pytest.raises(UserError, match="wrong user name or password"):
        users.authenticate(store, "kofi", PASSWORD)
    assert last_event(store)["action"] == "user.disable"

    row_action(call, boss, "enable", kofi.id)
    assert last_event(store)["action"] == "user.enable"
    assert users.authenticate(store, "kofi", PASSWORD).username == "kofi"

    epoch = users.session_epoch(store, kofi.id)
    message, *_ = row_action(call, boss, "reset", kofi.id)
    password = find(message, ids.ADM_SECRET).children
    assert users.session_user(store, kofi.id, epoch) is None
    assert users.authenticate(store, "kofi", password).must_change_password
    assert last_event(store)["action"] == "user.reset_password"


def test_the_last_admin_stays_and_cannot_disable_themself(call, store, boss):
    for row in users.list_users(store).itertuples():
        if row.role == "admin" and row.username != boss.username:
            users.set_role(store, row.username, "planner")
    before = users.list_users(store)
    message, table, changed = row_action(call, boss, "set-role", boss.id, "viewer")
    assert "dernier administrateur actif" in text_of(message)
    assert table is not None and changed is not None  # no_update
    message, *_ = row_action(call, boss, "disable", boss.id, lang="en")
    assert "You cannot disable your own account" in text_of(message)
    pd.testing.assert_frame_equal(users.list_users(store), before)


def test_unknown_or_malformed_row_ids_are_refused(call, store, boss):
    message, *_ = row_action(call, boss, "reset", 987654, lang="en")
    assert "does not exist" in text_of(message)
    message, *_ = call(
        admin.change_user, [None], [None], [1], [None], [None], "fr",
        trigger=trigger({"type": "adm-reset", "index": "1; drop"}), user=boss,
    )  # fmt: skip
    assert "Identifiant de compte invalide" in text_of(message)
    with pytest.raises(PreventUpdate):  # rows drawn anew, nothing clicked
        call(admin.change_user, [None], [None], [None], [], [], "fr",
             trigger=trigger(ids.adm_reset(boss.id)), user=boss)  # fmt: skip


@pytest.mark.parametrize("role", ["viewer", "planner", "analyst"])
def test_other_roles_get_access_denied_and_nothing_changes(call, store, role):
    someone = ensure_user(store, role)
    victim = ensure_user(store, "viewer", "victim")
    before = users.list_users(store)
    events = len(users.audit_events(store, 100_000))
    attempts = [
        (admin.add_user, (1, "intruder", "", "admin", "fr")),
        (admin.change_user, ([1], [None], [None], ["admin"],
                             [ids.adm_role(someone.id)], "fr")),
        (admin.change_user, ([None], [1], [None], [None], [], "fr")),
        (admin.change_user, ([None], [None], [1], [None], [], "fr")),
        (admin.show_audit, (None, 1)),
        (admin.export_audit, (1,)),
    ]  # fmt: skip
    triggers = [ADD, trigger(ids.adm_set_role(someone.id)),
                trigger(ids.adm_toggle(victim.id, "disable")),
                trigger(ids.adm_reset(victim.id)), None, None]  # fmt: skip
    for (fn, args), fired in zip(attempts, triggers, strict=True):
        with pytest.raises(AccessDeniedError, match=r"users\.manage|audit\.read"):
            call(fn, *args, trigger=fired, user=someone)
        with pytest.raises(AccessDeniedError):
            call(fn, *args, trigger=fired, user=None)
    pd.testing.assert_frame_equal(users.list_users(store), before)
    assert len(users.audit_events(store, 100_000)) == events
    page = call(admin.render_admin, None, "fr", None, user=someone)
    assert page.id == "adm-refused" and "administrateur" in text_of(page)


def test_api_tokens_create_list_and_revoke(call, store):
    viewer = ensure_user(store, "viewer")
    message, table, name = call(
        admin.create_api_token, 1, "tableau régional", "fr",
        trigger=f"{ids.ACC_TOKEN_CREATE}.n_clicks", user=viewer,
    )  # fmt: skip
    secret = find(message, ids.ACC_SECRET).children
    assert users.token_user(store, secret).username == viewer.username
    assert "Jeton « tableau régional » créé" in text_of(message)
    example = (
        f'curl -H "Authorization: Bearer {secret}" http://localhost/api/v1/datasets'
    )
    assert example in text_of(message)
    assert "tableau régional" in text_of(table) and secret[:10] in text_of(table)
    assert secret not in text_of(table) and name == ""
    event = last_event(store)
    assert (event["username"], event["action"]) == (viewer.username, "token.create")
    assert secret not in users.audit_events(store).to_string()

    page = call(admin.render_account, None, "en", None, user=viewer)
    assert "viewer" in text_of(page) and "tableau régional" in text_of(page)
    assert find(page, "acc-password-link").href == "/account/password"
    assert secret not in str(page)

    token_id = int(users.list_tokens(store, viewer)["id"].max())
    message, table = call(
        admin.revoke_api_token, [1], "en",
        trigger=trigger(ids.acc_revoke(token_id)), user=viewer,
    )  # fmt: skip
    assert f"Token {token_id} revoked" in text_of(message)
    assert users.token_user(store, secret) is None
    assert find(table, ids.acc_revoke(token_id)) is None
    assert users.list_tokens(store, viewer)["revoked_at"].notna().all()
    assert last_event(store)["action"] == "token.revoke"


@pytest.mark.parametrize("revoker", ["viewer", "admin"])
def test_no_one_revokes_another_users_token_from_their_account(call, store, revoker):
    planner = ensure_user(store, "planner")
    token_id, secret = users.create_token(store, planner, "script")
    someone = ensure_user(store, revoker)
    message, table = call(
        admin.revoke_api_token, [1], "fr",
        trigger=trigger(ids.acc_revoke(token_id)), user=someone,
    )  # fmt: skip
    assert "n'est pas à vous" in text_of(message)
    assert users.token_user(store, secret).username == planner.username


def test_audit_log_on_screen_and_csv_export_neutralised(call, store, boss):
    users.audit(store, "=cmd|' /C calc'!A0", "token.create", "+33 1 23",
                {"name": "@SUM(1+1)"}, "-1")  # fmt: skip
    rows = call(admin.show_audit, None, 1, user=boss)
    assert rows[0]["username"] == "=cmd|' /C calc'!A0"
    assert rows[0]["detail"] == "nom : @SUM(1+1)"
    sent = call(admin.export_audit, 1, user=boss)
    assert sent["filename"].startswith("audit-") and sent["filename"].endswith(".csv")
    raw = base64.b64decode(sent["content"])
    assert raw.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert table[0] == ["Quand (UTC)", "Qui", "Action", "Sur", "Détails", "Adresse"]
    row = next(r for r in table if "calc" in r[1])
    assert row[1] == "'=cmd|' /C calc'!A0" and row[3] == "'+33 1 23"
    assert row[5] == "'-1"
    # the action and detail as the grid words them, never the stored codes
    assert row[2] == "création d'un jeton d'API" and row[4] == "nom : @SUM(1+1)"
    assert row[0] == rows[0]["at"]
    assert not any(cell[:1] in "=+-@\t\r" and cell for r in table for cell in r)
    english = base64.b64decode(call(admin.export_audit, 1, "en", user=boss)["content"])
    table = list(csv.reader(io.StringIO(english.decode("utf-8-sig"))))
    assert table[0] == ["When (UTC)", "Who", "Action", "Target", "Details", "Address"]
    row = next(r for r in table if "calc" in r[1])
    assert row[2] == "API token created"
    assert table[1][2] == "audit log export"  # the French export, newest first
    event = last_event(store)
    assert (event["action"], event["username"]) == ("audit.export", boss.username)


def test_audit_details_are_worded_in_the_language(call, store, boss):
    """Keys, roles and yes/no in words, lists joined, names as recorded."""
    users.audit(store, "boss", "user.role", "awa", {"role": "admin", "before": "viewer"})
    users.audit(store, "cli", "dataset.import", "3",
                {"name": "Pays", "activated": True, "files": ["a.geojson", "r.gpkg"]})  # fmt: skip
    users.audit(store, "x", "roads.profile", "3", {"offroad_cap_km": 4.5, "odd": None})
    fr = call(admin.show_audit, None, 1, "fr", user=boss)
    en = call(admin.show_audit, None, 1, "en", user=boss)
    assert fr[0]["detail"] == "marche hors route max. (km) : 4,5 ; odd : n.d."
    assert fr[0]["action"] == "vitesses du réseau routier modifiées"
    assert fr[1]["detail"] == "nom : Pays ; affiché : oui ; fichiers : a.geojson, r.gpkg"
    assert fr[2]["detail"] == "rôle : administrateur ; avant : lecteur"
    assert en[1]["detail"] == "name: Pays; shown: yes; files: a.geojson, r.gpkg"
    assert en[2]["detail"] == "role: admin; before: viewer"
