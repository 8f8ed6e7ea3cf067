"""Road lines in: a lines layer or an OpenStreetMap extract, classes mapped.

Any lines layer the boundary import reads (GeoJSON, GeoPackage, FlatGeobuf,
zipped Shapefile, ... through :mod:`data.importers.vector`) or an ``.osm.pbf``
extract (read offline with pyosmium). The user names the column holding the
road class and how its values map to the classes of :mod:`geo.roads`
(:data:`OSM_CLASSES` for OSM ``highway`` or Geofabrik ``fclass`` values by
default; a national classification such as ``1..6`` through ``class_map``),
and optionally a surface column (:data:`SURFACES` maps OSM's values) and a
one-way column.

Nothing is dropped silently: lines that are not roads (``proposed``,
``construction``...), lines whose class is empty or not in the map, and
geometries that are not lines are each counted in the report with the values
met; when no road is left the import stops with an error naming the file.

Examples
--------
>>> from data.importers.validate import Report
>>> map_class("track_grade3"), map_class("proposed"), map_class("volcano")
('track', None, None)
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from data.importers.boundaries import to_wgs84
from data.importers.validate import Report
from data.importers.vector import read_vector

__all__ = [
    "NOT_ROADS",
    "OSM_CLASSES",
    "PBF_COLUMNS",
    "ROAD_CLASSES",
    "SURFACES",
    "class_values",
    "guess_road_columns",
    "is_pbf",
    "map_class",
    "read_roads",
]

#: The road classes of the graph (same order as ``geo.roads.ROAD_CLASSES``).
ROAD_CLASSES = ("trunk", "primary", "secondary", "tertiary", "local", "track", "path")
#: OSM ``highway`` and Geofabrik ``fclass`` values -> road class.
OSM_CLASSES = {
    "motorway": "trunk", "motorway_link": "trunk", "trunk": "trunk",
    "trunk_link": "trunk", "primary": "primary", "primary_link": "primary",
    "secondary": "secondary", "secondary_link": "secondary",
    "tertiary": "tertiary", "tertiary_link": "tertiary",
    "unclassified": "local", "residential": "local", "living_street": "local",
    "service": "local", "road": "local", "busway": "local",
    "track": "track", "track_grade1": "track", "track_grade2": "track",
    "track_grade3": "track", "track_grade4": "track", "track_grade5": "track",
    "path": "path", "footway": "path", "bridleway": "path", "steps": "path",
    "pedestrian": "path", "cycleway": "path",
}  # fmt: skip
#: Values of a class column that are not roads one can travel on (reported).
NOT_ROADS = frozenset(
    {"proposed", "construction", "abandoned", "disused", "razed", "platform",
     "raceway", "bus_stop", "elevator", "corridor", "rest_area", "services",
     "escape", "emergency_bay", "via_ferrata"}
)  # fmt: skip
#: OSM ``surface`` values -> paved/unpaved (others are left to the class).
SURFACES = {
    "paved": "paved", "asphalt": "paved", "concrete": "paved",
    "concrete:plates": "paved", "paving_stones": "paved", "sett": "paved",
    "chipseal": "paved", "unpaved": "unpaved", "gravel": "unpaved",
    "fine_gravel": "unpaved", "compacted": "unpaved", "dirt": "unpaved",
    "earth": "unpaved", "ground": "unpaved", "sand": "unpaved", "mud": "unpaved",
    "laterite": "unpaved", "grass": "unpaved",
}  # fmt: skip
_YES = {"yes", "true", "1", "-1", "t", "y", "oui"}
#: Columns of the lines read from an OpenStreetMap extract.
PBF_COLUMNS = ("highway", "surface", "oneway")
#: Column names that usually hold a road class / a surface, most likely first.
_CLASS_NAMES = ("highway", "fclass", "road_class", "class", "classe", "type",
                "category", "categorie", "rtt_descri", "roadtype")  # fmt: skip
_SURFACE_NAMES = ("surface", "surf", "revetement", "revêtement", "paved")
#: Longest class value kept (longer text is not a class).
MAX_VALUE_CHARS = 100


def is_pbf(file: str) -> bool:
    """Whether ``file`` is an OpenStreetMap extract (read with pyosmium)."""
    return str(file).lower().endswith(".osm.pbf")


def guess_road_columns(columns: list[str]) -> dict[str, str | None]:
    """The class and surface columns a lines layer most likely has.

    Examples
    --------
    >>> guess_road_columns(["osm_id", "FCLASS", "name"])
    {'class_column': 'FCLASS', 'surface_column': None}
    """
    lower = {str(c).lower(): str(c) for c in columns}

    def first(names):
        return next((lower[n] for n in names if n in lower), None)

    return {"class_column": first(_CLASS_NAMES),
            "surface_column": first(_SURFACE_NAMES)}  # fmt: skip


def class_values(
    source: Path,
    file: str,
    column: str,
    *,
    layer: str | None = None,
    limit: int = 40,
) -> dict[str, Any]:
    """The distinct values of a class column with their line counts, most frequent
    first, each with the class OSM's values map it to (``None``: not mapped).

    For the import screen's mapping table. Returns ``{"values": [{"value",
    "count", "road_class", "not_road"}...], "more": n}`` (``more``: distinct
    values beyond ``limit``), or ``{"error": code}`` when the file or the column
    cannot be read (``unreadable``, ``missing_column``).

    Examples
    --------
    >>> import json, tempfile
    >>> from pathlib import Path
    >>> lines = {"type": "FeatureCollection", "features": [
    ...     {"type": "Feature", "properties": {"cl": v},
    ...      "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}}
    ...     for v in ["track", "track", "proposed", 3]]}
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = Path(tmp) / "r.geojson"
    ...     _ = path.write_text(json.dumps(lines))
    ...     found = class_values(path, "r.geojson", "cl")
    >>> [(v["value"], v["count"], v["road_class"]) for v in found["values"]]
    [('track', 2, 'track'), ('3', 1, None), ('proposed', 1, None)]
    """
    if is_pbf(file):
        counts = _pbf_counts(Path(source), column)
    else:
        counts = _vector_counts(Path(source), file, column, layer)
    if isinstance(counts, str):
        return {"error": counts}
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return {
        "values": [
            {
                "value": v,
                "count": int(n),
                "road_class": OSM_CLASSES.get(v),
                "not_road": v in NOT_ROADS,
            }
            for v, n in ordered[:limit]
        ],  # fmt: skip
        "more": max(0, len(ordered) - limit),
    }


def _vector_counts(path: Path, file: str, column: str, layer: str | None):
    import pyogrio

    from data.importers.vector import list_layers

    layers = [x for x in list_layers(path, file) if layer in (None, x.name)]
    if not layers:
        return "unreadable"
    lines = [x for x in layers if x.kind in ("lines", None)] or layers
    chosen = lines[0]
    try:
        with warnings.catch_warnings():  # a mixed-type column read as text: fine
            warnings.simplefilter("ignore")
            frame = pyogrio.read_dataframe(
                chosen.dataset, layer=chosen.name, columns=[column],
                read_geometry=False,
            )  # fmt: skip
    except Exception:  # pyogrio's own errors: the check then says why in words
        return "unreadable"
    if column not in frame.columns:
        return "missing_column"
    keys = frame[column].map(lambda v: _key(v) if pd.notna(v) else "")
    keys = keys[(keys != "") & (keys.str.len() <= MAX_VALUE_CHARS)]
    return keys.value_counts().to_dict()


def _pbf_counts(path: Path, column: str):
    try:
        import osmium
    except ImportError:
        return "unreadable"
    if column not in PBF_COLUMNS:
        return "missing_column"
    counts: dict[str, int] = {}
    try:
        for way in osmium.FileProcessor(str(path), osmium.osm.WAY).with_filter(
            osmium.filter.KeyFilter("highway")
        ):
            value = way.tags.get(column)
            if value and len(value) <= MAX_VALUE_CHARS:
                counts[value] = counts.get(value, 0) + 1
    except (RuntimeError, OSError):
        return "unreadable"
    return counts


def map_class(value: Any, class_map: Mapping[str, str] | None = None) -> str | None:
    """The road class of one value (``None``: not a road, or not in the map)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    key = _key(value)
    mapping = OSM_CLASSES if class_map is None else class_map
    return mapping.get(key)


def _key(value: Any) -> str:
    """A class value as text: ``2.0`` (a number column) reads as ``"2"``."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def read_roads(
    source: Path | bytes,
    file: str,
    report: Report,
    *,
    class_column: str,
    class_map: Mapping[str, str] | None = None,
    surface_column: str | None = None,
    oneway_column: str | None = None,
    layer: str | None = None,
    not_roads: Any = (),
    strict: bool = False,
) -> gpd.GeoDataFrame | None:
    """Read road lines and map their classes; ``None`` when nothing usable.

    Parameters
    ----------
    source : path or bytes
    file : str
        Name shown in messages; its suffix gives the format (``.osm.pbf`` for
        an OpenStreetMap extract, whose class column is ``highway``).
    report : Report
        Receives every issue (errors stop the import).
    class_column : str
        Column of road classes.
    class_map : mapping, optional
        Column value -> one of :data:`ROAD_CLASSES`; :data:`OSM_CLASSES` when
        omitted.
    surface_column, oneway_column : str, optional
    layer : str, optional
        The layer to read from a file holding several.
    not_roads : iterable of str
        Values the user said are not roads (reported with :data:`NOT_ROADS`).
    strict : bool
        Values neither mapped nor said not to be roads are an error
        (``road_class_unmapped``: nothing is imported) rather than lines left
        out with a warning. The import screen, which shows every value, uses it.

    Returns
    -------
    GeoDataFrame or None
        LineStrings in EPSG:4326 with ``road_class``, ``surface`` (paved,
        unpaved or missing) and ``oneway``.
    """
    if class_map is not None:
        bad = sorted({str(v) for v in class_map.values()} - set(ROAD_CLASSES))
        if bad:
            raise ValueError(
                f"class map: {bad} are not road classes; use {list(ROAD_CLASSES)}"
            )
        class_map = {_key(k): v for k, v in class_map.items()}
    if str(file).lower().endswith(".osm.pbf"):
        frame = _read_pbf(source, file, report)
    else:
        frame = read_vector(source, file, report, kind="lines", layer=layer)
    if frame is None:
        return None
    for column in (class_column, surface_column, oneway_column):
        if column and column not in frame.columns:
            columns = [str(c) for c in frame.columns if c != frame.geometry.name]
            report.error("missing_column", file=file, field=column,
                         columns=", ".join(columns))  # fmt: skip
            return None
    frame = to_wgs84(frame, file, report)
    if frame is None:
        return None
    frame = frame.reset_index(drop=True)
    geoms = frame.geometry.to_numpy()
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    types = shapely.get_type_id(geoms)
    not_line = ~empty & ~np.isin(types, [1, 5])
    if empty.any():
        report.warning("empty_geometry", file=file, row=int(np.argmax(empty)) + 1,
                       field="geometry", count=int(empty.sum()))  # fmt: skip
    if not_line.any():
        found = sorted(set(frame.geometry[not_line].geom_type))
        report.warning("not_a_line", file=file, row=int(np.argmax(not_line)) + 1,
                       field="geometry", count=int(not_line.sum()),
                       type=", ".join(found))  # fmt: skip
    raw = frame[class_column]
    present = raw.notna() & (raw.astype(str).str.strip() != "")
    keys = raw.map(lambda v: _key(v) if pd.notna(v) else "")
    mapping = OSM_CLASSES if class_map is None else class_map
    road_class = keys.map(mapping)
    dropped = NOT_ROADS | {_key(v) for v in not_roads}
    not_road = present & road_class.isna() & keys.isin(dropped)
    unknown = present & road_class.isna() & ~keys.isin(dropped)
    usable = ~empty & ~not_line
    if (~present & usable).any():
        rows = np.flatnonzero(~present & usable)
        report.warning("road_class_missing", file=file, row=int(rows[0]) + 1,
                       field=class_column, count=len(rows))  # fmt: skip
    if (not_road & usable).any():
        report.info("not_roads", file=file, field=class_column,
                    count=int((not_road & usable).sum()),
                    values=_counts(keys[not_road & usable]))  # fmt: skip
    if (unknown & usable).any() and strict:
        rows = np.flatnonzero(unknown & usable)
        report.error("road_class_unmapped", file=file, row=int(rows[0]) + 1,
                     field=class_column, count=len(rows),
                     values=_counts(keys[unknown & usable]))  # fmt: skip
        return None
    if (unknown & usable).any():
        rows = np.flatnonzero(unknown & usable)
        report.warning("road_class_unknown", file=file, row=int(rows[0]) + 1,
                       field=class_column, count=len(rows),
                       values=_counts(keys[unknown & usable]),
                       classes=", ".join(ROAD_CLASSES))  # fmt: skip
    keep = usable & road_class.notna().to_numpy()
    if not keep.any():
        report.error("no_roads", file=file, field=class_column, lines=len(frame))
        return None
    out = gpd.GeoDataFrame(
        {"road_class": road_class[keep].astype(str).to_numpy()},
        geometry=frame.geometry[keep].to_numpy(),
        crs=4326,
    )
    if surface_column:
        surface = frame.loc[keep, surface_column].map(
            lambda v: SURFACES.get(str(v).strip().lower()) if pd.notna(v) else None
        )
        out["surface"] = surface.to_numpy(dtype=object)
    else:
        out["surface"] = None
    if oneway_column:
        out["oneway"] = (
            frame.loc[keep, oneway_column]
            .map(lambda v: pd.notna(v) and str(v).strip().lower() in _YES)
            .to_numpy(dtype=bool)
        )
    else:
        out["oneway"] = False
    return out.explode(index_parts=False, ignore_index=True)


def _counts(values: pd.Series, limit: int = 8) -> str:
    """``'proposed' x 3, 'construction' x 1`` for a report."""
    counts = values.value_counts()
    text = ", ".join(f"'{k}' x {n}" for k, n in counts.head(limit).items())
    return text + (f" (+{len(counts) - limit})" if len(counts) > limit else "")


def _read_pbf(source: Path | bytes, file: str, report: Report):
    """The ways with a ``highway`` tag of an OpenStreetMap extract, as lines."""
    import tempfile

    try:
        import osmium
    except ImportError:  # pinned in requirements.txt; a broken install says so
        report.error("unsupported_format", file=file, suffix=".osm.pbf",
                     formats="pyosmium is not installed")  # fmt: skip
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = (
            Path(source) if not isinstance(source, bytes) else Path(tmp) / "x.osm.pbf"
        )
        if isinstance(source, bytes):
            path.write_bytes(source)
        rows: list[dict[str, Any]] = []
        coords: list[list[tuple[float, float]]] = []
        try:
            processor = (
                osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
                .with_locations()
                .with_filter(osmium.filter.KeyFilter("highway"))
            )
            for way in processor:
                if not way.is_way():
                    continue
                pts = [(n.lon, n.lat) for n in way.nodes if n.location.valid()]
                tags = way.tags
                rows.append({"osm_id": way.id, "highway": tags.get("highway"),
                             "surface": tags.get("surface"),
                             "oneway": tags.get("oneway"), "name": tags.get("name")})  # fmt: skip
                coords.append(pts)
        except (RuntimeError, OSError) as exc:
            report.error("unrecognised", file=file, format="OpenStreetMap PBF",
                         detail=str(exc).splitlines()[0] if str(exc) else "")  # fmt: skip
            return None
    if not rows:
        report.error("no_features", file=file)
        return None
    geoms = [shapely.LineString(p) if len(p) >= 2 else None for p in coords]
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=4326)
