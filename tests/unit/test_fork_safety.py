"""A background job forked from a threaded web server starts with what the
server's other threads held at the fork: the memos' locks and computations in
progress, and the store's pooled connections. The child must get its own."""

from __future__ import annotations

import os
import threading
import time

import pytest

from dashapp.cache import memo
from data.store import Store

CHILD_TIMEOUT_S = 60


def _run_in_child(fn) -> int:
    """Fork; the child runs ``fn`` and exits 0 when it returns True, 1 else; the
    parent returns the child's exit code (or fails when it hangs)."""
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 1
        try:
            code = 0 if fn() else 1
        finally:
            os._exit(code)
    deadline = time.monotonic() + CHILD_TIMEOUT_S
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.05)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    pytest.fail(f"the forked child hung for {CHILD_TIMEOUT_S} s")


def test_a_memo_being_computed_by_another_thread_at_the_fork_is_computed_anew():
    started, release = threading.Event(), threading.Event()

    @memo(maxsize=4)
    def slow(x):
        if threading.current_thread() is not threading.main_thread():
            started.set()
            release.wait(30)  # the parent's other thread is still computing
        return x * 2

    worker = threading.Thread(target=slow, args=(21,))
    worker.start()
    assert started.wait(10)
    try:
        # in the child no thread will ever finish the parent's computation
        assert _run_in_child(lambda: slow(21) == 42) == 0
    finally:
        release.set()
        worker.join(10)
    assert slow(21) == 42 and slow.hits >= 1


def test_a_memo_lock_held_at_the_fork_does_not_block_the_child():
    @memo(maxsize=4)
    def double(x):
        return x * 2

    assert double(1) == 2
    held, release = threading.Event(), threading.Event()

    def hold():
        with double.lock:
            held.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(10)
    try:
        # a value computed before the fork is still there; a new one is computed
        assert _run_in_child(lambda: double(1) == 2 and double(5) == 10) == 0
    finally:
        release.set()
        holder.join(10)


def test_a_forked_child_uses_connections_of_its_own(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'fork.sqlite'}")
    store.ping()  # the parent's pool now holds a connection
    parent_pool = store.engine.pool

    def child() -> bool:
        fresh = store.engine.pool is not parent_pool  # a new, empty pool
        store.ping()  # and it works
        return fresh

    assert _run_in_child(child) == 0
    assert store.engine.pool is parent_pool  # the parent's pool is untouched
    store.ping()  # and its connection still works
