"""Read models behind the screens: a dataset's context and filtered tables.

Plain pandas over :mod:`data.store` and :mod:`data.kpi`; the app memoises these.

Examples
--------
>>> from data.views import scale_week
>>> scale_week(520.0, 10)
52.0
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd

from data.kpi import (
    aggregate,
    kpi_values,
)
from data.store import DatasetInfo, Store


@dataclass
class DatasetContext:
    """What the screens need to know about one dataset, loaded once."""

    info: DatasetInfo
    levels: pd.DataFrame  # level, code, name_fr, name_en
    units: gpd.GeoDataFrame  # every unit, with 'ancestor_<level>' code columns
    centers: pd.DataFrame  # with commune code and ancestor codes
    doc_types: pd.DataFrame
    weeks: list[dt.date]

    # A context is read by every callback of every request and never changes once
    # loaded: what is derived from it is computed once (cached_property, _derived)
    # rather than by a pandas selection per call (dozens per filter change).
    @cached_property
    def commune_level(self) -> int:
        return int(self.levels["level"].max())

    @property
    def level_codes(self) -> list[str]:
        return list(self._level_rows["codes"])

    def level_of(self, code: str) -> int:
        try:
            return self._level_rows["level_of"][code]
        except KeyError:
            raise IndexError(f"no level with code {code!r}") from None

    def level_name(self, level: int, lang: str) -> str:
        try:
            fr, en = self._level_rows["names"][int(level)]
        except KeyError:
            raise IndexError(f"no level {level!r}") from None
        return fr if lang == "fr" else en

    @cached_property
    def _level_rows(self) -> dict:
        levels = self.levels
        return {
            "codes": tuple(levels["code"].tolist()),
            "level_of": dict(
                zip(levels["code"].tolist(), map(int, levels["level"]), strict=True)
            ),
            "names": {
                int(row.level): (row.name_fr, row.name_en)
                for row in levels.itertuples()
            },
        }

    @cached_property
    def _derived(self) -> dict:
        """Results derived from this context, by name and arguments."""
        return {}

    def units_at(self, level: int) -> gpd.GeoDataFrame:
        # a shallow copy of the level's rows, selected once: the callers of one
        # filter change ask for the same levels dozens of times (copy-on-write
        # keeps a caller's change to its copy from reaching the others)
        frame = self._levels_frames.get(level)
        if frame is None:
            frame = self._levels_frames[level] = self.units[
                self.units["level"] == level
            ]
        return frame.copy(deep=False)

    def communes(self) -> gpd.GeoDataFrame:
        return self.units_at(self.commune_level)

    def unit(self, code: str) -> pd.Series | None:
        """The row of unit ``code`` (``None`` for a code no unit has)."""
        position = self._unit_rows.get(code) if isinstance(code, str) else None
        return None if position is None else self.units.iloc[position]

    @cached_property
    def _unit_rows(self) -> dict[str, int]:
        """Position of each unit code's first row: a dict lookup per :meth:`unit`
        rather than a comparison of every code (2 ms on the demo country)."""
        rows: dict[str, int] = {}
        for position, code in enumerate(self.units["code"].tolist()):
            rows.setdefault(code, position)
        return rows

    @cached_property
    def _levels_frames(self) -> dict[int, gpd.GeoDataFrame]:
        return {}

    def communes_under(self, code: str | None) -> pd.Index:
        """Ids of the communes below unit ``code`` (all communes for ``None``)."""
        key = ("communes_under", code)
        found = self._derived.get(key)
        if found is None:
            communes = self.communes()
            if code is None:
                found = pd.Index(communes["id"])
            else:
                level = int(self.unit(code)["level"])
                found = pd.Index(
                    communes.loc[communes[f"ancestor_{level}"] == code, "id"]
                )
            self._derived[key] = found  # an Index cannot be changed in place
        return found

    def group_of_communes(self, level: int) -> pd.Series:
        """Series commune id -> code of its ancestor at ``level``."""
        key = ("group_of_communes", int(level))
        found = self._derived.get(key)
        if found is None:
            communes = self.communes()
            found = self._derived[key] = pd.Series(
                communes[f"ancestor_{level}"].to_numpy(),
                index=communes["id"].to_numpy(),
            )
        return found.copy(deep=False)  # copy-on-write: a caller's change stays its own


def load_context(store: Store, dataset_id: int | None = None) -> DatasetContext | None:
    """Load the context of ``dataset_id`` (the active dataset by default)."""
    info = (
        store.active_dataset()
        if dataset_id is None
        else next((d for d in store.datasets() if d.id == dataset_id), None)
    )
    if info is None:
        return None
    levels = store.levels(info.id)
    units = store.units(info.id)
    for level, col in _ancestor_columns(units, levels["level"].tolist()).items():
        units[f"ancestor_{int(level)}"] = col
    centers = store.centers(info.id)
    communes = units[units["level"] == levels["level"].max()].set_index("id")
    for level in levels["level"]:
        centers[f"ancestor_{int(level)}"] = centers["commune_id"].map(
            communes[f"ancestor_{int(level)}"]
        )
    weeks_frame = store.read_frame(
        "SELECT DISTINCT week FROM operations WHERE dataset_id = :d ORDER BY week",
        {"d": info.id},
    )
    weeks = [pd.Timestamp(w).date() for w in weeks_frame["week"]]
    return DatasetContext(info, levels, units, centers, store.doc_types(info.id), weeks)


def _ancestor_columns(units: pd.DataFrame, levels: list[int]) -> dict[int, np.ndarray]:
    """Code of each unit's ancestor at every level (None above it or when missing).

    Walks up the parent links with whole arrays, one step per level, so 35,000
    communes cost a few milliseconds instead of a Python loop per unit.
    """
    index = pd.Index(units["id"].to_numpy())
    parent_ids = units["parent_id"].astype("Int64").fillna(-1).to_numpy(dtype=np.int64)
    parent_pos = index.get_indexer(parent_ids)  # -1: no parent (or unknown one)
    unit_level = units["level"].to_numpy()
    codes = units["code"].to_numpy(dtype=object)
    out = {}
    for level in levels:
        node = np.arange(len(units))
        for _ in range(len(levels) + 1):
            safe = np.maximum(node, 0)
            up = (node >= 0) & (unit_level[safe] > level)
            if not up.any():
                break
            node = np.where(up, parent_pos[safe], node)
        safe = np.maximum(node, 0)
        found = (node >= 0) & (unit_level[safe] == level)
        out[int(level)] = np.where(found, codes[safe], None)
    return out


# The most unit polygons one map response draws (a level, a selection, or what is
# in view); beyond it the units are grouped. ~0.3 kB of JSON per commune polygon
# at display detail, so about 1 MB.
MAX_MAP_UNITS = 3_000
# A coarser level groups the units on the map only when it has at least this many
# units in the area shown; with fewer it says little and a grid of cells is drawn.
MIN_GROUP_UNITS = 5


def filter_levels(ctx: DatasetContext) -> list[int]:
    """Levels offered as area filters, top first: those above the commune level.

    A level on top with a single unit (a national level) is no filter: there is
    nothing to choose. The demo (region, department, commune) has two; a country
    imported as communes only (the importer adds a national unit) has none.

    Examples
    --------
    >>> filter_levels(demo_ctx)  # doctest: +SKIP
    [0, 1]
    """
    found = ctx._derived.get("filter_levels")
    if found is None:
        levels = sorted(int(v) for v in ctx.levels["level"])[:-1]
        counts = ctx.units["level"].value_counts()
        while levels and counts.get(levels[0], 0) <= 1:
            levels.pop(0)
        found = ctx._derived["filter_levels"] = tuple(levels)
    return list(found)


def fixed_units(ctx: DatasetContext) -> pd.DataFrame:
    """Single units on top of the hierarchy (the country), not offered as filters."""
    first = filter_levels(ctx)[:1] or [ctx.commune_level]
    top = ctx.units[ctx.units["level"] < first[0]]
    return top[["level", "code", "name"]].reset_index(drop=True)


def units_below(ctx: DatasetContext, level: int, ancestor: str | None) -> pd.DataFrame:
    """Units of ``level`` below unit ``ancestor`` (all of them for ``None``), by name.

    An ``ancestor`` at or below ``level`` has no unit of ``level`` below it.
    """
    units = ctx.units_at(level)
    if ancestor is not None:
        above = ctx.unit(ancestor)
        if above is None or int(above["level"]) >= level:
            return units.iloc[0:0][["code", "name"]]
        units = units[units[f"ancestor_{int(above['level'])}"] == ancestor]
    return units[["code", "name"]].sort_values("name", kind="stable")


@dataclass(frozen=True)
class MapScope:
    """What the map draws for a level and a selection.

    ``level`` is the level asked for and ``within`` the unit whose descendants are
    drawn (``None``: the whole country); ``n_units`` counts the units of ``level``
    there. When they are more than :data:`MAX_MAP_UNITS` they are grouped: by the
    coarser level ``group_level``, or (``grid``) into square cells.
    """

    level: int
    within: str | None = None
    group_level: int | None = None
    grid: bool = False
    n_units: int = 0

    @property
    def grouped(self) -> bool:
        return self.group_level is not None or self.grid


def map_scope(ctx: DatasetContext, level: int, selection: str | None) -> MapScope:
    """The units the map should draw for a level and a selection.

    A level of up to :data:`MAX_MAP_UNITS` units is drawn whole (units outside the
    selection greyed out). A larger one is drawn only inside the selection, and
    grouped when even that is too many: by the deepest coarser level with
    :data:`MIN_GROUP_UNITS` to :data:`MAX_MAP_UNITS` units in the area, else into
    grid cells.

    Examples
    --------
    >>> map_scope(ctx_35000, 2, None)  # doctest: +SKIP
    MapScope(level=2, within=None, group_level=1, grid=False, n_units=35000)
    """
    total = int((ctx.units["level"] == level).sum())
    if total <= MAX_MAP_UNITS:
        return MapScope(level, n_units=total)
    unit = ctx.unit(selection) if selection is not None else None
    within = selection if unit is not None and int(unit["level"]) < level else None
    n = len(scope_units(ctx, level, within)) if within is not None else total
    if n <= MAX_MAP_UNITS:
        return MapScope(level, within, n_units=n)
    top = int(unit["level"]) + 1 if within is not None else 0
    for coarser in range(level - 1, top - 1, -1):
        k = len(scope_units(ctx, coarser, within))
        if k <= MAX_MAP_UNITS:
            if k >= MIN_GROUP_UNITS:
                return MapScope(level, within, group_level=coarser, n_units=n)
            break
    return MapScope(level, within, grid=True, n_units=n)


def scope_units(
    ctx: DatasetContext, level: int, within: str | None = None
) -> gpd.GeoDataFrame:
    """Units of ``level``, only those below unit ``within`` when given."""
    units = ctx.units_at(level)
    if within is None:
        return units
    within_level = int(ctx.unit(within)["level"])
    return units[units[f"ancestor_{within_level}"] == within]


def scale_week(total: float, n_weeks: int) -> float:
    """Mean per week of a total over ``n_weeks`` (NaN when there are none)."""
    return total / n_weeks if n_weeks else float("nan")


def unit_kpis(
    ctx: DatasetContext,
    measures: pd.DataFrame,
    level: int,
    selection: str | None = None,
    within: str | None = None,
) -> pd.DataFrame:
    """KPI values for every unit of ``level`` (rows indexed by unit code).

    Units outside ``selection`` get NaN, so the map greys them out. With
    ``within``, only the units below that unit are returned (see :func:`map_scope`).
    """
    return scope_kpis(ctx, level_kpis(ctx, measures, level), level, selection, within)


def level_kpis(ctx: DatasetContext, measures: pd.DataFrame, level: int) -> pd.DataFrame:
    """KPI values of every unit of ``level`` that has communes (rows indexed by
    unit code), whatever the selection: what :func:`unit_kpis` restricts."""
    return kpi_values(aggregate(measures, ctx.group_of_communes(level)))


def scope_kpis(
    ctx: DatasetContext,
    values: pd.DataFrame,
    level: int,
    selection: str | None = None,
    within: str | None = None,
) -> pd.DataFrame:
    """:func:`unit_kpis` from the level's values (:func:`level_kpis`): the units
    of ``level`` (below ``within``), NaN outside ``selection``; a new frame,
    ``values`` left as it is."""
    codes = scope_units(ctx, level, within)["code"]
    values = values.reindex(codes.to_numpy())
    if selection is not None and selection != within:
        inside = set(ctx.group_of_communes(level)[ctx.communes_under(selection)])
        values.loc[~values.index.isin(inside)] = float("nan")
    return values


def selection_kpis(
    ctx: DatasetContext, measures: pd.DataFrame, selection: str | None = None
) -> pd.Series:
    """KPI values for the whole selection (the country for ``None``)."""
    part = measures.loc[measures.index.intersection(ctx.communes_under(selection))]
    part.attrs.update(measures.attrs)
    return kpi_values(aggregate(part, None)).iloc[0]


def center_table(
    ctx: DatasetContext,
    per_center: pd.DataFrame,
    n_weeks: int,
    selection: str | None = None,
) -> pd.DataFrame:
    """Open centers in the selection with weekly capacity, demand and utilisation.

    ``per_center`` is the ``center_ops`` source frame (one row per center).
    """
    centers = ctx.centers[ctx.centers["status"] == "open"].copy()
    if selection is not None:
        level = int(ctx.unit(selection)["level"])
        centers = centers[centers[f"ancestor_{level}"] == selection]
    handled = per_center.set_index("row_id")["center_requests"]
    total = centers["id"].map(handled).fillna(0.0)
    centers["demand_week"] = total / n_weeks if n_weeks else float("nan")
    # a capacity of 0 is what the import stores when the file gives none: unknown
    known = centers["capacity_week"].where(centers["capacity_week"] > 0)
    centers["utilisation"] = centers["demand_week"] / known * 100.0
    return centers


def weekly_requests_by_parent(store: Store, dataset_id: int) -> pd.DataFrame:
    """Requests per week, document type and parent unit of the commune, all history.

    Small (weeks x types x parents) and independent of the filters, so it is read
    once and sliced in memory for every period, type and selection.
    """
    sql = (
        "SELECT o.week AS week, o.doc_type AS doc_type, u.parent_id AS parent_id, "
        "SUM(o.requests) AS requests FROM operations o "
        "JOIN admin_units u ON u.id = o.commune_id WHERE o.dataset_id = :dataset_id "
        "GROUP BY o.week, o.doc_type, u.parent_id"
    )
    frame = store.read_frame(sql, {"dataset_id": dataset_id})
    frame["week"] = pd.to_datetime(frame["week"])
    frame["requests"] = frame["requests"].astype(float)
    return frame


def weekly_requests(
    ctx: DatasetContext,
    by_parent: pd.DataFrame,
    start: dt.date,
    end: dt.date,
    doc_types: tuple[str, ...],
    selection: str | None = None,
) -> pd.DataFrame:
    """Requests per week and document type for the communes of the selection."""
    rows = by_parent[
        (by_parent["week"] >= pd.Timestamp(start))
        & (by_parent["week"] <= pd.Timestamp(end))
        & by_parent["doc_type"].isin(doc_types)
    ]
    if selection is not None:
        communes = ctx.communes()
        parents = communes.loc[
            communes["id"].isin(ctx.communes_under(selection)), "parent_id"
        ]
        rows = rows[rows["parent_id"].isin(set(parents))]
    out = rows.groupby(["week", "doc_type"], as_index=False)["requests"].sum()
    return out.sort_values(["week", "doc_type"], ignore_index=True)


def parent_names(
    ctx: DatasetContext, level: int, within: str | None = None
) -> pd.DataFrame:
    """Units of ``level`` (below ``within`` if given) with their ancestors' names."""
    units = scope_units(ctx, level, within)
    names = pd.Series(ctx.units["name"].to_numpy(), index=ctx.units["code"])
    out = pd.DataFrame(
        {"code": units["code"].to_numpy(), "name": units["name"].to_numpy()}
    )
    for parent in range(level - 1, -1, -1):
        codes = units[f"ancestor_{parent}"]
        out[f"parent_{parent}"] = codes.map(names).fillna("").to_numpy()
    return out


def capacity_by_unit(
    ctx: DatasetContext, centers: pd.DataFrame, level: int
) -> pd.DataFrame:
    """Weekly capacity and demand of centers summed by their unit at ``level``."""
    col = f"ancestor_{level}"
    grouped = centers.groupby(col)[["capacity_week", "demand_week"]].sum()
    names = dict(zip(ctx.units["code"], ctx.units["name"], strict=True))
    grouped["name"] = [names.get(c, c) for c in grouped.index]
    return grouped.reset_index(drop=True)
