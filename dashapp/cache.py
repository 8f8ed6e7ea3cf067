"""The flask-caching cache shared by the app's memoised computations.

``SimpleCache`` (in-process) by default: the memoised objects are GeoDataFrames and
measure tables that are cheapest kept in memory. Set ``DASHAPP_CACHE_TYPE`` (and the
matching ``CACHE_*`` settings, e.g. ``CACHE_REDIS_URL``) to share it across workers.
"""

from __future__ import annotations

import os

from flask_caching import Cache

cache = Cache()


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
