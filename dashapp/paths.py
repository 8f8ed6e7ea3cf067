"""Serving the app under a sub-path (``DASHAPP_URL_PREFIX``, e.g. ``/plan/``).

The reverse proxy passes requests on with their full path (``/plan/scenarios``).
:class:`PrefixMiddleware` moves the prefix from ``PATH_INFO`` to ``SCRIPT_NAME``,
as WSGI means it, so the app's routes, its sign-in hook and Dash's endpoints all
see paths from the app's own root (``/scenarios``) and never need to know the
prefix. What the app *sends* must carry it: Dash is told with
``requests_pathname_prefix`` (its scripts, styles, assets, layout and callback
requests), and every link, redirect and path the app writes goes through
:func:`url`; the browser's address, read by the page router, is turned back into
an app path by :func:`app_path`.
"""

from __future__ import annotations

import flask

from dashapp.config import Config


def prefix() -> str:
    """URL prefix of the app serving this request or job (``/`` outside one)."""
    if flask.has_app_context():
        config = flask.current_app.config.get("DASHAPP")
        if isinstance(config, Config):
            return config.url_prefix
    return "/"


def url(path: str) -> str:
    """``path`` (from the app's root) as the browser must ask for it.

    Examples
    --------
    >>> url("/scenarios")  # outside a request, or served at the root
    '/scenarios'
    """
    return prefix() + path.lstrip("/")


def app_path(path: str | None) -> str:
    """The app's own path of a browser address: the prefix taken off.

    An address outside the prefix is returned as it is.

    Examples
    --------
    >>> app_path("/scenarios"), app_path(None)
    ('/scenarios', '/')
    """
    path = path or "/"
    here = prefix()
    if here != "/" and (path + "/").startswith(here):
        return "/" + path[len(here) :]
    return path


class PrefixMiddleware:
    """WSGI: serve ``app`` under ``prefix`` (``/plan/``); anything else is a 404.

    ``/plan`` redirects to ``/plan/``; ``/healthz`` also answers at the root, for
    a monitor on the machine itself.
    """

    def __init__(self, app, prefix: str) -> None:
        self.app = app
        self.prefix = prefix.rstrip("/")

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "") or "/"
        if path == self.prefix:
            query = environ.get("QUERY_STRING")
            location = self.prefix + "/" + (f"?{query}" if query else "")
            start_response("308 Permanent Redirect", [("Location", location),
                                                      ("Content-Length", "0")])  # fmt: skip
            return [b""]
        if path.startswith(self.prefix + "/"):
            environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + self.prefix
            environ["PATH_INFO"] = path[len(self.prefix) :]
            return self.app(environ, start_response)
        if path == "/healthz":
            return self.app(environ, start_response)
        body = f"Not found: this application is served under {self.prefix}/\n".encode()
        start_response(
            "404 Not Found",
            [("Content-Type", "text/plain; charset=utf-8"),
             ("Content-Length", str(len(body)))],
        )  # fmt: skip
        return [body]
