"""The forecasts' precompute for real: a background process on the demo country."""

from __future__ import annotations

import time

import pandas as pd
import pytest

from dashapp import services
from dashapp.config import Config
from dashapp.services import forecasting
from data import forecast as fc

pytestmark = pytest.mark.slow


def test_the_precompute_process_leaves_every_level_and_the_demand_split(
    demo_copy, monkeypatch
):
    config = Config(data_dir=demo_copy, precompute=True)
    forecasting._memory.clear()
    assert forecasting.start_precompute(config, 1)
    assert not forecasting.start_precompute(config, 1)  # one process per dataset
    assert forecasting.precompute_running(config, 1)
    deadline = time.monotonic() + 900  # minutes on a loaded 2-core machine
    while not forecasting.is_precomputed(config, 1):
        assert time.monotonic() < deadline, "the precompute did not finish"
        time.sleep(0.5)
    # a screen is now served what the process left, and computes nothing
    monkeypatch.setattr(fc, "forecast_level", _no_compute)
    monkeypatch.setattr(fc, "commune_shares", _no_compute)
    for level in ("national", "region", "department", "center"):
        assert forecasting.cached_level_forecast(config, 1, level).level == level
    demand = forecasting.demand_by_commune(config, 1, 12)
    assert len(demand) == 400 and demand.sum() > 0
    # the split the process kept is the one a screen would have made itself
    monkeypatch.undo()
    direct = fc.forecast_demand_by_commune(
        services.get_store(config.database_url),
        1,
        12,
        forecast=forecasting.cached_level_forecast(config, 1, "department"),
    )
    pd.testing.assert_series_equal(demand, direct)
    assert not forecasting.start_precompute(config, 1)  # done: never again
    until = time.monotonic() + 30
    while forecasting.precompute_running(config, 1):  # its lease is given back
        assert time.monotonic() < until
        time.sleep(0.2)


def _no_compute(*_a, **_k):
    raise AssertionError("computed again instead of served from the cache")
