"""The scenario workspace: parameters, map of sites, instant evaluation, results."""

from __future__ import annotations

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import numpy as np
from dash import dcc, html

from dashapp import ids
from dashapp.i18n import STRINGS, dropdown_labels, t
from data.kpi import ACCESS_MEASURES
from layouts import maps
from layouts.briefs import brief_control
from layouts.figures import fmt
from layouts.locale import graph_config, grid_locale_text, grid_number
from optimization.whatif import NoRoadsError, WhatIf, build_spec, measure_unit

SITE_STATUSES = ("kept", "closed", "opened", "not_opened")
OBJECTIVE_KEYS = (
    "distance",
    "coverage",
    "fewest",
    "worst",
    "rebalance",
    "attendance",
)
DECAY_KEYS = ("linear", "exponential", "power")
#: The objective whose subject is capacity itself: the switch has no say there.
_REBALANCE = "rebalance"


def capacity_objectives() -> tuple[str, ...]:
    """Objectives whose run imposes the capacities when "Respecter les capacités"
    is on: those whose engine spec (``optimization.whatif.build_spec``) carries
    ``parameters.capacitated``, so the panel says what the engine does.

    Examples
    --------
    >>> "distance" in capacity_objectives(), "attendance" in capacity_objectives()
    (True, False)
    """
    return tuple(
        k
        for k in OBJECTIVE_KEYS
        if build_spec(WhatIf(objective=k, capacitated=True), 1)["parameters"].get(
            "capacitated"
        )
    )


def capacity_note(lang: str) -> html.Div:
    """Under the capacity switch: the objectives it does not apply to, by name
    (a run of theirs does not impose capacities; "rebalance" moves capacity
    itself and is not listed)."""
    imposed = capacity_objectives()
    others = [k for k in OBJECTIVE_KEYS if k not in imposed and k != _REBALANCE]
    left, right = ("« ", " »") if lang == "fr" else ("“", "”")
    names = ", ".join(f"{left}{t(f'scn.objective.{k}', lang)}{right}" for k in others)
    text = t("scn.capacitated.not_for", lang, objectives=names) if others else ""
    return html.Div(text, className="small text-muted mb-2")


# Number fields of the panel: WhatIf field -> (input id, label key). Their
# ``invalid`` flag follows the panel (callbacks.scenario_run.mark_invalid).
NUMBER_FIELDS = {
    "new_centers": (ids.SCN_NEW, "scn.new_centers"),
    "budget": (ids.SCN_BUDGET, "scn.budget"),
    "closing_cost": (ids.SCN_CLOSING_COST, "scn.closing_cost"),
    "module_size": (ids.SCN_MODULE_SIZE, "scn.module_size"),
    "module_cost": (ids.SCN_MODULE_COST, "scn.module_cost"),
    "radius_km": (ids.SCN_RADIUS, "scn.radius"),
    "time_limit_s": (ids.SCN_TIME_LIMIT, "scn.time_limit"),
    "growth_pct": (ids.SCN_GROWTH, "scn.growth"),
    "years": (ids.SCN_YEARS, "scn.years"),
    "forecast_weeks": (ids.SCN_FORECAST_WEEKS, "scn.forecast_weeks"),
    "capacity_change_pct": (ids.SCN_CAPACITY, "scn.capacity_change"),
    "min_coverage_pct": (ids.SCN_MIN_COVERAGE, "scn.min_coverage"),
    "max_distance_km": (ids.SCN_MAX_DISTANCE, "scn.max_distance"),
    "decay_distance": (ids.SCN_DECAY_DISTANCE, "scn.decay_distance"),
    "decay_exponent": (ids.SCN_DECAY_EXPONENT, "scn.decay_exponent"),
}
_OTHER_LABELS = {
    "objective": "scn.objective",
    "decay": "scn.decay",
    "measure": "scn.measure",
    "demand_source": "scn.demand_source",
    "period_start": "scn.period",
    "period_end": "scn.period",
    "sites": "scn.field.sites",
    "added": "scn.field.added",
    "doc_types": "scn.field.doc_types",
    "growth_by_doc_pct": "scn.growth_by_doc",
    "parameters": "scn.field.parameters",
}


def field_label(field: str, lang: str, unit: str = "km") -> str:
    """The panel's label of a WhatIf field (``growth_by_doc_pct[CNI]`` too), with
    the scenario's distance ``unit`` (km, or min for a travel time) where it has one."""
    if field.startswith("growth_by_doc_pct["):
        return f"{t('scn.growth_by_doc', lang)} {field[len('growth_by_doc_pct[') : -1]}"
    key = NUMBER_FIELDS.get(field, (None, _OTHER_LABELS.get(field)))[1]
    if key and unit == "min" and f"{key}.min" in STRINGS:
        key = f"{key}.min"
    return t(key, lang) if key else field


def measure_texts(measure, roads: bool, lang: str) -> tuple[str, str, str, str, str]:
    """The radius and max.-distance labels in the measure's unit, the note
    under the measure switch (why travel time is not offered, or what it is),
    the map's legend (distance or travel time) and the attendance decay's
    distance label in the measure's unit."""
    unit = measure_unit(measure) if roads else "km"
    note = "scn.measure.roads" if roads else "scn.measure.no_roads"
    return (
        field_label("radius_km", lang, unit),
        field_label("max_distance_km", lang, unit),
        t(note, lang),
        t("scn.map_legend.min" if unit == "min" else "scn.map_legend", lang),
        field_label("decay_distance", lang, unit),
    )


def measure_control(value, roads: bool, lang: str) -> html.Div:
    """The access-measure switch: km, or travel time by mode and season (only
    with a road network; otherwise disabled, the note says why)."""
    options = [
        {"label": m.label(lang), "value": code, "disabled": code != "km" and not roads}
        for code, m in ACCESS_MEASURES.items()
    ]
    return html.Div(
        [
            dbc.Label(
                t("scn.measure", lang), html_for=ids.SCN_MEASURE, className="small mb-0"
            ),  # fmt: skip
            dbc.RadioItems(
                id=ids.SCN_MEASURE,
                options=options,
                value=value if roads and value in ACCESS_MEASURES else "km",
                className="small",
            ),
            html.Div(
                measure_texts(value, roads, lang)[2],
                id=ids.SCN_MEASURE_NOTE,
                className="small text-muted mb-2",
            ),
        ]
    )


def _number(id_, value, label, lang, label_id=None, **kw):
    extra = {} if label_id is None else {"id": label_id}
    return html.Div(
        [
            dbc.Label(t(label, lang), html_for=id_, className="small mb-0", **extra),
            dbc.Input(
                id=id_, type="number", value=value, size="sm", debounce=True, **kw
            ),
            dbc.FormFeedback(t("scn.field_invalid", lang), type="invalid"),
        ],
        className="mb-2",
    )


def decay_fields(v: dict, lang: str, unit: str = "km") -> html.Div:
    """How attendance falls with distance (the objective "attendance"), its
    distance in ``unit`` (km, or min for a travel time)."""
    return html.Div(
        [
            dbc.Label(
                t("scn.decay", lang), html_for=ids.SCN_DECAY, className="small mb-0"
            ),
            dcc.Dropdown(
                labels=dropdown_labels(lang),
                id=ids.SCN_DECAY,
                value=v["decay"],
                clearable=False,
                className="mb-2",
                options=[
                    {"label": t(f"scn.decay.{k}", lang), "value": k} for k in DECAY_KEYS
                ],
            ),
            dbc.Row(
                [
                    dbc.Col(
                        _number(
                            ids.SCN_DECAY_DISTANCE,
                            v["decay_distance"],
                            "scn.decay_distance.min"
                            if unit == "min"
                            else "scn.decay_distance",
                            lang,
                            label_id=ids.SCN_DECAY_DISTANCE_LABEL,
                            min=0.1,
                        )
                    ),
                    dbc.Col(
                        _number(
                            ids.SCN_DECAY_EXPONENT,
                            v["decay_exponent"],
                            "scn.decay_exponent",
                            lang,
                            min=0.1,
                            max=10,
                        )
                    ),
                ],
                className="g-2",
            ),
        ]
    )


def parameter_panel(
    doc_types,
    lang: str,
    values: dict | None = None,
    zones: list | None = None,
    weeks: tuple | None = None,
    roads: bool = False,
) -> dbc.Card:
    """Scenario parameters, prefilled with ``values`` (a saved scenario's).

    Every value is checked by ``optimization.whatif.WhatIf``, whose defaults
    fill what ``values`` leaves out. ``roads``: the dataset has a road network
    (travel time may be chosen as the access measure).
    """
    v = {**WhatIf().to_dict(), **(values or {})}
    unit = measure_unit(v["measure"]) if roads else "km"
    by_doc = v.get("growth_by_doc_pct") or {}
    docs = [
        dbc.InputGroup(
            [
                dbc.InputGroupText(row.code, className="small"),
                dbc.Input(
                    id=ids.scn_growth_doc(row.code),
                    type="number",
                    value=by_doc.get(row.code, 0),
                    size="sm",
                    debounce=True,
                ),
                dbc.InputGroupText("%", className="small"),
            ],
            size="sm",
            className="mb-1",
        )
        for row in doc_types.itertuples()
    ]
    objective = dcc.Dropdown(
        labels=dropdown_labels(lang),
        id=ids.SCN_OBJECTIVE,
        value=v["objective"],
        clearable=False,
        className="mb-2",
        options=[
            {"label": t(f"scn.objective.{k}", lang), "value": k} for k in OBJECTIVE_KEYS
        ],
    )

    def pair(left, right):
        return dbc.Row([dbc.Col(left), dbc.Col(right)], className="g-2")

    click_modes = [
        {"label": t("scn.click_toggle", lang), "value": "toggle"},
        {"label": t("scn.click_add", lang), "value": "add"},
    ]
    return dbc.Card(
        dbc.CardBody(
            [
                html.H5(t("scn.parameters", lang), className="card-title"),
                dbc.Label(
                    t("scn.zone", lang), html_for=ids.SCN_ZONE, className="small mb-0"
                ),
                dcc.Dropdown(
                    labels=dropdown_labels(lang),
                    id=ids.SCN_ZONE,
                    options=zones or [],
                    placeholder=t("filters.all", lang),
                    className="mb-2",
                ),
                dbc.Label(
                    t("scn.period", lang),
                    html_for=ids.SCN_PERIOD,
                    className="small mb-0",
                ),
                dcc.DatePickerRange(
                    id=ids.SCN_PERIOD,
                    start_date=v.get("period_start"),
                    end_date=v.get("period_end"),
                    min_date_allowed=weeks[0] if weeks else None,
                    max_date_allowed=weeks[1] if weeks else None,
                    start_date_placeholder_text=t("scn.period_default", lang),
                    end_date_placeholder_text=t("filters.end", lang),
                    display_format="DD/MM/YYYY",
                    first_day_of_week=1,
                    clearable=True,
                    className="mb-2 d-block",
                ),
                dbc.Label(t("filters.doc_types", lang), className="small mb-0"),
                dbc.Checklist(
                    id=ids.SCN_DOCS,
                    className="small mb-2",
                    value=list(v["doc_types"]) or list(doc_types["code"]),
                    options=[
                        {
                            "label": row.name_fr if lang == "fr" else row.name_en,
                            "value": row.code,
                        }
                        for row in doc_types.itertuples()
                    ],
                ),
                measure_control(v["measure"], roads, lang),
                dbc.Label(
                    t("scn.objective", lang),
                    html_for=ids.SCN_OBJECTIVE,
                    className="small mb-0",
                ),
                objective,
                decay_fields(v, lang, unit),
                pair(
                    _number(
                        ids.SCN_NEW,
                        v["new_centers"],
                        "scn.new_centers",
                        lang,
                        min=0,
                        step=1,
                    ),
                    _number(ids.SCN_BUDGET, v["budget"], "scn.budget", lang, min=0),
                ),
                pair(
                    _number(
                        ids.SCN_CLOSING_COST,
                        v["closing_cost"],
                        "scn.closing_cost",
                        lang,
                        min=0,
                    ),
                    html.Div(),
                ),
                pair(
                    _number(
                        ids.SCN_MODULE_SIZE,
                        v["module_size"],
                        "scn.module_size",
                        lang,
                        min=1,
                    ),
                    _number(
                        ids.SCN_MODULE_COST,
                        v["module_cost"],
                        "scn.module_cost",
                        lang,
                        min=0,
                    ),
                ),
                pair(
                    _number(
                        ids.SCN_RADIUS,
                        v["radius_km"],
                        "scn.radius.min" if unit == "min" else "scn.radius",
                        lang,
                        label_id=ids.SCN_RADIUS_LABEL,
                        min=1,
                    ),
                    _number(
                        ids.SCN_TIME_LIMIT,
                        v["time_limit_s"],
                        "scn.time_limit",
                        lang,
                        min=1,
                    ),
                ),
                pair(
                    _number(ids.SCN_GROWTH, v["growth_pct"], "scn.growth", lang),
                    _number(
                        ids.SCN_YEARS, v["years"], "scn.years", lang, min=0, step=1
                    ),
                ),
                dbc.Label(t("scn.demand_source", lang), className="small mb-0"),
                dbc.RadioItems(
                    id=ids.SCN_DEMAND_SOURCE,
                    value=v["demand_source"],
                    className="small",
                    options=[
                        {"label": t("scn.demand.today", lang), "value": "today"},
                        {"label": t("scn.demand.forecast", lang), "value": "forecast"},
                    ],
                ),
                _number(
                    ids.SCN_FORECAST_WEEKS,
                    v["forecast_weeks"],
                    "scn.forecast_weeks",
                    lang,
                    min=4,
                    max=26,
                    step=1,
                ),
                dbc.Label(t("scn.growth_by_doc", lang), className="small mb-0"),
                html.Div(docs, className="mb-2"),
                _number(
                    ids.SCN_CAPACITY,
                    v["capacity_change_pct"],
                    "scn.capacity_change",
                    lang,
                ),
                dbc.Switch(
                    id=ids.SCN_CLOSURES,
                    value=bool(v["allow_closures"]),
                    label=t("scn.allow_closures", lang),
                    className="small",
                ),
                dbc.Switch(
                    id=ids.SCN_CAPACITATED,
                    value=bool(v["capacitated"]),
                    label=t("scn.capacitated", lang),
                    className="small mb-0",
                ),
                capacity_note(lang),
                html.Div(t("scn.equity", lang), className="small fw-semibold"),
                pair(
                    _number(
                        ids.SCN_MIN_COVERAGE,
                        v["min_coverage_pct"],
                        "scn.min_coverage",
                        lang,
                        min=0,
                        max=100,
                    ),
                    _number(
                        ids.SCN_MAX_DISTANCE,
                        v["max_distance_km"],
                        "scn.max_distance.min" if unit == "min" else "scn.max_distance",
                        lang,
                        label_id=ids.SCN_MAX_DISTANCE_LABEL,
                        min=1,
                    ),
                ),
                html.Hr(className="my-2"),
                dbc.Label(t("scn.click_mode", lang), className="small mb-0"),
                dbc.RadioItems(
                    id=ids.SCN_CLICK_MODE,
                    value=v.get("click_mode", "toggle"),
                    className="small",
                    options=click_modes,
                ),
                html.Div(id=ids.SCN_SITES_LIST, className="small mt-2"),
                dbc.Button(
                    t("scn.sites_reset", lang),
                    id=ids.SCN_SITES_RESET,
                    size="sm",
                    color="secondary",
                    outline=True,
                    className="mt-2 w-100",
                ),
            ]
        ),
        className="mb-3",
    )


def invalid_alert(
    exc: Exception,
    lang: str,
    unit: str = "km",
    heading: str = "scn.problems",
    alert_id: str = "scn-invalid-fields",
) -> dbc.Alert:
    """A what-if that cannot be planned, with the reason (the fields named).

    A :class:`optimization.whatif.PanelError` lists each field by its label (in
    the measure's ``unit``: km or min), with the value sent and what is
    expected, under ``heading`` (a catalogue key: by default, nothing was run);
    ``alert_id`` tells apart two such alerts on one page.
    """
    problems = getattr(exc, "problems", None)
    if isinstance(exc, NoRoadsError):  # a forged or stale measure: say why in words
        return dbc.Alert(t("scn.measure.no_roads", lang), color="warning",
                         id="scn-no-roads")  # fmt: skip
    if not problems:
        return dbc.Alert(t("scn.invalid", lang, reason=str(exc)), color="warning")
    items = [html.Li(problem_text(p, lang, unit)) for p in problems]
    return dbc.Alert(
        [html.Div(t(heading, lang)), html.Ul(items, className="mb-0")],
        color="warning",
        id=alert_id,
    )


def problem_text(problem, lang: str, unit: str = "km") -> str:
    """One :class:`optimization.whatif.Problem` in ``lang``: the field's label,
    the value sent (already cut short) and what is expected."""
    label = field_label(problem.field, lang, unit)
    if problem.reason in ("range", "too_many"):
        low, high = (
            fmt(x, 0 if x == int(x) else 1, lang) for x in (problem.low, problem.high)
        )
        value = problem.value
        if problem.reason == "too_many":
            value = fmt(value, 0, lang)
        return t(f"scn.problem.{problem.reason}", lang, field=label, value=value,
                 low=low, high=high)  # fmt: skip
    if problem.reason == "empty":
        return t("scn.problem.empty", lang, field=label)
    key = f"scn.problem.{problem.reason}"
    if key not in STRINGS:
        key = "scn.problem.invalid"
    return t(key, lang, field=label, value=problem.value)


def no_demand_alert(exc, lang: str, **kwargs) -> dbc.Alert:
    """Nothing to plan for (``optimization.scenario.NoDemandError``), in words."""
    text = t(f"scn.no_demand.{exc.reason}", lang, n=exc.communes)
    return dbc.Alert(text, color="warning", **kwargs)


def site_choices(sites: dict, added: list, names: dict, lang: str) -> list:
    """The planner's map choices, as badges with the map's colour of each state."""

    def badge(state: str, text: str):
        dot = html.Span(
            className="map-legend-dot me-1",
            style={
                "display": "inline-block",
                "width": "9px",
                "height": "9px",
                "borderRadius": "50%",
                "background": maps.SITE_COLORS[state],
                "border": f"1.5px solid {maps.HALO_COLOR}",
            },
        )
        return dbc.Badge(
            [dot, text],
            color="light",
            text_color="dark",
            className="me-1 mb-1 border",
        )

    items = [
        badge(state, f"{names.get(code, code)} · {t(f'scn.state.{state}', lang)}")
        for code, state in sorted(sites.items())
    ]
    items += [badge("candidate", f"+ {names.get(code, code)}") for code in added]
    return items or [html.Span(t("scn.no_choice", lang), className="text-muted")]


def scenarios_page(
    doc_types,
    lang: str,
    values: dict | None = None,
    result_id: int | None = None,
    zones: list | None = None,
    notices: list | None = None,
    weeks: tuple | None = None,
    roads: bool = False,
) -> html.Div:
    """The whole workspace; figures and tables are filled by callbacks.

    ``values``, ``result_id`` reopen a saved scenario; ``notices`` are alerts shown
    on top (e.g. the scenario was computed on an older dataset version); ``roads``:
    the dataset has a road network (travel time can be the access measure).
    """
    values = values or {}
    legend = measure_texts(values.get("measure"), roads, lang)[3]
    views = [
        {"label": t("scn.view.plan", lang), "value": "plan"},
        {"label": t("scn.view.result", lang), "value": "result"},
    ]
    map_card = dbc.Card(
        [
            dbc.CardHeader(
                html.Div(
                    [
                        html.Span(t("scn.map", lang)),
                        dbc.RadioItems(
                            id=ids.SCN_VIEW,
                            value="result" if result_id else "plan",
                            inline=True,
                            className="small",
                            options=views,
                        ),
                        dbc.RadioItems(
                            id=ids.SCN_COLOR_BY,
                            value="distance",
                            inline=True,
                            className="small",
                            options=[
                                {
                                    "label": t("scn.color.distance", lang),
                                    "value": "distance",
                                },
                                {
                                    "label": t("scn.color.change", lang),
                                    "value": "change",
                                },
                            ],
                        ),
                    ],
                    className="d-flex justify-content-between flex-wrap",
                )
            ),
            dcc.Graph(
                id=ids.SCN_MAP,
                style={"height": "520px"},
                config=graph_config(lang, scrollZoom=True),
            ),
            dbc.CardFooter(
                [
                    maps.site_legend(
                        maps.PLAN_STATES + ("opened",),
                        lang,
                        extra=[(maps.UNSERVED_COLOR, t("map.unserved", lang))],
                    ),
                    html.Small(legend, className="text-muted", id=ids.SCN_MAP_LEGEND),
                ]
            ),
        ]
    )
    run_card = dbc.Card(
        dbc.CardBody(
            [
                html.H6(t("scn.instant", lang)),
                html.Div(id=ids.SCN_INSTANT),
                html.Hr(),
                dbc.Button(
                    t("scn.run", lang),
                    id=ids.SCN_RUN,
                    color="primary",
                    className="me-2",
                ),
                dbc.Button(
                    t("scn.cancel", lang),
                    id=ids.SCN_CANCEL,
                    color="secondary",
                    outline=True,
                    disabled=True,
                ),
                html.Div(id=ids.SCN_PROGRESS, className="small text-muted mt-2"),
                html.Div(id=ids.SCN_STATUS, className="mt-2"),
            ]
        )
    )
    results = html.Div(
        [
            html.H5(t("scn.results", lang), className="mt-3"),
            html.Div(id=ids.SCN_DELTAS),
            html.Div(id=ids.SCN_CENTERS_GRID, className="mt-3"),
            html.Div(id=ids.SCN_COMMUNES_GRID, className="mt-3"),
        ]
    )
    sites = {
        "sites": dict(values.get("sites", {})),
        "added": list(values.get("added", [])),
    }
    return html.Div(
        [
            dcc.Store(id=ids.SCN_SITES, data=sites),
            dcc.Store(id=ids.SCN_DRAFT),
            dcc.Store(id=ids.SCN_RESULT, data={"id": result_id} if result_id else None),
            html.Div(notices or [], id=ids.SCN_STALE),
            html.Div(id=ids.SCN_MESSAGES),
            dbc.Row(
                [
                    dbc.Col(
                        parameter_panel(doc_types, lang, values, zones, weeks, roads),
                        md=3,
                        xl=3,
                    ),
                    dbc.Col(
                        [
                            dbc.Row(
                                [
                                    dbc.Col(map_card, lg=7),
                                    dbc.Col([run_card, library_card(lang)], lg=5),
                                ],
                                className="g-2",
                            ),
                            results,
                            compare_section(lang),
                            curve_section(lang),
                        ],
                        md=9,
                        xl=9,
                    ),
                ]
            ),
        ],
        className="mb-5",
    )


def library_card(lang: str) -> dbc.Card:
    """Save, reopen, duplicate, delete, share and export scenarios."""
    return dbc.Card(
        dbc.CardBody(
            [
                html.H6(t("scn.library", lang)),
                dbc.Row(
                    [
                        dbc.Col(
                            dbc.Input(
                                id=ids.SCN_NAME,
                                placeholder=t("scn.name", lang),
                                size="sm",
                                maxLength=120,
                            )
                        ),
                        dbc.Col(
                            dbc.Input(
                                id=ids.SCN_AUTHOR,
                                placeholder=t("scn.author", lang),
                                size="sm",
                                maxLength=120,
                            )
                        ),
                    ],
                    className="g-2 mb-2",
                ),
                dbc.Button(
                    t("scn.save", lang),
                    id=ids.SCN_SAVE,
                    size="sm",
                    color="primary",
                    className="mb-2",
                ),
                dcc.Dropdown(
                    labels=dropdown_labels(lang),
                    id=ids.SCN_SAVED,
                    placeholder=t("scn.saved", lang),
                    className="mb-2",
                ),
                dbc.ButtonGroup(
                    [
                        dbc.Button(
                            t("scn.open", lang),
                            id=ids.SCN_OPEN,
                            size="sm",
                            color="secondary",
                        ),
                        dbc.Button(
                            t("scn.duplicate", lang),
                            id=ids.SCN_DUPLICATE,
                            size="sm",
                            color="secondary",
                            outline=True,
                        ),
                        dcc.ConfirmDialogProvider(
                            dbc.Button(
                                t("scn.delete", lang),
                                id=ids.SCN_DELETE,
                                size="sm",
                                color="danger",
                                outline=True,
                            ),
                            id=ids.SCN_DELETE_CONFIRM,
                            message=t("scn.delete_confirm", lang),
                        ),
                        dbc.Button(
                            t("scn.undo_delete", lang),
                            id=ids.SCN_UNDO,
                            size="sm",
                            color="secondary",
                            outline=True,
                            style={"display": "none"},
                        ),
                    ],
                    className="mb-2",
                ),
                dcc.Store(id=ids.SCN_DELETED),
                html.Div(id=ids.SCN_LIBRARY_MSG, className="small"),
                html.Hr(className="my-2"),
                html.Div(t("scn.export", lang), className="small fw-semibold"),
                dbc.ButtonGroup(
                    [
                        dbc.Button(
                            "CSV",
                            id=ids.SCN_EXPORT_CSV,
                            size="sm",
                            outline=True,
                            color="secondary",
                        ),
                        dbc.Button(
                            "Excel",
                            id=ids.SCN_EXPORT_XLSX,
                            size="sm",
                            outline=True,
                            color="secondary",
                        ),
                        dbc.Button(
                            "GeoJSON",
                            id=ids.SCN_EXPORT_GEOJSON,
                            size="sm",
                            outline=True,
                            color="secondary",
                        ),
                    ]
                ),
                dcc.Download(id=ids.SCN_DOWNLOAD),
                brief_control("scenario", lang),
                html.Div(id=ids.SCN_SHARE, className="small mt-2 text-break"),
            ]
        ),
        className="mt-2",
    )


def compare_section(lang: str) -> html.Div:
    """Pick 2 to 4 saved scenarios and compare them side by side."""
    return html.Div(
        [
            html.H5(t("scn.compare_title", lang), className="mt-4"),
            dbc.Row(
                [
                    dbc.Col(
                        dcc.Dropdown(
                            labels=dropdown_labels(lang),
                            id=ids.SCN_COMPARE_PICK,
                            multi=True,
                            placeholder=t("scn.compare_pick", lang),
                        ),
                        md=8,
                    ),
                    dbc.Col(
                        [
                            dbc.Button(
                                t("scn.compare", lang),
                                id=ids.SCN_COMPARE,
                                size="sm",
                                color="primary",
                                className="me-2",
                            ),
                            dbc.Button(
                                t("scn.compare_export", lang),
                                id=ids.SCN_COMPARE_EXPORT,
                                size="sm",
                                color="secondary",
                                outline=True,
                            ),
                        ],
                        md=4,
                    ),
                ],
                className="g-2",
            ),
            brief_control("comparison", lang),
            html.Div(id=ids.SCN_COMPARE_OUT, className="mt-2"),
        ]
    )


def curve_section(lang: str) -> html.Div:
    """Coverage and mean distance for 0..N added centers."""
    return html.Div(
        [
            html.H5(t("scn.curve_title", lang), className="mt-4"),
            html.P(t("scn.curve_help", lang), className="small text-muted"),
            dbc.InputGroup(
                [
                    dbc.InputGroupText(t("scn.curve_max", lang)),
                    dbc.Input(
                        id=ids.SCN_CURVE_MAX, type="number", value=8, min=1, max=30
                    ),
                    dbc.Button(
                        t("scn.curve_run", lang), id=ids.SCN_CURVE_RUN, color="primary"
                    ),
                ],
                size="sm",
                style={"maxWidth": "28rem"},
            ),
            html.Div(id=ids.SCN_CURVE_PROGRESS, className="small text-muted mt-1"),
            dcc.Graph(
                id=ids.SCN_CURVE,
                figure=maps.message_figure(t("scn.curve_before", lang), 320),
                config=graph_config(lang),
                style={"height": "320px"},
            ),
        ]
    )


def _grid(
    grid_id: str, rows: list[dict], columns: list[dict], highlight: dict, lang: str
) -> dag.AgGrid:
    """A sortable, filterable, paginated table with the changed rows highlighted."""
    return dag.AgGrid(
        id=grid_id,
        rowData=rows,
        columnDefs=columns,
        defaultColDef={"sortable": True, "filter": True, "resizable": True},
        rowClassRules=highlight,
        dashGridOptions={
            "pagination": True,
            "paginationPageSize": 20,
            "localeText": grid_locale_text(lang),
        },
        style={"height": "420px"},
    )


def records(frame) -> list[dict]:
    """The rows of ``frame`` as dicts of plain values, what
    ``frame.to_dict("records")`` gives, in a third of its time (a result's tables
    are drawn each time a run ends)."""
    labels = list(frame.columns)
    values = [frame[label].tolist() for label in labels]
    return [dict(zip(labels, row, strict=True)) for row in zip(*values, strict=True)]


def centers_grid(centers, status_labels: dict, lang: str) -> list:
    """Per-site table of a result, opened and closed sites first."""
    order = {"opened": 0, "closed": 1, "kept": 2, "not_opened": 3}
    frame = (
        centers[centers["status"] != "not_opened"]
        .sort_values("status", key=lambda s: s.map(order), kind="stable")
        .copy()
    )
    frame["status_label"] = frame["status"].map(status_labels).fillna(frame["status"])
    frame["utilisation_pct"] = (frame["utilisation"] * 100).round(1)
    whole = grid_number(0, lang)
    columns = [
        {"field": "site_id", "headerName": t("scn.col.site", lang), "width": 110},
        {"field": "name", "headerName": t("scn.col.name", lang), "minWidth": 220},
        {"field": "status_label", "headerName": t("scn.col.status", lang)},
        {
            "field": "capacity",
            "headerName": t("scn.col.capacity", lang),
            "valueFormatter": whole,
        },
        {
            "field": "assigned_demand",
            "headerName": t("scn.col.demand", lang),
            "valueFormatter": whole,
        },
        {
            "field": "utilisation_pct",
            "headerName": t("scn.col.utilisation", lang),
            "valueFormatter": grid_number(1, lang),
        },
        {"field": "communes", "headerName": t("scn.col.communes", lang)},
    ]
    changed = {
        "function": "params.data.status === 'opened' || params.data.status === 'closed'"
    }
    return [
        html.H6(t("scn.centers_table", lang)),
        _grid(
            ids.SCN_CENTERS_GRID + "-table",
            records(frame),
            columns,
            {"table-warning fw-semibold": changed},
            lang,
        ),
    ]


def communes_grid(communes, lang: str, unit: str = "km") -> list:
    """Per-commune table of a result, communes that change center highlighted;
    distances in ``unit`` (km, or min for a travel-time run)."""
    suffix = ".min" if unit == "min" else ""
    # no value reads n.d., never 0.0: an unknown demand (population unknown: left
    # out of the run), no distance today (no center yet), no center in reach
    nd = t("kpi.no_data", lang)
    one_decimal = demand = grid_number(1, lang, missing=nd)
    columns = [
        {"field": "commune_id", "headerName": t("scn.col.commune", lang), "width": 130},
        {"field": "name", "headerName": t("scn.col.name", lang), "minWidth": 200},
        {
            "field": "demand",
            "headerName": t("scn.col.commune_demand", lang),
            "valueFormatter": demand,
        },
        {"field": "site_id_before", "headerName": t("scn.col.before", lang)},
        {"field": "site_id", "headerName": t("scn.col.after", lang)},
        {
            "field": "distance_before",
            "headerName": t(f"scn.col.distance_before{suffix}", lang),
            "valueFormatter": one_decimal,
        },
        {
            "field": "distance",
            "headerName": t(f"scn.col.distance_after{suffix}", lang),
            "valueFormatter": one_decimal,
        },
    ]
    moved = {"function": "params.data.site_id !== params.data.site_id_before"}
    return [
        html.H6(t("scn.communes_table", lang)),
        _grid(
            ids.SCN_COMMUNES_GRID + "-table",
            records(communes),
            columns,
            {"table-warning": moved},
            lang,
        ),
    ]


#: height of a small map of a comparison (its map, without a colour bar), px
SMALL_MAP_PX = 260


def scenario_small_map(
    geojson: dict,
    regions: list[str],
    bounds: tuple,
    centers,
    lang: str = "fr",
    distance: list | None = None,
    zrange: tuple[float, float] | None = None,
    show_scale: bool = False,
    unit: str = "km",
) -> dict:
    """A small map of a saved result: its top-level units, the sites kept,
    opened and closed in their colours.

    ``distance`` colours the units (mean distance to the center, per unit, in
    ``unit``: km or min) on ``zrange``, the range the small maps of a comparison
    in the same unit share; the colour bar is drawn on one of them only
    (``show_scale``), under it: that figure is taller by the band of the bar
    (its ``layout.height``), so the maps in a row keep one size.
    """
    shown = centers[centers["status"] != "not_opened"]
    statuses = shown["status"].tolist()
    labels = [site_label(s, lang, result=True) for s in statuses]
    context = maps.context_layer(geojson, regions, lang)
    if distance is None:
        chor = maps.choropleth_layer(geojson, [], [], colorscale=maps.SEQUENTIAL)
    else:
        z = [None if v is None or not np.isfinite(v) else round(float(v), 1)
             for v in distance]  # fmt: skip
        chor = maps.choropleth_layer(
            geojson,
            regions,
            z,
            colorscale=maps.SEQUENTIAL,
            customdata=[[fmt(v, 1, lang)] for v in z],
            hovertemplate=f"{t('map.mean_' + unit, lang)} : %{{customdata[0]}} "
            f"{unit}<extra></extra>",
            colorbar_title=unit if show_scale and zrange is not None else None,
            zrange=zrange,
        )
    sites = maps.site_layer(
        shown["lon"].tolist(),
        shown["lat"].tolist(),
        colors=[maps.SITE_COLORS.get(s, maps.CENTER_COLOR) for s in statuses],
        sizes=7,
        customdata=[[n, lab] for n, lab in zip(shown["name"], labels, strict=True)],
        hovertemplate="<b>%{customdata[0]}</b><br>%{customdata[1]}<extra></extra>",
    )
    fig = maps.map_figure(
        maps.fit_view(*bounds, 300, SMALL_MAP_PX), context=context, choropleth=chor,
        sites=[sites],
    )  # fmt: skip
    fig["layout"].pop("clickmode")
    if fig["layout"]["margin"]["b"]:
        fig["layout"]["height"] = SMALL_MAP_PX + fig["layout"]["margin"]["b"]
    return fig


def status_labels(lang: str) -> dict[str, str]:
    """A result's site statuses in words."""
    return {s: t(f"scn.site_status.{s}", lang) for s in SITE_STATUSES}


def site_label(state: str, lang: str, result: bool = False) -> str:
    """A site's state as set, or its status in a result, in words (map hover)."""
    if result and state == "closed":
        return t("map.status.closed", lang)
    return maps.site_hover_label(state, lang)


def site_markers(view, lang: str, result: bool = False) -> dict:
    """The sites of a map view (``optimization.workspace.MapView``) as a site
    layer: coloured by state, the open ones larger, name and state on hover."""
    return maps.site_layer(
        list(map(float, view.lon)),
        list(map(float, view.lat)),
        ids=view.site_ids,
        colors=[maps.SITE_COLORS.get(s, maps.CENTER_COLOR) for s in view.states],
        sizes=[
            maps.SITE_SIZES[
                "open"
                if s in maps.OPEN_STATES
                else "not_opened"
                if s == "not_opened"
                else "other"
            ]
            for s in view.states
        ],
        customdata=[
            [view.names[i], site_label(s, lang, result)]
            for i, s in enumerate(view.states)
        ],
        hovertemplate="<b>%{customdata[0]}</b><br>%{customdata[1]}<extra></extra>",
        name=t("map.centers", lang),
    )


def scenario_map(
    geojson: dict,
    communes: tuple[list[str], list[str]],
    view,
    change: bool,
    map_view: dict,
    lang: str,
    style,
    uirevision: str,
    result: bool = False,
) -> dict:
    """Communes coloured by the distance to their site (or its change), the
    communes nobody serves highlighted, the sites of ``view``
    (``optimization.workspace.MapView``) on top.

    ``communes`` is (codes, names) in the order of the view's distances, which
    are in ``view.unit`` (km, or min for a travel time: hover and colour bar say
    which). The distance scale runs over today's and the plan's distances
    together, so the network as set and the proposal read on one scale; a change
    is centred on 0.
    """
    unit = getattr(view, "unit", "km")
    codes, names = communes
    if change:
        shown = view.distance - view.distance_before
        zrange = maps.symmetric_range(shown)
    else:
        shown = view.distance
        zrange = maps.shared_range(view.distance, view.distance_before, floor=0.0)
    z = [None if not np.isfinite(d) else round(float(d), 1) for d in shown]
    chor = maps.choropleth_layer(
        geojson,
        codes,
        z,
        colorscale=maps.DIVERGING if change else maps.SEQUENTIAL,
        customdata=[[n, fmt(v, 1, lang)] for n, v in zip(names, z, strict=True)],
        hovertemplate="<b>%{customdata[0]}</b><br>%{customdata[1]} "
        f"{unit}<extra></extra>",
        colorbar_title=f"Δ {unit}" if change else unit,
        zrange=zrange,
        name=t("map.title", lang),
    )
    unserved = np.flatnonzero(np.nan_to_num(view.unserved) > 0)
    highlight = maps.highlight_layer(
        geojson,
        [codes[i] for i in unserved],
        name=t("map.unserved", lang),
        customdata=[[names[i], fmt(view.unserved[i], 1, lang)] for i in unserved],
        hovertemplate="<b>%{customdata[0]}</b><br>"
        f"{t('map.unserved_demand', lang)} : %{{customdata[1]}}<extra></extra>",
    )
    return maps.map_figure(
        map_view,
        context=maps.context_layer(geojson, codes, lang),
        choropleth=chor,
        highlight=highlight,
        sites=[site_markers(view, lang, result)],
        style=style,
        uirevision=uirevision,
    )


def curve_figure(curve, lang: str) -> dict:
    """Coverage within R and mean distance against centers added
    (``optimization.workspace.CoverageCurve``; distance in its ``unit``)."""
    distance = t(
        "scn.curve_distance.min"
        if getattr(curve, "unit", "km") == "min"
        else "scn.curve_distance",
        lang,
    )
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": list(curve.added),
                "y": list(curve.coverage_pct),
                "name": t("scn.curve_coverage", lang),
                "line": {"color": maps.DIVERGING[0][1]},
            },
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": list(curve.added),
                "y": list(curve.mean_distance),
                "name": distance,
                "yaxis": "y2",
                "line": {"color": maps.DIVERGING[-1][1], "dash": "dot"},
            },
        ],
        "layout": {
            "margin": {"l": 50, "r": 50, "t": 10, "b": 40},
            "height": 320,
            "xaxis": {"title": {"text": t("scn.curve_x", lang)}, "dtick": 1},
            "yaxis": {"title": {"text": t("scn.curve_coverage", lang)}},
            "yaxis2": {
                "title": {"text": distance},
                "overlaying": "y",
                "side": "right",
            },
            "legend": {"orientation": "h", "y": 1.08},
            "plot_bgcolor": "#ffffff",
        },
    }
