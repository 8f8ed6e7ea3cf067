"""Scenario workspace: map choices, instant evaluation, background solve, result."""

from __future__ import annotations

import datetime as dt
import functools
import threading
import time
from urllib.parse import parse_qs

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import numpy as np
from dash import ALL, Input, Output, State, ctx, html, no_update

from dashapp import current_config, ids, services
from dashapp.config import Config
from dashapp.i18n import t
from data.scenarios import (
    ScenarioStoreError,
    get_scenario,
    is_stale,
    record_from_result,
    save_scenario,
)
from geo.distance import distance_matrix_km
from layouts import figures
from layouts.scenarios import kpi_table, scenarios_page, site_choices
from optimization.scenario import ScenarioError, load_spec, run_scenario
from optimization.whatif import (
    WhatIf,
    added_site_code,
    apply_to_network,
    build_spec,
    demand_vector,
    evaluate_as_is,
)

WHATIF_INPUTS = [
    Input(ids.SCN_OBJECTIVE, "value"),
    Input(ids.SCN_NEW, "value"),
    Input(ids.SCN_BUDGET, "value"),
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


def render(search: str | None, lang: str, dataset_id):
    """The page (route ``/scenarios``); ``?scenario=ID`` reopens a saved scenario."""
    config = current_config()
    dctx = services.context(config.database_url, dataset_id)
    wanted = parse_qs((search or "").lstrip("?")).get("scenario", [None])[-1]
    if wanted is None:
        return scenarios_page(dctx.doc_types, lang)
    store = services.get_store(config.database_url)
    try:
        record = get_scenario(store, int(wanted))
    except (ValueError, ScenarioStoreError):
        notice = dbc.Alert(t("scn.not_found", lang, id=wanted), color="warning")
        return scenarios_page(dctx.doc_types, lang, notices=[notice])
    values = record.params.get("whatif") or {}
    notices = []
    if is_stale(store, record):
        notices.append(
            dbc.Alert(
                t("scn.stale", lang, version=record.dataset_version),
                color="warning",
                id="scn-stale-alert",
            )
        )
    return scenarios_page(
        dctx.doc_types, lang, values, record.id if record.has_results else None, notices
    )


def whatif_from_inputs(
    objective,
    new,
    budget,
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
    sites_state,
    doc_ids,
) -> WhatIf:
    """Read the panel into a :class:`WhatIf` (raises ScenarioError on bad values)."""

    def num(value, default=None):
        return default if value in (None, "") else value

    by_doc = {
        i["index"]: float(v)
        for i, v in zip(doc_ids or [], doc_growth or [], strict=False)
        if v not in (None, "", 0)
    }
    state = sites_state or {}
    return WhatIf(
        objective=objective or "distance",
        new_centers=num(new, 0),
        budget=num(budget),
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


def _plan(base, whatif: WhatIf, forecast=None):
    """Network, demand, distances and site list of the plan, added sites included."""
    network = apply_to_network(base.network, whatif)
    demand = demand_vector(base.demand_by_doc, whatif, forecast)
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


def toggle_site(click, n_reset, mode, state, dataset_id):
    """A map click cycles a site's state, or adds a site in the clicked commune."""
    state = {
        "sites": dict((state or {}).get("sites", {})),
        "added": list((state or {}).get("added", [])),
    }
    if ctx.triggered_id == ids.SCN_SITES_RESET:
        return {"sites": {}, "added": []}
    point = ((click or {}).get("points") or [{}])[0]
    base = services.scenario_base(current_config().database_url, int(dataset_id))
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


def evaluate_plan(*args):
    """Instant KPIs of the network as set against today's, and the choice list."""
    *values, doc_ids, dataset_id, lang = args
    base = services.scenario_base(current_config().database_url, int(dataset_id))
    try:
        whatif = whatif_from_inputs(*values, doc_ids)
        forecast = forecast_vector(current_config(), int(dataset_id), base, whatif)
        network, demand, cost, site_ids, capacity = _plan(base, whatif, forecast)
    except ScenarioError as exc:
        alert = dbc.Alert(t("scn.invalid", lang, reason=str(exc)), color="warning")
        return no_update, no_update, alert
    today = WhatIf(radius_km=whatif.radius_km)
    _, _, before = evaluate_as_is(
        base.cost,
        demand_vector(base.demand_by_doc, today),
        list(base.site_ids),
        np.r_[
            np.asarray(base.network.center_capacity, float),
            np.asarray(base.network.candidate_capacity, float),
        ],
        base.n_existing,
        today,
    )
    _, _, after = evaluate_as_is(
        cost, demand, site_ids, capacity, base.n_existing, whatif
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
    table = html.Div([table, note])
    return table, site_choices(whatif.sites, list(whatif.added), names, lang), []


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


_STATUS_KEYS = {
    f"scn.site_status.{s}" for s in ("kept", "closed", "opened", "not_opened")
}


def _plan_states(site_ids, n_existing, whatif):
    out = []
    for i, code in enumerate(site_ids):
        state = whatif.sites.get(code)
        out.append(state or ("existing" if i < n_existing else "candidate"))
    return out


def draw_map(view, result, *args):
    """Communes by distance to their center; sites by state (plan or proposal).

    Always a whole figure: the map's inputs change together with its view, and a
    Patch racing the first draw would have nothing to patch.
    """
    *values, doc_ids, dataset_id, lang = args
    config = current_config()
    dctx = services.context(config.database_url, dataset_id)
    base = services.scenario_base(config.database_url, int(dataset_id))
    try:
        whatif = whatif_from_inputs(*values, doc_ids)
        forecast = forecast_vector(config, int(dataset_id), base, whatif)
        network, demand, cost, site_ids, capacity = _plan(base, whatif, forecast)
    except ScenarioError:
        return no_update
    lon = np.r_[np.asarray(network.center_lon), np.asarray(network.candidate_lon)]
    lat = np.r_[np.asarray(network.center_lat), np.asarray(network.candidate_lat)]
    names = [*network.center_names, *network.candidate_names]
    record = _record(config, result) if view == "result" else None
    if record is not None and record.communes is not None:
        dist = record.communes["distance"].to_numpy(dtype=float)
        status = dict(
            zip(record.centers["site_id"], record.centers["status"], strict=True)
        )
        states = [status.get(s, "not_opened") for s in site_ids]
    else:
        assignment, _, _ = evaluate_as_is(
            cost, demand, site_ids, capacity, base.n_existing, whatif
        )
        dist = np.where(
            assignment >= 0,
            cost[np.arange(len(demand)), np.maximum(assignment, 0)],
            np.nan,
        )
        states = _plan_states(site_ids, base.n_existing, whatif)
    markers = _markers(site_ids, lon, lat, names, states, lang)
    z = [None if not np.isfinite(d) else round(float(d), 1) for d in dist]
    geojson = services.level_geojson(
        config.database_url, dctx.info.id, dctx.commune_level
    )
    codes = [str(c) for c in network.commune_ids]
    chor = {
        "z": z,
        "customdata": [[n] for n in network.commune_names],
        "hovertemplate": "<b>%{customdata[0]}</b><br>%{z} km<extra></extra>",
        "colorscale": [
            [0.0, "#ffffcc"],
            [0.35, "#fed976"],
            [0.65, "#fd8d3c"],
            [1.0, "#bd0026"],
        ],
        "colorbar": {"title": {"text": "km"}},
    }
    centers = {
        **markers,
        "hovertemplate": "<b>%{customdata[0]}</b><br>%{customdata[1]}<extra></extra>",
    }
    view_box = dctx.units_at(0).total_bounds
    from geo.display import view_for_bounds

    return figures.map_figure(
        geojson,
        codes,
        chor,
        centers,
        view_for_bounds(*view_box),
        lang,
        config.basemap_style,
        uirevision="scenario",
    )


def _record(config: Config, result):
    if not result or "id" not in result:
        return None
    return get_scenario(services.get_store(config.database_url), int(result["id"]))


def run_optimisation(config: Config, set_progress, n_clicks, *args):
    """Solve the scenario in the background; save it; return its id and status."""
    *values, doc_ids, dataset_id, lang = args
    base = services.scenario_base(config.database_url, int(dataset_id))
    try:
        whatif = whatif_from_inputs(*values, doc_ids)
        forecast = forecast_vector(config, int(dataset_id), base, whatif)
        network, demand, _, _, _ = _plan(base, whatif, forecast)
        spec = load_spec(build_spec(whatif, base.n_existing))
    except ScenarioError as exc:
        return None, dbc.Alert(t("scn.invalid", lang, reason=str(exc)), color="warning")
    outcome: dict = {}

    def solve():
        try:
            outcome["result"] = run_scenario(spec, network, demand=demand)
        except ScenarioError as exc:
            outcome["error"] = str(exc)

    worker = threading.Thread(target=solve, daemon=True)
    started = time.perf_counter()
    worker.start()
    while worker.is_alive():
        set_progress(
            t("scn.running", lang, seconds=f"{time.perf_counter() - started:.0f}")
        )
        worker.join(0.5)
    set_progress("")
    if "error" in outcome:
        return None, dbc.Alert(
            t("scn.failed", lang, reason=outcome["error"]), color="danger"
        )
    result = outcome["result"]
    record = save_run(config, int(dataset_id), whatif, spec, result)
    return {"id": record.id}, status_alert(result.report, lang)


def save_run(config: Config, dataset_id: int, whatif: WhatIf, spec, result):
    """Save a run under a fresh automatic name (renamed later by the planner)."""
    store = services.get_store(config.database_url)
    stem = f"Scénario {dt.datetime.now():%Y-%m-%d %H:%M:%S}"
    params = {"whatif": whatif.to_dict(), "spec": spec.to_dict()}
    for n in range(1, 100):
        name = stem if n == 1 else f"{stem} ({n})"
        try:
            return save_scenario(
                store, dataset_id, name, params, **record_from_result(result)
            )
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


def show_result(result, lang):
    """KPI deltas and the per-center and per-commune tables of the last run."""
    record = _record(current_config(), result)
    if record is None or record.summary is None:
        return html.P(t("scn.no_result", lang), className="text-muted"), [], []
    kpis = record.summary.get("kpis", {})
    deltas = kpi_table(
        kpis.get("before", {}),
        kpis.get("after", {}),
        lang,
        (t("scn.today_nearest", lang), t("scn.proposal", lang)),
    )
    centers = record.centers.copy()
    centers["status_label"] = [
        t(f"scn.site_status.{s}", lang) if f"scn.site_status.{s}" in _STATUS_KEYS else s
        for s in centers["status"]
    ]
    centers["utilisation_pct"] = (centers["utilisation"] * 100).round(1)
    # changes first: what the planner has to decide on
    order = {"opened": 0, "closed": 1, "kept": 2, "not_opened": 3}
    centers = centers.sort_values("status", key=lambda s: s.map(order), kind="stable")
    center_cols = [
        {"field": "site_id", "headerName": t("scn.col.site", lang), "width": 110},
        {"field": "name", "headerName": t("scn.col.name", lang), "minWidth": 220},
        {"field": "status_label", "headerName": t("scn.col.status", lang)},
        {
            "field": "capacity",
            "headerName": t("scn.col.capacity", lang),
            "valueFormatter": {"function": "d3.format(',.0f')(params.value)"},
        },
        {
            "field": "assigned_demand",
            "headerName": t("scn.col.demand", lang),
            "valueFormatter": {"function": "d3.format(',.0f')(params.value)"},
        },
        {"field": "utilisation_pct", "headerName": t("scn.col.utilisation", lang)},
        {"field": "communes", "headerName": t("scn.col.communes", lang)},
    ]
    changed = {
        "function": "params.data.status !== 'kept' && "
        "params.data.status !== 'not_opened'"
    }
    centers_grid = dag.AgGrid(
        id=ids.SCN_CENTERS_GRID + "-table",
        rowData=centers[centers["status"] != "not_opened"].to_dict("records"),
        columnDefs=center_cols,
        defaultColDef={"sortable": True, "filter": True, "resizable": True},
        rowClassRules={"table-warning fw-semibold": changed},
        dashGridOptions={"pagination": True, "paginationPageSize": 20},
        style={"height": "420px"},
    )
    communes = record.communes.copy()
    commune_cols = [
        {"field": "commune_id", "headerName": t("scn.col.commune", lang), "width": 130},
        {"field": "name", "headerName": t("scn.col.name", lang), "minWidth": 200},
        {"field": "site_id_before", "headerName": t("scn.col.before", lang)},
        {"field": "site_id", "headerName": t("scn.col.after", lang)},
        {
            "field": "distance_before",
            "headerName": t("scn.col.distance_before", lang),
            "valueFormatter": {"function": "d3.format('.1f')(params.value)"},
        },
        {
            "field": "distance",
            "headerName": t("scn.col.distance_after", lang),
            "valueFormatter": {"function": "d3.format('.1f')(params.value)"},
        },
    ]
    moved = {"function": "params.data.site_id !== params.data.site_id_before"}
    communes_grid = dag.AgGrid(
        id=ids.SCN_COMMUNES_GRID + "-table",
        rowData=communes.to_dict("records"),
        columnDefs=commune_cols,
        defaultColDef={"sortable": True, "filter": True, "resizable": True},
        rowClassRules={"table-warning": moved},
        dashGridOptions={"pagination": True, "paginationPageSize": 20},
        style={"height": "420px"},
    )
    return (
        deltas,
        [html.H6(t("scn.centers_table", lang)), centers_grid],
        [html.H6(t("scn.communes_table", lang)), communes_grid],
    )


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
        *WHATIF_STATES,
        *CONTEXT_STATES,
    )(evaluate_plan)
    app.callback(
        Output(ids.SCN_MAP, "figure"),
        Input(ids.SCN_VIEW, "value"),
        Input(ids.SCN_RESULT, "data"),
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
        State(ids.LANG, "data"),
    )(show_result)
