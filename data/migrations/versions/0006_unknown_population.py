"""Administrative units: population may be unknown (NULL), never a made-up 0.

Boundaries imported without population, or communes a partial join left without a
value, store NULL; the KPIs show them as missing and leave them out of per-capita
figures.

On SQLite the NOT NULL constraint is removed in place, by SQLite's documented
procedure for dropping a NOT NULL constraint (edit the table's SQL in
``sqlite_master`` and bump ``schema_version``): rebuilding ``admin_units`` as a
batch operation would drop a table that other tables reference, and its implicit
DELETE would cascade to their rows. Other databases alter the column.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

import re

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_COLUMN = re.compile(r"(\bpopulation\s+BIGINT)(\s+NOT\s+NULL)?", re.IGNORECASE)


def upgrade() -> None:
    _population_nullable(True)


def downgrade() -> None:
    op.execute("UPDATE admin_units SET population = 0 WHERE population IS NULL")
    _population_nullable(False)


def _population_nullable(nullable: bool) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        op.alter_column(
            "admin_units", "population", existing_type=sa.BigInteger, nullable=nullable
        )
        return
    sql = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'admin_units'"
    ).scalar()
    new = _COLUMN.sub(r"\1" if nullable else r"\1 NOT NULL", sql, count=1)
    if new == sql:
        return
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'admin_units'",
        (new,),
    )
    bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")
