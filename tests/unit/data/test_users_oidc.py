"""Accounts linked to an OpenID Connect subject, and the migration that adds the link."""

import pytest
from alembic import command
from sqlalchemy import inspect

from data import users
from data.store import Store, _alembic_config
from data.users import UserError

PW = "a-long-password"


@pytest.fixture
def store():
    store = Store("sqlite://")
    store.upgrade()
    return store


def test_a_subject_finds_its_user_and_only_it(store):
    users.create_user(store, "awa", PW, "viewer")  # a local account: no subject
    users.create_user(store, "kofi", PW, "viewer")
    linked = users.create_user(store, "awa-2", PW, "planner", oidc_subject="sub-1")

    assert users.oidc_sign_in(store, "sub-1") == linked
    assert users.oidc_sign_in(store, "sub-2") is None
    assert users.oidc_sign_in(store, "awa") is None  # names are not subjects
    last = users.list_users(store).set_index("username")["last_login_at"]
    assert last.notna()["awa-2"] and last.isna()["awa"]


def test_a_subject_links_one_user_only(store):
    users.create_user(store, "awa", PW, "viewer", oidc_subject="sub-1")

    with pytest.raises(UserError) as refused:
        users.create_user(store, "other", PW, "viewer", oidc_subject="sub-1")

    assert refused.value.code == "user_exists"
    assert list(users.list_users(store)["username"]) == ["awa"]


def test_a_disabled_linked_user_is_refused(store):
    users.create_user(store, "admin", PW, "admin")
    users.create_user(store, "awa", PW, "viewer", oidc_subject="sub-1")
    users.set_active(store, "awa", False)

    with pytest.raises(UserError, match="'awa' is disabled") as refused:
        users.oidc_sign_in(store, "sub-1")

    assert refused.value.code == "disabled"


def test_migration_0005_adds_the_link_to_existing_users_and_goes_back(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'old.sqlite'}")
    cfg = _alembic_config(store.engine)
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0004")
    assert store.revision() == "0004"
    with store.engine.begin() as conn:  # the model of 0004 has no oidc_subject
        conn.exec_driver_sql(
            "INSERT INTO users (username, full_name, role, password_hash, "
            "must_change_password, is_active, session_epoch, created_at) "
            "VALUES ('awa', '', 'planner', 'x', 0, 1, 0, '2026-01-01')"
        )

    store.upgrade()

    columns = {c["name"] for c in inspect(store.engine).get_columns("users")}
    assert "oidc_subject" in columns
    assert users.get_user(store, "awa").role == "planner"
    assert users.oidc_sign_in(store, "awa") is None
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0004")
    columns = {c["name"] for c in inspect(store.engine).get_columns("users")}
    assert "oidc_subject" not in columns
    assert users.count_users(store) == 1
