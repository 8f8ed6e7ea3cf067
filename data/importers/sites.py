"""Centers and candidate sites from point layers, and their codes when none is given.

A point layer (GeoJSON, GeoPackage, zipped Shapefile, FlatGeobuf, KML...) gives its
coordinates from the geometry, reprojected to EPSG:4326, and its other columns are
mapped like a CSV table's (:data:`data.importers.tables.ALIASES`). Each row must be
one point: a multipoint of one point is that point; a polygon among points (an
OpenStreetMap building drawn as an outline) is replaced by a point inside it, with
a warning naming the row; a layer of polygons only is refused with one message,
since it is most likely boundaries given in the wrong place.

OpenStreetMap exports of places (``name``, ``place``, ``population``, ``osm_id``)
carry no code: the sites then take their OpenStreetMap id, or else their row
number, and the report says so.

Examples
--------
>>> guess_point_role("osm_places.geojson", ["name", "place", "osm_id"])
'candidates'
>>> guess_point_role("centres_etat_civil.gpkg", ["code", "nom", "capacite"])
'centers'
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import shapely

from data.importers.names import normalise
from data.importers.validate import Report
from data.importers.vector import MAX_FILE_BYTES, read_vector

#: Columns holding OpenStreetMap ids, by normalised name, most specific first.
OSM_ID_COLUMNS = ("osm_id", "@id", "osmid", "osm_way_id", "full_id")
#: Prefix of the codes numbered by row when a file has none.
ROW_PREFIX = {"centers": "CTR-", "candidates": "SITE-"}
_CANDIDATE_WORDS = ("cand", "site", "place", "ville", "town", "village", "localit",
                    "osm", "potentiel", "projet", "option")  # fmt: skip
_CENTER_WORDS = ("centre", "center", "bureau", "office", "guichet", "mairie",
                 "existant", "existing", "service")  # fmt: skip
_CANDIDATE_COLUMNS = ("opening_cost", "cout", "cout_ouverture", "cost", "site_code",
                      "code_site", "place", "osm_id", "@id", "fclass")  # fmt: skip
_CENTER_COLUMNS = ("center_code", "code_centre", "centre_id", "staff", "effectif",
                   "agents", "status", "statut", "opened_on", "ouverture",
                   "capacity_week", "capacite", "capacity")  # fmt: skip


def _norm(name: str) -> str:
    return normalise(str(name)).replace(" ", "_")


def guess_point_role(file: str, columns) -> str:
    """``'centers'`` or ``'candidates'`` for a point layer, from its name and columns.

    Column names weigh more than the file name; with no hint either way, a layer
    with a code column is taken as centers, one without (a list of towns) as
    candidate sites.
    """
    cols = {_norm(c) for c in columns}
    score = 2 * (len(cols & set(_CANDIDATE_COLUMNS)) - len(cols & set(_CENTER_COLUMNS)))
    stem = _norm(re.sub(r"\.[^.]*$", "", file))
    score += any(w in stem for w in _CANDIDATE_WORDS)
    score -= any(w in stem for w in _CENTER_WORDS)
    if score:
        return "candidates" if score > 0 else "centers"
    return "centers" if "code" in cols or "id" in cols else "candidates"


def read_point_layer(
    source,
    file: str,
    report: Report,
    *,
    layer: str | None = None,
    max_bytes: int = MAX_FILE_BYTES,
) -> tuple[pd.DataFrame, pd.Series, pd.Series] | None:
    """The attributes (as text, like a CSV table) and lon/lat of a point layer.

    Returns ``None`` when the layer cannot be used at all (unreadable, not points,
    no CRS); rows whose geometry is not one point are errors naming their row and
    get NaN coordinates.

    Examples
    --------
    >>> r = Report()
    >>> read_point_layer(b'{"type": "FeatureCollection", "features": []}',
    ...                  "towns.geojson", r) is None, r.errors[0].code
    (True, 'no_features')
    """
    from data.importers.boundaries import to_wgs84

    frame = read_vector(
        source, file, report, kind="points", layer=layer, max_bytes=max_bytes
    )
    if frame is None:
        return None
    frame = to_wgs84(frame, file, report)
    if frame is None:
        return None
    lon, lat = _coordinates(frame.geometry.to_numpy(), file, report)
    table = as_text(pd.DataFrame(frame.drop(columns=frame.geometry.name)))
    index = pd.RangeIndex(len(table))
    return (
        table.reset_index(drop=True),
        pd.Series(lon, index=index, name="lon"),
        pd.Series(lat, index=index, name="lat"),
    )


def _coordinates(geoms: np.ndarray, file: str, report: Report):
    """One (lon, lat) per row; NaN, with an error, where a row is not one point."""
    types = shapely.get_type_id(geoms)
    simple = (types == 0) & ~shapely.is_empty(geoms)
    lon, lat = np.full(len(geoms), np.nan), np.full(len(geoms), np.nan)
    lon[simple], lat[simple] = (
        shapely.get_x(geoms[simple]),
        shapely.get_y(geoms[simple]),
    )
    for i in np.flatnonzero(~simple):  # the few rows that are not one plain point
        geom, kind = geoms[i], types[i]
        if geom is None or shapely.is_empty(geom):
            report.error("empty_geometry", file=file, row=i + 1, field="geometry")
            continue
        if kind == 4:  # MultiPoint
            n = shapely.get_num_geometries(geom)
            if n != 1:
                report.error("multipoint", file=file, row=i + 1, field="geometry", n=n)
                continue
            geom = shapely.get_geometry(geom, 0)
        elif kind in (3, 6):  # an outline among points: a point inside it
            geom = shapely.point_on_surface(geom)
            report.warning("point_from_polygon", file=file, row=i + 1,
                           field="geometry", lon=round(shapely.get_x(geom), 5),
                           lat=round(shapely.get_y(geom), 5))  # fmt: skip
        elif kind != 0:
            report.error("not_a_point", file=file, row=i + 1, field="geometry",
                         type=geom.geom_type)  # fmt: skip
            continue
        lon[i], lat[i] = shapely.get_x(geom), shapely.get_y(geom)
    return lon, lat


def as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Every cell as text or ``None``, the way :func:`tables.read_table` gives them.

    Whole numbers stored as floats (a column with gaps) lose their ``.0``; dates
    are ISO days.

    Examples
    --------
    >>> as_text(pd.DataFrame({"id": [12.0, None], "n": ["a", "b"]}))["id"].tolist()
    ['12', None]
    """
    out = pd.DataFrame(index=frame.index)
    for col in frame.columns:
        values = frame[col]
        if pd.api.types.is_datetime64_any_dtype(values):
            text = values.dt.strftime("%Y-%m-%d")
        else:
            text = values.map(_cell)
        out[str(col)] = text.astype(object).where(values.notna(), None)
    return out


def _cell(value) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None


def site_codes(
    frame: pd.DataFrame,
    column: str | None,
    given: bool,
    kind: str,
    file: str,
    report: Report,
) -> tuple[pd.Series, str]:
    """The sites' codes and the column they come from (``'(row)'`` when numbered).

    ``column`` is the code column given by the user (``given``) or guessed. A given
    column is used as it is (its problems are reported by the caller). Without
    one, or when the guessed one does not identify each row, codes come from an
    OpenStreetMap id column when it does, else from the row number; each choice is
    a note in the report.

    Examples
    --------
    >>> r = Report()
    >>> f = pd.DataFrame({"name": ["Kaya", "Koro"], "osm_id": ["31", "7"]})
    >>> site_codes(f, None, False, "candidates", "towns.geojson", r)[0].tolist()
    ['31', '7']
    >>> r.issues[0].code
    'codes_from_column'
    """
    if column is not None:
        codes = frame[column].astype("string").str.strip()
        if given or _identifies(codes):
            return codes, column
        if codes.notna().any():
            report.info("code_column_not_unique", file=file, field=column,
                        column=column)  # fmt: skip
    by_norm = {_norm(c): c for c in frame.columns}
    for key in OSM_ID_COLUMNS:
        col = by_norm.get(_norm(key))
        if col is None or col == column:
            continue
        ids = frame[col].astype("string").str.strip()
        if not _identifies(ids):
            continue
        type_col = by_norm.get("osm_type")
        if type_col is not None:  # nodes and ways are numbered apart: n31, w31
            prefix = frame[type_col].astype("string").str.strip().str[:1].str.lower()
            ids = prefix.fillna("") + ids
        report.info("codes_from_column", file=file, column=col,
                    example=str(ids.iloc[0]))  # fmt: skip
        return ids, col
    width = max(4, len(str(len(frame))))
    prefix = ROW_PREFIX[kind]
    codes = pd.Series(
        [f"{prefix}{i + 1:0{width}d}" for i in range(len(frame))],
        index=frame.index,
        dtype="string",
    )
    report.info("codes_from_rows", file=file, first=str(codes.iloc[0]),
                last=str(codes.iloc[-1]))  # fmt: skip
    return codes, "(row)"


def _identifies(values: pd.Series) -> bool:
    """Whether every row has a value and no value repeats."""
    present = values.notna() & (values != "").fillna(False)
    return bool(present.all()) and not values.duplicated().any()
