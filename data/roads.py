"""Where a dataset's road network lives: its lines, its speed profile, cached times.

Plain storage, no geometry processing: the graph, the import report and the
travel times are made by :mod:`geo.roads` (the caller checks the lines before
they get here). A network is replaced whole in one transaction, and replacing
it (or changing its profile) drops the travel times cached from it.

Examples
--------
>>> from data.store import Store
>>> store = Store("sqlite://"); store.upgrade()
>>> network_info(store, 1) is None
True
"""

from __future__ import annotations

import datetime as dt
import io
import json
import uuid
import zlib
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from sqlalchemy import delete, insert, select, update

from data.schema import Dataset, RoadNetwork, RoadSegment, TravelTimeCache
from data.store import Store, StoreError

__all__ = [
    "cached_matrix",
    "network_info",
    "road_lines",
    "save_network",
    "save_profile",
    "store_matrix",
]

_CHUNK = 20_000


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def save_network(
    store: Store,
    dataset_id: int,
    lines: gpd.GeoDataFrame,
    *,
    source: str,
    tolerance_m: float,
    report: dict[str, Any],
) -> str:
    """Replace the dataset's road network by ``lines``; return its new version.

    Parameters
    ----------
    lines : geopandas.GeoDataFrame
        LineStrings in EPSG:4326 with ``road_class`` and optional ``surface``
        and ``oneway`` columns, already checked.
    source : str
        The file (or ``"demo"``) it came from, for the reports.
    report : dict
        The import report (``geo.roads.NetworkReport.to_dict`` and what the
        importer dropped), stored as it is.

    Raises
    ------
    StoreError
        No such dataset, or lines that are not in EPSG:4326.
    """
    if lines.crs is None or lines.crs.to_epsg() != 4326:
        raise StoreError("road lines should be in EPSG:4326 before they are stored")
    version = uuid.uuid4().hex
    surface = (
        lines["surface"].astype(object).where(lines["surface"].notna(), None)
        if "surface" in lines.columns
        else [None] * len(lines)
    )
    oneway = (
        lines["oneway"].fillna(False).astype(bool).to_numpy()
        if "oneway" in lines.columns
        else np.zeros(len(lines), dtype=bool)
    )
    wkb = shapely.to_wkb(lines.geometry.to_numpy())
    rows = [
        {"dataset_id": dataset_id, "road_class": str(c),
         "surface": None if s is None else str(s), "oneway": bool(o), "geometry_wkb": g}
        for c, s, o, g in zip(lines["road_class"], surface, oneway, wkb, strict=True)
    ]  # fmt: skip
    with store.engine.begin() as conn:
        if (
            conn.execute(select(Dataset.id).where(Dataset.id == dataset_id)).first()
            is None
        ):
            raise StoreError(f"no dataset with id {dataset_id}")
        for model in (TravelTimeCache, RoadSegment, RoadNetwork):
            conn.execute(delete(model).where(model.dataset_id == dataset_id))
        for start in range(0, len(rows), _CHUNK):
            conn.execute(insert(RoadSegment), rows[start : start + _CHUNK])
        conn.execute(
            insert(RoadNetwork).values(
                dataset_id=dataset_id,
                version=version,
                source=str(source)[:200],
                tolerance_m=float(tolerance_m),
                report_json=json.dumps(report),
                profile_json=None,
                created_at=_now(),
            )
        )
    return version


def network_info(store: Store, dataset_id: int) -> dict[str, Any] | None:
    """The network's ``version``, ``source``, ``tolerance_m``, ``report``,
    ``profile`` (None: the defaults) and ``created_at``; None without roads."""
    with store.engine.connect() as conn:
        row = conn.execute(
            select(RoadNetwork).where(RoadNetwork.dataset_id == dataset_id)
        ).first()
    if row is None:
        return None
    net = row[0] if not hasattr(row, "version") else row
    return {
        "version": net.version,
        "source": net.source,
        "tolerance_m": net.tolerance_m,
        "report": json.loads(net.report_json),
        "profile": None if net.profile_json is None else json.loads(net.profile_json),
        "created_at": net.created_at,
    }


def road_lines(store: Store, dataset_id: int) -> gpd.GeoDataFrame | None:
    """The stored lines (EPSG:4326), or None when the dataset has no roads."""
    frame = store.read_frame(
        "SELECT road_class, surface, oneway, geometry_wkb FROM road_segments "
        "WHERE dataset_id = :d ORDER BY id",
        {"d": dataset_id},
    )
    if frame.empty:
        return None
    geoms = shapely.from_wkb([bytes(g) for g in frame["geometry_wkb"]])
    frame["oneway"] = frame["oneway"].astype(bool)
    return gpd.GeoDataFrame(
        frame.drop(columns="geometry_wkb"), geometry=geoms, crs=4326
    )


def save_profile(store: Store, dataset_id: int, profile: dict[str, Any] | None) -> None:
    """Store an edited speed profile (None: back to the defaults); cached times go."""
    with store.engine.begin() as conn:
        done = conn.execute(
            update(RoadNetwork)
            .where(RoadNetwork.dataset_id == dataset_id)
            .values(profile_json=None if profile is None else json.dumps(profile))
        )
        if done.rowcount == 0:
            raise StoreError(f"dataset {dataset_id} has no road network")
        conn.execute(
            delete(TravelTimeCache).where(TravelTimeCache.dataset_id == dataset_id)
        )


def cached_matrix(
    store: Store, dataset_id: int, mode: str, season: str, fingerprint: str
) -> np.ndarray | None:
    """The cached matrix when its fingerprint matches, else None."""
    with store.engine.connect() as conn:
        row = conn.execute(
            select(TravelTimeCache.fingerprint, TravelTimeCache.matrix).where(
                TravelTimeCache.dataset_id == dataset_id,
                TravelTimeCache.mode == mode,
                TravelTimeCache.season == season,
            )
        ).first()
    if row is None or row[0] != fingerprint:
        return None
    try:
        raw = zlib.decompress(bytes(row[1]))
    except zlib.error:  # another layout: recomputed like a stale one
        return None
    return np.load(io.BytesIO(raw), allow_pickle=False).astype(np.float64)


def store_matrix(
    store: Store,
    dataset_id: int,
    mode: str,
    season: str,
    fingerprint: str,
    matrix: np.ndarray,
) -> None:
    """Keep a matrix (float32, zlib level 1) for this dataset, mode and season.

    Level 1 compresses a national matrix (35,000 x 3,400) about three times
    faster than ``savez_compressed`` for a blob 15 % larger.
    """
    buf = io.BytesIO()
    np.save(buf, np.asarray(matrix, dtype=np.float32), allow_pickle=False)
    blob = zlib.compress(buf.getvalue(), 1)
    key = (
        (TravelTimeCache.dataset_id == dataset_id)
        & (TravelTimeCache.mode == mode)
        & (TravelTimeCache.season == season)
    )
    with store.engine.begin() as conn:
        conn.execute(delete(TravelTimeCache).where(key))
        conn.execute(
            insert(TravelTimeCache).values(
                dataset_id=dataset_id,
                mode=mode,
                season=season,
                fingerprint=fingerprint,
                origins=int(matrix.shape[0]),
                sites=int(matrix.shape[1]),
                matrix=blob,
                created_at=_now(),
            )
        )
