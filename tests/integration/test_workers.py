"""Background jobs on a real Celery worker, through a real Redis server.

A Redis server (``redis_server``, started on loopback for the session) and a
worker process (``python -m dashapp worker``, started here, in its own process
group) run the jobs; the web side is the app in this process, driven through
Dash's own HTTP endpoints as a browser drives them (:class:`DashClient`). The
worker shares nothing with the web server but the database, Redis and the shared
folder: its data folder is its own, and must stay empty.

What is checked: a solve and an import run on the worker with their progress;
the user's right is checked inside the worker; cancel kills the job in the
worker; a worker killed (SIGKILL) in the middle of a solve saves nothing and the
user is told the job was lost; a job sent while no worker runs is said to have
none and never runs later; ``/healthz`` reports the workers; the flask-caching
Redis cache serves pages.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import psutil
import pytest
from sqlalchemy import text

from bench.bench_overview import callback_body
from dashapp import create_app, ids, services, workers
from dashapp.cache import clear_memos
from dashapp.config import PROJECT_ROOT, Config
from dashapp.i18n import t
from data import users
from tests.auth_helpers import signed_in_client
from tests.dash_client import DashClient, JobAnswer
from tests.integration.test_production import clean_env
from tests.unit.data import import_files as f

pytestmark = pytest.mark.slow

LEASE_S = 3  # a killed worker's jobs are reported lost after this
SECRET = "worker-tests-" + "k" * 40
WORKER_START_S = 120
RUN = f"{ids.SCN_RESULT}.data"
CLICK = f"{ids.SCN_RUN}.n_clicks"
# a capacitated solve with closures: a few seconds on the demo country, reporting
# progress every second or so (the default plan solves in a tenth of a second)
SLOW_PLAN = {
    f"{ids.SCN_OBJECTIVE}.value": "distance",
    f"{ids.SCN_NEW}.value": 15,
    f"{ids.SCN_CAPACITATED}.value": True,
    f"{ids.SCN_CLOSURES}.value": True,
    f"{ids.SCN_TIME_LIMIT}.value": 30,
}


class Worker:
    """``python -m dashapp worker`` in its own process group, logs in ``folder``."""

    def __init__(self, env: dict, folder: Path) -> None:
        self.env, self.folder = env, folder
        self.proc: subprocess.Popen | None = None

    def start(self, manager) -> Worker:
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / "worker.log", "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "dashapp", "worker", "--concurrency", "2"],
                env=self.env,
                cwd=PROJECT_ROOT,
                stdout=log,
                stderr=log,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + WORKER_START_S
        while not manager.workers_alive():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the worker did not start:\n{self.log()[-4000:]}")
            time.sleep(0.2)
        return self

    def log(self) -> str:
        return (self.folder / "worker.log").read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL to the whole worker: its main process and every job process."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(30)

    def stop(self) -> None:
        """SIGTERM (a warm shutdown), then SIGKILL what is left."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(30)
        self.kill()


class Deployment:
    """The web app here, a worker there, one database, Redis, a shared folder."""

    def __init__(self, root: Path, demo_dir: Path, redis_url: str) -> None:
        self.web_dir = root / "web"
        shutil.copytree(demo_dir, self.web_dir)
        self.shared = root / "shared"
        self.worker_dir = root / "worker-data"
        self.worker_dir.mkdir()
        self.database_url = f"sqlite:///{self.web_dir / 'dashapp.sqlite'}"
        self.config = Config(
            data_dir=self.web_dir,
            database_url=self.database_url,
            shared_dir=self.shared,
            redis_url=redis_url,
            secret_key=SECRET,
            job_lease_s=LEASE_S,
        )
        self.app = create_app(self.config, prepare_store=False)
        self.manager = self.app._background_manager
        self.store = services.get_store(self.database_url)
        env = clean_env(
            DASHAPP_DATA_DIR=str(self.worker_dir),
            DASHAPP_DATABASE_URL=self.database_url,
            DASHAPP_SHARED_DIR=str(self.shared),
            DASHAPP_REDIS_URL=redis_url,
            DASHAPP_SECRET_KEY=SECRET,
            DASHAPP_JOB_LEASE_S=str(LEASE_S),
        )
        self.worker = Worker(env, root / "logs")

    def page(self, path: str, role: str = "admin") -> DashClient:
        return DashClient(self.app, signed_in_client(self.app, role)).open(path)

    def scenario_count(self) -> int:
        """Rows of the scenarios table, deleted ones included."""
        with self.store.engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM scenarios")).scalar_one()

    def newest_owner(self) -> int | None:
        with self.store.engine.connect() as conn:
            return conn.execute(
                text("SELECT owner_id FROM scenarios ORDER BY id DESC LIMIT 1")
            ).scalar_one()

    def job_pid(self, job: str) -> int:
        """The pid of the worker process running ``job`` (its lease holds it)."""
        raw = self.manager.redis.get(f"dashapp:job:{job}:lease")
        assert raw is not None, f"job {job} holds no lease"
        return int(raw)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory, demo_dir, redis_server):
    redis_server.flush()
    world = Deployment(
        tmp_path_factory.mktemp("workers"), demo_dir, redis_server.url(1)
    )
    world.worker.start(world.manager)
    yield world
    world.worker.stop()


def test_a_solve_runs_on_the_worker_with_its_progress(deployment):
    page = deployment.page("/scenarios")
    before = deployment.scenario_count()
    # the slow plan: the default one can end between two polls, its progress unseen
    for prop, value in SLOW_PLAN.items():
        page.set(prop, value)
    answer = page.fire(RUN, {CLICK: 1})
    assert answer.status == 200, answer.json
    running = t("scn.running", "fr", seconds="0").split(":")[0]
    assert any(running in str(p) for p in answer.progress), answer.progress
    assert "scn-status-alert" in answer.texts()
    assert deployment.scenario_count() == before + 1
    owner = users.get_user(deployment.store, "test-admin")
    assert deployment.newest_owner() == owner.id  # the user travelled to the worker
    event = users.audit_events(deployment.store, 1).iloc[0]
    assert (event.username, event.action) == ("test-admin", "scenario.run")
    assert event.address == "127.0.0.1"  # the job ran in the request's context


def test_the_right_is_checked_inside_the_worker(deployment):
    page = deployment.page("/scenarios", role="viewer")
    before = deployment.scenario_count()
    answer = page.fire(RUN, {CLICK: 1})
    denied = t("auth.denied", "fr", role=t("role.viewer", "fr"),
               right=t("right.scenario.run", "fr"))  # fmt: skip
    assert answer.job is not None  # sent to the worker, refused there
    assert denied in answer.texts(), answer.texts()
    assert deployment.scenario_count() == before


def test_an_import_checks_files_uploaded_to_the_shared_folder(deployment, tmp_path):
    page = deployment.page("/import")
    paths = [f.write_cod_ab(tmp_path), f.population_by_name(tmp_path)]
    page.set(f"{ids.IMP_UPLOAD}.filename", [p.name for p in paths])
    contents = [
        "data:application/octet-stream;base64," + base64.b64encode(p.read_bytes()).decode()
        for p in paths
    ]
    up = page.fire(f"{ids.IMP_UPLOADS}.data", {f"{ids.IMP_UPLOAD}.contents": contents})
    assert up.status == 200, up.json
    before = [d.id for d in deployment.store.datasets()]
    answer = page.fire(f"{ids.IMP_REPORT}.children", {f"{ids.IMP_CHECK}.n_clicks": 1})
    assert answer.status == 200, answer.json
    assert "Aucune erreur" in answer.texts(), answer.texts()[:2000]
    assert [d.id for d in deployment.store.datasets()] == before  # a dry run
    values = [p[f"{ids.IMP_PROGRESS}.value"] for p in answer.progress]
    assert values and values[-1] == 100
    uploads = list((deployment.shared / "uploads").iterdir())
    assert len(uploads) == 1 and sorted(p.name for p in uploads[0].iterdir()) == sorted(
        p.name for p in paths
    )
    # the worker kept nothing on its own disk
    assert list(deployment.worker_dir.rglob("*")) == []


def _launch(deployment, page: DashClient) -> tuple[dict, dict, str]:
    """Start the slow solve, wait for its first progress line: the request's body,
    the handles the browser polls with, and the Celery task id."""
    for prop, value in SLOW_PLAN.items():
        page.set(prop, value)
    key = page.key_of(RUN, CLICK)
    page.set(CLICK, 1)
    body = callback_body(page.app, key, page.values(key), [CLICK])
    response = page.client.post("/_dash-update-component", json=body)
    job = response.get_json()
    assert "cacheKey" in job, job
    query = f"?cacheKey={quote(job['cacheKey'])}&job={quote(job['job'])}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        answer = page.client.post("/_dash-update-component" + query, json=body)
        data = answer.get_json(silent=True) or {}
        assert "response" not in data, "the solve ended before it could be stopped"
        if data.get("progress") and any(data["progress"].values()):
            break
        time.sleep(0.1)
    else:
        raise AssertionError("no progress within 60 s")
    jobs = [k.decode().split(":")[2]
            for k in deployment.manager.redis.keys("dashapp:job:*:lease")]  # fmt: skip
    running = [j for j in jobs if deployment.manager.job_state(j) == "running"]
    assert len(running) == 1, running
    return body, job, running[0]


def _poll(page: DashClient, body: dict, job: dict, timeout: float = 60):
    query = f"?cacheKey={quote(job['cacheKey'])}&job={quote(job['job'])}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = page.client.post("/_dash-update-component" + query, json=body)
        data = answer.get_json(silent=True) or {}
        if answer.status_code != 200 or "response" in data or "sideUpdate" in data:
            return answer.status_code, data
        time.sleep(0.2)
    raise AssertionError(f"no answer within {timeout} s")


def test_cancel_kills_the_solve_in_the_worker(deployment):
    page = deployment.page("/scenarios")
    before = deployment.scenario_count()
    body, job, task = _launch(deployment, page)
    pid = deployment.job_pid(task)
    assert psutil.pid_exists(pid) and pid != deployment.worker.proc.pid
    # the job yields the CPU to a web server on the same machine
    main = psutil.Process(deployment.worker.proc.pid).nice()
    assert psutil.Process(pid).nice() == min(19, main + workers.JOB_NICENESS)
    if hasattr(os, "SCHED_IDLE"):  # and a page's request preempts it at once
        assert os.sched_getscheduler(pid) == os.SCHED_IDLE
    switch = Path(workers.AUTOGROUP_SWITCH)
    if switch.exists() and switch.read_text().strip() == "1":  # a nicer session
        assert os.getsid(pid) == pid != os.getsid(deployment.worker.proc.pid)
        group = Path(f"/proc/{pid}/autogroup").read_text().split()
        assert group[-2:] == ["nice", str(workers.JOB_NICENESS)], group
    assert page.cancel(job, ids.SCN_CANCEL) in (200, 204)
    assert psutil.Process(pid).wait(30) is not None or not psutil.pid_exists(pid)
    status, data = _poll(page, body, job)
    assert status == 204, data  # cancelled: no output, no message
    assert deployment.manager.job_state(task) == "cancelled"
    assert deployment.scenario_count() == before
    # the worker replaced its process and runs the next job
    page.set(f"{ids.SCN_NEW}.value", 3)
    page.set(f"{ids.SCN_CAPACITATED}.value", False)
    answer = page.fire(RUN, {CLICK: 2})
    assert "scn-status-alert" in answer.texts()
    assert deployment.scenario_count() == before + 1


def test_healthz_reports_redis_and_the_workers(deployment):
    client = deployment.app.server.test_client()
    answer = client.get("/healthz").get_json()
    assert answer["status"] == "ok", answer
    assert answer["checks"]["jobs"]["status"] == "ok"
    assert answer["checks"]["workers"]["alive"] == 1


def test_a_worker_killed_mid_solve_saves_nothing_and_the_user_is_told(deployment):
    page = deployment.page("/scenarios")
    before = deployment.scenario_count()
    body, job, task = _launch(deployment, page)
    pid = deployment.job_pid(task)
    os.kill(pid, signal.SIGSTOP)  # frozen mid-solve: it cannot end before the kill
    assert deployment.manager.job_state(task) == "running"
    deployment.worker.kill()
    started = time.monotonic()
    status, data = _poll(page, body, job, timeout=LEASE_S * 10)
    assert time.monotonic() - started < LEASE_S * 5
    texts = JobAnswer(status, data).texts()
    assert t("jobs.lost", "fr") in texts, texts
    assert deployment.scenario_count() == before
    assert "scn-status-alert" not in texts

    # no worker at all now: /healthz says so, without failing the web server
    health = deployment.app.server.test_client().get("/healthz")
    assert health.status_code == 200
    assert health.get_json()["status"] == "degraded"
    assert health.get_json()["checks"]["workers"]["alive"] == 0

    # a job sent now has no worker: the user is told, and it never runs later
    page.set(f"{ids.SCN_NEW}.value", 3)
    page.set(f"{ids.SCN_CAPACITATED}.value", False)
    answer = page.fire(RUN, {CLICK: 3}, timeout=LEASE_S * 10)
    assert t("jobs.no_worker", "fr") in answer.texts(), answer.texts()
    deployment.worker.start(deployment.manager)
    queue = deployment.manager.redis
    deadline = time.monotonic() + 30
    while queue.llen("celery") and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1)
    assert deployment.scenario_count() == before
    assert "was cancelled or given up before it started" in deployment.worker.log()


def test_the_redis_cache_is_shared_by_two_web_servers(
    tmp_path, demo_dir, redis_server, monkeypatch
):
    url = redis_server.url(2)
    monkeypatch.setenv("DASHAPP_CACHE_TYPE", "RedisCache")
    monkeypatch.setenv("CACHE_REDIS_URL", url)
    data = tmp_path / "data"
    shutil.copytree(demo_dir, data)
    redis = redis_server.client(2)
    redis.flushdb()
    one, two = (create_app(Config(data_dir=data), prepare_store=False) for _ in "12")
    assert one.server.test_client().get("/healthz").get_json()["checks"]["cache"][
        "status"
    ] == "ok"
    first = signed_in_client(one, "viewer").get("/api/v1/kpis?level=region")
    assert first.status_code == 200, first.data[:300]
    cached = set(redis.keys("flask_cache_*"))
    assert cached, f"nothing was cached in Redis: {redis.keys()}"
    # the other server reads what the first computed, and answers the same; it is
    # another process in a deployment, with its own (empty) in-process memos
    clear_memos()
    client = signed_in_client(two, "viewer")
    hits = redis.info("stats")["keyspace_hits"]
    second = client.get("/api/v1/kpis?level=region")
    assert second.get_json() == first.get_json()
    assert redis.info("stats")["keyspace_hits"] >= hits + len(cached)
    assert set(redis.keys("flask_cache_*")) == cached
    page = DashClient(two, signed_in_client(two, "admin")).open("/")
    assert ids.PAGE in page.props


def test_jobs_beyond_a_users_limit_are_never_queued(deployment):
    """Celery bounds the processes, not the queue: a forged loop of solves would
    queue work for hours ahead of everyone's. A user's jobs queued or running
    count against their limit, over every web server of this Redis."""
    manager = deployment.manager
    admin = users.get_user(deployment.store, "test-admin")
    live_key = workers.LIVE_JOBS
    limit = deployment.config.max_user_jobs
    # the admin's jobs already waiting for the (busy) worker
    waiting = [f"waiting-{i}" for i in range(limit)]
    for job in waiting:
        manager.redis.set(f"dashapp:job:{job}:queued", f"{time.time():.3f}", ex=600)
    # and one of theirs that ended long ago (its lease ran out): not counted,
    # and left as it is (job_state would have marked it lost, with a warning)
    manager.redis.set("dashapp:job:ended-0:claim", "done", ex=600)
    owners = dict.fromkeys([*waiting, "ended-0"], f"user:{admin.id}")
    manager.redis.set(live_key, json.dumps(owners))
    queued = manager.redis.keys("dashapp:job:*:queued")
    try:
        answer = deployment.page("/scenarios").fire(RUN, {CLICK: 1})
        assert t("jobs.busy_user", "fr") in answer.texts(), answer.texts()
        assert sorted(manager.redis.keys("dashapp:job:*:queued")) == sorted(queued)
        assert manager.redis.get("dashapp:job:ended-0:claim") == b"done"
        assert "ended-0" not in json.loads(manager.redis.get(live_key))
        # another user's job is queued and runs
        page = deployment.page("/scenarios", role="planner")
        answer = page.fire(RUN, {CLICK: 1})
        assert t("jobs.busy_user", "fr") not in answer.texts()
        assert "scn-status-alert" in answer.texts()
    finally:
        for job in waiting:
            manager.terminate_job(job)  # a queued job cancelled never starts
        manager.redis.delete(live_key)
