"""The scenario workspace measured in travel minutes, on crafted inputs.

Four communes and three sites whose minutes are known: C3 is an island that no
road joins to any site (``inf``), so it must be unserved, never 0 minutes away.
"""

import numpy as np
import pandas as pd
import pytest

from data.kpi import measure_of
from optimization.evaluate import assign_with_capacity
from optimization.scenario import NetworkInputs, ScenarioError
from optimization.whatif import PanelError, WhatIf, build_spec, measure_unit
from optimization.workspace import Workspace, record_measure

INF = np.inf
# communes C1..C4 x sites S1, S2 (centers), K1 (candidate)
DRY = np.array(
    [[10.0, 50.0, 30.0], [40.0, 20.0, INF], [INF, INF, INF], [70.0, 15.0, 5.0]]
)
RAINY = DRY * 2  # every trip twice as long; the island stays cut off
DEMAND = [10.0, 20.0, 5.0, 8.0]
POPULATION = [1000.0, 2000.0, 500.0, 800.0]


def _network(travel=True) -> NetworkInputs:
    asked = []

    def minutes(mode, season, cutoff):
        asked.append((mode, season, cutoff))
        return {"dry": DRY, "rainy": RAINY}[season]

    net = NetworkInputs(
        commune_ids=["C1", "C2", "C3", "C4"],
        commune_names=["Un", "Deux", "Île", "Quatre"],
        department_ids=["D1"] * 4,
        department_names=["Dép"] * 4,
        region_ids=["R1"] * 4,
        region_names=["Rég"] * 4,
        population=POPULATION,
        lon=[0.0, 0.1, 0.2, 0.3],
        lat=[0.0, 0.0, 0.0, 0.0],
        center_ids=["S1", "S2"],
        center_names=["Centre 1", "Centre 2"],
        center_lon=[0.0, 0.1],
        center_lat=[0.0, 0.0],
        center_capacity=[1000.0, 1000.0],
        center_staff=[2.0, 2.0],
        center_status=["open", "open"],
        candidate_ids=["K1"],
        candidate_names=["Candidat"],
        candidate_lon=[0.3],
        candidate_lat=[0.0],
        candidate_opening_cost=[10.0],
        candidate_capacity=[1000.0],
        travel_times=minutes if travel else None,
    )
    return net, asked


def _workspace(travel=True) -> tuple[Workspace, list]:
    net, asked = _network(travel)
    demand = pd.DataFrame({"A": DEMAND}, index=net.commune_ids)
    ws = Workspace(
        network=net,
        demand_by_doc=demand,
        site_ids=net.site_ids,
        site_lon=net.site_lon,
        site_lat=net.site_lat,
        cost=np.array([[1.0, 11.0, 33.0], [11.0, 1.0, 22.0], [22.0, 11.0, 11.0],
                       [33.0, 22.0, 1.0]]),  # fmt: skip
        n_existing=2,
        site_communes=["C1", "C2", "C4"],
    )
    return ws, asked


def test_the_measure_is_checked_and_gives_the_unit_and_the_spec():
    assert WhatIf().measure == "km" and WhatIf().unit == "km"
    whatif = WhatIf(measure="walking|rainy")
    assert whatif.travel == ("walking", "rainy") and whatif.unit == "min"
    assert build_spec(whatif, 2)["distance"] == {
        "kind": "travel_time", "mode": "walking", "season": "rainy", "unit": "min",
    }  # fmt: skip
    assert "distance" not in build_spec(WhatIf(), 2)  # great-circle km, the default
    with pytest.raises(PanelError, match="measure should be one of"):
        WhatIf(measure="flying|dry")
    with pytest.raises(PanelError) as info:
        WhatIf.from_panel({"measure": None})
    assert [(p.field, p.reason) for p in info.value.problems] == [("measure", "empty")]
    assert measure_unit("<script>") == "km"  # a forged panel value reads as km
    assert WhatIf.from_dict(whatif.to_dict()) == whatif


def test_instant_evaluation_in_minutes_leaves_the_island_unserved():
    ws, asked = _workspace()
    evaluation = ws.evaluate(WhatIf(measure="motorised|dry", radius_km=30))
    assert asked == [("motorised", "dry", None)]
    assert evaluation.plan.unit == "min"
    # C1 -> S1 10 min, C2 -> S2 20 min, C3 reaches nothing, C4 -> S2 15 min
    assert evaluation.assignment.tolist() == [0, 1, -1, 1]
    after = evaluation.after
    assert after["mean_distance"] == pytest.approx((10 * 10 + 20 * 20 + 8 * 15) / 38)
    assert after["max_distance"] == 20.0  # the island is not a 0 (nor an inf)
    assert after["unassigned_demand"] == 5.0 and after["unserved_communes"] == 1
    assert after["unserved_population"] == 500.0
    assert after["share_within_radius"] == pytest.approx(38 / 43)
    # the access indicators by road (geo.roads.access_kpis), population-weighted
    assert after["mean_minutes"] == pytest.approx(62_000 / 3800)
    assert after["within_30_min"] == pytest.approx(3800 / 4300)
    assert after["unreachable"] == pytest.approx(500 / 4300)
    assert evaluation.before == after  # nothing changed yet
    # the minutes are read once per measure, then kept
    ws.evaluate(WhatIf(measure="motorised|dry", radius_km=60))
    assert asked == [("motorised", "dry", None)]


def test_the_plan_follows_the_measure_and_its_season():
    ws, _ = _workspace()
    changed = WhatIf(measure="motorised|rainy", radius_km=30,
                     sites={"S2": "closed", "K1": "locked"})  # fmt: skip
    evaluation = ws.evaluate(changed)
    # C2 -> S1 (80 min), C4 -> K1 (10 min); before: today's network, rainy too
    assert evaluation.assignment.tolist() == [0, 0, -1, 2]
    assert evaluation.after["max_distance"] == 80.0
    assert evaluation.before["max_distance"] == 40.0
    assert evaluation.after["within_30_min"] == pytest.approx(1800 / 4300)
    view = ws.map_view(changed)
    assert view.unit == "min" and np.isnan(view.distance[2])
    assert view.distance.tolist()[:2] == [20.0, 80.0]
    assert view.unserved.tolist() == [0.0, 0.0, 5.0, 0.0]
    km = ws.evaluate(WhatIf(radius_km=30))
    assert km.plan.unit == "km" and km.plan.cost is ws.cost
    assert "mean_minutes" not in km.after


def test_a_run_solves_on_the_minutes_evaluated():
    ws, _ = _workspace()
    run = ws.prepare_run(WhatIf(measure="motorised|dry", radius_km=30, new_centers=1))
    assert run.spec.distance["kind"] == "travel_time"
    assert run.spec.distance["mode"] == "motorised"
    np.testing.assert_array_equal(run.network.travel_times("motorised", "dry"), DRY)
    with pytest.raises(ScenarioError, match="motorised, dry season"):
        run.network.travel_times("walking", "dry")
    result = run.solve()
    assert result.summary["units"]["distance"] == "min"
    table = result.assignments.set_index("commune_id")
    assert pd.isna(table.loc["C3", "site_id"])  # unreachable: no center
    assert table.loc["C4", "distance"] == 5.0  # K1 opened for C4


def test_travel_time_without_roads_is_refused_by_name():
    ws, _ = _workspace(travel=False)
    assert not ws.has_roads()
    with pytest.raises(ScenarioError, match="no road network"):
        ws.evaluate(WhatIf(measure="walking|dry"))
    assert ws.evaluate(WhatIf()).plan.unit == "km"
    with_roads, _ = _workspace()
    with pytest.raises(ScenarioError, match="added sites need"):
        with_roads.plan(WhatIf(measure="walking|dry", added=("C3",)))


def test_a_saved_run_names_its_measure():
    class Record:
        params = {"whatif": {"measure": "km"},
                  "spec": {"distance": {"kind": "travel_time", "mode": "walking",
                                        "season": "rainy", "unit": "min"}}}  # fmt: skip

    assert record_measure(Record()) == "walking|rainy"  # what ran, not the panel
    assert measure_of({"whatif": {"measure": "motorised|dry"}}) == "motorised|dry"
    assert measure_of({"spec": {"distance": {"kind": "great_circle"}}}) == "km"
    assert measure_of({"whatif": {"measure": "=cmd|x"}}) == "km"
    assert measure_of(None) == "km"


def test_an_unreachable_pair_is_never_assigned():
    cost = np.array([[1.0, INF], [INF, INF], [2.0, 3.0], [INF, 1.0]])
    open_all = np.array([True, True])
    assert assign_with_capacity(cost, np.ones(4), open_all).tolist() == [0, -1, 0, 1]
    # capacities: C3 would overflow S1 but S2 is in reach, so it goes there
    capped = assign_with_capacity(cost, np.full(4, 5.0), open_all, np.array([5.0, 10.0]))
    assert capped.tolist() == [0, -1, 1, 1]
    # no room in reach: the nearest reachable site is overloaded, never an inf one
    assert assign_with_capacity(
        np.array([[1.0, INF]]), np.array([9.0]), open_all, np.array([5.0, 50.0])
    ).tolist() == [0]
