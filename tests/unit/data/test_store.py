import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import inspect

from data.store import Store, StoreError
from geo.access import nearest_center
from tests.tiny import tiny_bundle


def _counts(store: Store) -> dict:
    tables = [
        "datasets",
        "admin_units",
        "unit_closure",
        "service_centers",
        "candidate_sites",
        "operations",
        "commune_access",
    ]
    return {
        t: int(store.read_frame(f"SELECT COUNT(*) AS n FROM {t}")["n"][0])
        for t in tables
    }


def test_upgrade_creates_every_table_and_is_idempotent(store_url):
    store = Store(store_url)
    assert store.revision() is None
    store.upgrade()
    store.upgrade()
    assert store.revision() == store.head_revision()
    tables = set(inspect(store.engine).get_table_names())
    assert {
        "datasets",
        "admin_levels",
        "admin_units",
        "unit_closure",
        "document_types",
        "service_centers",
        "candidate_sites",
        "operations",
        "commune_access",
    } <= tables


def test_round_trip_of_a_dataset(tiny_store):
    info = tiny_store.active_dataset()
    assert info.name == "Pays minuscule" and info.kind == "imported" and info.is_active
    communes = tiny_store.units(info.id, 2)
    assert communes["code"].tolist() == ["C1", "C2", "C3", "C4"]
    assert communes.crs == "EPSG:4326"
    assert communes.loc[communes["code"] == "C2", "rep_lon"].item() == pytest.approx(
        0.15
    )
    assert communes["population"].sum() == 10000
    assert set(tiny_store.centers(info.id)["code"]) == {"S1", "S2"}
    assert tiny_store.candidates(info.id)["code"].tolist() == ["K1"]
    assert tiny_store.weeks(info.id) == (dt.date(2026, 1, 5), dt.date(2026, 1, 12))
    closure = tiny_store.closure(info.id)
    # 7 units: every unit is its own descendant, communes have 2 ancestors, depts 1
    assert len(closure) == 7 + 4 * 2 + 2
    levels = tiny_store.levels(info.id)
    assert levels["code"].tolist() == ["region", "department", "commune"]


def test_upgrade_keeps_existing_data(tiny_store):
    before = _counts(tiny_store)
    tiny_store.upgrade()
    again = Store(tiny_store.url)
    again.upgrade()
    assert _counts(again) == before


def test_second_dataset_becomes_active_and_versions_differ(tiny_store):
    first = tiny_store.active_dataset()
    second = tiny_store.add_dataset(
        tiny_bundle(), kind="imported", access=nearest_center
    )
    assert second.is_active and second.version != first.version
    assert [d.id for d in tiny_store.datasets() if d.is_active] == [second.id]
    tiny_store.set_active(first.id)
    assert tiny_store.active_dataset().id == first.id
    with pytest.raises(StoreError, match="no dataset with id 999"):
        tiny_store.set_active(999)


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (
            lambda b: b.operations.__setitem__("center_code", "NOPE"),
            "operations row 1: center_code 'NOPE' not found",
        ),
        (
            lambda b: b.centers.__setitem__("commune_code", "C9"),
            "service_centers row 1: commune 'C9' not found",
        ),
        (
            lambda b: b.units.loc.__setitem__((3, "parent_code"), "D7"),
            "unit 'C1' .*parent 'D7' not found",
        ),
    ],
)
def test_bad_bundle_is_refused_and_store_unchanged(tiny_store, breakage, message):
    before = _counts(tiny_store)
    bundle = tiny_bundle()
    breakage(bundle)
    with pytest.raises(StoreError, match=message):
        tiny_store.add_dataset(bundle)
    assert _counts(tiny_store) == before


def test_units_without_crs_or_with_duplicates_are_refused(tiny_store):
    bundle = tiny_bundle()
    bundle.units = bundle.units.set_crs(None, allow_override=True)
    with pytest.raises(StoreError, match="no CRS"):
        tiny_store.add_dataset(bundle)
    bundle = tiny_bundle()
    bundle.units = pd.concat([bundle.units, bundle.units.iloc[[3]]])
    with pytest.raises(StoreError, match="duplicate unit codes: C1"):
        tiny_store.add_dataset(bundle)
    with pytest.raises(TypeError, match="'units' should be GeoDataFrame"):
        bundle.units = pd.DataFrame(bundle.units)
        tiny_store.add_dataset(bundle)


def test_projected_units_are_reprojected_to_wgs84(store_url):
    store = Store(store_url)
    store.upgrade()
    bundle = tiny_bundle()
    bundle.units = bundle.units.to_crs("EPSG:32630")
    info = store.add_dataset(bundle, activate=False)
    communes = store.units(info.id, 2)
    assert communes.loc[communes["code"] == "C1", "rep_lon"].item() == pytest.approx(
        0.05, abs=1e-6
    )


def test_store_url_is_checked():
    with pytest.raises(TypeError, match="non-empty SQLAlchemy URL"):
        Store("")


def test_read_frame_gives_each_row_and_type_as_the_query_does(tmp_path):
    """Rows go to pandas as plain tuples: same frame, any column name (one named
    ``dtype`` too), none when the query finds nothing."""
    store = Store(f"sqlite:///{tmp_path / 'frame.sqlite'}")
    sql = "SELECT 1 AS id, 'a' AS dtype, 2.5 AS x, NULL AS y UNION ALL SELECT 2, 'b', 3, 4"
    frame = store.read_frame(sql + " ORDER BY id")
    assert list(frame.columns) == ["id", "dtype", "x", "y"]
    assert frame["id"].tolist() == [1, 2] and frame["dtype"].tolist() == ["a", "b"]
    assert frame["x"].tolist() == [2.5, 3.0] and frame["y"].isna().tolist() == [
        True,
        False,
    ]
    empty = store.read_frame("SELECT 1 AS id WHERE 0 = 1")
    assert empty.empty and list(empty.columns) == ["id"]
