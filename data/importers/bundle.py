"""Assemble an import into a store bundle (what ``Store.add_dataset`` writes).

:func:`assemble` reads every file of an :class:`ImportSpec`, checks them against
each other (tables join to the boundaries, centers fall inside communes, operations
name known centers) and returns an :class:`ImportBundle`, or ``None`` with the
errors in the report. Nothing is written: the caller stores the bundle in one
transaction, so a failed import leaves the store as it was.

When no operations are given, weekly demand per commune and document type is
estimated as ``population × yearly rate / 52`` with the rates of
:data:`DEFAULT_RATES` (editable), and the indicators that need operations
(requests, delays, rejections, utilisation) are listed as missing: the store has
no operations for them, so they show as missing, never as zeros.

Examples
--------
>>> estimate_demand(pd.DataFrame({"unit_code": ["C1"], "population": [52_000]}),
...                 {"CNI": 0.024})["requests_week"].tolist()
[24.0]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from data.demo import DOC_TYPES
from data.importers import tables as tb
from data.importers.boundaries import (
    MAX_FILE_BYTES,
    build_hierarchy,
    load_layer,
)
from data.importers.names import match_names
from data.importers.sites import read_point_layer, site_codes
from data.importers.validate import Report
from data.importers.vector import is_vector

#: Yearly requests per inhabitant by document type, used when there are no
#: operations: national ID card 2.4 %, passport 0.6 %, birth certificate 2.0 % of the
#: population a year (orders of magnitude of West African civil registries).
DEFAULT_RATES = {"CNI": 0.024, "PASS": 0.006, "ACTE": 0.02}
#: Highest yearly rate accepted: every inhabitant asking once a year.
MAX_RATE = 1.0

#: Indicators (``data.kpi`` ids) that need each kind of table.
NEEDS = {
    "operations": (
        "requests",
        "requests_per_1000",
        "mean_delay",
        "p90_delay",
        "on_time_share",
        "rejection_rate",
        "utilisation",
    ),
    "centers": ("pop_within", "mean_distance", "centers_per_100k", "utilisation"),
    "socio": ("poverty_rate", "literacy_rate", "internet_rate"),
    "population": (
        "population",
        "requests_per_1000",
        "pop_within",
        "mean_distance",
        "centers_per_100k",
    ),
}
RATE_FIELDS = ("poverty_rate", "literacy_rate", "internet_rate")


@dataclass
class Source:
    """One file of an import.

    Attributes
    ----------
    file : str
        Name shown in messages (an upload's name, or the path given).
    data : path or bytes
    mapping : dict or LayerMapping, optional
        Boundary layers: a whole :class:`LayerMapping`, or a dict of the fields
        chosen (``code``, ``name``, ``parents``, ``population``), the others
        guessed and reported (``None``: all guessed). Tables:
        ``{field: column}`` overriding the guessed columns (:data:`tables.ALIASES`).
    layer : str, optional
        GeoPackage layer or zipped Shapefile member.
    delimiter, encoding : str, optional
        Force the CSV separator or encoding.
    join : str, optional
        Population tables: ``'code'`` or ``'name'`` to force how rows join to
        communes (default: codes when they match, else names). A ``'parent'``
        column in ``mapping`` (a province's name or code) tells homonymous
        communes apart.
    """

    file: str
    data: object
    mapping: object = None
    layer: str | None = None
    delimiter: str | None = None
    encoding: str | None = None
    join: str | None = None


#: How a population table joins to communes: ``strict`` stores nothing while a row
#: or a commune is left unmatched; ``partial`` stores what matched, the communes
#: without a value get an unknown (NULL) population, every one of them reported.
JOIN_MODES = ("strict", "partial")
#: Issue codes of a population join that ``partial`` turns from errors to warnings.
JOIN_ISSUES = (
    "unmatched_code",
    "unmatched_name",
    "ambiguous_name",
    "duplicate_code",
    "no_population",
    "missing_value",
    "not_a_number",
    "negative",
    "out_of_range",
)


@dataclass
class ImportSpec:
    """Everything a user gives for one import.

    ``join_mode`` is one of :data:`JOIN_MODES` (``'strict'`` by default).
    ``population_column``: without a population table, the column of the communes'
    boundary layer holding their population (default: its mapping's, or guessed).
    """

    boundaries: list[Source]
    population: Source | None = None
    centers: Source | None = None
    candidates: Source | None = None
    operations: Source | None = None
    name: str = "Import"
    level_names: list[str] | None = None
    rates: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_RATES))
    repair: bool = True
    max_bytes: int = MAX_FILE_BYTES
    join_mode: str = "strict"
    population_column: str | None = None

    def __post_init__(self) -> None:
        if self.join_mode not in JOIN_MODES:
            raise ValueError(
                f"join_mode should be one of {JOIN_MODES}, got {self.join_mode!r}"
            )


@dataclass
class ImportBundle:
    """A checked import, shaped like ``data.demo.DemoCountry`` plus ``demand``."""

    name: str
    levels: pd.DataFrame
    units: gpd.GeoDataFrame
    centers: pd.DataFrame
    candidates: pd.DataFrame
    doc_types: pd.DataFrame
    operations: pd.DataFrame
    demand: pd.DataFrame
    missing: list[str]
    conventions: list[str]

    def summary(self) -> dict:
        """Counts for messages and the CLI."""
        counts = self.units["level"].value_counts().sort_index()
        communes = self.units[self.units["level"] == self.units["level"].max()]
        return {
            "levels": self.levels["code"].tolist(),
            "level_names": {
                "fr": self.levels["name_fr"].tolist(),
                "en": self.levels["name_en"].tolist(),
            },
            "units": [int(counts.get(k, 0)) for k in self.levels["level"]],
            "centers": len(self.centers),
            "candidates": len(self.candidates),
            "operations": len(self.operations),
            "population": int(communes["population"].sum()),  # NaN: unknown
            "population_unknown": int(communes["population"].isna().sum()),
            "demand_estimated": not self.demand.empty,
            "missing": list(self.missing),
            "conventions": list(self.conventions),
        }  # fmt: skip


def check_rate(doc: str, value) -> float:
    """A yearly requests-per-inhabitant rate of a known document type, as a float.

    Raises
    ------
    ValueError
        For a document type not in :data:`data.demo.DOC_TYPES`, or a value that is
        not a number from 0 to :data:`MAX_RATE` (NaN and infinities included).

    Examples
    --------
    >>> check_rate("CNI", "0.03")
    0.03
    >>> check_rate("CNI", "nan")
    Traceback (most recent call last):
    ...
    ValueError: rate of CNI should be a number in 0..1 a year per inhabitant, got 'nan'
    """
    known = DOC_TYPES["code"].tolist()
    if doc not in known:
        raise ValueError(
            f"unknown document type {doc!r} in the rates; known: {', '.join(known)}"
        )
    try:
        rate = float(value)
    except (TypeError, ValueError):
        rate = float("nan")
    if isinstance(value, bool) or not 0 <= rate <= MAX_RATE:  # NaN fails both
        raise ValueError(
            f"rate of {doc} should be a number in 0..{MAX_RATE:g} a year per "
            f"inhabitant, got {value!r}"
        )
    return rate


def estimate_demand(communes: pd.DataFrame, rates: dict[str, float]) -> pd.DataFrame:
    """Weekly requests per commune and document type from population and yearly rates.

    Parameters
    ----------
    communes : DataFrame
        ``unit_code`` and ``population``.
    rates : dict
        Yearly requests per inhabitant by document type code (``>= 0``).

    Returns
    -------
    DataFrame
        ``commune_code``, ``doc_type``, ``requests_week``,
        ``rate_per_inhabitant_year``.

    Examples
    --------
    >>> f = estimate_demand(pd.DataFrame({"unit_code": ["A", "B"],
    ...                                   "population": [5200, 0]}),
    ...                     {"CNI": 0.024, "PASS": 0.006})
    >>> f["requests_week"].round(2).tolist()
    [2.4, 0.6, 0.0, 0.0]
    """
    bad = {k: v for k, v in rates.items() if not (np.isfinite(v) and v >= 0)}
    if bad:
        raise ValueError(f"rates should be finite and >= 0, got {bad}")
    pop = communes["population"].to_numpy(dtype=float)
    codes = communes["unit_code"].astype(str).to_numpy()
    docs = list(rates)
    return pd.DataFrame(
        {
            "commune_code": np.repeat(codes, len(docs)),
            "doc_type": np.tile(docs, len(codes)),
            "requests_week": np.round(
                np.outer(pop, [rates[d] for d in docs]).ravel() / 52.0, 3
            ),
            "rate_per_inhabitant_year": np.tile([rates[d] for d in docs], len(codes)),
        }
    )


def _mapping_for(source: Source, frame: pd.DataFrame, kind: str, report: Report):
    mapping = tb.guess_mapping(frame.columns, kind)
    for key, col in (source.mapping or {}).items():
        if key not in mapping:
            continue
        if col and col not in frame.columns:
            report.error("missing_column", file=source.file, field=col)
        mapping[key] = col or None
    return mapping


def _require(mapping: dict, fields, file: str, report: Report) -> bool:
    ok = True
    for f in fields:
        if not mapping.get(f):
            report.error("missing_column", file=file, field=f)
            ok = False
    return ok


def _read(source: Source, report: Report, max_bytes: int) -> pd.DataFrame | None:
    data = source.data
    size = len(data) if isinstance(data, bytes) else _size(data)
    if size > max_bytes:
        report.error(
            "too_large", file=source.file, size_mb=round(size / 1024**2, 1),
            limit_mb=round(max_bytes / 1024**2),
        )  # fmt: skip
        return None
    import io

    raw = io.BytesIO(data) if isinstance(data, bytes) else data
    return tb.read_table(
        raw, source.file, report, delimiter=source.delimiter, encoding=source.encoding
    )


def _size(path) -> int:
    from pathlib import Path

    return Path(path).stat().st_size


def _population(
    source: Source | None,
    communes: gpd.GeoDataFrame,
    commune_layer,
    report: Report,
    max_bytes: int,
    *,
    join_mode: str = "strict",
    parent_units: pd.DataFrame | None = None,
    column: str | None = None,
) -> pd.DataFrame | None:
    """Population and socio-economic rates per commune code; NaN where unknown.

    Without a table nor a population column every commune's population is unknown
    (a warning, not an error). With ``join_mode='partial'`` the join problems of
    :data:`JOIN_ISSUES` are warnings and the communes left without a value are
    unknown; with ``'strict'`` they are errors. Either way every unmatched row and
    every commune without a value is reported, one issue each.
    """
    partial = join_mode == "partial"
    codes = communes["unit_code"].astype(str).tolist()
    out = pd.DataFrame({"unit_code": codes, "population": np.nan})
    if source is None:
        if column is None:
            column = commune_layer.mapping.population  # "": none, by choice
        if column and column not in commune_layer.frame.columns:
            report.error("missing_column", file=commune_layer.file, field=column)
            return None
        if column is None:
            column = tb.guess_mapping(commune_layer.frame.columns, "population")[
                "population"
            ]
            if column:
                report.info("columns_guessed", file=commune_layer.file,
                            guessed=f"population={column}")  # fmt: skip
        if not column:
            report.warning("population_absent", file=commune_layer.file,
                           n=len(codes))  # fmt: skip
            return out
        sub = Report()
        pop = tb.to_number(
            commune_layer.frame.reset_index(drop=True),
            column,
            commune_layer.file,
            sub,
            required=not partial,
            maximum=tb.MAX_VALUE["population"],
        )
        _merge(sub, report, partial)
        out["population"] = pop.to_numpy()
        _report_unknown(out, communes, commune_layer.file, column,
                        report, partial, listed=partial)  # fmt: skip
        return out
    frame = _read(source, report, max_bytes)
    if frame is None:
        return None
    mapping = _mapping_for(source, frame, "population", report)
    if not _require(mapping, ("population",), source.file, report):
        return None
    join = source.join
    if join is None:
        code_col = mapping.get("code")
        hits = frame[code_col].isin(codes).mean() if code_col else 0.0
        join = "code" if hits >= 0.5 else "name"
    key = mapping.get(join)
    if not key:
        report.error("missing_column", file=source.file, field=join)
        return None
    sub = Report()
    if join == "code":
        position = {c: i for i, c in enumerate(codes)}
        index = [position.get(str(v).strip()) if v is not None else None
                 for v in frame[key]]  # fmt: skip
        for i, (v, pos) in enumerate(zip(frame[key], index, strict=True)):
            if pos is None:
                sub.error("unmatched_code", file=source.file, row=i + 1, field=key,
                          value=v)  # fmt: skip
    else:
        parent_col = mapping.get("parent")
        found = match_names(
            frame[key].tolist(),
            communes["name"].tolist(),
            parents=frame[parent_col].tolist() if parent_col else None,
            unit_parents=_unit_parents(communes, parent_units) if parent_col else None,
        )
        index = found.index
        for pos, name, close in found.unmatched:
            sub.error("unmatched_name", file=source.file, row=pos + 1, field=key,
                      value=name, suggestions=", ".join(close))  # fmt: skip
        for pos, name, n in found.ambiguous:
            sub.error("ambiguous_name", file=source.file, row=pos + 1, field=key,
                      value=name, n=n,
                      parent=frame[parent_col].iloc[pos] if parent_col else None)  # fmt: skip
    seen: dict[int, int] = {}
    for i, pos in enumerate(index):
        if pos is None:
            continue
        if pos in seen:
            sub.error("duplicate_code", file=source.file, row=i + 1, field=key,
                      value=codes[pos])  # fmt: skip
        seen.setdefault(pos, i)
    pop = tb.to_number(frame, mapping["population"], source.file, sub,
                       maximum=tb.MAX_VALUE["population"])  # fmt: skip
    _merge(sub, report, partial)
    rows = np.array([seen.get(p, -1) for p in range(len(codes))])
    has = rows >= 0
    out.loc[has, "population"] = pop.to_numpy()[rows[has]]
    _report_unknown(out, communes, source.file, key, report, partial, listed=True)
    for rate in RATE_FIELDS:
        col = mapping.get(rate)
        if not col:
            continue
        values = _optional(frame, col, source.file, report, "rate")
        if values.max() > 1:
            values = values / 100.0
        out.loc[has, rate] = values.to_numpy()[rows[has]]
    if mapping.get("urban"):
        urban = frame[mapping["urban"]].astype(str).str.lower()
        flags = urban.isin(["1", "true", "oui", "yes", "urbain", "urban", "u"])
        out.loc[has, "urban"] = flags.to_numpy()[rows[has]]
    return out


def _merge(sub: Report, report: Report, partial: bool) -> None:
    """Copy ``sub``'s issues; a partial join turns its join errors into warnings."""
    for issue in sub.issues:
        severity = issue.severity
        if partial and severity == "error" and issue.code in JOIN_ISSUES:
            severity = "warning"
        report.add(issue.code, severity, file=issue.file, row=issue.row,
                   field=issue.field, **issue.params)  # fmt: skip


def _report_unknown(
    out: pd.DataFrame,
    communes: gpd.GeoDataFrame,
    file: str,
    field: str,
    report: Report,
    partial: bool,
    *,
    listed: bool,
) -> None:
    """Every commune left without population (``listed``), then their count."""
    unknown = np.flatnonzero(out["population"].isna().to_numpy())
    if listed:
        names = communes["name"].astype(str).to_numpy()
        for i in unknown:
            report.add("no_population", "warning" if partial else "error",
                       file=file, field=field,
                       value=f"{out['unit_code'].iloc[i]} ({names[i]})")  # fmt: skip
    if partial and len(unknown):
        report.warning("population_partial", file=file, n=len(unknown),
                       total=len(out))  # fmt: skip


def _unit_parents(
    communes: gpd.GeoDataFrame, parent_units: pd.DataFrame | None
) -> list[tuple[str, str]]:
    """``(code, name)`` of each commune's parent unit."""
    names = (
        {}
        if parent_units is None
        else dict(zip(parent_units["unit_code"], parent_units["name"], strict=True))
    )
    return [
        (str(c), str(names.get(c, c))) if c is not None else ("", "")
        for c in communes["parent_code"]
    ]


def _optional(frame, column: str, file: str, report: Report, kind: str) -> pd.Series:
    """An optional numeric column, each cell in 0..``tables.MAX_VALUE[kind]``."""
    return tb.to_number(frame, column, file, report, required=False,
                        maximum=tb.MAX_VALUE[kind])  # fmt: skip


def _points(
    source: Source,
    kind: str,
    communes: gpd.GeoDataFrame,
    report: Report,
    max_bytes: int,
    center_codes: pd.Series | None = None,
) -> pd.DataFrame | None:
    """Centers or candidate sites, each placed in the commune that contains it.

    From a CSV or Excel table with longitude and latitude columns, or from any
    point layer (coordinates from its geometry, :mod:`data.importers.sites`);
    columns are guessed like a table's and ``source.mapping`` overrides them.
    Without a code column the codes are derived (an OpenStreetMap id, else the
    row number) and the report says so; without a name column the code is the
    name. A candidate site may not reuse the code of a center (``center_codes``).
    """
    file = source.file
    if is_vector(file):
        layer = read_point_layer(source.data, file, report, layer=source.layer,
                                 max_bytes=max_bytes)  # fmt: skip
        if layer is None:
            return None
        frame, lon, lat = layer
        mapping = _mapping_for(source, frame, kind, report)
        xy_field = "geometry"
    else:
        frame = _read(source, report, max_bytes)
        if frame is None:
            return None
        mapping = _mapping_for(source, frame, kind, report)
        if not _require(mapping, ("lon", "lat"), file, report):
            return None
        xy_field = f"{mapping['lon']}/{mapping['lat']}"
    if any(col and col not in frame.columns for col in mapping.values()):
        return None  # a column given that the file lacks: reported above
    if not is_vector(file):
        lon = tb.to_number(frame, mapping["lon"], file, report, minimum=-180.0,
                           maximum=180.0, field="lon")  # fmt: skip
        lat = tb.to_number(frame, mapping["lat"], file, report, minimum=-90.0,
                           maximum=90.0, field="lat")  # fmt: skip
    code_given = bool((source.mapping or {}).get("code"))
    codes, code_field = site_codes(frame, mapping.get("code"), code_given, kind,
                                   file, report)  # fmt: skip
    for i in np.flatnonzero(codes.isna().to_numpy()):
        report.error("missing_value", file=file, row=i + 1, field=code_field)
    for i in np.flatnonzero((codes.duplicated() & codes.notna()).to_numpy()):
        report.error("duplicate_code", file=file, row=i + 1, field=code_field,
                     value=str(codes.iloc[i]))  # fmt: skip
    if center_codes is not None:
        taken = codes.isin(set(center_codes.astype(str))).fillna(False)
        for i in np.flatnonzero(taken.to_numpy()):
            report.error("site_code_is_center", file=file, row=i + 1,
                         field=code_field, value=str(codes.iloc[i]))  # fmt: skip
    if not mapping.get("name"):
        report.info("site_names_from_codes", file=file)
    ok = lon.notna() & lat.notna()
    points = gpd.GeoSeries.from_xy(lon.fillna(0), lat.fillna(0), crs="EPSG:4326")
    idx_pt, idx_poly = communes.sindex.query(points[ok], predicate="intersects")
    where = np.full(len(frame), -1)
    where[np.flatnonzero(ok.to_numpy())[idx_pt]] = idx_poly
    commune_code = communes["unit_code"].to_numpy()
    given = mapping.get("commune_code")
    for i in np.flatnonzero(ok.to_numpy() & (where < 0)):
        report.error("point_outside", file=file, row=i + 1, field=xy_field,
                     lon=float(lon.iloc[i]), lat=float(lat.iloc[i]))  # fmt: skip
    if given:
        for i in np.flatnonzero(where >= 0):
            stated = frame[given].iloc[i]
            if stated is not None and str(stated) != commune_code[where[i]]:
                report.warning("commune_mismatch", file=file, row=i + 1, field=given,
                               value=str(stated), found=commune_code[where[i]])  # fmt: skip
    out = pd.DataFrame(
        {
            "code": codes.astype(object),
            "name": frame[mapping["name"]].astype(object)
            if mapping.get("name")
            else None,
            "commune_code": [commune_code[w] if w >= 0 else None for w in where],
            "lon": lon.to_numpy(),
            "lat": lat.to_numpy(),
        }
    )
    out["name"] = out["name"].where(out["name"].notna(), out["code"])
    cap = mapping.get("capacity_week")
    if cap:
        out["capacity_week"] = tb.to_number(
            frame, cap, file, report, maximum=tb.MAX_VALUE["capacity_week"]
        ).to_numpy()
    else:
        out["capacity_week"] = 0.0  # unknown capacity: utilisation stays missing
    if kind == "centers":
        out = out.rename(columns={"code": "center_code"})
        out["staff"] = (
            _optional(frame, mapping["staff"], file, report, "staff")
            .fillna(0)
            .to_numpy()
            if mapping.get("staff")
            else 0
        )
        status = mapping.get("status")
        out["status"] = (
            frame[status].fillna("open").astype(str).str.lower()
            .replace({"ouvert": "open", "ferme": "closed", "fermé": "closed"})
            if status else "open"
        )  # fmt: skip
        opened = mapping.get("opened_on")
        out["opened_on"] = (
            tb.to_dates(frame, opened, file, report).dt.date.to_numpy()
            if opened
            else None
        )
    else:
        out = out.rename(columns={"code": "site_code"})
        cost = mapping.get("opening_cost")
        out["opening_cost"] = (
            _optional(frame, cost, file, report, "opening_cost").fillna(0).to_numpy()
            if cost
            else 0.0
        )
    return out


def _operations(
    source: Source,
    communes: gpd.GeoDataFrame,
    centers: pd.DataFrame | None,
    doc_types: pd.DataFrame,
    report: Report,
    max_bytes: int,
) -> pd.DataFrame | None:
    frame = _read(source, report, max_bytes)
    if frame is None:
        return None
    mapping = _mapping_for(source, frame, "operations", report)
    if not _require(mapping, tb.REQUIRED["operations"], source.file, report):
        return None
    file = source.file
    out = pd.DataFrame(
        {"week": tb.to_dates(frame, mapping["week"], file, report, field="week")}
    )
    for key, known in (
        ("commune_code", set(communes["unit_code"])),
        ("center_code", set(centers["center_code"]) if centers is not None else set()),
        ("doc_type", set(doc_types["code"])),
    ):
        col = mapping[key]
        values = frame[col].astype("string").str.strip()
        bad = ~values.isin(known).fillna(False)
        code = "unknown_doc_type" if key == "doc_type" else "unmatched_code"
        for i in np.flatnonzero(bad.to_numpy()):
            report.error(code, file=file, row=i + 1, field=col, value=values.iloc[i])
        out[key] = values.astype(object).to_numpy()
    for key in ("requests", "delivered", "delivered_on_time", "rejected", "backlog"):
        out[key] = tb.to_number(frame, mapping[key], file, report, integer=True,
                                maximum=tb.MAX_VALUE["count"],
                                field=mapping[key]).to_numpy()  # fmt: skip
    for key in ("delay_mean_days", "delay_p90_days"):
        col = mapping.get(key)
        out[key] = (
            _optional(frame, col, file, report, "delay_days").to_numpy()
            if col
            else np.nan
        )
    for small, big in (("rejected", "requests"), ("delivered_on_time", "delivered")):
        for i in np.flatnonzero((out[small] > out[big]).to_numpy()):
            report.error("inconsistent_counts", file=file, row=i + 1,
                         field=mapping[small], value=out[small].iloc[i],
                         other=mapping[big], limit=out[big].iloc[i])  # fmt: skip
    return out


def assemble(
    spec: ImportSpec,
    report: Report,
    progress: Callable[[int, str], None] | None = None,
) -> ImportBundle | None:
    """Read and check every file of ``spec``; the bundle, or ``None`` on errors.

    Parameters
    ----------
    spec : ImportSpec
    report : Report
        Receives every issue (errors, warnings and notes).
    progress : callable, optional
        ``progress(percent, step)`` after each step.

    Returns
    -------
    ImportBundle or None
    """
    step = progress or (lambda pct, name: None)
    if not spec.boundaries:
        report.error("missing_column", file="-", field="boundaries")
        return None
    layers = []
    for src in spec.boundaries:
        layer = load_layer(src.data, src.file, report, mapping=src.mapping,
                           layer=src.layer, repair=spec.repair,
                           max_bytes=spec.max_bytes)  # fmt: skip
        if layer is not None:
            layers.append(layer)
    step(30, "boundaries")
    if not report.ok:
        return None
    built = build_hierarchy(
        layers, report, level_names=spec.level_names, country_name=spec.name
    )
    step(50, "hierarchy")
    if built is None:
        return None
    units, levels = built
    commune_level = int(levels["level"].max())
    is_commune = (units["level"] == commune_level).to_numpy()
    communes = units[is_commune].reset_index(drop=True)
    commune_layer = max(layers, key=lambda lay: len(lay.frame))
    pop = _population(spec.population, communes, commune_layer, report,
                      spec.max_bytes, join_mode=spec.join_mode,
                      parent_units=units[units["level"] == commune_level - 1],
                      column=spec.population_column)  # fmt: skip
    step(65, "population")
    centers = candidates = operations = None
    if spec.centers is not None:
        centers = _points(spec.centers, "centers", communes, report, spec.max_bytes)
    if spec.candidates is not None:
        candidates = _points(
            spec.candidates, "candidates", communes, report, spec.max_bytes,
            None if centers is None else centers["center_code"],
        )  # fmt: skip
    step(75, "sites")
    doc_types = DOC_TYPES.copy()
    if spec.operations is not None:
        if spec.centers is None:
            report.error("missing_column", file=spec.operations.file,
                         field="centers")  # fmt: skip
        else:
            operations = _operations(spec.operations, communes, centers, doc_types,
                                     report, spec.max_bytes)  # fmt: skip
    step(85, "operations")
    if not report.ok or pop is None:
        return None
    units = _fill_indicators(units, levels, pop)
    missing: list[str] = []
    demand = pd.DataFrame(
        columns=[
            "commune_code",
            "doc_type",
            "requests_week",
            "rate_per_inhabitant_year",
        ]
    )
    if operations is None:
        estimated = units[units["level"] == commune_level]
        known = estimated["population"].notna()
        demand = estimate_demand(estimated[known], spec.rates)
        report.info("demand_estimated", file=spec.boundaries[0].file,
                    rates=", ".join(f"{k} {v:g}" for k, v in spec.rates.items()))  # fmt: skip
        if not known.all():  # no population, no estimate: never a zero demand
            report.warning("demand_skipped", file=spec.boundaries[0].file,
                           n=int((~known).sum()), total=len(known))  # fmt: skip
        missing += list(NEEDS["operations"])
    if centers is None:
        missing += [k for k in NEEDS["centers"] if k not in missing]
    elif not (centers["capacity_week"] > 0).any() and "utilisation" not in missing:
        missing.append("utilisation")
    if pop["population"].isna().all():
        missing += [k for k in NEEDS["population"] if k not in missing]
    for rate in RATE_FIELDS:
        if rate not in pop.columns or pop[rate].isna().all():
            missing.append(rate)
    if missing:
        report.warning("indicator_missing", file=spec.boundaries[0].file,
                       indicators=", ".join(missing))  # fmt: skip
    step(95, "bundle")
    empty_centers = pd.DataFrame(
        columns=["center_code", "name", "commune_code", "lon", "lat",
                 "capacity_week", "staff", "status", "opened_on"]
    )  # fmt: skip
    empty_sites = pd.DataFrame(
        columns=["site_code", "name", "commune_code", "lon", "lat",
                 "opening_cost", "capacity_week"]
    )  # fmt: skip
    return ImportBundle(
        name=spec.name,
        levels=levels,
        units=units,
        centers=centers if centers is not None else empty_centers,
        candidates=candidates if candidates is not None else empty_sites,
        doc_types=doc_types,
        operations=operations if operations is not None else pd.DataFrame(),
        demand=demand,
        missing=missing,
        conventions=sorted({lay.mapping.convention for lay in layers}),
    )


def _fill_indicators(
    units: gpd.GeoDataFrame, levels: pd.DataFrame, pop: pd.DataFrame
) -> gpd.GeoDataFrame:
    """Population summed upwards; rates population-weighted; unknown values stay NaN.

    A unit whose communes all have an unknown population has an unknown one; else
    the sum of the known ones.
    """
    units = units.copy()
    commune_level = int(levels["level"].max())
    by_code = pop.set_index("unit_code")
    units["population"] = units["unit_code"].map(by_code["population"])
    for rate in RATE_FIELDS:
        units[rate] = (
            units["unit_code"].map(by_code[rate]) if rate in by_code else np.nan
        )
    units["urban"] = (
        units["unit_code"].map(by_code["urban"]).fillna(False).astype(bool)
        if "urban" in by_code
        else False
    )
    parent = dict(zip(units["unit_code"], units["parent_code"], strict=True))
    for level in range(commune_level - 1, -1, -1):
        child = units[units["level"] == level + 1]
        parents = child["parent_code"].map(lambda c: c)
        sums = child.groupby(parents)["population"].sum(min_count=1)
        mask = units["level"] == level
        units.loc[mask, "population"] = units.loc[mask, "unit_code"].map(sums)
        for rate in RATE_FIELDS:
            known = child[rate].notna()
            w = child["population"].where(known, 0)
            num = (child[rate].fillna(0) * w).groupby(parents).sum()
            den = w.groupby(parents).sum()
            val = (num / den.replace(0, np.nan)).round(3)
            units.loc[mask, rate] = units.loc[mask, "unit_code"].map(val)
    del parent
    units["population"] = units["population"].astype(float).round()
    units.loc[units["level"] != commune_level, "urban"] = False
    return units
