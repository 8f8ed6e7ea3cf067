"""Benchmark of the overview screen on a national dataset of 35,000 communes (issue 7).

1. Builds the dataset as a user would: ``bench/bench_import.py``'s generator writes
   a COD-AB-style commune layer with population (no centers, no operations: demand is
   estimated from population and the KPIs that need operations show n.d.), and
   ``python -m dashapp import`` stores it. An existing ``--data-dir`` store is reused.
2. Through the real ``/_dash-update-component`` endpoint, measures the bytes of each
   map response (raw JSON, gzip and brotli, as sent to a browser that accepts them):
   the first draw, a filter change (patch), every region and every department
   selected at the commune level, the department and region levels nationally.
   For comparison it also reports what drawing the whole commune level would weigh.
3. Server time of random filter changes (all callbacks each triggers), p50/p95,
   with ``bench/bench_overview.py``'s ``filter_change_times``.

Run: ``.venv/bin/python bench/bench_scale.py [--communes 35000] [--changes 200]
[--data-dir DIR]``. Results are printed and written to ``bench/results/scale.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_import import run as import_run  # noqa: E402
from bench_overview import callback_body, filter_change_times  # noqa: E402

from dashapp import create_app, ids  # noqa: E402
from dashapp.config import Config  # noqa: E402
from dashapp.services import DISPLAY_TOLERANCE_DEG, context  # noqa: E402
from data.kpi import MAP_KPIS  # noqa: E402
from geo.display import to_geojson  # noqa: E402

MAP = f"{ids.MAP}.figure"
LIMIT_BYTES = 5_000_000
ENCODINGS = {"raw": "identity", "gzip": "gzip", "br": "br"}


def build(data_dir: Path, n_communes: int) -> dict:
    """Import the generated national layer into ``data_dir`` unless a store is there."""
    target = data_dir / "dashapp.sqlite"
    if target.exists():
        return {"reused_store": str(target)}
    with tempfile.TemporaryDirectory() as tmp:
        result = import_run(n_communes, Path(tmp))
        data_dir.mkdir(parents=True, exist_ok=True)
        shutil.move(Path(tmp) / "store.sqlite", target)
    return {k: result[k] for k in ("import_seconds", "import_peak_rss_mb", "output")}


def map_response(client, app, values: dict, changed: list[str]) -> dict:
    """Bytes of one map response in each encoding, and its server time."""
    body = callback_body(app, MAP, values, changed)
    out = {}
    for name, accept in ENCODINGS.items():
        start = time.perf_counter()
        response = client.post(
            "/_dash-update-component", json=body, headers={"Accept-Encoding": accept}
        )
        seconds = time.perf_counter() - start
        if response.status_code != 200:
            raise RuntimeError(f"HTTP {response.status_code} {response.data[:300]}")
        got = response.headers.get("Content-Encoding", "identity")
        if got != accept and not (accept == "identity" and got == "identity"):
            raise RuntimeError(f"asked for {accept}, got {got}")
        out[name] = len(response.data)
        if name == "raw":
            out["seconds"] = seconds  # the first call: cold memoised geometry
            payload = json.loads(response.data)
            fig = payload["response"][ids.MAP]["figure"]
            out["kind"] = "patch" if "__dash_patch_update" in fig else "figure"
            if out["kind"] == "figure":
                out["features"] = len(fig["data"][1]["geojson"]["features"])
    return out


def _summary(rows: list[dict]) -> dict:
    raw = np.array([r["raw"] for r in rows])
    worst = rows[int(raw.argmax())]
    return {
        "responses": len(rows),
        "max_raw_mb": round(raw.max() / 1e6, 2),
        "median_raw_mb": round(float(np.median(raw)) / 1e6, 2),
        "max_gzip_mb": round(max(r["gzip"] for r in rows) / 1e6, 2),
        "max_br_mb": round(max(r["br"] for r in rows) / 1e6, 2),
        "largest": {k: worst[k] for k in ("selection", "features")},
        "max_cold_seconds": round(max(r["seconds"] for r in rows), 2),
    }


def map_bytes(app, config: Config) -> dict:
    client = app.server.test_client()
    with app.server.test_request_context("/"):
        ctx = context(config.database_url)
    state = {
        f"{ids.LEVEL}.value": "commune",
        f"{ids.INDICATOR}.value": MAP_KPIS[1],
        f"{ids.REGION}.value": None,
        f"{ids.DEPARTMENT}.value": None,
        f"{ids.DOC_TYPES}.value": ctx.doc_types["code"].tolist(),
        f"{ids.PERIOD}.start_date": None,
        f"{ids.PERIOD}.end_date": None,
        f"{ids.RADIUS}.value": 20,
        f"{ids.DATASET}.data": ctx.info.id,
        f"{ids.LANG}.data": "fr",
    }

    def mb(row: dict) -> dict:
        return {
            "kind": row["kind"],
            "features": row.get("features"),
            "raw_mb": round(row["raw"] / 1e6, 3),
            "gzip_mb": round(row["gzip"] / 1e6, 3),
            "br_mb": round(row["br"] / 1e6, 3),
            "server_s": round(row["seconds"], 2),
        }

    out = {"first_draw_commune_level": mb(map_response(client, app, state, []))}
    out["indicator_change_patch"] = mb(
        map_response(
            client,
            app,
            {**state, f"{ids.INDICATOR}.value": "population"},
            [f"{ids.INDICATOR}.value"],
        )
    )
    for level in ("department", "region"):
        out[f"{level}_level_national"] = mb(
            map_response(
                client,
                app,
                {**state, f"{ids.LEVEL}.value": level},
                [f"{ids.LEVEL}.value"],
            )
        )
    regions = []
    for code in ctx.units_at(0)["code"]:
        row = map_response(
            client, app, {**state, f"{ids.REGION}.value": code}, [f"{ids.REGION}.value"]
        )
        regions.append({**row, "selection": code})
    departments = []
    for code, region in ctx.units_at(1)[["code", "ancestor_0"]].itertuples(index=False):
        values = {
            **state,
            f"{ids.REGION}.value": region,
            f"{ids.DEPARTMENT}.value": code,
        }
        row = map_response(client, app, values, [f"{ids.DEPARTMENT}.value"])
        departments.append({**row, "selection": code})
    out["each_region_selected"] = _summary(regions)
    out["each_department_selected"] = _summary(departments)
    every = [
        *regions,
        *departments,
        *[
            {"raw": v["raw_mb"] * 1e6}
            for v in out.values()
            if isinstance(v, dict) and "raw_mb" in v
        ],
    ]
    out["max_map_response_raw_mb"] = round(max(r["raw"] for r in every) / 1e6, 2)
    out["under_limit"] = bool(max(r["raw"] for r in every) < LIMIT_BYTES)
    # what the map sent before: the whole commune level, in both choropleth traces
    started = time.perf_counter()
    whole = to_geojson(
        ctx.communes(), "code", tolerance_deg=DISPLAY_TOLERANCE_DEG[ctx.commune_level]
    )
    size = len(json.dumps(whole, separators=(",", ":")))
    out["whole_commune_level_geojson_mb"] = round(size / 1e6, 2)
    out["whole_commune_level_figure_mb_estimate"] = round(2 * size / 1e6, 1)
    out["whole_commune_level_simplify_s"] = round(time.perf_counter() - started, 1)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--communes", type=int, default=35_000)
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/scale.json")
    args = parser.parse_args(argv)
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="bench-scale-"))
    results = {"communes": args.communes, "store": build(data_dir, args.communes)}
    config = Config(data_dir=data_dir)
    app = create_app(config, prepare_store=False)
    with app.server.test_request_context("/"):
        ctx = context(config.database_url)
    results["dataset"] = {
        "units_per_level": ctx.units.groupby("level").size().tolist(),
        "weeks_of_operations": len(ctx.weeks),
        "centers": len(ctx.centers),
    }
    results["map_bytes"] = map_bytes(app, config)
    results["filter_change"] = filter_change_times(app, config, args.changes, args.seed)
    results["filter_change"]["target_p95_ms"] = 1000
    results["machine"] = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
