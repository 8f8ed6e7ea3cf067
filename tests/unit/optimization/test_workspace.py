"""The scenario workspace without Dash: a store, a dataset id, a what-if."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from optimization.errors import InfeasibleError
from optimization.scenario import NoDemandError, ScenarioError
from optimization.whatif import WhatIf, evaluate_as_is
from optimization.workspace import Area, Workspace
from tests.stores import make_tiny_store
from tests.tiny import new_country_bundle


@pytest.fixture
def ws(tiny_store):
    """The tiny country: S1 (C1, 100/week), S2 (C4, 50/week), candidate K1 (C3)."""
    return Workspace.from_store(tiny_store, tiny_store.active_dataset().id)


def test_a_workspace_holds_the_network_demand_and_distances(ws):
    assert ws.site_ids == ["S1", "S2", "K1"] and ws.n_existing == 2
    assert ws.site_communes == ["C1", "C4", "C3"]
    assert ws.cost.shape == (4, 3)
    # two weeks: C1 asked 10 + 12 of A and 10 of B
    assert ws.demand_by_doc.loc["C1", "A"] == pytest.approx(11.0)
    assert ws.demand_by_doc.to_numpy().sum() == pytest.approx(61.0)
    assert not ws.demand_unknown.any()
    assert ws.names()["S2"] == "Centre Deux" and ws.names()["C3"] == "Commune C3"


def test_today_evaluated_against_itself_changes_nothing(ws):
    evaluation = ws.evaluate(WhatIf())
    assert evaluation.before == evaluation.after
    assert evaluation.after["open_centers"] == 2
    assert evaluation.after["unmet_demand"] == 0.0


def test_closing_a_center_sends_its_communes_farther(ws):
    evaluation = ws.evaluate(WhatIf(sites={"S2": "closed"}))
    assert evaluation.after["open_centers"] == 1
    assert evaluation.assignment.tolist() == [0, 0, 0, 0]
    assert evaluation.after["mean_distance"] > evaluation.before["mean_distance"]
    # 61 requests a week fit in S1's 100
    assert evaluation.after["unmet_demand"] == 0.0


def test_kpis_of_an_area(ws):
    d2 = ws.area("D2")
    assert d2 == Area("D2", frozenset({"C3", "C4"}))
    assert ws.area("nowhere").whole and ws.area(None).whole
    evaluation = ws.evaluate(WhatIf(sites={"K1": "locked"}), d2)
    assert (evaluation.before["open_centers"], evaluation.after["open_centers"]) == (
        1,
        2,
    )
    # C3 (10 a week) now goes to K1 in its own commune
    assert evaluation.after["mean_distance"] < evaluation.before["mean_distance"]


def test_added_sites_and_capacity_change_make_the_plan(ws):
    plan = ws.plan(WhatIf(added=("C2",), capacity_change_pct=-50))
    assert plan.site_ids[-1] == "NEW-C2" and plan.site_communes[-1] == "C2"
    assert plan.cost.shape == (4, 4)
    np.testing.assert_allclose(plan.capacity[:2], [50.0, 25.0])
    assert plan.states() == ["existing", "existing", "candidate", "candidate"]
    with pytest.raises(ScenarioError, match="unknown communes"):
        ws.plan(WhatIf(added=("C9",)))


def test_demand_over_a_period_and_from_a_forecast(ws):
    week2 = ws.plan(WhatIf(period_start="2026-01-12"))
    assert week2.demand.tolist() == [22.0, 0.0, 0.0, 0.0]
    assert ws.demand_for_period("2026-01-12") is ws.demand_for_period("2026-01-12")
    keys = dict(zip(ws.network.commune_ids, ws.commune_keys, strict=True))
    forecast = pd.Series({keys["C2"]: 7.0, keys["C4"]: 3.0})
    plan = ws.plan(WhatIf(demand_source="forecast"), forecast)
    assert plan.demand.tolist() == [0.0, 7.0, 0.0, 3.0] and plan.unknown is None


def test_the_map_view_of_the_plan(ws):
    view = ws.map_view(WhatIf(sites={"S2": "closed"}))
    assert view.states == ["existing", "closed", "candidate"]
    assert (view.distance >= view.distance_before).all()
    assert view.distance[3] > view.distance_before[3]  # C4 lost S2


def test_a_run_then_its_kpis_for_the_country_and_an_area(ws):
    whatif = WhatIf(new_centers=1, time_limit_s=10)
    run = ws.prepare_run(whatif)
    assert run.spec.model == "pmedian"
    seen = []
    result = run.solve(lambda snapshot, seconds: seen.append(seconds), every=0.01)
    assert result.report.status == "optimal"
    record = SimpleNamespace(
        summary=result.summary,
        params={"whatif": whatif.to_dict()},
        centers=result.centers,
        communes=result.assignments,
    )
    before, after = ws.result_kpis(record)
    assert after["open_centers"] == 3 and before["open_centers"] == 2
    assert after["mean_distance"] == result.summary["kpis"]["after"]["mean_distance"]
    assert after["centers_per_100k"] == pytest.approx(3 * 1e5 / 10000)
    d2 = ws.area("D2")
    z_before, z_after = ws.result_kpis(record, d2)
    assert z_before["open_centers"] == 1 and z_after["open_centers"] == 2
    centers, communes = ws.result_tables(record, d2)
    assert set(communes["commune_id"]) == {"C3", "C4"}
    assert set(centers["site_id"]) == {"S2", "K1"}


def test_coverage_curve_improves_with_centers(ws):
    seen = []
    curve = ws.coverage_curve(
        WhatIf(radius_km=5), 1, progress=lambda k, n: seen.append(k)
    )
    assert curve.added == [0, 1] and seen == [0, 1]
    assert curve.mean_distance[1] <= curve.mean_distance[0]
    assert curve.coverage_pct[1] >= curve.coverage_pct[0]


def test_the_coverage_curve_keeps_the_plan_as_set(ws):
    """A candidate locked open was counted among the k sites to add while only
    k new sites could open: every k was infeasible (walk-through: "Calcul :
    0 / 4" for ever). The plan as set now stays and k sites come besides."""
    locked = WhatIf(radius_km=5, sites={"K1": "locked"}, added=("C2",))
    curve = ws.coverage_curve(locked, 1)  # C2 the one site left to add
    assert curve.added == [0, 1]
    assert curve.mean_distance[1] <= curve.mean_distance[0]
    with pytest.raises(InfeasibleError, match="at most 1 may open"):
        ws.coverage_curve(locked, 2)
    plan = ws.plan(locked)
    as_is = evaluate_as_is(
        plan.cost, plan.engine_demand, plan.site_ids, None, ws.n_existing, locked
    )[2]
    assert curve.mean_distance[0] == pytest.approx(round(as_is["mean_distance"], 2))
    # a center to close stays closed, a forbidden candidate never opens: with
    # S2 closed and K1 forbidden, no site can be added and k = 1 is k = 0
    closed = WhatIf(radius_km=5, sites={"S2": "closed", "K1": "forbidden"})
    with pytest.raises(InfeasibleError, match="at most 0 may open"):
        ws.coverage_curve(closed, 1)
    assert ws.coverage_curve(closed, 0).added == [0]


def test_no_demand_at_all_is_refused_by_name(tmp_path):
    from geo.access import nearest_center

    store = make_tiny_store(f"sqlite:///{tmp_path / 'none.sqlite'}")
    bundle = new_country_bundle(candidates=True, unknown=("C1", "C2", "C3", "C4"))
    info = store.add_dataset(bundle, kind="imported", access=nearest_center)
    ws = Workspace.from_store(store, info.id)
    assert ws.demand_unknown.all()
    with pytest.raises(NoDemandError, match="population"):
        ws.coverage_curve(WhatIf(), 1)
