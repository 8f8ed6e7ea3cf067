"""Servers and workers starting at the same moment: one prepares the store, all
share one complete secret key (real processes, SQLite and PostgreSQL)."""

from __future__ import annotations

import multiprocessing

import pytest

from dashapp import auth
from dashapp.config import Config
from data.store import Store, StoreError


def _key_in(folder: str, queue) -> None:
    queue.put(auth.secret_key(Config(data_dir=folder)))


def test_workers_starting_together_share_one_complete_secret_key(tmp_path):
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_key_in, args=(str(tmp_path), queue)) for _ in range(8)]
    for p in procs:
        p.start()
    keys = [queue.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(60)
    assert len(set(keys)) == 1 and len(keys[0]) >= 32
    assert (tmp_path / "secret_key").read_text() == keys[0]
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret_key"]  # no draft


def _prepare(url: str, folder: str, queue) -> None:
    from dashapp.bootstrap import prepare_store

    config = Config(
        data_dir=folder, database_url=url, demo_communes=30, admin_password="x" * 12
    )
    try:
        queue.put(("ok", prepare_store(config).id))
    except Exception as exc:
        queue.put(("error", repr(exc)))


def test_servers_starting_together_prepare_the_store_once(store_url, tmp_path):
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    procs = [
        ctx.Process(target=_prepare, args=(store_url, str(tmp_path), queue))
        for _ in range(3)
    ]
    for p in procs:
        p.start()
    results = [queue.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(60)
    assert results == [("ok", 1)] * 3
    store = Store(store_url)
    assert [d.id for d in store.datasets()] == [1]
    assert store.read_frame("SELECT username FROM users")["username"].tolist() == [
        "admin"
    ]
    store.engine.dispose()


def test_the_lock_excludes_and_gives_up_after_its_timeout(store_url):
    store, other = Store(store_url), Store(store_url)
    with (
        store.lock(),
        pytest.raises(StoreError, match="preparing the store"),
        other.lock(timeout=0.5),
    ):
        pass
    with other.lock(timeout=0.5):  # free again
        pass
    for s in (store, other):
        s.engine.dispose()
