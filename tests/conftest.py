"""Shared fixtures: stores with the tiny hand-made country and the demo country,
on SQLite and on a real PostgreSQL server (``store_url``); a real Redis server."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from dashapp.bootstrap import create_demo
from data.store import Store
from tests.chromium import chromium_options
from tests.postgres import PostgresServer, PostgresUnavailableError
from tests.redis_server import RedisServer, RedisUnavailableError
from tests.stores import make_tiny_store

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]

# No app of the suite starts the forecasts' precompute process unless its test
# asks for it (Config(precompute=True)): dozens of them would load the machine.
os.environ["DASHAPP_PRECOMPUTE"] = "0"


@pytest.fixture(autouse=True)
def _fresh_memos():
    """Each test starts with the services' memos empty (dashapp.cache.memo keeps
    results per process, where the flask-caching cache was per app), so what a
    test finds memoised it computed."""
    from dashapp.cache import clear_memos

    clear_memos()


def pytest_setup_options():
    """Headless Debian Chromium for dash_duo; no tool downloads a browser."""
    return chromium_options()


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server on loopback for the whole session (started on first
    use, stopped at the end); a run without one fails and says why."""
    server = PostgresServer()
    try:
        server.start()
    except PostgresUnavailableError as exc:
        server.stop()
        pytest.fail(f"PostgreSQL could not be started: {exc}", pytrace=False)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_server():
    """A real Redis server on loopback for the whole session (started on first use,
    stopped at the end); a run without one fails and says why."""
    server = RedisServer()
    try:
        server.start()
    except RedisUnavailableError as exc:
        server.stop()
        pytest.fail(f"Redis could not be started: {exc}", pytrace=False)
    yield server
    server.stop()


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    """Each database the store runs on: ``sqlite``, then ``postgresql``."""
    return request.param


@pytest.fixture
def store_url(backend, request, tmp_path):
    """The URL of a fresh, empty store: a SQLite file, or a PostgreSQL database."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite'}"
        return
    server = request.getfixturevalue("postgres")
    url = server.create_database()
    yield url
    server.drop_database(url)  # ends the sessions a test's stores left open


@pytest.fixture
def tiny_store(tmp_path) -> Store:
    """A fresh SQLite store holding the tiny country (active) with access computed."""
    return make_tiny_store(f"sqlite:///{tmp_path / 'tiny.sqlite'}")


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory) -> Path:
    """A data folder whose SQLite store holds the default demo country."""
    path = tmp_path_factory.mktemp("demo")
    store = Store(f"sqlite:///{path / 'dashapp.sqlite'}")
    store.upgrade()
    create_demo(store, seed=42, n_communes=400)
    store.engine.dispose()
    return path


@pytest.fixture
def demo_copy(demo_dir, tmp_path) -> Path:
    """A private copy of the demo data folder, for tests that write; without the
    results other tests cached there, so what a test finds cached it computed."""
    target = tmp_path / "data"
    shutil.copytree(demo_dir, target, ignore=shutil.ignore_patterns("cache"))
    return target
