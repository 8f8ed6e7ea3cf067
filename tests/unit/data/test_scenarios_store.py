import datetime as dt
import threading

import numpy as np
import pandas as pd
import pytest
from alembic import command
from sqlalchemy import inspect

from data.scenarios import (
    NAME_MAX,
    ScenarioStoreError,
    delete_scenario,
    duplicate_scenario,
    frame_from_json,
    frame_to_json,
    get_scenario,
    is_stale,
    list_scenarios,
    record_from_result,
    rename_scenario,
    save_scenario,
    update_scenario,
)
from data.store import Store, StoreError, _alembic_config
from geo.access import nearest_center
from optimization.network import network_from_store
from optimization.scenario import load_spec, run_scenario
from tests.stores import make_tiny_store
from tests.tiny import tiny_bundle

SPEC = {
    "name": "Plan",
    "model": "pmedian",
    "sites": {"use_candidates": True},
    "parameters": {"p": 2},
    "report_radius": 10.0,
}


@pytest.fixture
def ds(tiny_store):
    return tiny_store.active_dataset().id


@pytest.fixture
def result(tiny_store):
    return run_scenario(load_spec(SPEC), network_from_store(tiny_store))


def test_migration_0002_keeps_the_data_of_a_store_at_0001(store_url):
    store = Store(store_url)
    cfg = _alembic_config(store.engine)
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
    assert store.revision() == "0001"
    assert "scenarios" not in inspect(store.engine).get_table_names()
    info = store.add_dataset(tiny_bundle(), kind="imported", access=nearest_center)
    before = {
        t: store.read_frame(f"SELECT * FROM {t} ORDER BY 1")
        for t in ("datasets", "admin_units", "operations", "commune_access")
    }

    store.upgrade()

    assert store.revision() == store.head_revision()
    assert "scenarios" in inspect(store.engine).get_table_names()
    for table, frame in before.items():
        after = store.read_frame(f"SELECT * FROM {table} ORDER BY 1")
        pd.testing.assert_frame_equal(after, frame, check_dtype=False)
    rec = save_scenario(store, info.id, "Après migration", SPEC)
    assert get_scenario(store, rec.id).params == SPEC


def test_draft_is_saved_with_the_dataset_version(tiny_store, ds):
    rec = save_scenario(tiny_store, ds, "  Plan   2027 ", SPEC, author="Awa")
    assert rec.name == "Plan 2027"
    assert rec.author == "Awa" and rec.status == "draft"
    assert rec.dataset_version == tiny_store.active_dataset().version
    assert rec.summary is None and rec.centers is None and rec.communes is None
    assert not rec.has_results
    assert rec.created_at == rec.updated_at
    assert not is_stale(tiny_store, rec)


def test_results_round_trip_after_reopening_the_store(tiny_store, ds, result):
    fields = record_from_result(result)
    assert fields["status"] == "optimal"
    rec = save_scenario(tiny_store, ds, "Avec résultats", result.spec, **fields)
    tiny_store.engine.dispose()

    reopened = get_scenario(Store(tiny_store.url), rec.id)

    pd.testing.assert_frame_equal(reopened.centers, result.centers)
    pd.testing.assert_frame_equal(reopened.communes, result.assignments)
    assert reopened.summary == fields["summary"]
    assert reopened.summary["kpis"]["after"]["open_centers"] == 2
    assert reopened.params == result.spec.to_dict()
    assert reopened.status == "optimal"
    assert (reopened.created_at, reopened.updated_at) == (
        rec.created_at,
        rec.updated_at,
    )


def test_frame_json_keeps_dtypes_and_turns_nan_into_missing():
    frame = pd.DataFrame(
        {
            "i": np.array([1, 2, 3], dtype="int64"),
            "f": [1.5, np.nan, np.inf],
            "b": [True, False, True],
            "s": ["é", None, "c"],
            "t": pd.to_datetime(["2026-01-05", "2026-01-12", None]),
            "n": pd.array([1, None, 3], dtype="Int64"),
        }
    )
    back = frame_from_json(frame_to_json(frame))
    assert list(back.dtypes.astype(str)) == list(frame.dtypes.astype(str))
    assert back["f"].isna().tolist() == [False, True, True]  # inf is not JSON
    pd.testing.assert_frame_equal(back.drop(columns="f"), frame.drop(columns="f"))
    empty = frame_from_json(frame_to_json(frame.iloc[:0]))
    assert list(empty.columns) == list(frame.columns) and empty.empty


def test_update_stores_a_run_and_sets_updated_at(tiny_store, ds, result):
    rec = save_scenario(tiny_store, ds, "Brouillon", SPEC)
    updated = update_scenario(tiny_store, rec.id, **record_from_result(result))
    assert updated.status == "optimal" and updated.has_results
    assert updated.updated_at >= rec.updated_at
    assert updated.created_at == rec.created_at
    cleared = update_scenario(
        tiny_store, rec.id, summary=None, centers=None, communes=None, status="draft"
    )
    assert not cleared.has_results and cleared.summary is None
    with pytest.raises(TypeError, match="cannot update"):
        update_scenario(tiny_store, rec.id, created_at=dt.datetime.now())
    with pytest.raises(ScenarioStoreError, match="unknown scenario status") as err:
        update_scenario(tiny_store, rec.id, status="great")
    assert err.value.code == "bad_status"


@pytest.mark.parametrize(
    ("name", "code", "match"),
    [
        ("", "name_empty", "needs a name"),
        ("   ", "name_empty", "needs a name"),
        ("x" * (NAME_MAX + 1), "name_too_long", f"at most {NAME_MAX}"),
    ],
)
def test_bad_names_are_refused(tiny_store, ds, name, code, match):
    with pytest.raises(ScenarioStoreError, match=match) as err:
        save_scenario(tiny_store, ds, name, SPEC)
    assert err.value.code == code
    assert isinstance(err.value, StoreError)


def test_a_name_is_unique_per_dataset_only(tiny_store, ds):
    save_scenario(tiny_store, ds, "Plan", SPEC)
    with pytest.raises(ScenarioStoreError, match="'Plan' already exists") as err:
        save_scenario(tiny_store, ds, "Plan", {"model": "mclp"})
    assert err.value.code == "name_taken"
    other = tiny_store.add_dataset(tiny_bundle(), activate=False).id
    assert save_scenario(tiny_store, other, "Plan", SPEC).dataset_id == other
    assert len(list_scenarios(tiny_store)) == 2


def test_two_concurrent_saves_of_one_name_give_one_record_and_one_error(tiny_store, ds):
    stores = [Store(tiny_store.url), Store(tiny_store.url)]
    barrier = threading.Barrier(2)
    outcomes: list = []

    def save(store, k):
        barrier.wait()
        try:
            outcomes.append(save_scenario(store, ds, "Même nom", {"k": k}))
        except ScenarioStoreError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=save, args=(s, k)) for k, s in enumerate(stores)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    errors = [o for o in outcomes if isinstance(o, ScenarioStoreError)]
    saved = [o for o in outcomes if not isinstance(o, ScenarioStoreError)]
    assert len(saved) == 1 and len(errors) == 1
    assert errors[0].code == "name_taken"
    listed = list_scenarios(tiny_store)
    assert listed["name"].tolist() == ["Même nom"]
    assert get_scenario(tiny_store, saved[0].id).params == saved[0].params


def test_params_must_be_json(tiny_store, ds):
    with pytest.raises(ScenarioStoreError, match="params cannot be saved as JSON"):
        save_scenario(tiny_store, ds, "A", {"when": dt.date(2026, 1, 1)})
    with pytest.raises(ScenarioStoreError, match="params cannot be saved as JSON"):
        save_scenario(tiny_store, ds, "A", {"p": float("nan")})
    with pytest.raises(TypeError, match="'params' should be a dict"):
        save_scenario(tiny_store, ds, "A", ["pmedian"])
    assert list_scenarios(tiny_store).empty


def test_unknown_ids_and_datasets_are_clear_errors(tiny_store, ds):
    for call in (
        lambda: get_scenario(tiny_store, 999),
        lambda: rename_scenario(tiny_store, 999, "B"),
        lambda: duplicate_scenario(tiny_store, 999),
        lambda: delete_scenario(tiny_store, 999),
        lambda: update_scenario(tiny_store, 999, author="x"),
        lambda: get_scenario(tiny_store, "abc"),
    ):
        with pytest.raises(ScenarioStoreError, match="no scenario with id") as err:
            call()
        assert err.value.code == "unknown_id"
    with pytest.raises(ScenarioStoreError, match="no dataset with id 42"):
        save_scenario(tiny_store, 42, "A", SPEC)


def test_rename_duplicate_delete(tiny_store, ds, result):
    rec = save_scenario(tiny_store, ds, "Plan", SPEC, **record_from_result(result))
    other = save_scenario(tiny_store, ds, "Autre", SPEC)
    assert rename_scenario(tiny_store, rec.id, "Plan A").name == "Plan A"
    with pytest.raises(ScenarioStoreError, match="'Autre' already exists"):
        rename_scenario(tiny_store, rec.id, "Autre")

    first = duplicate_scenario(tiny_store, rec.id)
    second = duplicate_scenario(tiny_store, rec.id)
    named = duplicate_scenario(tiny_store, rec.id, "Variante")
    assert [first.name, second.name, named.name] == [
        "Plan A (copie)",
        "Plan A (copie 2)",
        "Variante",
    ]
    pd.testing.assert_frame_equal(first.centers, result.centers)
    assert first.status == "optimal" and first.id != rec.id
    with pytest.raises(ScenarioStoreError, match="'Autre' already exists"):
        duplicate_scenario(tiny_store, rec.id, "Autre")
    long = rename_scenario(tiny_store, other.id, "y" * NAME_MAX)
    assert len(duplicate_scenario(tiny_store, long.id).name) == NAME_MAX

    delete_scenario(tiny_store, first.id)
    assert first.id not in set(list_scenarios(tiny_store)["id"])
    with pytest.raises(ScenarioStoreError, match="no scenario"):
        get_scenario(tiny_store, first.id)


def test_list_and_staleness_follow_the_active_dataset(tiny_store, ds):
    old = save_scenario(tiny_store, ds, "Ancien", SPEC)
    newer = tiny_store.add_dataset(tiny_bundle(), access=nearest_center).id
    fresh = save_scenario(tiny_store, newer, "Récent", SPEC)

    listed = list_scenarios(tiny_store)
    assert listed.columns.tolist() == [
        "id",
        "name",
        "author",
        "status",
        "dataset_id",
        "dataset_version",
        "created_at",
        "updated_at",
        "owner_id",
        "stale",
    ]
    assert listed["name"].tolist() == ["Récent", "Ancien"]  # newest first
    assert dict(zip(listed["name"], listed["stale"], strict=True)) == {
        "Récent": False,
        "Ancien": True,
    }
    assert list_scenarios(tiny_store, ds)["name"].tolist() == ["Ancien"]
    assert is_stale(tiny_store, get_scenario(tiny_store, old.id))
    assert not is_stale(tiny_store, fresh)
    # re-running on the new dataset clears the flag
    rerun = update_scenario(tiny_store, old.id, dataset_id=newer, summary={})
    assert not is_stale(tiny_store, rerun)
    tiny_store.set_active(ds)
    assert is_stale(tiny_store, fresh)


def test_deleting_a_dataset_deletes_its_scenarios(tiny_store, ds):
    save_scenario(tiny_store, ds, "Plan", SPEC)
    with tiny_store.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM commune_access")
        conn.exec_driver_sql("DELETE FROM operations")
        conn.exec_driver_sql("DELETE FROM service_centers")
        conn.exec_driver_sql("DELETE FROM candidate_sites")
        conn.exec_driver_sql("DELETE FROM unit_closure")
        conn.exec_driver_sql("UPDATE admin_units SET parent_id = NULL")
        conn.exec_driver_sql("DELETE FROM admin_units")
        conn.exec_driver_sql("DELETE FROM datasets")
    assert list_scenarios(tiny_store).empty


def test_record_from_result_checks_its_input():
    with pytest.raises(TypeError, match="should be a ScenarioResult"):
        record_from_result({"summary": {}})


def test_a_scenario_stamp_changes_with_every_change_of_its_record(tiny_store, ds):
    from data.scenarios import restore_scenario, scenario_stamp, share_nonce

    rec = save_scenario(tiny_store, ds, "Stamped", {"spec": SPEC})
    first = scenario_stamp(tiny_store, rec.id)
    assert first == (rec.id, rec.created_at, rec.updated_at, None)
    assert scenario_stamp(tiny_store, str(rec.id)) == first  # the browser's text id
    share_nonce(tiny_store, rec.id)  # a share link is not part of the record
    assert scenario_stamp(tiny_store, rec.id) == first
    renamed = rename_scenario(tiny_store, rec.id, "Stamped again")
    second = scenario_stamp(tiny_store, rec.id)
    assert second != first and second[2] == renamed.updated_at
    update_scenario(tiny_store, rec.id, status="optimal")
    third = scenario_stamp(tiny_store, rec.id)
    assert third not in (first, second)
    delete_scenario(tiny_store, rec.id)
    with pytest.raises(ScenarioStoreError, match="no scenario") as deleted:
        scenario_stamp(tiny_store, rec.id)
    assert deleted.value.code == "unknown_id"
    gone = scenario_stamp(tiny_store, rec.id, include_deleted=True)
    assert gone[3] is not None and gone[:3] == third[:3]
    restore_scenario(tiny_store, rec.id)
    assert scenario_stamp(tiny_store, rec.id) not in (first, second, third, gone)


@pytest.mark.parametrize("bad", [0, -1, 2**63, "x", None, 1.5e30, "1; DROP", 999_999])
def test_a_scenario_stamp_of_a_bad_or_unknown_id_is_unknown(tiny_store, bad):
    from data.scenarios import scenario_stamp

    with pytest.raises(ScenarioStoreError) as exc:
        scenario_stamp(tiny_store, bad)
    assert exc.value.code == "unknown_id"


def test_the_list_stamp_changes_with_every_change_a_list_shows(tiny_store, ds):
    from data.scenarios import (
        list_stamp,
        purge_scenario,
        restore_scenario,
        share_nonce,
    )

    seen = [list_stamp(tiny_store)]
    assert seen[0] == (0, 0, None, None, None)

    def changed() -> tuple:
        stamp = list_stamp(tiny_store)
        assert stamp not in seen, stamp
        seen.append(stamp)
        return stamp

    a = save_scenario(tiny_store, ds, "A", {"spec": SPEC})
    assert changed() == (1, 0, a.id, a.updated_at, None)
    b = duplicate_scenario(tiny_store, a.id)
    changed()
    share_nonce(tiny_store, a.id)  # a share link is in no list
    assert list_stamp(tiny_store) == seen[-1]
    rename_scenario(tiny_store, a.id, "A renamed")
    changed()
    update_scenario(tiny_store, b.id, status="optimal")
    changed()
    update_scenario(tiny_store, b.id, summary={"x": 1})  # re-run: results changed
    changed()
    delete_scenario(tiny_store, a.id)
    assert changed()[1] == 1
    restore_scenario(tiny_store, a.id)
    changed()
    delete_scenario(tiny_store, b.id)
    changed()
    # the deleted name given again: one new row, the deleted one kept
    save_scenario(tiny_store, ds, b.name, {"spec": SPEC})
    assert changed()[:2] == (3, 1)
    purge_scenario(tiny_store, a.id)
    assert changed()[:2] == (2, 1)


def test_migration_0008_indexes_what_the_lists_read(store_url):
    from data.schema import SCENARIO_LIST_COLUMNS

    store = Store(store_url)
    cfg = _alembic_config(store.engine)
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0007")
    info = store.add_dataset(tiny_bundle(), kind="imported", access=nearest_center)
    kept = save_scenario(store, info.id, "Before 0008", {"spec": SPEC})
    assert "ix_scenarios_list" not in {
        i["name"] for i in inspect(store.engine).get_indexes("scenarios")
    }
    store.upgrade()
    (index,) = [
        i
        for i in inspect(store.engine).get_indexes("scenarios")
        if i["name"] == "ix_scenarios_list"
    ]
    assert tuple(index["column_names"]) == SCENARIO_LIST_COLUMNS
    assert list_scenarios(store)["id"].tolist() == [kept.id]
    if store.engine.dialect.name == "sqlite":
        # both lists' queries read the index alone, never the rows with the results
        from sqlalchemy import event

        from data.scenarios import list_stamp

        seen = []

        def keep(conn, cursor, statement, parameters, context, executemany):
            if "FROM scenarios" in statement:
                seen.append((statement, parameters))

        event.listen(store.engine, "before_cursor_execute", keep)
        list_scenarios(store)
        list_scenarios(store, info.id)
        list_scenarios(store, deleted=True)
        list_stamp(store)
        event.remove(store.engine, "before_cursor_execute", keep)
        assert len(seen) == 4
        with store.engine.connect() as conn:
            for statement, parameters in seen:
                plan = conn.exec_driver_sql(
                    "EXPLAIN QUERY PLAN " + statement, parameters
                ).all()
                text = " ".join(str(row[-1]) for row in plan)
                assert "COVERING INDEX ix_scenarios_list" in text, (statement, text)


def _frame_from_json_every_column_converted(text: str) -> pd.DataFrame:
    """frame_from_json as it was: json, then every column converted."""
    import json

    data = json.loads(text)
    dtypes = data["dtypes"]
    frame = pd.DataFrame.from_records(data["records"], columns=list(dtypes))
    for col, dtype in dtypes.items():
        try:
            if dtype.startswith("datetime64"):
                frame[col] = pd.to_datetime(frame[col]).astype(dtype)
            elif dtype == "object":
                frame[col] = frame[col].astype(object)
            else:
                frame[col] = frame[col].astype(dtype)
        except (TypeError, ValueError):
            continue
    return frame


@pytest.mark.parametrize(
    "frame",
    [
        pd.DataFrame(
            {
                "site_id": ["S1", "S2", None],
                "lon": [1.5, None, -3.25],
                "existing": [True, False, True],
                "communes": np.array([3, 0, 7], dtype="int64"),
                "mixed": pd.Series([1, "a", None], dtype=object),
                "flag_missing": pd.Series([True, None, False], dtype=object),
                "when": pd.to_datetime(["2026-01-05", None, "2026-02-01"]),
                "n": pd.array([1, None, 3], dtype="Int64"),
                "small": np.array([1, 2, 3], dtype="int32"),
            }
        ),
        pd.DataFrame(
            {"huge": pd.Series([2**70 + 1, 1], dtype=object), "x": [1.0, 2.0]}
        ),
        pd.DataFrame({"a": pd.Series([], dtype="float64"), "b": []}),
    ],
    ids=["result-like", "past-64-bits", "empty"],
)
def test_frame_json_reads_what_the_full_conversion_read(frame):
    """Columns that come out of the records with their dtype are left as they are:
    the same frame as converting every column."""
    text = frame_to_json(frame)
    pd.testing.assert_frame_equal(
        frame_from_json(text), _frame_from_json_every_column_converted(text)
    )


# -- a deleted scenario's name (migration 0009) -----------------------------------------
def test_another_users_save_never_destroys_a_deleted_scenario(store_url):
    """uplanner deleted their scenario; planner2 saved a draft of the same name (a
    guessable timestamp), which purged the deleted one for good: the undo and an
    admin's restore found nothing. The save still succeeds, the deleted scenario is
    kept, and restoring it gives it a free name."""
    from data.scenarios import restore_scenario

    store = make_tiny_store(store_url)
    ds = store.active_dataset().id
    name = "Brouillon du 30/11/2026 18:20"
    mine = save_scenario(store, ds, name, SPEC, owner_id=1, author="Awa")
    delete_scenario(store, mine.id)

    theirs = save_scenario(store, ds, name, {"model": "mclp"}, owner_id=2)
    assert (theirs.name, theirs.owner_id) == (name, 2)
    kept = get_scenario(store, mine.id, include_deleted=True)
    assert kept.deleted_at is not None and kept.params == SPEC
    with pytest.raises(ScenarioStoreError, match="already exists") as err:
        save_scenario(store, ds, name, SPEC, owner_id=3)  # live names stay unique
    assert err.value.code == "name_taken"

    back = restore_scenario(store, mine.id)
    assert (back.id, back.name, back.owner_id, back.author, back.params) == (
        mine.id, f"{name} (restauré)", 1, "Awa", SPEC
    )  # fmt: skip
    assert back.deleted_at is None
    assert get_scenario(store, theirs.id).name == name
    assert sorted(list_scenarios(store)["name"]) == [name, f"{name} (restauré)"]

    # again: the next free name; a name at the length limit stays within it
    long = "x" * NAME_MAX
    for k, owner in enumerate((1, 1, 2)):
        first = save_scenario(store, ds, long, SPEC, owner_id=owner)
        delete_scenario(store, first.id)
        if k < 2:
            continue
        save_scenario(store, ds, long, SPEC, owner_id=3)
    restored = [
        restore_scenario(store, i).name
        for i in list_scenarios(store, deleted=True)["id"].sort_values()
    ]
    assert restored == [
        "x" * (NAME_MAX - 11) + " (restauré)",
        "x" * (NAME_MAX - 13) + " (restauré 2)",
        "x" * (NAME_MAX - 13) + " (restauré 3)",
    ]
    assert all(len(n) == NAME_MAX for n in restored)


def test_restoring_a_scenario_whose_name_is_free_keeps_it(store_url):
    from data.scenarios import restore_scenario

    store = make_tiny_store(store_url)
    ds = store.active_dataset().id
    rec = save_scenario(store, ds, "Plan", SPEC, owner_id=1)
    delete_scenario(store, rec.id)
    other = save_scenario(store, ds, "Plan", SPEC, owner_id=2)
    delete_scenario(store, other.id)  # two deleted ones of one name
    assert restore_scenario(store, rec.id).name == "Plan"
    assert restore_scenario(store, other.id).name == "Plan (restauré)"


def test_migration_0009_frees_the_names_of_deleted_scenarios(store_url):
    store = Store(store_url)
    cfg = _alembic_config(store.engine)
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0008")
    info = store.add_dataset(tiny_bundle(), kind="imported", access=nearest_center)
    live = save_scenario(store, info.id, "Vivant", SPEC, owner_id=1)
    gone = save_scenario(store, info.id, "Supprimé", SPEC, owner_id=1)
    delete_scenario(store, gone.id)
    before = store.read_frame("SELECT * FROM scenarios ORDER BY id")

    store.upgrade()

    assert store.revision() == "0009"
    after = store.read_frame("SELECT * FROM scenarios ORDER BY id")
    pd.testing.assert_frame_equal(after, before, check_dtype=False)
    found = inspect(store.engine)
    assert found.get_unique_constraints("scenarios") == []
    names = {i["name"]: i for i in found.get_indexes("scenarios")}
    assert {"ix_scenarios_dataset", "ix_scenarios_list"} <= set(names)
    assert names["uq_scenarios_live_name"]["unique"]
    assert names["uq_scenarios_live_name"]["column_names"] == ["dataset_id", "name"]
    with pytest.raises(ScenarioStoreError, match="'Vivant' already exists"):
        save_scenario(store, info.id, "Vivant", SPEC)
    again = save_scenario(store, info.id, "Supprimé", SPEC, owner_id=2)
    assert get_scenario(store, gone.id, include_deleted=True).name == "Supprimé"
    assert {live.id, again.id} == set(list_scenarios(store)["id"])
    # the rebuilt table (SQLite) keeps its key: deleting a dataset deletes them
    (key,) = found.get_foreign_keys("scenarios")
    assert (key["referred_table"], key["options"].get("ondelete")) == (
        "datasets", "CASCADE"
    )  # fmt: skip


def test_migration_0009_downgrade_renames_the_deleted_ones_that_clash(store_url):
    store = Store(store_url)
    store.upgrade()
    info = store.add_dataset(tiny_bundle(), kind="imported", access=nearest_center)
    gone = save_scenario(store, info.id, "Plan", SPEC)
    delete_scenario(store, gone.id)
    live = save_scenario(store, info.id, "Plan", SPEC)
    cfg = _alembic_config(store.engine)
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0008")
    names = store.read_frame("SELECT id, name FROM scenarios ORDER BY id")
    assert names["name"].tolist() == [f"Plan (supprimé {gone.id})", "Plan"]
    assert names["id"].tolist() == [gone.id, live.id]
    assert [c["name"] for c in inspect(store.engine).get_unique_constraints(
        "scenarios")] == ["uq_scenarios_dataset_name"]  # fmt: skip
