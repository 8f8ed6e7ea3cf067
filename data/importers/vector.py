"""Vector files of an import: which formats, which layer, and a clear word when not.

The formats are the ones the pinned GDAL (through pyogrio) reads, checked at import
time with :func:`pyogrio.list_drivers`: GeoJSON, GeoPackage, FlatGeobuf, KML and
KMZ, and zip archives holding a Shapefile, a File Geodatabase (``*.gdb.zip``, as
OCHA publishes them) or any of the former. Archives are read in place (``/vsizip``)
after refusing unsafe paths and zip bombs; nothing is extracted.

A file may hold several layers (GeoPackage, File Geodatabase, a zip of
Shapefiles): the one of the wanted kind (polygons for boundaries, points for
centers and candidate sites) is taken when it is the only one, else the user names
it. A layer holding only another kind of geometry is one error naming the file and
the type found, never one error per row.

Examples
--------
>>> from data.importers.validate import Report
>>> r = Report()
>>> read_vector(b'{"a": 1}', "stats.json", r) is None, r.errors[0].code
(True, 'not_geojson')
>>> suffix_of("ADM3.GDB.ZIP"), suffix_of("centres.geojson")
('.zip', '.geojson')
"""

from __future__ import annotations

import json
import re
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import geopandas as gpd
import numpy as np
import pyogrio
import shapely

from data.importers.validate import Report

MAX_FILE_BYTES = 200 * 1024**2
MAX_UNZIPPED_BYTES = 1024**3

_DRIVERS = pyogrio.list_drivers()
#: GDAL drivers of each vector file suffix, the first one present is used.
_SUFFIX_DRIVERS = {
    ".geojson": ("GeoJSON",),
    ".json": ("GeoJSON",),
    ".gpkg": ("GPKG",),
    ".fgb": ("FlatGeobuf",),
    ".kml": ("LIBKML", "KML"),
    ".kmz": ("LIBKML",),
    ".shp": ("ESRI Shapefile",),
}
#: Suffixes of files read inside a zip archive (``.gdb`` is a folder there).
_MEMBER_SUFFIXES = tuple(
    s for s, drivers in _SUFFIX_DRIVERS.items()
    if s != ".kmz" and any(d in _DRIVERS for d in drivers)
)  # fmt: skip
_GDB = "OpenFileGDB" in _DRIVERS
#: Suffixes of the vector files an import accepts, as GDAL here reads them.
GEO_SUFFIXES = tuple(
    s for s in (".geojson", ".json", ".gpkg", ".fgb", ".kml", ".kmz")
    if any(d in _DRIVERS for d in _SUFFIX_DRIVERS[s])
) + ((".zip",) if ".shp" in _MEMBER_SUFFIXES or _GDB else ())  # fmt: skip
#: What a zip archive may hold, for messages.
ZIP_CONTENTS = tuple(
    [".shp"] * (".shp" in _MEMBER_SUFFIXES) + [".gdb"] * _GDB
    + [s for s in _MEMBER_SUFFIXES if s != ".shp"]
)  # fmt: skip
#: Geometry families a layer can hold, by shapely type id.
_FAMILY = {0: "points", 4: "points", 1: "lines", 2: "lines", 5: "lines",
           3: "polygons", 6: "polygons"}  # fmt: skip
_TYPE_NAMES = {0: "Point", 1: "LineString", 2: "LinearRing", 3: "Polygon",
               4: "MultiPoint", 5: "MultiLineString", 6: "MultiPolygon",
               7: "GeometryCollection"}  # fmt: skip
#: Columns LIBKML adds to every KML layer; dropped when they hold nothing.
_KML_BOOKKEEPING = ("id", "Name", "description", "timestamp", "begin", "end",
                    "altitudeMode", "tessellate", "extrude", "visibility",
                    "drawOrder", "icon")  # fmt: skip


@dataclass(frozen=True)
class LayerInfo:
    """One layer of a vector file: where GDAL finds it and what it declares."""

    dataset: str
    name: str
    geometry_type: str | None
    member: str | None = None

    @property
    def kind(self) -> str | None:
        """``'polygons'``, ``'points'``, ``'lines'`` or ``None`` (not declared)."""
        declared = str(self.geometry_type or "")
        for word, kind in (("Polygon", "polygons"), ("Surface", "polygons"),
                           ("Point", "points"), ("Line", "lines"),
                           ("Curve", "lines")):  # fmt: skip
            if word in declared:
                return kind
        return None


def suffix_of(file: str) -> str:
    """The lower-case suffix that decides the format (``x.gdb.zip`` -> ``.zip``)."""
    return Path(file).suffix.lower()


def is_vector(file: str) -> bool:
    """Whether ``file`` is read as a vector file (else as a CSV or Excel table)."""
    return suffix_of(file) in GEO_SUFFIXES


def read_vector(
    source,
    file: str,
    report: Report,
    *,
    kind: str = "polygons",
    layer: str | None = None,
    max_bytes: int = MAX_FILE_BYTES,
) -> gpd.GeoDataFrame | None:
    """Read the layer of ``kind`` of a vector file, or report why not.

    Parameters
    ----------
    source : path or bytes
        The file, on disk or in memory (an upload).
    file : str
        Name shown in messages; its suffix gives the format.
    report : Report
        Receives the issues; ``None`` is returned when nothing can be read.
    kind : {'polygons', 'points', 'lines'}
        What the caller needs: boundaries, sites or roads.
    layer : str, optional
        The layer (or archive member) to read when the file holds several.
    max_bytes : int
        Larger files are refused before being read.

    Returns
    -------
    GeoDataFrame or None
        As read (CRS not yet checked), with at least one geometry of ``kind``.

    Examples
    --------
    >>> r = Report()
    >>> read_vector(b"{", "x.geojson", r) is None, r.errors[0].code
    (True, 'truncated')
    """
    if kind not in ("polygons", "points", "lines"):
        raise ValueError(
            f"kind should be 'polygons', 'points' or 'lines', got {kind!r}"
        )
    raw = source if isinstance(source, bytes) else None
    size = len(raw) if raw is not None else Path(source).stat().st_size
    if size > max_bytes:
        report.error(
            "too_large", file=file, size_mb=round(size / 1024**2, 1),
            limit_mb=round(max_bytes / 1024**2),
        )  # fmt: skip
        return None
    suffix = suffix_of(file)
    if suffix not in GEO_SUFFIXES:
        report.error("unsupported_format", file=file, suffix=suffix or "?",
                     formats=", ".join(GEO_SUFFIXES))  # fmt: skip
        return None
    with _on_disk(source, suffix) as path:
        layers = _layers(path, file, suffix, report)
        if layers is None:
            return None
        chosen = _choose(layers, file, kind, layer, report)
        if chosen is None:
            return None
        try:
            frame = pyogrio.read_dataframe(chosen.dataset, layer=chosen.name)
        except Exception as exc:  # pyogrio raises DataSourceError, DataLayerError...
            report.error("unrecognised", file=file, format=_format_name(suffix),
                         detail=_detail(exc, path, file))  # fmt: skip
            return None
    if len(frame) == 0:
        report.error("no_features", file=file)
        return None
    if suffix in (".kml", ".kmz") or (chosen.member or "").lower().endswith(".kml"):
        empty = [c for c in _KML_BOOKKEEPING
                 if c in frame.columns and frame[c].isna().all()]  # fmt: skip
        frame = frame.drop(columns=empty)
    frame = _homogenise(frame)
    if not _has_kind(frame, kind, file, report):
        return None
    return frame


def list_layers(path: Path, file: str | None = None) -> list[LayerInfo]:
    """Every layer of a vector file on disk (``[]`` when it cannot be read).

    For the import screen, to guess a file's role before any check.
    """
    found = _layers(Path(path), file or Path(path).name, suffix_of(str(path)), Report())
    return found or []


def describe(path: Path, file: str | None = None) -> dict:
    """What a vector file on disk holds, to guess its role before any check.

    Returns ``{"kind", "columns", "layer", "layers"}``: the kind of geometry
    (``'polygons'`` first, then ``'points'``, ``'lines'``, or ``None`` when
    unreadable), the columns of the layer that would be read (the one of that
    kind with the most features), its name, and the names of every layer of that
    kind (to choose from when there are several).
    """
    layers = list_layers(path, file)
    if not layers:
        return {"kind": None, "columns": [], "layer": None, "layers": []}
    samples = {x: None for x in layers if x.kind is None}
    for x in samples:  # undeclared (KML, mixed GeoJSON): the features say
        samples[x] = read_sample(x)
    kind_of = {x: x.kind or _main_kind(samples.get(x)) for x in layers}
    kind = _main_kind(None, set(kind_of.values()))
    fit = [x for x in layers if kind_of[x] == kind] or layers
    best = max(fit, key=_feature_count) if len(fit) > 1 else fit[0]
    sample = samples.get(best)
    if sample is None:
        sample = read_sample(best, 1)
    columns = [] if sample is None else [
        str(c) for c in sample.columns if c != sample.geometry.name
    ]  # fmt: skip
    return {
        "kind": kind,
        "columns": columns,
        "layer": best.name,
        "layers": [x.name for x in fit] if len(fit) > 1 else [],
    }


def _main_kind(sample, kinds=None) -> str | None:
    """Polygons if any, else points, else lines (of a sample, or of ``kinds``)."""
    if kinds is None:
        kinds = set() if sample is None else set(geometry_kinds(sample))
    return next((k for k in ("polygons", "points", "lines") if k in kinds), None)


def _feature_count(info: LayerInfo) -> int:
    try:
        return int(pyogrio.read_info(info.dataset, layer=info.name)["features"])
    except Exception:
        return -1


def read_sample(info: LayerInfo, n: int = 200) -> gpd.GeoDataFrame | None:
    """The first ``n`` features of a layer, or ``None`` when it cannot be read."""
    try:
        return _homogenise(
            pyogrio.read_dataframe(info.dataset, layer=info.name, max_features=n)
        )
    except Exception:  # the check will say why the file is unreadable
        return None


def geometry_kinds(frame: gpd.GeoDataFrame) -> dict[str, list[str]]:
    """The geometry families of a layer (``points``...) and the type names of each.

    Examples
    --------
    >>> from shapely.geometry import Point, box
    >>> geometry_kinds(gpd.GeoDataFrame(geometry=[Point(0, 0), box(0, 0, 1, 1)]))
    {'points': ['Point'], 'polygons': ['Polygon']}
    """
    geoms = frame.geometry.to_numpy()
    present = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    kinds: dict[str, list[str]] = {}
    for type_id in np.unique(shapely.get_type_id(present)):
        family = _FAMILY.get(int(type_id), "collections")
        kinds.setdefault(family, []).append(_TYPE_NAMES.get(int(type_id), "?"))
    return kinds


# ----------------------------------------------------------------------- helpers


@contextmanager
def _on_disk(source, suffix: str) -> Iterator[Path]:
    """The file as a path: GDAL reads archives and File Geodatabases from disk."""
    if not isinstance(source, bytes):
        yield Path(source).resolve()
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(source)
        yield path


def _layers(path: Path, file: str, suffix: str, report: Report):
    """Every layer of the file (archives opened in place), or ``None`` on errors."""
    if suffix in (".zip", ".kmz"):
        datasets = _zip_datasets(path, file, suffix, report)
        if datasets is None:
            return None
    else:
        datasets = [(str(path), None)]
    layers = []
    for dataset, member in datasets:
        try:
            listed = pyogrio.list_layers(dataset)
        except Exception as exc:
            _report_unreadable(path, file, suffix, member, exc, report)
            return None
        layers += [LayerInfo(dataset, str(n), None if g is None else str(g), member)
                   for n, g in listed]  # fmt: skip
    if not layers:
        report.error("no_features", file=file)
        return None
    return layers


def _zip_datasets(path: Path, file: str, suffix: str, report: Report):
    """``(GDAL path, member)`` of each readable dataset in a zip, checked first."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except zipfile.BadZipFile:
        report.error("not_a_zip", file=file)
        return None
    for info in infos:
        member = PurePosixPath(info.filename.replace("\\", "/"))
        if (
            member.is_absolute()
            or ".." in member.parts
            or re.match(r"^[A-Za-z]:", member.as_posix())
        ):
            report.error("zip_traversal", file=file, member=info.filename)
    if not report.ok:
        return None
    total = sum(info.file_size for info in infos)
    if total > MAX_UNZIPPED_BYTES:
        report.error(
            "zip_too_large", file=file, size_mb=round(total / 1024**2),
            limit_mb=round(MAX_UNZIPPED_BYTES / 1024**2),
        )  # fmt: skip
        return None
    names = [
        i.filename.replace("\\", "/") for i in infos
        if not i.is_dir() and not _hidden(i.filename)
    ]  # fmt: skip
    members: list[str] = []
    if suffix == ".kmz":  # the first KML of the archive is the document
        kml = [n for n in names if n.lower().endswith(".kml")]
        members = sorted(kml, key=lambda n: n.count("/"))[:1]
    else:
        if _GDB:
            for name in names:
                parts = name.split("/")
                for k, part in enumerate(parts[:-1]):
                    if part.lower().endswith(".gdb"):
                        root = "/".join(parts[: k + 1])
                        if root not in members:
                            members.append(root)
                        break
        members += [
            n for n in names
            if n.lower().endswith(_MEMBER_SUFFIXES)
            and not any(n.startswith(g + "/") for g in members)
        ]  # fmt: skip
    if not members:
        report.error("zip_no_layer", file=file, contents=", ".join(ZIP_CONTENTS))
        return None
    return [(f"/vsizip/{path}/{m}", m) for m in members]


def _hidden(name: str) -> bool:
    """macOS resource forks and folders (``__MACOSX/``, ``._x.shp``)."""
    parts = name.replace("\\", "/").split("/")
    return "__MACOSX" in parts or parts[-1].startswith("._")


def _choose(
    layers: list[LayerInfo], file: str, kind: str, wanted: str | None, report: Report
) -> LayerInfo | None:
    """The layer to read: the one named, else the only one that may be of ``kind``."""
    labels = [_label(x) for x in layers]
    if wanted:
        hits = [
            x for x in layers
            if wanted in (x.name, x.member, PurePosixPath(x.member or "").stem)
        ]  # fmt: skip
        if len(hits) == 1:
            return hits[0]
        report.error("layer_not_found", file=file, layer=wanted,
                     layers=", ".join(labels))  # fmt: skip
        return None
    if len(layers) == 1:
        return layers[0]  # read it: its geometries say what it holds
    fit = [x for x in layers if x.kind in (kind, None)]
    if len(fit) == 1:
        return fit[0]
    if not fit:
        report.error(f"no_{kind[:-1]}_layer", file=file, layers=", ".join(labels))
        return None
    report.error("many_layers", file=file,
                 layers=", ".join(_label(x) for x in fit))  # fmt: skip
    return None


def _label(info: LayerInfo) -> str:
    kind = f" ({info.geometry_type})" if info.geometry_type else ""
    return f"{info.name}{kind}"


def _report_unreadable(path: Path, file, suffix, member, exc, report: Report) -> None:
    """One message naming the file and what it is not; GDAL's words only as detail."""
    if suffix in (".geojson", ".json"):
        raw = path.read_bytes()
        text = raw.lstrip(b"\xef\xbb\xbf \t\r\n")
        if not text.startswith((b"{", b"[")):
            report.error("not_geojson", file=file)
            return
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as err:
            report.error(
                "truncated", file=file, row=err.lineno, line=err.lineno,
                column=err.colno, reason=err.msg,
            )  # fmt: skip
            return
        except (UnicodeDecodeError, RecursionError):
            data = None
        if not (isinstance(data, dict) and isinstance(data.get("type"), str)):
            report.error("not_geojson", file=file)
            return
    fmt = _format_name(suffix if member is None else suffix_of(member) or ".gdb")
    report.error("unrecognised", file=file, format=fmt,
                 detail=_detail(exc, path, file))  # fmt: skip


def _format_name(suffix: str) -> str:
    return {
        ".geojson": "GeoJSON", ".json": "GeoJSON", ".gpkg": "GeoPackage",
        ".fgb": "FlatGeobuf", ".kml": "KML", ".kmz": "KMZ", ".zip": "zip",
        ".shp": "Shapefile", ".gdb": "File Geodatabase",
    }.get(suffix, suffix)  # fmt: skip


def _detail(exc: Exception, path: Path, file: str) -> str:
    """GDAL's message, first sentence, without the server's paths."""
    text = str(exc).split("\n")[0]
    text = re.sub(r"/vsi\w+/\S*?(?=['\s]|$)", file, text.replace(str(path), file))
    return text.split("; It might help")[0][:160]


def _homogenise(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Collections of one family as their multi type (KML MultiGeometry...)."""
    geoms = frame.geometry.to_numpy()
    collections = np.flatnonzero(shapely.get_type_id(geoms) == 7)
    if not len(collections):
        return frame
    out = geoms.copy()
    for i in collections:
        parts = shapely.get_parts(geoms[i])
        families = {_FAMILY.get(int(t)) for t in shapely.get_type_id(parts)}
        if families == {"polygons"}:
            out[i] = shapely.MultiPolygon(
                [p for part in parts for p in shapely.get_parts(part)]
            )
        elif families == {"points"}:
            out[i] = shapely.MultiPoint(
                [p for part in parts for p in shapely.get_parts(part)]
            )
    frame = frame.copy()
    frame[frame.geometry.name] = gpd.GeoSeries(out, index=frame.index, crs=frame.crs)
    return frame


def _has_kind(frame: gpd.GeoDataFrame, kind: str, file: str, report: Report) -> bool:
    """Whether a layer holds any geometry of ``kind``; if not, one error saying so."""
    kinds = geometry_kinds(frame)
    if kind in kinds or not kinds:  # no geometry at all: each row says so later
        return True
    found = ", ".join(t for types in kinds.values() for t in types)
    if kind == "polygons":
        code = "points_as_boundaries" if "points" in kinds else "not_polygons"
    elif kind == "lines":
        code = "not_lines"
    else:
        code = "polygons_as_sites" if "polygons" in kinds else "not_points"
    report.error(code, file=file, field="geometry", type=found)
    return False
