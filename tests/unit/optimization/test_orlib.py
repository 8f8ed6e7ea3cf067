"""Beasley's OR-Library p-median instances: the known optima are matched and proven.

The instances are read from ``../shared/data/orlib`` beside the repository (they
are not copied into it); the tests are skipped when it is absent. Marked slow:
a few seconds for the instances below, chosen among the 40 as those the solver
proves in a few seconds each, through both of the paths that end OR-Library
solves (the Lagrangian bound alone, and the Lagrangian branch-and-bound); the
whole set is ``bench/bench_orlib.py``'s.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.sparse.csgraph import shortest_path

from optimization import PMedian

ORLIB = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "orlib"
INSTANCES = ["pmed1", "pmed2", "pmed3", "pmed4", "pmed5", "pmed8", "pmed9", "pmed10"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not ORLIB.is_dir(), reason=f"no OR-Library data at {ORLIB}"),
]


def read_instance(name: str) -> tuple[np.ndarray, int]:
    """All-pairs shortest paths of the instance's graph, and its p.

    Edges are undirected; an edge given twice keeps its later cost.
    """
    lines = (ORLIB / f"{name}.txt").read_text().split("\n")
    n, _, p = (int(v) for v in lines[0].split())
    W = np.zeros((n, n))
    for line in lines[1:]:
        if line.strip():
            i, j, c = (int(v) for v in line.split())
            W[i - 1, j - 1] = W[j - 1, i - 1] = c
    return shortest_path(W, method="D", directed=False), p


def optima() -> dict[str, float]:
    rows = (ORLIB / "pmedopt.txt").read_text().splitlines()[1:]
    return {r.split()[0]: float(r.split()[1]) for r in rows if r.strip()}


@pytest.mark.parametrize("name", INSTANCES)
def test_orlib_optimum_is_matched_and_proven(name):
    D, p = read_instance(name)
    model = PMedian.from_cost_matrix(D, np.ones(D.shape[0]), p).solve()
    assert model.status == "optimal"
    assert model.objective == optima()[name]
    assert model.bound == pytest.approx(model.objective, rel=1e-6)
    assert model.open_sites.size == p


def test_orlib_paths_are_both_exercised():
    # pmed1 ends on the Lagrangian bound alone, pmed2 (p = 10) in the tree.
    solvers = {}
    for name in ("pmed1", "pmed2"):
        D, p = read_instance(name)
        model = PMedian.from_cost_matrix(D, np.ones(D.shape[0]), p).solve()
        assert model.status == "optimal" and model.objective == optima()[name]
        solvers[name] = model.report.solver
    assert solvers == {"pmed1": "lagrangian", "pmed2": "lagrangian tree"}
