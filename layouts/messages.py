"""Messages about refused input, worded in the user's language."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashapp.i18n import STRINGS, t
from dashapp.parsing import BadInputError
from layouts.figures import fmt
from optimization.errors import InfeasibleError


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


def _figure(key: str, value, lang: str) -> str:
    """One figure of a reason, written as ``lang`` writes numbers."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "" if value is None else str(value)
    if key in ("best", "share"):  # shares of one
        return f"{fmt(100 * value, 0, lang)}\u00a0%"
    if isinstance(value, int) or float(value).is_integer():
        return fmt(value, 0, lang)
    return fmt(value, 1, lang)


def reason_text(reason, lang: str) -> str:
    """Why a plan cannot exist (an :class:`optimization.errors.Reason`), in ``lang``.

    The engine's codes and figures are worded by the catalogue (``reason.<code>``);
    a code it does not know keeps the engine's sentence.
    """
    params = dict(reason.params)
    key = f"reason.{reason.code}"
    if reason.code == "commune_out_of_reach" and params.get("cap") is None:
        key += ".no_site"
    if reason.code == "constraints_incompatible":
        if "parts" not in params:
            return t(f"{key}.staff", lang)
        values = {k: _figure(k, v, lang) for k, v in params.items() if k != "parts"}
        parts = [t(f"reason.part.{p}", lang, **values) for p in params["parts"]]
        return t(key, lang, parts=", ".join(parts) or t("reason.part.none", lang))
    if key not in STRINGS:
        return reason.message
    values = {k: _figure(k, v, lang) for k, v in params.items()}
    try:
        return t(key, lang, **values)
    except KeyError:  # a figure the engine did not give: its own sentence
        return reason.message


def failure_text(exc: Exception, lang: str) -> str:
    """Why a run failed, in ``lang``: each infeasibility reason worded, else the
    error's message (the engine's messages name the field at fault)."""
    cause = exc if isinstance(exc, InfeasibleError) else exc.__cause__
    if isinstance(cause, InfeasibleError) and cause.reasons:
        separator = "\u00a0; " if lang == "fr" else "; "
        return separator.join(reason_text(r, lang) for r in cause.reasons)
    return str(exc)


# how often a screen asks again for a forecast being computed
FORECAST_POLL_MS = 2000


def forecast_pending(lang: str, poll_id: dict) -> html.Div:
    """Says the forecast demand is being computed, with the timer (``poll_id``)
    that makes the screen ask again until it is ready."""
    return html.Div([
        alert(t("scn.forecast_pending", lang), "info", className="py-2 small"),
        dcc.Interval(id=poll_id, interval=FORECAST_POLL_MS),
    ])  # fmt: skip


def forecast_done(poll_id: dict) -> dcc.Interval:
    """One last tick of the timer once the forecast is ready (for the map)."""
    return dcc.Interval(id=poll_id, interval=200, max_intervals=1)
