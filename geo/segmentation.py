"""Segmentation of communes and population-weighted cluster locations.

Two tools for analysts and planners, on plain frames and arrays:

- :func:`segment` groups communes that behave alike: chosen indicators are imputed
  (median, reported), standardised, then clustered by KMeans or, with
  ``method='contiguous'``, by Ward agglomerative clustering restricted to
  neighbouring communes (each cluster is one connected set of communes). The number
  of clusters is chosen by the silhouette over a range unless given. Labels are
  ordered by cluster population (0 is the most populated), so the same inputs give
  the same labels. A commune of unknown population (NaN) is never counted as 0
  inhabitants: it is left out of the segmentation when a chosen indicator needs the
  population (``population_features``: per-capita rates, densities, population-
  weighted means), and otherwise clustered but left out of the clusters'
  population; both counts are reported.
- :func:`cluster_sites` proposes ``k`` sites for new centers by KMeans on the
  communes' representative points weighted by population, in a local azimuthal
  equidistant projection (metres, centred on the communes), each site snapped to
  the commune it falls in; communes of unknown population are left out (counted in
  ``attrs["population_unknown"]``).

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"a": [0.0, 0.1, 0.2, 10.0, 10.1, 10.2],
...                       "population": [1, 1, 1, 5, 5, 5]})
>>> seg = segment(frame, ["a"], k=2)
>>> seg.labels.tolist()
[1, 1, 1, 0, 0, 0]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from sklearn.cluster import AgglomerativeClustering, KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import silhouette_score

from geo.distance import haversine_km, local_crs

METHODS = ("kmeans", "contiguous")
DEFAULT_K_RANGE = (2, 10)
RANDOM_STATE = 0
TRAIT_THRESHOLD = 0.5  # |z| of a cluster mean, in national standard deviations
MAX_TRAITS = 3
WGS84 = "EPSG:4326"

Progress = Callable[[int, int], None]


class UnknownPopulationError(ValueError):
    """No commune of the area has a known population, and the analysis needs one.

    ``features`` are the chosen indicators that need the population (empty for the
    proposed sites, weighted by it); ``communes`` is the number of communes.
    """

    def __init__(self, features: Sequence[str], communes: int) -> None:
        needs = f" (needed by {', '.join(features)})" if features else ""
        super().__init__(
            f"none of the {communes} communes has a known population{needs}: import "
            "their population, or choose indicators that do not depend on it"
        )
        self.features = tuple(features)
        self.communes = communes


# -- features -----------------------------------------------------------------------
@dataclass(frozen=True)
class Prepared:
    """Features ready for clustering, with the imputation made visible.

    Attributes
    ----------
    X : ndarray
        Standardised features (zero mean, unit variance; a constant feature is 0).
    features : tuple of str
    imputed : dict
        Number of communes whose value was missing and replaced, per feature.
    fill_values : dict
        The value used to replace missing ones (the feature's median).
    imputed_rows : ndarray of bool
        Communes with at least one imputed value.
    """

    X: np.ndarray
    features: tuple[str, ...]
    imputed: dict[str, int]
    fill_values: dict[str, float]
    imputed_rows: np.ndarray


def prepare_features(
    frame: pd.DataFrame, features: Sequence[str], log_features: Sequence[str] = ()
) -> Prepared:
    """Impute missing values by the median and standardise the chosen features.

    Parameters
    ----------
    frame : DataFrame
        One row per commune.
    features : sequence of str
        Columns of ``frame`` to use.
    log_features : sequence of str
        Features clustered as ``log(1 + value)`` (very skewed ones, such as the
        population density, where a capital would otherwise be a cluster alone).

    Examples
    --------
    >>> frame = pd.DataFrame({"a": [1.0, None, 3.0], "b": [2.0, 2.0, 2.0]})
    >>> p = prepare_features(frame, ["a", "b"])
    >>> p.imputed, p.fill_values["a"]
    ({'a': 1, 'b': 0}, 2.0)
    >>> p.X[:, 1].tolist()
    [0.0, 0.0, 0.0]
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"'frame' should be DataFrame, got {type(frame)}")
    features = tuple(features)
    if not features:
        raise ValueError("choose at least one indicator to segment on")
    unknown = [f for f in features if f not in frame.columns]
    if unknown:
        raise ValueError(f"unknown indicators: {', '.join(map(str, unknown))}")
    if len(set(features)) != len(features):
        raise ValueError("each indicator should be chosen once")
    values = frame[list(features)].apply(pd.to_numeric, errors="coerce")
    raw = values.to_numpy(dtype=float, copy=True)
    raw[~np.isfinite(raw)] = np.nan
    for j, f in enumerate(features):
        if f in log_features:
            if np.nanmin(raw[:, j]) < 0:
                raise ValueError(f"indicator {f!r} has negative values: no log scale")
            raw[:, j] = np.log1p(raw[:, j])
    empty = [f for f, col in zip(features, raw.T, strict=True) if np.isnan(col).all()]
    if empty:
        raise ValueError(f"indicators with no value in any commune: {', '.join(empty)}")
    missing = np.isnan(raw)
    fills = np.nanmedian(raw, axis=0)
    filled = np.where(missing, fills, raw)
    mean = filled.mean(axis=0)
    std = filled.std(axis=0)
    X = (filled - mean) / np.where(std > 0, std, 1.0)
    return Prepared(
        X=X,
        features=features,
        imputed={f: int(n) for f, n in zip(features, missing.sum(axis=0), strict=True)},
        fill_values={f: float(v) for f, v in zip(features, fills, strict=True)},
        imputed_rows=missing.any(axis=1),
    )


# -- contiguity -----------------------------------------------------------------------
def adjacency(geoms) -> sparse.csr_matrix:
    """Queen contiguity of polygons: 1 where two polygons share a border or a corner.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> a = adjacency([box(0, 0, 1, 1), box(1, 0, 2, 1), box(5, 5, 6, 6)])
    >>> a.toarray().tolist()
    [[0, 1, 0], [1, 0, 0], [0, 0, 0]]
    """
    geoms = np.asarray(geoms, dtype=object)
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    keep = left != right
    n = len(geoms)
    data = np.ones(int(keep.sum()), dtype=np.int64)
    matrix = sparse.csr_matrix((data, (left[keep], right[keep])), shape=(n, n))
    matrix.data[:] = 1
    return matrix


def bridge_components(
    matrix: sparse.spmatrix, xy: np.ndarray
) -> tuple[sparse.csr_matrix, list[tuple[int, int]]]:
    """Join separate groups of neighbours (islands) to their nearest group.

    Each extra connected component is linked to the rest by one edge between its
    closest pair of points (``xy`` in a metric CRS), so a contiguous clustering can
    run on a territory with islands; the added pairs are returned so they can be
    reported.

    Examples
    --------
    >>> m = sparse.csr_matrix(np.zeros((2, 2), dtype=int))
    >>> bridge_components(m, np.array([[0.0, 0.0], [3.0, 0.0]]))[1]
    [(0, 1)]
    """
    matrix = sparse.lil_matrix(matrix, dtype=np.int64)
    bridges: list[tuple[int, int]] = []
    while True:
        n_comp, comp = connected_components(matrix, directed=False)
        if n_comp <= 1:
            return matrix.tocsr(), bridges
        sizes = np.bincount(comp)
        main = int(np.argmax(sizes))
        inside = np.flatnonzero(comp == main)
        outside = np.flatnonzero(comp != main)
        dist, idx = cKDTree(xy[inside]).query(xy[outside])
        best = int(np.argmin(dist))
        i, j = int(outside[best]), int(inside[idx[best]])
        matrix[i, j] = matrix[j, i] = 1
        bridges.append((min(i, j), max(i, j)))


def is_contiguous(labels: np.ndarray, matrix: sparse.spmatrix) -> bool:
    """Whether every cluster is one connected set in the adjacency ``matrix``.

    Examples
    --------
    >>> m = sparse.csr_matrix(np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]]))
    >>> is_contiguous(np.array([0, 0, 1]), m), is_contiguous(np.array([0, 1, 0]), m)
    (True, False)
    """
    labels = np.asarray(labels)
    matrix = sparse.csr_matrix(matrix)
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        sub = matrix[members][:, members]
        if connected_components(sub, directed=False)[0] != 1:
            return False
    return True


# -- clustering ---------------------------------------------------------------------
def order_labels(labels: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Renumber clusters by total weight, largest first (ties: first row seen).

    Examples
    --------
    >>> order_labels(np.array([5, 5, 2, 9]), np.array([1, 1, 10, 1])).tolist()
    [1, 1, 0, 2]
    """
    labels = np.asarray(labels)
    weights = np.ones(len(labels)) if weights is None else np.asarray(weights, float)
    uniq, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    totals = np.bincount(inverse, weights=weights, minlength=len(uniq))
    order = sorted(range(len(uniq)), key=lambda c: (-totals[c], first[c]))
    rank = np.empty(len(uniq), dtype=int)
    rank[order] = np.arange(len(uniq))
    return rank[inverse]


def fit_labels(
    X: np.ndarray,
    k: int,
    method: str = "kmeans",
    connectivity: sparse.spmatrix | None = None,
    random_state: int = RANDOM_STATE,
) -> np.ndarray:
    """Cluster rows of ``X`` into ``k`` groups (raw labels, not yet ordered).

    Examples
    --------
    >>> X = np.array([[0.0], [0.1], [5.0], [5.1]])
    >>> len(set(fit_labels(X, 2).tolist()))
    2
    """
    if method == "kmeans":
        model = KMeans(n_clusters=k, n_init=10, random_state=random_state)
        return model.fit_predict(X)
    if method == "contiguous":
        if connectivity is None:
            raise ValueError("the contiguous method needs the communes' adjacency")
        model = AgglomerativeClustering(
            n_clusters=k, linkage="ward", connectivity=connectivity
        )
        return model.fit_predict(X)
    raise ValueError(f"method should be one of {METHODS}, got {method!r}")


def within_ss(X: np.ndarray, labels: np.ndarray) -> float:
    """Within-cluster sum of squares (the inertia of the elbow curve).

    Examples
    --------
    >>> within_ss(np.array([[0.0], [2.0], [10.0]]), np.array([0, 0, 1]))
    2.0
    """
    total = 0.0
    for label in np.unique(labels):
        part = X[labels == label]
        total += float(((part - part.mean(axis=0)) ** 2).sum())
    return total


@dataclass(frozen=True)
class KScores:
    """Elbow and silhouette curves over the tried ``ks``; ``best_k`` by silhouette."""

    ks: list[int]
    inertia: list[float]
    silhouette: list[float]
    best_k: int


def score_k(
    X: np.ndarray,
    k_range: tuple[int, int] = DEFAULT_K_RANGE,
    method: str = "kmeans",
    connectivity: sparse.spmatrix | None = None,
    random_state: int = RANDOM_STATE,
    progress: Progress | None = None,
) -> tuple[KScores, dict[int, np.ndarray]]:
    """Inertia and silhouette for each k of ``k_range`` (inclusive); best by silhouette.

    The range is cut to ``n - 1`` clusters at most. Ties go to the smaller k.

    Examples
    --------
    >>> X = np.array([[0.0], [0.1], [5.0], [5.1], [10.0], [10.1]])
    >>> scores, _ = score_k(X, (2, 4))
    >>> scores.ks, scores.best_k
    ([2, 3, 4], 3)
    """
    low, high = _check_range(k_range, len(X))
    ks = list(range(low, high + 1))
    inertia, silhouette, labels = [], [], {}
    for step, k in enumerate(ks):
        lab = fit_labels(X, k, method, connectivity, random_state)
        labels[k] = lab
        inertia.append(within_ss(X, lab))
        n_found = len(np.unique(lab))
        silhouette.append(
            float(silhouette_score(X, lab)) if 1 < n_found < len(X) else float("nan")
        )
        if progress:
            progress(step + 1, len(ks))
    sil = np.array(silhouette)
    if np.isnan(sil).all():
        raise ValueError(
            "no number of clusters separates these communes (all values identical?)"
        )
    best = ks[int(np.nanargmax(np.round(sil, 12)))]
    return KScores(ks, inertia, silhouette, best), labels


def _check_range(k_range, n: int) -> tuple[int, int]:
    try:
        low, high = (int(v) for v in k_range)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"k_range should be two integers, got {k_range!r}") from exc
    if low < 2 or high < low:
        raise ValueError(f"k_range should satisfy 2 <= low <= high, got {k_range!r}")
    if n < 3:
        raise ValueError(f"at least 3 communes are needed to segment, got {n}")
    return low, min(high, n - 1)


# -- profiles and words ---------------------------------------------------------------
def profile(
    frame: pd.DataFrame,
    labels: np.ndarray,
    features: Sequence[str],
    population: str = "population",
) -> pd.DataFrame:
    """Size, population, mean of each feature and how it differs from the overall mean.

    Means are plain means over the cluster's communes of the *observed* values
    (imputed values are left out, so imputation never shapes a profile).
    ``<f>_diff`` is the cluster mean minus the mean of all communes; ``<f>_z`` the
    same difference in standard deviations of all communes. ``population`` sums
    the known populations (NaN when none of the cluster's communes has one);
    ``population_unknown`` counts the communes whose population is unknown.

    Examples
    --------
    >>> frame = pd.DataFrame({"a": [1.0, 3.0, 5.0, 7.0], "population": [1, 1, 2, 2]})
    >>> p = profile(frame, np.array([0, 0, 1, 1]), ["a"])
    >>> p[["cluster", "n_communes", "population", "a_mean", "a_diff"]].values.tolist()
    [[0.0, 2.0, 2.0, 2.0, -2.0], [1.0, 2.0, 4.0, 6.0, 2.0]]
    """
    labels = np.asarray(labels)
    values = frame[list(features)].apply(pd.to_numeric, errors="coerce")
    overall_mean = values.mean()
    overall_std = values.std(ddof=0)
    pop = pd.to_numeric(frame[population], errors="coerce").to_numpy(dtype=float)
    rows = []
    total_pop = float(np.nansum(pop))
    for label in sorted(np.unique(labels)):
        mask = labels == label
        known = ~np.isnan(pop[mask])
        people = float(pop[mask][known].sum()) if known.any() else float("nan")
        row = {
            "cluster": int(label),
            "n_communes": int(mask.sum()),
            "population": people,
            "population_share": people / total_pop * 100.0
            if total_pop > 0
            else float("nan"),
            "population_unknown": int((~known).sum()),
        }
        means = values[mask].mean()
        for f in features:
            diff = float(means[f] - overall_mean[f])
            std = float(overall_std[f])
            row[f"{f}_mean"] = float(means[f])
            row[f"{f}_diff"] = diff
            row[f"{f}_z"] = diff / std if std > 0 else 0.0
        rows.append(row)
    return pd.DataFrame(rows)


def traits(
    prof: pd.DataFrame,
    features: Sequence[str],
    threshold: float = TRAIT_THRESHOLD,
    max_traits: int = MAX_TRAITS,
) -> dict[int, list[tuple[str, str]]]:
    """The features that set each cluster apart: ``(feature, 'high' | 'low')``.

    A feature counts when the cluster mean is at least ``threshold`` national
    standard deviations from the national mean; the strongest come first.

    Examples
    --------
    >>> prof = pd.DataFrame({"cluster": [0], "a_z": [-1.2], "b_z": [0.1],
    ...                      "c_z": [0.7]})
    >>> traits(prof, ["a", "b", "c"])
    {0: [('a', 'low'), ('c', 'high')]}
    """
    out: dict[int, list[tuple[str, str]]] = {}
    for row in prof.to_dict("records"):
        found = [
            (f, float(row[f"{f}_z"]))
            for f in features
            if np.isfinite(row[f"{f}_z"]) and abs(row[f"{f}_z"]) >= threshold
        ]
        found.sort(key=lambda item: -abs(item[1]))
        out[int(row["cluster"])] = [
            (f, "high" if z > 0 else "low") for f, z in found[:max_traits]
        ]
    return out


# Which recommendation a cluster's traits call for, first match wins.
_RULES: list[tuple[str, Callable[[set[tuple[str, str]]], bool]]] = [
    ("new_site", lambda t: ("distance_km", "high") in t),
    (
        "reinforce",
        lambda t: ("mean_delay", "high") in t or ("rejection_rate", "high") in t,
    ),
    (
        "outreach",
        lambda t: (
            ("demand_per_1000", "low") in t
            and bool(
                {
                    ("poverty_rate", "high"),
                    ("literacy_rate", "low"),
                    ("internet_rate", "low"),
                }
                & t
            )
        ),
    ),
    ("anticipate", lambda t: ("demand_per_1000", "high") in t),
    ("digital", lambda t: ("internet_rate", "high") in t),
]


def recommendation(cluster_traits: Sequence[tuple[str, str]]) -> str:
    """Code of the default recommendation for a cluster's traits.

    One of ``new_site``, ``reinforce``, ``outreach``, ``anticipate``, ``digital``,
    ``maintain``; the app words it and the analyst can edit it.

    Examples
    --------
    >>> recommendation([("distance_km", "high"), ("mean_delay", "high")])
    'new_site'
    >>> recommendation([])
    'maintain'
    """
    found = set(cluster_traits)
    return next((code for code, rule in _RULES if rule(found)), "maintain")


# -- the whole analysis ---------------------------------------------------------------
@dataclass
class Segmentation:
    """Result of :func:`segment` (attributes as spopt models expose them).

    Attributes
    ----------
    labels : Series
        Cluster of each commune (index of the input frame), 0 = most populated.
    k, method, features
        What was fitted.
    scores : KScores
        Elbow and silhouette curves over the tried range.
    pca : DataFrame
        ``pc1``, ``pc2`` of the standardised features (index of the input frame).
    explained : list of float
        Share of variance of each of the two components.
    profile : DataFrame
        See :func:`profile`.
    traits : dict
        See :func:`traits`.
    recommendations : dict
        Cluster -> recommendation code (:func:`recommendation`).
    imputed : dict
        Missing values replaced by the median, per feature.
    bridges : list of (int, int)
        Row pairs joined to connect islands (contiguous method only).
    left_out : list
        Index of the communes left out (population unknown, and a chosen
        indicator needs it); ``labels`` and ``pca`` have no row for them.
    population_unknown : int
        Communes clustered whose population is unknown (not in any cluster's
        population).
    population_features : tuple of str
        The chosen indicators that need the population.
    index : Index, optional
        Index of the whole input frame (left-out communes included).
    """

    labels: pd.Series
    k: int
    method: str
    features: tuple[str, ...]
    scores: KScores
    pca: pd.DataFrame
    explained: list[float]
    profile: pd.DataFrame
    traits: dict[int, list[tuple[str, str]]]
    recommendations: dict[int, str]
    imputed: dict[str, int]
    fill_values: dict[str, float]
    n_imputed_rows: int
    bridges: list[tuple[int, int]] = field(default_factory=list)
    left_out: list = field(default_factory=list)
    population_unknown: int = 0
    population_features: tuple[str, ...] = ()
    index: pd.Index | None = None

    @property
    def silhouette(self) -> float:
        """Silhouette of the fitted k."""
        return self.scores.silhouette[self.scores.ks.index(self.k)]

    def to_dict(self, keys: Sequence | None = None) -> dict:
        """Plain JSON-able summary (labels keyed by ``keys``, default the index).

        ``keys`` name the rows of the whole input frame, left-out communes
        included (listed under ``left_out``).

        Examples
        --------
        >>> frame = pd.DataFrame({"a": [0.0, 0.1, 5.0], "population": [1, 1, 1]})
        >>> segment(frame, ["a"], k=2).to_dict(["X", "Y", "Z"])["labels"]
        {'X': 0, 'Y': 0, 'Z': 1}
        """
        index = self.labels.index if self.index is None else self.index
        key_of = dict(zip(index, index if keys is None else keys, strict=True))

        def clean(v: float) -> float | None:
            return None if not np.isfinite(v) else round(float(v), 6)

        return {
            "k": self.k,
            "method": self.method,
            "features": list(self.features),
            "labels": {key_of[i]: int(v) for i, v in self.labels.items()},
            "left_out": [key_of[i] for i in self.left_out],
            "population_unknown": self.population_unknown,
            "population_features": list(self.population_features),
            "pc1": [clean(v) for v in self.pca["pc1"]],
            "pc2": [clean(v) for v in self.pca["pc2"]],
            "explained": [clean(v) for v in self.explained],
            "scores": {
                "ks": list(self.scores.ks),
                "inertia": [clean(v) for v in self.scores.inertia],
                "silhouette": [clean(v) for v in self.scores.silhouette],
                "best_k": self.scores.best_k,
            },
            "profile": [
                {k: (clean(v) if isinstance(v, float) else v) for k, v in row.items()}
                for row in self.profile.to_dict("records")
            ],
            "traits": {str(c): [list(t) for t in v] for c, v in self.traits.items()},
            "recommendations": {str(c): v for c, v in self.recommendations.items()},
            "imputed": dict(self.imputed),
            "fill_values": {f: clean(v) for f, v in self.fill_values.items()},
            "n_imputed_rows": self.n_imputed_rows,
            "bridges": [list(b) for b in self.bridges],
        }


def segment(
    frame: pd.DataFrame,
    features: Sequence[str],
    k: int | str = "auto",
    method: str = "kmeans",
    geometry: Sequence | None = None,
    k_range: tuple[int, int] = DEFAULT_K_RANGE,
    population: str = "population",
    random_state: int = RANDOM_STATE,
    progress: Progress | None = None,
    log_features: Sequence[str] = (),
    population_features: Sequence[str] = (),
) -> Segmentation:
    """Cluster communes on standardised indicators; choose k by silhouette if asked.

    Parameters
    ----------
    frame : DataFrame
        One row per commune with the ``features`` and ``population`` columns.
    features : sequence of str
        Indicators to cluster on.
    k : int or 'auto'
        Number of clusters; ``'auto'`` picks the best silhouette in ``k_range``.
        A given k outside ``k_range`` widens the curves to include it.
    method : {'kmeans', 'contiguous'}
        ``'contiguous'`` groups communes only with neighbours (Ward agglomerative
        clustering with the polygons' queen adjacency as connectivity).
    geometry : sequence of shapely geometries, optional
        Commune polygons in the order of ``frame`` (EPSG:4326); required by
        ``'contiguous'``.
    random_state : int
        Seed of KMeans: the same inputs always give the same labels.
    progress : callable, optional
        ``progress(done, total)`` after each k tried.
    log_features : sequence of str
        Features clustered on a log scale (see :func:`prepare_features`); the
        profile still reports them in their own unit.
    population_features : sequence of str
        Features that need the population (per-capita rates, densities,
        population-weighted means): when one is chosen, the communes of unknown
        population are left out (``left_out``) rather than given an imputed value.

    Raises
    ------
    UnknownPopulationError
        Every commune left out.

    Examples
    --------
    >>> frame = pd.DataFrame({"a": [0.0, 0.2, 9.0, 9.2], "population": [5, 5, 1, 1]})
    >>> seg = segment(frame, ["a"], k="auto", k_range=(2, 3))
    >>> seg.k, seg.labels.tolist()
    (2, [0, 0, 1, 1])
    >>> frame.loc[4] = [9.1, None]
    >>> seg = segment(frame, ["a"], k=2, population_features=["a"])
    >>> seg.left_out, seg.to_dict(list("VWXYZ"))["left_out"]
    ([4], ['Z'])
    """
    if method not in METHODS:
        raise ValueError(f"method should be one of {METHODS}, got {method!r}")
    if population not in frame.columns:
        raise ValueError(f"frame lacks the population column {population!r}")
    index = frame.index
    unknown = pd.to_numeric(frame[population], errors="coerce").isna().to_numpy()
    needs = tuple(f for f in features if f in set(population_features))
    left = unknown if needs else np.zeros(len(frame), dtype=bool)
    if left.all() and len(frame):
        raise UnknownPopulationError(needs, len(frame))
    if left.any():
        frame = frame[~left]
        if geometry is not None and len(geometry) == len(left):
            geometry = np.asarray(geometry, dtype=object)[~left]
    prepared = prepare_features(frame, features, log_features)
    n = len(frame)
    auto = isinstance(k, str)
    if auto and k != "auto":
        raise ValueError(f"k should be an integer or 'auto', got {k!r}")
    if not auto:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
            raise ValueError(f"k should be an integer or 'auto', got {k!r}")
        if not 2 <= int(k) <= n - 1:
            raise ValueError(f"k should be between 2 and {n - 1} for {n} communes")
        k_range = (min(k_range[0], int(k)), max(k_range[1], int(k)))
    connectivity, bridges = None, []
    if method == "contiguous":
        if geometry is None or len(geometry) != n:
            raise ValueError(
                "the contiguous method needs one polygon per commune ('geometry')"
            )
        xy = metric_xy(shapely.centroid(np.asarray(geometry, dtype=object)))
        connectivity, bridges = bridge_components(adjacency(geometry), xy)
    scores, fitted = score_k(
        prepared.X, k_range, method, connectivity, random_state, progress
    )
    chosen = scores.best_k if auto else int(k)
    # ordered by the known population (an unknown one adds nothing)
    pop = pd.to_numeric(frame[population], errors="coerce").fillna(0.0).to_numpy()
    labels = order_labels(fitted[chosen], pop)
    pca = PCA(n_components=min(2, prepared.X.shape[1]), random_state=random_state)
    coords = pca.fit_transform(prepared.X)
    if coords.shape[1] == 1:
        coords = np.column_stack([coords[:, 0], np.zeros(n)])
    explained = [float(v) for v in pca.explained_variance_ratio_] + [0.0]
    prof = profile(frame, labels, prepared.features, population)
    found = traits(prof, prepared.features)
    return Segmentation(
        labels=pd.Series(labels, index=frame.index, name="cluster"),
        k=chosen,
        method=method,
        features=prepared.features,
        scores=scores,
        pca=pd.DataFrame(coords[:, :2], index=frame.index, columns=["pc1", "pc2"]),
        explained=explained[:2],
        profile=prof,
        traits=found,
        recommendations={c: recommendation(t) for c, t in found.items()},
        imputed=prepared.imputed,
        fill_values=prepared.fill_values,
        n_imputed_rows=int(prepared.imputed_rows.sum()),
        bridges=bridges,
        left_out=list(index[left]),
        population_unknown=int((unknown & ~left).sum()),
        population_features=needs,
        index=index,
    )


# -- cluster locations ----------------------------------------------------------------
def metric_xy(points) -> np.ndarray:
    """Planar coordinates (m) of lon/lat points in their :func:`local_crs`.

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> metric_xy([Point(0, 0), Point(1, 0)]).round(-3).tolist()
    [[-56000.0, 0.0], [56000.0, 0.0]]
    """
    points = np.asarray(points, dtype=object)
    lon, lat = shapely.get_x(points), shapely.get_y(points)
    crs = local_crs(lon, lat)
    transformer = pyproj.Transformer.from_crs(WGS84, crs, always_xy=True)
    return np.column_stack(transformer.transform(lon, lat))


SITE_COLUMNS = [
    "code",
    "name",
    "commune_id",
    "commune_code",
    "commune_name",
    "lon",
    "lat",
    "population_served",
    "n_communes",
    "mean_distance_km",
]


def cluster_sites(
    communes: gpd.GeoDataFrame,
    k: int,
    weight: str = "population",
    random_state: int = RANDOM_STATE,
    prefix: str = "SEG",
) -> pd.DataFrame:
    """Propose ``k`` sites for new centers: population-weighted KMeans of communes.

    The communes' representative points (``rep_lon``, ``rep_lat``) are projected to
    :func:`local_crs`, clustered by KMeans with ``weight`` as sample weight, and
    each cluster centre is brought back to lon/lat. A centre inside a commune stays
    where it is; one outside every commune (a concave border, a lake) is moved to the
    representative point of the nearest commune.

    Parameters
    ----------
    communes : GeoDataFrame
        EPSG:4326, with ``id``, ``code``, ``name``, ``rep_lon``, ``rep_lat``,
        ``weight`` and polygon geometry.
    k : int
        Number of sites, 1 to the number of communes with a positive weight.

    Returns
    -------
    DataFrame
        One row per site (``SITE_COLUMNS``), the most populated catchment first;
        codes ``<prefix>01``, ``<prefix>02``, ... ``population_served`` and
        ``mean_distance_km`` (population-weighted great-circle distance from the
        communes of the catchment to the site) describe each site's catchment.
        Communes whose weight is unknown (NaN) are left out, neither a weight of 0
        in a catchment nor a place for a site: ``attrs["population_unknown"]``
        counts them.

    Raises
    ------
    UnknownPopulationError
        No commune has a known weight.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> g = gpd.GeoDataFrame({"id": [1, 2], "code": ["A", "B"], "name": ["A", "B"],
    ...     "rep_lon": [0.5, 5.5], "rep_lat": [0.5, 0.5], "population": [10, 30]},
    ...     geometry=[box(0, 0, 1, 1), box(5, 0, 6, 1)], crs="EPSG:4326")
    >>> cluster_sites(g, 1)[["code", "commune_code"]].values.tolist()
    [['SEG01', 'B']]
    """
    if not isinstance(communes, gpd.GeoDataFrame):
        raise TypeError(f"'communes' should be GeoDataFrame, got {type(communes)}")
    if communes.crs is None or not communes.crs.equals(WGS84):
        raise ValueError("communes should be in EPSG:4326 (lon/lat degrees)")
    missing = {"id", "code", "name", "rep_lon", "rep_lat", weight} - set(
        communes.columns
    )
    if missing:
        raise ValueError(f"communes lack columns: {', '.join(sorted(missing))}")
    w = pd.to_numeric(communes[weight], errors="coerce").to_numpy(dtype=float)
    if (w < 0).any():
        raise ValueError(f"'{weight}' should not be negative")
    unknown = np.isnan(w)
    if unknown.all():
        raise UnknownPopulationError((), len(w))
    n_positive = int((w > 0).sum())
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise ValueError(f"k should be an integer, got {k!r}")
    if not 1 <= int(k) <= n_positive:
        raise ValueError(
            f"k should be between 1 and {n_positive} (communes with population), "
            f"got {k}"
        )
    lon = communes["rep_lon"].to_numpy(dtype=float)
    lat = communes["rep_lat"].to_numpy(dtype=float)
    crs = local_crs(lon, lat)
    to_xy = pyproj.Transformer.from_crs(WGS84, crs, always_xy=True)
    xy = np.column_stack(to_xy.transform(lon, lat))
    # only communes of known population take part; a site may still fall in another
    known = np.flatnonzero(~unknown)
    model = KMeans(n_clusters=int(k), n_init=10, random_state=random_state)
    raw = model.fit_predict(xy[known], sample_weight=w[known])
    labels = np.full(len(w), -1)
    labels[known] = order_labels(raw, w[known])
    centres = np.array(
        [
            np.average(xy[labels == c], axis=0, weights=_safe(w[labels == c]))
            for c in range(int(k))
        ]
    )
    c_lon, c_lat = to_xy.transform(centres[:, 0], centres[:, 1], direction="INVERSE")
    geoms = communes.geometry.to_numpy()
    tree = shapely.STRtree(geoms)
    rows = []
    for c in range(int(k)):
        point = shapely.Point(c_lon[c], c_lat[c])
        hits = tree.query(point, predicate="covered_by")
        if len(hits):
            at, site_lon, site_lat = int(min(hits)), float(c_lon[c]), float(c_lat[c])
        else:
            at = int(np.argmin(np.hypot(*(xy - centres[c]).T)))
            site_lon, site_lat = float(lon[at]), float(lat[at])
        members = labels == c
        dist = haversine_km(lon[members], lat[members], site_lon, site_lat)
        served = float(w[members].sum())
        rows.append(
            {
                "code": f"{prefix}{c + 1:02d}",
                "name": f"{communes['name'].iloc[at]} ({prefix}{c + 1:02d})",
                "commune_id": int(communes["id"].iloc[at]),
                "commune_code": str(communes["code"].iloc[at]),
                "commune_name": str(communes["name"].iloc[at]),
                "lon": round(site_lon, 6),
                "lat": round(site_lat, 6),
                "population_served": served,
                "n_communes": int(members.sum()),
                "mean_distance_km": float(np.average(dist, weights=_safe(w[members]))),
            }
        )
    sites = pd.DataFrame(rows, columns=SITE_COLUMNS)
    sites.attrs["population_unknown"] = int(unknown.sum())
    return sites


def _safe(weights: np.ndarray) -> np.ndarray:
    """Weights for an average; equal ones when they sum to zero."""
    return weights if weights.sum() > 0 else np.ones_like(weights)


def free_codes(prefix: str, n: int, taken) -> list[str]:
    """``n`` codes ``<prefix>01``, ``<prefix>02``, ... not in ``taken``.

    Examples
    --------
    >>> free_codes("SEG", 2, {"SEG01", "SEG03"})
    ['SEG02', 'SEG04']
    """
    taken = set(taken)
    out, i = [], 1
    while len(out) < n:
        code = f"{prefix}{i:02d}"
        if code not in taken:
            out.append(code)
        i += 1
    return out
