"""Benchmark of the scenario workspace on the demo data.

* instant evaluation: server time of every callback one change of the scenario
  panel or one map click triggers (through the real ``/_dash-update-component``
  endpoint), summed per change; p50/p95 after warm-up over random changes;
* run: seconds from the click on "Lancer l'optimisation" to the KPI deltas shown,
  in headless Chromium (background job start, solve, save, tables), p-median with
  3 new centers on the demo country.

Run: ``.venv/bin/python bench/bench_scenarios.py [--changes 200] [--runs 3]``.
Results are printed and written to ``bench/results/scenarios.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_overview import _outputs, post_callback  # noqa: E402

from dashapp import create_app, ids, services  # noqa: E402
from dashapp.bootstrap import ensure_store  # noqa: E402
from dashapp.config import Config  # noqa: E402


def instant_times(app, config: Config, n_changes: int, seed: int) -> dict:
    rng = random.Random(seed)
    client = app.server.test_client()
    client.get("/")
    store = services.get_store(config.database_url)
    dataset = store.active_dataset().id
    base = services.workspace(config.database_url, dataset)
    docs = list(base.demand_by_doc.columns)
    state = {
        f"{ids.SCN_OBJECTIVE}.value": "distance",
        f"{ids.SCN_NEW}.value": 3,
        f"{ids.SCN_BUDGET}.value": None,
        f"{ids.SCN_RADIUS}.value": 20,
        f"{ids.SCN_GROWTH}.value": 0,
        f"{ids.SCN_YEARS}.value": 1,
        f"{ids.SCN_CAPACITY}.value": 0,
        f"{ids.SCN_CLOSURES}.value": False,
        f"{ids.SCN_CAPACITATED}.value": False,
        f"{ids.SCN_MIN_COVERAGE}.value": None,
        f"{ids.SCN_MAX_DISTANCE}.value": None,
        f"{ids.SCN_TIME_LIMIT}.value": 30,
        f"{ids.SCN_DEMAND_SOURCE}.value": "today",
        f"{ids.SCN_FORECAST_WEEKS}.value": 12,
        f"{ids.SCN_SITES}.data": {"sites": {}, "added": []},
        f"{ids.SCN_VIEW}.value": "plan",
        f"{ids.SCN_RESULT}.data": None,
        f"{ids.DATASET}.data": dataset,
        f"{ids.LANG}.data": "fr",
    }
    keys = [
        k
        for k in app.callback_map
        if any(
            f"{i['id']}.{i['property']}" == f"{ids.SCN_RADIUS}.value"
            for i in app.callback_map[k]["inputs"]
        )
    ]

    def call_all(prop: str) -> float:
        total = 0.0
        for key in keys:
            seconds, _ = post_callback_with_pattern(
                client, app, key, state, [prop], docs
            )
            total += seconds
        return total

    def change():
        kind = rng.choice(["growth", "radius", "capacity", "site", "new", "site"])
        if kind == "growth":
            state[f"{ids.SCN_GROWTH}.value"] = rng.choice([0, 2, 5, 10])
            return f"{ids.SCN_GROWTH}.value"
        if kind == "radius":
            state[f"{ids.SCN_RADIUS}.value"] = rng.choice([10, 15, 20, 30])
            return f"{ids.SCN_RADIUS}.value"
        if kind == "capacity":
            state[f"{ids.SCN_CAPACITY}.value"] = rng.choice([-10, 0, 10, 20])
            return f"{ids.SCN_CAPACITY}.value"
        if kind == "new":
            state[f"{ids.SCN_NEW}.value"] = rng.randint(0, 6)
            return f"{ids.SCN_NEW}.value"
        sites = dict(state[f"{ids.SCN_SITES}.data"]["sites"])
        code = rng.choice(base.site_ids)
        existing = base.site_ids.index(code) < base.n_existing
        sites[code] = rng.choice(["locked", "closed" if existing else "forbidden"])
        state[f"{ids.SCN_SITES}.data"] = {"sites": sites, "added": []}
        return f"{ids.SCN_SITES}.data"

    for _ in range(max(10, n_changes // 5)):
        call_all(change())
    times = np.array([call_all(change()) for _ in range(n_changes)]) * 1000
    return {
        "changes": n_changes,
        "callbacks_per_change": len(keys),
        "p50_ms": round(float(np.percentile(times, 50)), 1),
        "p95_ms": round(float(np.percentile(times, 95)), 1),
        "max_ms": round(float(times.max()), 1),
    }


def post_callback_with_pattern(client, app, key, values, changed, docs):
    """Like bench_overview.post_callback, with the per-document growth inputs."""
    cb = app.callback_map[key]

    def item(spec):
        if isinstance(spec["id"], dict):  # ALL wildcard: one entry per document type
            return [
                {
                    "id": {"type": spec["id"]["type"], "index": d},
                    "property": spec["property"],
                    "value": 0
                    if spec["property"] == "value"
                    else {"type": spec["id"]["type"], "index": d},
                }
                for d in docs
            ]
        return {**spec, "value": values.get(f"{spec['id']}.{spec['property']}")}

    if any(isinstance(i["id"], dict) for i in cb["inputs"] + cb["state"]):
        body = {
            "output": key,
            "outputs": _outputs(key),
            "inputs": [item(i) for i in cb["inputs"]],
            "state": [item(s) for s in cb["state"]],
            "changedPropIds": changed,
        }
        start = time.perf_counter()
        response = client.post("/_dash-update-component", json=body)
        elapsed = time.perf_counter() - start
        if response.status_code not in (200, 204):
            raise RuntimeError(
                f"{key}: HTTP {response.status_code} {response.data[:300]}"
            )
        return elapsed, None
    return post_callback(client, app, key, values, changed)


def _wait_text(
    driver, element_id: str, text: str, timeout: float, step: float = 0.1
) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = driver.execute_script(
            "return document.getElementById(arguments[0])?.innerText || ''", element_id
        )
        if text in found:
            return
        time.sleep(step)
    raise RuntimeError(f"#{element_id} did not show {text!r} within {timeout} s")


def run_to_result(data_dir: Path, runs: int) -> dict:
    from selenium import webdriver

    from tests.chromium import chromium_options

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "DASHAPP_DATA_DIR": str(data_dir), "PORT": str(port)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "dashapp", "serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    options = chromium_options()
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(url + "/_dash-layout", timeout=2)
                break
            except OSError:
                time.sleep(0.1)
        driver = webdriver.Chrome(options=options)
        seconds = []
        try:
            for _ in range(runs):
                driver.get(url + "/scenarios")
                _wait_text(driver, ids.SCN_INSTANT, "Centres ouverts", 60)
                start = time.perf_counter()
                driver.execute_script(
                    "document.getElementById(arguments[0]).click()", ids.SCN_RUN
                )
                _wait_text(driver, ids.SCN_DELTAS, "Proposition", 120, step=0.05)
                seconds.append(time.perf_counter() - start)
        finally:
            driver.quit()
    finally:
        proc.terminate()
        proc.wait(10)
    return {
        "runs": runs,
        "median_s": round(float(np.median(seconds)), 2),
        "max_s": round(float(max(seconds)), 2),
        "scenario": "p-median, 3 new centers, demo country (400 communes, "
        "50 centers, 200 candidate sites)",
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument(
        "--out", type=Path, default=ROOT / "bench/results/scenarios.json"
    )
    args = parser.parse_args(argv)
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="bench-scenarios-"))
    config = Config(data_dir=data_dir)
    ensure_store(services.get_store(config.database_url))
    app = create_app(config, prepare_store=False)
    results = {
        "instant_evaluation": instant_times(app, config, args.changes, args.seed),
        "run_to_result": run_to_result(data_dir, args.runs),
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
