import pandas as pd
import pytest

from dashapp.services import weekly_demand_by_doc
from data.store import Store
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
    info = store.add_dataset(bundle, kind="imported")
    by_doc = weekly_demand_by_doc(store, info.id, ["C1", "C2", "C3", "C4"])
    assert by_doc["A"].tolist() == [1.0, 3.0, 2.0, 4.0]
