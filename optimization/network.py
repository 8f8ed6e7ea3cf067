"""Adapter from the store to the engine's :class:`NetworkInputs`.

Ids are the codes users see (commune ``R01D03C012``, center ``SC001``, candidate
site ``CS001``), so scenario files can name sites the way the app shows them.

Examples
--------
>>> from data.store import Store
>>> store = Store("sqlite://"); store.upgrade()
>>> network_from_store(store)  # doctest: +IGNORE_EXCEPTION_DETAIL
Traceback (most recent call last):
optimization.scenario.ScenarioError: the store holds no dataset
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from data.store import Store
from geo.road_access import site_minutes
from geo.roads import DEFAULT_CUTOFF_MIN
from optimization.scenario import NetworkInputs, ScenarioError

DEFAULT_WEEKS = 52


def weekly_requests_by_commune(
    store: Store, dataset_id: int, weeks: int = DEFAULT_WEEKS
) -> pd.Series:
    """Mean weekly requests per commune id over the last ``weeks`` weeks of data."""
    last = store.weeks(dataset_id)
    if last is None:
        return pd.Series(dtype=float)
    frame = store.read_frame(
        "SELECT DISTINCT week FROM operations WHERE dataset_id = :d ORDER BY week DESC",
        {"d": dataset_id},
    )
    first = frame["week"].iloc[min(weeks, len(frame)) - 1]
    n = min(weeks, len(frame))
    totals = store.read_frame(
        "SELECT commune_id, SUM(requests) AS requests FROM operations "
        "WHERE dataset_id = :d AND week >= :first GROUP BY commune_id",
        {"d": dataset_id, "first": first},
    )
    return totals.set_index("commune_id")["requests"].astype(float) / n


def network_from_store(
    store: Store,
    dataset_id: int | None = None,
    weeks: int = DEFAULT_WEEKS,
    with_polygons: bool = True,
) -> NetworkInputs:
    """Communes, centers and candidate sites of a dataset as engine inputs.

    Parameters
    ----------
    store : Store
    dataset_id : int, optional
        The active dataset when omitted.
    weeks : int
        Requests per commune are the weekly mean over this many last weeks.
    with_polygons : bool
        Include commune outlines (for ``result.geojson``).
    """
    info = (
        store.active_dataset()
        if dataset_id is None
        else next((d for d in store.datasets() if d.id == dataset_id), None)
    )
    if info is None:
        raise ScenarioError(
            "the store holds no dataset"
            if dataset_id is None
            else f"no dataset with id {dataset_id}"
        )
    levels = store.levels(info.id)["level"].tolist()
    units = store.units(info.id)
    by_id = units.set_index("id")
    communes = units[units["level"] == max(levels)].reset_index(drop=True)

    def ancestor(level: int) -> pd.Series:
        ids = communes["id"]
        current = communes["level"].to_numpy()
        node = ids.to_numpy()
        for _ in range(len(levels)):
            above = current > level
            if not above.any():
                break
            node = np.where(above, by_id.loc[node, "parent_id"].to_numpy(), node)
            current = by_id.loc[node, "level"].to_numpy()
        return pd.Series(node, index=communes.index)

    top = min(levels)
    middle = sorted(levels)[1] if len(levels) > 2 else top
    region_ids, dept_ids = ancestor(top), ancestor(middle)
    requests, source = _requests(store, info.id, communes, weeks)
    centers = store.centers(info.id)
    candidates = store.candidates(info.id)
    points = [
        communes["rep_lon"].to_numpy(dtype=float),
        communes["rep_lat"].to_numpy(dtype=float),
        np.r_[centers["lon"].to_numpy(float), candidates["lon"].to_numpy(float)],
        np.r_[centers["lat"].to_numpy(float), candidates["lat"].to_numpy(float)],
    ]
    return NetworkInputs(
        commune_ids=communes["code"].tolist(),
        commune_names=communes["name"].tolist(),
        department_ids=by_id.loc[dept_ids, "code"].tolist(),
        department_names=by_id.loc[dept_ids, "name"].tolist(),
        region_ids=by_id.loc[region_ids, "code"].tolist(),
        region_names=by_id.loc[region_ids, "name"].tolist(),
        population=communes["population"].to_numpy(dtype=float),  # NaN: unknown
        lon=communes["rep_lon"].to_numpy(dtype=float),
        lat=communes["rep_lat"].to_numpy(dtype=float),
        center_ids=centers["code"].tolist(),
        center_names=centers["name"].tolist(),
        center_lon=centers["lon"].to_numpy(dtype=float),
        center_lat=centers["lat"].to_numpy(dtype=float),
        center_capacity=_capacity(centers["capacity_week"]),
        center_staff=centers["staff"].to_numpy(dtype=float),
        center_status=centers["status"].tolist(),
        candidate_ids=candidates["code"].tolist(),
        candidate_names=candidates["name"].tolist(),
        candidate_lon=candidates["lon"].to_numpy(dtype=float),
        candidate_lat=candidates["lat"].to_numpy(dtype=float),
        candidate_opening_cost=candidates["opening_cost"].to_numpy(dtype=float),
        candidate_capacity=_capacity(candidates["capacity_week"]),
        requests=requests,
        polygons=list(communes.geometry) if with_polygons else None,
        requests_source=source,
        travel_times=partial(_road_minutes, store, info.id, points),
    )


def _road_minutes(
    store: Store,
    dataset_id: int,
    points: list[np.ndarray],
    mode: str,
    season: str,
    cutoff_min: float | None = None,
) -> np.ndarray | None:
    """Commune x (centers, candidates) minutes on the dataset's roads, cached."""
    return site_minutes(
        store, dataset_id, *points, mode=mode, season=season,
        cutoff_min=DEFAULT_CUTOFF_MIN if cutoff_min is None else cutoff_min,
    )  # fmt: skip


def _capacity(values: pd.Series) -> np.ndarray:
    """Weekly capacities, NaN where unknown: the import stores 0 for a site
    whose file has no capacity, and 0 would make it overloaded by any demand."""
    capacity = values.to_numpy(dtype=float)
    return np.where(capacity > 0, capacity, np.nan)


def _requests(
    store: Store, dataset_id: int, communes: pd.DataFrame, weeks: int
) -> tuple[np.ndarray | None, str]:
    """Weekly requests per commune and where they come from.

    Counted from operations (a commune without any counts 0); without
    operations, the estimates made from population at import (``"estimated"``),
    NaN for a commune without one (its population is unknown: its demand is, too);
    without either, ``None`` (a run on requests is then refused rather than run
    on zero demand).
    """
    if store.weeks(dataset_id) is not None:
        counted = weekly_requests_by_commune(store, dataset_id, weeks)
        values = communes["id"].map(counted).fillna(0.0)
        return values.to_numpy(dtype=float), "operations"
    estimates = store.demand_estimates(dataset_id)
    if estimates.empty:
        return None, "none"
    per_commune = estimates.groupby("commune_code")["requests_week"].sum()
    values = communes["code"].map(per_commune)
    return values.to_numpy(dtype=float), "estimated"
