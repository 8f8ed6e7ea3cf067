"""Shared fixtures: stores with the tiny hand-made country and the demo country."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from selenium.webdriver.chrome.options import Options

from dashapp.bootstrap import create_demo
from data.store import Store
from geo.access import refresh_access
from tests.tiny import tiny_bundle

CHROMIUM = os.environ.get("DASHAPP_CHROMIUM", "/usr/bin/chromium")


def pytest_setup_options():
    """Headless Debian Chromium for dash_duo; no tool downloads a browser."""
    if not Path(CHROMIUM).exists():
        raise RuntimeError(
            f"Chromium not found at {CHROMIUM}: install Debian's chromium "
            "and chromium-driver (see README)"
        )
    options = Options()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--window-size=1500,1200",
    ):
        options.add_argument(arg)
    return options


@pytest.fixture
def tiny_store(tmp_path) -> Store:
    """A fresh SQLite store holding the tiny country (active) with access computed."""
    store = Store(f"sqlite:///{tmp_path / 'tiny.sqlite'}")
    store.upgrade()
    info = store.add_dataset(tiny_bundle(), kind="imported")
    refresh_access(store, info.id)
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
