"""Decision briefs: one printable document per area, per scenario, per comparison.

What a brief says is assembled here from the app's own computations, so its
figures are the screens' figures: the KPI cards' values
(:func:`dashapp.services.measures_for` then :func:`data.views.selection_kpis`),
the centers' utilisation of the capacity chart, a saved scenario's before/after
KPIs as the scenario screen shows them for an area
(:meth:`optimization.workspace.Workspace.result_kpis`) and the comparison table of
:func:`data.exports.compare_kpis`. A brief is a list of plain blocks (headings,
paragraphs, tables, figures, boxes) that :mod:`dashapp.services.brief_pdf` lays out
on A4 pages. No Dash here: the command line, the background jobs and the tests
call the same :func:`build_brief`.

Examples
--------
>>> from dashapp.services.briefs import BriefRequest
>>> BriefRequest(area="R02", lang="en").kind
'area'
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dashapp import services
from dashapp.filters import area_path, resolve
from dashapp.i18n import STRINGS, number, t
from dashapp.services.brief_blocks import (
    Box,
    Brief,
    Figure,
    Heading,
    Para,
    Row,
    Table,
)
from data import views
from data.kpi import (
    ACCESS_MEASURES,
    KPIS,
    MEASURES,
    RESULT_KPIS,
    TRAVEL_KPIS,
    measure_label,
    measure_of,
)
from data.scenarios import ScenarioRecord, ScenarioStoreError, get_scenario

MAX_COMPARED = 4
# the KPI table of an area brief: the main screen's cards, population first
BRIEF_KPIS = (
    "population",
    "requests",
    "requests_per_1000",
    "mean_delay",
    "on_time_share",
    "rejection_rate",
    "utilisation",
    "pop_within",
    "mean_distance",
    "centers_per_100k",
)
# KPIs whose measures all come from operations: meaningless without them
_OPS_SOURCES = ("ops", "center_ops")

class BriefError(ValueError):
    """A brief that cannot be built as asked, with one line for the user.

    ``code`` is stable (``unknown_area``, ``unknown_scenario``, ``stale_scenario``,
    ``too_many``, ``no_dataset``, ``not_run``, ``unknown_indicator``) and
    ``values`` what the message names.
    """

    def __init__(self, reason: str, lang: str = "fr", **values: Any) -> None:
        super().__init__(t(f"brief.error.{reason}", lang, **values))
        self.code = reason
        self.values = values


@dataclass(frozen=True)
class BriefRequest:
    """What to brief: an area (``None``: the whole country) and saved scenarios.

    No scenario: an area brief; one: a scenario brief; two to four: a comparison.
    """

    area: str | None = None
    scenarios: tuple[int, ...] = ()
    lang: str = "fr"
    indicator: str | None = None
    dataset_id: int | None = None
    on: dt.date | None = None  # the date printed (today by default)
    # the main screen's filters, checked as the screen checks them (defaults: its)
    doc_types: tuple[str, ...] | None = None
    start: str | None = None
    end: str | None = None
    radius_km: float | None = None

    @property
    def kind(self) -> str:
        if not self.scenarios:
            return "area"
        return "scenario" if len(self.scenarios) == 1 else "comparison"


Progress = Callable[[int, str], None]


def _no_progress(percent: int, step: str) -> None:
    return None


# -- formatting ----------------------------------------------------------------------
def _date(day: dt.date, lang: str) -> str:
    return day.strftime("%d/%m/%Y") if lang == "fr" else day.isoformat()


def _kpi_value(kid: str, value: float, lang: str) -> str:
    kpi = KPIS[kid]
    text = number(value, kpi.decimals, lang)
    unit = kpi.unit_in(lang)
    if unit and text != t("kpi.no_data", lang):
        text = f"{text} {unit}"
    return text


def _signed(value: float | None, decimals: int, lang: str) -> str:
    if value is None or not np.isfinite(value):
        return ""
    text = number(abs(value), decimals, lang)
    if round(value, decimals) == 0:
        return "="
    return ("+" if value > 0 else "−") + text


def _ops_only(kid: str) -> bool:
    kpi = KPIS[kid]
    return all(MEASURES[m].source in _OPS_SOURCES for m in kpi.measures[:1])


def _period_bound(kid: str) -> bool:
    """True when a KPI has a history: one of its measures reads operations."""
    return any(MEASURES[m].source in _OPS_SOURCES for m in KPIS[kid].measures)


# -- area brief ---------------------------------------------------------------------
@dataclass
class AreaFacts:
    """The numbers of an area brief, as the main screen computes them."""

    ctx: views.DatasetContext
    resolved: Any
    name: str
    kpis: pd.Series
    previous: pd.Series | None
    previous_period: tuple[dt.date, dt.date] | None
    centers: pd.DataFrame
    commune_values: pd.DataFrame
    child_level: int
    child_values: pd.DataFrame
    has_operations: bool


def _context(url: str, dataset_id: int | None, lang: str) -> views.DatasetContext:
    ctx = services.context(url, dataset_id)
    if ctx is None:
        raise BriefError("no_dataset", lang)
    return ctx


def check_area(ctx: views.DatasetContext, area: str | None, lang: str) -> str | None:
    """``area`` if it names a unit above the communes of the dataset, else BriefError."""
    if area in (None, ""):
        return None
    unit = ctx.unit(str(area)) if isinstance(area, str) else None
    if unit is None or int(unit["level"]) >= ctx.commune_level:
        raise BriefError("unknown_area", lang, area=str(area)[:40])
    return str(area)


def area_name(ctx: views.DatasetContext, area: str | None, lang: str) -> str:
    if area is None:
        top = views.fixed_units(ctx)
        if len(top) == 1:
            return t("brief.whole_country", lang, name=top["name"].iloc[0])
        return t("filters.all", lang)
    unit = ctx.unit(area)
    return f"{ctx.level_name(int(unit['level']), lang)} {unit['name']}"


def _child_level(ctx: views.DatasetContext, area: str | None) -> int:
    levels = views.filter_levels(ctx)
    if area is None:
        return levels[0] if levels else ctx.commune_level
    return min(int(ctx.unit(area)["level"]) + 1, ctx.commune_level)


def area_facts(
    url: str,
    ctx: views.DatasetContext,
    area: str | None,
    lang: str,
    indicator=None,
    **filters: Any,
) -> AreaFacts:
    """Every number of an area brief, from the main screen's own functions.

    ``filters`` are the main screen's (``doc_types``, ``start``, ``end``,
    ``radius``), checked by :func:`dashapp.filters.resolve` as the screen does.
    """
    r = resolve(ctx, lang, areas=list(area_path(ctx, area)), indicator=indicator,
                **filters)  # fmt: skip
    if indicator not in (None, "") and r.indicator != indicator:
        raise BriefError("unknown_indicator", lang, name=str(indicator)[:40])
    measures = services.measures_for(url, ctx, r)
    kpis = views.selection_kpis(ctx, measures, r.selection)
    previous, prev_period = None, None
    weeks = [w for w in ctx.weeks if r.start <= w <= r.end]
    if weeks:
        span = r.end - r.start
        p_end = r.start - dt.timedelta(days=7)
        p_start = p_end - span
        if ctx.weeks[0] <= p_start:
            prior = dataclasses.replace(r, start=p_start, end=p_end)
            previous = views.selection_kpis(
                ctx, services.measures_for(url, ctx, prior), r.selection
            )
            prev_period = (p_start, p_end)
    child = _child_level(ctx, area)
    return AreaFacts(
        ctx=ctx,
        resolved=r,
        name=area_name(ctx, area, lang),
        kpis=kpis,
        previous=previous,
        previous_period=prev_period,
        centers=services.centers_for(url, ctx, r),
        commune_values=views.unit_kpis(
            ctx, measures, ctx.commune_level, within=r.selection
        ),
        child_level=child,
        child_values=views.unit_kpis(ctx, measures, child, within=r.selection),
        has_operations=bool(weeks),
    )


def kpi_rows(facts: AreaFacts, lang: str) -> list[tuple[str, ...]]:
    """The KPI table: name, value over the period, previous period, change."""
    rows = []
    radius = facts.resolved.radius_km
    for kid in BRIEF_KPIS:
        if not facts.has_operations and _ops_only(kid):
            continue
        value = float(facts.kpis.get(kid, np.nan))
        before, change = "", ""
        if not _period_bound(kid):
            before = t("brief.kpi.no_trend", lang)
        elif facts.previous is not None:
            prior = float(facts.previous.get(kid, np.nan))
            before = _kpi_value(kid, prior, lang)
            change = _signed(value - prior, KPIS[kid].decimals, lang)
        rows.append(
            (KPIS[kid].name(lang, radius), _kpi_value(kid, value, lang), before, change)
        )
    return rows


def _names(ctx: views.DatasetContext) -> pd.Series:
    return pd.Series(ctx.units["name"].to_numpy(), index=ctx.units["code"].to_numpy())


def findings(facts: AreaFacts, lang: str) -> list[str]:
    """Three to five findings in plain words, each with its figure."""
    out = []
    ctx, r = facts.ctx, facts.resolved
    names = _names(ctx)
    centers = facts.centers.dropna(subset=["utilisation"])
    if facts.has_operations and not centers.empty:
        over = centers[centers["utilisation"] > 100.0].sort_values(
            "utilisation", ascending=False
        )
        top = (over if not over.empty else centers).sort_values(
            "utilisation", ascending=False
        )
        first = top.iloc[0]
        values = {
            "name": first["name"],
            "pct": number(first["utilisation"], 0, lang),
            "demand": number(first["demand_week"], 0, lang),
            "capacity": number(first["capacity_week"], 0, lang),
            "n": number(len(over), 0, lang),
            "total": number(len(centers), 0, lang),
        }
        if over.empty:
            out.append(t("brief.finding.no_overload", lang, **values))
        else:
            others = ", ".join(
                f"{row['name']} ({number(row['utilisation'], 0, lang)} %)"
                for _, row in over.iloc[1:3].iterrows()
            )
            key = "brief.finding.overload" + ("_more" if others else "")
            out.append(t(key, lang, others=others, **values))
    far = facts.commune_values["mean_distance"].dropna().sort_values(ascending=False)
    if not far.empty:
        listed = ", ".join(
            f"{names.get(code, code)} ({number(value, 1, lang)} km)"
            for code, value in far.iloc[:3].items()
        )
        mean = number(float(facts.kpis.get("mean_distance", np.nan)), 1, lang)
        out.append(t("brief.finding.far", lang, communes=listed, mean=mean))
    population = float(facts.kpis.get("population", np.nan))
    within = float(facts.kpis.get("pop_within", np.nan))
    if np.isfinite(population) and np.isfinite(within):
        outside = population * (100.0 - within) / 100.0
        out.append(
            t(
                "brief.finding.unserved",
                lang,
                people=number(outside, 0, lang),
                pct=number(100.0 - within, 1, lang),
                radius=number(r.radius_km, 0, lang),
            )
        )
    if facts.has_operations:
        level = ctx.level_name(facts.child_level, lang).lower()
        for kid, key in (
            ("mean_delay", "brief.finding.delay"),
            ("rejection_rate", "brief.finding.rejection"),
        ):
            column = facts.child_values[kid].dropna()
            overall = float(facts.kpis.get(kid, np.nan))
            if len(column) < 2 or not np.isfinite(overall):
                continue
            code = column.idxmax()
            out.append(
                t(
                    key,
                    lang,
                    level=level,
                    name=names.get(code, code),
                    value=_kpi_value(kid, float(column[code]), lang),
                    overall=_kpi_value(kid, overall, lang),
                )
            )
    return out[:5]


def _doc_names(ctx: views.DatasetContext, codes, lang: str) -> str:
    col = "name_fr" if lang == "fr" else "name_en"
    names = dict(zip(ctx.doc_types["code"], ctx.doc_types[col], strict=True))
    return ", ".join(names.get(c, c) for c in codes)


def _sources_box(ctx: views.DatasetContext, lang: str, has_ops: bool) -> Box:
    info = ctx.info
    lines = [
        t(
            "brief.sources.dataset",
            lang,
            name=info.name,
            version=info.version,
            kind=t(f"brief.kind.{info.kind}", lang)
            if f"brief.kind.{info.kind}" in _KINDS
            else info.kind,
        ),
        t(
            "brief.sources.units",
            lang,
            communes=number(len(ctx.communes()), 0, lang),
            centers=number(int((ctx.centers["status"] == "open").sum()), 0, lang),
        ),
    ]
    if has_ops:
        lines.append(
            t(
                "brief.sources.operations",
                lang,
                first=_date(ctx.weeks[0], lang),
                last=_date(ctx.weeks[-1], lang),
                weeks=number(len(ctx.weeks), 0, lang),
            )
        )
    else:
        lines.append(t("brief.sources.no_operations", lang))
    if info.kind == "synthetic":
        lines.append(t("app.synthetic_help", lang))
    return Box(t("brief.sources.title", lang), tuple(lines))


_KINDS = {"brief.kind.synthetic", "brief.kind.imported"}


def _method_box(
    lang: str,
    radius_km: float | None,
    extra: Sequence[str] = (),
    measures: Sequence[str] = ("km",),
) -> Box:
    """How the figures were made; ``measures``: the access measures of the
    scenarios shown (km, or travel time by mode and season: minutes)."""
    lines = [t("brief.method.kpis", lang)]
    radius = "" if radius_km is None else number(radius_km, 0, lang)
    for measure in dict.fromkeys(measures):
        if ACCESS_MEASURES[measure].unit == "min":
            lines.append(t("brief.method.travel", lang,
                           measure=measure_label(measure, lang), radius=radius)
                         if len(set(measures)) == 1 and radius_km is not None
                         else t("brief.method.travel_of", lang,
                                measure=measure_label(measure, lang)))  # fmt: skip
        elif radius_km is not None and len(set(measures)) == 1:
            lines.append(t("brief.method.distance", lang, radius=radius))
        else:
            lines.append(t("brief.method.distance_of", lang))
    lines += list(extra)
    return Box(t("brief.method.title", lang), tuple(lines))


def _header_lines(facts: AreaFacts, lang: str) -> str:
    r, ctx = facts.resolved, facts.ctx
    parts = [t("brief.dataset", lang, name=ctx.info.name)]
    if facts.has_operations:
        parts.append(
            t(
                "brief.period",
                lang,
                start=_date(r.start, lang),
                end=_date(r.end, lang),
                docs=_doc_names(ctx, r.doc_types, lang),
            )
        )
    return " · ".join(parts)


def _unavailable(facts: AreaFacts, lang: str) -> list:
    if facts.has_operations:
        return []
    return [Box(t("brief.unavailable.title", lang),
                (t("brief.unavailable.operations", lang),))]  # fmt: skip


def area_brief(
    url: str, request: BriefRequest, progress: Progress = _no_progress
) -> Brief:
    """The brief of an area (or of the whole country): map, KPIs, findings."""
    from dashapp.services import brief_maps

    lang = request.lang
    ctx = _context(url, request.dataset_id, lang)
    area = check_area(ctx, request.area, lang)
    progress(10, t("brief.step.figures", lang))
    facts = area_facts(
        url, ctx, area, lang, request.indicator,
        doc_types=list(request.doc_types) if request.doc_types else None,
        start=request.start, end=request.end, radius=request.radius_km,
    )  # fmt: skip
    progress(40, t("brief.step.map", lang))
    indicator = facts.resolved.indicator
    png, aspect = brief_maps.area_map(
        ctx, area, facts.commune_values[indicator], indicator, facts.centers, lang,
        facts.resolved.radius_km,
    )  # fmt: skip
    on = request.on or dt.date.today()
    brief = Brief(
        title=t("brief.area.title", lang, name=facts.name),
        subtitle=_header_lines(facts, lang),
        lang=lang,
        footer=t("brief.footer", lang, name=facts.name, date=_date(on, lang)),
    )
    blocks = brief.blocks
    blocks.append(Para(t("brief.prepared", lang, date=_date(on, lang)), "small"))
    blocks += _unavailable(facts, lang)
    blocks.append(Heading(t("brief.findings", lang)))
    blocks += [Para(text, "finding") for text in findings(facts, lang)]
    blocks.append(Heading(t("brief.kpis", lang)))
    blocks.append(
        Table(
            (t("brief.kpi.name", lang), t("brief.kpi.period", lang),
             t("brief.kpi.previous_none", lang), t("brief.kpi.change", lang)),
            tuple(kpi_rows(facts, lang)),
            (0.46, 0.2, 0.2, 0.14),
        )
    )  # fmt: skip
    if facts.previous_period is not None:
        blocks.append(Para(t("brief.kpi.previous", lang,
                             start=_date(facts.previous_period[0], lang),
                             end=_date(facts.previous_period[1], lang)), "note"))  # fmt: skip
    elif facts.has_operations:
        blocks.append(Para(t("brief.kpi.no_history", lang), "note"))
    kpi_name = KPIS[indicator].name(lang, facts.resolved.radius_km)
    blocks.append(Heading(t("brief.map.title", lang)))
    blocks.append(
        Figure(png, aspect, t("brief.map.caption", lang, indicator=kpi_name))
    )
    blocks.append(_method_box(lang, facts.resolved.radius_km,
                              [t("brief.method.trend", lang)]))  # fmt: skip
    blocks.append(_sources_box(ctx, lang, facts.has_operations))
    progress(70, t("brief.step.layout", lang))
    return brief


# -- scenario and comparison briefs -------------------------------------------------
def load_scenarios(
    url: str, ctx: views.DatasetContext, ids: Sequence[Any], lang: str
) -> list[ScenarioRecord]:
    """The saved scenarios asked for, each run on the dataset version briefed."""
    if len(ids) > MAX_COMPARED:
        raise BriefError("too_many", lang, n=len(ids), max=MAX_COMPARED)
    store = services.get_store(url)
    records = []
    for raw in ids:
        try:
            record = get_scenario(store, raw)
        except ScenarioStoreError:
            raise BriefError("unknown_scenario", lang, id=str(raw)[:40]) from None
        if (
            record.dataset_id != ctx.info.id
            or record.dataset_version != ctx.info.version
        ):
            raise BriefError(
                "stale_scenario",
                lang,
                id=record.id,
                name=record.name,
                version=record.dataset_version,
                current=ctx.info.version,
            )
        if not record.has_results or not record.summary:
            raise BriefError("not_run", lang, id=record.id, name=record.name)
        records.append(record)
    return records


def _value(value: Any, scale: float) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value * scale if np.isfinite(value) else None


def scenario_kpi_rows(
    before: dict, after: dict, lang: str, units: dict | None = None
) -> list[tuple[str, ...]]:
    """Today against the proposal, with the change: the scenario screen's rows, from
    the catalogue (:data:`data.kpi.RESULT_KPIS`: labels, units, scale, rounding)."""
    rows = []
    for kpi in (*RESULT_KPIS, *TRAVEL_KPIS.values()):  # access by road when run so
        key, decimals = kpi.id, kpi.decimals
        if key not in before and key not in after:
            continue
        b, a = _value(before.get(key), kpi.scale), _value(after.get(key), kpi.scale)
        delta = None if a is None or b is None else a - b
        rows.append(
            (
                kpi.label(lang, units),
                number(b, decimals, lang),
                number(a, decimals, lang),
                _signed(delta, decimals, lang),
            )
        )
    return rows


def proof_text(record: ScenarioRecord, lang: str) -> str:
    """The solver's proof in words: proven optimal, or how far at most."""
    solve = (record.summary or {}).get("solve") or {}
    status = record.status
    gap = solve.get("gap")
    seconds = [solve.get(k) for k in ("build_seconds", "solve_seconds")]
    known = [float(v) for v in seconds if isinstance(v, (int, float))]
    when = number(sum(known), 1, lang) if known else t("kpi.no_data", lang)
    if status == "optimal" and (gap is None or gap <= 1e-6):
        return t("brief.proof.optimal", lang, seconds=when)
    if status in ("optimal", "feasible") and gap is not None and np.isfinite(gap):
        return t("brief.proof.gap", lang, gap=number(100.0 * gap, 1, lang),
                 seconds=when)  # fmt: skip
    return t("brief.proof.none", lang, status=t(f"scn.status.{status}", lang)
             if status in ("optimal", "feasible", "infeasible", "no_solution")
             else status)  # fmt: skip


def asked_text(record: ScenarioRecord, lang: str) -> list[str]:
    """What the planner asked, in words, from the saved what-if."""
    whatif = (record.params or {}).get("whatif") or {}
    out = []
    objective = whatif.get("objective")
    minutes = ACCESS_MEASURES[measure_of(record.params)].unit == "min"
    suffix = ".min" if minutes else ""
    if objective:
        key = f"brief.objective.{objective}"
        if minutes and f"{key}.min" in STRINGS:
            key = f"{key}.min"
        out.append(t(key, lang, radius=number(whatif.get("radius_km"), 0, lang))
                   if key.removesuffix(".min") in _OBJECTIVES
                   else str(objective))  # fmt: skip
    if whatif.get("new_centers") is not None and objective in (
        "distance", "coverage", "worst"
    ):  # fmt: skip
        out.append(t("brief.asked.new", lang, n=number(whatif["new_centers"], 0, lang)))
    if whatif.get("budget") is not None:
        out.append(t("brief.asked.budget", lang,
                     budget=number(whatif["budget"], 1, lang)))  # fmt: skip
    out.append(
        t("brief.asked.closures_yes" if whatif.get("allow_closures")
          else "brief.asked.closures_no", lang)
    )  # fmt: skip
    if whatif.get("capacitated"):
        out.append(t("brief.asked.capacitated", lang))
    if whatif.get("capacity_change_pct"):
        out.append(t("brief.asked.capacity", lang,
                     pct=_signed(whatif["capacity_change_pct"], 0, lang)))  # fmt: skip
    if whatif.get("max_distance_km"):
        out.append(t(f"brief.asked.max_distance{suffix}", lang,
                     km=number(whatif["max_distance_km"], 0, lang)))  # fmt: skip
    if whatif.get("min_coverage_pct"):
        out.append(t(f"brief.asked.min_coverage{suffix}", lang,
                     pct=number(whatif["min_coverage_pct"], 0, lang),
                     radius=number(whatif.get("radius_km"), 0, lang)))  # fmt: skip
    return out


_OBJECTIVES = {
    f"brief.objective.{k}" for k in ("distance", "coverage", "fewest", "worst",
                                     "rebalance", "attendance")
}  # fmt: skip


def assumptions(record: ScenarioRecord, lang: str) -> list[str]:
    """Distance measure, demand source and growth, period."""
    whatif = (record.params or {}).get("whatif") or {}
    spec = (record.params or {}).get("spec") or {}
    out = [t("brief.assume.distance", lang)]
    kind = (spec.get("distance") or {}) if isinstance(spec.get("distance"), dict) else {}
    measure = measure_of(record.params)
    if ACCESS_MEASURES[measure].unit == "min":
        out[0] = t("brief.assume.travel", lang, measure=measure_label(measure, lang))
    elif kind.get("kind") and kind.get("kind") != "great_circle":
        out[0] = t("brief.assume.distance_other", lang, kind=str(kind["kind"]))
    if whatif.get("demand_source") == "forecast":
        out.append(t("brief.assume.forecast", lang,
                     weeks=number(whatif.get("forecast_weeks"), 0, lang)))  # fmt: skip
    else:
        out.append(
            t("brief.assume.today", lang,
              growth=number(whatif.get("growth_pct") or 0.0, 1, lang),
              years=number(whatif.get("years") or 0, 0, lang))
        )  # fmt: skip
    start, end = whatif.get("period_start"), whatif.get("period_end")
    if start and end:
        out.append(t("brief.assume.period", lang,
                     start=_date(dt.date.fromisoformat(start), lang),
                     end=_date(dt.date.fromisoformat(end), lang)))  # fmt: skip
    else:
        out.append(t("brief.assume.period_default", lang))
    if whatif.get("doc_types"):
        out.append(t("brief.assume.docs", lang, docs=", ".join(whatif["doc_types"])))
    radius_key = (
        "brief.assume.radius.min"
        if ACCESS_MEASURES[measure].unit == "min"
        else "brief.assume.radius"
    )
    out.append(t(radius_key, lang,
                 radius=number(whatif.get("radius_km"), 0, lang)))  # fmt: skip
    return out


def _modules(record: ScenarioRecord) -> tuple[float | None, float | None]:
    """Size and unit cost of the capacity modules a saved run could add."""
    spec = (record.params or {}).get("spec") or {}
    mod = (spec.get("parameters") or {}).get("modules") or {}
    return _value(mod.get("size"), 1.0), _value(mod.get("cost"), 1.0)


def resized(centers: pd.DataFrame, record: ScenarioRecord) -> pd.DataFrame:
    """Centers whose capacity the proposal changes: capacity modules added (their
    cost from the run's module price) or staff moved by a reallocation (no cost).

    Columns ``name``, ``capacity_before``, ``capacity`` (after), ``cost`` (NaN when
    the run prices no change), ``assigned_demand``, ``utilisation``.
    """
    columns = ["name", "capacity_before", "capacity", "cost", "assigned_demand",
               "utilisation"]  # fmt: skip
    if centers is None or centers.empty or "capacity" not in centers:
        return pd.DataFrame(columns=columns)
    table = centers.copy()
    after = table["capacity"].to_numpy(dtype=float)
    if "modules_added" in table:
        size, price = _modules(record)
        added = table["modules_added"].fillna(0).to_numpy(dtype=float)
        table["capacity_before"] = after - (size or 0.0) * added
        table["cost"] = added * price if price is not None else np.nan
        changed = added > 0
    elif "capacity_before" in table:
        table["cost"] = np.nan
        before = table["capacity_before"].to_numpy(dtype=float)
        changed = np.isfinite(before) & np.isfinite(after) & ~np.isclose(before, after)
    else:
        return pd.DataFrame(columns=columns)
    kept = table["status"].isin(["kept", "opened"]).to_numpy()
    out = table.loc[changed & kept]
    if "utilisation" not in out:
        out = out.assign(utilisation=np.nan)
    return out[columns].sort_values("name").reset_index(drop=True)


def _pct(util: Any, lang: str) -> str:
    util = _value(util, 100.0)
    return "" if util is None else number(util, 0, lang) + " %"


def changes_rows(
    centers: pd.DataFrame, lang: str, record: ScenarioRecord | None = None
) -> list[tuple[str, ...]]:
    """Centers to open, close or resize: capacity (before → after for a resize),
    load after the change, cost of a resize."""
    if centers is None or centers.empty:
        return []
    moved = centers[centers["status"].isin(["opened", "closed"])]
    rows = []
    for _, row in moved.sort_values(["status", "name"]).iterrows():
        opened = row["status"] == "opened"
        rows.append(
            (
                t(f"brief.change.{row['status']}", lang),
                str(row["name"]),
                number(row.get("capacity"), 0, lang),
                number(row.get("assigned_demand"), 0, lang) if opened else "",
                _pct(row.get("utilisation"), lang) if opened else "",
                "",
            )
        )
    if record is not None:
        for _, row in resized(centers, record).iterrows():
            rows.append(
                (
                    t("brief.change.resized", lang),
                    str(row["name"]),
                    f"{number(row['capacity_before'], 0, lang)} → "
                    f"{number(row['capacity'], 0, lang)}",
                    number(row["assigned_demand"], 0, lang),
                    _pct(row["utilisation"], lang),
                    number(row["cost"], 1, lang) if np.isfinite(row["cost"]) else "",
                )
            )
    return rows


def scenario_brief(
    url: str, request: BriefRequest, progress: Progress = _no_progress
) -> Brief:
    """The brief of one saved scenario: what was asked, the proposal, its effect."""
    from dashapp.services import brief_maps

    lang = request.lang
    ctx = _context(url, request.dataset_id, lang)
    area = check_area(ctx, request.area, lang)
    (record,) = load_scenarios(url, ctx, request.scenarios, lang)
    progress(10, t("brief.step.figures", lang))
    ws = services.workspace(url, ctx.info.id)
    zone = ws.area(area)
    before, after = ws.result_kpis(record, zone)
    centers, communes = ws.result_tables(record, zone)
    name = area_name(ctx, area, lang)
    on = request.on or dt.date.today()
    brief = Brief(
        title=t("brief.scenario.title", lang, name=record.name),
        subtitle=" · ".join(
            [name, t("brief.dataset", lang, name=ctx.info.name),
             t("brief.scenario.saved", lang, when=_date(record.updated_at.date(), lang),
               author=record.author or "—")]
        ),
        lang=lang,
        footer=t("brief.footer", lang, name=record.name, date=_date(on, lang)),
    )  # fmt: skip
    blocks = brief.blocks
    blocks.append(Para(t("brief.prepared", lang, date=_date(on, lang)), "small"))
    blocks.append(Heading(t("brief.scenario.asked", lang)))
    blocks += [Para(line, "finding") for line in asked_text(record, lang)]
    blocks.append(Heading(t("brief.scenario.proposal", lang)))
    blocks.append(Para(proof_text(record, lang)))
    changes = changes_rows(centers, lang, record)
    cost = _value(after.get("cost"), 1.0)
    blocks.append(
        Para(t("brief.scenario.changes", lang,
               opened=number(int((centers["status"] == "opened").sum()), 0, lang),
               closed=number(int((centers["status"] == "closed").sum()), 0, lang),
               resized=number(len(resized(centers, record)), 0, lang),
               cost=number(cost, 1, lang)))
    )  # fmt: skip
    if changes:
        blocks.append(
            Table(
                (t("brief.change.what", lang), t("brief.change.center", lang),
                 t("brief.change.capacity", lang), t("brief.change.demand", lang),
                 t("brief.change.utilisation", lang), t("brief.change.cost", lang)),
                tuple(changes),
                (0.17, 0.28, 0.15, 0.13, 0.14, 0.13),
            )
        )  # fmt: skip
    progress(35, t("brief.step.map", lang))
    maps = brief_maps.scenario_maps(ctx, area, record, communes, lang)
    blocks.append(Row(tuple(
        Figure(png, aspect, caption, 0.5) for png, aspect, caption in maps
    )))  # fmt: skip
    blocks.append(Heading(t("brief.scenario.kpis", lang)))
    blocks.append(
        Table(
            (t("brief.kpi.name", lang), t("brief.map.before", lang),
             t("scn.proposal", lang),
             t("brief.kpi.change", lang)),
            tuple(scenario_kpi_rows(before, after, lang,
                                    (record.summary or {}).get("units"))),
            (0.46, 0.18, 0.18, 0.18),
        )
    )  # fmt: skip
    blocks.append(Box(t("brief.assume.title", lang), tuple(assumptions(record, lang))))
    blocks.append(
        _method_box(lang, float(((record.params or {}).get("whatif") or {}).get(
            "radius_km") or 20.0), [t("brief.method.scenario", lang)],
            [measure_of(record.params)])
    )  # fmt: skip
    blocks.append(_sources_box(ctx, lang, bool(ctx.weeks)))
    progress(70, t("brief.step.layout", lang))
    return brief


def comparison_brief(
    url: str, request: BriefRequest, progress: Progress = _no_progress
) -> Brief:
    """Two to four saved scenarios side by side."""
    from dashapp.services import brief_maps
    from data.exports import compare_kpis

    lang = request.lang
    ctx = _context(url, request.dataset_id, lang)
    area = check_area(ctx, request.area, lang)
    records = load_scenarios(url, ctx, request.scenarios, lang)
    progress(10, t("brief.step.figures", lang))
    if area is None:
        population = float(np.nansum(ctx.communes()["population"].to_numpy(float)))
        table = compare_kpis(records, lang=lang, population=population)
    else:
        ws = services.workspace(url, ctx.info.id)
        zone = ws.area(area)
        population = float(np.nansum(
            np.asarray(ws.population, float)[zone.rows(ws.network.commune_ids)]))  # fmt: skip
        table = compare_kpis([within_area(ws, r, zone) for r in records], lang=lang,
                             population=population)  # fmt: skip
    labels = [c for c in table.columns if c not in ("kpi", "unit", "better", "best")]
    rows = []
    for row_id, row in table.iterrows():
        cells = [row["kpi"] + (f" ({row['unit']})" if row["unit"] else "")]
        for label in labels:
            cells.append(_compare_cell(row_id, row[label], lang)
                         + (" ★" if row["best"] and label in
                            str(row["best"]).split(", ") else ""))  # fmt: skip
        rows.append(tuple(cells))
    on = request.on or dt.date.today()
    brief = Brief(
        title=t("brief.comparison.title", lang, n=len(records)),
        subtitle=" · ".join([area_name(ctx, area, lang),
                             t("brief.dataset", lang, name=ctx.info.name)]),
        lang=lang,
        footer=t("brief.footer", lang, name=t("brief.comparison.short", lang),
                 date=_date(on, lang)),
    )  # fmt: skip
    blocks = brief.blocks
    blocks.append(Para(t("brief.prepared", lang, date=_date(on, lang)), "small"))
    blocks.append(Heading(t("brief.comparison.table", lang)))
    first = 0.34
    widths = (first, *[(1 - first) / len(labels)] * len(labels))
    blocks.append(Table((t("brief.kpi.name", lang), *labels), tuple(rows), widths))
    blocks.append(Para(t("brief.comparison.best", lang), "note"))
    if area is not None:
        blocks.append(Para(t("brief.comparison.area", lang,
                             name=area_name(ctx, area, lang)), "note"))  # fmt: skip
    progress(35, t("brief.step.map", lang))
    maps = brief_maps.comparison_maps(ctx, area, records, labels, lang)
    per_row = 2
    for k in range(0, len(maps), per_row):
        blocks.append(Row(tuple(Figure(png, aspect, caption, 0.5)
                                for png, aspect, caption in maps[k:k + per_row])))  # fmt: skip
    blocks.append(Heading(t("brief.comparison.proofs", lang)))
    for label, record in zip(labels, records, strict=True):
        blocks.append(Para(f"{label} : {proof_text(record, lang)}"
                           if lang == "fr" else f"{label}: {proof_text(record, lang)}",
                           "finding"))  # fmt: skip
    blocks.append(_method_box(lang, None, [t("brief.method.scenario", lang)],
                              [measure_of(r.params) for r in records]))  # fmt: skip
    blocks.append(_sources_box(ctx, lang, bool(ctx.weeks)))
    progress(70, t("brief.step.layout", lang))
    return brief


def within_area(ws, record: ScenarioRecord, zone) -> ScenarioRecord:
    """``record`` as seen in ``zone``: the scenario screen's KPIs of the area
    (:meth:`optimization.workspace.Workspace.result_kpis`), its centers opened and
    closed there and its communes, for :func:`data.exports.compare_kpis`. The cost
    and the solver's proof stay the whole plan's."""
    before, after = ws.result_kpis(record, zone)
    centers, communes = ws.result_tables(record, zone)
    counts = centers["status"].value_counts()
    summary = {
        **(record.summary or {}),
        "kpis": {"before": before, "after": after},
        "changes": {k: int(counts.get(k, 0)) for k in ("kept", "closed", "opened")},
    }
    return dataclasses.replace(record, summary=summary, centers=centers,
                               communes=communes)  # fmt: skip


def _compare_cell(row_id: str, value: Any, lang: str) -> str:
    if row_id == "solver_status":
        key = f"scn.status.{value}"
        return t(key, lang) if value in (
            "optimal", "feasible", "infeasible", "no_solution", "draft") else str(value)  # fmt: skip
    if row_id in ("dataset_version", "measure"):
        return str(value)
    decimals = 2 if row_id in ("centers_per_100k", "gap") else 1
    if row_id in ("open_centers", "opened", "closed", "overloaded_centers",
                  "unserved_communes"):  # fmt: skip
        decimals = 0
    return number(_value(value, 1.0), decimals, lang)


# -- entry point ---------------------------------------------------------------------
def brief_content(
    url: str, request: BriefRequest, progress: Progress = _no_progress
) -> Brief:
    """The blocks of the brief ``request`` asks for (checked: :class:`BriefError`)."""
    builder = {
        "area": area_brief,
        "scenario": scenario_brief,
        "comparison": comparison_brief,
    }[request.kind]
    return builder(url, request, progress)


@contextlib.contextmanager
def standalone(config) -> Iterator[None]:
    """Outside the web app (command line, benchmark): the memoised queries get an
    in-process cache of their own for the time of the block."""
    import flask

    from dashapp.cache import cache, cache_config

    server = flask.Flask("dashapp-brief")
    cache.init_app(server, config=cache_config(config.cache_dir) | {
        "CACHE_TYPE": "SimpleCache"})  # fmt: skip
    with server.app_context():
        yield


FORMATS = ("pdf", "pptx")


def build_brief(
    url: str,
    request: BriefRequest,
    progress: Progress = _no_progress,
    fmt: str = "pdf",
) -> bytes:
    """The brief as PDF bytes (A4) or, ``fmt="pptx"``, an editable PowerPoint deck
    of the same content; the same bytes for the same data and date."""
    if fmt not in FORMATS:
        raise ValueError(f"brief format {fmt!r}: one of {', '.join(FORMATS)}")
    brief = brief_content(url, request, progress)
    buffer = io.BytesIO()
    if fmt == "pptx":
        from dashapp.services.brief_pptx import render_pptx

        render_pptx(brief, buffer)
    else:
        from dashapp.services.brief_pdf import render_pdf

        render_pdf(brief, buffer)
    progress(100, t("brief.step.done", request.lang))
    return buffer.getvalue()


def build_anywhere(
    config, request: BriefRequest, progress: Progress = _no_progress
) -> bytes:
    """:func:`build_brief` in the web app, or in a job process that has no app."""
    import flask

    if flask.has_app_context():
        return build_brief(config.database_url, request, progress)
    with standalone(config):
        return build_brief(config.database_url, request, progress)


def brief_filename(request: BriefRequest, on: dt.date | None = None) -> str:
    """``note-R02-2026-11-29.pdf``: kind, area or scenarios, date (ASCII only)."""
    on = on or request.on or dt.date.today()
    stem = {"area": "note", "scenario": "note-scenario", "comparison": "comparaison"}[
        request.kind
    ]
    parts = [stem]
    if request.area:
        parts.append("".join(c for c in request.area if c.isalnum())[:20])
    parts += [f"S{int(i)}" for i in request.scenarios]
    return "-".join([*parts, on.isoformat()]) + ".pdf"
