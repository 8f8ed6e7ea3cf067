"""Memoised, reusable computations behind the callbacks.

Keys are plain hashable values (database URL, dataset id, ISO dates, tuples), so the
flask-caching cache can hold the results; nothing here mutates what it returns.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import pandas as pd

from dashapp.cache import cache
from data import kpi as kpi_mod
from data import views
from data.store import Store
from geo.display import to_geojson

DISPLAY_TOLERANCE_DEG = {0: 0.004, 1: 0.003, 2: 0.0015}


@lru_cache(maxsize=8)
def get_store(url: str) -> Store:
    """One Store (engine and pool) per database URL and process."""
    return Store(url)


@cache.memoize()
def context(url: str, dataset_id: int | None = None) -> views.DatasetContext | None:
    """The dataset's units, centers, document types and weeks."""
    return views.load_context(get_store(url), dataset_id)


@cache.memoize()
def level_geojson(url: str, dataset_id: int, level: int) -> dict:
    """Simplified GeoJSON of one level, sent once per level to the browser."""
    ctx = context(url, dataset_id)
    tolerance = DISPLAY_TOLERANCE_DEG.get(level, 0.0015)
    return to_geojson(ctx.units_at(level), "code", tolerance_deg=tolerance)


def _filters(dataset_id, start, end, docs, radius, commune_level) -> kpi_mod.Filters:
    return kpi_mod.Filters(
        dataset_id,
        dt.date.fromisoformat(start),
        dt.date.fromisoformat(end),
        tuple(docs),
        float(radius),
        commune_level,
    )


@cache.memoize()
def commune_measures(
    url: str,
    dataset_id: int,
    start: str,
    end: str,
    docs: tuple[str, ...],
    radius: float,
    commune_level: int,
) -> pd.DataFrame:
    """Every KPI measure per commune for one filter combination."""
    filters = _filters(dataset_id, start, end, docs, radius, commune_level)
    return kpi_mod.commune_measures(get_store(url), filters)


@cache.memoize()
def center_measures(
    url: str, dataset_id: int, start: str, end: str, docs: tuple[str, ...]
) -> pd.DataFrame:
    """Requests handled per center for one period and document types."""
    filters = _filters(dataset_id, start, end, docs, 0.0, 0)
    return views.center_measures(get_store(url), filters)


@cache.memoize()
def weekly_requests(
    url: str,
    dataset_id: int,
    start: str,
    end: str,
    docs: tuple[str, ...],
    selection: str | None,
) -> pd.DataFrame:
    """Weekly requests by document type for a selection."""
    ctx = context(url, dataset_id)
    filters = _filters(dataset_id, start, end, docs, 0.0, ctx.commune_level)
    return views.weekly_requests(get_store(url), ctx, filters, selection)


def measures_for(url: str, ctx: views.DatasetContext, resolved) -> pd.DataFrame:
    """Commune measures for resolved filters (memoised underneath)."""
    return commune_measures(
        url,
        ctx.info.id,
        resolved.start.isoformat(),
        resolved.end.isoformat(),
        tuple(resolved.doc_types),
        float(resolved.radius_km),
        ctx.commune_level,
    )


def centers_for(url: str, ctx: views.DatasetContext, resolved) -> pd.DataFrame:
    """Open centers of the selection with capacity, demand and utilisation."""
    per_center = center_measures(
        url,
        ctx.info.id,
        resolved.start.isoformat(),
        resolved.end.isoformat(),
        tuple(resolved.doc_types),
    )
    n_weeks = measures_for(url, ctx, resolved).attrs.get("n_weeks", 0)
    return views.center_table(ctx, per_center, n_weeks, resolved.selection)
