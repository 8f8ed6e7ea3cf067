"""Services: what the callbacks, the command line and the API share, without Dash.

This package takes plain arguments (a database URL, a dataset id, a
:class:`~dashapp.config.Config`, ISO dates, tuples), imports no layouts and no Dash,
and is the one place the app's memoised work lives:

* here, the memoised queries: the store, a dataset's context, measures, map
  geometries, the scenario workspace and the road-access KPIs of a dataset;
* :mod:`dashapp.services.maps`: what the main map draws, whatever the dataset's size;
* :mod:`dashapp.services.forecasting`: forecasts and risk reports shared between processes;
* :mod:`dashapp.services.segmentation`: indicators, clusterings and proposed sites;
* :mod:`dashapp.services.importing`: uploads checked, assembled and imported.

Keys are plain hashable values, so the flask-caching cache can hold the results;
nothing here mutates what it returns.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import lru_cache
from typing import TYPE_CHECKING

import pandas as pd

from dashapp.cache import cache
from dashapp.parsing import UnknownIdError, parse_id
from data import kpi as kpi_mod
from data import planning, views
from data.store import Store
from geo.display import to_geojson

if TYPE_CHECKING:
    from optimization.workspace import Workspace

# by depth: 2 the communes, 1 the level above, 0 any higher level
DISPLAY_TOLERANCE_DEG = {0: 0.004, 1: 0.003, 2: 0.0015}
# Coordinates one map layer may have (~18 bytes of JSON each): the tolerance is
# coarsened until they fit, so a layer costs at most ~1.8 MB whatever the detail
# of the boundaries (geo.display.to_geojson).
MAX_MAP_COORDS = 100_000


@lru_cache(maxsize=8)
def get_store(url: str) -> Store:
    """One Store (engine and pool) per database URL and process."""
    return Store(url)


def context(url: str, dataset_id: int | None = None) -> views.DatasetContext | None:
    """The dataset's units, centers, document types and weeks (active by default).

    ``None`` when the store holds no dataset. A ``dataset_id`` comes from the
    browser: one that is not an id raises :class:`dashapp.parsing.BadIdError`, one that
    no dataset has :class:`dashapp.parsing.UnknownIdError`.
    """
    if dataset_id is None:
        info = get_store(url).active_dataset()
        if info is None:
            return None
        dataset_id = info.id
    return _context(url, parse_id(dataset_id, "dataset"))


# Read by every callback: kept in process memory as is, not pickled in and out of
# the cache; a dataset version never changes once stored, so it cannot go stale.
# An unknown id raises rather than returning None, so no miss is remembered: the
# dataset may be imported under that id later.
@lru_cache(maxsize=4)
def _context(url: str, dataset_id: int) -> views.DatasetContext:
    ctx = views.load_context(get_store(url), dataset_id)
    if ctx is None:
        raise UnknownIdError("dataset", dataset_id)
    return ctx


def display_tolerance(ctx: views.DatasetContext, level: int) -> float:
    """Simplification tolerance of a whole level in degrees, finer for communes.

    By depth above the communes, so a country without intermediate levels draws
    its communes as finely as the demo's.
    """
    depth = ctx.commune_level - level
    return DISPLAY_TOLERANCE_DEG.get(max(2 - depth, 0), DISPLAY_TOLERANCE_DEG[0])


@cache.memoize()
def level_geojson(url: str, dataset_id: int, level: int) -> dict:
    """Simplified GeoJSON of one level, sent once per level to the browser."""
    ctx = context(url, dataset_id)
    tolerance = display_tolerance(ctx, level)
    return to_geojson(
        ctx.units_at(level), "code", tolerance_deg=tolerance, max_coords=MAX_MAP_COORDS
    )


@cache.memoize()
def within_geojson(url: str, dataset_id: int, level: int, within: str) -> dict:
    """Simplified GeoJSON of the units of ``level`` below unit ``within``.

    The units are simplified together as a coverage at the level's tolerance, so
    the selection's communes keep their shared borders; ~1 MB for 5,000 communes.
    """
    ctx = context(url, dataset_id)
    tolerance = display_tolerance(ctx, level)
    units = views.scope_units(ctx, level, within)
    return to_geojson(units, "code", tolerance_deg=tolerance, max_coords=MAX_MAP_COORDS)


@cache.memoize()
def _source_frame(url: str, source: str, filters: kpi_mod.Filters) -> pd.DataFrame:
    """One source's measure rows, memoised on the filters reduced to what it uses."""
    return kpi_mod.source_frame(get_store(url), source, filters)


@cache.memoize()
def n_weeks(url: str, dataset_id: int, start: str, end: str) -> int:
    """Weeks with data in a period."""
    filters = kpi_mod.Filters(
        dataset_id, dt.date.fromisoformat(start), dt.date.fromisoformat(end), (), 0.0
    )
    return kpi_mod.n_weeks(get_store(url), filters)


def _frames(url: str, filters: kpi_mod.Filters) -> dict[str, pd.DataFrame]:
    return {
        source: cached_source_frame(url, source, filters) for source in kpi_mod.SOURCES
    }


def cached_source_frame(
    url: str, source: str, filters: kpi_mod.Filters
) -> pd.DataFrame:
    """Rows of one source, read from the store once per relevant filter values."""
    # A radius change then re-reads only the communes, a document-type change only
    # the operations.
    return _source_frame(url, source, kpi_mod.reduce_filters(source, filters))


@cache.memoize()
def weekly_by_parent(url: str, dataset_id: int) -> pd.DataFrame:
    """Weekly requests by type and commune parent over the whole history."""
    return views.weekly_requests_by_parent(get_store(url), dataset_id)


def weekly_requests(url: str, ctx: views.DatasetContext, resolved) -> pd.DataFrame:
    """Weekly requests by document type for the resolved selection."""
    return views.weekly_requests(
        ctx,
        weekly_by_parent(url, ctx.info.id),
        resolved.start,
        resolved.end,
        tuple(resolved.doc_types),
        resolved.selection,
    )


def filters_for(ctx: views.DatasetContext, resolved) -> kpi_mod.Filters:
    return kpi_mod.Filters(
        ctx.info.id,
        resolved.start,
        resolved.end,
        tuple(resolved.doc_types),
        float(resolved.radius_km),
        ctx.commune_level,
    )


def measures_for(url: str, ctx: views.DatasetContext, resolved) -> pd.DataFrame:
    """Commune measures for resolved filters, from cached per-source rows."""
    filters = filters_for(ctx, resolved)
    weeks = n_weeks(
        url, ctx.info.id, resolved.start.isoformat(), resolved.end.isoformat()
    )
    return kpi_mod.combine(_frames(url, filters), weeks)


def centers_for(url: str, ctx: views.DatasetContext, resolved) -> pd.DataFrame:
    """Open centers of the selection with capacity, demand and utilisation."""
    filters = filters_for(ctx, resolved)
    per_center = cached_source_frame(url, "center_ops", filters)
    weeks = n_weeks(
        url, ctx.info.id, resolved.start.isoformat(), resolved.end.isoformat()
    )
    return views.center_table(ctx, per_center, weeks, resolved.selection)


def workspace(url: str, dataset_id: int | None) -> Workspace:
    """The scenario workspace of a dataset, rebuilt when its candidate sites change.

    Candidate sites can be added while the app runs (the segmentation screen's
    proposed sites), so their count and last id are part of the memo key. A
    ``dataset_id`` from the browser is checked as in :func:`context`.
    """
    dataset_id = context(url, dataset_id).info.id  # parsed, and known
    stamp = planning.candidate_stamp(get_store(url), dataset_id)
    return _workspace(url, dataset_id, stamp)


# Arrays of a few hundred kB reused by every evaluation: kept in process memory.
@lru_cache(maxsize=4)
def _workspace(url: str, dataset_id: int, stamp: tuple) -> Workspace:
    from optimization.workspace import Workspace  # the engine loads on first use

    return Workspace.from_store(get_store(url), dataset_id)


def outline(url: str, dataset_id: int) -> tuple[dict, list[str], tuple]:
    """The dataset's top level: simplified GeoJSON, unit codes and bounds."""
    ctx = context(url, dataset_id)
    units = ctx.units_at(0)
    return (
        level_geojson(url, ctx.info.id, 0),
        units["code"].tolist(),
        tuple(units.total_bounds),
    )


def road_access(
    url: str, dataset_id: int | None, selection: str | None, mode: str, season: str
) -> dict[str, float] | None:
    """The access KPIs by road of the communes under ``selection`` (all for None).

    Memoised per dataset, road network version and speed profile, selection, mode
    and season: the main screen's card asks again at every visit and filter
    change, and a worker's first answer costs a travel-time matrix (seconds on a
    busy machine). None when the dataset has no roads. ``dataset_id`` is checked
    as in :func:`context`; ``mode`` and ``season`` as in
    :func:`geo.road_access.travel_access`.
    """
    from data import roads as road_store

    ctx = context(url, dataset_id)
    info = road_store.network_info(get_store(url), ctx.info.id)
    if info is None:
        return None
    stamp = (info["version"], json.dumps(info["profile"], sort_keys=True))
    return _road_access(url, ctx.info.id, stamp, selection, mode, season)


@cache.memoize()
def _road_access(
    url: str, dataset_id: int, stamp: tuple, selection: str | None, mode: str,
    season: str,
) -> dict[str, float] | None:  # fmt: skip
    from geo.road_access import selection_access

    ctx = context(url, dataset_id)
    return selection_access(
        get_store(url), dataset_id, ctx.communes_under(selection),
        mode=mode, season=season,
    )  # fmt: skip
