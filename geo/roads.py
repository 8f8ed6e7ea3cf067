"""Travel time on a road network: graph, snapping, speed profiles, time matrix.

A road network is a set of lines, each with a **road class** (one of
:data:`ROAD_CLASSES`, mapped from OSM ``highway``/``fclass`` values or a
national classification by the importer) and optionally a **surface**
(``paved``/``unpaved``; the class's usual surface when unknown) and a
``oneway`` flag. :func:`build_graph` turns the lines into a graph whose nodes
are the lines' vertices (vertices at the same place are one node, as in OSM),
joins dangling line ends to a line within a snapping tolerance, and reports
what it joined and what stays unconnected.

A :class:`SpeedProfile` gives a speed (km/h, 0 = closed) per class and
surface for each travel mode (``walking``, ``motorised``) and season
(``dry``, ``rainy``), and the walking speed off the road with a cap on how
far one walks to reach it. :func:`travel_time_matrix` then computes commune x
site travel times in minutes with scipy's sparse Dijkstra, started from the
sites (one search per site, bounded by a cut-off), plus the off-road legs:
commune point -> nearest road node and road node -> site, at the off-road
walking speed, each at most ``offroad_cap_km`` long. A pair that no route
joins within the cut-off is ``inf`` (unreachable), never 0.

Distances are computed in an azimuthal equidistant projection centred on the
network (metres), never on raw degrees.

Default speeds (:data:`DEFAULT_PROFILE`) are typical of West African
planning studies (AccessMod-style scenarios): motorised 80 km/h on paved
trunk roads down to 20 km/h on tracks in the dry season; in the rainy season
unpaved roads lose about 40 % of their speed, tracks half, and paths are
closed to vehicles; walking 5 km/h on roads, 3 km/h off-road (2 km/h in the
rainy season), with a 10 km cap on each off-road leg. Motorised means the
usual mix of cars, minibuses and motorbike taxis, hence a speed on paths.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import LineString
>>> lines = gpd.GeoDataFrame(
...     {"road_class": ["primary"]},
...     geometry=[LineString([(0, 0), (0.5, 0)])], crs=4326)
>>> graph = build_graph(lines)
>>> round(graph.report.length_km_by_class["primary"], 1)
55.7
>>> minutes = travel_time_matrix(graph, [0.0], [0.0], [0.5], [0.0],
...                              mode="motorised", season="dry")
>>> round(float(minutes[0, 0]))
48
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from data.kpi import TRAVEL_THRESHOLDS_MIN

__all__ = [
    "ACCESS_THRESHOLDS_MIN",
    "DEFAULT_PROFILE",
    "DEFAULT_SURFACE",
    "MODES",
    "ROAD_CLASSES",
    "SEASONS",
    "SURFACES",
    "NetworkReport",
    "RoadGraph",
    "SpeedProfile",
    "access_kpis",
    "build_graph",
    "nearest_site_minutes",
    "travel_time_matrix",
]

#: Road classes, from the fastest to the slowest.
ROAD_CLASSES = ("trunk", "primary", "secondary", "tertiary", "local", "track", "path")
SURFACES = ("paved", "unpaved")
#: Surface of a line whose surface is not known.
DEFAULT_SURFACE = {"trunk": "paved", "primary": "paved", "secondary": "paved",
                   "tertiary": "unpaved", "local": "unpaved", "track": "unpaved",
                   "path": "unpaved"}  # fmt: skip
MODES = ("walking", "motorised")
SEASONS = ("dry", "rainy")
#: Snapping tolerance of line ends (metres) used when none is given.
DEFAULT_TOLERANCE_M = 50.0
#: Travel times beyond this (minutes) are unreachable unless told otherwise.
DEFAULT_CUTOFF_MIN = 600.0
#: Bounds of a profile's values: (low, high). A road speed of 0 closes the road;
#: off the road one always walks, so that speed has a positive floor.
ROAD_KMH_BOUNDS = (0.0, 200.0)
OFFROAD_KMH_BOUNDS = (0.5, 200.0)
OFFROAD_CAP_KM_BOUNDS = (0.0, 100.0)

# km/h per class as (paved, unpaved)
_MOTOR_DRY = {"trunk": (80, 50), "primary": (70, 45), "secondary": (60, 40),
              "tertiary": (50, 35), "local": (30, 25), "track": (25, 20),
              "path": (10, 10)}  # fmt: skip
_MOTOR_RAINY = {"trunk": (80, 30), "primary": (70, 27), "secondary": (55, 24),
                "tertiary": (45, 20), "local": (25, 15), "track": (12, 10),
                "path": (0, 0)}  # fmt: skip
_WALK_DRY = dict.fromkeys(ROAD_CLASSES[:-2], (5, 5)) | {"track": (4.5, 4.5),
                                                      "path": (4, 4)}  # fmt: skip
_WALK_RAINY = dict.fromkeys(ROAD_CLASSES[:-2], (5, 4)) | {"track": (3.5, 3.5),
                                                        "path": (3, 3)}  # fmt: skip


def _table(speeds: Mapping[str, tuple[float, float]]) -> dict[str, dict[str, float]]:
    return {
        c: dict(zip(SURFACES, map(float, v), strict=True)) for c, v in speeds.items()
    }


# -- speed profile ---------------------------------------------------------------


@dataclass(frozen=True)
class SpeedProfile:
    """Speeds per mode, season, road class and surface, and the off-road rule.

    Parameters
    ----------
    road_kmh : mapping
        ``road_kmh[mode][season][road_class][surface]`` in km/h; 0 closes the
        road to that mode in that season.
    offroad_kmh : mapping
        ``offroad_kmh[mode][season]``: walking speed from a commune to the
        road and from the road to a site (the traveller walks whatever the mode).
    offroad_cap_km : float
        Longest off-road leg; a commune or site farther from every road node
        reaches only what lies within this distance in a straight line.

    Examples
    --------
    >>> p = SpeedProfile.from_dict({"offroad_cap_km": 5})
    >>> p.offroad_cap_km, p.speed("motorised", "rainy", "path", "unpaved")
    (5.0, 0.0)
    >>> SpeedProfile.from_dict({"road_kmh": {"walking": {"dry": {"trunk": {"paved": -1}}}}})
    Traceback (most recent call last):
    ...
    ValueError: speed profile 'road_kmh.walking.dry.trunk.paved' should be a number between 0 and 200 km/h, got -1
    """

    road_kmh: Mapping[str, Any] = field(
        default_factory=lambda: {
            "motorised": {"dry": _table(_MOTOR_DRY), "rainy": _table(_MOTOR_RAINY)},
            "walking": {"dry": _table(_WALK_DRY), "rainy": _table(_WALK_RAINY)},
        }
    )
    offroad_kmh: Mapping[str, Any] = field(
        default_factory=lambda: {m: {"dry": 3.0, "rainy": 2.0} for m in MODES}
    )
    offroad_cap_km: float = 10.0

    def speed(self, mode: str, season: str, road_class: str, surface: str) -> float:
        """The speed (km/h) on one class and surface; 0 when closed."""
        return float(self.road_kmh[mode][season][road_class][surface])

    def speeds(self, mode: str, season: str) -> np.ndarray:
        """Speeds as an array indexed ``[class, surface]`` in the order of
        :data:`ROAD_CLASSES` and :data:`SURFACES`."""
        _check_mode(mode, season)
        return np.array(
            [[self.speed(mode, season, c, s) for s in SURFACES] for c in ROAD_CLASSES]
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data, read back by :meth:`from_dict`."""
        return {
            "road_kmh": json.loads(json.dumps(self.road_kmh)),
            "offroad_kmh": json.loads(json.dumps(self.offroad_kmh)),
            "offroad_cap_km": float(self.offroad_cap_km),
        }

    def fingerprint(self) -> str:
        """A short hash of the profile: a cached matrix is valid for one profile."""
        text = json.dumps(self.to_dict(), sort_keys=True)
        return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> SpeedProfile:
        """A profile from (partial) data over the defaults; ``ValueError`` names
        the first bad key."""
        base = cls().to_dict()
        data = dict(data or {})
        unknown = sorted(set(data) - set(base))
        if unknown:
            raise ValueError(
                f"speed profile: unknown keys {unknown}; allowed: {sorted(base)}"
            )
        road = base["road_kmh"]
        for mode, seasons in _items(data.get("road_kmh", {}), "road_kmh", MODES):
            for season, classes in _items(seasons, f"road_kmh.{mode}", SEASONS):
                where = f"road_kmh.{mode}.{season}"
                for cls_, surfaces in _items(classes, where, ROAD_CLASSES):
                    for surface, kmh in _items(surfaces, f"{where}.{cls_}", SURFACES):
                        road[mode][season][cls_][surface] = _kmh(
                            kmh, f"{where}.{cls_}.{surface}", *ROAD_KMH_BOUNDS
                        )
        off = base["offroad_kmh"]
        for mode, seasons in _items(data.get("offroad_kmh", {}), "offroad_kmh", MODES):
            for season, kmh in _items(seasons, f"offroad_kmh.{mode}", SEASONS):
                off[mode][season] = _kmh(
                    kmh, f"offroad_kmh.{mode}.{season}", *OFFROAD_KMH_BOUNDS
                )
        cap = data.get("offroad_cap_km", base["offroad_cap_km"])
        cap = _kmh(cap, "offroad_cap_km", *OFFROAD_CAP_KM_BOUNDS, unit="km")
        return cls(road_kmh=road, offroad_kmh=off, offroad_cap_km=cap)


def _items(value: Any, where: str, allowed: tuple[str, ...]) -> list[tuple[str, Any]]:
    if not isinstance(value, Mapping):
        raise ValueError(f"speed profile '{where}' should be an object")
    bad = sorted(str(k) for k in value if k not in allowed)
    if bad:
        raise ValueError(
            f"speed profile '{where}': unknown keys {bad}; allowed: {list(allowed)}"
        )
    return list(value.items())


def profile_bounds(key: str) -> tuple[float, float]:
    """The (low, high) bounds of one profile value by its dotted key
    (``road_kmh.walking.dry.trunk.paved``, ``offroad_kmh...``, ``offroad_cap_km``).

    Examples
    --------
    >>> profile_bounds("offroad_kmh.walking.rainy")
    (0.5, 200.0)
    """
    head = key.split(".", 1)[0]
    return {"road_kmh": ROAD_KMH_BOUNDS, "offroad_kmh": OFFROAD_KMH_BOUNDS,
            "offroad_cap_km": OFFROAD_CAP_KM_BOUNDS}[head]  # fmt: skip


def _kmh(
    value: Any,
    where: str,
    lo: float = ROAD_KMH_BOUNDS[0],
    hi: float = ROAD_KMH_BOUNDS[1],
    unit: str = "km/h",
) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not np.isfinite(value)
        or not lo <= value <= hi
    ):
        raise ValueError(
            f"speed profile '{where}' should be a number between {lo:g} and "
            f"{hi:g} {unit}, got {value!r}"
        )
    return float(value)


def _check_mode(mode: str, season: str) -> None:
    if mode not in MODES:
        raise ValueError(f"'mode' should be one of {list(MODES)}, got {mode!r}")
    if season not in SEASONS:
        raise ValueError(f"'season' should be one of {list(SEASONS)}, got {season!r}")


DEFAULT_PROFILE = SpeedProfile()


# -- graph -------------------------------------------------------------------------


@dataclass(frozen=True)
class NetworkReport:
    """What :func:`build_graph` made of the lines.

    Attributes
    ----------
    lines : int
        Lines read (after splitting multi-lines).
    nodes, edges : int
        Graph size (edges counted once per segment).
    length_km_by_class : dict
        Road length per class, in km.
    tolerance_m : float
        Snapping tolerance used.
    joined_ends : int
        Dangling line ends joined to another line within the tolerance.
    joined_length_m : float
        Total length of the connectors added by snapping (metres).
    max_gap_m : float
        Longest connector added.
    components : int
        Connected parts of the network after snapping.
    main_share : float
        Share of the road length in the largest part.
    unconnected_km : float
        Road length outside the largest part.
    unconnected_parts : list of dict
        The other parts, largest first (at most 20): ``edges``, ``length_km``
        and a point (``lon``, ``lat``) to find them.
    """

    lines: int
    nodes: int
    edges: int
    length_km_by_class: dict[str, float]
    tolerance_m: float
    joined_ends: int
    joined_length_m: float
    max_gap_m: float
    components: int
    main_share: float
    unconnected_km: float
    unconnected_parts: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class RoadGraph:
    """A road network as arrays: nodes (projected metres and lon/lat) and edges.

    Edges are directed pairs ``u -> v``; a two-way segment is stored once with
    ``oneway`` False. ``road_class`` and ``surface`` are indices into
    :data:`ROAD_CLASSES` and :data:`SURFACES`. ``crs`` is the projected CRS of
    ``xy``.
    """

    xy: np.ndarray
    lonlat: np.ndarray
    u: np.ndarray
    v: np.ndarray
    length_m: np.ndarray
    road_class: np.ndarray
    surface: np.ndarray
    oneway: np.ndarray
    component: np.ndarray
    crs: Any
    report: NetworkReport

    @property
    def n_nodes(self) -> int:
        return int(self.xy.shape[0])

    def edge_minutes(self, profile: SpeedProfile, mode: str, season: str) -> np.ndarray:
        """Minutes to travel each edge; ``inf`` where the road is closed."""
        kmh = profile.speeds(mode, season)[self.road_class, self.surface]
        with np.errstate(divide="ignore"):
            return np.where(kmh > 0, self.length_m / 1000.0 / kmh * 60.0, np.inf)

    def csgraph(
        self,
        profile: SpeedProfile,
        mode: str,
        season: str,
        extra: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
        extra_nodes: int = 0,
    ) -> csr_matrix:
        """The directed graph of travel minutes, closed roads left out.

        ``extra`` adds directed edges ``(src, dst, minutes)`` towards
        ``extra_nodes`` nodes numbered after the graph's. Parallel edges keep
        their shortest time (a sparse sum would add them).
        """
        minutes = self.edge_minutes(profile, mode, season)
        ok = np.isfinite(minutes)
        two = ok & ~self.oneway
        parts = [(self.u[ok], self.v[ok], minutes[ok]),
                 (self.v[two], self.u[two], minutes[two])]  # fmt: skip
        if extra is not None:
            parts.append(extra)
        src, dst, w = (np.concatenate(x) for x in zip(*parts, strict=True))
        # scipy reads an explicit 0 as "no edge": a zero-length edge gets a tiny time
        w = np.maximum(w, 1e-9)
        order = np.lexsort((w, dst, src))
        src, dst, w = src[order], dst[order], w[order]
        first = np.ones(len(src), dtype=bool)
        first[1:] = (src[1:] != src[:-1]) | (dst[1:] != dst[:-1])
        n = self.n_nodes + extra_nodes
        return csr_matrix((w[first], (src[first], dst[first])), shape=(n, n))

    def project(self, lon: Any, lat: Any) -> np.ndarray:
        """Points in degrees to the graph's metres, shape (n, 2)."""
        lon = np.asarray(lon, float).ravel()
        lat = np.asarray(lat, float).ravel()
        if lat.size and np.nanmax(np.abs(lat)) > 90:
            raise ValueError(
                "latitudes beyond +/-90 degrees: points must be longitude/latitude "
                "in degrees (EPSG:4326)"
            )
        tr = Transformer.from_crs(4326, self.crs, always_xy=True)
        x, y = tr.transform(lon, lat)
        return np.column_stack([x, y])


def _local_crs(lon: np.ndarray, lat: np.ndarray) -> CRS:
    lon0 = float(np.nanmedian(lon)) if lon.size else 0.0
    lat0 = float(np.nanmedian(lat)) if lat.size else 0.0
    return CRS.from_proj4(
        f"+proj=aeqd +lat_0={lat0:.6f} +lon_0={lon0:.6f} +datum=WGS84 +units=m"
    )


def _codes(values: pd.Series, allowed: tuple[str, ...], name: str) -> np.ndarray:
    pos = {v: i for i, v in enumerate(allowed)}
    codes = values.map(pos)
    if codes.isna().any():
        bad = sorted({str(v) for v in values[codes.isna()]})[:5]
        raise ValueError(f"'{name}' has values outside {list(allowed)}: {bad}")
    return codes.to_numpy(dtype=np.int8)


def build_graph(
    lines: Any,
    class_column: str = "road_class",
    surface_column: str | None = "surface",
    oneway_column: str | None = "oneway",
    tolerance_m: float = DEFAULT_TOLERANCE_M,
) -> RoadGraph:
    """Build a road graph from line geometries, joining line ends within a tolerance.

    Parameters
    ----------
    lines : geopandas.GeoDataFrame
        (Multi)LineStrings with a CRS; ``class_column`` holds one of
        :data:`ROAD_CLASSES` per line.
    class_column : str
        Column of road classes.
    surface_column : str, optional
        Column of ``paved``/``unpaved`` (missing values take the class's usual
        surface, :data:`DEFAULT_SURFACE`); ignored when absent.
    oneway_column : str, optional
        Column of booleans: travel only in the line's drawing direction.
    tolerance_m : float
        A line end with no other line at its vertex is joined to the nearest
        other line (its vertex or a point on one of its segments) within this
        distance; 0 joins nothing.

    Returns
    -------
    RoadGraph
        With ``report`` saying what was joined and what stays unconnected.

    Raises
    ------
    TypeError
        ``lines`` is not a GeoDataFrame.
    ValueError
        No CRS, no line, geometries that are not lines, unknown classes or
        surfaces.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString
    >>> lines = gpd.GeoDataFrame(
    ...     {"road_class": ["track", "track"]},
    ...     geometry=[LineString([(0, 0), (1000, 0)]),
    ...               LineString([(1000, 20), (2000, 20)])], crs=32630)
    >>> g = build_graph(lines, tolerance_m=50)
    >>> g.report.joined_ends, g.report.components
    (1, 1)
    >>> build_graph(lines, tolerance_m=10).report.components
    2
    """
    import geopandas as gpd

    if not isinstance(lines, gpd.GeoDataFrame):
        raise TypeError(f"'lines' should be GeoDataFrame, got {type(lines)}")
    if lines.crs is None:
        raise ValueError("'lines' has no CRS; set it (e.g. lines.set_crs(4326)) first")
    if class_column not in lines.columns:
        raise ValueError(f"'lines' has no column {class_column!r}")
    if not np.isfinite(tolerance_m) or tolerance_m < 0:
        raise ValueError(f"'tolerance_m' should be >= 0, got {tolerance_m!r}")
    frame = lines[lines.geometry.notna() & ~lines.geometry.is_empty]
    frame = frame.explode(index_parts=False, ignore_index=True)
    kinds = shapely.get_type_id(frame.geometry.to_numpy())
    if (kinds != 1).any():
        found = sorted(set(frame.geometry.geom_type[kinds != 1]))
        raise ValueError(f"'lines' should hold lines only; found {found}")
    if frame.empty:
        raise ValueError("'lines' holds no line")
    road_class = _codes(frame[class_column].astype(object), ROAD_CLASSES, class_column)
    if surface_column and surface_column in frame.columns:
        given = frame[surface_column].astype(object)
        filled = given.where(given.notna(), frame[class_column].map(DEFAULT_SURFACE))
        surface = _codes(filled, SURFACES, surface_column)
    else:
        surface = _codes(frame[class_column].map(DEFAULT_SURFACE), SURFACES, "surface")
    if oneway_column and oneway_column in frame.columns:
        flags = frame[oneway_column]
        if not flags.map(lambda x: pd.isna(x) or x in (True, False)).all():
            raise ValueError(
                f"'{oneway_column}' should hold true/false, got "
                f"{sorted({str(x) for x in flags.dropna().unique()})[:5]}"
            )
        oneway_line = flags.fillna(False).astype(bool).to_numpy()
    else:
        oneway_line = np.zeros(len(frame), dtype=bool)

    lonlat_lines = frame.geometry.to_crs(4326)
    coords_ll, line_of = shapely.get_coordinates(
        lonlat_lines.to_numpy(), return_index=True
    )
    crs = _local_crs(coords_ll[:, 0], coords_ll[:, 1])
    tr = Transformer.from_crs(4326, crs, always_xy=True)
    x, y = tr.transform(coords_ll[:, 0], coords_ll[:, 1])
    pts = np.column_stack([x, y])
    if not np.isfinite(pts).all():
        raise ValueError("'lines' has coordinates that cannot be projected")

    # vertices at the same place (to the centimetre) are one node
    keys = np.round(pts * 100.0).astype(np.int64)
    _, first_idx, node_of = np.unique(
        keys, axis=0, return_index=True, return_inverse=True
    )
    node_of = node_of.ravel()
    xy = pts[first_idx]
    ll = coords_ll[first_idx]
    same_line = line_of[1:] == line_of[:-1]
    u = node_of[:-1][same_line]
    v = node_of[1:][same_line]
    seg_line = line_of[:-1][same_line]
    keep = u != v
    u, v, seg_line = u[keep], v[keep], seg_line[keep]
    length = np.hypot(*(xy[v] - xy[u]).T)
    cls_e, surf_e, one_e = (
        road_class[seg_line],
        surface[seg_line],
        oneway_line[seg_line],
    )

    starts = np.flatnonzero(np.r_[True, ~same_line])
    ends = np.r_[starts[1:] - 1, len(line_of) - 1]
    end_nodes = np.concatenate([node_of[starts], node_of[ends]])
    end_line = np.concatenate([line_of[starts], line_of[ends]])
    n = len(xy)
    degree = np.bincount(np.concatenate([u, v]), minlength=n)
    dangling = np.unique(end_nodes[degree[end_nodes] == 1])
    snap = _snap(xy, u, v, dangling, tolerance_m)
    n_new = len(snap["new_xy"])
    if n_new:
        xy = np.vstack([xy, snap["new_xy"]])
        back = Transformer.from_crs(crs, 4326, always_xy=True)
        lon_n, lat_n = back.transform(snap["new_xy"][:, 0], snap["new_xy"][:, 1])
        ll = np.vstack([ll, np.column_stack([lon_n, lat_n])])
    split = snap["split_segments"]
    keep = np.ones(len(u), dtype=bool)
    keep[split] = False
    # pieces of split segments keep their segment's attributes
    parts_seg = snap["part_segment"]
    line_by_end = dict(zip(end_nodes.tolist(), end_line.tolist(), strict=False))
    conn_line = np.array([line_by_end[e] for e in snap["conn_u"]], dtype=np.int64)
    u = np.concatenate([u[keep], snap["part_u"], snap["conn_u"]]).astype(np.int64)
    v = np.concatenate([v[keep], snap["part_v"], snap["conn_v"]]).astype(np.int64)
    length = np.concatenate([length[keep], snap["part_len"], snap["conn_len"]])
    cls_e = np.concatenate([cls_e[keep], cls_e[parts_seg], road_class[conn_line]])
    surf_e = np.concatenate([surf_e[keep], surf_e[parts_seg], surface[conn_line]])
    one_e = np.concatenate(
        [one_e[keep], one_e[parts_seg], np.zeros(len(conn_line), dtype=bool)]
    )
    n = len(xy)

    adj = coo_matrix((np.ones(len(u)), (u, v)), shape=(n, n))
    _, comp = connected_components(adj, directed=False)
    # isolated nodes (none in practice) must not count as parts
    used = np.zeros(n, dtype=bool)
    used[u] = used[v] = True
    comp = np.where(used, comp, -1)
    edge_comp = comp[u]
    comp_len = pd.Series(length).groupby(edge_comp).sum().sort_values(ascending=False)
    comp_edges = pd.Series(edge_comp).value_counts()
    total = float(comp_len.sum())
    parts = []
    for c in comp_len.index[1:21]:
        node = int(u[np.flatnonzero(edge_comp == c)[0]])
        parts.append(
            {
                "edges": int(comp_edges[c]),
                "length_km": round(float(comp_len[c]) / 1000.0, 3),
                "lon": round(float(ll[node, 0]), 6),
                "lat": round(float(ll[node, 1]), 6),
            }
        )
    by_class = (
        pd.Series(length[: len(length) - len(conn_line)])
        .groupby(cls_e[: len(length) - len(conn_line)])
        .sum()
    )
    report = NetworkReport(
        lines=len(frame),
        nodes=n,
        edges=len(u),
        length_km_by_class={
            ROAD_CLASSES[int(c)]: round(float(m) / 1000.0, 3)
            for c, m in by_class.items()
        },
        tolerance_m=float(tolerance_m),
        joined_ends=len(snap["conn_u"]),
        joined_length_m=round(float(snap["conn_len"].sum()), 2),
        max_gap_m=round(float(snap["conn_len"].max()), 2) if len(conn_line) else 0.0,
        components=len(comp_len),
        main_share=round(float(comp_len.iloc[0]) / total, 6) if total else 0.0,
        unconnected_km=round((total - float(comp_len.iloc[0])) / 1000.0, 3),
        unconnected_parts=parts,
    )
    return RoadGraph(
        xy=xy,
        lonlat=ll,
        u=u,
        v=v,
        length_m=length,
        road_class=cls_e.astype(np.int8),
        surface=surf_e.astype(np.int8),
        oneway=one_e.astype(bool),
        component=comp,
        crs=crs,
        report=report,
    )


def _snap(
    xy: np.ndarray, u: np.ndarray, v: np.ndarray, ends: np.ndarray, tol: float
) -> dict[str, np.ndarray]:
    """Join each dangling end to the nearest segment not touching it, within ``tol``.

    The end is joined to the segment's vertex when the nearest point is one
    (within a centimetre), else the segment is split at the nearest point. A
    connector edge of the gap's length is added from the end (none for a gap
    of 0: the end then is that point).
    """
    empty_i = np.zeros(0, dtype=np.int64)
    out = {"new_xy": np.zeros((0, 2)), "split_segments": empty_i,
           "part_u": empty_i, "part_v": empty_i, "part_len": np.zeros(0),
           "part_segment": empty_i, "conn_u": empty_i, "conn_v": empty_i,
           "conn_len": np.zeros(0)}  # fmt: skip
    if tol <= 0 or len(ends) == 0 or len(u) == 0:
        return out
    segs = shapely.linestrings(
        np.stack([xy[u], xy[v]], axis=1).reshape(-1, 2),
        indices=np.repeat(np.arange(len(u)), 2),
    )
    tree = shapely.STRtree(segs)
    points = shapely.points(xy[ends])
    e_idx, s_idx = tree.query(points, predicate="dwithin", distance=tol)
    touching = (u[s_idx] == ends[e_idx]) | (v[s_idx] == ends[e_idx])
    e_idx, s_idx = e_idx[~touching], s_idx[~touching]
    if len(e_idx) == 0:
        return out
    dist = shapely.distance(points[e_idx], segs[s_idx])
    order = np.lexsort((s_idx, dist, e_idx))
    e_idx, s_idx, dist = e_idx[order], s_idx[order], dist[order]
    best = np.r_[True, e_idx[1:] != e_idx[:-1]]
    e_idx, s_idx, dist = e_idx[best], s_idx[best], dist[best]
    seg_len = np.hypot(*(xy[v[s_idx]] - xy[u[s_idx]]).T)
    t = shapely.line_locate_point(segs[s_idx], points[e_idx])
    at_u = t <= 0.01
    at_v = t >= seg_len - 0.01
    target = np.where(at_u, u[s_idx], np.where(at_v, v[s_idx], -1))
    inner = target < 0
    # split points: one new node per (segment, position), shared by ends at it
    sp_seg, sp_t = s_idx[inner], np.round(t[inner], 2)
    pairs = pd.DataFrame({"seg": sp_seg, "t": sp_t}).drop_duplicates()
    pairs = pairs.sort_values(["seg", "t"], kind="stable").reset_index(drop=True)
    n = len(xy)
    pairs["node"] = n + np.arange(len(pairs))
    new_xy = shapely.get_coordinates(
        shapely.line_interpolate_point(segs[pairs["seg"].to_numpy()], pairs["t"])
    )
    lookup = pd.MultiIndex.from_frame(pairs[["seg", "t"]])
    target[inner] = pairs["node"].to_numpy()[
        lookup.get_indexer(pd.MultiIndex.from_arrays([sp_seg, sp_t]))
    ]
    seg = pairs["seg"].to_numpy()
    tt = pairs["t"].to_numpy()
    node = pairs["node"].to_numpy()
    first = np.r_[True, seg[1:] != seg[:-1]] if len(seg) else np.zeros(0, bool)
    last = np.r_[seg[1:] != seg[:-1], True] if len(seg) else np.zeros(0, bool)
    prev_node = np.where(first, u[seg], np.r_[-1, node[:-1]])
    prev_t = np.where(first, 0.0, np.r_[0.0, tt[:-1]])
    part_u = np.concatenate([prev_node, node[last]])
    part_v = np.concatenate([node, v[seg[last]]])
    seg_total = np.hypot(*(xy[v[seg]] - xy[u[seg]]).T)
    part_len = np.concatenate([tt - prev_t, seg_total[last] - tt[last]])
    part_seg = np.concatenate([seg, seg[last]])
    conn = dist > 0
    # two dangling ends within reach of each other are joined once
    lo = np.minimum(ends[e_idx], target)
    hi = np.maximum(ends[e_idx], target)
    conn &= ~pd.DataFrame({"lo": lo, "hi": hi}).duplicated().to_numpy()
    out.update(
        new_xy=new_xy.reshape(-1, 2),
        split_segments=np.unique(seg),
        part_u=part_u.astype(np.int64),
        part_v=part_v.astype(np.int64),
        part_len=np.maximum(part_len, 0.0),
        part_segment=part_seg.astype(np.int64),
        conn_u=ends[e_idx][conn].astype(np.int64),
        conn_v=target[conn].astype(np.int64),
        conn_len=dist[conn],
    )
    return out


# -- travel times --------------------------------------------------------------------


@dataclass(frozen=True)
class _Attachment:
    """Where points join the road: an open edge, the position on it, the walk."""

    edge: np.ndarray  # index into the graph's edges, -1 beyond the cap
    fraction: np.ndarray  # 0 at the edge's u, 1 at its v
    walk_m: np.ndarray  # straight-line metres from the point to the road
    xy: np.ndarray  # the points in the graph's metres


def _attach(graph: RoadGraph, minutes: np.ndarray, lon: Any, lat: Any, cap_m: float):
    """Each point's nearest open road segment within ``cap_m`` (the off-road leg)."""
    pts = graph.project(lon, lat)
    if not np.isfinite(pts).all():
        raise ValueError("points with missing or invalid coordinates")
    n = len(pts)
    edge = np.full(n, -1, dtype=np.int64)
    fraction = np.zeros(n)
    walk = np.full(n, np.inf)
    open_e = np.flatnonzero(np.isfinite(minutes))
    if n == 0 or len(open_e) == 0:
        return _Attachment(edge, fraction, walk, pts)
    u, v = graph.u[open_e], graph.v[open_e]
    segs = shapely.linestrings(
        np.stack([graph.xy[u], graph.xy[v]], axis=1).reshape(-1, 2),
        indices=np.repeat(np.arange(len(open_e)), 2),
    )
    points = shapely.points(pts)
    p_idx, s_idx = shapely.STRtree(segs).query_nearest(
        points, max_distance=cap_m, all_matches=False
    )
    edge[p_idx] = open_e[s_idx]
    fraction[p_idx] = shapely.line_locate_point(
        segs[s_idx], points[p_idx], normalized=True
    )
    walk[p_idx] = shapely.distance(points[p_idx], segs[s_idx])
    return _Attachment(edge, np.nan_to_num(fraction), walk, pts)


def travel_time_matrix(
    graph: RoadGraph,
    origin_lon: Any,
    origin_lat: Any,
    site_lon: Any,
    site_lat: Any,
    *,
    mode: str,
    season: str,
    profile: SpeedProfile = DEFAULT_PROFILE,
    cutoff_min: float | None = DEFAULT_CUTOFF_MIN,
    chunk: int = 32,
    dtype: Any = np.float64,
) -> np.ndarray:
    """Travel minutes from every origin (commune point) to every site.

    Each point walks (at the profile's off-road speed) straight to the nearest
    point of an open road within the profile's cap, then follows the road to
    one end of that segment (in a direction the road allows). A time is the
    shorter of that road route and, for pairs closer than the cap, the direct
    walk. One Dijkstra search per site runs on the reversed graph (so one-way
    roads are followed in the right direction), ``chunk`` sites at a time,
    each stopped at the cut-off.

    Parameters
    ----------
    graph : RoadGraph
    origin_lon, origin_lat, site_lon, site_lat : array-like
        Degrees (EPSG:4326).
    mode : {"walking", "motorised"}
    season : {"dry", "rainy"}
    profile : SpeedProfile
    cutoff_min : float, optional
        Times above it are ``inf`` (unreachable); ``None`` for no bound.
    chunk : int
        Sites searched at once (memory: ``chunk x nodes`` floats).
    dtype : numpy dtype
        Of the result (float32 halves a national matrix).

    Returns
    -------
    ndarray, shape (n_origins, n_sites)
        Minutes; ``inf`` where no route within the cut-off.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString
    >>> road = gpd.GeoDataFrame({"road_class": ["trunk"]},
    ...     geometry=[LineString([(500000, 0), (580000, 0)])], crs=32631)
    >>> g = build_graph(road)
    >>> lon, lat = g.lonlat[:, 0], g.lonlat[:, 1]
    >>> travel_time_matrix(g, lon[:1], lat[:1], lon[1:], lat[1:],
    ...                    mode="motorised", season="dry").round(1)
    array([[60.]])
    """
    _check_mode(mode, season)
    if cutoff_min is not None and not (cutoff_min > 0):
        raise ValueError(f"'cutoff_min' should be > 0, got {cutoff_min!r}")
    limit = np.inf if cutoff_min is None else float(cutoff_min)
    walk_kmh = float(profile.offroad_kmh[mode][season])
    cap_m = float(profile.offroad_cap_km) * 1000.0
    per_m = 60.0 / (walk_kmh * 1000.0)
    minutes = graph.edge_minutes(profile, mode, season)
    org = _attach(graph, minutes, origin_lon, origin_lat, cap_m)
    dst = _attach(graph, minutes, site_lon, site_lat, cap_m)
    n_o, n_s = len(org.edge), len(dst.edge)
    out = np.full((n_o, n_s), np.inf, dtype=dtype)
    if n_o == 0 or n_s == 0:
        return out
    # each attached site is a node joined to its segment's ends:
    # u -> site always, v -> site where the road runs both ways
    n = graph.n_nodes
    s_on = np.flatnonzero(dst.edge >= 0)
    e, g = dst.edge[s_on], dst.fraction[s_on]
    w = minutes[e]
    # a one-way segment is left against its direction only from its very end
    back = ~graph.oneway[e] | ((1 - g) * graph.length_m[e] < 1.0)
    site_node = n + np.arange(len(s_on))
    walk_s = dst.walk_m[s_on] * per_m
    extra = (
        np.concatenate([graph.u[e], graph.v[e][back]]),
        np.concatenate([site_node, site_node[back]]),
        np.concatenate([g * w + walk_s, ((1 - g) * w + walk_s)[back]]),
    )
    reverse = graph.csgraph(profile, mode, season, extra, len(s_on)).T.tocsr()
    # an origin leaves its segment by u (against the drawing, two-way roads
    # only) or by v
    o_on = np.flatnonzero(org.edge >= 0)
    oe, of = org.edge[o_on], org.fraction[o_on]
    ow = minutes[oe]
    walk_o = org.walk_m[o_on] * per_m
    against = graph.oneway[oe] & (of * graph.length_m[oe] >= 1.0)
    to_u = np.where(against, np.inf, of * ow) + walk_o
    to_v = (1 - of) * ow + walk_o
    ou, ov = graph.u[oe], graph.v[oe]
    for start in range(0, len(s_on), chunk):
        cols = np.arange(start, min(start + chunk, len(s_on)))
        dist = dijkstra(reverse, directed=True, indices=site_node[cols], limit=limit)
        block = np.minimum(dist[:, ou] + to_u, dist[:, ov] + to_v).T
        out[np.ix_(o_on, s_on[cols])] = block
    # the direct walk, for pairs closer than the cap
    near = cKDTree(dst.xy).query_ball_point(org.xy, r=cap_m)
    lens = np.fromiter((len(x) for x in near), dtype=np.int64, count=len(near))
    if lens.sum():
        rows = np.repeat(np.arange(len(near)), lens)
        cols = np.concatenate([np.asarray(x, dtype=np.int64) for x in near if x])
        direct = np.hypot(*(org.xy[rows] - dst.xy[cols]).T) * per_m
        out[rows, cols] = np.minimum(out[rows, cols], direct)
    out[out > limit] = np.inf
    return out


def nearest_site_minutes(
    graph: RoadGraph,
    origin_lon: Any,
    origin_lat: Any,
    site_lon: Any,
    site_lat: Any,
    *,
    mode: str,
    season: str,
    profile: SpeedProfile = DEFAULT_PROFILE,
    cutoff_min: float | None = DEFAULT_CUTOFF_MIN,
) -> tuple[np.ndarray, np.ndarray]:
    """Minutes to the nearest site and its index (-1, ``inf`` when none is reached).

    The row minimum of :func:`travel_time_matrix` (the access KPIs' input).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString
    >>> road = gpd.GeoDataFrame({"road_class": ["trunk"]},
    ...     geometry=[LineString([(500000, 0), (580000, 0)])], crs=32631)
    >>> g = build_graph(road)
    >>> lon, lat = g.lonlat[:, 0], g.lonlat[:, 1]
    >>> t, i = nearest_site_minutes(g, lon, lat, lon[1:], lat[1:],
    ...                             mode="motorised", season="dry")
    >>> t.round(1).tolist(), i.tolist()
    ([60.0, 0.0], [0, 0])
    """
    m = travel_time_matrix(
        graph, origin_lon, origin_lat, site_lon, site_lat,
        mode=mode, season=season, profile=profile, cutoff_min=cutoff_min,
    )  # fmt: skip
    if m.shape[1] == 0:
        return np.full(m.shape[0], np.inf), np.full(m.shape[0], -1, dtype=np.int64)
    idx = m.argmin(axis=1)
    best = m[np.arange(len(m)), idx]
    return best, np.where(np.isfinite(best), idx, -1)


#: Travel times (minutes) of the "population within" access indicators.
ACCESS_THRESHOLDS_MIN = TRAVEL_THRESHOLDS_MIN


def access_kpis(
    minutes: Any, population: Any, thresholds: tuple[int, ...] = ACCESS_THRESHOLDS_MIN
) -> dict[str, float]:
    """The travel-time access indicators, defined once (catalogue:
    :data:`data.kpi.TRAVEL_KPIS`, whose ids are this dict's keys).

    ``mean_minutes``: population-weighted mean travel time to the nearest
    center over the communes that reach one; ``within_<t>_min``: share of the
    population within ``t`` minutes of a center; ``unreachable``: share of the
    population that reaches no center (within the cut-off). Communes of
    unknown population (NaN) are left out of every figure.

    Examples
    --------
    >>> k = access_kpis([10.0, 50.0, float("inf")], [100, 300, 100])
    >>> k["mean_minutes"], k["within_30_min"], k["within_60_min"], k["unreachable"]
    (40.0, 0.2, 0.8, 0.2)
    """
    t = np.asarray(minutes, dtype=float)
    w = np.asarray(population, dtype=float)
    known = ~np.isnan(w) & ~np.isnan(t)
    t, w = t[known], w[known]
    total = float(w.sum())
    reach = np.isfinite(t)
    out = {
        "mean_minutes": (
            float((w[reach] * t[reach]).sum() / w[reach].sum())
            if w[reach].sum() > 0
            else float("nan")
        )
    }
    for limit in thresholds:
        out[f"within_{limit}_min"] = (
            float(w[t <= limit].sum() / total) if total > 0 else float("nan")
        )
    out["unreachable"] = float(w[~reach].sum() / total) if total > 0 else float("nan")
    return out
