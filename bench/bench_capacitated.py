"""Benchmark of the capacitated p-median under time limits.

Runs, each in the same process one after the other:

1. a random 1,000 demand x 300 site capacitated p-median (p = 20, every
   capacity 1.3 x total demand / 20; ``random_instance`` of
   bench_optimization.py, seed 0) with 30 s and 60 s limits;
2. the demo country's two "stress:" capacitated scenarios of
   bench_optimization.py (p = 25, capacity 1.3 x demand, single and split
   assignment, 30 s limit) through ``run_scenario`` as the app runs them.

For each: status, plan, proven bound and gap, and what the Lagrangian stage
alone gave (bound, plan, seconds) before the exact stage. The machine's
load (``os.getloadavg``) is recorded before and after each run, with the
CPU seconds the run used: on a shared 2-core machine a time limit buys
less work when the load is high.

Usage::

    python bench/bench_capacitated.py [--only random|demo] [--limits 30 60]

Results go to ``bench/results/capacitated.json`` and a table is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_optimization import (  # noqa: E402
    DEMO_SCENARIOS,
    demo_network,
    random_instance,
)
from optimization import PMedian, SiteRules  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "capacitated.json"


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _summary(report, seconds: float, cpu: float, load_before: list[float]) -> dict:
    lag = report.details.get("lagrangian", {})
    return {
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "status": report.status,
        "objective": report.objective,
        "bound": report.bound,
        "gap": report.gap,
        "lagrangian": lag,
        "load_before": load_before,
        "load_after": _load(),
    }


def bench_random(limits: list[float]) -> dict:
    n, m, p = 1000, 300, 20
    cost, weights = random_instance(n, m, seed=0)
    rules = SiteRules.build(m, capacities=1.3 * float(weights.sum()) / p)
    out: dict = {"instance": f"uniform {n} x {m}, p = {p}, capacity 1.3 x D / {p}"}
    for limit in limits:
        load = _load()
        t, c = time.perf_counter(), time.process_time()
        model = PMedian.from_cost_matrix(cost, weights, p, rules).solve(
            time_limit=limit
        )
        out[f"{limit:g} s"] = _summary(
            model.report, time.perf_counter() - t, time.process_time() - c, load
        )
    return out


def bench_demo(limit: float) -> dict:
    from optimization.scenario import load_spec, run_scenario

    net = demo_network()
    out: dict = {"instance": f"demo country, {len(net.commune_ids)} communes"}
    for name, extra in DEMO_SCENARIOS.items():
        if not name.startswith("stress:") or "capacitated" not in name:
            continue
        raw = {"model": "pmedian", "demand": {"source": "requests"}, **extra}
        raw["solver"] = {**raw.get("solver", {}), "time_limit": limit}
        load = _load()
        t, c = time.perf_counter(), time.process_time()
        report = run_scenario(load_spec(raw), net).report
        out[name] = _summary(
            report, time.perf_counter() - t, time.process_time() - c, load
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["random", "demo"])
    parser.add_argument("--limits", type=float, nargs="+", default=[30.0, 60.0])
    parser.add_argument("--demo-limit", type=float, default=30.0)
    args = parser.parse_args()
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        },
        "random": previous.get("random"),
        "demo_stress": previous.get("demo_stress"),
    }
    if args.only in (None, "random"):
        results["random"] = bench_random(args.limits)
    if args.only in (None, "demo"):
        results["demo_stress"] = bench_demo(args.demo_limit)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, default=float))
    for group in ("random", "demo_stress"):
        block = dict(results.get(group) or {})
        print(block.pop("instance", group))
        for name, r in block.items():
            lag = r.get("lagrangian") or {}
            gap = "-" if r["gap"] is None else f"{r['gap']:.2%}"
            print(
                f"  {name:<70} {r['seconds']:6.1f} s  {r['status']:<9} gap {gap:>7}"
                f"  (CPU {r.get('cpu_seconds', 0):.1f} s, Lagrangian "
                f"{lag.get('seconds', 0):.1f} s, load {r['load_before']})"
            )


if __name__ == "__main__":
    main()
