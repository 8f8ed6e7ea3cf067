"""The HTML page Dash serves, in the visitor's language.

The page names its language (``<html lang>``: screen readers and the browser's
spelling, hyphenation and translation offers read it), its title and the
"loading" text are the catalogue's, and it carries the month and day names the
date pickers draw (``assets/locale.js`` reads them; nothing runs inline).

It also asks the browser to start downloading plotly.js at once
(``<link rel="preload">``): Dash's graph component fetches it only once a graph
is on the page, after the layout and the page's first callback, so the 1.2 MB
download used to start about a second late on the main screen.
"""

from __future__ import annotations

import json

from dash import Dash

from dashapp.context import request_lang
from dashapp.i18n import t
from layouts.locale import calendar

LOCALE_ID = "dashapp-locale"
# where dash-renderer points dcc.Graph for plotly.js when served locally
PLOTLY_PATH = "_dash-component-suites/plotly/package_data/plotly.min.js"


def plotly_preload(prefix: str) -> str:
    """The tag that starts plotly.js's download with the page's own scripts.

    The URL is the one dcc.Graph then asks for (``window._dashPlotlyJSURL``), so
    the browser reuses the preloaded bytes instead of fetching them again.

    Examples
    --------
    >>> tag = plotly_preload("/plan/")
    >>> tag.startswith('<link rel="preload" as="script" href="/plan/_dash-comp')
    True
    >>> tag.endswith('/plotly/package_data/plotly.min.js">')
    True
    """
    return f'<link rel="preload" as="script" href="{prefix}{PLOTLY_PATH}">'


def locale_tag(lang: str) -> str:
    """A JSON data block (never executed) with ``lang``'s calendar names.

    Examples
    --------
    >>> tag = locale_tag("fr")
    >>> tag.startswith('<script id="dashapp-locale" type="application/json">')
    True
    >>> '"janvier"' in tag
    True
    """
    data = json.dumps({"lang": lang, **calendar(lang)}, ensure_ascii=False)
    data = data.replace("</", "<\\/")  # the text can never close the tag
    return f'<script id="{LOCALE_ID}" type="application/json">{data}</script>'


class LocalisedDash(Dash):
    """Dash whose index page speaks the language of the request (cookie, then
    the configured default), as Dash's docs suggest: by overriding
    ``interpolate_index``."""

    def interpolate_index(self, **kwargs) -> str:
        lang = request_lang(self.server.config["DASHAPP"])
        kwargs["title"] = t("app.title", lang)
        kwargs["app_entry"] = kwargs.get("app_entry", "").replace(
            "Loading...", t("app.loading", lang)
        )
        page = super().interpolate_index(**kwargs)
        page = page.replace("<html>", f'<html lang="{lang}">', 1)
        head = locale_tag(lang)
        if self.config.serve_locally:
            head += "\n" + plotly_preload(self.config.requests_pathname_prefix)
        return page.replace("</head>", f"{head}\n</head>", 1)
