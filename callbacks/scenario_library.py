"""Scenario workspace: saved scenarios (save, reopen, duplicate, delete), share, export."""

from __future__ import annotations

import json

import dash_bootstrap_components as dbc
from dash import Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from callbacks.scenarios import panel, result_id
from dashapp import ids, services
from dashapp.auth import current_user, require, requires
from dashapp.auth import record as record_event
from dashapp.context import current_config
from dashapp.i18n import t
from dashapp.parsing import BadInputError, parse_id
from dashapp.paths import url as app_url
from dashapp.share import share_url
from data import exports
from data.kpi import measure_of
from data.scenarios import (
    ScenarioStoreError,
    delete_scenario,
    duplicate_scenario,
    get_scenario,
    missing_export_right,
    restore_scenario,
    save_scenario,
    update_scenario,
)
from data.users import may_manage
from layouts.messages import bad_input_alert, note
from layouts.scenario_results import export_text
from layouts.scenarios import invalid_alert
from optimization.whatif import PanelError, WhatIf, measure_unit

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
    return note(text, "warning")


def saved_options(store, lang: str) -> list[dict]:
    """Every saved scenario, newest first, older data versions flagged."""
    return services.scenario_choices(store.url, lang)


@requires("view")
def share_link(result, lang: str) -> list:
    """A URL that reopens the scenario shown."""
    try:
        shown = result_id(result)
    except BadInputError:  # the result panel says why
        return []
    if shown is None:
        return []
    href = app_url(f"/scenarios?scenario={shown}")
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
        record = services.saved_scenario(config.database_url, scenario_id)
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
        return [*parts, note(text, "warning")]
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
            elif isinstance(whatif_values, dict) and whatif_values.get(INVALID_DRAFT):
                # the panel holds an error (it shows which): saving would store
                # the defaults under the user's name
                message = note(t("scn.fix_before_save", lang), "warning")
            else:
                info = store.active_dataset()
                whatif = checked_draft(whatif_values, info.id)
                record = save_scenario(
                    store,
                    info.id,
                    name or "",
                    {"whatif": whatif.to_dict()},
                    author=author or "",
                    owner_id=user.id,
                )
                new_result = {"id": record.id}
            if message is None:
                record_event(store, "scenario.save", record.id, name=record.name)
                message = note(t("scn.saved_ok", lang, name=record.name), "success")
        elif trigger in (ids.SCN_DUPLICATE, ids.SCN_DELETE_CONFIRM, ids.SCN_OPEN):
            if not selected:
                message = note(t("scn.pick_first", lang))
            elif trigger == ids.SCN_DUPLICATE:
                record = duplicate_scenario(
                    store, parse_id(selected, "scenario"), owner_id=user.id
                )
                record_event(store, "scenario.duplicate", record.id, name=record.name)
                message = note(t("scn.duplicated", lang, name=record.name), "success")
            elif trigger == ids.SCN_DELETE_CONFIRM:
                picked = parse_id(selected, "scenario")
                record = get_scenario(store, picked)
                _check_owner(user, record)
                delete_scenario(store, picked)
                record_event(store, "scenario.delete", picked, name=record.name)
                just_deleted, undo_style = picked, {}
                if result_id(result) == picked:
                    new_result = None
                message = note(t("scn.deleted", lang, name=record.name))
            else:
                href = app_url(f"/scenarios?scenario={parse_id(selected, 'scenario')}")
        elif trigger == ids.SCN_UNDO and deleted is not None:
            picked = parse_id(deleted, "scenario")
            record = get_scenario(store, picked, include_deleted=True)
            _check_owner(user, record)
            record = restore_scenario(store, picked)
            record_event(store, "scenario.restore", picked, name=record.name)
            just_deleted, undo_style = None, {"display": "none"}
            message = note(t("scn.restored", lang, name=record.name), "success")
    except NotOwnerError as exc:
        message = note(t("scn.not_yours", lang, name=exc.name), "warning")
    except PanelError as exc:
        measure = (
            whatif_values.get("measure") if isinstance(whatif_values, dict) else None
        )
        message = invalid_alert(
            exc, lang, measure_unit(measure), "scn.draft_invalid", "scn-draft-invalid"
        )
    except ScenarioStoreError as exc:
        message = store_error(exc, lang)
    except BadInputError as exc:
        message = bad_input_alert(exc, lang, className="py-1 small mb-0")
    options = saved_options(store, lang)
    return options, options, message, new_result, href, just_deleted, undo_style


#: the draft of a panel holding an error (:func:`whatif_values`)
INVALID_DRAFT = "invalid"


class NotOwnerError(PermissionError):
    """A scenario that the user may neither change nor delete."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def checked_draft(draft, dataset_id: int) -> WhatIf:
    """The browser's draft (``scn-draft.data``) as the what-if to save, checked
    against the dataset's network (:meth:`WhatIf.check`); none yet: the defaults.

    Raises :class:`optimization.whatif.PanelError` naming what cannot be saved.
    """
    whatif = WhatIf.from_dict({} if draft is None else draft)
    return whatif.check(
        services.workspace(current_config().database_url, dataset_id).network
    )


def _check_owner(user, record) -> None:
    if not may_manage(user, record.owner_id):
        raise NotOwnerError(record.name)


@requires("view")
def refresh_lists(result, lang):
    """After a run is saved (or a scenario opened), list it among the saved ones."""
    options = saved_options(services.get_store(current_config().database_url), lang)
    return options, options


@requires("view")
def whatif_values(panel: dict):
    """The panel as a plain dict (what a draft saves); a panel holding an error
    (the panel shows which) gives ``{INVALID_DRAFT: True}``, which Save refuses."""
    try:
        return WhatIf.from_panel(panel).to_dict()
    except Exception:
        return {INVALID_DRAFT: True}


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
        return no_update, note(t("scn.nothing_to_export", lang))
    try:
        record = get_scenario(store, shown)
    except ScenarioStoreError as exc:
        return no_update, store_error(exc, lang)
    if not record.has_results:
        return no_update, note(t("scn.nothing_to_export", lang))
    if missing_export_right(current_user(), record.owner_id):
        return no_update, note(t("scn.not_yours", lang, name=record.name), "warning")
    record_event(store, "scenario.export", record.id)
    stem = f"scenario-{record.id}"
    text = export_text(lang, measure_unit(measure_of(record.params)))
    if ctx.triggered_id == ids.SCN_EXPORT_XLSX:
        book = exports.scenario_excel(record, text)
        return dcc.send_bytes(book, f"{stem}.xlsx"), None
    if ctx.triggered_id == ids.SCN_EXPORT_GEOJSON:
        dctx = services.context(config.database_url, record.dataset_id)
        communes = dctx.communes()
        polygons = dict(zip(communes["code"], communes.geometry, strict=True))
        body = json.dumps(exports.scenario_geojson(record, polygons))
        return dcc.send_string(body, f"{stem}.geojson"), None
    csv = exports.zip_files(exports.scenario_csv(record, text))
    return dcc.send_bytes(csv, f"{stem}-csv.zip"), None


def register(app) -> None:
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
        output=Output(ids.SCN_DRAFT, "data"),
        inputs={"panel": panel(Input)},
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
