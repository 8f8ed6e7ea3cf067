"""Road networks: the lines of a dataset, its speed profile and cached travel times.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "road_networks",
        sa.Column("dataset_id", sa.Integer,
                  sa.ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("version", sa.String(32), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("tolerance_m", sa.Float, nullable=False),
        sa.Column("report_json", sa.Text, nullable=False),
        sa.Column("profile_json", sa.Text),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )  # fmt: skip
    op.create_table(
        "road_segments",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                  primary_key=True),
        sa.Column("dataset_id", sa.Integer,
                  sa.ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("road_class", sa.String(20), nullable=False),
        sa.Column("surface", sa.String(20)),
        sa.Column("oneway", sa.Boolean, nullable=False),
        sa.Column("geometry_wkb", sa.LargeBinary, nullable=False),
    )  # fmt: skip
    op.create_index("ix_road_segments_dataset", "road_segments", ["dataset_id"])
    op.create_table(
        "travel_time_cache",
        sa.Column("dataset_id", sa.Integer,
                  sa.ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("mode", sa.String(20), primary_key=True),
        sa.Column("season", sa.String(20), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("origins", sa.Integer, nullable=False),
        sa.Column("sites", sa.Integer, nullable=False),
        sa.Column("matrix", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("travel_time_cache")
    op.drop_index("ix_road_segments_dataset", table_name="road_segments")
    op.drop_table("road_segments")
    op.drop_table("road_networks")
