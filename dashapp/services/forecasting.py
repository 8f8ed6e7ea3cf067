"""Forecasts and risk reports, computed once per dataset version and shared.

A level's backtest and forecasts take a few seconds (tens on a busy machine): no
user should wait for them on a screen. Every level of a dataset version is
therefore computed ahead, in a **precompute** process started when the server
starts and when a dataset is imported (:func:`start_precompute`), scenario level
first (the level the scenarios' forecast demand is split from), then centers,
then the others. Background jobs that need a level before it is done wait for
that one computation instead of starting their own, and still compute it
themselves if nothing is computing it (a precompute that died, a cache emptied).
A request thread never waits: :func:`whatif_forecast` with ``wait=False`` raises
:class:`ForecastPending` at once, and the screen says the forecast is being
computed and asks again a few seconds later.

Results are kept where every process sees them (:func:`dashapp.cache.shared_results`:
a ``diskcache`` under the data folder, or Redis with Celery workers), keyed by the
dataset *version*: the database, the dataset's id and its creation time (see
:func:`dataset_tag`). A stored dataset never changes, so an entry cannot go stale,
and a database re-created with the same ids never finds another dataset's forecast.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import pickle
import socket
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from pathlib import Path

import pandas as pd
import psutil

from dashapp import services
from dashapp.cache import shared_results
from dashapp.config import Config
from data import forecast as fc
from data import risk

log = logging.getLogger(__name__)

# bump when the models or their outputs change, so old entries are not reused
VERSION = 3  # 3: the model per series chosen by WAPE over steps 1..h on the last 12 weeks
# a precompute not finished after this long is taken over by the next start
LEASE_S = 1800
# how long a screen waits for a running precompute before computing itself
WAIT_S = 300.0
POLL_S = 0.2
# the precompute yields the CPU to the web server's requests
NICE = 10
ROOT = Path(__file__).resolve().parents[2]


class ForecastPending(fc.ForecastError):
    """The forecast asked for is being computed by the precompute: ask again later.

    Raised instead of waiting (:func:`whatif_forecast` with ``wait=False``), so a
    web server's request thread is never held by a computation of minutes.
    """

    def __init__(self, dataset_id: int) -> None:
        super().__init__(f"the forecasts of dataset {dataset_id} are being computed",
                         "pending")  # fmt: skip


def results(config: Config):
    """The shared store of forecasts and risk reports (``get`` and ``set``)."""
    return shared_results(config, "forecasts")


def dataset_tag(config: Config, dataset_id: int) -> str:
    """What names one dataset version in the cache: database, id, creation time.

    Examples
    --------
    >>> dataset_tag(config, 1)  # doctest: +SKIP
    '5b1f0c2a9e4d:1:2026-11-29T19:02:11.532000'
    """
    info = services.context(config.database_url, dataset_id).info
    database = hashlib.sha256(config.database_url.encode()).hexdigest()[:12]
    return f"{database}:{int(info.id)}:{info.created_at.isoformat()}"


def _key(config: Config, kind: str, dataset_id: int, name: str = "") -> str:
    return f"v{VERSION}:{kind}:{dataset_tag(config, dataset_id)}:{name}"


# Unpickled forecasts kept in this process: the chart callback reads one per
# series change, and unpickling 150 series' backtests is not free.
_memory: OrderedDict[str, fc.LevelForecast] = OrderedDict()
_memory_lock = threading.Lock()
MEMORY_ITEMS = 6


def cached_level_forecast(
    config: Config, dataset_id: int, level: str
) -> fc.LevelForecast | None:
    """A level's forecast if it was computed already, else ``None``."""
    key = _key(config, "forecast", dataset_id, level)
    with _memory_lock:
        if key in _memory:
            _memory.move_to_end(key)
            return _memory[key]
    found = results(config).get(key)
    if found is not None:
        with _memory_lock:
            _memory[key] = found
            while len(_memory) > MEMORY_ITEMS:
                _memory.popitem(last=False)
    return found


def is_computed(config: Config, dataset_id: int, level: str) -> bool:
    """Whether a level's forecast (or its error) is in the shared results."""
    store = results(config)
    return (
        _key(config, "forecast", dataset_id, level) in store
        or _key(config, "forecast-error", dataset_id, level) in store
    )


def level_forecast(
    config: Config, dataset_id: int, level: str, progress=None
) -> fc.LevelForecast:
    """A level's backtest and forecasts, computed once per dataset and level.

    For background jobs and the precompute: computes the level when it is not in
    the shared results. Raises :class:`data.forecast.ForecastError` when the level
    cannot be forecast (the precompute's reason, if it found one).
    """
    found = cached_level_forecast(config, dataset_id, level)
    if found is not None:
        return found
    error = level_error(config, dataset_id, level)
    if error is not None:
        raise error
    store = services.get_store(config.database_url)
    result = fc.forecast_level(store, int(dataset_id), level, progress=progress)
    results(config).set(_key(config, "forecast", dataset_id, level), result)
    return result


def ready_level_forecast(
    config: Config, dataset_id: int, level: str, progress=None, wait_s: float = WAIT_S
) -> fc.LevelForecast:
    """A level's forecast, waiting for the precompute rather than redoing its work.

    Starts the precompute if nothing computes this dataset yet. While it runs, waits
    (up to ``wait_s``) for the level to appear; if the precompute is gone without
    leaving it (died, or timed out), computes it here (``progress`` as in
    :func:`data.forecast.forecast_level`). A level the dataset does not have raises
    :class:`data.forecast.ForecastError` at once.
    """
    found = cached_level_forecast(config, dataset_id, level)
    if found is not None:
        return found
    if level not in precompute_levels(config, dataset_id):
        return level_forecast(config, dataset_id, level, progress)  # raises
    start_precompute(config, dataset_id)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline and precompute_running(config, dataset_id):
        if is_computed(config, dataset_id, level):
            break
        time.sleep(POLL_S)
    return level_forecast(config, dataset_id, level, progress)


def risk_report(config: Config, dataset_id: int, target: str) -> risk.RiskReport:
    """Both risk classifiers for an outcome, computed once per dataset and outcome."""
    key = _key(config, "risk", dataset_id, target)
    found = results(config).get(key)
    if found is not None:
        return found
    store = services.get_store(config.database_url)
    report = risk.fit_risk(risk.center_weeks(store, int(dataset_id)), target)
    results(config).set(key, report)
    return report


def scenario_level(config: Config, dataset_id: int) -> str:
    """The level whose forecast the scenarios split among communes (above them)."""
    levels = services.get_store(config.database_url).levels(int(dataset_id))
    if len(levels) < 2:
        raise fc.ForecastError("the dataset needs at least two administrative levels",
                               "needs_two_levels")  # fmt: skip
    return str(levels["code"].iloc[-2])


def _demand_key(config: Config, dataset_id: int, horizon: int, docs) -> str:
    return _key(config, "demand", dataset_id, f"{horizon}:{docs}")


def demand_by_commune(
    config: Config, dataset_id: int, horizon_weeks: int, doc_types=None
) -> pd.Series:
    """Forecast weekly demand per commune (see ``forecast_demand_by_commune``).

    Reuses the precomputed forecast of the level above communes, and keeps each
    horizon's split (the precompute splits every horizon of all document types):
    a scenario panel asks for it at every change.
    """
    horizon = fc.check_horizon(horizon_weeks)
    docs = None if doc_types is None else sorted(str(d) for d in doc_types)
    key = _demand_key(config, dataset_id, horizon, docs)
    found = results(config).get(key)
    if found is not None:
        return found
    level = scenario_level(config, dataset_id)
    store = services.get_store(config.database_url)
    demand = fc.forecast_demand_by_commune(
        store,
        int(dataset_id),
        horizon,
        docs,
        forecast=ready_level_forecast(config, dataset_id, level),
    )
    results(config).set(key, demand)
    return demand


def precompute_demand(config: Config, dataset_id: int) -> int:
    """The scenarios' forecast demand of all document types at every horizon,
    split once; how many horizons. The level's forecast must be computed."""
    level = scenario_level(config, dataset_id)
    forecast = level_forecast(config, dataset_id, level)
    store = services.get_store(config.database_url)
    shares = fc.commune_shares(store, int(dataset_id), level)
    horizons = range(1, forecast.horizon + 1)
    for horizon in horizons:
        demand = fc.forecast_demand_by_commune(
            store, int(dataset_id), horizon, forecast=forecast, shares=shares
        )
        results(config).set(_demand_key(config, dataset_id, horizon, None), demand)
    return len(horizons)


def whatif_forecast(
    config: Config, dataset_id: int, whatif, wait: bool = True
) -> pd.Series | None:
    """The forecast a what-if plans for, ``None`` when it plans for today's demand.

    ``whatif`` is an :class:`optimization.whatif.WhatIf`; its horizon picks the
    week (see :func:`demand_by_commune`). With ``wait=False`` (a request thread)
    a forecast that the precompute has not stored yet raises
    :class:`ForecastPending` at once, the precompute started if none runs; the
    precompute's error for the level, when it found one, is raised as such.
    """
    if whatif.demand_source != "forecast":
        return None
    horizon = int(whatif.forecast_weeks)
    if not wait and not demand_ready(config, dataset_id, horizon):
        raise ForecastPending(dataset_id)
    return demand_by_commune(config, dataset_id, horizon)


def demand_ready(config: Config, dataset_id: int, horizon_weeks: int) -> bool:
    """Whether :func:`demand_by_commune` may answer now: its split or the scenario
    level's forecast (or its error) is stored, or no precompute will store it
    (none configured, or it ended without it: then it is computed as before).
    Starts the precompute when it is not stored and nothing computes it."""
    horizon = fc.check_horizon(horizon_weeks)
    if _demand_key(config, dataset_id, horizon, None) in results(config):
        return True
    level = scenario_level(config, dataset_id)
    if is_computed(config, dataset_id, level):
        return True
    start_precompute(config, dataset_id)
    return not precompute_running(config, dataset_id)


# ------------------------------------------------------------------ the precompute


def precompute_levels(config: Config, dataset_id: int) -> list[str]:
    """Levels in the order they are precomputed: the scenarios' first, then centers."""
    store = services.get_store(config.database_url)
    levels = fc.level_codes(store, int(dataset_id))
    first = []
    with contextlib.suppress(fc.ForecastError):
        first.append(scenario_level(config, dataset_id))
    if fc.CENTER in levels:
        first.append(fc.CENTER)
    return [*dict.fromkeys([*first, *levels])]


def precompute(config: Config, dataset_id: int) -> dict[str, str]:
    """Every level's forecast of a dataset into the shared results; what became of
    each (``"ok"`` or the reason it cannot be forecast)."""
    started = time.perf_counter()
    done: dict[str, str] = {}
    levels = precompute_levels(config, dataset_id)
    try:
        split = scenario_level(config, dataset_id)
    except fc.ForecastError:
        split = None
    for level in levels:
        try:
            level_forecast(config, dataset_id, level)
            done[level] = "ok"
        except fc.ForecastError as exc:  # remembered: waiting screens show it
            results(config).set(_key(config, "forecast-error", dataset_id, level),
                                exc.to_dict())  # fmt: skip
            done[level] = str(exc)
            continue
        if level == split:  # split now: the scenario screens ask for it first
            try:
                precompute_demand(config, dataset_id)
            except fc.ForecastError as exc:  # raised again where it is asked for
                log.warning("forecast demand not split: %s", exc)
    results(config).set(_key(config, "precomputed", dataset_id), done)
    log.info(
        "forecasts of dataset %s precomputed in %.1f s: %s",
        dataset_id,
        time.perf_counter() - started,
        done,
    )
    return done


def level_error(config: Config, dataset_id: int, level: str) -> fc.ForecastError | None:
    """Why the precompute could not forecast a level, ``None`` if it could (or has
    not tried)."""
    found = results(config).get(_key(config, "forecast-error", dataset_id, level))
    return None if found is None else fc.ForecastError.from_dict(found)


def is_precomputed(config: Config, dataset_id: int) -> bool:
    return _key(config, "precomputed", dataset_id) in results(config)


def _lease_key(config: Config, dataset_id: int) -> str:
    return _key(config, "precompute-lease", dataset_id)


def precompute_running(config: Config, dataset_id: int) -> bool:
    """Whether a live precompute holds this dataset's lease."""
    holder = results(config).get(_lease_key(config, dataset_id))
    return holder is not None and _alive(holder)


def _alive(holder: dict) -> bool:
    if holder.get("host") != socket.gethostname():
        return True  # another machine's: trusted until its lease expires
    return psutil.pid_exists(int(holder.get("pid", -1)))


def start_precompute(config: Config, dataset_id: int) -> bool:
    """Start computing every level of a dataset in a background process, once.

    Does nothing (returns ``False``) when it is done or a live process is on it:
    each web server and worker may call it; one lease in the shared results lets
    only one compute. The process exits when the server that started it (or, from
    a background job, that job's server) is gone.
    """
    if not config.precompute or is_precomputed(config, dataset_id):
        return False
    store = results(config)
    lease = _lease_key(config, dataset_id)
    holder = store.get(lease)
    if holder is not None:
        if _alive(holder):
            return False
        store.delete(lease)  # its process died: take over
    mine = {"host": socket.gethostname(), "pid": os.getpid()}
    if not store.add(lease, mine, expire=LEASE_S):
        return False  # another server took it just now
    from dashapp.process import server_pid

    try:
        proc = subprocess.Popen(
            [sys.executable, "-c", f"from {__name__} import _child; _child()"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            close_fds=True,
        )
        proc.stdin.write(pickle.dumps((config, int(dataset_id), server_pid())))
        proc.stdin.close()
    except OSError:
        store.delete(lease)
        log.exception("could not start the forecasts' precompute")
        return False
    store.set(lease, {**mine, "pid": proc.pid}, expire=LEASE_S)
    threading.Thread(target=proc.wait, name="precompute-reaper", daemon=True).start()
    log.info("precomputing the forecasts of dataset %s (pid %s)", dataset_id, proc.pid)
    return True


def _watch(pid: int, every: float = 0.5) -> None:
    while psutil.pid_exists(pid):
        time.sleep(every)
    os._exit(75)  # the server is gone: nothing half-written is kept


def _child() -> None:
    """The precompute process: settings from stdin, then :func:`precompute`."""
    config, dataset_id, watched = pickle.load(sys.stdin.buffer)
    threading.Thread(target=_watch, args=(watched,), daemon=True).start()
    with contextlib.suppress(OSError):  # requests of the web server come first
        os.nice(NICE)
    logging.basicConfig(level=logging.INFO)
    try:
        precompute(config, dataset_id)
    finally:
        results(config).delete(_lease_key(config, dataset_id))


def start_precompute_active(config: Config) -> bool:
    """:func:`start_precompute` for the active dataset, if any; never raises (a
    server starts even when its forecasts cannot be prepared)."""
    try:
        ctx = services.context(config.database_url)
        return ctx is not None and start_precompute(config, ctx.info.id)
    except Exception:
        log.exception("could not start the forecasts' precompute")
        return False
