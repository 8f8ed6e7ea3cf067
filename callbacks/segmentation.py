"""Segmentation screen: run (background), results, map, proposed sites, exports."""

from __future__ import annotations

import functools
import io

from dash import ALL, Input, Output, Patch, State, ctx, dcc, html, no_update

from dashapp import ids, services
from dashapp import segmentation_tables as seg_tables
from dashapp.auth import record, requires
from dashapp.context import current_config
from dashapp.i18n import t
from dashapp.parsing import BadInputError
from dashapp.services import segmentation as seg_service
from data import exports
from data.indicators import INDICATORS
from data.store import StoreError
from geo.segmentation import METHODS, UnknownPopulationError, free_codes
from layouts import maps as map_layout
from layouts import segmentation as seg_layout
from layouts.messages import alert, bad_input_alert

SITE_PREFIX = "SEG"
# the screen's messages stack up, each closed by the user
closable = functools.partial(alert, dismissable=True)


def _context(dataset_id):
    config = current_config()
    return config, services.context(config.database_url, dataset_id)


def check_inputs(dctx, region, features, method, k, lang) -> list[str]:
    """Messages on invalid controls (from a stale browser or a crafted request)."""
    problems = []
    if region not in (None, "") and not seg_service.is_scope(dctx, region):
        problems.append(
            t("seg.msg.bad_value", lang, value=region, field=t("field.region", lang))
        )
    if not features:
        problems.append(t("seg.msg.no_features", lang))
    unknown = [f for f in features or [] if f not in INDICATORS]
    if unknown:
        problems.append(
            t(
                "seg.msg.bad_value",
                lang,
                value=", ".join(map(str, unknown)),
                field=t("seg.features", lang).lower(),
            )
        )
    if method not in METHODS:
        problems.append(
            t(
                "seg.msg.bad_value",
                lang,
                value=method,
                field=t("seg.method", lang).lower(),
            )
        )
    if k != "auto" and not (isinstance(k, int) and k in seg_layout.K_CHOICES):
        problems.append(
            t("seg.msg.bad_value", lang, value=k, field=t("seg.k", lang).lower())
        )
    return problems


@requires("segmentation")
def run_segmentation(
    set_progress, n_clicks, region, features, method, k, dataset_id, lang
):
    """Segment the communes (background job); returns the JSON result or a message."""
    try:
        config, dctx = _context(dataset_id)
    except BadInputError as exc:
        return None, [bad_input_alert(exc, lang)]
    problems = check_inputs(dctx, region, features, method, k, lang)
    if problems:
        return None, [closable(p) for p in problems]

    def progress(done, total):
        set_progress(
            (100 * done / total, t("seg.progress", lang, done=done, total=total))
        )

    frame = seg_service.cached_indicators(config.database_url, dctx.info.id)
    try:
        result, part = seg_service.run(
            services.get_store(config.database_url),
            dctx,
            region or None,
            tuple(features),
            k,
            method,
            progress=progress,
            frame=frame,
        )
    except UnknownPopulationError as exc:
        needs = ", ".join(t(f"seg.feature.{f}", lang).lower() for f in exc.features)
        text = t("seg.msg.no_population", lang, n=exc.communes, features=needs)
        return None, [closable(text)]
    except ValueError as exc:
        return None, [closable(t("seg.msg.failed", lang, error=exc), "danger")]
    return result.to_dict(part["code"].tolist()) | {"region": region or None}, []


@requires("segmentation")
def show_results(result, lang, dataset_id):
    """Summary, k curves, PCA and the profile table of the latest run."""
    if not result:
        empty = seg_layout.scores_chart(None, lang)
        return (
            t("seg.msg.empty", lang),
            empty,
            seg_layout.pca_chart(None, {}, lang),
            html.Div(),
        )
    _, dctx = _context(dataset_id)
    communes = dctx.communes()
    names = dict(zip(communes["code"], communes["name"], strict=True))
    notes = [html.Div(seg_layout.summary(result, lang))] + [
        html.Div(m, className="small text-muted fw-normal")
        for m in seg_layout.messages(result, lang)
    ]
    return (
        notes,
        seg_layout.scores_chart(result, lang),
        seg_layout.pca_chart(result, names, lang),
        seg_layout.profile_table(result, lang),
    )


@requires("segmentation")
def update_map(result, sites, dataset_id, lang):
    """Cluster map and the note above it: drawn whole for a new run, patched
    when only the sites change."""
    config, dctx = _context(dataset_id)
    if ctx.triggered_id == ids.SEG_SITES:
        patch = Patch()
        map_layout.patch_sites(patch, seg_layout.site_trace(sites, lang), k=1)
        return patch, no_update
    communes = dctx.communes()
    region = (result or {}).get("region")
    bounds = dctx.units_at(0)
    if region and dctx.unit(region) is not None:
        bounds = dctx.units[dctx.units["code"] == region]
    geojson = services.level_geojson(
        config.database_url, dctx.info.id, dctx.commune_level
    )
    figure = seg_layout.cluster_map(
        geojson,
        communes["code"].tolist(),
        communes["name"].tolist(),
        result,
        dctx.centers,
        sites,
        map_layout.fit_view(*bounds.total_bounds),
        lang,
        config.basemap_style,
    )
    return figure, seg_layout.map_note(result, lang)


@requires("segmentation")
def propose_sites(n_clicks, n_sites, region, dataset_id, lang):
    """Population-weighted KMeans sites for the area, shown on the map and listed."""
    config, dctx = _context(dataset_id)
    if region not in (None, "") and not seg_service.is_scope(dctx, region):
        region = None
    n_max = min(seg_layout.SITES_MAX, len(seg_service.scope_communes(dctx, region)))
    if (
        not isinstance(n_sites, int)
        or isinstance(n_sites, bool)
        or not 1 <= n_sites <= n_max
    ):
        return no_update, no_update, closable(t("seg.sites.bad_k", lang, max=n_max))
    try:
        sites = seg_service.cached_sites(
            config.database_url, dctx.info.id, region or None, n_sites
        )
    except UnknownPopulationError as exc:
        text = t("seg.sites.no_population", lang, n=exc.communes)
        return no_update, no_update, closable(text)
    except ValueError as exc:
        return (
            no_update,
            no_update,
            closable(t("seg.msg.failed", lang, error=exc), "danger"),
        )
    records = sites.to_dict("records")
    unknown = sites.attrs.get("population_unknown", 0)
    note = (
        closable(t("seg.sites.left_out", lang, n=unknown), "info") if unknown else None
    )
    return records, seg_layout.sites_table(records, lang), note


@requires("segmentation")
def add_sites(n_clicks, sites, dataset_id, lang):
    """Add the proposed sites to the dataset's candidate sites (for scenarios)."""
    if not sites:
        return closable(t("seg.sites.none", lang))
    try:
        config, dctx = _context(dataset_id)
        # the browser's copy of the proposal: checked before anything is written
        sites = seg_service.check_sites(sites, seg_layout.SITES_MAX)
        store = services.get_store(config.database_url)
        taken = set(store.candidates(dctx.info.id)["code"])
        frame = seg_service.sites_for_store(
            sites, free_codes(SITE_PREFIX, len(sites), taken)
        )
        store.add_candidate_sites(dctx.info.id, frame)
        record(store, "sites.add", dctx.info.id, codes=list(frame["code"]))
    except BadInputError as exc:
        return bad_input_alert(exc, lang, dismissable=True, className="py-2 mb-2")
    except StoreError as exc:
        return closable(t("seg.sites.error", lang, error=exc), "danger")
    codes = ", ".join(frame["code"])
    return closable(t("seg.sites.added", lang, n=len(frame), codes=codes), "success")


@requires("segmentation")
def export(n_csv, n_xlsx, result, reco_values, reco_ids, dataset_id, lang):
    """Commune labels and profiles as CSV (labels) or Excel (both sheets)."""
    if not result:
        return no_update
    config, dctx = _context(dataset_id)
    frame = seg_service.cached_indicators(config.database_url, dctx.info.id)
    # the communes left out (population unknown) are listed too, without a cluster
    frame = frame[frame["code"].isin([*result["labels"], *result.get("left_out", [])])]
    recos = {
        i["index"]: v for i, v in zip(reco_ids or [], reco_values or [], strict=True)
    }
    communes, profile = seg_tables.export_tables(result, frame, recos, lang)
    if ctx.triggered_id == ids.SEG_EXPORT_XLSX:
        buffer = io.BytesIO()
        seg_service.write_excel(buffer, communes, profile)
        return dcc.send_bytes(buffer.getvalue(), "segmentation.xlsx")
    return dcc.send_string(exports.csv_text(communes), "segmentation.csv")


def register(app) -> None:
    app.callback(
        Output(ids.SEG_RESULT, "data"),
        Output(ids.SEG_MESSAGES, "children"),
        Input(ids.SEG_RUN, "n_clicks"),
        State(ids.SEG_REGION, "value"),
        State(ids.SEG_FEATURES, "value"),
        State(ids.SEG_METHOD, "value"),
        State(ids.SEG_K, "value"),
        State(ids.DATASET, "data"),
        State(ids.LANG, "data"),
        background=True,
        running=[
            (Output(ids.SEG_RUN, "disabled"), True, False),
            (Output(ids.SEG_CANCEL, "disabled"), False, True),
        ],
        cancel=[Input(ids.SEG_CANCEL, "n_clicks")],
        progress=[Output(ids.SEG_PROGRESS, "value"), Output(ids.SEG_PROGRESS, "label")],
        prevent_initial_call=True,
    )(run_segmentation)
    app.callback(
        Output(ids.SEG_SUMMARY, "children"),
        Output(ids.SEG_SCORES, "figure"),
        Output(ids.SEG_PCA, "figure"),
        Output(ids.SEG_PROFILE, "children"),
        Input(ids.SEG_RESULT, "data"),
        State(ids.LANG, "data"),
        State(ids.DATASET, "data"),
    )(show_results)
    app.callback(
        Output(ids.SEG_MAP, "figure"),
        Output(ids.SEG_MAP_NOTE, "children"),
        Input(ids.SEG_RESULT, "data"),
        Input(ids.SEG_SITES, "data"),
        State(ids.DATASET, "data"),
        State(ids.LANG, "data"),
    )(update_map)
    app.callback(
        Output(ids.SEG_SITES, "data"),
        Output(ids.SEG_SITES_TABLE, "children"),
        Output(ids.SEG_SITES_MESSAGE, "children"),
        Input(ids.SEG_SITES_RUN, "n_clicks"),
        State(ids.SEG_N_SITES, "value"),
        State(ids.SEG_REGION, "value"),
        State(ids.DATASET, "data"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(propose_sites)
    app.callback(
        Output(ids.SEG_SITES_MESSAGE, "children", allow_duplicate=True),
        Input(ids.SEG_SITES_ADD, "n_clicks"),
        State(ids.SEG_SITES, "data"),
        State(ids.DATASET, "data"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(add_sites)
    app.callback(
        Output(ids.SEG_DOWNLOAD, "data"),
        Input(ids.SEG_EXPORT_CSV, "n_clicks"),
        Input(ids.SEG_EXPORT_XLSX, "n_clicks"),
        State(ids.SEG_RESULT, "data"),
        State(ids.seg_recommendation(ALL), "value"),
        State(ids.seg_recommendation(ALL), "id"),
        State(ids.DATASET, "data"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(export)


def render(search: str | None, lang: str, dataset_id):
    """The segmentation screen (route ``/segmentation``)."""
    _, dctx = _context(dataset_id)
    return seg_layout.segmentation_page(dctx, lang)
