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

``--bounds`` measures instead what each lower bound reaches on the two demo
stress models, in CPU seconds (why their gap stays): the Lagrangian stage
(no deadline), the LP of the first truncated model (40 pairs per point), and
HiGHS's MIP on that model (root, cut rounds, then branching; one thread)
for ``--bound-seconds``, on the split relaxation and, for single assignment,
on the binary model. Results go to ``bench/results/capacitated_bounds.json``.

``--gap-study`` asks where the split stress case's gap is (one thread
each, into ``bench/results/capacitated_gap.json``): HiGHS on the split
relaxation restricted to the sites the LP uses (the optimum there), to
those and the ``--wide-sites`` sites next by Lagrangian value, and on the
full truncated model warm-started by the best plan found, each for
``--study-seconds`` at most, with the bound and the plan against CPU
seconds (a restricted model gives plans, never a bound).

Usage::

    python bench/bench_capacitated.py [--only random|demo] [--limits 30 60]
    python bench/bench_capacitated.py --bounds [--bound-seconds 30]
    python bench/bench_capacitated.py --gap-study [--study-seconds 600]

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
BOUNDS = ROOT / "bench" / "results" / "capacitated_bounds.json"
GAP = ROOT / "bench" / "results" / "capacitated_gap.json"


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


def stress_models() -> dict:
    """The demo stress scenarios' capacitated p-medians, as the app builds them.

    ``run_scenario`` builds the model inside; its capacitated solve is
    replaced by one that keeps the model and stops.
    """
    import optimization.pmedian as pmedian_module
    from optimization.scenario import load_spec, run_scenario

    class ModelBuiltError(Exception):
        pass

    kept: dict = {}

    def keep(pm, opts):
        kept["pm"] = pm
        raise ModelBuiltError

    net = demo_network()
    models = {}
    real = pmedian_module.solve_assignment
    pmedian_module.solve_assignment = keep
    try:
        for name, extra in DEMO_SCENARIOS.items():
            if not name.startswith("stress:") or "capacitated" not in name:
                continue
            raw = {"model": "pmedian", "demand": {"source": "requests"}, **extra}
            try:
                run_scenario(load_spec(raw), net)
            except ModelBuiltError:
                models[name] = kept.pop("pm")
    finally:
        pmedian_module.solve_assignment = real
    return models


def _highs_bound(model, seconds: float) -> dict:
    """HiGHS's MIP bound on ``model`` after ``seconds``, one thread."""
    from optimization.solver import load_highs

    h = load_highs(model)
    h.setOptionValue("time_limit", float(seconds))
    h.setOptionValue("threads", 1)
    c = time.process_time()
    h.run()
    info = h.getInfo()
    return {
        "bound": info.mip_dual_bound,
        "plan": info.objective_function_value,
        "nodes": info.mip_node_count,
        "cpu_seconds": round(time.process_time() - c, 2),
    }


def bench_bounds(seconds: float) -> dict:
    import numpy as np

    from optimization.assignment import (
        assignment_pairs,
        build_assignment,
        lagrangian_stage,
        nearest_pairs,
    )
    from optimization.solver import SolveOptions, solve_relaxation

    out: dict = {}
    for name, pm in stress_models().items():
        row: dict = {"load_before": _load()}
        pairs = assignment_pairs(pm)
        c = time.process_time()
        lag = lagrangian_stage(pm, pairs, SolveOptions())
        row["lagrangian"] = {
            "bound": lag.bound,
            "plan": lag.plan.objective,
            "sites_fixed": int(lag.closed.sum() + lag.opened.sum()),
            "cpu_seconds": round(time.process_time() - c, 2),
        }
        keep = nearest_pairs(pm, pairs, np.full(pm.n, pm.pairs_per_point))
        built = build_assignment(pm, pairs, keep)
        c = time.process_time()
        lp = solve_relaxation(built.model)
        row["lp_truncated"] = {
            "bound": lp.objective,
            "pairs": int(keep.sum()),
            "cpu_seconds": round(time.process_time() - c, 2),
        }
        relaxed = build_assignment(pm, pairs, keep, split=True)
        row["mip_split_relaxation"] = _highs_bound(relaxed.model, seconds)
        if not pm.split:
            row["mip_binary"] = _highs_bound(built.model, seconds)
        row["load_after"] = _load()
        out[name] = row
    return out


def _traced_mip(model, seconds: float, warm=None) -> tuple[dict, object]:
    """HiGHS's MIP on ``model`` (one thread), its bound and plan per CPU second.

    Returns the trace (each rise of the bound, each better plan, with the
    CPU seconds spent) and the best solution's column values (or None).
    """
    import numpy as np

    from optimization.solver import load_highs

    h = load_highs(model)
    h.setOptionValue("threads", 1)
    if warm is not None:
        h.setSolution(model.n_cols, np.arange(model.n_cols, dtype=np.int32), warm)
    c0 = time.process_time()
    trace: list = []
    best = [float("inf"), -float("inf")]

    def on_interrupt(event) -> None:
        cpu = time.process_time() - c0
        bound = float(event.data_out.mip_dual_bound)
        if bound > best[1] + 1.0:
            best[1] = bound
            trace.append({"cpu_seconds": round(cpu, 1), "bound": round(bound, 1)})
        if cpu > seconds:
            event.data_in.user_interrupt = True

    def on_solution(event) -> None:
        value = float(event.data_out.objective_function_value)
        if value < best[0] - 1.0:
            best[0] = value
            trace.append(
                {"cpu_seconds": round(time.process_time() - c0, 1), "plan": value}
            )

    h.cbMipInterrupt.subscribe(on_interrupt)
    h.cbMipImprovingSolution.subscribe(on_solution)
    h.run()
    info = h.getInfo()
    x = None
    if info.primal_solution_status == 2:
        x = np.asarray(h.getSolution().col_value, dtype=float)
    return {
        "plan": info.objective_function_value if x is not None else None,
        "bound": info.mip_dual_bound,
        "nodes": info.mip_node_count,
        "cpu_seconds": round(time.process_time() - c0, 1),
        "trace": trace,
    }, x


def bench_gap(seconds: float, wide: int) -> dict:
    import numpy as np

    from optimization.assignment import (
        assignment_pairs,
        build_assignment,
        lagrangian_stage,
        nearest_pairs,
        plan_for,
    )
    from optimization.solver import SolveOptions, solve_relaxation

    pm = next(m for name, m in stress_models().items() if "split" in name)
    pairs = assignment_pairs(pm)
    keep = nearest_pairs(pm, pairs, np.full(pm.n, pm.pairs_per_point))
    out: dict = {"load_before": _load()}
    lag = lagrangian_stage(pm, pairs, SolveOptions())
    relaxed = build_assignment(pm, pairs, keep, split=True)
    lp = solve_relaxation(relaxed.model)
    support = np.flatnonzero(lp.values[relaxed.y] > 1e-6)
    order = [j for j in np.argsort(lag.site_values, kind="stable") if j not in support]
    wider = np.concatenate([support, order[:wide]])
    best_x, best_plan = None, None
    for label, sites in (("lp_support", support), ("lp_support_and_next", wider)):
        built = build_assignment(pm, pairs, keep, split=True)
        built.model.fix_columns(built.y[np.setdiff1d(np.arange(pm.m), sites)], 0.0)
        row, x = _traced_mip(built.model, seconds)
        row["sites"] = int(sites.size)
        if x is not None:
            full = plan_for(pm, x[built.y] > 0.5, pairs, None)
            row["full_plan"] = None if full is None else full.objective
            if row["plan"] is not None and (
                best_plan is None or row["plan"] < best_plan
            ):
                best_x, best_plan = x, row["plan"]
        out[label] = row
    built = build_assignment(pm, pairs, keep, split=True)
    out["full_warm_started"], _ = _traced_mip(built.model, seconds, best_x)
    out["lp"] = lp.objective
    out["lagrangian"] = {"bound": lag.bound, "plan": lag.plan.objective}
    out["load_after"] = _load()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["random", "demo"])
    parser.add_argument("--limits", type=float, nargs="+", default=[30.0, 60.0])
    parser.add_argument("--demo-limit", type=float, default=30.0)
    parser.add_argument("--bounds", action="store_true")
    parser.add_argument("--bound-seconds", type=float, default=30.0)
    parser.add_argument("--gap-study", action="store_true")
    parser.add_argument("--study-seconds", type=float, default=600.0)
    parser.add_argument("--wide-sites", type=int, default=40)
    args = parser.parse_args()
    if args.gap_study:
        found = {
            "machine": {
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            },
            "study_cpu_seconds": args.study_seconds,
            "split_stress": bench_gap(args.study_seconds, args.wide_sites),
        }
        GAP.parent.mkdir(parents=True, exist_ok=True)
        GAP.write_text(json.dumps(found, indent=2, default=float))
        print(json.dumps(found["split_stress"], indent=1, default=float))
        return
    if args.bounds:
        found = {
            "machine": {
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            },
            "bound_seconds": args.bound_seconds,
            "demo_stress": bench_bounds(args.bound_seconds),
        }
        BOUNDS.parent.mkdir(parents=True, exist_ok=True)
        BOUNDS.write_text(json.dumps(found, indent=2, default=float))
        print(json.dumps(found["demo_stress"], indent=1, default=float))
        return
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
