"""Store.add_candidate_sites: validated, all-or-nothing additions to the candidate set."""

import pandas as pd
import pytest

from data.store import StoreError


def _commune_ids(store):
    info = store.active_dataset()
    units = store.units(info.id, 2)
    return info.id, dict(zip(units["code"], units["id"], strict=True))


def _sites(ids, **changes):
    rows = {
        "code": ["SEG01", "SEG02"],
        "name": ["Site un", "Site deux"],
        "commune_id": [ids["C2"], ids["C4"]],
        "lon": [0.15, 0.12],
        "lat": [0.05, 0.19],
    }
    rows.update(changes)
    return pd.DataFrame(rows)


def test_adds_sites_with_ids_in_order_and_defaults(tiny_store):
    dataset, ids = _commune_ids(tiny_store)
    new = tiny_store.add_candidate_sites(dataset, _sites(ids))
    got = tiny_store.candidates(dataset).set_index("code")
    assert list(got.index) == ["K1", "SEG01", "SEG02"]
    assert got.loc[["SEG01", "SEG02"], "id"].tolist() == new
    assert got.loc["SEG02", "commune_id"] == ids["C4"]
    assert got.loc["SEG01", ["opening_cost", "capacity_week"]].tolist() == [0.0, 0.0]


def test_a_point_on_the_commune_border_is_inside(tiny_store):
    dataset, ids = _commune_ids(tiny_store)
    frame = _sites(ids, code=["B1", "B2"], lon=[0.1, 0.2], lat=[0.05, 0.2])
    assert len(tiny_store.add_candidate_sites(dataset, frame)) == 2


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"lon": [0.05, 0.12]}, r"SEG01: point \(0\.05000, 0\.05000\) is outside"),
        ({"code": ["SEG01", "SEG01"]}, "duplicate site codes: SEG01"),
        ({"code": ["K1", "SEG02"]}, "already in the candidate set: K1"),
        ({"code": ["SEG01", " "]}, "needs a code"),
        ({"lat": [0.05, "abc"]}, "numeric lon and lat"),
        ({"commune_id": [99999, 1]}, "commune id 99999 is not a commune"),
        ({"commune_id": ["x", 1]}, "integer commune_id"),
    ],
)
def test_bad_rows_are_refused_and_nothing_is_written(tiny_store, changes, message):
    dataset, ids = _commune_ids(tiny_store)
    before = tiny_store.candidates(dataset)
    with pytest.raises(StoreError, match=message):
        tiny_store.add_candidate_sites(dataset, _sites(ids, **changes))
    pd.testing.assert_frame_equal(tiny_store.candidates(dataset), before)


def test_a_department_is_not_a_commune(tiny_store):
    dataset, _ = _commune_ids(tiny_store)
    dept = tiny_store.units(dataset, 1)
    frame = pd.DataFrame(
        {
            "code": ["D"],
            "name": ["x"],
            "commune_id": [int(dept["id"].iloc[0])],
            "lon": [0.05],
            "lat": [0.05],
        }
    )
    with pytest.raises(StoreError, match="is not a commune of dataset"):
        tiny_store.add_candidate_sites(dataset, frame)


def test_missing_columns_empty_frame_and_unknown_dataset(tiny_store):
    dataset, ids = _commune_ids(tiny_store)
    with pytest.raises(StoreError, match="lack columns: lat, lon"):
        tiny_store.add_candidate_sites(
            dataset, _sites(ids).drop(columns=["lon", "lat"])
        )
    with pytest.raises(StoreError, match="no candidate site"):
        tiny_store.add_candidate_sites(dataset, _sites(ids).iloc[:0])
    with pytest.raises(StoreError, match="no dataset with id 42"):
        tiny_store.add_candidate_sites(42, _sites(ids))
