"""The models of ``data/schema.py`` say what the migrations build.

Nothing at run time reads the models' constraints and indexes, so a migration
that changes one (0009: the scenario names' unique constraint became a unique
index of the live rows) could leave the models saying otherwise unnoticed.
Alembic's comparison of the migrated database with the models must find
nothing, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from data.schema import Base
from data.store import Store


def test_the_migrated_database_is_what_the_models_say(store_url):
    store = Store(store_url)
    store.upgrade()
    try:
        with store.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        store.engine.dispose()
    assert diff == [], diff
