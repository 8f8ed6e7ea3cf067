"""Benchmark of the overview screen on the demo data.

Measures, in one run:

* start-up: seconds from launching ``python -m dashapp serve`` on an existing store to
  the page and its layout answering;
* first page load: bytes sent over the wire (compressed, as Chromium reports them in
  ``transferSize``) for the page, scripts, styles, layout and first callbacks;
* filter changes: server time of every callback one filter change triggers (through
  the real ``/_dash-update-component`` endpoint: dispatch, queries, figure building,
  JSON and compression), summed per change; p50/p95 after warm-up, over random
  changes of each filter.

Run: ``.venv/bin/python bench/bench_overview.py [--changes 300] [--data-dir DIR]``.
Results are printed and written to ``bench/results/overview.json``.
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

from dash import ALL, Input  # noqa: E402

from dashapp import create_app, ids  # noqa: E402
from dashapp.bootstrap import ensure_store  # noqa: E402
from dashapp.config import Config  # noqa: E402
from dashapp.services import context, get_store  # noqa: E402

# the area filters' values go in as one list (an ALL wildcard input): see areas()
AREAS = str(Input(ids.area_filter(ALL), "value"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _outputs(key: str, wildcards: dict | None = None):
    """The outputs of callback ``key`` as the renderer lists them; a wildcard one is
    one entry per component id in ``wildcards[wildcard id]`` (none if absent)."""
    wildcards = wildcards or {}

    def one(part: str):
        cid, prop = part.rsplit(".", 1)
        if cid.startswith("{") and '["ALL"]' in cid:
            return [{"id": i, "property": prop} for i in wildcards.get(cid, [])]
        return {"id": cid, "property": prop}

    if key.startswith(".."):
        return [one(p) for p in key.strip(".").split("...")]
    return one(key)


def areas(levels: list[int], values: list) -> list[dict]:
    """The value of the :data:`AREAS` input: one entry per area filter on the page."""
    return [
        {"id": ids.area_filter(level), "property": "value", "value": value}
        for level, value in zip(levels, values, strict=True)
    ]


def callback_body(app, key: str, values: dict, changed: list[str]) -> dict:
    """The request Dash's renderer sends for callback ``key`` with ``values``.

    A wildcard (``ALL``) input whose value is a list of ``{"id", "property",
    "value"}`` entries (:func:`areas`) is sent as those entries, as the renderer
    does, and wildcard outputs of the same id are listed for the same components.
    """
    cb = app.callback_map[key]
    wildcards = {}

    def item(spec):
        value = values.get(f"{spec['id']}.{spec['property']}")
        entries = isinstance(value, list) and all(
            isinstance(v, dict) and "id" in v for v in value
        )
        if spec["id"].startswith("{") and entries and value:
            wildcards[spec["id"]] = [v["id"] for v in value]
            return value
        return {**spec, "value": value}

    inputs = [item(i) for i in cb["inputs"]]
    state = [item(s) for s in cb["state"]]
    return {
        "output": key,
        "outputs": _outputs(key, wildcards),
        "inputs": inputs,
        "state": state,
        "changedPropIds": changed,
    }


def post_callback(client, app, key: str, values: dict, changed: list[str]):
    """Call one callback through Dash's HTTP endpoint; return (seconds, json)."""
    body = callback_body(app, key, values, changed)
    start = time.perf_counter()
    response = client.post(
        "/_dash-update-component", json=body, headers={"Accept-Encoding": "gzip, br"}
    )
    elapsed = time.perf_counter() - start
    if response.status_code not in (200, 204):
        raise RuntimeError(f"{key}: HTTP {response.status_code} {response.data[:300]}")
    data = (
        json.loads(response.get_data(as_text=True))
        if response.status_code == 200
        and response.headers.get("Content-Encoding") is None
        else None
    )
    return elapsed, data


def triggered_by(app, prop_id: str) -> list[str]:
    """Callbacks with ``prop_id`` as an input (an area filter's: the wildcard)."""
    if prop_id.startswith("{") and f'"type":"{ids.AREA}"' in prop_id:
        prop_id = AREAS
    return [
        k
        for k, cb in app.callback_map.items()
        if any(f"{i['id']}.{i['property']}" == prop_id for i in cb["inputs"])
    ]


def area_prop(level: int) -> str:
    """The prop id Dash reports when the area filter of ``level`` changes."""
    return json.dumps(ids.area_filter(level), sort_keys=True, separators=(",", ":")) + (
        ".value"
    )


def signed_in(app):
    """A test client of ``app`` signed in as a bench user (every screen needs one)."""
    from tests.auth_helpers import signed_in_client

    return signed_in_client(app, "admin", "bench-admin")


def filter_change_times(app, config: Config, n_changes: int, seed: int) -> dict:
    from data.views import filter_levels

    rng = random.Random(seed)
    client = signed_in(app)
    client.get("/")
    with app.server.test_request_context("/"):
        ctx = context(config.database_url)
    levels = filter_levels(ctx)
    # units of each filter level with the codes of their ancestors at each level
    area_units = [
        ctx.units_at(level)[[f"ancestor_{lvl}" for lvl in levels]].values.tolist()
        for level in levels
    ]
    docs = ctx.doc_types["code"].tolist()
    weeks = [w.isoformat() for w in ctx.weeks]
    from data.kpi import MAP_KPIS

    state = {
        f"{ids.LEVEL}.value": "commune",
        f"{ids.INDICATOR}.value": MAP_KPIS[1],
        AREAS: areas(levels, [None] * len(levels)),
        f"{ids.DOC_TYPES}.value": docs,
        # a dataset imported without operations has no weeks: default period
        f"{ids.PERIOD}.start_date": weeks[max(0, len(weeks) - 52)] if weeks else None,
        f"{ids.PERIOD}.end_date": weeks[-1] if weeks else None,
        f"{ids.RADIUS}.value": 20,
        f"{ids.CAPACITY_MODE}.value": "center",
        f"{ids.DATASET}.data": ctx.info.id,
        f"{ids.LANG}.data": "fr",
        f"{ids.MAP}.clickData": None,
        f"{ids.RESET}.n_clicks": None,
    }
    # first draw of the screen (all callbacks, no trigger) = what a page load costs
    for key in triggered_by(app, f"{ids.LEVEL}.value"):
        post_callback(client, app, key, state, [])

    kinds = ["level", "indicator", *(["area"] * len(levels)), "doc_types", "radius"]
    if len(weeks) > 16:
        kinds.insert(-1, "period")
    level_codes = ctx.levels["code"].tolist()

    def random_change():
        kind = rng.choice(kinds)
        if kind == "level":
            return f"{ids.LEVEL}.value", rng.choice(level_codes)
        if kind == "indicator":
            return f"{ids.INDICATOR}.value", rng.choice(MAP_KPIS)
        if kind == "area":  # a unit of one filter level (the top one may be cleared)
            position = rng.randrange(len(levels))
            path = rng.choice(area_units[position] + ([None] if not position else []))
            return area_prop(levels[position]), path
        if kind == "doc_types":
            k = rng.randint(1, len(docs))
            return f"{ids.DOC_TYPES}.value", sorted(rng.sample(docs, k))
        if kind == "period":
            end = rng.randint(12, len(weeks) - 1)
            start = rng.randint(0, end - 4)
            return (f"{ids.PERIOD}.start_date", weeks[start]), (
                f"{ids.PERIOD}.end_date",
                weeks[end],
            )
        return f"{ids.RADIUS}.value", rng.choice(range(5, 101, 5))

    def apply(change) -> tuple[float, str]:
        pairs = change if isinstance(change[0], tuple) else (change,)
        for prop, value in pairs:
            state[prop] = value
        prop = pairs[0][0]
        total = 0.0
        if prop.startswith("{"):  # the filters as sync_selection leaves them
            path = state.pop(prop) or [None] * len(levels)
            state[AREAS] = areas(levels, path)
        keys = triggered_by(app, prop)
        for key in keys:
            seconds, _ = post_callback(client, app, key, state, [prop])
            total += seconds
        return total, "area" if prop.startswith("{") else prop.split(".")[0]

    warm = [apply(random_change()) for _ in range(max(20, n_changes // 5))]
    measured = [apply(random_change()) for _ in range(n_changes)]
    times = np.array([t for t, _ in measured]) * 1000
    by_filter = {}
    for _, name in measured:
        by_filter.setdefault(name, [])
    for t, name in measured:
        by_filter[name].append(t * 1000)
    return {
        "changes": n_changes,
        "warmup_changes": len(warm),
        "p50_ms": round(float(np.percentile(times, 50)), 1),
        "p95_ms": round(float(np.percentile(times, 95)), 1),
        "max_ms": round(float(times.max()), 1),
        "by_filter_p95_ms": {
            k: round(float(np.percentile(v, 95)), 1)
            for k, v in sorted(by_filter.items())
        },
    }


def startup_and_page_weight(data_dir: Path) -> dict:
    from data.store import Store
    from tests.auth_helpers import ensure_user

    store = Store(f"sqlite:///{data_dir / 'dashapp.sqlite'}")
    store.upgrade()
    user = ensure_user(store, "admin", "bench-admin")  # every page needs a sign-in
    store.engine.dispose()
    port = _free_port()
    env = {**os.environ, "DASHAPP_DATA_DIR": str(data_dir), "PORT": str(port)}
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "dashapp", "serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError("server exited during start-up") from None
                time.sleep(0.05)
        startup = time.perf_counter() - start
        return {"startup_s": round(startup, 2), **page_weight(url, user.username)}
    finally:
        proc.terminate()
        proc.wait(10)


def page_weight(url: str, username: str) -> dict:
    """What the browser downloads to show the main page, once signed in."""
    from selenium import webdriver
    from selenium.webdriver.common.by import By

    from tests.auth_helpers import PASSWORD
    from tests.chromium import chromium_options

    options = chromium_options()
    driver = webdriver.Chrome(options=options)
    try:
        driver.get(url + "/login")
        driver.find_element(By.ID, "username").send_keys(username)
        driver.find_element(By.ID, "password").send_keys(PASSWORD)
        driver.find_element(By.ID, "auth-submit").click()  # then the main page loads
        deadline = time.time() + 30
        script = (
            "const gd = document.querySelector('#overview-map .js-plotly-plot');"
            "return Boolean(gd && gd.data && gd.data.length === 3);"
        )
        while time.time() < deadline and not driver.execute_script(script):
            time.sleep(0.2)
        time.sleep(2.0)  # let the remaining first callbacks finish
        entries = driver.execute_script(
            "return performance.getEntriesByType('navigation')"
            ".concat(performance.getEntriesByType('resource'))"
            ".map(e => [e.name, e.transferSize, e.decodedBodySize])"
        )
    finally:
        driver.quit()
    sent = sum(e[1] for e in entries)
    decoded = sum(e[2] for e in entries)
    external = [e[0] for e in entries if not e[0].startswith(url)]
    return {
        "first_load_bytes": int(sent),
        "first_load_mb": round(sent / 1e6, 2),
        "first_load_uncompressed_mb": round(decoded / 1e6, 2),
        "requests": len(entries),
        "external_requests": external,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--communes", type=int, default=400)
    parser.add_argument(
        "--out", type=Path, default=ROOT / "bench/results/overview.json"
    )
    args = parser.parse_args(argv)
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="bench-overview-"))
    config = Config(data_dir=data_dir, demo_communes=args.communes)
    t0 = time.perf_counter()
    ensure_store(get_store(config.database_url), config.demo_seed, args.communes)
    prepare = time.perf_counter() - t0
    results = {"communes": args.communes, "store_prepare_s": round(prepare, 2)}
    results.update(startup_and_page_weight(data_dir))
    app = create_app(config, prepare_store=False)
    results["filter_change"] = filter_change_times(app, config, args.changes, args.seed)
    results["machine"] = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
