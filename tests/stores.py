"""Stores the fixtures build, at any database URL."""

from __future__ import annotations

from data.store import Store
from geo.access import nearest_center
from tests.tiny import tiny_bundle


def make_tiny_store(url: str) -> Store:
    """A store at ``url`` holding the tiny country (active) with access computed."""
    store = Store(url)
    store.upgrade()
    store.add_dataset(tiny_bundle(), kind="imported", access=nearest_center)
    return store
