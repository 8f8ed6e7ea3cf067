"""How fast background jobs start, and what a job pays for starting clean.

Jobs of the app without Redis are forked from a fork server (``dashapp.jobs``), not
from the threaded web server: they start with none of its locks, and none of its
memoised data either. On the demo country this measures

* the fork server's start (``make_background_manager`` returns at once; the
  first job waits for the server to have imported the job modules), its memory;
* the round trip of an empty job (start, run, result read back), 20 times;
* the default scenario solve run as a job (the dataset's workspace loaded in the
  job, since nothing is lent by the web server) against the same solve in a
  process whose workspace is already loaded (what a forked job inherited).

Results are printed and written to ``bench/results/jobs.json``::

    .venv/bin/python bench/bench_jobs.py [--runs 20]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402

from dashapp.config import Config  # noqa: E402
from dashapp.jobs import make_background_manager  # noqa: E402

OUT = ROOT / "bench" / "results" / "jobs.json"


def _empty(set_progress):
    return os.getpid()


def _solve(set_progress, database_url):
    # names imported here: a job function of a script travels by value
    import time

    from dashapp import services
    from optimization.whatif import WhatIf

    started, cpu = time.perf_counter(), time.process_time()
    ctx = services.context(database_url)
    ws = services.workspace(database_url, ctx.info.id)
    loaded, loaded_cpu = time.perf_counter(), time.process_time()
    result = ws.prepare_run(WhatIf()).solve()
    return {
        "load_s": loaded - started,
        "load_cpu_s": loaded_cpu - cpu,
        "solve_s": time.perf_counter() - loaded,
        "objective": float(result.report.objective),
    }


def _run(manager, key, fn, args=()):
    started = time.perf_counter()
    job = manager.call_job_fn(key, manager.make_job_fn(fn, True), list(args), {})
    while not manager.result_ready(key):
        time.sleep(0.002)
    value = manager.get_result(key, job)
    return time.perf_counter() - started, value


def _stats(values):
    ordered = sorted(values)
    return {
        "median_s": round(statistics.median(ordered), 4),
        "p95_s": round(ordered[max(0, int(round(0.95 * len(ordered))) - 1)], 4),
        "max_s": round(ordered[-1], 4),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args(argv)
    from multiprocess import forkserver

    from dashapp import create_app

    with tempfile.TemporaryDirectory() as tmp:
        config = Config(data_dir=Path(tmp))
        create_app(config)  # the demo country in a fresh store
        started = time.perf_counter()
        manager = make_background_manager(config)
        returned = time.perf_counter() - started
        first, _ = _run(manager, "first", _empty)
        server = psutil.Process(forkserver._forkserver._forkserver_pid)
        empty = [_run(manager, f"e{i}", _empty)[0] for i in range(args.runs)]
        jobs = [
            _run(manager, f"s{i}", _solve, [config.database_url])
            for i in range(max(3, args.runs // 4))
        ]
        warm = [_solve(None, config.database_url) for _ in range(4)][1:]
        results = {
            "machine": platform.platform(),
            "load_average": os.getloadavg(),
            "fork_server": {
                "make_background_manager_s": round(returned, 4),
                "first_job_s": round(first, 3),
                "rss_mb": round(server.memory_info().rss / 1e6),
            },
            "empty_job_round_trip": _stats(empty),
            "default_solve_as_job": {
                **_stats([t for t, _ in jobs]),
                "workspace_load_in_job_s": round(
                    statistics.median(v["load_s"] for _, v in jobs), 3),
                "workspace_load_in_job_cpu_s": round(
                    statistics.median(v["load_cpu_s"] for _, v in jobs), 3),
            },
            "default_solve_workspace_loaded": {
                "solve_s": round(statistics.median(v["solve_s"] for v in warm), 3),
                "load_s": round(statistics.median(v["load_s"] for v in warm), 4),
            },
            "same_objective": len({round(v["objective"], 6) for _, v in jobs}
                                  | {round(v["objective"], 6) for v in warm}) == 1,
        }  # fmt: skip
    print(json.dumps(results, indent=1))
    OUT.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
