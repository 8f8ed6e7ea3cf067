"""What-if planning: from a planner's choices to engine inputs, and instant evaluation.

A planner's scenario is a :class:`WhatIf`: an objective, how many centers may open
or close, a budget, demand growth, capacity changes, equity options, and the sites
they clicked on the map (locked open, forbidden, marked for closure, or added).
This module turns it into the engine's JSON spec (:func:`build_spec`), the demand
vector (:func:`demand_vector`) and the network (:func:`apply_to_network`), and
evaluates the network as it stands without solving (:func:`evaluate_as_is`).

Examples
--------
>>> w = WhatIf(objective="distance", new_centers=2)
>>> build_spec(w, n_existing=10)["parameters"]["p"]
12
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from data.kpi import ACCESS_MEASURES
from optimization.evaluate import evaluate_network
from optimization.scenario import NetworkInputs, ScenarioError, ScenarioRefusedError
from optimization.spec import CAPACITY_MODELS

OBJECTIVES = {
    "distance": "pmedian",
    "coverage": "mclp",
    "fewest": "lscp",
    "worst": "pcenter",
    "rebalance": "reallocation",
    "attendance": "attendance",
}
#: Decay of attendance with distance (objective "attendance"), as the engine's
#: ``parameters.decay.function``.
DECAYS = ("linear", "exponential", "power")
SITE_STATES = ("locked", "closed", "forbidden")
#: Most sites a planner may add on the map (and never more than one a commune):
#: each one is a column of the commune x site distances that every evaluation
#: computes and copies, so a forged list of thousands would cost gigabytes on a
#: large country. As many as ``new_centers`` may open.
MAX_ADDED = 500
#: How many of the values at fault a message quotes.
QUOTED = 5
#: How access is measured: great-circle km, or travel minutes on the dataset's
#: roads for a mode and a season (``mode|season``, as the main screen's switch).
MEASURES = tuple(ACCESS_MEASURES)
TRAVEL_MEASURES = tuple(m for m in MEASURES if ACCESS_MEASURES[m].unit == "min")
# Fields the planner may leave empty (no budget, no module, no equity rule...).
OPTIONAL = frozenset(
    {
        "budget",
        "module_size",
        "min_coverage_pct",
        "max_distance_km",
        "period_start",
        "period_end",
        "doc_types",
        "growth_by_doc_pct",
        "allow_closures",
        "capacitated",
    }
)


class Problem(NamedTuple):
    """A panel value the engine cannot use: which field, what was sent, why.

    ``reason`` is ``'empty'`` (a required field left empty, or a number the
    browser refused to send), ``'range'`` (``low``..``high``), ``'invalid'``,
    ``'type'`` (not the kind of value the field holds: ``value`` names the kind
    sent), ``'repeated'`` (``value`` quotes what is there twice), ``'unknown'``
    (what the dataset does not have) or ``'too_many'`` (``value`` entries, at
    most ``high``). ``value`` is short enough to show (see :func:`quoted`).
    """

    field: str
    value: Any
    reason: str
    low: float | None = None
    high: float | None = None
    message: str = ""

    def __str__(self) -> str:
        if self.message:
            return self.message
        if self.reason == "empty":
            return f"{self.field} is empty"
        if self.reason == "range":
            return (
                f"{self.field} should be between {self.low:g} and {self.high:g}, "
                f"got {self.value!r}"
            )
        if self.reason == "type":
            return f"{self.field} cannot hold a {self.value}"
        if self.reason == "repeated":
            return f"{self.field} names {self.value} more than once"
        if self.reason == "unknown":
            return f"{self.field} names what the dataset does not have: {self.value}"
        if self.reason == "too_many":
            return f"{self.field} has {self.value} entries, at most {self.high:g}"
        return f"{self.field}: invalid value {self.value!r}"


class NoRoadsError(ScenarioError):
    """A travel-time measure asked of a dataset without a road network."""

    def __init__(self) -> None:
        super().__init__(
            "the dataset has no road network to measure travel times on: import "
            "one (python -m dashapp roads import FILE) or measure in km"
        )


class PanelError(ScenarioError):
    """The panel holds values the engine cannot use; ``problems`` names each."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(map(str, self.problems)))


@dataclass(frozen=True)
class WhatIf:
    """A planner's scenario, in the words of the scenario panel.

    Attributes
    ----------
    objective : {'distance', 'coverage', 'fewest', 'worst', 'rebalance', 'attendance'}
        Minimise mean distance, maximise coverage within ``radius_km``, fewest
        centers covering everyone within ``radius_km``, minimise the worst
        distance, rebalance capacity between existing centers, or maximise
        attendance (demand falling with distance through ``decay``).
    new_centers : int
        New centers that may open (for distance, coverage, worst distance).
    budget : float or None
        Cap on opening, closing and capacity costs (same unit as the candidates'
        opening cost).
    closing_cost : float
        Cost of closing one existing center.
    module_size, module_cost : float
        Capacity that can be added to a site in modules of ``module_size``
        requests/week at ``module_cost`` each (respect-capacities mode, at most 3
        modules a site).
    radius_km : float
        Coverage radius, in the measure's unit (km, or minutes for a travel time).
    growth_pct, years : float, int
        Overall demand growth per year (%) over ``years`` years.
    growth_by_doc_pct : dict
        Extra growth per year (%) for some document types.
    capacity_change_pct : float
        Change of every existing center's capacity (%).
    allow_closures : bool
        Existing centers may close (the network can then move).
    capacitated : bool
        Respect capacities in the optimisation.
    min_coverage_pct : float or None
        Minimum share of each department's demand within ``radius_km``.
    max_distance_km : float or None
        No commune may be assigned farther than this (km, or minutes).
    time_limit_s : float
        Solver time limit.
    demand_source : {'today', 'forecast'}
        Today's demand (mean weekly requests of the last 52 weeks) grown by
        ``growth_pct``, or the demand forecast ``forecast_weeks`` ahead (growth is
        then already in the forecast and ``growth_pct`` is not applied).
    forecast_weeks : int
        Forecast horizon, 4 to 26 weeks.
    period_start, period_end : str or None
        ISO dates of the weeks today's demand is averaged over (the last 52 weeks
        when unset).
    doc_types : tuple of str
        Document types whose demand counts (all when empty).
    sites : dict
        Site code -> 'locked', 'closed' (existing) or 'forbidden' (candidate).
    added : tuple
        Commune codes where the planner added a candidate site.
    measure : str
        How access is measured (:data:`MEASURES`): ``"km"`` (great-circle) or a
        travel time on the dataset's roads, ``"<mode>|<season>"`` (minutes).
    decay : {'linear', 'exponential', 'power'}
        How attendance falls with distance (objective ``"attendance"``).
    decay_distance : float
        In the measure's unit: where no demand comes any more (linear), where
        half of it comes (exponential), the distance scale (power).
    decay_exponent : float
        How fast demand falls (power).
    """

    objective: str = "distance"
    new_centers: int = 3
    budget: float | None = None
    closing_cost: float = 0.0
    module_size: float | None = None
    module_cost: float = 0.0
    radius_km: float = 20.0
    growth_pct: float = 0.0
    years: int = 1
    growth_by_doc_pct: dict[str, float] = field(default_factory=dict)
    capacity_change_pct: float = 0.0
    allow_closures: bool = False
    capacitated: bool = False
    min_coverage_pct: float | None = None
    max_distance_km: float | None = None
    time_limit_s: float = 30.0
    demand_source: str = "today"
    forecast_weeks: int = 12
    period_start: str | None = None
    period_end: str | None = None
    doc_types: tuple[str, ...] = ()
    sites: dict[str, str] = field(default_factory=dict)
    added: tuple[str, ...] = ()
    measure: str = "km"
    decay: str = "exponential"
    decay_distance: float = 15.0
    decay_exponent: float = 2.0

    @property
    def travel(self) -> tuple[str, str] | None:
        """``(mode, season)`` of a travel-time measure; None for km."""
        return measure_travel(self.measure)

    @property
    def unit(self) -> str:
        """Unit of every distance of the scenario: ``"km"`` or ``"min"``."""
        return measure_unit(self.measure)

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        if self.measure not in MEASURES:
            problems.append(
                Problem(
                    "measure",
                    self.measure,
                    "invalid",
                    message=f"measure should be one of {list(MEASURES)}",
                )
            )
        if self.demand_source not in ("today", "forecast"):
            problems.append(
                Problem(
                    "demand_source",
                    self.demand_source,
                    "invalid",
                    message="demand_source should be 'today' or 'forecast'",
                )
            )
        try:
            start = (
                None
                if self.period_start is None
                else dt.date.fromisoformat(str(self.period_start)[:10])
            )
            end = (
                None
                if self.period_end is None
                else dt.date.fromisoformat(str(self.period_end)[:10])
            )
            if start and end and start > end:
                problems.append(
                    Problem(
                        "period_start",
                        f"{start} > {end}",
                        "invalid",
                        message=f"period starts after it ends ({start} > {end})",
                    )
                )
        except ValueError:
            problems.append(
                Problem(
                    "period_start",
                    f"{self.period_start} - {self.period_end}",
                    "invalid",
                    message=f"period should be ISO dates, got {self.period_start!r} "
                    f"to {self.period_end!r}",
                )
            )
        if not isinstance(self.objective, str) or self.objective not in OBJECTIVES:
            problems.append(
                Problem(
                    "objective",
                    self.objective,
                    "invalid",
                    message=f"objective should be one of {list(OBJECTIVES)}",
                )
            )
        if self.decay not in DECAYS:
            problems.append(
                Problem(
                    "decay",
                    self.decay,
                    "invalid",
                    message=f"decay should be one of {list(DECAYS)}",
                )
            )
        checks = [
            ("decay_distance", self.decay_distance, 0.1, 5000),
            ("decay_exponent", self.decay_exponent, 0.1, 10),
            ("new_centers", self.new_centers, 0, 500),
            ("radius_km", self.radius_km, 0.1, 1000),
            ("growth_pct", self.growth_pct, -90, 200),
            ("years", self.years, 0, 50),
            ("capacity_change_pct", self.capacity_change_pct, -100, 500),
            ("time_limit_s", self.time_limit_s, 1, 3600),
            ("forecast_weeks", self.forecast_weeks, 4, 26),
        ]
        if isinstance(self.growth_by_doc_pct, Mapping):
            checks += [
                (f"growth_by_doc_pct[{str(k)[:40]}]", v, -90, 200)
                for k, v in self.growth_by_doc_pct.items()
            ]
        if self.budget is not None:
            checks.append(("budget", self.budget, 0, 1e15))
        checks.append(("closing_cost", self.closing_cost, 0, 1e15))
        checks.append(("module_cost", self.module_cost, 0, 1e15))
        if self.module_size is not None:
            checks.append(("module_size", self.module_size, 1, 1e6))
        if self.min_coverage_pct is not None:
            checks.append(("min_coverage_pct", self.min_coverage_pct, 0, 100))
        if self.max_distance_km is not None:
            checks.append(("max_distance_km", self.max_distance_km, 0.1, 5000))
        for name, value, lo, hi in checks:
            try:
                ok = lo <= float(value) <= hi
            except (TypeError, ValueError):
                ok = False
            if not ok:
                problems.append(Problem(name, value, "range", lo, hi))
        problems += _collection_problems(self)
        if problems:
            raise PanelError(problems)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able parameters (to save, share or reload the scenario)."""
        out = dataclasses.asdict(self)
        out["added"] = list(self.added)
        out["doc_types"] = list(self.doc_types)
        return out

    @classmethod
    def from_dict(cls, values: Any) -> WhatIf:
        """Rebuild from :meth:`to_dict` output (a saved scenario's, a draft's).

        ``values`` is untrusted: anything but a mapping of known fields, each of
        its kind, raises :class:`PanelError` naming the fields. Values are read
        as :meth:`from_panel` reads them (booleans, the date part of dates).
        Check the map's choices against a network with :meth:`check`.

        Examples
        --------
        >>> WhatIf.from_dict({"objective": "worst", "added": ["C1"]}).added
        ('C1',)
        >>> try:
        ...     WhatIf.from_dict({"sites": 5, "added": ["C1", "C1"]})
        ... except PanelError as exc:
        ...     [(p.field, p.reason) for p in exc.problems]
        [('sites', 'type'), ('added', 'repeated')]
        """
        if not isinstance(values, Mapping):
            raise PanelError([Problem("parameters", type(values).__name__, "type")])
        _refuse_unknown(cls, values)
        return cls(**_read(values))

    def check(self, network: NetworkInputs) -> WhatIf:
        """This what-if, once its map choices are found to fit ``network``.

        Added sites are at most :data:`MAX_ADDED` (and no more than the
        communes), each in one of the network's communes. Site choices name the
        network's sites, no more than it has: ``'closed'`` an existing center,
        ``'forbidden'`` a candidate, ``'locked'`` either. Linear in the sizes:
        a forged list costs no more than reading it. Raises :class:`PanelError`.

        Examples
        --------
        >>> from optimization.scenario import NetworkInputs
        >>> net = NetworkInputs(["a", "b"], ["A", "B"], ["d"] * 2, ["D"] * 2,
        ...                     ["r"] * 2, ["R"] * 2, [1.0, 1.0], [0.0, 1.0],
        ...                     [0.0, 0.0], ["S1"], ["s1"], [0.0], [0.0], [9.0],
        ...                     [1], ["open"], requests=None)
        >>> WhatIf(added=("b",), sites={"S1": "locked"}).check(net).added
        ('b',)
        >>> try:
        ...     WhatIf(added=("z",), sites={"S1": "forbidden"}).check(net)
        ... except PanelError as exc:
        ...     [(p.field, p.reason) for p in exc.problems]
        [('added', 'unknown'), ('sites', 'invalid')]
        """
        problems: list[Problem] = []
        communes = {str(c) for c in network.commune_ids}
        limit = min(len(communes), MAX_ADDED)
        if len(self.added) > limit:
            problems.append(Problem("added", len(self.added), "too_many", 0, limit))
        else:
            unknown = [c for c in self.added if c not in communes]
            if unknown:
                shown = quoted(unknown)
                problems.append(
                    Problem(
                        "added",
                        shown,
                        "unknown",
                        message=f"added sites name unknown communes {shown}",
                    )
                )
        existing = {str(c) for c in network.center_ids}
        candidates = {str(c) for c in network.candidate_ids}
        known = existing | candidates
        if len(self.sites) > len(known):
            problems.append(
                Problem("sites", len(self.sites), "too_many", 0, len(known))
            )
        else:
            unknown = [s for s in self.sites if s not in known]
            if unknown:
                problems.append(Problem("sites", quoted(unknown), "unknown"))
            wrong = [
                f"{k}: {v}"
                for k, v in self.sites.items()
                if (v == "closed" and k in candidates)
                or (v == "forbidden" and k in existing)
            ]
            if wrong:
                problems.append(
                    Problem(
                        "sites",
                        quoted(wrong),
                        "invalid",
                        message="only an existing center may close and only a "
                        f"candidate be forbidden: {quoted(wrong)}",
                    )
                )
        if problems:
            raise PanelError(problems)
        return self

    @classmethod
    def from_panel(cls, panel: Mapping[str, Any]) -> WhatIf:
        """Read the scenario panel's values, as the browser sends them.

        ``panel`` is keyed by field name. An empty value (``None`` or ``""``) is
        a problem unless the field is optional (:data:`OPTIONAL`): a number input
        sends ``None`` for what it cannot read or for a value below its minimum,
        and running with the default instead would run and save what the planner
        did not ask for. A field missing from ``panel`` takes its default. Two
        keys differ from the fields: ``growth_by_doc_pct`` is ``{"values": [...],
        "ids": [...]}`` (one input per document type, whose id is
        ``{"index": code}``), and ``map_choices`` is the map's ``{"sites": {...},
        "added": [...]}``. Every value is then checked as usual; all problems
        are raised together as :class:`PanelError` (``problems``: field, value,
        reason), nothing is replaced.

        Examples
        --------
        >>> w = WhatIf.from_panel({"objective": "coverage", "new_centers": 2,
        ...                        "map_choices": {"sites": {"S1": "closed"}}})
        >>> w.objective, w.new_centers, w.sites
        ('coverage', 2, {'S1': 'closed'})
        >>> try:
        ...     WhatIf.from_panel({"radius_km": None, "new_centers": -1})
        ... except PanelError as exc:
        ...     [(p.field, p.reason) for p in exc.problems]
        [('radius_km', 'empty'), ('new_centers', 'range')]
        """
        names = {f.name for f in dataclasses.fields(cls)}
        _refuse_unknown(cls, panel, {"map_choices"})
        empty = [
            Problem(k, v, "empty")
            for k, v in panel.items()
            if k in names and k not in OPTIONAL and (v is None or v == "")
        ]
        values = {
            k: v for k, v in panel.items() if k in names and v is not None and v != ""
        }
        if "growth_by_doc_pct" in values:
            values["growth_by_doc_pct"] = _growth_by_doc(values["growth_by_doc_pct"])
        choices = panel.get("map_choices") or {}
        if not isinstance(choices, Mapping):
            raise PanelError([Problem("sites", type(choices).__name__, "type")])
        values["sites"] = choices.get("sites", {})
        values["added"] = choices.get("added", [])
        values = _read(values)
        try:
            whatif = cls(**values)  # the empty fields at their defaults, checked
        except PanelError as exc:
            raise PanelError([*empty, *exc.problems]) from None
        if empty:
            raise PanelError(empty)
        return whatif


def quoted(values: list, most: int = QUOTED) -> str:
    """The first ``most`` of ``values`` for a message, each cut to 40 characters.

    Examples
    --------
    >>> quoted(["A", "B", "C"], most=2)
    "'A', 'B' … (3)"
    """
    shown = [repr(v) if len(repr(v)) <= 40 else repr(v)[:39] + "…" for v in values]
    extra = f" … ({len(values)})" if len(values) > most else ""
    return ", ".join(shown[:most]) + extra


def _refuse_unknown(cls: type, values: Mapping, also: set | frozenset = frozenset()):
    """:class:`PanelError` naming (a few of) ``values``' keys that are no field."""
    names = {f.name for f in dataclasses.fields(cls)} | set(also)
    unknown = [k for k in values if k not in names]
    if unknown:
        shown = quoted(sorted(map(str, unknown)))
        raise PanelError(
            [
                Problem(
                    "parameters",
                    shown,
                    "unknown",
                    message=f"unknown scenario parameters {shown}",
                )
            ]
        )


def _read(values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` as the fields hold them: booleans, the date part of dates,
    tuples of lists; a value of the wrong kind is kept for :class:`WhatIf` to
    refuse by name."""
    values = dict(values)
    for key in ("allow_closures", "capacitated"):
        if key in values:
            values[key] = bool(values[key])
    for key in ("period_start", "period_end"):
        # the date part only: nothing after it reaches pandas
        if values.get(key) is not None:
            values[key] = str(values[key])[:10]
    for key in ("added", "doc_types"):
        if isinstance(values.get(key), list):
            values[key] = tuple(values[key])
    if isinstance(values.get("sites"), Mapping):
        values["sites"] = dict(values["sites"])
    return values


def _collection_problems(whatif: WhatIf) -> list[Problem]:
    """What is wrong with the what-if's lists and mappings on their own: their
    kinds, the site states, communes added twice. Linear in their lengths (a
    forged list of 100,000 entries is refused in milliseconds)."""
    problems = []
    sites = whatif.sites
    if not isinstance(sites, Mapping):
        problems.append(Problem("sites", type(sites).__name__, "type"))
    else:
        keys = [k for k in sites if not isinstance(k, str)]
        bad = [f"{k}: {v!r}" for k, v in sites.items() if v not in SITE_STATES]
        if keys:
            problems.append(Problem("sites", quoted(keys), "type"))
        elif bad:
            problems.append(
                Problem(
                    "sites",
                    quoted(bad),
                    "invalid",
                    message=f"unknown site states {quoted(bad)}",
                )
            )
    for name in ("added", "doc_types"):
        entries = getattr(whatif, name)
        if not isinstance(entries, tuple):
            problems.append(Problem(name, type(entries).__name__, "type"))
        elif not all(isinstance(e, str) for e in entries):
            odd = [e for e in entries if not isinstance(e, str)]
            problems.append(Problem(name, quoted(odd), "type"))
        elif name == "added" and len(set(entries)) < len(entries):
            twice = [c for c, n in Counter(entries).items() if n > 1]
            problems.append(Problem(name, quoted(twice), "repeated"))
    if not isinstance(whatif.growth_by_doc_pct, Mapping):
        kind = type(whatif.growth_by_doc_pct).__name__
        problems.append(Problem("growth_by_doc_pct", kind, "type"))
    return problems


def measure_travel(measure: Any) -> tuple[str, str] | None:
    """``(mode, season)`` of a travel-time measure, None for km (or anything else).

    Examples
    --------
    >>> measure_travel("walking|rainy"), measure_travel("km")
    (('walking', 'rainy'), None)
    """
    if isinstance(measure, str) and measure in TRAVEL_MEASURES:
        mode, season = measure.split("|")
        return mode, season
    return None


def measure_unit(measure: Any) -> str:
    """``"min"`` for a travel-time measure, else ``"km"`` (what a panel value
    that cannot be read is shown in).

    Examples
    --------
    >>> measure_unit("motorised|dry"), measure_unit(None)
    ('min', 'km')
    """
    return "km" if measure_travel(measure) is None else "min"


def _growth_by_doc(inputs: Any) -> dict[str, Any]:
    """``{"values", "ids"}`` of the per-type growth inputs as ``{code: pct}``.

    Zero and empty inputs are left out; a value that is not a number is kept as
    sent, for :class:`WhatIf` to refuse by name.
    """

    def number(value: Any) -> Any:
        try:
            return float(value)
        except (TypeError, ValueError):
            return value

    if not isinstance(inputs, Mapping):
        raise ScenarioError(
            f"growth by document type should be {{'values', 'ids'}}, got "
            f"{type(inputs).__name__}"
        )
    return {
        str(i.get("index")) if isinstance(i, Mapping) else repr(i)[:40]: number(v)
        for i, v in zip(
            inputs.get("ids") or [], inputs.get("values") or [], strict=False
        )
        if v not in (None, "", 0)
    }


def added_site_code(commune_code: str) -> str:
    """Code of a candidate site added by the planner in a commune."""
    return f"NEW-{commune_code}"


def apply_to_network(
    network: NetworkInputs, whatif: WhatIf, default_capacity: float | None = None
) -> NetworkInputs:
    """The network with capacity changes applied and the planner's sites added.

    Added sites sit at the commune's representative point, with the median
    capacity and opening cost of the existing candidates.
    """
    factor = 1.0 + whatif.capacity_change_pct / 100.0
    capacity = np.asarray(network.center_capacity, dtype=float) * factor
    whatif.check(network)
    index = {str(c): i for i, c in enumerate(network.commune_ids)}
    cand_cap = np.asarray(network.candidate_capacity, dtype=float)
    cand_cost = np.asarray(network.candidate_opening_cost, dtype=float)
    known = cand_cap[np.isfinite(cand_cap)]
    cap = default_capacity or (float(np.median(known)) if known.size else 250.0)
    cost = float(np.median(cand_cost)) if cand_cost.size else 0.0
    rows = [index[c] for c in whatif.added]
    return dataclasses.replace(
        network,
        center_capacity=capacity,
        candidate_ids=[*network.candidate_ids, *map(added_site_code, whatif.added)],
        candidate_names=[
            *network.candidate_names,
            *(f"+ {network.commune_names[i]}" for i in rows),
        ],
        candidate_lon=np.r_[
            np.asarray(network.candidate_lon, float),
            np.asarray(network.lon, float)[rows],
        ],
        candidate_lat=np.r_[
            np.asarray(network.candidate_lat, float),
            np.asarray(network.lat, float)[rows],
        ],
        candidate_opening_cost=np.r_[cand_cost, [cost] * len(rows)],
        candidate_capacity=np.r_[cand_cap, [cap] * len(rows)],
    )


def demand_vector(
    base: pd.DataFrame, whatif: WhatIf, forecast: np.ndarray | None = None
) -> np.ndarray:
    """Weekly demand per commune: today's after growth, or the forecast.

    ``base`` has one row per commune (in the network's order) and one column per
    document type: today's mean weekly requests. ``forecast`` (same order) is
    required when ``whatif.demand_source`` is ``'forecast'``.
    """
    if whatif.demand_source == "forecast":
        if forecast is None or len(forecast) != len(base):
            raise ScenarioError(
                "the forecast demand is missing or has the wrong length"
            )
        values = np.asarray(forecast, dtype=float)
        if np.isnan(values).any() or (values < 0).any():
            raise ScenarioError("the forecast demand has NaN or negative values")
        return values
    total = np.zeros(len(base))
    docs = [d for d in base.columns if not whatif.doc_types or d in whatif.doc_types]
    if whatif.doc_types and not docs:
        types = quoted(list(whatif.doc_types))
        raise ScenarioRefusedError(
            "no_doc_type_demand",
            f"no demand for document types {types}",
            types=types,
        )
    for doc in docs:
        rate = (whatif.growth_pct + whatif.growth_by_doc_pct.get(doc, 0.0)) / 100.0
        total += base[doc].to_numpy(dtype=float) * (1.0 + rate) ** whatif.years
    return total


def unknown_requests(network: NetworkInputs) -> np.ndarray:
    """Communes whose weekly requests are unknown, for the scenario screen's demand.

    Counted requests are known everywhere (a commune without any counts 0); requests
    estimated from population at import are unknown where the population is; with
    neither, every commune whose population is unknown.

    Examples
    --------
    >>> net = NetworkInputs(["a", "b"], ["A", "B"], ["d"] * 2, ["D"] * 2, ["r"] * 2,
    ...                     ["R"] * 2, [10.0, float("nan")], [0.0, 1.0], [0.0, 0.0],
    ...                     [], [], [], [], [], [], [], requests=[0.5, float("nan")],
    ...                     requests_source="estimated")
    >>> unknown_requests(net).tolist()
    [False, True]
    """
    values = network.requests if network.requests is not None else network.population
    return np.isnan(np.asarray(values, dtype=float))


def with_unknown(demand: np.ndarray, unknown: np.ndarray | None) -> np.ndarray:
    """``demand`` with NaN where it is unknown, as the engine reads it (left out
    of the run and reported, see :func:`optimization.scenario.known_demand`).

    Examples
    --------
    >>> with_unknown(np.array([2.0, 0.0]), np.array([False, True])).tolist()
    [2.0, nan]
    """
    demand = np.asarray(demand, dtype=float)
    if unknown is None:
        return demand
    return np.where(np.asarray(unknown, dtype=bool), np.nan, demand)


def build_spec(whatif: WhatIf, n_existing: int) -> dict[str, Any]:
    """The engine's scenario spec (see :mod:`optimization.scenario`)."""
    locked = [s for s, v in whatif.sites.items() if v == "locked"]
    forbidden = [s for s, v in whatif.sites.items() if v in ("closed", "forbidden")]
    closed = sum(1 for v in whatif.sites.values() if v == "closed")
    model = OBJECTIVES[whatif.objective]
    spec: dict[str, Any] = {
        "name": "what-if",
        "model": model,
        "demand": {"source": "requests"},
        "sites": {
            "use_candidates": True,
            "closable": whatif.allow_closures,
            "locked": locked,
            "forbidden": forbidden,
            "max_new": int(whatif.new_centers),
        },
        "parameters": {},
        "solver": {"name": "highs", "time_limit": float(whatif.time_limit_s)},
        "report_radius": float(whatif.radius_km),
    }
    if whatif.travel is not None:
        mode, season = whatif.travel
        spec["distance"] = {
            "kind": "travel_time",
            "mode": mode,
            "season": season,
            "unit": "min",
        }
    if whatif.budget is not None:
        spec["sites"]["budget"] = float(whatif.budget)
    if whatif.closing_cost:
        spec["sites"]["closing_cost"] = float(whatif.closing_cost)
    par = spec["parameters"]
    if model in ("pmedian", "mclp", "pcenter", "attendance"):
        par["p"] = max(1, n_existing - closed + int(whatif.new_centers))
    if model == "attendance":
        par["decay"] = decay_spec(whatif)
    if model in ("mclp", "lscp"):
        par["service_radius"] = float(whatif.radius_km)
    if model in CAPACITY_MODELS:  # the models that impose capacities
        par["capacitated"] = bool(whatif.capacitated)
    if model == "pmedian" and whatif.capacitated and whatif.module_size:
        par["modules"] = {
            "size": float(whatif.module_size),
            "cost": float(whatif.module_cost),
            "max": 3,
        }
    capped = ("pmedian", "mclp", "pcenter", "attendance")
    if whatif.max_distance_km is not None and model in capped:
        par["max_distance"] = float(whatif.max_distance_km)
    if whatif.min_coverage_pct is not None and model in ("pmedian", "mclp"):
        spec["equity"] = {
            "level": "department",
            "radius": float(whatif.radius_km),
            "min_share": whatif.min_coverage_pct / 100.0,
        }
    if model == "reallocation":
        spec["reallocation"] = {"objective": "unmet"}
        spec["sites"]["use_candidates"] = False
    return spec


def decay_spec(whatif: WhatIf) -> dict[str, Any]:
    """The engine's ``parameters.decay`` of the planner's decay choice.

    Examples
    --------
    >>> decay_spec(WhatIf(objective="attendance", decay="linear", decay_distance=30))
    {'function': 'linear', 'cutoff': 30.0}
    """
    distance = float(whatif.decay_distance)
    if whatif.decay == "linear":
        return {"function": "linear", "cutoff": distance}
    if whatif.decay == "exponential":
        return {"function": "exponential", "half_distance": distance}
    return {
        "function": "power",
        "exponent": float(whatif.decay_exponent),
        "scale": distance,
    }


def open_mask_as_is(site_ids: list[str], n_existing: int, whatif: WhatIf) -> np.ndarray:
    """Which sites are open if nothing is optimised: existing ones not marked
    closed, and candidates the planner locked open."""
    mask = np.zeros(len(site_ids), dtype=bool)
    for i, code in enumerate(site_ids):
        state = whatif.sites.get(code)
        mask[i] = state != "closed" if i < n_existing else state == "locked"
    return mask


def evaluate_as_is(
    cost: np.ndarray,
    demand: np.ndarray,
    site_ids: list[str],
    capacity: np.ndarray,
    n_existing: int,
    whatif: WhatIf,
) -> tuple[np.ndarray, np.ndarray, dict]:
    """Assignment, open mask and KPIs of the network the planner has set by hand."""
    open_mask = open_mask_as_is(site_ids, n_existing, whatif)
    assignment, kpis = evaluate_network(
        cost, demand, open_mask, capacity, radius=whatif.radius_km
    )
    return assignment, open_mask, kpis
