"""Saved scenarios listed from an index, without reading their results.

A scenario's results (``centers_json``, ``communes_json``: about 150 kB on the
demo country) are stored in its row, before the columns the lists show. SQLite
keeps such a row on a chain of overflow pages and walks the whole chain to reach
a column after it, so listing the saved scenarios read every result stored:
17 ms for 330 scenarios of the demo, growing with each run saved. This index
holds every column the lists read (:func:`data.scenarios.list_scenarios`,
:func:`data.scenarios.list_stamp`), in the order they sort by, so they are read
from it alone (0.6 ms for the same 330). PostgreSQL keeps large values out of the
row already; the index serves the same queries there.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# filter, then sort order, then the listed columns (a covering index)
COLUMNS = ["deleted_at", "updated_at", "id", "dataset_id", "dataset_version", "name",
           "author", "status", "created_at", "owner_id"]  # fmt: skip


def upgrade() -> None:
    op.create_index("ix_scenarios_list", "scenarios", COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_scenarios_list", table_name="scenarios")
