"""Import screen: uploads, check (dry run) and import in the background, dataset picker."""

from __future__ import annotations

import datetime as dt
import re

import dash_bootstrap_components as dbc
from dash import ALL, MATCH, Input, Output, State, ctx, no_update, set_props
from dash.exceptions import PreventUpdate

from dashapp import ids, services
from dashapp import uploads as uploads_mod
from dashapp.auth import audit_note, current_user, record, requires
from dashapp.config import Config
from dashapp.context import current_config, request_lang
from dashapp.i18n import count_of, t
from dashapp.jobs import with_config
from dashapp.parsing import BadInputError, UnknownIdError, parse_id, shown_value
from dashapp.paths import url
from dashapp.services import forecasting, importing
from data.importers.boundaries import parse_level_names
from data.importers.bundle import check_rate
from data.importers.roads import MAX_VALUE_CHARS, ROAD_CLASSES
from data.store import StoreError
from geo.display import to_geojson
from layouts import importer as lay
from layouts.figures import fmt
from layouts.messages import bad_input_alert


def render(search: str | None, lang: str, dataset_id):
    """The page (route ``/import``)."""
    store = services.get_store(current_config().database_url)
    today = dt.date.today().strftime("%d/%m/%Y")
    return lay.page(store.datasets(), lang, today, root=url("/"))


def upload_order(info: dict) -> tuple[str, str]:
    """Where an uploaded file's card stands: by name, case aside, then as typed."""
    return info["name"].casefold(), info["name"]


@requires("import")
def receive_uploads(contents, filenames, n_clear, uploads, lang):
    """Save dropped files on the server; list them by name with guessed roles
    and columns."""
    config = current_config()
    user = current_user()
    uploads = uploads if isinstance(uploads, dict) else {}
    if ctx.triggered_id == ids.IMP_CLEAR:
        uploads_mod.remove(config, uploads.get("token"), user.id)
        return {"token": None, "files": []}, lay.file_list([], lang), []
    if not contents:
        raise PreventUpdate
    if isinstance(contents, str):  # one file dropped where several may be
        contents, filenames = [contents], [filenames]
    if (
        not isinstance(contents, list)
        or not isinstance(filenames, list)
        or len(contents) != len(filenames)
    ):
        raise PreventUpdate
    try:  # the browser's token: only a folder this server made for this user
        token = uploads["token"]
        folder = uploads_mod.folder_of(config, token, user.id)
        files = {
            f["name"]: f for f in uploads_mod.checked_files(folder, uploads["files"])
        }
    except (KeyError, BadInputError):
        token = uploads_mod.new_token(config, user.id)
        folder = uploads_mod.folder_of(config, token, user.id)
        files = {}
    messages = []
    for content, name in zip(contents, filenames, strict=True):
        info = importing.save_upload(folder, name, content)
        if info["error"]:
            messages.append(
                dbc.Alert(
                    importing.upload_message(info, lang),  # why it was not kept
                    color="danger",
                    className="py-2",
                )  # fmt: skip
            )
            continue
        files[info["name"]] = info
    # by name: the browser lists the dropped files as it finishes reading each
    data = {"token": token, "files": sorted(files.values(), key=upload_order)}
    return data, lay.file_list(data["files"], lang), messages


_FIELD = re.compile(
    r"^(code|name|level|convention|join|join_by|join_parent|join_mode|population"
    r"|parent[0-9](_name)?|capacity_week|opening_cost|layer|delimiter|encoding"
    r"|road_class|road_surface)$"
)
#: The road classes a class value may get on screen (else "not chosen").
_ROAD_CHOICES = (*ROAD_CLASSES, importing.NOT_A_ROAD)
#: Fields whose value is one of a fixed set, whatever the browser sends.
_CHOICES = {
    "join_by": ("", *importing.JOINS),
    "delimiter": tuple(importing.DELIMITERS),
    "encoding": ("", *importing.ENCODINGS),
}


def _with_choices(
    files, role_values, role_ids, col_values, col_ids, road_values=(), road_ids=()
):
    """The uploaded files with the roles, columns and road classes chosen on screen."""
    files = [dict(f, mapping=dict(f.get("mapping") or {})) for f in files]

    def index_of(id_) -> int:  # pattern-matching ids come from the browser too
        k = id_["index"]
        if not isinstance(k, int) or isinstance(k, bool) or not 0 <= k < len(files):
            raise IndexError(k)
        return k

    for value, id_ in zip(role_values or [], role_ids or [], strict=True):
        if value not in uploads_mod.ROLES:
            raise KeyError(value)
        files[index_of(id_)]["role"] = value
    for value, id_ in zip(col_values or [], col_ids or [], strict=True):
        mapping = files[index_of(id_)]["mapping"]
        field = id_["field"]
        if not (value is None or isinstance(value, str)) or not _FIELD.match(
            str(field)
        ):
            raise KeyError(field)
        if field in _CHOICES and (value or "") not in _CHOICES[field]:
            raise KeyError(field)
        if field.startswith("parent"):
            k = int(field[len("parent")])
            parents = [list(p) + [None] * (2 - len(p)) for p in
                       mapping.get("parents") or [] if isinstance(p, list)]  # fmt: skip
            while len(parents) <= k:
                parents.append([None, None])
            parents[k][1 if field.endswith("_name") else 0] = value or None
            mapping["parents"] = parents
        else:
            mapping[field] = value or None
    for value, id_ in zip(road_values or [], road_ids or [], strict=True):
        key = id_.get("value") if isinstance(id_, dict) else None
        if (
            not isinstance(key, str)
            or not 0 < len(key) <= MAX_VALUE_CHARS
            or not (value is None or value in _ROAD_CHOICES)
        ):
            raise KeyError("road class")
        files[index_of(id_)]["mapping"].setdefault("class_map", {})[key] = value
    return files


@requires("import")
def redraw_mapping(role, id_, uploads, lang):
    """The mapping controls of a file whose role was changed on screen."""
    try:
        k = id_["index"]
        info = dict(uploads["files"][k])
    except (KeyError, IndexError, TypeError):
        raise PreventUpdate from None
    if (
        role not in uploads_mod.ROLES
        or not isinstance(k, int)
        or role == info.get("role")
    ):
        raise PreventUpdate
    columns = [c for c in info.get("columns") or [] if isinstance(c, str)]
    info.update(role=role, columns=columns,
                mapping=importing.guess_for_role(columns, role))  # fmt: skip
    if role == "roads":
        info["class_values"] = _road_values(
            uploads, info["name"], info["mapping"].get("road_class"),
            (info.get("mapping") or {}).get("layer"),
        )  # fmt: skip
    return lay.mapping_controls(k, info, lang)


def _road_values(uploads, name, column, layer) -> dict:
    """The class column's values of an uploaded file (only one this server saved
    for this user, found under its own folder)."""
    user = current_user()
    try:
        folder = uploads_mod.folder_of(
            current_config(), (uploads or {}).get("token"), user.id
        )
        path = uploads_mod.file_in(folder, name)
    except (BadInputError, AttributeError):
        return {"error": "upload_ref"}
    if column is not None and not isinstance(column, str):
        return {"error": "missing_column"}
    return importing.road_values(path, path.name, column,
                                 layer if isinstance(layer, str) else None)  # fmt: skip


@requires("import")
def show_road_values(column, id_, uploads, lang):
    """The class-mapping table of a road file whose class column was changed."""
    try:
        k = id_["index"]
        info = uploads["files"][k]
        name = info["name"]
    except (KeyError, IndexError, TypeError):
        raise PreventUpdate from None
    if not isinstance(k, int) or isinstance(k, bool):
        raise PreventUpdate
    column = column if isinstance(column, str) and column else None
    found = _road_values(
        uploads, name, column, (info.get("mapping") or {}).get("layer")
    )
    return lay.road_values_table(k, shown_value(name), column, found, lang)


def _population(summary: dict, lang: str) -> str:
    """The imported population, "n.d." when no commune has one."""
    if summary.get("population_unknown") == summary["units"][-1]:
        return t("kpi.no_data", lang)
    return fmt(summary["population"], 0, lang)


def _rates(values, rate_ids, lang):
    rates, messages = {}, []
    for value, id_ in zip(values or [], rate_ids or [], strict=True):
        doc = id_.get("index") if isinstance(id_, dict) else id_
        try:
            rates[doc] = check_rate(doc, value)  # finite, 0..MAX_RATE, known type
        except (TypeError, ValueError):
            messages.append(t("imp.bad_rate", lang, doc=doc, value=value))
    return rates, messages


@requires("import")
def run_import_job(
    config: Config,
    set_progress,
    n_check,
    n_commit,
    uploads,
    role_values,
    role_ids,
    col_values,
    col_ids,
    rate_values,
    rate_ids,
    name,
    activate,
    lang,
    n_partial=None,
    levels=None,
    road_values=None,
    road_ids=None,
    target=None,
):
    """Check the files (dry run) or import them; report, preview, dataset list.

    "Import anyway (partial)" (``imp_partial``) imports with a partial join;
    ``levels``: the level codes typed, top first (empty: from the files). A road
    file (role ``roads``, classes mapped in ``road_values``) comes in with the
    boundaries, or alone into ``target``, the dataset chosen in the picker.
    """
    trigger = ctx.triggered_id
    partial = isinstance(trigger, dict) and trigger.get("type") == ids.IMP_PARTIAL
    if trigger not in (ids.IMP_CHECK, ids.IMP_COMMIT) and not partial:
        raise PreventUpdate
    if partial and not any(n_partial or []):  # the button appearing, not a click
        raise PreventUpdate
    user = current_user()
    try:  # only files this server saved for this user, under its own folder
        folder = uploads_mod.folder_of(config, (uploads or {}).get("token"), user.id)
        files = _with_choices(
            uploads_mod.checked_files(folder, uploads.get("files")),
            role_values,
            role_ids,
            col_values,
            col_ids,
            road_values,
            road_ids,
        )
    except (BadInputError, TypeError, KeyError, IndexError, AttributeError):
        alert = dbc.Alert(t("imp.upload_again", lang), color="danger", className="py-2")
        return [alert], no_update, no_update, no_update
    try:
        roads = importing.road_source_from_uploads(folder, files)
    except BadInputError as exc:
        return [bad_input_alert(exc, lang)], no_update, no_update, no_update
    if roads is not None and not any(f["role"] == "boundaries" for f in files):
        return _import_roads_only(config, set_progress, roads, target,
                                  trigger == ids.IMP_CHECK, lang)  # fmt: skip
    rates, bad = _rates(rate_values, rate_ids, lang)
    try:
        level_names = parse_level_names(levels if isinstance(levels, str) else None)
    except ValueError:
        bad.append(t("imp.bad_levels", lang, value=shown_value(levels)))
    if bad or not any(f["role"] == "boundaries" for f in files):
        text = bad or [t("imp.no_boundaries", lang)]
        alerts = [dbc.Alert(m, color="danger", className="py-2") for m in text]
        return alerts, no_update, no_update, no_update
    spec = importing.spec_from_uploads(
        folder, files, name=str(name or "Import")[:200], rates=rates,
        join_mode="partial" if partial else None, level_names=level_names,
    )  # fmt: skip
    kept = {}
    store = services.get_store(config.database_url)
    report, info, summary = importing.run_import(
        store,
        spec,
        activate=bool(activate),
        dry_run=trigger == ids.IMP_CHECK,
        progress=lambda pct, step: set_progress((pct,)),
        on_bundle=lambda bundle: kept.setdefault("bundle", bundle),
        audit=audit_note("dataset.import", name=spec.name, activated=bool(activate),
                         files=[f["name"] for f in files if f["role"] != "ignore"]),
        roads=roads,
    )  # fmt: skip
    if info is not None:  # its forecasts, computed before anyone asks for them
        forecasting.start_precompute(config, info.id)
    texts = [importing.issue_text(i, lang) for i in report.issues]
    line = None
    if summary is not None:
        levels = ", ".join(
            count_of(n, name, lang)
            for name, n in zip(
                summary["level_names"][lang], summary["units"], strict=True
            )
        )
        line = t("imp.summary", lang, levels=levels, centers=summary["centers"],
                 candidates=summary["candidates"], operations=summary["operations"],
                 population=_population(summary, lang))  # fmt: skip
        if summary.get("population_unknown"):
            line += " " + t("imp.population_unknown", lang,
                            n=summary["population_unknown"])  # fmt: skip
    offer = spec.join_mode == "strict" and importing.join_only(report, spec)
    view = lay.report_view(report.to_records(), texts, line, lang, offer)
    if summary is not None and summary.get("roads"):
        view.append(lay.road_report(summary["roads"], lang))
    if info is not None:
        view.insert(
            0,
            dbc.Alert(
                [t("imp.committed", lang, name=info.name, id=info.id), " ",
                 dbc.Button(t("nav.map", lang), href=url("/"), external_link=True,
                            size="sm", color="success")],
                color="success", className="py-2", id="imp-committed",
            ),
        )  # fmt: skip
    figure, table = no_update, no_update
    if "bundle" in kept:
        units, _ = importing.preview_units(kept["bundle"])
        geojson = to_geojson(units, "unit_code", tolerance_deg=0.002)
        geojson["bbox"] = [float(v) for v in units.total_bounds]
        figure = lay.preview_figure(
            geojson, units["unit_code"].tolist(), units["population"].tolist(),
            units["name"].tolist(), lang,
        )  # fmt: skip
        commune_level = kept["bundle"].units["level"].max()
        table = lay.preview_table(
            kept["bundle"].units[kept["bundle"].units["level"] == commune_level], lang
        )
    set_progress((100,))
    return view, figure, table, lay.dataset_options(store.datasets(), lang)


def _import_roads_only(config, set_progress, roads, target, dry_run: bool, lang):
    """A road file alone: checked, then made the network of the dataset chosen in
    the picker (``target``, from the browser: parsed and looked up)."""
    store = services.get_store(config.database_url)
    try:
        key = parse_id(target, "dataset")
        info = next((d for d in store.datasets() if d.id == key), None)
        if info is None:
            raise UnknownIdError("dataset", key)
    except BadInputError as exc:
        return [bad_input_alert(exc, lang)], no_update, no_update, no_update
    set_progress((10,))
    report, network = importing.run_road_import(store, info.id, roads, dry_run=dry_run)
    texts = [importing.issue_text(i, lang) for i in report.issues]
    line = None
    if network is not None:
        line = t("imp.road.summary", lang, name=info.name,
                 km=fmt(sum(network["length_km_by_class"].values()), 1, lang))  # fmt: skip
    view = lay.report_view(report.to_records(), texts, line, lang)
    if network is not None:
        view.append(lay.road_report(network, lang))
    if network is not None and not dry_run:
        record(store, "roads.import", info.id, file=roads.file,
               lines=network.get("lines_kept"))  # fmt: skip
        view.insert(0, dbc.Alert(t("imp.road.committed", lang, name=info.name,
                                   id=info.id),
                                 color="success", className="py-2",
                                 id="imp-road-committed"))  # fmt: skip
    set_progress((100,))
    return view, no_update, no_update, no_update


@requires("dataset.activate")
def activate_dataset(n_clicks, dataset_id):
    """Make the chosen dataset the one the app shows, then reload on the map."""
    if not n_clicks or dataset_id is None:
        raise PreventUpdate
    store = services.get_store(current_config().database_url)
    try:
        key = parse_id(dataset_id, "dataset")  # the picker's value, from the browser
        if all(d.id != key for d in store.datasets()):
            raise UnknownIdError("dataset", key)
        store.set_active(key)
        record(store, "dataset.activate", key)
    except (BadInputError, StoreError) as exc:
        if not isinstance(exc, BadInputError):  # e.g. no nearest-center distances
            exc = BadInputError(str(exc), "refused", reason=str(exc))
        lang = request_lang(current_config())
        set_props(ids.IMP_REPORT, {"children": bad_input_alert(exc, lang)})
        return no_update
    return url("/")


def register(app) -> None:
    config: Config = app.server.config["DASHAPP"]
    app.callback(
        Output(ids.IMP_UPLOADS, "data"),
        Output(ids.IMP_FILES, "children"),
        Output(ids.IMP_UPLOAD_MESSAGES, "children"),
        Input(ids.IMP_UPLOAD, "contents"),
        State(ids.IMP_UPLOAD, "filename"),
        Input(ids.IMP_CLEAR, "n_clicks"),
        State(ids.IMP_UPLOADS, "data"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(receive_uploads)
    app.callback(
        Output(ids.IMP_REPORT, "children"),
        Output(ids.IMP_PREVIEW_MAP, "figure"),
        Output(ids.IMP_PREVIEW_TABLE, "children"),
        Output(ids.IMP_DATASET, "options"),
        Input(ids.IMP_CHECK, "n_clicks"),
        Input(ids.IMP_COMMIT, "n_clicks"),
        State(ids.IMP_UPLOADS, "data"),
        State(ids.imp_role(ALL), "value"),
        State(ids.imp_role(ALL), "id"),
        State(ids.imp_column(ALL, ALL), "value"),
        State(ids.imp_column(ALL, ALL), "id"),
        State(ids.imp_rate(ALL), "value"),
        State(ids.imp_rate(ALL), "id"),
        State(ids.IMP_NAME, "value"),
        State(ids.IMP_ACTIVATE_AFTER, "value"),
        State(ids.LANG, "data"),
        Input(ids.imp_partial(ALL), "n_clicks"),  # in a report that offers it
        State(ids.IMP_LEVELS, "value"),
        State(ids.imp_road_value(ALL, ALL), "value"),
        State(ids.imp_road_value(ALL, ALL), "id"),
        State(ids.IMP_DATASET, "value"),
        background=True,
        prevent_initial_call=True,
        running=[
            (Output(ids.IMP_PROGRESS_BOX, "style"), {}, {"display": "none"}),
            (Output(ids.IMP_CHECK, "disabled"), True, False),
            (Output(ids.IMP_COMMIT, "disabled"), True, False),
        ],
        cancel=[Input(ids.IMP_CANCEL, "n_clicks")],
        progress=[Output(ids.IMP_PROGRESS, "value")],
    )(with_config(run_import_job, config))
    app.callback(
        Output(ids.imp_mapping(MATCH), "children"),
        Input(ids.imp_role(MATCH), "value"),
        State(ids.imp_role(MATCH), "id"),
        State(ids.IMP_UPLOADS, "data"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(redraw_mapping)
    app.callback(
        Output(ids.imp_road_values(MATCH), "children"),
        Input({**ids.imp_column(0, "road_class"), "index": MATCH}, "value"),
        State({**ids.imp_column(0, "road_class"), "index": MATCH}, "id"),
        State(ids.IMP_UPLOADS, "data"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(show_road_values)
    app.callback(
        Output(ids.IMP_REDIRECT, "href"),
        Input(ids.IMP_ACTIVATE, "n_clicks"),
        State(ids.IMP_DATASET, "value"),
        prevent_initial_call=True,
    )(activate_dataset)
