"""What a scenario's result shows: KPIs against today, the solver's status with
the objective's unit, the communes left without a center, the comparison of saved
scenarios, and how its downloads read in the interface language; why a run or a
coverage curve has no result, and what the run's box says while it starts or once
cancelled.

Every figure's name, unit and rounding comes from the KPI catalogue
(:data:`data.kpi.SCENARIO_KPIS`); every other word from :mod:`dashapp.i18n`.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
import numpy as np
from dash import dcc, html

from dashapp.i18n import t
from data.exports import ExportText
from data.kpi import (
    RESULT_KPIS,
    SCENARIO_KPIS,
    TRAVEL_KPIS,
    measure_label,
    objective_unit,
)
from layouts.figures import fmt
from layouts.locale import graph_config
from layouts.messages import failure_text, reason_text
from layouts.scenarios import SITE_STATUSES, SMALL_MAP_PX, invalid_alert
from optimization.errors import InfeasibleError, Reason
from optimization.whatif import NoRoadsError

# the rows of a before/after KPI table, in order: data.kpi's scenario catalogue
KPI_ROWS = RESULT_KPIS


def _value(value, scale: float) -> float | None:
    """A KPI scaled for display; ``None`` when it has no value (None or NaN)."""
    if value is None or not np.isfinite(value):
        return None
    return value * scale


def kpi_table(
    before: dict,
    after: dict,
    lang: str,
    headers: tuple[str, str],
    units: dict | None = None,
) -> dbc.Table:
    """Today against the scenario, with the difference, better values in blue.

    Rows, labels, units and rounding are the catalogue's (``data.kpi.SCENARIO_KPIS``,
    its rule on hover); ``units`` are the run's (``summary["units"]``: distances
    in min for a travel time). The access indicators by road
    (``data.kpi.TRAVEL_KPIS``) follow when ``before``/``after`` have them.
    """
    rows = []
    for kpi in (*KPI_ROWS, *TRAVEL_KPIS.values()):
        key, decimals = kpi.id, kpi.decimals
        if key not in before and key not in after:
            continue  # not computed (e.g. overload without capacities)
        b, a = _value(before.get(key), kpi.scale), _value(after.get(key), kpi.scale)
        delta = None if a is None or b is None else a - b
        color = ""
        if delta and kpi.better:
            good = delta < 0 if kpi.better == "lower" else delta > 0
            color = "text-primary" if good else "text-danger"
        sign = "+" if delta and delta > 0 else ""
        rows.append(
            html.Tr(
                [
                    html.Td(kpi.label(lang, units), title=kpi.rule(lang)),
                    html.Td(fmt(b, decimals, lang), className="text-end"),
                    html.Td(fmt(a, decimals, lang), className="text-end"),
                    html.Td(
                        sign + fmt(delta, decimals, lang) if delta is not None else "",
                        className=f"text-end {color}",
                    ),
                ],
                id={"type": "scn-kpi-row", "index": key},
            )
        )
    head = html.Thead(
        html.Tr(
            [
                html.Th(t("scn.kpi", lang)),
                html.Th(headers[0], className="text-end"),
                html.Th(headers[1], className="text-end"),
                html.Th("Δ", className="text-end"),
            ]
        )
    )
    return dbc.Table(
        [head, html.Tbody(rows)],
        size="sm",
        className="mb-0",
        bordered=False,
        hover=True,
    )


def comparison_value(key: str, value, lang: str) -> str:
    """A comparison cell as the screen writes it: the catalogue's rounding in the
    language's number format, statuses in words, "n.d." for no value."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return t("kpi.no_data", lang)
    if key == "solver_status":
        status = f"scn.status.{value}"
        return t(status, lang) if status in _STATUS_KEYS else str(value)
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, bool
    ):
        kpi = SCENARIO_KPIS.get(key)
        return fmt(float(value), kpi.decimals if kpi else 1, lang)
    return str(value)


_STATUS_KEYS = {
    f"scn.status.{s}"
    for s in ("optimal", "feasible", "infeasible", "no_solution", "draft")
}


def status_alert(report, summary: dict | None, lang: str) -> dbc.Alert:
    """Solver status in words, objective and bound with the model's unit, gap,
    time, and whether capacities were respected (p-median, maximal covering)."""
    summary = summary or {}
    scenario = summary.get("scenario") or {}
    model = str(scenario.get("model") or "")
    unit = objective_unit(
        model,
        summary.get("units"),
        lang,
        reallocation=(scenario.get("reallocation") or {}).get("objective"),
    )

    def with_unit(value) -> str:
        text = fmt(value, 1, lang)
        return f"{text} {unit}" if unit and value is not None else text

    status = report.status
    key = f"scn.status.{status}"
    text = t(
        "scn.status",
        lang,
        status=t(key, lang) if key in _STATUS_KEYS else status,
        objective=with_unit(report.objective),
        bound=with_unit(report.bound),
        gap=f"{fmt(100 * (report.gap or 0.0), 2, lang)} %",
        seconds=fmt(report.build_seconds + report.solve_seconds, 2, lang),
    )
    capacitated = (summary.get("kpis") or {}).get("capacitated")
    if model != "reallocation" and capacitated is not None:  # every location model
        mode = "respected" if capacitated else "ignored"
        text = f"{text} · {t(f'scn.capacities.{mode}', lang)}"
    color = "success" if status == "optimal" else "warning"
    return dbc.Alert(text, color=color, className="py-2 small", id="scn-status-alert")


# shown in the result panel; the export has them all
UNSERVED_SHOWN = 15


def unserved_list(unserved, lang: str) -> html.Div:
    """The communes with no center in a result (``optimization.results.unserved_table``):
    the first ones by demand, with their demand and population; the count of the
    rest, which the exports list in full."""
    if unserved is None or not len(unserved):
        return html.Div(
            t("scn.unserved.none", lang), className="small text-muted mt-2",
            id="scn-unserved",
        )  # fmt: skip
    demand = SCENARIO_KPIS["unassigned_demand"]
    head = html.Thead(
        html.Tr(
            [
                html.Th(t("scn.col.commune", lang)),
                html.Th(t("scn.col.name", lang)),
                html.Th(demand.label(lang), className="text-end"),
                html.Th(t("scn.col.population", lang), className="text-end"),
            ]
        )
    )
    body = html.Tbody(
        [
            html.Tr(
                [
                    html.Td(str(row.commune_id)),
                    html.Td(str(row.name)),
                    html.Td(fmt(row.demand, 1, lang), className="text-end"),
                    html.Td(fmt(row.population, 0, lang), className="text-end"),
                ]
            )
            for row in unserved.head(UNSERVED_SHOWN).itertuples()
        ]
    )
    rest = len(unserved) - UNSERVED_SHOWN
    return html.Div(
        [
            html.H6(t("scn.unserved.title", lang, n=len(unserved)), className="mt-3"),
            dbc.Table([head, body], size="sm", className="mb-1", bordered=False),
            html.Div(t("scn.unserved.more", lang, n=rest), className="small text-muted")
            if rest > 0
            else None,
        ],
        id="scn-unserved",
    )


def measure_line(measure, lang: str) -> html.Div:
    """Which access measure the figures below are in (km or min, mode, season)."""
    return html.Div(
        t("scn.measure.shown", lang, measure=measure_label(measure, lang)),
        className="small fw-semibold mt-1",
        id="scn-measure-shown",
    )


def attendance_line(attendance: dict, lang: str) -> html.Div:
    """An attendance run's demand attended against the potential, with the
    plan and today (``summary["attendance"]`` of the run)."""
    after, before = attendance["after"], attendance["before"]

    def share(part: dict) -> str:
        value = part.get("share")
        return "n.d." if value is None else fmt(100.0 * value, 1, lang) + " %"

    return html.Div(
        t(
            "scn.attendance.result",
            lang,
            after=fmt(after["attended"], 0, lang),
            potential=fmt(attendance["potential"], 0, lang),
            share=share(after),
            before=fmt(before["attended"], 0, lang),
            share_before=share(before),
        ),
        className="small fw-semibold mt-1",
        id="scn-attendance-shown",
    )


def export_text(lang: str, unit: str = "km") -> ExportText:
    """Headers, words and rounding of the exports in ``lang``: the grids' labels,
    distance columns in ``unit`` (km, or min for a travel-time run)."""
    columns = {
        "site_id": "scn.col.site",
        "name": "scn.col.name",
        "lon": "scn.col.lon",
        "lat": "scn.col.lat",
        "existing": "scn.col.existing",
        "status": "scn.col.status",
        "assigned_demand": "scn.col.demand",
        "communes": "scn.col.communes",
        "capacity": "scn.col.capacity",
        "utilisation": "scn.col.utilisation",
        "modules_added": "scn.col.modules",
        "commune_id": "scn.col.commune",
        "demand": "scn.col.commune_demand",
        "population": "scn.col.population",
        "site_id_before": "scn.col.before",
        "distance_before": "scn.col.distance_before",
        "distance": "scn.col.distance_after",
        "parameter": "scn.col.parameter",
        "value": "scn.col.value",
        "section": "scn.col.section",
        "kpi_name": "scn.col.name_kpi",
        "before": "scn.col.kpi_before",
        "after": "scn.col.kpi_after",
        "change": "scn.col.change",
        "kpi": "scn.kpi",
        "unit": "scn.col.unit",
        "best": "scn.col.best",
    }
    words = {s: t(f"scn.site_status.{s}", lang) for s in SITE_STATUSES}
    words.update({k.removeprefix("scn.status."): t(k, lang) for k in _STATUS_KEYS})
    if unit == "min":
        for column in ("distance_before", "distance"):
            columns[column] += ".min"
    return ExportText(
        lang=lang,
        headers={c: t(key, lang) for c, key in columns.items()},
        words=words,
        yes_no=(t("scn.yes", lang), t("scn.no", lang)),
        missing=t("kpi.no_data", lang),
    )


def comparison(table, maps: list[tuple[str, dict]], lang: str) -> html.Div:
    """The KPI table of 2 to 4 scenarios, best value marked (★), and their maps.

    ``table`` is ``data.exports.compare_kpis``'s; ``maps`` (name, figure) pairs.
    """
    names = [c for c in table.columns if c not in ("kpi", "unit", "better", "best")]
    header = html.Thead(
        html.Tr(
            [html.Th(t("scn.kpi", lang))]
            + [html.Th(n, className="text-end") for n in names]
        )
    )
    rows = []
    for key, row in table.iterrows():
        cells = [
            html.Td(
                f"{row['kpi']}" + (f" ({row['unit']})" if row["unit"] else ""),
                title=SCENARIO_KPIS[key].rule(lang) if key in SCENARIO_KPIS else None,
            )
        ]
        for n in names:
            text = comparison_value(key, row[n], lang)
            best = n in str(row["best"] or "").split(", ")
            cells.append(
                html.Td(
                    text + (" ★" if best else ""),
                    className="text-end" + (" fw-bold text-primary" if best else ""),
                )
            )
        rows.append(html.Tr(cells))
    small_maps = dbc.Row(
        [
            dbc.Col(
                [
                    html.Div(name, className="small fw-semibold text-truncate"),
                    dcc.Graph(
                        figure=figure,
                        style={
                            "height": f"{figure['layout'].get('height', SMALL_MAP_PX)}px"
                        },
                        config=graph_config(lang, displayModeBar=False),
                    ),
                ],
                md=12 // len(maps),
            )
            for name, figure in maps
        ],
        className="g-2 mt-2",
    )
    return html.Div(
        [
            dbc.Table(
                [header, html.Tbody(rows)],
                size="sm",
                bordered=True,
                className="bg-white",
                id="scn-compare-table",
            ),
            small_maps,
        ]
    )


def refusal_text(exc: Exception, lang: str) -> str:
    """Why the engine refused a scenario or found no plan, in ``lang``.

    A refusal with a reason (``optimization.scenario.ScenarioRefusedError``) and
    an infeasible plan's reasons are worded by the catalogue (``reason.<code>``);
    any other error gets a sentence that sends to the server log, never the
    engine's English text.
    """
    reason = getattr(exc, "reason", None)
    if isinstance(reason, Reason):
        return reason_text(reason, lang)
    cause = exc if isinstance(exc, InfeasibleError) else exc.__cause__
    if isinstance(cause, InfeasibleError) and cause.reasons:
        return failure_text(exc, lang)
    return t("scn.refused_unexpected", lang)


def is_worded(exc: Exception) -> bool:
    """Whether :func:`refusal_alert` words ``exc`` from codes (otherwise its English
    text belongs in the server log)."""
    cause = exc if isinstance(exc, InfeasibleError) else exc.__cause__
    return (
        bool(getattr(exc, "problems", None))
        or isinstance(exc, NoRoadsError)
        or isinstance(getattr(exc, "reason", None), Reason)
        or (isinstance(cause, InfeasibleError) and bool(cause.reasons))
    )


def refusal_alert(exc: Exception, lang: str, unit: str = "km") -> dbc.Alert:
    """A run that could not be planned: the panel's values at fault, field by
    field (:func:`layouts.scenarios.invalid_alert`), else why the scenario cannot
    be solved (:func:`refusal_text`)."""
    if getattr(exc, "problems", None) or isinstance(exc, NoRoadsError):
        return invalid_alert(exc, lang, unit)
    return dbc.Alert(
        t("scn.failed", lang, reason=refusal_text(exc, lang)),
        color="danger",
        id="scn-refused",
    )


def curve_failure(exc: Exception | None, added: int, lang: str) -> dbc.Alert:
    """Why a coverage curve has no points: the plan with ``added`` new centers
    has no solution (``exc``'s reasons, :func:`refusal_text`; ``None`` for an
    unexpected error, which is in the server log), and what to change."""
    reason = (
        t("scn.failed_unexpected", lang) if exc is None else refusal_text(exc, lang)
    )
    if added > 0:  # the smaller plans had a solution: a lower maximum gives a curve
        text = t("scn.curve_stopped", lang, added=added, reason=reason, last=added - 1)
    else:
        text = t("scn.curve_failed", lang, reason=reason)
    return dbc.Alert(text, color="warning", className="py-2 small", id="scn-curve-failed")


def run_feedback(lang: str) -> dict:
    """What the run's box says at once in the browser, before the server answers:
    ``starting`` when Lancer is clicked, ``cancelled`` (a notice) when Annuler is."""
    return {
        "starting": t("scn.starting", lang),
        "cancelled": dbc.Alert(
            t("scn.cancelled", lang),
            color="secondary",
            className="py-2 small",
            id="scn-cancelled",
        ),
    }
