"""Main screen's road-access card: the selection's travel-time KPIs by measure."""

from __future__ import annotations

import pytest

from callbacks import road_access
from data.kpi import TRAVEL_KPIS
from data.store import Store
from data.views import load_context
from geo.road_access import selection_access


@pytest.fixture
def ctx(demo_dir):
    return load_context(Store(f"sqlite:///{demo_dir / 'dashapp.sqlite'}"))


def figures(body) -> dict[str, str]:
    row = body[0]
    return {c.id["index"]: c.children[1].children for c in row.children}


def test_whole_country_and_a_region_by_measure(call, ctx, demo_dir):
    store = Store(f"sqlite:///{demo_dir / 'dashapp.sqlite'}")
    body = call(road_access.update_road_access, [None, None], "motorised|dry",
                ctx.info.id, "en")  # fmt: skip
    shown = figures(body)
    assert list(shown) == list(TRAVEL_KPIS)
    expected = selection_access(store, ctx.info.id, ctx.communes_under(None),
                                mode="motorised", season="dry")  # fmt: skip
    assert shown["mean_minutes"] == f"{expected['mean_minutes']:,.1f} min"
    region = ctx.units_at(0)["code"].iloc[0]
    wet = figures(call(road_access.update_road_access, [region, None],
                       "walking|rainy", ctx.info.id, "fr"))  # fmt: skip
    expected = selection_access(store, ctx.info.id, ctx.communes_under(region),
                                mode="walking", season="rainy")  # fmt: skip
    value = f"{expected['within_60_min'] * 100:.1f}".replace(".", ",")
    assert wet["within_60_min"] == f"{value} %"


def test_forged_measure_falls_back_to_the_default(call, ctx):
    forged = call(road_access.update_road_access, [None, None], "flying|monsoon",
                  ctx.info.id, "en")  # fmt: skip
    default = call(road_access.update_road_access, [None, None], "motorised|dry",
                   ctx.info.id, "en")  # fmt: skip
    assert figures(forged) == figures(default)
