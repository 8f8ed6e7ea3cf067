"""Background jobs start clean, die with their server and never hold its socket.

A slow test runs a real threaded Dash server in a child process, starts a long
background callback through its HTTP endpoint, SIGKILLs the server and checks the
job is gone within seconds and the port can be bound again at once.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from dashapp.config import Config
from dashapp.jobs import JOB_MODULES, ServerBoundManager, make_background_manager

ROOT = Path(__file__).resolve().parents[3]
#: held by a thread of the "server" (this test process) while a job starts
HELD = threading.Lock()


def wait_for(condition, deadline: float, what: str):
    """Poll ``condition`` until it returns a truthy value; fail after ``deadline`` s."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"after {deadline} s: {what}")


def run_job(manager, fn, args=(), context=None, progress=True):
    """Start ``fn`` as a job, wait for its result; the result and the job's pid."""
    job = manager.call_job_fn(
        "k", manager.make_job_fn(fn, progress), list(args), context or {}
    )
    wait_for(lambda: manager.result_ready("k"), 60, "the job never answered")
    return manager.get_result("k", job), job


def gone(pid: int) -> bool:
    """Exited (a zombie waiting for a reaper counts as exited)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def listening_ports(pid: int) -> set[int]:
    return {
        c.laddr.port
        for c in psutil.Process(pid).net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_app_builds_its_jobs_with_the_server_bound_manager(tmp_path):
    from dashapp import create_app

    app = create_app(Config(data_dir=tmp_path), prepare_store=False)
    assert isinstance(app._background_manager, ServerBoundManager)


def test_progress_result_and_cancel_work_as_in_dash(tmp_path):
    manager = make_background_manager(Config(data_dir=tmp_path))
    go = tmp_path / "go"

    def work(set_progress, n):
        set_progress((n, "half"))
        while not go.exists():
            time.sleep(0.01)
        return n * 2

    job = manager.call_job_fn("k1", manager.make_job_fn(work, True), [21], {})
    progress = wait_for(lambda: manager.get_progress("k1"), 30, "no progress")
    assert list(progress) == [21, "half"]
    go.touch()
    wait_for(lambda: manager.result_ready("k1"), 30, "no result")
    assert manager.get_result("k1", job) == 42

    def forever(_):
        time.sleep(600)

    job = manager.call_job_fn("k2", manager.make_job_fn(forever, False), [0], {})
    assert manager.job_running(job)
    manager.terminate_job(job)  # what the cancel button does
    wait_for(lambda: gone(job), 10, "cancelled job still running")
    assert not manager.result_ready("k2")


def test_a_job_starts_without_the_locks_the_servers_threads_hold(tmp_path):
    """The fresh-clone run's hang: a job forked while another thread of the server
    held a lock (there SQLite's) waited for it for ever. Jobs come from the fork
    server, where nothing of the web server's threads is held."""
    manager = make_background_manager(Config(data_dir=tmp_path))

    def work(set_progress):
        set_progress((1,))
        if not HELD.acquire(timeout=20):
            return "blocked"
        HELD.release()
        return f"free, threads: {threading.active_count()}"  # its own and the watchdog

    holder_in, holder_out = threading.Event(), threading.Event()

    def holder():  # another request thread, inside its lock
        with HELD:
            holder_in.set()
            holder_out.wait(60)

    thread = threading.Thread(target=holder)
    thread.start()
    assert holder_in.wait(10)
    try:
        assert run_job(manager, work)[0] == "free, threads: 2"
    finally:
        holder_out.set()
        thread.join(10)


def test_a_job_runs_in_an_app_of_its_settings_without_the_requests_credentials(
    tmp_path,
):
    """What a job reads from the web app and the request that started it: the
    settings, the user Dash carries (custom_data), language, client address and
    request id; never the session cookie or an Authorization header."""
    config = Config(data_dir=tmp_path, lang="fr")
    manager = make_background_manager(config)

    def work(set_progress):
        import dash
        import flask

        from dashapp.auth import client_address, current_user
        from dashapp.context import current_config, request_lang

        user = current_user()
        return {
            "data_dir": str(current_config().data_dir),
            "lang": request_lang(current_config()),
            "user": user.username if user else None,
            "remote": client_address(),
            "request_id": flask.g.get("request_id"),
            "cookies": sorted(flask.request.cookies),
            "authorization": flask.request.headers.get("Authorization"),
            "custom": sorted(dash.callback_context.custom_data),
        }

    context = {
        "cookies": {"dashapp_session": "secret", "dashapp_lang": "en"},
        "headers": {"Cookie": "dashapp_session=secret", "Authorization": "Bearer x",
                    "Accept-Language": "en"},
        "custom_data": {"auth": {"id": 7, "username": "ada", "role": "planner"}},
        "remote": "10.0.0.5",
    }  # fmt: skip
    got, _ = run_job(manager, work, context=context)
    assert got["data_dir"] == str(tmp_path) and got["lang"] == "en"
    assert got["user"] == "ada" and got["remote"] == "10.0.0.5"
    assert got["cookies"] == ["dashapp_lang"] and got["authorization"] is None
    assert got["custom"] == ["auth"]


def test_a_process_forked_after_the_fork_server_started_runs_jobs_of_its_own(tmp_path):
    """gunicorn's --preload master, or any fork of a process whose app was built:
    the child's jobs come from a fork server of its own."""
    from multiprocess import forkserver

    make_background_manager(Config(data_dir=tmp_path / "parent"))
    parents = forkserver._forkserver._forkserver_pid
    assert parents is not None
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 1
        try:
            manager = make_background_manager(Config(data_dir=tmp_path / "child"))
            job = manager.call_job_fn("k", manager.make_job_fn(_double, False), [21], {})
            end = time.monotonic() + 60
            while not manager.result_ready("k") and time.monotonic() < end:
                time.sleep(0.02)
            mine = forkserver._forkserver._forkserver_pid
            ok = manager.get_result("k", job) == 42 and mine not in (None, parents)
            code = 0 if ok else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert forkserver._forkserver._forkserver_pid == parents  # the parent's kept


def _double(n):
    return 2 * n


def test_a_finished_jobs_number_taken_by_another_process_is_not_killed(tmp_path):
    """Dash kills a job's pid once its result is read; the fork server reaps the
    job at once, so that number may already be another process's."""
    manager = make_background_manager(Config(data_dir=tmp_path))
    job = manager.call_job_fn("k", manager.make_job_fn(_double, False), [4], {})
    wait_for(lambda: manager.result_ready("k"), 60, "the job never answered")
    wait_for(lambda: gone(job), 30, "the job never ended")
    assert manager.get_result("k", job) == 8  # no error for a pid already gone
    assert not manager.job_running(job)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        # as if the number had been reused: not a job, so neither running nor killed
        assert not manager.job_running(other.pid)
        manager.terminate_job(other.pid)
        manager.terminate_unhealthy_job(other.pid)
        assert other.poll() is None
    finally:
        other.kill()
        other.wait(10)


def _priority(set_progress):
    return os.nice(0), os.sched_getscheduler(0)


@pytest.mark.parametrize("priority", ["idle", "low", "normal"])
def test_a_job_beside_the_server_takes_the_cpu_priority_of_jobs(tmp_path, priority):
    """DASHAPP_JOB_PRIORITY: a solve beside the web server leaves the pages the
    CPU as a worker's job does (nice 10, then SCHED_IDLE), unless told otherwise."""
    from dashapp.workers import JOB_NICENESS

    manager = make_background_manager(Config(data_dir=tmp_path, job_priority=priority))
    (nice, policy), _ = run_job(manager, _priority)
    mine = os.nice(0)
    if priority == "normal":
        assert (nice, policy) == (mine, os.SCHED_OTHER)
    else:
        assert nice == min(19, mine + JOB_NICENESS)
        assert policy == (os.SCHED_IDLE if priority == "idle" else os.SCHED_OTHER)


def _log_format(set_progress):
    import logging

    from dashapp.logs import JsonFormatter

    (handler,) = logging.getLogger().handlers  # the one the job set up
    return isinstance(handler.formatter, JsonFormatter)


@pytest.mark.parametrize("json_lines", [True, False])
def test_a_job_logs_as_its_server_does(tmp_path, json_lines):
    """A production server logs JSON lines: so do its jobs, though the fork
    server they come from configured no logging."""
    import logging

    from dashapp.logs import JsonFormatter

    handler = logging.StreamHandler()
    if json_lines:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        manager = make_background_manager(Config(data_dir=tmp_path))
        assert run_job(manager, _log_format)[0] is json_lines
    finally:
        root.removeHandler(handler)


def test_the_fork_server_imports_every_background_callbacks_module(tmp_path):
    """A job imports nothing the fork server has not (JOB_MODULES)."""
    from dashapp import create_app

    app = create_app(Config(data_dir=tmp_path), prepare_store=False)
    modules = {
        callback["callback"].__wrapped__.__module__
        for callback in app.callback_map.values()
        if callback.get("background")
    }
    for name in JOB_MODULES:
        importlib.import_module(name)
    assert modules and modules <= set(JOB_MODULES)


RELEASE = """
import json, os, socket, sys
import diskcache
from dashapp.process import release_listening_sockets

listener = socket.create_server(("127.0.0.1", 0))
a, b = socket.socketpair()
cache = diskcache.Cache(sys.argv[1])
cache.set("before", 1)
text = open(sys.argv[1] + "/note.txt", "w+")
released = release_listening_sockets()
a.sendall(b"ping")
text.write("kept"); text.seek(0)
cache.set("after", 2)
print(json.dumps({
    "listener": listener.fileno(),
    "released": released,
    "listener_now": os.readlink(f"/proc/self/fd/{listener.fileno()}"),
    "pair": b.recv(4).decode(),
    "file": text.read(),
    "cache": [cache.get("before"), cache.get("after")],
}))
listener.close()  # closes /dev/null, not a file opened since
"""


def test_only_listening_sockets_are_released(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", RELEASE, str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    got = json.loads(done.stdout)
    assert got["released"] == [got["listener"]]
    assert got["listener_now"] == os.devnull
    assert got["pair"] == "ping" and got["file"] == "kept" and got["cache"] == [1, 2]


JOB = """
import os, sys, time
from pathlib import Path

def solve(n_clicks):
    folder = Path(os.environ["JOB_FOLDER"])
    (folder / "job.pid").write_text(str(os.getpid()))
    time.sleep(30)  # a long solve
    (folder / "saved").write_text("a result saved after the server died")
    return "done"
"""

# Built at module level with no ``__name__`` guard, as Dash apps often are: a job
# must not run this script again (it would start a second server in the job).
SERVER = """
import sys
from pathlib import Path
from dash import Dash, Input, Output, html
from dashapp.config import Config
from dashapp.jobs import make_background_manager
from slowjob import solve

app = Dash(__name__, background_callback_manager=make_background_manager(
    Config(data_dir=Path(sys.argv[1]))))
app.layout = html.Div([html.Button(id="go"), html.Div(id="out")])
app.callback(Output("out", "children"), Input("go", "n_clicks"), background=True,
             prevent_initial_call=True)(solve)
app.run(host="127.0.0.1", port=int(sys.argv[2]))
"""


@pytest.mark.slow
def test_a_job_dies_with_its_server_and_frees_the_port(tmp_path):
    port = free_port()
    script = tmp_path / "server.py"
    script.write_text(SERVER)
    (tmp_path / "slowjob.py").write_text(JOB)
    server = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path), str(port)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": f"{ROOT}:{tmp_path}", "JOB_FOLDER": str(tmp_path)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:

        def answers():
            try:
                with urllib.request.urlopen(base + "/_dash-layout", timeout=2) as r:
                    return r.status == 200
            except OSError:
                return False

        wait_for(answers, 60, "the server never answered")
        body = {
            "output": "out.children",
            "outputs": {"id": "out", "property": "children"},
            "inputs": [{"id": "go", "property": "n_clicks", "value": 1}],
            "state": [],
            "changedPropIds": ["go.n_clicks"],
        }
        request = urllib.request.Request(
            base + "/_dash-update-component",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as r:
            assert {"cacheKey", "job"} <= set(json.loads(r.read()))
        pid_file = tmp_path / "job.pid"
        job = int(wait_for(lambda: pid_file.exists() and pid_file.read_text(), 30,
                           "the job never started"))  # fmt: skip
        # forked from the fork server, itself started by the server (exec'd)
        fork_server = psutil.Process(psutil.Process(job).ppid())
        assert fork_server.pid != server.pid and fork_server.ppid() == server.pid
        # the request that forked it is over and the server still answers: the job
        # runs on, and without the port, which only the server listens on
        assert answers() and not gone(job)
        assert port in listening_ports(server.pid)
        assert port not in listening_ports(job)

        killed = time.monotonic()
        server.send_signal(signal.SIGKILL)
        server.wait(10)
        wait_for(lambda: gone(job), 5, "the job outlived its server")
        print(f"job {job} gone {time.monotonic() - killed:.2f} s after the kill")
        with socket.socket() as again:  # as werkzeug binds
            again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            again.bind(("127.0.0.1", port))
            again.listen()
        assert not (tmp_path / "saved").exists()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(10)


def _plan(n_clicks, panel):
    return n_clicks, panel


def test_two_jobs_with_the_same_inputs_get_their_own_result_keys(tmp_path):
    """Two planners running the same plan at once: each job its own key, so
    neither reads (and so takes) the other's result."""
    from dashapp.workers import make_worker_manager

    managers = [
        make_background_manager(Config(data_dir=tmp_path)),
        make_worker_manager(
            Config(data_dir=tmp_path, redis_url="redis://127.0.0.1:1/0")
        ),
    ]
    for manager in managers:
        keys = {
            manager.build_cache_key(_plan, [1, {"p": 3}], [], None) for _ in range(3)
        }
        assert len(keys) == 3
        # still Dash's key of the callback and inputs, made unique
        assert len({k.rsplit("-", 1)[0] for k in keys}) == 1


def _wait_for_file(path):
    while not os.path.exists(path):
        time.sleep(0.01)
    return "done"


def test_jobs_beyond_the_users_or_the_servers_limit_do_not_start(tmp_path):
    """A flood of job requests (a forged loop, many tabs) once forked a process
    each until the machine ran out of memory: beyond the limits a job never
    starts and its answer says why."""
    from dashapp.job_context import REFUSED_JOB, busy_answer

    config = Config(data_dir=tmp_path, max_jobs=3, max_user_jobs=2)
    manager = make_background_manager(config)
    go = str(tmp_path / "go")
    ann = {"custom_data": {"auth": {"id": 7, "username": "ann", "role": "planner"}}}
    bob = {"custom_data": {"auth": {"id": 8, "username": "bob", "role": "planner"}}}
    fn = manager.make_job_fn(_wait_for_file, False)
    started = [manager.call_job_fn(f"a{i}", fn, [go], ann) for i in range(2)]
    assert all(manager.job_running(job) for job in started)
    before = len(psutil.Process().children(recursive=True))
    # ann's third job: refused for her, not started, answered at once
    assert manager.call_job_fn("a2", fn, [go], ann) == REFUSED_JOB
    assert manager.result_ready("a2")
    assert manager.get_result("a2", REFUSED_JOB) == busy_answer("user")
    assert not manager.job_running(REFUSED_JOB)
    manager.terminate_job(REFUSED_JOB)  # what Dash does with a read result
    # bob may start one; then the server's limit (3) refuses bob's second
    bobs = manager.call_job_fn("b0", fn, [go], bob)
    assert manager.job_running(bobs)
    assert manager.call_job_fn("b1", fn, [go], bob) == REFUSED_JOB
    assert manager.get_result("b1", REFUSED_JOB) == busy_answer("server")
    assert len(psutil.Process().children(recursive=True)) <= before + 1  # bob's only
    # once the jobs end, their places are free again
    open(go, "w").close()
    for key, job in [("a0", started[0]), ("a1", started[1]), ("b0", bobs)]:
        wait_for(lambda key=key: manager.result_ready(key), 60, f"{key} never answered")
        assert manager.get_result(key, job) == "done"
        wait_for(lambda job=job: gone(job), 30, "a job never ended")
    job = manager.call_job_fn("a3", fn, [go], ann)
    assert job != REFUSED_JOB
    wait_for(lambda: manager.result_ready("a3"), 60, "a3 never answered")


def test_a_second_web_process_counts_the_jobs_of_the_first(tmp_path):
    """Gunicorn's workers share the job cache: the limit is the host's."""
    config = Config(data_dir=tmp_path, max_jobs=8, max_user_jobs=1)
    first = make_background_manager(config)
    second = ServerBoundManager(first.handle, config)
    go = str(tmp_path / "go")
    ann = {"custom_data": {"auth": {"id": 7, "username": "ann", "role": "planner"}}}
    job = first.call_job_fn("a0", first.make_job_fn(_wait_for_file, False), [go], ann)
    from dashapp.job_context import REFUSED_JOB

    fn = second.make_job_fn(_wait_for_file, False)
    assert second.call_job_fn("a1", fn, [go], ann) == REFUSED_JOB
    open(go, "w").close()
    wait_for(lambda: first.result_ready("a0"), 60, "a0 never answered")
    first.get_result("a0", job)
