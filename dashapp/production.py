"""``python -m dashapp serve``: Flask's development server, or gunicorn in production.

Production (``serve --prod``) runs in this order, in the one process that then
becomes gunicorn's master:

1. :func:`dashapp.health.check_start`: a bad setting stops here with one line;
2. the store is prepared once (:func:`dashapp.bootstrap.prepare_store`: schema
   upgrade, demo data and first admin on an empty store), then its connections
   are closed so that no worker inherits one;
3. gunicorn forks N workers (threaded, ``gthread``), each building the app with
   ``create_app(config, prepare_store=False)``: no worker migrates.

SIGTERM (or SIGINT) stops it cleanly: gunicorn stops accepting, lets the workers
finish the requests in flight (up to ``GRACEFUL_TIMEOUT_S``), and exits with 0;
background jobs exit with their worker (:mod:`dashapp.jobs`).
"""

from __future__ import annotations

import logging
import os

from gunicorn.app.base import BaseApplication

from dashapp.config import Config
from dashapp.health import check_start

log = logging.getLogger(__name__)

TIMEOUT_S = 120
GRACEFUL_TIMEOUT_S = 30


def default_workers() -> int:
    """One worker per CPU core this process may use, at least 2.

    The app's work is CPU-bound pandas and numpy under the GIL: more processes
    than cores only add memory; each worker's threads cover requests that wait.
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(2, cores)


def serve(config: Config, production: bool) -> int:
    """Start the server; returns when it stops (gunicorn exits the process itself)."""
    # a child of the debug reloader finds the port held by its parent
    reloader_child = os.environ.get("WERKZEUG_RUN_MAIN") == "true"
    check_start(config, production, check_port=not reloader_child)
    from dashapp.logs import configure_logging

    configure_logging(json_lines=production)
    if not production:
        from dashapp import create_app
        from dashapp.services.forecasting import start_precompute_active
        from dashapp.services.warmup import start_warmup

        app = create_app(config)
        start_precompute_active(config)
        start_warmup(app.server, config)
        app.run(host=config.host, port=config.port, debug=config.debug)
        return 0
    from dashapp import services
    from dashapp.bootstrap import prepare_store

    prepare_store(config)
    services.get_store(config.database_url).engine.dispose()
    services.get_store.cache_clear()
    workers = config.workers or default_workers()
    log.info(
        "production server on %s:%s, %d workers of %d threads",
        config.host,
        config.port,
        workers,
        config.threads,
    )
    ProductionServer(config, gunicorn_options(config, workers)).run()
    return 0


def gunicorn_options(config: Config, workers: int) -> dict:
    """gunicorn's settings for ``config``."""
    host = f"[{config.host}]" if ":" in config.host else config.host
    return {
        "bind": f"{host}:{config.port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": config.threads,
        "timeout": TIMEOUT_S,
        "graceful_timeout": GRACEFUL_TIMEOUT_S,
        "keepalive": 5,
        "preload_app": False,  # each worker opens its own connections and caches
        "accesslog": None,  # the app logs each request itself (dashapp.logs)
        "errorlog": "-",
        "loglevel": "info",
        "proc_name": "dashapp",
        # gunicorn's control socket defaults to one path per user: two servers
        # of one user would fight over it, and the app offers no use for it
        "control_socket_disable": True,
        "post_worker_init": warm_worker,
    }


def warm_worker(worker) -> None:
    """gunicorn hook, in each worker once its app is loaded: fill its memoised
    queries in the background (:mod:`dashapp.services.warmup`)."""
    from dashapp.services.warmup import start_warmup

    config = getattr(worker.wsgi, "config", {}).get("DASHAPP")
    if config is not None:  # None: the app failed to load, gunicorn says why
        start_warmup(worker.wsgi, config)


class ProductionServer(BaseApplication):
    """gunicorn running the app of one :class:`Config`."""

    def __init__(self, config: Config, options: dict) -> None:
        self.config = config
        self.options = options
        super().__init__(prog="python -m dashapp serve --prod")

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        """In each worker, after the fork: the app, its store already prepared."""
        from dashapp import create_app
        from dashapp.services.forecasting import start_precompute_active

        start_precompute_active(self.config)  # one worker's wins; the others see it
        return create_app(self.config, prepare_store=False).server


def wsgi_app():
    """The app of a server that imports ``app:server`` (plain gunicorn, ``python
    app.py``), its settings checked first as ``serve`` checks them.

    A bad setting ends the process with one line on stderr instead of a
    traceback: exit code 2, or under gunicorn 4 (its "App failed to load"),
    which stops gunicorn's master instead of starting workers again and again.
    The port is gunicorn's to check, and no secret key is required: without
    one, the app generates it into the data folder.
    """
    import sys

    from dashapp import create_app
    from dashapp.health import ConfigError

    try:
        config = Config.from_env()
        check_start(config, production=False, check_port=False)
    except (ConfigError, ValueError) as exc:
        if "gunicorn.arbiter" not in sys.modules:
            print(f"error: {exc}", file=sys.stderr, flush=True)
            raise SystemExit(2) from None
        if _first_worker_to_fail():
            print(f"error: {exc}", file=sys.stderr, flush=True)
            raise SystemExit(4) from None
        # gunicorn halts at the first worker that exits with 4; another one
        # exiting 4 while it halts makes gunicorn print a traceback of its own:
        # the others wait for the master's SIGTERM, which now ends them
        import signal
        import time

        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        time.sleep(GRACEFUL_TIMEOUT_S)
        raise SystemExit(4) from None
    return create_app(config)


def _first_worker_to_fail() -> bool:
    """Whether this gunicorn worker is the first of its master to fail its start
    (the first to create a file named after the master's pid and start time)."""
    import tempfile
    from pathlib import Path

    import psutil

    master = psutil.Process(os.getppid())
    name = f"dashapp-gunicorn-{master.pid}-{master.create_time():.0f}.failed"
    try:
        os.close(os.open(Path(tempfile.gettempdir()) / name,
                         os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))  # fmt: skip
    except FileExistsError:
        return False
    except OSError:
        return True  # no temporary folder to agree in: say it
    return True
