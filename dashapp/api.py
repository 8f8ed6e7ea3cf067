"""Read-only JSON API under ``/api/v1``: datasets, KPIs by unit, saved scenarios.

KPI numbers come from the same cached measures and aggregation as the screens
(:func:`dashapp.services.measures_for`, :func:`data.views.unit_kpis`), and the
filters are checked by the same :func:`dashapp.filters.resolve`; but where the
screens fall back to a default, the API answers 400 naming the bad parameter, so
a script never gets numbers for filters it did not ask for.

Every error is JSON: ``{"error": "<message>", "parameter": "<name>"}`` (400),
``{"error": "<message>", "right": "<right>"}`` (403) or ``{"error": "<message>"}``
(404). The README section "JSON API" shows each endpoint with an example.

Reads need only a signed-in user. A scenario's tables as CSV are an export: the
same rule as the screen's downloads (:func:`data.scenarios.missing_export_right`:
one's own scenarios with ``scenario.export``, every one with ``export.any``), and
each download is written to the audit log as ``scenario.export``.

Reads carry an ``ETag`` (a hash of the body): a client that sends it back in
``If-None-Match`` gets ``304 Not Modified`` and no body while the answer is the
same. A KPI answer is memoised per dataset version, query and language (a
dataset version never changes; the active one is looked up at each request).
"""

from __future__ import annotations

import json
from typing import Any

import flask
import pandas as pd
from werkzeug.datastructures import MultiDict

from dashapp import services
from dashapp.auth import current_user, record
from dashapp.cache import memo
from dashapp.config import LANGUAGES
from dashapp.filters import RADIUS_RANGE, parse_date, resolve
from dashapp.parsing import BadIdError, parse_id
from data.exports import csv_text, unserved_frame
from data.kpi import ACCESS_MEASURES, KPIS, TRAVEL_KPIS, measure_of
from data.scenarios import (
    ScenarioStoreError,
    get_scenario,
    is_stale,
    missing_export_right,
)
from data.views import DatasetContext, unit_kpis
from geo.road_access import travel_access
from geo.roads import MODES, SEASONS

PREFIX = "/api/v1"
api = flask.Blueprint("api_v1", __name__)

KPI_PARAMS = ("level", "start", "end", "doc_types", "radius", "dataset", "lang")


class ApiError(Exception):
    """An answer other than 200, raised anywhere in a view."""

    def __init__(
        self,
        status: int,
        message: str,
        parameter: str | None = None,
        *,
        right: str | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.message = message
        self.parameter = parameter
        self.right = right


@api.errorhandler(ApiError)
def _api_error(exc: ApiError):
    body: dict[str, Any] = {"error": exc.message}
    if exc.parameter:
        body["parameter"] = exc.parameter
    if exc.right:
        body["right"] = exc.right
    return flask.jsonify(body), exc.status


def _store():
    return services.get_store(flask.current_app.config["DASHAPP"].database_url)


def _send(body: bytes) -> flask.Response:
    """A JSON answer with its ETag; 304 without a body when the client has it."""
    response = flask.Response(body, mimetype="application/json")
    response.add_etag()
    return response.make_conditional(flask.request)


def _json(obj) -> bytes:
    """``obj`` as :func:`flask.jsonify` writes it."""
    return flask.current_app.json.response(obj).get_data()


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON records: NaN becomes null, dates ISO text."""
    return json.loads(
        frame.to_json(orient="records", date_format="iso", double_precision=15)
    )


def _id_param(name: str) -> int | None:
    """An id in the query (``?dataset=3``), ``None`` when absent; 400 when bad."""
    raw = flask.request.args.get(name)
    if raw in (None, ""):
        return None
    return _id(raw, name)


def _id(raw: str, name: str, status: int = 400) -> int:
    try:
        return parse_id(raw, name)
    except BadIdError as exc:
        raise ApiError(status, str(exc), name) from None


def _check_known(allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(flask.request.args) - set(allowed))
    if unknown:
        raise ApiError(
            400,
            f"unknown parameter {unknown[0]!r}; allowed: {', '.join(allowed)}",
            unknown[0],
        )


def _iso(value) -> str | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).isoformat()


# -- datasets -----------------------------------------------------------------------
@api.get("/datasets")
def datasets():
    """Every dataset version, newest first, and which one the app shows."""
    _check_known(())
    store = _store()
    active = store.active_dataset()
    return _send(_json(
        [
            {
                "id": d.id,
                "name": d.name,
                "kind": d.kind,
                "version": d.version,
                "description": d.description,
                "created_at": _iso(d.created_at),
                "active": active is not None and d.id == active.id,
            }
            for d in store.datasets()
        ]
    ))  # fmt: skip


# -- KPIs ---------------------------------------------------------------------------
def _context(dataset_id: int | None) -> DatasetContext:
    url = flask.current_app.config["DASHAPP"].database_url
    if dataset_id is not None and all(d.id != dataset_id for d in _store().datasets()):
        raise ApiError(404, f"no dataset with id {dataset_id}")
    ctx = services.context(url, dataset_id)
    if ctx is None:
        raise ApiError(404, "the store holds no dataset")
    return ctx


def _validate(ctx: DatasetContext, args) -> dict[str, Any]:
    """Raw filter values, each checked with the app's resolve(); 400 on the first bad."""
    raw: dict[str, Any] = {
        "level": args.get("level") or None,
        "doc_types": [d.strip() for d in args["doc_types"].split(",") if d.strip()]
        if args.get("doc_types")
        else None,
        "radius": args.get("radius") or None,
        "start": args.get("start") or None,
        "end": args.get("end") or None,
    }
    if raw["doc_types"] == []:
        raise ApiError(400, "'doc_types' is empty", "doc_types")
    hints = {
        "level": f"one of {', '.join(ctx.level_codes)}",
        "doc_types": "comma-separated codes among "
        + ", ".join(ctx.doc_types["code"].astype(str)),
        "radius": f"a number of km in {RADIUS_RANGE[0]:g}..{RADIUS_RANGE[1]:g}",
    }
    for name, hint in hints.items():
        if raw[name] is not None and resolve(ctx, **{name: raw[name]}).messages:
            raise ApiError(
                400, f"invalid value {args.get(name)!r} for '{name}': {hint}", name
            )
    for name in ("start", "end"):
        if raw[name] is not None and parse_date(raw[name]) is None:
            raise ApiError(
                400,
                f"invalid date {raw[name]!r} for '{name}': use YYYY-MM-DD",
                name,
            )
    if (raw["start"] or raw["end"]) and resolve(
        ctx, start=raw["start"], end=raw["end"]
    ).messages:
        first, last = (ctx.weeks[0], ctx.weeks[-1]) if ctx.weeks else (None, None)
        names = [n for n in ("start", "end") if raw[n] is not None]
        raise ApiError(
            400,
            f"the period {raw['start'] or '(default)'} .. {raw['end'] or '(default)'} "
            f"is empty or reversed; data covers weeks {first} .. {last}",
            ",".join(names),
        )
    return raw


@api.get("/kpis")
def kpis():
    """KPI values by unit of one level for the given filters."""
    _check_known(KPI_PARAMS)
    args = flask.request.args
    lang = args.get("lang") or flask.current_app.config["DASHAPP"].lang
    if lang not in LANGUAGES:
        raise ApiError(
            400, f"'lang' should be one of {', '.join(LANGUAGES)}, got {lang!r}", "lang"
        )
    ctx = _context(_id_param("dataset"))
    url = flask.current_app.config["DASHAPP"].database_url
    query = tuple(sorted(args.items(multi=True)))
    return _send(_kpis_body(url, ctx.info.id, ctx.info.version, query, lang))


@memo(maxsize=256, max_bytes=64 * 1024 * 1024)
def _kpis_body(url: str, dataset_id: int, version: str, query: tuple,
               lang: str) -> bytes:  # fmt: skip
    """The body of a KPI answer (``version`` keys the memo: a dataset id and its
    version name one content); a bad parameter raises :class:`ApiError`, not
    remembered."""
    ctx = services.context(url, dataset_id)
    args = MultiDict(query)
    raw = _validate(ctx, args)
    resolved = resolve(ctx, lang, **raw)
    measures = services.measures_for(url, ctx, resolved)
    values = unit_kpis(ctx, measures, resolved.level)
    names = ctx.units_at(resolved.level).set_index("code")["name"]
    values.insert(0, "name", names.reindex(values.index).to_numpy())
    values = values.rename_axis("code").reset_index()
    radius = resolved.radius_km
    return _json(
        {
            "dataset": {"id": ctx.info.id, "version": ctx.info.version},
            "level": ctx.level_codes[resolved.level],
            "filters": {
                "start": resolved.start.isoformat(),
                "end": resolved.end.isoformat(),
                "doc_types": list(resolved.doc_types),
                "radius_km": radius,
            },
            "kpis": [
                {"id": k.id, "name": k.name(lang, radius), "unit": k.unit_in(lang)}
                for k in KPIS.values()
            ],
            "units": _records(values),
        }
    )


# -- access by road -----------------------------------------------------------------
ACCESS_PARAMS = ("dataset", "mode", "season", "lang")


@api.get("/access")
def access():
    """Travel time by road from each commune to its nearest open center, and the
    access KPIs (:data:`data.kpi.TRAVEL_KPIS`), for one mode and season."""
    _check_known(ACCESS_PARAMS)
    args = flask.request.args
    lang = args.get("lang") or flask.current_app.config["DASHAPP"].lang
    choices = {"lang": (lang, LANGUAGES),
               "mode": (args.get("mode") or "motorised", MODES),
               "season": (args.get("season") or "dry", SEASONS)}  # fmt: skip
    for name, (value, allowed) in choices.items():
        if value not in allowed:
            raise ApiError(
                400, f"'{name}' should be one of {', '.join(allowed)}, got {value!r}",
                name,
            )  # fmt: skip
    ctx = _context(_id_param("dataset"))
    mode, season = choices["mode"][0], choices["season"][0]
    found = travel_access(_store(), ctx.info.id, mode=mode, season=season)
    if found is None:
        raise ApiError(404, f"dataset {ctx.info.id} has no road network")
    minutes = [round(float(m), 2) if m != float("inf") else None
               for m in found["minutes"]]  # fmt: skip
    return flask.jsonify(
        {
            "dataset": {"id": ctx.info.id, "version": ctx.info.version},
            "mode": mode,
            "season": season,
            "kpis": [
                {
                    "id": k.id,
                    "name": k.name(lang),
                    "unit": k.unit_in(lang),
                    "value": _number(found["kpis"][k.id]),
                }
                for k in TRAVEL_KPIS.values()
            ],  # fmt: skip
            "communes": [
                {"code": c, "nearest_center": n, "minutes": m}
                for c, n, m in zip(
                    found["communes"], found["nearest_center"], minutes, strict=True
                )
            ],  # fmt: skip
        }
    )


def _number(value: float) -> float | None:
    return None if value != value else round(float(value), 4)  # NaN: null


# -- scenarios ----------------------------------------------------------------------
def _scenario(scenario_id: int):
    """The scenario of a path's id (parsed by :func:`_id`); 404 when there is none."""
    try:
        return get_scenario(_store(), scenario_id)
    except ScenarioStoreError as exc:
        raise ApiError(404, str(exc)) from None


@api.get("/scenarios")
def scenarios():
    """Saved scenarios (``?dataset=ID`` for one dataset's), newest first."""
    _check_known(("dataset",))
    # the list is shared (read once per state of the scenarios): changed in a copy
    frame = services.scenario_list(_store().url, _id_param("dataset")).copy()
    for col in ("created_at", "updated_at"):
        frame[col] = [_iso(v) for v in frame[col]]  # same precision as the detail
    return _send(_json(_records(frame)))


# Ids in paths are text parsed by _id: Flask's <int:...> takes numbers of any size
# (an overflow deep in the driver) and sends '-1' to the catch-all as an unknown
# endpoint. Not an id is a 404 (no such scenario) that says why.
@api.get("/scenarios/<scenario_id>")
def scenario(scenario_id: str):
    """One scenario: identity, parameters, summary, status and stale flag, and
    the access measure it ran with (``km``, or ``mode|season`` in minutes: the unit
    of every distance of its summary and tables)."""
    _check_known(())
    rec = _scenario(_id(scenario_id, "id", 404))
    measure = measure_of(rec.params)
    return flask.jsonify(
        {
            "id": rec.id,
            "name": rec.name,
            "author": rec.author,
            "status": rec.status,
            "dataset_id": rec.dataset_id,
            "dataset_version": rec.dataset_version,
            "stale": is_stale(_store(), rec),
            "created_at": _iso(rec.created_at),
            "updated_at": _iso(rec.updated_at),
            "params": rec.params,
            "summary": rec.summary,
            "measure": {"code": measure, "unit": ACCESS_MEASURES[measure].unit},
        }
    )


def _table(raw_id: str, which: str):
    scenario_id = _id(raw_id, "id", 404)
    _check_known(("format",))
    fmt = flask.request.args.get("format", "json")
    if fmt not in ("json", "csv"):
        raise ApiError(400, f"'format' should be json or csv, got {fmt!r}", "format")
    user = current_user()
    if fmt == "csv" and missing_export_right(user, None) == "scenario.export":
        # a role with no export right at all: refused before the scenario is read,
        # so the answer says nothing of which ids exist
        raise ApiError(
            403,
            f"{user.username if user else 'anonymous'} ({user.role if user else '-'})"
            " lacks the right 'scenario.export' to download tables as CSV",
            right="scenario.export",
        )
    rec = _scenario(scenario_id)
    if fmt == "csv" and (missing := missing_export_right(user, rec.owner_id)):
        raise ApiError(
            403,
            f"scenario {rec.id} belongs to another user: downloading its tables as "
            f"CSV needs the right {missing!r}",
            right=missing,
        )
    frame = getattr(rec, which if which != "unserved" else "communes")
    if frame is not None and which == "unserved":
        frame = unserved_frame(rec)
    if frame is None:
        raise ApiError(
            404, f"scenario {scenario_id} has no results yet (status {rec.status})"
        )
    if fmt == "json":
        return flask.jsonify(_records(frame))
    filename = f"scenario-{scenario_id}-{which}.csv"
    body = csv_text(frame)
    record(_store(), "scenario.export", rec.id, via="api", file=filename)
    return flask.Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={filename}"},
    )


@api.get("/scenarios/<scenario_id>/centers")
def scenario_centers(scenario_id: str):
    """Per-site results of a scenario (``?format=csv`` for CSV)."""
    return _table(scenario_id, "centers")


@api.get("/scenarios/<scenario_id>/communes")
def scenario_communes(scenario_id: str):
    """Per-commune assignments of a scenario (``?format=csv`` for CSV)."""
    return _table(scenario_id, "communes")


@api.get("/scenarios/<scenario_id>/unserved")
def scenario_unserved(scenario_id: str):
    """The communes with demand no center serves in a scenario, most demand first
    (``?format=csv`` for CSV)."""
    return _table(scenario_id, "unserved")


@api.route("/", defaults={"rest": ""})
@api.route("/<path:rest>")
def not_found(rest: str):
    """Anything else under the prefix: a JSON 404 rather than the app's page."""
    raise ApiError(404, f"no such endpoint: {PREFIX}/{rest}")
