"""API reads carry an ETag and answer 304 to a client that has the same body; KPI
answers are memoised per dataset version and query, never across versions."""

from __future__ import annotations

import dataclasses

import pytest

from dashapp import create_app
from dashapp.api import _kpis_body
from dashapp.config import Config
from data.store import Store
from geo.access import nearest_center
from tests.auth_helpers import signed_in_client
from tests.tiny import tiny_bundle

KPIS = "/api/v1/kpis?level=commune&start=2026-01-05&end=2026-01-12&radius=5"


@pytest.fixture
def store(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'dashapp.sqlite'}")
    store.upgrade()
    store.add_dataset(tiny_bundle(), kind="imported", access=nearest_center)
    yield store
    store.engine.dispose()


@pytest.fixture
def client(store, tmp_path):
    return signed_in_client(create_app(Config(data_dir=tmp_path)), "viewer")


@pytest.mark.parametrize("path", [KPIS, "/api/v1/datasets", "/api/v1/scenarios"])
def test_a_read_sends_an_etag_and_304_when_the_client_has_it(client, path):
    first = client.get(path)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert etag.startswith('"') and len(etag) > 10
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag
    other = client.get(path, headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200 and other.data == first.data


def test_the_etag_changes_with_the_query_and_the_language(client):
    one = client.get(KPIS)
    two = client.get(KPIS.replace("radius=5", "radius=6"))
    english = client.get(KPIS + "&lang=en")
    tags = {r.headers["ETag"] for r in (one, two, english)}
    assert len(tags) == 3
    assert client.get(KPIS.replace("radius=5", "radius=6"),
                      headers={"If-None-Match": one.headers["ETag"]}).status_code == 200  # fmt: skip


def test_same_query_in_another_order_is_the_same_answer(client):
    one = client.get("/api/v1/kpis?level=commune&radius=5")
    two = client.get("/api/v1/kpis?radius=5&level=commune")
    assert one.headers["ETag"] == two.headers["ETag"]
    assert _kpis_body.hits >= 1


def test_a_bad_parameter_is_not_remembered_as_an_answer(client):
    bad = client.get("/api/v1/kpis?level=commune&radius=500")
    assert bad.status_code == 400 and bad.get_json()["parameter"] == "radius"
    assert client.get("/api/v1/kpis?level=commune&radius=500").status_code == 400
    assert "ETag" not in bad.headers


def test_a_new_active_version_gets_its_own_answer_and_etag(client, store):
    first = client.get(KPIS)
    body = first.get_json()
    ops = tiny_bundle().operations.copy()
    ops["requests"] = ops["requests"] * 3
    new = store.add_dataset(
        dataclasses.replace(tiny_bundle(), operations=ops), kind="imported",
        access=nearest_center,
    )  # fmt: skip
    second = client.get(KPIS, headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200  # not the old version's 304
    after = second.get_json()
    assert after["dataset"]["id"] == new.id != body["dataset"]["id"]
    total = {u["code"]: u["requests"] for u in body["units"]}
    for unit in after["units"]:
        assert unit["requests"] == pytest.approx(3 * total[unit["code"]])
    # the first version stays asked for by id, with its own numbers
    old = client.get(KPIS + f"&dataset={body['dataset']['id']}").get_json()
    assert old["units"] == body["units"]
