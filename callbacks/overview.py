"""Main screen: area filters, map (full once per level and area, then patched), KPIs,
charts."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import (
    ALL,
    ClientsideFunction,
    Input,
    Output,
    Patch,
    State,
    ctx,
    no_update,
)
from dash.exceptions import PreventUpdate

from dashapp import ids, services
from dashapp.auth import requires
from dashapp.context import current_config
from dashapp.filters import area_path, cascade_areas, resolve
from dashapp.i18n import t
from dashapp.services import access_map, maps
from data import views
from geo.display import map_view
from layouts import figures
from layouts import maps as map_layout
from layouts.overview import MAP_FIT_PX, area_choices, kpi_cards
from layouts.road_access import (
    parse_map_access,
    parse_map_layers,
    parse_measure,
    travel_choropleth_arrays,
)

# The filters reach each callback as one dict (Dash's flexible signatures), keyed
# like the arguments of dashapp.filters.resolve; ``areas`` is the list of the area
# filters' values, top first (one per level of data.views.filter_levels).
AREAS = Input(ids.area_filter(ALL), "value")
FILTERS = {
    "level": Input(ids.LEVEL, "value"),
    "indicator": Input(ids.INDICATOR, "value"),
    "areas": AREAS,
    "doc_types": Input(ids.DOC_TYPES, "value"),
    "start": Input(ids.PERIOD, "start_date"),
    "end": Input(ids.PERIOD, "end_date"),
    "radius": Input(ids.RADIUS, "value"),
}
# The capacity chart and the weekly series show neither the indicator nor the radius:
# there they are states, so changing them sends neither chart's request (each
# answered with the figure already drawn, 6-12 ms of a server's CPU).
CHART_FILTERS = {
    **FILTERS,
    "indicator": State(ids.INDICATOR, "value"),
    "radius": State(ids.RADIUS, "value"),
}
CONTEXT = {"dataset_id": State(ids.DATASET, "data"), "lang": State(ids.LANG, "data")}
# What the map shows by road: an access indicator colouring it, the overlays, and
# the travel mode and season of the road-access card they follow.
ACCESS = {
    "access": Input(ids.MAP_ACCESS, "value"),
    "layers": Input(ids.MAP_LAYERS, "value"),
    "measure": Input(ids.ROAD_MEASURE, "value"),
}
ACCESS_IDS = (ids.MAP_ACCESS, ids.MAP_LAYERS, ids.ROAD_MEASURE)
CONTEXT_STATES = list(CONTEXT.values())


def _state(filters: dict, dataset_id, lang):
    config = current_config()
    dctx = services.context(config.database_url, dataset_id)
    return config, dctx, resolve(dctx, lang, **filters)


def _first_trigger():
    """The input that fired the callback, the map's own move only if nothing else did.

    The browser sends a move of the map and a filter change in one call when both
    happen together (a click on a unit while the map settles): read first, the move
    would hide the new selection and the map would never go to it.
    """
    fired = list(ctx.triggered_prop_ids.values()) if ctx.triggered_prop_ids else []
    others = [f for f in fired if f != ids.MAP]
    if others:
        return others[0]
    return ctx.triggered_id


def _area_trigger(levels: list[int], trigger=None) -> int | None:
    """Position of the area filter that fired the callback, if one did."""
    trigger = ctx.triggered_id if trigger is None else trigger
    if isinstance(trigger, dict) and trigger.get("type") == ids.AREA:
        index = trigger.get("index")
        if isinstance(index, int) and index in levels:
            return levels.index(index)
    return None


def _output_levels(levels: list[int]) -> list:
    """Levels of the area filters the browser asked to update (the dataset's when
    called directly); an id that is no level of the dataset gets nothing."""
    asked = ctx.outputs_list[0] if ctx.outputs_list else None
    if not isinstance(asked, list):
        return levels
    indexes = [
        o["id"].get("index")
        if isinstance(o, dict) and isinstance(o.get("id"), dict)
        else None
        for o in asked
    ]
    return [i if isinstance(i, int) else None for i in indexes]


def _clicked(click_data) -> str | None:
    """The location (a unit or grid cell code) of the map point clicked, if any."""
    points = click_data.get("points") if isinstance(click_data, dict) else None
    point = points[0] if isinstance(points, list) and points else None
    code = point.get("location") if isinstance(point, dict) else None
    return code if isinstance(code, str) else None


@requires("view")
def sync_selection(areas, click_data, n_reset, dataset_id, lang):
    """Keep the area filters consistent with each other and with map clicks.

    A filter's choice fills the filters above it with the unit's ancestors and
    keeps those below only if they lie inside it; a click on a unit selects it
    (a commune: its parents), a click on a grid cell selects nothing.
    """
    dctx = services.context(current_config().database_url, dataset_id)
    levels = views.filter_levels(dctx)
    trigger = ctx.triggered_id
    if trigger == ids.RESET:
        chosen = (None,) * len(levels)
    elif trigger == ids.MAP:
        code = _clicked(click_data)
        if code is None or dctx.unit(code) is None:
            return no_update, no_update, no_update
        chosen = area_path(dctx, code)
    else:
        chosen = cascade_areas(dctx, areas, _area_trigger(levels), lang)
    by_level = dict(zip(levels, chosen, strict=True))
    choices = dict(zip(levels, area_choices(dctx, chosen, lang), strict=True))
    asked = _output_levels(levels)
    return (
        [by_level.get(level) for level in asked],
        [choices[level][0] if level in choices else [] for level in asked],
        [choices[level][1] if level in choices else "" for level in asked],
    )


def _map_view(dctx: views.DatasetContext, selection: str | None) -> dict:
    unit = dctx.unit(selection) if selection is not None else None
    units = (
        dctx.units_at(0)
        if unit is None
        else dctx.units[dctx.units["code"] == selection]
    )
    return map_layout.fit_view(*units.total_bounds, *MAP_FIT_PX)


def _scope_note(
    dctx: views.DatasetContext,
    scope: views.MapScope,
    lang: str,
    layer: maps.MapLayer | None = None,
):
    """What the map says about itself: units grouped or in view, unknown population."""
    notes = []
    if scope.grouped:
        level = dctx.level_name(scope.level, lang).lower()
        n = figures.fmt(scope.n_units, 0, lang)
        if layer is not None and layer.kind == "units":
            shown = figures.fmt(len(layer.names), 0, lang)
            notes.append(t("map.in_view", lang, level=level, shown=shown, n=n))
        else:
            if scope.group_level is not None:
                shown = dctx.level_name(scope.group_level, lang).lower()
                notes.append(
                    t("map.grouped_level", lang, level=level, n=n, shown=shown)
                )
            else:
                size = layer.cell_deg if layer is not None else None
                notes.append(
                    t(
                        "map.grouped_grid",
                        lang,
                        level=level,
                        n=n,
                        size=figures.fmt(size, 2 if (size or 1) < 0.1 else 1, lang),
                    )
                )
            notes.append(t("map.zoom_hint", lang))
            deeper = _deeper_filters(dctx, scope, lang)
            if deeper:
                notes.append(t("map.filter_hint", lang, filters=deeper))
    unknown = int(dctx.communes()["population"].isna().sum())
    if unknown:  # imported without population, or a partial join
        notes.append(t("map.population_unknown", lang, n=unknown))
    return "<br>".join(notes) or None


def _deeper_filters(dctx, scope: views.MapScope, lang: str) -> str:
    """Names of the area filters that would narrow the area shown, comma-separated."""
    top = int(dctx.unit(scope.within)["level"]) if scope.within is not None else -1
    return ", ".join(
        dctx.level_name(level, lang)
        for level in views.filter_levels(dctx)
        if top < level < scope.level
    )


def _names(dctx, layer: maps.MapLayer, lang):
    names = layer.names
    if layer.kind == "grid":
        level = dctx.level_name(layer.level, lang).lower()
        names = figures.grid_names(names, layer.cell_deg, level, lang)
    return names


def _choropleth(dctx, layer: maps.MapLayer, values, r, lang) -> dict:
    names = _names(dctx, layer, lang)
    return figures.choropleth_arrays(
        values,
        r.indicator,
        names,
        [c for c in names.columns if c.startswith("parent_")],
        lang,
        r.radius_km,
    )


class _Access:
    """The map's road-access choices, parsed (never trusted as sent)."""

    def __init__(self, access: dict | None) -> None:
        access = access if isinstance(access, dict) else {}
        self.indicator = parse_map_access(access.get("access"))
        self.layers = parse_map_layers(access.get("layers"))
        self.mode, self.season = parse_measure(access.get("measure"))

    @property
    def uses_measure(self) -> bool:
        return self.indicator is not None or "catchments" in self.layers


def _colours(url, dctx, layer, r, acc: _Access, lang):
    """The choropleth's arrays and the units to highlight: the filters'
    indicator, or the access indicator by road (units nobody reaches drawn
    apart) when the dataset has roads."""
    if acc.indicator is not None:
        values = access_map.layer_access(
            url, dctx, layer, r.selection, acc.mode, acc.season
        )
        if values is not None:
            names = _names(dctx, layer, lang)
            parents = [c for c in names.columns if c.startswith("parent_")]
            chor = travel_choropleth_arrays(
                values, acc.indicator, names, parents, lang
            )
            return chor, chor.pop("unreached")
    values = maps.layer_values(url, dctx, r, layer)
    return _choropleth(dctx, layer, values, r, lang), []


def _highlight(geojson, codes: list[str], lang: str) -> dict:
    """Units no inhabitant of which reaches a center by road."""
    wanted = set(codes)
    features = [f for f in (geojson or {}).get("features", []) if f["id"] in wanted]
    layer = map_layout.highlight_layer(
        {"type": "FeatureCollection", "features": features},
        [f["id"] for f in features],
        name=t("map.unreached", lang),
    )
    return map_layout.under_overlays(layer)


def _overlays(url, dctx, acc: _Access, lang) -> tuple[list[dict], str | None]:
    """The road network and catchment layers asked for, and what the map
    says about them (classes left out, no roads)."""
    roads = access_map.roads(url, dctx.info.id) if "roads" in acc.layers else None
    lines = (
        access_map.catchments(url, dctx.info.id, acc.mode, acc.season)
        if "catchments" in acc.layers
        else None
    )
    notes = []
    asked = acc.layers or acc.indicator is not None
    if asked and access_map.road_stamp(url, dctx.info.id) is None:
        notes.append(t("road.none", lang))
    if roads is not None and roads[1]:
        left = ", ".join(t(f"roads.class.{c}", lang).lower() for c in roads[1])
        notes.append(t("map.roads_left_out", lang, classes=left))
    layers = map_layout.road_layers(roads[0] if roads else None, lang)
    layers.append(map_layout.catchment_layer(lines, lang))
    return layers, "<br>".join(notes) or None


def _join(*notes) -> str | None:
    return "<br>".join(n for n in notes if n) or None


def _choropleth_layer(geojson, codes, chor: dict, lang: str) -> dict:
    return map_layout.choropleth_layer(
        geojson,
        codes,
        chor["z"],
        colorscale=chor["colorscale"],
        customdata=chor["customdata"],
        hovertemplate=chor["hovertemplate"],
        colorbar_title=chor["colorbar_title"],
        name=t("map.title", lang),
    )


def _patch_choropleth(patch, chor: dict) -> None:
    """New values on the drawn choropleth; its colour bar only where it says
    something (not for a single unit), retitled but left where it lies (the
    title's text only: its side under the map stays)."""
    layer = _choropleth_layer(None, [], chor, "fr")
    trace = patch["data"][map_layout.CHOROPLETH]
    for key in ("z", "customdata", "hovertemplate", "colorscale", "showscale"):
        trace[key] = layer[key]
    trace["colorbar"]["title"]["text"] = layer["colorbar"]["title"]["text"]


@requires("view")
def update_map(filters: dict, view, drawn, dataset_id, lang, access=None):
    """Draw the map once per level and area; afterwards patch values, centers, view.

    A level with more units in the area than the map draws at once is grouped
    (a coarser level or grid cells) until the user zooms in: each move of the map
    (``relayoutData``) then redraws the units in view, unless the layer ``drawn``
    (its key, kept by the browser) is already what the view needs. Whenever the
    server moves the map it clears ``relayoutData``, so a view it reads is the one
    on screen. ``access`` may colour the map by an access indicator by road
    instead, and add the road network and the centers' catchments, for the
    travel mode and season of the road-access card.
    """
    config, dctx, r = _state(filters, dataset_id, lang)
    acc = _Access(access)
    scope = views.map_scope(dctx, r.level, r.selection)
    trigger = _first_trigger()
    if not drawn and (trigger == ids.MAP or trigger in ACCESS_IDS):
        # Nothing drawn yet: plotly's first (empty) draw reports its size, or a
        # switch fires, while the first figure is on its way, and Dash then drops
        # that first answer as stale. A patch or no_update would leave no map.
        trigger = None
    moved = trigger == ids.MAP
    seen = map_view(view)
    if moved and (seen is None or not scope.grouped):
        return no_update, no_update, no_update
    if trigger == ids.ROAD_MEASURE and not acc.uses_measure:
        return no_update, no_update, no_update
    selection_trigger = _area_trigger(views.filter_levels(dctx), trigger) is not None
    redraw = trigger is None or trigger == ids.LEVEL
    redraw = redraw or (
        selection_trigger and (scope.within is not None or scope.grouped)
    )
    if selection_trigger or trigger is None:
        seen = None  # the map is about to move to the selection: the view is stale
    layer = maps.map_layer(dctx, scope, seen)
    if moved and layer.key == drawn:
        return no_update, no_update, no_update
    url = config.database_url
    chor, unreached = _colours(url, dctx, layer, r, acc, lang)
    overlays, overlay_note = _overlays(url, dctx, acc, lang)
    note = _join(_scope_note(dctx, scope, lang, layer), overlay_note)
    if moved:
        patch = Patch()
        geojson = maps.layer_geojson(url, dctx, layer)
        patch["data"][map_layout.CHOROPLETH]["geojson"] = geojson
        patch["data"][map_layout.CHOROPLETH]["locations"] = layer.codes
        _patch_choropleth(patch, chor)
        highlight = _highlight(geojson, unreached, lang)
        patch["data"][map_layout.HIGHLIGHT] = highlight
        patch["layout"]["showlegend"] = map_layout.shows_legend([highlight, *overlays])
        patch["layout"]["annotations"] = map_layout.map_note(note)
        return patch, no_update, layer.key
    centers = figures.center_layer(
        services.centers_for(config.database_url, dctx, r), lang
    )
    view_now = _map_view(dctx, r.selection)
    if redraw:
        geojson = maps.layer_geojson(url, dctx, layer)
        # grey country under the units drawn (units without a value show it), from
        # the lightest level: never the choropleth's own shapes a second time (the
        # whole commune level twice was half of the first page's map to draw)
        context = (
            services.level_geojson(config.database_url, dctx.info.id, 0),
            dctx.units_at(0)["code"].tolist(),
        )
        fig = map_layout.map_figure(
            view_now,
            context=map_layout.context_layer(*context, lang),
            choropleth=_choropleth_layer(geojson, layer.codes, chor, lang),
            sites=[centers],
            highlight=_highlight(geojson, unreached, lang) if unreached else None,
            overlays=overlays,
            style=config.basemap_style,
            uirevision=r.selection or "country",
            note=note,
        )
        return fig, (no_update if seen is not None else None), layer.key
    patch = Patch()
    _patch_choropleth(patch, chor)
    map_layout.patch_sites(patch, centers)
    if unreached or trigger in ACCESS_IDS:
        # only what changed: a filter change leaves the geometry and overlays be
        highlight = _highlight(
            maps.layer_geojson(url, dctx, layer) if unreached else None,
            unreached,
            lang,
        )
        patch["data"][map_layout.HIGHLIGHT] = highlight
        map_layout.patch_overlays(patch, overlays)
        patch["layout"]["showlegend"] = map_layout.shows_legend(
            [highlight, *overlays]
        )
        patch["layout"]["annotations"] = map_layout.map_note(note)
    if selection_trigger:
        map_layout.patch_view(patch, view_now, r.selection or "country")
        return patch, None, no_update
    return patch, no_update, no_update


@requires("view")
def update_kpis(filters: dict, dataset_id, lang):
    """KPI cards and the label of the selection, plus messages on corrected filters."""
    config, dctx, r = _state(filters, dataset_id, lang)
    values = services.selection_kpis(config.database_url, dctx, r)
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
    """Capacity against demand, by center or by unit of the level above communes."""
    config, dctx, r = _state(filters, dataset_id, lang)
    centers = services.centers_for(config.database_url, dctx, r)
    levels = views.filter_levels(dctx)
    if mode == "department" and levels:
        frame = views.capacity_by_unit(dctx, centers, levels[-1])
        return figures.capacity_chart(frame, "name", lang)
    return figures.capacity_chart(centers, "name", lang)


@requires("view")
def update_timeseries(filters: dict, dataset_id, lang, seen=None):
    """Weekly requests by document type for the selection, once on screen.

    The chart lies below the map: the page says ``seen=False`` until it is
    scrolled near (``assets/visibility.js``), and nothing is drawn until then, so
    the browser draws the map first; any other value (a direct call) draws.
    """
    if seen is False:
        raise PreventUpdate
    config, dctx, r = _state(filters, dataset_id, lang)
    frame = services.weekly_requests(config.database_url, dctx, r)
    col = "name_fr" if lang == "fr" else "name_en"
    names = dict(zip(dctx.doc_types["code"], dctx.doc_types[col], strict=True))
    return figures.timeseries_chart(frame, names, lang)


def register(app) -> None:
    app.callback(
        Output(ids.area_filter(ALL), "value"),
        Output(ids.area_filter(ALL), "options"),
        Output(ids.area_filter(ALL), "placeholder"),
        AREAS,
        Input(ids.MAP, "clickData"),
        Input(ids.RESET, "n_clicks"),
        *CONTEXT_STATES,
        prevent_initial_call=True,
    )(sync_selection)
    app.callback(
        output=[
            Output(ids.MAP, "figure"),
            Output(ids.MAP, "relayoutData"),
            Output(ids.MAP_LAYER, "data"),
        ],
        inputs={
            "filters": FILTERS,
            "view": Input(ids.MAP, "relayoutData"),
            "drawn": State(ids.MAP_LAYER, "data"),
            **CONTEXT,
            "access": ACCESS,
        },
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
            "filters": CHART_FILTERS,
            "mode": Input(ids.CAPACITY_MODE, "value"),
            **CONTEXT,
        },
    )(update_capacity)
    app.callback(
        output=Output(ids.TIMESERIES, "figure"),
        inputs={
            "filters": CHART_FILTERS,
            "seen": Input(ids.TIMESERIES_SEEN, "data"),
            **CONTEXT,
        },
    )(update_timeseries)
    # in the browser only (assets/visibility.js): marks the series seen once it
    # is scrolled near, watched once the map and the cards above it are there
    app.clientside_callback(
        ClientsideFunction(namespace="dashapp", function_name="whenVisible"),
        Output(ids.TIMESERIES_SEEN, "data"),
        Input(ids.MAP_LAYER, "data"),
        Input(ids.KPI_CARDS, "children"),
        Input(ids.ROAD_ACCESS, "children"),
        # the box, not the graph: the graph's element is replaced once plotly
        # has loaded, and an observer on the first one would never fire
        State(ids.TIMESERIES_BOX, "id"),
        State(ids.TIMESERIES_SEEN, "id"),
    )
