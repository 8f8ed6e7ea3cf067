"""Lagrangian relaxation of the capacitated p-median: a bound and plans, early.

Relaxing the assignment rows ``sum_j x_ij = 1`` with multipliers ``u_i``
splits the capacitated p-median into one knapsack per site: open, site ``j``
serves the points whose reduced cost ``w_i c_ij - u_i`` is negative, best
ratio first, within its capacity (modules included). The sites are then
chosen by the site rules that concern sites alone (``p``, locked, forbidden,
``max_new``); the budget, the total capacity and equity shares are dropped.
Every choice of ``u`` gives a lower bound of the full model (single or split
assignment): the knapsacks are solved continuously, which relaxes both.
Subgradient steps (Polyak's rule towards the best plan, each direction
deflected by the previous one) raise it.

Each step's chosen sites also suggest a plan: they are rounded to enough
capacity and served by a transportation solve (the caller's ``evaluate``),
which gives capacity-feasible plans long before any MIP. At the best
multipliers a site whose forced opening (or closing) lifts the bound above
the best plan cannot be open (closed) in a better plan: the exact stage may
fix it.

Everything is bounded by work (iterations, plans tried), not by the clock,
so the same input gives the same bound and plans; a deadline only cuts the
work short.

References: Beasley (1993), *Lagrangean heuristics for location problems*,
EJOR 65; Held, Wolfe & Crowder (1974) for the step rule; Camerini, Fratta &
Maffioli (1975) for the deflected directions.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from optimization.capacitated import Plan, round_open_sites
from optimization.inputs import SiteRules

__all__ = ["LagrangianResult", "SiteKnapsacks", "lagrangian_bound", "select_sites"]

#: Most capacity-module counts tried exactly per site; larger counts are
#: relaxed together (all of a site's modules at the cost of this many).
MODULE_OPTIONS = 8

#: Steps without a better bound before the step factor is halved.
PATIENCE = 15

#: Weight of the latest step in the running average of the sites chosen.
AVERAGE = 0.1

#: Next best plans kept for the caller's local search.
RUNNERS_UP = 3

#: Weight of the previous step's direction in the next one (a deflected
#: subgradient): damps the zig-zag of plain steps, so the bound rises faster
#: in the same number of steps.
DEFLECTION = 0.3

#: After the first :data:`EARLY_PLANS` steps, a better bound suggests a plan
#: only every :data:`PLAN_EVERY` steps: the plans budget then lasts until the
#: late multipliers, whose sites are the best (when each better bound of the
#: first steps was tried, the budget was spent before the bound had risen).
PLAN_EVERY = 3
EARLY_PLANS = 10

#: ``open_mask -> Plan or None``: a full, checked plan on these open sites.
Evaluate = Callable[[np.ndarray], "Plan | None"]


def select_sites(
    g: np.ndarray,
    rules: SiteRules,
    p: int | None,
    force_open: int | None = None,
    force_closed: int | None = None,
) -> np.ndarray | None:
    """Cheapest set of open sites for site values ``g`` under the site rules.

    Locked sites open, forbidden ones stay closed, exactly ``p`` open when
    ``p`` is given (otherwise every site of negative value that may open),
    at most ``rules.max_new`` candidates. Budget, capacities and equity are
    left out (this is a relaxation). ``force_open``/``force_closed`` add one
    more locked/forbidden site.

    Returns
    -------
    ndarray of bool or None
        None when no set satisfies the rules.

    Examples
    --------
    >>> rules = SiteRules.build(4, existing=[0, 1], max_new=1)
    >>> g = np.array([5.0, 1.0, -3.0, -2.0])
    >>> select_sites(g, rules, p=2).tolist()  # one new site at most
    [False, True, True, False]
    >>> select_sites(g, rules, p=None).tolist()
    [False, False, True, False]
    """
    locked = rules.locked.copy()
    forbidden = rules.forbidden.copy()
    if force_open is not None:
        locked[force_open] = True
    if force_closed is not None:
        forbidden[force_closed] = True
    if (locked & forbidden).any():
        return None
    new = ~rules.existing
    new_left = math.inf if rules.max_new is None else rules.max_new
    new_left -= int((locked & new).sum())
    if new_left < 0:
        return None
    free = ~locked & ~forbidden
    exist_free = np.flatnonzero(free & ~new)
    new_free = np.flatnonzero(free & new)
    exist_free = exist_free[np.argsort(g[exist_free], kind="stable")]
    new_free = new_free[np.argsort(g[new_free], kind="stable")]
    mask = locked.copy()
    if p is None:
        mask[exist_free[g[exist_free] < 0]] = True
        neg_new = new_free[g[new_free] < 0]
        mask[neg_new[: int(min(new_left, neg_new.size))]] = True
        return mask
    need = p - int(locked.sum())
    if need < 0:
        return None
    lo = max(0, need - exist_free.size)
    hi = int(min(need, new_free.size, new_left))
    if lo > hi:
        return None
    pref_e = np.concatenate([[0.0], np.cumsum(g[exist_free])])
    pref_n = np.concatenate([[0.0], np.cumsum(g[new_free])])
    t = np.arange(lo, hi + 1)
    best_t = int(t[np.argmin(pref_e[need - t] + pref_n[t])])
    mask[exist_free[: need - best_t]] = True
    mask[new_free[:best_t]] = True
    return mask


class SiteKnapsacks:
    """The per-site continuous knapsacks of the relaxation, for any ``u``.

    Parameters
    ----------
    cost : ndarray, shape (n, m)
        Distance or travel time.
    weights : ndarray, shape (n,)
        Demand; points without demand have no assignment row.
    pairs : ndarray of bool, shape (n, m)
        Pairs that may carry demand.
    rules : SiteRules
        Capacities, capacity modules, opening and closing costs.
    cost_weight : float
        Objective weight of site and module costs.

    Examples
    --------
    >>> rules = SiteRules.build(2, capacities=[2.0, 2.0])
    >>> D = np.array([[1.0, 4.0], [2.0, 1.0], [1.0, 3.0]])
    >>> ks = SiteKnapsacks(D, np.ones(3), np.ones((3, 2), bool), rules)
    >>> g, _ = ks.values(np.array([3.0, 3.0, 3.0]))
    >>> g.tolist()  # site 0 takes points 0 and 2 (-2 each), site 1 point 1 (-2)
    [-4.0, -2.0]
    """

    def __init__(
        self,
        cost: np.ndarray,
        weights: np.ndarray,
        pairs: np.ndarray,
        rules: SiteRules,
        cost_weight: float = 0.0,
    ):
        self.n, self.m = cost.shape
        self.weights = np.asarray(weights, float)
        self.served = self.weights > 0
        ok = pairs & self.served[:, None]
        self.wc = np.where(ok, self.weights[:, None] * np.where(ok, cost, 0.0), np.inf)
        change = np.where(rules.existing, -rules.closing_cost, rules.opening_cost)
        self.fixed = cost_weight * change
        self.offset = cost_weight * float(rules.closing_cost[rules.existing].sum())
        cap = rules.capacities.astype(float)
        if rules.module_size is None:
            self.caps = cap[:, None]
            self.option_cost = np.zeros((self.m, 1))
        else:
            k_max = np.floor(rules.max_modules + 1e-9).astype(int)
            top = int(min(k_max.max(initial=0), MODULE_OPTIONS))
            k = np.minimum(np.arange(top + 1)[None, :], k_max[:, None])
            # The last option stands for every larger count: all the modules'
            # capacity at the cost of ``top`` of them (a relaxation).
            cap_k = k.astype(float)
            if top > 0:
                cap_k[:, top] = np.maximum(k_max, k[:, top])
            self.caps = cap[:, None] + rules.module_size[:, None] * cap_k
            self.option_cost = cost_weight * rules.module_cost[:, None] * k
        self._last: tuple | None = None

    def values(self, u: np.ndarray) -> tuple[np.ndarray, Callable]:
        """Site values ``g_j`` (site cost + best knapsack) for multipliers ``u``.

        Returns ``g`` and ``served_share(open_mask)``: the share of each
        point's demand the open sites' knapsacks take.
        """
        R = self.wc - u[:, None]
        ii, jj = np.nonzero(R < 0)
        r = R[ii, jj]
        we = self.weights[ii]
        order = np.lexsort((r / we, jj))
        ii, jj, r, we = ii[order], jj[order], r[order], we[order]
        cum = np.cumsum(we)
        first = np.ones(jj.size, bool)
        first[1:] = jj[1:] != jj[:-1]
        start = np.maximum.accumulate(np.where(first, np.arange(jj.size), 0))
        prev = cum - we
        prev = prev - prev[start] if jj.size else prev
        vals = np.empty_like(self.caps)
        shares = []
        for k in range(self.caps.shape[1]):
            share = np.clip((self.caps[jj, k] - prev) / we, 0.0, 1.0)
            shares.append(share)
            vals[:, k] = np.bincount(jj, r * share, minlength=self.m)
        vals += self.option_cost
        best_k = vals.argmin(axis=1)
        g = self.fixed + vals[np.arange(self.m), best_k]
        chosen = (
            np.stack(shares, axis=1)[np.arange(jj.size), best_k[jj]] if jj.size else r
        )

        def served_share(open_mask: np.ndarray) -> np.ndarray:
            keep = open_mask[jj]
            return np.bincount(ii[keep], chosen[keep], minlength=self.n)

        return g, served_share


@dataclass
class LagrangianResult:
    """What the relaxation proved and found.

    Attributes
    ----------
    bound : float
        Lower bound of the full model (``-inf`` when none was found).
    plan : Plan or None
        Best capacity-feasible plan found (checked by ``evaluate``).
    multipliers : ndarray
        Multipliers of the best bound.
    site_values : ndarray
        Site values ``g_j`` at those multipliers.
    closed, opened : ndarray of bool
        Sites closed (opened) in every plan better than ``plan``.
    iterations, plans_tried : int
        Work done.
    runners_up : list of Plan
        The next best plans found on other open sets (for a local search).
    """

    bound: float
    plan: Plan | None
    multipliers: np.ndarray
    site_values: np.ndarray
    closed: np.ndarray
    opened: np.ndarray
    iterations: int
    plans_tried: int
    runners_up: list[Plan]


def lagrangian_bound(
    knapsacks: SiteKnapsacks,
    rules: SiteRules,
    p: int | None,
    evaluate: Evaluate,
    start_u: np.ndarray,
    max_iterations: int = 600,
    max_plans: int = 100,
    gap_rel: float = 1e-6,
    deadline: float | None = None,
    on_bound: Callable[[float], None] | None = None,
    on_plan: Callable[[float], None] | None = None,
    plan: Plan | None = None,
) -> LagrangianResult:
    """Subgradient optimisation of the Lagrangian bound, with plans on the way.

    Parameters
    ----------
    knapsacks : SiteKnapsacks
        The relaxation's per-site knapsacks.
    rules : SiteRules
        Site rules (for the choice of sites and the rounding of plans).
    p : int or None
        Number of open sites, if fixed.
    evaluate : callable
        ``open_mask -> Plan or None``: a full, checked plan on these sites
        (called with sets rounded to enough capacity).
    start_u : ndarray, shape (n,)
        First multipliers (e.g. each point's weighted distance in a plan).
    max_iterations, max_plans : int
        Work bounds: subgradient steps, distinct open sets evaluated.
    gap_rel : float
        Stop once the best plan is within this gap of the bound.
    deadline : float, optional
        A :func:`time.perf_counter` time after which the work stops early.
    on_bound, on_plan : callable, optional
        Told each better bound / plan objective (progress display).
    plan : Plan, optional
        A plan already known (its cost steers the steps).
    """
    m = knapsacks.m
    served = knapsacks.served
    u = np.where(served, start_u, 0.0).astype(float)
    best_bound = -math.inf
    best_u, best_g = u.copy(), np.zeros(m)
    tried: dict[bytes, float] = {}
    found_plans: list[Plan] = [] if plan is None else [plan]
    theta, stale = 2.0, 0
    often = np.zeros(m)
    weights = knapsacks.weights
    iterations = 0
    direction = np.zeros_like(u)

    def try_plan(often: np.ndarray, g: np.ndarray, threshold: float = 0.5) -> None:
        nonlocal plan
        # Sites by how often the recent steps chose them (an estimate of the
        # LP's open values), ties by value, rounded to enough capacity.
        rank = np.argsort(np.argsort(g, kind="stable"), kind="stable")
        score = 0.95 * often + 0.05 * (1 - rank / max(m, 1))
        open_mask = round_open_sites(score, rules, weights, p, threshold)
        if open_mask is None:
            return
        key = open_mask.tobytes()
        if key in tried:
            return
        found = evaluate(open_mask)
        tried[key] = math.inf if found is None else found.objective
        if found is not None:
            found_plans.append(found)
        if found is not None and (plan is None or found.objective < plan.objective):
            plan = found
            if on_plan is not None:
                on_plan(found.objective)

    for it in range(max_iterations):
        if deadline is not None and time.perf_counter() >= deadline:
            break
        iterations = it + 1
        g, served_share = knapsacks.values(u)
        mask = select_sites(g, rules, p)
        if mask is None:
            break  # no set of sites satisfies the rules: no bound here
        bound = float(u[served].sum() + knapsacks.offset + g[mask].sum())
        often = (
            mask.astype(float) if it == 0 else (1 - AVERAGE) * often + AVERAGE * mask
        )
        if not math.isfinite(best_bound) or bound > best_bound + 1e-9 * abs(best_bound):
            best_bound, best_u, best_g, stale = bound, u.copy(), g.copy(), 0
            if on_bound is not None:
                on_bound(bound)
            if len(tried) < max_plans and (it < EARLY_PLANS or it % PLAN_EVERY == 0):
                try_plan(often, g)  # the better the bound, the better its sites
        else:
            stale += 1
            if stale >= PATIENCE:
                theta, stale = theta / 2, 0
        upper = None if plan is None else plan.objective
        if upper is not None and upper - best_bound <= gap_rel * abs(upper):
            break
        s = np.where(served, 1.0 - served_share(mask), 0.0)
        if float(s @ s) <= 1e-12 or theta < 1e-4:
            break  # every point served once: the relaxation is tight here
        direction = s + DEFLECTION * direction
        norm = float(direction @ direction)
        target = upper if upper is not None else bound + 0.05 * abs(bound) + 1.0
        step = theta * max(target - bound, 1e-9 * max(1.0, abs(bound))) / norm
        u = u + step * direction

    if iterations and math.isfinite(best_bound):
        for threshold in (0.5, 0.25):
            try_plan(often, best_g, threshold)
    closed = np.zeros(m, bool)
    opened = np.zeros(m, bool)
    if plan is not None and math.isfinite(best_bound):
        closed, opened = _fixed_sites(knapsacks, rules, p, best_u, best_g, plan)
    return LagrangianResult(
        bound=best_bound,
        plan=plan,
        multipliers=best_u,
        site_values=best_g,
        closed=closed,
        opened=opened,
        iterations=iterations,
        plans_tried=len(tried),
        runners_up=sorted(
            (f for f in found_plans if f is not plan), key=lambda f: f.objective
        )[:RUNNERS_UP],
    )


def _fixed_sites(
    knapsacks: SiteKnapsacks,
    rules: SiteRules,
    p: int | None,
    u: np.ndarray,
    g: np.ndarray,
    plan: Plan,
) -> tuple[np.ndarray, np.ndarray]:
    """Sites whose forced opening (closing) lifts the bound to the plan's cost.

    Only sites the plan itself leaves closed (open) are returned, so the plan
    stays a solution of the model once they are fixed.
    """
    m = g.size
    base = float(u[knapsacks.served].sum() + knapsacks.offset)
    upper = plan.objective
    margin = 1e-7 * max(1.0, abs(upper))
    mask = select_sites(g, rules, p)
    closed = np.zeros(m, bool)
    opened = np.zeros(m, bool)
    if mask is None:
        return closed, opened
    for j in range(m):
        if rules.locked[j] or rules.forbidden[j]:
            continue
        if not mask[j] and not plan.open[j]:
            forced = select_sites(g, rules, p, force_open=j)
            if forced is None or base + g[forced].sum() > upper + margin:
                closed[j] = True
        elif mask[j] and plan.open[j]:
            forced = select_sites(g, rules, p, force_closed=j)
            if forced is None or base + g[forced].sum() > upper + margin:
                opened[j] = True
    return closed, opened
