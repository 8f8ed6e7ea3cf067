"""The forecasts' shared cache and precompute (dashapp.services.forecasting).

Keys name a dataset version (database, id, creation time), so one dataset's
forecast is never served for another; a second process finds what the first
computed; a running precompute is waited for, a dead one taken over.
"""

from __future__ import annotations

import os
import socket
import threading
import time

import pytest

from dashapp import services
from dashapp.config import Config
from dashapp.services import forecasting
from data import forecast as fc
from tests.stores import make_tiny_store


def _config(folder, name="tiny.sqlite", **kw) -> Config:
    url = f"sqlite:///{folder / name}"
    make_tiny_store(url).engine.dispose()
    return Config(data_dir=folder, database_url=url, **kw)


def _no_compute(*_a, **_k):
    raise AssertionError("computed again instead of served from the cache")


@pytest.fixture
def forget_memory():
    """Each test starts, and ends, without forecasts held in this process."""
    forecasting._memory.clear()
    yield
    forecasting._memory.clear()


def _sentinel(level: str):
    # what the cache holds is opaque to it: a marked object tells whose it is
    return {"level": level, "marker": object.__repr__(object())}


def test_a_forecast_is_never_served_for_another_database(tmp_path, forget_memory):
    # two stores, one data folder (one results cache), the same dataset id 1
    a = _config(tmp_path, "a.sqlite")
    b = _config(tmp_path, "b.sqlite")
    assert forecasting.dataset_tag(a, 1) != forecasting.dataset_tag(b, 1)
    mine = _sentinel("center")
    forecasting.results(a).set(forecasting._key(a, "forecast", 1, "center"), mine)
    assert forecasting.cached_level_forecast(a, 1, "center") == mine
    assert forecasting.cached_level_forecast(b, 1, "center") is None
    assert forecasting.is_computed(a, 1, "center")
    assert not forecasting.is_computed(b, 1, "center")


def test_a_dataset_recreated_under_the_same_id_gets_a_new_key(tmp_path, forget_memory):
    config = _config(tmp_path)
    before = forecasting.dataset_tag(config, 1)
    forecasting.results(config).set(
        forecasting._key(config, "forecast", 1, "center"), _sentinel("center")
    )
    # the database is emptied and the dataset imported again: same URL, same id 1
    services.get_store(config.database_url).engine.dispose()
    services.get_store.cache_clear()
    services._context.cache_clear()
    (tmp_path / "tiny.sqlite").unlink()
    time.sleep(0.01)  # creation times differ
    make_tiny_store(config.database_url).engine.dispose()
    services.get_store.cache_clear()
    services._context.cache_clear()
    assert forecasting.dataset_tag(config, 1) != before
    assert forecasting.cached_level_forecast(config, 1, "center") is None


def test_a_second_process_is_served_what_the_first_computed(
    tmp_path, monkeypatch, forget_memory
):
    config = _config(tmp_path)
    first = _sentinel("department")
    monkeypatch.setattr(fc, "forecast_level", lambda *a, **k: first)
    assert forecasting.level_forecast(config, 1, "department") is first
    # another process: nothing in its memory, and it may not compute
    forecasting._memory.clear()
    monkeypatch.setattr(fc, "forecast_level", _no_compute)
    assert forecasting.level_forecast(config, 1, "department") == first
    assert forecasting.ready_level_forecast(config, 1, "department") == first


def test_precompute_remembers_why_a_level_cannot_be_forecast(tmp_path, forget_memory):
    config = _config(tmp_path)
    assert forecasting.precompute_levels(config, 1) == [
        "department",  # the scenarios' level first, then the centers
        "center",
        "national",
    ]
    done = forecasting.precompute(config, 1)
    assert set(done) == {"department", "center", "national"}
    assert all("129 weeks" in why for why in done.values())
    assert forecasting.is_precomputed(config, 1)
    error = forecasting.level_error(config, 1, "center")
    assert error.code == "short_history" and "129 weeks" in str(error)
    assert error.params["need"] == 129
    with pytest.raises(fc.ForecastError, match="129 weeks"):
        forecasting.ready_level_forecast(config, 1, "center")
    # a level the dataset does not have is refused at once, never waited for
    with pytest.raises(fc.ForecastError, match="unknown level"):
        forecasting.ready_level_forecast(config, 1, "commune'; DROP TABLE x;--")


def test_a_running_precompute_is_waited_for_not_redone(
    tmp_path, monkeypatch, forget_memory
):
    config = _config(tmp_path, precompute=True)
    lease = forecasting._lease_key(config, 1)
    holder = {"host": socket.gethostname(), "pid": os.getpid()}  # alive
    forecasting.results(config).set(lease, holder)
    monkeypatch.setattr(fc, "forecast_level", _no_compute)
    theirs = _sentinel("department")
    key = forecasting._key(config, "forecast", 1, "department")

    def finish():
        time.sleep(0.5)
        forecasting.results(config).set(key, theirs)

    threading.Thread(target=finish).start()
    assert not forecasting.start_precompute(config, 1)  # it is someone else's
    assert forecasting.ready_level_forecast(config, 1, "department") == theirs


def test_a_dead_precompute_is_taken_over_once(tmp_path, monkeypatch):
    config = _config(tmp_path, precompute=True)
    dead = _dead_pid()
    lease = forecasting._lease_key(config, 1)
    forecasting.results(config).set(lease, {"host": socket.gethostname(), "pid": dead})
    started = []

    class FakePopen:
        pid = os.getpid()  # alive: the next call must see the lease taken

        def __init__(self, args, **kwargs):
            started.append(args)
            self.stdin = open(os.devnull, "wb")  # noqa: SIM115

        def wait(self):
            return 0

    monkeypatch.setattr(forecasting.subprocess, "Popen", FakePopen)
    assert forecasting.start_precompute(config, 1)
    assert forecasting.results(config).get(lease)["pid"] == os.getpid()
    assert not forecasting.start_precompute(config, 1)  # the lease is held
    assert len(started) == 1
    # once done, never started again, whoever asks
    forecasting.results(config).delete(lease)
    forecasting.results(config).set(forecasting._key(config, "precomputed", 1), {})
    assert not forecasting.start_precompute(config, 1)
    assert len(started) == 1


def test_no_precompute_when_turned_off(tmp_path, monkeypatch):
    config = _config(tmp_path, precompute=False)
    monkeypatch.setattr(forecasting.subprocess, "Popen", _no_compute)
    assert not forecasting.start_precompute(config, 1)
    assert not forecasting.precompute_running(config, 1)
    assert Config.from_env({"DASHAPP_PRECOMPUTE": "off"}).precompute is False
    assert Config.from_env({"DASHAPP_PRECOMPUTE": "1"}).precompute is True


def test_the_split_demand_is_kept_per_horizon(tmp_path, monkeypatch, forget_memory):
    config = _config(tmp_path)
    calls = []

    def split(store, dataset_id, horizon, docs, forecast):
        calls.append((horizon, docs))
        return f"demand at {horizon}"

    monkeypatch.setattr(fc, "forecast_demand_by_commune", split)
    monkeypatch.setattr(
        forecasting, "ready_level_forecast", lambda *a, **k: _sentinel("department")
    )
    assert forecasting.demand_by_commune(config, 1, 4) == "demand at 4"
    assert forecasting.demand_by_commune(config, 1, 4) == "demand at 4"
    assert forecasting.demand_by_commune(config, 1, 8) == "demand at 8"
    assert calls == [(4, None), (8, None)]
    with pytest.raises(fc.ForecastError, match="horizon"):
        forecasting.demand_by_commune(config, 1, 0)


def _dead_pid() -> int:
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_the_redis_results_take_a_lease_once(redis_server):
    from dashapp.cache import RedisResults

    store = RedisResults(redis_server.url(4), f"test-lease-{os.getpid()}")
    store.delete("lease")
    assert "lease" not in store
    assert store.add("lease", {"pid": 1}, expire=60)
    assert not store.add("lease", {"pid": 2}, expire=60)  # taken
    assert "lease" in store and store.get("lease") == {"pid": 1}
    assert store.delete("lease") and "lease" not in store
    assert store.add("lease", {"pid": 3}) and store.get("lease") == {"pid": 3}
