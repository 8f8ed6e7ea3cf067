"""What an operator checks: ``/healthz`` and the checks run before a server starts.

``/healthz`` (public, no session) answers whether this process can serve: the
database answers ``SELECT 1``, the cache stores and returns a value, the
background-job backend stores and returns a value (with Celery workers: Redis).
JSON ``{"status": "ok"|"degraded"|"error", "checks": {name: {"status": ..., "ms":
...}}}``, 200 when every check passes, 503 otherwise; a failed check names the
error's type only (the message, which may name hosts, goes to the log with the
request id).

With Celery workers, ``workers`` says how many answer Celery's ``ping`` (within
:data:`WORKER_PING_S`). It is reported, not fatal: without workers the pages, the
API and the saved scenarios still work, only new jobs wait (and their users are
told after a lease that no worker runs them), so a load balancer must keep the web
server in rotation. The answer is then 200 with ``"status": "degraded"``, which a
monitor should alert on.

:func:`check_start` refuses a bad configuration before anything starts, with one
line (:class:`ConfigError`): a database URL of another kind, a database or a Redis
server that does not answer, a port already taken, and in production mode a
missing or short secret key.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable

import flask
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from dashapp.config import Config

log = logging.getLogger(__name__)

PATH = "/healthz"
MIN_SECRET_KEY = 32
REDIS_TIMEOUT_S = 5
WORKER_PING_S = 1.0


class ConfigError(ValueError):
    """A setting that stops the start; its message is the one line shown."""


# -- /healthz ---------------------------------------------------------------------------
def init_health(server: flask.Flask) -> None:
    """Add ``/healthz`` to ``server`` (whose ``extensions["dashapp_jobs"]`` is the
    background-callback manager)."""
    server.add_url_rule(PATH, "healthz", healthz, methods=["GET"])


def healthz():
    """Run every check; 200 when all pass, 503 otherwise."""
    app = flask.current_app
    config: Config = app.config["DASHAPP"]
    manager = app.extensions.get("dashapp_jobs")
    checks = {
        "database": _timed(lambda: check_database(config.database_url)),
        "cache": _timed(check_cache),
        "jobs": _timed(lambda: check_jobs(manager)),
    }
    ok = all(c["status"] == "ok" for c in checks.values())
    status = "ok" if ok else "error"
    if hasattr(manager, "ping_workers"):
        checks["workers"] = check_workers(manager)
        if ok and checks["workers"]["status"] != "ok":
            status = "degraded"
    response = flask.jsonify({"status": status, "checks": checks})
    response.status_code = 200 if ok else 503
    response.headers["Cache-Control"] = "no-store"
    return response


def _timed(check: Callable[[], None]) -> dict:
    started = time.perf_counter()
    try:
        check()
    except Exception as exc:  # any failure is the answer, never a 500
        log.warning("health check failed: %s: %s", type(exc).__name__, exc)
        result = {"status": "error", "error": type(exc).__name__}
    else:
        result = {"status": "ok"}
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def check_database(url: str) -> None:
    """``SELECT 1`` on the app's own engine (its pool, as requests use it)."""
    from dashapp import services

    services.get_store(url).ping()


def _round_trip(put, get, delete, what: str) -> None:
    """Store a fresh value with ``put``, read it back with ``get``, then delete it."""
    key, value = f"healthz:{uuid.uuid4().hex}", uuid.uuid4().hex
    put(key, value)
    try:
        if get(key) != value:
            raise RuntimeError(f"{what} did not return the value just stored")
    finally:
        delete(key)


def check_cache() -> None:
    """Store a value in the app's cache and read it back."""
    from dashapp.cache import cache

    _round_trip(lambda k, v: cache.set(k, v, timeout=30), cache.get, cache.delete,
                "the cache")  # fmt: skip


def check_jobs(manager) -> None:
    """Store a value where background jobs keep progress and results, read it back."""
    if hasattr(manager, "check"):  # Celery workers: their Redis
        manager.check()
        return
    handle = getattr(manager, "handle", None)
    if handle is None:
        raise RuntimeError("no background-job backend")
    _round_trip(lambda k, v: handle.set(k, v, expire=30), handle.get, handle.delete,
                "the job backend")  # fmt: skip


def check_workers(manager) -> dict:
    """The Celery workers answering ``ping``: ``ok`` with their number, or
    ``error`` when none answers (never fatal, see the module's text)."""
    started = time.perf_counter()
    try:
        names = manager.ping_workers(WORKER_PING_S)
    except Exception as exc:
        log.warning("worker ping failed: %s: %s", type(exc).__name__, exc)
        result = {"status": "error", "error": type(exc).__name__, "alive": 0}
    else:
        result = {"status": "ok" if names else "error", "alive": len(names)}
        if not names:
            result["error"] = "no worker answers"
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


# -- before a start ---------------------------------------------------------------------
def check_start(config: Config, production: bool, check_port: bool = True) -> None:
    """Raise :class:`ConfigError` (one line) for a setting the server cannot run with.

    Checked in this order: the database URL's kind, the database answering
    ``SELECT 1``, the Redis server of the cache when one is configured
    (``CACHE_REDIS_URL``) and that of the background jobs (``DASHAPP_REDIS_URL``),
    the shared folder being writable, the port being free (unless ``check_port``
    is false), and in ``production`` mode a secret key shared by every process
    (``DASHAPP_SECRET_KEY``, 32 characters or more).
    """
    from data.store import Store, database_url

    try:
        url = database_url(config.database_url)
    except ValueError as exc:
        raise ConfigError(f"{exc} (DASHAPP_DATABASE_URL or --database-url)") from None
    shown = make_url(url).render_as_string(hide_password=True)
    try:
        store = Store(url)
        try:
            store.ping()
        finally:
            store.engine.dispose()
    except (SQLAlchemyError, OSError) as exc:
        raise ConfigError(f"cannot use the database {shown}: {_reason(exc)}") from None
    redis_url = os.environ.get("CACHE_REDIS_URL")
    if os.environ.get("DASHAPP_CACHE_TYPE") == "RedisCache" and not redis_url:
        raise ConfigError("DASHAPP_CACHE_TYPE=RedisCache needs CACHE_REDIS_URL")
    if redis_url:
        check_redis(redis_url)
    if config.redis_url:
        check_redis(config.redis_url, "DASHAPP_REDIS_URL", celery=True)
    check_shared_dir(config)
    if check_port:
        check_port_free(config.host, config.port)
    if production:
        check_secret_key(config, "production mode")


def check_worker_start(config: Config) -> None:
    """Raise :class:`ConfigError` (one line) for a worker that cannot run.

    A worker needs Redis (``DASHAPP_REDIS_URL``), the database, a schema already
    upgraded by the web server (or ``db upgrade``): a worker never migrates, the
    secret key of the web servers (it checks the upload references they signed),
    and the shared folder.
    """
    from data.store import Store, database_url

    if not config.redis_url:
        raise ConfigError(
            "a worker needs DASHAPP_REDIS_URL, the Redis server the web servers "
            "send their jobs to (redis://[:password@]host:6379/0)"
        )
    check_redis(config.redis_url, "DASHAPP_REDIS_URL", celery=True)
    redis_url = os.environ.get("CACHE_REDIS_URL")
    if redis_url:
        check_redis(redis_url)
    try:
        url = database_url(config.database_url)
    except ValueError as exc:
        raise ConfigError(f"{exc} (DASHAPP_DATABASE_URL or --database-url)") from None
    shown = make_url(url).render_as_string(hide_password=True)
    try:
        store = Store(url)
        try:
            store.ping()
            have, want = store.revision(), store.head_revision()
        finally:
            store.engine.dispose()
    except (SQLAlchemyError, OSError) as exc:
        raise ConfigError(f"cannot use the database {shown}: {_reason(exc)}") from None
    if have != want:
        raise ConfigError(
            f"the database {shown} is at schema revision {have or 'none'}, this "
            f"code needs {want}: start the web server first, or run "
            "python -m dashapp db upgrade"
        )
    check_shared_dir(config)
    check_secret_key(config, "a worker")


def check_secret_key(config: Config, who: str) -> None:
    key = config.secret_key
    if len(key) < MIN_SECRET_KEY:
        raise ConfigError(
            f"{who} needs DASHAPP_SECRET_KEY, the same on every server "
            f"process, of {MIN_SECRET_KEY} characters or more "
            f"({'it has ' + str(len(key)) if key else 'it is not set'}); make one "
            'with: python -c "import secrets; print(secrets.token_urlsafe(48))"'
        )


def check_shared_dir(config: Config) -> None:
    """The shared folder exists (or can be made) and this process can write in it."""
    folder = config.shared_root
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        var = "DASHAPP_SHARED_DIR" if config.shared_dir else "DASHAPP_DATA_DIR"
        raise ConfigError(
            f"cannot write in the shared folder {folder} ({var}): "
            f"{exc.strerror or exc}"
        ) from None


def check_redis(url: str, var: str = "CACHE_REDIS_URL", celery: bool = False) -> None:
    """Connect to the Redis server at ``url`` and PING it (5 s at most).

    ``var`` names the setting in the message; with ``celery``, the Celery package
    the workers need must be installed too.
    """
    try:
        import redis

        if celery:
            import celery as _celery  # noqa: F401
    except ImportError as exc:
        raise ConfigError(
            f"{var} is set but the '{exc.name}' package is missing "
            "(pip install -r requirements.txt)"
        ) from None
    try:
        client = redis.Redis.from_url(
            url,
            socket_connect_timeout=REDIS_TIMEOUT_S,
            socket_timeout=REDIS_TIMEOUT_S,
        )
    except ValueError as exc:
        raise ConfigError(f"{var}: {exc}") from None
    shown = _hide_password(url)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise ConfigError(
            f"cannot reach Redis at {shown} ({var}): {_reason(exc)}"
        ) from None
    finally:
        client.close()


def check_port_free(host: str, port: int) -> None:
    """Bind ``host:port`` once, as the server will, and let it go."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ConfigError(
                    f"port {port} on {host} is already in use (PORT or --port)"
                ) from None
            raise ConfigError(
                f"cannot listen on {host}:{port}: {exc.strerror} (HOST, PORT)"
            ) from None


def _reason(exc: BaseException) -> str:
    """The driver's message, first line, without SQLAlchemy's wrapping."""
    inner = getattr(exc, "orig", None) or exc
    if isinstance(inner, OSError) and inner.filename and inner.strerror:
        return f"{inner.filename}: {inner.strerror}"
    lines = str(inner).strip().splitlines()
    text = " ".join(lines[0].split()) if lines else type(inner).__name__
    return text[:300]


def _hide_password(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    creds, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in creds:
        return url
    return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}"
