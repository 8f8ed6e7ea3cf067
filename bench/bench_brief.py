"""Benchmark of the decision briefs on the demo country.

Measures the wall time of building a brief as ``python -m dashapp brief`` does
(:func:`dashapp.services.briefs.build_brief` in :func:`~dashapp.services.briefs.
standalone`), from a process that has read nothing yet:

* cold: the first brief of a fresh process (store read, dataset loaded, fonts
  registered, matplotlib imported), one per region and for the whole country, each
  in its own process;
* warm: the same briefs again in that process (what the web app's job sees once
  the dataset is in memory);
* a scenario brief and a comparison of two scenarios, when ``--scenarios`` runs
  them first (two p-median solves, not timed).

Also ``python -m dashapp brief`` end to end (interpreter start and imports
included). The machine's load (``uptime``) is written beside the figures.

Run: ``.venv/bin/python bench/bench_brief.py [--data-dir DIR] [--scenarios]``.
Results are printed and written to ``bench/results/brief.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BUDGET_S = 10.0


def _one(data_dir: str, area: str | None, scenarios: list[int]) -> dict:
    """Cold then warm build of one brief, in this (fresh) process."""
    from dashapp.config import Config
    from dashapp.services.briefs import BriefRequest, build_brief, standalone

    config = Config(data_dir=Path(data_dir))
    request = BriefRequest(area=area, scenarios=tuple(scenarios))
    with standalone(config):
        started = time.perf_counter()
        pdf = build_brief(config.database_url, request)
        cold = time.perf_counter() - started
        started = time.perf_counter()
        build_brief(config.database_url, request)
        warm = time.perf_counter() - started
    return {"area": area, "scenarios": scenarios, "kind": request.kind,
            "cold_s": round(cold, 2), "warm_s": round(warm, 2),
            "kb": round(len(pdf) / 1024)}  # fmt: skip


def _in_process(data_dir: str, area: str | None, scenarios: list[int]) -> dict:
    code = (
        f"import json, sys; sys.path.insert(0, {str(ROOT)!r}); "
        "from bench.bench_brief import _one; "
        f"print(json.dumps(_one({data_dir!r}, {area!r}, {scenarios!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True,
                         capture_output=True, text=True, cwd=ROOT).stdout  # fmt: skip
    return json.loads(out.strip().splitlines()[-1])


def _cli(data_dir: str, area: str) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "dashapp", "brief", "--data-dir",
                        data_dir, "--region", area, "--out", f"{tmp}/b.pdf"],
                       check=True, capture_output=True, cwd=ROOT)  # fmt: skip
        return round(time.perf_counter() - started, 2)


def _save_runs(data_dir: str) -> list[int]:
    from data.scenarios import record_from_result, save_scenario
    from data.store import Store
    from optimization.whatif import WhatIf
    from optimization.workspace import Workspace

    store = Store(f"sqlite:///{Path(data_dir) / 'dashapp.sqlite'}")
    dataset = store.active_dataset().id
    ws = Workspace.from_store(store, dataset)
    ids = []
    for n in (2, 4):
        whatif = WhatIf(new_centers=n, time_limit_s=60)
        run = ws.prepare_run(whatif)
        ids.append(save_scenario(
            store, dataset, f"Bench {n}",
            {"whatif": whatif.to_dict(), "spec": run.spec.to_dict()},
            **record_from_result(run.solve()),
        ).id)  # fmt: skip
    store.engine.dispose()
    return ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="a data folder with the demo (default: a "
                        "fresh demo of 400 communes in a temporary folder)")  # fmt: skip
    parser.add_argument("--scenarios", action="store_true",
                        help="also a scenario brief and a comparison of two")  # fmt: skip
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="bench-brief-")
    try:
        data_dir = Path(tmp) / "data"
        if args.data_dir:
            shutil.copytree(args.data_dir, data_dir,
                            ignore=shutil.ignore_patterns("cache"))  # fmt: skip
        else:
            from dashapp.bootstrap import create_demo
            from data.store import Store

            data_dir.mkdir()
            store = Store(f"sqlite:///{data_dir / 'dashapp.sqlite'}")
            store.upgrade()
            create_demo(store, seed=42, n_communes=400)
            store.engine.dispose()
        from dashapp.config import Config
        from dashapp.services import context

        config = Config(data_dir=data_dir)
        ctx = context(config.database_url)
        regions = ctx.units_at(0)["code"].tolist()
        runs = [_in_process(str(data_dir), area, []) for area in [*regions, None]]
        if args.scenarios:
            ids = _save_runs(str(data_dir))
            runs.append(_in_process(str(data_dir), None, ids[:1]))
            runs.append(_in_process(str(data_dir), None, ids))
        cli = _cli(str(data_dir), regions[0])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    result = {
        "machine": {"cpus": os.cpu_count(),
                    "uptime": subprocess.run(["uptime"], capture_output=True,
                                             text=True).stdout.strip()},  # fmt: skip
        "budget_s": BUDGET_S,
        "briefs": runs,
        "cli_region_s": cli,
        "worst_region_cold_s": max(r["cold_s"] for r in runs if r["kind"] == "area"),
    }
    for r in runs:
        print(f"{r['kind']:<10} {str(r['area'] or r['scenarios']):<12} cold "
              f"{r['cold_s']:>5.2f} s  warm {r['warm_s']:>5.2f} s  {r['kb']} kB")  # fmt: skip
    print(f"python -m dashapp brief --region {regions[0]}: {cli:.2f} s end to end")
    print(f"load: {result['machine']['uptime']}")
    out = ROOT / "bench" / "results" / "brief.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
