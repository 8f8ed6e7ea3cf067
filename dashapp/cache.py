"""The flask-caching cache shared by the app's memoised computations, and the
store of results that jobs compute for the web servers.

``SimpleCache`` (in-process) by default: the memoised objects are GeoDataFrames and
measure tables that are cheapest kept in memory. Set ``DASHAPP_CACHE_TYPE`` (and the
matching ``CACHE_*`` settings, e.g. ``CACHE_REDIS_URL``) to share it across workers.

:func:`shared_results` is where a background job leaves what a web server reads
later (forecasts, risk reports): a ``diskcache`` under the data folder when jobs
run beside the web server, Redis when they run on Celery workers, which may be on
other machines.
"""

from __future__ import annotations

import os
import pickle
from functools import lru_cache
from pathlib import Path

from flask_caching import Cache

cache = Cache()
RESULTS_TTL_S = 30 * 24 * 3600


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
