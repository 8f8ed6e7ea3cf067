"""Communes only new sites may serve: the plan needs more new centers than allowed.

On travel times, communes that reach only candidates within the cut-off make a
p-median with a small new-center budget infeasible; the reason names them and the
number of new centers they need, before any solve.
"""

from __future__ import annotations

import numpy as np
import pytest

from layouts.messages import reason_text
from optimization.errors import InfeasibleError
from optimization.explain import check_new_sites
from optimization.inputs import SiteRules
from optimization.pmedian import PMedian

INF = np.inf
# sites 0 (existing center), 1, 2, 3 (candidates); communes 1-3 reach no center
COST = np.array(
    [
        [5.0, INF, INF, INF],  # reaches the center
        [INF, 10.0, INF, INF],  # only candidate 1
        [INF, INF, 12.0, INF],  # only candidate 2
        [INF, INF, 20.0, 8.0],  # candidates 2 and 3
        [30.0, 4.0, INF, INF],  # the center or candidate 1
    ]
)
WEIGHTS = np.array([3.0, 2.0, 1.0, 4.0, 1.0])


def _rules(max_new, locked=None):
    return SiteRules.build(
        4, existing=[True, False, False, False], max_new=max_new, locked=locked
    )


def test_a_packing_of_communes_with_no_candidate_in_common_bounds_the_new_centers():
    pairs = np.isfinite(COST)
    [reason] = check_new_sites(pairs, WEIGHTS, _rules(1), ["A", "B", "C", "D", "E"])
    assert reason.code == "new_sites_needed"
    # B, C and D need a new site; B and C (or B and D) share none: at least 2
    assert reason.params["needy"] == 3
    assert reason.params["count"] == 2 and reason.params["max_new"] == 1
    assert "B" in reason.params["examples"]
    assert check_new_sites(pairs, WEIGHTS, _rules(2)) == []
    assert check_new_sites(pairs, WEIGHTS, _rules(None)) == []


def test_a_locked_candidate_serves_its_communes_and_uses_the_budget():
    pairs = np.isfinite(COST)
    locked = [False, True, False, False]
    # candidate 1 locked open: B is served, one new center left for C and D (site 2)
    assert check_new_sites(pairs, WEIGHTS, _rules(2, locked)) == []
    [reason] = check_new_sites(pairs, WEIGHTS, _rules(1, locked))
    assert reason.params["max_new"] == 0 and reason.params["count"] == 1


def test_communes_without_demand_need_nothing():
    pairs = np.isfinite(COST)
    weights = np.array([3.0, 0.0, 1.0, 4.0, 1.0])
    assert check_new_sites(pairs, weights, _rules(1)) == []


def test_the_pmedian_refuses_with_the_reason_in_both_languages():
    model = PMedian.from_cost_matrix(COST, WEIGHTS, 2, sites=_rules(1))
    with pytest.raises(InfeasibleError) as err:
        model.solve()
    codes = [r.code for r in err.value.reasons]
    assert "new_sites_needed" in codes
    reason = err.value.reasons[codes.index("new_sites_needed")]
    fr = reason_text(reason, "fr")
    assert fr.startswith("3 communes ne peuvent être rattachées qu'à de nouveaux sites")
    assert "au moins 2 nouveaux centres" in fr and "maximum de 1" in fr
    assert reason_text(reason, "en").startswith("3 communes may only be served by new")
    # with the budget it says is needed, the same model is solved
    solved = PMedian.from_cost_matrix(COST, WEIGHTS, 3, sites=_rules(2)).solve()
    assert solved.report.status == "optimal"
