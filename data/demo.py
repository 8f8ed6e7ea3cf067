"""Seeded generator of a plausible synthetic country ("synthetic demo data").

The country is built in a planar kilometre frame (a sinusoidal, hence
equal-area, projection centred on the country) and returned in EPSG:4326:

1. an irregular outline somewhere in West Africa, a capital and 3-5 secondary
   cities;
2. one seed point per commune: dense Gaussian clusters around the cities
   (urban communes), elsewhere a smooth, north-decreasing density field (rural
   communes of very different sizes); the Voronoi cells of the seeds, clipped
   to the outline on a 1 mm grid, tile the country exactly;
3. departments grow from k-means seeds over the commune adjacency graph
   (multi-source Dijkstra), regions grow the same way over the department
   graph, so every department and region is one contiguous polygon;
4. population, socio-economic indicators, service centers (concentrated in the
   cities, scarce in remote regions, some under-staffed), candidate sites;
5. 156 weeks of operations per (week, commune, document type): requests follow
   population, distance to the nearest center, socio-economic indicators, a
   regional trend, a seasonality and negative-binomial noise; each center is a
   weekly fluid queue whose utilisation drives delays and rejections.

Sizes scale mildly with ``n_communes`` (see :func:`scaled_sizes`). The same
``(seed, n_communes)`` always gives the same country.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree
from scipy.special import expit, ndtr

from data import names as _names

__all__ = [
    "DOC_TYPES",
    "DemoCountry",
    "FIRST_WEEK",
    "LAST_WEEK",
    "N_WEEKS",
    "generate_demo",
    "scaled_sizes",
]

EARTH_RADIUS_KM = 6371.0088
GRID_KM = 1e-6  # 1 mm snapping grid: shared Voronoi edges stay bit-identical
N_WEEKS = 156
LAST_WEEK = dt.date(2026, 10, 26)  # a Monday
FIRST_WEEK = LAST_WEEK - dt.timedelta(weeks=N_WEEKS - 1)  # 2023-11-06

DOC_TYPES = pd.DataFrame(
    {
        "code": ["CNI", "PASS", "ACTE"],
        "name_fr": ["Carte nationale d'identité", "Passeport", "Acte de naissance"],
        "name_en": ["National identity card", "Passport", "Birth certificate"],
        "target_delay_days": [15, 21, 7],
    }
)
LEVELS = pd.DataFrame(
    {
        "level": [0, 1, 2],
        "code": ["region", "department", "commune"],
        "name_fr": ["Région", "Département", "Commune"],
        "name_en": ["Region", "Department", "Commune"],
    }
)

# Per document type (CNI, PASS, ACTE): yearly requests per inhabitant before
# modifiers, distance-decay length (km), base processing delay (days), base
# rejection rate.
_ANNUAL_RATE = np.array([0.024, 0.006, 0.02])
_DECAY_KM = np.array([70.0, 150.0, 45.0])
_BASE_DELAY = np.array([7.0, 10.0, 3.0])
_BASE_REJECT = np.array([0.03, 0.06, 0.02])
_STAGES = ("outline", "seeds", "groups", "people", "centers", "names", "ops")


@dataclass(frozen=True)
class DemoCountry:
    """A generated synthetic country; see :func:`generate_demo` for the columns."""

    name: str
    seed: int
    levels: pd.DataFrame
    units: gpd.GeoDataFrame
    centers: pd.DataFrame
    candidates: pd.DataFrame
    doc_types: pd.DataFrame
    operations: pd.DataFrame


def scaled_sizes(n_communes: int) -> dict[str, int]:
    """Return how many regions, departments, centers and candidate sites to draw.

    Counts grow sub-linearly with the number of communes: 5 regions, 38
    departments, 50 centers and 200 candidate sites for 400 communes; 11, 87,
    177 and 910 for 5,000; 19, 166, 468 and 2,926 for 35,000.

    Parameters
    ----------
    n_communes : int
        Number of communes of the country.

    Returns
    -------
    dict
        Keys ``regions``, ``departments``, ``centers``, ``candidates``.

    Examples
    --------
    >>> scaled_sizes(400)
    {'regions': 5, 'departments': 38, 'centers': 50, 'candidates': 200}
    """
    ratio = n_communes / 400
    departments = int(np.clip(round(38 * ratio**0.33), 2, n_communes // 6))
    regions = int(np.clip(round(5 * ratio**0.3), 1, max(1, departments // 3)))
    centers = int(np.clip(round(50 * ratio**0.5), regions, n_communes // 2))
    candidates = int(min(round(200 * ratio**0.6), n_communes - centers))
    return {
        "regions": regions,
        "departments": departments,
        "centers": centers,
        "candidates": candidates,
    }


def generate_demo(seed: int = 42, n_communes: int = 400) -> DemoCountry:
    """Generate a deterministic synthetic country with 3 years of operations.

    Parameters
    ----------
    seed : int, default 42
        Non-negative seed; the same ``(seed, n_communes)`` gives identical output.
    n_communes : int, default 400
        Number of communes (at least 20). Regions, departments, centers and
        candidate sites scale with it (:func:`scaled_sizes`).

    Returns
    -------
    DemoCountry
        ``levels``
            ``level`` (0 region, 1 department, 2 commune), ``code``, ``name_fr``,
            ``name_en``.
        ``units`` (GeoDataFrame, EPSG:4326)
            ``unit_code`` ('R01', 'R01D03', 'R01D03C012'), ``name``, ``level``,
            ``parent_code`` (None for regions), ``population``, ``area_km2``,
            ``urban`` (False above communes), ``poverty_rate``,
            ``literacy_rate``, ``internet_rate`` (population-weighted above
            communes), ``geometry`` (Polygon). Rows are regions, departments,
            then communes, each sorted by code; codes are numbered by
            decreasing population within their parent.
        ``centers``
            ``center_code`` ('SC001'), ``name``, ``commune_code``, ``lon``,
            ``lat``, ``capacity_week``, ``staff``, ``status`` ('open'),
            ``opened_on`` (datetime.date, always before the first week).
        ``candidates``
            ``site_code`` ('CS001'), ``name``, ``commune_code``, ``lon``,
            ``lat``, ``opening_cost`` (millions FCFA), ``capacity_week``.
        ``doc_types``
            ``code`` ('CNI', 'PASS', 'ACTE'), ``name_fr``, ``name_en``,
            ``target_delay_days`` (15, 21, 7).
        ``operations``
            One row per (week, commune, doc type), ordered by week, commune
            code, then doc type in ``doc_types`` order. ``week`` is
            datetime64[ns] (Mondays from 2023-11-06 to 2026-10-26);
            ``commune_code``, ``center_code`` and ``doc_type`` are categoricals
            of str; ``requests``, ``delivered``, ``delivered_on_time``,
            ``rejected``, ``backlog`` are int32 >= 0 with
            ``backlog = previous backlog + requests - rejected - delivered``
            per (commune, doc type), ``rejected <= requests`` and
            ``delivered_on_time <= delivered``; ``delay_mean_days`` and
            ``delay_p90_days`` (float, 0.1 day) describe the processing delay
            of that center and doc type that week plus transmission to the
            commune (also given when nothing was delivered).

    Raises
    ------
    ValueError
        If ``seed`` is not a non-negative int or ``n_communes`` is not an int
        of at least 20.

    Examples
    --------
    >>> country = generate_demo(seed=1, n_communes=60)
    >>> country.units["level"].value_counts().sort_index().tolist()
    [3, 10, 60]
    >>> len(country.operations) == 156 * 60 * 3
    True
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"'seed' should be a non-negative int, got {seed!r}")
    if isinstance(n_communes, bool) or not isinstance(n_communes, int | np.integer):
        raise ValueError(f"'n_communes' should be an int, got {type(n_communes)}")
    if n_communes < 20:
        raise ValueError(f"'n_communes' should be at least 20, got {n_communes}")
    seed, n = int(seed), int(n_communes)
    sizes = scaled_sizes(n)
    rngs = dict(
        zip(
            _STAGES,
            (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(7)),
            strict=True,
        )
    )

    outline, lon0, lat0 = _outline(rngs["outline"])
    cities = _cities(rngs["outline"], outline)
    xy, city_of = _seeds(rngs["seeds"], outline, cities, n)
    cells = _tessellate(xy, outline)
    pairs, _ = _adjacency(cells)
    dept_of, region_of_dept = _groups(rngs["groups"], xy, pairs, sizes)

    people = _people(
        rngs["people"], xy, cells, city_of, cities, dept_of, region_of_dept
    )
    network = _network(rngs["centers"], xy, city_of, people, dept_of, sizes)

    # Codes follow decreasing population within the parent; communes are
    # listed in code order in every output table.
    codes = _codes(people["population"].to_numpy(), dept_of, region_of_dept)
    order = np.argsort(codes["commune"], kind="stable")
    ops = _operations(rngs["ops"], people, network, order)
    labels = _labels(
        rngs["names"], codes, order, city_of, cities, xy, region_of_dept, dept_of
    )
    units = _units(
        (lon0, lat0), cells, people, codes, order, labels, dept_of, region_of_dept
    )
    centers, candidates, center_code = _sites(
        rngs["centers"], (lon0, lat0), xy, people, network, ops, codes, labels, city_of
    )
    operations = _operations_frame(ops, order, center_code, network, codes)
    return DemoCountry(
        name=f"République de {labels['country']} (données synthétiques)",
        seed=seed,
        levels=LEVELS.copy(),
        units=units,
        centers=centers,
        candidates=candidates,
        doc_types=DOC_TYPES.copy(),
        operations=operations,
    )


# --------------------------------------------------------------------------- geometry


def _to_lonlat(
    x: np.ndarray, y: np.ndarray, lon0: float, lat0: float
) -> tuple[np.ndarray, np.ndarray]:
    """Invert the sinusoidal projection centred on (lon0, lat0)."""
    lat = lat0 + np.degrees(y / EARTH_RADIUS_KM)
    lon = lon0 + np.degrees(x / (EARTH_RADIUS_KM * np.cos(np.radians(lat))))
    return lon, lat


def _geoms_to_lonlat(geoms: np.ndarray, lon0: float, lat0: float) -> np.ndarray:
    def project(coords: np.ndarray) -> np.ndarray:
        lon, lat = _to_lonlat(coords[:, 0], coords[:, 1], lon0, lat0)
        return np.column_stack([lon, lat])

    return shapely.transform(geoms, project)


def _outline(rng: np.random.Generator) -> tuple[shapely.Polygon, float, float]:
    """Star-shaped outline with a wobbly border and often one straight border."""
    theta = np.linspace(0.0, 2 * np.pi, 400, endpoint=False)
    radius = np.ones_like(theta)
    for k in range(2, 30):
        amp = rng.normal(0.0, 0.2 / k**1.1)
        radius += amp * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    radius = np.clip(radius, 0.6, 1.3) * rng.uniform(270, 320)
    stretch = rng.uniform(0.85, 1.18)
    poly = shapely.Polygon(
        np.column_stack(
            [radius * np.cos(theta) * stretch, radius * np.sin(theta) / stretch]
        )
    )
    if rng.random() < 0.7:
        # Colonial-era straight border: cut by a half-plane (keeps star shape).
        angle = rng.uniform(0, 2 * np.pi)
        u = np.array([np.cos(angle), np.sin(angle)])
        v = np.array([-u[1], u[0]])
        d = 0.7 * radius.mean()
        far = 2000.0
        half = shapely.Polygon(
            [d * u + far * v, d * u - far * v, -far * u - far * v, -far * u + far * v]
        )
        poly = poly.intersection(half)
    poly = shapely.set_precision(poly, GRID_KM)
    return poly, float(rng.uniform(-7.5, -2.5)), float(rng.uniform(11.0, 12.0))


def _sample_in(
    rng: np.random.Generator, region: shapely.Geometry, size: int
) -> np.ndarray:
    """Uniform points inside ``region`` by rejection."""
    xmin, ymin, xmax, ymax = region.bounds
    out = np.empty((0, 2))
    while len(out) < size:
        pts = rng.uniform((xmin, ymin), (xmax, ymax), size=(4 * size + 16, 2))
        out = np.vstack([out, pts[shapely.contains_xy(region, pts[:, 0], pts[:, 1])]])
    return out[:size]


def _cities(rng: np.random.Generator, outline: shapely.Polygon) -> pd.DataFrame:
    """Capital (row 0) and 3-5 secondary cities, well apart, away from borders."""
    size = np.sqrt(outline.area / np.pi)
    capital = _sample_in(rng, outline.buffer(-0.35 * size), 1)
    inner = outline.buffer(-40.0)
    pts = [capital[0]]
    n_secondary = int(rng.integers(3, 6))
    min_dist = 0.45 * size
    while len(pts) < 1 + n_secondary:
        for cand in _sample_in(rng, inner, 200):
            if np.min(np.hypot(*(np.asarray(pts) - cand).T)) >= min_dist:
                pts.append(cand)
                break
        else:
            min_dist *= 0.9
    pts = np.asarray(pts)
    sigma = np.r_[6.0, rng.uniform(2.5, 4.0, n_secondary)]
    return pd.DataFrame(
        {
            "x": pts[:, 0],
            "y": pts[:, 1],
            "sigma": sigma,
            "share": np.r_[0.10, np.full(n_secondary, 0.03)],
            "population": np.r_[
                rng.uniform(1.8e6, 3.0e6), rng.uniform(2e5, 7e5, n_secondary)
            ],
        }
    )


def _rural_density(
    xy: np.ndarray, cities: pd.DataFrame, bumps: np.ndarray, gradient: float
) -> np.ndarray:
    """Smooth rural density (relative): decreasing northwards, with bumps."""
    y_scaled = (xy[:, 1] - bumps[0, 1]) / 600.0
    field = 0.4 + np.zeros(len(xy))
    for bx, by, width, amp in bumps[1:]:
        field += amp * np.exp(-((xy[:, 0] - bx) ** 2 + (xy[:, 1] - by) ** 2) / width**2)
    for cx, cy, pop in cities[["x", "y", "population"]].to_numpy():
        d2 = (xy[:, 0] - cx) ** 2 + (xy[:, 1] - cy) ** 2
        field += 1.5 * (pop / 2e6) ** 0.5 * np.exp(-d2 / 60.0**2)
    return field * np.exp(-gradient * y_scaled)


def _seeds(
    rng: np.random.Generator, outline: shapely.Polygon, cities: pd.DataFrame, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Commune seed points (towns) and their city index (-1 for rural)."""
    inner = outline.buffer(-0.3)
    shapely.prepare(inner)
    counts = np.maximum(1, np.round(cities["share"].to_numpy() * n)).astype(int)
    chunks, city_of = [], []
    for k, (cx, cy, sigma) in enumerate(cities[["x", "y", "sigma"]].to_numpy()):
        pts = np.empty((0, 2))
        while len(pts) < counts[k]:
            cand = rng.normal((cx, cy), sigma, size=(2 * counts[k] + 8, 2))
            keep = (np.hypot(cand[:, 0] - cx, cand[:, 1] - cy) < 2.5 * sigma) & (
                shapely.contains_xy(inner, cand[:, 0], cand[:, 1])
            )
            pts = np.vstack([pts, cand[keep]])
        chunks.append(pts[: counts[k]])
        city_of.append(np.full(counts[k], k))

    n_rural = n - counts.sum()
    xmin, ymin, xmax, ymax = outline.bounds
    bumps = np.vstack(
        [
            [0.0, ymin, 0.0, 0.0],
            np.column_stack(
                [
                    _sample_in(rng, outline, 6),
                    rng.uniform(60, 150, 6),
                    rng.uniform(0.3, 2.0, 6),
                ]
            ),
        ]
    )
    gradient = rng.uniform(0.8, 1.6)
    grid = _sample_in(rng, outline, 4000)
    top = np.max(_rural_density(grid, cities, bumps, gradient) ** 0.7) * 1.2
    city_xy = cities[["x", "y"]].to_numpy()
    city_r = 2.5 * cities["sigma"].to_numpy()
    rural = np.empty((0, 2))
    while len(rural) < n_rural:
        cand = rng.uniform((xmin, ymin), (xmax, ymax), size=(3 * n_rural + 64, 2))
        dens = _rural_density(cand, cities, bumps, gradient) ** 0.7
        urban_zone = (
            np.hypot(
                cand[:, None, 0] - city_xy[None, :, 0],
                cand[:, None, 1] - city_xy[None, :, 1],
            )
            < city_r[None, :]
        ).any(axis=1)
        keep = (
            (rng.random(len(cand)) * top < dens)
            & ~urban_zone
            & shapely.contains_xy(inner, cand[:, 0], cand[:, 1])
        )
        rural = np.vstack([rural, cand[keep]])
    chunks.append(rural[:n_rural])
    city_of.append(np.full(n_rural, -1))
    return np.vstack(chunks), np.concatenate(city_of)


def _tessellate(xy: np.ndarray, outline: shapely.Polygon) -> np.ndarray:
    """Voronoi cells of ``xy`` clipped to ``outline``: one Polygon per seed."""
    diagram = shapely.voronoi_polygons(
        shapely.multipoints(xy), extend_to=outline.buffer(100.0), ordered=True
    )
    cells = shapely.get_parts(diagram)
    # Only cells crossing the border need an overlay; snapping the others to
    # the same grid keeps shared edges identical and is ten times faster.
    shapely.prepare(outline)
    inside = shapely.contains_properly(outline, cells)
    cells[inside] = shapely.set_precision(cells[inside], GRID_KM)
    cells[~inside] = shapely.intersection(cells[~inside], outline, grid_size=GRID_KM)
    seeds = shapely.points(xy)
    orphans = []
    for i in np.flatnonzero(shapely.get_type_id(cells) != 3):
        parts = shapely.get_parts(cells[i])
        parts = parts[shapely.get_type_id(parts) == 3]
        main = np.flatnonzero(shapely.contains(parts, seeds[i]))
        main = int(main[0]) if len(main) else int(np.argmax(shapely.area(parts)))
        cells[i] = parts[main]
        orphans.extend((i, p) for k, p in enumerate(parts) if k != main)
    if orphans:
        # Pieces cut off by a concave border join the neighbour they share most with.
        tree = shapely.STRtree(cells)
        for owner, piece in orphans:
            near = tree.query(piece, predicate="intersects")
            near = near[near != owner]
            shared = shapely.length(shapely.intersection(cells[near], piece))
            target = near[np.argmax(shared)]
            cells[target] = shapely.union(cells[target], piece, grid_size=GRID_KM)
    return cells


def _adjacency(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of cells sharing at least one edge, and the shared length (km).

    Edges are hashed on the snapping grid: two cells are neighbours when they
    hold the same segment, which is exact for a snapped Voronoi tessellation and
    linear in the number of vertices.
    """
    rings, ring_owner = shapely.get_rings(cells, return_index=True)
    coords, ring_idx = shapely.get_coordinates(rings, return_index=True)
    same = ring_idx[:-1] == ring_idx[1:]
    a, b = coords[:-1][same], coords[1:][same]
    owner = ring_owner[ring_idx[:-1][same]]
    length = np.hypot(*(b - a).T)
    qa, qb = (
        np.rint(a / GRID_KM).astype(np.int64),
        np.rint(b / GRID_KM).astype(np.int64),
    )
    swap = (qa[:, 0] > qb[:, 0]) | ((qa[:, 0] == qb[:, 0]) & (qa[:, 1] > qb[:, 1]))
    lo = np.where(swap[:, None], qb, qa)
    hi = np.where(swap[:, None], qa, qb)
    order = np.lexsort((hi[:, 1], hi[:, 0], lo[:, 1], lo[:, 0]))
    keys = np.column_stack([lo, hi])[order]
    dup = np.all(keys[1:] == keys[:-1], axis=1)
    first, second = owner[order][:-1][dup], owner[order][1:][dup]
    keep = first != second
    edges = pd.DataFrame(
        {
            "i": np.minimum(first, second)[keep],
            "j": np.maximum(first, second)[keep],
            "length": length[order][:-1][dup][keep],
        }
    )
    edges = edges.groupby(["i", "j"], as_index=False, sort=True)["length"].sum()
    return edges[["i", "j"]].to_numpy(), edges["length"].to_numpy()


def _kmeans_sources(
    rng: np.random.Generator, xy: np.ndarray, k: int, weights: np.ndarray
) -> np.ndarray:
    """Indices of ``k`` distinct points nearest to weighted k-means centroids."""
    n = len(xy)
    centres = [xy[rng.choice(n, p=weights / weights.sum())]]
    d2 = np.sum((xy - centres[0]) ** 2, axis=1)
    for _ in range(1, k):
        p = weights * d2
        centres.append(xy[rng.choice(n, p=p / p.sum())])
        d2 = np.minimum(d2, np.sum((xy - centres[-1]) ** 2, axis=1))
    centres = np.asarray(centres)
    for _ in range(25):
        _, label = cKDTree(centres).query(xy)
        total = np.bincount(label, weights, minlength=k)
        moved = np.column_stack(
            [np.bincount(label, weights * xy[:, c], minlength=k) for c in (0, 1)]
        )
        filled = total > 0
        centres[filled] = moved[filled] / total[filled, None]
    _, label = cKDTree(centres).query(xy)
    d = np.hypot(*(xy - centres[label]).T)
    order = np.lexsort((d, label))
    first = order[np.r_[True, label[order][1:] != label[order][:-1]]]
    return np.sort(first)


def _grow(
    pairs: np.ndarray, xy: np.ndarray, sources: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Contiguous groups by multi-source Dijkstra; returns labels and sources."""
    n = len(xy)
    w = np.hypot(*(xy[pairs[:, 0]] - xy[pairs[:, 1]]).T) + 1e-9
    graph = coo_matrix((w, (pairs[:, 0], pairs[:, 1])), shape=(n, n)).tocsr()
    _, _, src = dijkstra(
        graph, directed=False, indices=sources, min_only=True, return_predecessors=True
    )
    if np.any(src < 0):
        raise RuntimeError("commune adjacency graph is not connected")
    lookup = np.full(n, -1)
    lookup[sources] = np.arange(len(sources))
    return lookup[src], sources


def _groups(
    rng: np.random.Generator, xy: np.ndarray, pairs: np.ndarray, sizes: dict
) -> tuple[np.ndarray, np.ndarray]:
    """Department of each commune and region of each department."""
    n = len(xy)
    n_comp, _ = connected_components(
        coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n)),
        directed=False,
    )
    if n_comp != 1:
        raise RuntimeError("commune adjacency graph is not connected")
    sources = _kmeans_sources(rng, xy, sizes["departments"], np.ones(n))
    dept_of, _ = _grow(pairs, xy, sources)
    n_dept = dept_of.max() + 1
    dept_xy = np.column_stack(
        [np.bincount(dept_of, xy[:, c]) / np.bincount(dept_of) for c in (0, 1)]
    )
    dpairs = np.unique(np.sort(dept_of[pairs], axis=1), axis=0)
    dpairs = dpairs[dpairs[:, 0] != dpairs[:, 1]]
    rsources = _kmeans_sources(
        rng, dept_xy, sizes["regions"], np.bincount(dept_of, minlength=n_dept) ** 0.5
    )
    region_of_dept, _ = _grow(dpairs, dept_xy, rsources)
    return dept_of, region_of_dept


# ------------------------------------------------------------------------ population


def _people(
    rng: np.random.Generator,
    xy: np.ndarray,
    cells: np.ndarray,
    city_of: np.ndarray,
    cities: pd.DataFrame,
    dept_of: np.ndarray,
    region_of_dept: np.ndarray,
) -> pd.DataFrame:
    """Population, area and socio-economic indicators per commune."""
    n = len(xy)
    area = shapely.area(cells)
    region = region_of_dept[dept_of]
    n_regions = region.max() + 1
    city_xy = cities[["x", "y"]].to_numpy()
    d_city = np.hypot(
        xy[:, None, 0] - city_xy[None, :, 0], xy[:, None, 1] - city_xy[None, :, 1]
    )
    urban = city_of >= 0

    population = np.zeros(n)
    dens = _rural_density(
        xy, cities, np.array([[0.0, xy[:, 1].min(), 0, 0]]), rng.uniform(0.8, 1.4)
    )
    rural_w = dens * area * rng.lognormal(0.0, 0.45, n)
    population[~urban] = rng.uniform(7e6, 1e7) * rural_w[~urban] / rural_w[~urban].sum()
    for k, (sigma, city_pop) in enumerate(cities[["sigma", "population"]].to_numpy()):
        members = city_of == k
        w = np.exp(-d_city[members, k] / (1.5 * sigma)) * rng.lognormal(
            0, 0.3, members.sum()
        )
        population[members] = city_pop * w / w.sum()
    population = np.maximum(np.round(population), 50).astype(np.int64)

    north = (xy[:, 1] - xy[:, 1].min()) / np.ptp(xy[:, 1])
    region_effect = rng.normal(0.0, 0.35, n_regions)
    score = (
        1.1 * urban
        + 0.9 * np.exp(-d_city[:, 0] / 200.0)
        + 0.5 * np.exp(-d_city.min(axis=1) / 60.0)
        - 0.5 * north
        + region_effect[region]
        + rng.normal(0.0, 0.25, n)
    )

    def rate(intercept: float, slope: float, noise: float) -> np.ndarray:
        value = expit(intercept + slope * score + rng.normal(0.0, noise, n))
        return np.round(np.clip(value, 0.01, 0.99), 3)

    return pd.DataFrame(
        {
            "population": population,
            "area_km2": area,
            "urban": urban,
            "poverty_rate": rate(0.9, -1.1, 0.15),
            "literacy_rate": rate(-0.9, 1.1, 0.15),
            "internet_rate": rate(-2.0, 1.2, 0.2),
            "region": region,
            "d_capital": d_city[:, 0],
        }
    )


def _network(
    rng: np.random.Generator,
    xy: np.ndarray,
    city_of: np.ndarray,
    people: pd.DataFrame,
    dept_of: np.ndarray,
    sizes: dict,
) -> dict:
    """Existing centers (communes hosting them) and candidate-site communes."""
    n = len(xy)
    pop = people["population"].to_numpy().astype(float)
    region = people["region"].to_numpy()
    urban = people["urban"].to_numpy()
    n_centers = sizes["centers"]
    chosen: list[int] = []

    # Every region has its most populous commune served.
    for r in range(region.max() + 1):
        members = np.flatnonzero(region == r)
        chosen.append(int(members[np.argmax(pop[members])]))

    # Cities get a disproportionate share: ~22% capital, ~7% per secondary city.
    for k in range(city_of.max() + 1):
        share = 0.22 if k == 0 else 0.07
        members = np.setdiff1d(np.flatnonzero(city_of == k), chosen)
        take = min(len(members), max(1, round(share * n_centers)))
        if take and len(chosen) < n_centers:
            take = min(take, n_centers - len(chosen))
            chosen.extend(
                rng.choice(
                    members, take, replace=False, p=pop[members] / pop[members].sum()
                )
            )

    # Rural centers, preferably at department seats; remote regions (above all
    # the farthest one) are under-served.
    n_regions = region.max() + 1
    region_xy = np.column_stack(
        [np.bincount(region, xy[:, c]) / np.bincount(region) for c in (0, 1)]
    )
    cap_xy = xy[np.argmax(np.where(city_of == 0, pop, -1))]
    remoteness = np.hypot(*(region_xy - cap_xy).T)
    service = np.exp(-remoteness / 200.0) * rng.lognormal(0, 0.4, n_regions)
    service[np.argmax(remoteness)] *= 0.3
    seats = pd.Series(pop).groupby(dept_of).idxmax().to_numpy()
    preference = np.where(np.isin(np.arange(n), seats), 5.0, 1.0)
    pool = np.setdiff1d(np.flatnonzero(~urban), chosen)
    rest = min(n_centers - len(chosen), len(pool))
    if rest > 0:
        w = pop[pool] * preference[pool] * service[region[pool]] ** 2
        chosen.extend(rng.choice(pool, rest, replace=False, p=w / w.sum()))
    rest = n_centers - len(chosen)
    if rest > 0:
        pool = np.setdiff1d(np.arange(n), chosen)
        chosen.extend(
            rng.choice(pool, rest, replace=False, p=pop[pool] / pop[pool].sum())
        )
    centers = np.asarray(chosen[:n_centers], dtype=int)

    dist, nearest = cKDTree(xy[centers]).query(xy)

    # Candidates: communes without a center, favouring populous, far-off ones.
    pool = np.setdiff1d(np.arange(n), centers)
    w = np.sqrt(pop[pool]) * (1.0 + dist[pool] / 30.0)
    candidates = np.sort(
        rng.choice(pool, sizes["candidates"], replace=False, p=w / w.sum())
    )
    return {
        "centers": centers,
        "nearest": nearest,
        "distance": dist,
        "candidates": candidates,
    }


# ------------------------------------------------------------------------ operations


def _season(weeks: pd.DatetimeIndex) -> np.ndarray:
    """Multiplicative seasonality per week and doc type (CNI, PASS, ACTE)."""
    doy = (weeks.day_of_year.to_numpy() + 3) % 365

    def bump(peak: float, width: float) -> np.ndarray:
        gap = np.abs(doy - peak)
        gap = np.minimum(gap, 365 - gap)
        return np.exp(-0.5 * (gap / width) ** 2)

    holidays = bump(358, 8)
    return np.column_stack(
        [
            # CNI: exams (June) and school year (September).
            1 + 0.25 * bump(160, 25) + 0.30 * bump(245, 20) - 0.25 * holidays,
            # PASS: before summer travel.
            1 + 0.50 * bump(150, 35) + 0.15 * bump(200, 12) - 0.20 * holidays,
            # ACTE: exam files (May) and school enrolment (Aug-Sep).
            1 + 0.30 * bump(140, 20) + 0.65 * bump(250, 18) - 0.30 * holidays,
        ]
    )


def _operations(
    rng: np.random.Generator, people: pd.DataFrame, network: dict, order: np.ndarray
) -> dict:
    """Simulate weekly requests and each center as a fluid queue.

    Per (commune, doc type) the backlog obeys
    ``backlog = previous backlog + requests - rejected - delivered``; each week a
    center processes each pending file with probability ``min(1, effective
    capacity / pending)``. Requests are Gamma-Poisson (negative binomial).
    """
    n = len(people)
    weeks = pd.date_range(FIRST_WEEK, LAST_WEEK, freq="7D")
    n_weeks = len(weeks)
    nearest = network["nearest"]
    n_centers = len(network["centers"])
    pop = people["population"].to_numpy().astype(float)
    urban = people["urban"].to_numpy()
    region = people["region"].to_numpy()
    dist = network["distance"]

    decay = 0.15 + 0.85 * np.exp(-dist[:, None] / _DECAY_KM[None, :])
    propensity = np.column_stack(
        [
            0.5 + people["literacy_rate"].to_numpy(),
            np.exp(2.0 * people["internet_rate"].to_numpy() + 0.5 * urban - 1.0),
            # Younger, poorer populations register more (late) births.
            0.4 + people["poverty_rate"].to_numpy(),
        ]
    )
    base = pop[:, None] * _ANNUAL_RATE[None, :] / 52.0 * propensity * decay

    season = _season(weeks)
    growth = rng.uniform(0.03, 0.08, region.max() + 1)
    years = np.arange(n_weeks) / 52.1775
    trend = (1.0 + growth[None, :]) ** years[:, None]
    shock = rng.lognormal(0.0, 0.04, (n_weeks, 3))

    # Staffing was sized on the first year's demand with a target utilisation;
    # about a fifth of the centers (a third in the capital) were under-staffed.
    first_year = base * (season[:52].mean(axis=0) * trend[:52].mean())[None, :]
    expected = np.bincount(nearest, first_year.sum(axis=1), minlength=n_centers)
    in_capital = people["urban"].to_numpy()[network["centers"]] & (
        people["d_capital"].to_numpy()[network["centers"]] < 40.0
    )
    overloaded = rng.random(n_centers) < np.where(in_capital, 0.35, 0.2)
    target = np.where(
        overloaded,
        rng.uniform(0.92, 1.08, n_centers),
        rng.uniform(0.5, 0.82, n_centers),
    )
    productivity = rng.uniform(35.0, 50.0, n_centers)
    staff = np.maximum(2, np.round(expected / target / productivity)).astype(np.int64)
    capacity = np.round(staff * productivity).astype(np.int64)

    # Outputs follow ``order`` (commune code order) so the long table is a view.
    base, nearest, dist, region = (
        base[order],
        nearest[order],
        dist[order],
        region[order],
    )
    target_days = np.log(DOC_TYPES["target_delay_days"].to_numpy())[None, :]
    transmission = (dist / 80.0)[:, None]  # documents travel ~80 km a day
    shape = (n_weeks, n, 3)
    requests = np.empty(shape, np.int32)
    rejected = np.empty(shape, np.int32)
    delivered = np.empty(shape, np.int32)
    on_time = np.empty(shape, np.int32)
    backlog = np.empty(shape, np.int32)
    delay_mean = np.empty(shape)
    delay_p90 = np.empty(shape)
    pending = np.zeros((n, 3), np.int64)
    for t in range(n_weeks):
        lam = base * season[t] * trend[t, region][:, None] * shock[t]
        req = rng.poisson(lam * rng.gamma(12.0, 1.0 / 12.0, lam.shape))
        load = np.bincount(nearest, req.sum(axis=1), minlength=n_centers)
        util = load / capacity
        rho = np.clip(
            _BASE_REJECT[None, :] * rng.lognormal(0.0, 0.15, (n_centers, 3))
            + 0.25 * np.maximum(0.0, util - 0.7)[:, None] ** 2,
            0.0,
            0.6,
        )
        rej = rng.binomial(req, rho[nearest])
        prev_backlog = np.bincount(nearest, pending.sum(axis=1), minlength=n_centers)
        work = pending + req - rej
        total = np.bincount(nearest, work.sum(axis=1), minlength=n_centers)
        outage = np.where(rng.random(n_centers) < 0.01, 0.35, 1.0)
        effective = (
            capacity
            * rng.lognormal(0.0, 0.06, n_centers)
            * (1.0 + 0.15 * np.minimum(1.0, prev_backlog / capacity))
            * outage
        )
        served = np.minimum(1.0, effective / np.maximum(total, 1))
        done = rng.binomial(work, served[nearest][:, None])
        pending = work - done

        # Queue-like delays: convex in utilisation, plus the time to clear the
        # backlog; lognormal per row with a spread growing with utilisation.
        busy = np.minimum(util, 0.92)
        center_delay = (
            _BASE_DELAY[None, :] * (1.0 + 0.2 * busy / (1.0 - busy))[:, None]
            + 7.0 * (prev_backlog / effective)[:, None]
        ) * rng.lognormal(0.0, 0.08, (n_centers, 3))
        mean = (center_delay[nearest] + transmission) * rng.lognormal(0.0, 0.04, (n, 3))
        sigma = (0.35 + 0.15 * np.minimum(util, 1.2))[nearest][:, None]
        mu = np.log(mean) - sigma**2 / 2
        share = ndtr((target_days - mu) / sigma)

        requests[t], rejected[t], delivered[t], backlog[t] = req, rej, done, pending
        on_time[t] = rng.binomial(done, share)
        delay_mean[t] = np.round(mean, 1)
        delay_p90[t] = np.round(np.exp(mu + 1.2815516 * sigma), 1)
    return {
        "weeks": weeks,
        "requests": requests,
        "rejected": rejected,
        "delivered": delivered,
        "on_time": on_time,
        "backlog": backlog,
        "delay_mean": delay_mean,
        "delay_p90": delay_p90,
        "capacity": capacity,
        "staff": staff,
    }


# -------------------------------------------------------------------- codes and names


def _ranks(group: np.ndarray, value: np.ndarray) -> np.ndarray:
    """0-based rank of each item by decreasing ``value`` within its ``group``."""
    order = np.lexsort((np.arange(len(value)), -value, group))
    rank = np.empty(len(value), dtype=np.int64)
    starts = np.r_[True, group[order][1:] != group[order][:-1]]
    position = np.arange(len(order))
    rank[order] = position - np.maximum.accumulate(np.where(starts, position, 0))
    return rank


def _codes(pop: np.ndarray, dept_of: np.ndarray, region_of_dept: np.ndarray) -> dict:
    """Hierarchical codes numbered by decreasing population within the parent."""
    n_dept = len(region_of_dept)
    dept_pop = np.bincount(dept_of, pop, minlength=n_dept)
    region_pop = np.bincount(region_of_dept, dept_pop)
    region_rank = _ranks(np.zeros(len(region_pop), int), region_pop)
    dept_rank = _ranks(region_rank[region_of_dept], dept_pop)
    commune_rank = _ranks(dept_of, pop.astype(float))
    wr = max(2, len(str(len(region_pop))))
    wd = max(2, len(str(dept_rank.max() + 1)))
    wc = max(3, len(str(commune_rank.max() + 1)))
    region = np.array([f"R{k + 1:0{wr}d}" for k in region_rank], dtype=object)
    dept = np.array(
        [
            f"{region[r]}D{k + 1:0{wd}d}"
            for r, k in zip(region_of_dept, dept_rank, strict=True)
        ],
        dtype=object,
    )
    commune = np.array(
        [
            f"{dept[d]}C{k + 1:0{wc}d}"
            for d, k in zip(dept_of, commune_rank, strict=True)
        ],
        dtype=object,
    )
    return {
        "region": region,
        "department": dept,
        "commune": commune,
        "seat": commune_rank == 0,
    }


def _unique(
    rng: np.random.Generator,
    make: Callable[[np.random.Generator], str],
    used: set[str],
    tries: int = 30,
) -> str:
    """Draw names with ``make(rng)`` until one is unused; suffix as a last resort."""
    for _ in range(tries):
        name = make(rng)
        if name not in used:
            used.add(name)
            return name
    name = _names.make_unique([*sorted(used), name])[-1]
    used.add(name)
    return name


def _labels(
    rng: np.random.Generator,
    codes: dict,
    order: np.ndarray,
    city_of: np.ndarray,
    cities: pd.DataFrame,
    xy: np.ndarray,
    region_of_dept: np.ndarray,
    dept_of: np.ndarray,
) -> dict:
    """Country, city, commune, department and region names."""
    rivers = _names.river_names(rng, 5)
    used: set[str] = set(rivers)
    country = _unique(rng, _names.root, used)
    city_names = [_unique(rng, _names.root, used) for _ in range(len(cities))]
    n = len(xy)
    commune = np.empty(n, dtype=object)
    used_communes: set[str] = set()
    city_centre = {
        k: int(np.argmin(np.where(city_of == k, np.hypot(*(xy - c).T), np.inf)))
        for k, c in enumerate(cities[["x", "y"]].to_numpy())
    }
    for k, i in city_centre.items():
        commune[i] = city_names[k]
        used_communes.add(city_names[k])
    for i in order:
        if commune[i] is not None:
            continue
        k = city_of[i]
        if k >= 0:
            commune[i] = _unique(
                rng, lambda r, k=k: _names.urban_name(r, city_names[k]), used_communes
            )
        else:
            commune[i] = _unique(
                rng, lambda r: _names.commune_name(r, rivers), used_communes
            )

    seat_of_dept = np.empty(len(region_of_dept), dtype=int)
    seat_of_dept[dept_of[codes["seat"]]] = np.flatnonzero(codes["seat"])
    department = commune[seat_of_dept]

    n_regions = region_of_dept.max() + 1
    centre = xy.mean(axis=0)
    size = np.sqrt(np.ptp(xy[:, 0]) * np.ptp(xy[:, 1]) / np.pi)
    region_xy = np.column_stack(
        [
            np.bincount(region_of_dept[dept_of], xy[:, c])
            / np.bincount(region_of_dept[dept_of])
            for c in (0, 1)
        ]
    )
    capital_region = region_of_dept[dept_of[city_centre[0]]]
    region = np.empty(n_regions, dtype=object)
    used_regions = {city_names[0]}
    region[capital_region] = city_names[0]
    for r in np.argsort(codes["region"][np.arange(n_regions)], kind="stable"):
        if r == capital_region:
            continue
        dx, dy = region_xy[r] - centre
        sector = None
        if np.hypot(dx, dy) > 0.25 * size:
            sector = int(np.round(np.arctan2(dy, dx) / (np.pi / 4))) % 8
        region[r] = _unique(
            rng, lambda g, s=sector: _names.region_name(g, s, rivers), used_regions
        )
    return {
        "country": country,
        "commune": commune,
        "department": department,
        "region": region,
    }


# ------------------------------------------------------------------------- assembling


def _units(
    frame: tuple[float, float],
    cells: np.ndarray,
    people: pd.DataFrame,
    codes: dict,
    order: np.ndarray,
    labels: dict,
    dept_of: np.ndarray,
    region_of_dept: np.ndarray,
) -> gpd.GeoDataFrame:
    """One row per region, department and commune, EPSG:4326."""
    rates = ["poverty_rate", "literacy_rate", "internet_rate"]
    pop = people["population"].to_numpy()
    region_of = region_of_dept[dept_of]
    frames = []
    for level, group, code_of, name_of, parent in (
        (0, region_of, codes["region"], labels["region"], None),
        (1, dept_of, codes["department"], labels["department"], codes["region"]),
    ):
        k = len(code_of)
        weights = np.bincount(group, pop, minlength=k)
        geoms = np.empty(k, dtype=object)
        for g in range(k):
            geoms[g] = _dissolve(cells[group == g])
        table = pd.DataFrame(
            {
                "unit_code": code_of,
                "name": name_of,
                "level": level,
                "parent_code": (None if parent is None else parent[region_of_dept]),
                "population": weights.astype(np.int64),
                "area_km2": np.bincount(group, people["area_km2"], minlength=k),
                "urban": False,
            }
        )
        for rate in rates:
            table[rate] = np.round(
                np.bincount(group, people[rate] * pop, minlength=k) / weights, 3
            )
        table["geometry"] = geoms
        frames.append(table)
    communes = pd.DataFrame(
        {
            "unit_code": codes["commune"],
            "name": labels["commune"],
            "level": 2,
            "parent_code": codes["department"][dept_of],
            "population": pop,
            "area_km2": people["area_km2"].to_numpy(),
            "urban": people["urban"].to_numpy(),
            **{rate: people[rate].to_numpy() for rate in rates},
            "geometry": cells,
        }
    ).iloc[order]
    frames.append(communes)
    table = pd.concat(frames, ignore_index=True)
    table = table.sort_values(["level", "unit_code"], ignore_index=True)
    table["parent_code"] = table["parent_code"].astype(object)
    table.loc[table["level"] == 0, "parent_code"] = None
    table["unit_code"] = table["unit_code"].astype(str)
    table["name"] = table["name"].astype(str)
    table["level"] = table["level"].astype(np.int64)
    table["urban"] = table["urban"].astype(bool)
    table["area_km2"] = table["area_km2"].round(3)
    geometry = _geoms_to_lonlat(table["geometry"].to_numpy(), *frame)
    return gpd.GeoDataFrame(
        table.drop(columns="geometry"), geometry=geometry, crs="EPSG:4326"
    )


def _dissolve(parts: np.ndarray) -> shapely.Geometry:
    """Union of edge-matched cells; ``coverage_union_all`` is exact and fast."""
    merged = shapely.coverage_union_all(parts)
    if not merged.is_valid or merged.geom_type != "Polygon":
        merged = shapely.union_all(parts, grid_size=GRID_KM)
    return merged


def _sites(
    rng: np.random.Generator,
    frame: tuple[float, float],
    xy: np.ndarray,
    people: pd.DataFrame,
    network: dict,
    ops: dict,
    codes: dict,
    labels: dict,
    city_of: np.ndarray,
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Existing centers and candidate sites, numbered in commune-code order."""
    lon, lat = _to_lonlat(xy[:, 0], xy[:, 1], *frame)
    hosts = network["centers"]
    by_code = np.argsort(codes["commune"][hosts], kind="stable")
    width = max(3, len(str(len(hosts))))
    center_code = np.empty(len(hosts), dtype=object)
    center_code[by_code] = [f"SC{k + 1:0{width}d}" for k in range(len(hosts))]
    first = dt.date(1995, 1, 1).toordinal()
    last = dt.date(2022, 12, 31).toordinal()
    opened = rng.integers(first, last, len(hosts))
    opened = np.where(
        city_of[hosts] == 0,
        np.minimum(opened, rng.integers(first, last, len(hosts))),
        opened,
    )
    centers = (
        pd.DataFrame(
            {
                "center_code": center_code.astype(str),
                "name": ["Centre de " + labels["commune"][i] for i in hosts],
                "commune_code": codes["commune"][hosts].astype(str),
                "lon": lon[hosts],
                "lat": lat[hosts],
                "capacity_week": ops["capacity"],
                "staff": ops["staff"],
                "status": "open",
                "opened_on": [dt.date.fromordinal(int(o)) for o in opened],
            }
        )
        .iloc[by_code]
        .reset_index(drop=True)
    )

    sites = network["candidates"]
    sites = sites[np.argsort(codes["commune"][sites], kind="stable")]
    width = max(3, len(str(len(sites))))
    urban = people["urban"].to_numpy()[sites]
    cost = rng.lognormal(np.log(90.0), 0.25, len(sites)) * (1.0 + 1.2 * urban)
    cost *= np.where(city_of[sites] == 0, 1.4, 1.0)
    candidates = pd.DataFrame(
        {
            "site_code": [f"CS{k + 1:0{width}d}" for k in range(len(sites))],
            "name": ["Site de " + labels["commune"][i] for i in sites],
            "commune_code": codes["commune"][sites].astype(str),
            "lon": lon[sites],
            "lat": lat[sites],
            "opening_cost": np.round(cost, 1),
            "capacity_week": np.where(urban, 500, 250).astype(np.int64),
        }
    )
    return centers, candidates, center_code


def _operations_frame(
    ops: dict, order: np.ndarray, center_code: np.ndarray, network: dict, codes: dict
) -> pd.DataFrame:
    """Long table (week, commune, doc type) with communes in code order."""
    n_weeks, n = len(ops["weeks"]), len(order)
    per_week = n * 3
    commune_idx = np.tile(np.repeat(np.arange(n, dtype=np.int32), 3), n_weeks)
    doc_idx = np.tile(np.arange(3, dtype=np.int8), n * n_weeks)
    center_of = np.asarray(center_code[network["nearest"][order]], dtype=str)
    center_cats = np.sort(center_code.astype(str))
    center_idx = np.searchsorted(center_cats, center_of).astype(np.int32)

    def column(name: str) -> np.ndarray:
        return ops[name].reshape(-1)

    return pd.DataFrame(
        {
            "week": np.repeat(
                ops["weeks"].to_numpy().astype("datetime64[ns]"), per_week
            ),
            "commune_code": pd.Categorical.from_codes(
                commune_idx, categories=pd.Index(codes["commune"][order].astype(str))
            ),
            "center_code": pd.Categorical.from_codes(
                np.tile(np.repeat(center_idx, 3), n_weeks),
                categories=pd.Index(center_cats),
            ),
            "doc_type": pd.Categorical.from_codes(
                doc_idx, categories=pd.Index(DOC_TYPES["code"].tolist())
            ),
            "requests": column("requests"),
            "delivered": column("delivered"),
            "delivered_on_time": column("on_time"),
            "rejected": column("rejected"),
            "backlog": column("backlog"),
            "delay_mean_days": column("delay_mean"),
            "delay_p90_days": column("delay_p90"),
        }
    )
