"""``python -m dashapp roads``: import a road network, read its report, edit its
speed profile, print the travel-time access of the centers.

Bad input ends with one line on stderr and exit code 2 (raised as ``ValueError``
or :class:`data.store.StoreError` and printed by ``dashapp.__main__.main``).
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable
from pathlib import Path

__all__ = ["add_parser", "run"]


def add_parser(
    subparsers, common: Callable[[argparse.ArgumentParser], None] | None = None
) -> argparse.ArgumentParser:
    """Declare ``roads`` and its actions; ``common`` adds the shared store options."""
    parser = subparsers.add_parser(
        "roads", help="road network of a dataset: import, report, profile, access"
    )
    actions = parser.add_subparsers(dest="roads_action", required=True)

    def action(name: str, text: str) -> argparse.ArgumentParser:
        sub = actions.add_parser(name, help=text, description=text)
        if common is not None:
            common(sub)
        sub.add_argument("--dataset", type=int, help="dataset id (default: active)")
        return sub

    imp = action("import", "import a lines layer or an .osm.pbf extract as the "
                 "dataset's road network (replaces the previous one)")  # fmt: skip
    imp.add_argument("file", help="GeoJSON, GeoPackage, FlatGeobuf, zipped "
                     "Shapefile or .osm.pbf")  # fmt: skip
    imp.add_argument("--class-column", default="highway",
                     help="column of road classes (default: highway, as in OSM)")  # fmt: skip
    imp.add_argument(
        "--class-map",
        help="VALUE=CLASS pairs separated by commas (e.g. 1=trunk,2=primary,"
        "3=secondary,4=tertiary,5=local,6=track), or a JSON file of them; "
        "default: OSM highway/fclass values",
    )
    imp.add_argument("--surface-column", help="column of surfaces (OSM values)")
    imp.add_argument("--oneway-column", help="column of one-way flags (yes/no)")
    imp.add_argument("--layer", help="layer to read from a file holding several")
    imp.add_argument("--tolerance", type=float, default=50.0,
                     help="snapping tolerance of line ends, metres (default 50)")  # fmt: skip
    action("report", "print the import report of the dataset's road network")
    prof = action("profile", "print the speed profile, or set or reset it")
    group = prof.add_mutually_exclusive_group()
    group.add_argument("--set", help="JSON file of speeds over the defaults")
    group.add_argument("--reset", action="store_true", help="back to the defaults")
    acc = action("access", "travel time from each commune to its nearest center")
    acc.add_argument("--mode", choices=["walking", "motorised"], default="motorised")
    acc.add_argument("--season", choices=["dry", "rainy"], default="dry")
    acc.add_argument("--out", help="CSV file of the communes' travel times")
    return parser


def _dataset(store, args) -> int:
    from data.store import StoreError

    if args.dataset is None:
        info = store.active_dataset()
        if info is None:
            raise StoreError("the store holds no dataset (run `demo` or `import`)")
        return info.id
    if all(d.id != args.dataset for d in store.datasets()):
        raise StoreError(f"--dataset {args.dataset}: no such dataset")
    return args.dataset


def class_map_option(
    text: str | None, option: str = "--class-map"
) -> dict[str, str] | None:
    """``VALUE=CLASS,...`` or a JSON file of them, checked against the classes."""
    from data.importers.roads import ROAD_CLASSES

    if not text:
        return None
    path = Path(text)
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ValueError(f"{option} {path}: {exc.strerror or exc}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"{option} {path}: not valid JSON ({exc})") from None
        if not isinstance(data, dict):
            raise ValueError(f"{option} {path}: should map values to classes")
        pairs = {str(k): str(v) for k, v in data.items()}
    else:
        pairs = {}
        for item in text.split(","):
            value, sep, klass = item.partition("=")
            if not sep or not value.strip() or not klass.strip():
                raise ValueError(f"{option}: expected VALUE=CLASS, got {item!r}")
            pairs[value.strip()] = klass.strip()
    bad = sorted(set(pairs.values()) - set(ROAD_CLASSES))
    if bad:
        raise ValueError(
            f"{option}: {', '.join(bad)} not road classes; use {', '.join(ROAD_CLASSES)}"
        )
    return pairs


def run(store, args) -> int:
    """Run one ``roads`` action; 0 when done."""
    from data import roads as road_store

    store.upgrade()
    dataset = _dataset(store, args)
    if args.roads_action == "import":
        return _import(store, dataset, args)
    if args.roads_action == "report":
        info = road_store.network_info(store, dataset)
        if info is None:
            raise ValueError(f"dataset {dataset} has no road network")
        print(report_text(info["source"], info["report"]))
        return 0
    if args.roads_action == "profile":
        return _profile(store, dataset, args)
    return _access(store, dataset, args)


def _import(store, dataset: int, args) -> int:
    from geo.road_access import RoadImportError, import_roads

    path = Path(args.file)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    if not (math.isfinite(args.tolerance) and 0 <= args.tolerance <= 1000):
        raise ValueError(
            f"--tolerance should be between 0 and 1000 m, got {args.tolerance}"
        )
    try:
        network, report = import_roads(
            store, dataset, path, path.name,
            class_column=args.class_column, class_map=class_map_option(args.class_map),
            surface_column=args.surface_column, oneway_column=args.oneway_column,
            layer=args.layer, tolerance_m=args.tolerance,
        )  # fmt: skip
    except RoadImportError as exc:
        raise ValueError(f"{exc} (nothing stored)") from None
    for issue in report.issues:
        print(f"{issue.severity}: {issue.text()}")
    print(report_text(path.name, network))
    return 0


def report_text(source: str, r: dict) -> str:
    lengths = ", ".join(f"{k} {v:,.1f} km" for k, v in r["length_km_by_class"].items())
    lines = [
        f"roads of {source}: {r['lines']:,} lines, {r['edges']:,} segments, "
        f"{r['nodes']:,} nodes",
        f"length by class: {lengths}",
        f"joined by snapping (tolerance {r['tolerance_m']:g} m): {r['joined_ends']} "
        f"line ends, {r['joined_length_m']:,.0f} m in all, longest gap "
        f"{r['max_gap_m']:,.0f} m",
        f"connected parts: {r['components']}; the largest holds "
        f"{r['main_share']:.1%} of the length; unconnected: "
        f"{r['unconnected_km']:,.1f} km",
    ]
    for part in r["unconnected_parts"][:5]:
        lines.append(
            f"  unconnected part: {part['edges']} segments, {part['length_km']} km, "
            f"near lon {part['lon']}, lat {part['lat']}"
        )
    return "\n".join(lines)


def _profile(store, dataset: int, args) -> int:
    from data import roads as road_store
    from geo.roads import SpeedProfile

    if args.set:
        path = Path(args.set)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"--set {path}: not valid JSON ({exc})") from None
        profile = SpeedProfile.from_dict(data)  # ValueError names the key
        road_store.save_profile(store, dataset, profile.to_dict())
    elif args.reset:
        road_store.save_profile(store, dataset, None)
    info = road_store.network_info(store, dataset)
    if info is None:
        raise ValueError(f"dataset {dataset} has no road network")
    print(json.dumps(SpeedProfile.from_dict(info["profile"]).to_dict(), indent=1))
    return 0


def _access(store, dataset: int, args) -> int:
    import pandas as pd

    from data.exports import write_csv
    from geo.road_access import travel_access

    access = travel_access(store, dataset, mode=args.mode, season=args.season)
    if access is None:
        raise ValueError(f"dataset {dataset} has no road network")
    k = access["kpis"]
    within = ", ".join(
        f"{k[f'within_{t}_min']:.1%} within {t} min" for t in access["thresholds"]
    )
    print(
        f"{args.mode}, {args.season} season: mean travel time to the nearest center "
        f"{k['mean_minutes']:.1f} min; population {within}; "
        f"{k['unreachable']:.1%} reach no center"
    )
    if args.out:
        minutes = access["minutes"]
        write_csv(
            pd.DataFrame(
                {
                    "commune": access["communes"],
                    "nearest_center": access["nearest_center"],
                    "minutes": [
                        round(float(m), 1) if math.isfinite(m) else None
                        for m in minutes
                    ],  # fmt: skip
                }
            ),
            args.out,
        )
        print(f"  wrote {args.out}")
    return 0
