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

Memoised with :func:`dashapp.cache.memo`: in the memory of each process, never
pickled on a read, keyed by plain hashable values that start with the database URL
and the dataset id. A dataset version never changes once stored (an import adds a
new id; only its candidate sites grow, and :func:`workspace` keys on them), so a
memo cannot go stale. What is returned is shared by every caller: nothing here,
nor in the callers, mutates it.
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
from functools import lru_cache
from typing import TYPE_CHECKING

import pandas as pd

from dashapp.cache import memo
from dashapp.i18n import STRINGS, t
from dashapp.parsing import UnknownIdError, parse_id
from data import kpi as kpi_mod
from data import planning, scenarios, views
from data.store import Store
from geo.display import to_geojson

if TYPE_CHECKING:
    from data.scenarios import ScenarioRecord
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


# Frames and GeoJSON: each memo keeps at most this many results per process, and
# frames at most MEMO_BYTES (the demo's measures are 60 kB, 35,000 communes' 5 MB).
MEMO_FRAMES = 64
MEMO_BYTES = 64 * 1024 * 1024


@memo(maxsize=16)
def level_geojson(url: str, dataset_id: int, level: int) -> dict:
    """Simplified GeoJSON of one level, sent once per level to the browser."""
    ctx = context(url, dataset_id)
    tolerance = display_tolerance(ctx, level)
    return to_geojson(
        ctx.units_at(level), "code", tolerance_deg=tolerance, max_coords=MAX_MAP_COORDS
    )


@memo(maxsize=32)
def within_geojson(url: str, dataset_id: int, level: int, within: str) -> dict:
    """Simplified GeoJSON of the units of ``level`` below unit ``within``.

    The units are simplified together as a coverage at the level's tolerance, so
    the selection's communes keep their shared borders; ~1 MB for 5,000 communes.
    """
    ctx = context(url, dataset_id)
    tolerance = display_tolerance(ctx, level)
    units = views.scope_units(ctx, level, within)
    return to_geojson(units, "code", tolerance_deg=tolerance, max_coords=MAX_MAP_COORDS)


@memo(maxsize=4 * MEMO_FRAMES, shared=True, max_bytes=2 * MEMO_BYTES)
def _source_frame(url: str, source: str, filters: kpi_mod.Filters) -> pd.DataFrame:
    """One source's measure rows, memoised on the filters reduced to what it uses:
    summed from the dataset's weekly rows when it has them in memory, else queried."""
    if source in kpi_mod.WEEKLY_SOURCES:
        weekly = weekly_source(url, source, filters.dataset_id)
        if weekly is not None:
            return kpi_mod.slice_weekly(weekly, filters)
    return kpi_mod.source_frame(get_store(url), source, filters)


@memo(maxsize=2 * len(kpi_mod.WEEKLY_SOURCES))
def weekly_source(url: str, source: str, dataset_id: int) -> kpi_mod.WeeklyRows | None:
    """A dataset's operations by week, document type and commune (or center), read
    once per process (``None`` for a dataset too large to hold in memory)."""
    return kpi_mod.weekly_rows(get_store(url), source, dataset_id)


@memo(maxsize=1024)
def n_weeks(url: str, dataset_id: int, start: str, end: str) -> int:
    """Weeks with data in a period.

    The weeks of the dataset's context are its operations' distinct weeks, the set
    :data:`data.kpi.N_WEEKS_SQL` counts in the period: counted here without a query.
    """
    weeks = context(url, dataset_id).weeks
    first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    return bisect.bisect_right(weeks, last) - bisect.bisect_left(weeks, first)


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


@memo(maxsize=4)
def weekly_by_parent(url: str, dataset_id: int) -> pd.DataFrame:
    """Weekly requests by type and commune parent over the whole history."""
    return views.weekly_requests_by_parent(get_store(url), dataset_id)


def weekly_requests(url: str, ctx: views.DatasetContext, resolved) -> pd.DataFrame:
    """Weekly requests by document type for the resolved selection."""
    return _weekly_requests(
        url, ctx.info.id, resolved.start, resolved.end, tuple(resolved.doc_types),
        resolved.selection,
    )  # fmt: skip


@memo(maxsize=MEMO_FRAMES, max_bytes=MEMO_BYTES)
def _weekly_requests(url: str, dataset_id: int, start: dt.date, end: dt.date,
                     doc_types: tuple[str, ...], selection: str | None) -> pd.DataFrame:  # fmt: skip
    return views.weekly_requests(
        context(url, dataset_id), weekly_by_parent(url, dataset_id), start, end,
        doc_types, selection,
    )  # fmt: skip


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
    """Commune measures for resolved filters, from cached per-source rows.

    Memoised on the filters: the map, the KPI cards and the API read the same
    measures for one filter change.
    """
    return _measures(url, filters_for(ctx, resolved))


@memo(maxsize=MEMO_FRAMES, max_bytes=MEMO_BYTES)
def _measures(url: str, filters: kpi_mod.Filters) -> pd.DataFrame:
    weeks = n_weeks(
        url, filters.dataset_id, filters.start.isoformat(), filters.end.isoformat()
    )
    return kpi_mod.combine(_frames(url, filters), weeks)


def level_kpis(
    url: str, ctx: views.DatasetContext, resolved, level: int
) -> pd.DataFrame:
    """KPI values of every unit of ``level`` (:func:`data.views.level_kpis`) for
    resolved filters, computed once per filter values and level: a change of the
    indicator or of the area, which leaves the measures as they were, reuses them.
    Shared: callers restrict them (:func:`data.views.scope_kpis`), never change them."""
    return _level_kpis(url, filters_for(ctx, resolved), level)


@memo(maxsize=MEMO_FRAMES, max_bytes=MEMO_BYTES)
def _level_kpis(url: str, filters: kpi_mod.Filters, level: int) -> pd.DataFrame:
    ctx = context(url, filters.dataset_id)
    return views.level_kpis(ctx, _measures(url, filters), level)


def selection_kpis(url: str, ctx: views.DatasetContext, resolved) -> pd.Series:
    """KPI values of the whole selection (:func:`data.views.selection_kpis`), once
    per filter values and selection: an indicator change reuses them. Shared."""
    return _selection_kpis(url, filters_for(ctx, resolved), resolved.selection)


@memo(maxsize=MEMO_FRAMES, max_bytes=MEMO_BYTES)
def _selection_kpis(url: str, filters: kpi_mod.Filters, selection: str | None):
    ctx = context(url, filters.dataset_id)
    return views.selection_kpis(ctx, _measures(url, filters), selection)


def centers_for(url: str, ctx: views.DatasetContext, resolved) -> pd.DataFrame:
    """Open centers of the selection with capacity, demand and utilisation."""
    filters = kpi_mod.reduce_filters("center_ops", filters_for(ctx, resolved))
    return _centers(url, filters, resolved.selection)


@memo(maxsize=MEMO_FRAMES, max_bytes=MEMO_BYTES)
def _centers(url: str, filters: kpi_mod.Filters, selection: str | None) -> pd.DataFrame:
    per_center = cached_source_frame(url, "center_ops", filters)
    weeks = n_weeks(
        url, filters.dataset_id, filters.start.isoformat(), filters.end.isoformat()
    )
    return views.center_table(context(url, filters.dataset_id), per_center, weeks,
                              selection)  # fmt: skip


def saved_scenario(
    url: str, scenario_id: int, *, include_deleted: bool = False
) -> ScenarioRecord:
    """A saved scenario with its results, read and parsed once per state.

    A run's result is drawn by several callbacks at once (KPI deltas and tables,
    map, share links), each needing the record: one small query
    (:func:`data.scenarios.scenario_stamp`) says which state of the record is
    current, and the record of that state is parsed once per process. Every change
    of the scenario changes its stamp, so a memo never serves an old state; like
    every memo here, the record is shared: callers read it, never change it.
    Raises what :func:`data.scenarios.get_scenario` raises.
    """
    stamp = scenarios.scenario_stamp(
        get_store(url), scenario_id, include_deleted=include_deleted
    )
    return _saved_scenario(url, *stamp)


# a few per process: the reads of one result drawn come together
@memo(maxsize=16)
def _saved_scenario(url: str, scenario_id: int, *_stamp) -> ScenarioRecord:
    return scenarios.get_scenario(get_store(url), scenario_id, include_deleted=True)


def scenario_list(
    url: str, dataset_id: int | None = None, *, deleted: bool = False
) -> pd.DataFrame:
    """The saved scenarios (:func:`data.scenarios.list_scenarios`), read once per
    state of them.

    Every page of the scenario screen lists them, and so does each result that
    arrives: one small query (:func:`data.scenarios.list_stamp`) and the active
    dataset (their stale flags) say which state is current, and the list of that
    state is read once per process. Shared: callers read it, never change it.
    """
    return _scenario_list(url, dataset_id, deleted, *_list_key(url))


def scenario_choices(url: str, lang: str) -> list[dict]:
    """Every saved scenario as a choice (``label``, ``value``: its id), newest
    first, older data versions flagged; built once per state and language.

    Shared as :func:`scenario_list` is: callers never change it.
    """
    return _scenario_choices(url, lang, *_list_key(url))


def _list_key(url: str) -> tuple:
    store = get_store(url)
    active = store.active_dataset()
    shown = None if active is None else (active.id, active.version)
    return (shown, *scenarios.list_stamp(store))


@memo(maxsize=16)
def _scenario_list(url: str, dataset_id, deleted: bool, *_key) -> pd.DataFrame:
    return scenarios.list_scenarios(get_store(url), dataset_id, deleted=deleted)


@memo(maxsize=8)
def _scenario_choices(url: str, lang: str, *key) -> list[dict]:
    frame = _scenario_list(url, None, False, *key)
    statuses = {
        s: t(f"scn.status.{s}", lang) if f"scn.status.{s}" in STRINGS else s
        for s in set(frame["status"])
    }
    stale = f" · {t('scn.list_stale', lang)}"
    return [
        {
            "label": f"{name} · {statuses[status]} · {updated:%Y-%m-%d %H:%M}"
            + (stale if is_stale else ""),
            "value": int(id_),
        }
        for id_, name, status, updated, is_stale in zip(
            frame["id"], frame["name"], frame["status"], frame["updated_at"],
            frame["stale"], strict=True,
        )
    ]  # fmt: skip


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


@memo(maxsize=MEMO_FRAMES, shared=True)
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
