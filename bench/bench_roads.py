"""Benchmark of the road graph and the travel-time matrix (geo/roads.py).

Two cases:

* ``demo``: the demo country (400 communes) with its generated road network,
  every commune x every center and candidate site, both modes and seasons;
* ``national``: a synthetic national network of about ``--edges`` segments (a
  jittered grid of tracks and local roads with trunk and secondary corridors,
  over a 1,000 km square), ``--communes`` commune points and ``--sites`` sites.

Measures graph building (with snapping), the matrix (motorised, dry) and the
peak resident memory of the process. Writes ``bench/results/roads.json``.

Run: ``.venv/bin/python bench/bench_roads.py [--edges 500000 --communes 35000
--sites 3400]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import geopandas as gpd  # noqa: E402
import shapely  # noqa: E402

from geo.roads import access_kpis, build_graph, travel_time_matrix  # noqa: E402


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def synthetic_network(edges: int, seed: int = 7) -> gpd.GeoDataFrame:
    """A jittered grid of about ``edges`` segments in UTM 30N, 1,000 km wide."""
    rng = np.random.default_rng(seed)
    side = int(np.sqrt(edges / 2)) + 1
    step = 1_000_000.0 / side
    gx, gy = np.meshgrid(np.arange(side), np.arange(side))
    xy = np.stack([gx.ravel(), gy.ravel()], axis=1) * step
    xy += rng.uniform(-0.3, 0.3, xy.shape) * step
    xy += [200_000.0, 800_000.0]
    idx = np.arange(side * side).reshape(side, side)
    pairs = np.vstack(
        [
            np.stack([idx[:, :-1].ravel(), idx[:, 1:].ravel()], axis=1),
            np.stack([idx[:-1, :].ravel(), idx[1:, :].ravel()], axis=1),
        ]
    )
    # a tenth of the links are missing (rivers, fields)
    pairs = pairs[rng.random(len(pairs)) > 0.1]
    a, b = pairs[:, 0], pairs[:, 1]
    row_a, col_a = a // side, a % side
    cls = np.where(rng.random(len(a)) < 0.6, "track", "local")
    every = max(side // 12, 1)
    cls = np.where((row_a % (every * 3) == 0) | (col_a % (every * 3) == 0),
                   "secondary", cls)  # fmt: skip
    cls = np.where(
        ((row_a % (every * 6) == 0) | (col_a % (every * 6) == 0))
        & (a // side == b // side)
        | ((col_a % (every * 6) == 0) & (a % side == b % side)),
        "trunk",
        cls,
    )
    geoms = shapely.linestrings(
        np.stack([xy[a], xy[b]], axis=1).reshape(-1, 2),
        indices=np.repeat(np.arange(len(a)), 2),
    )
    return gpd.GeoDataFrame({"road_class": cls}, geometry=geoms, crs=32630)


def national(args) -> dict:
    rng = np.random.default_rng(11)
    started = time.perf_counter()
    lines = synthetic_network(args.edges)
    t_make = time.perf_counter() - started
    started = time.perf_counter()
    graph = build_graph(lines, tolerance_m=50)
    t_graph = time.perf_counter() - started
    xmin, ymin, xmax, ymax = lines.total_bounds
    pts = gpd.GeoSeries(
        gpd.points_from_xy(
            rng.uniform(xmin, xmax, args.communes + args.sites),
            rng.uniform(ymin, ymax, args.communes + args.sites),
        ),
        crs=32630,
    ).to_crs(4326)
    lon, lat = pts.x.to_numpy(), pts.y.to_numpy()
    c, s = slice(0, args.communes), slice(args.communes, None)
    started = time.perf_counter()
    m = travel_time_matrix(
        graph, lon[c], lat[c], lon[s], lat[s],
        mode="motorised", season="dry", cutoff_min=args.cutoff, dtype=np.float32,
    )  # fmt: skip
    t_matrix = time.perf_counter() - started
    reached = np.isfinite(m)
    return {
        "lines": len(lines),
        "nodes": graph.n_nodes,
        "edges": int(graph.report.edges),
        "communes": args.communes,
        "sites": args.sites,
        "cutoff_min": args.cutoff,
        "make_lines_s": round(t_make, 2),
        "build_graph_s": round(t_graph, 2),
        "matrix_s": round(t_matrix, 2),
        "pairs_reached_share": round(float(reached.mean()), 4),
        "communes_reaching_a_site": round(float(reached.any(axis=1).mean()), 4),
        "matrix_mb": round(m.nbytes / 1024**2, 1),
        "peak_rss_mb": round(peak_mb(), 1),
    }


def demo() -> dict:
    from data.demo import generate_demo
    from data.demo_roads import demo_roads

    country = generate_demo(seed=42, n_communes=400)
    started = time.perf_counter()
    lines = demo_roads(country)
    t_lines = time.perf_counter() - started
    started = time.perf_counter()
    graph = build_graph(lines)
    t_graph = time.perf_counter() - started
    communes = country.units[country.units["level"] == 2]
    rep = communes.geometry.representative_point()
    sites_lon = np.r_[country.centers["lon"], country.candidates["lon"]]
    sites_lat = np.r_[country.centers["lat"], country.candidates["lat"]]
    out = {"lines": len(lines), "edges": graph.report.edges,
           "generate_roads_s": round(t_lines, 3), "build_graph_s": round(t_graph, 3),
           "communes": len(communes), "sites": len(sites_lon)}  # fmt: skip
    for mode in ("motorised", "walking"):
        for season in ("dry", "rainy"):
            started = time.perf_counter()
            m = travel_time_matrix(
                graph, rep.x, rep.y, sites_lon, sites_lat, mode=mode, season=season
            )
            out[f"matrix_{mode}_{season}_s"] = round(time.perf_counter() - started, 3)
            # today's centers only, the access indicators of the app
            kpis = access_kpis(m[:, : len(country.centers)].min(axis=1),
                               communes["population"])  # fmt: skip
            out[f"access_{mode}_{season}"] = {k: round(v, 3) for k, v in kpis.items()}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edges", type=int, default=500_000)
    parser.add_argument("--communes", type=int, default=35_000)
    parser.add_argument("--sites", type=int, default=3_400)
    parser.add_argument("--cutoff", type=float, default=240.0)
    parser.add_argument("--case", choices=["demo", "national", "both"], default="both")
    parser.add_argument("--out", default=str(ROOT / "bench/results/roads.json"))
    args = parser.parse_args()
    out = Path(args.out)
    # a run of one case keeps the other case's last figures
    result = json.loads(out.read_text()) if out.is_file() else {}
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    for case, run in (("demo", demo), ("national", lambda: national(args))):
        if args.case not in (case, "both"):
            continue
        load = os.getloadavg()
        figures = run()
        figures["machine"] = {"cpus": os.cpu_count(), "when": when,
                              "load_before": [round(x, 2) for x in load],
                              "load_after": [round(x, 2) for x in os.getloadavg()]}  # fmt: skip
        result[case] = figures
        print(json.dumps(figures, indent=1), flush=True)
    out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
