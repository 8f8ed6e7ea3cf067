"""Benchmark of the scenario workspace measured in travel minutes (issue: travel time).

On the demo country (400 communes, 250 sites, its generated roads) for each access
measure: the first read of the commune x site matrix by the workspace (the store's
cached minutes, or computing them), a second read (kept in the workspace), the
instant evaluation of the network as set, the same with one site the planner
added (its own Dijkstra column) and the p-median run (3 new centers, 20 s limit).
Writes ``bench/results/scenario_measure.json`` with the machine's load.

Run: ``.venv/bin/python bench/bench_scenario_measure.py``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dashapp.bootstrap import create_demo  # noqa: E402
from data.store import Store  # noqa: E402
from optimization.whatif import MEASURES, WhatIf  # noqa: E402
from optimization.workspace import Workspace  # noqa: E402


def _timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, round(time.perf_counter() - start, 3)


def main() -> dict:
    load_before = os.getloadavg()
    store = Store("sqlite://")
    store.upgrade()
    info = create_demo(store, seed=42)
    ws = Workspace.from_store(store, info.id)
    added = str(ws.network.commune_ids[7])
    rows = {}
    for measure in MEASURES:
        _, first = _timed(lambda m=measure: ws.costs(m))
        _, again = _timed(lambda m=measure: ws.costs(m))
        whatif = WhatIf(measure=measure, radius_km=45)
        evaluation, evaluate = _timed(lambda w=whatif: ws.evaluate(w))
        with_site = WhatIf(measure=measure, radius_km=45, added=(added,),
                           sites={f"NEW-{added}": "locked"})  # fmt: skip
        _, evaluate_added = _timed(lambda w=with_site: ws.evaluate(w))
        run = ws.prepare_run(WhatIf(measure=measure, radius_km=45, time_limit_s=20))
        try:
            result, solve = _timed(run.solve)
            status = result.report.status
        except Exception as exc:  # noqa: BLE001 - recorded, the bench goes on
            solve, status = None, f"error: {str(exc)[:120]}"
        after = evaluation.after
        rows[measure] = {
            "first_matrix_s": first,
            "cached_matrix_s": again,
            "evaluate_s": evaluate,
            "evaluate_with_added_site_s": evaluate_added,
            "solve_s": solve,
            "status": status,
            "mean_distance": round(after["mean_distance"], 1),
            "unserved_communes": after["unserved_communes"],
            "unreachable_pct": (
                round(100 * after["unreachable"], 1) if "unreachable" in after else None
            ),
        }
        print(measure, rows[measure], flush=True)
    return {
        "case": "demo, 400 communes x 250 sites, its generated roads",
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
        "measures": rows,
    }


if __name__ == "__main__":
    out = main()
    path = ROOT / "bench" / "results" / "scenario_measure.json"
    path.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(f"written {path}")
