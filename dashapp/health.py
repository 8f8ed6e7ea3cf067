"""What an operator checks: ``/healthz`` and the checks run before a server starts.

``/healthz`` (public, no session) answers whether this process can serve: the
database answers ``SELECT 1``, the cache stores and returns a value, the
background-job backend stores and returns a value. JSON
``{"status": "ok"|"error", "checks": {name: {"status": ..., "ms": ...}}}``, 200 when
every check passes, 503 otherwise; a failed check names the error's type only (the
message, which may name hosts, goes to the log with the request id).

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
    checks = {
        "database": _timed(lambda: check_database(config.database_url)),
        "cache": _timed(check_cache),
        "jobs": _timed(lambda: check_jobs(app.extensions.get("dashapp_jobs"))),
    }
    ok = all(c["status"] == "ok" for c in checks.values())
    response = flask.jsonify({"status": "ok" if ok else "error", "checks": checks})
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


def check_cache() -> None:
    """Store a value in the app's cache and read it back."""
    from dashapp.cache import cache

    key, value = f"healthz:{uuid.uuid4().hex}", uuid.uuid4().hex
    cache.set(key, value, timeout=30)
    try:
        if cache.get(key) != value:
            raise RuntimeError("the cache did not return the value just stored")
    finally:
        cache.delete(key)


def check_jobs(manager) -> None:
    """Store a value where background jobs keep progress and results, read it back."""
    handle = getattr(manager, "handle", None)
    if handle is None:
        raise RuntimeError("no background-job backend")
    key, value = f"healthz:{uuid.uuid4().hex}", uuid.uuid4().hex
    handle.set(key, value, expire=30)
    try:
        if handle.get(key) != value:
            raise RuntimeError("the job backend did not return the value just stored")
    finally:
        handle.delete(key)


# -- before a start ---------------------------------------------------------------------
def check_start(config: Config, production: bool, check_port: bool = True) -> None:
    """Raise :class:`ConfigError` (one line) for a setting the server cannot run with.

    Checked in this order: the database URL's kind, the database answering
    ``SELECT 1``, the Redis server of the cache when one is configured
    (``CACHE_REDIS_URL``), the port being free (unless ``check_port`` is false),
    and in ``production`` mode a secret key shared by every process
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
    if check_port:
        check_port_free(config.host, config.port)
    if production:
        key = config.secret_key
        if len(key) < MIN_SECRET_KEY:
            raise ConfigError(
                "production mode needs DASHAPP_SECRET_KEY, the same on every server "
                f"process, of {MIN_SECRET_KEY} characters or more "
                f"({'it has ' + str(len(key)) if key else 'it is not set'}); make one "
                'with: python -c "import secrets; print(secrets.token_urlsafe(48))"'
            )


def check_redis(url: str) -> None:
    """Connect to the Redis server at ``url`` and PING it (5 s at most)."""
    try:
        import redis
    except ImportError:
        raise ConfigError(
            "CACHE_REDIS_URL is set but the 'redis' package is missing "
            "(pip install -r requirements.txt)"
        ) from None
    try:
        client = redis.Redis.from_url(
            url,
            socket_connect_timeout=REDIS_TIMEOUT_S,
            socket_timeout=REDIS_TIMEOUT_S,
        )
    except ValueError as exc:
        raise ConfigError(f"CACHE_REDIS_URL: {exc}") from None
    shown = _hide_password(url)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise ConfigError(
            f"cannot reach Redis at {shown} (CACHE_REDIS_URL): {_reason(exc)}"
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
