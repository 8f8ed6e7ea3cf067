"""/healthz, request ids and log lines, the checks before a start, in process (the
real servers are started in tests/integration/test_production.py)."""

from __future__ import annotations

import json
import logging
import os
import sys

import pytest

from dashapp import create_app
from dashapp.config import Config
from dashapp.logs import HEADER, JsonFormatter, ensure_logging, loggable_path
from tests.auth_helpers import signed_in_client


@pytest.fixture
def app(tiny_store, tmp_path):
    return create_app(Config(data_dir=tmp_path, database_url=tiny_store.url))


def test_healthz_answers_ok_without_a_session(app):
    response = app.server.test_client().get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "jobs"}
    assert all(c["status"] == "ok" and c["ms"] >= 0 for c in body["checks"].values())
    assert response.headers["Cache-Control"] == "no-store"


def test_healthz_says_which_check_failed_with_503(app, monkeypatch, caplog):
    from dashapp import health

    def down(url):
        raise ConnectionRefusedError("db.internal:5432 refused the connection")

    monkeypatch.setattr(health, "check_database", down)
    app.server.extensions["dashapp_jobs"] = None
    with caplog.at_level(logging.WARNING, logger="dashapp.health"):
        response = app.server.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "error"
    assert body["checks"]["database"] == {
        "status": "error",
        "error": "ConnectionRefusedError",
        "ms": body["checks"]["database"]["ms"],
    }
    assert body["checks"]["jobs"]["status"] == "error"
    assert body["checks"]["cache"]["status"] == "ok"
    assert "db.internal" not in response.get_data(as_text=True)  # in the log only
    assert "db.internal:5432 refused" in caplog.text


def test_each_request_gets_an_id_and_one_log_line(app, caplog):
    client = signed_in_client(app, "viewer")
    with caplog.at_level(logging.INFO, logger="dashapp.request"):
        page = client.get("/api/v1/kpis?level=region")
        given = client.get("/healthz", headers={HEADER: "lb-42.a"})
        forged = client.get("/healthz", headers={HEADER: "<b> " + "z" * 200})
    rid = page.headers[HEADER]
    assert len(rid) == 16 and given.headers[HEADER] == "lb-42.a"
    assert forged.headers[HEADER] not in ("<b> " + "z" * 200, rid)
    lines = [r for r in caplog.records if r.name == "dashapp.request"]
    assert len(lines) == 3
    fields = lines[0].fields
    assert fields["method"] == "GET" and fields["status"] == 200
    assert fields["path"] == "/api/v1/kpis"  # the query string is left out
    assert fields["user"] == "test-viewer" and fields["duration_ms"] >= 0
    entry = json.loads(_as_json(lines[0], app, rid))
    assert entry["request_id"] == rid and entry["status"] == 200
    assert entry["message"].startswith("GET /api/v1/kpis 200 ")


def test_refused_requests_are_logged_too(app, caplog):
    with caplog.at_level(logging.INFO, logger="dashapp.request"):
        response = app.server.test_client().get("/api/v1/datasets")
    assert response.status_code == 401 and HEADER in response.headers
    (line,) = [r for r in caplog.records if r.name == "dashapp.request"]
    assert line.fields["status"] == 401 and line.fields["user"] is None


def test_an_error_is_logged_with_the_request_id(app, caplog):
    @app.server.route("/boom")
    def boom():
        raise RuntimeError("kaboom")

    app.server.config["PROPAGATE_EXCEPTIONS"] = False
    client = signed_in_client(app, "viewer")
    with caplog.at_level(logging.INFO):
        response = client.get("/boom")
    assert response.status_code == 500
    rid = response.headers[HEADER]
    error = next(r for r in caplog.records if r.levelno == logging.ERROR)
    entry = json.loads(_as_json(error, app, rid))
    assert entry["request_id"] == rid and "RuntimeError: kaboom" in entry["error"]
    assert "\n" not in _as_json(error, app, rid)  # one line, traceback included


def _as_json(record, app, rid) -> str:
    """The JSON line of ``record`` as written during the request ``rid``."""
    import flask

    with app.server.test_request_context("/"):
        flask.g.request_id = rid
        return JsonFormatter().format(record)


@pytest.mark.parametrize(
    ("under_gunicorn", "json_lines"), [(True, True), (False, False)]
)
def test_logging_is_set_up_when_nothing_did(monkeypatch, under_gunicorn, json_lines):
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])
    monkeypatch.setattr(root, "level", logging.WARNING)
    monkeypatch.delitem(sys.modules, "gunicorn.arbiter", raising=False)
    if under_gunicorn:
        monkeypatch.setitem(sys.modules, "gunicorn.arbiter", object())
    ensure_logging()
    [handler] = root.handlers
    assert root.level == logging.INFO  # the request lines are INFO
    assert isinstance(handler.formatter, JsonFormatter) is json_lines


def test_logging_set_up_by_the_host_is_left_alone(monkeypatch):
    root = logging.getLogger()
    mine = logging.NullHandler()
    monkeypatch.setattr(root, "handlers", [mine])
    monkeypatch.setattr(root, "level", logging.WARNING)
    monkeypatch.setitem(sys.modules, "gunicorn.arbiter", object())
    ensure_logging()
    assert root.handlers == [mine] and root.level == logging.WARNING


def test_share_tokens_stay_out_of_the_log():
    assert loggable_path("/share/eyJzIjo0fQ.abc") == "/share/…"
    assert loggable_path("/share/") == "/share/"
    assert loggable_path("/scenarios") == "/scenarios"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://u:p@h/db", "postgresql+psycopg://u:p@h/db"),
        ("postgresql://u@h:5433/db", "postgresql+psycopg://u@h:5433/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:////tmp/x.sqlite", "sqlite:////tmp/x.sqlite"),
    ],
)
def test_database_urls_get_the_pinned_driver(url, expected):
    from data.store import database_url

    assert database_url(url) == expected


@pytest.mark.parametrize(
    "url", ["mysql://h/db", "postgresql+psycopg2://h/db", "oracle://h", "no-scheme"]
)
def test_other_databases_are_refused(url):
    from data.store import database_url

    with pytest.raises(ValueError, match="sqlite:///PATH or postgresql"):
        database_url(url)


@pytest.mark.parametrize(
    "url", ["postgresql://u@127.0.0.1:notaport/db", "postgres://u@[::1/db"]
)
def test_malformed_database_urls_are_refused(url):
    from data.store import database_url

    with pytest.raises(ValueError, match="^malformed database URL: "):
        database_url(url)


def test_default_workers_follow_the_cores(monkeypatch):
    from dashapp import production

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3, 4})
    assert production.default_workers() == 5
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    assert production.default_workers() == 2
    options = production.gunicorn_options(Config(host="::1", port=8123), 3)
    assert options["bind"] == "[::1]:8123" and options["workers"] == 3
    assert options["worker_class"] == "gthread" and not options["preload_app"]


# -- settings refused before a start (dashapp.health.check_start) ----------------------
@pytest.fixture
def closed_port() -> int:
    from tests.postgres import free_port

    return free_port()


def _config(tmp_path, closed_port, **changes) -> Config:
    return Config(data_dir=tmp_path, port=closed_port).with_(**changes)


@pytest.mark.parametrize(
    ("changes", "env", "production", "phrase"),
    [
        ({"database_url": "mysql://h/db"}, {}, False, "scheme 'mysql'"),
        (
            {"database_url": "postgresql://planner:hunter22@127.0.0.1:{port}/plan"},
            {},
            False,
            "cannot use the database postgresql+psycopg://planner:***@127.0.0.1",
        ),
        ({"database_url": "sqlite:///{dir}/text"}, {}, False, "file is not a database"),
        ({}, {"CACHE_REDIS_URL": "redis://:pw@127.0.0.1:{port}/0"}, False,
         "cannot reach Redis at redis://:***@127.0.0.1"),
        ({}, {"CACHE_REDIS_URL": "http://127.0.0.1/0"}, False, "CACHE_REDIS_URL: "),
        ({}, {"DASHAPP_CACHE_TYPE": "RedisCache"}, False, "needs CACHE_REDIS_URL"),
        ({}, {}, True, "needs DASHAPP_SECRET_KEY"),
        ({"secret_key": "short"}, {}, True, "(it has 5)"),
        ({"port": "{busy}"}, {}, False, "is already in use"),
    ],
)  # fmt: skip
def test_bad_settings_are_refused_in_one_line(
    tmp_path, closed_port, monkeypatch, changes, env, production, phrase
):
    import socket

    from dashapp.health import ConfigError, check_start

    (tmp_path / "text").write_text("plain text, not SQLite")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        names = {"port": closed_port, "dir": tmp_path, "busy": busy.getsockname()[1]}
        for key, value in env.items():
            monkeypatch.setenv(key, value.format(**names))
        changes = {k: v.format(**names) for k, v in changes.items()}
        if "port" in changes:
            changes["port"] = int(changes["port"])
        with pytest.raises(ConfigError) as refused:
            check_start(_config(tmp_path, closed_port, **changes), production)
    message = str(refused.value)
    assert phrase in message and "\n" not in message
    assert "hunter22" not in message and ":pw@" not in message


def test_a_good_configuration_passes(tmp_path, closed_port, tiny_store):
    from dashapp.health import check_start

    config = _config(
        tmp_path, closed_port, database_url=tiny_store.url, secret_key="k" * 32
    )
    check_start(config, production=True)
