"""A web worker's memoised queries filled when it starts, not at its first visitor.

Each server process keeps the dataset's context, its weekly history and its
measures in memory (:mod:`dashapp.services`); a fresh worker has none, and its
first visitor used to wait for all of them (seconds; tens on a busy machine) before
the overview map appeared, and for the travel times of the road-access card. :func:`start_warmup` computes them in a background
thread of the worker, for the active dataset and the overview's default filters.
It also has plotly.js compressed (:mod:`dashapp.compression` keeps the bytes for the
worker's life): about a second of CPU at brotli level 9, more on a busy machine,
that the first visitor's graphs used to wait for.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time

from dashapp import services
from dashapp.config import Config
from dashapp.filters import resolve
from geo.roads import MODES, SEASONS

log = logging.getLogger(__name__)

# the largest static file of every page, fetched as dcc.Graph asks for it
PLOTLY_URL = "/_dash-component-suites/plotly/package_data/plotly.min.js"


def warm_static(server) -> bool:
    """Ask the worker itself for plotly.js in brotli, so that the static
    compressor keeps it compressed before any visitor asks; True when served."""
    response = server.test_client().get(PLOTLY_URL, headers={"Accept-Encoding": "br"})
    return response.status_code == 200


def warm(server, config: Config) -> list[str]:
    """Fill the memoised queries a first page needs; the names of those filled.

    ``server`` is the app's Flask server (the memo cache lives in its context).
    Does nothing on a store without datasets.
    """
    url = config.database_url
    done: list[str] = []
    with server.app_context():
        ctx = services.context(url)
        if ctx is None:
            return done
        done.append("context")
        services.weekly_by_parent(url, ctx.info.id)
        done.append("weekly history")
        resolved = resolve(ctx, config.lang)
        services.weekly_requests(url, ctx, resolved)
        services.measures_for(url, ctx, resolved)
        services.centers_for(url, ctx, resolved)
        done.append("default measures")
        for level in range(ctx.commune_level + 1):
            services.level_geojson(url, ctx.info.id, level)
        done.append("map layers")
        if warm_static(server):
            done.append("plotly.js compressed")
        services.workspace(url, ctx.info.id)
        done.append("scenario workspace")
        # last: only the card beside the map needs them, the map never waits on them
        found = [
            services.road_access(url, ctx.info.id, resolved.selection, mode, season)
            for mode, season in itertools.product(MODES, SEASONS)
        ]
        if any(kpis is not None for kpis in found):
            done.append("road access")
    return done


def start_warmup(server, config: Config) -> threading.Thread:
    """:func:`warm` in a daemon thread; a failure is logged, never raised."""

    def run() -> None:
        started = time.perf_counter()
        try:
            done = warm(server, config)
        except Exception:
            log.exception("warm-up of the memoised queries failed")
            return
        log.info(
            "memoised queries warmed in %.1f s: %s",
            time.perf_counter() - started,
            ", ".join(done) or "no dataset",
        )

    thread = threading.Thread(target=run, name="warmup", daemon=True)
    thread.start()
    return thread
