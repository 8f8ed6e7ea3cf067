"""The relational store: engine, schema migrations, writing and reading datasets.

Everything goes through SQLAlchemy 2 with portable SQL, so the same code runs on the
embedded SQLite file and on PostgreSQL given a database URL.

Examples
--------
>>> from data.store import Store
>>> store = Store("sqlite://")
>>> store.upgrade()
>>> store.active_dataset() is None
True
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, delete, event, func, insert, select, text, update
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError

from data.schema import (
    AdminLevel,
    AdminUnit,
    AuditEvent,
    CandidateSite,
    CommuneAccess,
    Dataset,
    DemandEstimate,
    DocumentType,
    Operation,
    ServiceCenter,
    UnitClosure,
)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
WGS84 = "EPSG:4326"
_CHUNK = 50_000

AccessFn = Callable[[pd.DataFrame, pd.DataFrame], pd.DataFrame]
"""``access(communes, centers) -> access``: each commune's nearest open center.

``communes`` has ``id``, ``rep_lon``, ``rep_lat``; ``centers`` has ``id``, ``lon``,
``lat``, ``status``; the result has ``commune_id``, ``nearest_center_id`` and
``distance_km`` (``geo.access.nearest_center`` is one).
"""


@dataclass(frozen=True)
class AuditNote:
    """An audit event: who did what, with details kept as JSON.

    Given to :meth:`Store.add_dataset`, it is written in the dataset's own
    transaction (its id as the target), so a stored dataset always has its event.
    """

    username: str
    action: str
    detail: dict[str, Any] | None = None
    address: str = ""

    def row(self, target: Any = "") -> dict[str, Any]:
        """The ``audit_events`` row, fields cut to their column sizes."""
        return {
            "at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
            "username": self.username[:64],
            "action": self.action[:40],
            "target": str(target)[:200],
            "detail": json.dumps(self.detail or {}, ensure_ascii=False, default=str),
            "address": str(self.address)[:64],
        }


class StoreError(RuntimeError):
    """A problem with the store's content, worded for the user."""


class DatasetBundle(Protocol):
    """What :meth:`Store.add_dataset` needs (``data.demo.DemoCountry`` is one)."""

    name: str
    levels: pd.DataFrame
    units: gpd.GeoDataFrame
    centers: pd.DataFrame
    candidates: pd.DataFrame
    doc_types: pd.DataFrame
    operations: pd.DataFrame


@dataclass(frozen=True)
class DatasetInfo:
    """One dataset version as stored."""

    id: int
    name: str
    kind: str
    version: str
    description: str
    created_at: dt.datetime
    is_active: bool

    @property
    def is_synthetic(self) -> bool:
        return self.kind == "synthetic"


# the databases the migrations and the SQL are tested on, with their driver
BACKENDS = {"sqlite": "sqlite", "postgresql": "postgresql+psycopg"}
CONNECT_TIMEOUT_S = 10
# an arbitrary 64-bit number naming the store's preparation lock (PostgreSQL)
_LOCK_KEY = 0x6461736861707001
_memory_lock = threading.Lock()
# every engine this process made, so that a forked child gets pools of its own
_engines: weakref.WeakSet[Engine] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    """A process forked from this one (a background job) must not use the
    connections its parent holds: two processes on one PostgreSQL socket mix
    their messages, and SQLite forbids carrying a connection across a fork.
    Each engine gets a new, empty pool (``dispose(close=False)`` leaves the
    parent's connections open for the parent), and the lock a thread of the
    parent may hold at the fork is made anew."""
    global _memory_lock
    _memory_lock = threading.Lock()
    for engine in list(_engines):
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_after_fork_in_child)


def database_url(url: str) -> str:
    """``url`` checked and with its driver: ``sqlite`` or ``postgresql+psycopg``.

    ``postgresql://`` and ``postgres://`` (the usual forms of a ``DATABASE_URL``)
    get the psycopg 3 driver the requirements pin. Any other database, or another
    driver, raises :class:`ValueError`: the migrations and the SQL are tested on
    these two only.

    Examples
    --------
    >>> database_url("postgres://planner:pw@db.example/plan")
    'postgresql+psycopg://planner:pw@db.example/plan'
    >>> database_url("mysql://db/plan")
    Traceback (most recent call last):
    ...
    ValueError: unsupported database URL scheme 'mysql': use sqlite:///PATH or postgresql+psycopg://USER:PASSWORD@HOST:PORT/DATABASE
    """
    if not isinstance(url, str) or not url:
        raise TypeError(f"'url' should be a non-empty SQLAlchemy URL, got {url!r}")
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(
            f"{url[:40]!r} is not a database URL: use sqlite:///PATH or "
            "postgresql+psycopg://USER:PASSWORD@HOST:PORT/DATABASE"
        )
    if scheme in ("postgres", "postgresql"):
        scheme = BACKENDS["postgresql"]
    if scheme not in BACKENDS.values():
        raise ValueError(
            f"unsupported database URL scheme {scheme!r}: use sqlite:///PATH or "
            "postgresql+psycopg://USER:PASSWORD@HOST:PORT/DATABASE"
        )
    url = f"{scheme}://{rest}"
    try:
        make_url(url)
    except (ArgumentError, ValueError) as exc:  # ValueError: a port that is no number
        raise ValueError(f"malformed database URL: {exc}") from None
    return url


def make_engine(url: str) -> Engine:
    """Create an engine; on SQLite turn foreign keys on and use WAL for readers.

    On PostgreSQL a connection attempt gives up after ``CONNECT_TIMEOUT_S`` and
    pooled connections are checked before use (a restarted server is survived).
    """
    if url.startswith("postgresql"):
        engine = create_engine(
            url,
            pool_pre_ping=True,
            connect_args={"connect_timeout": CONNECT_TIMEOUT_S},
        )
        _engines.add(engine)
        return engine
    engine = create_engine(url)
    _engines.add(engine)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            if url not in ("sqlite://", "sqlite:///:memory:"):
                cur.execute("PRAGMA journal_mode=WAL")
            cur.close()

    return engine


def _alembic_config(engine: Engine) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option(
        "sqlalchemy.url", engine.url.render_as_string(hide_password=False)
    )
    return cfg


class Store:
    """Access to one database.

    Parameters
    ----------
    url : str
        SQLAlchemy database URL, e.g. ``sqlite:////path/dashapp.sqlite`` or
        ``postgresql+psycopg://user@host/db``.
    """

    def __init__(self, url: str) -> None:
        url = database_url(url)
        if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
            Path(url.removeprefix("sqlite:///")).parent.mkdir(
                parents=True, exist_ok=True
            )
        self.url = url
        self.engine = make_engine(url)

    # -- schema -----------------------------------------------------------------
    def ping(self) -> None:
        """Run ``SELECT 1``: raises the driver's error when the database is down."""
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1")).scalar_one()

    @contextlib.contextmanager
    def lock(self, timeout: float = 600.0) -> Iterator[None]:
        """Hold the store's preparation lock: one process at a time, on any machine.

        Starting servers (or workers) take it around the schema upgrade and the
        first-run data, so two of them never migrate at once. PostgreSQL: a
        session-level advisory lock; SQLite file: an exclusive ``flock`` on
        ``<file>.lock`` beside it (released by the system if the holder dies); an
        in-memory database: a lock of this process. Raises :class:`StoreError`
        when another holder keeps it longer than ``timeout`` seconds.

        Examples
        --------
        >>> with Store("sqlite://").lock():
        ...     pass
        """
        deadline = time.monotonic() + timeout
        if self.engine.dialect.name == "postgresql":
            with self.engine.connect() as conn:
                while not conn.execute(
                    text("SELECT pg_try_advisory_lock(:k)"), {"k": _LOCK_KEY}
                ).scalar_one():
                    conn.rollback()
                    _wait_or_fail(deadline, timeout)
                conn.commit()
                try:
                    yield
                finally:
                    conn.execute(
                        text("SELECT pg_advisory_unlock(:k)"), {"k": _LOCK_KEY}
                    )
                    conn.commit()
            return
        path = self.engine.url.database
        if not path or path == ":memory:":
            with _memory_lock:
                yield
            return
        import fcntl

        with open(f"{path}.lock", "a") as handle:
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    _wait_or_fail(deadline, timeout)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def upgrade(self) -> None:
        """Bring the schema to the newest revision; existing data is kept."""
        cfg = _alembic_config(self.engine)
        with self.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def revision(self) -> str | None:
        """Schema revision the database is at (``None`` if never migrated)."""
        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    @staticmethod
    def head_revision() -> str:
        """Newest schema revision this code knows."""
        script = ScriptDirectory.from_config(_alembic_config(make_engine("sqlite://")))
        return script.get_current_head()

    # -- datasets ---------------------------------------------------------------
    def datasets(self) -> list[DatasetInfo]:
        """Every dataset version, newest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(Dataset.__table__).order_by(Dataset.id.desc())
            ).all()
        return [
            DatasetInfo(**{k: r._mapping[k] for k in DatasetInfo.__annotations__})
            for r in rows
        ]

    def active_dataset(self) -> DatasetInfo | None:
        """The dataset the app shows, or ``None`` when the store is empty."""
        items = self.datasets()
        active = [d for d in items if d.is_active]
        return active[0] if active else (items[0] if items else None)

    def set_active(self, dataset_id: int) -> None:
        """Make ``dataset_id`` the dataset the app shows.

        Refused (:class:`StoreError`) for a dataset whose communes lack their
        nearest-center distances: its KPIs would be wrong.
        """
        with self.engine.begin() as conn:
            self._activate(conn, dataset_id)

    def lacks_access(self, dataset_id: int) -> bool:
        """Whether some commune of ``dataset_id`` has no nearest-center row.

        Examples
        --------
        >>> store.lacks_access(1)  # doctest: +SKIP
        False
        """
        with self.engine.connect() as conn:
            communes, rows = self._access_counts(conn, dataset_id)
        return rows < communes

    @classmethod
    def _activate(cls, conn, dataset_id: int) -> None:
        found = conn.execute(select(Dataset.id).where(Dataset.id == dataset_id)).first()
        if found is None:
            raise StoreError(f"no dataset with id {dataset_id}")
        communes, rows = cls._access_counts(conn, dataset_id)
        if rows < communes:
            raise StoreError(
                f"dataset {dataset_id} cannot be shown: {communes - rows} of its "
                f"{communes} communes have no nearest-center distance (commune_access); "
                "compute them first (geo.access.refresh_access)"
            )
        conn.execute(update(Dataset).values(is_active=False))
        conn.execute(
            update(Dataset).where(Dataset.id == dataset_id).values(is_active=True)
        )

    @staticmethod
    def _access_counts(conn, dataset_id: int) -> tuple[int, int]:
        """Communes of the dataset, and how many of them have an access row."""
        level = _commune_level(dataset_id)
        communes = conn.execute(
            select(func.count(AdminUnit.id)).where(
                AdminUnit.dataset_id == dataset_id, AdminUnit.level == level
            )
        ).scalar_one()
        rows = conn.execute(
            select(func.count(CommuneAccess.commune_id)).where(
                CommuneAccess.dataset_id == dataset_id
            )
        ).scalar_one()
        return int(communes), int(rows)

    def add_dataset(
        self,
        bundle: DatasetBundle,
        *,
        kind: str = "synthetic",
        description: str = "",
        activate: bool = True,
        access: AccessFn | None = None,
        audit: AuditNote | None = None,
    ) -> DatasetInfo:
        """Write a whole dataset in one transaction: it is stored whole or not at all.

        The rows, the derived nearest-center distances and the activation are
        committed together, so a process killed at any point leaves the store as it
        was (SQLite rolls back an unfinished transaction on the next open, WAL or
        not; PostgreSQL drops it with the connection).

        Parameters
        ----------
        bundle : DatasetBundle
            Levels, units (GeoDataFrame in any CRS with a definition, reprojected to
            EPSG:4326), centers, candidate sites, document types and operations, with
            the columns of ``data.demo.DemoCountry``.
        kind : {'synthetic', 'imported'}
        activate : bool
            Make it the dataset the app shows; needs ``access`` when the dataset
            has communes (:class:`StoreError` otherwise, nothing stored).
        access : callable, optional
            ``access(communes, centers)`` (``geo.access.nearest_center``), run on the
            rows just written, inside the transaction; its result fills
            ``commune_access``.
        audit : AuditNote, optional
            Its event, written in the same transaction with the new dataset's id.

        Examples
        --------
        >>> from geo.access import nearest_center  # doctest: +SKIP
        >>> store.add_dataset(bundle, access=nearest_center)  # doctest: +SKIP
        """
        units = _check_units(bundle.units)
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        version = f"{now:%Y%m%d%H%M%S}-{uuid.uuid4().hex[:8]}"
        with self.engine.begin() as conn:
            ds_id = conn.execute(
                insert(Dataset)
                .values(
                    name=bundle.name,
                    kind=kind,
                    version=version,
                    description=description,
                    created_at=now,
                    is_active=False,
                )
                .returning(Dataset.id)
            ).scalar_one()
            conn.execute(
                insert(AdminLevel),
                [
                    {
                        "dataset_id": ds_id,
                        "level": int(r.level),
                        "code": r.code,
                        "name_fr": r.name_fr,
                        "name_en": r.name_en,
                    }
                    for r in bundle.levels.itertuples()
                ],
            )
            code_to_id = self._insert_units(conn, ds_id, units)
            self._insert_closure(conn, units, code_to_id)
            conn.execute(
                insert(DocumentType),
                [
                    {
                        "dataset_id": ds_id,
                        "code": r.code,
                        "name_fr": r.name_fr,
                        "name_en": r.name_en,
                        "target_delay_days": float(r.target_delay_days),
                    }
                    for r in bundle.doc_types.itertuples()
                ],
            )
            center_ids = self._insert_points(
                conn, ServiceCenter, ds_id, bundle.centers, "center_code", code_to_id
            )
            self._insert_points(
                conn, CandidateSite, ds_id, bundle.candidates, "site_code", code_to_id
            )
            self._insert_operations(
                conn, ds_id, bundle.operations, code_to_id, center_ids
            )
            self._insert_demand(
                conn, ds_id, getattr(bundle, "demand", None), code_to_id
            )
            if access is not None:
                self._replace_access(
                    conn, ds_id, access(*self._access_inputs(conn, ds_id))
                )
            if activate:
                self._activate(conn, ds_id)
            if audit is not None:
                conn.execute(insert(AuditEvent).values(audit.row(ds_id)))
        return next(d for d in self.datasets() if d.id == ds_id)

    @staticmethod
    def _insert_units(conn, ds_id: int, units: gpd.GeoDataFrame) -> dict[str, int]:
        rep = units.geometry.representative_point()
        wkb = shapely.to_wkb(units.geometry.values, output_dimension=2)
        frame = pd.DataFrame(
            {
                "code": units["unit_code"].astype(str),
                "name": units["name"].astype(str),
                "level": units["level"].astype(int),
                "parent_code": units["parent_code"],
                "population": units["population"],
                "area_km2": units["area_km2"].astype(float),
                "urban": units.get("urban", False),
                "poverty_rate": units.get("poverty_rate"),
                "literacy_rate": units.get("literacy_rate"),
                "internet_rate": units.get("internet_rate"),
                "rep_lon": rep.x.to_numpy(),
                "rep_lat": rep.y.to_numpy(),
                "geometry_wkb": wkb,
            }
        )
        code_to_id: dict[str, int] = {}
        for level in sorted(frame["level"].unique()):
            part = frame[frame["level"] == level]
            rows = []
            for r in part.to_dict("records"):
                parent = r.pop("parent_code")
                r["parent_id"] = code_to_id.get(parent) if _present(parent) else None
                if _present(parent) and r["parent_id"] is None:
                    raise StoreError(
                        f"unit {r['code']!r} (level {level}): parent {parent!r} not found"
                    )
                r["urban"] = bool(r["urban"]) if _present(r["urban"]) else False
                for key in ("poverty_rate", "literacy_rate", "internet_rate"):
                    r[key] = float(r[key]) if _present(r[key]) else None
                # an unknown population stays NULL: a 0 would count as known
                r["population"] = (
                    int(r["population"]) if _present(r["population"]) else None
                )
                r["level"] = int(r["level"])
                r["dataset_id"] = ds_id
                rows.append(r)
            conn.execute(insert(AdminUnit), rows)
            got = conn.execute(
                select(AdminUnit.code, AdminUnit.id).where(
                    AdminUnit.dataset_id == ds_id, AdminUnit.level == int(level)
                )
            ).all()
            code_to_id.update(dict(got))
        return code_to_id

    @staticmethod
    def _insert_closure(
        conn, units: gpd.GeoDataFrame, code_to_id: dict[str, int]
    ) -> None:
        parent = dict(zip(units["unit_code"], units["parent_code"], strict=True))
        rows = []
        for code in units["unit_code"]:
            node, depth = code, 0
            while _present(node):
                rows.append(
                    {
                        "ancestor_id": code_to_id[node],
                        "descendant_id": code_to_id[code],
                        "depth": depth,
                    }
                )
                node, depth = parent.get(node), depth + 1
        for start in range(0, len(rows), _CHUNK):
            conn.execute(insert(UnitClosure), rows[start : start + _CHUNK])

    @staticmethod
    def _insert_points(
        conn,
        model,
        ds_id: int,
        frame: pd.DataFrame,
        code_col: str,
        code_to_id: dict[str, int],
    ) -> dict[str, int]:
        if frame is None or frame.empty:
            return {}
        rows = []
        for i, r in enumerate(frame.to_dict("records")):
            commune = code_to_id.get(r["commune_code"])
            if commune is None:
                raise StoreError(
                    f"{model.__tablename__} row {i + 1}: commune {r['commune_code']!r} "
                    "not found"
                )
            row = {
                "dataset_id": ds_id,
                "code": str(r[code_col]),
                "name": str(r["name"]),
                "commune_id": commune,
                "lon": float(r["lon"]),
                "lat": float(r["lat"]),
                "capacity_week": float(r.get("capacity_week") or 0),
            }
            if model is ServiceCenter:
                row.update(
                    staff=int(r.get("staff") or 0),
                    status=str(r.get("status") or "open"),
                    opened_on=_as_date(r.get("opened_on")),
                )
            else:
                row["opening_cost"] = float(r.get("opening_cost") or 0)
            rows.append(row)
        conn.execute(insert(model), rows)
        got = conn.execute(
            select(model.code, model.id).where(model.dataset_id == ds_id)
        ).all()
        return dict(got)

    @staticmethod
    def _insert_operations(
        conn,
        ds_id: int,
        ops: pd.DataFrame,
        code_to_id: dict[str, int],
        center_ids: dict[str, int],
    ) -> None:
        if ops is None or ops.empty:
            return
        frame = pd.DataFrame(
            {
                "dataset_id": ds_id,
                "week": pd.to_datetime(ops["week"]).dt.date,
                "commune_id": ops["commune_code"].map(code_to_id),
                "center_id": ops["center_code"].map(center_ids),
                "doc_type": ops["doc_type"].astype(str),
            }
        )
        for bad, col in (
            (frame["commune_id"].isna(), "commune_code"),
            (frame["center_id"].isna(), "center_code"),
        ):
            if bad.any():
                row = int(np.flatnonzero(bad.to_numpy())[0])
                raise StoreError(
                    f"operations row {row + 1}: {col} {ops[col].iloc[row]!r} not found"
                )
        for col in (
            "requests",
            "delivered",
            "delivered_on_time",
            "rejected",
            "backlog",
        ):
            frame[col] = ops[col].astype("int64").to_numpy()
        for col in ("delay_mean_days", "delay_p90_days"):
            frame[col] = ops[col].astype(float).to_numpy()
        frame["commune_id"] = frame["commune_id"].astype("int64")
        frame["center_id"] = frame["center_id"].astype("int64")
        records = frame.astype(object).where(frame.notna(), None).to_dict("records")
        for start in range(0, len(records), _CHUNK):
            conn.execute(insert(Operation), records[start : start + _CHUNK])

    @staticmethod
    def _insert_demand(
        conn, ds_id: int, demand: pd.DataFrame | None, code_to_id: dict[str, int]
    ) -> None:
        """Estimated demand (``commune_code``, ``doc_type``, ``requests_week``, rate)."""
        if demand is None or demand.empty:
            return
        ids = demand["commune_code"].astype(str).map(code_to_id)
        if ids.isna().any():
            bad = demand["commune_code"][ids.isna()].iloc[0]
            raise StoreError(f"demand estimate: commune {bad!r} not found")
        rows = [
            {
                "dataset_id": ds_id,
                "commune_id": int(cid),
                "doc_type": str(doc),
                "requests_week": float(req),
                "rate_per_inhabitant_year": float(rate),
            }
            for cid, doc, req, rate in zip(
                ids,
                demand["doc_type"],
                demand["requests_week"],
                demand["rate_per_inhabitant_year"],
                strict=True,
            )
        ]
        for start in range(0, len(rows), _CHUNK):
            conn.execute(insert(DemandEstimate), rows[start : start + _CHUNK])

    def demand_estimates(self, dataset_id: int) -> pd.DataFrame:
        """Demand estimated from population (empty when the dataset has operations)."""
        return self.read_frame(
            "SELECT u.code AS commune_code, d.doc_type, d.requests_week, "
            "d.rate_per_inhabitant_year FROM demand_estimates d "
            "JOIN admin_units u ON u.id = d.commune_id WHERE d.dataset_id = :d "
            "ORDER BY u.code, d.doc_type",
            {"d": dataset_id},
        )

    # -- derived access table ------------------------------------------------------
    def write_access(self, dataset_id: int, access: pd.DataFrame) -> None:
        """Replace the nearest-center distances of ``dataset_id``.

        ``access`` has columns ``commune_id``, ``nearest_center_id``, ``distance_km``.
        """
        with self.engine.begin() as conn:
            self._replace_access(conn, dataset_id, access)

    @staticmethod
    def _access_inputs(conn, dataset_id: int) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Communes (finest level) and centers of a dataset, read on ``conn``."""
        level = _commune_level(dataset_id)
        communes = conn.execute(
            select(AdminUnit.id, AdminUnit.rep_lon, AdminUnit.rep_lat)
            .where(AdminUnit.dataset_id == dataset_id, AdminUnit.level == level)
            .order_by(AdminUnit.id)
        ).all()
        centers = conn.execute(
            select(
                ServiceCenter.id,
                ServiceCenter.lon,
                ServiceCenter.lat,
                ServiceCenter.status,
            )
            .where(ServiceCenter.dataset_id == dataset_id)
            .order_by(ServiceCenter.id)
        ).all()
        return (
            pd.DataFrame(communes, columns=["id", "rep_lon", "rep_lat"]),
            pd.DataFrame(centers, columns=["id", "lon", "lat", "status"]),
        )

    @staticmethod
    def _replace_access(conn, dataset_id: int, access: pd.DataFrame) -> None:
        rows = [
            {
                "dataset_id": dataset_id,
                "commune_id": int(r.commune_id),
                "nearest_center_id": None
                if pd.isna(r.nearest_center_id)
                else int(r.nearest_center_id),
                "distance_km": None if pd.isna(r.distance_km) else float(r.distance_km),
            }
            for r in access.itertuples()
        ]
        conn.execute(
            delete(CommuneAccess).where(CommuneAccess.dataset_id == dataset_id)
        )
        for start in range(0, len(rows), _CHUNK):
            conn.execute(insert(CommuneAccess), rows[start : start + _CHUNK])

    # -- candidate sites ------------------------------------------------------------
    def add_candidate_sites(self, dataset_id: int, frame: pd.DataFrame) -> list[int]:
        """Add sites to a dataset's candidate set, all in one transaction.

        Parameters
        ----------
        dataset_id : int
        frame : DataFrame
            ``code``, ``name``, ``commune_id``, ``lon``, ``lat`` and optionally
            ``opening_cost``, ``capacity_week`` (0 when absent). Each point must lie
            inside (or on the border of) its commune, a commune of that dataset;
            codes must be new and unique.

        Returns
        -------
        list of int
            Ids of the new rows, in the order of ``frame``.

        Examples
        --------
        >>> # store.add_candidate_sites(1, pd.DataFrame({"code": ["SEG01"], ...}))
        """
        missing = {"code", "name", "commune_id", "lon", "lat"} - set(frame.columns)
        if missing:
            raise StoreError(
                f"candidate sites lack columns: {', '.join(sorted(missing))}"
            )
        if frame.empty:
            raise StoreError("no candidate site to add")
        codes = frame["code"].astype(str).str.strip()
        if (codes == "").any() or frame["code"].isna().any():
            raise StoreError("every candidate site needs a code")
        dup = codes[codes.duplicated()]
        if not dup.empty:
            raise StoreError(f"duplicate site codes: {', '.join(dup.unique()[:5])}")
        lon = pd.to_numeric(frame["lon"], errors="coerce").to_numpy(dtype=float)
        lat = pd.to_numeric(frame["lat"], errors="coerce").to_numpy(dtype=float)
        if not (np.isfinite(lon).all() and np.isfinite(lat).all()):
            raise StoreError("every candidate site needs numeric lon and lat")
        with self.engine.begin() as conn:
            if (
                conn.execute(select(Dataset.id).where(Dataset.id == dataset_id)).first()
                is None
            ):
                raise StoreError(f"no dataset with id {dataset_id}")
            taken = set(
                conn.execute(
                    select(CandidateSite.code).where(
                        CandidateSite.dataset_id == dataset_id
                    )
                ).scalars()
            )
            clash = sorted(set(codes) & taken)
            if clash:
                raise StoreError(
                    f"site codes already in the candidate set: {', '.join(clash[:5])}"
                )
            centers = conn.execute(
                select(ServiceCenter.code).where(ServiceCenter.dataset_id == dataset_id)
            ).scalars()
            clash = sorted(set(codes) & set(centers))
            if clash:
                raise StoreError(
                    f"site codes already used by centers: {', '.join(clash[:5])}"
                )
            commune_level = conn.execute(
                select(AdminLevel.level)
                .where(AdminLevel.dataset_id == dataset_id)
                .order_by(AdminLevel.level.desc())
            ).scalar()
            try:
                wanted = {int(c) for c in frame["commune_id"]}
            except (TypeError, ValueError) as exc:
                raise StoreError(
                    "every candidate site needs an integer commune_id"
                ) from exc
            found = dict(
                conn.execute(
                    select(AdminUnit.id, AdminUnit.geometry_wkb).where(
                        AdminUnit.dataset_id == dataset_id,
                        AdminUnit.level == commune_level,
                        AdminUnit.id.in_(wanted),
                    )
                ).all()
            )
            rows = []
            for i, r in enumerate(frame.to_dict("records")):
                wkb = found.get(int(r["commune_id"]))
                if wkb is None:
                    raise StoreError(
                        f"site {codes.iloc[i]}: commune id {r['commune_id']} is not a "
                        f"commune of dataset {dataset_id}"
                    )
                if not shapely.from_wkb(wkb).covers(shapely.Point(lon[i], lat[i])):
                    raise StoreError(
                        f"site {codes.iloc[i]}: point ({lon[i]:.5f}, {lat[i]:.5f}) is "
                        "outside its commune"
                    )
                rows.append(
                    {
                        "dataset_id": dataset_id,
                        "code": codes.iloc[i],
                        "name": str(r["name"]),
                        "commune_id": int(r["commune_id"]),
                        "lon": float(lon[i]),
                        "lat": float(lat[i]),
                        "opening_cost": _number(r.get("opening_cost")),
                        "capacity_week": _number(r.get("capacity_week")),
                    }
                )
            conn.execute(insert(CandidateSite), rows)
            got = dict(
                conn.execute(
                    select(CandidateSite.code, CandidateSite.id).where(
                        CandidateSite.dataset_id == dataset_id,
                        CandidateSite.code.in_(list(codes)),
                    )
                ).all()
            )
        return [int(got[c]) for c in codes]

    # -- reading ------------------------------------------------------------------
    def read_frame(
        self, sql: str, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        """Run a read-only SQL query and return a DataFrame."""
        with self.engine.connect() as conn:
            result = conn.execute(text(sql), params or {})
            # as plain tuples: pandas asks each SQLAlchemy row for a dtype first
            # (an AttributeError raised and caught per row), then makes tuples of
            # them anyway; half the time of a 300-row read
            rows = [tuple(row) for row in result.fetchall()]
            return pd.DataFrame(rows, columns=list(result.keys()))

    def levels(self, dataset_id: int) -> pd.DataFrame:
        """Level names of a dataset, top level first."""
        return self.read_frame(
            "SELECT level, code, name_fr, name_en FROM admin_levels "
            "WHERE dataset_id = :d ORDER BY level",
            {"d": dataset_id},
        )

    def units(self, dataset_id: int, level: int | None = None) -> gpd.GeoDataFrame:
        """Administrative units (one level or all) as a GeoDataFrame in EPSG:4326."""
        sql = (
            "SELECT id, code, name, level, parent_id, population, area_km2, urban, "
            "poverty_rate, literacy_rate, internet_rate, rep_lon, rep_lat, geometry_wkb "
            "FROM admin_units WHERE dataset_id = :d"
        )
        params: dict[str, Any] = {"d": dataset_id}
        if level is not None:
            sql += " AND level = :level"
            params["level"] = int(level)
        frame = self.read_frame(sql + " ORDER BY level, id", params)
        geometry = shapely.from_wkb(frame.pop("geometry_wkb").to_numpy())
        frame["parent_id"] = frame["parent_id"].astype("Int64")
        frame["urban"] = frame["urban"].astype(bool)
        return gpd.GeoDataFrame(frame, geometry=geometry, crs=WGS84)

    def closure(self, dataset_id: int) -> pd.DataFrame:
        """Ancestor/descendant pairs (self included) of the dataset's hierarchy."""
        return self.read_frame(
            "SELECT k.ancestor_id, k.descendant_id, k.depth FROM unit_closure k "
            "JOIN admin_units u ON u.id = k.descendant_id WHERE u.dataset_id = :d",
            {"d": dataset_id},
        )

    def centers(self, dataset_id: int) -> pd.DataFrame:
        """Service centers of a dataset."""
        return self.read_frame(
            "SELECT id, code, name, commune_id, lon, lat, capacity_week, staff, status, "
            "opened_on FROM service_centers WHERE dataset_id = :d ORDER BY id",
            {"d": dataset_id},
        )

    def candidates(self, dataset_id: int) -> pd.DataFrame:
        """Candidate sites of a dataset."""
        return self.read_frame(
            "SELECT id, code, name, commune_id, lon, lat, opening_cost, capacity_week "
            "FROM candidate_sites WHERE dataset_id = :d ORDER BY id",
            {"d": dataset_id},
        )

    def doc_types(self, dataset_id: int) -> pd.DataFrame:
        """Document types of a dataset with their target delays."""
        return self.read_frame(
            "SELECT code, name_fr, name_en, target_delay_days FROM document_types "
            "WHERE dataset_id = :d ORDER BY code",
            {"d": dataset_id},
        )

    def weeks(self, dataset_id: int) -> tuple[dt.date, dt.date] | None:
        """First and last week with operations, or ``None`` if there are none."""
        frame = self.read_frame(
            "SELECT MIN(week) AS first, MAX(week) AS last FROM operations "
            "WHERE dataset_id = :d",
            {"d": dataset_id},
        )
        if frame.empty or frame["first"].isna().all():
            return None
        return _as_date(frame["first"].iloc[0]), _as_date(frame["last"].iloc[0])


def _wait_or_fail(deadline: float, timeout: float) -> None:
    if time.monotonic() > deadline:
        raise StoreError(
            f"another process has been preparing the store for over {timeout:.0f} s "
            "(schema upgrade or first-run data); try again when it is done"
        )
    time.sleep(0.2)


def _commune_level(dataset_id: int):
    """The finest level of a dataset, as a scalar subquery."""
    return (
        select(func.max(AdminLevel.level))
        .where(AdminLevel.dataset_id == dataset_id)
        .scalar_subquery()
    )


def _present(value) -> bool:
    if value is None:
        return False
    try:
        return not bool(pd.isna(value))
    except (TypeError, ValueError):
        return True


def _number(value) -> float:
    """A float, 0 when absent."""
    return float(value) if _present(value) else 0.0


def _as_date(value) -> dt.date | None:
    if not _present(value):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return pd.Timestamp(value).date()


def _check_units(units) -> gpd.GeoDataFrame:
    if not isinstance(units, gpd.GeoDataFrame):
        raise TypeError(f"'units' should be GeoDataFrame, got {type(units)}")
    if units.crs is None:
        raise StoreError(
            "units have no CRS: declare one (e.g. EPSG:4326) before storing"
        )
    missing = {"unit_code", "name", "level", "parent_code", "population", "area_km2"}
    missing -= set(units.columns)
    if missing:
        raise StoreError(f"units lack columns: {', '.join(sorted(missing))}")
    dup = units["unit_code"][units["unit_code"].duplicated()]
    if not dup.empty:
        raise StoreError(
            f"duplicate unit codes: {', '.join(map(str, dup.unique()[:5]))}"
        )
    return units.to_crs(WGS84) if units.crs != WGS84 else units
