"""Scenarios for the headless command: a JSON spec in, four files out.

Schema of the scenario JSON (every key except ``model`` is optional)::

    {
      "name": "Plan 2027",                         # free text
      "model": "pmedian" | "mclp" | "lscp" | "pcenter" | "reallocation"
               | "attendance",
      "demand": {
        "source": "population" | "requests",      # default "population"
        "growth_rate": 0.01, "years": 5,           # weights x (1 + rate) ** years
        "requests_per_capita": 0.004,              # population -> requests/week
        "forecast": {"<commune_id>": 123.0, ...}   # replaces the weights entirely
      },
      "distance": {
        "kind": "great_circle" | "matrix" | "travel_time",  # default great_circle
        "matrix_csv": "times.csv",                 # origin,destination,cost rows
        "missing": "error" | "forbid" | 999.0,     # pairs absent from the CSV
        "unit": "km" | "min",
        "mode": "walking" | "motorised",           # travel_time: on the roads,
        "season": "dry" | "rainy",                 # minutes (geo/roads.py)
        "cutoff_min": 600                          # longer trips are unreachable
      },
      "sites": {
        "use_candidates": true,                    # candidate sites may open
        "closable": true,                          # existing centers may close
        "locked": ["<site_id>", ...],              # must stay/become open
        "forbidden": ["<site_id>", ...],           # may not be open
        "closing_cost": 0.0 | {"<site_id>": cost},
        "max_new": 3, "budget": 500000.0
      },
      "parameters": {
        "p": 12,                                   # pmedian/mclp/pcenter/attendance
        "service_radius": 20.0,                    # mclp/lscp
        "max_distance": 45.0,                      # cap on any assignment
        "capacitated": false, "split": false,      # pmedian/mclp/pcenter
        "modules": {"size": 200, "cost": 40000, "max": 2},   # pmedian
        "cost_weight": 0.0,
        "decay": {"function": "linear", "cutoff": 30}   # attendance: or
                 # {"function": "exponential", "half_distance": 10},
                 # {"function": "power", "exponent": 2, "scale": 1}
      },
      "equity": {"level": "department" | "region", "radius": 30.0,
                 "min_share": 0.8 | {"<group_id>": 0.9}},
      "reallocation": {"objective": "unmet" | "overload" | "delay",
                       "total_staff": null, "budget": null, "staff_cost": null,
                       "min_staff": 1},
      "solver": {"name": "highs" | "cbc", "time_limit": 60, "gap": 1e-6},
      "report_radius": 20.0,                       # KPI "share within R"
      "aggregate": {"max_points": 2000, "enabled": true}
    }

``aggregate`` (p-median only, great-circle distances, uncapacitated, no
modules, ``max_distance`` or equity rule) solves the model on at most
``max_points`` aggregated demand points (weighted k-means within departments,
see :mod:`optimization.aggregate`), then assigns every commune to its nearest
open site. The summary then carries ``"aggregation": {"points", "communes",
"error_bound"}`` and the reported bound is the larger of the aggregated
model's bound minus ``error_bound`` (triangle inequality) and a sparse
Lagrangian bound computed on every commune (when ``p`` is given), so the
reported gap is proven. Without the key, aggregation
starts by itself when communes x sites exceeds :data:`AGGREGATE_THRESHOLD` and
the scenario qualifies; ``{"enabled": false}`` switches that off.

Site ids in the spec refer to existing center ids and candidate site ids of
the :class:`NetworkInputs`.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geo.distance import distance_matrix_km, nearest_km
from geo.roads import access_kpis
from optimization.aggregate import (
    aggregate_points,
    aggregation_error,
    sparse_lagrangian_bound,
)
from optimization.attendance import Attendance, Decay
from optimization.coverage import LSCP, MCLP
from optimization.distances import load_cost_matrix_csv
from optimization.errors import InfeasibleError, Reason
from optimization.inputs import EquityRule, Labels, SiteRules
from optimization.pcenter import PCenter
from optimization.pmedian import PMedian
from optimization.reallocation import CapacityReallocation
from optimization.results import (
    center_table,
    commune_table,
    excess_load,
    network_kpis,
)
from optimization.solver import (
    DEFAULT_GAP,
    FEASIBLE,
    OPTIMAL,
    SolveProgress,
    SolveReport,
    relative_gap,
)
from optimization.spec import (
    AGGREGATE_POINTS,
    CAPACITY_MODELS,
    MODELS,
    ScenarioError,
    ScenarioSpec,
    aggregation_blocker,
    load_spec,
)

__all__ = [
    "AGGREGATE_POINTS",
    "AGGREGATE_THRESHOLD",
    "MODELS",
    "NetworkInputs",
    "NoDemandError",
    "ScenarioError",
    "ScenarioRefusedError",
    "ScenarioResult",
    "ScenarioSpec",
    "load_spec",
    "run_scenario",
    "scenario_progress",
    "write_outputs",
]

#: Communes x sites above which a qualifying p-median is aggregated (~160 MB
#: of float64 costs); a dense national matrix (35,000 x 3,400) is ~1 GB.
AGGREGATE_THRESHOLD = 20_000_000


class ScenarioRefusedError(ScenarioError):
    """A scenario the engine refuses or cannot solve, with why as a :class:`Reason`.

    ``reason.code`` is stable and ``reason.params`` holds the figures and names
    quoted in the English message (the error's text), so that a screen words it
    in its own language (``reason.<code>`` in the catalogue) rather than showing
    the engine's sentence.

    Examples
    --------
    >>> err = ScenarioRefusedError("no_sites", "the network has no site")
    >>> err.reason.code, str(err)
    ('no_sites', 'the network has no site')
    """

    def __init__(self, code: str, message: str, **params: Any) -> None:
        super().__init__(message)
        self.reason = Reason(code, message, params)


class NoDemandError(ScenarioError):
    """Nothing to plan for: the demand is unknown, absent or zero in every commune.

    A refusal of the data, not of the plan: ``reason`` is ``"unknown"`` (no
    commune has a known demand: no population and no operations), ``"absent"``
    (requests asked for, none in the dataset) or ``"zero"``; ``communes`` is the
    number of communes. Screens word it from these, the command prints the text.
    """

    def __init__(self, message: str, reason: str, communes: int) -> None:
        super().__init__(message)
        self.reason = reason
        self.communes = communes


@dataclass
class NetworkInputs:
    """Everything a scenario needs about communes, centers and candidate sites.

    Attributes
    ----------
    commune_ids, commune_names : sequence of str
    department_ids, department_names, region_ids, region_names : sequence of str
        One entry per commune.
    population : array-like
        Inhabitants per commune; NaN where unknown (imported without it): such a
        commune is left out of a population-based demand, and the run says so.
    lon, lat : array-like
        Representative point of each commune (degrees, WGS84).
    center_ids, center_names : sequence of str
        Existing centers.
    center_lon, center_lat : array-like
    center_capacity : array-like
        Requests per week each center can serve; NaN when unknown (counted as
        unlimited: never overloaded, no utilisation; refused by capacitated
        models).
    center_staff : array-like
        Agents per center.
    center_status : sequence of str
        ``"open"`` (closable), ``"locked"`` (must stay open) or
        ``"closed"``/``"inactive"`` (not part of today's network, ignored).
    candidate_ids, candidate_names : sequence of str
    candidate_lon, candidate_lat : array-like
    candidate_opening_cost, candidate_capacity : array-like
    requests : array-like, optional
        Weekly requests per commune (from operations); NaN where unknown (an
        estimate from an unknown population).
    requests_source : {"operations", "estimated"}
        Where ``requests`` come from: counted operations, or estimated from
        population at import (a dataset without operations); the summary says so.
    polygons : sequence of shapely geometries, optional
        Commune outlines, used in ``result.geojson`` when given.
    travel_times : callable, optional
        ``travel_times(mode, season, cutoff_min)`` returns commune x site
        minutes on the dataset's roads (``inf``: unreachable), columns in the
        order of ``center_ids`` then ``candidate_ids``, or None when the
        dataset has no road network; needed by ``distance.kind`` "travel_time".
    """

    commune_ids: Sequence[Any]
    commune_names: Sequence[Any]
    department_ids: Sequence[Any]
    department_names: Sequence[Any]
    region_ids: Sequence[Any]
    region_names: Sequence[Any]
    population: Any
    lon: Any
    lat: Any
    center_ids: Sequence[Any]
    center_names: Sequence[Any]
    center_lon: Any
    center_lat: Any
    center_capacity: Any
    center_staff: Any
    center_status: Sequence[str]
    candidate_ids: Sequence[Any] = ()
    candidate_names: Sequence[Any] = ()
    candidate_lon: Any = ()
    candidate_lat: Any = ()
    candidate_opening_cost: Any = ()
    candidate_capacity: Any = ()
    requests: Any = None
    polygons: Sequence[Any] | None = None
    requests_source: str = "operations"
    travel_times: Callable[[str, str, float | None], Any] | None = None

    def __post_init__(self) -> None:
        n = len(self.commune_ids)
        if n == 0:
            raise ScenarioError("the network has no communes")
        for name in (
            "commune_names",
            "department_ids",
            "department_names",
            "region_ids",
            "region_names",
            "population",
            "lon",
            "lat",
        ):
            if len(getattr(self, name)) != n:
                raise ScenarioError(
                    f"'{name}' has {len(getattr(self, name))} entries, expected {n}"
                )
        for name in ("requests", "polygons"):
            value = getattr(self, name)
            if value is not None and len(value) != n:
                raise ScenarioError(f"'{name}' has {len(value)} entries, expected {n}")
        c = len(self.center_ids)
        for name in (
            "center_names",
            "center_lon",
            "center_lat",
            "center_capacity",
            "center_staff",
            "center_status",
        ):
            if len(getattr(self, name)) != c:
                raise ScenarioError(
                    f"'{name}' has {len(getattr(self, name))} entries, expected {c}"
                )
        k = len(self.candidate_ids)
        for name in (
            "candidate_names",
            "candidate_lon",
            "candidate_lat",
            "candidate_opening_cost",
            "candidate_capacity",
        ):
            if len(getattr(self, name)) != k:
                raise ScenarioError(
                    f"'{name}' has {len(getattr(self, name))} entries, expected {k}"
                )
        ids = self.site_ids
        if len(set(ids)) != len(ids):
            twice = sorted(i for i, n in Counter(ids).items() if n > 1)
            raise ScenarioError(
                f"center and candidate ids must be unique; used twice: {twice[:5]}"
            )
        for name in (
            "population",
            "center_capacity",
            "candidate_capacity",
            "candidate_opening_cost",
            "center_staff",
        ):
            arr = np.asarray(getattr(self, name), dtype=float)
            # NaN: capacity or population not known (each reported where used)
            unknown_ok = name.endswith("_capacity") or name == "population"
            if (np.isnan(arr).any() and not unknown_ok) or (arr < 0).any():
                raise ScenarioError(f"'{name}' has NaN or negative values")
        if (
            self.requests is not None
            and (np.asarray(self.requests, dtype=float) < 0).any()
        ):
            raise ScenarioError("'requests' has negative values")

    # -- every site, existing centers first, then candidates -------------------------
    @property
    def site_ids(self) -> list[str]:
        """Code of every site: the centers', then the candidates'."""
        return [*map(str, self.center_ids), *map(str, self.candidate_ids)]

    @property
    def site_names(self) -> list[Any]:
        return [*self.center_names, *self.candidate_names]

    @property
    def site_lon(self) -> np.ndarray:
        return np.r_[
            np.asarray(self.center_lon, float), np.asarray(self.candidate_lon, float)
        ]

    @property
    def site_lat(self) -> np.ndarray:
        return np.r_[
            np.asarray(self.center_lat, float), np.asarray(self.candidate_lat, float)
        ]

    @property
    def site_capacity(self) -> np.ndarray:
        """Requests per week of every site; NaN where unknown."""
        return np.r_[
            np.asarray(self.center_capacity, float),
            np.asarray(self.candidate_capacity, float),
        ]


@dataclass
class ScenarioResult:
    """Outputs of :func:`run_scenario`, ready for :func:`write_outputs`."""

    spec: ScenarioSpec
    report: SolveReport
    summary: dict[str, Any]
    centers: pd.DataFrame
    assignments: pd.DataFrame
    geojson: dict[str, Any]
    model: Any = None


def scenario_demand(
    spec: ScenarioSpec, network: NetworkInputs, demand: Any = None
) -> tuple[np.ndarray, str]:
    """Demand weights of a scenario and their unit; NaN where the demand is unknown.

    A population-based demand is unknown in the communes whose population is
    (NaN in ``network.population``), and so are the requests estimated from it
    (NaN in ``network.requests``) or a ``demand`` vector's NaN entries.
    :func:`known_demand` then leaves those communes out, and the run says so. An
    explicit ``demand.forecast`` must give every commune a number.

    Examples
    --------
    >>> net = NetworkInputs(["a", "b"], ["A", "B"], ["d"] * 2, ["D"] * 2, ["r"] * 2,
    ...                     ["R"] * 2, [10.0, float("nan")], [0.0, 1.0], [0.0, 0.0],
    ...                     [], [], [], [], [], [], [])
    >>> scenario_demand(load_spec({"model": "pmedian"}), net)
    (array([10., nan]), 'inhabitants')
    """
    dem = spec.demand
    ids = [str(x) for x in network.commune_ids]
    if demand is not None:
        w = np.asarray(demand, dtype=float)
        unit = "requests/week"
    elif "forecast" in dem:
        fc = {str(k): v for k, v in dem["forecast"].items()}
        missing = [i for i in ids if i not in fc]
        if missing:
            raise ScenarioError(
                f"'demand.forecast' lacks {len(missing)} communes, e.g. {missing[:3]}"
            )
        w = np.array([fc[i] for i in ids], dtype=float)
        unit = "requests/week" if dem["source"] == "requests" else "inhabitants"
        if np.isnan(w).any():
            raise ScenarioError("'demand.forecast' has NaN values")
    elif dem["source"] == "requests":
        if network.requests is None:
            if np.isnan(np.asarray(network.population, dtype=float)).all():
                raise _no_demand(len(ids))
            raise NoDemandError(
                "'demand.source' is 'requests' but the dataset has no operations and "
                "no demand estimate: use 'demand.source' 'population' (with "
                "'requests_per_capita' for requests/week) or import operations",
                "absent",
                len(ids),
            )
        w = np.asarray(network.requests, dtype=float)
        unit = "requests/week"
    else:
        w = np.asarray(network.population, dtype=float)
        unit = "inhabitants"
        if "requests_per_capita" in dem:
            w = w * dem["requests_per_capita"]
            unit = "requests/week"
    if w.shape != (len(ids),):
        raise ScenarioError(f"demand has {w.size} values, expected {len(ids)}")
    if (w < 0).any():
        raise ScenarioError("demand has negative values")
    if "growth_rate" in dem:
        w = w * (1.0 + dem["growth_rate"]) ** dem.get("years", 1)
    return w, unit


def _no_demand(n: int) -> NoDemandError:
    return NoDemandError(
        f"no demand to plan for: none of the {n} communes has a known population "
        "and the dataset has no operations; import a population table "
        "(import --population FILE, or --population-column for a column of the "
        "boundary file) or weekly operations (import --operations FILE)",
        "unknown",
        n,
    )


def known_demand(
    weights: Any, demand_unit: str = "inhabitants"
) -> tuple[np.ndarray, np.ndarray]:
    """The demand the run plans for, and the communes left out because it is unknown.

    Communes whose demand is NaN (unknown population) get no weight: they count
    neither in the objective nor in the KPIs, and the run lists them. Refuses a
    demand that is unknown everywhere or zero everywhere, rather than solve a
    plan for nobody.

    Returns
    -------
    weights : ndarray
        ``weights`` with 0 where unknown.
    unknown : ndarray of bool
        The communes left out.

    Raises
    ------
    NoDemandError
        Every commune unknown (``reason`` "unknown") or every known one zero
        (``reason`` "zero").

    Examples
    --------
    >>> w, unknown = known_demand([4.0, float("nan"), 1.0])
    >>> w.tolist(), unknown.tolist()
    ([4.0, 0.0, 1.0], [False, True, False])
    >>> known_demand([float("nan")] * 2)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    optimization.scenario.NoDemandError: no demand to plan for: none of the 2 ...
    """
    w = np.asarray(weights, dtype=float)
    unknown = np.isnan(w)
    if unknown.all():
        raise _no_demand(len(w))
    w = np.where(unknown, 0.0, w)
    if not w.sum() > 0:
        raise NoDemandError(
            f"the demand ({demand_unit}) is zero in every commune: nothing to plan; "
            "check the demand source, the period and the document types",
            "zero",
            len(w),
        )
    return w, unknown


#: Columns of the site table and their dtypes, kept when a side is empty (a
#: country without centers yet), so ``locked | ...`` stays a boolean operation.
_SITE_DTYPES = {
    "site_id": object,
    "name": object,
    "lon": float,
    "lat": float,
    "capacity": float,
    "staff": float,
    "opening_cost": float,
    "existing": bool,
    "locked": bool,
}


def _typed_sites(columns: dict[str, Any], n: int) -> pd.DataFrame:
    """A site table of ``n`` rows with the dtypes of :data:`_SITE_DTYPES`."""
    return pd.DataFrame(columns, index=pd.RangeIndex(n)).astype(_SITE_DTYPES)


def _site_frame(network: NetworkInputs, spec: ScenarioSpec) -> pd.DataFrame:
    status = [str(s).lower() for s in network.center_status]
    active = np.array([s not in ("closed", "inactive") for s in status], dtype=bool)
    centers = _typed_sites(
        {
            "site_id": [str(x) for x in network.center_ids],
            "name": list(network.center_names),
            "lon": np.asarray(network.center_lon, float),
            "lat": np.asarray(network.center_lat, float),
            "capacity": np.asarray(network.center_capacity, float),
            "staff": np.asarray(network.center_staff, float),
            "opening_cost": 0.0,
            "existing": True,
            "locked": [s == "locked" for s in status],
        },
        len(status),
    )[active]
    frames = [centers]
    if spec.sites.get("use_candidates", True) and len(network.candidate_ids):
        frames.append(
            _typed_sites(
                {
                    "site_id": [str(x) for x in network.candidate_ids],
                    "name": list(network.candidate_names),
                    "lon": np.asarray(network.candidate_lon, float),
                    "lat": np.asarray(network.candidate_lat, float),
                    "capacity": np.asarray(network.candidate_capacity, float),
                    "staff": 0.0,
                    "opening_cost": np.asarray(network.candidate_opening_cost, float),
                    "existing": False,
                    "locked": False,
                },
                len(network.candidate_ids),
            )
        )
    # an empty side would make pandas guess the dtypes of the concatenation
    frames = [f for f in frames if len(f)] or [centers]
    sites = pd.concat(frames, ignore_index=True).astype(_SITE_DTYPES)
    if sites.empty:
        raise ScenarioRefusedError(
            "no_sites",
            "the network has no active center and no candidate site: add candidate "
            "sites (a file, or clicks on the map of the scenario screen) to plan "
            "where to open centers",
        )
    known = set(sites["site_id"])
    for key in ("locked", "forbidden"):
        unknown = [s for s in spec.sites.get(key, []) if s not in known]
        if unknown:
            raise ScenarioError(f"'sites.{key}' names unknown sites {unknown}")
    sites["locked"] |= sites["site_id"].isin(spec.sites.get("locked", []))
    if not spec.sites.get("closable", True):
        sites["locked"] |= sites["existing"]
    sites["forbidden"] = sites["site_id"].isin(spec.sites.get("forbidden", []))
    _refuse_locked_and_forbidden(sites, bool(spec.sites.get("closable", True)))
    cc = spec.sites.get("closing_cost", 0.0)
    if isinstance(cc, dict):
        sites["closing_cost"] = sites["site_id"].map(lambda s: float(cc.get(s, 0.0)))
    else:
        sites["closing_cost"] = float(cc)
    return sites


#: How many site names a refusal quotes.
QUOTED_SITES = 5


def _site_names(sites: pd.DataFrame) -> str:
    """The first :data:`QUOTED_SITES` names of ``sites`` (their id when unnamed),
    with the count of the others."""
    names = [
        str(name) if isinstance(name, str) and name.strip() else str(site)
        for site, name in zip(sites["site_id"], sites["name"], strict=True)
    ]
    more = len(names) - QUOTED_SITES
    return ", ".join(names[:QUOTED_SITES]) + (f" (+{more})" if more > 0 else "")


def _refuse_locked_and_forbidden(sites: pd.DataFrame, closable: bool) -> None:
    """A site can't be both locked open and forbidden: say which, by name.

    Most often an existing center marked for closure while closures are not
    allowed (every existing center is then locked): the refusal says to allow
    closures (code ``closure_not_allowed``, ``closures_not_allowed`` for several).
    """
    both = sites[sites["locked"] & sites["forbidden"]]
    if both.empty:
        return
    unclosable = both[both["existing"]] if not closable else both.iloc[0:0]
    if len(unclosable):
        names = _site_names(unclosable)
        code = "closure_not_allowed" if len(unclosable) == 1 else "closures_not_allowed"
        raise ScenarioRefusedError(
            code,
            f"{names}: marked for closure, but closures are not allowed "
            "(sites.closable is false): allow closures or keep the center open",
            names=names,
            n=len(unclosable),
        )
    names = _site_names(both)
    raise ScenarioRefusedError(
        "locked_and_forbidden",
        f"{names}: both locked open and forbidden (or marked for closure); keep "
        "one of the two",
        names=names,
        n=len(both),
    )


def _site_table(sites: pd.DataFrame, *args) -> pd.DataFrame:
    """:func:`optimization.results.center_table` of the sites, with their position."""
    table = center_table(sites["site_id"], sites["name"], *args)
    table.insert(2, "lon", sites["lon"].to_numpy())
    table.insert(3, "lat", sites["lat"].to_numpy())
    return table


def _cost_matrix(
    spec: ScenarioSpec, network: NetworkInputs, sites: pd.DataFrame
) -> np.ndarray:
    dist = spec.distance
    if dist["kind"] == "great_circle":
        return distance_matrix_km(network.lon, network.lat, sites["lon"], sites["lat"])
    if dist["kind"] == "travel_time":
        return _travel_minutes(dist, network, sites)
    path = Path(dist["matrix_csv"])
    if not path.is_absolute() and spec.base_dir is not None:
        path = spec.base_dir / path
    if not path.is_file():
        raise ScenarioError(f"cost matrix CSV {path} does not exist")
    try:
        return load_cost_matrix_csv(
            path,
            [str(x) for x in network.commune_ids],
            list(sites["site_id"]),
            missing=dist["missing"],
        )
    except ValueError as exc:
        raise ScenarioError(str(exc)) from exc


def _travel_minutes(
    dist: dict[str, Any], network: NetworkInputs, sites: pd.DataFrame
) -> np.ndarray:
    """Commune x site minutes on the roads, for the scenario's sites."""
    times = None
    if network.travel_times is not None:
        times = network.travel_times(
            dist["mode"], dist["season"], dist.get("cutoff_min")
        )
    if times is None:
        raise ScenarioError(
            "'distance.kind' = 'travel_time' needs a road network: the dataset has "
            "none; import one (python -m dashapp roads import FILE) or use "
            "'great_circle'"
        )
    ids = network.site_ids
    column = {site: j for j, site in enumerate(ids)}
    return np.asarray(times, dtype=float)[:, [column[s] for s in sites["site_id"]]]


def _unreachable(
    spec: ScenarioSpec, network: NetworkInputs, D: np.ndarray, weights: np.ndarray
) -> np.ndarray:
    """Communes with demand that reach no site on the roads (travel time only)."""
    if spec.distance.get("kind") != "travel_time":
        return np.zeros(len(weights), dtype=bool)
    stranded = ~np.isfinite(D).any(axis=1) & (weights > 0)
    if stranded.any() and stranded.sum() == (weights > 0).sum():
        dist = spec.distance
        raise ScenarioRefusedError(
            "no_commune_reaches_a_site",
            f"no commune reaches any site on the roads ({dist['mode']}, "
            f"{dist['season']} season) within the cut-off: check the road network "
            "and its speed profile",
            mode=dist["mode"],
            season=dist["season"],
        )
    return stranded


@contextlib.contextmanager
def _scenario_errors() -> Iterator[None]:
    """Model errors as ScenarioError: infeasibility in the planner's words,
    bad input named."""
    try:
        yield
    except InfeasibleError as exc:
        raise ScenarioError(str(exc)) from exc
    except (TypeError, ValueError) as exc:
        raise ScenarioError(f"invalid scenario input: {exc}") from exc


def _solve_all_stages(model: Any, **solver_kw: Any) -> Any:
    """``model.solve(**solver_kw)``, its report's seconds then counting every
    stage (heuristics, bounds, exact rounds), not only the last solver call:
    ``build_seconds + solve_seconds`` is the whole solve."""
    t0 = time.perf_counter()
    model.solve(**solver_kw)
    report = getattr(model, "report", None)
    if report is not None:
        whole = time.perf_counter() - t0 - report.build_seconds
        report.solve_seconds = max(report.solve_seconds, whole)
    return model


def _solved_report(model: Any, time_limit: float | None) -> SolveReport:
    """The model's report, or a ScenarioError when it has no solution."""
    report = model.report
    if report.status not in (OPTIMAL, FEASIBLE):
        raise ScenarioRefusedError(
            "no_solution_in_time",
            f"no solution found (status {report.status}) within the time limit of "
            f"{time_limit} s; raise solver.time_limit or simplify the scenario",
            status=str(report.status),
            seconds=time_limit,
        )
    return report


def _site_rules(
    spec: ScenarioSpec, sites: pd.DataFrame, capacitated: bool
) -> SiteRules:
    """The site rules the scenario's model takes, from the site table.

    A cover (LSCP) takes no costs, counts or budget; capacities go to the
    models that impose them (p-median, MCLP, p-center) when asked for, modules
    to the p-median alone.
    """
    model = spec.model
    rules: dict[str, Any] = {
        "existing": sites["existing"].to_numpy(),
        "locked": sites["locked"].to_numpy(),
        "forbidden": sites["forbidden"].to_numpy(),
    }
    if model != "lscp":
        rules.update(
            opening_cost=sites["opening_cost"].to_numpy(),
            closing_cost=sites["closing_cost"].to_numpy(),
            max_new=spec.sites.get("max_new"),
            budget=spec.sites.get("budget"),
        )
    if capacitated and model in CAPACITY_MODELS:
        rules["capacities"] = sites["capacity"].to_numpy()
    if model == "pmedian":
        mod = spec.parameters.get("modules") or {}
        rules.update(
            module_size=mod.get("size"),
            module_cost=mod.get("cost"),
            max_modules=mod.get("max"),
        )
    return SiteRules.build(len(sites), **rules)


def _equity_rule(spec: ScenarioSpec, network: NetworkInputs) -> EquityRule | None:
    """The scenario's equity rule over departments or regions, or None."""
    if spec.equity is None:
        return None
    level = spec.equity["level"]
    groups = network.department_ids if level == "department" else network.region_ids
    return EquityRule.build(
        [str(g) for g in groups],
        len(network.commune_ids),
        spec.equity["radius"],
        spec.equity["min_share"],
    )


#: Models whose objective is maximised (their progress and gap count upwards).
MAXIMISING = ("mclp", "attendance")


def scenario_progress(spec: ScenarioSpec) -> SolveProgress:
    """A :class:`SolveProgress` in the direction of the scenario's objective."""
    return SolveProgress(maximize=spec.model in MAXIMISING)


def run_scenario(
    spec: ScenarioSpec,
    network: NetworkInputs,
    demand: Any = None,
    cost_matrix: Any = None,
    aggregate_threshold: int | None = None,
    progress: SolveProgress | None = None,
) -> ScenarioResult:
    """Run a scenario on a network.

    Parameters
    ----------
    spec : ScenarioSpec
        From :func:`load_spec`.
    network : NetworkInputs
        Communes, existing centers and candidate sites.
    demand : array-like, optional
        Demand vector (e.g. a forecast from elsewhere), one value per commune;
        overrides ``spec.demand``'s source.
    cost_matrix : array-like, optional
        Precomputed commune x site costs in the order of the active centers
        then candidate sites; overrides ``spec.distance``.
    aggregate_threshold : int, optional
        Communes x sites above which a qualifying p-median is solved on
        aggregated demand (default :data:`AGGREGATE_THRESHOLD`).
    progress : SolveProgress, optional
        Follows the best plan and the proven bound during the solve, for a
        display in another thread (not followed on aggregated demand).

    Returns
    -------
    ScenarioResult

    Raises
    ------
    ScenarioError
        Bad inputs, infeasible plan (with the planner-readable reasons), or
        no solution within the time limit.
    """
    sites = _site_frame(network, spec)
    raw, demand_unit = scenario_demand(spec, network, demand)
    weights, unknown = known_demand(raw, demand_unit)
    notes = input_notes(spec, network, sites, demand, unknown)
    max_points = _aggregation_points(
        spec, len(weights), len(sites), cost_matrix, aggregate_threshold
    )
    if max_points is not None:
        result = _run_pmedian_aggregated(
            spec, network, sites, weights, demand_unit, max_points
        )
        return _finish(result, notes, unknown)
    D = (
        _cost_matrix(spec, network, sites)
        if cost_matrix is None
        else np.asarray(cost_matrix, dtype=float)
    )
    if D.shape != (len(weights), len(sites)):
        raise ScenarioError(
            f"cost matrix has shape {D.shape}, expected {(len(weights), len(sites))}"
        )
    stranded = _unreachable(spec, network, D, weights)
    if stranded.any():
        # left out like an unknown demand: no weight, "n.d." in the tables
        weights = np.where(stranded, 0.0, weights)
        unknown = np.asarray(unknown, dtype=bool) | stranded
        names = [str(network.commune_ids[i]) for i in np.flatnonzero(stranded)]
        notes.append(
            f"{len(names)} of {len(weights)} communes reach no site on the roads "
            f"({spec.distance['mode']}, {spec.distance['season']} season) within the "
            f"cut-off (e.g. {names[:3]}): left out of the demand; they need a road "
            "or a site nearer"
        )
    solver_kw = {
        "solver": spec.solver.get("name", "highs"),
        "time_limit": spec.solver.get("time_limit"),
        "gap_rel": spec.solver.get("gap"),
        "progress": progress,
    }
    if spec.model == "reallocation":
        result = _run_reallocation(spec, network, sites, weights, D, solver_kw)
    else:
        model = _solve_location_model(
            spec, network, sites, weights, D, demand_unit, solver_kw
        )
        result = _location_result(spec, network, sites, weights, D, demand_unit, model)
    if spec.distance.get("kind") == "travel_time":
        result.summary["travel_time"] = _travel_summary(spec, network, result)
    return _finish(result, notes, unknown)


def _travel_summary(
    spec: ScenarioSpec, network: NetworkInputs, result: ScenarioResult
) -> dict[str, Any]:
    """The measure used and the access indicators in minutes, before and after."""
    table = result.assignments
    population = np.asarray(network.population, dtype=float)
    out: dict[str, Any] = {
        key: spec.distance.get(key) for key in ("mode", "season", "cutoff_min")
    }
    for when, column in (("before", "distance_before"), ("after", "distance")):
        if column in table.columns:
            minutes = table[column].astype(float).fillna(np.inf).to_numpy()
            out[when] = access_kpis(minutes, population)
    return out


def _solve_location_model(
    spec: ScenarioSpec,
    network: NetworkInputs,
    sites: pd.DataFrame,
    weights: np.ndarray,
    D: np.ndarray,
    demand_unit: str,
    solver_kw: dict[str, Any],
) -> Any:
    """Build the scenario's p-median, MCLP, LSCP or p-center and solve it.

    Raises ScenarioError on a refused input, an infeasible plan (in the
    planner's words) or no solution within the time limit.
    """
    par = spec.parameters
    capacitated = bool(par.get("capacitated", False))
    if capacitated and demand_unit != "requests/week":
        raise ScenarioError(
            "capacities are in requests/week: use demand.source 'requests' or give "
            "demand.requests_per_capita for a capacitated model"
        )
    if capacitated:
        _require_capacities(
            sites[~sites["forbidden"]], "a capacitated model", "capacities_missing"
        )
    unit = spec.distance.get("unit", "km")
    labels = Labels(list(network.commune_names), list(sites["name"]), unit, demand_unit)
    with _scenario_errors():
        rules = _site_rules(spec, sites, capacitated)
        equity = _equity_rule(spec, network)
        if spec.model == "pmedian":
            model = PMedian(
                D,
                weights,
                par.get("p"),
                rules,
                equity=equity,
                max_distance=par.get("max_distance"),
                split=bool(par.get("split", False)),
                cost_weight=par.get("cost_weight", 0.0),
                labels=labels,
            )
        elif spec.model == "mclp":
            model = MCLP(
                D,
                weights,
                par["service_radius"],
                par["p"],
                rules,
                equity=equity,
                max_distance=par.get("max_distance"),
                split=bool(par.get("split", False)),
                labels=labels,
            )
        elif spec.model == "lscp":
            model = LSCP(D, par["service_radius"], weights, rules, labels=labels)
        elif spec.model == "attendance":
            model = Attendance(
                D,
                weights,
                par["p"],
                rules,
                decay=Decay.from_dict(par["decay"]),
                equity=equity,
                max_distance=par.get("max_distance"),
                labels=labels,
            )
        else:
            model = PCenter(
                D,
                weights,
                par["p"],
                rules,
                max_distance=par.get("max_distance"),
                labels=labels,
                split=bool(par.get("split", False)),
            )
        _solve_all_stages(model, **solver_kw)
    _solved_report(model, solver_kw["time_limit"])
    return model


def _location_result(
    spec: ScenarioSpec,
    network: NetworkInputs,
    sites: pd.DataFrame,
    weights: np.ndarray,
    D: np.ndarray,
    demand_unit: str,
    model: Any,
) -> ScenarioResult:
    """Tables, KPIs before and after, and the map of a solved location model."""
    report = model.report
    existing = sites["existing"].to_numpy()
    capacities = sites["capacity"].to_numpy()
    open_mask = np.zeros(len(sites), bool)
    open_mask[model.open_sites] = True
    radius = spec.report_radius
    before_assign = _nearest(D, existing)
    modules = model.modules
    cap_after = capacities.copy()
    if modules is not None and model.rules.module_size is not None:
        cap_after = cap_after + model.rules.module_size * modules
    change_cost = model.rules.change_cost(open_mask, modules)
    allocation = model.allocation
    # Overload only means something when demand is in the capacities' unit.
    comparable = demand_unit == "requests/week"
    population = _population(network)
    kpi_before = network_kpis(
        D,
        weights,
        existing,
        before_assign,
        capacities if comparable else None,
        radius,
        0.0,
        population=population,
    )
    kpi_after = network_kpis(
        D,
        weights,
        open_mask,
        model.assignment,
        cap_after if comparable else None,
        radius,
        change_cost,
        allocation,
        population=population,
    )
    centers = _site_table(
        sites,
        existing,
        open_mask,
        weights,
        model.assignment,
        cap_after,
        allocation,
    )
    if modules is not None:
        centers["modules_added"] = modules
    communes = commune_table(
        network.commune_ids,
        network.commune_names,
        weights,
        D,
        model.assignment,
        sites["site_id"],
        before_assign,
        population,
    )
    unit = spec.distance.get("unit", "km")
    summary = _summary(spec, report, demand_unit, unit, kpi_before, kpi_after, centers)
    # what the model imposed, not what was asked (a model refuses what it cannot)
    summary["kpis"]["capacitated"] = model.rules.capacities is not None
    if spec.model == "mclp":
        summary["covered_demand"] = report.objective
    if spec.model == "attendance":
        summary["attendance"] = attendance_kpis(model, existing)
    geo = _geojson(network, sites, centers, communes)
    return ScenarioResult(spec, report, summary, centers, communes, geo, model)


def attendance_kpis(model: Attendance, existing: np.ndarray) -> dict[str, Any]:
    """Attended demand against the potential, today and with the plan.

    ``potential`` is the demand if every commune had a center at distance 0;
    ``attended`` what comes through the decay, each commune to its nearest
    open center; ``share`` their ratio (None without demand).
    """
    potential = model.potential
    out: dict[str, Any] = {"potential": potential, "decay": model.decay.to_dict()}
    for when, mask in (("before", existing), ("after", None)):
        attended = float(
            (model.attended if mask is None else model.attended_demand(mask)).sum()
        )
        out[when] = {
            "attended": attended,
            "share": attended / potential if potential > 0 else None,
        }
    return out


def _population(network: NetworkInputs) -> np.ndarray | None:
    """Inhabitants of each commune (NaN unknown), or None when the network has none."""
    population = getattr(network, "population", None)
    if population is None or len(population) != len(network.commune_ids):
        return None
    return np.asarray(population, dtype=float)


def input_notes(
    spec: ScenarioSpec,
    network: NetworkInputs,
    sites: pd.DataFrame,
    demand: Any = None,
    unknown_demand: Any = None,
) -> list[str]:
    """What a run assumes in place of missing data, said in its summary.

    ``unknown_demand`` marks the communes left out of the demand
    (:func:`known_demand`).

    Examples
    --------
    >>> spec = load_spec({"model": "pmedian", "demand": {"source": "requests"}})
    >>> net = NetworkInputs(["c"], ["C"], ["d"], ["D"], ["r"], ["R"], [10], [0.0],
    ...                     [0.0], ["s"], ["S"], [0.0], [0.0], [float("nan")], [1],
    ...                     ["open"], requests=[2.0], requests_source="estimated")
    >>> for note in input_notes(spec, net, _site_frame(net, spec)):
    ...     print(note)
    no operations in the dataset: requests/week are the estimates made from population at import
    1 site(s) without a known capacity (e.g. ['s']): counted as unlimited, never overloaded, no utilisation
    """
    notes = []
    dem = spec.demand
    if (
        demand is None
        and "forecast" not in dem
        and dem["source"] == "requests"
        and network.requests_source == "estimated"
    ):
        notes.append(
            "no operations in the dataset: requests/week are the estimates made "
            "from population at import"
        )
    left_out = _left_out(network, unknown_demand)
    if left_out:
        notes.append(
            f"{len(left_out)} of {len(network.commune_ids)} communes have no known "
            f"population (e.g. {left_out[:3]}): left out of the demand, counted "
            "neither in the objective nor in the KPIs; their demand is empty in the "
            "communes table; import their population to plan for them"
        )
    unknown = sites.loc[sites["capacity"].isna(), "site_id"].tolist()
    if unknown:
        notes.append(
            f"{len(unknown)} site(s) without a known capacity (e.g. {unknown[:3]}): "
            "counted as unlimited, never overloaded, no utilisation"
        )
    return notes


def _left_out(network: NetworkInputs, unknown: Any) -> list[str]:
    """Ids of the communes whose demand is unknown."""
    if unknown is None:
        return []
    rows = np.flatnonzero(np.asarray(unknown, dtype=bool))
    return [str(network.commune_ids[i]) for i in rows]


def _finish(
    result: ScenarioResult, notes: list[str], unknown: np.ndarray
) -> ScenarioResult:
    """Notes in the summary; communes with unknown demand marked, not shown as 0.

    Their demand is NaN in the communes table (empty in CSV, "n.d." on screen)
    and ``summary["demand"]`` counts them.
    """
    result.summary["notes"] = list(notes)
    table = result.assignments  # one row per commune, in the network's order
    table["demand"] = table["demand"].astype(float).mask(np.asarray(unknown, bool))
    left_out = table.loc[np.asarray(unknown, bool), "commune_id"].astype(str).tolist()
    result.summary["demand"] = {
        "communes": len(table),
        "unknown_communes": len(left_out),
        "unknown_examples": left_out[:5],
    }
    gone = set(left_out)
    for feature in result.geojson.get("features", []):
        props = feature["properties"]
        if props.get("kind") == "commune" and str(props.get("commune_id")) in gone:
            props["demand"] = None
    return result


def _require_capacities(sites: pd.DataFrame, what: str, code: str) -> None:
    """Refuse ``what`` when a site it may use has no known capacity (``code``:
    the refusal's reason code)."""
    missing = sites[sites["capacity"].isna()]
    if len(missing):
        unknown = missing["site_id"].tolist()
        raise ScenarioRefusedError(
            code,
            f"{what} needs every site's capacity; {len(unknown)} site(s) have none "
            f"(e.g. {unknown[:3]}): import a capacity column or forbid them",
            n=len(unknown),
            names=_site_names(missing),
        )


def _nearest(D: np.ndarray, open_mask: np.ndarray) -> np.ndarray:
    if not open_mask.any():
        return np.full(D.shape[0], -1)
    Dm = np.where(open_mask[None, :], D, np.inf)
    j = Dm.argmin(axis=1)
    j[~np.isfinite(Dm[np.arange(D.shape[0]), j])] = -1
    return j


def _aggregation_points(
    spec: ScenarioSpec,
    n: int,
    m: int,
    cost_matrix: Any,
    threshold: int | None,
) -> int | None:
    """How many aggregated demand points to solve on, or None for no aggregation."""
    agg = spec.aggregate
    if agg is not None and not agg["enabled"]:
        return None
    if agg is not None:
        if cost_matrix is not None:
            raise ScenarioError(
                "'aggregate' cannot be used with a precomputed cost matrix: "
                "its gap could not be proven"
            )
        return int(agg["max_points"])
    limit = AGGREGATE_THRESHOLD if threshold is None else threshold
    if n * m <= limit or cost_matrix is not None:
        return None
    blocker = aggregation_blocker(
        spec.model, spec.parameters, spec.distance, spec.equity
    )
    return AGGREGATE_POINTS if blocker is None else None


def _kpis_nearest(
    weights: np.ndarray,
    dist: np.ndarray,
    open_mask: np.ndarray,
    assignment: np.ndarray,
    capacities: np.ndarray | None,
    radius: float | None,
    cost: float,
    population: np.ndarray | None = None,
) -> dict[str, Any]:
    """:func:`network_kpis` when every commune uses its nearest open site.

    Works from the distances to that site alone, so no dense matrix is needed.
    """
    ok = assignment >= 0
    out = network_kpis(
        dist[:, None],
        weights,
        np.array([True]),
        np.where(ok, 0, -1),
        None,
        radius,
        cost,
        population=population,
    )
    out["open_centers"] = int(open_mask.sum())
    if population is not None:
        people = float(np.nansum(population))
        out["centers_per_100k"] = (
            out["open_centers"] * 1e5 / people if people > 0 else np.nan
        )
    if capacities is not None:
        load = np.bincount(
            assignment[ok], weights=weights[ok], minlength=len(open_mask)
        )
        over = excess_load(load, capacities, open_mask)
        out["overloaded_centers"] = int((over > 1e-9).sum())
        out["unmet_demand"] = float(over.sum() + weights[~ok].sum())
    return out


def _nearest_open(
    lon: np.ndarray, lat: np.ndarray, sites: pd.DataFrame, open_mask: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    idx = np.flatnonzero(open_mask)
    if idx.size == 0:
        return np.full(lon.size, -1), np.full(lon.size, np.nan)
    j, dist = nearest_km(
        lon, lat, sites["lon"].to_numpy()[idx], sites["lat"].to_numpy()[idx]
    )
    return idx[j], dist


def _run_pmedian_aggregated(
    spec: ScenarioSpec,
    network: NetworkInputs,
    sites: pd.DataFrame,
    weights: np.ndarray,
    demand_unit: str,
    max_points: int,
) -> ScenarioResult:
    """Solve on aggregated demand, evaluate on every commune, report a proven gap."""
    par = spec.parameters
    t0 = time.perf_counter()
    lon = np.asarray(network.lon, float)
    lat = np.asarray(network.lat, float)
    try:
        alon, alat, aw, mapping = aggregate_points(
            lon, lat, weights, max_points, groups=network.department_ids
        )
    except ValueError as exc:
        raise ScenarioError(f"cannot aggregate the demand: {exc}") from exc
    error_bound = aggregation_error(lon, lat, weights, alon, alat, mapping)
    D = distance_matrix_km(alon, alat, sites["lon"], sites["lat"])
    agg_seconds = time.perf_counter() - t0
    existing = sites["existing"].to_numpy()
    capacities = sites["capacity"].to_numpy()
    gap_rel = spec.solver.get("gap")
    with _scenario_errors():
        model = PMedian(
            D,
            aw,
            par.get("p"),
            _site_rules(spec, sites, capacitated=False),
            cost_weight=par.get("cost_weight", 0.0),
            labels=Labels(
                site_names=list(sites["name"]),
                unit=spec.distance.get("unit", "km"),
                demand_unit=demand_unit,
            ),
        )
        _solve_all_stages(
            model,
            solver=spec.solver.get("name", "highs"),
            time_limit=spec.solver.get("time_limit"),
            gap_rel=gap_rel,
        )
    agg_report = _solved_report(model, spec.solver.get("time_limit"))
    t1 = time.perf_counter()
    open_mask = np.zeros(len(sites), bool)
    open_mask[model.open_sites] = True
    assignment, dist = _nearest_open(lon, lat, sites, open_mask)
    change_cost = model.rules.change_cost(open_mask, None)
    objective = float(weights @ dist) + model.cost_weight * change_cost
    # Triangle inequality: for any open set the true and aggregated objectives
    # differ by at most error_bound, so this bound holds for the true optimum.
    bound = None if agg_report.bound is None else agg_report.bound - error_bound
    details: dict[str, Any] = {"aggregation_bound": bound}
    bound_seconds = 0.0
    if par.get("p") is not None and np.isfinite(dist).all():
        # A Lagrangian bound on every commune (sparse, nearest sites only) is
        # usually far tighter than the aggregation bound; both are valid.
        limit = spec.solver.get("time_limit")
        lag = sparse_lagrangian_bound(
            lon,
            lat,
            weights,
            sites["lon"],
            sites["lat"],
            int(par["p"]),
            float(weights @ dist),
            weights * dist,
            locked=sites["locked"].to_numpy(),
            allowed=~sites["forbidden"].to_numpy(),
            time_budget=20.0 if limit is None else min(60.0, max(1.0, limit / 4)),
        )
        details["lagrangian_bound"] = lag["bound"]
        details["lagrangian_seconds"] = round(lag["seconds"], 4)
        bound_seconds = lag["seconds"]
        if bound is None or lag["bound"] > bound:
            bound = lag["bound"]
    gap = None if bound is None else relative_gap(objective, bound)
    tol = DEFAULT_GAP if gap_rel is None else gap_rel
    status = OPTIMAL if gap is not None and gap <= tol + 1e-12 else FEASIBLE
    report = SolveReport(
        status=status,
        objective=objective,
        bound=bound,
        gap=gap,
        build_seconds=agg_report.build_seconds + agg_seconds,
        solve_seconds=agg_report.solve_seconds + bound_seconds,
        solver=agg_report.solver,
        message=(
            f"solved on {len(aw)} aggregated demand points, evaluated on every "
            "commune; bound = max(aggregated bound - error bound "
            f"{error_bound:.6g}, Lagrangian bound on every commune)"
        ),
        details={
            "aggregated_objective": agg_report.objective,
            "aggregated_bound": agg_report.bound,
            "aggregated_gap": agg_report.gap,
            "aggregate_seconds": round(agg_seconds, 4),
            **details,
        },
    )
    before_assign, before_dist = _nearest_open(lon, lat, sites, existing)
    comparable = demand_unit == "requests/week"
    caps = capacities if comparable else None
    radius = spec.report_radius
    population = _population(network)
    kpi_before = _kpis_nearest(
        weights, before_dist, existing, before_assign, caps, radius, 0.0, population
    )
    kpi_after = _kpis_nearest(
        weights, dist, open_mask, assignment, caps, radius, change_cost, population
    )
    centers = _site_table(
        sites,
        existing,
        open_mask,
        weights,
        assignment,
        capacities,
    )
    site_ids = sites["site_id"].to_numpy(dtype=object)
    communes = pd.DataFrame(
        {
            "commune_id": list(network.commune_ids),
            "name": list(network.commune_names),
            "demand": weights,
            "population": np.nan if population is None else population,
            "site_id": np.where(
                assignment >= 0, site_ids[np.maximum(assignment, 0)], None
            ),
            "distance": dist,
            "site_id_before": np.where(
                before_assign >= 0, site_ids[np.maximum(before_assign, 0)], None
            ),
            "distance_before": before_dist,
        }
    )
    summary = _summary(
        spec,
        report,
        demand_unit,
        spec.distance.get("unit", "km"),
        kpi_before,
        kpi_after,
        centers,
    )
    summary["kpis"]["capacitated"] = False
    summary["aggregation"] = {
        "points": int(len(aw)),
        "communes": int(len(weights)),
        "error_bound": error_bound,
        "evaluate_seconds": round(time.perf_counter() - t1, 4),
    }
    geo = _geojson(network, sites, centers, communes)
    return ScenarioResult(spec, report, summary, centers, communes, geo, model)


def _summary(
    spec: ScenarioSpec,
    report: SolveReport,
    demand_unit: str,
    unit: str,
    before: dict[str, Any],
    after: dict[str, Any],
    centers: pd.DataFrame,
) -> dict[str, Any]:
    counts = centers["status"].value_counts().to_dict()
    return {
        "scenario": spec.to_dict(),
        "solve": report.to_dict(),
        "units": {"distance": unit, "demand": demand_unit},
        "changes": {k: int(counts.get(k, 0)) for k in ("kept", "closed", "opened")},
        "kpis": {"before": before, "after": after},
    }


def _run_reallocation(
    spec: ScenarioSpec,
    network: NetworkInputs,
    sites: pd.DataFrame,
    weights: np.ndarray,
    D: np.ndarray,
    solver_kw: dict[str, Any],
) -> ScenarioResult:
    existing = sites["existing"].to_numpy()
    if not existing.any():
        raise ScenarioRefusedError(
            "reallocation_without_centers", "reallocation needs existing centers"
        )
    _require_capacities(
        sites[existing], "reallocation", "reallocation_capacities_missing"
    )
    idx = np.flatnonzero(existing)
    Dc = D[:, idx]
    assign_local = _nearest(Dc, np.ones(idx.size, bool))
    ok = assign_local >= 0
    loads = np.bincount(assign_local[ok], weights=weights[ok], minlength=idx.size)
    ra = spec.reallocation
    with _scenario_errors():
        realloc = CapacityReallocation.from_loads(
            loads,
            sites["capacity"].to_numpy()[idx],
            sites["staff"].to_numpy()[idx],
            objective=ra["objective"],
            total_staff=ra.get("total_staff"),
            budget=ra.get("budget"),
            staff_cost=ra.get("staff_cost"),
            min_staff=ra.get("min_staff", 1),
            names=list(sites["name"].iloc[idx]),
        )
        model = _solve_all_stages(realloc, **solver_kw)
    report = _solved_report(model, solver_kw.get("time_limit"))
    assignment = np.where(ok, idx[np.maximum(assign_local, 0)], -1)
    open_mask = existing.copy()
    cap_before = sites["capacity"].to_numpy().copy()
    cap_after = cap_before.copy()
    cap_after[idx] = model.capacity_after
    centers = _site_table(
        sites,
        existing,
        open_mask,
        weights,
        assignment,
        cap_after,
    )
    centers = centers[existing].reset_index(drop=True)
    centers["staff_before"] = sites["staff"].to_numpy()[idx].astype(int)
    centers["staff_after"] = model.staff_after
    centers["capacity_before"] = cap_before[idx]
    radius = spec.report_radius
    people = {"population": _population(network)}
    kpi_before = network_kpis(
        D, weights, open_mask, assignment, cap_before, radius, **people
    )
    kpi_after = network_kpis(
        D, weights, open_mask, assignment, cap_after, radius, **people
    )
    communes = commune_table(
        network.commune_ids,
        network.commune_names,
        weights,
        D,
        assignment,
        sites["site_id"],
        assignment,
        people["population"],
    )
    summary = _summary(
        spec,
        report,
        "requests/week",
        spec.distance.get("unit", "km"),
        kpi_before,
        kpi_after,
        centers,
    )
    summary["reallocation"] = {
        "objective": ra["objective"],
        "before": model.evaluate(model.staff),
        "after": report.objective,
        "staff_moved": int(np.abs(model.staff_after - model.staff).sum() // 2),
    }
    geo = _geojson(network, sites[existing].reset_index(drop=True), centers, communes)
    return ScenarioResult(spec, report, summary, centers, communes, geo, model)


def _clean(value: Any) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def _geojson(
    network: NetworkInputs,
    sites: pd.DataFrame,
    centers: pd.DataFrame,
    communes: pd.DataFrame,
) -> dict[str, Any]:
    from shapely.geometry import Point, mapping

    features = []
    for row in centers.itertuples(index=False):
        props = {k: _clean(v) for k, v in row._asdict().items()}
        props["kind"] = "site"
        geom = mapping(Point(float(row.lon), float(row.lat)))
        features.append({"type": "Feature", "geometry": geom, "properties": props})
    polys = network.polygons
    lon = np.asarray(network.lon, float)
    lat = np.asarray(network.lat, float)
    for i, row in enumerate(communes.itertuples(index=False)):
        props = {k: _clean(v) for k, v in row._asdict().items()}
        props["kind"] = "commune"
        geom = (
            mapping(polys[i]) if polys is not None else mapping(Point(lon[i], lat[i]))
        )
        features.append({"type": "Feature", "geometry": geom, "properties": props})
    return {"type": "FeatureCollection", "features": features}


def _json_default(value: Any) -> Any:
    cleaned = _clean(value)
    if cleaned is value and not isinstance(value, (int, float, str, bool, type(None))):
        if isinstance(value, Path):
            return str(value)
        if isinstance(value, np.ndarray):
            return value.tolist()
        raise TypeError(f"not JSON serialisable: {type(value)}")
    return cleaned


def write_outputs(result: ScenarioResult, out_dir: str | Path) -> dict[str, Path]:
    """Write ``summary.json``, ``centers.csv``, ``assignments.csv``, ``result.geojson``.

    Returns
    -------
    dict
        File kind -> path written.
    """
    from data.exports import write_csv  # here: it pulls in the store (SQLAlchemy)

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "summary": out / "summary.json",
        "centers": out / "centers.csv",
        "assignments": out / "assignments.csv",
        "geojson": out / "result.geojson",
    }
    paths["summary"].write_text(
        json.dumps(
            _sanitize(result.summary),
            indent=2,
            ensure_ascii=False,
            default=_json_default,
        ),
        encoding="utf-8",
    )
    write_csv(result.centers, paths["centers"])
    write_csv(result.assignments, paths["assignments"])
    paths["geojson"].write_text(
        json.dumps(result.geojson, ensure_ascii=False, default=_json_default),
        encoding="utf-8",
    )
    return paths


def _sanitize(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _sanitize(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_sanitize(v) for v in obj]
    return _clean(obj)
