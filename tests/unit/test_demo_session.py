"""The demo country and throw-away account the screenshot script and the screens
benchmark share (tests/demo_session.py)."""

from __future__ import annotations

import pytest

from bench import bench_screens
from dashapp import services
from dashapp.config import Config
from data import users
from tests.demo_session import until


def test_the_benchmarks_template_is_the_demo_with_its_analyst(tmp_path):
    database = bench_screens.make_template(tmp_path)
    assert database == tmp_path / "dashapp.sqlite" and database.is_file()
    store = services.get_store(Config(data_dir=tmp_path).database_url)
    user = users.authenticate(store, bench_screens.USER, bench_screens.PASSWORD)
    assert user.role == "analyst"
    assert store.active_dataset() is not None  # the demo country is there
    with pytest.raises(users.UserError):
        users.authenticate(store, bench_screens.USER, "not-the-password")


def test_until_returns_the_first_true_value_or_names_what_it_waited_for():
    seen = iter([None, 0, "", "ready", "later"])
    assert until(lambda: next(seen), "a value", timeout=5, step=0.001) == "ready"
    with pytest.raises(RuntimeError, match="waiting for the moon"):
        until(lambda: None, "the moon", timeout=0.05, step=0.01)
