"""Instant evaluation of a network as it stands: no optimisation, just assignment.

Each commune goes to the nearest open site that still has room for its demand;
when no open site has room, it goes to the nearest open site, which becomes
overloaded (its excess is the unmet demand). Communes are served in order of
their distance to the nearest open site, so the nearest communes get a site's
capacity first, as they would at the counter. A commune that reaches no open
site (``inf``: no road within the cut-off) is left unserved (-1), never given a
site it cannot reach. It runs in milliseconds, so a planner sees the effect of
every toggle before asking the optimiser anything.

Examples
--------
>>> import numpy as np
>>> D = np.array([[1.0, 4.0], [2.0, 3.0], [5.0, 1.0]])
>>> a = assign_with_capacity(D, np.array([5.0, 5.0, 5.0]), np.array([True, True]),
...                          np.array([6.0, 20.0]))
>>> a.tolist()
[0, 1, 1]
"""

from __future__ import annotations

import numpy as np

from optimization.results import network_kpis


def assign_with_capacity(
    cost: np.ndarray,
    weights: np.ndarray,
    open_mask: np.ndarray,
    capacity: np.ndarray | None = None,
) -> np.ndarray:
    """Site index serving each demand point (-1 when no open site is in reach).

    Parameters
    ----------
    cost : ndarray, shape (n, m)
        Distance or travel time from each demand point to each site; ``inf``
        where the site cannot be reached (never assigned).
    weights : ndarray, shape (n,)
        Demand of each point.
    open_mask : ndarray of bool, shape (m,)
    capacity : ndarray, shape (m,), optional
        Without it, every point goes to its nearest open site; a NaN capacity
        (unknown) has room for everyone.
    """
    cost = np.asarray(cost, dtype=float)
    weights = np.asarray(weights, dtype=float)
    open_mask = np.asarray(open_mask, dtype=bool)
    n, m = cost.shape
    if weights.shape != (n,) or open_mask.shape != (m,):
        raise ValueError(
            f"shapes do not match: cost {cost.shape}, weights {weights.shape}, "
            f"open_mask {open_mask.shape}"
        )
    assignment = np.full(n, -1, dtype=np.int64)
    if not open_mask.any() or n == 0:
        return assignment
    sites = np.flatnonzero(open_mask)
    sub = cost[:, sites]
    order_sites = np.argsort(sub, axis=1, kind="stable")
    reach = np.isfinite(sub.min(axis=1))
    nearest = np.where(reach, sites[order_sites[:, 0]], -1)
    if capacity is None:
        return nearest
    room = np.nan_to_num(np.asarray(capacity, dtype=float)[sites], nan=np.inf)
    for i in np.argsort(sub.min(axis=1), kind="stable"):
        if not reach[i]:
            continue
        reachable = order_sites[i][np.isfinite(sub[i, order_sites[i]])]
        for k in reachable:
            if room[k] >= weights[i]:
                room[k] -= weights[i]
                assignment[i] = sites[k]
                break
        else:
            k = order_sites[i, 0]
            room[k] -= weights[i]
            assignment[i] = sites[k]
    return assignment


def evaluate_network(
    cost: np.ndarray,
    weights: np.ndarray,
    open_mask: np.ndarray,
    capacity: np.ndarray | None = None,
    radius: float | None = None,
    cost_of_changes: float = 0.0,
) -> tuple[np.ndarray, dict]:
    """Assignment and summary KPIs of a network as it stands.

    Returns the assignment (see :func:`assign_with_capacity`) and the KPIs of
    :func:`optimization.results.network_kpis`.
    """
    assignment = assign_with_capacity(cost, weights, open_mask, capacity)
    kpis = network_kpis(
        np.asarray(cost, dtype=float),
        np.asarray(weights, dtype=float),
        np.asarray(open_mask, dtype=bool),
        assignment,
        None if capacity is None else np.asarray(capacity, dtype=float),
        radius,
        cost_of_changes,
    )
    return assignment, kpis
