"""Command line: ``python -m dashapp {serve,demo,db} ...``.

Every option falls back to its environment variable, then to the default (see
``dashapp.config.Config``).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time

from dashapp.config import Config


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        help="folder of the default store and caches (env DASHAPP_DATA_DIR)",
    )
    parser.add_argument(
        "--database-url", help="SQLAlchemy URL of the store (env DASHAPP_DATABASE_URL)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m dashapp", description="Service center network planner"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser(
        "serve", help="run the web app (creates the demo data if the store is empty)"
    )
    _common(serve)
    serve.add_argument("--host", help="interface to listen on (env HOST)")
    serve.add_argument("--port", type=int, help="port (env PORT)")
    serve.add_argument(
        "--lang", choices=["fr", "en"], help="default UI language (env DASHAPP_LANG)"
    )
    serve.add_argument("--debug", action="store_true", help="Dash debug mode")

    demo = sub.add_parser(
        "demo",
        help="generate the synthetic demo country into the store as a new dataset",
    )
    _common(demo)
    demo.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    demo.add_argument(
        "--communes", type=int, default=400, help="number of communes (default 400)"
    )
    demo.add_argument(
        "--no-activate",
        action="store_true",
        help="store it without making it the dataset the app shows",
    )

    forecast = sub.add_parser(
        "forecast",
        help="backtest and forecast weekly requests of every series of a level",
    )
    _common(forecast)
    forecast.add_argument(
        "--level",
        default="department",
        help="national, region, department or center (default department)",
    )
    forecast.add_argument(
        "--horizon", type=int, default=12, help="weeks ahead, 1..26 (default 12)"
    )
    forecast.add_argument(
        "--doc-types", help="comma-separated document types (default: all)"
    )
    forecast.add_argument("--out", required=True, help="CSV file to write")
    db = sub.add_parser("db", help="schema migrations and datasets")
    _common(db)
    db.add_argument(
        "action",
        choices=["upgrade", "status"],
        help="upgrade: migrate the schema to the newest revision (data "
        "kept); status: revision and datasets",
    )
    opt = sub.add_parser(
        "optimize",
        help="run a scenario file on the active dataset and write its results "
        "(summary.json, centers.csv, assignments.csv, result.geojson)",
    )
    _common(opt)
    opt.add_argument(
        "--scenario",
        required=True,
        help="scenario JSON file (schema in docs/optimization.md)",
    )
    opt.add_argument("--out", required=True, help="folder for the result files")
    opt.add_argument("--dataset", type=int, help="dataset id (default: the active one)")

    clusters = sub.add_parser(
        "clusters",
        help="segment the communes of the active dataset and write their clusters",
    )
    _common(clusters)
    clusters.add_argument(
        "--k", default="auto", help="number of clusters, or 'auto' (silhouette, 2-10)"
    )
    clusters.add_argument(
        "--method",
        choices=["kmeans", "contiguous"],
        default="kmeans",
        help="kmeans, or contiguous (clusters of neighbouring communes only)",
    )
    clusters.add_argument(
        "--features",
        help="comma-separated indicators (default: demand_per_1000,mean_delay,"
        "rejection_rate,distance_km,density,poverty_rate)",
    )
    clusters.add_argument("--region", help="code of a region (default: whole country)")
    clusters.add_argument(
        "--lang", choices=["fr", "en"], default="fr", help="language of the words"
    )
    clusters.add_argument(
        "--out",
        required=True,
        help="FILE.csv (commune labels) or FILE.xlsx (labels and profiles sheets)",
    )
    clusters.add_argument(
        "--profiles", help="also write the cluster profiles to this CSV file"
    )
    kpis = sub.add_parser("kpis", help="print the KPI catalogue")
    kpis.add_argument("--lang", choices=["fr", "en"], default="en")
    kpis.add_argument(
        "--markdown",
        action="store_true",
        help="as the Markdown of the README's KPI section",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    if args.command == "kpis":
        from data.kpi import catalogue_frame, catalogue_markdown

        if args.markdown:
            print(catalogue_markdown(args.lang))
        else:
            print(catalogue_frame(args.lang).drop(columns="sql").to_string(index=False))
        return 0
    try:
        config = Config.from_env(
            data_dir=args.data_dir,
            database_url=args.database_url,
            host=getattr(args, "host", None),
            port=getattr(args, "port", None),
            lang=getattr(args, "lang", None),
            debug=getattr(args, "debug", None) or None,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from dashapp import services

    store = services.get_store(config.database_url)
    if args.command == "forecast":
        return _forecast(store, args)
    if args.command == "serve":
        from dashapp import create_app

        app = create_app(config)
        app.run(host=config.host, port=config.port, debug=config.debug)
        return 0
    if args.command == "demo":
        from dashapp.bootstrap import create_demo

        if args.communes < 20:
            print("error: --communes should be at least 20", file=sys.stderr)
            return 2
        store.upgrade()
        started = time.perf_counter()
        info = create_demo(
            store, args.seed, args.communes, activate=not args.no_activate
        )
        print(
            f"dataset {info.id} '{info.name}' version {info.version} created in "
            f"{time.perf_counter() - started:.1f} s"
            + ("" if args.no_activate else " (active)")
        )
        return 0
    if args.command == "optimize":
        return _optimize(store, args)
    if args.command == "clusters":
        from dashapp.segmentation_service import write_clusters

        try:
            print(write_clusters(store, args))
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        return 0
    if args.command == "db":
        if args.action == "upgrade":
            store.upgrade()
        print(
            f"schema revision: {store.revision()} (code head: {store.head_revision()})"
        )
        for d in store.datasets():
            mark = "*" if d.is_active else " "
            print(f"{mark} {d.id:>3} {d.kind:<10} {d.version}  {d.name}")
        return 0
    return 1


def _optimize(store, args) -> int:
    """Exit codes: 0 solved, 2 bad input, 3 infeasible or no solution in time."""
    from optimization.network import network_from_store
    from optimization.scenario import (
        ScenarioError,
        load_spec,
        run_scenario,
        write_outputs,
    )

    try:
        spec = load_spec(args.scenario)
    except ScenarioError as exc:
        print(f"error: {args.scenario}: {exc}", file=sys.stderr)
        return 2
    store.upgrade()
    try:
        network = network_from_store(store, args.dataset)
        result = run_scenario(spec, network)
    except ScenarioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    paths = write_outputs(result, args.out)
    report = result.report
    print(
        f"{spec.model}: {report.status}, objective {report.objective:,.1f}, "
        f"gap {report.gap:.2%}, solved in {report.solve_seconds:.2f} s"
    )
    for path in paths.values():
        print(f"  wrote {path}")
    return 0


def _forecast(store, args) -> int:
    """Write the forecast table of a level; print the backtest accuracy."""
    from data.forecast import ForecastError, check_horizon, forecast_level

    info = store.active_dataset()
    if info is None:
        print("error: the store holds no dataset (run `demo` first)", file=sys.stderr)
        return 2
    doc_types = [d for d in args.doc_types.split(",") if d] if args.doc_types else None
    started = time.perf_counter()
    try:
        horizon = check_horizon(args.horizon)
        result = forecast_level(store, info.id, args.level, doc_types=doc_types)
    except ForecastError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    table = result.table(horizon)
    table["week"] = table["week"].dt.date.astype(str)
    table.round(2).to_csv(args.out, index=False)
    print(
        f"{len(table)} rows ({table['series'].nunique()} series x "
        f"{table['doc_type'].nunique()} document types x {horizon} weeks) written to "
        f"{args.out} in {time.perf_counter() - started:.1f} s"
    )
    for step in sorted({min(4, horizon), horizon}):
        print(f"backtest, {step} weeks ahead, last 12 weeks, all series of the level:")
        print(result.accuracy(step).round(1).to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
