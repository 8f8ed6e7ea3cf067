"""Benchmark of the uncapacitated p-median on Beasley's OR-Library (pmed1-40).

Each instance is read from ``../shared/data/orlib`` (beside the repository; the
format is in its README): the cost matrix is the all-pairs shortest-path matrix
of the instance's graph, every node a demand point of weight 1 and a candidate
site. The instance is solved with ``PMedian.from_cost_matrix(D, 1, p).solve()``
at the default (optimal) gap under ``--time-limit`` seconds, and compared with
the known optimum of ``pmedopt.txt``.

Per instance the results record the seconds (shortest paths excluded, solve
only), the objective, the bound, the known optimum, the status ("optimal" only
when the solver proved it: bound and objective within the default gap), the
gap ``(UB - LB) / UB``, whether the objective equals the known optimum, the
method that ended the solve and the machine's load (``uptime``'s 1-minute load
average, read before and after the solve: the machine is shared).

Usage::

    python bench/bench_orlib.py                       # pmed1-40
    python bench/bench_orlib.py --only pmed36,pmed38  # a subset
    python bench/bench_orlib.py --resume              # skip instances already in the file
    python bench/bench_orlib.py --time-limit 120

Results are merged into ``bench/results/orlib.json`` (one entry per instance,
plus a summary over the entries present), so a run on a subset or a resumed
run keeps the other instances' last figures; each entry says when it was run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from scipy.sparse.csgraph import shortest_path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from optimization import PMedian  # noqa: E402

ORLIB = ROOT.parent / "shared" / "data" / "orlib"
RESULTS = ROOT / "bench" / "results" / "orlib.json"
NAMES = [f"pmed{i}" for i in range(1, 41)]


def read_instance(path: Path) -> tuple[np.ndarray, int]:
    """All-pairs shortest paths of an OR-Library graph, and its p.

    Edges are undirected; an edge listed twice keeps its later cost.
    """
    lines = path.read_text().split("\n")
    n, _, p = (int(v) for v in lines[0].split())
    W = np.zeros((n, n))
    for line in lines[1:]:
        if line.strip():
            i, j, c = (int(v) for v in line.split())
            W[i - 1, j - 1] = W[j - 1, i - 1] = c
    return shortest_path(W, method="D", directed=False), p


def known_optima(folder: Path) -> dict[str, float]:
    rows = (folder / "pmedopt.txt").read_text().splitlines()[1:]
    return {r.split()[0]: float(r.split()[1]) for r in rows if r.strip()}


def load_average() -> float:
    """1-minute load average (``uptime``'s first figure)."""
    return round(os.getloadavg()[0], 2)


def run_one(name: str, folder: Path, optimum: float, time_limit: float) -> dict:
    D, p = read_instance(folder / f"{name}.txt")
    load_before = load_average()
    started = datetime.now(UTC).isoformat(timespec="seconds")
    t, cpu = time.perf_counter(), time.process_time()
    model = PMedian.from_cost_matrix(D, np.ones(D.shape[0]), p)
    model.solve(time_limit=time_limit)
    seconds = time.perf_counter() - t
    cpu = time.process_time() - cpu
    details = model.report.details
    return {
        "n": int(D.shape[0]),
        "p": int(p),
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "status": model.status,
        "objective": model.objective,
        "bound": model.bound,
        "known_optimum": optimum,
        "gap": model.gap,
        "matches_known_optimum": bool(
            model.objective is not None and abs(model.objective - optimum) < 1e-6
        ),
        "method": details.get("formulation"),
        "solver": model.report.solver,
        "details": {
            k: v for k, v in details.items() if isinstance(v, (int, float, str))
        },
        "load_before": load_before,
        "load_after": load_average(),
        "time_limit": time_limit,
        "run_at": started,
    }


def summary(entries: dict[str, dict]) -> dict:
    present = [n for n in NAMES if n in entries]
    rows = [entries[n] for n in present]
    secs = [r["seconds"] for r in rows]
    cpus = [r.get("cpu_seconds", r["seconds"]) for r in rows]
    return {
        "instances": len(rows),
        "proven_optimal": sum(r["status"] == "optimal" for r in rows),
        "matching_known_optimum": sum(r["matches_known_optimum"] for r in rows),
        "total_seconds": round(sum(secs), 1),
        "total_cpu_seconds": round(sum(cpus), 1),
        "max_cpu_seconds": max(cpus) if cpus else None,
        "max_seconds": max(secs) if secs else None,
        "slowest": max(present, key=lambda n: entries[n]["seconds"])
        if present
        else None,
        "over_60_s": [n for n in NAMES if n in entries and entries[n]["seconds"] > 60],
        "not_proven": [
            n for n in NAMES if n in entries and entries[n]["status"] != "optimal"
        ],
        "load_range": [
            min(min(r["load_before"], r["load_after"]) for r in rows),
            max(max(r["load_before"], r["load_after"]) for r in rows),
        ]
        if rows
        else None,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", help="comma-separated instances, e.g. pmed36,pmed38")
    ap.add_argument("--time-limit", type=float, default=300.0)
    ap.add_argument("--resume", action="store_true", help="skip instances in the file")
    ap.add_argument("--data", type=Path, default=ORLIB)
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    if not args.data.is_dir():
        print(f"no OR-Library data at {args.data}", file=sys.stderr)
        return 2
    names = NAMES
    if args.only:
        names = [s.strip() for s in args.only.split(",") if s.strip()]
        unknown = sorted(set(names) - set(NAMES))
        if unknown:
            print(f"unknown instances: {', '.join(unknown)}", file=sys.stderr)
            return 2
    doc = json.loads(args.out.read_text()) if args.out.exists() else {}
    entries: dict[str, dict] = doc.get("instances", {})
    optima = known_optima(args.data)
    # Warm up HiGHS and numpy so the first instance does not pay for it.
    PMedian.from_cost_matrix(np.array([[0.0, 1.0], [1.0, 0.0]]), [1, 1], 1).solve()
    for name in names:
        if args.resume and name in entries:
            continue
        row = run_one(name, args.data, optima[name], args.time_limit)
        entries[name] = row
        print(
            f"{name:7s} n={row['n']:4d} p={row['p']:3d} {row['seconds']:7.1f} s "
            f"(cpu {row['cpu_seconds']:6.1f}) "
            f"{row['status']:9s} obj={row['objective']} opt={row['known_optimum']:.0f} "
            f"gap={row['gap']} load={row['load_before']}->{row['load_after']} "
            f"[{row['method']}]",
            flush=True,
        )
        doc = {
            "benchmark": "OR-Library p-median pmed1-40 (Beasley 1990)",
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "note": (
                "seconds (wall) exclude reading the graph and its shortest paths; "
                "cpu_seconds = this process's CPU time (HiGHS runs one thread "
                "here), close to the wall time a quiet machine gives; "
                "'optimal' means proven (gap <= 1e-6), gap = (UB - LB) / UB; "
                "load = 1-minute load average before -> after the solve "
                "(2-core machine shared with other work)"
            ),
            "instances": {n: entries[n] for n in NAMES if n in entries},
        }
        doc["summary"] = summary(entries)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(doc, indent=2) + "\n")
    s = summary(entries)
    print(
        f"\n{s['instances']} instances, {s['proven_optimal']} proven optimal, "
        f"{s['matching_known_optimum']} at the known optimum, total "
        f"{s['total_seconds']} s (cpu {s['total_cpu_seconds']} s), slowest "
        f"{s['slowest']} ({s['max_seconds']} s), "
        f"load {s['load_range']}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
