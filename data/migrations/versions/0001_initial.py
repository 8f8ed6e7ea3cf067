"""Initial schema: datasets, hierarchy, centers, candidate sites, operations, access.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _dataset_fk():
    return sa.Column(
        "dataset_id", sa.Integer, sa.ForeignKey("datasets.id", ondelete="CASCADE"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "datasets",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("version", sa.String(64), nullable=False, unique=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("is_active", sa.Boolean, nullable=False),
    )
    op.create_table(
        "admin_levels",
        sa.Column("dataset_id", sa.Integer,
                  sa.ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("level", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name_fr", sa.String(80), nullable=False),
        sa.Column("name_en", sa.String(80), nullable=False),
    )
    op.create_table(
        "admin_units",
        sa.Column("id", sa.Integer, primary_key=True),
        _dataset_fk(),
        sa.Column("code", sa.String(60), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("parent_id", sa.Integer, sa.ForeignKey("admin_units.id")),
        sa.Column("population", sa.BigInteger, nullable=False),
        sa.Column("area_km2", sa.Float, nullable=False),
        sa.Column("urban", sa.Boolean, nullable=False),
        sa.Column("poverty_rate", sa.Float),
        sa.Column("literacy_rate", sa.Float),
        sa.Column("internet_rate", sa.Float),
        sa.Column("rep_lon", sa.Float, nullable=False),
        sa.Column("rep_lat", sa.Float, nullable=False),
        sa.Column("geometry_wkb", sa.LargeBinary, nullable=False),
        sa.UniqueConstraint("dataset_id", "code"),
    )
    op.create_index("ix_admin_units_dataset_level", "admin_units", ["dataset_id", "level"])
    op.create_table(
        "unit_closure",
        sa.Column("ancestor_id", sa.Integer,
                  sa.ForeignKey("admin_units.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("descendant_id", sa.Integer,
                  sa.ForeignKey("admin_units.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("depth", sa.Integer, nullable=False),
    )
    op.create_index("ix_unit_closure_descendant", "unit_closure", ["descendant_id"])
    op.create_table(
        "document_types",
        sa.Column("dataset_id", sa.Integer,
                  sa.ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("code", sa.String(20), primary_key=True),
        sa.Column("name_fr", sa.String(120), nullable=False),
        sa.Column("name_en", sa.String(120), nullable=False),
        sa.Column("target_delay_days", sa.Float, nullable=False),
    )
    op.create_table(
        "service_centers",
        sa.Column("id", sa.Integer, primary_key=True),
        _dataset_fk(),
        sa.Column("code", sa.String(60), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("commune_id", sa.Integer, sa.ForeignKey("admin_units.id"), nullable=False),
        sa.Column("lon", sa.Float, nullable=False),
        sa.Column("lat", sa.Float, nullable=False),
        sa.Column("capacity_week", sa.Float, nullable=False),
        sa.Column("staff", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("opened_on", sa.Date),
        sa.UniqueConstraint("dataset_id", "code"),
    )
    op.create_table(
        "candidate_sites",
        sa.Column("id", sa.Integer, primary_key=True),
        _dataset_fk(),
        sa.Column("code", sa.String(60), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("commune_id", sa.Integer, sa.ForeignKey("admin_units.id"), nullable=False),
        sa.Column("lon", sa.Float, nullable=False),
        sa.Column("lat", sa.Float, nullable=False),
        sa.Column("opening_cost", sa.Float, nullable=False),
        sa.Column("capacity_week", sa.Float, nullable=False),
        sa.UniqueConstraint("dataset_id", "code"),
    )
    op.create_table(
        "operations",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        _dataset_fk(),
        sa.Column("week", sa.Date, nullable=False),
        sa.Column("commune_id", sa.Integer, sa.ForeignKey("admin_units.id"), nullable=False),
        sa.Column("center_id", sa.Integer, sa.ForeignKey("service_centers.id"),
                  nullable=False),
        sa.Column("doc_type", sa.String(20), nullable=False),
        sa.Column("requests", sa.Integer, nullable=False),
        sa.Column("delivered", sa.Integer, nullable=False),
        sa.Column("delivered_on_time", sa.Integer, nullable=False),
        sa.Column("rejected", sa.Integer, nullable=False),
        sa.Column("backlog", sa.Integer, nullable=False),
        sa.Column("delay_mean_days", sa.Float),
        sa.Column("delay_p90_days", sa.Float),
    )
    op.create_index("ix_operations_dataset_week", "operations", ["dataset_id", "week"])
    op.create_index("ix_operations_commune", "operations", ["commune_id"])
    op.create_index("ix_operations_center", "operations", ["center_id"])
    op.create_table(
        "commune_access",
        sa.Column("commune_id", sa.Integer,
                  sa.ForeignKey("admin_units.id", ondelete="CASCADE"), primary_key=True),
        _dataset_fk(),
        sa.Column("nearest_center_id", sa.Integer, sa.ForeignKey("service_centers.id")),
        sa.Column("distance_km", sa.Float),
    )


def downgrade() -> None:
    for table in ("commune_access", "operations", "candidate_sites", "service_centers",
                  "document_types", "unit_closure", "admin_units", "admin_levels",
                  "datasets"):
        op.drop_table(table)
