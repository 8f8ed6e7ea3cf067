"""Users, rights, sign-in throttling, API tokens, audit; scenario owners and soft delete."""

import datetime as dt

import pytest
from sqlalchemy import update

from data import users
from data.scenarios import (
    ScenarioStoreError,
    delete_scenario,
    get_scenario,
    list_scenarios,
    purge_deleted,
    restore_scenario,
    save_scenario,
    share_nonce,
    shared_scenario,
)
from data.schema import LoginAttempt, Scenario
from data.store import Store
from data.users import Principal, UserError
from geo.access import nearest_center
from tests.tiny import tiny_bundle

PW = "a-long-password"


@pytest.fixture
def store(store_url):
    store = Store(store_url)
    store.upgrade()
    return store


def test_rights_grow_with_the_role_and_unknown_rights_are_refused():
    for right, least in users.RIGHTS.items():
        for role in users.ROLES:
            expected = users.ROLES.index(role) >= users.ROLES.index(least)
            assert users.allowed(role, right) is expected, (role, right)
    assert not users.allowed("admin", "no.such.right")
    assert not users.allowed("root", "view")
    assert users.allowed("viewer", "view") and not users.allowed("viewer", "import")
    assert not users.allowed("analyst", "import")


def test_create_and_authenticate_with_a_hashed_password(store):
    user = users.create_user(store, "awa", PW, "planner", full_name="Awa D.")
    assert user.must_change_password
    row = store.read_frame("SELECT password_hash FROM users WHERE username = 'awa'")
    assert PW not in row["password_hash"].iloc[0]
    assert users.authenticate(store, "awa", PW).role == "planner"
    with pytest.raises(UserError, match="wrong user name or password"):
        users.authenticate(store, "awa", "wrong-password")
    with pytest.raises(UserError, match="wrong user name or password"):
        users.authenticate(store, "nobody", PW)


@pytest.mark.parametrize(
    "name", ["", "a", "../admin", "x" * 65, "a b", "'; DROP TABLE users; --", None, 3]
)
def test_bad_user_names_are_refused(store, name):
    with pytest.raises(UserError) as info:
        users.create_user(store, name, PW, "viewer")
    assert info.value.code == "bad_username"
    assert users.count_users(store) == 0


def test_weak_passwords_unknown_roles_and_duplicates_are_refused(store):
    with pytest.raises(UserError, match="10 to 256"):
        users.create_user(store, "awa", "short", "viewer")
    with pytest.raises(UserError, match="role should be one of"):
        users.create_user(store, "awa", PW, "superuser")
    users.create_user(store, "awa", PW, "viewer")
    with pytest.raises(UserError, match="exists already"):
        users.create_user(store, "awa", PW, "viewer")


def test_failed_sign_ins_lock_the_name_even_with_the_right_password(store):
    users.create_user(store, "awa", PW, "viewer")
    for _ in range(users.MAX_FAILURES):
        with pytest.raises(UserError, match="wrong"):
            users.authenticate(store, "awa", "guess-guess", "10.0.0.1")
    with pytest.raises(UserError) as info:
        users.authenticate(store, "awa", PW, "10.0.0.2")
    assert info.value.code == "locked"
    # once the window has passed, the right password works again
    with store.engine.begin() as conn:
        conn.execute(
            update(LoginAttempt).values(
                at=dt.datetime(2000, 1, 1)  # long ago
            )
        )
    assert users.authenticate(store, "awa", PW).username == "awa"


def test_role_change_password_reset_and_disable_end_sessions(store):
    user = users.create_user(store, "awa", PW, "planner")
    users.create_user(store, "root", PW, "admin")
    epoch = users.session_epoch(store, user.id)
    assert users.session_user(store, user.id, epoch) == user
    users.set_role(store, "awa", "analyst")
    assert users.session_user(store, user.id, epoch) is None
    epoch = users.session_epoch(store, user.id)
    assert users.session_user(store, user.id, epoch).role == "analyst"
    users.set_password(store, "awa", "another-password")
    assert users.session_user(store, user.id, epoch) is None
    epoch = users.session_epoch(store, user.id)
    users.set_active(store, "awa", False)
    assert (
        users.session_user(store, user.id, users.session_epoch(store, user.id)) is None
    )
    with pytest.raises(UserError):
        users.authenticate(store, "awa", "another-password")
    # forged session values are refused, never an error
    for uid, ep in [(None, 0), ("1", 0), (True, 0), (2**70, 0), (1, "0"), (1, None)]:
        assert users.session_user(store, uid, ep) is None


def test_the_last_admin_can_neither_lose_the_role_nor_be_disabled(store):
    users.create_user(store, "root", PW, "admin")
    with pytest.raises(UserError, match="last active admin"):
        users.set_role(store, "root", "viewer")
    with pytest.raises(UserError, match="last active admin"):
        users.set_active(store, "root", False)
    users.create_user(store, "root2", PW, "admin")
    users.set_role(store, "root", "viewer")
    assert users.get_user(store, "root").role == "viewer"


def test_api_tokens_are_hashed_revocable_and_die_with_their_user(store):
    users.create_user(store, "root", PW, "admin")
    awa = users.create_user(store, "awa", PW, "viewer")
    bob = users.create_user(store, "bob", PW, "viewer")
    token_id, secret = users.create_token(store, awa, "script")
    assert secret.startswith(users.TOKEN_PREFIX)
    stored = store.read_frame("SELECT token_hash, prefix FROM api_tokens")
    assert secret not in stored["token_hash"].iloc[0]
    assert users.token_user(store, secret).username == "awa"
    for forged in ["", "rcs_", secret + "x", secret[:-1], None, 42, "x" * 1000]:
        assert users.token_user(store, forged) is None
    with pytest.raises(UserError, match="no active token"):
        users.revoke_token(store, bob, token_id)  # not bob's
    assert users.token_user(store, secret) is not None
    users.revoke_token(store, awa, token_id)
    assert users.token_user(store, secret) is None
    _, second = users.create_token(store, awa, "other")
    users.set_active(store, "awa", False)
    assert users.token_user(store, second) is None
    listed = users.list_tokens(store, awa)
    assert list(listed["name"]) == ["script", "other"]
    assert "token_hash" not in listed.columns


def test_audit_events_are_kept_newest_first(store):
    users.audit(store, "system", "user.create", "awa", {"role": "viewer"})
    users.audit(
        store, Principal(1, "root", "admin"), "dataset.activate", 3, {}, "1.2.3.4"
    )
    events = users.audit_events(store)
    assert list(events["action"]) == ["dataset.activate", "user.create"]
    assert events["address"].iloc[0] == "1.2.3.4"
    assert '"role": "viewer"' in events["detail"].iloc[1]


def test_only_owners_and_admins_manage_a_scenario():
    owner = Principal(2, "awa", "planner")
    assert users.may_manage(owner, 2)
    assert not users.may_manage(owner, 3)
    assert not users.may_manage(owner, None)  # saved before sign-in: admins only
    assert not users.may_manage(Principal(2, "awa", "viewer"), 2)
    assert users.may_manage(Principal(9, "root", "admin"), 3)
    assert users.may_manage(Principal(9, "root", "admin"), None)
    assert not users.may_manage(None, 2)


def test_deleted_scenarios_hide_restore_and_give_their_name_back(store):
    ds = store.add_dataset(tiny_bundle(), access=nearest_center).id
    rec = save_scenario(store, ds, "Plan", {}, owner_id=7)
    assert get_scenario(store, rec.id).owner_id == 7
    delete_scenario(store, rec.id)
    assert "Plan" not in list(list_scenarios(store)["name"])
    assert list(list_scenarios(store, deleted=True)["name"]) == ["Plan"]
    with pytest.raises(ScenarioStoreError):
        get_scenario(store, rec.id)
    assert restore_scenario(store, rec.id).name == "Plan"
    assert "Plan" in list(list_scenarios(store)["name"])
    # a new save may take a deleted name; the deleted one stays (restorable) until
    # it is purged, long after
    delete_scenario(store, rec.id)
    again = save_scenario(store, ds, "Plan", {"x": 1})
    assert get_scenario(store, again.id).params == {"x": 1}
    assert list(list_scenarios(store, deleted=True)["id"]) == [rec.id]
    delete_scenario(store, again.id)
    with store.engine.begin() as conn:
        conn.execute(update(Scenario).values(deleted_at=dt.datetime(2000, 1, 1)))
    assert purge_deleted(store) == 2
    assert len(list_scenarios(store, deleted=True)) == 0


def test_share_nonces_revoke_older_links_and_die_with_the_scenario(store):
    ds = store.add_dataset(tiny_bundle(), access=nearest_center).id
    rec = save_scenario(store, ds, "Plan", {})
    first = share_nonce(store, rec.id)
    assert share_nonce(store, rec.id) == first
    assert shared_scenario(store, rec.id, first).id == rec.id
    second = share_nonce(store, rec.id, renew=True)
    with pytest.raises(ScenarioStoreError):
        shared_scenario(store, rec.id, first)
    assert shared_scenario(store, rec.id, second).id == rec.id
    delete_scenario(store, rec.id)
    with pytest.raises(ScenarioStoreError):
        shared_scenario(store, rec.id, second)


def test_migration_0004_keeps_saved_scenarios_of_a_store_at_0003(store_url):
    from alembic import command
    from sqlalchemy import inspect, text

    from data.store import _alembic_config

    store = Store(store_url)
    cfg = _alembic_config(store.engine)
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0003")
    assert "users" not in inspect(store.engine).get_table_names()
    with store.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO datasets (id, name, kind, version, description, "
                "created_at, is_active) VALUES (1, 'x', 'imported', 'v1', '', "
                ":day, :no)"
            ),
            {"day": dt.datetime(2026, 1, 1), "no": False},
        )
        conn.execute(
            text(
                "INSERT INTO scenarios (id, dataset_id, dataset_version, name, "
                "author, params_json, status, created_at, updated_at) VALUES "
                "(5, 1, 'v1', 'Ancien', 'Awa', '{}', 'draft', :day, :day)"
            ),
            {"day": dt.datetime(2026, 1, 1)},
        )

    store.upgrade()

    assert store.revision() == store.head_revision()
    assert {"users", "api_tokens", "audit_events", "login_attempts"} <= set(
        inspect(store.engine).get_table_names()
    )
    old = get_scenario(store, 5)
    assert (old.name, old.author, old.owner_id, old.deleted_at) == (
        "Ancien",
        "Awa",
        None,
        None,
    )


@pytest.mark.parametrize(
    ("name", "password"),
    [("nobody", PW), ("", PW), ("nobody", None), ("nobody", "x" * 300),
     ("awa", PW + "-wrong")],
)  # fmt: skip
def test_a_missing_user_costs_the_same_hash_check_as_a_wrong_password(
    store, monkeypatch, name, password
):
    """Sign-in timing told which user names exist: scrypt ran only for them
    (104 ms against 8-15 ms). Each refusal now checks one hash of the same kind."""
    users.create_user(store, "awa", PW, "viewer")
    real = store.read_frame("SELECT password_hash FROM users")["password_hash"].iloc[0]
    checked, check = [], users.check_password_hash

    def spy(stored, given):
        checked.append(stored)
        return check(stored, given)

    monkeypatch.setattr(users, "check_password_hash", spy)
    with pytest.raises(UserError, match="wrong user name or password"):
        users.authenticate(store, name, password)
    assert len(checked) == 1
    # same method and parameters (scrypt:n:r:p), so the same work
    assert checked[0].split("$")[0] == real.split("$")[0]


def test_signing_out_ends_every_session_of_the_user_only(store):
    awa = users.create_user(store, "awa", PW, "planner")
    kofi = users.create_user(store, "kofi", PW, "viewer")
    before = {u.id: users.session_epoch(store, u.id) for u in (awa, kofi)}
    users.end_sessions(store, awa.id)
    assert users.session_user(store, awa.id, before[awa.id]) is None
    assert users.session_user(store, awa.id, users.session_epoch(store, awa.id)) == awa
    assert users.session_user(store, kofi.id, before[kofi.id]) == kofi
