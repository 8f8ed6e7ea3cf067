"""The decision-brief control: a button, its progress, its message, its download."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashapp import ids
from dashapp.i18n import t


def brief_control(kind: str, lang: str, className: str = "mt-2") -> html.Div:
    """``kind`` is ``area`` (main screen), ``scenario`` or ``comparison``."""
    return html.Div(
        [
            dbc.Button(
                t(f"brief.button.{kind}", lang),
                id=ids.brief(kind, "button"),
                size="sm",
                color="secondary",
                outline=True,
                title=t("brief.button.help", lang),
            ),
            html.Div(id=ids.brief(kind, "progress"), className="small text-muted"),
            html.Div(id=ids.brief(kind, "message"), className="small"),
            dcc.Download(id=ids.brief(kind, "download")),
        ],
        className=className,
    )
