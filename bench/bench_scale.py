"""Benchmark of the overview screen on a national dataset of 35,000 communes.

1. Builds the dataset as a user would: ``bench/bench_import.py``'s generator writes
   a COD-AB-style commune layer with population (no centers, no operations: demand is
   estimated from population and the KPIs that need operations show n.d.), and
   ``python -m dashapp import`` stores it. An existing ``--data-dir`` store is reused.
   With ``--flat`` the layer has the communes alone (code, name, population; no
   region or department), so the importer adds a national unit on top: a country
   with no level between the nation and its 35,000 communes.
2. Through the real ``/_dash-update-component`` endpoint, measures the bytes of each
   map response (raw JSON, gzip and brotli, as sent to a browser that accepts them):
   the first draw, a filter change (patch), every unit of every area filter selected
   at the commune level, each upper level nationally, and the map zoomed in step by
   step on the densest part of the country (``relayoutData``, as the browser sends it
   after a zoom). For comparison it also reports what drawing the whole commune level
   would weigh.
3. Server time of random filter changes (all callbacks each triggers), p50/p95,
   with ``bench/bench_overview.py``'s ``filter_change_times``.

Run: ``.venv/bin/python bench/bench_scale.py [--communes 35000] [--changes 200]
[--data-dir DIR] [--flat]``. Results are printed and written to
``bench/results/scale.json`` (``scale_flat.json`` with ``--flat``).
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

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_import import CHILD, write_inputs  # noqa: E402
from bench_import import run as import_run  # noqa: E402
from bench_overview import (  # noqa: E402
    AREAS,
    area_prop,
    areas,
    callback_body,
    filter_change_times,
    signed_in,
)

from dashapp import create_app, ids  # noqa: E402
from dashapp.config import Config  # noqa: E402
from dashapp.services import context, display_tolerance  # noqa: E402
from data.kpi import MAP_KPIS  # noqa: E402
from data.views import filter_levels  # noqa: E402
from geo.display import GRID_PREFIX, to_geojson  # noqa: E402

MAP = (  # the map callback's outputs
    f"..{ids.MAP}.figure...{ids.MAP}.relayoutData...{ids.MAP_LAYER}.data.."
)
LAYER = f"{ids.MAP_LAYER}.data"
LIMIT_BYTES = 5_000_000
ENCODINGS = {"raw": "identity", "gzip": "gzip", "br": "br"}


def build(data_dir: Path, n_communes: int, flat: bool = False) -> dict:
    """Import the generated national layer into ``data_dir`` unless a store is there."""
    target = data_dir / "dashapp.sqlite"
    if target.exists():
        return {"reused_store": str(target)}
    with tempfile.TemporaryDirectory() as tmp:
        result = (
            flat_import(n_communes, Path(tmp))
            if flat
            else import_run(n_communes, Path(tmp))
        )
        data_dir.mkdir(parents=True, exist_ok=True)
        shutil.move(Path(tmp) / "store.sqlite", target)
    return {k: result[k] for k in ("import_seconds", "import_peak_rss_mb", "output")}


def flat_import(n_communes: int, folder: Path) -> dict:
    """Import the generated communes alone: code, name and population, no parents."""
    import geopandas as gpd
    import pandas as pd

    inputs = write_inputs(folder, n_communes)
    layer = gpd.read_file(inputs["boundaries"])
    population = pd.read_csv(inputs["population"]).set_index("ADM3_PCODE")["T_TL"]
    flat = gpd.GeoDataFrame(
        {
            "code": layer["ADM3_PCODE"],
            "nom": layer["ADM3_FR"],
            "population": layer["ADM3_PCODE"].map(population),
        },
        geometry=layer.geometry,
        crs=layer.crs,
    )
    boundaries = folder / "communes.geojson"
    flat.to_file(boundaries, driver="GeoJSON")
    db = folder / "store.sqlite"
    cmd = [
        sys.executable, "-c", CHILD, "import",
        "--database-url", f"sqlite:///{db}",
        "--boundaries", str(boundaries),
        "--code-column", "code", "--name-column", "nom",
        "--population-column", "population",
        "--name", f"Flat {n_communes}",
    ]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"import failed ({done.returncode}): {done.stderr[-2000:]}")
    peak_kb = int(done.stderr.rsplit("VmHWM:", 1)[1].split()[0])
    return {
        "import_seconds": round(seconds, 1),
        "import_peak_rss_mb": round(peak_kb / 1024),
        "output": done.stdout.strip(),
    }


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
        if response.status_code == 204:  # the callback changed nothing
            return {"kind": "none", "raw": 0, "gzip": 0, "br": 0, "seconds": seconds}
        if response.status_code != 200:
            raise RuntimeError(f"HTTP {response.status_code} {response.data[:300]}")
        got = response.headers.get("Content-Encoding", "identity")
        if got == "identity" and not json.loads(response.data).get("response"):
            # nothing to update (a move that leaves the drawing as it is): a body
            # too small to compress
            return {
                "kind": "none",
                **dict.fromkeys(ENCODINGS, len(response.data)),
                "seconds": seconds,
            }
        if got != accept:
            raise RuntimeError(f"asked for {accept}, got {got}")
        out[name] = len(response.data)
        if name == "raw":
            out["seconds"] = seconds  # the first call: cold memoised geometry
            payload = json.loads(response.data)
            out["layer"] = payload["response"].get(ids.MAP_LAYER, {}).get("data")
            if ids.MAP not in payload["response"]:
                out["kind"] = "none"
                continue
            fig = payload["response"][ids.MAP]["figure"]
            out["kind"] = "patch" if "__dash_patch_update" in fig else "figure"
            if out["kind"] == "figure":
                drawn = fig["data"][1]["locations"]
            else:
                ops = {
                    tuple(op["location"]): op["params"].get("value")
                    for op in fig["operations"]
                }
                drawn = ops.get(("data", 1, "locations"))
            if drawn is not None:
                out["features"] = len(drawn)
                grid = bool(drawn) and drawn[0].startswith(GRID_PREFIX)
                out["drawn"] = "grid cells" if grid else "units"
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
        "largest": {k: worst.get(k) for k in ("selection", "features", "drawn")},
        "max_cold_seconds": round(max(r["seconds"] for r in rows), 2),
    }


def map_bytes(app, config: Config) -> dict:
    client = signed_in(app)
    with app.server.test_request_context("/"):
        ctx = context(config.database_url)
    levels = filter_levels(ctx)
    state = {
        f"{ids.LEVEL}.value": "commune",
        f"{ids.INDICATOR}.value": MAP_KPIS[1],
        AREAS: areas(levels, [None] * len(levels)),
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
            "drawn": row.get("drawn"),
            "features": row.get("features"),
            "raw_mb": round(row["raw"] / 1e6, 3),
            "gzip_mb": round(row["gzip"] / 1e6, 3),
            "br_mb": round(row["br"] / 1e6, 3),
            "server_s": round(row["seconds"], 2),
        }

    first = map_response(client, app, state, [])
    out = {"first_draw_commune_level": mb(first)}
    out["indicator_change_patch"] = mb(
        map_response(
            client,
            app,
            {**state, f"{ids.INDICATOR}.value": "population"},
            [f"{ids.INDICATOR}.value"],
        )
    )
    for code in ctx.levels["code"].iloc[:-1]:
        out[f"{code}_level_national"] = mb(
            map_response(
                client,
                app,
                {**state, f"{ids.LEVEL}.value": code},
                [f"{ids.LEVEL}.value"],
            )
        )
    every = [
        {"raw": v["raw_mb"] * 1e6}
        for v in out.values()
        if isinstance(v, dict) and "raw_mb" in v
    ]
    # every unit of every area filter selected, at the commune level
    for position, level in enumerate(levels):
        rows = []
        paths = ctx.units_at(level)[[f"ancestor_{lvl}" for lvl in levels]]
        for path in paths.itertuples(index=False):
            values = {**state, AREAS: areas(levels, list(path))}
            row = map_response(client, app, values, [area_prop(level)])
            rows.append({**row, "selection": path[position]})
        code = ctx.levels["code"].iloc[level]
        out[f"each_{code}_selected"] = _summary(rows)
        every += rows
    drawn = {**state, LAYER: first["layer"]}  # as the browser keeps it
    out["zoom_in_on_the_densest_area"] = [
        {"zoom": zoom, **mb(row)} for zoom, row in zoom_in(client, app, ctx, drawn)
    ]
    every += [{"raw": r["raw_mb"] * 1e6} for r in out["zoom_in_on_the_densest_area"]]
    out["max_map_response_raw_mb"] = round(max(r["raw"] for r in every) / 1e6, 2)
    out["under_limit"] = bool(max(r["raw"] for r in every) < LIMIT_BYTES)
    # what drawing every commune costs: the whole commune level, in both traces
    started = time.perf_counter()
    whole = to_geojson(
        ctx.communes(),
        "code",
        tolerance_deg=display_tolerance(ctx, ctx.commune_level),
    )
    size = len(json.dumps(whole, separators=(",", ":")))
    out["whole_commune_level_geojson_mb"] = round(size / 1e6, 2)
    out["whole_commune_level_figure_mb_estimate"] = round(2 * size / 1e6, 1)
    out["whole_commune_level_simplify_s"] = round(time.perf_counter() - started, 1)
    return out


def zoom_in(
    client, app, ctx, state, zooms=(6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0)
):
    """Map responses to the views a user zooming on the densest area reports.

    A move that leaves the drawing as it is gets an empty answer (HTTP 204).

    The view is centred on the middle commune of the densest 0.5° cell and has
    the map's size (700 x 560 px), as MapLibre's corners would say.
    """
    communes = ctx.communes()
    cell = (
        (communes["rep_lon"] // 0.5).astype(int).astype(str)
        + ":"
        + (communes["rep_lat"] // 0.5).astype(int).astype(str)
    )
    dense = communes[cell == cell.value_counts().index[0]]
    lon, lat = float(dense["rep_lon"].median()), float(dense["rep_lat"].median())
    for zoom in zooms:
        half_w = 700 * 360.0 / (512.0 * 2**zoom) / 2
        half_h = half_w * 560 / 700  # near the equator
        corners = [
            [lon - half_w, lat + half_h],
            [lon + half_w, lat + half_h],
            [lon + half_w, lat - half_h],
            [lon - half_w, lat - half_h],
        ]
        view = {
            "map.center": {"lon": lon, "lat": lat},
            "map.zoom": zoom,
            "map._derived": {"coordinates": corners},
        }
        values = {**state, f"{ids.MAP}.relayoutData": view}
        row = map_response(client, app, values, [f"{ids.MAP}.relayoutData"])
        if row.get("layer"):  # what the browser draws now
            state = {**state, LAYER: row["layer"]}
        yield zoom, row


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--communes", type=int, default=35_000)
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument(
        "--flat", action="store_true", help="communes alone, no region or department"
    )
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    name = "scale_flat.json" if args.flat else "scale.json"
    args.out = args.out or ROOT / "bench/results" / name
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="bench-scale-"))
    results = {
        "communes": args.communes,
        "flat": args.flat,
        "store": build(data_dir, args.communes, args.flat),
    }
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
