"""Saved scenarios: spec, results as JSON text and the dataset version they used.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scenarios",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("dataset_id", sa.Integer,
                  sa.ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("dataset_version", sa.String(64), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("author", sa.String(120), nullable=False),
        sa.Column("params_json", sa.Text, nullable=False),
        sa.Column("summary_json", sa.Text),
        sa.Column("centers_json", sa.Text),
        sa.Column("communes_json", sa.Text),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("dataset_id", "name", name="uq_scenarios_dataset_name"),
    )
    op.create_index("ix_scenarios_dataset", "scenarios", ["dataset_id"])


def downgrade() -> None:
    op.drop_index("ix_scenarios_dataset", table_name="scenarios")
    op.drop_table("scenarios")
