"""Turn raw filter values (from controls, a URL or stale browser state) into valid ones.

Every invalid value falls back to a default and yields a message for the user; no
value ever reaches a query unchecked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from dashapp.i18n import t
from data.kpi import MAP_KPIS, Filters
from data.views import DatasetContext, filter_levels

DEFAULT_RADIUS_KM = 20.0
RADIUS_RANGE = (1.0, 200.0)
DEFAULT_PERIOD_WEEKS = 52


@dataclass
class Resolved:
    """Valid filters plus the messages explaining what was corrected."""

    level: int
    indicator: str
    areas: tuple[str | None, ...]  # one code (or None) per filter level, top first
    doc_types: tuple[str, ...]
    start: dt.date
    end: dt.date
    radius_km: float
    messages: list[str] = field(default_factory=list)

    @property
    def selection(self) -> str | None:
        """The unit chosen in the deepest filter set (``None``: the whole country)."""
        return next((a for a in reversed(self.areas) if a is not None), None)

    def filters(self, ctx: DatasetContext) -> Filters:
        return Filters(
            ctx.info.id,
            self.start,
            self.end,
            self.doc_types,
            self.radius_km,
            ctx.commune_level,
        )


def default_period(ctx: DatasetContext) -> tuple[dt.date, dt.date]:
    """The last 52 weeks of data."""
    if not ctx.weeks:
        today = dt.date.today()
        return today, today
    return ctx.weeks[max(0, len(ctx.weeks) - DEFAULT_PERIOD_WEEKS)], ctx.weeks[-1]


def area_path(ctx: DatasetContext, code: str | None) -> tuple[str | None, ...]:
    """The filter values that select unit ``code``: its ancestors at each filter level.

    ``None`` at the levels below the unit (and everywhere for ``None``); a commune
    gives the filter values of its parents.
    """
    levels = filter_levels(ctx)
    unit = ctx.unit(code) if code is not None else None
    if unit is None:
        return (None,) * len(levels)
    return tuple(
        unit[f"ancestor_{lvl}"] if int(unit["level"]) >= lvl else None for lvl in levels
    )


def areas_from_query(ctx: DatasetContext, query: dict) -> list:
    """Filter values from a URL query, keyed by the dataset's level codes.

    ``?region=R02&department=R02D01`` on the demo. Links written before filters
    followed the dataset's levels said ``region`` and ``department`` whatever the
    levels were called: those keys still mean the first and second filter when no
    level has that code.
    """
    code_of = dict(zip(ctx.levels["level"], ctx.levels["code"], strict=True))
    codes = [code_of[lvl] for lvl in filter_levels(ctx)]
    values = [query.get(code) for code in codes]
    for position, legacy in enumerate(("region", "department")):
        if legacy not in codes and position < len(values) and legacy in query:
            values[position] = values[position] or query[legacy]
    return values


def parse_date(value) -> dt.date | None:
    """The date ``value`` names (ISO text, a date, a timestamp), or None."""
    if value in (None, ""):
        return None
    try:
        return pd.Timestamp(value).date()
    except (ValueError, TypeError):
        return None


def resolve(
    ctx: DatasetContext,
    lang: str = "fr",
    *,
    level=None,
    indicator=None,
    areas=None,
    doc_types=None,
    start=None,
    end=None,
    radius=None,
) -> Resolved:
    """Validate raw filter values against the dataset; fall back with a message.

    ``areas`` holds the area filters' values, top first, one per level of
    :func:`data.views.filter_levels`: each must be a unit of its level inside the
    unit chosen above it. The filters above the deepest valid choice are filled in
    from its ancestors.
    """
    messages: list[str] = []

    def bad(field_key: str, value) -> None:
        messages.append(
            t(
                "msg.invalid_value",
                lang,
                value=value,
                field=t(field_key, lang),
                fallback=t("fallback.default", lang),
            )
        )

    level_codes = ctx.level_codes
    if level in (None, ""):
        level_n = ctx.commune_level
    elif level in level_codes:
        level_n = ctx.level_of(level)
    else:
        bad("field.level", level)
        level_n = ctx.commune_level

    # requests per 1,000 inhabitants, or population when there are no operations
    # (a dataset imported with population only), so the first map is not all n/a
    default_indicator = MAP_KPIS[1] if ctx.weeks else "population"
    if indicator in (None, ""):
        indicator = default_indicator
    elif indicator not in MAP_KPIS:
        bad("field.indicator", indicator)
        indicator = default_indicator

    chosen, area_messages = resolve_areas(ctx, areas, lang)
    messages += area_messages
    all_docs = tuple(ctx.doc_types["code"])
    if doc_types in (None, ""):
        docs = all_docs
    else:
        values = [doc_types] if isinstance(doc_types, str) else list(doc_types)
        docs = tuple(d for d in all_docs if d in values)
        unknown = [d for d in values if d not in all_docs]
        if unknown:
            bad("field.doc_types", ", ".join(map(str, unknown)))
        if not docs:
            if not unknown:
                messages.append(t("msg.no_doc_types", lang))
            docs = all_docs

    d_start, d_end = default_period(ctx)
    s, e = parse_date(start), parse_date(end)
    if start not in (None, "") and s is None:
        bad("field.period", start)
    if end not in (None, "") and e is None:
        bad("field.period", end)
    s, e = s or d_start, e or d_end
    if s > e:
        bad("field.period", f"{s} > {e}")
        s, e = d_start, d_end
    if ctx.weeks and not any(s <= w <= e for w in ctx.weeks):
        messages.append(t("msg.empty_period", lang))
        s, e = d_start, d_end

    try:
        radius_km = float(radius) if radius not in (None, "") else DEFAULT_RADIUS_KM
        if not RADIUS_RANGE[0] <= radius_km <= RADIUS_RANGE[1]:
            raise ValueError
    except (TypeError, ValueError):
        bad("field.radius", radius)
        radius_km = DEFAULT_RADIUS_KM

    return Resolved(level_n, indicator, chosen, docs, s, e, radius_km, messages)


def resolve_areas(
    ctx: DatasetContext, areas, lang: str = "fr"
) -> tuple[tuple[str | None, ...], list[str]]:
    """Valid area filter values (see :func:`resolve`) and messages on those dropped.

    Examples
    --------
    >>> resolve_areas(demo_ctx, [None, "R01D02"])  # doctest: +SKIP
    (('R01', 'R01D02'), [])
    """
    levels = filter_levels(ctx)
    values = list(areas) if isinstance(areas, list | tuple) else []
    messages: list[str] = []
    chosen: str | None = None  # deepest valid choice so far
    for position, lvl in enumerate(levels):
        value = values[position] if position < len(values) else None
        if value is None or value == "":
            continue
        unit = ctx.unit(value) if isinstance(value, str) else None
        if unit is None or int(unit["level"]) != lvl:
            field = t("field.area", lang, name=ctx.level_name(lvl, lang))
            messages.append(
                t(
                    "msg.invalid_value",
                    lang,
                    value=_short(value),
                    field=field,
                    fallback=t("fallback.default", lang),
                )
            )
            continue
        if chosen is not None:
            above = ctx.unit(chosen)
            if unit[f"ancestor_{int(above['level'])}"] != chosen:
                messages.append(
                    t("msg.area_outside", lang, value=value, parent=above["name"])
                )
                continue
        chosen = value
    return area_path(ctx, chosen), messages


def cascade_areas(
    ctx: DatasetContext, areas, changed: int | None, lang: str = "fr"
) -> tuple[str | None, ...]:
    """The area filters after the user changed the one at position ``changed``.

    A unit chosen there fills the filters above it with its ancestors and keeps
    those below only if they lie inside it; clearing it clears those below too
    (else they would fill it in again). Invalid values are dropped
    (:func:`resolve_areas`).

    Examples
    --------
    >>> cascade_areas(demo_ctx, ["R01", "R02D01"], 1)  # doctest: +SKIP
    ('R02', 'R02D01')
    """
    n = len(filter_levels(ctx))
    values = list(areas) if isinstance(areas, list | tuple) else []
    values = (values + [None] * n)[:n]
    if changed is not None and 0 <= changed < n:
        value = values[changed]
        if value is None or value == "":
            values[changed:] = [None] * (n - changed)
        elif isinstance(value, str) and ctx.unit(value) is not None:
            values[: changed + 1] = area_path(ctx, value)[: changed + 1]
    return resolve_areas(ctx, values, lang)[0]


def _short(value, limit: int = 40) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
