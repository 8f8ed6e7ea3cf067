"""Cached forecasts and risk reports behind the /prevision screen.

A level's backtest and forecasts (a few seconds) and a risk report (about two
seconds) are computed in Dash background callbacks, which run in another process,
maybe on another machine: the results are therefore kept where every process sees
them (:func:`dashapp.cache.shared_results`: a ``diskcache`` under the data folder,
or Redis with Celery workers), keyed by what they depend on (dataset version, level
or outcome). A dataset version never changes once stored, so entries cannot go
stale.
"""

from __future__ import annotations

import pandas as pd

from dashapp import services
from dashapp.cache import shared_results
from dashapp.config import Config
from data import forecast as fc
from data import risk

# bump when the models or their outputs change, so old entries are not reused
VERSION = 1


def results(config: Config):
    """The shared store of forecasts and risk reports (``get`` and ``set``)."""
    return shared_results(config, "forecasts")


def _key(kind: str, dataset_id: int, name: str) -> str:
    return f"v{VERSION}:{kind}:{int(dataset_id)}:{name}"


def cached_level_forecast(
    config: Config, dataset_id: int, level: str
) -> fc.LevelForecast | None:
    """A level's forecast if it was computed already, else ``None``."""
    return results(config).get(_key("forecast", dataset_id, level))


def level_forecast(
    config: Config, dataset_id: int, level: str, progress=None
) -> fc.LevelForecast:
    """A level's backtest and forecasts, computed once per dataset and level."""
    found = cached_level_forecast(config, dataset_id, level)
    if found is not None:
        return found
    store = services.get_store(config.database_url)
    result = fc.forecast_level(store, int(dataset_id), level, progress=progress)
    results(config).set(_key("forecast", dataset_id, level), result)
    return result


def risk_report(config: Config, dataset_id: int, target: str) -> risk.RiskReport:
    """Both risk classifiers for an outcome, computed once per dataset and outcome."""
    key = _key("risk", dataset_id, target)
    found = results(config).get(key)
    if found is not None:
        return found
    store = services.get_store(config.database_url)
    report = risk.fit_risk(risk.center_weeks(store, int(dataset_id)), target)
    results(config).set(key, report)
    return report


def demand_by_commune(
    config: Config, dataset_id: int, horizon_weeks: int, doc_types=None
):
    """Forecast weekly demand per commune (see ``forecast_demand_by_commune``).

    Reuses the cached department-level forecast, so scenarios pay for it once.
    """
    store = services.get_store(config.database_url)
    level = store.levels(int(dataset_id))["code"].iloc[-2]
    return fc.forecast_demand_by_commune(
        store,
        int(dataset_id),
        horizon_weeks,
        doc_types,
        forecast=level_forecast(config, dataset_id, level),
    )


def whatif_forecast(config: Config, dataset_id: int, whatif) -> pd.Series | None:
    """The forecast a what-if plans for, ``None`` when it plans for today's demand.

    ``whatif`` is an :class:`optimization.whatif.WhatIf`; its horizon picks the
    week (see :func:`demand_by_commune`).
    """
    if whatif.demand_source != "forecast":
        return None
    return demand_by_commune(config, dataset_id, int(whatif.forecast_weeks))
