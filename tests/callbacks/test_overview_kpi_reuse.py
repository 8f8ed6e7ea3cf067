"""A change that leaves the measures as they were (the indicator, the area) reuses
the KPI values already computed for them: the map's level values and the KPI
cards' selection values are computed once per filter values, and are the values
data.views gives from the measures directly."""

from __future__ import annotations

import pandas as pd
import pytest

from callbacks import overview
from dashapp import services
from dashapp.cache import clear_memos
from dashapp.filters import resolve
from data import views
from data.store import Store
from data.views import load_context

ALL_DOCS = ["ACTE", "CNI", "PASS"]


@pytest.fixture
def ctx(demo_dir):
    return load_context(Store(f"sqlite:///{demo_dir / 'dashapp.sqlite'}"))


def _filters(ctx, **changes) -> dict:
    values = {
        "level": "commune", "indicator": "requests_per_1000", "areas": [None, None],
        "doc_types": ALL_DOCS, "start": ctx.weeks[-40].isoformat(),
        "end": ctx.weeks[-3].isoformat(), "radius": 25,
    }  # fmt: skip
    return values | changes


@pytest.fixture
def counted(monkeypatch):
    """How many times data.views computes the level and the selection values."""
    clear_memos()  # what earlier tests computed would hide the first computation
    calls = {"level": 0, "selection": 0}
    level, selection = views.level_kpis, views.selection_kpis

    def count_level(*args, **kwargs):
        calls["level"] += 1
        return level(*args, **kwargs)

    def count_selection(*args, **kwargs):
        calls["selection"] += 1
        return selection(*args, **kwargs)

    monkeypatch.setattr(views, "level_kpis", count_level)
    monkeypatch.setattr(views, "selection_kpis", count_selection)
    return calls


def test_an_indicator_change_reuses_the_cards_values(call, ctx, counted):
    first = call(overview.update_kpis, _filters(ctx), ctx.info.id, "fr")
    assert counted["selection"] == 1
    for indicator in ("mean_delay", "on_time_share", "requests_per_1000"):
        again = call(overview.update_kpis, _filters(ctx, indicator=indicator),
                     ctx.info.id, "fr")  # fmt: skip
        assert str(again[0]) == str(first[0])  # the cards do not show the indicator
    assert counted["selection"] == 1
    # another period is other measures: computed anew
    call(overview.update_kpis, _filters(ctx, start=ctx.weeks[-30].isoformat()),
         ctx.info.id, "fr")  # fmt: skip
    assert counted["selection"] == 2


def test_an_indicator_or_area_change_reuses_the_maps_level_values(call, ctx, counted):
    args = (None, None, ctx.info.id, "fr")
    call(overview.update_map, _filters(ctx), *args)
    assert counted["level"] == 1
    region = ctx.units_at(0)["code"].iloc[1]
    call(overview.update_map, _filters(ctx, indicator="mean_delay"), *args,
         trigger=f"{overview.ids.INDICATOR}.value")  # fmt: skip
    call(overview.update_map, _filters(ctx, areas=[region, None]), *args,
         trigger=f"{overview.ids.INDICATOR}.value")  # fmt: skip
    assert counted["level"] == 1
    call(overview.update_map, _filters(ctx, radius=40), *args,
         trigger=f"{overview.ids.RADIUS}.value")  # fmt: skip
    assert counted["level"] == 2


@pytest.mark.parametrize("level", [0, 1, 2])
def test_reused_values_are_those_computed_from_the_measures(call, ctx, demo_app,
                                                            level):  # fmt: skip
    url = demo_app.server.config["DASHAPP"].database_url
    region = ctx.units_at(0)["code"].iloc[2]
    for areas in ([None, None], [region, None]):
        r = call(lambda a=areas: resolve(ctx, "fr", **_filters(ctx, areas=a)))
        measures = call(lambda r=r: services.measures_for(url, ctx, r))
        shared = call(lambda r=r: services.level_kpis(url, ctx, r, level))
        before = shared.copy()
        got = views.scope_kpis(ctx, shared, level, r.selection)
        want = views.unit_kpis(ctx, measures, level, r.selection)
        pd.testing.assert_frame_equal(got, want)
        pd.testing.assert_frame_equal(shared, before)  # restricting left it as it was
        if r.selection is not None:
            assert got.isna().all(axis=1).any()  # units outside are NaN
        cards = call(lambda r=r: services.selection_kpis(url, ctx, r))
        pd.testing.assert_series_equal(
            cards, views.selection_kpis(ctx, measures, r.selection)
        )


def test_scope_kpis_restricts_a_copy(ctx, demo_app):
    url = demo_app.server.config["DASHAPP"].database_url
    with demo_app.server.app_context():
        r = resolve(ctx, "fr", **_filters(ctx))
        values = services.level_kpis(url, ctx, r, 1)
    snapshot = values.copy()
    department = ctx.units_at(1)["code"].iloc[0]
    out = views.scope_kpis(ctx, values, 1, selection=department)
    assert out.loc[department].notna().all()
    assert out.drop(index=department).isna().all().all()
    pd.testing.assert_frame_equal(values, snapshot)
    # below a region, only its departments, the selected one with values
    region = ctx.units_at(0)["code"].iloc[0]
    department = ctx.units_at(1)[ctx.units_at(1)["ancestor_0"] == region]["code"]
    out = views.scope_kpis(ctx, values, 1, department.iloc[0], within=region)
    assert list(out.index) == list(department)
    assert out.iloc[0].notna().all() and out.iloc[1:].isna().all().all()
