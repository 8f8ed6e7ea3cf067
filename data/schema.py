"""Relational schema of the store (SQLAlchemy 2 declarative models).

The schema is portable: plain types only, geometries as WKB in a binary column, no
spatial extension. It is created and evolved by the Alembic migrations in
``data/migrations``; these models describe the head revision and are what the code
queries with.

Examples
--------
>>> from data.schema import Base
>>> sorted(Base.metadata.tables)[:3]
['admin_levels', 'admin_units', 'candidate_sites']
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base of every table."""


class Dataset(Base):
    """One version of a country's data (the demo, or an import)."""

    __tablename__ = "datasets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # 'synthetic' or 'imported'
    version: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    is_active: Mapped[bool] = mapped_column(Boolean, default=False)


class AdminLevel(Base):
    """Name of one level of the hierarchy (0 is the top), since countries differ."""

    __tablename__ = "admin_levels"

    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True
    )
    level: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    name_fr: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(80))


class AdminUnit(Base):
    """An administrative unit: region, department, commune (or local equivalents)."""

    __tablename__ = "admin_units"
    __table_args__ = (
        UniqueConstraint("dataset_id", "code"),
        Index("ix_admin_units_dataset_level", "dataset_id", "level"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE")
    )
    code: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[int] = mapped_column(Integer)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("admin_units.id"))
    # NULL when unknown (boundaries imported without population, migration 0006)
    population: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    area_km2: Mapped[float] = mapped_column(Float, default=0.0)
    urban: Mapped[bool] = mapped_column(Boolean, default=False)
    poverty_rate: Mapped[float | None] = mapped_column(Float)
    literacy_rate: Mapped[float | None] = mapped_column(Float)
    internet_rate: Mapped[float | None] = mapped_column(Float)
    rep_lon: Mapped[float] = mapped_column(Float)
    rep_lat: Mapped[float] = mapped_column(Float)
    geometry_wkb: Mapped[bytes] = mapped_column(LargeBinary)


class UnitClosure(Base):
    """Closure table of the hierarchy: every (ancestor, descendant) pair, self included.

    It lets one portable SQL query aggregate communes to any level.
    """

    __tablename__ = "unit_closure"
    __table_args__ = (Index("ix_unit_closure_descendant", "descendant_id"),)

    ancestor_id: Mapped[int] = mapped_column(
        ForeignKey("admin_units.id", ondelete="CASCADE"), primary_key=True
    )
    descendant_id: Mapped[int] = mapped_column(
        ForeignKey("admin_units.id", ondelete="CASCADE"), primary_key=True
    )
    depth: Mapped[int] = mapped_column(Integer)


class DocumentType(Base):
    """A kind of official document, with its target processing delay."""

    __tablename__ = "document_types"

    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name_fr: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    target_delay_days: Mapped[float] = mapped_column(Float)


class ServiceCenter(Base):
    """An existing service center."""

    __tablename__ = "service_centers"
    __table_args__ = (UniqueConstraint("dataset_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE")
    )
    code: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(200))
    commune_id: Mapped[int] = mapped_column(ForeignKey("admin_units.id"))
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    capacity_week: Mapped[float] = mapped_column(Float)
    staff: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20), default="open")
    opened_on: Mapped[dt.date | None] = mapped_column(Date)


class CandidateSite(Base):
    """A site where a new center could open."""

    __tablename__ = "candidate_sites"
    __table_args__ = (UniqueConstraint("dataset_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE")
    )
    code: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(200))
    commune_id: Mapped[int] = mapped_column(ForeignKey("admin_units.id"))
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    opening_cost: Mapped[float] = mapped_column(Float, default=0.0)
    capacity_week: Mapped[float] = mapped_column(Float, default=0.0)


class Operation(Base):
    """Weekly operations of one commune at one center for one document type."""

    __tablename__ = "operations"
    __table_args__ = (
        Index("ix_operations_dataset_week", "dataset_id", "week"),
        Index("ix_operations_commune", "commune_id"),
        Index("ix_operations_center", "center_id"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True
    )
    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE")
    )
    week: Mapped[dt.date] = mapped_column(Date)
    commune_id: Mapped[int] = mapped_column(ForeignKey("admin_units.id"))
    center_id: Mapped[int] = mapped_column(ForeignKey("service_centers.id"))
    doc_type: Mapped[str] = mapped_column(String(20))
    requests: Mapped[int] = mapped_column(Integer)
    delivered: Mapped[int] = mapped_column(Integer)
    delivered_on_time: Mapped[int] = mapped_column(Integer)
    rejected: Mapped[int] = mapped_column(Integer)
    backlog: Mapped[int] = mapped_column(Integer)
    delay_mean_days: Mapped[float | None] = mapped_column(Float)
    delay_p90_days: Mapped[float | None] = mapped_column(Float)


class CommuneAccess(Base):
    """Great-circle distance from each commune to its nearest open center.

    Derived data, recomputed by ``geo.access.refresh_access`` whenever centers change.
    """

    __tablename__ = "commune_access"

    commune_id: Mapped[int] = mapped_column(
        ForeignKey("admin_units.id", ondelete="CASCADE"), primary_key=True
    )
    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE")
    )
    nearest_center_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_centers.id")
    )
    distance_km: Mapped[float | None] = mapped_column(Float)


class DemandEstimate(Base):
    """Weekly requests estimated from population × a yearly rate per document type.

    Written for imported datasets that come without operations, so demand
    is known while the indicators that need operations stay missing.
    """

    __tablename__ = "demand_estimates"

    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True
    )
    commune_id: Mapped[int] = mapped_column(
        ForeignKey("admin_units.id", ondelete="CASCADE"), primary_key=True
    )
    doc_type: Mapped[str] = mapped_column(String(20), primary_key=True)
    requests_week: Mapped[float] = mapped_column(Float)
    rate_per_inhabitant_year: Mapped[float] = mapped_column(Float)


# the lists' index: filter, sort order, then every other column the lists read
SCENARIO_LIST_COLUMNS = ("deleted_at", "updated_at", "id", "dataset_id",
                         "dataset_version", "name", "author", "status", "created_at",
                         "owner_id")  # fmt: skip


class Scenario(Base):
    """A saved scenario: its spec and, once run, its results as JSON text.

    ``dataset_version`` records the version it was computed on, so a scenario whose
    dataset has since been replaced can be flagged as stale rather than shown as
    current.
    """

    __tablename__ = "scenarios"
    __table_args__ = (
        # names unique among the live ones: a deleted scenario keeps its name
        # through its undo window, whoever saves that name meanwhile (0009)
        Index(
            "uq_scenarios_live_name",
            "dataset_id",
            "name",
            unique=True,
            sqlite_where=text("deleted_at IS NULL"),
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index("ix_scenarios_dataset", "dataset_id"),
        # every column the lists read: listed without reading the results stored
        # in the row (migration 0008)
        Index("ix_scenarios_list", *SCENARIO_LIST_COLUMNS),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE")
    )
    dataset_version: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(120))
    author: Mapped[str] = mapped_column(String(120), default="")
    params_json: Mapped[str] = mapped_column(Text)
    summary_json: Mapped[str | None] = mapped_column(Text)
    centers_json: Mapped[str | None] = mapped_column(Text)
    communes_json: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)
    # who saved it (``users.id``; none for scenarios saved before sign-in existed)
    owner_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # soft delete: hidden from lists, restorable until purged
    deleted_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    # the read-only share link is signed over this; a new nonce revokes old links
    share_nonce: Mapped[str | None] = mapped_column(String(32), nullable=True)


class User(Base):
    """A person who signs in, with one role (viewer, planner, analyst, admin)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(120), default="")
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(255))
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # bumped on password reset, role change or disable: older sessions end
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    # the OpenID Connect ``sub`` of a single sign-on account (NULL for local ones)
    oidc_subject: Mapped[str | None] = mapped_column(
        String(255), nullable=True, unique=True, index=True
    )


class ApiToken(Base):
    """A personal API token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class LoginAttempt(Base):
    """A failed sign-in, kept a short while to slow password guessing."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_at", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime)


class AuditEvent(Base):
    """One change: who, when, what (import, activation, deletion, role, save...)."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_at", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    username: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str] = mapped_column(String(64), default="")


class RoadNetwork(Base):
    """The road network of a dataset: where it came from, its import report, and the
    speed profile edited for it (NULL: the defaults of ``geo.roads``).

    ``version`` changes with every import, so cached travel times made from
    older roads are never reused.
    """

    __tablename__ = "road_networks"

    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(200))
    tolerance_m: Mapped[float] = mapped_column(Float)
    report_json: Mapped[str] = mapped_column(Text)
    profile_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class RoadSegment(Base):
    """One road line of a dataset (EPSG:4326 WKB) with its class and surface."""

    __tablename__ = "road_segments"
    __table_args__ = (Index("ix_road_segments_dataset", "dataset_id"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True
    )
    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE")
    )
    road_class: Mapped[str] = mapped_column(String(20))
    surface: Mapped[str | None] = mapped_column(String(20), nullable=True)
    oneway: Mapped[bool] = mapped_column(Boolean, default=False)
    geometry_wkb: Mapped[bytes] = mapped_column(LargeBinary)


class TravelTimeCache(Base):
    """A commune x site travel-time matrix (minutes, compressed float32) per dataset,
    mode and season; ``fingerprint`` covers the roads, the points and the profile."""

    __tablename__ = "travel_time_cache"

    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True
    )
    mode: Mapped[str] = mapped_column(String(20), primary_key=True)
    season: Mapped[str] = mapped_column(String(20), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    origins: Mapped[int] = mapped_column(Integer)
    sites: Mapped[int] = mapped_column(Integer)
    matrix: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
