"""Saved scenarios: their spec, their results and the dataset version they used.

A scenario is stored as one row of the ``scenarios`` table: the spec and results as
JSON text (portable: the same on SQLite and PostgreSQL). Result tables are written
as ``{"dtypes": {column: dtype}, "records": [{column: value}, ...]}`` so reopening
gives the same columns, order and dtypes. What JSON cannot carry is documented:
the index is not kept (results use a fresh ``RangeIndex``), NaN and infinities
become missing values (read back as NaN, or ``<NA>`` in nullable dtypes) and
datetimes go through ISO strings (nanoseconds are kept, time zones are not).

Errors a user can cause (empty or duplicate name, unknown id...) raise
:class:`ScenarioStoreError`, whose ``code`` and ``values`` let the app show the
message in the user's language.

Examples
--------
>>> from data.store import Store
>>> from tests.tiny import tiny_bundle
>>> store = Store("sqlite://"); store.upgrade()
>>> info = store.add_dataset(tiny_bundle(), activate=False)
>>> rec = save_scenario(store, info.id, "Plan 2027", {"model": "pmedian"})
>>> rec.status, get_scenario(store, rec.id).params
('draft', {'model': 'pmedian'})
>>> duplicate_scenario(store, rec.id).name
'Plan 2027 (copie)'
"""

from __future__ import annotations

import datetime as dt
import json
import math
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from data.schema import Dataset, Scenario
from data.store import Store, StoreError

if TYPE_CHECKING:
    from data.users import Principal

__all__ = [
    "NAME_MAX",
    "STATUSES",
    "ScenarioRecord",
    "ScenarioStoreError",
    "delete_scenario",
    "duplicate_scenario",
    "frame_from_json",
    "frame_to_json",
    "get_scenario",
    "is_stale",
    "list_scenarios",
    "list_stamp",
    "missing_export_right",
    "record_from_result",
    "rename_scenario",
    "save_scenario",
    "update_scenario",
]

NAME_MAX = 120
#: ``draft`` (saved, not run) then the solver's honest statuses.
STATUSES = ("draft", "optimal", "feasible", "infeasible", "no_solution", "unbounded")
LIST_COLUMNS = [
    "id",
    "name",
    "author",
    "status",
    "dataset_id",
    "dataset_version",
    "created_at",
    "updated_at",
    "owner_id",
    "stale",
]
#: days a deleted scenario can be restored before it is purged for good
UNDO_DAYS = 30
_UPDATABLE = {
    "name",
    "author",
    "params",
    "summary",
    "centers",
    "communes",
    "status",
    "dataset_id",
}


class ScenarioStoreError(StoreError):
    """A scenario operation refused, with a message for the user.

    Attributes
    ----------
    code : str
        Stable reason (``name_empty``, ``name_too_long``, ``name_taken``,
        ``unknown_id``, ``unknown_dataset``, ``not_json``, ``bad_status``), for
        translating the message.
    values : dict
        What the message mentions (name, id...).
    """

    def __init__(self, message: str, code: str, **values: Any) -> None:
        super().__init__(message)
        self.code = code
        self.values = values


@dataclass(eq=False)
class ScenarioRecord:
    """One saved scenario as read back from the store."""

    id: int
    dataset_id: int
    dataset_version: str
    name: str
    author: str
    params: dict[str, Any]
    summary: dict[str, Any] | None
    centers: pd.DataFrame | None
    communes: pd.DataFrame | None
    status: str
    created_at: dt.datetime
    updated_at: dt.datetime
    owner_id: int | None = None
    deleted_at: dt.datetime | None = None

    @property
    def has_results(self) -> bool:
        """True once a run's results are stored."""
        return self.centers is not None or self.communes is not None


# -- JSON conversion ------------------------------------------------------------------
def _plain(value: Any) -> Any:
    """Numpy and pandas scalars as JSON primitives; NaN and infinities as None."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(float(value)) else None
    if isinstance(value, (pd.Timestamp, dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _dumps(value: Any, what: str) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ScenarioStoreError(
            f"{what} cannot be saved as JSON: {exc}", "not_json", what=what
        ) from exc


def frame_to_json(frame: pd.DataFrame) -> str:
    """A DataFrame as JSON text: dtypes by column, then records.

    Examples
    --------
    >>> frame_to_json(pd.DataFrame({"a": [1, 2]}))
    '{"dtypes": {"a": "int64"}, "records": [{"a": 1}, {"a": 2}]}'
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"'frame' should be DataFrame, got {type(frame)}")
    columns = [str(c) for c in frame.columns]
    if len(set(columns)) != len(columns):
        raise ScenarioStoreError(
            f"result table has duplicate columns: {columns}", "not_json", what="table"
        )
    dtypes = {str(c): str(t) for c, t in frame.dtypes.items()}
    records = [
        {col: _plain(v) for col, v in zip(columns, row, strict=True)}
        for row in frame.itertuples(index=False, name=None)
    ]
    return _dumps({"dtypes": dtypes, "records": records}, "result table")


def frame_from_json(text: str) -> pd.DataFrame:
    """Inverse of :func:`frame_to_json`.

    Read by the web server for each result drawn: a column is converted only when
    it did not come out of the records with its dtype already (numbers and flags
    do; text becomes ``str``), which halves the time.
    """
    data = json.loads(text)
    dtypes: dict[str, str] = data["dtypes"]
    frame = pd.DataFrame.from_records(data["records"], columns=list(dtypes))
    for col, dtype in dtypes.items():
        if str(frame[col].dtype) == dtype:
            continue
        try:
            if dtype.startswith("datetime64"):
                frame[col] = pd.to_datetime(frame[col]).astype(dtype)
            elif dtype == "object":
                frame[col] = frame[col].astype(object)
            else:
                frame[col] = frame[col].astype(dtype)
        except (TypeError, ValueError):
            # e.g. a bool column that held missing values: keep what JSON gave
            continue
    return frame


def _optional_json(value: Any, what: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, pd.DataFrame):
        return frame_to_json(value)
    if not isinstance(value, Mapping):
        raise TypeError(f"'{what}' should be a dict, got {type(value)}")
    return _dumps(_plain(value), what)


def _params_json(params: Any) -> str:
    if hasattr(params, "to_dict") and not isinstance(params, Mapping):
        params = params.to_dict()  # a ScenarioSpec
    if not isinstance(params, Mapping):
        raise TypeError(f"'params' should be a dict, got {type(params)}")
    return _dumps(dict(params), "params")


# -- checks ---------------------------------------------------------------------------
def _check_name(name: Any) -> str:
    if not isinstance(name, str):
        raise TypeError(f"'name' should be str, got {type(name)}")
    clean = " ".join(name.split())
    if not clean:
        raise ScenarioStoreError("a scenario needs a name", "name_empty")
    if len(clean) > NAME_MAX:
        raise ScenarioStoreError(
            f"scenario name is {len(clean)} characters long; at most {NAME_MAX}",
            "name_too_long",
            length=len(clean),
            max=NAME_MAX,
        )
    return clean


def _check_status(status: Any) -> str:
    if status not in STATUSES:
        raise ScenarioStoreError(
            f"unknown scenario status {status!r}; expected one of {list(STATUSES)}",
            "bad_status",
            status=status,
        )
    return status


def _dataset_version(conn, dataset_id: int) -> str:
    version = conn.execute(
        select(Dataset.version).where(Dataset.id == int(dataset_id))
    ).scalar()
    if version is None:
        raise ScenarioStoreError(
            f"no dataset with id {dataset_id}", "unknown_dataset", id=dataset_id
        )
    return version


def _name_taken(name: str, dataset_id: int) -> ScenarioStoreError:
    return ScenarioStoreError(
        f"a scenario named {name!r} already exists on this dataset; choose another "
        "name",
        "name_taken",
        name=name,
        dataset_id=dataset_id,
    )


def _unknown(scenario_id: Any) -> ScenarioStoreError:
    return ScenarioStoreError(
        f"no scenario with id {scenario_id}", "unknown_id", id=scenario_id
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


# -- rights ---------------------------------------------------------------------------
def missing_export_right(user: Principal | None, owner_id: int | None) -> str | None:
    """The right ``user`` lacks to export a scenario owned by ``owner_id``, or None.

    One rule for every export of a scenario's results (the screen's downloads and
    the API's CSV): ``scenario.export`` for one's own scenarios, ``export.any``
    for everyone's, including those saved before sign-in existed (no owner).

    Examples
    --------
    >>> from data.users import Principal
    >>> missing_export_right(Principal(2, "awa", "viewer"), 2)
    'scenario.export'
    >>> missing_export_right(Principal(2, "awa", "planner"), 3)
    'export.any'
    >>> missing_export_right(Principal(2, "awa", "planner"), 2) is None
    True
    """
    if user is None or not user.can("scenario.export"):
        return "scenario.export"
    if user.can("export.any") or (owner_id is not None and owner_id == user.id):
        return None
    return "export.any"


# -- reading --------------------------------------------------------------------------
def _record(row) -> ScenarioRecord:
    m = row._mapping
    return ScenarioRecord(
        id=int(m["id"]),
        dataset_id=int(m["dataset_id"]),
        dataset_version=m["dataset_version"],
        name=m["name"],
        author=m["author"],
        params=json.loads(m["params_json"]),
        summary=None if m["summary_json"] is None else json.loads(m["summary_json"]),
        centers=None
        if m["centers_json"] is None
        else frame_from_json(m["centers_json"]),
        communes=None
        if m["communes_json"] is None
        else frame_from_json(m["communes_json"]),
        status=m["status"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        owner_id=None if m["owner_id"] is None else int(m["owner_id"]),
        deleted_at=m["deleted_at"],
    )


def get_scenario(
    store: Store, scenario_id: int, *, include_deleted: bool = False
) -> ScenarioRecord:
    """Read one scenario with its results (a deleted one only if asked).

    Raises
    ------
    ScenarioStoreError
        ``unknown_id`` when there is none with this id.
    """
    key = _scenario_key(scenario_id)
    with store.engine.connect() as conn:
        row = conn.execute(select(Scenario.__table__).where(Scenario.id == key)).first()
    if row is None or (row.deleted_at is not None and not include_deleted):
        raise _unknown(scenario_id)
    return _record(row)


def scenario_stamp(
    store: Store, scenario_id: int, *, include_deleted: bool = False
) -> tuple[int, dt.datetime, dt.datetime, dt.datetime | None]:
    """``(id, created_at, updated_at, deleted_at)`` of a saved scenario.

    Every change of a saved scenario's record (results, name, status, deletion,
    restoring) changes its ``updated_at`` or ``deleted_at``, and an id given again
    after a purge has a new ``created_at``: the stamp names one state of the record
    (what a memo of :func:`get_scenario` keys on), in one small query where
    :func:`get_scenario` reads and parses the result tables.

    Raises
    ------
    ScenarioStoreError
        ``unknown_id`` as :func:`get_scenario` does (a deleted one too, unless
        ``include_deleted``).

    Examples
    --------
    >>> from data.store import Store
    >>> from tests.tiny import tiny_bundle
    >>> store = Store("sqlite://"); store.upgrade()
    >>> ds = store.add_dataset(tiny_bundle(), activate=False).id
    >>> rec = save_scenario(store, ds, "A", {})
    >>> scenario_stamp(store, rec.id) == (rec.id, rec.created_at, rec.updated_at, None)
    True
    """
    key = _scenario_key(scenario_id)
    table = Scenario.__table__
    with store.engine.connect() as conn:
        row = conn.execute(
            select(
                table.c.id, table.c.created_at, table.c.updated_at, table.c.deleted_at
            ).where(table.c.id == key)  # fmt: skip
        ).first()
    if row is None or (row.deleted_at is not None and not include_deleted):
        raise _unknown(scenario_id)
    return int(row.id), row.created_at, row.updated_at, row.deleted_at


def _scenario_key(scenario_id: Any) -> int:
    try:
        key = int(scenario_id)
    except (TypeError, ValueError):
        raise _unknown(scenario_id) from None
    if not 0 < key < 2**63:
        raise _unknown(scenario_id)
    return key


def list_scenarios(
    store: Store, dataset_id: int | None = None, *, deleted: bool = False
) -> pd.DataFrame:
    """Saved scenarios, most recently updated first, without their results.

    ``deleted=True`` lists the soft-deleted ones instead (restorable).

    Columns are ``id, name, author, status, dataset_id, dataset_version,
    created_at, updated_at, stale`` (see :func:`is_stale`).

    Examples
    --------
    >>> from data.store import Store
    >>> store = Store("sqlite://"); store.upgrade()
    >>> list(list_scenarios(store).columns)[-1], len(list_scenarios(store))
    ('stale', 0)
    """
    sql = (
        "SELECT id, name, author, status, dataset_id, dataset_version, created_at, "
        "updated_at, owner_id FROM scenarios WHERE deleted_at IS "
        + ("NOT NULL" if deleted else "NULL")
    )
    params: dict[str, Any] = {}
    if dataset_id is not None:
        sql += " AND dataset_id = :d"
        params["d"] = int(dataset_id)
    frame = store.read_frame(sql + " ORDER BY updated_at DESC, id DESC", params)
    active = store.active_dataset()
    if frame.empty:
        return pd.DataFrame(
            {c: pd.Series(dtype=bool if c == "stale" else object) for c in LIST_COLUMNS}
        )
    frame["created_at"] = pd.to_datetime(frame["created_at"])
    frame["updated_at"] = pd.to_datetime(frame["updated_at"])
    frame["stale"] = [
        _stale(active, int(d), v)
        for d, v in zip(frame["dataset_id"], frame["dataset_version"], strict=True)
    ]
    return frame[LIST_COLUMNS]


def list_stamp(store: Store) -> tuple:
    """One state of the saved scenarios as their lists show them, in one small query.

    ``(rows, deleted rows, last id, last update, last deletion)`` over every
    scenario, read from the lists' index (migration 0008) without touching the
    results. Each change a list shows changes it: a scenario saved or duplicated
    adds a row and a new id, a purge removes one, a deletion sets a later
    ``deleted_at`` and counts one more deleted row, and a rename, a new status,
    new results or a restore set ``updated_at`` to the time of the change, later
    than any before. What :func:`list_scenarios` also depends on, the active
    dataset (its stale flags), is not in it.

    Examples
    --------
    >>> from data.store import Store
    >>> from tests.tiny import tiny_bundle
    >>> store = Store("sqlite://"); store.upgrade()
    >>> list_stamp(store)
    (0, 0, None, None, None)
    >>> ds = store.add_dataset(tiny_bundle(), activate=False).id
    >>> rec = save_scenario(store, ds, "A", {})
    >>> list_stamp(store) == (1, 0, rec.id, rec.updated_at, None)
    True
    """
    table = Scenario.__table__
    with store.engine.connect() as conn:
        row = conn.execute(
            select(
                func.count(),
                func.count(table.c.deleted_at),
                func.max(table.c.id),
                func.max(table.c.updated_at),
                func.max(table.c.deleted_at),
            )
        ).one()
    return tuple(row)


def _stale(active, dataset_id: int, version: str) -> bool:
    return active is None or active.id != dataset_id or active.version != version


def is_stale(store: Store, record: ScenarioRecord) -> bool:
    """True when the record's dataset is no longer the active one, or changed version.

    A stale scenario's results describe data the app no longer shows: the screen
    should say so and offer to run it again.
    """
    return _stale(store.active_dataset(), record.dataset_id, record.dataset_version)


# -- writing --------------------------------------------------------------------------
def save_scenario(
    store: Store,
    dataset_id: int,
    name: str,
    params: dict[str, Any],
    *,
    author: str = "",
    summary: dict[str, Any] | None = None,
    centers: pd.DataFrame | None = None,
    communes: pd.DataFrame | None = None,
    status: str = "draft",
    owner_id: int | None = None,
) -> ScenarioRecord:
    """Save a new scenario on ``dataset_id`` (its current version is recorded).

    Parameters
    ----------
    store : Store
    dataset_id : int
    name : str
        Unique among the dataset's scenarios not deleted, 1 to ``NAME_MAX``
        characters (spaces are normalised). A deleted scenario's name is free, and
        the deleted scenario is kept: restorable by its owner (or an admin) until
        :func:`purge_deleted` (see :func:`restore_scenario`).
    params : dict
        The scenario spec (a ``ScenarioSpec`` is accepted and stored as its
        ``to_dict()``); must be JSON-serialisable.
    author : str
    owner_id : int, optional
        The user who saves it (``users.id``); owners manage their scenarios.
    summary, centers, communes : optional
        Results of a run (see :func:`record_from_result`); ``None`` for a draft.
    status : str
        One of ``STATUSES``.

    Returns
    -------
    ScenarioRecord
        As read back from the store.

    Raises
    ------
    ScenarioStoreError
        Empty, too long or already used name, unknown dataset, params or results
        that are not JSON. Two saves racing for one name give one record and one
        ``name_taken`` error.

    Examples
    --------
    >>> from data.store import Store
    >>> from tests.tiny import tiny_bundle
    >>> store = Store("sqlite://"); store.upgrade()
    >>> ds = store.add_dataset(tiny_bundle(), activate=False).id
    >>> save_scenario(store, ds, "  A  ", {}).name
    'A'
    >>> try:
    ...     save_scenario(store, ds, "A", {})
    ... except ScenarioStoreError as exc:
    ...     print(exc.code, "-", exc)
    name_taken - a scenario named 'A' already exists on this dataset; choose another name
    """
    clean = _check_name(name)
    values = {
        "name": clean,
        "author": str(author or "").strip()[:NAME_MAX],
        "params_json": _params_json(params),
        "summary_json": _optional_json(summary, "summary"),
        "centers_json": _optional_json(centers, "centers"),
        "communes_json": _optional_json(communes, "communes"),
        "status": _check_status(status),
    }
    now = _now()
    try:
        with store.engine.begin() as conn:
            version = _dataset_version(conn, dataset_id)
            new_id = conn.execute(
                insert(Scenario)
                .values(
                    dataset_id=int(dataset_id),
                    dataset_version=version,
                    created_at=now,
                    updated_at=now,
                    owner_id=owner_id,
                    **values,
                )
                .returning(Scenario.id)
            ).scalar_one()
    except IntegrityError as exc:
        raise _name_taken(clean, dataset_id) from exc
    return get_scenario(store, new_id)


def update_scenario(store: Store, scenario_id: int, **fields: Any) -> ScenarioRecord:
    """Change some fields of a saved scenario (e.g. store a run's results).

    Accepted fields: ``name, author, params, summary, centers, communes, status,
    dataset_id``. Passing ``None`` for a result clears it. Changing ``dataset_id``
    (re-running on another dataset) also records that dataset's current version;
    setting results without it records the version of the scenario's own dataset
    as it is now, so a re-run clears the stale flag.

    Examples
    --------
    >>> from data.store import Store
    >>> from tests.tiny import tiny_bundle
    >>> store = Store("sqlite://"); store.upgrade()
    >>> ds = store.add_dataset(tiny_bundle(), activate=False).id
    >>> rec = save_scenario(store, ds, "A", {})
    >>> update_scenario(store, rec.id, status="optimal", summary={"x": 1}).summary
    {'x': 1}
    """
    unknown = set(fields) - _UPDATABLE
    if unknown:
        raise TypeError(
            f"cannot update {sorted(unknown)}; allowed: {sorted(_UPDATABLE)}"
        )
    values: dict[str, Any] = {}
    if "name" in fields:
        values["name"] = _check_name(fields["name"])
    if "author" in fields:
        values["author"] = str(fields["author"] or "").strip()[:NAME_MAX]
    if "params" in fields:
        values["params_json"] = _params_json(fields["params"])
    for key in ("summary", "centers", "communes"):
        if key in fields:
            values[f"{key}_json"] = _optional_json(fields[key], key)
    if "status" in fields:
        values["status"] = _check_status(fields["status"])
    current = get_scenario(store, scenario_id)
    dataset_id = int(fields.get("dataset_id", current.dataset_id))
    try:
        with store.engine.begin() as conn:
            if "dataset_id" in fields or {"summary", "centers", "communes"} & set(
                fields
            ):
                values["dataset_id"] = dataset_id
                values["dataset_version"] = _dataset_version(conn, dataset_id)
            values["updated_at"] = _now()
            done = conn.execute(
                update(Scenario).where(Scenario.id == current.id).values(**values)
            ).rowcount
    except IntegrityError as exc:
        raise _name_taken(values.get("name", current.name), dataset_id) from exc
    if not done:
        raise _unknown(scenario_id)
    return get_scenario(store, current.id)


def rename_scenario(store: Store, scenario_id: int, new_name: str) -> ScenarioRecord:
    """Give a scenario another name (unique on its dataset)."""
    return update_scenario(store, scenario_id, name=new_name)


def _suffixed_names(name: str, word: str):
    """``"<name> (<word>)"``, then ``"<name> (<word> 2)"``... within ``NAME_MAX``."""
    suffixes = [f" ({word})"] + [f" ({word} {k})" for k in range(2, 1000)]
    for suffix in suffixes:
        yield name[: NAME_MAX - len(suffix)].rstrip() + suffix


def duplicate_scenario(
    store: Store,
    scenario_id: int,
    new_name: str | None = None,
    *,
    owner_id: int | None = None,
) -> ScenarioRecord:
    """Copy a scenario (spec, results, status) under a new name.

    The default name is ``"<name> (copie)"``, then ``"<name> (copie 2)"``... the
    first one free on the dataset. The copy keeps the original's dataset version,
    so a copy of a stale scenario is stale too.
    """
    source = get_scenario(store, scenario_id)
    candidates = [_check_name(new_name)] if new_name is not None else None
    with store.engine.connect() as conn:
        row = conn.execute(
            select(Scenario.__table__).where(Scenario.id == source.id)
        ).first()
    base = {
        k: row._mapping[k]
        for k in (
            "dataset_id",
            "dataset_version",
            "author",
            "params_json",
            "summary_json",
            "centers_json",
            "communes_json",
            "status",
        )
    }
    for name in candidates or _suffixed_names(source.name, "copie"):
        now = _now()
        try:
            with store.engine.begin() as conn:
                new_id = conn.execute(
                    insert(Scenario)
                    .values(
                        **base,
                        name=name,
                        created_at=now,
                        updated_at=now,
                        owner_id=owner_id,
                    )
                    .returning(Scenario.id)
                ).scalar_one()
        except IntegrityError as exc:
            if candidates:
                raise _name_taken(name, source.dataset_id) from exc
            continue  # taken (maybe just now by someone else): try the next one
        return get_scenario(store, new_id)
    raise _name_taken(source.name, source.dataset_id)


def delete_scenario(store: Store, scenario_id: int) -> None:
    """Soft-delete a scenario: hidden everywhere, restorable for ``UNDO_DAYS``."""
    record = get_scenario(store, scenario_id)
    with store.engine.begin() as conn:
        conn.execute(
            update(Scenario)
            .where(Scenario.id == record.id)
            .values(deleted_at=_now(), share_nonce=None)
        )


def restore_scenario(store: Store, scenario_id: int) -> ScenarioRecord:
    """Bring a soft-deleted scenario back, under a new name if its own was taken.

    A deleted scenario's name is free for others (names are unique among the
    scenarios not deleted, migration 0009). When a scenario of that name exists on
    the dataset by now, the restored one is named ``"<name> (restauré)"``, then
    ``"<name> (restauré 2)"``...: the first one free.

    Examples
    --------
    >>> from data.store import Store
    >>> from tests.tiny import tiny_bundle
    >>> store = Store("sqlite://"); store.upgrade()
    >>> ds = store.add_dataset(tiny_bundle(), activate=False).id
    >>> old = save_scenario(store, ds, "Plan", {}, owner_id=1)
    >>> delete_scenario(store, old.id)
    >>> new = save_scenario(store, ds, "Plan", {}, owner_id=2)
    >>> restore_scenario(store, old.id).name
    'Plan (restauré)'
    """
    record = get_scenario(store, scenario_id, include_deleted=True)
    if record.deleted_at is None:
        return record
    for name in [record.name, *_suffixed_names(record.name, "restauré")]:
        try:
            with store.engine.begin() as conn:
                conn.execute(
                    update(Scenario)
                    .where(Scenario.id == record.id)
                    .values(name=name, deleted_at=None, updated_at=_now())
                )
        except IntegrityError:
            continue  # taken (maybe just now by someone else): try the next one
        return get_scenario(store, record.id)
    raise _name_taken(record.name, record.dataset_id)


def purge_scenario(store: Store, scenario_id: int) -> None:
    """Delete a scenario for good."""
    record = get_scenario(store, scenario_id, include_deleted=True)
    with store.engine.begin() as conn:
        conn.execute(delete(Scenario).where(Scenario.id == record.id))


def purge_deleted(store: Store, days: int = UNDO_DAYS) -> int:
    """Delete for good the scenarios soft-deleted more than ``days`` ago."""
    limit = _now() - dt.timedelta(days=days)
    with store.engine.begin() as conn:
        return conn.execute(
            delete(Scenario).where(
                Scenario.deleted_at.is_not(None), Scenario.deleted_at < limit
            )
        ).rowcount


def share_nonce(store: Store, scenario_id: int, *, renew: bool = False) -> str:
    """The nonce a share link of this scenario is signed over (made when missing).

    ``renew=True`` draws a new one, which revokes every link given before.
    """
    key, *_ = scenario_stamp(store, scenario_id)  # it exists, not deleted
    with store.engine.begin() as conn:
        current = conn.execute(
            select(Scenario.share_nonce).where(Scenario.id == key)
        ).scalar_one()
        if current and not renew:
            return current
        nonce = secrets.token_hex(16)
        conn.execute(
            update(Scenario).where(Scenario.id == key).values(share_nonce=nonce)
        )
    return nonce


def revoke_share(store: Store, scenario_id: int) -> None:
    """Revoke every share link of a scenario."""
    record = get_scenario(store, scenario_id)
    with store.engine.begin() as conn:
        conn.execute(
            update(Scenario).where(Scenario.id == record.id).values(share_nonce=None)
        )


def shared_scenario(store: Store, scenario_id: int, nonce: str) -> ScenarioRecord:
    """The scenario a share link names, if the link has not been revoked."""
    record = get_scenario(store, scenario_id)
    with store.engine.connect() as conn:
        current = conn.execute(
            select(Scenario.share_nonce).where(Scenario.id == record.id)
        ).scalar_one()
    if not current or not secrets.compare_digest(current, str(nonce)):
        raise _unknown(scenario_id)
    return record


# -- engine results -------------------------------------------------------------------
def record_from_result(result: Any) -> dict[str, Any]:
    """The fields to store for an engine ``ScenarioResult``.

    Returns
    -------
    dict
        ``summary`` (JSON-ready dict), ``centers`` (the per-site table),
        ``communes`` (the per-commune assignments) and ``status`` (the solver's);
        pass it to :func:`save_scenario` or :func:`update_scenario` as ``**fields``.
        The spec itself is ``result.spec.to_dict()``.
    """
    for attr in ("summary", "centers", "assignments", "report"):
        if not hasattr(result, attr):
            raise TypeError(
                f"'result' should be a ScenarioResult, got {type(result)} "
                f"(no attribute {attr!r})"
            )
    return {
        "summary": _plain(result.summary),
        "centers": result.centers.reset_index(drop=True).copy(),
        "communes": result.assignments.reset_index(drop=True).copy(),
        "status": _check_status(result.report.status),
    }
