"""Background jobs that start clean, die with their server and never hold its socket.

Dash's ``DiskcacheManager`` forks the web server once per background callback. A
threaded server is the wrong process to fork: the child gets a copy of every lock
the server's other threads held at that instant, and no thread of its own to
release them. SQLite's mutexes are such locks (a C library, out of reach of
``os.register_at_fork``): a risk tab's job, forked while another request was in
SQLite, waited for ever in its first ``set_progress`` (diskcache closing the
connection it inherited), and the test run that started it never exited, since
``multiprocess`` joins its non-daemon children at exit.

:class:`ServerBoundManager` therefore starts jobs from a *fork server*
(``multiprocess``'s ``forkserver`` start method): one single-threaded process,
started by ``exec`` the first time it is needed, with the job modules
(:data:`JOB_MODULES`) imported once. Each job is forked from it, so it starts with
no lock held, no connection and no socket of the web server, and without the
import time a fresh interpreter would cost. The job, its arguments and the
diskcache handle travel pickled (dill); the diskcache opens its own connection.
Jobs are daemonic (a server that exits stops them rather than waiting for them)
and watch the server, leaving as soon as it is gone (:func:`bind_to_server`).

``PR_SET_PDEATHSIG`` is not used: it fires when the *thread* that forked exits, which
in a threaded server is the request thread, right after the job has started.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import threading
from functools import partial, update_wrapper

import diskcache
import flask
import multiprocess
import psutil
from dash import DiskcacheManager
from multiprocess import forkserver, popen_forkserver, reduction, spawn, util
from multiprocess.context import set_spawning_popen

from dashapp.config import Config
from dashapp.job_context import (
    REFUSED_JOB,
    admit_job,
    busy_answer,
    job_context,
    job_owner,
    job_request_context,
)
from dashapp.process import bind_to_server, unique_job_key

log = logging.getLogger(__name__)

#: The modules of the app's background callbacks, imported once by the fork
#: server so that a job starts without importing them (checked against the app's
#: callbacks by ``tests/unit/dashapp/test_jobs.py``).
JOB_MODULES = (
    "dashapp.jobs",
    "dashapp.workers",  # a job's CPU priority (lower_job_priority)
    "callbacks.briefs",
    "callbacks.forecast",
    "callbacks.importer",
    "callbacks.scenario_curve",
    "callbacks.scenario_run",
    "callbacks.segmentation",
)

_FORKSERVER = multiprocess.get_context("forkserver")
#: in the command line of the fork server, and so of every job forked from it
FORK_SERVER_MARK = "multiprocess.forkserver"


def job_process(pid) -> psutil.Process | None:
    """The running job process ``pid``, or None: ended, or its number reused.

    A job is reaped by its fork server as soon as it ends, not left a zombie of
    the web server: its number is free at once, and Dash, which kills a job's
    pid once its result is read, must not kill whatever process took it (any
    process of this user). A job's command line is its fork server's.
    """
    try:
        proc = psutil.Process(int(pid))
        if proc.status() == psutil.STATUS_ZOMBIE:
            return None
        return proc if FORK_SERVER_MARK in " ".join(proc.cmdline()) else None
    except (psutil.Error, TypeError, ValueError):
        return None


class _JobPopen(popen_forkserver.Popen):
    """The fork server's launch, without the web process's ``__main__``.

    ``multiprocess`` has a forked child import the parent's main script again (as
    ``__mp_main__``), which for ``python app.py`` or any script that builds a Dash
    app at module level would build a second app, and start a server, in every
    job. Jobs run functions of importable modules only, so the main script is
    left out of what the child prepares; the rest is the library's launch.
    """

    def _launch(self, process_obj):
        prep = spawn.get_preparation_data(process_obj._name)
        prep.pop("init_main_from_name", None)
        prep.pop("init_main_from_path", None)
        payload = io.BytesIO()
        set_spawning_popen(self)
        try:
            reduction.dump(prep, payload)
            reduction.dump(process_obj, payload)
        finally:
            set_spawning_popen(None)
        self.sentinel, w = forkserver.connect_to_new_process(self._fds)
        # the job watches a copy of the write end to learn that this process died
        parent_w = os.dup(w)
        self.finalizer = util.Finalize(self, util.close_fds, (parent_w, self.sentinel))
        with open(w, "wb", closefd=True) as pipe:
            pipe.write(payload.getbuffer())
        self.pid = forkserver.read_signed(self.sentinel)


class _JobProcess(_FORKSERVER.Process):
    @staticmethod
    def _Popen(process_obj):  # noqa: N802 (the library's name)
        return _JobPopen(process_obj)


def _forget_the_parents_fork_server() -> None:
    """In a process forked from one that had started a fork server (gunicorn's
    ``--preload`` master, a test's fork): start one of its own when needed.

    The parent's belongs to the parent: ``multiprocess`` would ``waitpid`` a
    process that is not this one's child (and fail), and keeping its "alive"
    descriptor would keep it running for this process.
    """
    state = forkserver._forkserver
    if state._forkserver_alive_fd is not None:
        with contextlib.suppress(OSError):
            os.close(state._forkserver_alive_fd)
    state._forkserver_address = None
    state._forkserver_alive_fd = None
    state._forkserver_pid = None
    state._lock = threading.Lock()  # possibly held by another thread at the fork


os.register_at_fork(after_in_child=_forget_the_parents_fork_server)


class ServerBoundManager(DiskcacheManager):
    """``DiskcacheManager`` whose jobs are forked from a clean fork server, and
    bound to the web server's life.

    Progress, cancel and results go through Dash's own machinery unchanged (a job
    is still one process, its pid what Dash kills on cancel); only where the
    process comes from and what it watches differ (:func:`bind_to_server`).
    """

    def __init__(self, cache=None, config: Config | None = None):
        super().__init__(cache)
        self.config = config  # the job's app settings (a job has no request of its own)
        # read when the fork server starts (start_fork_server or the first job)
        _FORKSERVER.set_forkserver_preload(list(JOB_MODULES))

    @staticmethod
    def start_fork_server() -> None:
        """Start this process's fork server now rather than at the first job.

        Returns at once; the server imports :data:`JOB_MODULES` meanwhile (2.5 s
        on the demo machine, ``bench/bench_jobs.py``), time the first job would
        otherwise wait for.
        """
        forkserver.ensure_running()

    def job_running(self, job):
        return job_process(job) is not None if job else False

    def terminate_job(self, job):
        if not job or job_process(job) is None:
            return  # ended (and reaped), or its number now another process's
        with contextlib.suppress(psutil.NoSuchProcess):  # ended meanwhile
            super().terminate_job(job)

    def build_cache_key(self, fn, args, cache_args_to_ignore, triggered):
        return unique_job_key(
            super().build_cache_key(fn, args, cache_args_to_ignore, triggered)
        )

    def call_job_fn(self, key, job_fn, args, context):
        """Start the job, unless too many run already (:func:`admit_job`, over
        every web process sharing this cache); then it never starts and its
        answer says why."""
        config = self.config or Config()
        limits = config.job_limit, config.max_user_jobs
        owner = job_owner(context)
        with self.handle.transact():
            live, refused = admit_job(
                self.handle.get(LIVE_JOBS, {}), owner, self.job_running, *limits
            )
            if refused is None:
                process = _JobProcess(
                    target=partial(
                        _bound_job, os.getpid(), self.config, _logs_json_lines(), job_fn
                    ),
                    args=(key, self._make_progress_key(key), args, job_context(context)),
                    daemon=True,  # stopped, not waited for, when the server exits
                )
                process.start()
                live[str(process.pid)] = owner
            self.handle.set(LIVE_JOBS, live)
        if refused is not None:
            log.warning("job refused for %s: %s limit reached", owner, refused)
            self.handle.set(key, busy_answer(refused))
            return REFUSED_JOB
        return process.pid


#: cache entry of the jobs running beside the web servers: pid -> owner
LIVE_JOBS = "dashapp-live-jobs"


def make_background_manager(config: Config):
    """The app's background callback manager.

    With ``config.redis_url``, a :class:`dashapp.workers.WorkerManager` sending the
    jobs to Celery workers; otherwise a :class:`ServerBoundManager` forking them
    beside the server, their results under ``cache_dir/jobs``.

    Examples
    --------
    >>> from dashapp.config import Config
    >>> make_background_manager(Config(data_dir=tmp))  # doctest: +SKIP
    """
    if config.redis_url:
        from dashapp.workers import make_worker_manager

        return make_worker_manager(config)
    manager = ServerBoundManager(
        diskcache.Cache(str(config.cache_dir / "jobs")), config
    )
    manager.start_fork_server()
    return manager


#: How a job's forecast error travels to the web process: Dash hands the error
#: handler only the job's text, so the error's code and values go in it as JSON.
JOB_FORECAST_ERROR = "ForecastError "


class JobForecastError(RuntimeError):
    """A :class:`data.forecast.ForecastError` raised in a background job, its
    ``to_dict()`` in the message (read back by ``dashapp.auth.on_callback_error``)."""

    def __init__(self, error) -> None:
        super().__init__(JOB_FORECAST_ERROR + json.dumps(error.to_dict(), default=str))


def with_config(fn, config: Config):
    """Background callback ``fn`` with the app's settings bound as first argument.

    A job runs in another process, where no request tells it the app's config.
    A forecast error leaving the job (a scenario run or coverage curve on
    forecast demand) keeps its code and values, so the page words it.
    """
    bound = partial(fn, config)

    def job(*args, **kwargs):
        from data.forecast import ForecastError

        try:
            return bound(*args, **kwargs)
        except ForecastError as exc:
            raise JobForecastError(exc) from exc

    return update_wrapper(job, fn)


def job_app(config: Config) -> flask.Flask:
    """The Flask app a job runs in: the settings and caches of the web app's.

    A job from the fork server has no app of the web server's; what the job code
    reads from one (``current_app.config["DASHAPP"]``, flask-caching) it finds
    here, without building the pages and callbacks again.
    """
    from dashapp.cache import cache, cache_config

    server = flask.Flask("dashapp-job")
    server.config["DASHAPP"] = config
    cache.init_app(server, config=cache_config(config.cache_dir))
    return server


def _logs_json_lines() -> bool:
    """Whether this process logs JSON lines (a production start): its jobs then
    log the same way, from a fork server that has no logging of its own."""
    from dashapp.logs import JsonFormatter

    return any(
        isinstance(handler.formatter, JsonFormatter)
        for handler in logging.getLogger().handlers
    )


def _bound_job(
    server_pid: int, config, json_lines: bool, job_fn, key, progress_key, args, context
):
    bind_to_server(server_pid)
    if config is None:  # a bare manager (tests, scripts): no app to run in
        return job_fn(key, progress_key, args, context)
    from dashapp.logs import configure_logging
    from dashapp.workers import lower_job_priority

    if not logging.getLogger().handlers:
        configure_logging(json_lines=json_lines)
    # the pages first, as for a worker's jobs (DASHAPP_JOB_PRIORITY)
    lower_job_priority(config.job_priority)
    with job_request_context(job_app(config), context):
        return job_fn(key, progress_key, args, context)
