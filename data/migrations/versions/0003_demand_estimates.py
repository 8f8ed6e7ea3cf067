"""Demand estimated from population for imported datasets without operations.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "demand_estimates",
        sa.Column("dataset_id", sa.Integer,
                  sa.ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("commune_id", sa.Integer,
                  sa.ForeignKey("admin_units.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("doc_type", sa.String(20), primary_key=True),
        sa.Column("requests_week", sa.Float, nullable=False),
        sa.Column("rate_per_inhabitant_year", sa.Float, nullable=False),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("demand_estimates")
