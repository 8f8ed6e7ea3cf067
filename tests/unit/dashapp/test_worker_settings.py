"""Settings of the Celery workers: what a job carries, and the start refused with one
line for each setting a worker cannot run with."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dashapp.config import PROJECT_ROOT, Config
from dashapp.health import ConfigError, check_worker_start
from dashapp.workers import job_context
from data.store import Store
from tests.integration.test_production import clean_env
from tests.postgres import free_port

KEY = "s" * 40


def test_a_job_carries_no_credential_of_the_request():
    context = {
        "cookies": {"dashapp_session": "secret", "dashapp_lang": "en", "other": "x"},
        "headers": {"Cookie": "dashapp_session=secret", "Authorization": "Bearer rcs_x",
                    "Accept-Language": "en", "User-Agent": "UA", "X-Request-Id": "r1"},
        "custom_data": {"auth": {"id": 1}},
        "remote": "10.0.0.5",
    }  # fmt: skip
    kept = job_context(context)
    assert kept["cookies"] == {"dashapp_lang": "en"}
    assert kept["headers"] == {"Accept-Language": "en", "User-Agent": "UA"}
    assert kept["custom_data"] == {"auth": {"id": 1}} and kept["remote"] == "10.0.0.5"
    assert context["cookies"]["dashapp_session"] == "secret"  # the request's untouched


def test_the_worker_settings_have_defaults_and_bounds():
    config = Config.from_env(
        {"DASHAPP_WORKER_CONCURRENCY": "3", "DASHAPP_JOB_LEASE_S": "5",
         "DASHAPP_SHARED_DIR": "/srv/x", "DASHAPP_REDIS_URL": "redis://h/0"}
    )  # fmt: skip
    assert (config.worker_concurrency, config.job_lease_s) == (3, 5)
    assert str(config.shared_root) == "/srv/x" and config.redis_url == "redis://h/0"
    assert "redis://" not in repr(config)  # it may hold a password
    assert Config(data_dir="/d").shared_root.as_posix() == "/d"
    with pytest.raises(ValueError, match="DASHAPP_JOB_LEASE_S should be a whole"):
        Config.from_env({"DASHAPP_JOB_LEASE_S": "soon"})
    with pytest.raises(ValueError, match="job_lease_s should be in 2..3600"):
        Config(job_lease_s=1)


def test_the_limits_of_jobs_at_once_have_defaults_and_bounds(monkeypatch):
    config = Config.from_env({"DASHAPP_MAX_JOBS": "5", "DASHAPP_MAX_USER_JOBS": "2"})
    assert (config.job_limit, config.max_user_jobs) == (5, 2)
    monkeypatch.setattr("os.sched_getaffinity", lambda _pid: {0, 1, 2, 3}, raising=False)
    assert Config().job_limit == 16 and Config().max_user_jobs == 3  # 4 per core
    monkeypatch.setattr("os.sched_getaffinity", lambda _pid: {0}, raising=False)
    assert Config().job_limit == 8  # at least 8
    with pytest.raises(ValueError, match="DASHAPP_MAX_USER_JOBS should be a whole"):
        Config.from_env({"DASHAPP_MAX_USER_JOBS": "many"})
    with pytest.raises(ValueError, match="max_user_jobs should be in 1..1024"):
        Config(max_user_jobs=0)
    with pytest.raises(ValueError, match="max_jobs should be in 0..1024"):
        Config(max_jobs=-1)


def test_a_jobs_owner_is_the_signed_in_user_else_the_address():
    from dashapp.job_context import job_owner

    user = {"id": 7, "username": "ann", "role": "planner"}
    assert job_owner({"custom_data": {"auth": user}}) == "user:7"
    assert job_owner({"custom_data": {"auth": {**user, "id": None}}}) == "user:ann"
    assert job_owner({"custom_data": {"auth": None}, "remote": "10.0.0.5"}) == "addr:10.0.0.5"
    assert job_owner({"custom_data": {"auth": "forged"}}) == "addr:-"
    assert job_owner(None) == "addr:-"


def test_a_worker_refuses_bad_settings_with_one_line(tmp_path, redis_server):
    store = Store(f"sqlite:///{tmp_path / 'dashapp.sqlite'}")
    base = Config(data_dir=tmp_path, secret_key=KEY, redis_url=redis_server.url(3))
    with pytest.raises(ConfigError, match="a worker needs DASHAPP_REDIS_URL"):
        check_worker_start(base.with_(redis_url=""))
    closed = f"redis://127.0.0.1:{free_port()}/0"
    with pytest.raises(ConfigError, match=r"cannot reach Redis at .* \(DASHAPP_REDIS_URL\)"):
        check_worker_start(base.with_(redis_url=closed))
    with pytest.raises(ConfigError, match="is at schema revision none, this code needs"):
        check_worker_start(base)  # never migrated: the web server comes first
    store.upgrade()
    store.engine.dispose()
    with pytest.raises(ConfigError, match="a worker needs DASHAPP_SECRET_KEY"):
        check_worker_start(base.with_(secret_key=""))
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ConfigError, match="cannot write in the shared folder"):
        check_worker_start(base.with_(shared_dir=blocker / "shared"))
    check_worker_start(base)


def test_the_worker_command_says_what_is_missing_and_exits_2(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "dashapp", "worker"],
        env=clean_env(DASHAPP_DATA_DIR=str(tmp_path), DASHAPP_SECRET_KEY=KEY),
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines == [
        "error: a worker needs DASHAPP_REDIS_URL, the Redis server the web servers "
        "send their jobs to (redis://[:password@]host:6379/0)"
    ]


def test_a_job_moves_to_a_nicer_session_of_its_own(tmp_path, monkeypatch):
    from dashapp import workers

    switch, group = tmp_path / "switch", tmp_path / "autogroup"
    switch.write_text("1\n")
    group.write_text("/autogroup-7 nice 0\n")
    calls = []
    monkeypatch.setattr(workers, "AUTOGROUP_SWITCH", str(switch))
    monkeypatch.setattr(workers, "AUTOGROUP_SELF", str(group))
    monkeypatch.setattr(workers.os, "setsid", lambda: calls.append("setsid"))
    assert workers.own_nicer_session(10) is True
    assert calls == ["setsid"] and group.read_text() == "10"
    # a process leading its session already (setsid would fail) keeps it
    monkeypatch.setattr(workers.os, "getsid", lambda _pid: 4242)
    monkeypatch.setattr(workers.os, "getpid", lambda: 4242)
    group.write_text("/autogroup-7 nice 0\n")
    assert workers.own_nicer_session(10) is True
    assert calls == ["setsid"] and group.read_text() == "10"
    # autogroups switched off, or absent from the kernel: the session stays
    group.write_text("/autogroup-7 nice 0\n")
    switch.write_text("0\n")
    assert workers.own_nicer_session(10) is False
    monkeypatch.setattr(workers, "AUTOGROUP_SWITCH", str(tmp_path / "absent"))
    assert workers.own_nicer_session(10) is False
    assert calls == ["setsid"] and group.read_text() == "/autogroup-7 nice 0\n"


def test_the_kernel_puts_a_job_in_a_nicer_session_of_its_own():
    """For real: a child process leaves its parent's session for a nicer one."""
    from dashapp import workers

    switch, own = Path(workers.AUTOGROUP_SWITCH), Path("/proc/self/autogroup")
    if not switch.exists() or switch.read_text().strip() != "1":
        pytest.skip("this kernel schedules without autogroups")
    mine = own.read_text()
    code = (
        "import os; from dashapp.workers import own_nicer_session; "
        "print(own_nicer_session(7), os.getsid(0) == os.getpid()); "
        "print(open('/proc/self/autogroup').read())"
    )
    for leader in (False, True):  # a pool process, or a session leader already
        done = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT,
                              capture_output=True, text=True, timeout=120,
                              start_new_session=leader)  # fmt: skip
        assert done.returncode == 0, done.stderr
        lines = done.stdout.splitlines()
        assert lines[0] == "True True" and lines[1].endswith(" nice 7"), done.stdout
        assert lines[1] != mine.strip()  # another group than the test's
    assert own.read_text() == mine  # the test's untouched


def test_a_job_runs_under_the_idle_policy_and_keeps_it_for_its_threads():
    """For real: a child process moves itself to SCHED_IDLE, without privilege,
    and a thread it starts afterwards (a solver's) is under it too."""
    if not hasattr(os, "SCHED_IDLE"):
        pytest.skip("no SCHED_IDLE on this system")
    before = os.sched_getscheduler(0)
    code = (
        "import os, threading; from dashapp.workers import idle_scheduling; "
        "done = idle_scheduling(); seen = []; "
        "t = threading.Thread(target=lambda: seen.append("
        "os.sched_getscheduler(0) == os.SCHED_IDLE)); t.start(); t.join(); "
        "print(done, os.sched_getscheduler(0) == os.SCHED_IDLE, seen[0])"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True", "True"], done.stdout
    assert os.sched_getscheduler(0) == before  # the test's own policy untouched


def test_idle_scheduling_refused_or_missing_leaves_the_job_as_it_was(monkeypatch):
    from dashapp import workers

    def refuse(*_):
        raise PermissionError("not allowed")

    monkeypatch.setattr(workers.os, "sched_setscheduler", refuse)
    assert workers.idle_scheduling() is False
    monkeypatch.delattr(workers.os, "sched_setscheduler")
    assert workers.idle_scheduling() is False


def test_the_job_priority_is_a_setting_checked_at_start():
    assert Config().job_priority == "idle"
    assert Config.from_env({"DASHAPP_JOB_PRIORITY": " Normal "}).job_priority == "normal"
    with pytest.raises(ValueError, match="DASHAPP_JOB_PRIORITY should be one of idle, "
                       "low, normal, got 'fast'"):  # fmt: skip
        Config.from_env({"DASHAPP_JOB_PRIORITY": "fast"})


@pytest.mark.parametrize(
    ("priority", "steps", "idle"),
    [("normal", [], False), ("low", ["nice"], False), ("idle", ["nice"], True)],
)
def test_each_job_priority_lowers_a_job_as_far_as_it_says(priority, steps, idle):
    """For real, in a child process: its nice value and scheduling policy."""
    if not hasattr(os, "SCHED_IDLE"):
        pytest.skip("no SCHED_IDLE on this system")
    code = (
        "import os; from dashapp.workers import lower_job_priority; "
        "before = os.nice(0); "
        f"done = lower_job_priority({priority!r}); "
        "print(' '.join(done) or '-'); print(os.nice(0) - before); "
        "print(os.sched_getscheduler(0) == os.SCHED_IDLE)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    took, niced, under_idle = done.stdout.splitlines()
    for step in steps:
        assert step in took.split()
    assert ("idle" in took.split()) == idle and under_idle == str(idle)
    assert int(niced) == (0 if priority == "normal" else 10)
    if priority == "normal":
        assert took == "-"
