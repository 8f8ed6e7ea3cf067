"""Dash wiring: ``create_app(config)`` builds one app instance.

Importing the package is light (no Dash, Flask or cache): layouts import
``dashapp.ids`` and ``dashapp.i18n``, and ``create_app`` loads the rest.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from dashapp.config import LANG_COOKIE, LANGUAGES, PROJECT_ROOT, Config

if TYPE_CHECKING:
    from dash import Dash

BOOTSTRAP_CSS = "/vendor/bootstrap.min.css"


def _bootstrap_css_path() -> Path:
    import flask_bootstrap

    return (
        Path(flask_bootstrap.__file__).parent
        / "static/bootstrap5/css/bootstrap.min.css"
    )


def root_layout(config: Config):
    """Layout served on each page load (the language can differ per visitor)."""
    import flask

    from dashapp import services
    from dashapp.context import request_lang
    from layouts.shell import shell

    lang = request_lang(config)
    ctx = services.context(config.database_url)
    info = ctx.info if ctx else None
    from dashapp.auth import csrf_token, current_user

    return shell(
        lang,
        info.id if info else None,
        info.name if info else None,
        bool(info and info.is_synthetic),
        current_user(),
        csrf_token() if flask.has_request_context() else "",
        config.url_prefix,
    )


def create_app(config: Config | None = None, *, prepare_store: bool = True) -> Dash:
    """Build the Dash app: store ready, cache, background manager, layout, callbacks.

    Parameters
    ----------
    config : Config, optional
        Settings; ``Config.from_env()`` when omitted.
    prepare_store : bool
        Upgrade the schema and create the demo data and the first admin when the
        store is empty (:func:`dashapp.bootstrap.prepare_store`); ``False`` when the
        process that forks the workers did it already.
    """
    import dash_bootstrap_components  # noqa: F401  (registers the component library)
    import flask

    from callbacks import (
        admin,
        briefs,
        forecast,
        importer,
        overview,
        road_access,
        road_profile,
        scenario_compare,
        scenario_curve,
        scenario_library,
        scenario_plan,
        scenario_run,
        scenarios,
        segmentation,
        shell,
    )
    from dashapp import auth, oidc, share
    from dashapp.bootstrap import prepare_store as prepare
    from dashapp.cache import cache, cache_config
    from dashapp.health import init_health
    from dashapp.jobs import make_background_manager
    from dashapp.logs import init_request_log
    from dashapp.page_index import LocalisedDash
    from dashapp.paths import app_path, url

    config = config or Config.from_env()
    from dashapp.logs import ensure_logging

    ensure_logging()  # any start (plain gunicorn too) logs its requests
    config.data_dir.mkdir(parents=True, exist_ok=True)
    if prepare_store:  # several workers may start at once: one prepares, under a lock
        prepare(config)

    server = flask.Flask(__name__)
    server.config["DASHAPP"] = config
    init_request_log(server)  # first: the sign-in hook may answer before the others
    auth.init_auth(server, config)
    oidc.init_oidc(server, config)  # single sign-on, when configured
    init_health(server)
    share.init_share(server)
    from dashapp.api import PREFIX, api

    server.register_blueprint(api, url_prefix=PREFIX)

    @server.route("/api/", defaults={"rest": ""})
    @server.route("/api/<path:rest>")
    def _no_api(rest: str):
        # other API versions: a JSON 404 rather than Dash's page for any path
        return flask.jsonify({"error": f"no such endpoint: /api/{rest}"}), 404

    @server.errorhandler(404)
    @server.errorhandler(405)
    def _http_error(exc):
        # the API answers every error in JSON; pages keep Flask's default
        if flask.request.path.startswith("/api/"):
            return flask.jsonify({"error": exc.description}), exc.code
        return exc
    # Brotli first. Callback answers at level 5: as small as level 9 for a map
    # (27 kB of 249 kB) in a sixth of the CPU (10 ms, not 63); the static files,
    # plotly.js first, are compressed once at level 9 (dashapp.compression).
    server.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip", "deflate"])
    server.config.setdefault("COMPRESS_BR_LEVEL", 5)
    cache.init_app(server, config=cache_config(config.cache_dir))
    jobs = make_background_manager(config)
    jobs.server = server  # a Celery worker runs each job in a request context of it
    server.extensions["dashapp_jobs"] = jobs  # what /healthz checks
    app = LocalisedDash(  # the page in the visitor's language (<html lang>)
        __name__,
        server=server,
        title="Réseau des centres de service",
        assets_folder=str(PROJECT_ROOT / "assets"),
        external_stylesheets=[config.url(BOOTSTRAP_CSS)],
        # behind a proxy at /plan/: the browser asks for /plan/..., the
        # middleware below hands the app the path without it
        requests_pathname_prefix=config.url_prefix,
        routes_pathname_prefix="/",
        suppress_callback_exceptions=True,
        compress=True,
        background_callback_manager=jobs,
        on_error=auth.on_callback_error,
    )
    from dashapp.compression import init_static_compression

    init_static_compression(server)  # after flask-compress's hook: runs before it
    app.layout = partial(root_layout, config)
    if config.url_prefix != "/":
        from dashapp.paths import PrefixMiddleware

        server.wsgi_app = PrefixMiddleware(server.wsgi_app, config.url_prefix)
    # what auth.before_request checks a callback request against
    server.extensions["dash_callbacks"] = app.callback_map

    @server.route(BOOTSTRAP_CSS)
    def _bootstrap_css():
        return flask.send_file(
            _bootstrap_css_path(), mimetype="text/css", max_age=86400
        )

    @server.route("/lang/<code>")
    def _set_lang(code: str):
        referrer = urlparse(flask.request.referrer or "")
        back = app_path(referrer.path) + (f"?{referrer.query}" if referrer.query else "")
        same_host = referrer.netloc == flask.request.host
        target = flask.request.args.get("next") or (back if same_host else "/")
        response = flask.redirect(url(auth.safe_next(target)))
        if code in LANGUAGES:
            response.set_cookie(
                LANG_COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax",
                path=config.url_prefix,
            )  # fmt: skip
        return response

    shell.register(app)
    overview.register(app)
    road_access.register(app)
    scenarios.register(app)
    scenario_plan.register(app)
    scenario_run.register(app)
    scenario_library.register(app)
    scenario_compare.register(app)
    scenario_curve.register(app)
    segmentation.register(app)
    forecast.register(app)
    importer.register(app)
    road_profile.register(app)
    admin.register(app)
    briefs.register(app)
    auth.check_every_callback_guarded(app)
    return app


__all__ = ["LANG_COOKIE", "Config", "create_app"]
