import pandas as pd
import pytest

from data.planning import weekly_demand_by_doc
from data.store import Store
from geo.access import nearest_center
from tests.tiny import tiny_bundle


def test_demand_from_operations_is_the_weekly_mean_of_the_last_weeks(tiny_store):
    info = tiny_store.active_dataset()
    by_doc = weekly_demand_by_doc(tiny_store, info.id, ["C1", "C2", "C3", "C4"])
    # two weeks: C1 had 10 + 12 requests of A and 10 of B
    assert by_doc.loc["C1", "A"] == pytest.approx(11.0)
    assert by_doc.loc["C1", "B"] == pytest.approx(5.0)
    assert by_doc.loc["C4", "A"] == pytest.approx(20.0)


def test_without_operations_the_estimate_from_population_is_used(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'est.sqlite'}")
    store.upgrade()
    bundle = tiny_bundle()
    bundle.operations = bundle.operations.iloc[0:0]
    bundle.demand = pd.DataFrame(
        {
            "commune_code": ["C1", "C2", "C3", "C4"],
            "doc_type": ["A"] * 4,
            "requests_week": [1.0, 3.0, 2.0, 4.0],
            "rate_per_inhabitant_year": [0.052] * 4,
        }
    )
    info = store.add_dataset(bundle, kind="imported", access=nearest_center)
    by_doc = weekly_demand_by_doc(store, info.id, ["C1", "C2", "C3", "C4"])
    assert by_doc["A"].tolist() == [1.0, 3.0, 2.0, 4.0]


def test_workspace_sees_candidate_sites_added_while_running(tiny_store):
    from dashapp.services import workspace

    info = tiny_store.active_dataset()
    before = workspace(tiny_store.url, info.id)
    assert before.site_ids[-1] == "K1"
    assert workspace(tiny_store.url, info.id) is before  # memoised
    c2 = tiny_store.units(info.id, 2).set_index("code").loc["C2", "id"]
    tiny_store.add_candidate_sites(
        info.id,
        pd.DataFrame(
            {
                "code": ["SEG01"],
                "name": ["Site proposé"],
                "commune_id": [int(c2)],
                "lon": [0.15],
                "lat": [0.05],
                "opening_cost": [10.0],
                "capacity_week": [60],
            }
        ),
    )
    after = workspace(tiny_store.url, info.id)
    assert after.site_ids[-1] == "SEG01" and after.cost.shape[1] == 4


def test_demand_over_a_chosen_period(tiny_store):
    info = tiny_store.active_dataset()
    week1 = weekly_demand_by_doc(
        tiny_store, info.id, ["C1", "C2", "C3", "C4"], "2026-01-05", "2026-01-05"
    )
    assert week1.loc["C1", "A"] == 10.0 and week1.loc["C2", "A"] == 30.0
    week2 = weekly_demand_by_doc(
        tiny_store, info.id, ["C1", "C2", "C3", "C4"], "2026-01-12", None
    )
    assert week2.loc["C1", "A"] == 12.0 and week2.loc["C1", "B"] == 10.0
