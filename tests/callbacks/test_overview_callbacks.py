import json

import numpy as np
import pytest
from dash import Patch, no_update
from dash.exceptions import PreventUpdate

from callbacks import overview, shell
from dashapp import ids, services
from data import kpi
from data.store import Store
from data.views import load_context
from geo.display import view_for_bounds
from layouts.maps import CHOROPLETH, SCALE_BAND_PX, scale_below, site_index
from layouts.overview import MAP_FIT_PX, MAP_HEIGHT_PX

ALL_DOCS = ["ACTE", "CNI", "PASS"]


@pytest.fixture
def ctx(demo_dir):
    return load_context(Store(f"sqlite:///{demo_dir / 'dashapp.sqlite'}"))


def _args(ctx, region=None, department=None, **changes):
    values = {
        "level": "commune",
        "indicator": "requests_per_1000",
        "areas": [region, department],
        "doc_types": ALL_DOCS,
        "start": ctx.weeks[-52].isoformat(),
        "end": ctx.weeks[-1].isoformat(),
        "radius": 20,
    }
    values.update(changes)
    return [values, ctx.info.id, "fr"]


def _map(call, ctx, trigger=None, view=None, drawn=None, **changes):
    """The map callback's figure (or patch), checking what it does to the view."""
    values, dataset_id, lang = _args(ctx, **changes)
    fig, relayout, layer = call(
        overview.update_map, values, view, drawn, dataset_id, lang, trigger=trigger
    )
    return fig


def _area(level) -> str:
    """The prop id Dash reports when the area filter of ``level`` fires."""
    return (
        json.dumps(ids.area_filter(level), separators=(",", ":"), sort_keys=True)
        + ".value"
    )


def test_first_draw_sends_geometry_then_filters_only_patch(call, ctx):
    fig = _map(call, ctx)
    assert isinstance(fig, dict)
    assert len(fig["data"][1]["geojson"]["features"]) == len(ctx.communes())
    assert fig["layout"]["map"]["style"] == "white-bg"  # offline style: no tiles
    patch = _map(call, ctx, radius=40, trigger=f"{ids.RADIUS}.value")
    assert isinstance(patch, Patch)
    assert "geojson" not in str(patch.to_plotly_json())


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_colour_bars_lie_below_the_map_and_the_country_fits_above_them(call, ctx, lang):
    """At every level, the indicator's and the centers' colour bars lie in the
    band under the map, and the country is fitted in the map less that band."""
    for level in ("region", "department", "commune"):
        values, dataset_id, _ = _args(ctx, level=level)
        fig, _, _ = call(overview.update_map, values, None, None, dataset_id, lang)
        assert fig["layout"]["margin"]["b"] == SCALE_BAND_PX
        chor = fig["data"][CHOROPLETH]
        centers = fig["data"][site_index()]["marker"]
        assert chor["showscale"] and centers["showscale"], level
        for bar, side in ((chor["colorbar"], "left"), (centers["colorbar"], "right")):
            assert bar == scale_below(side, bar["title"]["text"]), (level, side)
        assert centers["colorbar"]["title"]["text"] == "Utilisation (%)"  # fr = en
        assert chor["colorbar"]["title"]["text"] == ("‰/an" if lang == "fr" else "‰/yr")
    width, height = MAP_FIT_PX
    assert height == MAP_HEIGHT_PX - SCALE_BAND_PX and width > 0
    view = fig["layout"]["map"]
    fitted = view_for_bounds(*ctx.units_at(0).total_bounds, width, height)
    assert (view["center"], view["zoom"]) == (fitted["center"], fitted["zoom"])
    assert "fit" not in view and "bounds" not in view  # bounds: a pan limit
    # the country's box, for the browser to fit at the map's real width
    fit = fig["layout"]["meta"]["mapfit"]
    assert fit["bounds"] == pytest.approx(list(ctx.units_at(0).total_bounds), abs=1e-5)
    assert fit["view"] == {"center": view["center"], "zoom": view["zoom"]}
    assert fit["padding"] > 0


def test_a_new_selection_moves_the_map_and_the_area_the_browser_fits(call, ctx):
    units = ctx.units_at(0)
    region = units["code"].iloc[0]
    patch = _map(call, ctx, trigger=_area(0), region=region).to_plotly_json()
    written = {tuple(op["location"]): op["params"]["value"]
               for op in patch["operations"]}  # fmt: skip
    box = units[units["code"] == region].total_bounds
    fitted = view_for_bounds(*box, *MAP_FIT_PX)
    assert written[("layout", "map", "center")] == fitted["center"]
    assert written[("layout", "map", "zoom")] == fitted["zoom"]
    assert written[("layout", "uirevision")] == region
    meta = written[("layout", "meta")]["mapfit"]
    assert meta["bounds"] == pytest.approx(list(box), abs=1e-5)
    assert meta["view"] == {"center": fitted["center"], "zoom": fitted["zoom"]}


def test_the_browsers_fit_reported_back_costs_nothing(call, ctx):
    """assets/mapfit.js moves the map with center and zoom alone: the map's
    callback then sends nothing (no view to redraw units for)."""
    fitted = {"map.center": {"lon": 1.0, "lat": 2.0}, "map.zoom": 5.3}
    move = f"{ids.MAP}.relayoutData"
    assert _map(call, ctx, trigger=move, view=fitted, drawn="drawn") is no_update


def test_a_patched_map_keeps_its_colour_bars_where_they_lie(call, ctx):
    """A filter change or a switch retitles the indicator's colour bar and
    touches nothing else of either bar (their place under the map stays)."""
    for changes, trigger, title in (
        ({"indicator": "mean_distance"}, f"{ids.INDICATOR}.value", "km"),
        ({"radius": 40}, f"{ids.RADIUS}.value", "‰/an"),
    ):
        patch = _map(call, ctx, trigger=trigger, **changes)
        assert isinstance(patch, Patch)
        bars = {
            tuple(op["location"]): op["params"].get("value")
            for op in patch.to_plotly_json()["operations"]
            if "colorbar" in op["location"]
        }
        assert bars == {("data", CHOROPLETH, "colorbar", "title", "text"): title}


def test_level_change_redraws_with_that_levels_geometry(call, ctx):
    fig = _map(call, ctx, level="region", trigger=f"{ids.LEVEL}.value")
    assert isinstance(fig, dict)
    assert [f["id"] for f in fig["data"][1]["geojson"]["features"]] == ctx.units_at(0)[
        "code"
    ].tolist()


def test_a_selection_sent_with_a_map_move_still_moves_the_map(call, ctx):
    # a click on a unit while the map settles: Dash fires the move and the area
    # filter in one call, the move listed first
    region = ctx.units_at(0)["code"].iloc[0]
    corners = [[-20, 20], [20, 20], [20, -20], [-20, -20]]
    view = {"map.zoom": 4.0, "map._derived": {"coordinates": corners}}
    trigger = [f"{ids.MAP}.relayoutData", _area(0)]
    out = _map(call, ctx, trigger=trigger, view=view, region=region)
    assert out is not no_update
    shown = out if isinstance(out, dict) else out.to_plotly_json()
    assert "zoom" in str(shown) and shown != {}
    # the move alone is still only a move
    move = f"{ids.MAP}.relayoutData"
    assert _map(call, ctx, trigger=move, view=view, drawn="drawn") is no_update


def test_map_values_follow_the_indicator_and_the_selection(call, ctx):
    region = ctx.units_at(0)["code"].iloc[0]
    fig = _map(call, ctx, indicator="mean_delay", region=region)
    z = np.array(fig["data"][1]["z"], dtype=float)
    inside = ctx.communes()["ancestor_0"].to_numpy() == region
    assert np.isfinite(z[inside]).all() and np.isnan(z[~inside]).all()
    centers = fig["data"][site_index()]
    expected = ctx.centers[
        (ctx.centers["ancestor_0"] == region) & (ctx.centers["status"] == "open")
    ]
    assert sorted(centers["ids"]) == sorted(expected["code"])


def test_kpi_cards_show_the_catalogue_sql_values(call, ctx, demo_dir):
    region = ctx.units_at(0)["code"].iloc[2]
    cards, label, messages = call(
        overview.update_kpis, *_args(ctx, region=region, doc_types=["PASS"])
    )
    shown = {
        c.children.children.children[1]
        .children[0]
        .id["index"]: c.children.children.children[1].children[0].children
        for c in cards
    }
    store = Store(f"sqlite:///{demo_dir / 'dashapp.sqlite'}")
    filters = kpi.Filters(
        ctx.info.id, ctx.weeks[-52], ctx.weeks[-1], ("PASS",), 20.0, 2
    )
    value = kpi.run_kpi_sql(
        store, "rejection_rate", filters, [int(ctx.unit(region)["id"])]
    )
    assert shown["rejection_rate"] == f"{value:.1f}".replace(".", ",")
    requests = kpi.run_kpi_sql(
        store, "requests", filters, [int(ctx.unit(region)["id"])]
    )
    assert shown["requests"].replace("\u202f", "") == f"{requests:.0f}"
    assert ctx.unit(region)["name"] in label
    assert messages == []


def test_stale_or_invalid_filters_fall_back_with_a_message(call, ctx):
    cards, _, messages = call(
        overview.update_kpis, *_args(ctx, region="R99", radius="-5", doc_types=["XX"])
    )
    texts = " ".join(m.children for m in messages)
    assert "R99" in texts and "-5" in texts and "XX" in texts
    assert len(cards) == len(kpi.CARD_KPIS)
    fig = _map(call, ctx, level="arrondissement")
    assert len(fig["data"][1]["geojson"]["features"]) == len(ctx.communes())


def test_capacity_chart_by_center_and_by_department(call, ctx):
    args = _args(ctx)
    by_center = call(overview.update_capacity, args[0], "center", *args[1:])
    n_open = int((ctx.centers["status"] == "open").sum())
    assert len(by_center["data"][0]["y"]) == n_open
    by_dept = call(overview.update_capacity, args[0], "department", *args[1:])
    assert len(by_dept["data"][0]["y"]) == ctx.centers["ancestor_1"].nunique()
    assert sum(by_dept["data"][0]["x"]) == pytest.approx(sum(by_center["data"][0]["x"]))


def test_timeseries_has_one_line_per_selected_document_type(call, ctx):
    fig = call(overview.update_timeseries, *_args(ctx, doc_types=["CNI", "PASS"]))
    assert len(fig["data"]) == 2
    assert len(fig["data"][0]["x"]) == 52
    dept = ctx.units_at(1)["code"].iloc[0]
    country = sum(fig["data"][0]["y"])
    local = call(
        overview.update_timeseries,
        *_args(ctx, doc_types=["CNI", "PASS"], department=dept),
    )
    assert 0 < sum(local["data"][0]["y"]) < country


def test_timeseries_waits_until_the_page_says_it_is_on_screen(call, ctx):
    """The page sends ``seen=False`` until the chart below the map is scrolled
    near: nothing is computed or sent; once seen, the figure comes."""
    with pytest.raises(PreventUpdate):
        call(overview.update_timeseries, *_args(ctx), False)
    fig = call(overview.update_timeseries, *_args(ctx), True)
    assert len(fig["data"]) == len(ALL_DOCS)
    # a request without the flag (an older page, a script) is drawn as before
    assert len(call(overview.update_timeseries, *_args(ctx))["data"]) == len(ALL_DOCS)


def _sync(call, ctx, areas, trigger, click=None, reset=None, lang="fr"):
    return call(
        overview.sync_selection,
        areas,
        click,
        reset,
        ctx.info.id,
        lang,
        trigger=trigger,
    )


def test_map_click_selects_the_unit_and_reset_clears(call, ctx):
    commune = ctx.communes().iloc[10]
    click = {"points": [{"location": commune["code"]}]}
    values, options, placeholders = _sync(
        call, ctx, [None, None], f"{ids.MAP}.clickData", click
    )
    assert values == [commune["ancestor_0"], commune["ancestor_1"]]
    assert values[1] in {o["value"] for o in options[1]}
    region_name = ctx.unit(commune["ancestor_0"])["name"]
    assert placeholders == ["Tout le pays", f"Tout « {region_name} »"]
    values, _, placeholders = _sync(
        call, ctx, values, f"{ids.RESET}.n_clicks", click, reset=1
    )
    assert values == [None, None] and placeholders[1] == "Tout le pays"
    # a click on a center marker (no location) or a grid cell changes nothing
    for point in ({"lon": 0}, {"location": "grid:0.2:1:2"}, {"location": ["R01"]}):
        out = _sync(
            call, ctx, [None, None], f"{ids.MAP}.clickData", {"points": [point]}
        )
        assert out == (no_update, no_update, no_update)


def test_changing_region_drops_a_department_from_elsewhere(call, ctx):
    depts = ctx.units_at(1)
    dept = depts["code"].iloc[0]
    other_region = next(
        r for r in ctx.units_at(0)["code"] if r != depts["ancestor_0"].iloc[0]
    )
    values, options, _ = _sync(call, ctx, [other_region, dept], _area(0))
    assert values == [other_region, None]
    assert {o["value"] for o in options[1]} == set(
        depts.loc[depts["ancestor_0"] == other_region, "code"]
    )
    # choosing a department fills its region in; clearing the region clears both
    values, _, _ = _sync(call, ctx, [None, dept], _area(1))
    assert values == [depts["ancestor_0"].iloc[0], dept]
    values, options, _ = _sync(call, ctx, [None, dept], _area(0))
    assert values == [None, None] and len(options[1]) == len(depts)


def test_router_renders_pages_and_reads_the_url(call, ctx):
    page = call(shell.render_page, "/", "?region=R99&radius=30", "en", ctx.info.id)
    assert "R99" in str(page) and "“Region” filter" in str(page)
    dept = ctx.units_at(1).iloc[3]
    page = call(
        shell.render_page, "/", f"?department={dept['code']}", "fr", ctx.info.id
    )
    values = [
        c.value
        for c in _walk(page)
        if getattr(c, "id", None) in (ids.area_filter(0), ids.area_filter(1))
    ]
    assert values == [dept["ancestor_0"], dept["code"]]
    catalogue = call(shell.render_page, "/indicateurs", "", "fr", ctx.info.id)
    assert "SELECT" in str(catalogue)
    missing = call(shell.render_page, "/nowhere", "", "en", ctx.info.id)
    assert "Page not found" in str(missing)


def test_services_reuse_source_rows_across_unrelated_filters(call, ctx, demo_app):
    from dashapp.filters import resolve

    url = demo_app.server.config["DASHAPP"].database_url
    calls = []
    real = services.kpi_mod.source_frame

    def counting(store, source, filters):
        calls.append(source)
        return real(store, source, filters)

    def measures(**raw):
        return services.measures_for(url, ctx, resolve(ctx, "fr", **raw))

    services.kpi_mod.source_frame = counting
    try:
        first = call(lambda: measures(radius=35, doc_types=["CNI"]))
        calls.clear()
        again = call(lambda: measures(radius=35, doc_types=["CNI"]))
        assert calls == [] and again.equals(first)
        call(lambda: measures(radius=45, doc_types=["CNI"]))
        assert calls == ["communes"]
        calls.clear()
        passports = call(lambda: measures(radius=45, doc_types=["PASS"]))
        # operations are read once per dataset by week and type, then summed in
        # memory for any types: another type queries nothing, and changes figures
        assert calls == []
        cni = call(lambda: measures(radius=45, doc_types=["CNI"]))
        assert not passports.equals(cni)
    finally:
        services.kpi_mod.source_frame = real


def _walk(component):
    yield component
    children = getattr(component, "children", None)
    if children is None:
        return
    for child in children if isinstance(children, list | tuple) else [children]:
        if hasattr(child, "to_plotly_json"):
            yield from _walk(child)
