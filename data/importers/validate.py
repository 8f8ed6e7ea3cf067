"""Validation report of an import: every issue names its file, row and field.

Issues carry a ``code`` and parameters rather than finished sentences, so the app
and the command line word them in French or English from one catalogue
(``dashapp.i18n``, keys ``imp.issue.<code>``); :meth:`Issue.text` gives a plain
English rendering for logs and exceptions.

Examples
--------
>>> report = Report()
>>> report.error("duplicate_code", file="communes.geojson", row=4, field="ADM3_PCODE",
...              value="SN0101")
>>> report.ok
False
>>> report.issues[0].text()
"communes.geojson, row 4, field 'ADM3_PCODE': duplicate_code (value='SN0101')"
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

SEVERITIES = ("error", "warning", "info")

#: Every issue code the importers raise; each has FR and EN text in the app catalogue.
ISSUE_CODES = (
    "unreadable",
    "truncated",
    "too_large",
    "unsupported_format",
    "zip_traversal",
    "zip_too_large",
    "zip_no_layer",
    "many_layers",
    "no_features",
    "unrecognised",
    "not_geojson",
    "not_a_zip",
    "layer_not_found",
    "no_polygon_layer",
    "no_point_layer",
    "no_line_layer",
    "not_lines",
    "not_a_line",
    "road_class_missing",
    "road_class_unknown",
    "road_class_unmapped",
    "road_graph",
    "not_roads",
    "no_roads",
    "points_as_boundaries",
    "not_polygons",
    "polygons_as_sites",
    "not_points",
    "not_a_point",
    "multipoint",
    "point_from_polygon",
    "codes_from_column",
    "codes_from_rows",
    "code_column_not_unique",
    "site_names_from_codes",
    "no_crs",
    "crs_assumed",
    "crs_mismatch",
    "reprojected",
    "wrong_geometry",
    "empty_geometry",
    "repaired",
    "invalid_geometry",
    "no_code_column",
    "missing_column",
    "missing_value",
    "duplicate_code",
    "conflicting_parent",
    "parent_not_found",
    "weak_overlap",
    "no_overlap",
    "overlapping_units",
    "levels_dissolved",
    "levels_mismatch",
    "national_level_added",
    "columns_guessed",
    "no_name_column",
    "parents_joined",
    "encoding_unknown",
    "encoding_used",
    "delimiter_unknown",
    "not_a_number",
    "negative",
    "out_of_range",
    "not_a_date",
    "unmatched_name",
    "ambiguous_name",
    "unmatched_code",
    "no_population",
    "point_outside",
    "commune_mismatch",
    "site_code_is_center",
    "inconsistent_counts",
    "unknown_doc_type",
    "demand_estimated",
    "indicator_missing",
    "population_absent",
    "population_partial",
    "demand_skipped",
)


@dataclass(frozen=True)
class Issue:
    """One problem found in an input file.

    Attributes
    ----------
    code : str
        One of :data:`ISSUE_CODES`.
    severity : {'error', 'warning', 'info'}
        Errors stop the import; warnings and notes are shown and kept.
    file : str
        Name of the file as the user gave it.
    row : int or None
        1-based data row (header excluded; feature number for layers).
    field : str or None
        Column (or property) concerned.
    params : dict
        Values quoted by the message.
    """

    code: str
    severity: str
    file: str
    row: int | None = None
    field: str | None = None
    params: dict[str, Any] = dataclasses.field(default_factory=dict)

    def text(self) -> str:
        """Plain English rendering, for logs and exception messages."""
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.field is not None:
            where.append(f"field {self.field!r}")
        details = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{', '.join(where)}: {self.code}" + (f" ({details})" if details else "")

    def to_dict(self) -> dict:
        """JSON-ready record."""
        return {
            "code": self.code,
            "severity": self.severity,
            "file": self.file,
            "row": self.row,
            "field": self.field,
            "params": {k: _jsonable(v) for k, v in self.params.items()},
        }

    @classmethod
    def from_dict(cls, record: dict) -> Issue:
        return cls(
            record["code"],
            record["severity"],
            record["file"],
            record.get("row"),
            record.get("field"),
            dict(record.get("params") or {}),
        )


@dataclass
class Report:
    """Issues found while reading, checking and assembling the files of an import.

    Examples
    --------
    >>> r = Report()
    >>> r.warning("repaired", file="a.gpkg", row=2, field="geometry", reason="x")
    >>> r.ok, len(r.warnings)
    (True, 1)
    """

    issues: list[Issue] = dataclasses.field(default_factory=list)

    def add(
        self,
        code: str,
        severity: str,
        *,
        file: str,
        row: int | None = None,
        field: str | None = None,
        **params,
    ) -> None:
        if code not in ISSUE_CODES:
            raise ValueError(f"unknown issue code {code!r}")
        if severity not in SEVERITIES:
            raise ValueError(
                f"severity should be one of {SEVERITIES}, got {severity!r}"
            )
        self.issues.append(
            Issue(
                code, severity, file, None if row is None else int(row), field, params
            )
        )

    def error(self, code: str, **kwargs) -> None:
        self.add(code, "error", **kwargs)

    def warning(self, code: str, **kwargs) -> None:
        self.add(code, "warning", **kwargs)

    def info(self, code: str, **kwargs) -> None:
        self.add(code, "info", **kwargs)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "warning"]

    @property
    def ok(self) -> bool:
        """``True`` when nothing stops the import."""
        return not self.errors

    def raise_if_errors(self) -> None:
        """Raise :class:`ImportValidationError` carrying this report if it holds an error."""
        if not self.ok:
            raise ImportValidationError(self)

    def to_records(self) -> list[dict]:
        return [i.to_dict() for i in self.issues]

    @classmethod
    def from_records(cls, records: list[dict]) -> Report:
        return cls([Issue.from_dict(r) for r in records or []])


class ImportValidationError(ValueError):
    """An import stopped on errors; ``report`` lists them all."""

    def __init__(self, report: Report) -> None:
        self.report = report
        errors = report.errors
        head = "; ".join(i.text() for i in errors[:5])
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        super().__init__(f"import failed: {head}{more}")


def _jsonable(value):
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item"):
        return value.item()
    return str(value)
