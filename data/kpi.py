"""The KPI catalogue: every indicator defined once, with its SQL.

Each KPI is ``factor * sum(numerator) / sum(denominator)`` over additive *measures*.
A measure is one SQL aggregate expression over one source (operations, communes,
centers, or operations of the centers located in the area). Because every measure
is a sum, the value for a department or region is exactly the ratio of the sums of
its communes: the app fetches measures per commune once per filter and aggregates
them to any level, and the standalone SQL shown in the catalogue computes the same
numbers straight from the store (the tests check both agree).

Examples
--------
>>> from data.kpi import KPIS
>>> KPIS["rejection_rate"].unit_in("en")
'%'
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import bindparam, text

# --- sources: how rows of each kind are restricted to the filters -------------------
# Every source yields rows keyed by the commune they belong to (``commune_key``), so
# that one closure join scopes it to any area.
_OPS_FILTER = (
    "o.dataset_id = :dataset_id AND o.week >= :start AND o.week <= :end "
    "AND o.doc_type IN :doc_types"
)


@dataclass(frozen=True)
class Source:
    """Where a measure's rows come from.

    ``depends_on`` names the filter parameters its rows change with (what a cache
    key needs); ``row_key`` groups rows finer than the commune when set (one row
    per center for the centers' operations, so the same query also feeds the
    per-center chart).
    """

    name: str
    from_sql: str
    commune_key: str
    where: str
    depends_on: tuple[str, ...]
    row_key: str | None = None


_PERIOD = ("start", "end")
SOURCES = {
    "ops": Source(
        "ops", "operations o", "o.commune_id", _OPS_FILTER, (*_PERIOD, "doc_types")
    ),
    "communes": Source(
        "communes",
        "admin_units u LEFT JOIN commune_access a ON a.commune_id = u.id",
        "u.id",
        "u.dataset_id = :dataset_id AND u.level = :commune_level",
        ("radius_km", "commune_level"),
    ),
    "centers": Source(
        "centers",
        "service_centers c",
        "c.commune_id",
        "c.dataset_id = :dataset_id AND c.status = 'open'",
        _PERIOD,
    ),
    "center_ops": Source(
        "center_ops",
        "operations o JOIN service_centers c ON c.id = o.center_id",
        "c.commune_id",
        _OPS_FILTER,
        (*_PERIOD, "doc_types"),
        row_key="c.id",
    ),
}

# Communes whose population is unknown (NULL: imported without one). Per-capita
# KPIs subtract these communes' requests and centers from their numerator, so an
# unknown population is left out of both sides of the ratio instead of inflating it.
_UNKNOWN_POP = "(SELECT pu.id FROM admin_units pu WHERE pu.population IS NULL)"

# Number of weeks with data in the period: the scale of per-week capacities.
N_WEEKS_SQL = (
    "(SELECT COUNT(DISTINCT o.week) FROM operations o WHERE "
    "o.dataset_id = :dataset_id AND o.week >= :start AND o.week <= :end)"
)


@dataclass(frozen=True)
class Measure:
    """An additive quantity: one SQL aggregate over one source."""

    name: str
    source: str
    sql: str


MEASURES = {
    m.name: m
    for m in [
        Measure("requests", "ops", "SUM(o.requests)"),
        Measure("delivered", "ops", "SUM(o.delivered)"),
        Measure("on_time", "ops", "SUM(o.delivered_on_time)"),
        Measure("rejected", "ops", "SUM(o.rejected)"),
        Measure("delay_days", "ops", "SUM(o.delay_mean_days * o.delivered)"),
        Measure("p90_days", "ops", "SUM(o.delay_p90_days * o.delivered)"),
        Measure("population", "communes", "SUM(u.population)"),
        Measure(
            "pop_within",
            "communes",
            "SUM(CASE WHEN a.distance_km <= :radius_km THEN u.population ELSE 0 END)",
        ),
        Measure("pop_distance", "communes", "SUM(u.population * a.distance_km)"),
        Measure(
            "pop_with_distance",
            "communes",
            "SUM(CASE WHEN a.distance_km IS NULL THEN 0 ELSE u.population END)",
        ),
        Measure("pop_known", "communes", "COUNT(u.population)"),
        Measure(
            "pop_unknown",
            "communes",
            "SUM(CASE WHEN u.population IS NULL THEN 1 ELSE 0 END)",
        ),
        Measure(
            "requests_no_pop",
            "ops",
            f"SUM(CASE WHEN o.commune_id IN {_UNKNOWN_POP} THEN o.requests ELSE 0 END)",
        ),
        Measure("centers", "centers", "COUNT(c.id)"),
        Measure(
            "centers_no_pop",
            "centers",
            f"SUM(CASE WHEN c.commune_id IN {_UNKNOWN_POP} THEN 1 ELSE 0 END)",
        ),
        Measure("capacity", "centers", f"SUM(c.capacity_week) * {N_WEEKS_SQL}"),
        Measure("center_requests", "center_ops", "SUM(o.requests)"),
    ]
}


@dataclass(frozen=True)
class KPI:
    """One indicator: ``factor * (numerator - excluded) / denominator``.

    ``per_year`` multiplies by ``52 / weeks in the period`` so that values are
    comparable whatever period is chosen. ``excluded`` is the numerator's part that
    the denominator cannot count (requests or centers of communes whose population
    is unknown), zero when every population is known.
    """

    id: str
    name_fr: str
    name_en: str
    rule_fr: str
    rule_en: str
    unit: str  # in French; English in UNIT_EN where it differs
    numerator: str
    denominator: str | None = None
    factor: float = 1.0
    per_year: bool = False
    higher_is_better: bool | None = None
    decimals: int = 1
    on_map: bool = True
    tags: tuple[str, ...] = field(default_factory=tuple)
    excluded: str | None = None

    def name(self, lang: str, radius_km: float | None = None) -> str:
        """Name in ``lang``; ``{radius}`` becomes the radius (or X when unknown)."""
        text = self.name_fr if lang == "fr" else self.name_en
        radius = "X" if radius_km is None else f"{radius_km:g}"
        return text.replace("{radius}", radius)

    def unit_in(self, lang: str) -> str:
        """Unit symbol in ``lang``."""
        return UNIT_EN.get(self.unit, self.unit) if lang == "en" else self.unit

    def rule(self, lang: str) -> str:
        return self.rule_fr if lang == "fr" else self.rule_en

    @property
    def measures(self) -> tuple[str, ...]:
        return (
            (self.numerator,)
            + ((self.denominator,) if self.denominator else ())
            + ((self.excluded,) if self.excluded else ())
        )


UNIT_EN = {"hab.": "inhab.", "j": "d", "‰/an": "‰/yr"}

KPIS: dict[str, KPI] = {
    k.id: k
    for k in [
        KPI(
            "population",
            "Population",
            "Population",
            "Somme de la population des communes (n.d. si aucune n'est connue).",
            "Sum of the communes' population (n.d. when none is known).",
            "hab.",
            "population",
            decimals=0,
            higher_is_better=None,
        ),
        KPI(
            "requests",
            "Demandes",
            "Requests",
            "Somme des demandes reçues sur la période, types de documents choisis.",
            "Sum of requests received over the period, for the chosen document types.",
            "",
            "requests",
            decimals=0,
            higher_is_better=None,
        ),
        KPI(
            "requests_per_1000",
            "Demandes pour 1 000 hab. (par an)",
            "Requests per 1,000 inhabitants (per year)",
            "Demandes × 1 000 / population, ramené à 52 semaines ; communes de "
            "population connue seulement.",
            "Requests × 1,000 / population, scaled to 52 weeks; communes with a known "
            "population only.",
            "‰/an",
            "requests",
            "population",
            factor=1000.0,
            per_year=True,
            higher_is_better=None,
            excluded="requests_no_pop",
        ),
        KPI(
            "mean_delay",
            "Délai moyen de traitement",
            "Mean processing delay",
            "Moyenne des délais moyens hebdomadaires pondérée par les documents délivrés.",
            "Mean of weekly mean delays weighted by documents delivered.",
            "j",
            "delay_days",
            "delivered",
            higher_is_better=False,
        ),
        KPI(
            "p90_delay",
            "Délai au 90e centile",
            "90th-percentile delay",
            "Moyenne des délais hebdomadaires au 90e centile pondérée par les documents "
            "délivrés.",
            "Mean of weekly 90th-percentile delays weighted by documents delivered.",
            "j",
            "p90_days",
            "delivered",
            higher_is_better=False,
        ),
        KPI(
            "on_time_share",
            "Délivrés dans le délai cible",
            "Delivered within target",
            "Documents délivrés dans le délai cible de leur type / documents délivrés.",
            "Documents delivered within their type's target delay / documents delivered.",
            "%",
            "on_time",
            "delivered",
            factor=100.0,
            higher_is_better=True,
        ),
        KPI(
            "rejection_rate",
            "Taux de rejet",
            "Rejection rate",
            "Demandes rejetées / demandes reçues.",
            "Rejected requests / requests received.",
            "%",
            "rejected",
            "requests",
            factor=100.0,
            higher_is_better=False,
        ),
        KPI(
            "utilisation",
            "Utilisation des capacités",
            "Capacity utilisation",
            "Demandes traitées par les centres situés dans la zone / (capacité hebdomadaire "
            "de ces centres × semaines de la période).",
            "Requests handled by the centers located in the area / (their weekly capacity "
            "× weeks in the period).",
            "%",
            "center_requests",
            "capacity",
            factor=100.0,
            higher_is_better=None,
        ),
        KPI(
            "pop_within",
            "Population à moins de {radius} km d'un centre",
            "Population within {radius} km of a center",
            "Population des communes dont le point représentatif est à X km ou moins "
            "(distance orthodromique) du centre ouvert le plus proche / population "
            "des communes dont la distance est connue (n.d. sans aucun centre ouvert).",
            "Population of communes whose representative point is within X km "
            "(great-circle) of the nearest open center / population of communes "
            "with a known distance (n.d. without any open center).",
            "%",
            "pop_within",
            "pop_with_distance",
            factor=100.0,
            higher_is_better=True,
        ),
        KPI(
            "mean_distance",
            "Distance moyenne au centre le plus proche",
            "Mean distance to the nearest center",
            "Moyenne, pondérée par la population, de la distance orthodromique du point "
            "représentatif de chaque commune au centre ouvert le plus proche.",
            "Population-weighted mean of the great-circle distance from each commune's "
            "representative point to the nearest open center.",
            "km",
            "pop_distance",
            "pop_with_distance",
            higher_is_better=False,
        ),
        KPI(
            "centers_per_100k",
            "Centres pour 100 000 hab.",
            "Centers per 100,000 inhabitants",
            "Centres ouverts situés dans la zone × 100 000 / population ; communes "
            "de population connue seulement.",
            "Open centers located in the area × 100,000 / population; communes with "
            "a known population only.",
            "",
            "centers",
            "population",
            factor=100_000.0,
            decimals=2,
            higher_is_better=True,
            excluded="centers_no_pop",
        ),
    ]
}

CARD_KPIS = (
    "requests",
    "requests_per_1000",
    "mean_delay",
    "p90_delay",
    "on_time_share",
    "rejection_rate",
    "utilisation",
    "pop_within",
    "mean_distance",
    "centers_per_100k",
)
MAP_KPIS = (
    "population",
    "requests_per_1000",
    "mean_delay",
    "on_time_share",
    "rejection_rate",
    "mean_distance",
    "pop_within",
    "utilisation",
)


# --- scenario KPIs ---------------------------------------------------------------------
# What the scenario screen, its comparison and its exports show of a plan: computed by
# optimization.results.network_kpis from a plan's assignment (not by SQL), defined here
# beside the map's KPIs so that the catalogue documents both and every screen and file
# reads one name, unit and rounding.

# the engine's units (summary["units"]) in each language
ENGINE_UNITS = {
    "km": ("km", "km"),
    "min": ("min", "min"),
    "requests/week": ("dem./sem.", "requests/week"),
    "inhabitants": ("hab.", "inhab."),
}


def objective_unit(model: str, units: dict | None, lang: str, *,
                   reallocation: str | None = None) -> str:  # fmt: skip
    """The unit of a model's objective (and bound), in ``lang``.

    p-median: demand × distance; maximal covering: demand covered; set covering:
    centers; attendance: demand attended; p-center: distance; capacity
    reallocation: demand (unmet or above capacity), none for its delay
    objective. ``units`` are the run's
    (``summary["units"]``: ``distance``, ``demand``).

    Examples
    --------
    >>> objective_unit("pmedian", {"distance": "km", "demand": "inhabitants"}, "fr")
    'hab.·km'
    >>> objective_unit("mclp", {"demand": "requests/week"}, "en")
    'requests/week covered'
    """
    units = units or {}

    def unit(kind: str, default: str) -> str:
        pair = ENGINE_UNITS.get(str(units.get(kind) or default))
        engine = str(units.get(kind) or default)
        return engine if pair is None else pair[0 if lang == "fr" else 1]

    distance, demand = unit("distance", "km"), unit("demand", "requests/week")
    if model == "pmedian":
        return f"{demand}·{distance}"
    if model == "mclp":
        return f"{demand} couvertes" if lang == "fr" else f"{demand} covered"
    if model == "lscp":
        return "centres" if lang == "fr" else "centers"
    if model == "attendance":
        return f"{demand} attendues" if lang == "fr" else f"{demand} attended"
    if model == "pcenter":
        return distance
    if model == "reallocation" and reallocation != "delay":
        return demand
    return ""


@dataclass(frozen=True)
class ScenarioKPI:
    """One figure of a scenario's result.

    ``unit`` is ``"distance"`` or ``"demand"`` for the engine's unit of that quantity
    (km or min, requests/week or inhabitants), else a unit in French (English in
    ``unit_en``). ``scale`` turns the engine's value into the one shown (100 for a
    share shown in %). ``served_first``: a plan leaving more demand without a center
    is never the best one on this figure (it covers only the demand served).
    ``on_result``: a row of the result's before/after table; ``in_comparison``: a
    row of the comparison of saved scenarios. ``time_fr``/``time_en``: the name
    when the run's distances are travel minutes (``units["distance"] == "min"``).
    """

    id: str
    name_fr: str
    name_en: str
    rule_fr: str
    rule_en: str
    unit: str = ""
    unit_en: str | None = None
    decimals: int = 0
    scale: float = 1.0
    better: str | None = None  # 'lower', 'higher' or None
    served_first: bool = False
    on_result: bool = True
    in_comparison: bool = True
    time_fr: str | None = None
    time_en: str | None = None

    def name(self, lang: str, units: dict | None = None) -> str:
        """The name in ``lang``; its travel-time wording when ``units`` (a run's)
        put distances in minutes."""
        if self.time_fr and (units or {}).get("distance") == "min":
            return self.time_fr if lang == "fr" else str(self.time_en)
        return self.name_fr if lang == "fr" else self.name_en

    def rule(self, lang: str) -> str:
        return self.rule_fr if lang == "fr" else self.rule_en

    def unit_in(self, lang: str, units: dict | None = None) -> str:
        """The unit in ``lang``; ``units`` are a run's (``summary["units"]``)."""
        if self.unit in ("distance", "demand"):
            default = "km" if self.unit == "distance" else "requests/week"
            engine = (units or {}).get(self.unit) or default
            pair = ENGINE_UNITS.get(str(engine), (str(engine), str(engine)))
            return pair[0] if lang == "fr" else pair[1]
        if lang == "en" and self.unit_en is not None:
            return self.unit_en
        return self.unit

    def label(self, lang: str, units: dict | None = None) -> str:
        """Name with its unit: ``Demande sans centre (dem./sem.)``."""
        unit = self.unit_in(lang, units)
        name = self.name(lang, units)
        return f"{name} ({unit})" if unit else name


SCENARIO_KPIS: dict[str, ScenarioKPI] = {
    k.id: k
    for k in [
        ScenarioKPI(
            "mean_distance",
            "Distance moyenne pondérée par la demande, demande desservie",
            "Demand-weighted mean distance, demand served",
            "Moyenne de la distance de chaque commune au centre qui la sert dans le "
            "plan, pondérée par sa demande hebdomadaire ; les communes sans centre "
            "n'y comptent pas : la lire avec la demande sans centre. Aujourd'hui : "
            "centre le plus proche (résultat) ou le plus proche ayant de la place "
            "(évaluation immédiate). L'écran principal donne, lui, la distance au "
            "centre le plus proche pondérée par la population.",
            "Mean distance from each commune to the center serving it in the plan, "
            "weighted by its weekly demand; communes with no center do not count: "
            "read it with the demand with no center. Today: nearest center (result) "
            "or nearest center with room (instant evaluation). The main screen gives "
            "the population-weighted distance to the nearest center instead.",
            "distance",
            decimals=1,
            better="lower",
            served_first=True,
            time_fr="Temps de trajet moyen pondéré par la demande, demande desservie",
            time_en="Demand-weighted mean travel time, demand served",
        ),
        ScenarioKPI(
            "max_distance",
            "Distance maximale, demande desservie",
            "Maximum distance, demand served",
            "Plus grande distance d'une commune avec demande au centre qui la sert ; "
            "communes sans centre exclues.",
            "Longest distance from a commune with demand to the center serving it; "
            "communes with no center left out.",
            "distance",
            decimals=1,
            better="lower",
            served_first=True,
            time_fr="Temps de trajet maximal, demande desservie",
            time_en="Maximum travel time, demand served",
        ),
        ScenarioKPI(
            "unassigned_demand",
            "Demande sans centre",
            "Demand with no center",
            "Demande hebdomadaire des communes qu'aucun centre ne sert dans le plan "
            "(hors de portée, ou au-delà des capacités quand elles sont respectées).",
            "Weekly demand of the communes no center serves in the plan (out of "
            "reach, or beyond the capacities when they are respected).",
            "demand",
            decimals=0,
            better="lower",
        ),
        ScenarioKPI(
            "unserved_population",
            "Population sans centre",
            "Population with no center",
            "Habitants des communes qu'aucun centre ne sert dans le plan (n.d. si "
            "la population est inconnue).",
            "Inhabitants of the communes no center serves in the plan (n/a when the "
            "population is unknown).",
            "hab.",
            "inhab.",
            decimals=0,
            better="lower",
        ),
        ScenarioKPI(
            "unserved_communes",
            "Communes sans centre",
            "Communes with no center",
            "Communes avec demande qu'aucun centre ne sert dans le plan.",
            "Communes with demand that no center serves in the plan.",
            better="lower",
        ),
        ScenarioKPI(
            "share_within_radius",
            "Demande à moins de R km d'un centre ouvert",
            "Demand within R km of an open center",
            "Part de la demande hebdomadaire dont le centre ouvert le plus proche est "
            "à R km ou moins, qu'il la serve ou non. L'écran principal donne la part "
            "de la population.",
            "Share of the weekly demand whose nearest open center is within R km, "
            "whether it serves it or not. The main screen gives the share of the "
            "population.",
            "%",
            decimals=1,
            scale=100.0,
            better="higher",
            served_first=True,
            time_fr="Demande à moins de R min d'un centre ouvert par la route",
            time_en="Demand within R min of an open center by road",
        ),
        ScenarioKPI(
            "open_centers",
            "Centres ouverts",
            "Open centers",
            "Centres ouverts dans le plan, situés dans la zone.",
            "Centers open in the plan, located in the area.",
        ),
        ScenarioKPI(
            "opened",
            "Centres créés",
            "Centers opened",
            "Sites candidats ouverts par le plan.",
            "Candidate sites the plan opens.",
            on_result=False,
        ),
        ScenarioKPI(
            "closed",
            "Centres fermés",
            "Centers closed",
            "Centres existants que le plan ferme.",
            "Existing centers the plan closes.",
            on_result=False,
        ),
        ScenarioKPI(
            "overloaded_centers",
            "Centres surchargés (demande affectée)",
            "Overloaded centers (assigned demand)",
            "Centres ouverts dont la demande affectée dans le plan dépasse la "
            "capacité hebdomadaire. Aujourd'hui, au centre le plus proche ; "
            "l'évaluation immédiate n'affecte que dans la limite des capacités (0 "
            "par construction, le reste est non satisfait). L'écran principal "
            "mesure, lui, les demandes réellement traitées.",
            "Open centers whose demand assigned in the plan exceeds their weekly "
            "capacity. Today, at the nearest center; the instant evaluation assigns "
            "only within capacities (0 by construction, the rest is unmet). The "
            "main screen measures the requests actually handled instead.",
            better="lower",
        ),
        ScenarioKPI(
            "unmet_demand",
            "Demande non satisfaite",
            "Unmet demand",
            "Demande affectée au-delà des capacités, plus la demande sans centre.",
            "Demand assigned beyond capacities, plus the demand with no center.",
            "demand",
            decimals=0,
            better="lower",
        ),
        ScenarioKPI(
            "cost",
            "Coût des changements",
            "Cost of the changes",
            "Ouvertures, fermetures et modules de capacité du plan, au coût des "
            "sites candidats.",
            "Openings, closures and capacity modules of the plan, at the candidate "
            "sites' costs.",
            "M FCFA",
            decimals=1,
            better="lower",
        ),
        ScenarioKPI(
            "centers_per_100k",
            "Centres pour 100 000 hab.",
            "Centers per 100,000 inhabitants",
            "Centres ouverts × 100 000 / population de la zone (communes de "
            "population connue) ; n.d. sans population connue.",
            "Open centers × 100,000 / population of the area (communes with a "
            "known population); n/a without a known population.",
            decimals=2,
            better="higher",
        ),
        ScenarioKPI(
            "measure",
            "Mesure de l'accès",
            "Access measure",
            "Comment le scénario mesure l'accès : distance à vol d'oiseau (km), ou "
            "temps de trajet par la route (min) pour un mode (marche, motorisé) et "
            "une saison (sèche, pluies). Les distances de deux scénarios mesurés "
            "autrement ne se comparent pas.",
            "How the scenario measures access: straight-line distance (km), or "
            "travel time by road (min) for a mode (walking, motorised) and a season "
            "(dry, rainy). Distances of two scenarios measured differently do not "
            "compare.",
            on_result=False,
        ),
        ScenarioKPI(
            "solver_status",
            "Statut du solveur",
            "Solver status",
            "Optimal (prouvé), réalisable avec un écart, ou brouillon non calculé.",
            "Optimal (proven), feasible with a gap, or a draft not run.",
            on_result=False,
        ),
        ScenarioKPI(
            "gap",
            "Écart d'optimalité",
            "Optimality gap",
            "Écart relatif entre le plan trouvé et la meilleure borne prouvée.",
            "Relative gap between the plan found and the best proven bound.",
            "%",
            decimals=2,
            scale=100.0,
            better="lower",
            on_result=False,
        ),
        ScenarioKPI(
            "dataset_version",
            "Version des données",
            "Data version",
            "Version du jeu de données sur laquelle le scénario a été calculé.",
            "Version of the dataset the scenario was computed on.",
            on_result=False,
        ),
    ]
}
RESULT_KPIS = tuple(k for k in SCENARIO_KPIS.values() if k.on_result)


@dataclass(frozen=True)
class AccessMeasure:
    """How a scenario measures access (``optimization.whatif.MEASURES``), in words."""

    id: str
    name_fr: str
    name_en: str
    unit: str

    def name(self, lang: str) -> str:
        return self.name_fr if lang == "fr" else self.name_en

    def label(self, lang: str) -> str:
        """``Temps de trajet motorisé, saison sèche (min)``."""
        return f"{self.name(lang)} ({self.unit})"


#: The access measures of a scenario, by code: km, or ``mode|season`` travel time.
ACCESS_MEASURES = {
    m.id: m
    for m in [
        AccessMeasure(
            "km", "Distance à vol d'oiseau", "Straight-line distance", "km"
        ),
        AccessMeasure(
            "motorised|dry",
            "Temps de trajet motorisé, saison sèche",
            "Motorised travel time, dry season",
            "min",
        ),
        AccessMeasure(
            "motorised|rainy",
            "Temps de trajet motorisé, saison des pluies",
            "Motorised travel time, rainy season",
            "min",
        ),
        AccessMeasure(
            "walking|dry",
            "Temps de trajet à pied, saison sèche",
            "Walking travel time, dry season",
            "min",
        ),
        AccessMeasure(
            "walking|rainy",
            "Temps de trajet à pied, saison des pluies",
            "Walking travel time, rainy season",
            "min",
        ),
    ]
}


def measure_of(params: dict | None) -> str:
    """The access measure a saved scenario ran with (a code of
    :data:`ACCESS_MEASURES`): its engine spec's ``distance`` (what ran), else its
    panel values (a draft), else km.

    Examples
    --------
    >>> spec = {"distance": {"kind": "travel_time", "mode": "walking", "season": "dry"}}
    >>> measure_of({"spec": spec}), measure_of({"whatif": {"radius_km": 20}})
    ('walking|dry', 'km')
    """
    params = params if isinstance(params, dict) else {}
    distance = (params.get("spec") or {}).get("distance")
    if isinstance(distance, dict) and distance:
        if distance.get("kind") != "travel_time":
            return "km"
        code = f"{distance.get('mode') or 'motorised'}|{distance.get('season') or 'dry'}"
    else:
        code = str((params.get("whatif") or {}).get("measure") or "km")
    return code if code in ACCESS_MEASURES else "km"


def measure_label(code: Any, lang: str) -> str:
    """A measure code in words with its unit (km for an unknown code).

    Examples
    --------
    >>> measure_label("walking|rainy", "en")
    'Walking travel time, rainy season (min)'
    """
    return ACCESS_MEASURES.get(str(code), ACCESS_MEASURES["km"]).label(lang)

#: Travel times (minutes) of the "population within" access indicators.
TRAVEL_THRESHOLDS_MIN = (30, 60, 120)


def _within(limit: int) -> ScenarioKPI:
    return ScenarioKPI(
        f"within_{limit}_min",
        f"Population à moins de {limit} min d'un centre",
        f"Population within {limit} min of a center",
        f"Population des communes dont le temps de trajet par la route jusqu'au "
        f"centre ouvert le plus proche est d'au plus {limit} min / population "
        "(communes de population connue).",
        f"Population of the communes whose travel time by road to the nearest open "
        f"center is at most {limit} min / population (communes with a known "
        "population).",
        "%",
        decimals=1,
        scale=100.0,
        better="higher",
        on_result=False,
        in_comparison=False,
    )


#: Access by road, per travel mode and season: computed on the road network by
#: ``geo.roads.access_kpis`` (shortest paths cannot be written in SQL); ids are its keys.
TRAVEL_KPIS = {
    k.id: k
    for k in [
        ScenarioKPI(
            "mean_minutes",
            "Temps de trajet moyen jusqu'au centre le plus proche",
            "Mean travel time to the nearest center",
            "Moyenne pondérée par la population du temps de trajet le plus court par "
            "la route (marche hors route comprise) de chaque commune jusqu'à un centre "
            "ouvert, sur les communes qui en atteignent un.",
            "Population-weighted mean of the shortest road travel time (walks off the "
            "road included) from each commune to an open center, over the communes "
            "that reach one.",
            "min",
            decimals=1,
            better="lower",
            on_result=False,
            in_comparison=False,
        ),
        *(_within(limit) for limit in TRAVEL_THRESHOLDS_MIN),
        ScenarioKPI(
            "unreachable",
            "Population sans centre accessible",
            "Population reaching no center",
            "Population des communes qu'aucune route ne relie à un centre ouvert dans "
            "la limite de temps / population (communes de population connue).",
            "Population of the communes that no road joins to an open center within "
            "the time limit / population (communes with a known population).",
            "%",
            decimals=1,
            scale=100.0,
            better="lower",
            on_result=False,
            in_comparison=False,
        ),
    ]
}


@dataclass(frozen=True)
class Filters:
    """What the user filtered on (already validated)."""

    dataset_id: int
    start: dt.date
    end: dt.date
    doc_types: tuple[str, ...]
    radius_km: float
    commune_level: int = 2

    def params(self) -> dict[str, Any]:
        return {
            "dataset_id": self.dataset_id,
            "start": self.start,
            "end": self.end,
            "doc_types": list(self.doc_types),
            "radius_km": float(self.radius_km),
            "commune_level": self.commune_level,
        }


def statement(sql: str):
    """A text() statement with the list parameters (doc types, scope) expanding."""
    stmt = text(sql)
    if ":doc_types" in sql:
        stmt = stmt.bindparams(bindparam("doc_types", expanding=True))
    if ":scope" in sql:
        stmt = stmt.bindparams(bindparam("scope", expanding=True))
    return stmt


def source_sql(source: str) -> str:
    """SQL returning every measure of ``source`` per commune (``commune_id``).

    Sources with a ``row_key`` return one row per key (``row_id``) with its commune.
    """
    src = SOURCES[source]
    cols = ", ".join(
        f"{m.sql} AS {m.name}" for m in MEASURES.values() if m.source == source
    )
    keys = f"{src.commune_key} AS commune_id"
    group = src.commune_key
    if src.row_key:
        keys = f"{src.row_key} AS row_id, {keys}"
        group = f"{src.row_key}, {src.commune_key}"
    return (
        f"SELECT {keys}, {cols} FROM {src.from_sql} WHERE {src.where} GROUP BY {group}"
    )


def measure_scoped_sql(measure: str) -> str:
    """Standalone SQL of one measure summed over the communes under ``:scope`` units."""
    m = MEASURES[measure]
    src = SOURCES[m.source]
    return (
        f"SELECT {m.sql} FROM {src.from_sql} "
        f"JOIN unit_closure k ON k.descendant_id = {src.commune_key} "
        f"WHERE {src.where} AND k.ancestor_id IN :scope"
    )


def kpi_sql(kpi_id: str) -> str:
    """Standalone SQL of a KPI over the communes below the units in ``:scope``.

    Parameters are ``:dataset_id``, ``:start``, ``:end``, ``:doc_types`` (list),
    ``:radius_km``, ``:commune_level`` and ``:scope`` (list of unit ids; for the whole
    country, the ids of the top level).
    """
    kpi = KPIS[kpi_id]
    num = f"({measure_scoped_sql(kpi.numerator)})"
    if kpi.excluded:
        num = f"({num} - COALESCE(({measure_scoped_sql(kpi.excluded)}), 0))"
    factor = repr(kpi.factor)
    if kpi.per_year:
        factor = f"{factor} * 52.0 / NULLIF({N_WEEKS_SQL}, 0)"
    if kpi.denominator is None:
        return f"SELECT {factor} * {num} AS value"
    den = f"({measure_scoped_sql(kpi.denominator)})"
    return f"SELECT {factor} * CAST({num} AS FLOAT) / NULLIF({den}, 0) AS value"


def run_kpi_sql(store, kpi_id: str, filters: Filters, scope: list[int]) -> float:
    """Evaluate a KPI's catalogue SQL directly on the store (used to cross-check)."""
    params = filters.params() | {"scope": [int(s) for s in scope]}
    with store.engine.connect() as conn:
        value = conn.execute(statement(kpi_sql(kpi_id)), params).scalar()
    return float("nan") if value is None else float(value)


def n_weeks(store, filters: Filters) -> int:
    """Weeks with data in the filtered period."""
    with store.engine.connect() as conn:
        return int(
            conn.execute(statement(N_WEEKS_SQL.strip("()")), filters.params()).scalar()
            or 0
        )


def reduce_filters(source: str, filters: Filters) -> Filters:
    """``filters`` with the values ``source`` does not depend on set to neutral ones.

    Two filter sets that differ only in what a source ignores then reduce to the
    same value, so a cache keyed on it is shared.
    """
    depends = set(SOURCES[source].depends_on)
    return Filters(
        filters.dataset_id,
        filters.start if "start" in depends else dt.date.min,
        filters.end if "end" in depends else dt.date.min,
        filters.doc_types if "doc_types" in depends else (),
        filters.radius_km if "radius_km" in depends else 0.0,
        filters.commune_level,
    )


def source_frame(store, source: str, filters: Filters) -> pd.DataFrame:
    """Rows of one source's measures for the filters (see :func:`source_sql`)."""
    with store.engine.connect() as conn:
        result = conn.execute(statement(source_sql(source)), filters.params())
        frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    names = [m.name for m in MEASURES.values() if m.source == source]
    frame[names] = frame[names].astype(float)
    return frame


# Sources whose rows can be read once per dataset by week and document type, then
# summed in memory for any period and types (every measure is a sum of row values,
# so a sum of the weekly sums is the same number): a filter change then costs no
# query, where random periods made nearly every change a new one.
WEEKLY_SOURCES = ("ops", "center_ops")
# Above this many operation rows a dataset is not held in memory: its sources are
# queried per filter values instead (about 70 bytes a row in memory).
WEEKLY_MAX_ROWS = 500_000


def weekly_source_sql(source: str) -> str:
    """:func:`source_sql` of a weekly source for a whole dataset, one row per week,
    document type and key, with no period or document-type filter."""
    src = SOURCES[source]
    if source not in WEEKLY_SOURCES:
        raise ValueError(f"{source!r} is not one of {WEEKLY_SOURCES}")
    cols = ", ".join(
        f"{m.sql} AS {m.name}" for m in MEASURES.values() if m.source == source
    )
    keys = f"{src.commune_key} AS commune_id"
    group = src.commune_key
    if src.row_key:
        keys = f"{src.row_key} AS row_id, {keys}"
        group = f"{src.row_key}, {src.commune_key}"
    return (
        f"SELECT o.week AS week, o.doc_type AS doc_type, {keys}, {cols} "
        f"FROM {src.from_sql} WHERE o.dataset_id = :dataset_id "
        f"GROUP BY o.week, o.doc_type, {group}"
    )


def weekly_source_frame(store, source: str, dataset_id: int) -> pd.DataFrame | None:
    """Rows of a weekly source for the whole dataset (:func:`weekly_source_sql`),
    ``week`` as ``datetime64[D]``; ``None`` above :data:`WEEKLY_MAX_ROWS` rows."""
    with store.engine.connect() as conn:
        count = conn.execute(
            text("SELECT COUNT(*) FROM operations WHERE dataset_id = :d"),
            {"d": dataset_id},
        ).scalar()
        if count > WEEKLY_MAX_ROWS:
            return None
        result = conn.execute(
            statement(weekly_source_sql(source)), {"dataset_id": dataset_id}
        )
        frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    names = [m.name for m in MEASURES.values() if m.source == source]
    frame[names] = frame[names].astype(float)
    frame["week"] = pd.to_datetime(frame["week"]).to_numpy().astype("datetime64[D]")
    frame["doc_type"] = frame["doc_type"].astype("category")  # 25 -> 14 MB on the demo
    return frame


@dataclass(frozen=True, eq=False)
class WeeklyRows:
    """A weekly source's rows (:func:`weekly_source_frame`) laid out to be summed
    for any period and document types in a few milliseconds (:func:`slice_weekly`).

    Rows are sorted by week, then document type, so a period is one contiguous
    range of them; each measure is one contiguous array (``values[i]`` is
    ``names[i]``); each row's key (``row_id`` and ``commune_id``, or ``commune_id``)
    is numbered in ``key`` by its row of ``keys``, in the order ``groupby`` gives
    them (sorted, a missing key last). Build it with :meth:`from_frame`; read it,
    never change it (it is memoised and shared).

    Examples
    --------
    >>> frame = pd.DataFrame({"week": np.array(["2024-01-01", "2024-01-08"],
    ...                                         dtype="datetime64[D]"),
    ...                       "doc_type": pd.Categorical(["CNI", "CNI"]),
    ...                       "row_id": [7, 7], "commune_id": [1, 1],
    ...                       "center_requests": [3.0, 4.0]})
    >>> rows = WeeklyRows.from_frame(frame, "center_ops")
    >>> f = Filters(1, dt.date(2024, 1, 1), dt.date(2024, 1, 7), ("CNI",), 0.0, 2)
    >>> slice_weekly(rows, f)["center_requests"].tolist()
    [3.0]
    """

    source: str
    keys: pd.DataFrame
    names: tuple[str, ...]
    week: np.ndarray
    doc: np.ndarray
    doc_types: tuple[str, ...]
    key: np.ndarray
    values: np.ndarray

    @classmethod
    def from_frame(cls, weekly: pd.DataFrame, source: str) -> WeeklyRows:
        if source not in WEEKLY_SOURCES:
            raise ValueError(f"{source!r} is not one of {WEEKLY_SOURCES}")
        names = tuple(m.name for m in MEASURES.values() if m.source == source)
        key_cols = (
            ["row_id", "commune_id"] if SOURCES[source].row_key else ["commune_id"]
        )
        grouped = weekly.groupby(key_cols, sort=True, dropna=False)
        keys = grouped.size().reset_index()[key_cols]
        doc_type = pd.Categorical(weekly["doc_type"])
        week = weekly["week"].to_numpy().astype("datetime64[D]")
        order = np.lexsort((doc_type.codes, week))
        values = np.ascontiguousarray(
            weekly[list(names)].to_numpy(dtype=float)[order].T
        )
        return cls(
            source, keys, names, week[order], np.asarray(doc_type.codes)[order],
            tuple(doc_type.categories), grouped.ngroup().to_numpy()[order], values,
        )  # fmt: skip


def weekly_rows(store, source: str, dataset_id: int) -> WeeklyRows | None:
    """:func:`weekly_source_frame` as :class:`WeeklyRows` (``None`` when too large)."""
    frame = weekly_source_frame(store, source, dataset_id)
    return None if frame is None else WeeklyRows.from_frame(frame, source)


def slice_weekly(weekly: WeeklyRows, filters: Filters) -> pd.DataFrame:
    """The rows :func:`source_frame` gives for ``filters`` (one per key with rows
    in the period and document types, the keys sorted, then the measures),
    summed from the dataset's weekly rows."""
    lo = int(np.searchsorted(weekly.week, np.datetime64(filters.start, "D"), "left"))
    hi = int(np.searchsorted(weekly.week, np.datetime64(filters.end, "D"), "right"))
    key, values = weekly.key[lo : max(lo, hi)], weekly.values[:, lo : max(lo, hi)]
    chosen = set(filters.doc_types)
    wanted = [i for i, d in enumerate(weekly.doc_types) if d in chosen]
    if len(wanted) < len(weekly.doc_types):
        keep = np.isin(weekly.doc[lo:hi], wanted)
        key, values = key[keep], values[:, keep]
    n = len(weekly.keys)
    present = np.flatnonzero(np.bincount(key, minlength=n))
    columns = {c: weekly.keys[c].to_numpy()[present] for c in weekly.keys.columns}
    for i, name in enumerate(weekly.names):
        sums = np.bincount(key, weights=values[i], minlength=n)
        columns[name] = sums[present].astype(float)  # no rows: numpy gives int64
    return pd.DataFrame(columns)


def combine(frames: dict[str, pd.DataFrame], weeks: int) -> pd.DataFrame:
    """Per-commune measures from every source's rows (sums of sums: exact).

    Returns a frame indexed by commune id with one column per measure (zeros where
    a commune has no rows) and the attribute ``n_weeks``.
    """
    # the communes source lists every commune: its ids, sorted, index the result;
    # each source's rows are summed by commune (a missing value counts 0, as a
    # pandas sum; rows of another commune or none are left out, as a left join)
    ids = frames["communes"]["commune_id"]
    index = pd.Index(ids.dropna().unique(), name="commune_id").sort_values()
    columns = {}
    for source, frame in frames.items():
        position = index.get_indexer(frame["commune_id"])
        kept = position >= 0
        position = position[kept]
        for m in MEASURES.values():
            if m.source == source:
                values = frame[m.name].to_numpy(dtype=float)[kept]
                values = np.where(np.isnan(values), 0.0, values)
                sums = np.bincount(position, weights=values, minlength=len(index))
                columns[m.name] = sums.astype(float)  # no rows: numpy gives int64
    base = pd.DataFrame({name: columns[name] for name in MEASURES}, index=index)
    base.attrs["n_weeks"] = int(weeks)
    return base


def commune_measures(store, filters: Filters) -> pd.DataFrame:
    """Every measure per commune for the filters: the one base every KPI derives from."""
    frames = {source: source_frame(store, source, filters) for source in SOURCES}
    return combine(frames, n_weeks(store, filters))


def aggregate(measures: pd.DataFrame, groups: pd.Series | None) -> pd.DataFrame:
    """Sum commune measures into groups (a Series mapping commune id -> group id).

    ``groups=None`` sums everything into one row labelled ``'all'``.
    """
    if groups is None:
        out = measures.sum().to_frame("all").T
    else:
        out = (
            measures.join(groups.rename("_group"), how="inner").groupby("_group").sum()
        )
    out.attrs["n_weeks"] = measures.attrs.get("n_weeks", 0)
    return out


def kpi_values(sums: pd.DataFrame, kpi_ids=None) -> pd.DataFrame:
    """KPI values from summed measures (rows: groups; columns: KPI ids)."""
    weeks = sums.attrs.get("n_weeks", 0)
    out = {}
    for kid in kpi_ids or KPIS:
        kpi = KPIS[kid]
        num = sums[kpi.numerator].to_numpy(dtype=float)
        if kpi.excluded and kpi.excluded in sums:
            num = num - sums[kpi.excluded].to_numpy(dtype=float)
        factor = kpi.factor * (52.0 / weeks if kpi.per_year and weeks else 1.0)
        if kpi.per_year and not weeks:
            factor = np.nan
        if not weeks and MEASURES[kpi.numerator].source in ("ops", "center_ops"):
            # no week of operations in the period (or none imported): no data, not 0
            out[kid] = np.full(len(sums), np.nan)
        elif kpi.denominator is None:
            out[kid] = factor * num
            if kpi.numerator == "population" and "pop_unknown" in sums:
                # every commune's population unknown: n.d., as SQL's SUM of NULLs
                nd = (sums["pop_unknown"].to_numpy(dtype=float) > 0) & (
                    sums["pop_known"].to_numpy(dtype=float) == 0
                )
                out[kid] = np.where(nd, np.nan, out[kid])
        else:
            den = sums[kpi.denominator].to_numpy(dtype=float)
            with np.errstate(divide="ignore", invalid="ignore"):
                out[kid] = np.where(
                    den > 0, factor * num / np.where(den > 0, den, 1), np.nan
                )
    return pd.DataFrame(out, index=sums.index)


def catalogue_frame(lang: str = "fr") -> pd.DataFrame:
    """The catalogue as a table (for the app's KPI page and the README)."""
    rows = []
    for kpi in KPIS.values():
        better = {True: "↑", False: "↓", None: "–"}[kpi.higher_is_better]
        rows.append(
            {
                "id": kpi.id,
                "name": kpi.name(lang),
                "rule": kpi.rule(lang),
                "unit": kpi.unit_in(lang),
                "better": better,
                "sql": kpi_sql(kpi.id),
            }
        )
    return pd.DataFrame(rows)


def scenario_catalogue_frame(lang: str = "fr") -> pd.DataFrame:
    """The scenario KPIs (:data:`SCENARIO_KPIS`) as a table, for the catalogue."""
    arrow = {"higher": "↑", "lower": "↓", None: "–"}
    return pd.DataFrame(
        [
            {
                "id": k.id,
                "name": k.name(lang),
                "rule": k.rule(lang),
                "unit": k.unit_in(lang),
                "better": arrow[k.better],
            }
            for k in SCENARIO_KPIS.values()
        ]
    )


def travel_catalogue_frame(lang: str = "fr") -> pd.DataFrame:
    """The travel-time access KPIs (:data:`TRAVEL_KPIS`) as a table."""
    arrow = {"higher": "↑", "lower": "↓", None: "–"}
    return pd.DataFrame(
        [
            {"id": k.id, "name": k.name(lang), "rule": k.rule(lang),
             "unit": k.unit_in(lang), "better": arrow[k.better]}
            for k in TRAVEL_KPIS.values()
        ]
    )  # fmt: skip


def catalogue_markdown(lang: str = "en") -> str:
    """The catalogue as Markdown (the README's KPI section is this text)."""
    better = {"↑": "higher", "↓": "lower", "–": "depends"}
    lines = ["| KPI | Rule | Unit | Better |", "|---|---|---|---|"]
    frame = catalogue_frame(lang)
    for row in frame.itertuples():
        lines.append(
            f"| {row.name} (`{row.id}`) | {row.rule} | {row.unit} | "
            f"{better[row.better]} |"
        )
    lines += ["", "<details><summary>SQL of each KPI</summary>", ""]
    for row in frame.itertuples():
        lines += [f"`{row.id}`:", "", "```sql", row.sql, "```", ""]
    lines.append("</details>")
    lines += [
        "",
        "Scenario KPIs, computed from a plan's assignment by "
        "`optimization.results.network_kpis` (not by SQL):",
        "",
        "| KPI | Rule | Unit | Better |",
        "|---|---|---|---|",
    ]
    for row in scenario_catalogue_frame(lang).itertuples():
        lines.append(
            f"| {row.name} (`{row.id}`) | {row.rule} | {row.unit} | "
            f"{better[row.better]} |"
        )
    lines += [
        "",
        "Access by road, for a travel mode and a season, computed on the dataset's "
        "road network by `geo.roads.access_kpis` (shortest paths are not SQL; "
        "`python -m dashapp roads access`, and `travel_time` in a travel-time "
        "scenario's summary):",
        "",
        "| KPI | Rule | Unit | Better |",
        "|---|---|---|---|",
    ]
    for row in travel_catalogue_frame(lang).itertuples():
        lines.append(
            f"| {row.name} (`{row.id}`) | {row.rule} | {row.unit} | "
            f"{better[row.better]} |"
        )
    return "\n".join(lines)
