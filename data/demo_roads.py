"""A generated road network for the synthetic demo country, deterministic.

* **trunk** roads (paved) join the cities along a minimum spanning tree;
* **secondary** roads (mostly paved) join each department's largest commune to
  the cities and to one another (a spanning tree over seats and cities);
* **tracks** (unpaved) join every commune to its neighbours (a spanning tree
  over the communes' points) and **local** roads add a few loops;
* a **river** crosses the country between the capital and the nearest city:
  tracks and local roads stop at its banks, secondary and trunk roads cross it
  on bridges, except the trunk road from the capital to that city, whose
  bridge is missing, so travel there takes a detour.

Every commune's representative point is a vertex of the network, so the walk
from a commune to the road is short; the seed is the country's.

Examples
--------
>>> from data.demo import generate_demo
>>> lines = demo_roads(generate_demo(seed=1, n_communes=60))
>>> sorted(lines["road_class"].unique())
['local', 'secondary', 'track', 'trunk']
>>> bool(lines.geometry.intersects(demo_river(generate_demo(1, 60))).any())
True
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial import cKDTree

__all__ = ["demo_roads", "demo_river"]

#: Minimum distance between two cities (degrees, about 30 km).
_CITY_GAP_DEG = 0.27


def _points(country: Any) -> pd.DataFrame:
    units = country.units
    communes = units[units["level"] == units["level"].max()]
    rep = communes.geometry.representative_point()
    return pd.DataFrame(
        {
            "code": communes["unit_code"].to_numpy(),
            "parent": communes["parent_code"].to_numpy(),
            "population": communes["population"].to_numpy(float),
            "urban": communes["urban"].to_numpy(bool),
            "lon": rep.x.to_numpy(),
            "lat": rep.y.to_numpy(),
        }
    )


def _cities(pts: pd.DataFrame) -> np.ndarray:
    """Row indices of city communes: the largest urban communes, well apart."""
    order = np.argsort(-pts["population"].to_numpy(), kind="stable")
    urban = pts["urban"].to_numpy(bool)
    xy = pts[["lon", "lat"]].to_numpy(float)
    chosen: list[int] = []
    for i in order:
        if chosen and not urban[i]:
            continue
        if all(np.hypot(*(xy[i] - xy[j])) > _CITY_GAP_DEG for j in chosen):
            chosen.append(int(i))
        if len(chosen) == 6:
            break
    return np.array(chosen, dtype=np.int64)


def _tree(xy: np.ndarray, k: int = 8) -> np.ndarray:
    """Edges (i, j) of a minimum spanning tree over the k nearest neighbours
    (complete graph when there are few points)."""
    n = len(xy)
    if n < 2:
        return np.zeros((0, 2), dtype=np.int64)
    k = min(k, n - 1)
    dist, idx = cKDTree(xy).query(xy, k=k + 1)
    rows = np.repeat(np.arange(n), k)
    cols = idx[:, 1:].ravel()
    w = np.maximum(dist[:, 1:].ravel(), 1e-12)
    mst = minimum_spanning_tree(coo_matrix((w, (rows, cols)), shape=(n, n))).tocoo()
    edges = np.stack([mst.row, mst.col], axis=1).astype(np.int64)
    # k nearest neighbours may leave the tree in pieces: join the pieces
    from scipy.sparse.csgraph import connected_components

    _, comp = connected_components(mst, directed=False)
    while comp.max() > 0:
        a = np.flatnonzero(comp == 0)
        b = np.flatnonzero(comp != 0)
        d, j = cKDTree(xy[b]).query(xy[a])
        i = int(np.argmin(d))
        edges = np.vstack([edges, [[a[i], b[j[i]]]]])
        comp[comp == comp[b[j[i]]]] = 0
    return edges


def _bend(rng: np.random.Generator, a: np.ndarray, b: np.ndarray, pieces: int) -> list:
    """A road from a to b through ``pieces - 1`` gently jittered points."""
    t = np.linspace(0.0, 1.0, pieces + 1)[:, None]
    line = a + (b - a) * t
    normal = np.array([-(b - a)[1], (b - a)[0]])
    offsets = rng.normal(0.0, 0.04, pieces + 1)
    offsets[[0, -1]] = 0.0
    return (line + offsets[:, None] * normal).tolist()


def demo_river(country: Any) -> shapely.LineString:
    """The river: across the country, between the capital and the nearest city."""
    pts = _points(country)
    cities = _cities(pts)
    xy = pts[["lon", "lat"]].to_numpy()
    cap = xy[cities[0]]
    other = xy[cities[1:]] if len(cities) > 1 else xy[[int(np.argmax(pts["lon"]))]]
    near = other[np.argmin(np.hypot(*(other - cap).T))]
    mid = (cap + near) / 2.0
    direction = np.array([-(near - cap)[1], (near - cap)[0]])
    direction /= np.hypot(*direction)
    along = np.linspace(-12.0, 12.0, 241)
    unit = (near - cap) / np.hypot(*(near - cap))
    coords = (
        mid + along[:, None] * direction + np.outer(0.05 * np.sin(along * 6.0), unit)
    )
    return shapely.LineString(coords)


def _paths(graph: Any, pairs: np.ndarray) -> list[list[int]]:
    """Shortest paths (lists of points) over ``graph`` between each pair."""
    from scipy.sparse.csgraph import dijkstra

    out = []
    sources = np.unique(pairs[:, 0])
    _, pred = dijkstra(graph, directed=False, indices=sources, return_predecessors=True)
    row = {int(s): k for k, s in enumerate(sources)}
    for a, b in pairs:
        path = [int(b)]
        while path[-1] != a and path[-1] >= 0:
            path.append(int(pred[row[int(a)], path[-1]]))
        if path[-1] == a:
            out.append(path[::-1])
    return out


def demo_roads(country: Any) -> gpd.GeoDataFrame:
    """The demo country's roads: ``road_class`` and ``surface`` per line.

    Roads run from commune point to commune point over a neighbourhood graph
    of the communes (each point joined to its 6 nearest), so that roads meet
    at shared points as in OpenStreetMap: trunk and secondary roads follow
    shortest paths over it, tracks a spanning tree, local roads some extra
    links; each center and candidate site is joined by a local road to the
    nearest commune point on its bank.

    Parameters
    ----------
    country : data.demo.DemoCountry

    Returns
    -------
    geopandas.GeoDataFrame
        LineStrings in EPSG:4326, one per link between two commune points.
    """
    rng = np.random.default_rng([int(country.seed), 16])
    pts = _points(country)
    xy = pts[["lon", "lat"]].to_numpy()
    n = len(xy)
    cities = _cities(pts)
    seats = (
        pts.sort_values("population", ascending=False)
        .drop_duplicates("parent")
        .index.to_numpy()
    )
    seats = np.setdiff1d(seats, cities)
    river = demo_river(country)
    k = min(6, n - 1)
    dist, idx = cKDTree(xy).query(xy, k=k + 1)
    a = np.repeat(np.arange(n), k)
    b = idx[:, 1:].ravel()
    link = np.stack([np.minimum(a, b), np.maximum(a, b)], axis=1)
    link = np.unique(link, axis=0)
    geoms = shapely.linestrings(
        xy[link].reshape(-1, 2), indices=np.repeat(np.arange(len(link)), 2)
    )
    over_river = shapely.intersects(geoms, river)
    length = np.hypot(*(xy[link[:, 0]] - xy[link[:, 1]]).T)
    # roads prefer not to cross the river: a crossing costs as much as 40 km
    cost = length + over_river * 0.36
    graph = coo_matrix((cost, (link[:, 0], link[:, 1])), shape=(n, n)).tocsr()
    klass = np.full(len(link), "", dtype=object)
    pos = {(int(i), int(j)): e for e, (i, j) in enumerate(link)}

    def mark(paths: list[list[int]], name: str) -> None:
        for path in paths:
            for i, j in zip(path[:-1], path[1:], strict=True):
                e = pos[(min(i, j), max(i, j))]
                if klass[e] in ("", "track", "local") or name == "trunk":
                    klass[e] = name

    hubs = np.concatenate([cities, seats])
    mark(_paths(graph, hubs[_tree(xy[hubs])]), "secondary")
    mark(_paths(graph, cities[_tree(xy[cities])]), "trunk")
    tree = _tree(xy)
    tree = np.stack([tree.min(axis=1), tree.max(axis=1)], axis=1)
    for i, j in tree:
        e = pos.get((int(i), int(j)))
        if e is not None and klass[e] == "":
            klass[e] = "track"
    extra = (klass == "") & (rng.random(len(link)) < 0.15)
    klass[extra] = "local"
    # the trunk link from the capital towards the nearest city loses its bridge
    trunk_cross = np.flatnonzero((klass == "trunk") & over_river)
    missing = trunk_cross[:1]
    keep = (klass != "") & ~(over_river & np.isin(klass, ["track", "local"]))
    keep[missing] = False
    # a commune whose every link crossed the river gets a track on its own bank
    linked = np.zeros(n, dtype=bool)
    linked[link[keep].ravel()] = True
    for i in np.flatnonzero(~linked):
        for j in idx[i, 1:]:
            e = pos[(min(i, int(j)), max(i, int(j)))]
            if not over_river[e]:
                klass[e], keep[e] = "track", True
                break
    surface = np.where(np.isin(klass, ["trunk"]), "paved", "unpaved")
    secondary = klass == "secondary"
    surface[secondary] = np.where(rng.random(secondary.sum()) < 0.7, "paved", "unpaved")
    roads = gpd.GeoDataFrame(
        {"road_class": klass[keep].astype(str), "surface": surface[keep]},
        geometry=geoms[keep],
        crs=4326,
    )
    # every center and candidate site on a local road to the nearest commune point
    # on the same bank of the river
    sites = np.vstack(
        [country.centers[["lon", "lat"]].to_numpy(float),
         country.candidates[["lon", "lat"]].to_numpy(float)]
    )  # fmt: skip
    _, near = cKDTree(xy).query(sites, k=min(4, n))
    near = near.reshape(len(sites), -1)
    spurs = shapely.linestrings(
        np.stack(
            [np.repeat(sites, near.shape[1], axis=0), xy[near.ravel()]], axis=1
        ).reshape(-1, 2),
        indices=np.repeat(np.arange(near.size), 2),
    ).reshape(near.shape)
    dry = ~shapely.intersects(spurs, river)
    first = np.where(dry.any(axis=1), dry.argmax(axis=1), 0)
    chosen = spurs[np.arange(len(sites)), first]
    chosen = chosen[shapely.length(chosen) > 1e-6]
    local = gpd.GeoDataFrame(
        {"road_class": ["local"] * len(chosen), "surface": ["unpaved"] * len(chosen)},
        geometry=chosen,
        crs=4326,
    )
    return gpd.GeoDataFrame(pd.concat([roads, local], ignore_index=True), crs=4326)
