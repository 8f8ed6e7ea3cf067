"""Per-commune indicators for segmentation, derived from the KPI measures.

Every rate is computed with :func:`data.kpi.kpi_values` on one commune's measures,
so a commune's demand, delay, rejection rate and distance are exactly the values the
main screen shows for that commune; population density and the socio-economic rates
come from the units table.

Examples
--------
>>> from data.indicators import INDICATORS
>>> list(INDICATORS)[:3]
['demand_per_1000', 'mean_delay', 'rejection_rate']
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from data.kpi import Filters, commune_measures, kpi_values


@dataclass(frozen=True)
class Indicator:
    """One commune indicator: where it comes from and which way is 'high'.

    ``source`` is a KPI id of :mod:`data.kpi` (computed from the commune's
    measures) or a column of the units table; ``unit`` is the display unit;
    ``log_scale`` marks a very skewed indicator clustered as ``log(1 + value)``;
    ``needs_population`` one that is undefined for a commune of unknown population
    (per inhabitant, per km² of inhabitants, or weighted by them).
    """

    id: str
    source: str
    from_kpi: bool
    unit: str
    decimals: int = 1
    log_scale: bool = False
    needs_population: bool = False


INDICATORS: dict[str, Indicator] = {
    i.id: i
    for i in [
        Indicator(
            "demand_per_1000",
            "requests_per_1000",
            True,
            "‰/an",
            needs_population=True,
        ),
        Indicator("mean_delay", "mean_delay", True, "j"),
        Indicator("rejection_rate", "rejection_rate", True, "%"),
        # the population-weighted mean distance, as the main screen shows it
        Indicator("distance_km", "mean_distance", True, "km", needs_population=True),
        Indicator(
            "density",
            "density",
            False,
            "hab./km²",
            0,
            log_scale=True,
            needs_population=True,
        ),
        Indicator("poverty_rate", "poverty_rate", False, "%"),
        Indicator("literacy_rate", "literacy_rate", False, "%"),
        Indicator("internet_rate", "internet_rate", False, "%"),
    ]
}
LOG_SCALE = tuple(i.id for i in INDICATORS.values() if i.log_scale)
POPULATION_INDICATORS = tuple(i.id for i in INDICATORS.values() if i.needs_population)
DEFAULT_INDICATORS = (
    "demand_per_1000",
    "mean_delay",
    "rejection_rate",
    "distance_km",
    "density",
    "poverty_rate",
)


def commune_indicators(communes: pd.DataFrame, measures: pd.DataFrame) -> pd.DataFrame:
    """Every indicator of :data:`INDICATORS` for each commune.

    Parameters
    ----------
    communes : DataFrame
        Commune rows with ``id``, ``code``, ``name``, ``population``, ``area_km2``,
        ``poverty_rate``, ``literacy_rate``, ``internet_rate`` (rates as fractions
        0-1, shown here in percent).
    measures : DataFrame
        Per-commune measures indexed by commune id, as
        :func:`data.kpi.commune_measures` returns (with ``attrs['n_weeks']``).

    Returns
    -------
    DataFrame
        Indexed by commune id, in the order of ``communes``: ``code``, ``name``,
        ``population`` and one column per indicator. A value that cannot be
        computed (no requests, no area, rate not given) is NaN, never zero.

    Examples
    --------
    >>> communes = pd.DataFrame({"id": [1], "code": ["C1"], "name": ["Une"],
    ...     "population": [2000], "area_km2": [10.0], "poverty_rate": [0.4],
    ...     "literacy_rate": [None], "internet_rate": [0.1]})
    >>> from data.kpi import MEASURES
    >>> m = pd.DataFrame({k: [0.0] for k in MEASURES}, index=[1])
    >>> m[["requests", "population"]] = [[20.0, 2000.0]]
    >>> m.attrs["n_weeks"] = 52
    >>> row = commune_indicators(communes, m).iloc[0]
    >>> float(row["demand_per_1000"]), float(row["density"])
    (10.0, 200.0)
    >>> bool(np.isnan(row["literacy_rate"]))
    True
    """
    missing = {"id", "code", "name", "population", "area_km2"} - set(communes.columns)
    if missing:
        raise ValueError(f"communes lack columns: {', '.join(sorted(missing))}")
    ids = pd.Index(communes["id"].to_numpy(), name="commune_id")
    kpis = kpi_values(
        _with_attrs(measures.reindex(ids).fillna(0.0), measures),
        [i.source for i in INDICATORS.values() if i.from_kpi],
    )
    out = pd.DataFrame(
        {
            "code": communes["code"].to_numpy(),
            "name": communes["name"].to_numpy(),
            "population": communes["population"].to_numpy(dtype=float),
        },
        index=ids,
    )
    area = communes["area_km2"].to_numpy(dtype=float)
    pop = out["population"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        density = np.where(area > 0, pop / np.where(area > 0, area, 1.0), np.nan)
    for ind in INDICATORS.values():
        if ind.from_kpi:
            out[ind.id] = kpis[ind.source].to_numpy(dtype=float)
        elif ind.id == "density":
            out[ind.id] = density
        else:
            values = pd.to_numeric(communes.get(ind.source), errors="coerce")
            out[ind.id] = 100.0 * np.asarray(values, dtype=float)
    return out


def _with_attrs(frame: pd.DataFrame, like: pd.DataFrame) -> pd.DataFrame:
    frame.attrs.update(like.attrs)
    return frame


def indicator_table(store, ctx, filters: Filters) -> pd.DataFrame:
    """Indicators of every commune of a dataset context, read from the store.

    Examples
    --------
    >>> # indicator_table(store, data.views.load_context(store), filters)
    """
    return commune_indicators(ctx.communes(), commune_measures(store, filters))
