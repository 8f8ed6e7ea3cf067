"""Request ids and one log line per request; JSON log lines for production.

Every request gets an id: the ``X-Request-ID`` a reverse proxy sent when it is a
plain token, otherwise a new one. It is sent back in the response's
``X-Request-ID`` header, appears in the request's log line (method, path, status,
duration, user) and in every other line logged while the request runs, errors
included, so one id finds everything about one request.

The request line leaves out the query string and the token of a share link: both
can hold what a log must not keep.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
import time
import uuid

import flask

HEADER = "X-Request-ID"
_TOKEN = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# path prefixes whose rest is a secret (share links carry a signed token)
_SECRET_TAILS = ("/share/",)

log = logging.getLogger("dashapp.request")


def request_id() -> str | None:
    """The id of the request being served (``None`` outside a request)."""
    if not flask.has_request_context():
        return None
    return flask.g.get("request_id")


def init_request_log(server: flask.Flask) -> None:
    """Give each request of ``server`` an id and log one line when it is answered.

    Call it before any other ``before_request`` hook is added: a hook that answers
    early (a refused sign-in) would skip the ones added after it.
    """
    server.before_request(_start)
    server.after_request(_finish)


def _start() -> None:
    sent = flask.request.headers.get(HEADER, "")
    flask.g.request_id = sent if _TOKEN.fullmatch(sent) else uuid.uuid4().hex[:16]
    flask.g.request_started = time.perf_counter()


def _finish(response: flask.Response) -> flask.Response:
    rid = request_id() or uuid.uuid4().hex[:16]
    response.headers[HEADER] = rid
    started = flask.g.get("request_started")
    ms = (time.perf_counter() - started) * 1000 if started else 0.0
    user = flask.g.get("user")
    fields = {
        "method": flask.request.method,
        "path": loggable_path(flask.request.path),
        "status": response.status_code,
        "duration_ms": round(ms, 1),
        "user": user.username if user else None,
    }
    log.info(
        "%s %s %s %.1f ms",
        fields["method"],
        fields["path"],
        fields["status"],
        ms,
        extra={"fields": fields},
    )
    return response


def loggable_path(path: str) -> str:
    """``path`` without the secret part of a share link.

    Examples
    --------
    >>> loggable_path("/share/eyJzIjo0fQ.abc"), loggable_path("/scenarios")
    ('/share/…', '/scenarios')
    """
    for prefix in _SECRET_TAILS:
        if path.startswith(prefix) and len(path) > len(prefix):
            return prefix + "…"
    return path


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, fields.

    A request line adds ``method``, ``path``, ``status``, ``duration_ms`` and
    ``user``; an error adds its traceback as ``error`` (newlines escaped, so a
    traceback stays one line).
    """

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = request_id()
        if rid:
            entry["request_id"] = rid
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["error"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False, default=str)


class _RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to text lines logged during a request."""

    def filter(self, record: logging.LogRecord) -> bool:
        rid = request_id()
        record.rid = f" [{rid}]" if rid else ""
        return True


def configure_logging(json_lines: bool, level: int = logging.INFO) -> None:
    """Send the app's logs to stderr: JSON lines, or text with the request id.

    Replaces the root logger's handlers; gunicorn's own logger keeps its own.
    """
    handler = logging.StreamHandler(sys.stderr)
    if json_lines:
        handler.setFormatter(JsonFormatter())
    else:
        handler.addFilter(_RequestIdFilter())
        handler.setFormatter(logging.Formatter("%(levelname)s%(rid)s %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    logging.getLogger("alembic").setLevel(logging.WARNING)


def ensure_logging() -> None:
    """Send the app's logs to stderr when nothing has configured logging yet.

    ``python -m dashapp serve`` configures it before building the app; a server
    that imports ``app:server`` (plain ``gunicorn app:server``, another WSGI
    server) leaves Python's logging as it is, where INFO lines, the request
    lines among them, go nowhere. Then: JSON lines under gunicorn (a production
    start), text otherwise. Logging set up by the host (a root handler, e.g.
    gunicorn's ``--log-config``, or pytest's) is left alone.
    """
    if logging.getLogger().handlers:
        return
    configure_logging(json_lines="gunicorn.arbiter" in sys.modules)
