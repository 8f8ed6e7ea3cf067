"""Shared fixtures: stores with the tiny hand-made country and the demo country."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dashapp.bootstrap import create_demo
from data.store import Store
from geo.access import nearest_center
from tests.chromium import chromium_options
from tests.tiny import tiny_bundle


def pytest_setup_options():
    """Headless Debian Chromium for dash_duo; no tool downloads a browser."""
    return chromium_options()


@pytest.fixture
def tiny_store(tmp_path) -> Store:
    """A fresh SQLite store holding the tiny country (active) with access computed."""
    store = Store(f"sqlite:///{tmp_path / 'tiny.sqlite'}")
    store.upgrade()
    store.add_dataset(tiny_bundle(), kind="imported", access=nearest_center)
    return store


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory) -> Path:
    """A data folder whose SQLite store holds the default demo country."""
    path = tmp_path_factory.mktemp("demo")
    store = Store(f"sqlite:///{path / 'dashapp.sqlite'}")
    store.upgrade()
    create_demo(store, seed=42, n_communes=400)
    store.engine.dispose()
    return path


@pytest.fixture
def demo_copy(demo_dir, tmp_path) -> Path:
    """A private copy of the demo data folder, for tests that write."""
    target = tmp_path / "data"
    shutil.copytree(demo_dir, target)
    return target
