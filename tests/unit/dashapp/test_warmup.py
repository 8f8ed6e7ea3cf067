"""A worker's memoised queries filled at its start (dashapp.services.warmup)."""

from __future__ import annotations

import itertools
import types

from dashapp import create_app, production, services
from dashapp.config import Config
from dashapp.services import warmup
from data import views
from geo import road_access
from geo.roads import MODES, SEASONS


def test_a_warmed_worker_serves_the_first_page_from_memory(demo_dir, monkeypatch):
    config = Config(data_dir=demo_dir)
    app = create_app(config, prepare_store=False)
    done = warmup.warm(app.server, config)
    assert done == [
        "context",
        "weekly history",
        "default measures",
        "map layers",
        "plotly.js compressed",
        "scenario workspace",
        "road access",
    ]

    def read_again(*_a, **_k):
        raise AssertionError("read from the store again")

    compressor = app.server.extensions["dashapp_static_compression"]
    assert (warmup.PLOTLY_URL, "br") in compressor.entries
    before = compressor.compressions
    page = app.server.test_client().get(
        warmup.PLOTLY_URL, headers={"Accept-Encoding": "gzip, br"}
    )
    assert page.headers["Content-Encoding"] == "br"
    assert compressor.compressions == before  # served from the warmed bytes

    monkeypatch.setattr(views, "weekly_requests_by_parent", read_again)
    monkeypatch.setattr(road_access, "selection_access", read_again)
    with app.server.app_context():
        ctx = services.context(config.database_url)
        assert len(services.weekly_by_parent(config.database_url, ctx.info.id))
        for mode, season in itertools.product(MODES, SEASONS):
            kpis = services.road_access(
                config.database_url, ctx.info.id, None, mode, season
            )
            assert kpis["mean_minutes"] > 0


def test_nothing_to_warm_on_an_empty_store_and_a_failure_is_only_logged(
    demo_dir, tmp_path, caplog
):
    app = create_app(Config(data_dir=demo_dir), prepare_store=False)
    empty = Config(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'e.db'}")
    services.get_store(empty.database_url).upgrade()
    assert warmup.warm(app.server, empty) == []
    broken = Config(data_dir=tmp_path, database_url="sqlite:////nonexistent/x.db")
    warmup.start_warmup(app.server, broken).join(60)
    assert "warm-up of the memoised queries failed" in caplog.text


def test_the_gunicorn_hook_warms_a_loaded_app_and_skips_a_failed_one(monkeypatch):
    started = []
    monkeypatch.setattr(warmup, "start_warmup", lambda s, c: started.append((s, c)))
    server = types.SimpleNamespace(config={"DASHAPP": "the config"})
    production.warm_worker(types.SimpleNamespace(wsgi=server))
    assert started == [(server, "the config")]
    production.warm_worker(types.SimpleNamespace(wsgi=lambda env, start: []))
    assert len(started) == 1
    options = production.gunicorn_options(Config(), 2)
    assert options["post_worker_init"] is production.warm_worker
