"""The app's memoised computations, and the store of results that jobs compute
for the web servers.

:func:`memo` keeps a function's results in the memory of the process, as they are:
a hit is a dict lookup, never a copy. It is for what every request reads (a
dataset's measures, map layers, source rows), where flask-caching's
``SimpleCache`` used to pickle each value in and, worse, out again at every read
(a few ms per frame, several frames per callback). With ``shared=True`` a miss
first asks the flask-caching cache when that one is shared between processes
(``DASHAPP_CACHE_TYPE=RedisCache`` and ``CACHE_REDIS_URL``, or a
``FileSystemCache``): another worker may have computed it already.

``cache`` (flask-caching, ``SimpleCache`` by default) stays for values read
rarely. Set ``DASHAPP_CACHE_TYPE`` (and the matching ``CACHE_*`` settings, e.g.
``CACHE_REDIS_URL``) to share it across workers.

:func:`shared_results` is where a background job leaves what a web server reads
later (forecasts, risk reports): a ``diskcache`` under the data folder when jobs
run beside the web server, Redis when they run on Celery workers, which may be on
other machines.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import threading
from collections import OrderedDict
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask_caching import Cache

cache = Cache()
RESULTS_TTL_S = 30 * 24 * 3600
_MISSING = object()
_MEMOS: list[Memo] = []  # every memo made, for clear_memos()


class Memo:
    """A function's results by arguments, in this process, at most ``maxsize``.

    The least recently used result goes first. Values are returned as they were
    computed, shared by every caller: a memoised function returns what nobody
    mutates (frames are read, and derived into new ones; pandas' copy-on-write
    keeps a derived frame from writing into its source). Callers that change a
    result change a copy (``tests/unit/dashapp/test_memo.py`` checks that the
    screens' callbacks leave their memoised inputs as they were).

    Concurrent calls with the same arguments compute once: the others wait for
    the first (under load, the map's and the KPI cards' requests of one filter
    change arrive together and need the same measures). An exception is not
    remembered: the next call tries again.
    """

    def __init__(self, fn: Callable, maxsize: int, shared: bool,
                 max_bytes: int | None = None) -> None:  # fmt: skip
        self.fn = fn
        self.maxsize = maxsize
        self.max_bytes = max_bytes
        self.shared = shared
        self.entries: OrderedDict[tuple, Any] = OrderedDict()
        self.sizes: dict[tuple, int] = {}
        self.nbytes = 0
        self.running: dict[tuple, threading.Event] = {}
        self.lock = threading.Lock()
        self.hits = self.misses = 0
        functools.update_wrapper(self, fn)
        _MEMOS.append(self)

    def __call__(self, *args):
        key = args
        while True:
            with self.lock:
                value = self.entries.get(key, _MISSING)
                if value is not _MISSING:
                    self.entries.move_to_end(key)
                    self.hits += 1
                    return value
                waiting = self.running.get(key)
                if waiting is None:
                    done = self.running[key] = threading.Event()
                    self.misses += 1
                    break
            waiting.wait()  # another thread computes it: read its result, or retry
        try:
            value = self._compute(args)
            size = nbytes(value) if self.max_bytes else 0
            with self.lock:
                self.entries[key] = value
                self.nbytes += size - self.sizes.get(key, 0)
                self.sizes[key] = size
                while len(self.entries) > 1 and (
                    len(self.entries) > self.maxsize
                    or (self.max_bytes and self.nbytes > self.max_bytes)
                ):
                    old, _ = self.entries.popitem(last=False)
                    self.nbytes -= self.sizes.pop(old)
            return value
        finally:
            with self.lock:
                del self.running[key]
            done.set()

    def _compute(self, args: tuple):
        backend = _shared_backend() if self.shared else None
        if backend is None:
            return self.fn(*args)
        name = f"memo:{self.fn.__module__}.{self.fn.__qualname__}:"
        key = name + hashlib.sha256(repr(args).encode()).hexdigest()
        value = backend.get(key)
        if value is None:
            value = self.fn(*args)
            backend.set(key, value)
        return value

    def cache_clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.sizes.clear()
            self.hits = self.misses = self.nbytes = 0


def memo(maxsize: int = 32, shared: bool = False,
         max_bytes: int | None = None) -> Callable[[Callable], Memo]:  # fmt: skip
    """Decorator: memoise a function of hashable arguments in process memory.

    At most ``maxsize`` results, and with ``max_bytes`` at most that many bytes of
    arrays (:func:`nbytes`: frames of a large country are megabytes each), the
    least recently used dropped first. ``shared=True`` also keeps each result in
    the flask-caching ``cache`` when that one is shared between processes (Redis,
    files), where another process finds it.

    Examples
    --------
    >>> @memo(maxsize=8)
    ... def square(x):
    ...     return x * x
    >>> square(3), square(3), square.hits
    (9, 9, 1)
    """

    def wrap(fn: Callable) -> Memo:
        return Memo(fn, maxsize, shared, max_bytes)

    return wrap


def nbytes(value) -> int:
    """Bytes of the arrays in ``value`` (frames, series, arrays, bytes, text,
    tuples of them); 0 for anything else."""
    import numpy as np
    import pandas as pd

    if isinstance(value, pd.DataFrame):  # 8 bytes a cell: memory_usage() costs ms
        return int(value.shape[0] * value.shape[1] * 8 + value.index.nbytes)
    if isinstance(value, pd.Series | pd.Index | np.ndarray):
        return int(value.nbytes)
    if isinstance(value, bytes | bytearray | str):
        return len(value)
    if isinstance(value, tuple | list):
        return sum(nbytes(v) for v in value)
    return 0


def _shared_backend():
    """flask-caching's backend when it is shared between processes, else None
    (also outside an app: a script calling the services directly)."""
    import flask

    if not flask.has_app_context():
        return None
    from flask_caching.backends import NullCache, SimpleCache

    backend = flask.current_app.extensions.get("cache", {}).get(cache)
    if backend is None or isinstance(backend, SimpleCache | NullCache):
        return None
    return backend


def _after_fork_in_child() -> None:
    """Make every :class:`Memo` usable in a process just forked from this one.

    A background job is forked from a threaded web server: at that moment another
    thread may hold a memo's lock, or be computing a value that other callers
    wait for (``running``). That thread does not exist in the child, so the lock
    would never be released and the wait never end (a job polled for ever). The
    child gets new locks and no computation in progress; finished values stay.
    """
    for one in _MEMOS:
        one.lock = threading.Lock()
        one.running = {}


os.register_at_fork(after_in_child=_after_fork_in_child)


def clear_memos() -> None:
    """Empty every :class:`Memo` (tests that reuse a store's URL)."""
    for one in _MEMOS:
        one.cache_clear()


def cache_config(cache_dir) -> dict:
    kind = os.environ.get("DASHAPP_CACHE_TYPE", "SimpleCache")
    config = {
        "CACHE_TYPE": kind,
        "CACHE_DEFAULT_TIMEOUT": 3600,
        "CACHE_THRESHOLD": 2000,
    }
    if kind == "FileSystemCache":
        config["CACHE_DIR"] = str(cache_dir / "flask")
    if os.environ.get("CACHE_REDIS_URL"):
        config["CACHE_REDIS_URL"] = os.environ["CACHE_REDIS_URL"]
    return config


class RedisResults:
    """``get``, ``set``, ``add``, ``delete`` and ``in`` of pickled values under
    ``prefix`` in a Redis server (the part of ``diskcache.Cache`` the app uses).

    Values are pickled: like flask-caching's ``RedisCache``, this trusts the Redis
    server (see docs/deploy.md: it must not be reachable by anyone else).
    """

    def __init__(self, url: str, prefix: str) -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=30)
        self.prefix = prefix

    def get(self, key: str, default=None):
        raw = self.client.get(f"{self.prefix}:{key}")
        return default if raw is None else pickle.loads(raw)

    def set(self, key: str, value, expire: float | None = None) -> bool:
        ttl = int(expire) if expire else RESULTS_TTL_S
        return bool(self.client.set(f"{self.prefix}:{key}", pickle.dumps(value), ex=ttl))

    def add(self, key: str, value, expire: float | None = None) -> bool:
        """Set ``key`` only if it is absent (atomic); whether it was set."""
        ttl = int(expire) if expire else RESULTS_TTL_S
        raw = pickle.dumps(value)
        return bool(self.client.set(f"{self.prefix}:{key}", raw, ex=ttl, nx=True))

    def delete(self, key: str) -> bool:
        return bool(self.client.delete(f"{self.prefix}:{key}"))

    def __contains__(self, key: str) -> bool:
        return bool(self.client.exists(f"{self.prefix}:{key}"))


@lru_cache(maxsize=8)
def _results(kind: str, where: str, name: str):
    if kind == "redis":
        return RedisResults(where, f"dashapp:results:{name}")
    import diskcache

    return diskcache.Cache(str(Path(where) / name))


def shared_results(config, name: str):
    """Results store ``name``, seen by every web server and job of ``config``.

    Examples
    --------
    >>> from dashapp.config import Config
    >>> shared_results(Config(data_dir=tmp), "forecasts")  # doctest: +SKIP
    """
    if config.redis_url:
        return _results("redis", config.redis_url, name)
    return _results("disk", str(config.cache_dir), name)
