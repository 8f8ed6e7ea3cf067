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
4. optionally (``--lp``) the LP relaxation's value, by HiGHS on the pairs that
   price negatively, with pairs priced in until none is left out (each
   point may also be served, unlinked, at its cheapest pair left out, so
   every round is a relaxation; its duals, evaluated as Lagrangian
   multipliers on every pair, give a proven bound): tells a subgradient that
   has not converged from the formulation's own gap;
5. optionally (``--best-first S``) ``S`` CPU seconds of a best-first
   Lagrangian branch-and-bound against the 0.1% target (``upper`` x 0.999),
   from the LP's duals (or the multipliers), tracing the proven bound (the
   least bound of the open nodes) against nodes and CPU seconds.

``--upper U`` skips steps 2-3 and takes ``U`` (the best plan's cost from an
earlier run) as the plan for steps 4-5.

Results are merged into ``bench/results/pmedian_probe.json`` with the load
(1-minute average) before and after and the CPU seconds of each step.

Usage::

    nice -n 19 python bench/bench_pmedian_probe.py --windows 6,12 --lp
    nice -n 19 python bench/bench_pmedian_probe.py --upper 1288285.14 --lp \
        --best-first 300
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


def lagrangian_value(C: np.ndarray, p: int, lam: np.ndarray) -> float:
    """Lagrangian bound of the p-median at multipliers ``lam`` on every pair of ``C``.

    ``sum_i lam_i + (sum of the p smallest site values)``, site ``j`` worth
    ``sum_i min(0, C_ij - lam_i)``: a valid lower bound for any ``lam``.
    """
    rho = np.zeros(C.shape[1])
    for lo in range(0, C.shape[0], 1000):  # in slices: no n x m temporary
        block = C[lo : lo + 1000] - lam[lo : lo + 1000, None]
        rho += np.minimum(block, 0.0).sum(axis=0)
    return float(lam.sum() + np.sort(rho)[:p].sum())


def _cut_costs(C: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Each point's cheapest pair left out of ``mask`` (its costliest if none)."""
    cut = np.where(mask, np.inf, C).min(axis=1)
    return np.where(np.isfinite(cut), cut, C.max(axis=1))


def _pairs_lp(C: np.ndarray, p: int, mask: np.ndarray):
    """HiGHS LP of the p-median on the pairs ``mask``, plus a truncation column per point.

    Columns: ``y_j`` (``0..m-1``), one ``x_ij`` per kept pair (``x_ij <= y_j``),
    and per point (``m + k + i``) a column without link row costing its
    cheapest pair left out, so the LP is a relaxation of the full one (a
    point may be served there at that cost whatever is open). Rows: the
    assignment rows (``0..n-1``), the link rows, the count row.
    """
    import highspy

    n, m = C.shape
    rows, J = np.nonzero(mask)
    k = rows.size
    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    lp.num_col_ = m + k + n
    lp.num_row_ = n + k + 1
    lp.col_cost_ = np.concatenate([np.zeros(m), C[rows, J], _cut_costs(C, mask)])
    lp.col_lower_ = np.zeros(m + k + n)
    lp.col_upper_ = np.ones(m + k + n)
    lp.row_lower_ = np.concatenate([np.ones(n), np.full(k, -inf), [p]])
    lp.row_upper_ = np.concatenate([np.ones(n), np.zeros(k), [p]])
    # Column-wise: y_j in its pairs' link rows (-1) and the count row; x in
    # its assignment row and its link row; the truncation column in its row.
    by_site = np.argsort(J, kind="stable")
    per_site = np.bincount(J, minlength=m)
    y_len = per_site + 1
    y_idx = np.empty(int(y_len.sum()), np.int32)
    y_val = np.empty(y_idx.size)
    ends = np.cumsum(y_len)
    starts = ends - y_len
    link_pos = np.repeat(starts, per_site) + (
        np.arange(k) - np.repeat(np.cumsum(per_site) - per_site, per_site)
    )
    y_idx[link_pos] = n + by_site
    y_val[link_pos] = -1.0
    y_idx[ends - 1] = n + k
    y_val[ends - 1] = 1.0
    x_idx = np.column_stack([rows, n + np.arange(k)]).ravel().astype(np.int32)
    index = np.concatenate([y_idx, x_idx, np.arange(n, dtype=np.int32)])
    start = np.concatenate(
        [starts, y_idx.size + 2 * np.arange(k), y_idx.size + 2 * k + np.arange(n)]
    )
    value = np.ones(index.size)
    value[: y_val.size] = y_val
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.append(start, index.size).astype(np.int32)
    lp.a_matrix_.index_ = index
    lp.a_matrix_.value_ = value
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.passModel(lp)
    return h, m + k + np.arange(n, dtype=np.int32)


def _add_pairs(h, C: np.ndarray, n: int, add: np.ndarray) -> None:
    """Add the pairs ``add`` to the LP: a link row ``x_ij - y_j <= 0`` and ``x_ij``."""
    import highspy

    rows, J = np.nonzero(add)
    k = rows.size
    first = h.getNumRow()
    h.addRows(
        k,
        np.full(k, -highspy.kHighsInf),
        np.zeros(k),
        k,
        np.arange(k, dtype=np.int32),
        J.astype(np.int32),
        -np.ones(k),
    )
    index = np.column_stack([rows, first + np.arange(k)]).ravel().astype(np.int32)
    h.addCols(
        k,
        C[rows, J],
        np.zeros(k),
        np.ones(k),
        2 * k,
        2 * np.arange(k, dtype=np.int32),
        index,
        np.ones(2 * k),
    )


def lp_bound(
    C: np.ndarray, p: int, lam: np.ndarray, rounds: int = 8, extra: int = 15
) -> dict:
    """LP relaxation value of the p-median by pricing pairs (column generation).

    Starts from the pairs with a negative reduced cost at ``lam`` (and each
    point's cheapest); each round solves :func:`_pairs_lp` (from the last
    round's basis), then adds every pair left out whose reduced cost at the
    LP's duals is negative and, for a point served by its truncation column,
    its ``extra`` next cheapest pairs. When nothing is added the restricted
    LP's value is the full LP's. Every round's duals are also evaluated as
    multipliers on every pair (:func:`lagrangian_value`): a proven lower
    bound whatever the rounds reach.
    """
    n, m = C.shape
    mask = lam[:, None] > C
    mask[np.arange(n), C.argmin(axis=1)] = True
    h, trunc_cols = _pairs_lp(C, p, mask)
    out: dict = {"rounds": []}
    best = -np.inf
    for _ in range(rounds):
        t = time.process_time()
        h.run()
        sol = h.getSolution()
        value = float(h.getInfo().objective_function_value)
        duals = np.asarray(sol.row_dual)[:n]
        trunc = np.asarray(sol.col_value)[trunc_cols]
        proven = lagrangian_value(C, p, duals)
        add = np.zeros_like(mask)
        for lo in range(0, n, 1000):
            block = C[lo : lo + 1000] - duals[lo : lo + 1000, None] < -1e-7
            add[lo : lo + 1000] = block & ~mask[lo : lo + 1000]
        served_far = np.flatnonzero(trunc > 1e-9)
        for i in served_far:
            left = np.flatnonzero(~mask[i] & ~add[i])
            add[i, left[np.argsort(C[i, left], kind="stable")[:extra]]] = True
        out["rounds"].append(
            {
                "pairs": int(mask.sum()),
                "lp": value,
                "status": h.modelStatusToString(h.getModelStatus()),
                "duals_lagrangian": proven,
                "points_truncated": int(served_far.size),
                "pairs_priced_in": int(add.sum()),
                "cpu_s": round(time.process_time() - t, 1),
            }
        )
        print(json.dumps(out["rounds"][-1]), flush=True)
        if proven > best:
            best, out["duals"] = proven, duals
        if not add.any():
            out["lp_exact"] = value
            break
        mask |= add
        _add_pairs(h, C, n, add)
        h.changeColsCost(n, trunc_cols, _cut_costs(C, mask))
    out["proven_bound"] = best
    return out


def best_first(
    C: np.ndarray,
    p: int,
    lam: np.ndarray,
    upper: float,
    gap_rel: float,
    cpu_limit: float,
    prefix: int,
) -> dict:
    """Best-first Lagrangian branch-and-bound against ``upper (1 - gap_rel)``.

    The nodes are those of ``pmedian_tree.lagrangian_tree`` (same bound,
    fixings and branching site) but the node of least bound is expanded
    first, so the least bound of the open nodes (the proven bound) is traced
    as it rises: ``trace`` holds (nodes, CPU seconds, bound) every 25 nodes.
    Sites are first closed against the target by the bound at ``lam``.
    Stops after ``cpu_limit`` CPU seconds or when every node is cut.
    """
    import heapq
    import math

    from optimization.pmedian_tree import SparseCosts, node_bound, site_fixings

    n, m = C.shape
    root = lagrangian_value(C, p, lam)
    rho = np.zeros(m)
    for lo in range(0, n, 1000):
        rho += np.minimum(C[lo : lo + 1000] - lam[lo : lo + 1000, None], 0).sum(0)
    closed, _, _, excluded = site_fixings(
        root, rho, np.arange(m), p, upper, 0.0, gap_rel
    )
    sparse = SparseCosts(C, prefix)
    t0 = time.process_time()
    heap = [(-math.inf, 0, closed, np.zeros(m, bool), lam)]
    count = nodes = 0
    trace = []
    best_cost = upper

    def proven() -> float:
        return min([excluded, best_cost] + [h[0] for h in heap])

    while heap and time.process_time() - t0 < cpu_limit:
        if nodes and nodes % 25 == 0:  # after the root: a finite bound
            trace.append([nodes, round(time.process_time() - t0, 1), proven()])
            print("best-first", trace[-1], flush=True)
        parent, _, cl, op, lam_n = heapq.heappop(heap)
        cols = np.flatnonzero(~cl)
        k = p - int(op.sum())
        nodes += 1
        if k < 0 or cols.size < p:
            continue
        if k == 0 or cols.size == p:
            leaf = op if k == 0 else ~cl
            best_cost = min(best_cost, float(C[:, leaf].min(axis=1).sum()))
            continue
        is_open = op[cols]
        nb = node_bound(
            C, is_open, k, lam_n, best_cost, 0.0, gap_rel, sparse=sparse, cols=cols
        )
        best_cost = min(best_cost, nb.best_cost)
        if nb.bound >= best_cost * (1 - gap_rel):
            excluded = min(excluded, nb.bound)
            continue
        excluded = min(excluded, nb.excluded)
        cl, op = cl.copy(), op.copy()
        cl[cols[nb.fix_closed]] = True
        op[cols[nb.fix_open]] = True
        free = ~is_open & ~nb.fix_open & ~nb.fix_closed
        cand = nb.chosen & free
        if not cand.any():
            cand = free
        if not cand.any():
            continue
        score = np.where(cand, nb.close_bound, -math.inf)
        score = np.where(cand & ~np.isfinite(score), nb.bound, score)
        j = cols[int(np.argmax(score))]
        shut, force = cl.copy(), op.copy()
        shut[j] = force[j] = True
        count += 1
        heapq.heappush(
            heap, (float(max(nb.bound, score.max())), count, shut, op, nb.lam)
        )
        count += 1
        heapq.heappush(heap, (float(nb.bound), count, cl, force, nb.lam))
    trace.append([nodes, round(time.process_time() - t0, 1), proven()])
    return {
        "target": upper * (1 - gap_rel),
        "sites_closed_at_root": int(closed.sum()),
        "nodes": nodes,
        "open_nodes": len(heap),
        "bound": proven(),
        "complete": not heap,
        "trace": trace,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--core-work", type=float, default=5e9)
    ap.add_argument("--windows", default="6,12", help="window sizes r, e.g. 6,12,20")
    ap.add_argument("--near", type=int, default=15)
    ap.add_argument("--window-work", type=float, default=2e10)
    ap.add_argument(
        "--lp",
        action="store_true",
        help="LP value by pricing pairs, its duals' proven Lagrangian bound",
    )
    ap.add_argument(
        "--best-first",
        type=float,
        default=0.0,
        help="CPU seconds of a best-first Lagrangian tree against the 0.1%% target",
    )
    ap.add_argument(
        "--upper",
        type=float,
        default=0.0,
        help="cost of the best plan known: skip the core and windows, bound only",
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
    if args.upper:  # the core and windows were run before: bounds only
        row["upper_given"] = args.upper
        return _bounds(row, args, C, p, lag["lam"], args.upper, clock)
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
    return _bounds(row, args, C, p, lag["lam"], row["best_plan"], clock)


def _bounds(row: dict, args, C: np.ndarray, p: int, lam, upper: float, clock) -> int:
    """The LP and best-first steps from the Lagrangian multipliers, then save ``row``."""
    if args.lp:
        t = clock()
        res = lp_bound(C, p, lam)
        lam = res.pop("duals")
        row["lp"] = {**res, "cpu_s": round(clock() - t, 1)}
    if args.best_first:
        t = clock()
        row["best_first"] = {
            "from": "LP duals" if args.lp else "Lagrangian multipliers",
            "upper": upper,
            **best_first(C, p, lam, upper, 0.001, args.best_first, 100),
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
