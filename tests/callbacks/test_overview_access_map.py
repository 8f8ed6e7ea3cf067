"""Main map by road: coloured by travel time, road network and catchments."""

from __future__ import annotations

import numpy as np
import pytest
from dash import Patch, no_update

from callbacks import overview
from dashapp import ids
from data.store import Store
from data.views import load_context
from geo.road_access import selection_access, travel_access
from layouts import maps

ALL_DOCS = ["ACTE", "CNI", "PASS"]
ROADS = maps.overlay_index(0)
CATCHMENTS = maps.overlay_index(len(maps.ROAD_STYLES))


@pytest.fixture
def ctx(demo_dir):
    return load_context(Store(f"sqlite:///{demo_dir / 'dashapp.sqlite'}"))


@pytest.fixture
def store(demo_dir):
    return Store(f"sqlite:///{demo_dir / 'dashapp.sqlite'}")


def _filters(ctx, level="commune", region=None):
    return {
        "level": level,
        "indicator": "requests_per_1000",
        "areas": [region, None],
        "doc_types": ALL_DOCS,
        "start": ctx.weeks[-52].isoformat(),
        "end": ctx.weeks[-1].isoformat(),
        "radius": 20,
    }


def _map(call, ctx, access=None, trigger=None, lang="fr", drawn="drawn", **filters):
    fig, _, _ = call(
        overview.update_map, _filters(ctx, **filters), None, drawn, ctx.info.id, lang,
        access, trigger=trigger,
    )  # fmt: skip
    return fig


def _access(indicator="indicator", layers=(), measure="motorised|dry"):
    return {"access": indicator, "layers": list(layers), "measure": measure}


def test_first_draw_has_empty_overlays_in_fixed_slots(call, ctx):
    fig = _map(call, ctx, _access())
    data = fig["data"]
    assert len(data) == maps.overlay_index(maps.N_OVERLAYS - 1) + 1
    assert data[maps.halo_index(0)]["uid"] == maps.HALO_UID
    for layer in data[ROADS:]:
        assert layer["lon"] == [None] and layer["showlegend"] is False
        assert layer["below"] == maps.OVERLAY_BELOW
    assert fig["layout"]["showlegend"] is False
    # the grey context is the top level's outline, not the communes again
    assert data[maps.CONTEXT]["locations"] == ctx.units_at(0)["code"].tolist()


def test_commune_travel_minutes_match_the_access_rule(call, ctx, store):
    fig = _map(call, ctx, _access("mean_minutes"))
    chor = fig["data"][maps.CHOROPLETH]
    found = travel_access(store, ctx.info.id, mode="motorised", season="dry")
    minutes = dict(zip(found["communes"], found["minutes"], strict=True))
    population = dict(zip(found["communes"], found["population"], strict=True))
    checked = 0
    for code, z in zip(chor["locations"], chor["z"], strict=True):
        if np.isfinite(minutes[code]) and population[code] > 0:
            assert z == pytest.approx(minutes[code])
            checked += 1
        else:  # never 0 minutes for a commune no road joins to a center
            assert z is None
    assert checked > 300
    assert "min" in chor["colorbar"]["title"]["text"]
    hover = chor["customdata"][0]
    assert len(hover) == 5  # name, region, department, minutes, nearest center


def test_unreached_communes_are_said_and_highlighted(call, ctx, store):
    found = travel_access(store, ctx.info.id, mode="walking", season="rainy")
    gone = [c for c, m in zip(found["communes"], found["minutes"], strict=True)
            if not np.isfinite(m)]  # fmt: skip
    assert gone, "the demo's rainy walk leaves communes without a center"
    fig = _map(call, ctx, _access("mean_minutes", measure="walking|rainy"))
    chor = fig["data"][maps.CHOROPLETH]
    row = chor["locations"].index(gone[0])
    assert chor["z"][row] is None
    assert chor["customdata"][row][3] == "non atteint"
    assert chor["customdata"][row][4] == "non atteint"
    highlight = fig["data"][maps.HIGHLIGHT]
    assert set(gone) <= set(highlight["locations"])
    assert highlight["showlegend"] is True
    assert highlight["name"] == "Aucun centre atteint"
    assert fig["layout"]["showlegend"] is True


def test_region_shares_match_the_road_access_card(call, ctx, store):
    fig = _map(call, ctx, _access("within_60_min", measure="motorised|rainy"),
               level="region", trigger=f"{ids.LEVEL}.value")  # fmt: skip
    chor = fig["data"][maps.CHOROPLETH]
    for code, z in zip(chor["locations"], chor["z"], strict=True):
        expected = selection_access(store, ctx.info.id, ctx.communes_under(code),
                                    mode="motorised", season="rainy")  # fmt: skip
        assert z == pytest.approx(expected["within_60_min"] * 100)
    assert chor["colorbar"]["title"]["text"] == "%"


def test_switches_patch_values_and_overlays(call, ctx):
    patch = _map(call, ctx, _access("within_30_min", ["roads", "catchments"]),
                 trigger=f"{ids.MAP_LAYERS}.value", lang="en")  # fmt: skip
    assert isinstance(patch, Patch)
    ops = patch.to_plotly_json()["operations"]
    written = {tuple(op["location"]): op["params"].get("value") for op in ops}
    trunk = written[("data", ROADS)]
    assert trunk["showlegend"] is True and trunk["name"] == "Trunk road"
    assert None in trunk["lon"] and len(trunk["lon"]) > 10
    assert len(written[("data", CATCHMENTS)]["lon"]) > 100
    assert written[("data", CATCHMENTS)]["name"].startswith("Catchment")
    assert written[("layout", "showlegend")] is True
    assert "geojson" not in str(written[("data", maps.CHOROPLETH, "z")])


def test_a_switch_before_the_first_figure_came_back_draws_it_whole(call, ctx):
    # plotly's first empty draw reports its size, or a switch fires, while the first
    # figure is on its way: Dash drops that first answer, so a patch or no_update
    # would leave no map at all
    for trigger in (*overview.ACCESS_IDS, f"{ids.MAP}.relayoutData"):
        prop = trigger if trigger.endswith("Data") else f"{trigger}.value"
        fig = _map(call, ctx, _access("mean_minutes"), trigger=prop, drawn=None)
        assert isinstance(fig, dict) and fig["data"][maps.CHOROPLETH]["geojson"]


def test_measure_change_without_travel_on_the_map_sends_nothing(call, ctx):
    out = _map(call, ctx, _access(), trigger=f"{ids.ROAD_MEASURE}.value")
    assert out is no_update
    out = _map(call, ctx, _access("mean_minutes", measure="walking|dry"),
               trigger=f"{ids.ROAD_MEASURE}.value")  # fmt: skip
    assert isinstance(out, Patch)


@pytest.mark.parametrize(
    "access",
    [
        {"access": "drop table", "layers": "roads", "measure": "flying|monsoon"},
        {"access": 12, "layers": [None, {"a": 1}, "satellite"], "measure": None},
        "not a dict",
        None,
    ],
)
def test_forged_access_choices_fall_back_to_the_filters_indicator(call, ctx, access):
    fig = _map(call, ctx, access)
    plain = _map(call, ctx, _access())
    assert fig["data"][maps.CHOROPLETH]["z"] == plain["data"][maps.CHOROPLETH]["z"]
    assert all(layer["lon"] == [None] for layer in fig["data"][ROADS:])


def test_a_dataset_without_roads_says_so(call, ctx, monkeypatch):
    from dashapp.services import access_map

    monkeypatch.setattr(access_map, "road_stamp", lambda url, dataset_id: None)
    monkeypatch.setattr(access_map, "commune_travel", lambda *a: None)
    fig = _map(call, ctx, _access("mean_minutes", ["roads"]))
    note = fig["layout"]["annotations"][0]["text"]
    assert "pas de réseau routier" in note
    plain = _map(call, ctx, _access())
    assert fig["data"][maps.CHOROPLETH]["z"] == plain["data"][maps.CHOROPLETH]["z"]
