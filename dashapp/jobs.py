"""Background jobs that die with their server and never hold its socket.

Dash's ``DiskcacheManager`` forks one process per background callback. The fork
inherits every descriptor of the server, its listening socket included, and nothing
ties it to the server's life: a solve outliving a killed server keeps the port (a
restart fails with "address already in use") and may still save its scenario
minutes later. Jobs started by :class:`ServerBoundManager` first give up every
inherited listening socket, then watch their parent and leave as soon as it is gone.

``PR_SET_PDEATHSIG`` is not used: it fires when the *thread* that forked exits, which
in a threaded server is the request thread, right after the job has started.
"""

from __future__ import annotations

import contextlib
import os
import socket
import stat
import threading
import time
import uuid
from functools import partial, update_wrapper

import diskcache
import psutil
from dash import DiskcacheManager

from dashapp.config import Config

WATCH_SECONDS = 0.5
ORPHAN_EXIT_CODE = 75  # EX_TEMPFAIL: the job was cut short, nothing was saved
_server_pid: int | None = None  # set in a job process by bind_to_server


class ServerBoundManager(DiskcacheManager):
    """``DiskcacheManager`` whose job processes are bound to the server process.

    Progress, cancel and results go through Dash's own machinery unchanged; only
    the job's start is wrapped (:func:`bind_to_server`).
    """

    def build_cache_key(self, fn, args, cache_args_to_ignore, triggered):
        return unique_job_key(
            super().build_cache_key(fn, args, cache_args_to_ignore, triggered)
        )

    def call_job_fn(self, key, job_fn, args, context):
        server_pid = os.getpid()
        return super().call_job_fn(
            key, partial(_bound_job, server_pid, job_fn), args, context
        )


def unique_job_key(key: str) -> str:
    """A job's result key: Dash's key made unique to this one job.

    Dash keys a background job's result and progress by the callback and its
    inputs alone (the app sets no ``cache_by``, which would cache results): two
    planners, or two tabs, running the same plan at once shared one key, the
    first to poll took the result and the other user's job was reported lost
    (Celery) or showed the other's result (jobs beside the server). Found by
    ``bench/bench_load.py``, where users run the default plan.
    """
    return f"{key}-{uuid.uuid4().hex}"


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
    return ServerBoundManager(diskcache.Cache(str(config.cache_dir / "jobs")))


def with_config(fn, config: Config):
    """Background callback ``fn`` with the app's settings bound as first argument.

    A job runs in another process, where no request tells it the app's config.
    """
    return update_wrapper(partial(fn, config), fn)


def _bound_job(server_pid: int, job_fn, *args):
    bind_to_server(server_pid)
    return job_fn(*args)


def bind_to_server(server_pid: int, every: float = WATCH_SECONDS) -> list[int]:
    """In a job process: release inherited listening sockets, exit with the server.

    Returns the descriptors released (see :func:`release_listening_sockets`) and
    starts a daemon thread that checks every ``every`` seconds that the parent is
    still ``server_pid``; once it is not, the job's own children are killed and
    the job exits at once (``os._exit``: no clean-up that could still write).
    """
    global _server_pid
    _server_pid = server_pid
    released = release_listening_sockets()
    if os.getppid() != server_pid:
        _leave()
    threading.Thread(
        target=_watch, args=(server_pid, every), name="job-watchdog", daemon=True
    ).start()
    return released


def server_pid() -> int:
    """The web server's process: this one, or in a job the server it is bound to.

    What a process started from a job must outlive no longer than (e.g. the
    forecasts' precompute, :mod:`dashapp.services.forecasting`).
    """
    return _server_pid if _server_pid is not None else os.getpid()


def release_listening_sockets() -> list[int]:
    """Let go of every listening socket this process inherited; their descriptors.

    Only sockets in the listening state are touched (files, pipes and connected
    sockets, such as the diskcache database, are left alone). Each one's descriptor
    is pointed at ``/dev/null`` rather than closed: the server's socket object, copied
    by the fork, may close that number later, and must not close a file opened since.
    """
    folder = "/proc/self/fd" if os.path.isdir("/proc/self/fd") else "/dev/fd"
    released = []
    devnull = os.open(os.devnull, os.O_RDWR)
    try:
        for name in os.listdir(folder):
            fd = int(name)
            if fd != devnull and _is_listening(fd):
                os.dup2(devnull, fd, inheritable=False)
                released.append(fd)
    finally:
        os.close(devnull)
    return released


def _is_listening(fd: int) -> bool:
    try:
        if not stat.S_ISSOCK(os.fstat(fd).st_mode):
            return False
        sock = socket.socket(fileno=fd)
    except OSError:  # closed meanwhile (the listing's own descriptor) or not usable
        return False
    try:
        return bool(sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN))
    except OSError:
        return False
    finally:
        sock.detach()  # the descriptor stays open: only a listener is replaced


def _watch(server_pid: int, every: float) -> None:
    while os.getppid() == server_pid:
        time.sleep(every)
    _leave()


def _leave() -> None:
    """The server is gone: stop the job's own children, then exit immediately."""
    with contextlib.suppress(psutil.Error):
        for child in psutil.Process().children(recursive=True):
            with contextlib.suppress(psutil.Error):
                child.kill()
    os._exit(ORPHAN_EXIT_CODE)
