"""Scenario workspace: map choices, instant evaluation, background solve, result."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import threading
import time
from urllib.parse import parse_qs

import dash_bootstrap_components as dbc
import numpy as np
from dash import ALL, Input, Output, State, ctx, html, no_update

from dashapp import current_config, ids, services
from dashapp.auth import current_user, requires
from dashapp.auth import record as record_event
from dashapp.config import Config
from dashapp.i18n import t
from dashapp.parsing import BadIdError, BadInputError, parse_id, shown_value
from data import views
from data.scenarios import (
    ScenarioStoreError,
    get_scenario,
    is_stale,
    record_from_result,
    save_scenario,
)
from geo.display import view_for_bounds
from geo.distance import distance_matrix_km
from layouts import figures
from layouts.messages import bad_input_alert
from layouts.scenarios import (
    centers_grid,
    communes_grid,
    kpi_table,
    scenarios_page,
    site_choices,
)
from layouts.shell import hide_ids
from optimization.results import network_kpis
from optimization.scenario import (
    NoDemandError,
    ScenarioError,
    load_spec,
    run_scenario,
)
from optimization.solver import SolveProgress
from optimization.whatif import (
    WhatIf,
    added_site_code,
    apply_to_network,
    build_spec,
    demand_vector,
    evaluate_as_is,
    with_unknown,
)

log = logging.getLogger(__name__)

WHATIF_INPUTS = [
    Input(ids.SCN_OBJECTIVE, "value"),
    Input(ids.SCN_NEW, "value"),
    Input(ids.SCN_BUDGET, "value"),
    Input(ids.SCN_CLOSING_COST, "value"),
    Input(ids.SCN_MODULE_SIZE, "value"),
    Input(ids.SCN_MODULE_COST, "value"),
    Input(ids.SCN_RADIUS, "value"),
    Input(ids.SCN_GROWTH, "value"),
    Input(ids.SCN_YEARS, "value"),
    Input(ids.scn_growth_doc(ALL), "value"),
    Input(ids.SCN_CAPACITY, "value"),
    Input(ids.SCN_CLOSURES, "value"),
    Input(ids.SCN_CAPACITATED, "value"),
    Input(ids.SCN_MIN_COVERAGE, "value"),
    Input(ids.SCN_MAX_DISTANCE, "value"),
    Input(ids.SCN_TIME_LIMIT, "value"),
    Input(ids.SCN_DEMAND_SOURCE, "value"),
    Input(ids.SCN_FORECAST_WEEKS, "value"),
    Input(ids.SCN_PERIOD, "start_date"),
    Input(ids.SCN_PERIOD, "end_date"),
    Input(ids.SCN_DOCS, "value"),
    Input(ids.SCN_SITES, "data"),
]
WHATIF_STATES = [State(ids.scn_growth_doc(ALL), "id")]
CONTEXT_STATES = [State(ids.DATASET, "data"), State(ids.LANG, "data")]
STATE_CYCLE = {True: [None, "locked", "closed"], False: [None, "locked", "forbidden"]}
SITE_COLORS = {
    "existing": "#2c7fb8",
    "locked": "#1a9850",
    "closed": "#d73027",
    "candidate": "#fdae61",
    "forbidden": "#252525",
    "opened": "#1a9850",
    "kept": "#2c7fb8",
    "not_opened": "#fdae61",
}


def zone_options(dctx, lang: str) -> list[dict]:
    """The units of each filter level, top first, as choices of the area shown.

    Named after the dataset's levels ("Région : Nord"); a country without a level
    between the nation and its communes has none (the whole country is shown).
    """
    options = []
    for level in views.filter_levels(dctx):
        name = dctx.level_name(level, lang)
        units = dctx.units_at(level).sort_values("name")
        options += [
            {"label": t("scn.zone.unit", lang, level=name, name=n), "value": c}
            for c, n in zip(units["code"], units["name"], strict=True)
        ]
    return options


# Above this many commune x site pairs the screen's dense distance matrix would not
# fit comfortably in memory (35,000 x 3,400 is ~1 GB): such countries are planned
# with `python -m dashapp optimize` (aggregation) until the screen plans by area.
SCREEN_MAX_PAIRS = 20_000_000


# controls a user without planner rights does not get (the server refuses them anyway)
PLANNER_CONTROLS = (
    ids.SCN_RUN,
    ids.SCN_CANCEL,
    ids.SCN_SAVE,
    ids.SCN_NAME,
    ids.SCN_AUTHOR,
    ids.SCN_DUPLICATE,
    ids.SCN_DELETE,
    ids.SCN_UNDO,
    ids.SCN_CURVE_RUN,
    ids.SCN_EXPORT_CSV,
    ids.SCN_EXPORT_XLSX,
    ids.SCN_EXPORT_GEOJSON,
    ids.SCN_COMPARE_EXPORT,
)


def render(search: str | None, lang: str, dataset_id):
    """The page (route ``/scenarios``), read-only for users who may not plan."""
    page = _page(search, lang, dataset_id)
    if current_user().can("scenario.run"):
        return page
    return html.Div(
        [
            dbc.Alert(t("scn.read_only", lang), color="info", className="py-2 mt-2",
                      id="scn-read-only"),
            hide_ids(page, PLANNER_CONTROLS),
        ]
    )  # fmt: skip


def _page(search: str | None, lang: str, dataset_id):
    """The page (route ``/scenarios``); ``?scenario=ID`` reopens a saved scenario."""
    config = current_config()
    dctx = services.context(config.database_url, dataset_id)
    sites = (
        services.get_store(config.database_url)
        .read_frame(
            "SELECT (SELECT COUNT(*) FROM service_centers WHERE dataset_id = :d) + "
            "(SELECT COUNT(*) FROM candidate_sites WHERE dataset_id = :d) AS n",
            {"d": dctx.info.id},
        )["n"]
        .iloc[0]
    )
    pairs = len(dctx.communes()) * int(sites)
    if pairs > SCREEN_MAX_PAIRS:
        return dbc.Alert(
            t("scn.too_large", lang, communes=len(dctx.communes()), sites=int(sites)),
            color="warning",
            className="mt-3",
            id="scn-too-large",
        )
    data_notes = data_notices(config, dctx, int(sites), lang)
    # with nothing to toggle yet, a click on the map adds a candidate site
    start = {} if int(sites) else {"click_mode": "add"}
    zones = zone_options(dctx, lang)
    weeks = (
        (dctx.weeks[0].isoformat(), dctx.weeks[-1].isoformat()) if dctx.weeks else None
    )
    wanted = parse_qs((search or "").lstrip("?")).get("scenario", [None])[-1]
    if wanted is None:
        return scenarios_page(
            dctx.doc_types, lang, start, zones=zones, notices=data_notes, weeks=weeks
        )
    store = services.get_store(config.database_url)
    try:
        record = get_scenario(store, parse_id(wanted, "scenario"))
    except (BadInputError, ScenarioStoreError) as exc:
        notice = (
            bad_input_alert(exc, lang, id="scn-bad-id")
            if isinstance(exc, BadInputError)
            else dbc.Alert(t("scn.not_found", lang, id=wanted), color="warning")
        )
        return scenarios_page(
            dctx.doc_types,
            lang,
            start,
            zones=zones,
            notices=[notice, *data_notes],
            weeks=weeks,
        )
    values = {**start, **(record.params.get("whatif") or {})}
    notices = list(data_notes)
    if is_stale(store, record):
        notices.append(
            dbc.Alert(
                t("scn.stale", lang, version=record.dataset_version),
                color="warning",
                id="scn-stale-alert",
            )
        )
    return scenarios_page(
        dctx.doc_types,
        lang,
        values,
        record.id if record.has_results else None,
        zones,
        notices,
        weeks,
    )


def data_notices(config: Config, dctx, n_sites: int, lang: str) -> list:
    """What the page assumes where the dataset is incomplete, said on top.

    A country without any site yet (how to add some), demand estimated from
    population (no operations), communes whose population (so demand) is unknown,
    or no demand at all, centers without a known capacity (unlimited).
    """
    notes = []
    if not n_sites:
        notes.append(
            dbc.Alert(t("scn.new_country", lang), color="info", id="scn-no-sites")
        )
    unknown = services.scenario_base(config.database_url, dctx.info.id).demand_unknown
    if unknown.all():
        notes.append(
            dbc.Alert(
                t("scn.no_demand.unknown", lang, n=len(unknown)),
                color="warning",
                id="scn-no-demand",
            )
        )
    elif not dctx.weeks:
        notes.append(
            dbc.Alert(
                t("scn.estimated_demand", lang),
                color="info",
                className="py-2 small",
                id="scn-estimated-demand",
            )
        )
    if unknown.any() and not unknown.all():
        notes.append(
            dbc.Alert(
                t("scn.unknown_population", lang, n=int(unknown.sum()),
                  total=len(unknown)),
                color="warning",
                className="py-2 small",
                id="scn-unknown-population",
            )
        )  # fmt: skip
    unknown = int(
        services.get_store(config.database_url)
        .read_frame(
            "SELECT COUNT(*) AS n FROM service_centers WHERE dataset_id = :d AND "
            "NOT capacity_week > 0 AND status NOT IN ('closed', 'inactive')",
            {"d": dctx.info.id},
        )["n"]
        .iloc[0]
    )
    if unknown:
        notes.append(
            dbc.Alert(
                t("scn.unknown_capacity", lang, n=unknown),
                color="info",
                className="py-2 small",
                id="scn-unknown-capacity",
            )
        )
    return notes


def whatif_from_inputs(
    objective,
    new,
    budget,
    closing_cost,
    module_size,
    module_cost,
    radius,
    growth,
    years,
    doc_growth,
    capacity,
    closures,
    capacitated,
    min_cov,
    max_dist,
    time_limit,
    demand_source,
    forecast_weeks,
    period_start,
    period_end,
    doc_types,
    sites_state,
    doc_ids,
) -> WhatIf:
    """Read the panel into a :class:`WhatIf` (raises ScenarioError on bad values)."""

    def num(value, default=None):
        return default if value in (None, "") else value

    def number(value):
        try:
            return float(value)
        except (TypeError, ValueError):
            return value  # WhatIf refuses it by name

    by_doc = {
        str(i.get("index")) if isinstance(i, dict) else shown_value(i): number(v)
        for i, v in zip(doc_ids or [], doc_growth or [], strict=False)
        if v not in (None, "", 0)
    }
    state = sites_state or {}
    if not (
        isinstance(state, dict)
        and isinstance(state.get("sites", {}), dict)
        and isinstance(state.get("added", []), list)
    ):
        raise ScenarioError(
            f"site choices should be {{'sites': {{...}}, 'added': [...]}}, got "
            f"{shown_value(state)}"
        )
    return WhatIf(
        objective=objective or "distance",
        new_centers=num(new, 0),
        budget=num(budget),
        closing_cost=num(closing_cost, 0.0),
        module_size=num(module_size),
        module_cost=num(module_cost, 0.0),
        radius_km=num(radius, 20.0),
        growth_pct=num(growth, 0.0),
        years=num(years, 1),
        growth_by_doc_pct=by_doc,
        capacity_change_pct=num(capacity, 0.0),
        allow_closures=bool(closures),
        capacitated=bool(capacitated),
        min_coverage_pct=num(min_cov),
        max_distance_km=num(max_dist),
        time_limit_s=num(time_limit, 30.0),
        demand_source=demand_source or "today",
        forecast_weeks=num(forecast_weeks, 12),
        # the date part only: WhatIf checks it, and nothing after it reaches pandas
        period_start=str(period_start)[:10] if period_start else None,
        period_end=str(period_end)[:10] if period_end else None,
        doc_types=tuple(doc_types or ()),
        sites=dict(state.get("sites", {})),
        added=tuple(state.get("added", [])),
    )


def forecast_vector(config: Config, dataset_id: int, base, whatif: WhatIf):
    """Forecast weekly demand per commune in the network's order (None for today's).

    The department forecasts behind it are computed once per dataset (a few
    seconds) and cached by the forecasts screen's service.
    """
    if whatif.demand_source != "forecast":
        return None
    from dashapp.forecasting import demand_by_commune

    by_id = demand_by_commune(config, dataset_id, int(whatif.forecast_weeks))
    dctx = services.context(config.database_url, dataset_id)
    code_of = dict(zip(dctx.communes()["id"], dctx.communes()["code"], strict=True))
    by_code = {code_of[i]: v for i, v in by_id.items() if i in code_of}
    return np.array([by_code.get(str(c), 0.0) for c in base.network.commune_ids])


def _plan(base, whatif: WhatIf, forecast=None, url: str | None = None):
    """Network, demand, distances and site list of the plan, added sites included."""
    network = apply_to_network(base.network, whatif)
    by_doc = base.demand_by_doc
    if (whatif.period_start or whatif.period_end) and url:
        by_doc = services.period_demand(
            url, base.dataset_id, whatif.period_start, whatif.period_end
        )
    demand = demand_vector(by_doc, whatif, forecast)
    cost, site_ids = base.cost, list(base.site_ids)
    if whatif.added:
        extra = len(whatif.added)
        lon = np.asarray(network.candidate_lon)[-extra:]
        lat = np.asarray(network.candidate_lat)[-extra:]
        new = distance_matrix_km(network.lon, network.lat, lon, lat)
        cost = np.hstack([cost, new])
        site_ids += [added_site_code(c) for c in whatif.added]
    capacity = np.r_[
        np.asarray(network.center_capacity, float),
        np.asarray(network.candidate_capacity, float),
    ]
    return network, demand, cost, site_ids, capacity


@requires("view")
def toggle_site(click, n_reset, mode, state, dataset_id):
    """A map click cycles a site's state, or adds a site in the clicked commune."""
    state = {
        "sites": dict((state or {}).get("sites", {})),
        "added": list((state or {}).get("added", [])),
    }
    if ctx.triggered_id == ids.SCN_SITES_RESET:
        return {"sites": {}, "added": []}
    point = ((click or {}).get("points") or [{}])[0]
    base = services.scenario_base(current_config().database_url, dataset_id)
    if mode == "add" and point.get("location"):
        if point["location"] not in state["added"]:
            state["added"].append(point["location"])
        return state
    code = point.get("id")
    existing = set(base.site_ids[: base.n_existing])
    if code is None or (code not in base.site_ids and not str(code).startswith("NEW-")):
        return no_update
    if str(code).startswith("NEW-"):
        state["added"] = [c for c in state["added"] if added_site_code(c) != code]
        state["sites"].pop(code, None)
        return state
    cycle = STATE_CYCLE[code in existing]
    nxt = cycle[(cycle.index(state["sites"].get(code)) + 1) % len(cycle)]
    if nxt is None:
        state["sites"].pop(code, None)
    else:
        state["sites"][code] = nxt
    return state


def zone_masks(base, zone: str | None, site_ids: list[str], dataset_id, config=None):
    """Communes and sites (existing, candidate, added) inside the chosen area."""
    n = len(base.network.commune_ids)
    if not zone:
        return np.ones(n, dtype=bool), np.ones(len(site_ids), dtype=bool)
    config = config or current_config()
    dctx = services.context(config.database_url, dataset_id)
    if dctx.unit(zone) is None:
        return np.ones(n, dtype=bool), np.ones(len(site_ids), dtype=bool)
    under = set(dctx.communes().set_index("id").loc[dctx.communes_under(zone), "code"])
    rows = np.array([str(c) in under for c in base.network.commune_ids])
    communes = list(base.site_communes) + [
        str(s).removeprefix("NEW-") for s in site_ids[len(base.site_communes) :]
    ]
    return rows, np.array([c in under for c in communes])


def _today(base, whatif: WhatIf, url: str | None = None):
    """Today's network (no change) evaluated the same way, on today's demand of
    the same period and document types."""
    today = WhatIf(
        radius_km=whatif.radius_km,
        doc_types=whatif.doc_types,
        period_start=whatif.period_start,
        period_end=whatif.period_end,
    )
    capacity = np.r_[
        np.asarray(base.network.center_capacity, float),
        np.asarray(base.network.candidate_capacity, float),
    ]
    by_doc = base.demand_by_doc
    if (today.period_start or today.period_end) and url:
        by_doc = services.period_demand(
            url, base.dataset_id, today.period_start, today.period_end
        )
    demand = demand_vector(by_doc, today)
    assignment, open_mask, _ = evaluate_as_is(
        base.cost, demand, list(base.site_ids), capacity, base.n_existing, today
    )
    return demand, assignment, open_mask, capacity


@requires("view")
def evaluate_plan(*args):
    """Instant KPIs of the network as set against today's, and the choice list."""
    *values, zone, doc_ids, dataset_id, lang = args
    config = current_config()
    try:
        base = services.scenario_base(config.database_url, dataset_id)
    except BadInputError as exc:
        return no_update, no_update, bad_input_alert(exc, lang)
    dataset_id = base.dataset_id
    try:
        whatif = whatif_from_inputs(*values, doc_ids)
        forecast = forecast_vector(config, dataset_id, base, whatif)
        network, demand, cost, site_ids, capacity = _plan(
            base, whatif, forecast, config.database_url
        )
    except ScenarioError as exc:
        alert = dbc.Alert(t("scn.invalid", lang, reason=str(exc)), color="warning")
        return no_update, no_update, alert
    rows, site_rows = zone_masks(base, zone, site_ids, dataset_id)
    people = np.asarray(base.network.population, dtype=float)
    t_demand, t_assign, t_open, t_capacity = _today(base, whatif, config.database_url)
    before = network_kpis(
        base.cost,
        t_demand,
        t_open,
        t_assign,
        t_capacity,
        whatif.radius_km,
        rows=rows,
        site_rows=site_rows[: len(base.site_ids)],
        population=people,
    )
    assignment, open_mask, _ = evaluate_as_is(
        cost, demand, site_ids, capacity, base.n_existing, whatif
    )
    after = network_kpis(
        cost,
        demand,
        open_mask,
        assignment,
        capacity,
        whatif.radius_km,
        rows=rows,
        site_rows=site_rows,
        population=people,
    )
    names = dict(
        zip(
            base.site_ids,
            [*base.network.center_names, *base.network.candidate_names],
            strict=True,
        )
    )
    names.update(zip(base.network.commune_ids, base.network.commune_names, strict=True))
    table = kpi_table(
        before, after, lang, (t("scn.today", lang), t("scn.as_set", lang))
    )
    note = html.Small(t("scn.instant_rule", lang), className="text-muted")
    return (
        html.Div([table, note]),
        site_choices(whatif.sites, list(whatif.added), names, lang),
        [],
    )


def _markers(site_ids, lon, lat, names, states, lang):
    colors = [SITE_COLORS.get(s, "#999999") for s in states]
    sizes = [13 if s in ("existing", "kept", "locked", "opened") else 9 for s in states]
    return {
        "lon": list(map(float, lon)),
        "lat": list(map(float, lat)),
        "ids": site_ids,
        "marker.color": colors,
        "marker.size": sizes,
        "customdata": [
            [
                names[i],
                t(f"scn.site_status.{s}", lang)
                if f"scn.site_status.{s}" in _STATUS_KEYS
                else s,
            ]
            for i, s in enumerate(states)
        ],
    }


_SITE_STATUSES = ("kept", "closed", "opened", "not_opened")
_STATUS_KEYS = {f"scn.site_status.{s}" for s in _SITE_STATUSES}


def _plan_states(site_ids, n_existing, whatif):
    out = []
    for i, code in enumerate(site_ids):
        state = whatif.sites.get(code)
        out.append(state or ("existing" if i < n_existing else "candidate"))
    return out


DISTANCE_SCALE = [
    [0.0, "#ffffcc"],
    [0.35, "#fed976"],
    [0.65, "#fd8d3c"],
    [1.0, "#bd0026"],
]
# change in distance: shorter trips green, longer red, no change white (zmid=0)
CHANGE_SCALE = [[0.0, "#1a9850"], [0.5, "#ffffff"], [1.0, "#d73027"]]


def _distances(cost, assignment):
    if not cost.shape[1]:  # no site yet
        return np.full(len(assignment), np.nan)
    rows = np.arange(len(assignment))
    return np.where(assignment >= 0, cost[rows, np.maximum(assignment, 0)], np.nan)


@requires("view")
def draw_map(view, result, zone, color_by, *args):
    """Communes by distance (or its change) to their center; sites by state.

    Always a whole figure: the map's inputs change together with its view, and a
    Patch racing the first draw would have nothing to patch.
    """
    *values, doc_ids, dataset_id, lang = args
    config = current_config()
    dctx = services.context(config.database_url, dataset_id)
    base = services.scenario_base(config.database_url, dctx.info.id)
    try:
        whatif = whatif_from_inputs(*values, doc_ids)
        forecast = forecast_vector(config, base.dataset_id, base, whatif)
        network, demand, cost, site_ids, capacity = _plan(
            base, whatif, forecast, config.database_url
        )
    except ScenarioError:
        return no_update
    lon = np.r_[np.asarray(network.center_lon), np.asarray(network.candidate_lon)]
    lat = np.r_[np.asarray(network.center_lat), np.asarray(network.candidate_lat)]
    names = [*network.center_names, *network.candidate_names]
    try:
        record = _record(config, result) if view == "result" else None
    except (BadInputError, ScenarioStoreError):  # the result panel says why
        record = None
    if record is not None and record.communes is not None:
        dist = record.communes["distance"].to_numpy(dtype=float)
        before = record.communes["distance_before"].to_numpy(dtype=float)
        status = dict(
            zip(record.centers["site_id"], record.centers["status"], strict=True)
        )
        states = [status.get(s, "not_opened") for s in site_ids]
    else:
        assignment, _, _ = evaluate_as_is(
            cost, demand, site_ids, capacity, base.n_existing, whatif
        )
        dist = _distances(cost, assignment)
        before = _distances(base.cost, _today(base, whatif, config.database_url)[1])
        states = _plan_states(site_ids, base.n_existing, whatif)
    markers = _markers(site_ids, lon, lat, names, states, lang)
    change = color_by == "change"
    shown = dist - before if change else dist
    z = [None if not np.isfinite(d) else round(float(d), 1) for d in shown]
    geojson = services.level_geojson(
        config.database_url, dctx.info.id, dctx.commune_level
    )
    codes = [str(c) for c in network.commune_ids]
    chor = {
        "z": z,
        "customdata": [[n] for n in network.commune_names],
        "hovertemplate": "<b>%{customdata[0]}</b><br>%{z} km<extra></extra>",
        "colorscale": CHANGE_SCALE if change else DISTANCE_SCALE,
        "colorbar": {"title": {"text": "Δ km" if change else "km"}},
    }
    centers = {
        **markers,
        "hovertemplate": "<b>%{customdata[0]}</b><br>%{customdata[1]}<extra></extra>",
    }
    area = (
        dctx.units_at(0)
        if not zone or dctx.unit(zone) is None
        else dctx.units[dctx.units["code"] == zone]
    )
    fig = figures.map_figure(
        geojson,
        codes,
        chor,
        centers,
        view_for_bounds(*area.total_bounds),
        lang,
        config.basemap_style,
        uirevision=f"scenario-{zone}",
    )
    if change:
        span = max(
            1.0, float(np.nanmax(np.abs(shown))) if np.isfinite(shown).any() else 1.0
        )
        fig["data"][1].update(zmin=-span, zmax=span)
    return fig


def result_id(result) -> int | None:
    """The scenario id in the result store, ``None`` when it holds none.

    The store is the browser's copy of ``{"id": ID}``: anything else raises
    :class:`dashapp.parsing.BadInputError`.
    """
    if not result:
        return None
    if not isinstance(result, dict):
        raise BadIdError("scenario", result)
    return None if result.get("id") is None else parse_id(result["id"], "scenario")


def _record(config: Config, result):
    key = result_id(result)
    if key is None:
        return None
    return get_scenario(services.get_store(config.database_url), key)


@requires("scenario.run")
def run_optimisation(config: Config, set_progress, n_clicks, *args):
    """Solve the scenario in the background; save it; return its id and status."""
    *values, doc_ids, dataset_id, lang = args
    try:
        base = services.scenario_base(config.database_url, dataset_id)
    except BadInputError as exc:
        return None, bad_input_alert(exc, lang)
    try:
        whatif = whatif_from_inputs(*values, doc_ids)
        forecast = forecast_vector(config, base.dataset_id, base, whatif)
        network, demand, _, _, _ = _plan(base, whatif, forecast, config.database_url)
        spec = load_spec(build_spec(whatif, base.n_existing))
    except ScenarioError as exc:
        return None, dbc.Alert(t("scn.invalid", lang, reason=str(exc)), color="warning")
    # communes of unknown population: left out of the run, which says so
    demand = with_unknown(demand, None if forecast is not None else base.demand_unknown)
    outcome: dict = {}
    progress = SolveProgress(maximize=spec.model == "mclp")

    def solve():
        try:
            outcome["result"] = run_scenario(
                spec, network, demand=demand, progress=progress
            )
        except NoDemandError as exc:
            outcome["no_demand"] = exc
        except ScenarioError as exc:
            outcome["error"] = str(exc)
        except Exception as exc:  # shown to the planner rather than lost in the job
            log.exception("scenario solve failed")
            outcome["error"] = f"{type(exc).__name__}: {exc}"

    worker = threading.Thread(target=solve, daemon=True)
    started = time.perf_counter()
    worker.start()
    while worker.is_alive():
        seconds = time.perf_counter() - started
        set_progress(running_text(progress.snapshot(), seconds, lang))
        worker.join(0.5)
    set_progress("")
    if "no_demand" in outcome:
        exc = outcome["no_demand"]
        return None, dbc.Alert(
            t(f"scn.no_demand.{exc.reason}", lang, n=exc.communes),
            color="warning",
            id="scn-no-demand-run",
        )
    if "error" in outcome:
        return None, dbc.Alert(
            t("scn.failed", lang, reason=outcome["error"]), color="danger"
        )
    result = outcome["result"]
    record = save_run(config, base.dataset_id, whatif, spec, result, lang)
    return {"id": record.id}, status_alert(result.report, lang)


def running_text(snapshot: dict, seconds: float, lang: str) -> str:
    """Progress line of a running solve: time, then best plan, bound and gap.

    Each figure appears once the solver has it (``SolveProgress.snapshot``);
    the gap is a proven one.
    """
    text = t("scn.running", lang, seconds=f"{seconds:.0f}")
    parts = []
    if snapshot.get("objective") is not None:
        value = figures.fmt(snapshot["objective"], 1, lang)
        parts.append(t("scn.running.plan", lang, objective=value))
    if snapshot.get("bound") is not None:
        value = figures.fmt(snapshot["bound"], 1, lang)
        parts.append(t("scn.running.bound", lang, bound=value))
    if snapshot.get("gap") is not None:
        value = f"{figures.fmt(100 * snapshot['gap'], 2, lang)} %"
        parts.append(t("scn.running.gap", lang, gap=value))
    return " · ".join([text, *parts])


def save_run(
    config: Config, dataset_id: int, whatif: WhatIf, spec, result, lang: str = "fr"
):
    """Save a run under a fresh automatic name (renamed later by the planner)."""
    store = services.get_store(config.database_url)
    stem = t("scn.auto_name", lang, when=f"{dt.datetime.now():%Y-%m-%d %H:%M:%S}")
    params = {"whatif": whatif.to_dict(), "spec": spec.to_dict()}
    for n in range(1, 100):
        name = stem if n == 1 else f"{stem} ({n})"
        try:
            user = current_user()
            record = save_scenario(
                store,
                dataset_id,
                name,
                params,
                owner_id=user.id if user else None,
                **record_from_result(result),
            )
            record_event(store, "scenario.run", record.id, name=record.name)
            return record
        except ScenarioStoreError as exc:
            if exc.code != "name_taken":
                raise
    raise ScenarioStoreError(f"no free name for {stem!r}", "name_taken")


def status_alert(report, lang: str) -> dbc.Alert:
    """Solver status in words, with objective, bound, gap and time."""
    status = report.status
    key = f"scn.status.{status}"
    text = t(
        "scn.status",
        lang,
        status=t(key, lang) if key in _STATUS_TEXT else status,
        objective=figures.fmt(report.objective, 1, lang),
        bound=figures.fmt(report.bound, 1, lang),
        gap=f"{figures.fmt(100 * (report.gap or 0.0), 2, lang)} %",
        seconds=figures.fmt(report.build_seconds + report.solve_seconds, 2, lang),
    )
    color = "success" if status == "optimal" else "warning"
    return dbc.Alert(text, color=color, className="py-2 small", id="scn-status-alert")


_STATUS_TEXT = {
    f"scn.status.{s}" for s in ("optimal", "feasible", "infeasible", "no_solution")
}


def result_kpis(base, record, zone, dataset_id, config=None) -> tuple[dict, dict]:
    """Before/after KPIs of a saved result, for the whole country or one area.

    The country's are the engine's own summary; an area's are recomputed from the
    saved tables by the same function (``optimization.results.network_kpis``).
    Missing values are NaN.
    """
    kpis = record.summary.get("kpis", {})
    people = np.asarray(base.network.population, dtype=float)
    known = float(np.nansum(people))  # communes with a known population only
    before, after = (
        {k: np.nan if v is None else v for k, v in kpis.get(side, {}).items()}
        for side in ("before", "after")
    )
    if not zone:
        for values in (before, after):
            if "open_centers" in values:
                values["centers_per_100k"] = (
                    values["open_centers"] * 1e5 / known if known > 0 else np.nan
                )
        return before, after
    added = (record.params.get("whatif") or {}).get("added", [])
    site_ids = [*base.site_ids, *(f"NEW-{c}" for c in added)]
    cost = base.cost
    if added:
        index = {str(c): i for i, c in enumerate(base.network.commune_ids)}
        rows_added = [index[c] for c in added]
        lon, lat = np.asarray(base.network.lon), np.asarray(base.network.lat)
        cost = np.hstack(
            [
                cost,
                distance_matrix_km(
                    base.network.lon, base.network.lat, lon[rows_added], lat[rows_added]
                ),
            ]
        )
    position = {s: i for i, s in enumerate(site_ids)}
    communes = record.communes.set_index("commune_id").reindex(
        [str(c) for c in base.network.commune_ids]
    )
    centers = record.centers.set_index("site_id")
    status = centers["status"].reindex(site_ids)
    # NaN: capacity unknown (never overloaded), not 0 (overloaded by any demand)
    capacity = centers["capacity"].reindex(site_ids).to_numpy(float)
    demand = communes["demand"].fillna(0.0).to_numpy(float)
    rows, site_rows = zone_masks(base, zone, site_ids, dataset_id, config)

    def assignment(column):
        return np.array(
            [
                position.get(s, -1) if isinstance(s, str) else -1
                for s in communes[column]
            ]
        )

    open_after = status.isin(["kept", "opened"]).to_numpy()
    open_before = status.isin(["kept", "closed"]).to_numpy()
    radius = float(record.summary.get("scenario", {}).get("report_radius") or 20.0)
    z_before = network_kpis(
        cost,
        demand,
        open_before,
        assignment("site_id_before"),
        capacity,
        radius,
        rows=rows,
        site_rows=site_rows,
        population=people,
    )
    z_after = network_kpis(
        cost,
        demand,
        open_after,
        assignment("site_id"),
        capacity,
        radius,
        float(after.get("cost", 0.0)),
        rows=rows,
        site_rows=site_rows,
        population=people,
    )
    return z_before, z_after


@requires("view")
def show_result(result, zone, lang, dataset_id):
    """KPI deltas and the per-center and per-commune tables of the last run."""
    config = current_config()
    try:
        record = _record(config, result)
    except BadInputError as exc:
        return bad_input_alert(exc, lang, id="scn-bad-result"), [], []
    except ScenarioStoreError:
        shown = t("scn.not_found", lang, id=result_id(result))
        return dbc.Alert(shown, color="warning", className="py-2 small"), [], []
    if record is None or record.summary is None:
        return html.P(t("scn.no_result", lang), className="text-muted"), [], []
    base = services.scenario_base(config.database_url, int(record.dataset_id))
    before, after = result_kpis(base, record, zone, record.dataset_id, config)
    deltas = kpi_table(
        before, after, lang, (t("scn.today_nearest", lang), t("scn.proposal", lang))
    )
    left_out = record.summary.get("demand") or {}
    if left_out.get("unknown_communes"):
        deltas = html.Div(
            [
                dbc.Alert(
                    t("scn.demand_left_out", lang, n=left_out["unknown_communes"],
                      total=left_out["communes"]),
                    color="warning",
                    className="py-2 small",
                    id="scn-demand-left-out",
                ),
                deltas,
            ]
        )  # fmt: skip
    centers, communes = record.centers, record.communes
    if zone:
        added = [s for s in centers["site_id"] if str(s).startswith("NEW-")]
        site_ids = [*base.site_ids, *added]
        rows, site_rows = zone_masks(base, zone, site_ids, record.dataset_id, config)
        inside = np.asarray(base.network.commune_ids, dtype=str)[rows]
        communes = communes[communes["commune_id"].isin(inside)]
        centers = centers[centers["site_id"].isin(np.asarray(site_ids)[site_rows])]
    labels = {s: t(f"scn.site_status.{s}", lang) for s in _SITE_STATUSES}
    return (deltas, centers_grid(centers, labels, lang), communes_grid(communes, lang))


def register(app) -> None:
    config: Config = app.server.config["DASHAPP"]
    app.callback(
        Output(ids.SCN_SITES, "data"),
        Input(ids.SCN_MAP, "clickData"),
        Input(ids.SCN_SITES_RESET, "n_clicks"),
        State(ids.SCN_CLICK_MODE, "value"),
        State(ids.SCN_SITES, "data"),
        State(ids.DATASET, "data"),
        prevent_initial_call=True,
    )(toggle_site)
    app.callback(
        Output(ids.SCN_INSTANT, "children"),
        Output(ids.SCN_SITES_LIST, "children"),
        Output(ids.SCN_MESSAGES, "children"),
        *WHATIF_INPUTS,
        Input(ids.SCN_ZONE, "value"),
        *WHATIF_STATES,
        *CONTEXT_STATES,
    )(evaluate_plan)
    app.callback(
        Output(ids.SCN_MAP, "figure"),
        Input(ids.SCN_VIEW, "value"),
        Input(ids.SCN_RESULT, "data"),
        Input(ids.SCN_ZONE, "value"),
        Input(ids.SCN_COLOR_BY, "value"),
        *WHATIF_INPUTS,
        *WHATIF_STATES,
        *CONTEXT_STATES,
    )(draw_map)
    job = functools.update_wrapper(
        functools.partial(run_optimisation, config), run_optimisation
    )
    app.callback(
        Output(ids.SCN_RESULT, "data"),
        Output(ids.SCN_STATUS, "children"),
        Input(ids.SCN_RUN, "n_clicks"),
        *[State(i.component_id, i.component_property) for i in WHATIF_INPUTS],
        *WHATIF_STATES,
        *CONTEXT_STATES,
        background=True,
        running=[
            (Output(ids.SCN_RUN, "disabled"), True, False),
            (Output(ids.SCN_CANCEL, "disabled"), False, True),
        ],
        cancel=[Input(ids.SCN_CANCEL, "n_clicks")],
        progress=[Output(ids.SCN_PROGRESS, "children")],
        interval=300,  # poll the job every 0.3 s: the result shows sooner
        prevent_initial_call=True,
    )(job)
    app.callback(
        Output(ids.SCN_DELTAS, "children"),
        Output(ids.SCN_CENTERS_GRID, "children"),
        Output(ids.SCN_COMMUNES_GRID, "children"),
        Input(ids.SCN_RESULT, "data"),
        Input(ids.SCN_ZONE, "value"),
        State(ids.LANG, "data"),
        State(ids.DATASET, "data"),
    )(show_result)
