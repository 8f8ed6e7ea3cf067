"""The main screen on datasets shaped unlike the demo.

A country of communes alone under a national unit (as the importer stores a layer of
communes) and one with a national unit above regions and departments: the filters
follow their levels, and a selection too large to draw is grouped on a grid until
the user zooms in, every map response staying under the budget.
"""

from __future__ import annotations

import functools
import json

import numpy as np
import plotly
import pytest
from dash import Patch, no_update

from callbacks import overview, shell
from dashapp import create_app, ids
from dashapp.config import Config
from data import views
from data.store import Store
from geo.access import nearest_center
from geo.display import GRID_PREFIX
from tests.callbacks.conftest import run_callback
from tests.levels import flat_bundle, nested_bundle

N_FLAT = 6_000  # above views.MAX_MAP_UNITS: no commune is drawn nationally
BUDGET_BYTES = 2_000_000  # one map response, as JSON


def _store_dir(tmp_path_factory, name, bundle):
    path = tmp_path_factory.mktemp(name)
    store = Store(f"sqlite:///{path / 'dashapp.sqlite'}")
    store.upgrade()
    store.add_dataset(bundle, kind="imported", access=nearest_center)
    store.engine.dispose()
    return path


@pytest.fixture(scope="module")
def flat_dir(tmp_path_factory):
    return _store_dir(tmp_path_factory, "flat", flat_bundle(N_FLAT))


@pytest.fixture(scope="module")
def national_dir(tmp_path_factory):
    return _store_dir(
        tmp_path_factory, "national", nested_bundle([2, 3, 4], national=True)
    )


def _world(path):
    app = create_app(Config(data_dir=path), prepare_store=False)
    ctx = views.load_context(Store(f"sqlite:///{path / 'dashapp.sqlite'}"))
    return functools.partial(run_callback, app), ctx


@pytest.fixture(scope="module")
def flat(flat_dir):
    return _world(flat_dir)


@pytest.fixture(scope="module")
def national(national_dir):
    return _world(national_dir)


def _filters(areas=(), **changes):
    values = {
        "level": "commune",
        "indicator": "population",
        "areas": list(areas),
        "doc_types": None,
        "start": None,
        "end": None,
        "radius": 20,
    }
    return {**values, **changes}


def _map(world, view=None, trigger=None, areas=(), lang="fr", drawn=None, **changes):
    """(figure or patch, relayoutData, key of the layer drawn) of the map callback."""
    call, ctx = world
    return call(
        overview.update_map,
        _filters(areas, **changes),
        view,
        drawn,
        ctx.info.id,
        lang,
        trigger=trigger,
    )


def _bytes(out) -> int:
    if isinstance(out, Patch):
        out = out.to_plotly_json()
    return len(json.dumps(out, cls=plotly.utils.PlotlyJSONEncoder))


def _ops(patch: Patch) -> dict:
    return {
        tuple(op["location"]): op["params"].get("value")
        for op in patch.to_plotly_json()["operations"]
    }


def _view(ctx, zoom: float, half_deg: float) -> dict:
    """relayoutData as plotly reports it after a zoom on the country's middle."""
    minx, miny, maxx, maxy = ctx.communes().total_bounds
    x, y = (minx + maxx) / 2, (miny + maxy) / 2
    corners = [
        [x - half_deg, y + half_deg],
        [x + half_deg, y + half_deg],
        [x + half_deg, y - half_deg],
        [x - half_deg, y - half_deg],
    ]
    return {
        "map.center": {"lon": x, "lat": y},
        "map.zoom": zoom,
        "map._derived": {"coordinates": corners},
    }


def _area(level) -> str:
    stringified = json.dumps(
        ids.area_filter(level), separators=(",", ":"), sort_keys=True
    )
    return f"{stringified}.value"


def test_a_flat_country_draws_a_grid_with_a_note_under_budget(flat):
    _, ctx = flat
    fig, relayout, layer = _map(flat)
    assert relayout is None and layer.startswith("grid:")
    codes = fig["data"][1]["locations"]
    assert all(c.startswith(GRID_PREFIX) for c in codes)
    assert 1 < len(codes) <= 1_500
    # each cell holds the sum of its communes: the populations add up
    z = np.array(fig["data"][1]["z"], dtype=float)
    assert z.sum() == pytest.approx(ctx.communes()["population"].sum())
    assert fig["data"][0]["locations"] == ["NAT"]  # grey: the country's outline
    note = fig["layout"]["annotations"][0]["text"]
    assert "Niveau « commune » : 6\u202f000 unités" in note
    assert "regroupe en cases de 0,05°" in note and "Zoomez sur la carte" in note
    assert "filtres" not in note  # no level to choose an area with
    hover = fig["data"][1]["customdata"][0][0]
    assert hover.startswith("Case de 0,05° : ") and "unités « commune »" in hover
    assert _bytes(fig) < BUDGET_BYTES


def test_zooming_in_draws_the_communes_in_view_then_patches_them(flat):
    _, ctx = flat
    view = _view(ctx, 10.0, 0.15)
    grid = _map(flat)[2]
    patch, relayout, layer = _map(
        flat, view, trigger=f"{ids.MAP}.relayoutData", drawn=grid
    )
    assert isinstance(patch, Patch) and relayout is no_update
    assert layer.startswith("units:") and layer != grid
    ops = _ops(patch)
    drawn = ops[("data", 1, "locations")]
    features = ops[("data", 1, "geojson")]["features"]
    assert [f["id"] for f in features] == drawn
    assert 0 < len(drawn) <= views.MAX_MAP_UNITS
    assert not any(c.startswith(GRID_PREFIX) for c in drawn)
    # every commune touching the view (and a margin) is there, none far away
    communes = ctx.communes().set_index("code")
    lon = communes.loc[drawn, "rep_lon"]
    center = view["map.center"]["lon"]
    assert (abs(lon - center) < 0.15 * 1.5 + 0.03).all()
    note = ops[("layout", "annotations")][0]["text"]
    assert f"les {len(drawn)} unités de la zone visible, sur 6\u202f000" in note
    assert _bytes(patch) < BUDGET_BYTES
    # a filter change now patches the values of the communes in view only
    # a small move that keeps the same communes in view sends nothing
    nudged = _view(ctx, 10.0, 0.15)
    nudged["map._derived"]["coordinates"][0][0] += 1e-6
    assert _map(flat, nudged, trigger=f"{ids.MAP}.relayoutData", drawn=layer) == (
        no_update,
        no_update,
        no_update,
    )
    patch, relayout, kept = _map(
        flat, view, trigger=f"{ids.RADIUS}.value", indicator="pop_within", drawn=layer
    )
    assert relayout is no_update and kept is no_update
    ops = _ops(patch)
    assert len(ops[("data", 1, "z")]) == len(drawn)
    assert ("data", 1, "geojson") not in ops
    # zoomed out again: back to the grid
    patch, _, back = _map(
        flat, _view(ctx, 6.0, 3.0), trigger=f"{ids.MAP}.relayoutData", drawn=layer
    )
    assert all(c.startswith(GRID_PREFIX) for c in _ops(patch)[("data", 1, "locations")])
    assert back.startswith("grid:")


def test_a_view_the_browser_did_not_send_changes_nothing(flat):
    move = f"{ids.MAP}.relayoutData"
    for view in (None, {"autosize": True}, {"map.zoom": "x"}, [1, 2], "view"):
        out = _map(flat, view, trigger=move, drawn="drawn")
        assert out == (no_update,) * 3
    forged = {"map.zoom": 9, "map._derived": {"coordinates": [[1e9, "a"]]}}
    assert _map(flat, forged, trigger=move, drawn="drawn") == (no_update,) * 3
    # before the first figure came back (plotly's empty first draw reports its
    # size): the map is drawn whole, or it would never be
    fig, relayout, layer = _map(flat, {"autosize": True}, trigger=move)
    assert isinstance(fig, dict) and fig["data"][1]["locations"] and layer


def test_the_level_above_is_drawn_whole_and_the_view_ignored(flat):
    _, ctx = flat
    fig, _, _ = _map(flat, level="country", trigger=f"{ids.LEVEL}.value")
    assert fig["data"][1]["locations"] == ["NAT"]
    assert "annotations" not in fig["layout"]
    out = _map(flat, _view(ctx, 10.0, 0.15), level="country", trigger=None)
    assert out[0]["data"][1]["locations"] == ["NAT"]
    moved = _map(
        flat, _view(ctx, 10, 0.1), level="country", trigger=f"{ids.MAP}.relayoutData",
        drawn="drawn",
    )  # fmt: skip
    assert moved == (no_update,) * 3


def test_the_other_overview_callbacks_work_without_area_filters(flat):
    call, ctx = flat
    cards, label, messages = call(overview.update_kpis, _filters(), ctx.info.id, "fr")
    assert "Tout le pays" in label and messages == []
    assert call(overview.update_capacity, _filters(), "department", ctx.info.id, "fr")
    assert call(overview.update_timeseries, _filters(), ctx.info.id, "en")
    # a click on a grid cell or a commune selects nothing: there is no filter
    for code in ("grid:0.05:-100:240", ctx.communes()["code"].iloc[0]):
        click = {"points": [{"location": code}]}
        out = call(
            overview.sync_selection,
            [],
            click,
            None,
            ctx.info.id,
            "fr",
            trigger=f"{ids.MAP}.clickData",
        )
        assert out in ((no_update,) * 3, ([], [], []))


def test_a_national_unit_on_top_gives_region_and_department_filters(national):
    call, ctx = national
    page = call(shell.render_page, "/", "?department=L1-004", "fr", ctx.info.id)
    text = str(page)
    assert "Pays : Pays test" in text
    dropdowns = {
        c.id["index"]: c
        for c in _walk(page)
        if isinstance(getattr(c, "id", None), dict) and c.id.get("type") == ids.AREA
    }
    assert sorted(dropdowns) == [1, 2]
    assert dropdowns[1].value == "L0-002" and dropdowns[2].value == "L1-004"
    assert [o["value"] for o in dropdowns[1].options] == ["L0-001", "L0-002"]
    assert [o["value"] for o in dropdowns[2].options] == ["L1-004", "L1-005", "L1-006"]
    # a click on a commune selects its department and region
    values, options, _ = call(
        overview.sync_selection,
        [None, None],
        {"points": [{"location": "C00001"}]},
        None,
        ctx.info.id,
        "en",
        trigger=f"{ids.MAP}.clickData",
    )
    assert values == ["L0-001", "L1-001"]
    fig, _, _ = _map(national, areas=values)  # a page opened on this selection
    assert fig["data"][1]["locations"] == ctx.communes()["code"].tolist()
    z = np.array(fig["data"][1]["z"], dtype=float)
    inside = ctx.communes()["ancestor_2"].to_numpy() == "L1-001"
    assert np.isfinite(z[inside]).all() and np.isnan(z[~inside]).all()
    cards, label, messages = call(
        overview.update_kpis, _filters(values), ctx.info.id, "fr"
    )
    assert "Département 1 (département)" in label and messages == []
    # then a department chosen in the list: a small country is only patched
    patch, relayout, _ = _map(national, areas=["L0-001", "L1-002"], trigger=_area(2))
    assert isinstance(patch, Patch) and relayout is None  # the map moves
    z = np.array(_ops(patch)[("data", 1, "z")], dtype=float)
    assert np.isfinite(z).sum() == 4


def _walk(component):
    yield component
    children = getattr(component, "children", None)
    if children is None:
        return
    for child in children if isinstance(children, list | tuple) else [children]:
        if hasattr(child, "to_plotly_json"):
            yield from _walk(child)


def test_forged_area_filters_through_the_real_endpoint(demo_app, demo_dir):
    """Ids, values and views as a crafted request sends them: answers, never a 500."""
    from bench.bench_overview import AREAS, areas, callback_body
    from tests.auth_helpers import signed_in_client

    client = signed_in_client(demo_app, "viewer")
    dataset = views.load_context(Store(f"sqlite:///{demo_dir / 'dashapp.sqlite'}"))
    sync = next(
        k for k in demo_app.callback_map if k.startswith("..{") and ids.AREA in k
    )
    forged = [
        {"id": {"type": ids.AREA, "index": "x"}, "property": "value", "value": ["R01"]},
        {"id": {"type": ids.AREA, "index": 1}, "property": "value", "value": {"a": 1}},
    ]
    base = {f"{ids.DATASET}.data": dataset.info.id, f"{ids.LANG}.data": "en"}
    body = callback_body(demo_app, sync, {**base, AREAS: forged}, [_area(1)])
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 200, response.data[:300]
    out = response.get_json()["response"]
    # the filter with a forged id gets nothing; the forged value is dropped
    assert [v["value"] for v in out.values()] == [None, None]

    key = next(k for k in demo_app.callback_map if f"{ids.MAP}.figure" in k)
    values = {
        **base,
        AREAS: areas([0, 1], ["R01", "DROP TABLE"]),
        f"{ids.LEVEL}.value": "commune",
        f"{ids.MAP}.relayoutData": {"map._derived": {"coordinates": "x"}},
        f"{ids.MAP_LAYER}.data": "drawn",  # a map on screen (else it is drawn whole)
    }
    response = client.post(
        "/_dash-update-component",
        json=callback_body(demo_app, key, values, [f"{ids.MAP}.relayoutData"]),
    )
    assert response.get_json()["response"] == {}  # a view that is none: no change
    response = client.post(
        "/_dash-update-component", json=callback_body(demo_app, key, values, [])
    )
    assert response.status_code == 200, response.data[:300]
    kpis = next(k for k in demo_app.callback_map if ids.FILTER_MESSAGES in k)
    response = client.post(
        "/_dash-update-component", json=callback_body(demo_app, kpis, values, [])
    )
    text = json.dumps(response.get_json(), ensure_ascii=False)
    assert "“DROP TABLE” for the “Department” filter" in text
