"""Which side of the 5,000 x 1,000 p-median gap is weak: the plan or the bound?

Runs, without a time limit that matters and bounded by work, on the
``bench_pmedian_scale.py`` class (uniform 5,000 x 1,000, p = 50, seed 1):

1. the solve's own start (greedy + interchange), its first Lagrangian run
   (3,000 steps) and the interchange from the relaxed plan;
2. the core heuristic (``radius.core_plan``) with ``--core-work`` (default
   5e9, the solve's ``CORE_WORK``; 5e10 for ten times its work);
3. an *exact window search* from that plan: for each open site j, the window
   is j and its ``r - 1`` nearest open sites (site-to-site distance
   ``min_i c_ij + c_ik``); its points are those they serve, its candidate
   sites every closed site among those points' ``--near`` cheapest plus the
   window's, and one extra column locked open costs each point its nearest
   open site outside the window. That restricted p-median (``r + 1`` sites)
   is solved by ``pmedian_tree.lagrangian_tree`` (work bound ``--window-work``);
   a better window plan replaces the incumbent. Sweeps until none improves
   (at most three);
4. optionally (``--lp K``) the LP relaxation of the p-median restricted to
   each point's K cheapest sites, by HiGHS: its optimum is at least the LP
   bound of the full model, so when it is close to the Lagrangian bound the
   Lagrangian has converged to the LP and the gap left is the formulation's.

Results are merged into ``bench/results/pmedian_probe.json`` with the load
(1-minute average) before and after and the CPU seconds of each step.

Usage::

    nice -n 19 python bench/bench_pmedian_probe.py --windows 6,12 --lp 25
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

RESULTS = ROOT / "bench" / "results" / "pmedian_probe.json"


def window_search(
    C: np.ndarray,
    cost: np.ndarray,
    plan: np.ndarray,
    r: int,
    near: int,
    work: float,
    sweeps: int = 3,
) -> tuple[np.ndarray, dict]:
    """Exact re-solve of every window of ``r`` neighbouring open sites (see module doc).

    ``C`` is the weighted cost matrix, ``cost`` the unweighted one (for the
    site-to-site distance). Returns the best plan and a summary (windows
    solved, proven, improved, largest window).
    """
    from optimization.pmedian_tree import lagrangian_tree

    best = plan.copy()
    total = float(C[:, best].min(axis=1).sum())
    cheapest = np.argsort(C, axis=1, kind="stable")[:, :near]
    solved = proven = improved = 0
    largest = (0, 0)
    for _ in range(sweeps):
        better = False
        for j in np.flatnonzero(best):
            if not best[j]:
                continue
            opn = np.flatnonzero(best)
            nearest = opn[np.argmin(C[:, opn], axis=1)]
            dist = (cost[:, [j]] + cost[:, opn]).min(axis=0)
            window = opn[np.argsort(dist, kind="stable")[:r]]
            inside = np.zeros(best.size, bool)
            inside[window] = True
            points = np.flatnonzero(inside[nearest])
            cand = np.unique(np.concatenate([cheapest[points].ravel(), window]))
            cand = cand[~best[cand] | inside[cand]]
            rest = best & ~inside
            outside = (
                C[points][:, rest].min(axis=1)
                if rest.any()  # no site outside: a column no point uses
                else np.full(points.size, float(C.sum()) + 1.0)
            )
            sub = np.column_stack([C[points][:, cand], outside])
            start = np.zeros(cand.size + 1, bool)
            start[np.searchsorted(cand, window)] = True
            start[-1] = True
            upper = float(sub[:, start].min(axis=1).sum())
            locked = np.zeros(cand.size + 1, bool)
            locked[-1] = True
            lam = np.sort(sub, axis=1)[:, min(1, sub.shape[1] - 1)]
            tree = lagrangian_tree(
                sub,
                window.size + 1,
                start,
                upper,
                lam,
                opened=locked,
                gap_rel=1e-7,
                max_work=work,
            )
            solved += 1
            proven += int(tree.complete)
            largest = max(largest, (points.size, cand.size))
            if tree.cost < upper - 1e-6:
                trial = best & ~inside
                trial[cand[tree.plan[:-1]]] = True
                cost_trial = float(C[:, trial].min(axis=1).sum())
                if cost_trial < total - 1e-6:
                    best, total, better = trial, cost_trial, True
                    improved += 1
        if not better:
            break
    return best, {
        "windows_solved": solved,
        "windows_proven": proven,
        "improvements": improved,
        "largest_window_points_sites": list(largest),
    }


def restricted_lp(C: np.ndarray, p: int, k: int) -> float:
    """LP optimum of the p-median with each point's ``k`` cheapest sites only (HiGHS)."""
    import highspy

    n, m = C.shape
    nbr = np.argsort(C, axis=1, kind="stable")[:, :k]
    nx = n * k
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.addVars(m + nx, np.zeros(m + nx), np.ones(m + nx))
    costs = np.concatenate([np.zeros(m), C[np.arange(n)[:, None], nbr].ravel()])
    h.changeColsCost(m + nx, np.arange(m + nx, dtype=np.int32), costs)
    xs = (m + np.arange(nx)).astype(np.int32)
    h.addRows(
        n,
        np.ones(n),
        np.ones(n),
        nx,
        np.arange(0, nx, k, dtype=np.int32),
        xs,
        np.ones(nx),
    )
    pairs = np.column_stack([xs, nbr.ravel().astype(np.int32)]).ravel()
    h.addRows(
        nx,
        np.full(nx, -highspy.kHighsInf),
        np.zeros(nx),
        2 * nx,
        np.arange(0, 2 * nx, 2, dtype=np.int32),
        pairs.astype(np.int32),
        np.tile([1.0, -1.0], nx),
    )
    h.addRow(p, p, m, np.arange(m, dtype=np.int32), np.ones(m))
    h.run()
    return float(h.getInfo().objective_function_value)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--core-work", type=float, default=5e9)
    ap.add_argument("--windows", default="6,12", help="window sizes r, e.g. 6,12,20")
    ap.add_argument("--near", type=int, default=15)
    ap.add_argument("--window-work", type=float, default=2e10)
    ap.add_argument(
        "--lp", type=int, default=0, help="K of the restricted LP (0: skip)"
    )
    ap.add_argument(
        "--lag-iterations",
        default="3000,100",
        help="steps and stall of the first Lagrangian run (the solve's: 3000,100)",
    )
    args = ap.parse_args(argv)
    lag_steps, lag_stall = (int(v) for v in args.lag_iterations.split(","))

    from bench_pmedian_scale import CLASSES, random_instance

    import optimization.radius as radius
    from optimization import PMedian
    from optimization.heuristics import greedy_interchange, lagrangian_bound

    n, m, p, _, _, seed = CLASSES["5000x1000"]
    cost, w = random_instance(n, m, seed)
    pm = PMedian.from_cost_matrix(cost, w, p)
    C = w[:, None] * cost
    row: dict = {
        "instance": f"uniform {n} x {m}, p = {p}, seed {seed}",
        "load_before": round(os.getloadavg()[0], 2),
        "run_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }

    def clock() -> float:
        return time.process_time()

    t = clock()
    start = radius._start(pm)
    row["start"] = {
        "plan": radius.plan_objective(pm, start),
        "cpu_s": round(clock() - t, 1),
    }
    t = clock()
    r = pm.rules
    lag = lagrangian_bound(
        cost,
        w,
        p,
        row["start"]["plan"],
        start,
        r.locked,
        r.allowed,
        time_budget=3600.0,
        max_iter=lag_steps,
        stall=lag_stall,
    )
    polished = greedy_interchange(
        cost, w, p, r.locked, r.allowed, time_budget=3600.0, start=lag["chosen"]
    )
    best = min((start, polished), key=lambda x: radius.plan_objective(pm, x))
    row["lagrangian"] = {
        "bound": float(lag["bound"]),
        "iterations": int(lag["iterations"]),
        "max_iter_stall": [lag_steps, lag_stall],
        "polished_plan": radius.plan_objective(pm, polished),
        "cpu_s": round(clock() - t, 1),
    }
    t = clock()
    radius.CORE_WORK = args.core_work
    cored = radius.core_plan(
        pm, best, radius.plan_objective(pm, best), lag["lam"], 0.0, 3600.0
    )
    row["core"] = {
        "work": args.core_work,
        "plan": radius.plan_objective(pm, cored),
        "cpu_s": round(clock() - t, 1),
    }
    best = cored
    row["windows"] = []
    for size in (int(s) for s in args.windows.split(",") if s):
        t = clock()
        best, summary = window_search(C, cost, best, size, args.near, args.window_work)
        row["windows"].append(
            {
                "r": size,
                "near": args.near,
                "plan": radius.plan_objective(pm, best),
                **summary,
                "cpu_s": round(clock() - t, 1),
            }
        )
        print(json.dumps(row["windows"][-1]), flush=True)
    row["best_plan"] = radius.plan_objective(pm, best)
    if args.lp:
        t = clock()
        row["restricted_lp"] = {
            "k": args.lp,
            "value": restricted_lp(C, p, args.lp),
            "cpu_s": round(clock() - t, 1),
        }
    row["load_after"] = round(os.getloadavg()[0], 2)
    print(json.dumps(row, indent=1))
    doc = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"runs": []}
    doc["runs"].append(row)
    RESULTS.write_text(json.dumps(doc, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
