"""A scenario name is unique among the scenarios not deleted.

A soft-deleted scenario stays restorable for 30 days (``UNDO_DAYS``), but it kept
its name under the unique constraint on ``(dataset_id, name)``, so a new save of
that name purged it for good, whoever owned it: another user could destroy a
deleted scenario before its owner's undo. The constraint becomes a partial unique
index over the rows with ``deleted_at IS NULL`` (SQLite and PostgreSQL both have
them): a name is free again as soon as its scenario is deleted, the deleted row is
kept, and restoring it when its name was taken meanwhile gives it a new one
(:func:`data.scenarios.restore_scenario`).

On SQLite dropping the constraint rebuilds the table (batch mode): no other table
references ``scenarios``, so no row elsewhere is touched. Downgrading renames the
deleted scenarios whose name a live one now holds (``"<name> (supprimé <id>)"``)
before the constraint comes back.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

NAME_MAX = 120
LIVE = sa.text("deleted_at IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("scenarios") as batch:
        batch.drop_constraint("uq_scenarios_dataset_name", type_="unique")
    op.create_index(
        "uq_scenarios_live_name",
        "scenarios",
        ["dataset_id", "name"],
        unique=True,
        sqlite_where=LIVE,
        postgresql_where=LIVE,
    )


def downgrade() -> None:
    bind = op.get_bind()
    clashes = bind.execute(
        sa.text(
            "SELECT d.id, d.name FROM scenarios d WHERE d.deleted_at IS NOT NULL "
            "AND EXISTS (SELECT 1 FROM scenarios o WHERE o.dataset_id = d.dataset_id "
            "AND o.name = d.name AND o.id <> d.id AND (o.deleted_at IS NULL "
            "OR o.id > d.id))"
        )
    ).all()
    for scenario_id, name in clashes:
        suffix = f" (supprimé {scenario_id})"
        bind.execute(
            sa.text("UPDATE scenarios SET name = :name WHERE id = :id"),
            {
                "name": name[: NAME_MAX - len(suffix)].rstrip() + suffix,
                "id": scenario_id,
            },
        )
    op.drop_index("uq_scenarios_live_name", table_name="scenarios")
    with op.batch_alter_table("scenarios") as batch:
        batch.create_unique_constraint(
            "uq_scenarios_dataset_name", ["dataset_id", "name"]
        )
