"""A result shows what the model assigned: demand it left without a center is
unserved, never handed to the nearest open center (which would overload it)."""

import numpy as np
import pytest

from optimization.coverage import MCLP
from optimization.inputs import SiteRules
from optimization.results import (
    center_table,
    commune_table,
    network_kpis,
    unserved_table,
)
from optimization.scenario import load_spec, run_scenario
from tests.unit.optimization.test_scenario import network

# three points, two sites; site 0 has room for one of the first two points only
COST = np.array([[1.0, 9.0], [2.0, 9.0], [9.0, 1.0]])
WEIGHTS = np.array([4.0, 4.0, 4.0])
CAPACITY = np.array([5.0, 5.0])


def test_capacitated_coverage_leaves_a_point_unserved_not_overloaded():
    sites = SiteRules.build(2, capacities=CAPACITY)
    model = MCLP(COST, WEIGHTS, 3.0, 2, sites).solve()
    assert model.status == "optimal" and model.objective == pytest.approx(8.0)
    open_mask = np.isin(np.arange(2), model.open_sites)
    assert (model.assignment == -1).sum() == 1
    centers = center_table(["A", "B"], ["A", "B"], np.array([True, True]), open_mask,
                           WEIGHTS, model.assignment, CAPACITY, model.allocation)  # fmt: skip
    assert centers["utilisation"].max() <= 1.0
    # the nearest-center shortcut would show site A at 160 %
    nearest = np.array([0, 0, 1])
    shortcut = center_table(["A", "B"], ["A", "B"], np.array([True, True]),
                            open_mask, WEIGHTS, nearest, CAPACITY)  # fmt: skip
    assert shortcut["utilisation"].max() == pytest.approx(1.6)
    communes = commune_table(["p0", "p1", "p2"], ["P0", "P1", "P2"], WEIGHTS, COST,
                             model.assignment, ["A", "B"],
                             population=np.array([10.0, 20.0, 30.0]))  # fmt: skip
    left = unserved_table(communes)
    assert len(left) == 1 and left.loc[0, "demand"] == 4.0
    assert communes.loc[communes["commune_id"] == left.loc[0, "commune_id"],
                        "site_id"].isna().all()  # fmt: skip
    kpis = network_kpis(COST, WEIGHTS, open_mask, model.assignment, CAPACITY,
                        allocation=model.allocation,
                        population=np.array([10.0, 20.0, 30.0]))  # fmt: skip
    assert kpis["overloaded_centers"] == 0
    assert kpis["unassigned_demand"] == kpis["unmet_demand"] == 4.0
    assert kpis["unserved_communes"] == 1
    assert kpis["unserved_population"] == left.loc[0, "population"]


def test_a_run_reports_unserved_population_and_keeps_it_per_commune():
    spec = load_spec(
        {
            "model": "mclp",
            "demand": {"source": "requests"},
            "sites": {"use_candidates": False},
            "parameters": {"p": 1, "service_radius": 20.0, "capacitated": True},
            "report_radius": 20.0,
        }
    )
    result = run_scenario(spec, network())
    communes = result.assignments
    assert "population" in communes
    after = result.summary["kpis"]["after"]
    unserved = unserved_table(communes)
    assert after["unserved_communes"] == len(unserved) > 0
    assert after["unserved_population"] == pytest.approx(unserved["population"].sum())
    assert after["unassigned_demand"] == pytest.approx(unserved["demand"].sum())
    used = result.centers["utilisation"].dropna()
    assert (used <= 1.0 + 1e-9).all()


def test_unserved_table_refuses_what_is_not_a_table():
    with pytest.raises(TypeError, match="should be DataFrame"):
        unserved_table([{"site_id": None}])
