"""Job processes: the key of a job's result, and a tie to the web server.

Background jobs (:mod:`dashapp.jobs` beside the server, :mod:`dashapp.workers` on
Celery) each get a result key of their own. Jobs and the forecasts' precompute
(:mod:`dashapp.services.forecasting`) forked or spawned from a web server give up
the listening sockets they inherited and watch their parent, leaving as soon as the
server is gone. No Dash here: services use it too.
"""

from __future__ import annotations

import contextlib
import os
import socket
import stat
import threading
import time
import uuid

import psutil

WATCH_SECONDS = 0.5
ORPHAN_EXIT_CODE = 75  # EX_TEMPFAIL: the job was cut short, nothing was saved
_server_pid: int | None = None  # set in a job process by bind_to_server


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


def bind_to_server(server_pid: int, every: float = WATCH_SECONDS) -> list[int]:
    """In a job process: release inherited listening sockets, exit with the server.

    Returns the descriptors released (see :func:`release_listening_sockets`) and
    starts a daemon thread that checks every ``every`` seconds that ``server_pid``
    still runs (its death is what ends a job: a fork server outlives its web
    server while jobs keep it open) and that this process's parent is still the
    one it started with (the web server or its fork server); once either is not
    so, the job's own children are killed and the job exits at once
    (``os._exit``: no clean-up that could still write).
    """
    global _server_pid
    _server_pid = server_pid
    released = release_listening_sockets()
    parent = os.getppid()
    if not _running(server_pid):
        _leave()
    threading.Thread(
        target=_watch, args=(server_pid, parent, every), name="job-watchdog",
        daemon=True,
    ).start()  # fmt: skip
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


def _running(pid: int) -> bool:
    """The process exists and has not exited (a zombie has)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _watch(server_pid: int, parent: int, every: float) -> None:
    while os.getppid() == parent and _running(server_pid):
        time.sleep(every)
    _leave()


def _leave() -> None:
    """The server is gone: stop the job's own children, then exit immediately."""
    with contextlib.suppress(psutil.Error):
        for child in psutil.Process().children(recursive=True):
            with contextlib.suppress(psutil.Error):
                child.kill()
    os._exit(ORPHAN_EXIT_CODE)
