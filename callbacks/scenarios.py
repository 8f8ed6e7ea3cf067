"""Scenario workspace: the page, the panel's named inputs, the clicks on its map.

The screen's other callbacks: instant evaluation and map (``scenario_plan``),
optimisation and result (``scenario_run``), saved scenarios
(``scenario_library``), comparison (``scenario_compare``) and coverage curve
(``scenario_curve``). The work itself is :mod:`optimization.workspace`'s.
"""

from __future__ import annotations

from urllib.parse import parse_qs

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, html, no_update

from dashapp import ids, services
from dashapp.auth import current_user, requires
from dashapp.config import Config
from dashapp.context import current_config
from dashapp.i18n import t
from dashapp.parsing import BadIdError, BadInputError, parse_id
from data import planning, views
from data.scenarios import ScenarioStoreError, get_scenario, is_stale
from geo.display import first_overlapping
from layouts import maps as map_layout
from layouts.messages import bad_input_alert
from layouts.scenarios import invalid_alert, measure_texts, scenarios_page
from layouts.shell import hide_ids
from optimization.whatif import PanelError, WhatIf, added_site_code, measure_unit

STATE_CYCLE = {True: [None, "locked", "closed"], False: [None, "locked", "forbidden"]}


def panel(kind: type[Input] | type[State] = Input) -> dict:
    """The scenario panel as named dependencies, keyed as
    :meth:`optimization.whatif.WhatIf.from_panel` reads them.

    ``kind`` is ``Input`` for a callback that follows the panel, ``State`` for
    one that reads it on a click. A new dict each time: Dash merges into it.
    """
    return {
        "objective": kind(ids.SCN_OBJECTIVE, "value"),
        "new_centers": kind(ids.SCN_NEW, "value"),
        "budget": kind(ids.SCN_BUDGET, "value"),
        "closing_cost": kind(ids.SCN_CLOSING_COST, "value"),
        "module_size": kind(ids.SCN_MODULE_SIZE, "value"),
        "module_cost": kind(ids.SCN_MODULE_COST, "value"),
        "radius_km": kind(ids.SCN_RADIUS, "value"),
        "growth_pct": kind(ids.SCN_GROWTH, "value"),
        "years": kind(ids.SCN_YEARS, "value"),
        "growth_by_doc_pct": {
            "values": kind(ids.scn_growth_doc(ALL), "value"),
            "ids": State(ids.scn_growth_doc(ALL), "id"),
        },
        "capacity_change_pct": kind(ids.SCN_CAPACITY, "value"),
        "allow_closures": kind(ids.SCN_CLOSURES, "value"),
        "capacitated": kind(ids.SCN_CAPACITATED, "value"),
        "min_coverage_pct": kind(ids.SCN_MIN_COVERAGE, "value"),
        "max_distance_km": kind(ids.SCN_MAX_DISTANCE, "value"),
        "time_limit_s": kind(ids.SCN_TIME_LIMIT, "value"),
        "demand_source": kind(ids.SCN_DEMAND_SOURCE, "value"),
        "forecast_weeks": kind(ids.SCN_FORECAST_WEEKS, "value"),
        "period_start": kind(ids.SCN_PERIOD, "start_date"),
        "period_end": kind(ids.SCN_PERIOD, "end_date"),
        "doc_types": kind(ids.SCN_DOCS, "value"),
        "map_choices": kind(ids.SCN_SITES, "data"),
        "measure": kind(ids.SCN_MEASURE, "value"),
        "decay": kind(ids.SCN_DECAY, "value"),
        "decay_distance": kind(ids.SCN_DECAY_DISTANCE, "value"),
        "decay_exponent": kind(ids.SCN_DECAY_EXPONENT, "value"),
    }


def context_states() -> dict:
    """The dataset shown and the language, as named states."""
    return {"dataset_id": State(ids.DATASET, "data"), "lang": State(ids.LANG, "data")}


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
    store = services.get_store(config.database_url)
    sites = planning.site_count(store, dctx.info.id)
    if len(dctx.communes()) * sites > SCREEN_MAX_PAIRS:
        return dbc.Alert(
            t("scn.too_large", lang, communes=len(dctx.communes()), sites=sites),
            color="warning",
            className="mt-3",
            id="scn-too-large",
        )
    data_notes = data_notices(config, dctx, sites, lang)
    # with nothing to toggle yet, a click on the map adds a candidate site
    start = {} if sites else {"click_mode": "add"}
    zones = zone_options(dctx, lang)
    weeks = (
        (dctx.weeks[0].isoformat(), dctx.weeks[-1].isoformat()) if dctx.weeks else None
    )
    ws = services.workspace(config.database_url, dctx.info.id)
    roads = ws.has_roads()
    wanted = parse_qs((search or "").lstrip("?")).get("scenario", [None])[-1]
    if wanted is None:
        return scenarios_page(
            dctx.doc_types, lang, start, zones=zones, notices=data_notes, weeks=weeks,
            roads=roads,
        )  # fmt: skip
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
            roads=roads,
        )
    values, refused = saved_values(record, ws.network, start, lang)
    notices = [*refused, *data_notes]
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
        roads,
    )


def saved_values(record, network, start: dict, lang: str) -> tuple[dict, list]:
    """The panel's values of a saved scenario (its what-if over ``start``) and
    what to say about them.

    Rows are as untrusted as the browser: a what-if saved before drafts were
    checked, or written to the store by hand, is checked against ``network``
    as a panel is (:meth:`optimization.whatif.WhatIf.check`), so a forged list
    cannot make every visitor of the link wait. One that fails gives the
    defaults and a notice naming the fields.
    """
    params = record.params if isinstance(record.params, dict) else {}
    saved = params.get("whatif")
    if saved is None:
        return dict(start), []
    try:
        whatif = WhatIf.from_dict(saved).check(network)
    except PanelError as exc:
        unit = measure_unit(saved.get("measure") if isinstance(saved, dict) else None)
        alert = invalid_alert(exc, lang, unit, "scn.saved_invalid", "scn-saved-invalid")
        return dict(start), [alert]
    return {**start, **whatif.to_dict()}, []


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
    unknown = services.workspace(config.database_url, dctx.info.id).demand_unknown
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
    store = services.get_store(config.database_url)
    no_capacity = planning.centers_without_capacity(store, dctx.info.id)
    if no_capacity:
        notes.append(
            dbc.Alert(
                t("scn.unknown_capacity", lang, n=no_capacity),
                color="info",
                className="py-2 small",
                id="scn-unknown-capacity",
            )
        )
    return notes


def map_area_view(dctx, zone) -> dict:
    """The scenario map's first view: the zone chosen, else the whole country,
    fitted (:func:`layouts.maps.fit_view`; an unknown zone reads as none)."""
    area = (
        dctx.units_at(0)
        if not zone or dctx.unit(zone) is None
        else dctx.units[dctx.units["code"] == zone]
    )
    return map_layout.fit_view(*area.total_bounds)


def aimed_site(ws, code: str, zoom: float) -> str:
    """The site a click on ``code`` selects: where an existing center's marker
    overlaps the clicked candidate's at the map's ``zoom``, the existing center."""
    i = ws.site_ids.index(code)
    existing = [i < ws.n_existing for i in range(len(ws.site_ids))]
    size = [
        map_layout.SITE_SIZES["open" if e else "other"] + map_layout.HALO_PX
        for e in existing
    ]
    j = first_overlapping(ws.site_lon, ws.site_lat, size, i, zoom, existing)
    return ws.site_ids[j]


@requires("view")
def toggle_site(click, n_reset, mode, state, dataset_id, relayout=None, zone=None):
    """A map click cycles a site's state, or adds a site in the clicked commune.

    Where an existing center and a candidate overlap at the zoom the map shows
    (:func:`layouts.maps.shown_zoom` of its ``relayoutData``), the existing
    center is the one selected (:func:`aimed_site`).
    """
    state = {
        "sites": dict((state or {}).get("sites", {})),
        "added": list((state or {}).get("added", [])),
    }
    if ctx.triggered_id == ids.SCN_SITES_RESET:
        return {"sites": {}, "added": []}
    point = ((click or {}).get("points") or [{}])[0]
    ws = services.workspace(current_config().database_url, dataset_id)
    if mode == "add" and point.get("location"):
        if point["location"] not in state["added"]:
            state["added"].append(point["location"])
        return state
    code = point.get("id")
    existing = set(ws.site_ids[: ws.n_existing])
    if code is None or (code not in ws.site_ids and not str(code).startswith("NEW-")):
        return no_update
    if str(code).startswith("NEW-"):
        state["added"] = [c for c in state["added"] if added_site_code(c) != code]
        state["sites"].pop(code, None)
        return state
    dctx = services.context(current_config().database_url, dataset_id)
    zoom = map_layout.shown_zoom(relayout, map_area_view(dctx, zone))
    code = aimed_site(ws, code, zoom)
    cycle = STATE_CYCLE[code in existing]
    nxt = cycle[(cycle.index(state["sites"].get(code)) + 1) % len(cycle)]
    if nxt is None:
        state["sites"].pop(code, None)
    else:
        state["sites"][code] = nxt
    return state


@requires("view")
def measure_labels(measure, dataset_id, lang):
    """The radius, max.-distance and decay-distance labels in the measure's unit
    (km or min), the note on the measure (what a travel time is, or why it is not
    offered) and the map's legend."""
    try:
        ws = services.workspace(current_config().database_url, dataset_id)
    except BadInputError:  # a forged dataset: the evaluation says why
        return (no_update,) * 5
    return measure_texts(measure, ws.has_roads(), lang)


def register(app) -> None:
    app.callback(
        Output(ids.SCN_RADIUS_LABEL, "children"),
        Output(ids.SCN_MAX_DISTANCE_LABEL, "children"),
        Output(ids.SCN_MEASURE_NOTE, "children"),
        Output(ids.SCN_MAP_LEGEND, "children"),
        Output(ids.SCN_DECAY_DISTANCE_LABEL, "children"),
        Input(ids.SCN_MEASURE, "value"),
        State(ids.DATASET, "data"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(measure_labels)
    app.callback(
        Output(ids.SCN_SITES, "data"),
        Input(ids.SCN_MAP, "clickData"),
        Input(ids.SCN_SITES_RESET, "n_clicks"),
        State(ids.SCN_CLICK_MODE, "value"),
        State(ids.SCN_SITES, "data"),
        State(ids.DATASET, "data"),
        State(ids.SCN_MAP, "relayoutData"),
        State(ids.SCN_ZONE, "value"),
        prevent_initial_call=True,
    )(toggle_site)


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


def result_record(config: Config, result):
    """The saved scenario the result store names (``None`` when it names none).

    Raises :class:`dashapp.parsing.BadInputError` or
    :class:`data.scenarios.ScenarioStoreError`.
    """
    key = result_id(result)
    if key is None:
        return None
    return services.saved_scenario(config.database_url, key)
