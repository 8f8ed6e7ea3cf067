"""Importing files into the store: assemble, store in one transaction, derive access.

Shared by the import screen and ``python -m dashapp import``; wording of issues
comes from the catalogue (``imp.issue.<code>``).
"""

from __future__ import annotations

from collections.abc import Callable

from dashapp.i18n import STRINGS, t
from data.importers import ImportSpec, Report, assemble
from data.importers.validate import Issue
from data.store import DatasetInfo, Store
from geo.access import refresh_access

IMPORT_DESCRIPTION = "Imported / importé: {files}. Missing indicators / indicateurs manquants: {missing}."


def issue_text(issue: Issue, lang: str) -> str:
    """One issue worded in ``lang``: where (file, row, field), then what."""
    params = {k: ("" if v is None else v) for k, v in issue.params.items()}
    key = f"imp.issue.{issue.code}"
    what = t(key, lang, **params) if key in STRINGS else issue.text()
    if "more" in params:
        what = t("imp.more", lang, n=params["more"])
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
) -> tuple[Report, DatasetInfo | None, dict | None]:
    """Check every file, then store the dataset whole (or nothing) and its access.

    Returns the report, the stored dataset (``None`` on errors or ``dry_run``) and
    the bundle's summary (``None`` on errors).
    """
    report = Report()
    bundle = assemble(spec, report, progress)
    if bundle is None or not report.ok:
        return report, None, None
    summary = bundle.summary()
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
    info = store.add_dataset(
        bundle,
        kind="imported",
        activate=activate,
        description=IMPORT_DESCRIPTION.format(
            files=files, missing=", ".join(bundle.missing) or "-"
        ),
    )
    if progress:
        progress(97, "access")
    refresh_access(store, info.id)
    return report, info, summary
