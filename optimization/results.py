"""Results per center and per commune, and before/after network KPIs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["center_table", "commune_table", "excess_load", "network_kpis"]


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
) -> dict[str, Any]:
    """Summary KPIs of a network: distances, coverage, overload, unmet demand, cost.

    Parameters
    ----------
    cost_matrix : ndarray, shape (n, m)
    weights : ndarray, shape (n,)
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

    Returns
    -------
    dict
        ``open_centers``, ``mean_distance`` (demand-weighted), ``max_distance``,
        ``share_within_radius``, ``overloaded_centers``, ``unmet_demand``,
        ``unassigned_demand``, ``cost``.

    Examples
    --------
    >>> D = np.array([[1.0, 5.0], [4.0, 2.0]])
    >>> k = network_kpis(D, np.array([1.0, 3.0]), np.array([True, True]),
    ...                  np.array([0, 1]), radius=1.5)
    >>> k["mean_distance"], k["share_within_radius"]
    (1.75, 0.25)
    """
    n, m = cost_matrix.shape
    ok = assignment >= 0
    d = np.full(n, np.nan)
    d[ok] = cost_matrix[np.flatnonzero(ok), assignment[ok]]
    total = float(weights.sum())
    served = ok & (weights > 0)
    mean = (
        float(weights[served] @ d[served] / weights[served].sum())
        if served.any()
        else None
    )
    # initial=inf: a network without any site yet has every commune unserved
    nearest = np.where(open_mask[None, :], cost_matrix, np.inf).min(
        axis=1, initial=np.inf
    )
    out: dict[str, Any] = {
        "open_centers": int(open_mask.sum()),
        "mean_distance": mean,
        "max_distance": float(np.nanmax(d[served])) if served.any() else None,
        "unassigned_demand": float(weights[~ok].sum()),
        "cost": float(cost),
    }
    if radius is not None:
        within = float(weights[nearest <= radius].sum())
        out["share_within_radius"] = within / total if total > 0 else None
    if capacities is not None:
        load = _loads(weights, assignment, m, allocation)
        over = excess_load(load, capacities, open_mask)
        out["overloaded_centers"] = int((over > 1e-9).sum())
        out["unmet_demand"] = float(over.sum() + weights[~ok].sum())
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
) -> pd.DataFrame:
    """One row per commune: demand, assigned site and distance (and before)."""
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
    if before is not None:
        okb = before >= 0
        db = np.full(len(weights), np.nan)
        db[okb] = cost_matrix[np.flatnonzero(okb), before[okb]]
        table["site_id_before"] = np.where(okb, sites[np.maximum(before, 0)], None)
        table["distance_before"] = db
    return table
