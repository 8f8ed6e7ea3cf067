"""What a callback or a page needs from the request it serves: settings, language.

Its own module so that callbacks, which ``dashapp.create_app`` registers, do not
import the package that imports them.
"""

from __future__ import annotations

import flask

from dashapp.config import LANG_COOKIE, LANGUAGES, Config


def current_config() -> Config:
    """Settings of the app serving the current request."""
    return flask.current_app.config["DASHAPP"]


def request_lang(config: Config) -> str:
    """Language of the current request: cookie, then the configured default."""
    lang = (
        flask.request.cookies.get(LANG_COOKIE) if flask.has_request_context() else None
    )
    return lang if lang in LANGUAGES else config.lang
