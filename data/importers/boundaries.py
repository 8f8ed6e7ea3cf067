"""Administrative boundaries: read, check, repair, recognise, build the hierarchy.

Accepted files: the vector formats of :mod:`data.importers.vector` (GeoJSON,
GeoPackage, FlatGeobuf, KML/KMZ, zipped Shapefile or File Geodatabase), read with
pyogrio and never extracted to disk. Three conventions are recognised from the
column names:

``cod-ab``
    OCHA common operational datasets: ``ADM<k>_PCODE`` codes and ``ADM<k>_FR``
    (or ``_EN``, ``_REF``) names; every feature also carries its parents' p-codes,
    so one commune layer is enough and upper levels are dissolved from it.
``geoboundaries``
    ``shapeID``/``shapeName`` with one file per level and no parent columns; each
    unit's parent is the unit of the level above that overlaps it most.
``generic``
    any other layer, with a :class:`LayerMapping` naming the code, name and parent
    code columns (guessed from common names, editable by the user).

Examples
--------
>>> detect_mapping(["ADM0_PCODE", "ADM1_PCODE", "ADM1_FR", "ADM2_PCODE", "ADM2_FR",
...                 "geometry"]).convention
'cod-ab'
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from shapely.errors import GEOSException

from data.importers.names import normalise
from data.importers.validate import Report
from data.importers.vector import (  # noqa: F401  (GEO_SUFFIXES: one list)
    GEO_SUFFIXES,
    MAX_FILE_BYTES,
    read_vector,
)

WGS84 = "EPSG:4326"
EQUAL_AREA = "EPSG:6933"  # WGS 84 / NSIDC EASE-Grid 2.0 Global: areas in m²
WEAK_OVERLAP = 0.5
LEVEL_NAMES = {
    "country": ("Pays", "Country"),
    "region": ("Région", "Region"),
    "department": ("Département", "Department"),
    "prefecture": ("Préfecture", "Prefecture"),
    "province": ("Province", "Province"),
    "cercle": ("Cercle", "Circle"),
    "arrondissement": ("Arrondissement", "Arrondissement"),
    "district": ("District", "District"),
    "commune": ("Commune", "Commune"),
}
MAX_LEVEL_NAME = 40


def parse_level_names(text: str | None) -> list[str] | None:
    """``"region,department,commune"`` as level codes, top first (``None`` if empty).

    Raises ``ValueError`` naming the problem: names must be distinct, 1 to
    :data:`MAX_LEVEL_NAME` characters.

    Examples
    --------
    >>> parse_level_names(" region, cercle ,commune ")
    ['region', 'cercle', 'commune']
    >>> parse_level_names("") is None
    True
    """
    if text is None or not str(text).strip():
        return None
    names = [n.strip() for n in str(text).split(",")]
    if len(set(names)) != len(names) or not all(
        0 < len(n) <= MAX_LEVEL_NAME for n in names
    ):
        raise ValueError(
            f"levels {str(text)[:200]!r}: expected distinct level codes of 1 to "
            f"{MAX_LEVEL_NAME} characters, top first, e.g. region,department,commune"
        )
    return names


DEFAULT_LEVELS = {
    1: ("commune",),
    2: ("region", "commune"),
    3: ("region", "department", "commune"),
    4: ("region", "department", "arrondissement", "commune"),
}
_REGION_WORDS = ("region", "reg")
_NAME_WORDS = {"name", "nom", "libelle", "appellation", "designation", "label"}
_DEPT_WORDS = ("department", "departement", "dept", "dep", "prefecture", "province")


@dataclass(frozen=True)
class LayerMapping:
    """Which columns of a boundary layer hold what.

    Attributes
    ----------
    code : str
        Column of the unit's unique code.
    name : str or None
        Column of its name (the code is used when absent).
    parents : tuple of (code column, name column or None)
        Codes (and names) of the unit's ancestors, top level first, when the layer
        carries them; upper levels are then dissolved from this layer.
    convention : str
        ``'cod-ab'``, ``'geoboundaries'`` or ``'generic'``.
    level : int or None
        Administrative level stated by the file (``ADM3`` -> 3), if any.
    population : str or None
        Column of the units' population, read on the finest level's layer when no
        population table is given.
    """

    code: str
    name: str | None = None
    parents: tuple[tuple[str, str | None], ...] = ()
    convention: str = "generic"
    level: int | None = None
    population: str | None = None

    def columns(self) -> list[str]:
        cols = [self.code, self.name]
        for code, name in self.parents:
            cols += [code, name]
        return [c for c in [*cols, self.population] if c]

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "parents": [list(p) for p in self.parents],
            "convention": self.convention,
            "level": self.level,
            "population": self.population,
        }

    @classmethod
    def from_dict(cls, d: dict) -> LayerMapping:
        return cls(
            d["code"],
            d.get("name"),
            _parents(d.get("parents")),
            d.get("convention", "generic"),
            d.get("level"),
            d.get("population"),
        )


#: The fields of a boundary layer's mapping a user can give, each alone.
MAPPING_FIELDS = ("code", "name", "parents", "population")


def _parents(value) -> tuple[tuple[str, str | None], ...]:
    """``[[code, name], [code], ...]`` (or ``None``) as a tuple of pairs."""
    return tuple((p[0], p[1] if len(p) > 1 else None) for p in value or ())


@dataclass
class Layer:
    """One boundary layer read and checked, in EPSG:4326."""

    file: str
    frame: gpd.GeoDataFrame
    mapping: LayerMapping | None = None
    notes: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------- reading


def read_layer(
    source,
    file: str,
    report: Report,
    *,
    layer: str | None = None,
    max_bytes: int = MAX_FILE_BYTES,
) -> gpd.GeoDataFrame | None:
    """Read the polygon layer of a vector file (formats: :data:`GEO_SUFFIXES`).

    Parameters
    ----------
    source : path or bytes
        The file, on disk or in memory (an upload).
    file : str
        Name shown in messages; its suffix gives the format.
    report : Report
        Receives the issues; ``None`` is returned when nothing can be read.
    layer : str, optional
        Layer of a GeoPackage or File Geodatabase, or member of a zip, when there
        are several polygon layers.
    max_bytes : int
        Larger files are refused before being read.

    Examples
    --------
    >>> r = Report()
    >>> read_layer(b"{", "x.geojson", r) is None, r.errors[0].code
    (True, 'truncated')
    """
    return read_vector(
        source, file, report, kind="polygons", layer=layer, max_bytes=max_bytes
    )


# ------------------------------------------------------------------- CRS, geometry


def to_wgs84(
    frame: gpd.GeoDataFrame, file: str, report: Report
) -> gpd.GeoDataFrame | None:
    """Reproject to EPSG:4326, refusing coordinates that contradict the declared CRS.

    A layer without CRS whose coordinates fit longitudes and latitudes is taken as
    EPSG:4326 with a warning; otherwise it is refused.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> r = Report()
    >>> g = gpd.GeoDataFrame(geometry=[box(400000, 1e6, 410000, 1.01e6)],
    ...                      crs="EPSG:4326")
    >>> to_wgs84(g, "a.geojson", r) is None, r.errors[0].code
    (True, 'crs_mismatch')
    """
    valid = frame.geometry[~(frame.geometry.isna() | frame.geometry.is_empty)]
    if valid.empty:
        return frame.set_crs(WGS84, allow_override=True)
    minx, miny, maxx, maxy = valid.total_bounds
    fits_degrees = minx >= -180 and maxx <= 180 and miny >= -90 and maxy <= 90
    if frame.crs is None:
        if fits_degrees:
            report.warning("crs_assumed", file=file, crs=WGS84)
            return frame.set_crs(WGS84)
        report.error("no_crs", file=file, bounds=_bounds_text(minx, miny, maxx, maxy))
        return None
    crs = CRS.from_user_input(frame.crs)
    if crs.is_geographic and not fits_degrees:
        report.error(
            "crs_mismatch", file=file, crs=crs.name,
            bounds=_bounds_text(minx, miny, maxx, maxy),
        )  # fmt: skip
        return None
    if not crs.is_geographic and fits_degrees and max(abs(maxx), abs(maxy)) < 1000:
        report.error(
            "crs_mismatch", file=file, crs=crs.name,
            bounds=_bounds_text(minx, miny, maxx, maxy),
        )  # fmt: skip
        return None
    if crs.equals(CRS.from_epsg(4326)):
        return frame
    report.info("reprojected", file=file, crs=crs.name)
    return frame.to_crs(WGS84)


def _bounds_text(*b) -> str:
    return "[" + ", ".join(f"{v:.4g}" for v in b) + "]"


def check_geometries(
    frame: gpd.GeoDataFrame, file: str, report: Report, *, repair: bool = True
) -> gpd.GeoDataFrame:
    """Keep polygonal features; repair invalid ones (reported) or refuse them.

    Empty geometries and points or lines are errors naming their row; an invalid
    polygon (self-intersection, bad ring) is made valid with
    :func:`shapely.make_valid` and reported as a warning with GEOS's reason, or is
    an error when ``repair`` is ``False``.

    Examples
    --------
    >>> from shapely.geometry import Polygon
    >>> bowtie = Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    >>> r = Report()
    >>> g = gpd.GeoDataFrame(geometry=[bowtie], crs="EPSG:4326")
    >>> fixed = check_geometries(g, "c.geojson", r)
    >>> fixed.geometry.iloc[0].is_valid, r.warnings[0].code
    (True, 'repaired')
    """
    geoms = frame.geometry.to_numpy()
    out = geoms.copy()
    types = shapely.get_type_id(geoms)
    for i in np.flatnonzero(shapely.is_missing(geoms) | shapely.is_empty(geoms)):
        report.add("empty_geometry", "error", file=file, row=i + 1,
                   field="geometry")  # fmt: skip
    polygonal = np.isin(types, (3, 6))
    for i in np.flatnonzero(~polygonal & ~shapely.is_missing(geoms)):
        if shapely.is_empty(geoms[i]):
            continue
        report.add("wrong_geometry", "error", file=file, row=i + 1,
                   field="geometry", type=geoms[i].geom_type)  # fmt: skip
    invalid = np.flatnonzero(polygonal & ~shapely.is_valid(geoms))
    for i in invalid:
        reason = shapely.is_valid_reason(geoms[i])
        if not repair:
            report.add("invalid_geometry", "error", file=file,
                       row=i + 1, field="geometry", reason=reason)  # fmt: skip
            continue
        fixed = _polygonal(shapely.make_valid(geoms[i]))
        if fixed is None:
            report.add("invalid_geometry", "error", file=file,
                       row=i + 1, field="geometry", reason=reason)  # fmt: skip
            continue
        out[i] = fixed
        report.add("repaired", "warning", file=file, row=i + 1,
                   field="geometry", reason=reason)  # fmt: skip
    result = frame.copy()
    result[result.geometry.name] = gpd.GeoSeries(out, index=frame.index, crs=frame.crs)
    return result


def _polygonal(geom):
    parts = [
        p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")
    ]
    polys = []
    for p in parts:
        polys.extend(shapely.get_parts(p))
    polys = [p for p in polys if not p.is_empty and p.area > 0]
    if not polys:
        return None
    return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)


# ----------------------------------------------------------------- conventions


def detect_mapping(columns: Sequence[str]) -> LayerMapping | None:
    """Recognise the convention of a layer from its columns and guess its mapping.

    Returns ``None`` when no code column can be guessed (the user must map it).

    Examples
    --------
    >>> m = detect_mapping(["shapeName", "shapeID", "shapeType", "geometry"])
    >>> m.convention, m.code, m.name
    ('geoboundaries', 'shapeID', 'shapeName')
    >>> detect_mapping(["code", "nom", "code_region", "code_dept"]).parents
    (('code_region', None), ('code_dept', None))
    """
    cols = [c for c in columns if c != "geometry"]
    upper = {c.upper(): c for c in cols}
    pcodes = sorted(
        int(m.group(1)) for c in upper if (m := re.fullmatch(r"ADM(\d)_PCODE", c))
    )
    if pcodes:
        finest = pcodes[-1]

        def name_of(k: int) -> str | None:
            for suffix in ("FR", "EN", "REF", "PT", "NAME"):
                if f"ADM{k}_{suffix}" in upper:
                    return upper[f"ADM{k}_{suffix}"]
            return None

        parents = tuple(
            (upper[f"ADM{k}_PCODE"], name_of(k)) for k in pcodes if 0 < k < finest
        )
        return LayerMapping(
            upper[f"ADM{finest}_PCODE"], name_of(finest), parents, "cod-ab", finest
        )
    lower = {c.lower(): c for c in cols}
    if "shapeid" in lower and "shapename" in lower:
        level = None
        if "shapetype" in lower:
            level = None  # the value, not the column, says the level: read later
        return LayerMapping(
            lower["shapeid"], lower["shapename"], (), "geoboundaries", level
        )
    norm = _normalised(cols)
    code = _guess_code(norm)
    if code is None:
        return None
    name = _guess_name(norm, code)
    return LayerMapping(code, name, _guess_parents(norm, code, name), "generic", None)


def _normalised(columns) -> dict[str, str]:
    return {normalise(c).replace(" ", "_"): c for c in columns if c != "geometry"}


def _guess_code(norm: dict) -> str | None:
    return next(
        (norm[k] for k in ("unit_code", "commune_code", "code_commune", "code",
                           "pcode", "id", "code_unite") if k in norm),
        None,
    )  # fmt: skip


def _guess_name(norm: dict, code: str) -> str | None:
    exact = next(
        (norm[k] for k in ("name", "nom", "commune", "nom_commune", "libelle",
                           "appellation", "shapename") if k in norm and norm[k] != code),
        None,
    )  # fmt: skip
    if exact is not None:
        return exact
    named = [
        (any(w in key.split("_") for w in (*_REGION_WORDS, *_DEPT_WORDS)), col)
        for key, col in norm.items()
        if col != code and set(key.split("_")) & _NAME_WORDS
    ]  # columns without an upper level's word first: theirs are the parents' names
    return min(named, key=lambda hit: hit[0])[1] if named else None


def _guess_parents(
    norm: dict, code: str, name: str | None = None
) -> tuple[tuple[str, str | None], ...]:
    parents = []
    for words in (_REGION_WORDS, _DEPT_WORDS):
        hit = _parent_column(norm, words, {code, name})
        if hit:
            parents.append(hit)
    return tuple(parents)


def resolve_mapping(
    columns: Sequence[str], given: dict | None, file: str, report: Report
) -> LayerMapping | None:
    """A layer's mapping: the fields the user gave, the others guessed, each guess
    reported (``columns_guessed``) so it can be checked and overridden.

    Every field of :data:`MAPPING_FIELDS` can be given alone (``None``: guess it;
    ``""`` for a name or population column, ``[]`` for parents: there is none); a
    name never falls back silently to the code. ``None`` (with ``no_code_column``) when
    no code column is given or recognised.

    Examples
    --------
    >>> r = Report()
    >>> m = resolve_mapping(["ident", "appellation"], {"code": "ident"}, "a.gpkg", r)
    >>> m.code, m.name, r.issues[-1].params["guessed"]
    ('ident', 'appellation', 'name=appellation')
    """
    given = {
        k: v for k, v in (given or {}).items() if k in MAPPING_FIELDS and v is not None
    }  # None: guess it; "" (a name, a population) or [] (parents): none, a choice
    cols = [c for c in columns if c != "geometry"]
    code = given.pop("code", None) or None
    if code is not None:
        given["code"] = code
    detected = None
    if code is not None and (m := re.fullmatch(r"ADM(\d)_PCODE", code.upper())):
        # COD-AB: the chosen level's ancestors are the levels above it
        above = [c for c in cols if not _finer_adm_column(c, int(m.group(1)))]
        detected = detect_mapping(above)
    elif code is None or code == getattr(detect_mapping(cols), "code", None):
        detected = detect_mapping(cols)
    norm = _normalised(cols)
    if code is None:
        if detected is None:
            report.error("no_code_column", file=file, columns=", ".join(cols))
            return None
        code = detected.code
    guessed: list[str] = [] if "code" in given else [f"code={code}"]
    name = given.get("name") or None
    if "name" in given and name is None:
        report.warning("no_name_column", file=file, field=code)
    elif name is None:
        name = detected.name if detected is not None else _guess_name(norm, code)
        if name:
            guessed.append(f"name={name}")
        else:  # never silently: the units will show their codes
            report.warning("no_name_column", file=file, field=code)
    parents = _parents(given["parents"]) if "parents" in given else None
    if parents is None:
        parents = (
            detected.parents
            if detected is not None
            else _guess_parents(norm, code, name)
        )
        if parents:
            guessed.append(
                "parents=" + ", ".join("/".join(c for c in p if c) for p in parents)
            )
    # the population column is guessed where it is read, and only if no table is
    # given (data.importers.bundle): a guess here would be said and not used
    population = given.get("population")  # "": none, by choice
    convention = detected.convention if detected is not None else "generic"
    level = detected.level if detected is not None else None
    if guessed:
        report.info("columns_guessed", file=file, guessed="; ".join(guessed))
    return LayerMapping(code, name, parents, convention, level, population)


def _finer_adm_column(column: str, level: int) -> bool:
    """Whether a COD-AB column (``ADM3_PCODE``, ``ADM3_FR``...) is finer than
    ``level``."""
    m = re.fullmatch(r"ADM(\d)_.*", column.upper())
    return bool(m) and int(m.group(1)) > level


def _parent_column(norm: dict, words, skip) -> tuple[str, str | None] | None:
    """The (code, name) columns of one upper level, by its words (``region``...).

    A level with a name column only gives ``(name, None)``: its values are then
    joined to the level above by name, or become its units' codes when dissolved.
    """
    code = name = None
    for key, col in norm.items():
        parts = key.split("_")
        if col in skip or not any(w in parts for w in words):
            continue
        if "code" in parts or "id" in parts or "pcode" in parts:
            code = code or col
        elif "name" in parts or "nom" in parts or len(parts) == 1:
            name = name or col
    if code:
        return code, name
    return (name, None) if name else None


def geoboundaries_level(frame: pd.DataFrame) -> int | None:
    """Administrative level stated in a geoBoundaries ``shapeType`` column ('ADM2')."""
    col = next((c for c in frame.columns if c.lower() == "shapetype"), None)
    if col is None:
        return None
    values = frame[col].dropna().astype(str).str.upper().unique()
    if len(values) == 1 and (m := re.fullmatch(r"ADM(\d)", values[0])):
        return int(m.group(1))
    return None


# ------------------------------------------------------------------- hierarchy


def _layer_table(layer: Layer, report: Report) -> pd.DataFrame | None:
    """Code, name, parent codes/names and geometry of one layer; codes checked."""
    mapping, frame = layer.mapping, layer.frame
    missing = [c for c in mapping.columns() if c not in frame.columns]
    for col in missing:
        report.error("missing_column", file=layer.file, field=col)
    if missing:
        return None
    codes = frame[mapping.code].astype("string").str.strip()
    for i in np.flatnonzero(
        codes.isna().to_numpy() | (codes == "").fillna(True).to_numpy()
    ):
        report.add("missing_value", "error", file=layer.file,
                   row=i + 1, field=mapping.code)  # fmt: skip
    dup = codes.duplicated(keep="first") & codes.notna()
    for i in np.flatnonzero(dup.to_numpy()):
        report.add("duplicate_code", "error", file=layer.file,
                   row=i + 1, field=mapping.code, value=str(codes.iloc[i]))  # fmt: skip
    names = (
        frame[mapping.name].astype("string").str.strip()
        if mapping.name
        else codes.copy()
    )
    no_name = names.isna() | (names == "")
    names = names.where(~no_name.fillna(True), codes)
    table = pd.DataFrame(
        {"code": codes.astype(object), "name": names.astype(object)}, index=frame.index
    )
    for k, (pc, pn) in enumerate(mapping.parents):
        table[f"p{k}_code"] = frame[pc].astype("string").str.strip().astype(object)
        table[f"p{k}_name"] = (
            frame[pn].astype("string").str.strip().astype(object) if pn else None
        )
    table["geometry"] = frame.geometry.to_numpy()
    return table.reset_index(drop=True)


def _dissolve(
    children: pd.DataFrame, key: str, name_key: str | None, file: str, report: Report
) -> pd.DataFrame:
    """Upper-level units as unions of their children, checking parent consistency."""
    rows = []
    for code, group in children.groupby(key, sort=True):
        merged = _union(group, file, report)
        name = code
        if name_key is not None:
            names = group[name_key].dropna()
            if not names.empty:
                name = names.mode().iloc[0]
        rows.append({"code": code, "name": name, "geometry": merged})
    return pd.DataFrame(rows)


def _union(group: pd.DataFrame, file: str, report: Report):
    """Union of the children of one unit, whether or not they tile it exactly.

    The fast coverage union needs children that meet edge to edge; GEOS refuses
    others (``TopologyException: CoverageUnion cannot process incorrectly noded
    inputs``), e.g. a repaired self-intersecting polygon that spills over its
    neighbour. Those get the general (overlay) union, and each overlapping pair is
    reported as a warning naming the later row, its code and its neighbour's.
    """
    geoms = group["geometry"].to_numpy()
    try:
        merged = shapely.coverage_union_all(geoms)
        if merged.is_valid:
            return merged
    except GEOSException:
        pass
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="overlaps")
    rows, codes = group.index.to_numpy(), group["code"].to_numpy()
    seen = {
        (i.row, i.params.get("other"))
        for i in report.issues
        if i.code == "overlapping_units" and i.file == file
    }  # the same children are dissolved again for each upper level
    for a, b in zip(left, right, strict=True):
        row, other = int(rows[b]) + 1, str(codes[a])
        if a >= b or (row, other) in seen:
            continue  # each pair once, on its later row
        seen.add((row, other))
        report.add("overlapping_units", "warning", file=file, row=row,
                   field="geometry", value=str(codes[b]), other=other)  # fmt: skip
    try:
        return shapely.union_all(geoms)
    except GEOSException as exc:
        report.error("invalid_geometry", file=file, row=int(rows[0]) + 1,
                     field="geometry", reason=str(exc)[:200])  # fmt: skip
        return shapely.Polygon()


def _check_nesting(
    table: pd.DataFrame, child: str, parent: str, file: str, report: Report
):
    """Each code of ``child`` must sit under one code of ``parent``."""
    first_parent = table.groupby(child)[parent].transform("first")
    for i in np.flatnonzero((table[parent] != first_parent).to_numpy()):
        report.add("conflicting_parent", "error", file=file, row=i + 1,
                   field=parent, value=str(table[child].iloc[i]),
                parent=str(table[parent].iloc[i]),
                other=str(first_parent.iloc[i]))  # fmt: skip
    for i in np.flatnonzero(table[parent].isna().to_numpy()):
        report.add("missing_value", "error", file=file, row=i + 1,
                   field=parent)  # fmt: skip


def assign_by_overlap(
    children: gpd.GeoSeries, parents: gpd.GeoSeries, file: str, report: Report
) -> np.ndarray:
    """Position in ``parents`` of the parent overlapping each child most (-1: none).

    Areas are compared in an equal-area projection; a child whose best parent holds
    less than half its area is reported as a warning, one overlapping no parent as
    an error.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> kids = gpd.GeoSeries([box(0, 0, 1, 1), box(1.9, 0, 3, 1)], crs="EPSG:4326")
    >>> dads = gpd.GeoSeries([box(0, 0, 2, 1), box(2, 0, 4, 1)], crs="EPSG:4326")
    >>> assign_by_overlap(kids, dads, "adm2.geojson", Report()).tolist()
    [0, 1]
    """
    kids = children.to_crs(EQUAL_AREA).reset_index(drop=True)
    dads = parents.to_crs(EQUAL_AREA).reset_index(drop=True)
    left, right = dads.sindex.query(kids, predicate="intersects")
    shares = np.zeros(len(left))
    if len(left):
        inter = shapely.area(
            shapely.intersection(kids.values[left], dads.values[right])
        )
        shares = inter / np.maximum(shapely.area(kids.values[left]), 1e-9)
    best = np.full(len(kids), -1)
    best_share = np.zeros(len(kids))
    order = np.argsort(shares, kind="stable")
    best[left[order]] = right[order]
    best_share[left[order]] = shares[order]
    for i in np.flatnonzero(best_share <= 0):
        best[i] = -1
        report.add("no_overlap", "error", file=file, row=i + 1,
                   field="geometry")  # fmt: skip
    for i in np.flatnonzero((best_share > 0) & (best_share < WEAK_OVERLAP)):
        report.add("weak_overlap", "warning", file=file, row=i + 1,
                   field="geometry", share=round(100 * best_share[i]))  # fmt: skip
    return best


def column_key(k: int, how: str) -> str:
    """The working column of parent ``k`` that a join by ``how`` reads."""
    return f"p{k}_name" if how == "name_column" else f"p{k}_code"


def _join_parents(
    table: pd.DataFrame, k: int, upper: pd.DataFrame, mapping: LayerMapping
) -> tuple[pd.Series | None, str, str]:
    """Each unit's parent code from its parent column: by the upper level's codes,
    else by its names (normalised, when unique), whichever matches half the rows.

    Returns the codes (NaN where unmatched; ``None`` when neither way matches, the
    caller then joins by overlap), how (``code``, ``name`` or ``name_column``) and
    the file's column read.
    """
    code_col, name_col = mapping.parents[k]
    values = table[f"p{k}_code"]
    codes = set(upper["code"])
    if values.isin(codes).mean() >= 0.5:
        return values.where(values.isin(codes)), "code", code_col
    keys = upper["name"].map(normalise)
    unique = keys[~keys.duplicated(keep=False)]
    by_name = dict(zip(unique, upper.loc[unique.index, "code"], strict=True))
    by_name.pop("", None)
    for how, key, column in (
        ("name", f"p{k}_code", code_col),
        ("name_column", f"p{k}_name", name_col),
    ):
        if column is None:
            continue
        found = table[key].map(lambda v: by_name.get(normalise(v)))
        if found.notna().mean() >= 0.5:
            return found, how, column
    return None, "overlap", code_col


def build_hierarchy(
    layers: Sequence[Layer],
    report: Report,
    *,
    level_names: Sequence[str] | None = None,
    country_name: str = "",
) -> tuple[gpd.GeoDataFrame, pd.DataFrame] | None:
    """Units of every level (with parents) and the level names, from checked layers.

    Parameters
    ----------
    layers : sequence of Layer
        In EPSG:4326 with their mappings; one layer per level given, in any order
        (sorted by the level the files state, else by feature count).
    report : Report
    level_names : sequence of str, optional
        Codes of the levels top first (``region``, ``department``, ``commune``...);
        default from the number of levels.
    country_name : str
        Name of the national unit added on top when fewer than three levels exist.

    Returns
    -------
    (units, levels) or None
        ``units``: ``unit_code``, ``name``, ``level`` (0 top), ``parent_code``,
        ``area_km2``, ``geometry`` (EPSG:4326); ``levels``: ``level``, ``code``,
        ``name_fr``, ``name_en``. ``None`` when errors were reported.
    """
    tables = []
    for layer in layers:
        table = _layer_table(layer, report)
        if table is not None:
            tables.append((layer, table))
    if not report.ok or not tables:
        return None
    # decided before sorting: list.sort empties the list while it runs
    by_level = all(layer.mapping.level is not None for layer, _ in tables)
    tables.sort(key=lambda lt: lt[0].mapping.level if by_level else len(lt[1]))
    levels_units: list[
        pd.DataFrame
    ] = []  # top first, each: code, name, parent, geometry
    top_layer, top = tables[0]
    n_parents = len(top_layer.mapping.parents)
    for k in range(n_parents):
        child = f"p{k + 1}_code" if k + 1 < n_parents else "code"
        _check_nesting(top, child, f"p{k}_code", top_layer.file, report)
    if not report.ok:
        return None
    for k in range(n_parents):
        dissolved = _dissolve(top, f"p{k}_code", f"p{k}_name", top_layer.file, report)
        parent_map = (
            top.groupby(f"p{k}_code")[f"p{k - 1}_code"].first() if k > 0 else None
        )
        dissolved["parent"] = (
            dissolved["code"].map(parent_map) if parent_map is not None else None
        )
        levels_units.append(dissolved)
    if n_parents:
        report.info(
            "levels_dissolved", file=top_layer.file, n=n_parents,
            counts=", ".join(str(len(u)) for u in levels_units),
        )  # fmt: skip
    top = top.copy()
    top["parent"] = top[f"p{n_parents - 1}_code"] if n_parents else None
    levels_units.append(top[["code", "name", "parent", "geometry"]])
    for (_, upper), (layer, table) in zip(tables, tables[1:], strict=False):
        table = table.copy()
        joined = None
        how = "overlap"
        if layer.mapping.parents:
            k = len(layer.mapping.parents) - 1
            joined, how, column = _join_parents(table, k, upper, layer.mapping)
            if joined is not None:
                for i in np.flatnonzero(joined.isna().to_numpy()):
                    report.add("parent_not_found", "error",
                               file=layer.file, row=i + 1, field=column,
                               value=str(table[column_key(k, how)].iloc[i]))  # fmt: skip
        report.info("parents_joined", file=layer.file, how=how)
        if joined is None:
            best = assign_by_overlap(
                gpd.GeoSeries(table["geometry"], crs=WGS84),
                gpd.GeoSeries(upper["geometry"], crs=WGS84),
                layer.file,
                report,
            )
            codes = upper["code"].to_numpy()
            joined = pd.Series(
                [codes[b] if b >= 0 else None for b in best], index=table.index
            )
        table["parent"] = joined.to_numpy()
        levels_units.append(table[["code", "name", "parent", "geometry"]])
    if not report.ok:
        return None
    national = len(levels_units) < 3  # a national unit is added on top
    if national:
        code = "NAT"
        taken = set().union(*(set(u["code"]) for u in levels_units))
        while code in taken:
            code += "_"
        nat = pd.DataFrame(
            {
                "code": [code],
                "name": [country_name or "Pays"],
                "parent": [None],
                "geometry": [shapely.union_all(levels_units[0]["geometry"].to_numpy())],
            }
        )
        levels_units[0] = levels_units[0].assign(parent=code)
        levels_units.insert(0, nat)
        report.info("national_level_added", file=tables[0][0].file, unit=code)
    n = len(levels_units)
    names = list(level_names) if level_names else None
    if names is not None and national and len(names) == n - 1:
        names = ["country", *names]  # the level added here is not the user's to name
    if names is not None and len(names) != n:
        # stated names that do not fit the files: refused, never silently replaced
        report.error("levels_mismatch", file=tables[0][0].file, field="levels",
                     expected=n, given=len(names), names=", ".join(names))  # fmt: skip
    if names is None or len(names) != n:
        names = list(DEFAULT_LEVELS.get(n, ()))
        if (
            levels_units[0]["code"].iloc[0].startswith("NAT")
            and len(levels_units[0]) == 1
        ):
            names = ["country", *DEFAULT_LEVELS.get(n - 1, ())][:n]
        if len(names) != n:
            names = [f"level{k}" for k in range(n - 1)] + ["commune"]
    frames = []
    for level, units in enumerate(levels_units):
        frame = units.copy()
        frame["level"] = level
        frames.append(frame)
    allunits = pd.concat(frames, ignore_index=True)
    dup = allunits["code"].duplicated(keep="first")
    for i in np.flatnonzero(dup.to_numpy()):
        report.error("duplicate_code", file=tables[-1][0].file, field="code",
                     value=str(allunits["code"].iloc[i]))  # fmt: skip
    if not report.ok:
        return None
    gdf = gpd.GeoDataFrame(
        {
            "unit_code": allunits["code"].astype(str),
            "name": allunits["name"].astype(str),
            "level": allunits["level"].astype("int64"),
            "parent_code": allunits["parent"]
            .astype(object)
            .where(allunits["parent"].notna(), None),
        },
        geometry=list(allunits["geometry"]),
        crs=WGS84,
    )
    gdf.loc[gdf["level"] == 0, "parent_code"] = None
    gdf["area_km2"] = (gdf.geometry.to_crs(EQUAL_AREA).area / 1e6).round(3).to_numpy()
    levels = pd.DataFrame(
        {
            "level": range(n),
            "code": names,
            "name_fr": [LEVEL_NAMES.get(c, (c.capitalize(),))[0] for c in names],
            "name_en": [
                LEVEL_NAMES.get(c, (c.capitalize(), c.capitalize()))[-1] for c in names
            ],
        }
    )
    return gdf, levels


def load_layer(
    source,
    file: str,
    report: Report,
    *,
    mapping: LayerMapping | dict | None = None,
    layer: str | None = None,
    repair: bool = True,
    max_bytes: int = MAX_FILE_BYTES,
) -> Layer | None:
    """Read, reproject, check and recognise one boundary file (see module doc).

    ``mapping``: a whole :class:`LayerMapping`, or a dict of the fields the user
    chose (:data:`MAPPING_FIELDS`), the others guessed (:func:`resolve_mapping`).

    Examples
    --------
    >>> r = Report()
    >>> load_layer(b"not json", "a.geojson", r) is None, r.errors[0].code
    (True, 'not_geojson')
    """
    frame = read_layer(source, file, report, layer=layer, max_bytes=max_bytes)
    if frame is None:
        return None
    frame = to_wgs84(frame, file, report)
    if frame is None:
        return None
    frame = check_geometries(frame, file, report, repair=repair)
    if not isinstance(mapping, LayerMapping):
        mapping = resolve_mapping(list(frame.columns), mapping, file, report)
        if mapping is None:
            return Layer(file, frame, None)
        if mapping.convention == "geoboundaries":
            mapping = dataclasses.replace(mapping, level=geoboundaries_level(frame))
    return Layer(file, frame, mapping)
