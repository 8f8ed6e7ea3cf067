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
from data.views import DatasetContext

DEFAULT_RADIUS_KM = 20.0
RADIUS_RANGE = (1.0, 200.0)
DEFAULT_PERIOD_WEEKS = 52


@dataclass
class Resolved:
    """Valid filters plus the messages explaining what was corrected."""

    level: int
    indicator: str
    region: str | None
    department: str | None
    doc_types: tuple[str, ...]
    start: dt.date
    end: dt.date
    radius_km: float
    messages: list[str] = field(default_factory=list)

    @property
    def selection(self) -> str | None:
        return self.department or self.region

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


def _date(value) -> dt.date | None:
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
    region=None,
    department=None,
    doc_types=None,
    start=None,
    end=None,
    radius=None,
) -> Resolved:
    """Validate raw filter values against the dataset; fall back with a message."""
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

    regions = set(ctx.units_at(0)["code"])
    if region in ("", None):
        region = None
    elif region not in regions:
        bad("field.region", region)
        region = None

    dept_level = min(1, ctx.commune_level)
    departments = ctx.units_at(dept_level)
    if department in ("", None) or dept_level == 0:
        department = None
    elif department not in set(departments["code"]):
        bad("field.department", department)
        department = None
    elif region is not None:
        parent = departments.loc[departments["code"] == department, "ancestor_0"].iloc[
            0
        ]
        if parent != region:
            messages.append(t("msg.department_outside_region", lang, value=department))
            department = None

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
    s, e = _date(start), _date(end)
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

    return Resolved(
        level_n, indicator, region, department, docs, s, e, radius_km, messages
    )
