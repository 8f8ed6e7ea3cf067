"""The scenario workspace: a dataset's network as a planner changes it.

A :class:`Workspace` holds what every what-if of a dataset starts from: the
network, today's demand by commune and document type, and the distances from
each commune to each site. From a :class:`~optimization.whatif.WhatIf` it builds
the :class:`Plan` (the network as set on the map, its demand and distances),
evaluates it against today's network without solving (:meth:`Workspace.evaluate`),
prepares the optimisation (:meth:`Workspace.prepare_run`), reads a saved result
for an area (:meth:`Workspace.result_kpis`) and draws the coverage curve
(:meth:`Workspace.coverage_curve`). Every KPI comes from
:func:`optimization.results.network_kpis`, and, when access is measured as a
travel time on the roads (:attr:`WhatIf.measure`), the access indicators of
:func:`geo.roads.access_kpis` too; every distance is then in minutes, and a
commune that reaches no open site is unserved, never 0 minutes away.

The scenario screen calls it from its callbacks; a notebook or the command line
use it the same way, with a :class:`data.store.Store` and a dataset id.

Examples
--------
>>> from data.demo import generate_demo
>>> from data.store import Store
>>> from geo.access import nearest_center
>>> store = Store("sqlite://"); store.upgrade()
>>> info = store.add_dataset(generate_demo(seed=3, n_communes=60),
...                          kind="synthetic", access=nearest_center)
>>> ws = Workspace.from_store(store, info.id)
>>> closed = WhatIf(sites={ws.site_ids[0]: "closed"})
>>> evaluation = ws.evaluate(closed)
>>> evaluation.before["open_centers"] - evaluation.after["open_centers"]
1
>>> evaluation.after["mean_distance"] >= evaluation.before["mean_distance"]
True
"""

from __future__ import annotations

import dataclasses
import functools
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from data import planning
from data import roads as road_store
from data.kpi import measure_of
from data.store import Store
from geo.distance import distance_matrix_km
from geo.roads import DEFAULT_CUTOFF_MIN, SpeedProfile, access_kpis
from optimization.errors import InfeasibleError, Reason
from optimization.evaluate import assign_with_capacity, evaluate_network
from optimization.inputs import SiteRules
from optimization.network import network_from_store
from optimization.pmedian import PMedian
from optimization.results import network_kpis
from optimization.scenario import (
    NetworkInputs,
    ScenarioError,
    ScenarioResult,
    ScenarioSpec,
    known_demand,
    load_spec,
    run_scenario,
    scenario_progress,
)
from optimization.whatif import (
    NoRoadsError,
    WhatIf,
    added_site_code,
    apply_to_network,
    build_spec,
    demand_vector,
    measure_travel,
    measure_unit,
    open_mask_as_is,
    unknown_requests,
    with_unknown,
)

__all__ = [
    "CURVE_TIME_LIMIT_S",
    "NoRoadsError",
    "record_measure",
    "Area",
    "CoverageCurve",
    "Evaluation",
    "MapView",
    "Plan",
    "Run",
    "Workspace",
]

# each point of the coverage curve is one p-median solve
CURVE_TIME_LIMIT_S = 30.0


@dataclass(frozen=True)
class Area:
    """The communes of an area of the network; ``None`` for the whole country.

    Examples
    --------
    >>> area = Area("D1", frozenset({"C1", "C2"}))
    >>> area.rows(["C1", "C3", "C2"]).tolist()
    [True, False, True]
    >>> Area().rows(["C1", "C3"]).tolist()
    [True, True]
    """

    code: str | None = None
    communes: frozenset[str] | None = None

    @property
    def whole(self) -> bool:
        """The whole country (no area chosen, or an unknown one)."""
        return self.communes is None

    def rows(self, commune_codes: Collection[Any]) -> np.ndarray:
        """Which of ``commune_codes`` lie in the area."""
        if self.communes is None:
            return np.ones(len(commune_codes), dtype=bool)
        return np.array([str(c) in self.communes for c in commune_codes], dtype=bool)


@dataclass(frozen=True, eq=False)
class Plan:
    """The network as a what-if sets it, with its demand and distances.

    Attributes
    ----------
    whatif : WhatIf
    network : NetworkInputs
        Capacity change applied, the planner's added sites among the candidates.
    demand : ndarray
        Weekly demand per commune (growth applied, or the forecast); 0 where it
        is unknown.
    unknown : ndarray of bool or None
        Communes whose demand is unknown (``None``: every one is known).
    cost : ndarray, shape (communes, sites)
        Great-circle km, or minutes on the roads (``inf``: unreachable) for a
        travel-time measure; added sites included.
    site_ids, site_communes : list of str
        Existing centers, candidate sites, then added sites (``NEW-<commune>``),
        and the commune each stands in.
    capacity : ndarray
        Weekly capacity of each site (NaN: unknown, never overloaded).
    n_existing : int
    """

    whatif: WhatIf
    network: NetworkInputs
    demand: np.ndarray
    unknown: np.ndarray | None
    cost: np.ndarray
    site_ids: list[str]
    site_communes: list[str]
    capacity: np.ndarray
    n_existing: int

    @property
    def engine_demand(self) -> np.ndarray:
        """Demand as the engine reads it: NaN where unknown (left out, reported)."""
        return with_unknown(self.demand, self.unknown)

    @property
    def site_lon(self) -> np.ndarray:
        return self.network.site_lon

    @property
    def site_lat(self) -> np.ndarray:
        return self.network.site_lat

    @property
    def site_names(self) -> list[str]:
        return self.network.site_names

    def states(self) -> list[str]:
        """Each site as set: the planner's state, else existing or candidate."""
        return [
            self.whatif.sites.get(code)
            or ("existing" if i < self.n_existing else "candidate")
            for i, code in enumerate(self.site_ids)
        ]

    def assign(self) -> tuple[np.ndarray, np.ndarray]:
        """Assignment and open sites of the network as set, without solving.

        Each commune goes to the nearest open site with room
        (:func:`optimization.evaluate.assign_with_capacity`).
        """
        open_mask = open_mask_as_is(self.site_ids, self.n_existing, self.whatif)
        return (
            assign_with_capacity(self.cost, self.demand, open_mask, self.capacity),
            open_mask,
        )

    @property
    def unit(self) -> str:
        """Unit of :attr:`cost`: ``"km"`` or ``"min"``."""
        return self.whatif.unit

    def kpis(
        self,
        assignment: np.ndarray,
        open_mask: np.ndarray,
        area: Area | None = None,
        population: np.ndarray | None = None,
    ) -> dict[str, Any]:
        """:func:`network_kpis` of this plan for ``area`` (the whole by default);
        with a travel-time measure and ``population``, the access indicators of
        :func:`geo.roads.access_kpis` too (minutes to the nearest open site)."""
        area = area or Area()
        rows = area.rows(self.network.commune_ids)
        out = network_kpis(
            self.cost,
            self.demand,
            open_mask,
            assignment,
            self.capacity,
            self.whatif.radius_km,
            rows=rows,
            site_rows=area.rows(self.site_communes),
            population=population,
        )
        if self.whatif.travel is not None and population is not None:
            out.update(_access(self.cost, open_mask, population, rows))
        return out

    def distances(self, assignment: np.ndarray) -> np.ndarray:
        """Km or minutes from each commune to its site (NaN: no site)."""
        return _distances(self.cost, assignment)


@dataclass(frozen=True, eq=False)
class Evaluation:
    """A what-if evaluated as set, against today's network on the same demand."""

    plan: Plan
    today: Plan
    assignment: np.ndarray
    today_assignment: np.ndarray
    before: dict[str, Any]
    after: dict[str, Any]


@dataclass(frozen=True)
class CoverageCurve:
    """Coverage within the radius (%) and mean distance by centers added, in
    ``unit`` (km, or minutes for a travel-time measure)."""

    added: list[int]
    coverage_pct: list[float]
    mean_distance: list[float]
    unit: str = "km"


@dataclass(frozen=True, eq=False)
class MapView:
    """What the scenario map draws: the sites with their state, each commune's
    distance to its site now and before (in ``unit``: km or min), and the demand
    no site serves (0 where the commune is served)."""

    site_ids: list[str]
    lon: np.ndarray
    lat: np.ndarray
    names: list[str]
    states: list[str]
    distance: np.ndarray
    distance_before: np.ndarray
    unserved: np.ndarray
    unit: str = "km"


@dataclass(frozen=True, eq=False)
class Run:
    """An optimisation ready to solve: the engine's spec, network and demand."""

    whatif: WhatIf
    spec: ScenarioSpec
    network: NetworkInputs
    demand: np.ndarray

    def solve(
        self,
        on_progress: Callable[[dict, float], None] | None = None,
        every: float = 0.5,
    ) -> ScenarioResult:
        """Solve in a worker thread, calling ``on_progress(snapshot, seconds)``
        every ``every`` seconds with the best plan and bound so far
        (:meth:`optimization.solver.SolveProgress.snapshot`).

        Raises what the engine raises (:class:`optimization.scenario.NoDemandError`,
        :class:`optimization.scenario.ScenarioError`, ...).
        """
        progress = scenario_progress(self.spec)
        outcome: dict[str, Any] = {}

        def solve() -> None:
            try:
                outcome["result"] = run_scenario(
                    self.spec, self.network, demand=self.demand, progress=progress
                )
            except BaseException as exc:  # raised again in the caller's thread
                outcome["error"] = exc

        worker = threading.Thread(target=solve, daemon=True)
        started = time.perf_counter()
        worker.start()
        while worker.is_alive():
            if on_progress is not None:
                on_progress(progress.snapshot(), time.perf_counter() - started)
            worker.join(every)
        if "error" in outcome:
            raise outcome["error"]
        return outcome["result"]


@dataclass(frozen=True, eq=False)
class Workspace:
    """What every what-if of a dataset starts from.

    Build it with :meth:`from_store`. The arrays are read, never changed: one
    workspace serves every evaluation of its dataset.

    Attributes
    ----------
    network : NetworkInputs
    demand_by_doc : DataFrame
        Today's mean weekly requests, communes (network order) x document types.
    site_ids : list of str
        Existing centers, then candidate sites.
    site_lon, site_lat : ndarray
    cost : ndarray, shape (communes, sites)
        Great-circle km.
    n_existing : int
    site_communes : list of str
        Code of the commune each site stands in.
    dataset_id : int
    demand_unknown : ndarray of bool, optional
        Communes whose demand is unknown (estimated from an unknown population):
        0 in ``demand_by_doc``, left out of a run.
    commune_keys : ndarray, optional
        Store id of each commune (network order), to read forecasts.
    store : Store, optional
        Where demand over another period, areas, forecasts and the road network
        (travel times) are read.
    """

    network: NetworkInputs
    demand_by_doc: pd.DataFrame
    site_ids: list[str]
    site_lon: np.ndarray
    site_lat: np.ndarray
    cost: np.ndarray
    n_existing: int
    site_communes: list[str]
    dataset_id: int = 0
    demand_unknown: np.ndarray | None = None
    commune_keys: np.ndarray | None = None
    store: Store | None = field(default=None, repr=False)
    # travel minutes per (roads version, profile, mode, season[, added commune])
    _minutes: dict = field(default_factory=dict, repr=False, compare=False)
    _minutes_lock: Any = field(default_factory=threading.Lock, repr=False,
                               compare=False)  # fmt: skip

    @classmethod
    def from_store(cls, store: Store, dataset_id: int) -> Workspace:
        """The workspace of a stored dataset (about a second for the demo)."""
        dataset_id = int(dataset_id)
        network = network_from_store(store, dataset_id, with_polygons=False)
        communes = [str(c) for c in network.commune_ids]
        lon, lat = network.site_lon, network.site_lat
        key_of = {
            code: key for key, code in planning.unit_codes(store, dataset_id).items()
        }
        return cls(
            network=network,
            demand_by_doc=planning.weekly_demand_by_doc(store, dataset_id, communes),
            site_ids=network.site_ids,
            site_lon=lon,
            site_lat=lat,
            cost=distance_matrix_km(network.lon, network.lat, lon, lat),
            n_existing=len(network.center_ids),
            site_communes=planning.site_communes(store, dataset_id),
            dataset_id=dataset_id,
            demand_unknown=unknown_requests(network),
            commune_keys=np.array([key_of.get(c, -1) for c in communes]),
            store=store,
        )

    # -- inputs ---------------------------------------------------------------------
    @functools.cached_property
    def _period_demand(self) -> Callable[[str | None, str | None], pd.DataFrame]:
        read = functools.partial(
            planning.weekly_demand_by_doc,
            self.store,
            self.dataset_id,
            [str(c) for c in self.network.commune_ids],
        )
        return functools.lru_cache(maxsize=16)(read)

    def demand_for_period(
        self, start: str | None = None, end: str | None = None
    ) -> pd.DataFrame:
        """Mean weekly requests by commune and type over a period (ISO dates).

        Today's (the last 52 weeks) when neither end is given.
        """
        if not (start or end) or self.store is None:
            return self.demand_by_doc
        return self._period_demand(start, end)

    def forecast_vector(self, forecast: pd.Series) -> np.ndarray:
        """A forecast by commune store id in the network's order (0 where none),
        as :func:`data.forecast.forecast_demand_by_commune` returns it."""
        by_key = dict(zip(forecast.index, forecast.to_numpy(float), strict=True))
        return np.array([by_key.get(k, 0.0) for k in self.commune_keys], dtype=float)

    def area(self, code: str | None) -> Area:
        """The area of unit ``code`` (any level); the whole country for ``None``
        or a code the dataset does not have."""
        if not code or self.store is None:
            return Area()
        communes = planning.communes_under(self.store, self.dataset_id, code)
        return Area() if communes is None else Area(code, frozenset(communes))

    def names(self) -> dict[str, str]:
        """Name of every site and commune, by code."""
        out = dict(zip(self.site_ids, self.network.site_names, strict=True))
        out.update(
            zip(self.network.commune_ids, self.network.commune_names, strict=True)
        )
        return out

    @property
    def population(self) -> np.ndarray:
        return np.asarray(self.network.population, dtype=float)

    # -- how access is measured ---------------------------------------------------
    def has_roads(self) -> bool:
        """Whether travel times can be measured (the dataset has a road network)."""
        if self.store is not None:
            return road_store.network_info(self.store, self.dataset_id) is not None
        return self.network.travel_times is not None

    def _roads_key(self) -> tuple:
        """What the travel minutes depend on besides the points: the roads'
        version and the speed profile (the store's, when there is one)."""
        if self.store is None:
            return ("network", "")
        info = road_store.network_info(self.store, self.dataset_id)
        if info is None:
            raise NoRoadsError()
        return (info["version"], SpeedProfile.from_dict(info["profile"]).fingerprint())

    def costs(self, measure: str = "km") -> np.ndarray:
        """Commune x site (centers then candidates) cost of a measure
        (:data:`optimization.whatif.MEASURES`): great-circle km, or minutes on
        the roads (``inf``: unreachable within the cut-off), read-only.

        Raises :class:`optimization.scenario.ScenarioError` for a travel time
        on a dataset without roads.
        """
        travel = measure_travel(measure)
        if travel is None:
            return self.cost
        key = (*self._roads_key(), *travel)
        with self._minutes_lock:
            if key in self._minutes:
                return self._minutes[key]
        times = (
            None
            if self.network.travel_times is None
            else self.network.travel_times(*travel, None)
        )
        if times is None:
            raise NoRoadsError()
        times = np.asarray(times, dtype=float)
        times.flags.writeable = False
        with self._minutes_lock:
            for old in [k for k in self._minutes if k[:2] != key[:2]]:
                del self._minutes[old]  # roads or profile changed since
            self._minutes[key] = times
        return times

    def _added_costs(self, measure: str, communes: list[str]) -> np.ndarray:
        """Commune x added-site cost of a measure, the sites at the communes'
        representative points (travel minutes memoised per commune)."""
        index = {str(c): i for i, c in enumerate(self.network.commune_ids)}
        rows = [index[c] for c in communes]
        lon, lat = np.asarray(self.network.lon), np.asarray(self.network.lat)
        travel = measure_travel(measure)
        if travel is None:
            return distance_matrix_km(lon, lat, lon[rows], lat[rows])
        if self.store is None:
            raise ScenarioError(
                "travel times to added sites need the dataset's store (roads)"
            )
        from geo.road_access import road_graph, road_profile
        from geo.roads import travel_time_matrix

        base = (*self._roads_key(), *travel)
        columns = []
        for code, row in zip(communes, rows, strict=True):
            key = (*base, code)
            with self._minutes_lock:
                column = self._minutes.get(key)
            if column is None:
                graph = road_graph(self.store, self.dataset_id)
                if graph is None:
                    raise NoRoadsError()
                column = travel_time_matrix(
                    graph, lon, lat, lon[[row]], lat[[row]], mode=travel[0],
                    season=travel[1], profile=road_profile(self.store, self.dataset_id),
                    cutoff_min=DEFAULT_CUTOFF_MIN,
                )[:, 0]  # fmt: skip
                with self._minutes_lock:
                    self._minutes[key] = column
            columns.append(column)
        return np.column_stack(columns)

    # -- plans ------------------------------------------------------------------------
    def plan(self, whatif: WhatIf, forecast: pd.Series | None = None) -> Plan:
        """The network, demand and distances of a what-if.

        ``forecast`` (by commune store id) is the demand when the what-if asks for
        the forecast; computed from the store when not given (seconds).
        Raises :class:`optimization.scenario.ScenarioError` on what cannot be
        planned (an added site in an unknown commune, no such document type...).
        """
        network = apply_to_network(self.network, whatif)
        vector = None
        if whatif.demand_source == "forecast":
            if forecast is None and self.store is not None:
                from data.forecast import forecast_demand_by_commune

                forecast = forecast_demand_by_commune(
                    self.store, self.dataset_id, int(whatif.forecast_weeks)
                )
            vector = None if forecast is None else self.forecast_vector(forecast)
        by_doc = self.demand_for_period(whatif.period_start, whatif.period_end)
        demand = demand_vector(by_doc, whatif, vector)
        cost, site_ids = self.costs(whatif.measure), list(self.site_ids)
        if whatif.added:
            added = [str(c) for c in whatif.added]
            cost = np.hstack([cost, self._added_costs(whatif.measure, added)])
            site_ids += [added_site_code(c) for c in whatif.added]
        if whatif.travel is not None:
            # the run reads the same minutes, added sites included
            network = dataclasses.replace(
                network, travel_times=_FixedMinutes(cost, *whatif.travel)
            )
        return Plan(
            whatif=whatif,
            network=network,
            demand=demand,
            unknown=None if vector is not None else self.demand_unknown,
            cost=cost,
            site_ids=site_ids,
            site_communes=[*self.site_communes, *map(str, whatif.added)],
            capacity=network.site_capacity,
            n_existing=self.n_existing,
        )

    def today(self, whatif: WhatIf) -> Plan:
        """Today's network, unchanged, on today's demand of the what-if's period
        and document types (no growth, no forecast), for comparison."""
        return self.plan(
            WhatIf(
                radius_km=whatif.radius_km,
                doc_types=whatif.doc_types,
                period_start=whatif.period_start,
                period_end=whatif.period_end,
                measure=whatif.measure,
            )
        )

    def evaluate(
        self,
        whatif: WhatIf,
        area: Area | None = None,
        forecast: pd.Series | None = None,
    ) -> Evaluation:
        """KPIs of the network as set against today's, for ``area``, without solving.

        Each commune goes to the nearest open site that still has room; KPIs are
        :func:`network_kpis` of the area (loads count every commune a site serves).
        """
        plan = self.plan(whatif, forecast)
        today = self.today(whatif)
        assignment, open_mask = plan.assign()
        t_assignment, t_open = today.assign()
        return Evaluation(
            plan=plan,
            today=today,
            assignment=assignment,
            today_assignment=t_assignment,
            before=today.kpis(t_assignment, t_open, area, self.population),
            after=plan.kpis(assignment, open_mask, area, self.population),
        )

    def map_view(
        self, whatif: WhatIf, forecast: pd.Series | None = None, record: Any = None
    ) -> MapView:
        """Sites and distances for the map: the plan as set, or a saved result.

        ``record`` (a :class:`data.scenarios.ScenarioRecord` with results) gives
        the distances and site statuses of its proposal; the sites shown are the
        plan's.
        """
        plan = self.plan(whatif, forecast)
        if record is not None and record.communes is not None:
            distance = record.communes["distance"].to_numpy(dtype=float)
            before = record.communes["distance_before"].to_numpy(dtype=float)
            status = dict(
                zip(record.centers["site_id"], record.centers["status"], strict=True)
            )
            states = [status.get(s, "not_opened") for s in plan.site_ids]
            demand = record.communes["demand"].to_numpy(dtype=float)
            served = record.communes["site_id"].notna().to_numpy()
            unit = measure_unit(record_measure(record))  # what the run measured
        else:
            assignment = plan.assign()[0]
            distance = plan.distances(assignment)
            today = self.today(whatif)
            before = today.distances(today.assign()[0])
            states = plan.states()
            demand, served = plan.demand, assignment >= 0
            unit = plan.unit
        return MapView(
            plan.site_ids,
            plan.site_lon,
            plan.site_lat,
            plan.site_names,
            states,
            distance,
            before,
            np.where(served, 0.0, np.nan_to_num(demand)),
            unit,
        )

    # -- runs and results -------------------------------------------------------------
    def prepare_run(self, whatif: WhatIf, forecast: pd.Series | None = None) -> Run:
        """The engine's spec, network and demand for a what-if, checked.

        Communes of unknown demand are left out of the run, which says so.
        Raises :class:`optimization.scenario.ScenarioError` on a spec the engine
        refuses.
        """
        plan = self.plan(whatif, forecast)
        spec = load_spec(build_spec(whatif, self.n_existing))
        return Run(whatif, spec, plan.network, plan.engine_demand)

    def result_kpis(
        self, record: Any, area: Area | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Before/after KPIs of a saved result, for the whole country or an area.

        The country's are the engine's own summary (:func:`network_kpis` at solve
        time); an area's are computed from the saved tables by the same function.
        A run measured in travel time gets the access indicators
        (:func:`geo.roads.access_kpis`, minutes to the nearest open site) of its
        network before and after, for the country or the area. Missing values
        are NaN.
        """
        area = area or Area()
        kpis = record.summary.get("kpis", {})
        before, after = (
            {k: np.nan if v is None else v for k, v in kpis.get(side, {}).items()}
            for side in ("before", "after")
        )
        measure = record_measure(record)
        if area.whole:
            known = float(np.nansum(self.population))
            for values in (before, after):
                if "open_centers" in values:
                    values["centers_per_100k"] = (
                        values["open_centers"] * 1e5 / known if known > 0 else np.nan
                    )
            if measure_travel(measure) is not None:
                extra = self._result_access(record, Area())
                if extra is not None:
                    before.update(extra[0])
                    after.update(extra[1])
            return before, after
        site_ids, cost = self._result_sites(record)
        position = {s: i for i, s in enumerate(site_ids)}
        communes = record.communes.set_index("commune_id").reindex(
            [str(c) for c in self.network.commune_ids]
        )
        centers = record.centers.set_index("site_id")
        status = centers["status"].reindex(site_ids)
        # NaN: capacity unknown (never overloaded), not 0 (overloaded by any demand)
        capacity = centers["capacity"].reindex(site_ids).to_numpy(float)
        demand = communes["demand"].fillna(0.0).to_numpy(float)
        rows = area.rows(self.network.commune_ids)
        site_rows = area.rows(self._site_communes(site_ids))

        def assignment(column: str) -> np.ndarray:
            return np.array(
                [
                    position.get(s, -1) if isinstance(s, str) else -1
                    for s in communes[column]
                ]
            )

        radius = float(
            record.summary.get("scenario", {}).get("report_radius")
            or WhatIf().radius_km
        )
        common = {"rows": rows, "site_rows": site_rows, "population": self.population}
        z_before = network_kpis(
            cost,
            demand,
            status.isin(["kept", "closed"]).to_numpy(),
            assignment("site_id_before"),
            capacity,
            radius,
            **common,
        )
        z_after = network_kpis(
            cost,
            demand,
            status.isin(["kept", "opened"]).to_numpy(),
            assignment("site_id"),
            capacity,
            radius,
            float(after.get("cost", 0.0)),
            **common,
        )
        if measure_travel(measure) is not None:
            extra = self._result_access(record, area)
            if extra is not None:
                z_before.update(extra[0])
                z_after.update(extra[1])
        return z_before, z_after

    def _result_access(
        self, record: Any, area: Area
    ) -> tuple[dict[str, float], dict[str, float]] | None:
        """Access indicators of a travel-time run's network before and after,
        for ``area``: minutes from each commune to the nearest site open then."""
        if record.centers is None:
            return None
        try:
            site_ids, cost = self._result_sites(record)
        except ScenarioError:  # roads gone since the run: no minutes to show
            return None
        status = record.centers.set_index("site_id")["status"].reindex(site_ids)
        rows = area.rows(self.network.commune_ids)
        return tuple(
            _access(cost, status.isin(states).to_numpy(), self.population, rows)
            for states in (["kept", "closed"], ["kept", "opened"])
        )

    def result_tables(
        self, record: Any, area: Area | None = None
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The saved per-site and per-commune tables, cut to ``area``."""
        centers, communes = record.centers, record.communes
        area = area or Area()
        if area.whole:
            return centers, communes
        site_ids, _ = self._result_sites(record, with_cost=False)
        inside = np.asarray(self.network.commune_ids, dtype=str)[
            area.rows(self.network.commune_ids)
        ]
        sites = np.asarray(site_ids)[area.rows(self._site_communes(site_ids))]
        return (
            centers[centers["site_id"].isin(sites)],
            communes[communes["commune_id"].isin(inside)],
        )

    def _result_sites(
        self, record: Any, with_cost: bool = True
    ) -> tuple[list[str], np.ndarray | None]:
        """Sites of a saved run (its added ones last) and their distances in the
        run's measure (km, or minutes on the roads)."""
        added = [str(c) for c in (record.params.get("whatif") or {}).get("added", [])]
        site_ids = [*self.site_ids, *map(added_site_code, added)]
        if not with_cost:
            return site_ids, None
        measure = record_measure(record)
        cost = self.costs(measure)
        if not added:
            return site_ids, cost
        return site_ids, np.hstack([cost, self._added_costs(measure, added)])

    def _site_communes(self, site_ids: list[str]) -> list[str]:
        return [
            *self.site_communes,
            *(s.removeprefix("NEW-") for s in site_ids[len(self.site_communes) :]),
        ]

    def coverage_curve(
        self,
        whatif: WhatIf,
        n_max: int,
        forecast: pd.Series | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> CoverageCurve:
        """The optimal p-median for 0 to ``n_max`` added centers.

        The plan as set stays: today's open sites and the candidates the
        planner locked open stay open, the centers they closed and the
        candidates they forbade stay closed; ``k`` sites are added besides.
        ``progress(done, total)`` is called before each solve. Communes of
        unknown demand are left out, as in a run.

        Raises :class:`optimization.scenario.NoDemandError` when no demand is
        known (or all of it is zero).
        """
        plan = self.plan(whatif, forecast)
        demand, _ = known_demand(plan.engine_demand, "requests/week")
        m = len(plan.site_ids)
        existing = np.arange(m) < self.n_existing
        # the plan as set stays: its open sites (centers kept, candidates locked
        # open) open, centers to close and forbidden candidates closed; k new
        # sites besides the locked ones (counting those in k made every k
        # infeasible once a candidate was locked)
        today = open_mask_as_is(plan.site_ids, self.n_existing, whatif)
        marked = np.array(
            [whatif.sites.get(code) in ("closed", "forbidden") for code in plan.site_ids],
            dtype=bool,
        )
        locked, forbidden = today, ~today & (existing | marked)
        locked_new = int((today & ~existing).sum())
        free = int((~today & ~forbidden).sum())  # sites that may still open
        curve = CoverageCurve([], [], [], plan.unit)
        for k in range(int(n_max) + 1):
            if k > free:
                raise InfeasibleError(
                    [
                        Reason(
                            "too_few_sites",
                            f"{k} sites are to be added but at most {free} may open",
                            {"k": k, "free": free},
                        )
                    ]
                )
            if progress is not None:
                progress(k, int(n_max))
            sites = SiteRules.build(
                m, existing, locked, forbidden, max_new=k + locked_new
            )
            model = PMedian(plan.cost, demand, int(today.sum()) + k, sites).solve(
                time_limit=CURVE_TIME_LIMIT_S
            )
            open_mask = np.zeros(m, dtype=bool)
            open_mask[model.open_sites] = True
            _, kpis = evaluate_network(
                plan.cost, demand, open_mask, None, whatif.radius_km
            )
            curve.added.append(k)
            curve.coverage_pct.append(round(100 * kpis["share_within_radius"], 2))
            curve.mean_distance.append(round(kpis["mean_distance"], 2))
        return curve




class _FixedMinutes:
    """A plan's travel minutes as :attr:`NetworkInputs.travel_times` gives them
    (columns: centers then candidates, the planner's added sites included), so
    that the run solves on exactly the minutes the screen evaluated."""

    def __init__(self, minutes: np.ndarray, mode: str, season: str) -> None:
        self.minutes, self.mode, self.season = minutes, mode, season

    def __call__(self, mode: str, season: str, cutoff_min: float | None = None):
        if (mode, season) != (self.mode, self.season) or cutoff_min not in (
            None,
            DEFAULT_CUTOFF_MIN,
        ):
            raise ScenarioError(
                f"the plan's travel times are {self.mode}, {self.season} season "
                f"(cut-off {DEFAULT_CUTOFF_MIN:g} min), not {mode}, {season}"
            )
        return self.minutes


def record_measure(record: Any) -> str:
    """How a saved scenario measured access (:data:`optimization.whatif.MEASURES`):
    its engine spec's ``distance`` (what ran), else its panel values."""
    return measure_of(getattr(record, "params", None))


def _access(
    cost: np.ndarray, open_mask: np.ndarray, population: np.ndarray, rows: np.ndarray
) -> dict[str, float]:
    """:func:`geo.roads.access_kpis` of the communes in ``rows``: minutes to
    the nearest open site, ``inf`` where none is reached (or none is open)."""
    nearest = np.where(np.asarray(open_mask, bool)[None, :], cost, np.inf).min(
        axis=1, initial=np.inf
    )
    return access_kpis(nearest[rows], np.asarray(population, dtype=float)[rows])


def _distances(cost: np.ndarray, assignment: np.ndarray) -> np.ndarray:
    if not cost.shape[1]:  # no site yet
        return np.full(len(assignment), np.nan)
    rows = np.arange(len(assignment))
    return np.where(assignment >= 0, cost[rows, np.maximum(assignment, 0)], np.nan)
