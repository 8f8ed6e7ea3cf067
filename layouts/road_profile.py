"""The road network screen (``/reseau-routier``): the dataset's speed profile,
per travel mode, season, road class and surface, and the walk off the road."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from dashapp import ids
from dashapp.i18n import t
from geo.roads import MODES, ROAD_CLASSES, SEASONS, SURFACES, profile_bounds
from layouts.figures import fmt


def _field(key: str, value: float, default: float, lang: str) -> dbc.Input:
    # no min/max in the browser: a value out of bounds would reach the server as
    # "nothing"; the server checks the bounds (geo.roads) and names what was typed
    return dbc.Input(
        id=ids.rp_field(key),
        type="number",
        value=value,
        step="any",
        size="sm",
        className="rp-edited" if value != default else "",
        style={"maxWidth": "6.5rem"},
    )


def status_text(edited: bool, lang: str) -> str:
    """Whether the dataset's speeds are the defaults or its own."""
    return t("rp.edited" if edited else "rp.defaults", lang)


def mode_table(mode: str, values: dict, defaults: dict, lang: str) -> dbc.Table:
    """One mode's road speeds: a row per class, a column per season and surface."""
    head = html.Thead(
        [
            html.Tr(
                [html.Th(t("rp.class", lang), rowSpan=2)]
                + [html.Th(t(f"rp.season.{s}", lang), colSpan=2) for s in SEASONS]
            ),
            html.Tr(
                [html.Th(t(f"rp.surface.{f}", lang)) for _ in SEASONS for f in SURFACES]
            ),
        ]
    )
    rows = []
    for c in ROAD_CLASSES:
        cells = [html.Td(t(f"roads.class.{c}", lang))]
        for s in SEASONS:
            for f in SURFACES:
                key = f"road_kmh.{mode}.{s}.{c}.{f}"
                cells.append(html.Td(_field(key, values[key], defaults[key], lang)))
        rows.append(html.Tr(cells))
    return dbc.Table([head, html.Tbody(rows)], size="sm", bordered=True,
                     className="rp-table mb-2")  # fmt: skip


def offroad_table(values: dict, defaults: dict, lang: str) -> dbc.Table:
    """The walking speed off the road, per mode and season, and the cap."""
    rows = [
        html.Tr(
            [html.Td(t(f"rp.mode.{m}", lang))]
            + [
                html.Td(
                    _field(
                        f"offroad_kmh.{m}.{s}",
                        values[f"offroad_kmh.{m}.{s}"],
                        defaults[f"offroad_kmh.{m}.{s}"],
                        lang,
                    )
                )  # fmt: skip
                for s in SEASONS
            ]
        )
        for m in MODES
    ]
    head = html.Thead(
        html.Tr(
            [html.Th(t("rp.offroad_for", lang))]
            + [html.Th(t(f"rp.season.{s}", lang)) for s in SEASONS]
        )  # fmt: skip
    )
    return dbc.Table([head, html.Tbody(rows)], size="sm", bordered=True,
                     className="rp-table mb-2")  # fmt: skip


def page(dataset_name: str, found: dict | None, lang: str) -> html.Div:
    """The whole screen; ``found`` is :func:`dashapp.services.road_profiles.
    profile_values` (None: the dataset has no road network)."""
    title = html.H4(t("rp.title", lang, name=dataset_name), className="mt-3")
    if found is None:
        return html.Div(
            [
                title,
                dbc.Alert(t("rp.no_roads", lang), color="secondary", id="rp-no-roads"),
            ]  # fmt: skip
        )
    values, defaults = found["values"], found["defaults"]
    cap = "offroad_cap_km"
    low, high = profile_bounds(f"road_kmh.{MODES[0]}.{SEASONS[0]}.trunk.paved")
    return html.Div(
        [
            title,
            html.P(t("rp.intro", lang, high=fmt(high, 0, lang)), className="small"),
            html.P(
                status_text(found["edited"], lang),
                className="small text-muted",
                id=ids.RP_STATUS,
            ),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            html.H6(t(f"rp.mode.{m}", lang)),
                            mode_table(m, values, defaults, lang),
                        ],  # fmt: skip
                        lg=6,
                    )
                    for m in MODES
                ]
            ),
            html.H6(t("rp.offroad", lang)),
            html.P(t("rp.offroad_hint", lang), className="small text-muted"),
            dbc.Row(
                [
                    dbc.Col(offroad_table(values, defaults, lang), lg=6),
                    dbc.Col(
                        [
                            dbc.Label(t("rp.cap", lang), className="small"),
                            _field(cap, values[cap], defaults[cap], lang),
                        ],
                        lg=3,
                    ),
                ]
            ),
            html.Div(
                [
                    dbc.Button(
                        t("rp.save", lang),
                        id=ids.RP_SAVE,
                        color="primary",
                        className="me-2",
                    ),  # fmt: skip
                    dbc.Button(
                        t("rp.reset", lang),
                        id=ids.RP_RESET,
                        color="secondary",
                        outline=True,
                    ),  # fmt: skip
                ],
                className="my-2",
            ),
            html.Div(id=ids.RP_MESSAGE),
        ]
    )
