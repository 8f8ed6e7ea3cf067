"""Road network screen: the dataset's speed profile, edited, saved or reset."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate

from dashapp import ids, services
from dashapp.auth import record, requires
from dashapp.context import current_config
from dashapp.i18n import t
from dashapp.parsing import BadInputError, UnknownIdError, parse_id, shown_value
from dashapp.services import road_profiles
from data.store import StoreError
from layouts import road_profile as lay
from layouts.figures import fmt
from layouts.messages import bad_input_alert

PAGE = "/reseau-routier"


def render(search: str | None, lang: str, dataset_id):
    """The page (route ``/reseau-routier``) for the dataset shown."""
    ctx_ = services.context(current_config().database_url, dataset_id)
    store = services.get_store(current_config().database_url)
    found = road_profiles.profile_values(store, ctx_.info.id)
    return lay.page(ctx_.info.name, found, lang)


def field_name(key: str, lang: str) -> str:
    """A profile value named for the user: mode, season, class and surface."""
    parts = key.split(".")
    if parts[0] == "road_kmh" and len(parts) == 5:
        _, mode, season, cls, surface = parts
        return ", ".join([t(f"rp.mode.{mode}", lang), t(f"rp.season.{season}", lang),
                          t(f"roads.class.{cls}", lang),
                          t(f"rp.surface.{surface}", lang)])  # fmt: skip
    if parts[0] == "offroad_kmh" and len(parts) == 3:
        return ", ".join([t("rp.offroad", lang), t(f"rp.mode.{parts[1]}", lang),
                          t(f"rp.season.{parts[2]}", lang)])  # fmt: skip
    if key == "offroad_cap_km":
        return t("rp.cap", lang)
    return shown_value(key)


def problem_text(problem: dict, lang: str) -> str:
    """One refused value, worded: which field, its bounds, what was typed."""
    if problem["low"] is None:
        return t("rp.bad_field", lang, field=shown_value(problem["key"]))
    value = problem["value"]
    typed = (
        fmt(value, 1, lang)
        if isinstance(value, int | float) and not isinstance(value, bool)
        else t("rp.empty", lang) if value in (None, "") else shown_value(value)
    )  # fmt: skip
    key = "rp.bad_road" if problem["key"].startswith("road_kmh") else "rp.bad_value"
    return t(key, lang, field=field_name(problem["key"], lang),
             low=fmt(problem["low"], 1, lang), high=fmt(problem["high"], 0, lang),
             unit=problem["unit"], value=typed)  # fmt: skip


@requires("roads.profile")
def save_profile(n_save, n_reset, values, field_ids, dataset_id, lang):
    """Check and store the speeds typed (or go back to the defaults); mark the
    refused fields; the travel times cached from the old profile are dropped.

    Returns the message, each field's invalid flag, the values shown and the
    line saying whether the speeds are the defaults or the dataset's own."""
    trigger = ctx.triggered_id
    if trigger not in (ids.RP_SAVE, ids.RP_RESET):
        raise PreventUpdate
    n = len(field_ids or [])
    keep = [False] * n
    store = services.get_store(current_config().database_url)
    try:
        key = parse_id(dataset_id, "dataset")  # the browser's copy: checked
        if all(d.id != key for d in store.datasets()):
            raise UnknownIdError("dataset", key)
        if not isinstance(values, list) or len(values) != n:
            raise BadInputError("the form is not valid", "refused", reason="form")
        fields = {}
        for value, id_ in zip(values, field_ids, strict=True):
            if not isinstance(id_, dict) or not isinstance(id_.get("key"), str):
                raise BadInputError("the form is not valid", "refused", reason="form")
            fields[id_["key"]] = value
        reset = trigger == ids.RP_RESET
        profile, problems = road_profiles.save_fields(
            store, key, None if reset else fields
        )
    except BadInputError as exc:
        return bad_input_alert(exc, lang), no_update, no_update, no_update
    except StoreError:
        alert = dbc.Alert(t("rp.no_roads", lang), color="warning")
        return alert, no_update, no_update, no_update
    if problems:
        bad = {p["key"] for p in problems}
        flags = [id_["key"] in bad for id_ in field_ids]
        alert = dbc.Alert(
            [t("rp.refused", lang, n=len(problems))]
            + [dbc.ListGroupItem(problem_text(p, lang)) for p in problems[:12]],
            color="danger",
            className="py-2",
            id="rp-refused",
        )
        return alert, flags, values, no_update
    record(store, "roads.profile_reset" if reset else "roads.profile", key,
           offroad_cap_km=profile.offroad_cap_km)  # fmt: skip
    found = road_profiles.profile_values(store, key)
    shown = [found["values"].get(id_["key"]) for id_ in field_ids]
    text = t("rp.reset_done" if reset else "rp.saved", lang)
    return (
        dbc.Alert(text, color="success", className="py-2", id="rp-saved"),
        keep,
        shown,
        lay.status_text(found["edited"], lang),
    )


def register(app) -> None:
    app.callback(
        Output(ids.RP_MESSAGE, "children"),
        Output(ids.rp_field(ALL), "invalid"),
        Output(ids.rp_field(ALL), "value"),
        Output(ids.RP_STATUS, "children"),
        Input(ids.RP_SAVE, "n_clicks"),
        Input(ids.RP_RESET, "n_clicks"),
        State(ids.rp_field(ALL), "value"),
        State(ids.rp_field(ALL), "id"),
        State(ids.DATASET, "data"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(save_profile)
