"""Files for planners: a saved scenario as CSV, Excel or GeoJSON, and comparisons.

Column names are the engine's identifiers (``site_id``, ``assigned_demand``...), the
same in every language, so files from different users can be merged; labels meant
for reading (KPI names in the comparison) follow ``lang``.

CSV files are UTF-8 with a byte-order mark (so spreadsheet programs show accents
correctly) and comma separators.

Excel sheet names:

* one scenario (:func:`scenario_excel`): ``parametres``, ``synthese``, ``centres``,
  ``communes``;
* comparison (:func:`comparison_excel`): ``comparaison`` then one ``synthese``
  sheet per scenario named after it (``S<id> <name>``, cut to Excel's 31 characters).

Examples
--------
>>> from data.exports import COMPARISON_ROWS
>>> COMPARISON_ROWS[0].id, COMPARISON_ROWS[0].better
('mean_distance', 'lower')
"""

from __future__ import annotations

import io
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from data.scenarios import ScenarioRecord

__all__ = [
    "COMPARISON_ROWS",
    "SCENARIO_SHEETS",
    "compare_kpis",
    "comparison_excel",
    "parameters_frame",
    "scenario_csv",
    "scenario_excel",
    "scenario_geojson",
    "summary_frame",
]

SCENARIO_SHEETS = ("parametres", "synthese", "centres", "communes")
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
_EXCEL_MAX_SHEET = 31


@dataclass(frozen=True)
class ComparisonRow:
    """One line of the comparison table and which way is better."""

    id: str
    name_fr: str
    name_en: str
    unit: str
    better: str | None  # 'lower', 'higher' or None (no better direction)

    def name(self, lang: str) -> str:
        return self.name_fr if lang == "fr" else self.name_en


COMPARISON_ROWS: tuple[ComparisonRow, ...] = (
    ComparisonRow(
        "mean_distance",
        "Distance moyenne au centre",
        "Mean distance to the center",
        "distance",
        "lower",
    ),
    ComparisonRow(
        "max_distance",
        "Distance maximale au centre",
        "Maximum distance to the center",
        "distance",
        "lower",
    ),
    ComparisonRow(
        "share_within_radius",
        "Part de la demande à moins de R",
        "Share of demand within R",
        "%",
        "higher",
    ),
    ComparisonRow("open_centers", "Centres ouverts", "Open centers", "", None),
    ComparisonRow("opened", "Centres créés", "Centers opened", "", None),
    ComparisonRow("closed", "Centres fermés", "Centers closed", "", None),
    ComparisonRow(
        "centers_per_100k",
        "Centres pour 100 000 hab.",
        "Centers per 100,000 inhabitants",
        "",
        "higher",
    ),
    ComparisonRow(
        "overloaded_centers",
        "Centres surchargés",
        "Overloaded centers",
        "",
        "lower",
    ),
    ComparisonRow(
        "unmet_demand",
        "Demande non satisfaite",
        "Unmet demand",
        "demand",
        "lower",
    ),
    ComparisonRow("cost", "Coût des changements", "Cost of the changes", "", "lower"),
    ComparisonRow("solver_status", "Statut du solveur", "Solver status", "", None),
    ComparisonRow("gap", "Écart d'optimalité", "Optimality gap", "%", "lower"),
    ComparisonRow(
        "dataset_version",
        "Version des données",
        "Data version",
        "",
        None,
    ),
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


# -- tables -------------------------------------------------------------------------
def parameters_frame(record: ScenarioRecord) -> pd.DataFrame:
    """The scenario's identity then its spec flattened, one ``parameter, value`` row each.

    Nested keys are dotted (``parameters.p``); lists are JSON text.
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
    ]
    rows += [(f"spec.{k}", v) for k, v in _flatten(record.params, "")]
    return pd.DataFrame(rows, columns=["parameter", "value"])


def summary_frame(record: ScenarioRecord) -> pd.DataFrame:
    """The run's summary as rows ``section, name, value, before, after, change``.

    Network KPIs (section ``kpis``) fill ``before``, ``after`` and ``change``;
    solve information, units and counts of changes fill ``value``. Empty for a
    scenario not run yet.
    """
    record = _check_record(record)
    columns = ["section", "name", "value", "before", "after", "change"]
    summary = record.summary or {}
    rows: list[dict[str, Any]] = []
    for section in ("solve", "units", "changes"):
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
    return pd.DataFrame(rows, columns=columns)


def _table(frame: pd.DataFrame | None, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(columns=columns) if frame is None else frame


# -- one scenario -------------------------------------------------------------------
def _csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8-sig")


def scenario_csv(record: ScenarioRecord) -> dict[str, bytes]:
    """A scenario as four CSV files (name -> content), e.g. for a zip download.

    Returns
    -------
    dict
        ``parameters.csv`` (:func:`parameters_frame`), ``summary_kpis.csv``
        (:func:`summary_frame`), ``centers.csv`` and ``communes.csv`` (the result
        tables as stored; headers only for a draft).
    """
    record = _check_record(record)
    return {
        "parameters.csv": _csv_bytes(parameters_frame(record)),
        "summary_kpis.csv": _csv_bytes(summary_frame(record)),
        "centers.csv": _csv_bytes(_table(record.centers, CENTER_COLUMNS)),
        "communes.csv": _csv_bytes(_table(record.communes, COMMUNE_COLUMNS)),
    }


def _write_sheet(writer, frame: pd.DataFrame, sheet: str) -> None:
    frame.to_excel(writer, sheet_name=sheet, index=False)
    ws = writer.sheets[sheet]
    ws.freeze_panes = "A2"
    for k, col in enumerate(frame.columns, start=1):
        width = max([len(str(col))] + [len(str(v)) for v in frame[col].head(200)])
        ws.column_dimensions[ws.cell(1, k).column_letter].width = min(width + 2, 60)


def scenario_excel(record: ScenarioRecord) -> bytes:
    """A scenario as one workbook: sheets ``parametres``, ``synthese``, ``centres``,
    ``communes`` (same content as :func:`scenario_csv`).

    Examples
    --------
    >>> import datetime as dt, openpyxl
    >>> now = dt.datetime(2026, 1, 1)
    >>> rec = ScenarioRecord(1, 1, "v1", "A", "", {"model": "pmedian"}, None, None,
    ...                      None, "draft", now, now)
    >>> openpyxl.load_workbook(io.BytesIO(scenario_excel(rec))).sheetnames
    ['parametres', 'synthese', 'centres', 'communes']
    """
    record = _check_record(record)
    frames = (
        parameters_frame(record),
        summary_frame(record),
        _table(record.centers, CENTER_COLUMNS),
        _table(record.communes, COMMUNE_COLUMNS),
    )
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
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
        "share_within_radius": None if share is None else 100.0 * share,
        "open_centers": opened,
        "opened": changes.get("opened"),
        "closed": changes.get("closed"),
        "centers_per_100k": (
            100_000.0 * opened / pop if pop and opened is not None else None
        ),
        "overloaded_centers": after.get("overloaded_centers"),
        "unmet_demand": after.get("unmet_demand"),
        "cost": after.get("cost"),
        "solver_status": record.status,
        "gap": None if gap is None else 100.0 * gap,
        "dataset_version": record.dataset_version,
    }


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
    for spec in COMPARISON_ROWS:
        unit = spec.unit
        if unit not in ("", "%"):
            # the engine's unit of this quantity ('km', 'min', 'requests/week'...)
            found = {
                str(((r.summary or {}).get("units") or {}).get(spec.unit))
                for r in records
                if ((r.summary or {}).get("units") or {}).get(spec.unit)
            }
            unit = ", ".join(sorted(found))
        row = {"id": spec.id, "kpi": spec.name(lang), "unit": unit}
        by_label = {label: values[label][spec.id] for label in labels}
        row.update(by_label)
        row["better"] = spec.better
        row["best"] = _best(by_label, spec.better)
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


def comparison_excel(
    records: Sequence[ScenarioRecord],
    *,
    lang: str = "fr",
    population: float | Mapping[int, float] | None = None,
) -> bytes:
    """A workbook: sheet ``comparaison`` (:func:`compare_kpis`), then one summary
    sheet per scenario (``S<id> <name>``, :func:`summary_frame` under its
    parameters)."""
    records = [_check_record(r) for r in records]
    table = compare_kpis(records, lang=lang, population=population)
    buffer = io.BytesIO()
    used = {COMPARISON_SHEET}
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        _write_sheet(writer, table.reset_index(), COMPARISON_SHEET)
        for record in records:
            sheet = _sheet_name(record, used)
            params = parameters_frame(record)
            _write_sheet(writer, params, sheet)
            summary_frame(record).to_excel(
                writer, sheet_name=sheet, index=False, startrow=len(params) + 2
            )
    return buffer.getvalue()
