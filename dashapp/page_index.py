"""The HTML page Dash serves, in the visitor's language.

The page names its language (``<html lang>``: screen readers and the browser's
spelling, hyphenation and translation offers read it), its title and the
"loading" text are the catalogue's, and it carries the month and day names the
date pickers draw (``assets/locale.js`` reads them; nothing runs inline).
"""

from __future__ import annotations

import json

from dash import Dash

from dashapp.context import request_lang
from dashapp.i18n import t
from layouts.locale import calendar

LOCALE_ID = "dashapp-locale"


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
        return page.replace("</head>", f"{locale_tag(lang)}\n</head>", 1)
