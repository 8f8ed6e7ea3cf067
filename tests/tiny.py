"""A hand-made four-commune country whose KPIs are worked out by hand in the tests."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd
from shapely.geometry import box
from shapely.ops import unary_union

W1, W2 = dt.date(2026, 1, 5), dt.date(2026, 1, 12)


@dataclass
class Bundle:
    name: str
    levels: pd.DataFrame
    units: gpd.GeoDataFrame
    centers: pd.DataFrame
    candidates: pd.DataFrame
    doc_types: pd.DataFrame
    operations: pd.DataFrame
    demand: pd.DataFrame | None = None


def tiny_bundle() -> Bundle:
    """R1 > D1 (C1, C2), D2 (C3, C4); centers S1 in C1 and S2 in C4."""
    communes = {
        "C1": (box(0.0, 0.0, 0.1, 0.1), 1000, "D1"),
        "C2": (box(0.1, 0.0, 0.2, 0.1), 3000, "D1"),
        "C3": (box(0.0, 0.1, 0.1, 0.2), 2000, "D2"),
        "C4": (box(0.1, 0.1, 0.2, 0.2), 4000, "D2"),
    }
    rows = [
        {
            "unit_code": "R1",
            "name": "Région Une",
            "level": 0,
            "parent_code": None,
            "population": 10000,
            "area_km2": 0.0,
            "geometry": unary_union([c[0] for c in communes.values()]),
        }
    ]
    for dept, members in (("D1", ["C1", "C2"]), ("D2", ["C3", "C4"])):
        rows.append(
            {
                "unit_code": dept,
                "name": f"Département {dept}",
                "level": 1,
                "parent_code": "R1",
                "population": sum(communes[m][1] for m in members),
                "area_km2": 0.0,
                "geometry": unary_union([communes[m][0] for m in members]),
            }
        )
    for code, (geom, pop, dept) in communes.items():
        rows.append(
            {
                "unit_code": code,
                "name": f"Commune {code}",
                "level": 2,
                "parent_code": dept,
                "population": pop,
                "area_km2": 123.0,
                "geometry": geom,
            }
        )
    units = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    levels = pd.DataFrame(
        {
            "level": [0, 1, 2],
            "code": ["region", "department", "commune"],
            "name_fr": ["Région", "Département", "Commune"],
            "name_en": ["Region", "Department", "Commune"],
        }
    )
    centers = pd.DataFrame(
        [
            {
                "center_code": "S1",
                "name": "Centre Un",
                "commune_code": "C1",
                "lon": 0.05,
                "lat": 0.05,
                "capacity_week": 100,
                "staff": 4,
                "status": "open",
                "opened_on": dt.date(2020, 1, 1),
            },
            {
                "center_code": "S2",
                "name": "Centre Deux",
                "commune_code": "C4",
                "lon": 0.16,
                "lat": 0.16,
                "capacity_week": 50,
                "staff": 2,
                "status": "open",
                "opened_on": dt.date(2021, 1, 1),
            },
        ]
    )
    candidates = pd.DataFrame(
        [
            {
                "site_code": "K1",
                "name": "Site K1",
                "commune_code": "C3",
                "lon": 0.05,
                "lat": 0.15,
                "opening_cost": 10.0,
                "capacity_week": 60,
            },
        ]
    )
    doc_types = pd.DataFrame(
        {
            "code": ["A", "B"],
            "name_fr": ["Doc A", "Doc B"],
            "name_en": ["Doc A", "Doc B"],
            "target_delay_days": [10, 5],
        }
    )
    cols = [
        "week",
        "commune_code",
        "center_code",
        "doc_type",
        "requests",
        "delivered",
        "delivered_on_time",
        "rejected",
        "backlog",
        "delay_mean_days",
        "delay_p90_days",
    ]
    operations = pd.DataFrame(
        [
            (W1, "C1", "S1", "A", 10, 8, 6, 1, 1, 5.0, 9.0),
            (W1, "C2", "S1", "A", 30, 27, 27, 3, 0, 4.0, 7.0),
            (W1, "C3", "S2", "A", 20, 20, 10, 0, 0, 10.0, 15.0),
            (W1, "C4", "S2", "A", 40, 30, 15, 5, 5, 12.0, 20.0),
            (W2, "C1", "S1", "A", 12, 12, 12, 0, 0, 3.0, 6.0),
            (W2, "C1", "S1", "B", 10, 8, 4, 2, 0, 6.0, 8.0),
        ],
        columns=cols,
    )
    return Bundle(
        "Pays minuscule", levels, units, centers, candidates, doc_types, operations
    )


def new_country_bundle(candidates: bool = False, unknown: tuple = ()) -> Bundle:
    """The tiny country as a new one: boundaries and population only.

    No center, no operations; demand estimated from population as the import
    does (``estimate_demand``); candidate site K1 only when ``candidates``.
    The communes in ``unknown`` have no population (NULL, as a partial join or
    boundaries alone store it), hence no demand estimate either.
    """
    from data.importers.bundle import estimate_demand

    bundle = tiny_bundle()
    units = bundle.units.copy()
    units["population"] = units["population"].astype(float)
    units.loc[units["unit_code"].isin(unknown), "population"] = float("nan")
    communes = units[(units["level"] == 2) & units["population"].notna()]
    return dataclasses.replace(
        bundle,
        name="Pays neuf",
        units=units,
        centers=bundle.centers.iloc[0:0],
        candidates=bundle.candidates if candidates else bundle.candidates.iloc[0:0],
        operations=bundle.operations.iloc[0:0],
        demand=estimate_demand(communes, {"A": 0.5, "B": 0.1}),
    )
