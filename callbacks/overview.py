"""Main screen: selection sync, map (full once per level, then patched), KPIs, charts."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, Patch, State, ctx, no_update

from dashapp import current_config, ids, services
from dashapp.auth import requires
from dashapp.filters import resolve
from dashapp.i18n import t
from data import views
from geo.display import view_for_bounds
from layouts import figures
from layouts.overview import department_options, kpi_cards

# The filters reach each callback as one dict (Dash's flexible signatures), keyed
# like the arguments of dashapp.filters.resolve.
FILTERS = {
    "level": Input(ids.LEVEL, "value"),
    "indicator": Input(ids.INDICATOR, "value"),
    "region": Input(ids.REGION, "value"),
    "department": Input(ids.DEPARTMENT, "value"),
    "doc_types": Input(ids.DOC_TYPES, "value"),
    "start": Input(ids.PERIOD, "start_date"),
    "end": Input(ids.PERIOD, "end_date"),
    "radius": Input(ids.RADIUS, "value"),
}
CONTEXT = {"dataset_id": State(ids.DATASET, "data"), "lang": State(ids.LANG, "data")}
CONTEXT_STATES = list(CONTEXT.values())


def _state(filters: dict, dataset_id, lang):
    config = current_config()
    dctx = services.context(config.database_url, dataset_id)
    return config, dctx, resolve(dctx, lang, **filters)


@requires("view")
def sync_selection(region, click_data, n_reset, department, dataset_id, lang):
    """Keep region, department options and department consistent with map clicks."""
    config = current_config()
    dctx = services.context(config.database_url, dataset_id)
    trigger = ctx.triggered_id
    if trigger == ids.RESET:
        region, department = None, None
    elif trigger == ids.MAP and click_data:
        code = (click_data.get("points") or [{}])[0].get("location")
        unit = dctx.unit(code) if code else None
        if unit is None:
            return no_update, no_update, no_update
        level = int(unit["level"])
        region = unit["ancestor_0"]
        department = unit["ancestor_1"] if level >= 1 else None
    if department and department not in {
        o["value"] for o in department_options(dctx, region)
    }:
        department = None
    return region, department_options(dctx, region), department


def _map_view(dctx: views.DatasetContext, selection: str | None) -> dict:
    units = (
        dctx.units if selection is None else dctx.units[dctx.units["code"] == selection]
    )
    if selection is None:
        units = dctx.units_at(0)
    return view_for_bounds(*units.total_bounds)


def _scope_note(dctx: views.DatasetContext, scope: views.MapScope, lang: str):
    notes = []
    if scope.capped:
        notes.append(
            t(
                "map.communes_need_selection",
                lang,
                n=figures.fmt(len(dctx.communes()), 0, lang),
                shown=dctx.level_name(scope.level, lang).lower(),
            )
        )
    unknown = int(dctx.communes()["population"].isna().sum())
    if unknown:  # imported without population, or a partial join
        notes.append(t("map.population_unknown", lang, n=unknown))
    return "<br>".join(notes) or None


@requires("view")
def update_map(filters: dict, dataset_id, lang):
    """Draw the map once per level; afterwards patch only values, centers and view.

    On a large dataset the commune level is drawn only inside the selection (the
    level above nationally), so a selection change redraws it with new geometry.
    """
    config, dctx, r = _state(filters, dataset_id, lang)
    scope = views.map_scope(dctx, r.level, r.selection)
    measures = services.measures_for(config.database_url, dctx, r)
    values = views.unit_kpis(dctx, measures, scope.level, r.selection, scope.within)
    names = views.parent_names(dctx, scope.level, scope.within)
    chor = figures.choropleth_arrays(
        values,
        r.indicator,
        names,
        [c for c in names.columns if c.startswith("parent_")],
        lang,
        r.radius_km,
    )
    centers = figures.center_arrays(
        services.centers_for(config.database_url, dctx, r), lang
    )
    view = _map_view(dctx, r.selection)
    trigger = ctx.triggered_id
    selection_trigger = trigger in (ids.REGION, ids.DEPARTMENT)
    redraw = selection_trigger and (scope.within is not None or scope.capped)
    if trigger is None or trigger == ids.LEVEL or redraw:
        geojson = services.scope_geojson(config.database_url, dctx.info.id, scope)
        context = None
        if scope.within is not None:
            # grey country around the selection's units, from the lightest level
            top = dctx.units_at(0)["code"].tolist()
            context = (
                services.level_geojson(config.database_url, dctx.info.id, 0),
                top,
            )
        return figures.map_figure(
            geojson,
            names["code"].tolist(),
            chor,
            centers,
            view,
            lang,
            config.basemap_style,
            uirevision=r.selection or "country",
            context=context,
            note=_scope_note(dctx, scope, lang),
        )
    patch = Patch()
    for key in ("z", "customdata", "hovertemplate", "colorscale"):
        patch["data"][1][key] = chor[key]
    patch["data"][1]["colorbar"]["title"] = chor["colorbar"]["title"]
    for key in ("lon", "lat", "customdata", "ids"):
        patch["data"][2][key] = centers[key]
    patch["data"][2]["marker"]["size"] = centers["marker.size"]
    patch["data"][2]["marker"]["color"] = centers["marker.color"]
    if selection_trigger:
        patch["layout"]["map"]["center"] = view["center"]
        patch["layout"]["map"]["zoom"] = view["zoom"]
        patch["layout"]["uirevision"] = r.selection or "country"
    return patch


@requires("view")
def update_kpis(filters: dict, dataset_id, lang):
    """KPI cards and the label of the selection, plus messages on corrected filters."""
    config, dctx, r = _state(filters, dataset_id, lang)
    values = views.selection_kpis(
        dctx, services.measures_for(config.database_url, dctx, r), r.selection
    )
    name = t("filters.all", lang)
    if r.selection:
        unit = dctx.unit(r.selection)
        level_name = dctx.level_name(int(unit["level"]), lang).lower()
        name = f"{unit['name']} ({level_name})"
    messages = [
        dbc.Alert(m, color="warning", dismissable=True, className="py-2")
        for m in r.messages
    ]
    return (
        kpi_cards(values, lang, r.radius_km),
        t("kpi.scope", lang, name=name),
        messages,
    )


@requires("view")
def update_capacity(filters: dict, mode, dataset_id, lang):
    """Capacity against demand, by center or by department."""
    config, dctx, r = _state(filters, dataset_id, lang)
    centers = services.centers_for(config.database_url, dctx, r)
    if mode == "department":
        frame = views.capacity_by_unit(dctx, centers, 1)
        return figures.capacity_chart(frame, "name", lang)
    return figures.capacity_chart(centers, "name", lang)


@requires("view")
def update_timeseries(filters: dict, dataset_id, lang):
    """Weekly requests by document type for the selection."""
    config, dctx, r = _state(filters, dataset_id, lang)
    frame = services.weekly_requests(config.database_url, dctx, r)
    col = "name_fr" if lang == "fr" else "name_en"
    names = dict(zip(dctx.doc_types["code"], dctx.doc_types[col], strict=True))
    return figures.timeseries_chart(frame, names, lang)


def register(app) -> None:
    app.callback(
        Output(ids.REGION, "value"),
        Output(ids.DEPARTMENT, "options"),
        Output(ids.DEPARTMENT, "value"),
        Input(ids.REGION, "value"),
        Input(ids.MAP, "clickData"),
        Input(ids.RESET, "n_clicks"),
        State(ids.DEPARTMENT, "value"),
        *CONTEXT_STATES,
        prevent_initial_call=True,
    )(sync_selection)
    app.callback(
        output=Output(ids.MAP, "figure"), inputs={"filters": FILTERS, **CONTEXT}
    )(update_map)
    app.callback(
        output=[
            Output(ids.KPI_CARDS, "children"),
            Output(ids.SCOPE_LABEL, "children"),
            Output(ids.FILTER_MESSAGES, "children"),
        ],
        inputs={"filters": FILTERS, **CONTEXT},
    )(update_kpis)
    app.callback(
        output=Output(ids.CAPACITY_CHART, "figure"),
        inputs={
            "filters": FILTERS,
            "mode": Input(ids.CAPACITY_MODE, "value"),
            **CONTEXT,
        },
    )(update_capacity)
    app.callback(
        output=Output(ids.TIMESERIES, "figure"), inputs={"filters": FILTERS, **CONTEXT}
    )(update_timeseries)
