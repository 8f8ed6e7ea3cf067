"""The p-median's start plan ends on work, not on the clock."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import optimization.heuristics as heuristics
import optimization.radius as radius
from optimization import PMedian
from optimization.heuristics import greedy_interchange, pmedian_cost


def _instance(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    pts, sites = rng.random((80, 2)) * 100, rng.random((40, 2)) * 100
    cost = np.hypot(
        pts[:, None, 0] - sites[None, :, 0], pts[:, None, 1] - sites[None, :, 1]
    )
    return cost, rng.integers(1, 100, 80).astype(float)


@pytest.mark.parametrize("seed", range(4))
def test_start_same_plan_on_a_slow_clock(seed, monkeypatch):
    """A clock that jumps 40 s per reading (a very busy machine) gives the same start."""
    cost, w = _instance(seed)
    p = 6
    quiet = greedy_interchange(cost, w, p)
    assert pmedian_cost(cost, w, quiet) < pmedian_cost(
        cost, w, greedy_interchange(cost, w, p, max_swaps=0)
    ), "the instance should need swaps after greedy addition"
    ticks = itertools.count(0.0, 40.0)
    monkeypatch.setattr(heuristics.time, "perf_counter", lambda: next(ticks))
    busy = radius._start(PMedian.from_cost_matrix(cost, w, p))
    assert busy.tolist() == quiet.tolist()


def test_start_swaps_bounded_by_work(monkeypatch):
    """Large models get fewer swaps: START_WORK / (points x sites)."""
    cost, w = _instance(7)
    p = 6
    monkeypatch.setattr(radius, "START_WORK", 80 * 40 * 1)  # one swap
    one = radius._start(PMedian.from_cost_matrix(cost, w, p))
    assert one.tolist() == greedy_interchange(cost, w, p, max_swaps=1).tolist()
    assert int(one.sum()) == p
