"""The process memo (dashapp.cache.memo) and what the services memoise with it:
results kept without pickling, bounded, computed once under concurrency, shared
through a cross-process cache when there is one, never stale across datasets."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time

import numpy as np
import pandas as pd
import pytest

from dashapp import services
from dashapp.cache import Memo, memo, nbytes
from data import kpi
from data.views import load_context
from geo.access import nearest_center
from tests.conftest import BACKENDS
from tests.stores import make_tiny_store
from tests.tiny import W1, W2, tiny_bundle


def test_memo_returns_the_object_it_computed_without_copying():
    calls = []

    @memo(maxsize=4)
    def frame(n):
        calls.append(n)
        return pd.DataFrame({"x": range(n)})

    first = frame(3)
    assert frame(3) is first  # no pickling in and out: the same object
    assert calls == [3]
    assert (frame.hits, frame.misses) == (1, 1)
    assert isinstance(frame, Memo) and frame.__name__ == "frame"


def test_memo_drops_the_least_recently_used_beyond_its_size():
    calls = []

    @memo(maxsize=2)
    def square(x):
        calls.append(x)
        return x * x

    square(1), square(2), square(1), square(3)  # 2 is the least recently used
    calls.clear()
    square(1), square(3)
    assert calls == []
    square(2)
    assert calls == [2]


def test_memo_keeps_at_most_max_bytes_of_arrays_but_always_the_newest():
    @memo(maxsize=100, max_bytes=3 * 8000)
    def array(i, n=1000):
        return np.zeros(n)  # 8,000 bytes

    for i in range(5):
        array(i)
    assert len(array.entries) == 3 and array.nbytes == 24_000
    assert list(array.entries) == [(2,), (3,), (4,)]
    array(9, 10_000)  # larger than the budget alone: kept, the others dropped
    assert list(array.entries) == [(9, 10_000)]
    assert nbytes((np.zeros(2), pd.Series([1.0]))) == 24
    assert nbytes("text") == 4 and nbytes(b"abc") == 3 and nbytes(object()) == 0


def test_memo_does_not_remember_an_error():
    attempts = []

    @memo()
    def flaky(x):
        attempts.append(x)
        if len(attempts) == 1:
            raise RuntimeError("database busy")
        return x

    with pytest.raises(RuntimeError, match="busy"):
        flaky(1)
    assert flaky(1) == 1 and attempts == [1, 1]


def test_concurrent_callers_of_one_key_compute_it_once():
    started, release = threading.Event(), threading.Event()
    calls = []

    @memo()
    def slow(x):
        calls.append(x)
        started.set()
        release.wait(5)
        return [x]

    results = []
    threads = [threading.Thread(target=lambda: results.append(slow(7)))
               for _ in range(4)]  # fmt: skip
    for thread in threads:
        thread.start()
    assert started.wait(5)
    time.sleep(0.05)  # let the other three reach the wait (they never compute)
    release.set()
    for thread in threads:
        thread.join(5)
    assert calls == [7]
    assert len(results) == 4 and all(r is results[0] for r in results)


def test_a_waiter_computes_again_when_the_first_caller_failed():
    started, release = threading.Event(), threading.Event()
    calls = []

    @memo()
    def once_failing(x):
        calls.append(x)
        if len(calls) == 1:
            started.set()
            release.wait(5)
            raise RuntimeError("lost connection")
        return x

    errors, results = [], []

    def first():
        try:
            once_failing(1)
        except RuntimeError as exc:
            errors.append(exc)

    one = threading.Thread(target=first)
    one.start()
    assert started.wait(5)
    two = threading.Thread(target=lambda: results.append(once_failing(1)))
    two.start()
    time.sleep(0.05)
    release.set()
    one.join(5), two.join(5)
    assert len(errors) == 1 and results == [1] and calls == [1, 1]


def test_a_shared_cache_gives_another_process_what_one_computed(tmp_path):
    """With a cross-process flask-caching backend (here files; Redis in
    production), a memo's miss reads what another process stored there."""
    import flask

    from dashapp.cache import cache

    server = flask.Flask("memo-test")
    cache.init_app(server, config={"CACHE_TYPE": "FileSystemCache",
                                   "CACHE_DIR": str(tmp_path)})  # fmt: skip
    calls = []

    @memo(shared=True)
    def total(a, b):
        calls.append((a, b))
        return pd.Series([a, b]).sum()

    with server.app_context():
        assert total(2, 3) == 5
        total.cache_clear()  # as another process: nothing in its own memory
        assert total(2, 3) == 5
    assert calls == [(2, 3)]
    total.cache_clear()
    assert total(2, 3) == 5 and len(calls) == 2  # outside an app: computed


def test_a_process_local_cache_is_no_second_tier():
    import flask

    from dashapp.cache import _shared_backend, cache

    server = flask.Flask("memo-simple")
    cache.init_app(server, config={"CACHE_TYPE": "SimpleCache"})
    with server.app_context():
        assert _shared_backend() is None


# -- the services ------------------------------------------------------------------
def _doubled(bundle):
    """The tiny country again, every operation's counts doubled."""
    ops = bundle.operations.copy()
    for col in ("requests", "delivered", "delivered_on_time", "rejected"):
        if col in ops:
            ops[col] = ops[col] * 2
    return dataclasses.replace(bundle, name="Pays minuscule v2", operations=ops)


@pytest.fixture(params=BACKENDS)
def two_versions(request, tmp_path):
    """A store with the tiny country, then a second version of it (active)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'two.sqlite'}"
    else:
        url = request.getfixturevalue("postgres").create_database()
    store = make_tiny_store(url)
    first = store.active_dataset()
    second = store.add_dataset(_doubled(tiny_bundle()), kind="imported",
                               access=nearest_center)  # fmt: skip
    yield url, first.id, second.id
    store.engine.dispose()
    services.get_store(url).engine.dispose()


def _filters(ctx, **changes) -> kpi.Filters:
    values = {"dataset_id": ctx.info.id, "start": W1, "end": W2,
                  "doc_types": tuple(ctx.doc_types["code"]), "radius_km": 20.0,
                  "commune_level": ctx.commune_level}  # fmt: skip
    return kpi.Filters(**(values | changes))


def _measures(url, ctx, **changes):
    from dashapp.filters import Resolved

    f = _filters(ctx, **changes)
    resolved = Resolved(ctx.commune_level, "requests_per_1000", (None, None),
                        f.doc_types, f.start, f.end, f.radius_km)  # fmt: skip
    return services.measures_for(url, ctx, resolved)


def test_each_dataset_version_gets_its_own_measures(two_versions):
    url, first_id, second_id = two_versions
    one = services.context(url, first_id)
    two = services.context(url)  # the active one: the new version
    assert two.info.id == second_id
    m1, m2 = _measures(url, one), _measures(url, two)
    assert m1["requests"].sum() > 0
    assert m2["requests"].sum() == pytest.approx(2 * m1["requests"].sum())
    # each as the store computes it without any memo
    store = services.get_store(url)
    for ctx, got in ((one, m1), (two, m2)):
        direct = kpi.commune_measures(store, _filters(ctx))
        pd.testing.assert_frame_equal(got, direct, check_exact=False, rtol=1e-12)
    # asking again in the other order gives each its own, memoised
    assert _measures(url, two) is m2 and _measures(url, one) is m1


def test_switching_the_active_version_is_seen_at_once(two_versions):
    url, first_id, second_id = two_versions
    assert services.context(url).info.id == second_id
    services.get_store(url).set_active(first_id)
    assert services.context(url).info.id == first_id


def test_weekly_rows_sum_to_what_the_source_query_gives(two_versions):
    url, first_id, _ = two_versions
    store = services.get_store(url)
    ctx = load_context(store, first_id)
    docs = tuple(ctx.doc_types["code"])
    cases = [
        {},
        {"start": W2},
        {"end": W1},
        {"doc_types": docs[:1]},
        {"doc_types": docs[1:], "start": W1 - dt.timedelta(days=30)},
        {"start": W2 + dt.timedelta(days=7), "end": W2 + dt.timedelta(days=70)},
    ]
    for source in kpi.WEEKLY_SOURCES:
        weekly = kpi.weekly_rows(store, source, first_id)
        assert weekly is not None and len(weekly.key)
        for changes in cases:
            filters = _filters(ctx, **changes)
            got = kpi.slice_weekly(weekly, filters)
            want = kpi.source_frame(store, source, filters)
            keys = [c for c in ("row_id", "commune_id") if c in want]
            want = want.sort_values(keys, ignore_index=True)
            got = got.sort_values(keys, ignore_index=True)
            pd.testing.assert_frame_equal(got[want.columns], want, check_dtype=False,
                                          check_exact=False, rtol=1e-12)  # fmt: skip


def test_a_dataset_too_large_for_memory_is_queried_per_filter(two_versions,
                                                               monkeypatch):  # fmt: skip
    url, first_id, _ = two_versions
    store = services.get_store(url)
    monkeypatch.setattr(kpi, "WEEKLY_MAX_ROWS", 0)
    assert kpi.weekly_source_frame(store, "ops", first_id) is None
    assert kpi.weekly_rows(store, "ops", first_id) is None
    ctx = load_context(store, first_id)
    direct = kpi.commune_measures(store, _filters(ctx))
    pd.testing.assert_frame_equal(_measures(url, ctx), direct, check_exact=False,
                                  rtol=1e-12)  # fmt: skip


def test_weeks_counted_from_the_context_match_the_catalogue_sql(two_versions):
    url, first_id, _ = two_versions
    store = services.get_store(url)
    ctx = services.context(url, first_id)
    for start, end in [(W1, W2), (W2, W2), (W1 - dt.timedelta(days=60), W1),
                       (W2 + dt.timedelta(days=1), W2 + dt.timedelta(days=90))]:  # fmt: skip
        want = kpi.n_weeks(store, _filters(ctx, start=start, end=end))
        assert services.n_weeks(url, first_id, start.isoformat(),
                                end.isoformat()) == want  # fmt: skip
