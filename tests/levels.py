"""Countries of any shape of levels, built in memory for the level and map tests.

``nested_bundle([2, 3, 4])`` is 2 regions of 3 departments of 4 communes each (24
communes); ``national=True`` puts a single country unit on top, as the importer does
for a layer of communes alone. Communes are 0.1° squares in rows near (-5, 12);
each upper unit is the union of its communes.
"""

from __future__ import annotations

import datetime as dt
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import box

from tests.tiny import Bundle

LEVEL_NAMES = {
    "country": ("Pays", "Country"),
    "region": ("Région", "Region"),
    "department": ("Département", "Department"),
    "arrondissement": ("Arrondissement", "Arrondissement"),
    "province": ("Province", "Province"),
    "commune": ("Commune", "Commune"),
}
CODES_BY_DEPTH = {
    1: ["commune"],
    2: ["province", "commune"],
    3: ["region", "department", "commune"],
    4: ["region", "department", "arrondissement", "commune"],
}


def nested_bundle(
    branching: list[int],
    national: bool = False,
    step: float = 0.1,
    origin: tuple[float, float] = (-5.0, 12.0),
) -> Bundle:
    """A country whose level ``d`` splits each unit above into ``branching[d]``."""
    n = math.prod(branching)
    cols = math.ceil(math.sqrt(n))
    i = np.arange(n)
    squares = [
        box(
            origin[0] + (k % cols) * step,
            origin[1] + (k // cols) * step,
            origin[0] + (k % cols + 1) * step,
            origin[1] + (k // cols + 1) * step,
        )
        for k in i
    ]
    codes = list(CODES_BY_DEPTH[len(branching)])
    rows = []
    if national:
        codes.insert(0, "country")
        rows.append(
            _unit("NAT", "Pays test", 0, None, shapely.union_all(squares), 1000 * n)
        )
    shift = int(national)
    for depth in range(len(branching)):
        per_unit = math.prod(branching[depth + 1 :])
        index = i // per_unit
        level = depth + shift
        for u in np.unique(index):
            members = [squares[k] for k in np.flatnonzero(index == u)]
            code = _code(depth, u, len(branching))
            if depth:
                parent = _code(depth - 1, u // branching[depth], len(branching))
            else:
                parent = "NAT" if national else None
            name = f"{LEVEL_NAMES[codes[level]][0]} {u + 1}"
            geom = shapely.union_all(members) if len(members) > 1 else members[0]
            rows.append(_unit(code, name, level, parent, geom, 1000 * len(members)))
    units = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    levels = pd.DataFrame(
        {
            "level": range(len(codes)),
            "code": codes,
            "name_fr": [LEVEL_NAMES[c][0] for c in codes],
            "name_en": [LEVEL_NAMES[c][1] for c in codes],
        }
    )
    return _bundle(f"Pays à {len(codes)} niveaux", levels, units)


def flat_bundle(n_communes: int, step: float = 0.02) -> Bundle:
    """A country of ``n_communes`` communes and nothing between them and the nation."""
    return nested_bundle([n_communes], national=True, step=step)


def _code(depth: int, index: int, depths: int) -> str:
    """``C00001`` for communes, ``L0-001`` for the units of the first level..."""
    return f"C{index + 1:05d}" if depth == depths - 1 else f"L{depth}-{index + 1:03d}"


def _unit(code, name, level, parent, geometry, population) -> dict:
    return {
        "unit_code": code,
        "name": name,
        "level": level,
        "parent_code": parent,
        "population": population,
        "area_km2": 0.0,
        "geometry": geometry,
    }


def _bundle(name: str, levels: pd.DataFrame, units: gpd.GeoDataFrame) -> Bundle:
    doc_types = pd.DataFrame(
        {
            "code": ["A"],
            "name_fr": ["Doc A"],
            "name_en": ["Doc A"],
            "target_delay_days": [10],
        }
    )
    communes = units[units["level"] == levels["level"].max()]
    demand = pd.DataFrame(
        {
            "commune_code": communes["unit_code"].to_numpy(),
            "doc_type": "A",
            "requests_week": communes["population"].to_numpy() * 0.05 / 52,
            "rate_per_inhabitant_year": 0.05,
        }
    )
    centers = pd.DataFrame(
        [
            {
                "center_code": "S1",
                "name": "Centre Un",
                "commune_code": communes["unit_code"].iloc[0],
                "lon": float(communes.geometry.iloc[0].centroid.x),
                "lat": float(communes.geometry.iloc[0].centroid.y),
                "capacity_week": 100,
                "staff": 2,
                "status": "open",
                "opened_on": dt.date(2020, 1, 1),
            }
        ]
    )
    empty_sites = pd.DataFrame(
        columns=[
            "site_code",
            "name",
            "commune_code",
            "lon",
            "lat",
            "opening_cost",
            "capacity_week",
        ]
    )
    operations = pd.DataFrame(
        columns=[
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
    )
    return Bundle(
        name, levels, units, centers, empty_sites, doc_types, operations, demand
    )
