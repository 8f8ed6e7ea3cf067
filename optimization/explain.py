"""Explain, before solving, why a plan cannot exist, in a planner's words.

Each check is a *necessary* condition for feasibility: when one fails the model
is certainly infeasible, and the message quotes the figures that prove it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from optimization.errors import Reason, fmt_number
from optimization.inputs import EquityRule, SiteRules

__all__ = [
    "check_capacity",
    "check_coverage_radius",
    "check_equity",
    "check_new_sites",
    "check_reach",
    "check_site_counts",
]


def _name(names: Sequence[Any] | None, k: int, kind: str) -> str:
    return str(names[k]) if names is not None else f"{kind} #{k}"


def check_site_counts(
    rules: SiteRules, p: int | None, site_names: Sequence[Any] | None = None
) -> list[Reason]:
    """Counts and budget: enough allowed sites for ``p``, locked sites within ``p``."""
    reasons: list[Reason] = []
    n_allowed = int(rules.allowed.sum())
    n_locked = int(rules.locked.sum())
    if n_allowed == 0:
        reasons.append(Reason("no_allowed_site", "every site is forbidden"))
    if p is not None:
        if p > n_allowed:
            reasons.append(
                Reason(
                    "p_above_allowed",
                    f"{p} centers are requested but only {n_allowed} sites may open",
                    {"p": p, "allowed": n_allowed},
                )
            )
        if p < n_locked:
            reasons.append(
                Reason(
                    "p_below_locked",
                    f"{n_locked} centers are locked open but only {p} centers are requested",
                    {"p": p, "locked": n_locked},
                )
            )
        if rules.max_new is not None:
            reachable = int((rules.allowed & rules.existing).sum()) + rules.max_new
            if p > reachable:
                reasons.append(
                    Reason(
                        "p_above_existing_plus_new",
                        f"{p} centers are requested but at most "
                        f"{int((rules.allowed & rules.existing).sum())} existing centers "
                        f"plus {rules.max_new} new ones may be open",
                        {
                            "p": p,
                            "existing": int((rules.allowed & rules.existing).sum()),
                            "max_new": rules.max_new,
                        },
                    )
                )
    locked_new = rules.locked & ~rules.existing
    if rules.max_new is not None and locked_new.sum() > rules.max_new:
        reasons.append(
            Reason(
                "locked_above_max_new",
                f"{int(locked_new.sum())} new sites are locked open, above the "
                f"maximum of {rules.max_new} new centers",
                {"locked": int(locked_new.sum()), "max_new": rules.max_new},
            )
        )
    if rules.budget is not None:
        forced = float(
            rules.opening_cost[locked_new].sum()
            + rules.closing_cost[rules.existing & rules.forbidden].sum()
        )
        if forced > rules.budget + 1e-9:
            reasons.append(
                Reason(
                    "budget_below_forced_cost",
                    f"locked openings and forced closures cost {fmt_number(forced)}, "
                    f"above the budget of {fmt_number(rules.budget)}",
                    {"cost": forced, "budget": rules.budget},
                )
            )
    return reasons


def check_reach(
    D: np.ndarray,
    weights: np.ndarray,
    allowed_pairs: np.ndarray,
    rules: SiteRules,
    max_distance: float | None,
    demand_names: Sequence[Any] | None = None,
    unit: str = "km",
    limit: int = 5,
) -> list[Reason]:
    """Communes with demand that no allowed site may serve (cap, forbidden pairs)."""
    stranded = np.flatnonzero(~allowed_pairs.any(axis=1) & (weights > 0))
    reasons = []
    for i in stranded[:limit]:
        row = np.where(rules.allowed, D[i], np.inf)
        nearest = float(row.min())
        who = _name(demand_names, int(i), "commune")
        if max_distance is not None and np.isfinite(nearest):
            msg = (
                f"commune {who} is {fmt_number(nearest, 1)} {unit} from every allowed "
                f"site, above the {fmt_number(max_distance, 1)} {unit} cap"
            )
        else:
            msg = f"commune {who} has no allowed site it may be assigned to"
        reasons.append(
            Reason(
                "commune_out_of_reach",
                msg,
                {"commune": who, "nearest": nearest, "cap": max_distance, "unit": unit},
            )
        )
    if stranded.size > limit:
        reasons.append(
            Reason(
                "communes_out_of_reach",
                f"{stranded.size - limit} more communes are in the same situation",
                {"count": int(stranded.size), "more": int(stranded.size - limit)},
            )
        )
    return reasons


def check_new_sites(
    allowed_pairs: np.ndarray,
    weights: np.ndarray,
    rules: SiteRules,
    demand_names: Sequence[Any] | None = None,
    limit: int = 3,
) -> list[Reason]:
    """Communes only new sites may serve, needing more new centers than allowed.

    A commune with demand whose every allowed site is a candidate (no existing
    center that may stay open, no locked site) needs a new center. Communes
    with no candidate in common each need their own, so a greedy packing of
    such communes (fewest candidates first) is a lower bound on the new
    centers needed: above ``max_new`` no plan serves them all. This is what
    happens on travel times when some communes reach only candidates within
    the cut-off.
    """
    if rules.max_new is None:
        return []
    new_locked = rules.locked & ~rules.existing
    budget = int(rules.max_new) - int(new_locked.sum())
    served_anyway = (rules.allowed & rules.existing) | rules.locked
    needy = np.flatnonzero(
        (weights > 0)
        & allowed_pairs.any(axis=1)
        & ~(allowed_pairs & served_anyway[None, :]).any(axis=1)
    )
    if needy.size <= max(budget, 0):
        return []
    order = needy[np.argsort(allowed_pairs[needy].sum(axis=1), kind="stable")]
    used = np.zeros(allowed_pairs.shape[1], dtype=bool)
    packed = []
    for i in order:
        row = allowed_pairs[i]
        if not (row & used).any():
            packed.append(int(i))
            used |= row
    if len(packed) <= budget:
        return []
    examples = ", ".join(_name(demand_names, i, "commune") for i in packed[:limit])
    return [
        Reason(
            "new_sites_needed",
            f"{needy.size} communes may only be served by new sites; {len(packed)} "
            f"of them (e.g. {examples}) share none, so at least {len(packed)} new "
            f"centers are needed, above the maximum of {max(budget, 0)}",
            {
                "needy": int(needy.size),
                "count": len(packed),
                "examples": examples,
                "max_new": max(budget, 0),
            },
        )
    ]


def check_capacity(
    weights: np.ndarray,
    allowed_pairs: np.ndarray,
    rules: SiteRules,
    p: int | None,
    groups: np.ndarray | None = None,
    demand_unit: str = "requests/week",
) -> list[Reason]:
    """Total and per-group capacity that can be reached against demand."""
    cap = rules.max_capacity()
    if cap is None:
        return []
    cap = np.where(rules.allowed, cap, 0.0)
    total_demand = float(weights.sum())
    reasons = []
    total_cap = float(cap.sum())
    if total_cap + 1e-9 < total_demand:
        reasons.append(
            Reason(
                "capacity_below_demand",
                f"total capacity {fmt_number(total_cap)} {demand_unit} of the sites that "
                f"may open is below demand {fmt_number(total_demand)}",
                {"capacity": total_cap, "demand": total_demand},
            )
        )
    elif p is not None:
        top = float(np.sort(cap)[::-1][:p].sum())
        if top + 1e-9 < total_demand:
            reasons.append(
                Reason(
                    "p_capacity_below_demand",
                    f"even the {p} largest sites offer only {fmt_number(top)} "
                    f"{demand_unit}, below demand {fmt_number(total_demand)}",
                    {"capacity": top, "demand": total_demand, "p": p},
                )
            )
    if groups is not None:
        for g in dict.fromkeys(groups.tolist()):
            members = groups == g
            reach = allowed_pairs[members].any(axis=0)
            g_cap = float(cap[reach].sum())
            g_dem = float(weights[members].sum())
            if g_cap + 1e-9 < g_dem:
                reasons.append(
                    Reason(
                        "group_capacity_below_demand",
                        f"total capacity {fmt_number(g_cap)} {demand_unit} of the sites "
                        f"its communes may use is below demand {fmt_number(g_dem)} "
                        f"in {g}",
                        {"group": str(g), "capacity": g_cap, "demand": g_dem},
                    )
                )
    return reasons


def check_equity(
    D: np.ndarray,
    weights: np.ndarray,
    rules: SiteRules,
    equity: EquityRule,
    unit: str = "km",
) -> list[Reason]:
    """Group coverage shares that even opening every allowed site cannot reach."""
    coverable = ((equity.radius >= D) & rules.allowed[None, :]).any(axis=1)
    reasons = []
    for g, share in equity.min_share.items():
        members = equity.groups == g
        total = float(weights[members].sum())
        if total <= 0 or share <= 0:
            continue
        best = float(weights[members & coverable].sum()) / total
        if best + 1e-9 < share:
            reasons.append(
                Reason(
                    "equity_unreachable",
                    f"even with every allowed site open only {best:.0%} of the demand of "
                    f"{g} is within {fmt_number(equity.radius, 1)} {unit}, below the "
                    f"{share:.0%} minimum",
                    {
                        "group": str(g),
                        "best": best,
                        "share": share,
                        "radius": equity.radius,
                        "unit": unit,
                    },
                )
            )
    return reasons


def check_coverage_radius(
    D: np.ndarray,
    rules: SiteRules,
    radius: float,
    demand_names: Sequence[Any] | None = None,
    unit: str = "km",
    limit: int = 5,
) -> list[Reason]:
    """Communes with no allowed site within ``radius`` (set covering)."""
    row = np.where(rules.allowed[None, :], D, np.inf).min(axis=1)
    bad = np.flatnonzero(row > radius)
    reasons = [
        Reason(
            "commune_beyond_radius",
            f"commune {_name(demand_names, int(i), 'commune')} is "
            f"{fmt_number(float(row[i]), 1)} {unit} from every allowed site, above the "
            f"{fmt_number(radius, 1)} {unit} radius",
            {
                "commune": _name(demand_names, int(i), "commune"),
                "distance": float(row[i]),
                "radius": radius,
                "unit": unit,
            },
        )
        for i in bad[:limit]
    ]
    if bad.size > limit:
        reasons.append(
            Reason(
                "communes_beyond_radius",
                f"{bad.size - limit} more communes are in the same situation",
                {"more": int(bad.size - limit)},
            )
        )
    return reasons
