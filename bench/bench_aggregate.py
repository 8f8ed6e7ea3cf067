"""Benchmark of the national-scale p-median through demand aggregation.

A dense 35,000 communes x 3,400 sites cost matrix is ~1 GB of float64, so
``run_scenario`` solves such a p-median on aggregated demand points (weighted
k-means within departments) and evaluates the chosen sites on every commune.
This measures, on a seeded West-Africa-like instance (communes clustered
around towns in a 32 x 16 degree box, ~170 departments on a grid), the wall
time, the process's peak RSS and the proven gap
``(objective - (aggregated bound - error bound)) / objective``.

Run: ``.venv/bin/python bench/bench_aggregate.py [--communes 35000]
[--sites 3400] [--existing 400] [--p 500] [--points 2000 ...]``. Results are
printed and written to ``bench/results/aggregate.json``.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from optimization.scenario import (  # noqa: E402
    AGGREGATE_THRESHOLD,
    NetworkInputs,
    load_spec,
    run_scenario,
)


def _points(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Half the points around 150 towns, half spread out, in lon -17..15, lat 5..21."""
    towns_lon = rng.uniform(-17.0, 15.0, 150)
    towns_lat = rng.uniform(5.0, 21.0, 150)
    near = n // 2
    t = rng.integers(0, 150, near)
    lon = np.concatenate(
        [towns_lon[t] + rng.normal(0, 0.3, near), rng.uniform(-17, 15, n - near)]
    )
    lat = np.concatenate(
        [towns_lat[t] + rng.normal(0, 0.3, near), rng.uniform(5, 21, n - near)]
    )
    return np.clip(lon, -17, 15), np.clip(lat, 5, 21)


def network(n: int, sites: int, existing: int, seed: int = 7) -> NetworkInputs:
    """A seeded national network: ``n`` communes, ``sites`` sites of which ``existing`` open."""
    rng = np.random.default_rng(seed)
    lon, lat = _points(rng, n)
    dep = [
        f"{int((x + 17) // 2.5):02d}-{int((y - 5) // 2.5):02d}"
        for x, y in zip(lon, lat, strict=True)
    ]
    slon, slat = _points(rng, sites)
    cand = sites - existing
    return NetworkInputs(
        commune_ids=[f"c{i}" for i in range(n)],
        commune_names=[f"C{i}" for i in range(n)],
        department_ids=dep,
        department_names=dep,
        region_ids=["R"] * n,
        region_names=["R"] * n,
        population=np.round(rng.lognormal(7.5, 1.0, n)),
        lon=lon,
        lat=lat,
        center_ids=[f"E{j}" for j in range(existing)],
        center_names=[f"E{j}" for j in range(existing)],
        center_lon=slon[:existing],
        center_lat=slat[:existing],
        center_capacity=np.full(existing, 1e6),
        center_staff=np.ones(existing),
        center_status=["open"] * existing,
        candidate_ids=[f"N{j}" for j in range(cand)],
        candidate_names=[f"N{j}" for j in range(cand)],
        candidate_lon=slon[existing:],
        candidate_lat=slat[existing:],
        candidate_opening_cost=np.zeros(cand),
        candidate_capacity=np.full(cand, 1e6),
    )


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run(args: argparse.Namespace) -> dict:
    t0 = time.perf_counter()
    net = network(args.communes, args.sites, args.existing)
    out: dict = {
        "communes": args.communes,
        "sites": args.sites,
        "existing_centers": args.existing,
        "p": args.p,
        "time_limit_s": args.time_limit,
        "dense_matrix_gb_avoided": round(args.communes * args.sites * 8 / 1e9, 2),
        "automatic_threshold_pairs": AGGREGATE_THRESHOLD,
        "build_network_s": round(time.perf_counter() - t0, 2),
        "rss_after_network_mb": round(_peak_rss_mb(), 1),
        "runs": [],
    }
    for k in args.points:
        spec = load_spec(
            {
                "model": "pmedian",
                "parameters": {"p": args.p},
                "aggregate": {"max_points": k},
                "solver": {"time_limit": args.time_limit},
                "report_radius": 20.0,
            }
        )
        t = time.perf_counter()
        res = run_scenario(spec, net)
        wall = time.perf_counter() - t
        rep, agg = res.report, res.summary["aggregation"]
        total_w = float(res.assignments["demand"].sum())
        row = {
            "max_points": k,
            "points": agg["points"],
            "wall_s": round(wall, 1),
            "aggregate_s": rep.details["aggregate_seconds"],
            "model_build_and_heuristics_s": round(
                rep.build_seconds - rep.details["aggregate_seconds"], 1
            ),
            "solve_s": round(rep.solve_seconds, 1),
            "evaluate_and_lagrangian_s": agg["evaluate_seconds"],
            "lagrangian_s": rep.details.get("lagrangian_seconds"),
            "aggregation_bound": rep.details["aggregation_bound"],
            "lagrangian_bound": rep.details.get("lagrangian_bound"),
            "peak_rss_mb": round(_peak_rss_mb(), 1),
            "status": rep.status,
            "objective": rep.objective,
            "bound": rep.bound,
            "proven_gap": rep.gap,
            "aggregated_gap": rep.details["aggregated_gap"],
            "error_bound": agg["error_bound"],
            "mean_km_after": res.summary["kpis"]["after"]["mean_distance"],
            "mean_km_commune_to_aggregate": agg["error_bound"] / total_w,
            "share_within_20km_after": res.summary["kpis"]["after"][
                "share_within_radius"
            ],
        }
        out["runs"].append(row)
        print(json.dumps(row), flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--communes", type=int, default=35_000)
    ap.add_argument("--sites", type=int, default=3_400)
    ap.add_argument("--existing", type=int, default=400)
    ap.add_argument("--p", type=int, default=500)
    ap.add_argument("--points", type=int, nargs="+", default=[2000])
    ap.add_argument("--time-limit", type=float, default=120.0)
    ap.add_argument("--out", type=Path, default=ROOT / "bench/results/aggregate.json")
    args = ap.parse_args()
    result = run(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
