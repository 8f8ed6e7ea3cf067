"""The road-access KPIs memoised per dataset, road version, selection and measure
(dashapp.services.road_access)."""

from __future__ import annotations

import pytest

from dashapp import create_app, services
from dashapp.bootstrap import create_demo
from dashapp.config import Config
from data import roads as road_store
from geo import road_access
from geo.road_access import selection_access, store_roads


@pytest.fixture
def setup(demo_copy):
    config = Config(data_dir=demo_copy)
    app = create_app(config, prepare_store=False)
    url = config.database_url
    store = services.get_store(url)
    first = store.active_dataset().id
    return app, url, store, first


def fresh(store, dataset_id, selection=None, mode="motorised", season="dry"):
    ctx = services.context(store.url, dataset_id)
    return selection_access(store, dataset_id, ctx.communes_under(selection),
                            mode=mode, season=season)  # fmt: skip


def test_a_second_call_is_served_from_the_memo_and_a_new_network_recomputes(
    setup, monkeypatch
):
    app, url, store, ds = setup
    with app.server.app_context():
        first = services.road_access(url, ds, None, "walking", "rainy")
        assert first == fresh(store, ds, mode="walking", season="rainy")
        calls = []
        real = road_access.selection_access
        monkeypatch.setattr(
            road_access, "selection_access",
            lambda *a, **k: calls.append(a[1]) or real(*a, **k),
        )  # fmt: skip
        assert services.road_access(url, ds, None, "walking", "rainy") == first
        assert calls == []
        # another measure or area is another answer
        dry = services.road_access(url, ds, None, "walking", "dry")
        assert calls == [ds] and dry != first
        # new roads (half the lines): a new version, computed again
        lines = road_store.road_lines(store, ds)
        store_roads(store, ds, lines.iloc[: len(lines) // 2], source="test")
        again = services.road_access(url, ds, None, "walking", "rainy")
        assert calls == [ds, ds]
        assert again == fresh(store, ds, mode="walking", season="rainy")
        assert again != first


def test_another_dataset_never_gets_the_cached_figures(setup):
    app, url, store, ds = setup
    other = create_demo(store, seed=7, n_communes=60).id
    assert other != ds
    with app.server.app_context():
        mine = services.road_access(url, ds, None, "motorised", "dry")
        theirs = services.road_access(url, other, None, "motorised", "dry")
        assert theirs == fresh(store, other)
        assert theirs != mine
        assert services.road_access(url, ds, None, "motorised", "dry") == mine
