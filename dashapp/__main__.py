"""Command line: ``python -m dashapp {serve,worker,demo,db} ...``.

Every option falls back to its environment variable, then to the default (see
``dashapp.config.Config``). A refused option, file or value ends the command with
one line on stderr naming it and exit code 2, never a traceback (:func:`main`).
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
import time
from pathlib import Path

from dashapp import cli_roads, cli_users
from dashapp.config import Config
from dashapp.parsing import BadInputError, parse_id, parse_number


class _Parser(argparse.ArgumentParser):
    """Option errors as one line on stderr and exit code 2, like every other error."""

    def error(self, message: str):
        self.exit(2, f"error: {self.prog}: {message} (see --help)\n")


def _id_option(text: str) -> int:
    try:
        return parse_id(text, "dataset")
    except BadInputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _count_option(text: str) -> int:
    try:
        count = int(text)
    except ValueError:
        count = 0
    if not 1 <= count <= 256:
        raise argparse.ArgumentTypeError(f"a whole number in 1..256, got {text!r}")
    return count


def _megabytes(text: str) -> float:
    try:
        return parse_number(text, "--max-size-mb", minimum=0.001, maximum=100_000)
    except BadInputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        help="folder of the default store and caches (env DASHAPP_DATA_DIR)",
    )
    parser.add_argument(
        "--database-url", help="SQLAlchemy URL of the store (env DASHAPP_DATABASE_URL)"
    )


def _quiet(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--quiet",
        "-q",
        action="store_true",
        help="no progress on stderr (elapsed time, stage, best plan, bound and gap)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
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
    serve.add_argument(
        "--prod",
        action="store_true",
        help="production server: gunicorn workers on a store prepared once "
        "(needs DASHAPP_SECRET_KEY)",
    )
    serve.add_argument(
        "--workers",
        type=_count_option,
        help="production worker processes (implies --prod; env DASHAPP_WORKERS; "
        "default one per CPU core, at least 2)",
    )
    serve.add_argument(
        "--threads",
        type=_count_option,
        help="threads per production worker (env DASHAPP_THREADS; default 4)",
    )

    worker = sub.add_parser(
        "worker",
        help="run a Celery worker for the background jobs (needs DASHAPP_REDIS_URL, "
        "DASHAPP_SECRET_KEY and a database already upgraded)",
    )
    _common(worker)
    worker.add_argument(
        "--concurrency",
        type=_count_option,
        help="jobs run at once (env DASHAPP_WORKER_CONCURRENCY; default one per "
        "CPU core)",
    )

    demo = sub.add_parser(
        "demo",
        help="generate the synthetic demo country into the store as a new dataset",
    )
    _common(demo)
    _quiet(demo)
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
    _quiet(forecast)
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
    _quiet(opt)
    opt.add_argument(
        "--scenario",
        required=True,
        help="scenario JSON file (schema in docs/optimization.md)",
    )
    opt.add_argument("--out", required=True, help="folder for the result files")
    opt.add_argument(
        "--dataset", type=_id_option, help="dataset id (default: the active one)"
    )

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
    _import_parser(sub)
    _brief_parser(sub)
    cli_users.add_parser(sub, _common)
    cli_roads.add_parser(sub, _common)
    kpis = sub.add_parser("kpis", help="print the KPI catalogue")
    kpis.add_argument("--lang", choices=["fr", "en"], default="en")
    kpis.add_argument(
        "--markdown",
        action="store_true",
        help="as the Markdown of the README's KPI section",
    )
    return parser


def _clusters_options(args: argparse.Namespace) -> dict:
    """The ``clusters`` options as ``write_clusters`` arguments; ``ValueError`` if bad."""
    k: int | str = args.k
    if k != "auto":
        try:
            k = int(k)
        except ValueError as exc:
            raise ValueError(f"--k should be an integer or 'auto', got {k!r}") from exc
    options = {"k": k, "method": args.method, "region": args.region,
               "lang": args.lang, "profiles": args.profiles}  # fmt: skip
    if args.features:
        options["features"] = tuple(
            f.strip() for f in args.features.split(",") if f.strip()
        )
    return options


def expected_errors() -> tuple[type[BaseException], ...]:
    """The exceptions a command raises on bad input, reported as one line.

    Options, files and values, the store's refusals and its driver's errors;
    anything else is a bug and keeps its traceback.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from data.store import StoreError
    from optimization.errors import OptimizationError

    return (
        ValueError,  # BadInputError, ScenarioError, ForecastError, UnicodeError...
        OSError,
        ArithmeticError,
        RecursionError,
        StoreError,
        OptimizationError,
        SQLAlchemyError,
    )


def main(argv: list[str] | None = None) -> int:
    """Run one command; an expected error ends it with one line on stderr, code 2."""
    try:
        return _main(argv)
    except Exception as exc:
        if not isinstance(exc, expected_errors()):
            raise
        print(f"error: {one_line(exc)}", file=sys.stderr)
        return 2


def one_line(exc: BaseException, limit: int = 500) -> str:
    """An exception's message on one line (a driver's SQL and hints dropped)."""
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        return f"{exc.filename}: {exc.strerror}"
    lines = str(exc).strip().splitlines()
    text = " ".join(lines[0].split()) if lines else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _main(argv: list[str] | None = None) -> int:
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
            workers=getattr(args, "workers", None),
            threads=getattr(args, "threads", None),
            worker_concurrency=getattr(args, "concurrency", None),
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from dashapp import services

    if args.command == "users":
        return cli_users.run(args, config)
    if args.command == "worker":
        from dashapp import create_app
        from dashapp.workers import run_worker

        return run_worker(config, create_app)
    store = services.get_store(config.database_url)
    if args.command == "forecast":
        return _forecast(store, args)
    if args.command == "serve":
        from dashapp.production import serve

        production = args.prod or args.workers is not None
        if production and config.debug:
            print("error: --debug is for the development server, not --prod",
                  file=sys.stderr)  # fmt: skip
            return 2
        return serve(config, production)
    if args.command == "demo":
        from dashapp.bootstrap import create_demo

        if args.communes < 20:
            print("error: --communes should be at least 20", file=sys.stderr)
            return 2
        store.upgrade()
        started = time.perf_counter()
        from dashapp.cli_progress import CliProgress
        from data.users import note

        with CliProgress("demo", quiet=args.quiet) as shown:
            info = create_demo(
                store, args.seed, args.communes, activate=not args.no_activate,
                audit=note("cli", "dataset.demo",
                           {"communes": args.communes,
                            "activated": not args.no_activate}),
                progress=shown.stage,
            )  # fmt: skip
        print(
            f"dataset {info.id} '{info.name}' version {info.version} created in "
            f"{time.perf_counter() - started:.1f} s"
            + ("" if args.no_activate else " (active)")
        )
        return 0
    if args.command == "import":
        return _import(store, args)
    if args.command == "brief":
        return _brief(config, args)
    if args.command == "optimize":
        return _optimize(store, args)
    if args.command == "roads":
        return cli_roads.run(store, args)
    if args.command == "clusters":
        from dashapp.services.segmentation import write_clusters

        out_file(args.out, "--out")
        if args.profiles:
            out_file(args.profiles, "--profiles")
        try:
            print(write_clusters(store, args.out, **_clusters_options(args)))
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


def _import_parser(sub) -> None:
    """``import``: boundaries and tables into a new dataset."""
    imp = sub.add_parser(
        "import",
        help="import boundaries (+ population, centers, candidate sites, operations) "
        "as a new dataset; nothing is stored when a file has errors",
        description="Geographic layers: GeoJSON (.geojson, .json), GeoPackage (.gpkg), "
        "FlatGeobuf (.fgb), KML (.kml, .kmz), and .zip archives of a Shapefile or a "
        "File Geodatabase (.gdb.zip, as OCHA publishes them). Tables: CSV (.csv, "
        ".tsv, .txt) and Excel (.xlsx, .xlsm). Boundaries are polygon layers; centers "
        "and candidate sites are point layers (coordinates from the geometry, "
        "reprojected to EPSG:4326) or tables with longitude and latitude columns.",
    )
    _common(imp)
    imp.add_argument(
        "--boundaries",
        action="append",
        required=True,
        metavar="FILE",
        help="a polygon layer (GeoJSON, GeoPackage, FlatGeobuf, KML/KMZ, or a .zip "
        "of a Shapefile or File Geodatabase); repeat for one file per level",
    )
    per_file = (
        "; once for every --boundaries file, or once per file in their order "
        "('' to guess it for that file)"
    )
    imp.add_argument(
        "--layer",
        action="append",
        help="GeoPackage layer or .shp member of a zip" + per_file,
    )
    imp.add_argument(
        "--levels",
        "--level",
        metavar="NAMES",
        help="level codes, top first, e.g. region,department,commune",
    )
    imp.add_argument(
        "--code-column",
        action="append",
        help="column of the unit code (default: guessed)" + per_file,
    )
    imp.add_argument(
        "--name-column",
        action="append",
        help="column of the unit name (default: guessed)" + per_file,
    )
    imp.add_argument(
        "--parent-columns",
        action="append",
        metavar="COLS",
        help="columns of the upper levels' codes (or names), top first, each "
        "optionally with its name column after ':', e.g. reg_code:reg_name,dep_code; "
        "'-' for none (default: guessed)" + per_file,
    )
    imp.add_argument("--population", metavar="FILE", help="CSV or Excel population")
    imp.add_argument(
        "--join",
        choices=["code", "name"],
        help="join population rows to communes by code or by (normalised) name "
        "(default: codes if they match, else names)",
    )
    imp.add_argument("--join-column", help="population column holding codes or names")
    imp.add_argument(
        "--join-parent-column",
        metavar="C",
        help="population column with each row's parent unit (province...), by name or "
        "code: tells communes sharing a name apart (default: guessed from its name)",
    )
    imp.add_argument(
        "--join-mode",
        choices=["strict", "partial"],
        default="strict",
        help="strict (default): any unmatched row or commune without population stores "
        "nothing; partial: store what joins, communes without population are "
        "unknown (n.d.), every one listed",
    )
    imp.add_argument(
        "--population-column",
        help="column with the counts: in the --population table, or without one in "
        "the communes' boundary file (default: guessed)",
    )
    imp.add_argument(
        "--centers",
        metavar="FILE",
        help="service centers: a point layer (same formats as --boundaries) or a "
        "CSV/Excel table with longitude and latitude columns",
    )
    imp.add_argument(
        "--candidates",
        metavar="FILE",
        help="candidate sites, same formats as --centers; a file without a code "
        "column (OpenStreetMap places) gets codes from its osm_id, else its row number",
    )
    for kind, fields in (
        ("centers", "code, name, capacity_week, staff, status, opened_on"),
        ("candidates", "code, name, capacity_week, opening_cost"),
    ):
        imp.add_argument(
            f"--{kind}-layer", metavar="LAYER",
            help=f"layer of the --{kind} file when it holds several point layers",
        )  # fmt: skip
        imp.add_argument(
            f"--{kind}-column", action="append", default=[], metavar="FIELD=COLUMN",
            help=f"column of a --{kind} field ({fields}, lon, lat...), e.g. "
            "code=ID_SITE (default: guessed from the names); code= for none: codes "
            "are made up",
        )  # fmt: skip
    imp.add_argument(
        "--operations", metavar="FILE", help="CSV or Excel weekly operations"
    )
    imp.add_argument(
        "--roads", metavar="FILE",
        help="the road network: a lines layer (same formats as --boundaries) or an "
        "OpenStreetMap extract (.osm.pbf); checked before anything is stored",
    )  # fmt: skip
    imp.add_argument("--road-class-column", default="highway", metavar="COL",
                     help="column of road classes in --roads (default: highway)")  # fmt: skip
    imp.add_argument(
        "--road-class-map", metavar="MAP",
        help="VALUE=CLASS pairs (e.g. 1=trunk,2=primary,...,6=track) or a JSON "
        "file of them (default: OSM highway/fclass values); classes: trunk, "
        "primary, secondary, tertiary, local, track, path",
    )  # fmt: skip
    imp.add_argument("--road-surface-column", metavar="COL",
                     help="column of surfaces in --roads (OSM values)")  # fmt: skip
    imp.add_argument("--road-tolerance", type=float, default=50.0, metavar="M",
                     help="snapping tolerance of road line ends, metres (50)")  # fmt: skip
    imp.add_argument("--delimiter", help="force the CSV separator (default: detected)")
    imp.add_argument("--encoding", help="force the CSV encoding (default: detected)")
    imp.add_argument(
        "--rate",
        action="append",
        default=[],
        metavar="DOC=RATE",
        help="yearly requests per inhabitant when there are no operations "
        "(default CNI=0.024 PASS=0.006 ACTE=0.02)",
    )
    imp.add_argument("--name", help="dataset name (default: the first file's name)")
    imp.add_argument(
        "--no-repair",
        action="store_true",
        help="refuse invalid polygons instead of repairing them",
    )
    imp.add_argument(
        "--max-size-mb", type=_megabytes, default=200, help="per file (200)"
    )
    imp.add_argument(
        "--no-activate", action="store_true", help="store without showing it"
    )
    imp.add_argument(
        "--dry-run", action="store_true", help="check the files, store nothing"
    )
    _quiet(imp)
    imp.add_argument(
        "--lang", choices=["fr", "en"], default="en", help="language of the report"
    )


def _brief_parser(sub) -> None:
    """``brief``: a printable decision brief (PDF, A4) of an area or scenarios."""
    brief = sub.add_parser(
        "brief",
        help="write the decision brief of an area, a saved scenario, or 2 to 4 "
        "saved scenarios compared, as an A4 PDF",
    )
    _common(brief)
    brief.add_argument(
        "--region", help="code of the area: a region, a department... (default: "
        "the whole country)",
    )  # fmt: skip
    brief.add_argument(
        "--scenario", action="append", default=[], metavar="ID",
        help="saved scenario id; once for a scenario brief, 2 to 4 times to compare",
    )  # fmt: skip
    brief.add_argument(
        "--indicator", help="KPI the area map colours communes by (default: the "
        "main screen's)",
    )  # fmt: skip
    brief.add_argument("--lang", choices=["fr", "en"], default="fr",
                       help="language of the brief (default fr)")  # fmt: skip
    brief.add_argument("--out", required=True, help="file to write: FILE.pdf (A4), "
                       "or FILE.pptx for an editable PowerPoint deck")  # fmt: skip


def _brief(config: Config, args) -> int:
    """Write one brief; a bad area or scenario is one line and exit code 2."""
    from dashapp.services.briefs import BriefRequest, build_brief, standalone

    out = out_file(args.out, "--out")
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in ("pdf", "pptx"):
        raise BadInputError(f"--out {args.out}: a .pdf or .pptx file is expected", "out")
    scenarios = tuple(parse_id(s, "scenario") for s in args.scenario)
    request = BriefRequest(
        area=args.region, scenarios=scenarios, lang=args.lang,
        indicator=args.indicator,
    )  # fmt: skip
    started = time.perf_counter()
    with standalone(config):
        pdf = build_brief(config.database_url, request, fmt=fmt)
    out.write_bytes(pdf)
    print(f"{request.kind} brief written to {out} ({len(pdf) / 1024:.0f} kB) in "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    return 0


def _per_file(args, option: str, n_files: int) -> list[str | None]:
    """An option given once (every file) or once per ``--boundaries`` file."""
    values = getattr(args, option) or []
    if len(values) > 1 and len(values) != n_files:
        flag = "--" + option.replace("_", "-")
        raise BadInputError(
            f"{flag} given {len(values)} times for {n_files} --boundaries files: give "
            "it once (every file) or once per file, in the same order ('' to guess)",
            option,
        )
    return values * n_files if len(values) == 1 else values or [None] * n_files


def _parent_columns(value: str | None) -> list[list[str]] | None:
    """``reg_code:reg_name,dep_code`` as ``[[reg_code, reg_name], [dep_code]]``;
    ``-`` for no parent column, empty or ``None`` to guess."""
    if not value:
        return None
    if value.strip() == "-":
        return []
    pairs = [[c.strip() for c in item.split(":", 1)] for item in value.split(",")]
    if any(not p[0] or (len(p) > 1 and not p[1]) for p in pairs):
        raise BadInputError(
            f"--parent-columns {value!r}: expected CODE[:NAME],... top first, "
            "e.g. reg_code:reg_name,dep_code",
            "parent_columns",
        )
    return pairs


def _import(store, args) -> int:
    """Exit codes: 0 stored (or checked with --dry-run), 2 errors (nothing stored)."""
    from pathlib import Path

    from dashapp.services.importing import issue_text, join_only, run_import
    from data.importers import DEFAULT_RATES, ImportSpec, Source
    from data.importers.boundaries import parse_level_names
    from data.importers.bundle import check_rate

    rates = dict(DEFAULT_RATES)
    for item in args.rate:
        doc, sep, value = item.partition("=")
        try:
            if not sep:
                raise ValueError("expected DOC=RATE, e.g. CNI=0.024")
            rates[doc.strip()] = check_rate(doc.strip(), value.strip())
        except ValueError as exc:
            raise BadInputError(f"--rate {item!r}: {exc}", "rate") from None
    try:
        levels = parse_level_names(args.levels)
    except ValueError as exc:
        raise BadInputError(f"--{exc}", "levels") from None
    n_files = len(args.boundaries)
    chosen = {
        key: _per_file(args, option, n_files)
        for key, option in (("code", "code_column"), ("name", "name_column"),
                            ("parents", "parent_columns"), ("layer", "layer"))
    }  # fmt: skip
    mappings = [
        {
            "code": chosen["code"][k] or None,
            "name": chosen["name"][k] or None,
            "parents": _parent_columns(chosen["parents"][k]),
        }
        for k in range(n_files)
    ]

    def table(path, extra=None):
        if not path:
            return None
        return Source(
            Path(path).name,
            Path(path),
            mapping=extra,
            delimiter=args.delimiter,
            encoding=args.encoding,
            join=getattr(args, "join", None) if extra is not None else None,
        )

    def sites(path, kind: str):
        source = table(path)
        if source is not None:
            source.mapping = _site_columns(getattr(args, f"{kind}_column"), kind)
            source.layer = getattr(args, f"{kind}_layer")
        return source

    pop_mapping = {}
    if args.join_column:  # without --join: codes if they match, else names
        for how in [args.join] if args.join else ["code", "name"]:
            pop_mapping[how] = args.join_column
    if args.population_column and args.population:
        pop_mapping["population"] = args.population_column
    if args.join_parent_column:
        pop_mapping["parent"] = args.join_parent_column
    spec = ImportSpec(
        [Source(Path(p).name, Path(p), mappings[k], chosen["layer"][k] or None)
         for k, p in enumerate(args.boundaries)],  # fmt: skip
        population=table(args.population, pop_mapping),
        centers=sites(args.centers, "centers"),
        candidates=sites(args.candidates, "candidates"),
        operations=table(args.operations),
        name=args.name or Path(args.boundaries[-1]).stem,
        level_names=levels,
        rates=rates,
        repair=not args.no_repair,
        max_bytes=int(args.max_size_mb * 1024**2),
        join_mode=args.join_mode,
        population_column=None if args.population else args.population_column,
    )
    for path in [*args.boundaries, args.population, args.centers, args.candidates,
                 args.operations, args.roads]:  # fmt: skip
        if path and not Path(path).is_file():
            print(f"error: {path}: no such file", file=sys.stderr)
            return 2
    roads = _road_source(args)
    store.upgrade()
    started = time.perf_counter()
    from data.users import note

    event = note("cli", "dataset.import",
                 {"name": spec.name, "activated": not args.no_activate,
                  "files": [Path(p).name for p in args.boundaries]
                  + ([roads.file] if roads else [])})  # fmt: skip
    from dashapp.cli_progress import CliProgress

    with CliProgress("import", quiet=args.quiet) as shown:
        shown.stage("reading the files")
        report, info, summary = run_import(
            store, spec, activate=not args.no_activate, dry_run=args.dry_run,
            audit=event, roads=roads,
            progress=lambda pct, step: shown.stage(f"{step} ({pct}%)"),
        )  # fmt: skip
        if summary is None:
            shown.failed()
    if summary is None:  # the errors (and warnings), one line each; no notes
        shown = [i for i in report.issues if i.severity != "info"]
        lines = [f"{i.severity}: {issue_text(i, args.lang)}" for i in shown]
        if len(report.errors) == 1 and len(shown) == 1:
            lines[0] = lines[0].rstrip(".") + "; nothing was stored"
        else:
            lines.append(f"error: {len(report.errors)} error(s); nothing was stored")
        if spec.join_mode == "strict" and join_only(report, spec):
            lines.append("hint: --join-mode partial stores what joins (the rows above "
                         "stay listed, their communes' population unknown)")  # fmt: skip
        print("\n".join(lines), file=sys.stderr)
        return 2
    for issue in report.issues:
        print(f"{issue.severity}: {issue_text(issue, args.lang)}", file=sys.stderr)
    counts = " / ".join(
        f"{n} {lvl}" for lvl, n in zip(summary["levels"], summary["units"], strict=True)
    )
    what = (
        "checked (dry run, nothing stored)"
        if info is None
        else f"stored as dataset {info.id} '{info.name}'"
        + ("" if args.no_activate else " (active)")
    )
    print(
        f"{counts}; {summary['centers']} centers, {summary['candidates']} candidate "
        f"sites, {summary['operations']} operation rows; population "
        f"{_population(summary)}; {what} in "
        f"{time.perf_counter() - started:.1f} s"
    )
    if summary.get("roads"):
        from dashapp.cli_roads import report_text

        print(report_text(roads.file, summary["roads"]))
    return 0


def _road_source(args):
    """``--roads`` and its options as a :class:`RoadSource` (None without roads);
    a bad option raises :class:`BadInputError` (one line, exit code 2)."""
    from dashapp.cli_roads import class_map_option
    from dashapp.services.importing import RoadSource

    if not args.roads:
        return None
    if not (math.isfinite(args.road_tolerance) and 0 <= args.road_tolerance <= 1000):
        raise BadInputError(
            f"--road-tolerance should be between 0 and 1000 m, got "
            f"{args.road_tolerance}", "road_tolerance",
        )  # fmt: skip
    try:
        class_map = class_map_option(args.road_class_map, "--road-class-map")
    except ValueError as exc:
        raise BadInputError(str(exc), "road_class_map") from None
    path = Path(args.roads)
    return RoadSource(
        path.name, path, class_column=args.road_class_column, class_map=class_map,
        surface_column=args.road_surface_column, tolerance_m=args.road_tolerance,
    )  # fmt: skip


def _site_columns(items: list[str], kind: str) -> dict[str, str | None] | None:
    """``--centers-column code=ID`` (repeated) as ``{"code": "ID"}``; ``code=``
    says there is no such column."""
    from data.importers.tables import ALIASES

    chosen: dict[str, str | None] = {}
    for item in items:
        key, sep, column = (part.strip() for part in item.partition("="))
        if not sep or key not in ALIASES[kind]:
            raise BadInputError(
                f"--{kind}-column {item!r}: expected FIELD=COLUMN, FIELD one of "
                f"{', '.join(ALIASES[kind])}",
                f"{kind}_column",
            )
        chosen[key] = column or None
    return chosen or None


def _population(summary: dict) -> str:
    """The population, and for how many communes it is unknown (never a bare 0)."""
    n = summary.get("population_unknown", 0)
    if n and n == summary["units"][-1]:  # boundaries without population
        return "unknown (n.d.)"
    unknown = f" (unknown for {n:,} communes: n.d.)" if n else ""
    return f"{summary['population']:,}{unknown}"


def out_file(path: str, option: str) -> Path:
    """A file a command will write, refused before any work if it cannot be.

    Raises :class:`BadInputError` for a folder, a missing parent folder, or a place
    this process may not write.
    """
    out = Path(path)
    if out.is_dir():
        raise BadInputError(f"{option} {path}: is a folder, a file is expected", "out")
    if not out.parent.is_dir():
        raise BadInputError(
            f"{option} {path}: {out.parent} is not an existing folder", "out"
        )
    if not os.access(out.parent, os.W_OK) or (
        out.exists() and not os.access(out, os.W_OK)
    ):
        raise BadInputError(f"{option} {path}: not writable", "out")
    return out


def out_folder(path: str, option: str) -> Path:
    """A folder a command will write into, refused before any work if it cannot be.

    It is created only when written: a run that fails leaves no empty folder.
    """
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise BadInputError(f"{option} {path}: is a file, a folder is expected", "out")
    existing = next(p for p in (out, *out.absolute().parents) if p.exists())
    if not existing.is_dir():
        raise BadInputError(f"{option} {path}: {existing} is not a folder", "out")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise BadInputError(f"{option} {path}: not writable", "out")
    return out


def _optimize(store, args) -> int:
    """Exit codes: 0 solved, 2 bad input (or no demand to plan for), 3 infeasible
    or no solution in time."""
    from optimization.network import network_from_store
    from optimization.scenario import (
        NoDemandError,
        ScenarioError,
        load_spec,
        run_scenario,
        scenario_progress,
        write_outputs,
    )

    try:
        spec = load_spec(args.scenario)
    except ScenarioError as exc:
        print(f"error: {args.scenario}: {exc}", file=sys.stderr)
        return 2
    out_folder(args.out, "--out")  # before a solve that can take minutes
    store.upgrade()
    if args.dataset is not None and all(d.id != args.dataset for d in store.datasets()):
        raise BadInputError(f"--dataset {args.dataset}: no such dataset", "dataset")
    if spec.distance.get("kind") == "travel_time":
        from data.roads import network_info

        active = store.active_dataset()
        dataset = args.dataset if args.dataset is not None else active and active.id
        if dataset is not None and network_info(store, dataset) is None:
            raise BadInputError(
                f"{args.scenario}: 'distance.kind' = 'travel_time' needs a road "
                f"network and dataset {dataset} has none; import one with "
                "`python -m dashapp roads import FILE`",
                "scenario",
            )
    from dashapp.cli_progress import CliProgress
    from data.kpi import objective_unit

    progress = scenario_progress(spec)
    units = {
        "distance": spec.distance.get("unit", "km"),
        "demand": "inhabitants"
        if spec.demand.get("source") == "population"
        and "requests_per_capita" not in spec.demand
        and "forecast" not in spec.demand
        else "requests/week",
    }
    try:
        with CliProgress("optimize", quiet=args.quiet) as shown:
            shown.stage("reading the network")
            network = network_from_store(store, args.dataset)
            shown.solve(progress, objective_unit(spec.model, units, "en"))
            result = run_scenario(spec, network, progress=progress)
    except NoDemandError as exc:  # the data's fault, not the plan's
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ScenarioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    paths = write_outputs(result, args.out)
    report = result.report
    print(
        f"{spec.model}: {report.status}, objective {report.objective:,.1f}, "
        f"gap {report.gap:.2%}, "
        f"solved in {report.build_seconds + report.solve_seconds:.2f} s"
    )
    for note in result.summary.get("notes", []):
        print(f"note: {note}")
    for path in paths.values():
        print(f"  wrote {path}")
    return 0


def _forecast(store, args) -> int:
    """Write the forecast table of a level; print the backtest accuracy."""
    from data.exports import write_csv
    from data.forecast import ForecastError, check_horizon, forecast_level

    info = store.active_dataset()
    if info is None:
        print("error: the store holds no dataset (run `demo` first)", file=sys.stderr)
        return 2
    doc_types = [d for d in args.doc_types.split(",") if d] if args.doc_types else None
    out_file(args.out, "--out")
    started = time.perf_counter()
    from dashapp.cli_progress import CliProgress

    try:
        horizon = check_horizon(args.horizon)
        with CliProgress("forecast", quiet=args.quiet) as shown:
            shown.stage(f"backtesting and forecasting the {args.level} series")
            result = forecast_level(
                store,
                info.id,
                args.level,
                doc_types=doc_types,
                progress=lambda done, total: shown.count(done, total, "steps"),
            )
    except ForecastError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    table = result.table(horizon)
    table["week"] = table["week"].dt.date.astype(str)
    write_csv(table.round(2), args.out)
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
