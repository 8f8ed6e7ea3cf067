"""The store, import, scenario, KPI and user tests run on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest

from data.store import Store
from tests.stores import make_tiny_store


@pytest.fixture(scope="session")
def pg_tiny_template(postgres) -> str:
    """Name of a PostgreSQL database holding the tiny country, copied per test."""
    url = postgres.create_database()
    make_tiny_store(url).engine.dispose()
    return postgres.freeze_template(url)


@pytest.fixture
def tiny_store(backend, request, tmp_path):
    """The tiny country (active, access computed) in a fresh store of each backend."""
    if backend == "sqlite":
        yield make_tiny_store(f"sqlite:///{tmp_path / 'tiny.sqlite'}")
        return
    server = request.getfixturevalue("postgres")
    url = server.create_database(template=request.getfixturevalue("pg_tiny_template"))
    yield Store(url)
    server.drop_database(url)
