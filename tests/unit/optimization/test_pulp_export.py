"""``model.problem``: each model's complete formulation as a PuLP problem.

Solved by CBC through PuLP, it must reach the optimum ``solve()`` reports, so
the exported model is the model, not an approximation.
"""

from __future__ import annotations

import math

import numpy as np
import pulp
import pytest

from optimization import (
    LSCP,
    MCLP,
    CapacityReallocation,
    PCenter,
    PMedian,
    SiteRules,
)
from tests.unit.optimization.test_models_bruteforce import instance


def cbc_optimum(model) -> float:
    problem = model.problem
    assert isinstance(problem, pulp.LpProblem)
    status = problem.solve(pulp.PULP_CBC_CMD(msg=False))
    assert pulp.LpStatus[status] == "Optimal"
    return float(pulp.value(problem.objective))


@pytest.mark.parametrize("seed", range(8))
def test_pmedian_problem_uncapacitated_and_capacitated(seed):
    rng, D, w = instance(seed + 900, n=(4, 8), m=(3, 6))
    m = D.shape[1]
    p = int(rng.integers(1, m))
    plain = PMedian.from_cost_matrix(
        D, w, p, SiteRules.build(m, existing=[0], closing_cost=3.0)
    )
    plain.cost_weight = 1.0
    assert cbc_optimum(plain) == pytest.approx(plain.solve().objective)
    caps = np.full(m, max(w.sum(), 1.0) / max(p - 0.5, 1.0))
    for split in (False, True):
        sites = SiteRules.build(m, capacities=caps)
        cap = PMedian.from_cost_matrix(D, w, p, sites, split=split)
        assert cbc_optimum(cap) == pytest.approx(cap.solve().objective)


@pytest.mark.parametrize("seed", range(8))
def test_coverage_and_center_problems(seed):
    rng, D, w = instance(seed + 950, n=(4, 8), m=(3, 6))
    m = D.shape[1]
    p = int(rng.integers(1, m))
    mclp = MCLP.from_cost_matrix(D, w, 12.0, p)
    assert cbc_optimum(mclp) == pytest.approx(mclp.solve().objective)
    pcenter = PCenter.from_cost_matrix(D, w + 1, p)
    assert cbc_optimum(pcenter) == pytest.approx(pcenter.solve().objective)
    radius = float(D.min(axis=1).max())  # every point can be covered
    lscp = LSCP.from_cost_matrix(D, radius, w + 1, SiteRules.build(m, existing=[0]))
    count = lscp.solve().objective
    # The exported objective carries the tie-break (< 0.5 in total).
    assert math.ceil(cbc_optimum(lscp) - 1e-9) == count


@pytest.mark.parametrize("objective", ["unmet", "overload", "delay"])
def test_reallocation_problem(objective):
    staff = np.array([2, 3, 1])
    rate = np.array([10.0, 12.0, 20.0])
    loads = np.array([45.0, 20.0, 15.0])
    model = CapacityReallocation.from_loads(
        loads, rate * staff, staff, objective=objective, total_staff=9
    )
    assert cbc_optimum(model) == pytest.approx(model.solve().objective, abs=1e-7)


def test_problem_writes_an_mps_file(tmp_path):
    D = np.array([[1.0, 5.0], [5.0, 1.0], [2.0, 2.0]])
    sites = SiteRules.build(2, capacities=[10, 10])
    problem = PMedian.from_cost_matrix(D, [1, 1, 1], 1, sites).problem
    problem.writeMPS(str(tmp_path / "pmedian.mps"))
    assert (tmp_path / "pmedian.mps").read_text().startswith("*SENSE:Minimize")
