"""The saved scenarios' lists (the scenario screen's choices, the API's list) are
read once per state of the scenarios (``services.scenario_list``,
``services.scenario_choices``, keyed on ``data.scenarios.list_stamp`` and the
active dataset): every change a list shows is listed at the next read, in each
backend, and nobody changes the shared list."""

from __future__ import annotations

import hashlib
import pickle

import pytest

from dashapp import create_app, services
from dashapp.cache import clear_memos
from dashapp.config import Config
from dashapp.i18n import t
from data.scenarios import (
    delete_scenario,
    duplicate_scenario,
    list_scenarios,
    purge_scenario,
    rename_scenario,
    restore_scenario,
    save_scenario,
    update_scenario,
)
from geo.access import nearest_center
from tests.auth_helpers import signed_in_client
from tests.tiny import tiny_bundle


@pytest.fixture
def url(tiny_store):
    clear_memos()
    yield tiny_store.url
    clear_memos()


def _labels(url: str, lang: str = "fr") -> list[str]:
    return [c["label"] for c in services.scenario_choices(url, lang)]


def _digest(value) -> str:
    return hashlib.sha256(pickle.dumps(value)).hexdigest()


def test_each_change_is_listed_at_the_next_read(tiny_store, url):
    ds = tiny_store.active_dataset().id
    assert services.scenario_choices(url, "fr") == []
    a = save_scenario(tiny_store, ds, "Alpha", {})
    (first,) = services.scenario_choices(url, "fr")
    assert first["value"] == a.id and first["label"].startswith("Alpha · brouillon")
    memo = services._scenario_choices
    misses, hits = memo.misses, memo.hits
    assert services.scenario_choices(url, "fr")[0] is first  # nothing changed
    assert (memo.misses, memo.hits) == (misses, hits + 1)
    assert _labels(url, "en")[0].startswith("Alpha · draft")  # its own language

    b = duplicate_scenario(tiny_store, a.id)
    assert [c["value"] for c in services.scenario_choices(url, "fr")] == [b.id, a.id]
    rename_scenario(tiny_store, a.id, "Alpha bis")
    assert _labels(url)[0].startswith("Alpha bis · ")
    update_scenario(tiny_store, b.id, status="optimal")
    status = t("scn.status.optimal", "fr")
    assert _labels(url)[0].startswith(f"{b.name} · {status}")
    delete_scenario(tiny_store, a.id)
    assert [c["value"] for c in services.scenario_choices(url, "fr")] == [b.id]
    assert services.scenario_list(url, deleted=True)["id"].tolist() == [a.id]
    restore_scenario(tiny_store, a.id)
    assert [c["value"] for c in services.scenario_choices(url, "fr")] == [a.id, b.id]
    purge_scenario(tiny_store, b.id)
    assert [c["value"] for c in services.scenario_choices(url, "fr")] == [a.id]
    # every read listed what the store lists
    listed = services.scenario_list(url)
    assert listed.equals(list_scenarios(tiny_store))


def test_a_new_active_dataset_flags_the_older_scenarios(tiny_store, url):
    ds = tiny_store.active_dataset().id
    save_scenario(tiny_store, ds, "Ancien", {})
    stale = t("scn.list_stale", "fr")
    assert stale not in _labels(url)[0]
    assert not services.scenario_list(url)["stale"].any()
    tiny_store.add_dataset(tiny_bundle(), kind="imported", access=nearest_center)
    assert _labels(url)[0].endswith(stale)
    assert services.scenario_list(url)["stale"].all()
    # one dataset's list, as the API reads it
    assert services.scenario_list(url, ds)["name"].tolist() == ["Ancien"]
    assert services.scenario_list(url, ds + 1).empty


def test_readers_leave_the_shared_lists_as_they_were(tiny_store, url, tmp_path):
    ds = tiny_store.active_dataset().id
    save_scenario(tiny_store, ds, "Alpha", {})
    choices = services.scenario_choices(url, "fr")
    frame = services.scenario_list(url)
    before = _digest(choices), _digest(frame)
    app = create_app(Config(data_dir=tmp_path, database_url=url))
    body = signed_in_client(app, "viewer").get("/api/v1/scenarios").get_json()
    assert [s["name"] for s in body] == ["Alpha"]
    assert isinstance(body[0]["updated_at"], str)  # the API's copy, in ISO text
    assert services.scenario_list(url) is frame  # the one it read
    assert services.scenario_choices(url, "fr") is choices
    assert (_digest(choices), _digest(frame)) == before
