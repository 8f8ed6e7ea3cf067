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


def slr_subproblem(
    C: np.ndarray,
    p: int,
    u: np.ndarray,
    time_limit: float = 60.0,
    start: np.ndarray | None = None,
    log_file: str = "",
    lp_solver: str = "choose",
) -> dict:
    """The semi-Lagrangian subproblem of the p-median at multipliers ``u``, by HiGHS.

    ``min sum_ij (C_ij - u_i) x_ij + sum_i u_i`` over ``x_ij <= y_j``,
    ``sum_j x_ij <= 1``, ``sum_j y_j = p`` (binary): the assignment rows
    ``sum_j x_ij = 1`` relaxed to ``<= 1`` and dualized. Only the pairs with
    ``C_ij < u_i`` can be used (the others cost nothing or more), and the
    sites without such a pair only fill the count, so the MIP holds those
    pairs and sites, with ``sum_j y_j <= p`` (``y`` binary; ``x`` continuous,
    integral at any binary ``y``). Its optimum is a lower bound of the
    p-median for every ``u``, non-decreasing in ``u``. HiGHS stops after
    ``time_limit`` seconds: the proven value is then ``sum u`` plus its MIP
    dual bound. ``start`` (sites open) is offered as a first solution;
    ``log_file`` keeps HiGHS's log, ``lp_solver`` is its ``mip_lp_solver``
    (``choose``, ``simplex``, ``ipm``).

    Returns the proven ``bound``, whether it is the subproblem's optimum,
    the sites its best solution opens, the points it leaves unserved, and
    the subproblem's size.
    """
    import highspy

    n, m = C.shape
    mask = u[:, None] > C
    rows, J = np.nonzero(mask)
    sites = np.unique(J)
    base = float(u.sum())
    out = {"pairs": int(rows.size), "sites": int(sites.size)}
    if sites.size <= p:  # every site with a pair opens: each point's cheapest
        red = np.where(mask, C - u[:, None], 0.0).min(axis=1)
        opened = np.zeros(m, bool)
        opened[sites] = True
        return {
            **out,
            "bound": base + float(red.sum()),
            "optimal": True,
            "open": opened,
            "unserved": np.flatnonzero(red >= 0),
            "mip_gap": 0.0,
        }
    s = sites.size
    col = np.searchsorted(sites, J)
    k = rows.size
    served = np.unique(rows)
    row_of = np.full(n, -1)
    row_of[served] = np.arange(served.size)
    nr = served.size
    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    lp.num_col_ = s + k
    lp.num_row_ = k + nr + 1
    lp.col_cost_ = np.concatenate([np.zeros(s), C[rows, J] - u[rows]])
    lp.col_lower_ = np.zeros(s + k)
    lp.col_upper_ = np.ones(s + k)
    # Rows: link x_ij - y_j <= 0 (0..k-1), point sum_j x_ij <= 1, count <= p.
    lp.row_lower_ = np.full(k + nr + 1, -inf)
    lp.row_upper_ = np.concatenate([np.zeros(k), np.ones(nr), [p]])
    # Column-wise: y_j in its pairs' link rows (-1) and the count row (+1);
    # x_ij in its link row and its point's row.
    order = np.argsort(col, kind="stable")
    per = np.bincount(col, minlength=s)
    y_start = np.concatenate([[0], np.cumsum(per + 1)[:-1]])
    y_idx = np.empty(k + s, np.int32)
    y_val = np.empty(k + s)
    pos = np.repeat(y_start, per) + (
        np.arange(k) - np.repeat(np.cumsum(per) - per, per)
    )
    y_idx[pos] = order
    y_val[pos] = -1.0
    y_idx[y_start + per] = k + nr
    y_val[y_start + per] = 1.0
    x_idx = np.column_stack([np.arange(k), k + row_of[rows]]).ravel()
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.concatenate(
        [y_start, k + s + 2 * np.arange(k), [k + s + 2 * k]]
    ).astype(np.int32)
    lp.a_matrix_.index_ = np.concatenate([y_idx, x_idx]).astype(np.int32)
    lp.a_matrix_.value_ = np.concatenate([y_val, np.ones(2 * k)])
    lp.integrality_ = [highspy.HighsVarType.kInteger] * s + [
        highspy.HighsVarType.kContinuous
    ] * k
    h = highspy.Highs()
    h.setOptionValue("output_flag", bool(log_file))
    if log_file:
        h.setOptionValue("log_to_console", False)
        h.setOptionValue("log_file", log_file)
    h.setOptionValue("threads", 1)
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("mip_rel_gap", 1e-9)
    h.setOptionValue("mip_abs_gap", 1e-6)
    h.setOptionValue("mip_lp_solver", lp_solver)
    h.passModel(lp)
    if start is not None:  # the sites open before, each point at its best
        y = start[sites].astype(float)
        if y.sum() > p:
            y[:] = 0.0
        x = np.zeros(k)
        red = C[rows, J] - u[rows]
        ok = y[col] > 0.5
        best = np.full(n, 0.0)
        arg = np.full(n, -1)
        for q in np.flatnonzero(ok)[np.argsort(red[ok], kind="stable")[::-1]]:
            best[rows[q]], arg[rows[q]] = red[q], q
        x[arg[arg >= 0]] = 1.0
        sol = highspy.HighsSolution()
        sol.col_value = np.concatenate([y, x]).tolist()
        sol.value_valid = True
        h.setSolution(sol)
    h.run()
    info = h.getInfo()
    status = h.modelStatusToString(h.getModelStatus())
    optimal = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    dual = float(info.mip_dual_bound)
    value = float(info.objective_function_value)
    x = np.asarray(h.getSolution().col_value)
    opened = np.zeros(m, bool)
    opened[sites[x[:s] > 0.5]] = True
    got = np.zeros(n)
    np.add.at(got, rows, x[s:])
    return {
        **out,
        "bound": base + (value if optimal else min(dual, value)),
        "optimal": bool(optimal),
        "status": status,
        "open": opened,
        "unserved": np.flatnonzero(got < 0.5),
        "mip_gap": float(info.mip_gap),
        "nodes": int(info.mip_node_count),
    }


def slr_ascent(
    C: np.ndarray,
    p: int,
    u: np.ndarray,
    cpu_limit: float,
    sub_limit: float = 60.0,
    target: float = np.inf,
    start: np.ndarray | None = None,
    log_file: str = "",
    lp_solver: str = "choose",
    max_iter: int = 0,
) -> dict:
    """Dual ascent of the semi-Lagrangian relaxation from ``u``.

    Each iteration solves :func:`slr_subproblem` and raises ``u_i`` of every
    point the solution leaves unserved (the subgradient ``1 - sum_j x_ij``)
    to just past its next cost ``C_ij`` above ``u_i``: one more pair for
    that point (when a subproblem is stopped unsolved, its best solution,
    at least as good as the plan ``start`` and the previous solution offered
    to it, gives the step). The semi-Lagrangian value is non-decreasing in ``u``, and
    when the solution serves every point it is a plan whose cost equals the
    bound (the optimum, if the subproblem was solved to optimality). Stops
    after ``cpu_limit`` CPU seconds (or ``max_iter`` subproblems, if
    positive), at that optimum or when the bound reaches ``target``. ``trace`` holds every iteration's proven bound,
    subproblem size and cumulated CPU seconds.
    """
    n, m = C.shape
    u = u.astype(float).copy()
    t0 = time.process_time()
    trace = []
    best = -np.inf
    best_plan = np.inf
    opened = start
    while True:
        left = cpu_limit - (time.process_time() - t0)
        if left <= 0:
            break
        sub = slr_subproblem(C, p, u, min(sub_limit, left), opened, log_file, lp_solver)
        opened = sub["open"]
        best = max(best, sub["bound"])
        plan = float(C[:, opened].min(axis=1).sum()) if opened.any() else np.inf
        best_plan = min(best_plan, plan)
        trace.append(
            {
                "bound": sub["bound"],
                "optimal": sub["optimal"],
                "pairs": sub["pairs"],
                "sites": sub["sites"],
                "unserved": int(sub["unserved"].size),
                "plan": plan,
                "mip_gap": sub["mip_gap"],
                "nodes": sub.get("nodes", 0),
                "status": sub.get("status", "all sites open"),
                "cpu_s": round(time.process_time() - t0, 2),
            }
        )
        print("slr", json.dumps(trace[-1]), flush=True)
        if best >= target or sub["unserved"].size == 0 or len(trace) == max_iter:
            break
        i = sub["unserved"]
        above = np.where(C[i] > u[i, None], C[i], np.inf).min(axis=1)
        above = np.where(np.isfinite(above), above, u[i] + 1.0)
        u[i] = above + 1e-6 * np.maximum(1.0, np.abs(above))
    return {
        "bound": best,
        "reached_target": bool(best >= target),
        "all_served": bool(trace and trace[-1]["unserved"] == 0),
        "best_plan_seen": best_plan,
        "iterations": len(trace),
        "cpu_s": round(time.process_time() - t0, 1),
        "trace": trace,
        "u": u,
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
        "--slr",
        type=float,
        default=0.0,
        help="CPU seconds of semi-Lagrangian dual ascent (from the LP duals with --lp)",
    )
    ap.add_argument(
        "--slr-sub",
        type=float,
        default=60.0,
        help="time limit (s) of each semi-Lagrangian subproblem's HiGHS MIP",
    )
    ap.add_argument("--slr-log", default="", help="file for the subproblems' HiGHS log")
    ap.add_argument(
        "--slr-gap",
        type=float,
        default=0.001,
        help="the ascent stops at upper x (1 - gap) (0: runs to the optimum)",
    )
    ap.add_argument(
        "--slr-iterations", type=int, default=0, help="at most this many subproblems"
    )
    ap.add_argument(
        "--class",
        dest="klass",
        default="5000x1000",
        help="bench_pmedian_scale class (e.g. 2000x500)",
    )
    ap.add_argument(
        "--bounds-only",
        action="store_true",
        help="skip the core and windows; the plan is the solve's start (no --upper)",
    )
    ap.add_argument(
        "--slr-lp-solver",
        default="choose",
        help="HiGHS mip_lp_solver of the subproblems: choose, simplex or ipm",
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

    n, m, p, _, _, seed = CLASSES[args.klass]
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
        return _bounds(row, args, C, p, lag["lam"], args.upper, clock, best)
    if args.bounds_only:  # the plan: the solve's start or its relaxed plan
        row["upper_start"] = radius.plan_objective(pm, best)
        return _bounds(row, args, C, p, lag["lam"], row["upper_start"], clock, best)
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
    return _bounds(row, args, C, p, lag["lam"], row["best_plan"], clock, best)


def _finite(obj):
    """``obj`` with its infinite or NaN floats as None (valid JSON)."""
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj


def _bounds(
    row: dict, args, C: np.ndarray, p: int, lam, upper: float, clock, plan
) -> int:
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
    if args.slr:
        t = clock()
        opened = np.zeros(C.shape[1], bool)
        opened[np.asarray(plan)] = True  # a mask or site indices alike
        res = slr_ascent(
            C,
            p,
            lam,
            args.slr,
            args.slr_sub,
            target=upper * (1 - args.slr_gap),
            start=opened,
            log_file=args.slr_log,
            lp_solver=args.slr_lp_solver,
            max_iter=args.slr_iterations,
        )
        res.pop("u")
        row["slr"] = {
            "from": "LP duals" if args.lp else "Lagrangian multipliers",
            "start_lagrangian": lagrangian_value(C, p, lam),
            "upper": upper,
            "target": upper * (1 - args.slr_gap),
            "sub_time_limit_s": args.slr_sub,
            "sub_lp_solver": args.slr_lp_solver,
            "start_plan": float(C[:, opened].min(axis=1).sum()),
            **res,
            "cpu_s": round(clock() - t, 1),
        }
    row["load_after"] = round(os.getloadavg()[0], 2)
    print(json.dumps(row, indent=1))
    doc = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"runs": []}
    doc["runs"].append(_finite(row))
    RESULTS.write_text(json.dumps(doc, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
