"""Exhaustive reference solvers for tiny instances (all subsets, all assignments)."""

from __future__ import annotations

import itertools
import math

import numpy as np
from scipy.optimize import linprog


def subsets(
    m,
    p=None,
    locked=(),
    forbidden=(),
    existing=(),
    max_new=None,
    opening_cost=None,
    closing_cost=None,
    budget=None,
):
    """Open sets satisfying the site rules (with their change cost)."""
    locked, forbidden, existing = set(locked), set(forbidden), set(existing)
    sizes = [p] if p is not None else range(0, m + 1)
    for k in sizes:
        for S in itertools.combinations(range(m), k):
            s = set(S)
            if not locked <= s or s & forbidden:
                continue
            new = s - existing
            if max_new is not None and len(new) > max_new:
                continue
            cost = 0.0
            if opening_cost is not None:
                cost += sum(opening_cost[j] for j in new)
            if closing_cost is not None:
                cost += sum(closing_cost[j] for j in existing - s)
            if budget is not None and cost > budget + 1e-9:
                continue
            yield S, cost


def covered_ok(D, w, S, groups, radius, share):
    if radius is None:
        return True
    cov = (D[:, list(S)] <= radius).any(axis=1) if S else np.zeros(len(w), bool)
    for g in set(groups):
        mem = np.array([x == g for x in groups])
        tot = w[mem].sum()
        if tot > 0 and w[mem & cov].sum() < share * tot - 1e-9:
            return False
    return True


def single_assignment_cost(D, w, S, cap):
    """Best single assignment of every point to a site of S within capacities."""
    n = len(w)
    order = np.argsort(-w)
    best = [math.inf]
    load = dict.fromkeys(S, 0.0)

    def rec(t, acc):
        if acc >= best[0]:
            return
        if t == n:
            best[0] = acc
            return
        i = order[t]
        for j in S:
            if np.isfinite(D[i, j]) and load[j] + w[i] <= cap[j] + 1e-9:
                load[j] += w[i]
                rec(t + 1, acc + w[i] * D[i, j])
                load[j] -= w[i]

    rec(0, 0.0)
    return best[0]


def split_assignment_cost(D, w, S, cap):
    S = list(S)
    n, k = len(w), len(S)
    if k == 0:
        return math.inf
    sub = D[:, S]
    c = (w[:, None] * np.where(np.isfinite(sub), sub, 0)).ravel()
    bounds = [
        (0, 1 if np.isfinite(sub[i, j]) else 0) for i in range(n) for j in range(k)
    ]
    A_eq = np.zeros((n, n * k))
    for i in range(n):
        A_eq[i, i * k : (i + 1) * k] = 1
    A_ub = np.zeros((k, n * k))
    for j in range(k):
        A_ub[j, j::k] = w
    res = linprog(
        c,
        A_ub=A_ub,
        b_ub=[cap[j] for j in S],
        A_eq=A_eq,
        b_eq=np.ones(n),
        bounds=bounds,
        method="highs",
    )
    return res.fun if res.status == 0 else math.inf


def pmedian(
    D,
    w,
    p=None,
    *,
    capacities=None,
    split=False,
    max_distance=None,
    groups=None,
    radius=None,
    share=None,
    cost_weight=0.0,
    **rules,
):
    """Optimal objective by enumeration (inf when infeasible)."""
    D = D.copy()
    if max_distance is not None:
        D[max_distance < D] = np.inf
    m = D.shape[1]
    best = math.inf
    for S, cost in subsets(m, p, **rules):
        if not S:
            continue
        if groups is not None or radius is not None:
            g = groups if groups is not None else ["all"] * len(w)
            if not covered_ok(D if max_distance is None else D, w, S, g, radius, share):
                continue
        if capacities is None:
            d = D[:, list(S)].min(axis=1)
            pos = w > 0
            if not np.all(np.isfinite(d[pos])):
                continue
            val = float(w[pos] @ d[pos])
        elif split:
            val = split_assignment_cost(D, w, S, capacities)
        else:
            val = single_assignment_cost(D, w, S, capacities)
        best = min(best, val + cost_weight * cost)
    return best


def mclp(
    D, w, radius, p, capacities=None, groups=None, eq_radius=None, share=None, **rules
):
    best = -math.inf
    m = D.shape[1]
    for S, _ in subsets(m, p, **rules):
        if groups is not None and not covered_ok(D, w, S, groups, eq_radius, share):
            continue
        if capacities is None:
            cov = (D[:, list(S)] <= radius).any(axis=1) if S else np.zeros(len(w), bool)
            best = max(best, float(w[cov].sum()))
        else:
            best = max(best, _cap_cover(D, w, S, radius, capacities))
    return best


def _cap_cover(D, w, S, radius, cap):
    """Most demand assignable within radius under capacities (single assignment)."""
    n = len(w)
    best = [0.0]
    load = dict.fromkeys(S, 0.0)

    def rec(i, acc):
        if i == n:
            best[0] = max(best[0], acc)
            return
        rec(i + 1, acc)
        for j in S:
            if D[i, j] <= radius and load[j] + w[i] <= cap[j] + 1e-9:
                load[j] += w[i]
                rec(i + 1, acc + w[i])
                load[j] -= w[i]

    rec(0, 0.0)
    return best[0]


def lscp(D, radius, **rules):
    m = D.shape[1]
    for k in range(0, m + 1):
        for S, _ in subsets(m, k, **rules):
            if S and (D[:, list(S)] <= radius).any(axis=1).all():
                return k
    return math.inf


def pcenter(D, p, max_distance=None, **rules):
    if max_distance is not None:
        D = np.where(max_distance < D, np.inf, D)
    best = math.inf
    for S, _ in subsets(D.shape[1], p, **rules):
        best = min(best, float(D[:, list(S)].min(axis=1).max()))
    return best
