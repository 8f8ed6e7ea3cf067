"""Files for planners: a saved scenario as CSV, Excel or GeoJSON, and comparisons.

Without an :class:`ExportText`, column names are the engine's identifiers
(``site_id``, ``assigned_demand``...) and values are as stored, the same in every
language, so files from different users can be merged. The screen's downloads pass
one (built from the interface's catalogue): headers, statuses and "n.d." then read in
the interface language, and values have the screen's rounding and units
(utilisation in %). KPI names come from the KPI catalogue
(:data:`data.kpi.SCENARIO_KPIS`) in ``lang``.

CSV files are UTF-8 with a byte-order mark (so spreadsheet programs show accents
correctly), comma separators and CRLF line ends (RFC 4180).

Names come from imported files and from users, so every tabular file the app writes
goes through one rule against formula injection (OWASP "CSV injection"): text that
a spreadsheet would read as a formula (first character, after any leading
whitespace, one of ``= + - @``, or a leading tab or carriage return) is written as
text. In CSV it gets a leading single quote (:func:`neutralise_text`,
:func:`neutralise_frame`, :func:`csv_text`); in Excel the exact text is kept in a
plain text cell marked with Excel's own quote prefix (:func:`neutralise_workbook`,
:func:`excel_writer`). Numbers, including negative ones, are never touched.

Excel sheet names:

* one scenario (:func:`scenario_excel`): ``parametres``, ``synthese``, ``centres``,
  ``communes``, ``sans_centre`` (the communes with demand no center serves);
* comparison (:func:`comparison_excel`): ``comparaison`` then one ``synthese``
  sheet per scenario named after it (``S<id> <name>``, cut to Excel's 31 characters).

Examples
--------
>>> from data.exports import COMPARISON_ROWS
>>> COMPARISON_ROWS[0].id, COMPARISON_ROWS[0].better
('mean_distance', 'lower')
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import re
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from data.kpi import (
    SCENARIO_KPIS,
    TRAVEL_KPIS,
    ScenarioKPI,
    measure_label,
    measure_of,
)
from data.scenarios import ScenarioRecord

__all__ = [
    "COMPARISON_ROWS",
    "FORMULA_TRIGGERS",
    "ExportText",
    "SCENARIO_SHEETS",
    "compare_kpis",
    "comparison_excel",
    "csv_text",
    "excel_writer",
    "neutralise_frame",
    "neutralise_text",
    "neutralise_workbook",
    "parameters_frame",
    "scenario_csv",
    "scenario_excel",
    "scenario_geojson",
    "readable_comparison",
    "readable_table",
    "summary_frame",
    "unserved_frame",
    "write_csv",
]

SCENARIO_SHEETS = ("parametres", "synthese", "centres", "communes", "sans_centre")
COMPARISON_SHEET = "comparaison"
CENTER_COLUMNS = [
    "site_id",
    "name",
    "lon",
    "lat",
    "existing",
    "status",
    "assigned_demand",
    "communes",
    "capacity",
    "utilisation",
]
COMMUNE_COLUMNS = [
    "commune_id",
    "name",
    "demand",
    "site_id",
    "distance",
    "site_id_before",
    "distance_before",
]
UNSERVED_COLUMNS = ["commune_id", "name", "demand", "population", "distance_before"]
# decimals of each result column as the screen shows it (utilisation in %)
_DECIMALS = {
    "assigned_demand": 0,
    "capacity": 0,
    "utilisation": 1,
    "demand": 1,
    "population": 0,
    "distance": 1,
    "distance_before": 1,
}
_EXCEL_MAX_SHEET = 31
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


# -- formula injection --------------------------------------------------------------
def _is_formula_like(text: str) -> bool:
    # Some importers trim leading spaces before parsing a cell, so " =1+1" counts
    # too; the tab and carriage return are themselves whitespace, hence the first test.
    return text[:1] in FORMULA_TRIGGERS or text.lstrip()[:1] in FORMULA_TRIGGERS


def neutralise_text(value: Any) -> Any:
    r"""A cell value that no spreadsheet program will read as a formula (for CSV).

    Parameters
    ----------
    value : object
        Any cell value. Only ``str`` values are looked at.

    Returns
    -------
    object
        ``"'" + value`` when ``value`` is text whose first character is one of
        :data:`FORMULA_TRIGGERS` (``= + - @``, tab, carriage return), or whose
        first character after leading whitespace is one of them (some importers
        trim spaces); anything else unchanged: other text, numbers (a negative
        number is a number, not text), NaN, None. The single quote is OWASP's
        advice: a spreadsheet program shows the rest as text.

    Examples
    --------
    >>> neutralise_text('=HYPERLINK("http://x","y")')
    '\'=HYPERLINK("http://x","y")'
    >>> neutralise_text(" @SUM(1+1)"), neutralise_text("\tx")
    ("' @SUM(1+1)", "'\tx")
    >>> neutralise_text("Thiès"), neutralise_text(-1.5), neutralise_text(None)
    ('Thiès', -1.5, None)
    """
    if isinstance(value, str) and _is_formula_like(value):
        return "'" + value
    return value


def _is_text_dtype(dtype: Any) -> bool:
    return isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(dtype)


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with :func:`neutralise_text` applied to every text cell.

    Parameters
    ----------
    frame : DataFrame
        Left unchanged.

    Returns
    -------
    DataFrame
        Text, object and categorical columns mapped cell by cell (so numbers in a
        mixed column stay numbers); numeric, boolean and date columns as they are;
        column names and a text index neutralised too.

    Examples
    --------
    >>> frame = pd.DataFrame({"name": ["=1+1", "Kaolack", None], "lon": [-16.1, 2, 3]})
    >>> out = neutralise_frame(frame)
    >>> out["name"].tolist(), out["lon"].tolist()
    (["'=1+1", 'Kaolack', nan], [-16.1, 2.0, 3.0])
    >>> frame.loc[0, "name"]
    '=1+1'
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"'frame' should be DataFrame, got {type(frame)}")
    out = frame.copy()
    for k, dtype in enumerate(out.dtypes):
        if _is_text_dtype(dtype):
            out.isetitem(k, out.iloc[:, k].astype(object).map(neutralise_text))
    out.columns = out.columns.map(neutralise_text)
    if _is_text_dtype(out.index.dtype):
        out.index = out.index.map(neutralise_text)
    return out


def csv_text(frame: pd.DataFrame) -> str:
    r"""``frame`` as CSV text, neutralised (:func:`neutralise_frame`), without index.

    Rows end with CRLF (RFC 4180), which also makes the writer quote any text
    holding a carriage return: a bare one would start a new row in a spreadsheet,
    and that row's first cell would escape the rule.

    Examples
    --------
    >>> csv_text(pd.DataFrame({"name": ["+cmd", "Thiès"], "lon": [-16.9, 1]}))
    "name,lon\r\n'+cmd,-16.9\r\nThiès,1.0\r\n"
    """
    return neutralise_frame(frame).to_csv(index=False, lineterminator="\r\n")


def write_csv(frame: pd.DataFrame, path: Any) -> None:
    r"""Write :func:`csv_text` of ``frame`` to ``path`` (UTF-8, no byte-order mark).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> write_csv(pd.DataFrame({"name": ["@SUM(1+1)"]}), path)
    >>> path.read_bytes()
    b"name\r\n'@SUM(1+1)\r\n"
    """
    neutralise_frame(frame).to_csv(
        path, index=False, lineterminator="\r\n", encoding="utf-8"
    )


def neutralise_workbook(book: Any) -> None:
    """Make every text cell of an openpyxl workbook plain text, in place.

    openpyxl stores a string starting with ``=`` as a formula; such cells are
    turned back into text cells holding the exact string. Cells that the rule of
    :func:`neutralise_text` flags also get Excel's quote prefix (the hidden
    apostrophe Excel adds when one types ``'=...``), so the text is shown as it is,
    without a visible quote, and stays text if someone edits the cell. The text
    itself is not changed: the workbook keeps the data exact.

    Examples
    --------
    >>> import openpyxl
    >>> book = openpyxl.Workbook()
    >>> book.active.append(['=HYPERLINK("http://x","y")', "-1+1", -1, "Thiès"])
    >>> [c.data_type for c in book.active[1]]
    ['f', 's', 'n', 's']
    >>> neutralise_workbook(book)
    >>> [(c.data_type, c.quotePrefix) for c in book.active[1]]
    [('s', True), ('s', True), ('n', False), ('s', False)]
    """
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if not isinstance(cell.value, str):
                    continue
                if cell.data_type == "f":
                    cell.data_type = "s"
                if _is_formula_like(cell.value):
                    cell.quotePrefix = True


@contextlib.contextmanager
def excel_writer(target: Any) -> Iterator[pd.ExcelWriter]:
    """A ``pd.ExcelWriter`` (openpyxl) whose workbook is neutralised before saving.

    Every workbook the app writes is made with it, so no text cell is ever a
    formula (:func:`neutralise_workbook`).

    Examples
    --------
    >>> import openpyxl
    >>> buffer = io.BytesIO()
    >>> with excel_writer(buffer) as writer:
    ...     pd.DataFrame({"name": ["=1+1"]}).to_excel(writer, index=False)
    >>> cell = openpyxl.load_workbook(buffer).active["A2"]
    >>> cell.value, cell.data_type
    ('=1+1', 's')
    """
    with pd.ExcelWriter(target, engine="openpyxl") as writer:
        yield writer
        neutralise_workbook(writer.book)


@dataclass(frozen=True)
class ExportText:
    """How a download reads in the interface language.

    ``headers`` (column id -> header), ``words`` (stored value -> word: site and
    solver statuses), ``yes_no`` and ``missing`` (what an empty figure reads) come
    from the interface's catalogue (``layouts.scenario_results.export_text``); values are
    rounded as the screen rounds them, utilisation in %.
    """

    lang: str = "fr"
    headers: Mapping[str, str] = field(default_factory=dict)
    words: Mapping[str, str] = field(default_factory=dict)
    yes_no: tuple[str, str] = ("oui", "non")
    missing: str = "n.d."

    def header(self, column: str) -> str:
        return self.headers.get(column, column)


# the comparison's rows: the scenario KPIs of the catalogue (names, units, rounding)
ComparisonRow = ScenarioKPI
COMPARISON_ROWS: tuple[ScenarioKPI, ...] = tuple(
    k for k in SCENARIO_KPIS.values() if k.in_comparison
)
_ROW_BY_ID = {r.id: r for r in COMPARISON_ROWS}


def _check_record(record: Any) -> ScenarioRecord:
    if not isinstance(record, ScenarioRecord):
        raise TypeError(f"'record' should be ScenarioRecord, got {type(record)}")
    return record


def _cell(value: Any) -> Any:
    """A value a CSV or Excel cell can hold: containers as JSON text."""
    if isinstance(value, (Mapping, list, tuple)):
        return json.dumps(value, ensure_ascii=False)
    return value


def _flatten(value: Any, prefix: str) -> list[tuple[str, Any]]:
    if isinstance(value, Mapping) and value:
        out: list[tuple[str, Any]] = []
        for key, sub in value.items():
            out += _flatten(sub, f"{prefix}.{key}" if prefix else str(key))
        return out
    return [(prefix, _cell(value))]


def _missing(frame: pd.DataFrame, text: ExportText) -> pd.DataFrame:
    """Empty figures read ``text.missing`` (n.d.), never blank or nan."""
    out = frame.astype(object)
    return out.where(frame.notna(), text.missing)


def readable_table(frame: pd.DataFrame, text: ExportText) -> pd.DataFrame:
    """A result table (centers, communes, communes with no center) as the screen
    shows it: utilisation in %, the screen's rounding, statuses in words, yes/no,
    n.d. for no value, headers in ``text``'s language.

    Examples
    --------
    >>> t = pd.DataFrame({"site_id": ["A"], "status": ["kept"], "existing": [True],
    ...                   "utilisation": [0.8766], "capacity": [np.nan]})
    >>> readable_table(t, ExportText(headers={"utilisation": "Utilisation (%)"},
    ...                words={"kept": "maintenu"})).iloc[0].tolist()
    ['A', 'maintenu', 'oui', 87.7, 'n.d.']
    """
    out = frame.copy()
    if "utilisation" in out:
        out["utilisation"] = pd.to_numeric(out["utilisation"], errors="coerce") * 100
    for column, decimals in _DECIMALS.items():
        if column in out:
            out[column] = pd.to_numeric(out[column], errors="coerce").round(decimals)
            if decimals == 0:
                out[column] = out[column].astype("Int64")
    for column in ("status", "site_status"):
        if column in out:
            out[column] = out[column].map(lambda v: text.words.get(v, v))
    if "existing" in out:
        yes, no = text.yes_no
        out["existing"] = out["existing"].map(
            lambda v: v if v is None or pd.isna(v) else (yes if bool(v) else no)
        )
    out = _missing(out, text)
    out.columns = [text.header(c) for c in out.columns]
    return out


# -- tables -------------------------------------------------------------------------
def parameters_frame(
    record: ScenarioRecord, text: ExportText | None = None
) -> pd.DataFrame:
    """The scenario's identity then its spec flattened, one ``parameter, value`` row each.

    Nested keys are dotted (``parameters.p``); lists are JSON text. The row
    ``scenario.measure`` says how access was measured: its code (``km``,
    ``motorised|dry``...), or with ``text`` its words and unit in its language
    (``Temps de trajet motorisé, saison sèche (min)``); with ``text`` the two
    headers are in its language too.
    """
    record = _check_record(record)
    rows = [
        ("scenario.id", record.id),
        ("scenario.name", record.name),
        ("scenario.author", record.author),
        ("scenario.status", record.status),
        ("scenario.created_at", record.created_at.isoformat(sep=" ")),
        ("scenario.updated_at", record.updated_at.isoformat(sep=" ")),
        ("dataset.id", record.dataset_id),
        ("dataset.version", record.dataset_version),
        (
            "scenario.measure",
            measure_of(record.params)
            if text is None
            else measure_label(measure_of(record.params), text.lang),
        ),
    ]
    rows += [(f"spec.{k}", v) for k, v in _flatten(record.params, "")]
    frame = pd.DataFrame(rows, columns=["parameter", "value"])
    if text is not None:
        frame.columns = [text.header(c) for c in frame.columns]
    return frame


def summary_frame(
    record: ScenarioRecord, text: ExportText | None = None
) -> pd.DataFrame:
    """The run's summary as rows ``section, name, value, before, after, change``.

    Network KPIs (section ``kpis``) fill ``before``, ``after`` and ``change``;
    solve information, units, counts of changes and of communes left out of the
    demand (section ``demand``: population unknown) fill ``value``. Empty for a
    scenario not run yet. With ``text``, the KPIs of the catalogue are named with
    their unit in its language, scaled and rounded as the screen shows them
    (shares in %), an empty figure reads n.d., and the headers are translated.
    """
    record = _check_record(record)
    columns = ["section", "name", "value", "before", "after", "change"]
    summary = record.summary or {}
    rows: list[dict[str, Any]] = []
    for section in ("solve", "units", "changes", "demand"):
        for name, value in (summary.get(section) or {}).items():
            rows.append({"section": section, "name": name, "value": _cell(value)})
    kpis = summary.get("kpis") or {}
    before, after = kpis.get("before") or {}, kpis.get("after") or {}
    for name in dict.fromkeys([*before, *after]):
        b, a = before.get(name), after.get(name)
        change = (
            a - b
            if isinstance(a, (int, float))
            and isinstance(b, (int, float))
            and not isinstance(a, bool)
            else None
        )
        rows.append(
            {
                "section": "kpis",
                "name": name,
                "before": b,
                "after": a,
                "change": change,
            }
        )
    for name, value in kpis.items():
        if name not in ("before", "after"):
            rows.append({"section": "kpis", "name": name, "value": _cell(value)})
    # a travel-time run: the access indicators by road, before and after
    travel = summary.get("travel_time") or {}
    t_before, t_after = travel.get("before") or {}, travel.get("after") or {}
    for name in dict.fromkeys([*t_before, *t_after]):
        b, a = t_before.get(name), t_after.get(name)
        numbers = all(isinstance(v, (int, float)) for v in (a, b))
        rows.append(
            {
                "section": "travel_time",
                "name": name,
                "before": b,
                "after": a,
                "change": a - b if numbers else None,
            }
        )
    frame = pd.DataFrame(rows, columns=columns)
    if text is None:
        return frame
    units = summary.get("units")
    for i, row in frame.iterrows():
        catalogue = {"kpis": SCENARIO_KPIS, "travel_time": TRAVEL_KPIS}
        kpi = catalogue.get(row["section"], {}).get(row["name"])
        if kpi is None:
            continue
        frame.at[i, "name"] = kpi.label(text.lang, units)
        for col in ("before", "after", "change"):
            value = row[col]
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                frame.at[i, col] = round(float(value) * kpi.scale, kpi.decimals)
    figures = frame[["before", "after", "change"]]
    kpi_rows = frame["section"].isin(["kpis", "travel_time"])
    frame[["before", "after", "change"]] = figures.astype(object).where(
        figures.notna() | ~kpi_rows.to_numpy()[:, None], text.missing
    )
    frame.columns = [
        text.header("kpi_name" if c == "name" else c) for c in frame.columns
    ]
    return frame


def _table(frame: pd.DataFrame | None, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(columns=columns) if frame is None else frame


# -- one scenario -------------------------------------------------------------------
def _csv_bytes(frame: pd.DataFrame) -> bytes:
    return csv_text(frame).encode("utf-8-sig")


def unserved_frame(record: ScenarioRecord) -> pd.DataFrame:
    """The communes with demand that no center serves in the scenario's result,
    most demand first (headers only for a draft).

    See :func:`optimization.results.unserved_table`, whose rule this is.
    """
    communes = _check_record(record).communes
    if communes is None or "site_id" not in communes:
        return pd.DataFrame(columns=UNSERVED_COLUMNS)
    demand = pd.to_numeric(communes["demand"], errors="coerce")
    rows = communes[communes["site_id"].isna() & (demand > 0)]
    out = rows.reindex(columns=UNSERVED_COLUMNS)
    return out.sort_values("demand", ascending=False, kind="stable").reset_index(
        drop=True
    )


def _frames(
    record: ScenarioRecord, text: ExportText | None
) -> tuple[pd.DataFrame, ...]:
    """Parameters, summary, centers, communes and communes with no center."""
    tables = (
        _table(record.centers, CENTER_COLUMNS),
        _table(record.communes, COMMUNE_COLUMNS),
        unserved_frame(record),
    )
    if text is not None:
        tables = tuple(readable_table(t, text) for t in tables)
    return (parameters_frame(record, text), summary_frame(record, text), *tables)


def scenario_csv(
    record: ScenarioRecord, text: ExportText | None = None
) -> dict[str, bytes]:
    """A scenario as five CSV files (name -> content), e.g. for a zip download.

    Returns
    -------
    dict
        ``parameters.csv`` (:func:`parameters_frame`), ``summary_kpis.csv``
        (:func:`summary_frame`), ``centers.csv`` and ``communes.csv`` (the result
        tables; headers only for a draft) and ``unserved_communes.csv``
        (:func:`unserved_frame`). With ``text``, as the screen reads them
        (:func:`readable_table`).
    """
    record = _check_record(record)
    names = (
        "parameters.csv",
        "summary_kpis.csv",
        "centers.csv",
        "communes.csv",
        "unserved_communes.csv",
    )
    return {
        name: _csv_bytes(frame)
        for name, frame in zip(names, _frames(record, text), strict=True)
    }


def zip_files(files: Mapping[str, bytes]) -> bytes:
    """Files (name -> content) as one zip archive, e.g. :func:`scenario_csv`'s.

    Examples
    --------
    >>> import zipfile
    >>> zipfile.ZipFile(io.BytesIO(zip_files({"a.csv": b"x"}))).namelist()
    ['a.csv']
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _write_sheet(writer, frame: pd.DataFrame, sheet: str) -> None:
    frame.to_excel(writer, sheet_name=sheet, index=False)
    ws = writer.sheets[sheet]
    ws.freeze_panes = "A2"
    for k, col in enumerate(frame.columns, start=1):
        width = max([len(str(col))] + [len(str(v)) for v in frame[col].head(200)])
        ws.column_dimensions[ws.cell(1, k).column_letter].width = min(width + 2, 60)


def scenario_excel(record: ScenarioRecord, text: ExportText | None = None) -> bytes:
    """A scenario as one workbook: sheets ``parametres``, ``synthese``, ``centres``,
    ``communes``, ``sans_centre`` (same content as :func:`scenario_csv`).

    Examples
    --------
    >>> import datetime as dt, openpyxl
    >>> now = dt.datetime(2026, 1, 1)
    >>> rec = ScenarioRecord(1, 1, "v1", "A", "", {"model": "pmedian"}, None, None,
    ...                      None, "draft", now, now)
    >>> openpyxl.load_workbook(io.BytesIO(scenario_excel(rec))).sheetnames
    ['parametres', 'synthese', 'centres', 'communes', 'sans_centre']
    """
    record = _check_record(record)
    frames = _frames(record, text)
    buffer = io.BytesIO()
    with excel_writer(buffer) as writer:
        for frame, sheet in zip(frames, SCENARIO_SHEETS, strict=True):
            _write_sheet(writer, frame, sheet)
    return buffer.getvalue()


def _json_value(value: Any) -> Any:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(float(value)) else None
    return value if isinstance(value, str) else str(value)


def scenario_geojson(
    record: ScenarioRecord,
    commune_polygons: Mapping[str, Any] | None = None,
    *,
    include_unopened: bool = False,
) -> dict[str, Any]:
    """Centers and catchment areas of a scenario as a GeoJSON FeatureCollection.

    Parameters
    ----------
    record : ScenarioRecord
        A scenario with results.
    commune_polygons : dict, optional
        Commune id (as in the ``communes`` table) -> shapely geometry in
        EPSG:4326. Without it, catchments carry their figures with a null geometry.
    include_unopened : bool
        Also list candidate sites left unopened (``status`` ``not_opened``).

    Returns
    -------
    dict
        Point features ``kind="center"`` with every center column (``status``
        kept/closed/opened...), then one feature ``kind="catchment"`` per serving
        site: the union of its communes' polygons with ``site_id``, ``name`` (the
        site's), ``demand`` (sum) and ``communes`` (count).
    """
    import shapely
    from shapely.geometry import mapping

    record = _check_record(record)
    if record.centers is None or record.communes is None:
        raise ValueError(
            f"scenario {record.name!r} has no results yet: run it before exporting "
            "a map"
        )
    features: list[dict[str, Any]] = []
    centers = record.centers
    if not include_unopened:
        centers = centers[centers["status"] != "not_opened"]
    for row in centers.to_dict("records"):
        props = {k: _json_value(v) for k, v in row.items()}
        props["kind"] = "center"
        geometry = {"type": "Point", "coordinates": [row["lon"], row["lat"]]}
        features.append({"type": "Feature", "geometry": geometry, "properties": props})
    names = dict(zip(record.centers["site_id"], record.centers["name"], strict=True))
    communes = record.communes[record.communes["site_id"].notna()]
    for site_id, group in communes.groupby("site_id", sort=True):
        geometry = None
        if commune_polygons is not None:
            parts = [
                commune_polygons[c]
                for c in group["commune_id"]
                if commune_polygons.get(c) is not None
            ]
            if parts:
                geometry = mapping(shapely.union_all(parts))
        props = {
            "kind": "catchment",
            "site_id": _json_value(site_id),
            "name": _json_value(names.get(site_id)),
            "demand": float(group["demand"].sum()),
            "communes": len(group),
        }
        features.append({"type": "Feature", "geometry": geometry, "properties": props})
    return {"type": "FeatureCollection", "features": features}


# -- comparison ---------------------------------------------------------------------
def _labels(records: Sequence[ScenarioRecord]) -> list[str]:
    names = [r.name for r in records]
    return [
        r.name if names.count(r.name) == 1 else f"{r.name} (#{r.id})" for r in records
    ]


def _population(record: ScenarioRecord, population: Any) -> float | None:
    if isinstance(population, Mapping):
        population = population.get(record.dataset_id)
    if population is not None:
        return float(population)
    units = (record.summary or {}).get("units") or {}
    if units.get("demand") == "inhabitants" and record.communes is not None:
        return float(record.communes["demand"].sum())
    return None


def _scenario_values(record: ScenarioRecord, population: Any) -> dict[str, Any]:
    summary = record.summary or {}
    after = (summary.get("kpis") or {}).get("after") or {}
    solve = summary.get("solve") or {}
    changes = summary.get("changes") or {}
    share = after.get("share_within_radius")
    gap = solve.get("gap")
    pop = _population(record, population)
    opened = after.get("open_centers")
    return {
        "mean_distance": after.get("mean_distance"),
        "max_distance": after.get("max_distance"),
        "share_within_radius": (
            None
            if share is None
            else SCENARIO_KPIS["share_within_radius"].scale * share
        ),
        "unserved_population": after.get("unserved_population"),
        "open_centers": opened,
        "opened": changes.get("opened"),
        "closed": changes.get("closed"),
        # the run's own figure (engine's population) unless a population is given;
        # None (n.d.) when neither is known, never 0
        "centers_per_100k": (
            100_000.0 * opened / pop
            if pop and opened is not None
            else after.get("centers_per_100k")
        ),
        "overloaded_centers": after.get("overloaded_centers"),
        "unmet_demand": after.get("unmet_demand"),
        "unassigned_demand": after.get("unassigned_demand"),
        "unserved_communes": _unserved_communes(record),
        "cost": after.get("cost"),
        "solver_status": record.status,
        "gap": None if gap is None else SCENARIO_KPIS["gap"].scale * gap,
        "dataset_version": record.dataset_version,
        "measure": measure_of(record.params),
    }


def _served_most(
    by_label: dict[str, Any], values: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """``by_label`` kept to the plans leaving the least demand without a center
    (all of them when that is unknown for any)."""
    unserved = {k: values[k].get("unassigned_demand") for k in by_label}
    if not all(
        isinstance(v, (int, float)) and math.isfinite(v) for v in unserved.values()
    ):
        return by_label
    least = min(unserved.values())
    return {
        k: v
        for k, v in by_label.items()
        if math.isclose(unserved[k], least, rel_tol=1e-9, abs_tol=1e-9)
    }


def _unserved_communes(record: ScenarioRecord) -> int | None:
    communes = record.communes
    if communes is None or "site_id" not in communes:
        return None
    return int((communes["site_id"].isna() & (communes["demand"] > 0)).sum())


def _best(values: dict[str, Any], better: str | None) -> str | None:
    numbers = {
        k: float(v)
        for k, v in values.items()
        if isinstance(v, (int, float))
        and not isinstance(v, bool)
        and math.isfinite(float(v))
    }
    if better is None or not numbers:
        return None
    target = (min if better == "lower" else max)(numbers.values())
    winners = [k for k, v in numbers.items() if math.isclose(v, target, rel_tol=1e-9)]
    if len(numbers) > 1 and len(winners) == len(numbers):
        return None  # all equal: no scenario is better
    return ", ".join(winners)


def compare_kpis(
    records: Sequence[ScenarioRecord],
    *,
    lang: str = "fr",
    population: float | Mapping[int, float] | None = None,
) -> pd.DataFrame:
    """Side-by-side KPIs of several scenarios, after their changes.

    Parameters
    ----------
    records : sequence of ScenarioRecord
        Scenarios to compare (drafts give empty cells).
    lang : {'fr', 'en'}
        Language of the ``kpi`` labels.
    population : float or dict, optional
        Total population (or dataset id -> population) for centers per 100,000
        inhabitants; without it the value is given only for scenarios whose demand
        is population (``units.demand == "inhabitants"``).

    Returns
    -------
    DataFrame
        Indexed by row id (see ``COMPARISON_ROWS``): ``kpi`` (label), ``unit``,
        one column per scenario (its name, with ``(#id)`` when names repeat),
        ``better`` (``lower``/``higher``/None) and ``best`` (the best scenario's
        column name, several joined by ", " on a tie, None when all are equal or
        no direction applies). Shares and gaps are in percent.

    Examples
    --------
    >>> import datetime as dt
    >>> now = dt.datetime(2026, 1, 1)
    >>> def rec(i, d):
    ...     s = {"kpis": {"after": {"mean_distance": d}}}
    ...     return ScenarioRecord(i, 1, "v1", f"S{i}", "", {}, s, None, None,
    ...                           "optimal", now, now)
    >>> compare_kpis([rec(1, 12.0), rec(2, 9.5)]).loc["mean_distance", "best"]
    'S2'
    """
    records = [_check_record(r) for r in records]
    if not records:
        raise ValueError("nothing to compare: give at least one scenario")
    labels = _labels(records)
    values = {
        label: _scenario_values(r, population)
        for label, r in zip(labels, records, strict=True)
    }
    rows = []
    # the engine's units of the runs that have them (a draft has none)
    runs = [u for r in records if (u := (r.summary or {}).get("units"))] or [None]
    one_measure = len({values[label]["measure"] for label in labels}) == 1
    for spec in COMPARISON_ROWS:
        # this quantity's unit (km or min...) in ``lang``
        unit = ", ".join(sorted({spec.unit_in(lang, u) for u in runs}))
        names = {spec.name(lang, u) for u in runs}
        name = names.pop() if len(names) == 1 else spec.name(lang)
        row = {"id": spec.id, "kpi": name, "unit": unit}
        by_label = {label: values[label][spec.id] for label in labels}
        if spec.id == "measure":
            by_label = {k: measure_label(v, lang) for k, v in by_label.items()}
        row.update(by_label)
        row["better"] = spec.better
        if spec.served_first:
            by_label = _served_most(by_label, values)
        # km and minutes do not compare: no best on a distance of mixed measures
        comparable = one_measure or (spec.unit != "distance" and not spec.time_fr)
        row["best"] = _best(by_label, spec.better) if comparable else None
        rows.append(row)
    return pd.DataFrame(rows).set_index("id")


def _sheet_name(record: ScenarioRecord, used: set[str]) -> str:
    clean = re.sub(r"[\[\]:*?/\\']", " ", record.name).strip() or "scenario"
    name = f"S{record.id} {clean}"[:_EXCEL_MAX_SHEET].rstrip()
    k = 2
    while name.lower() in used:
        suffix = f" ({k})"
        name = f"S{record.id} {clean}"[: _EXCEL_MAX_SHEET - len(suffix)] + suffix
        k += 1
    used.add(name.lower())
    return name


def readable_comparison(table: pd.DataFrame, text: ExportText) -> pd.DataFrame:
    """:func:`compare_kpis`'s table as the screen shows it: the catalogue's
    rounding, statuses in words, n.d. for no value, headers in ``text``'s language
    (the ``better`` column, which the ★ of ``best`` says, left out)."""
    names = [c for c in table.columns if c not in ("kpi", "unit", "better", "best")]
    out = table.drop(columns="better").copy().astype(object)
    for key in out.index:
        kpi = SCENARIO_KPIS.get(key)
        for n in names:
            value = out.at[key, n]
            if isinstance(value, (int, float, np.number)) and not isinstance(
                value, bool
            ):
                value = float(value)
                out.at[key, n] = (
                    round(value, kpi.decimals if kpi else 1)
                    if math.isfinite(value)
                    else None
                )
            elif isinstance(value, str):
                out.at[key, n] = text.words.get(value, value)
    out[names] = _missing(out[names], text)
    out = out.reset_index(drop=True)
    out.columns = [c if c in names else text.header(c) for c in out.columns]
    return out


def comparison_excel(
    records: Sequence[ScenarioRecord],
    *,
    lang: str = "fr",
    population: float | Mapping[int, float] | None = None,
    text: ExportText | None = None,
) -> bytes:
    """A workbook: sheet ``comparaison`` (:func:`compare_kpis`), then one summary
    sheet per scenario (``S<id> <name>``, :func:`summary_frame` under its
    parameters). With ``text``, as the screen reads them
    (:func:`readable_comparison`)."""
    records = [_check_record(r) for r in records]
    table = compare_kpis(records, lang=lang, population=population)
    first = table.reset_index() if text is None else readable_comparison(table, text)
    buffer = io.BytesIO()
    used = {COMPARISON_SHEET}
    with excel_writer(buffer) as writer:
        _write_sheet(writer, first, COMPARISON_SHEET)
        for record in records:
            sheet = _sheet_name(record, used)
            params = parameters_frame(record, text)
            _write_sheet(writer, params, sheet)
            summary_frame(record, text).to_excel(
                writer, sheet_name=sheet, index=False, startrow=len(params) + 2
            )
    return buffer.getvalue()
