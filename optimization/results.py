"""Results per center and per commune, and before/after network KPIs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "center_table",
    "commune_table",
    "excess_load",
    "network_kpis",
    "unserved_table",
]


def _loads(
    weights: np.ndarray, assignment: np.ndarray, m: int, allocation: Any = None
) -> np.ndarray:
    if allocation is not None:
        return np.asarray(allocation.multiply(weights[:, None]).sum(axis=0)).ravel()
    ok = assignment >= 0
    return np.bincount(assignment[ok], weights=weights[ok], minlength=m)


def excess_load(
    load: np.ndarray, capacities: np.ndarray, open_mask: np.ndarray
) -> np.ndarray:
    """Demand above capacity at each open site; 0 where the capacity is unknown.

    A NaN capacity is one the data does not give: such a site is never
    overloaded (rather than overloaded by all its demand, as a 0 would make it).

    Examples
    --------
    >>> excess_load(np.array([5.0, 5.0, 5.0]), np.array([3.0, np.nan, 9.0]),
    ...             np.array([True, True, True])).tolist()
    [2.0, 0.0, 0.0]
    """
    capacities = np.asarray(capacities, dtype=float)
    over = np.where(np.isnan(capacities), 0.0, load - capacities)
    return np.clip(over, 0.0, None) * np.asarray(open_mask, dtype=bool)


def network_kpis(
    cost_matrix: np.ndarray,
    weights: np.ndarray,
    open_mask: np.ndarray,
    assignment: np.ndarray,
    capacities: np.ndarray | None = None,
    radius: float | None = None,
    cost: float = 0.0,
    allocation: Any = None,
    *,
    rows: np.ndarray | None = None,
    site_rows: np.ndarray | None = None,
    population: np.ndarray | None = None,
) -> dict[str, Any]:
    """Summary KPIs of a network, or of one area of it.

    The one rule for the engine's summary, the scenario screen's instant
    evaluation and a saved result shown for an area. Distances and coverage are
    over the demand points in ``rows``; open centers, overload and unmet demand
    over the sites in ``site_rows``, each with its load from every point it
    serves (a center's load does not stop at a border). Demand that no site
    serves is unmet: a plan that leaves people without a center never looks
    better than one that overloads a center. A figure without a value (no demand
    served, no population known) is NaN, shown "n.d." on screen.

    Parameters
    ----------
    cost_matrix : ndarray, shape (n, m)
    weights : ndarray, shape (n,)
        Demand of each point; NaN (unknown) counts as none.
    open_mask : ndarray of bool, shape (m,)
    assignment : ndarray of int, shape (n,)
        Site position serving each demand point (-1: unserved).
    capacities : ndarray, optional
        Capacity of each site (NaN: unknown, never overloaded); enables overload
        and unmet demand.
    radius : float, optional
        Coverage radius for ``share_within_radius``.
    cost : float
        Cost of the changes.
    allocation : scipy sparse matrix, optional
        Split assignment fractions (n, m), used for loads when given.
    rows : ndarray of bool, shape (n,), optional
        Demand points of the area (all by default).
    site_rows : ndarray of bool, shape (m,), optional
        Sites located in the area (all by default).
    population : ndarray, shape (n,), optional
        Inhabitants per point (NaN: unknown); enables ``centers_per_100k``, over
        the points of the area whose population is known.

    Returns
    -------
    dict
        ``open_centers``, ``mean_distance`` (demand-weighted), ``max_distance``
        (over points with demand), ``unassigned_demand``, ``cost``; with
        ``radius`` ``share_within_radius`` (share of demand within ``radius`` of
        an open site); with ``capacities`` ``overloaded_centers`` and
        ``unmet_demand`` (demand above capacity plus unassigned demand); with
        ``population`` ``centers_per_100k`` and ``unserved_population``
        (inhabitants of the points no site serves). ``unserved_communes`` counts
        the points with demand that no site serves. Distances are over the
        served demand only: read them beside the unserved figures.

    Examples
    --------
    >>> D = np.array([[1.0, 5.0], [4.0, 2.0]])
    >>> k = network_kpis(D, np.array([1.0, 3.0]), np.array([True, True]),
    ...                  np.array([0, 1]), radius=1.5)
    >>> k["mean_distance"], k["share_within_radius"]
    (1.75, 0.25)

    The area of the second point, whose site serves a point outside it too:

    >>> k = network_kpis(D, np.array([1.0, 3.0]), np.array([True, True]),
    ...                  np.array([1, 1]), np.array([9.0, 3.0]),
    ...                  rows=np.array([False, True]),
    ...                  site_rows=np.array([False, True]))
    >>> k["mean_distance"], k["open_centers"], k["unmet_demand"]
    (2.0, 1, 1.0)
    """
    cost_matrix = np.asarray(cost_matrix, dtype=float)
    weights = np.nan_to_num(np.asarray(weights, dtype=float), nan=0.0)
    open_mask = np.asarray(open_mask, dtype=bool)
    assignment = np.asarray(assignment)
    n, m = cost_matrix.shape
    rows = np.ones(n, dtype=bool) if rows is None else np.asarray(rows, dtype=bool)
    site_rows = (
        np.ones(m, dtype=bool) if site_rows is None else np.asarray(site_rows, bool)
    )
    ok = assignment >= 0
    d = np.full(n, np.nan)
    d[ok] = cost_matrix[np.flatnonzero(ok), assignment[ok]]
    served = rows & ok & (weights > 0)
    unassigned = float(weights[rows & ~ok].sum())
    out: dict[str, Any] = {
        "open_centers": int((open_mask & site_rows).sum()),
        "mean_distance": float(weights[served] @ d[served] / weights[served].sum())
        if served.any()
        else np.nan,
        "max_distance": float(d[served].max()) if served.any() else np.nan,
        "unassigned_demand": unassigned,
        "unserved_communes": int((rows & ~ok & (weights > 0)).sum()),
        "cost": float(cost),
    }
    if radius is not None:
        # initial=inf: a network without any site yet has every point unserved
        nearest = np.where(open_mask[None, :], cost_matrix, np.inf).min(
            axis=1, initial=np.inf
        )
        total = float(weights[rows].sum())
        within = float(weights[rows & (nearest <= radius)].sum())
        out["share_within_radius"] = within / total if total > 0 else np.nan
    if capacities is not None:
        load = _loads(weights, assignment, m, allocation)
        over = excess_load(load, capacities, open_mask & site_rows)
        out["overloaded_centers"] = int((over > 1e-9).sum())
        out["unmet_demand"] = float(over.sum()) + unassigned
    if population is not None:
        people = float(np.nansum(np.asarray(population, dtype=float)[rows]))
        out["centers_per_100k"] = (
            out["open_centers"] * 1e5 / people if people > 0 else np.nan
        )
        pop = np.asarray(population, dtype=float)
        out["unserved_population"] = (
            float(np.nansum(pop[rows & ~ok])) if people > 0 else np.nan
        )
    return out


def center_table(
    site_ids: Sequence[Any],
    site_names: Sequence[Any],
    existing: np.ndarray,
    open_mask: np.ndarray,
    weights: np.ndarray,
    assignment: np.ndarray,
    capacities: np.ndarray | None = None,
    allocation: Any = None,
) -> pd.DataFrame:
    """One row per site: status (kept/closed/opened/not_opened), load, utilisation.

    Examples
    --------
    >>> t = center_table(["a", "b"], ["A", "B"], np.array([True, False]),
    ...                  np.array([True, True]), np.array([2.0, 3.0]), np.array([0, 1]),
    ...                  np.array([4.0, 3.0]))
    >>> t["status"].tolist(), t["utilisation"].tolist()
    (['kept', 'opened'], [0.5, 1.0])
    """
    m = len(site_ids)
    status = np.where(
        existing,
        np.where(open_mask, "kept", "closed"),
        np.where(open_mask, "opened", "not_opened"),
    )
    load = _loads(weights, assignment, m, allocation)
    ok = assignment >= 0
    count = np.bincount(assignment[ok], minlength=m)
    table = pd.DataFrame(
        {
            "site_id": list(site_ids),
            "name": list(site_names),
            "existing": existing.astype(bool),
            "status": status,
            "assigned_demand": load,
            "communes": count,
        }
    )
    if capacities is not None:
        table["capacity"] = capacities
        with np.errstate(divide="ignore", invalid="ignore"):
            util = np.where(capacities > 0, load / capacities, np.nan)
        table["utilisation"] = np.where(open_mask, util, np.nan)
    return table


def commune_table(
    demand_ids: Sequence[Any],
    demand_names: Sequence[Any],
    weights: np.ndarray,
    cost_matrix: np.ndarray,
    assignment: np.ndarray,
    site_ids: Sequence[Any],
    before: np.ndarray | None = None,
    population: np.ndarray | None = None,
) -> pd.DataFrame:
    """One row per commune: demand, assigned site and distance (and before).

    ``site_id`` is the site the model assigned (empty where it assigned none:
    out of reach, or beyond the capacities it respects); ``population``
    (inhabitants, NaN unknown) is kept when given.
    """
    ok = assignment >= 0
    dist = np.full(len(weights), np.nan)
    dist[ok] = cost_matrix[np.flatnonzero(ok), assignment[ok]]
    sites = np.asarray(list(site_ids), dtype=object)
    table = pd.DataFrame(
        {
            "commune_id": list(demand_ids),
            "name": list(demand_names),
            "demand": weights,
            "site_id": np.where(ok, sites[np.maximum(assignment, 0)], None),
            "distance": dist,
        }
    )
    if population is not None:
        table.insert(3, "population", np.asarray(population, dtype=float))
    if before is not None:
        okb = before >= 0
        db = np.full(len(weights), np.nan)
        db[okb] = cost_matrix[np.flatnonzero(okb), before[okb]]
        table["site_id_before"] = np.where(okb, sites[np.maximum(before, 0)], None)
        table["distance_before"] = db
    return table


def unserved_table(communes: pd.DataFrame) -> pd.DataFrame:
    """The communes with demand that no site serves in a result, most demand first.

    ``communes`` is a result's commune table (:func:`commune_table`); the rows
    kept have no ``site_id`` and a demand above 0, with their demand, population
    (NaN when the table has none) and today's distance when known.

    Examples
    --------
    >>> t = pd.DataFrame({"commune_id": ["a", "b", "c"], "name": ["A", "B", "C"],
    ...                   "demand": [2.0, 5.0, 0.0], "site_id": [None, None, None],
    ...                   "distance": [np.nan] * 3})
    >>> unserved_table(t)["commune_id"].tolist()
    ['b', 'a']
    """
    if not isinstance(communes, pd.DataFrame):
        raise TypeError(f"'communes' should be DataFrame, got {type(communes)}")
    demand = pd.to_numeric(communes["demand"], errors="coerce")
    rows = communes[communes["site_id"].isna() & (demand > 0)]
    columns = ["commune_id", "name", "demand", "population", "distance_before"]
    out = rows.reindex(columns=columns).copy()
    out["demand"] = out["demand"].astype(float)
    out["population"] = out["population"].astype(float)
    return out.sort_values("demand", ascending=False, kind="stable").reset_index(
        drop=True
    )
