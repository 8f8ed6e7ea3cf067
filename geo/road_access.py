"""A dataset's road network in use: import, graph, profile and cached travel times.

The store keeps the lines, the import report and the speed profile
(:mod:`data.roads`); this module turns them into a :class:`geo.roads.RoadGraph`
(memoised per network version) and computes commune x site travel times, kept
in the store per dataset, mode and season and recomputed only when the roads,
the points (communes, centers, candidate sites) or the profile change.

Examples
--------
>>> from data.store import Store
>>> store = Store("sqlite://"); store.upgrade()
>>> road_graph(store, 1) is None
True
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from data import roads as road_store
from data.importers.roads import read_roads
from data.importers.validate import Report
from data.store import Store
from geo.roads import (
    ACCESS_THRESHOLDS_MIN,
    DEFAULT_CUTOFF_MIN,
    DEFAULT_TOLERANCE_M,
    RoadGraph,
    SpeedProfile,
    access_kpis,
    build_graph,
    travel_time_matrix,
)

__all__ = [
    "RoadImportError",
    "check_roads",
    "import_roads",
    "road_graph",
    "road_profile",
    "site_minutes",
    "selection_access",
    "store_roads",
    "travel_access",
]

_GRAPHS: OrderedDict[tuple[str, int, str], RoadGraph] = OrderedDict()
_LOCK = threading.Lock()


class RoadImportError(ValueError):
    """A road file that cannot be imported; ``report`` holds every issue."""

    def __init__(self, message: str, report: Report) -> None:
        super().__init__(message)
        self.report = report


def store_roads(
    store: Store,
    dataset_id: int,
    lines: Any,
    *,
    source: str,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Build the graph of ``lines`` (EPSG:4326) and store both; return the report.

    The graph is built first, so lines it refuses leave the store untouched.
    """
    graph = build_graph(lines, tolerance_m=tolerance_m)
    report = graph.report.to_dict() | (extra or {})
    road_store.save_network(
        store, dataset_id, lines, source=source, tolerance_m=tolerance_m, report=report
    )
    return report


def check_roads(
    source: Path | bytes,
    file: str,
    *,
    class_column: str,
    class_map: dict[str, str] | None = None,
    surface_column: str | None = None,
    oneway_column: str | None = None,
    layer: str | None = None,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    not_roads: Any = (),
    strict: bool = False,
) -> tuple[Any, dict[str, Any], Report]:
    """Read and check a road file and build its graph, storing nothing.

    Returns the lines (EPSG:4326), the network report (lengths by class,
    joins, components, unconnected parts, lines read and kept, the file's
    issues) and the file's issue report.

    Raises
    ------
    RoadImportError
        The file cannot give a road network (its report says why).
    """
    report = Report()
    lines = read_roads(
        source, file, report, class_column=class_column, class_map=class_map,
        surface_column=surface_column, oneway_column=oneway_column, layer=layer,
        not_roads=not_roads, strict=strict,
    )  # fmt: skip
    if lines is None or not report.ok:
        first = report.errors[0].text() if report.errors else f"{file}: no roads"
        raise RoadImportError(first, report)
    try:
        graph = build_graph(lines, tolerance_m=tolerance_m)
    except ValueError as exc:
        report.error("road_graph", file=file, detail=str(exc))
        raise RoadImportError(f"{file}: {exc}", report) from exc
    network = graph.report.to_dict() | {
        "file": file,
        "issues": [i.to_dict() for i in report.issues],
        "lines_kept": len(lines),
    }
    return lines, network, report


def import_roads(
    store: Store,
    dataset_id: int,
    source: Path | bytes,
    file: str,
    *,
    dry_run: bool = False,
    **options: Any,
) -> tuple[dict[str, Any], Report]:
    """Read, check, build and store a dataset's road network.

    ``options`` are :func:`check_roads`'s. Returns the network report and the
    file's issue report; ``dry_run`` checks without storing.

    Raises
    ------
    RoadImportError
        The file cannot give a road network (its report says why); nothing
        is stored.
    """
    lines, network, report = check_roads(source, file, **options)
    if not dry_run:
        road_store.save_network(
            store, dataset_id, lines, source=file,
            tolerance_m=options.get("tolerance_m", DEFAULT_TOLERANCE_M),
            report=network,
        )  # fmt: skip
    return network, report


def road_profile(store: Store, dataset_id: int) -> SpeedProfile:
    """The dataset's speed profile (the defaults when none was edited)."""
    info = road_store.network_info(store, dataset_id)
    return SpeedProfile.from_dict(None if info is None else info["profile"])


def road_graph(store: Store, dataset_id: int) -> RoadGraph | None:
    """The dataset's road graph, None without roads (memoised per version)."""
    info = road_store.network_info(store, dataset_id)
    if info is None:
        return None
    key = (store.url, dataset_id, info["version"])
    with _LOCK:
        if key in _GRAPHS:
            _GRAPHS.move_to_end(key)
            return _GRAPHS[key]
    lines = road_store.road_lines(store, dataset_id)
    if lines is None:
        return None
    graph = build_graph(lines, tolerance_m=info["tolerance_m"])
    with _LOCK:
        _GRAPHS[key] = graph
        while len(_GRAPHS) > 4:
            _GRAPHS.popitem(last=False)
    return graph


def _fingerprint(*parts: Any) -> str:
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        if isinstance(part, np.ndarray):
            h.update(str(part.shape).encode())
            h.update(np.ascontiguousarray(part).tobytes())
        else:
            h.update(repr(part).encode())
        h.update(b"|")
    return h.hexdigest()


def site_minutes(
    store: Store,
    dataset_id: int,
    origin_lon: Any,
    origin_lat: Any,
    site_lon: Any,
    site_lat: Any,
    *,
    mode: str,
    season: str,
    cutoff_min: float = DEFAULT_CUTOFF_MIN,
) -> np.ndarray | None:
    """Commune x site travel minutes on the dataset's roads (``inf``: unreachable).

    Cached in the store per dataset, mode and season; the cache is used only
    when the roads' version, the profile, the points and the cut-off are the
    ones it was computed from. None when the dataset has no road network.
    """
    info = road_store.network_info(store, dataset_id)
    if info is None:
        return None
    profile = SpeedProfile.from_dict(info["profile"])
    arrays = [np.asarray(a, dtype=float).ravel() for a in
              (origin_lon, origin_lat, site_lon, site_lat)]  # fmt: skip
    key = _fingerprint(info["version"], profile.fingerprint(), cutoff_min, *arrays)
    cached = road_store.cached_matrix(store, dataset_id, mode, season, key)
    if cached is not None:
        return cached
    graph = road_graph(store, dataset_id)
    if graph is None:
        return None
    matrix = travel_time_matrix(
        graph, *arrays, mode=mode, season=season, profile=profile,
        cutoff_min=cutoff_min,
    )  # fmt: skip
    road_store.store_matrix(store, dataset_id, mode, season, key, matrix)
    return matrix


_ACCESS: OrderedDict[tuple, dict[str, Any]] = OrderedDict()


def _access_inputs(store: Store, dataset_id: int):
    """Communes (id, code, population, point) and sites in the scenarios' order
    (:func:`optimization.network.network_from_store`), without geometries."""
    communes = store.read_frame(
        "SELECT id, code, population, rep_lon, rep_lat FROM admin_units "
        "WHERE dataset_id = :d AND level = (SELECT MAX(level) FROM admin_levels "
        "WHERE dataset_id = :d) ORDER BY level, id",
        {"d": dataset_id},
    )
    return communes, store.centers(dataset_id), store.candidates(dataset_id)


def travel_access(
    store: Store, dataset_id: int, *, mode: str, season: str
) -> dict[str, Any] | None:
    """Travel time from each commune to its nearest open center, and the access
    indicators of :func:`geo.roads.access_kpis`; None without roads.

    The matrix is the one the scenarios use (communes x centers then candidate
    sites, cached in the store), its open-center columns only; the answer is
    also kept in this process for the same roads, profile, points and centers.
    """
    info = road_store.network_info(store, dataset_id)
    if info is None:
        return None
    communes, centers, candidates = _access_inputs(store, dataset_id)
    site_lon = np.r_[centers["lon"].to_numpy(float), candidates["lon"].to_numpy(float)]
    site_lat = np.r_[centers["lat"].to_numpy(float), candidates["lat"].to_numpy(float)]
    is_open = np.r_[
        (centers["status"] == "open").to_numpy(), np.zeros(len(candidates), bool)
    ]
    memo = (store.url, dataset_id, mode, season, info["version"],
            _fingerprint(info["profile"], communes["code"].tolist(),
                         communes["id"].to_numpy(np.int64),
                         communes[["population", "rep_lon", "rep_lat"]].to_numpy(float),
                         site_lon, site_lat, is_open))  # fmt: skip
    with _LOCK:
        if memo in _ACCESS:
            _ACCESS.move_to_end(memo)
            return _ACCESS[memo]
    matrix = site_minutes(
        store, dataset_id, communes["rep_lon"], communes["rep_lat"], site_lon, site_lat,
        mode=mode, season=season,
    )  # fmt: skip
    if matrix is None:
        return None
    times = matrix[:, is_open]
    if times.shape[1]:
        best = times.argmin(axis=1)
        minutes = times[np.arange(len(times)), best]
    else:
        best = np.zeros(len(times), dtype=np.int64)
        minutes = np.full(len(times), np.inf)
    ids = centers.loc[centers["status"] == "open", "code"].to_numpy()
    nearest = [ids[b] if np.isfinite(m) else None
               for b, m in zip(best, minutes, strict=True)]  # fmt: skip
    population = communes["population"].to_numpy(dtype=float)
    found = {
        "mode": mode,
        "season": season,
        "thresholds": ACCESS_THRESHOLDS_MIN,
        "communes": communes["code"].tolist(),
        "commune_ids": communes["id"].to_numpy(),
        "population": population,
        "nearest_center": nearest,
        "minutes": minutes,
        "kpis": access_kpis(minutes, population),
    }
    for value in (found["commune_ids"], found["population"], minutes):
        value.flags.writeable = False  # shared by every caller of this process
    with _LOCK:
        _ACCESS[memo] = found
        while len(_ACCESS) > 16:
            _ACCESS.popitem(last=False)
    return found


def selection_access(
    store: Store,
    dataset_id: int,
    commune_ids: Any,
    *,
    mode: str,
    season: str,
) -> dict[str, float] | None:
    """The access KPIs of the communes whose store ids are ``commune_ids``
    (a selection on the main screen); None without roads."""
    found = travel_access(store, dataset_id, mode=mode, season=season)
    if found is None:
        return None
    keep = np.isin(found["commune_ids"], np.asarray(list(commune_ids)))
    return access_kpis(found["minutes"][keep], found["population"][keep])
