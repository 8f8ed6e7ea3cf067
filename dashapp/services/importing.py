"""Importing files into the store: assemble, then store and derive access at once.

Shared by the import screen and ``python -m dashapp import``; wording of issues
comes from the catalogue (``imp.issue.<code>``).
"""

from __future__ import annotations

import base64
import binascii
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dashapp.i18n import STRINGS, t
from dashapp.parsing import BadInputError, shown_value, upload_name
from data import roads as road_store
from data.importers import ImportSpec, Report, Source, assemble
from data.importers.boundaries import GEO_SUFFIXES, detect_mapping
from data.importers.bundle import JOIN_ISSUES, JOIN_MODES
from data.importers.roads import (
    PBF_COLUMNS,
    ROAD_CLASSES,
    class_values,
    guess_road_columns,
    is_pbf,
)
from data.importers.sites import guess_point_role
from data.importers.tables import (
    EXCEL_SUFFIXES,
    guess_kind,
    guess_mapping,
    read_table,
)
from data.importers.validate import Issue
from data.importers.vector import describe
from data.kpi import KPIS
from data.store import AuditNote, DatasetInfo, Store
from geo.access import nearest_center
from geo.road_access import RoadImportError, check_roads
from geo.roads import DEFAULT_TOLERANCE_M

IMPORT_DESCRIPTION = "Imported / importé: {files}. Missing indicators / indicateurs manquants: {missing}."


log = logging.getLogger(__name__)

#: GEOS's validity reasons (``shapely.is_valid_reason``, before the "[x y]") worded
#: by the catalogue (``imp.geos.<key>``); any other is ``imp.geos.other``
GEOMETRY_FAULTS = {
    "self-intersection": "self_intersection",
    "ring self-intersection": "ring_self_intersection",
    "hole lies outside shell": "hole_outside_shell",
    "nested holes": "nested_holes",
    "nested shells": "nested_shells",
    "interior is disconnected": "disconnected_interior",
    "too few points": "too_few_points",
    "ring is not closed": "not_closed",
    "invalid coordinate": "invalid_coordinate",
}
#: parameters that hold a library's own words (Python's JSON parser, pandas, GDAL,
#: GEOS): they go to the server log, never on screen
TECHNICAL = ("reason", "detail")


def geometry_fault(reason: str, lang: str) -> str:
    """GEOS's reason (``"Self-intersection[0.5 0.5]"``) in ``lang``'s words."""
    name = str(reason).split("[", 1)[0].strip().lower()
    return t(f"imp.geos.{GEOMETRY_FAULTS.get(name, 'other')}", lang)


def indicator_names(ids: str, lang: str) -> str:
    """``"requests, poverty_rate"`` as the indicators' names in ``lang``."""
    names = []
    for code in (c.strip() for c in str(ids).split(",")):
        if code in KPIS:
            names.append(KPIS[code].name(lang))
        elif f"risk.feature.{code}" in STRINGS:
            names.append(t(f"risk.feature.{code}", lang))
        elif code:
            names.append(code)
    return ", ".join(names)


def rates_text(rates: str, lang: str) -> str:
    """``"CNI 0.024, PASS 0.006"`` with its numbers written the way ``lang`` does
    (French decimal commas, so the rates are then separated by semicolons).

    Examples
    --------
    >>> rates_text("CNI 0.024, PASS 0.006", "fr")
    'CNI 0,024 ; PASS 0,006'
    """
    parts = []
    for part in rates.split(", "):
        code, _, value = part.rpartition(" ")
        try:
            float(value)
        except ValueError:
            parts.append(part)
            continue
        shown = value.replace(".", ",") if lang == "fr" else value
        parts.append(f"{code} {shown}" if code else shown)
    return (" ; " if lang == "fr" else ", ").join(parts)


def issue_text(issue: Issue, lang: str) -> str:
    """One issue worded in ``lang``: where (file, row, field), then what.

    A library's own message (a JSON parser's "Unterminated string starting
    at", GDAL's, GEOS's) is never shown: the file, row and column say where,
    the catalogue says what, and the raw detail goes to the log.
    """
    params = {k: ("" if v is None else v) for k, v in issue.params.items()}
    for name in TECHNICAL:
        if params.get(name):
            log.info("import issue %s in %s: %s", issue.code, issue.file, params[name])
    if issue.code in ("invalid_geometry", "repaired"):
        params["reason"] = geometry_fault(params.get("reason", ""), lang)
    if "indicators" in params:
        params["indicators"] = indicator_names(params["indicators"], lang)
    if issue.code == "demand_estimated" and params.get("rates"):
        params["rates"] = rates_text(str(params["rates"]), lang)
    if f"imp.how.{params.get('how')}" in STRINGS:  # a method's code, worded
        params["how"] = t(f"imp.how.{params['how']}", lang)
    if "guessed" in params:  # 'name=libelle; parents=region': the fields worded
        params["guessed"] = "; ".join(
            t(f"imp.guess.{key}", lang, column=column)
            if f"imp.guess.{key}" in STRINGS
            else f"{key}={column}"
            for key, _, column in (
                p.partition("=") for p in params["guessed"].split("; ")
            )
        )
    key = f"imp.issue.{issue.code}"
    if params.get("suggestions") == "" and f"{key}.no_close" in STRINGS:
        key += ".no_close"  # no close name to offer: no empty "(close: )"
    what = t(key, lang, **params) if key in STRINGS else issue.text()
    where = issue.file
    if issue.row is not None:
        where += t("imp.where_row", lang, row=issue.row)
    if issue.field:
        where += t("imp.where_field", lang, field=issue.field)
    return f"{where} : {what}" if lang == "fr" else f"{where}: {what}"


def run_import(
    store: Store,
    spec: ImportSpec,
    *,
    activate: bool = True,
    dry_run: bool = False,
    progress: Callable[[int, str], None] | None = None,
    on_bundle: Callable[[object], None] | None = None,
    audit: AuditNote | None = None,
    roads: RoadSource | None = None,
) -> tuple[Report, DatasetInfo | None, dict | None]:
    """Check every file, then store the dataset whole (or nothing) and its access.

    The rows, the nearest-center distances and the activation are one transaction:
    a process killed at any point leaves the store as it was. ``audit``, the
    event recording the import, is written in that transaction too.

    ``roads``: a road network imported with the boundaries. It is read and its
    graph built before anything is stored, so a bad road file stores nothing;
    its network report is the summary's ``roads``.

    Returns the report, the stored dataset (``None`` on errors or ``dry_run``) and
    the bundle's summary (``None`` on errors).
    """
    report = Report()
    bundle = assemble(spec, report, progress)
    if bundle is None or not report.ok:
        return report, None, None
    summary = bundle.summary()
    lines = None
    if roads is not None:
        if progress:
            progress(90, "roads")
        lines, network, road_report = check_road_source(roads)
        report.issues.extend(road_report.issues)
        if lines is None:
            return report, None, None
        summary["roads"] = network
    if on_bundle is not None:
        on_bundle(bundle)
    if dry_run:
        return report, None, summary
    files = ", ".join(
        s.file
        for s in (
            *spec.boundaries,
            spec.population,
            spec.centers,
            spec.candidates,
            spec.operations,
        )
        if s is not None
    )

    def access(communes, centers):
        if progress:
            progress(97, "access")
        return nearest_center(communes, centers)

    info = store.add_dataset(
        bundle,
        kind="imported",
        activate=activate,
        access=access,
        audit=audit,
        description=IMPORT_DESCRIPTION.format(
            files=files, missing=", ".join(bundle.missing) or "-"
        ),
    )
    if lines is not None:  # checked above: only the store itself can fail here
        road_store.save_network(
            store, info.id, lines, source=roads.file, tolerance_m=roads.tolerance_m,
            report=summary["roads"],
        )  # fmt: skip
    return report, info, summary


# -- road networks ----------------------------------------------------------------------


@dataclass(frozen=True)
class RoadSource:
    """A road file of an import and how to read it (screen or command line).

    ``class_map`` maps the class column's values to :data:`ROAD_CLASSES`
    (``None``: OSM's ``highway``/``fclass`` values); ``not_roads`` are values
    said not to be roads; ``strict`` makes a value in neither an error (the
    screen shows every value, so one left unmapped is a mistake to fix).
    """

    file: str
    path: Path
    class_column: str = "highway"
    class_map: dict[str, str] | None = None
    surface_column: str | None = None
    oneway_column: str | None = None
    layer: str | None = None
    tolerance_m: float = DEFAULT_TOLERANCE_M
    not_roads: tuple[str, ...] = field(default_factory=tuple)
    strict: bool = False

    def options(self) -> dict[str, Any]:
        """The keyword arguments of :func:`geo.road_access.check_roads`."""
        return {
            "class_column": self.class_column, "class_map": self.class_map,
            "surface_column": self.surface_column,
            "oneway_column": self.oneway_column, "layer": self.layer,
            "tolerance_m": self.tolerance_m, "not_roads": self.not_roads,
            "strict": self.strict,
        }  # fmt: skip


def check_road_source(roads: RoadSource) -> tuple[Any, dict | None, Report]:
    """Read a road file and build its graph (nothing stored): the lines (None on
    errors), the network report and the file's issues."""
    try:
        lines, network, report = check_roads(roads.path, roads.file, **roads.options())
    except RoadImportError as exc:
        return None, None, exc.report
    return lines, network, report


def run_road_import(
    store: Store, dataset_id: int, roads: RoadSource, *, dry_run: bool = False
) -> tuple[Report, dict | None]:
    """Check a road file and (unless ``dry_run``) make it the dataset's network.

    Returns the file's issues and the network report (None on errors, when
    nothing is stored and the previous network stays).
    """
    lines, network, report = check_road_source(roads)
    if lines is None or dry_run:
        return report, network
    road_store.save_network(
        store, dataset_id, lines, source=roads.file, tolerance_m=roads.tolerance_m,
        report=network,
    )  # fmt: skip
    return report, network


def join_only(report: Report, spec: ImportSpec) -> bool:
    """Whether every error is the population table's join, so ``partial`` would pass.

    Then the screen offers "import anyway (partial)" and the command suggests
    ``--join-mode partial``.
    """
    errors = report.errors
    return (
        spec.population is not None
        and bool(errors)
        and all(
            i.code in JOIN_ISSUES and i.file == spec.population.file for i in errors
        )
    )


# -- uploads of the import screen ------------------------------------------------------

MAX_UPLOAD_MB = 60
ROLES = ("boundaries", "population", "centers", "candidates", "operations", "roads",
         "ignore")  # fmt: skip
#: Files the upload offers to pick: every vector format GDAL reads here, then tables
#: and OpenStreetMap extracts (``.osm.pbf``, a road network).
UPLOAD_SUFFIXES = (*GEO_SUFFIXES, ".csv", ".tsv", ".txt", *EXCEL_SUFFIXES, ".pbf")
#: Distinct class values the screen lists for mapping (the rest: OSM's defaults).
ROAD_VALUES_SHOWN = 40
#: The screen's choice for a class value whose lines are not roads.
NOT_A_ROAD = "none"
#: How a population table joins to communes on screen; neither: codes if they match.
JOINS = ("code", "name")
#: CSV separators and encodings the screen offers ("": detected); the browser's
#: choice is checked against these.
DELIMITERS = {"": None, ",": ",", ";": ";", "tab": "\t", "|": "|"}
ENCODINGS = ("utf-8", "windows-1252", "utf-16", "latin-1")
TABLE_SUFFIXES = (".csv", ".tsv", ".txt")
#: Columns of a centers or candidates file the screen lets the user choose.
SITE_FIELDS = {
    "centers": ("code", "name", "capacity_week"),
    "candidates": ("code", "name", "capacity_week", "opening_cost"),
}


def save_upload(folder: Path, name: str, contents: str) -> dict:
    """Decode one ``dcc.Upload`` data URL into ``folder``; describe the file.

    Returns ``{"name", "size", "role", "columns", "mapping", "error", "reason"}``:
    the role and mapping are guesses from the geometry and the columns (a point
    layer is centers or candidate sites, :func:`guess_point_role`); a vector file
    with several layers of its kind also has ``layers``, the biggest one chosen in
    ``mapping["layer"]``. A file that is not written
    has ``error`` set (a string, never falsy) and ``reason``: ``too_large`` (then
    ``error`` is its size in MB), ``upload_name`` (a name that is empty, only dots
    or slashes, or holds control characters), ``upload_content`` (not base64) or
    ``upload_write``; :func:`upload_message` words it.
    """
    info = {"name": shown_value(name), "size": 0, "role": "ignore", "columns": [],
            "mapping": {}, "error": None, "reason": None}  # fmt: skip
    try:
        safe = upload_name(name)  # a base name, never a path from the browser
    except BadInputError as exc:
        return _refused(info, "upload_name", exc)
    info["name"] = safe
    if not isinstance(contents, str):
        return _refused(info, "upload_content", f"{safe}: no file content")
    payload = contents.split(",", 1)[1] if "," in contents else contents
    if len(payload) * 3 // 4 > MAX_UPLOAD_MB * 1024**2:  # before decoding it
        info["size"] = len(payload) * 3 // 4
        return _refused(info, "too_large", f"{info['size'] / 1024**2:.1f}")
    try:
        raw = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        return _refused(info, "upload_content", f"{safe}: not base64")
    info["size"] = len(raw)
    if len(raw) > MAX_UPLOAD_MB * 1024**2:
        return _refused(info, "too_large", f"{len(raw) / 1024**2:.1f}")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / safe).write_bytes(raw)
    except OSError as exc:
        info["detail"] = exc.strerror or type(exc).__name__
        return _refused(info, "upload_write", f"{safe}: {info['detail']}")
    suffix = Path(safe).suffix.lower()
    if is_pbf(safe):  # an OpenStreetMap extract: roads, classes from highway=*
        info["columns"], info["role"] = list(PBF_COLUMNS), "roads"
        info["mapping"] = guess_for_role(info["columns"], "roads")
        info["class_values"] = road_values(folder / safe, safe, "highway")
    elif suffix in GEO_SUFFIXES:
        found = describe(folder / safe, safe)  # unreadable: the check says why
        columns = found["columns"]
        info["columns"] = columns
        info["role"] = (
            guess_point_role(safe, columns)
            if found["kind"] == "points"
            else "roads"
            if found["kind"] == "lines"
            else "boundaries"
        )
        info["mapping"] = guess_for_role(columns, info["role"])
        if found["layers"]:  # several of its kind: the screen offers the choice
            info["layers"] = found["layers"]
            info["mapping"]["layer"] = found["layer"]
        if info["role"] == "roads":
            info["class_values"] = road_values(
                folder / safe, safe, info["mapping"].get("road_class"),
                info["mapping"].get("layer"),
            )  # fmt: skip
    else:
        report = Report()
        frame = read_table(io.BytesIO(raw[:200_000]), safe, report)
        columns = [] if frame is None else list(frame.columns)
        info["columns"] = columns
        info["role"] = guess_kind(columns) or "population"
        info["mapping"] = guess_for_role(columns, info["role"])
    return info


def guess_for_role(columns: list[str], role: str) -> dict:
    """The columns the screen proposes for a file given ``role`` (guessed by name).

    Boundaries: :func:`detect_mapping` and a population column; population tables:
    the join column, its parent column (homonyms told apart) and the counts;
    centers and candidate sites: :func:`site_mapping`.
    """
    columns = [c for c in columns if isinstance(c, str)]
    if role == "boundaries":
        mapping = detect_mapping(columns)
        out = mapping.to_dict() if mapping else {}
        population = guess_mapping(columns, "population")["population"]
        out["population"] = population if population != out.get("code") else None
        return out
    if role == "population":
        guess = guess_mapping(columns, "population")
        out = {
            "join": guess.get("code") or guess.get("name"),
            "population": guess.get("population"),
        }
        if guess.get("parent"):  # a province column: homonyms told apart
            out["join_parent"] = guess["parent"]
        return out
    if role in SITE_FIELDS:
        return site_mapping(columns, role)
    if role == "roads":
        guess = guess_road_columns(columns)
        return {"road_class": guess["class_column"],
                "road_surface": guess["surface_column"]}  # fmt: skip
    return {}


def road_values(path: Path, file: str, column: str | None, layer: str | None = None):
    """The class column's distinct values for the screen's mapping table
    (:func:`data.importers.roads.class_values`); ``{"values": []}`` without a
    column."""
    if not column:
        return {"values": [], "more": 0}
    return class_values(path, file, column, layer=layer, limit=ROAD_VALUES_SHOWN)


def road_source_from_uploads(folder: Path, files: list[dict]) -> RoadSource | None:
    """The road file among the screen's uploads (role ``roads``), if any.

    Its mapping (checked by the callback) holds ``road_class``, ``road_surface``
    and ``class_map`` (value -> class, :data:`NOT_A_ROAD`, or None: not chosen,
    an error then); values of the column the screen did not list keep OSM's
    classes. More than one road file
    raises :class:`BadInputError` (``roads_many``).
    """
    chosen = [f for f in files if f.get("role") == "roads" and not f.get("error")]
    if not chosen:
        return None
    if len(chosen) > 1:
        raise BadInputError("one road file at a time", "roads_many",
                            value=", ".join(f["name"] for f in chosen))  # fmt: skip
    f = chosen[0]
    if upload_name(f["name"]) != f["name"]:
        raise BadInputError(
            f"file name {shown_value(f['name'])} is not an uploaded file's",
            "upload_name",
            value=shown_value(f["name"]),
        )
    mapping = f.get("mapping") or {}
    given = mapping.get("class_map") or {}
    class_map = {str(k): v for k, v in given.items() if v in ROAD_CLASSES}
    not_roads = tuple(str(k) for k, v in given.items() if v == NOT_A_ROAD)
    column = "highway" if is_pbf(f["name"]) else _text(mapping.get("road_class"))
    if not column:
        raise BadInputError("no road-class column chosen", "roads_no_class",
                            value=f["name"])  # fmt: skip
    return RoadSource(
        f["name"],
        folder / f["name"],
        class_column=column,
        class_map=None if not given else _osm_with(class_map, not_roads),
        surface_column=_text(mapping.get("road_surface")),
        layer=_text(mapping.get("layer")),
        not_roads=not_roads,
        strict=True,
    )


def _osm_with(class_map: dict[str, str], not_roads: tuple[str, ...]) -> dict:
    """OSM's classes overridden by the screen's choices (values it did not list
    keep their OSM class)."""
    from data.importers.roads import OSM_CLASSES

    out = {k: v for k, v in OSM_CLASSES.items() if k not in not_roads}
    return out | class_map


def site_mapping(columns: list[str], role: str) -> dict:
    """The guessed columns of a centers or candidates file, as the screen shows them."""
    guess = guess_mapping(columns, role)
    return {key: guess.get(key) for key in SITE_FIELDS[role]}


def _refused(info: dict, reason: str, error) -> dict:
    info["reason"], info["error"] = reason, str(error)
    return info


def upload_message(info: dict, lang: str) -> str:
    """Why an upload was not kept (``save_upload``'s ``reason``), in ``lang``."""
    if info.get("reason") in (None, "too_large"):
        return t("imp.upload_too_large", lang, file=info["name"], size=info["error"],
                 limit=MAX_UPLOAD_MB)  # fmt: skip
    return t(f"bad.{info['reason']}", lang, file=info["name"], value=info["name"],
             reason=info.get("detail", ""))  # fmt: skip


def spec_from_uploads(
    folder: Path,
    files: list[dict],
    *,
    name: str,
    rates: dict[str, float],
    level_names: list[str] | None = None,
    join_mode: str | None = None,
) -> ImportSpec:
    """The import described by the screen: saved files, their roles and mappings.

    ``join_mode`` overrides the population file's choice (``mapping['join_mode']``,
    ``'strict'`` unless it is one of :data:`data.importers.bundle.JOIN_MODES`).

    ``files`` come back from the browser: a name that is not the plain base name
    :func:`save_upload` kept raises :class:`dashapp.parsing.BadInputError`, so no path
    outside ``folder`` is ever read.
    """
    boundaries, tables = [], {}
    mode = "strict"
    for f in files:
        if f.get("error") or f["role"] == "ignore":
            continue
        if upload_name(f["name"]) != f["name"]:
            raise BadInputError(
                f"file name {shown_value(f['name'])} is not an uploaded file's",
                "upload_name",
                value=shown_value(f["name"]),
            )
        path = folder / f["name"]
        mapping = f.get("mapping") or {}
        if f["role"] == "boundaries":
            chosen = _boundary_choices(mapping, f.get("columns") or [])
            boundaries.append(
                Source(f["name"], path, chosen, _text(mapping.get("layer")))
            )
        elif f["role"] == "population":
            join_col = _text(mapping.get("join"))
            join = mapping.get("join_by") if mapping.get("join_by") in JOINS else None
            table_map = {"population": _text(mapping.get("population"))}
            if join_col:  # "auto": codes if they match, else names (as the CLI)
                for how in [join] if join else JOINS:
                    table_map[how] = join_col
            if "join_parent" in mapping:  # "(none)" on screen: no parent column
                table_map["parent"] = _text(mapping["join_parent"])
            if mapping.get("join_mode") in JOIN_MODES:  # else strict: from a browser
                mode = mapping["join_mode"]
            tables["population"] = Source(f["name"], path, table_map, join=join,
                                          **_csv_options(mapping))  # fmt: skip
        elif f["role"] in SITE_FIELDS:  # "(none)" for the code: codes derived
            chosen = {k: _text(mapping[k]) for k in SITE_FIELDS[f["role"]]
                      if k in mapping}  # fmt: skip
            tables[f["role"]] = Source(f["name"], path, chosen or None,
                                       _text(mapping.get("layer")),
                                       **_csv_options(mapping))  # fmt: skip
        else:
            tables[f["role"]] = Source(f["name"], path, **_csv_options(mapping))
    return ImportSpec(
        boundaries,
        population=tables.get("population"),
        centers=tables.get("centers"),
        candidates=tables.get("candidates"),
        operations=tables.get("operations"),
        name=name,
        level_names=level_names,
        rates=rates,
        max_bytes=MAX_UPLOAD_MB * 1024**2,
        join_mode=join_mode if join_mode in JOIN_MODES else mode,
    )


def _text(value) -> str | None:
    """A column or layer name from the browser: a non-empty string, else none."""
    return value if isinstance(value, str) and value else None


def _csv_options(mapping: dict) -> dict:
    """The separator and encoding chosen for a CSV table (unknown values: detect)."""
    return {
        "delimiter": DELIMITERS.get(mapping.get("delimiter") or ""),
        "encoding": mapping.get("encoding") if mapping.get("encoding") in ENCODINGS
        else None,
    }  # fmt: skip


def _pairs(parents) -> list[list[str]]:
    """Parent columns from the browser as ``[[code, name or None], ...]``."""
    out = []
    for p in parents if isinstance(parents, list | tuple) else ():
        if isinstance(p, list | tuple) and p and _text(p[0]):
            out.append([p[0], _text(p[1]) if len(p) > 1 else None])
    return out


def _boundary_choices(mapping: dict, columns: list) -> dict:
    """The fields of a boundary file the user changed from the guess.

    The others are left to the importer, which guesses them again and says so in
    the report (``columns_guessed``): a guess is never passed off as a choice.
    "(none)" for a name or population column is the choice of no column.
    """
    guess = guess_for_role(columns, "boundaries")
    chosen: dict = {}
    for key in ("code", "name", "population"):
        if key in mapping and (_text(mapping[key]) != _text(guess.get(key))):
            chosen[key] = _text(mapping[key]) or ("" if key != "code" else None)
    if "parents" in mapping and _pairs(mapping["parents"]) != _pairs(
        guess.get("parents")
    ):
        chosen["parents"] = _pairs(mapping["parents"])
    return chosen


def preview_units(bundle, max_units: int = 3000):
    """The finest level with at most ``max_units`` units, for the preview map."""
    counts = bundle.units["level"].value_counts().sort_index()
    level = max((int(k) for k, n in counts.items() if n <= max_units), default=0)
    return bundle.units[bundle.units["level"] == level], level
