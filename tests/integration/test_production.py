"""The production server started for real: gunicorn with two workers on a fresh
data folder (SQLite) or a fresh PostgreSQL database, on a free loopback port; then
sign-in, pages, request logs, and a SIGTERM that must end it cleanly. And the
start refused, with one line and exit code 2, for each bad setting."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from dashapp.config import PROJECT_ROOT
from data.store import Store
from tests.auth_helpers import PASSWORD, csrf_of, ensure_user
from tests.postgres import free_port

START_TIMEOUT_S = 300  # a fresh store generates the demo country first
STOP_TIMEOUT_S = 60


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without the app's settings, plus ``extra``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DASHAPP_", "CACHE_")) and k not in ("HOST", "PORT")
    }
    return env | extra


@dataclass
class Server:
    proc: subprocess.Popen
    url: str
    folder: Path

    def stderr(self) -> str:
        return (self.folder / "stderr.log").read_text(errors="replace")

    def stdout(self) -> str:
        return (self.folder / "stdout.log").read_text(errors="replace")

    def wait_healthy(self) -> dict:
        """Poll /healthz until it answers 200 (fail at once if the server died)."""
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if self.proc.poll() is not None:
                pytest.fail(
                    f"server exited with {self.proc.returncode}:\n{self.stderr()[-4000:]}"
                )
            with contextlib.suppress(requests.ConnectionError, requests.Timeout):
                answer = requests.get(f"{self.url}/healthz", timeout=10)
                if answer.status_code == 200:
                    return answer.json()
            if time.monotonic() > deadline:
                pytest.fail(f"no healthy answer in {START_TIMEOUT_S} s:\n"
                            f"{self.stderr()[-4000:]}")  # fmt: skip
            time.sleep(0.25)

    def terminate(self) -> int:
        """SIGTERM to gunicorn's master, as systemd or Docker stop it; its exit code."""
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(STOP_TIMEOUT_S)


@contextlib.contextmanager
def running(command: list[str], env: dict[str, str], folder: Path, port: int):
    """Start ``command``; at the end kill whatever of it a failed test left."""
    folder.mkdir(parents=True, exist_ok=True)
    with (
        open(folder / "stdout.log", "wb") as out,
        open(folder / "stderr.log", "wb") as err,
    ):
        proc = subprocess.Popen(
            command,
            env=env,
            cwd=PROJECT_ROOT,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: workers die with it
        )
    try:
        yield Server(proc, f"http://127.0.0.1:{port}", folder)
    finally:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(30)


def sign_in(base: str, username: str) -> requests.Session:
    session = requests.Session()
    form = session.get(f"{base}/login", timeout=30)
    assert form.status_code == 200
    done = session.post(
        f"{base}/login",
        data={"username": username, "password": PASSWORD, "csrf": csrf_of(form.text)},
        allow_redirects=False,
        timeout=30,
    )
    assert done.status_code == 302, done.text[:500]
    return session


def json_lines(text: str) -> list[dict]:
    """The app's log lines (gunicorn's own lines are plain text)."""
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def check_serves_a_signed_in_user(server: Server, url: str) -> None:
    """Health, sign-in, a page, the layout and the API, each with a request id,
    and the page's JSON log line."""
    health = server.wait_healthy()
    assert health["status"] == "ok"
    assert {c["status"] for c in health["checks"].values()} == {"ok"}
    store = Store(url)
    try:
        assert store.revision() == store.head_revision()
        assert [d.kind for d in store.datasets()] == ["synthetic"]  # one demo, once
        admins = store.read_frame("SELECT username FROM users")["username"].tolist()
        assert admins == ["admin"]
        user = ensure_user(store, "planner")
    finally:
        store.engine.dispose()
    session = sign_in(server.url, user.username)
    page = session.get(f"{server.url}/", timeout=60)
    assert page.status_code == 200 and "_dash-config" in page.text
    layout = session.get(f"{server.url}/_dash-layout", timeout=60)
    assert layout.status_code == 200 and layout.json()["props"]
    datasets = session.get(f"{server.url}/api/v1/datasets", timeout=60)
    assert datasets.status_code == 200 and datasets.json()[0]["active"]
    rid = page.headers["X-Request-ID"]
    with ThreadPoolExecutor(8) as pool:  # enough at once for both workers
        answers = list(
            pool.map(
                lambda _: requests.get(f"{server.url}/healthz", timeout=60), range(16)
            )
        )
    assert {a.status_code for a in answers} == {200}
    assert len({a.headers["X-Request-ID"] for a in answers}) == 16
    deadline = time.monotonic() + 10
    while rid not in server.stderr() and time.monotonic() < deadline:
        time.sleep(0.1)  # the line is written as the response leaves
    line = next(e for e in json_lines(server.stderr()) if e.get("request_id") == rid)
    assert (line["method"], line["path"], line["status"], line["user"]) == (
        "GET",
        "/",
        200,
        user.username,
    )
    assert line["duration_ms"] >= 0 and line["logger"] == "dashapp.request"


def check_stops_cleanly(server: Server, port: int) -> None:
    code = server.terminate()
    log = server.stderr()
    assert code == 0, log[-4000:]
    assert "Traceback" not in log and "Worker failed to boot" not in log, log[-4000:]
    assert "Handling signal: term" in log and "Shutting down: Master" in log
    assert port_is_free(port)


@pytest.fixture
def secret_key() -> str:
    return secrets.token_urlsafe(48)


@pytest.mark.slow
def test_production_server_on_a_fresh_data_folder(tmp_path, secret_key):
    port = free_port()
    env = clean_env(
        DASHAPP_DATA_DIR=str(tmp_path / "data"), DASHAPP_SECRET_KEY=secret_key
    )
    command = [sys.executable, "-m", "dashapp", "serve", "--prod", "--workers", "2"]
    with running([*command, "--port", str(port)], env, tmp_path / "run", port) as srv:
        check_serves_a_signed_in_user(
            srv, f"sqlite:///{tmp_path / 'data' / 'dashapp.sqlite'}"
        )
        log = srv.stderr()
        assert log.count("Booting worker with pid") == 2
        assert "one-time password" in srv.stdout()  # the first admin, printed once
        check_stops_cleanly(srv, port)
    for entry in json_lines(log):
        assert {"time", "level", "logger", "message"} <= entry.keys()


@pytest.mark.slow
@pytest.mark.postgres
def test_production_server_on_a_fresh_postgresql_database(
    tmp_path, secret_key, postgres
):
    port = free_port()
    url = postgres.create_database()
    env = clean_env(
        DASHAPP_DATA_DIR=str(tmp_path / "data"),
        DASHAPP_DATABASE_URL=url,
        DASHAPP_SECRET_KEY=secret_key,
        DASHAPP_WORKERS="2",
    )
    command = [sys.executable, "-m", "dashapp", "serve", "--prod", "--port", str(port)]
    with running(command, env, tmp_path / "run", port) as srv:
        check_serves_a_signed_in_user(srv, url)
        assert srv.stderr().count("Booting worker with pid") == 2
        check_stops_cleanly(srv, port)
    assert not (tmp_path / "data" / "dashapp.sqlite").exists()
    postgres.drop_database(url)


@pytest.mark.slow
def test_plain_gunicorn_with_two_workers_on_a_fresh_data_folder(tmp_path):
    """The start that used to fail: both workers migrating at once; and the
    request log, which plain gunicorn used to leave silent."""
    port = free_port()
    env = clean_env(DASHAPP_DATA_DIR=str(tmp_path / "data"))
    command = [
        sys.executable, "-m", "gunicorn", "-w", "2", "--no-control-socket",
        "-b", f"127.0.0.1:{port}", "app:server",
    ]  # fmt: skip
    with running(command, env, tmp_path / "run", port) as srv:
        # the app sets up its logs itself: a request line per request, as JSON
        check_serves_a_signed_in_user(
            srv, f"sqlite:///{tmp_path / 'data' / 'dashapp.sqlite'}"
        )
        assert srv.stderr().count("Booting worker with pid") == 2
        check_stops_cleanly(srv, port)
        log = srv.stderr()
    key = (tmp_path / "data" / "secret_key").read_text()
    assert len(key) >= 32  # one key, written whole, shared by both workers
    requests_logged = [e for e in json_lines(log) if e["logger"] == "dashapp.request"]
    assert {e["path"] for e in requests_logged} >= {"/healthz", "/", "/_dash-layout",
                                                      "/api/v1/datasets"}  # fmt: skip


# -- bad settings ---------------------------------------------------------------------
# Each kind of refusal once through the real command (a fresh Python process); every
# refusal of dashapp.health.check_start is tested in process in
# tests/unit/dashapp/test_health_logs.py.
def bad_settings(folder: Path, busy_port: int, closed_port: int) -> dict:
    """Name -> (arguments, extra environment, a phrase the one error line holds)."""
    key = {"DASHAPP_SECRET_KEY": "k" * 40}
    serve = ["serve", "--data-dir", str(folder / "data")]
    free = ["--port", str(closed_port)]
    return {
        "database-unreachable": (
            [*serve, "--prod", *free, "--database-url",
             f"postgresql://planner:hunter22@127.0.0.1:{closed_port}/plan"],
            key, "cannot use the database postgresql+psycopg://planner:***@",
        ),
        "database-scheme": (
            [*serve, "--prod", *free, "--database-url", "mysql://h/db"], key,
            "unsupported database URL scheme 'mysql'",
        ),
        "database-url-malformed": (
            [*serve, "--prod", *free, "--database-url",
             "postgresql://planner@127.0.0.1:notaport/plan"],
            key, "malformed database URL",
        ),
        "jobs-redis-unreachable": (
            [*serve, "--prod", *free],
            key | {"DASHAPP_REDIS_URL": f"redis://:hunter22@127.0.0.1:{closed_port}/0"},
            "cannot reach Redis at redis://:***@127.0.0.1",
        ),
        "jobs-redis-url-wrong": (
            [*serve, "--prod", *free], key | {"DASHAPP_REDIS_URL": "127.0.0.1:6379"},
            "DASHAPP_REDIS_URL: Redis URL must specify",
        ),
        "redis-unreachable": (
            [*serve, *free], {"CACHE_REDIS_URL": f"redis://127.0.0.1:{closed_port}/0"},
            "cannot reach Redis at redis://127.0.0.1",
        ),
        "secret-key-missing": ([*serve, "--prod", *free], {}, "DASHAPP_SECRET_KEY"),
        "port-in-use": (
            [*serve, "--prod", "--port", str(busy_port)], key, "already in use"
        ),
        "debug-in-production": ([*serve, "--prod", "--debug", *free], key, "--debug"),
    }  # fmt: skip


CASES = list(bad_settings(Path("/"), 0, 0))


@pytest.fixture(scope="module")
def refused(tmp_path_factory):
    """Every bad setting tried once, side by side."""
    folder = tmp_path_factory.mktemp("bad-settings")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        table = bad_settings(folder, busy.getsockname()[1], free_port())

        def run(name):
            args, extra, _ = table[name]
            return subprocess.run(
                [sys.executable, "-m", "dashapp", *args],
                env=clean_env(**extra),
                cwd=PROJECT_ROOT,
                capture_output=True,
                text=True,
                timeout=120,
            )

        with ThreadPoolExecutor(max_workers=3) as pool:
            done = dict(zip(table, pool.map(run, table), strict=True))
    return done, table


@pytest.mark.slow
@pytest.mark.parametrize("name", CASES)
def test_a_bad_setting_stops_the_start_with_one_line(refused, name):
    done, table = refused
    result, phrase = done[name], table[name][2]
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2, (result.returncode, result.stderr[-3000:])
    assert "Traceback" not in result.stderr
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and phrase in lines[0], lines[0]
    assert "hunter22" not in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    ("extra", "phrase"),
    [
        ({"DASHAPP_DATABASE_URL": "mysql://h/db"}, "unsupported database URL scheme"),
        ({"CACHE_REDIS_URL": "redis://127.0.0.1:{port}/0"}, "cannot reach Redis at"),
    ],
)
def test_plain_gunicorn_stops_on_a_bad_setting_with_one_line(tmp_path, extra, phrase):
    """gunicorn's "App failed to load" (exit code 4), after the app's one line: no
    traceback (not even gunicorn's own when several workers fail at once), and no
    workers started again and again."""
    port = free_port()
    extra = {k: v.format(port=free_port()) for k, v in extra.items()}
    env = clean_env(DASHAPP_DATA_DIR=str(tmp_path / "data"), **extra)
    command = [
        sys.executable, "-m", "gunicorn", "-w", "3", "--no-control-socket",
        "-b", f"127.0.0.1:{port}", "app:server",
    ]  # fmt: skip
    done = subprocess.run(command, env=env, cwd=PROJECT_ROOT, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode == 4, done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and phrase in errors[0], done.stderr[-3000:]
    assert "App failed to load" in done.stderr
