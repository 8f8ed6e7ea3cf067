"""The overview map on a dataset above data.views.MAX_MAP_UNITS communes.

The commune level is drawn nationally as departments with a message, and inside a
selection as that selection's communes only; every map response stays small.
"""

from __future__ import annotations

import dataclasses
import functools
import json

import plotly
import pytest
from dash import Patch

from callbacks import overview
from dashapp import create_app, ids
from dashapp.config import Config
from data import views
from data.demo import generate_demo
from data.store import Store
from geo.access import nearest_center
from tests.callbacks.conftest import run_callback

N_COMMUNES = 4000
MAX_RESPONSE_BYTES = 5_000_000


@pytest.fixture(scope="module")
def large_dir(tmp_path_factory):
    """The demo generator's country at 4,000 communes, with 8 weeks of operations.

    All three years of operations would take ~20 s to store; the map only needs the
    geometry and some values.
    """
    path = tmp_path_factory.mktemp("large")
    country = generate_demo(seed=42, n_communes=N_COMMUNES)
    ops = country.operations
    last = sorted(ops["week"].unique())[-8:]
    country = dataclasses.replace(
        country, operations=ops[ops["week"].isin(last)].reset_index(drop=True)
    )
    store = Store(f"sqlite:///{path / 'dashapp.sqlite'}")
    store.upgrade()
    store.add_dataset(country, kind="synthetic", access=nearest_center)
    store.engine.dispose()
    return path


@pytest.fixture(scope="module")
def large_app(large_dir):
    return create_app(Config(data_dir=large_dir), prepare_store=False)


@pytest.fixture(scope="module")
def ctx(large_dir):
    return views.load_context(Store(f"sqlite:///{large_dir / 'dashapp.sqlite'}"))


@pytest.fixture
def call(large_app):
    return functools.partial(run_callback, large_app)


def _args(ctx, lang="fr", region=None, department=None, **changes):
    values = {
        "level": "commune",
        "indicator": "requests_per_1000",
        "areas": [region, department],
        "doc_types": ["ACTE", "CNI", "PASS"],
        "start": ctx.weeks[0].isoformat(),
        "end": ctx.weeks[-1].isoformat(),
        "radius": 20,
    }
    values.update(changes)
    return [values, None, None, ctx.info.id, lang]


def _map(call, ctx, trigger=None, **changes):
    fig, _, _ = call(overview.update_map, *_args(ctx, **changes), trigger=trigger)
    return fig


def _area(level) -> str:
    return (
        json.dumps(ids.area_filter(level), separators=(",", ":"), sort_keys=True)
        + ".value"
    )


def _bytes(out) -> int:
    if isinstance(out, Patch):
        out = out.to_plotly_json()
    return len(json.dumps(out, cls=plotly.utils.PlotlyJSONEncoder))


def _drawn(fig) -> list[str]:
    return [f["id"] for f in fig["data"][1]["geojson"]["features"]]


def test_dataset_is_large_and_scope_follows_the_threshold(ctx):
    assert len(ctx.communes()) == N_COMMUNES > views.MAX_MAP_UNITS
    assert views.map_scope(ctx, 2, None) == views.MapScope(
        2, None, group_level=1, n_units=N_COMMUNES
    )
    region = ctx.units_at(0)["code"].iloc[0]
    n = int((ctx.communes()["ancestor_0"] == region).sum())
    assert views.map_scope(ctx, 2, region) == views.MapScope(2, region, n_units=n)
    assert views.map_scope(ctx, 1, region) == views.MapScope(
        1, n_units=len(ctx.units_at(1))
    )


def test_commune_level_without_selection_draws_departments_and_says_so(call, ctx):
    fig = _map(call, ctx)
    assert _drawn(fig) == ctx.units_at(1)["code"].tolist()
    assert len(fig["data"][1]["z"]) == len(ctx.units_at(1))
    assert fig["data"][0]["locations"] == ctx.units_at(0)["code"].tolist()
    note = fig["layout"]["annotations"][0]["text"]
    assert "Niveau « commune » : 4\u202f000 unités" in note
    assert "la carte montre le niveau « département »" in note
    assert "Zoomez sur la carte" in note
    assert "choisissez une zone dans les filtres : Région, Département" in note
    fig_en = _map(call, ctx, lang="en")
    assert (
        "Or choose an area in the filters: Region, Department"
        in (fig_en["layout"]["annotations"][0]["text"])
    )
    assert _bytes(fig) < 1_000_000


def test_selection_sends_only_its_communes_then_patches(call, ctx):
    communes = ctx.communes()
    region = communes["ancestor_0"].value_counts().index[0]  # the largest region
    fig = _map(call, ctx, region=region, trigger=_area(0))
    assert isinstance(fig, dict)
    inside = communes.loc[communes["ancestor_0"] == region, "code"].tolist()
    assert _drawn(fig) == inside
    assert fig["data"][1]["locations"] == inside
    # grey context: the regions, not a second copy of the selection's communes
    assert fig["data"][0]["locations"] == ctx.units_at(0)["code"].tolist()
    assert "annotations" not in fig["layout"]
    assert _bytes(fig) < MAX_RESPONSE_BYTES

    dept = communes.loc[communes["ancestor_0"] == region, "ancestor_1"].iloc[0]
    fig = _map(call, ctx, region=region, department=dept, trigger=_area(1))
    in_dept = communes.loc[communes["ancestor_1"] == dept, "code"].tolist()
    assert _drawn(fig) == in_dept

    patch = _map(
        call,
        ctx,
        region=region,
        department=dept,
        indicator="population",
        trigger=f"{ids.INDICATOR}.value",
    )
    assert isinstance(patch, Patch)
    patched = patch.to_plotly_json()
    assert "geojson" not in str(patched)
    z = next(
        op["params"]["value"]
        for op in patched["operations"]
        if op["location"] == ["data", 1, "z"]
    )
    assert len(z) == len(in_dept) and None not in z
    assert _bytes(patch) < MAX_RESPONSE_BYTES


def test_clearing_the_selection_goes_back_to_departments(call, ctx):
    fig = _map(call, ctx, trigger=_area(0))
    assert isinstance(fig, dict)
    assert _drawn(fig) == ctx.units_at(1)["code"].tolist()
    assert fig["layout"]["annotations"]


def test_upper_levels_are_drawn_nationally_and_patched(call, ctx):
    fig = _map(call, ctx, level="department", trigger=f"{ids.LEVEL}.value")
    assert _drawn(fig) == ctx.units_at(1)["code"].tolist()
    assert "annotations" not in fig["layout"]
    region = ctx.units_at(0)["code"].iloc[0]
    patch = _map(call, ctx, level="department", region=region, trigger=_area(0))
    assert isinstance(patch, Patch)
