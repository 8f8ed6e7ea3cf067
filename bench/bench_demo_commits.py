"""CPU seconds of demo-country models at two commits, run alternately.

Tells a slower engine from a slower machine: each commit's code is checked
out in a git worktree under /tmp (the shared working tree and index are not
touched), and the chosen scenarios of ``bench_optimization.DEMO_SCENARIOS``
are solved on the same demo database by a fresh Python process per run,
alternating the commits (A B A B ...) so that the machine's load drifts over
both alike. Each run reports the CPU seconds of every solve
(``time.process_time``, HiGHS's threads included) next to wall seconds, and
the network's sizes, so a change of input is seen too.

Usage::

    python bench/bench_demo_commits.py a4f54ae HEAD --runs 2 \\
        --models "pcenter p=25" "lscp R=60" "pmedian p=25"

Results go to ``bench/results/demo_commits.json``. Measured 2026-11-30
(machine loaded): a4f54ae and HEAD took the same CPU seconds, so the
1.3-2.3x slower demo rows of that day came from the machine (see
``bench_optimization.machine_reference``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "demo_commits.json"

#: Run inside the worktree's own code: load the network, solve each scenario.
CHILD = r"""
import json, sys, time
tree, db = sys.argv[1], sys.argv[2]
sys.path.insert(0, tree)
from data.store import Store
from optimization.network import network_from_store
from optimization.scenario import load_spec, run_scenario
scenarios = json.loads(sys.stdin.read())
net = network_from_store(Store(f"sqlite:///{db}"), with_polygons=False)
out = {"network": [len(net.commune_ids), len(net.center_ids), len(net.candidate_ids),
                   float(net.requests.sum())]}
# warm up imports and HiGHS so the first model does not pay them
run_scenario(load_spec({"model": "pmedian", "demand": {"source": "requests"},
                        "parameters": {"p": 5}}), net)
for name, extra in scenarios.items():
    raw = {"model": "pmedian", "demand": {"source": "requests"}, **extra}
    wall, cpu = time.perf_counter(), time.process_time()
    report = run_scenario(load_spec(raw), net).report
    out[name] = {"cpu_seconds": time.process_time() - cpu,
                 "seconds": time.perf_counter() - wall,
                 "status": report.status, "objective": report.objective}
print(json.dumps(out))
"""


def _uptime() -> str:
    return subprocess.run(
        ["uptime"], capture_output=True, text=True, check=False
    ).stdout.strip()


def _worktree(rev: str, base: Path) -> tuple[str, Path]:
    sha = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", rev],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    path = base / sha
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(path), sha],
        capture_output=True,
        check=True,
    )
    return sha, path


def run_once(tree: Path, db: Path, scenarios: dict) -> dict:
    """One child process solving ``scenarios`` with the code in ``tree``."""
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(tree), str(db)],
        input=json.dumps(scenarios),
        capture_output=True,
        text=True,
        check=False,
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def compare(revs: list[str], models: list[str], runs: int, db: Path) -> dict:
    from bench.bench_optimization import DEMO_SCENARIOS

    unknown = [m for m in models if m not in DEMO_SCENARIOS]
    if unknown:
        raise SystemExit(f"unknown scenarios {unknown}; see DEMO_SCENARIOS")
    scenarios = {m: DEMO_SCENARIOS[m] for m in models}
    base = Path(tempfile.mkdtemp(prefix="demo-commits-"))
    trees: list[tuple[str, Path]] = []
    out: dict = {"database": str(db), "uptime_before": _uptime(), "runs": []}
    try:
        for rev in revs:
            trees.append(_worktree(rev, base))
        for i in range(runs):
            for sha, tree in trees:
                result = run_once(tree, db, scenarios)
                out["runs"].append({"commit": sha, "round": i, **result})
                cpu = ", ".join(
                    f"{m} {result[m]['cpu_seconds']:.2f}" for m in scenarios
                )
                print(f"round {i} {sha}: {cpu} CPU s", flush=True)
    finally:
        for _, tree in trees:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                capture_output=True,
                check=False,
            )
        shutil.rmtree(base, ignore_errors=True)
    out["uptime"] = _uptime()
    out["median_cpu_seconds"] = {
        sha: {
            m: round(
                statistics.median(
                    r[m]["cpu_seconds"] for r in out["runs"] if r["commit"] == sha
                ),
                3,
            )
            for m in scenarios
        }
        for sha, _ in trees
    }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("revs", nargs=2, help="two commits, e.g. a4f54ae HEAD")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument(
        "--models", nargs="+", default=["pcenter p=25", "lscp R=60", "pmedian p=25"]
    )
    parser.add_argument(
        "--db",
        type=Path,
        default=Path("/tmp/opt-bench-demo/dashapp.sqlite"),
        help="demo database (python -m dashapp demo --data-dir DIR)",
    )
    args = parser.parse_args()
    if not args.db.exists():
        raise SystemExit(f"{args.db} missing: run bench_optimization.py --only demo")
    out = compare(args.revs, args.models, args.runs, args.db)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out["median_cpu_seconds"], indent=2))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
