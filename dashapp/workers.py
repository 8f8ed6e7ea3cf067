"""Background jobs on Celery workers, with Redis as their broker and result store.

With ``DASHAPP_REDIS_URL`` set, the app's background callbacks (solves, coverage
curves, imports, forecasts, segmentation) are not forked beside the web server:
they are sent to Celery workers (``python -m dashapp worker``), on this machine or
others, through Redis, which also keeps their progress and results. Dash's
``CeleryManager`` does the sending and the reading; :class:`WorkerManager` adds
what a deployment needs on top of it:

* **the same checks as in the web server.** A job runs the callback's own
  ``requires`` check inside the worker, on the user the web server put in the
  job's context (Dash's ``custom_data``, from the session); the handles the
  browser polls with stay signed by Dash (``cacheKey`` and ``job``, 4.4.1), so a
  browser can neither read nor cancel another page's job. The session cookie and
  the ``Authorization`` header are taken out of the job's context: a job needs
  neither, and Redis keeps no credential of a user. The job runs in a Flask
  request context of the worker's app holding the client's address, language and
  request id, as a job forked beside the web server does.
* **a lost job is said, not spun forever.** A job *claims* itself in Redis when it
  starts and its worker's main process renews a *lease* on it every third of
  ``job_lease_s`` while it runs. A job whose lease ran out without a result (its
  process or its whole worker killed, the machine gone) is reported to the user
  as lost; a job still queued when no worker has been alive for ``job_lease_s``
  is reported as having no worker, and can no longer start (the claim is taken
  in its place). Nothing half-done is saved: a job saves at its very end, in one
  transaction.
* **cancel across machines.** Cancelling a queued job takes its claim first, so
  it never starts; a running one is killed (``SIGKILL``, as Dash's
  ``DiskcacheManager`` does) by its worker, wherever that is.

Jobs are acknowledged when a worker takes them (Celery's default): a job whose
worker dies is not run again behind the user's back.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

import flask
from dash import CeleryManager
from dash.exceptions import PreventUpdate

from dashapp.config import Config
from dashapp.job_context import (
    REFUSED_JOB,
    admit_job,
    busy_answer,
    job_context,
    job_owner,
    job_request_context,
)
from dashapp.process import unique_job_key

log = logging.getLogger(__name__)

PREFIX = "dashapp"
DAY_S = 24 * 3600
REDIS_TIMEOUT_S = 5
LOST = "JobLostError"  # how on_callback_error tells a lost job from an error
NO_WORKER = "NoWorkerError"
#: the jobs queued or running, job id -> owner (dashapp.job_context.admit_job)
LIVE_JOBS = f"{PREFIX}:live-jobs"
# a job process runs this much nicer than the worker's main process: on a machine
# it shares with a web server, a solve takes the cores the pages leave, and pages
# stay fast (the main process, which renews the leases, keeps its priority)
JOB_NICENESS = 10
# Linux shares the CPU between sessions (autogroups) first and by nice value only
# within a session: each job moves to a session of its own made as nice
# (sched(7), "The autogroup feature"; own_nicer_session)
AUTOGROUP_SWITCH = "/proc/sys/kernel/sched_autogroup_enabled"
AUTOGROUP_SELF = "/proc/self/autogroup"


def celery_app(config: Config):
    """The Celery application of ``config.redis_url`` (broker and results).

    JSON only (a message can never carry code to run), one job prefetched per
    worker process (a long solve does not keep others waiting behind it), and
    jobs acknowledged when taken, so a job whose worker died is not run again.
    """
    from celery import Celery

    app = Celery("dashapp", broker=config.redis_url, backend=config.redis_url)
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_accept_content=["json"],
        task_acks_late=False,
        worker_prefetch_multiplier=1,
        result_expires=DAY_S,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "socket_timeout": REDIS_TIMEOUT_S,
            "socket_connect_timeout": REDIS_TIMEOUT_S,
        },
        redis_socket_timeout=REDIS_TIMEOUT_S,
        redis_socket_connect_timeout=REDIS_TIMEOUT_S,
        redis_backend_health_check_interval=30,
        worker_hijack_root_logger=False,  # the app's JSON lines stay
        worker_send_task_events=False,
        worker_max_tasks_per_child=200,  # a solve's memory goes back now and then
        broker_connection_retry=True,
    )
    return app


def make_worker_manager(config: Config) -> WorkerManager:
    """The background-callback manager sending jobs to Celery workers."""
    return WorkerManager(celery_app(config), config)


def _key(job: str, what: str) -> str:
    return f"{PREFIX}:job:{job}:{what}"


def _worker_key(hostname: str) -> str:
    return f"{PREFIX}:worker:{hostname}"


WORKERS_SET = f"{PREFIX}:workers"


class WorkerManager(CeleryManager):
    """Dash's ``CeleryManager`` with leases, claims, lost jobs and clean contexts.

    ``server`` (the Flask app) is set by :func:`dashapp.create_app`: a job runs in
    a request context of the worker's own app.
    """

    def __init__(self, celery, config: Config) -> None:
        super().__init__(celery)
        self.lease_s = int(config.job_lease_s)
        self.limits = config.job_limit, int(config.max_user_jobs)
        self.server: flask.Flask | None = None

    def build_cache_key(self, fn, args, cache_args_to_ignore, triggered):
        return unique_job_key(
            super().build_cache_key(fn, args, cache_args_to_ignore, triggered)
        )

    @property
    def redis(self):
        """The result store's Redis client (its connection pool survives forks)."""
        return self.handle.backend.client

    # -- in the web server ----------------------------------------------------------
    def call_job_fn(self, key, job_fn, args, context):
        """Queue the job, unless too many are queued or running already
        (:func:`admit_job`, over every web server of this Redis); then it is
        never queued and its answer says why."""
        from celery.utils import uuid

        owner = job_owner(context)
        with self.redis.lock(LIVE_JOBS + ":lock", timeout=30, blocking_timeout=30):
            raw = self.redis.get(LIVE_JOBS)
            live, refused = admit_job(
                json.loads(raw) if raw else {}, owner, self.job_live, *self.limits
            )
            if refused is None:
                job = uuid()
                # before sending: a worker quick to start must find the job queued
                self.redis.set(_key(job, "queued"), f"{time.time():.3f}", ex=DAY_S)
                job_fn.apply_async(
                    (key, self._make_progress_key(key), args, job_context(context)),
                    task_id=job,
                )
                live[job] = owner
            self.redis.set(LIVE_JOBS, json.dumps(live), ex=DAY_S)
        if refused is not None:
            log.warning("job refused for %s: %s limit reached", owner, refused)
            self.handle.backend.set(key, json.dumps(busy_answer(refused)))
            return REFUSED_JOB
        return job

    def get_result(self, key, job):
        """The job's result; a lost job's answer is an error saying so.

        Unlike ``CeleryManager`` it does not revoke a finished job (a revoke with
        ``terminate`` could kill its process between its result and its end).
        """
        raw = self.handle.backend.get(key)
        if raw is None:
            state = self.job_state(job) if job else "unknown"
            if state in ("lost", "no_worker"):
                # the result may have landed just before the lease ran out
                raw = self.handle.backend.get(key)
                if raw is None:
                    return _lost_answer(state)
            else:
                return self.UNDEFINED
        self.clear_cache_entry(key)
        self.clear_cache_entry(self._make_progress_key(key))
        return json.loads(raw)

    def job_live(self, job) -> bool:
        """Queued or running, read without changing any state (unlike
        :meth:`job_state`, which gives up a job it finds lost): what the limit
        of jobs at once counts."""
        job = str(job)
        claim = _text(self.redis.get(_key(job, "claim")))
        if claim is None:
            return bool(self.redis.exists(_key(job, "queued")))
        return claim == "running" and bool(self.redis.exists(_key(job, "lease")))

    def job_running(self, job):
        # "done": the callback returned and its result is being written
        return self.job_state(job) in ("queued", "running", "done")

    def terminate_job(self, job):
        """Cancel ``job``: a queued one never starts, a running one is killed.

        Dash also calls this once a result was read: a job that ended is left
        alone.
        """
        if job is None:
            return
        job = str(job)
        if job == REFUSED_JOB:
            return  # never queued
        claim = _key(job, "claim")
        if self.redis.set(claim, "cancelled", nx=True, ex=DAY_S):
            self.handle.control.revoke(job)  # workers alive skip it at once
            return
        if _text(self.redis.get(claim)) == "running":
            self.redis.set(claim, "cancelled", ex=DAY_S)
            self.handle.control.revoke(job, terminate=True, signal="SIGKILL")

    def terminate_unhealthy_job(self, job):
        return False  # a lost job is reported by get_result

    def job_state(self, job) -> str:
        """``queued``, ``running``, ``done``, ``cancelled``, ``lost`` or
        ``no_worker`` (queued while no worker was alive for a lease)."""
        job = str(job)
        if job == REFUSED_JOB:
            return "cancelled"  # never queued: the limit of jobs at once
        claim = _text(self.redis.get(_key(job, "claim")))
        if claim is None:
            queued = _text(self.redis.get(_key(job, "queued")))
            if queued is None:  # Redis lost it (restarted without its data)
                return self._give_up(job, "lost")
            if self.workers_alive():
                return "queued"
            waited = time.time() - float(queued)
            if waited <= self.lease_s:
                return "queued"
            log.warning("job %s: no worker alive for %.0f s", job, waited)
            return self._give_up(job, "no_worker")
        if claim in ("running", "done"):
            if self.redis.exists(_key(job, "lease")):
                return "running" if claim == "running" else "done"
            self.redis.set(_key(job, "claim"), "lost", ex=DAY_S)
            log.warning("job %s lost: its lease ran out without a result", job)
            return "lost"
        return claim

    def _give_up(self, job: str, why: str) -> str:
        """Take a job's claim so that it never starts; its state then."""
        if self.redis.set(_key(job, "claim"), why, nx=True, ex=DAY_S):
            return why
        return self.job_state(job)  # a worker took it just now

    def workers_alive(self) -> list[str]:
        """Names of the workers whose heartbeat has not run out."""
        names = sorted(_text(n) for n in self.redis.smembers(WORKERS_SET))
        if not names:
            return []
        pipe = self.redis.pipeline()
        for name in names:
            pipe.exists(_worker_key(name))
        alive = [n for n, up in zip(names, pipe.execute(), strict=True) if up]
        gone = set(names) - set(alive)
        if gone:
            self.redis.srem(WORKERS_SET, *gone)
        return alive

    def check(self) -> None:
        """Redis answers and keeps a value (what ``/healthz`` checks)."""
        import uuid

        key, value = f"{PREFIX}:healthz:{uuid.uuid4().hex}", uuid.uuid4().hex
        self.redis.set(key, value, ex=30)
        try:
            if _text(self.redis.get(key)) != value:
                raise RuntimeError("Redis did not return the value just stored")
        finally:
            self.redis.delete(key)

    def ping_workers(self, timeout: float = 1.0) -> list[str]:
        """Workers answering Celery's ``ping`` within ``timeout`` seconds.

        Waits no longer than it takes every worker whose heartbeat is alive to
        answer; none alive, it does not wait at all.
        """
        expected = self.workers_alive()
        if not expected:
            return []
        answers = self.handle.control.ping(timeout=timeout, limit=len(expected))
        return sorted(name for answer in answers for name in answer)

    # -- in the worker ----------------------------------------------------------------
    def make_job_fn(self, fn, progress, key=None):
        return super().make_job_fn(self._in_worker(fn), progress, key)

    def _in_worker(self, fn):
        manager = self

        @wraps(fn)
        def run(*args, **kwargs):
            from celery import current_task
            from dash._callback_context import context_value

            job = current_task.request.id
            if not manager.claim(job):
                log.info("job %s was cancelled or given up before it started", job)
                raise PreventUpdate
            try:
                with manager.request_context(context_value.get()):
                    return fn(*args, **kwargs)
            finally:
                manager.redis.set(_key(job, "claim"), "done", xx=True, ex=DAY_S)

        return run

    def claim(self, job: str) -> bool:
        """Take ``job`` for this process: ``False`` if it was cancelled or lost."""
        pipe = self.redis.pipeline()
        pipe.set(_key(job, "claim"), "running", nx=True, ex=DAY_S)
        pipe.set(_key(job, "lease"), os.getpid(), ex=self.lease_s)
        taken, _ = pipe.execute()
        if not taken:
            self.redis.delete(_key(job, "lease"))
        return bool(taken)

    def request_context(self, context):
        """A request context of the worker's app like the one that started the job."""
        if self.server is None:
            raise RuntimeError("WorkerManager.server is not set (see create_app)")
        return job_request_context(self.server, context)


def _lost_answer(state: str) -> dict:
    name = NO_WORKER if state == "no_worker" else LOST
    return {"background_callback_error": {"msg": f"{name}: {state}", "tb": ""}}


def _text(value) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


# -- the worker process -----------------------------------------------------------------
def default_concurrency() -> int:
    """One job per CPU core this process may use: a solve keeps one core busy."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class Heartbeat:
    """In a worker's main process: its own heartbeat and the leases of its jobs.

    Every ``lease_s / 3`` seconds it renews the key saying this worker is alive
    and the lease of every job its pool processes run (Celery's
    ``active_requests``, kept by the main process): a pool process killed, or
    the whole worker, stops the renewals, and the leases run out.
    """

    def __init__(self, manager: WorkerManager, hostname: str) -> None:
        self.manager = manager
        self.hostname = hostname
        self.stopped = threading.Event()
        self.thread = threading.Thread(
            target=self._run, name="dashapp-heartbeat", daemon=True
        )

    def start(self) -> Heartbeat:
        self.beat()
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopped.set()
        with contextlib.suppress(Exception):
            self.manager.redis.delete(_worker_key(self.hostname))

    def beat(self) -> None:
        from celery.worker import state

        lease = self.manager.lease_s
        redis = self.manager.redis
        pipe = redis.pipeline()
        pipe.set(_worker_key(self.hostname), socket.gethostname(), ex=lease)
        pipe.sadd(WORKERS_SET, self.hostname)
        for request in list(state.active_requests):
            pipe.expire(_key(request.id, "lease"), lease)  # it holds the job's pid
        pipe.execute()

    def _run(self) -> None:
        every = self.manager.lease_s / 3
        while not self.stopped.wait(every):
            try:
                self.beat()
            except Exception as exc:  # Redis away for a moment: try again
                log.warning("heartbeat failed: %s: %s", type(exc).__name__, exc)


def own_nicer_session(niceness: int = JOB_NICENESS) -> bool:
    """Move this job process to a session of its own, ``niceness`` nicer than the
    others; whether it was done.

    With the kernel's autogroups (``kernel.sched_autogroup_enabled``), each
    session competes for the CPU as one, and a process's nice value counts only
    against the others of its session: a job at nice 10 in the worker's session
    still took one of two cores from the web server's session, which doubled the
    pages' p95 while solves ran (``bench/bench_load.py``). In a session of its own
    (a new autogroup) made nicer, the job takes what the other sessions leave,
    while the worker's main process, which renews the leases, keeps its weight.
    Celery's pool processes are killed with their main process
    (``PR_SET_PDEATHSIG``), so leaving its process group loses no job's end.
    Under a systemd unit with CPU accounting the unit's ``CPUWeight`` does the
    rest (``deploy/dashapp-worker.service``).
    """
    try:
        with open(AUTOGROUP_SWITCH) as switch:
            if switch.read().strip() != "1":
                return False
        if os.getsid(0) != os.getpid():  # a session leader already has its own
            os.setsid()
        with open(AUTOGROUP_SELF, "w") as group:
            group.write(str(int(niceness)))
    except OSError:  # no autogroups in this kernel, or not allowed
        return False
    return True


def idle_scheduling() -> bool:
    """Run this job process under Linux's ``SCHED_IDLE`` policy; whether it was done.

    A nicer session (:func:`own_nicer_session`) sets how much of the CPU a job
    gets against the pages; it still waits its turn when a page's request wakes
    up. Under ``SCHED_IDLE`` a waking task of any other policy preempts the job at
    once, and the scheduler places it on the job's core as on an idle one
    (sched(7), "SCHED_IDLE"): a solve takes the CPU time the pages leave without
    making a request wait for it. Lowering one's own policy needs no privilege;
    the solver's threads, started later, inherit it. Elsewhere (not Linux, or
    refused) the job keeps the policy it had.
    """
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        return False
    return True


def lower_job_priority(priority: str) -> list[str]:
    """Lower this job process's CPU priority as ``priority`` says
    (:attr:`Config.job_priority`); the steps that took effect.

    ``idle``: nice 10, a session of its own as nice, and ``SCHED_IDLE``;
    ``low``: the first two; ``normal``: none (a machine with workers only).
    """
    done: list[str] = []
    if priority == "normal":
        return done
    with contextlib.suppress(OSError):
        os.nice(JOB_NICENESS)
        done.append("nice")
    if own_nicer_session(JOB_NICENESS):
        done.append("session")
    if priority == "idle" and idle_scheduling():
        done.append("idle")
    return done


def run_worker(
    config: Config, create_app: Callable[..., Any], concurrency: int | None = None
) -> int:
    """``python -m dashapp worker``: check the settings, then run a Celery worker.

    The app is built once in the main process by ``create_app`` (the app factory,
    :func:`dashapp.create_app`), which registers every job under its name; each
    pool process is forked from it and opens its own database connections.
    """
    from celery import signals

    from dashapp import services
    from dashapp.health import check_worker_start
    from dashapp.logs import configure_logging

    check_worker_start(config)
    configure_logging(json_lines=True)
    app = create_app(config, prepare_store=False)
    manager = app._background_manager
    services.get_store(config.database_url).engine.dispose()
    services.get_store.cache_clear()
    n = concurrency or config.worker_concurrency or default_concurrency()
    hostname = f"dashapp-{os.getpid()}@{socket.gethostname()}"
    beats: list[Heartbeat] = []

    def ready(**_):
        beats.append(Heartbeat(manager, hostname).start())

    def shutdown(**_):
        for beat in beats:
            beat.stop()

    def lower_priority(**_):
        lower_job_priority(config.job_priority)

    signals.worker_process_init.connect(lower_priority, weak=False)
    signals.worker_ready.connect(ready, weak=False)
    signals.worker_shutdown.connect(shutdown, weak=False)
    log.info(
        "worker %s: %d processes, Redis jobs, job priority %s",
        hostname,
        n,
        config.job_priority,
    )
    manager.handle.worker_main(
        [
            "worker",
            f"--hostname={hostname}",
            f"--concurrency={n}",
            "--pool=prefork",
            "--loglevel=INFO",
            "--without-gossip",  # workers need not know each other
            "--without-mingle",
            "-O",
            "fair",
        ]
    )
    return 0
