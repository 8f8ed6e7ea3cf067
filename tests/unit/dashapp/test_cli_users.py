"""``python -m dashapp users ...`` run as a real command on one data folder."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from dashapp.config import PROJECT_ROOT
from data import users
from data.store import Store
from data.users import UserError


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """One data folder for the module: the first command prepares the store."""
    return tmp_path_factory.mktemp("cli-users")


def cli(data_dir, *args: str, stdin: str | None = None):
    env = {**os.environ, "DASHAPP_DATA_DIR": str(data_dir)}
    env.pop("DASHAPP_DATABASE_URL", None)
    env.pop("DASHAPP_ADMIN_PASSWORD", None)
    return subprocess.run(
        [sys.executable, "-m", "dashapp", "users", *args],
        env=env,
        cwd=PROJECT_ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.fixture(scope="module")
def first_run(data_dir):
    """``users list`` on the empty folder (demo country and first admin created)."""
    return cli(data_dir, "list")


@pytest.fixture
def store(data_dir, first_run):
    store = Store(f"sqlite:///{data_dir / 'dashapp.sqlite'}")
    yield store
    store.engine.dispose()


def one_time_password(stdout: str, username: str) -> str:
    return re.search(rf"one-time password of {re.escape(username)}: (\S+)", stdout)[1]


def last_event(store) -> dict:
    return users.audit_events(store, 1).iloc[0].to_dict()


def assert_refused(result, message: str) -> None:
    assert result.returncode == 2, result
    assert result.stderr.strip().splitlines() == [f"error: {message}"]


def test_first_run_creates_the_first_admin_and_lists_users(first_run):
    assert first_run.returncode == 0, first_run.stderr
    assert "user name: admin" in first_run.stdout
    header, row = first_run.stdout.strip().splitlines()[-2:]
    assert header.split()[:3] == ["user", "full", "name"]
    assert "last sign-in (UTC)" in header
    assert row.split()[:4] == ["admin", "Administrator", "admin", "yes"]


def test_add_prints_a_one_time_password_that_works(data_dir, store):
    result = cli(data_dir, "add", "awa.diop", "--role", "planner",
                 "--full-name", "Awa Diop")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "user awa.diop created with the role planner" in result.stdout
    password = one_time_password(result.stdout, "awa.diop")
    user = users.authenticate(store, "awa.diop", password)
    assert user.role == "planner" and user.full_name == "Awa Diop"
    assert user.must_change_password
    event = last_event(store)
    assert (event["username"], event["action"], event["target"]) == (
        "cli", "user.create", "awa.diop",
    )  # fmt: skip
    listing = cli(data_dir, "list").stdout
    assert re.search(r"awa\.diop\s+Awa Diop\s+planner\s+yes\s+yes", listing)
    assert password not in listing


def test_add_with_password_from_stdin_prints_no_password(data_dir, store):
    secret = "a long chosen passphrase"
    result = cli(data_dir, "add", "moussa", "--password-stdin", stdin=secret + "\n")
    assert result.returncode == 0, result.stderr
    assert "password" not in result.stdout and secret not in result.stdout
    user = users.authenticate(store, "moussa", secret)
    assert user.role == "viewer" and user.must_change_password


def test_set_role_disable_enable_and_reset_password(data_dir, store):
    users.create_user(store, "fatou", "first-password-1", "viewer",
                      must_change_password=False)  # fmt: skip
    uid = users.get_user(store, "fatou").id
    epoch = users.session_epoch(store, uid)
    result = cli(data_dir, "set-role", "fatou", "analyst")
    assert result.returncode == 0 and "now has the role analyst" in result.stdout
    assert users.get_user(store, "fatou").role == "analyst"
    assert users.session_user(store, uid, epoch) is None
    assert last_event(store)["detail"] == '{"role": "analyst", "before": "viewer"}'

    assert cli(data_dir, "disable", "fatou").returncode == 0
    assert last_event(store)["action"] == "user.disable"
    with pytest.raises(UserError, match="wrong user name or password"):
        users.authenticate(store, "fatou", "first-password-1")
    assert cli(data_dir, "enable", "fatou").returncode == 0
    assert last_event(store)["action"] == "user.enable"
    users.authenticate(store, "fatou", "first-password-1")

    result = cli(data_dir, "reset-password", "fatou")
    assert result.returncode == 0, result.stderr
    password = one_time_password(result.stdout, "fatou")
    assert users.authenticate(store, "fatou", password).must_change_password
    assert last_event(store)["action"] == "user.reset_password"


def test_tokens_create_list_and_revoke(data_dir, store):
    users.create_user(store, "script-owner", "first-password-1", "viewer")
    result = cli(data_dir, "token-create", "script-owner", "--name", "nightly")
    assert result.returncode == 0, result.stderr
    found = re.search(r"token (\d+) 'nightly'.*\n(rcs_\S+)", result.stdout)
    token_id, secret = found.groups()
    assert 'curl -H "Authorization: Bearer rcs_' in result.stdout
    assert users.token_user(store, secret).username == "script-owner"
    assert last_event(store)["action"] == "token.create"
    listing = cli(data_dir, "list", "--tokens").stdout
    assert "nightly" in listing and secret[:10] in listing and secret not in listing
    # an admin's name does not reach someone else's token
    assert_refused(
        cli(data_dir, "token-revoke", "admin", token_id),
        f"admin has no token {token_id}",
    )
    assert users.token_user(store, secret) is not None
    result = cli(data_dir, "token-revoke", "script-owner", token_id)
    assert result.returncode == 0, result.stderr
    assert users.token_user(store, secret) is None
    event = last_event(store)
    assert (event["username"], event["action"]) == ("cli", "token.revoke")


@pytest.mark.slow
def test_refusals_are_one_line_on_stderr_with_exit_code_2(data_dir, store):
    before = users.list_users(store)
    assert_refused(cli(data_dir, "add", "admin"), "user 'admin' exists already")
    assert_refused(cli(data_dir, "disable", "nobody"), "no user named 'nobody'")
    assert_refused(
        cli(data_dir, "set-role", "admin", "viewer"),
        "'admin' is the last active admin: give another user the admin role first",
    )
    assert_refused(
        cli(data_dir, "add", "shorty", "--password-stdin", stdin="short\n"),
        "a password has 10 to 256 characters",
    )
    result = cli(data_dir, "add", "bad name")
    assert result.returncode == 2 and result.stderr.startswith("error: a user name")
    assert users.list_users(store).equals(before)
