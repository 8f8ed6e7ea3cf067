"""Importing real data: boundaries, population, centers, candidate sites, operations.

``boundaries`` reads and checks polygon layers and builds the hierarchy, ``tables``
reads CSV and Excel tables, ``names`` normalises place names for joins,
``validate`` holds the report of issues and ``bundle`` assembles everything into
what :meth:`data.store.Store.add_dataset` writes in one transaction.
"""

from data.importers.bundle import (
    DEFAULT_RATES,
    ImportBundle,
    ImportSpec,
    Source,
    assemble,
    estimate_demand,
)
from data.importers.validate import ImportValidationError, Issue, Report

__all__ = [
    "DEFAULT_RATES",
    "ImportBundle",
    "ImportSpec",
    "ImportValidationError",
    "Issue",
    "Report",
    "Source",
    "assemble",
    "estimate_demand",
]
