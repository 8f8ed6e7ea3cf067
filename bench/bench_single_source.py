"""Why the demo's single-assignment stress case keeps a gap above 1% in 30 s.

The capacitated stress case of the demo (400 communes, 250 candidate sites,
p = 25, capacities 72 to 850 for a demand of 10,114) is solved by the app
with a bound taken from the *split* relaxation (each commune may be served by
several centers). With single assignment (each commune served whole by one
center, the usual rule) no split bound can pass the split optimum, and a
single plan costs more. This study measures, on the same model the app
builds (``stress_models`` of ``bench_capacitated.py``):

1. ``split``: the app's 30-s split solve (plan, bound), then the single
   service of its open sites (``plan_for``) and HiGHS on the generalised
   assignment of those sites (``--gap-seconds``): the bound it proves is a
   lower bound of what single service of the split plan's sites can cost.
2. ``knapsack_lagrangian``: the Lagrangian bound of the single model with
   0-1 knapsacks per site (the classic bound of the single-source problem,
   equal to its column-generation bound at the best multipliers): deflected
   subgradient steps from the app's Lagrangian multipliers, each knapsack
   solved exactly by dynamic programming on weights rounded *down* to
   ``--units`` per site capacity (a relaxation: the bound stays valid).
3. ``highs_binary``: HiGHS on the single model itself (one binary column per
   kept pair, the app's truncated model), one thread, for
   ``--study-seconds``.

Usage::

    python bench/bench_single_source.py [--study-seconds 600] [--gap-seconds 120]

Results go to ``bench/results/capacitated_single.json``; CPU seconds and the
machine's load are recorded with each figure.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_capacitated import _highs_bound as highs_run  # noqa: E402
from bench.bench_capacitated import _load, stress_models  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "capacitated_single.json"


def knapsack_min(r: np.ndarray, w: np.ndarray, cap: int) -> tuple[float, np.ndarray]:
    """Least ``r @ x`` over 0-1 ``x`` with ``w @ x <= cap`` (integer weights).

    >>> knapsack_min(np.array([-3.0, -2.0, -2.5]), np.array([2, 1, 1]), 2)
    (-4.5, array([False,  True,  True]))
    """
    best = np.zeros(cap + 1)
    took = np.zeros((r.size, cap + 1), bool)
    for t in range(r.size):
        c = int(w[t])
        if c > cap:
            continue
        cand = best[: cap + 1 - c] + r[t]
        better = cand < best[c:]
        took[t, c:] = better
        best[c:] = np.where(better, cand, best[c:])
    x = np.zeros(r.size, bool)
    k = cap
    for t in range(r.size - 1, -1, -1):
        if took[t, k]:
            x[t] = True
            k -= int(w[t])
    return float(best[cap]), x


def knapsack_lagrangian(pm, pairs, start_u, upper, units, iterations) -> dict:
    """Best Lagrangian bound of the single model with 0-1 knapsacks per site."""
    from optimization.lagrangian import select_sites

    cpu = time.process_time()
    w = pm.weights
    cap = pm.rules.capacities.astype(float)
    wc = np.where(pairs, w[:, None] * pm.cost_matrix, np.inf)
    served = w > 0
    u = np.where(served, start_u, 0.0)
    best, best_it, theta, stale = -math.inf, 0, 1.0, 0
    direction = np.zeros_like(u)
    for it in range(iterations):
        reduced = wc - u[:, None]
        g = np.zeros(pm.m)
        chosen = []
        for j in range(pm.m):
            pts = np.flatnonzero(reduced[:, j] < 0)
            if pts.size == 0:
                chosen.append(pts)
                continue
            # weights rounded down: every feasible set stays feasible
            units_j = np.floor(w[pts] * units / cap[j] + 1e-9).astype(int)
            g[j], x = knapsack_min(reduced[pts, j], units_j, units)
            chosen.append(pts[x])
        mask = select_sites(g, pm.rules, pm.p)
        bound = float(u[served].sum() + g[mask].sum())
        if bound > best + 1e-9 * abs(bound):
            best, best_it, stale = bound, it, 0
        else:
            stale += 1
            if stale >= 20:
                theta, stale = theta / 2, 0
        count = np.zeros(pm.n)
        for j in np.flatnonzero(mask):
            count[chosen[j]] += 1
        s = np.where(served, 1.0 - count, 0.0)
        if not s.any() or theta < 1e-4:
            break
        direction = s + 0.3 * direction
        u = u + theta * (upper - bound) / float(direction @ direction) * direction
    return {
        "bound": best,
        "best_at_iteration": best_it,
        "iterations": it + 1,
        "units_per_capacity": units,
        "cpu_seconds": round(time.process_time() - cpu, 1),
    }


def gap_model(pm, open_mask):
    """The generalised assignment of ``pm``'s demand to the open sites."""
    from optimization.solver import LinearModel

    pts = np.flatnonzero(pm.weights > 0)
    sites = np.flatnonzero(open_mask)
    w = pm.weights[pts]
    ok = w[:, None] <= pm.rules.capacities[sites][None, :] + 1e-9
    pi, jj = np.nonzero(ok)
    model = LinearModel("single service of fixed sites")
    x = model.add_vars(
        "x", pi.size, ub=1.0, cost=w[pi] * pm.cost_matrix[pts[pi], sites[jj]],
        integer=True,
    )  # fmt: skip
    model.add_rows("assign", pi, x, 1.0, lo=1.0, hi=1.0, n=pts.size)
    model.add_rows(
        "capacity", jj, x, w[pi], hi=pm.rules.capacities[sites], n=sites.size
    )
    return model


def study(study_seconds: float, gap_seconds: float, units: int, iterations: int):
    from optimization.assignment import (
        assignment_pairs,
        build_assignment,
        lagrangian_stage,
        nearest_pairs,
        plan_for,
    )
    from optimization.solver import SolveOptions

    models = stress_models()
    single = next(m for name, m in models.items() if "split" not in name)
    split = next(m for name, m in models.items() if "split" in name)
    out: dict = {"load_before": _load()}

    cpu = time.process_time()
    split.solve(time_limit=30.0)
    sites = np.zeros(split.m, bool)
    sites[split.open_sites] = True
    pairs = assignment_pairs(single)
    served = plan_for(single, sites, pairs, None)
    out["split"] = {
        "plan": split.objective,
        "bound": split.bound,
        "cpu_seconds": round(time.process_time() - cpu, 1),
        "single_service_of_its_sites": None if served is None else served.objective,
        "single_service_highs": highs_run(gap_model(single, sites), gap_seconds),
        "capacity_of_its_sites": float(single.rules.capacities[sites].sum()),
        "demand": float(single.weights.sum()),
    }
    lag = lagrangian_stage(single, pairs, SolveOptions())
    out["lagrangian_stage"] = {"bound": lag.bound, "plan": lag.plan.objective}
    upper = min(lag.plan.objective, out["split"]["single_service_of_its_sites"] or math.inf)
    out["knapsack_lagrangian"] = knapsack_lagrangian(
        single, pairs, lag.multipliers, upper, units, iterations
    )
    keep = nearest_pairs(single, pairs, np.full(single.n, single.pairs_per_point))
    built = build_assignment(single, pairs, keep)
    out["highs_binary"] = highs_run(built.model, study_seconds)
    out["highs_binary"]["pairs"] = int(keep.sum())
    out["load_after"] = _load()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study-seconds", type=float, default=600.0)
    parser.add_argument("--gap-seconds", type=float, default=120.0)
    parser.add_argument("--units", type=int, default=20000)
    parser.add_argument("--iterations", type=int, default=400)
    args = parser.parse_args()
    found = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        },
        "instance": "demo stress: pmedian capacitated p=25 (capacity 1.3x demand), single",
        **study(args.study_seconds, args.gap_seconds, args.units, args.iterations),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(found, indent=2, default=float))
    print(json.dumps(found, indent=1, default=float))


if __name__ == "__main__":
    main()
