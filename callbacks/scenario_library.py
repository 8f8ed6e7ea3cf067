"""Scenario workspace, second half: save, reopen, share, export, compare, curve."""

from __future__ import annotations

import functools
import io
import json
import zipfile

import dash_bootstrap_components as dbc
import numpy as np
from dash import Input, Output, State, ctx, dcc, html, no_update, set_props
from dash.exceptions import PreventUpdate

from callbacks.scenarios import (
    WHATIF_INPUTS,
    WHATIF_STATES,
    _plan,
    forecast_vector,
    result_id,
    whatif_from_inputs,
)
from dashapp import current_config, ids, services
from dashapp.auth import current_user, require, requires
from dashapp.auth import record as record_event
from dashapp.config import Config
from dashapp.forecasting import results
from dashapp.i18n import STRINGS, t
from dashapp.parsing import BadInputError, parse_id, parse_ids, parse_number
from dashapp.share import share_url
from data import exports
from data.scenarios import (
    ScenarioStoreError,
    delete_scenario,
    duplicate_scenario,
    get_scenario,
    list_scenarios,
    restore_scenario,
    save_scenario,
    update_scenario,
)
from data.users import may_manage
from layouts.messages import bad_input_alert
from layouts.scenarios import scenario_small_map
from optimization.evaluate import evaluate_network
from optimization.inputs import SiteRules
from optimization.pmedian import PMedian
from optimization.scenario import NoDemandError, ScenarioError, known_demand
from optimization.whatif import open_mask_as_is, with_unknown

ERROR_KEYS = {"name_empty", "name_too_long", "name_taken", "unknown_id"}


def store_error(exc: ScenarioStoreError, lang: str) -> dbc.Alert:
    """A refused scenario operation in the user's language."""
    if exc.code in ERROR_KEYS:
        text = t(
            f"scn.err.{exc.code}",
            lang,
            **{k: v for k, v in exc.values.items() if k in ("length", "id")},
        )
    else:
        text = t("scn.err.other", lang, reason=str(exc))
    return dbc.Alert(text, color="warning", className="py-1 small mb-0")


def saved_options(store, lang: str) -> list[dict]:
    """Every saved scenario, newest first, older data versions flagged."""
    frame = list_scenarios(store)
    options = []
    for row in frame.itertuples():
        status = (
            t(f"scn.status.{row.status}", lang)
            if f"scn.status.{row.status}" in STRINGS
            else row.status
        )
        label = f"{row.name} · {status} · {row.updated_at:%Y-%m-%d %H:%M}"
        if row.stale:
            label += f" · {t('scn.list_stale', lang)}"
        options.append({"label": label, "value": int(row.id)})
    return options


@requires("view")
def share_link(result, lang: str) -> list:
    """A URL that reopens the scenario shown."""
    try:
        shown = result_id(result)
    except BadInputError:  # the result panel says why
        return []
    if shown is None:
        return []
    href = f"/scenarios?scenario={shown}"
    parts = [
        html.Span(t("scn.share", lang) + " "),
        html.A(href, href=href, id="scn-share-link"),
    ]
    return parts + _public_link(shown, lang)


def _public_link(scenario_id: int, lang: str, *, renew: bool = False) -> list:
    """The read-only link without account, for who may share this scenario."""
    config = current_config()
    store = services.get_store(config.database_url)
    user = current_user()
    try:
        record = get_scenario(store, scenario_id)
    except ScenarioStoreError:
        return []
    if not user.can("scenario.share") or not may_manage(user, record.owner_id):
        return []
    url = share_url(config, store, record.id, renew=renew)
    if renew:
        record_event(store, "scenario.share_revoke", record.id)
    return [
        html.Div(
            [
                html.Span(t("share.public", lang) + " "),
                html.A(url, href=url, id="scn-public-link", target="_blank"),
                " ",
                dbc.Button(
                    t("share.revoke", lang),
                    id=ids.SCN_SHARE_REVOKE,
                    size="sm",
                    color="link",
                    className="p-0 ms-1 align-baseline",
                ),
            ],
            className="mt-1",
        )
    ]


@requires("scenario.share")
def revoke_share_links(n_clicks, result, lang):
    """Draw a new share nonce: every link given before stops working."""
    if not n_clicks:
        raise PreventUpdate
    try:
        shown = result_id(result)
    except BadInputError:
        raise PreventUpdate from None
    if shown is None:
        raise PreventUpdate
    parts = share_link(result, lang)[:2]
    public = _public_link(shown, lang, renew=True)
    if not public:  # another user's scenario, or one deleted: nothing was revoked
        store = services.get_store(current_config().database_url)
        try:
            name = get_scenario(store, shown).name
        except ScenarioStoreError as exc:
            return [*parts, store_error(exc, lang)]
        text = t("scn.not_yours", lang, name=name)
        return [*parts, dbc.Alert(text, color="warning", className="py-1 small mb-0")]
    return [*parts, *public, html.Div(t("share.revoked", lang), className="text-muted")]


@requires("view")
def manage(
    n_save,
    n_dup,
    n_del,
    n_open,
    name,
    author,
    selected,
    result,
    whatif_values,
    lang,
    n_undo=None,
    deleted=None,
):
    """Save (name, author), duplicate, delete, undo a delete, or open.

    Returns the saved lists, a message, the result shown, the URL, the id of the
    scenario just deleted (for undo) and the undo button's style. Opening needs
    only ``view``; the rest needs ``scenario.save``, and changing or deleting a
    scenario needs to own it (or ``scenario.manage_any``), checked here.
    """
    store = services.get_store(current_config().database_url)
    user = current_user()
    trigger = ctx.triggered_id
    clicks = {
        ids.SCN_SAVE: n_save,
        ids.SCN_DUPLICATE: n_dup,
        ids.SCN_DELETE_CONFIRM: n_del,
        ids.SCN_OPEN: n_open,
        ids.SCN_UNDO: n_undo,
    }
    if not clicks.get(trigger):
        # the page being drawn also "triggers" its buttons: only a click acts
        trigger = None
    message, new_result, href = None, no_update, no_update
    just_deleted, undo_style = no_update, no_update
    if trigger not in (None, ids.SCN_OPEN):
        require("scenario.save")
    try:
        if trigger == ids.SCN_SAVE:
            current = result_id(result)
            if current is not None:
                _check_owner(user, get_scenario(store, current))
                record = update_scenario(
                    store, current, name=name or "", author=author or ""
                )
            else:
                info = store.active_dataset()
                record = save_scenario(
                    store,
                    info.id,
                    name or "",
                    {"whatif": whatif_values if isinstance(whatif_values, dict)
                     else {}},
                    author=author or "",
                    owner_id=user.id,
                )  # fmt: skip
                new_result = {"id": record.id}
            record_event(store, "scenario.save", record.id, name=record.name)
            message = dbc.Alert(
                t("scn.saved_ok", lang, name=record.name),
                color="success",
                className="py-1 small mb-0",
            )
        elif trigger in (ids.SCN_DUPLICATE, ids.SCN_DELETE_CONFIRM, ids.SCN_OPEN):
            if not selected:
                message = dbc.Alert(
                    t("scn.pick_first", lang),
                    color="secondary",
                    className="py-1 small mb-0",
                )
            elif trigger == ids.SCN_DUPLICATE:
                record = duplicate_scenario(
                    store, parse_id(selected, "scenario"), owner_id=user.id
                )
                record_event(store, "scenario.duplicate", record.id, name=record.name)
                message = dbc.Alert(
                    t("scn.duplicated", lang, name=record.name),
                    color="success",
                    className="py-1 small mb-0",
                )
            elif trigger == ids.SCN_DELETE_CONFIRM:
                picked = parse_id(selected, "scenario")
                record = get_scenario(store, picked)
                _check_owner(user, record)
                delete_scenario(store, picked)
                record_event(store, "scenario.delete", picked, name=record.name)
                just_deleted, undo_style = picked, {}
                if result_id(result) == picked:
                    new_result = None
                message = dbc.Alert(
                    t("scn.deleted", lang, name=record.name),
                    color="secondary",
                    className="py-1 small mb-0",
                )
            else:
                href = f"/scenarios?scenario={parse_id(selected, 'scenario')}"
        elif trigger == ids.SCN_UNDO and deleted is not None:
            picked = parse_id(deleted, "scenario")
            record = get_scenario(store, picked, include_deleted=True)
            _check_owner(user, record)
            record = restore_scenario(store, picked)
            record_event(store, "scenario.restore", picked, name=record.name)
            just_deleted, undo_style = None, {"display": "none"}
            message = dbc.Alert(
                t("scn.restored", lang, name=record.name),
                color="success",
                className="py-1 small mb-0",
            )
    except NotOwnerError as exc:
        message = dbc.Alert(
            t("scn.not_yours", lang, name=exc.name),
            color="warning",
            className="py-1 small mb-0",
        )
    except ScenarioStoreError as exc:
        message = store_error(exc, lang)
    except BadInputError as exc:
        message = bad_input_alert(exc, lang, className="py-1 small mb-0")
    options = saved_options(store, lang)
    return options, options, message, new_result, href, just_deleted, undo_style


class NotOwnerError(PermissionError):
    """A scenario that the user may neither change nor delete."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _check_owner(user, record) -> None:
    if not may_manage(user, record.owner_id):
        raise NotOwnerError(record.name)


@requires("view")
def refresh_lists(result, lang):
    """After a run is saved (or a scenario opened), list it among the saved ones."""
    options = saved_options(services.get_store(current_config().database_url), lang)
    return options, options


@requires("view")
def whatif_values(*values):
    """The panel as a plain dict (what a draft saves)."""
    *panel, doc_ids = values
    try:
        return whatif_from_inputs(*panel, doc_ids).to_dict()
    except Exception:  # a draft keeps what can be kept; the panel shows the error
        return {}


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@requires("scenario.export")
def export(n_csv, n_xlsx, n_geojson, result, lang):
    """Download the scenario shown: CSV (zip of four tables), Excel or GeoJSON."""
    config = current_config()
    store = services.get_store(config.database_url)
    try:
        shown = result_id(result)
    except BadInputError as exc:
        return no_update, bad_input_alert(exc, lang, className="py-1 small mb-0")
    if shown is None:
        return no_update, dbc.Alert(
            t("scn.nothing_to_export", lang),
            color="secondary",
            className="py-1 small mb-0",
        )
    try:
        record = get_scenario(store, shown)
    except ScenarioStoreError as exc:
        return no_update, store_error(exc, lang)
    if not record.has_results:
        return no_update, dbc.Alert(
            t("scn.nothing_to_export", lang),
            color="secondary",
            className="py-1 small mb-0",
        )
    user = current_user()
    if not user.can("export.any") and record.owner_id != user.id:
        return no_update, dbc.Alert(
            t("scn.not_yours", lang, name=record.name),
            color="warning",
            className="py-1 small mb-0",
        )
    record_event(store, "scenario.export", record.id)
    stem = f"scenario-{record.id}"
    if ctx.triggered_id == ids.SCN_EXPORT_XLSX:
        return dcc.send_bytes(exports.scenario_excel(record), f"{stem}.xlsx"), None
    if ctx.triggered_id == ids.SCN_EXPORT_GEOJSON:
        dctx = services.context(config.database_url, record.dataset_id)
        communes = dctx.communes()
        polygons = dict(zip(communes["code"], communes.geometry, strict=True))
        import json

        body = json.dumps(exports.scenario_geojson(record, polygons))
        return dcc.send_string(body, f"{stem}.geojson"), None
    return dcc.send_bytes(_zip(exports.scenario_csv(record)), f"{stem}-csv.zip"), None


def _comparison_records(store, selected):
    picks = parse_ids(selected, "scenarios")
    if not 2 <= len(picks) <= 4:
        return None
    records = [get_scenario(store, i) for i in picks]
    records = [r for r in records if r.has_results]
    return records if 2 <= len(records) <= 4 else None


@requires("view")
def compare(n_clicks, selected, lang):
    """KPI table with the best value marked, and one small map per scenario."""
    config = current_config()
    store = services.get_store(config.database_url)
    try:
        records = _comparison_records(store, selected)
    except ScenarioStoreError as exc:
        return store_error(exc, lang)
    except BadInputError as exc:
        return bad_input_alert(exc, lang)
    if records is None:
        return dbc.Alert(
            t("scn.compare_need", lang), color="secondary", className="py-2"
        )
    table = exports.compare_kpis(records, lang=lang)
    names = [c for c in table.columns if c not in ("kpi", "unit", "better", "best")]
    header = html.Thead(
        html.Tr(
            [html.Th(t("scn.kpi", lang))]
            + [html.Th(n, className="text-end") for n in names]
        )
    )
    rows = []
    for _, row in table.iterrows():
        cells = [
            html.Td(f"{row['kpi']}" + (f" ({row['unit']})" if row["unit"] else ""))
        ]
        for n in names:
            value = row[n]
            text = (
                f"{value:,.1f}"
                if isinstance(value, float) and np.isfinite(value)
                else str(value)
            )
            best = row["best"] == n
            cells.append(
                html.Td(
                    text + (" ★" if best else ""),
                    className="text-end" + (" fw-bold text-success" if best else ""),
                )
            )
        rows.append(html.Tr(cells))
    small_maps = dbc.Row(
        [
            dbc.Col(
                [
                    html.Div(r.name, className="small fw-semibold text-truncate"),
                    dcc.Graph(
                        figure=small_map(config, r),
                        style={"height": "260px"},
                        config={"displayModeBar": False, "staticPlot": False},
                    ),
                ],
                md=12 // len(records),
            )
            for r in records
        ],
        className="g-2 mt-2",
    )
    return html.Div(
        [
            dbc.Table(
                [header, html.Tbody(rows)],
                size="sm",
                bordered=True,
                className="bg-white",
                id="scn-compare-table",
            ),
            small_maps,
        ]
    )


def small_map(config: Config, record) -> dict:
    """The country's regions and the scenario's sites (kept, opened, closed)."""
    dctx = services.context(config.database_url, record.dataset_id)
    regions = dctx.units_at(0)
    return scenario_small_map(
        services.level_geojson(config.database_url, dctx.info.id, 0),
        regions["code"].tolist(),
        tuple(regions.total_bounds),
        record.centers,
    )


@requires("export.any")
def export_comparison(n_clicks, selected, lang):
    """One workbook with the comparison and each scenario's summary."""
    store = services.get_store(current_config().database_url)
    try:
        records = _comparison_records(store, selected)
    except (ScenarioStoreError, BadInputError) as exc:  # e.g. deleted meanwhile
        alert = (
            store_error(exc, lang)
            if isinstance(exc, ScenarioStoreError)
            else bad_input_alert(exc, lang)
        )
        set_props(ids.ALERTS, {"children": alert})
        return no_update
    if records is None:
        return no_update
    return dcc.send_bytes(
        exports.comparison_excel(records, lang=lang), "comparaison-scenarios.xlsx"
    )


@requires("scenario.run")
def coverage_curve(config: Config, set_progress, n_clicks, max_added, *args):
    """Optimal p-median for 0..N added centers: coverage within R and mean distance.

    Computed in a background job and kept in the on-disk results cache (shared
    by the server and its job processes) under the plan's parameters.
    """
    *values, doc_ids, dataset_id, lang = args
    try:
        base = services.scenario_base(config.database_url, dataset_id)
        whatif = whatif_from_inputs(*values, doc_ids)
        wanted = parse_number(max_added or 8, "max_added")
    except BadInputError as exc:  # shown in the progress line: the figure has no room
        set_progress(bad_input_alert(exc, lang))
        return no_update
    except ScenarioError as exc:
        invalid = t("scn.invalid", lang, reason=str(exc))
        set_progress(dbc.Alert(invalid, color="warning"))
        return no_update
    n_max = int(max(1, min(30, wanted)))
    key = "curve:" + json.dumps(
        [base.dataset_id, n_max, whatif.to_dict()], sort_keys=True, default=str
    )
    cache = results(config)
    points = cache.get(key)
    if points is None:
        try:
            points = _curve_points(
                config, set_progress, base, whatif, base.dataset_id, n_max, lang
            )
        except NoDemandError as exc:
            no_demand = t(f"scn.no_demand.{exc.reason}", lang, n=exc.communes)
            set_progress(dbc.Alert(no_demand, color="warning"))
            return no_update
        cache.set(key, points)
    return _curve_figure(*points, lang)


def _curve_points(config, set_progress, base, whatif, dataset_id, n_max, lang):
    forecast = forecast_vector(config, int(dataset_id), base, whatif)
    network, demand, cost, site_ids, capacity = _plan(
        base, whatif, forecast, config.database_url
    )
    # unknown demand left out, as in a run; none known (or all zero): refused
    unknown = None if forecast is not None else base.demand_unknown
    demand, _ = known_demand(with_unknown(demand, unknown), "requests/week")
    existing = np.arange(len(site_ids)) < base.n_existing
    today = open_mask_as_is(site_ids, base.n_existing, whatif)
    locked = existing & today
    forbidden = existing & ~today
    xs, coverage, distance = [], [], []
    for k in range(n_max + 1):
        set_progress(t("scn.curve_progress", lang, done=k, total=n_max))
        sites = SiteRules.build(len(site_ids), existing, locked, forbidden, max_new=k)
        model = PMedian(cost, demand, int(today.sum()) + k, sites).solve(time_limit=30)
        open_mask = np.zeros(len(site_ids), dtype=bool)
        open_mask[model.open_sites] = True
        _, kpis = evaluate_network(cost, demand, open_mask, None, whatif.radius_km)
        xs.append(k)
        coverage.append(round(100 * kpis["share_within_radius"], 2))
        distance.append(round(kpis["mean_distance"], 2))
    set_progress("")
    return xs, coverage, distance


def _curve_figure(xs, coverage, distance, lang):
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": xs,
                "y": coverage,
                "name": t("scn.curve_coverage", lang),
                "line": {"color": "#1a9850"},
            },
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": xs,
                "y": distance,
                "name": t("scn.curve_distance", lang),
                "yaxis": "y2",
                "line": {"color": "#d73027", "dash": "dot"},
            },
        ],
        "layout": {
            "margin": {"l": 50, "r": 50, "t": 10, "b": 40},
            "height": 320,
            "xaxis": {"title": {"text": t("scn.curve_x", lang)}, "dtick": 1},
            "yaxis": {"title": {"text": t("scn.curve_coverage", lang)}},
            "yaxis2": {
                "title": {"text": t("scn.curve_distance", lang)},
                "overlaying": "y",
                "side": "right",
            },
            "legend": {"orientation": "h", "y": 1.08},
            "plot_bgcolor": "#ffffff",
        },
    }


def register(app) -> None:
    config: Config = app.server.config["DASHAPP"]
    app.callback(
        Output(ids.SCN_SAVED, "options"),
        Output(ids.SCN_COMPARE_PICK, "options"),
        Output(ids.SCN_LIBRARY_MSG, "children"),
        Output(ids.SCN_RESULT, "data", allow_duplicate=True),
        Output(ids.URL, "href", allow_duplicate=True),
        Output(ids.SCN_DELETED, "data"),
        Output(ids.SCN_UNDO, "style"),
        Input(ids.SCN_SAVE, "n_clicks"),
        Input(ids.SCN_DUPLICATE, "n_clicks"),
        Input(ids.SCN_DELETE_CONFIRM, "submit_n_clicks"),
        Input(ids.SCN_OPEN, "n_clicks"),
        State(ids.SCN_NAME, "value"),
        State(ids.SCN_AUTHOR, "value"),
        State(ids.SCN_SAVED, "value"),
        State(ids.SCN_RESULT, "data"),
        State(ids.SCN_DRAFT, "data"),
        State(ids.LANG, "data"),
        Input(ids.SCN_UNDO, "n_clicks"),
        State(ids.SCN_DELETED, "data"),
        prevent_initial_call="initial_duplicate",
    )(manage)
    app.callback(
        Output(ids.SCN_SAVED, "options", allow_duplicate=True),
        Output(ids.SCN_COMPARE_PICK, "options", allow_duplicate=True),
        Input(ids.SCN_RESULT, "data"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(refresh_lists)
    app.callback(
        Output(ids.SCN_DRAFT, "data"),
        *[Input(i.component_id, i.component_property) for i in WHATIF_INPUTS],
        *WHATIF_STATES,
    )(whatif_values)
    app.callback(
        Output(ids.SCN_SHARE, "children", allow_duplicate=True),
        Input(ids.SCN_SHARE_REVOKE, "n_clicks"),
        State(ids.SCN_RESULT, "data"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(revoke_share_links)
    app.callback(
        Output(ids.SCN_SHARE, "children"),
        Input(ids.SCN_RESULT, "data"),
        State(ids.LANG, "data"),
    )(share_link)
    app.callback(
        Output(ids.SCN_DOWNLOAD, "data"),
        Output(ids.SCN_LIBRARY_MSG, "children", allow_duplicate=True),
        Input(ids.SCN_EXPORT_CSV, "n_clicks"),
        Input(ids.SCN_EXPORT_XLSX, "n_clicks"),
        Input(ids.SCN_EXPORT_GEOJSON, "n_clicks"),
        State(ids.SCN_RESULT, "data"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(export)
    app.callback(
        Output(ids.SCN_COMPARE_OUT, "children"),
        Input(ids.SCN_COMPARE, "n_clicks"),
        State(ids.SCN_COMPARE_PICK, "value"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(compare)
    app.callback(
        Output(ids.SCN_DOWNLOAD, "data", allow_duplicate=True),
        Input(ids.SCN_COMPARE_EXPORT, "n_clicks"),
        State(ids.SCN_COMPARE_PICK, "value"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(export_comparison)
    job = functools.update_wrapper(
        functools.partial(coverage_curve, config), coverage_curve
    )
    app.callback(
        Output(ids.SCN_CURVE, "figure"),
        Input(ids.SCN_CURVE_RUN, "n_clicks"),
        State(ids.SCN_CURVE_MAX, "value"),
        *[State(i.component_id, i.component_property) for i in WHATIF_INPUTS],
        *WHATIF_STATES,
        State(ids.DATASET, "data"),
        State(ids.LANG, "data"),
        background=True,
        running=[(Output(ids.SCN_CURVE_RUN, "disabled"), True, False)],
        progress=[Output(ids.SCN_CURVE_PROGRESS, "children")],
        interval=500,
        prevent_initial_call=True,
    )(job)
