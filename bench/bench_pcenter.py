"""The demo country's p-center (p = 25): this tree against an earlier commit.

Builds the model once as ``run_scenario`` does (the "pcenter p=25" row of
``bench_optimization.py --only demo``), then solves it with this tree's
``optimization/pcenter.py`` and with the same file at ``--before`` (default
``HEAD~1``, loaded from git next to this tree's other modules), alternately,
``--runs`` times each. CPU seconds (``time.process_time``, HiGHS's threads
included) are the measure on a shared machine; wall seconds are recorded too,
with ``uptime`` before and after. It also times the whole ``run_scenario``
(distances, solve, KPIs) with this tree and records how each radius of the
bisection was settled (quick test: cover search or bound; covering MIP).

Usage::

    python bench/bench_pcenter.py [--before COMMIT] [--runs 4]

Results go to ``bench/results/pcenter.json``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

RESULTS = ROOT / "bench" / "results" / "pcenter.json"


def _module_at(commit: str):
    """``optimization/pcenter.py`` as it was at ``commit``, as a module."""
    text = subprocess.run(
        ["git", "show", f"{commit}:optimization/pcenter.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    path = Path(tempfile.mkdtemp()) / "pcenter_before.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location("pcenter_before", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="HEAD~1")
    parser.add_argument("--runs", type=int, default=4)
    args = parser.parse_args()

    from bench_optimization import DEMO_SCENARIOS, demo_network

    from optimization import pcenter
    from optimization.scenario import load_spec, run_scenario

    before = _module_at(args.before)
    net = demo_network()
    raw = {
        "model": "pmedian",
        "demand": {"source": "requests"},
        **DEMO_SCENARIOS["pcenter p=25"],
    }
    captured: dict = {}
    solve = pcenter.PCenter.solve

    def capture(self, *a, **k):
        captured["model"] = self
        return solve(self, *a, **k)

    out: dict = {"uptime_before": _uptime(), "before": args.before}
    pcenter.PCenter.solve = capture
    try:
        t, cpu = time.perf_counter(), time.process_time()
        result = run_scenario(load_spec(raw), net)
        out["run_scenario_this_tree"] = {
            "seconds": round(time.perf_counter() - t, 3),
            "cpu_seconds": round(time.process_time() - cpu, 3),
            "status": result.report.status,
            "objective": result.report.objective,
            "radii decided": result.report.details.get("radii decided"),
        }
    finally:
        pcenter.PCenter.solve = solve
    m = captured["model"]
    args_of = (m.cost_matrix, m.weights, m.p, m.rules)
    runs: dict = {"this tree": [], args.before: []}
    for i in range(args.runs):
        order = [("this tree", pcenter), (args.before, before)]
        for name, module in order if i % 2 == 0 else order[::-1]:
            model = module.PCenter.from_cost_matrix(*args_of)
            t, cpu = time.perf_counter(), time.process_time()
            model.solve()
            runs[name].append(
                {
                    "seconds": round(time.perf_counter() - t, 3),
                    "cpu_seconds": round(time.process_time() - cpu, 3),
                    "status": model.report.status,
                    "objective": round(float(model.objective), 6),
                }
            )
    out["solves"] = runs
    out["uptime"] = _uptime()
    RESULTS.write_text(json.dumps(out, indent=2))
    print(json.dumps(out["run_scenario_this_tree"]))
    for name, rows in runs.items():
        cpus = [r["cpu_seconds"] for r in rows]
        walls = [r["seconds"] for r in rows]
        print(
            f"{name:>12}: CPU s {min(cpus):.2f}-{max(cpus):.2f}, "
            f"wall s {min(walls):.2f}-{max(walls):.2f}, "
            f"{rows[0]['status']} {rows[0]['objective']}"
        )
    print(out["uptime_before"], "|", out["uptime"])


if __name__ == "__main__":
    main()
