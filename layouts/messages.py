"""Messages about refused input, worded in the user's language."""

from __future__ import annotations

import dash_bootstrap_components as dbc

from dashapp.i18n import STRINGS, t
from dashapp.parsing import BadInputError


def bad_input_text(exc: BadInputError, lang: str) -> str:
    """The refusal worded in ``lang`` (``bad.<code>``), its parameter translated."""
    values = {k: ("" if v is None else v) for k, v in exc.values.items()}
    if f"bad.what.{values.get('name')}" in STRINGS:
        values["name"] = t(f"bad.what.{values['name']}", lang)
    key = f"bad.{exc.code}"
    return t(key, lang, **values) if key in STRINGS else str(exc)


def bad_input_alert(exc: BadInputError, lang: str, **kwargs) -> dbc.Alert:
    """A warning that names the refused value; nothing was changed."""
    return dbc.Alert(
        bad_input_text(exc, lang),
        color="warning",
        className=kwargs.pop("className", "py-2 small"),
        **kwargs,
    )


def alert(text, color: str = "warning", *, dismissable: bool = False, **kwargs):
    """A message in a box; a dismissable one (messages the user clears one by
    one, stacked) keeps room below it."""
    if dismissable:
        kwargs.update(dismissable=True, className=kwargs.get("className", "py-2 mb-2"))
    return dbc.Alert(
        text, color=color, className=kwargs.pop("className", "py-2"), **kwargs
    )


def note(text, color: str = "secondary", **kwargs) -> dbc.Alert:
    """A one-line message under the controls that caused it."""
    return dbc.Alert(text, color=color, className="py-1 small mb-0", **kwargs)
