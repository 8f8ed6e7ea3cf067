"""Tables of an import (CSV or Excel): population, centers, candidate sites, operations.

CSV files are decoded as UTF-8 (with or without BOM), UTF-16 with a BOM, or
Windows-1252, the usual export of French-language spreadsheets; a file none of these
decodes cleanly is refused with the line of the first bad byte instead of being
read as mojibake. The column separator is the one of ``, ; tab |`` that splits the
header and the first rows into the same number of columns; when none or several
do, the file is refused and the user names it.

Examples
--------
>>> import io
>>> from data.importers.validate import Report
>>> frame = read_table(io.BytesIO(b"code;nom;population\\nC1;Kaolack;1 200\\n"),
...                    "pop.csv", Report())
>>> frame.columns.tolist()
['code', 'nom', 'population']
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from data.importers.validate import Report

DELIMITERS = (",", ";", "\t", "|")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

#: Known column names (normalised: lower case, no accents) of each table's fields.
ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "population": {
        "code": ("unit_code", "commune_code", "code", "pcode", "adm3_pcode",
                 "adm2_pcode", "shapeid", "id", "code_commune", "insee"),
        "name": ("name", "nom", "commune", "libelle", "adm3_fr", "adm3_en",
                 "adm3_ref", "shapename", "nom_commune", "localite", "nom_localite"),
        "population": ("population", "pop", "pop_total", "total", "t_tl",
                       "habitants", "hab", "nb_habitants", "pop2024", "pop2023",
                       "pop2025"),
        "poverty_rate": ("poverty_rate", "pauvrete", "taux_pauvrete"),
        "literacy_rate": ("literacy_rate", "alphabetisation", "taux_alphabetisation"),
        "internet_rate": ("internet_rate", "internet", "acces_internet"),
        "urban": ("urban", "urbain", "milieu"),
        # the parent unit (name or code) that tells homonymous communes apart
        "parent": ("parent", "parent_code", "parent_name", "province", "departement",
                   "department", "prefecture", "cercle", "adm2_fr", "adm2_en",
                   "name_2", "nom_departement", "nom_province", "adm2_pcode"),
    },
    "centers": {
        "code": ("center_code", "code", "id", "code_centre", "centre_id"),
        "name": ("name", "nom", "centre", "libelle"),
        "lon": ("lon", "longitude", "lng", "x", "long"),
        "lat": ("lat", "latitude", "y"),
        "capacity_week": ("capacity_week", "capacite", "capacite_semaine",
                          "capacity"),
        "staff": ("staff", "effectif", "agents"),
        "status": ("status", "statut", "etat"),
        "opened_on": ("opened_on", "ouverture", "date_ouverture"),
        "commune_code": ("commune_code", "code_commune", "pcode", "adm3_pcode"),
    },
    "candidates": {
        "code": ("site_code", "code", "id", "code_site"),
        "name": ("name", "nom", "site", "libelle"),
        "lon": ("lon", "longitude", "lng", "x", "long"),
        "lat": ("lat", "latitude", "y"),
        "opening_cost": ("opening_cost", "cout", "cout_ouverture", "cost"),
        "capacity_week": ("capacity_week", "capacite", "capacity"),
        "commune_code": ("commune_code", "code_commune", "pcode", "adm3_pcode"),
    },
    "operations": {
        "week": ("week", "semaine", "date"),
        "commune_code": ("commune_code", "commune", "code_commune", "pcode"),
        "center_code": ("center_code", "centre", "code_centre", "center"),
        "doc_type": ("doc_type", "document", "type_document", "type"),
        "requests": ("requests", "demandes", "requetes"),
        "delivered": ("delivered", "delivres", "delivrees"),
        "delivered_on_time": ("delivered_on_time", "dans_les_delais", "a_temps"),
        "rejected": ("rejected", "rejets", "rejetes"),
        "backlog": ("backlog", "en_attente", "stock"),
        "delay_mean_days": ("delay_mean_days", "delai_moyen", "delai_moyen_jours"),
        "delay_p90_days": ("delay_p90_days", "delai_p90", "delai_p90_jours"),
    },
}  # fmt: skip

#: Largest value accepted in each kind of numeric cell; a larger one is an error
#: naming its row. Far above any real figure, and well within the store's column
#: types (population is a 64-bit integer, operation counts 32-bit integers), so a
#: typo such as ``1e20`` is refused instead of being stored wrapped around.
MAX_VALUE = {
    "population": 2e9,  # per unit: more than any country
    "rate": 100.0,  # socio-economic rates, in % (or shares of 1)
    "capacity_week": 1e6,  # requests a week at one site
    "staff": 1e5,
    "opening_cost": 1e15,
    "count": 1e7,  # requests, deliveries... of one commune at one center in a week
    "delay_days": 3650.0,
}

#: Fields without which a table of that kind cannot be used.
REQUIRED = {
    "population": ("population",),
    "centers": ("code", "name", "lon", "lat"),
    "candidates": ("code", "name", "lon", "lat"),
    "operations": (
        "week",
        "commune_code",
        "center_code",
        "doc_type",
        "requests",
        "delivered",
        "delivered_on_time",
        "rejected",
        "backlog",
    ),
}


def _norm_col(name: str) -> str:
    from data.importers.names import normalise

    return normalise(name).replace(" ", "_")


def guess_mapping(columns, kind: str) -> dict[str, str | None]:
    """Guess which column holds each field of a ``kind`` table, by its name.

    Examples
    --------
    >>> guess_mapping(["Code", "Nom", "Longitude", "Latitude"], "centers")["lon"]
    'Longitude'
    """
    if kind not in ALIASES:
        raise ValueError(f"kind should be one of {sorted(ALIASES)}, got {kind!r}")
    by_norm = {}
    for col in columns:
        by_norm.setdefault(_norm_col(str(col)), col)
    mapping: dict[str, str | None] = {}
    used: set = set()
    for fieldname, aliases in ALIASES[kind].items():
        hit = next(
            (by_norm[a] for a in aliases if a in by_norm and by_norm[a] not in used),
            None,
        )
        mapping[fieldname] = hit
        if hit is not None:
            used.add(hit)
    return mapping


def guess_kind(columns) -> str | None:
    """The table kind whose required fields the column names cover best.

    Examples
    --------
    >>> guess_kind(["week", "commune_code", "center_code", "doc_type", "requests",
    ...             "delivered", "delivered_on_time", "rejected", "backlog"])
    'operations'
    >>> guess_kind(["pcode", "population"])
    'population'
    """
    best, score = None, 0.0
    for kind in ("operations", "centers", "candidates", "population"):
        mapping = guess_mapping(columns, kind)
        share = np.mean([mapping[f] is not None for f in REQUIRED[kind]])
        if share > score:
            best, score = kind, share
    return best if score == 1.0 else None


def decode(raw: bytes, file: str, report: Report, encoding: str | None = None) -> str:
    """Decode a text file: ``encoding`` if given, else UTF-8, UTF-16 (BOM), cp1252."""
    if encoding:
        try:
            return raw.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            report.error(
                "encoding_unknown",
                file=file,
                row=_line_of(raw, getattr(exc, "start", 0)),
                tried=encoding,
            )
            return ""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    try:
        text = raw.decode("utf-8-sig")
        bad = _CONTROL.search(text)
        if bad is None:
            return text
        # valid UTF-8 but control characters (NULs of UTF-16 without BOM, ...)
        first_bad = len(text[: bad.start()].encode("utf-8"))
        report.error(
            "encoding_unknown",
            file=file,
            row=_line_of(raw, first_bad),
            tried="UTF-8, UTF-16, Windows-1252",
        )
        return ""
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    try:
        text = raw.decode("cp1252")
    except UnicodeDecodeError as exc:
        first_bad = exc.start
        text = None
    if text is not None and not _CONTROL.search(text):
        report.info("encoding_used", file=file, encoding="windows-1252")
        return text
    if text is not None:
        first_bad = _CONTROL.search(text).start()
    report.error(
        "encoding_unknown",
        file=file,
        row=_line_of(raw, first_bad),
        tried="UTF-8, UTF-16, Windows-1252",
    )
    return ""


def _line_of(raw: bytes, offset: int) -> int:
    """1-based line number of a byte offset."""
    return raw.count(b"\n", 0, offset) + 1


def sniff_delimiter(text: str, file: str, report: Report) -> str | None:
    """The separator that splits the header and first rows into equal column counts."""
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    if not lines:
        report.error("no_features", file=file)
        return None
    fits = {}
    for delim in DELIMITERS:
        counts = {len(row) for row in csv.reader(lines, delimiter=delim)}
        if len(counts) == 1 and counts.pop() > 1:
            fits[delim] = len(next(csv.reader(lines[:1], delimiter=delim)))
    if len(fits) == 1:
        return next(iter(fits))
    names = {",": "','", ";": "';'", "\t": "tab", "|": "'|'"}
    report.error(
        "delimiter_unknown",
        file=file,
        row=1,
        candidates=", ".join(names[d] for d in (fits or DELIMITERS)),
    )
    return None


def read_table(
    source,
    file: str,
    report: Report,
    *,
    delimiter: str | None = None,
    encoding: str | None = None,
    sheet: str | int = 0,
) -> pd.DataFrame | None:
    """Read a CSV or Excel table as strings; problems go to ``report``.

    Parameters
    ----------
    source : path or file-like
        The file; its type comes from ``file``'s suffix (``.xlsx``/``.xlsm`` are
        Excel, anything else is read as delimited text).
    file : str
        The name shown in messages.
    report : Report
        Receives the issues; ``None`` is returned when the table cannot be read.
    delimiter, encoding : str, optional
        Force the separator or the text encoding instead of detecting them.
    sheet : str or int
        Excel sheet (first by default).

    Returns
    -------
    DataFrame or None
        Every cell as a string (``None`` for empty cells), header stripped.
    """
    raw = source.read() if hasattr(source, "read") else Path(source).read_bytes()
    if Path(file).suffix.lower() in EXCEL_SUFFIXES:
        try:
            frame = pd.read_excel(io.BytesIO(raw), sheet_name=sheet, dtype=str)
        except Exception as exc:  # openpyxl raises many types on broken files
            report.error("unreadable", file=file, reason=str(exc)[:200])
            return None
    else:
        text = decode(raw, file, report, encoding)
        if not report.ok and not text:
            return None
        delim = delimiter or sniff_delimiter(text, file, report)
        if delim is None:
            return None
        try:
            frame = pd.read_csv(
                io.StringIO(text),
                sep=delim,
                dtype=str,
                keep_default_na=False,
                skipinitialspace=True,
            )
        except (pd.errors.ParserError, ValueError) as exc:
            # pandas's words go to the log; the line it names is shown as the row
            line = re.search(r"\bline (\d+)", str(exc))
            report.error("unreadable", file=file, reason=str(exc)[:200],
                         row=int(line.group(1)) if line else None)  # fmt: skip
            return None
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.map(lambda v: v.strip() if isinstance(v, str) else v)
    frame = frame.replace({"": None}).astype(object)
    frame = frame.where(frame.notna(), None)
    if frame.empty:
        report.error("no_features", file=file)
    return frame


def to_number(
    frame: pd.DataFrame,
    column: str,
    file: str,
    report: Report,
    *,
    integer: bool = False,
    required: bool = True,
    minimum: float | None = 0.0,
    maximum: float | None = None,
    field: str | None = None,
) -> pd.Series:
    """Parse a column of numbers written the French or English way.

    ``"1 234,5"``, ``"1234.5"`` and ``"1,234.5"`` all read as 1234.5. Empty cells are
    NaN (an error when ``required``); unparseable cells (infinities and NaN
    included), negative ones (below ``minimum`` 0) and ones outside
    ``minimum..maximum`` are errors naming their row.

    Examples
    --------
    >>> r = Report()
    >>> f = pd.DataFrame({"pop": ["1 234", "2,5", "abc"]})
    >>> to_number(f, "pop", "p.csv", r).tolist()[:2]
    [1234.0, 2.5]
    >>> r.errors[0].row, r.errors[0].code
    (3, 'not_a_number')
    >>> r = Report()
    >>> big = to_number(pd.DataFrame({"pop": ["1e20"]}), "pop", "p.csv", r, maximum=2e9)
    >>> big.tolist(), r.errors[0].code
    ([nan], 'out_of_range')
    """
    label = field or column
    values = np.full(len(frame), np.nan)
    for i, cell in enumerate(frame[column].tolist()):
        if cell is None or (isinstance(cell, float) and np.isnan(cell)):
            if required:
                report.error("missing_value", file=file, row=i + 1, field=label)
            continue
        number = _parse_number(str(cell))
        if number is None or (integer and number != int(number)):
            report.error(
                "not_a_number", file=file, row=i + 1, field=label, value=str(cell)
            )
            continue
        if minimum is not None and number < minimum:
            code = "negative" if minimum == 0 else "out_of_range"
            report.error(code, file=file, row=i + 1, field=label, value=str(cell),
                         minimum=minimum, maximum=maximum)  # fmt: skip
            continue
        if maximum is not None and number > maximum:
            report.error("out_of_range", file=file, row=i + 1, field=label,
                         value=str(cell), minimum=minimum, maximum=maximum)  # fmt: skip
            continue
        values[i] = number
    return pd.Series(values, index=frame.index, name=label)


def _parse_number(text: str) -> float | None:
    s = text.strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    if "," in s and "." in s:
        s = s.replace(",", "")  # 1,234.5
    elif s.count(",") == 1:
        s = s.replace(",", ".")  # 2,5
    elif s.count(",") > 1:
        s = s.replace(",", "")
    try:
        value = float(s)
    except ValueError:
        return None
    return value if np.isfinite(value) else None


def to_dates(
    frame: pd.DataFrame,
    column: str,
    file: str,
    report: Report,
    field: str | None = None,
) -> pd.Series:
    """Parse ISO (2026-01-05) or day-first (05/01/2026) dates; bad cells are errors."""
    label = field or column
    raw = frame[column]
    iso = pd.to_datetime(raw, format="%Y-%m-%d", errors="coerce")
    dayfirst = pd.to_datetime(raw, format="%d/%m/%Y", errors="coerce")
    parsed = iso.fillna(dayfirst)
    for i in np.flatnonzero(parsed.isna().to_numpy()):
        code = "missing_value" if raw.iloc[i] is None else "not_a_date"
        report.error(code, file=file, row=int(i) + 1, field=label, value=raw.iloc[i])
    return parsed
