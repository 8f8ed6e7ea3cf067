"""Scale benchmark of the uncapacitated p-median on random instances.

Classes (uniform points in a 100 km square, Euclidean km, integer weights
1..99, seeded as ``bench_optimization.random_instance``):

* ``1000x1000``  p = 10,  proven optimal (gap 1e-6), 300 s cap;
* ``2000x500``   p = 20,  proven optimal (gap 1e-6), 300 s cap;
* ``5000x1000``  p = 50,  gap target 0.1%, 120 s limit;
* ``10000x2000`` p = 100, gap target 0.5%, 300 s limit, under 4 GB.

Each instance runs in a child process, so its peak memory (``ru_maxrss``) is
its own. A run's ``status`` is the solver's: "optimal" means "proven within the
gap target of that class" (1e-6 for the first two, 0.1% or 0.5% for the large
ones); the JSON also says ``within_target`` and the proven gap
``(UB - LB) / UB``. The machine's load (1-minute average) is noted before and
after each run.

With ``--stages`` the child also times the stages of the uncapacitated
solve (start heuristic, each Lagrangian run with its bound and the sites it
fixes, the interchanges, the Lagrangian tree, the radius MIP loop): wall and
CPU seconds of each call and when it began, so a class that misses its
target shows where its time went and how far the bound got. Those runs are
merged into ``bench/results/pmedian_scale_stages.json`` instead (the timers
add a little work; the plain runs stay the reference).

Usage::

    python bench/bench_pmedian_scale.py                 # every class
    python bench/bench_pmedian_scale.py --only 5000x1000
    python bench/bench_pmedian_scale.py --only 5000x1000 --stages

Results are merged into ``bench/results/pmedian_scale.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "bench" / "results" / "pmedian_scale.json"
STAGES_RESULTS = ROOT / "bench" / "results" / "pmedian_scale_stages.json"
#: name -> (n, m, p, gap target, time limit, seed)
CLASSES = {
    "1000x1000": (1000, 1000, 10, 1e-6, 300.0, 1),
    "2000x500": (2000, 500, 20, 1e-6, 300.0, 1),
    "5000x1000": (5000, 1000, 50, 0.001, 120.0, 1),
    "10000x2000": (10000, 2000, 100, 0.005, 300.0, 1),
}


def random_instance(n: int, m: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Uniform points in a 100 km square, Euclidean km, integer weights 1..99."""
    rng = np.random.default_rng(seed)
    demand = rng.random((n, 2)) * 100.0
    sites = rng.random((m, 2)) * 100.0
    cost = np.hypot(
        demand[:, None, 0] - sites[None, :, 0], demand[:, None, 1] - sites[None, :, 1]
    )
    return cost, rng.integers(1, 100, n).astype(float)


def time_stages() -> list[dict]:
    """Time the stages of the uncapacitated solve (wraps ``optimization.radius``'s calls).

    Returns the list each call appends to: name, start (seconds since now),
    wall and CPU seconds, and what the stage reached (bound, plan cost,
    sites fixed, tree nodes, MIP status).
    """
    import optimization.radius as radius
    from optimization.heuristics import pmedian_cost

    stages: list[dict] = []
    t0 = time.perf_counter()

    def lagrangian(args, result):
        return {
            "bound": float(result["bound"]),
            "upper": float(result["upper"]),
            "iterations": int(result["iterations"]),
            "sites": int(args[0].shape[1]),
            "fixed_closed": int(result["fix_closed"].sum()),
            "fixed_open": int(result["fix_open"].sum()),
        }

    def plan(args, result):
        return {"plan_cost": float(pmedian_cost(args[0], args[1], result))}

    def core(args, result):
        return {"plan_cost": float(radius.plan_objective(args[0], result))}

    def tree(args, result):
        if result is None:
            return {"ran": False}
        return {
            "ran": True,
            "nodes": int(result.nodes),
            "bound": float(result.bound),
            "plan_cost": float(result.cost),
            "complete": bool(result.complete),
        }

    def radius_loop(args, result):
        rep = result.report
        return {
            "status": rep.status,
            "bound": rep.bound,
            "mip_rounds": len(result.iterations),
        }

    watched = {
        "_start": None,
        "lagrangian_bound": lagrangian,
        "greedy_interchange": plan,
        "perturbed_interchange": plan,
        "core_plan": core,
        "_tree_stage": tree,
        "_radius_loop": radius_loop,
    }
    for fname, summary in watched.items():
        func = getattr(radius, fname)

        def timed(*args, _func=func, _name=fname, _summary=summary, **kwargs):
            t, cpu = time.perf_counter(), time.process_time()
            result = _func(*args, **kwargs)
            row = {
                "stage": _name,
                "began": round(t - t0, 2),
                "seconds": round(time.perf_counter() - t, 2),
                "cpu_seconds": round(time.process_time() - cpu, 2),
            }
            if _summary is not None:
                row.update(_summary(args, result))
            stages.append(row)
            return result

        setattr(radius, fname, timed)
    return stages


def child(name: str, stages: bool = False) -> None:
    """Solve one class and print its JSON line (runs in its own process)."""
    from optimization import PMedian

    timed = time_stages() if stages else None
    n, m, p, gap, limit, seed = CLASSES[name]
    cost, weights = random_instance(n, m, seed)
    t, cpu = time.perf_counter(), time.process_time()
    model = PMedian.from_cost_matrix(cost, weights, p).solve(
        gap_rel=gap, time_limit=limit
    )
    seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
    print(
        json.dumps(
            {
                "instance": f"uniform {n} x {m}, p = {p}, seed {seed}",
                "gap_target": gap,
                "time_limit": limit,
                "seconds": round(seconds, 2),
                "cpu_seconds": round(cpu, 2),
                "status": model.status,
                "status_means": (
                    "proven optimal"
                    if gap <= 1e-6
                    else f"proven within the {gap:.1%} gap target (optimal or not)"
                ),
                "within_target": bool(model.gap is not None and model.gap <= gap),
                "objective": model.objective,
                "bound": model.bound,
                "gap": model.gap,
                "peak_memory_mb": round(
                    resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1
                ),
                "details": {
                    k: v
                    for k, v in model.report.details.items()
                    if isinstance(v, (int, float, str))
                },
                **({} if timed is None else {"stages": timed}),
            }
        )
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", help="comma-separated classes, e.g. 5000x1000")
    ap.add_argument(
        "--stages",
        action="store_true",
        help="time each stage of the solve (writes pmedian_scale_stages.json)",
    )
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child, args.stages)
        return 0
    results = STAGES_RESULTS if args.stages else RESULTS
    names = list(CLASSES) if not args.only else args.only.split(",")
    unknown = sorted(set(names) - set(CLASSES))
    if unknown:
        print(f"unknown classes: {', '.join(unknown)}", file=sys.stderr)
        return 2
    doc = json.loads(results.read_text()) if results.exists() else {}
    runs = doc.get("runs", {})
    for name in names:
        before = round(os.getloadavg()[0], 2)
        started = datetime.now(UTC).isoformat(timespec="seconds")
        proc = subprocess.run(
            [sys.executable, __file__, "--child", name]
            + (["--stages"] if args.stages else []),
            capture_output=True,
            text=True,
            check=False,
            timeout=1800,
        )
        if proc.returncode != 0:
            row = {"error": proc.stderr[-2000:]}
        else:
            row = json.loads(proc.stdout.strip().splitlines()[-1])
        row.update(
            load_before=before,
            load_after=round(os.getloadavg()[0], 2),
            run_at=started,
        )
        runs[name] = row
        print(
            name,
            json.dumps(
                {k: v for k, v in row.items() if k not in ("details", "stages")}
            ),
        )
        for stage in row.get("stages", []):
            print("   ", json.dumps(stage))
        doc = {
            "benchmark": "uncapacitated p-median, random uniform instances",
            "note": (
                "'optimal' = proven within the class's gap target (1e-6 for the "
                "first two classes, 0.1% / 0.5% for the large ones); gap = "
                "(UB - LB) / UB; load = 1-minute load average before/after, "
                "2-core machine shared with other work"
            ),
            "runs": runs,
        }
        results.parent.mkdir(parents=True, exist_ok=True)
        results.write_text(json.dumps(doc, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
