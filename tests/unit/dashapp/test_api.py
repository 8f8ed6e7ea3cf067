import io

import pandas as pd
import pytest

from dashapp import create_app
from dashapp.config import Config
from data.kpi import KPIS, commune_measures
from data.scenarios import record_from_result, save_scenario
from data.store import Store
from geo.access import nearest_center
from optimization.network import network_from_store
from optimization.scenario import load_spec, run_scenario
from tests.auth_helpers import signed_in_client
from tests.tiny import tiny_bundle

SPEC = {
    "model": "pmedian",
    "sites": {"use_candidates": True},
    "parameters": {"p": 2},
    "report_radius": 10.0,
}


@pytest.fixture
def api_store(tmp_path):
    """The tiny country in the store of a data folder, with a run and a draft."""
    store = Store(f"sqlite:///{tmp_path / 'dashapp.sqlite'}")
    store.upgrade()
    info = store.add_dataset(tiny_bundle(), kind="imported", access=nearest_center)
    result = run_scenario(load_spec(SPEC), network_from_store(store))
    run = save_scenario(store, info.id, "Plan", SPEC, **record_from_result(result))
    draft = save_scenario(store, info.id, "Brouillon", SPEC, author="Awa")
    store.engine.dispose()
    return store, run, draft


@pytest.fixture
def client(api_store, tmp_path):
    return signed_in_client(create_app(Config(data_dir=tmp_path)), "viewer")


@pytest.fixture
def analyst(api_store, tmp_path):
    """CSV is an export: the scenarios here have no owner, so ``export.any``."""
    return signed_in_client(create_app(Config(data_dir=tmp_path)), "analyst")


def test_datasets(client, api_store):
    store, *_ = api_store
    res = client.get("/api/v1/datasets")
    assert res.status_code == 200
    (item,) = res.get_json()
    info = store.active_dataset()
    assert item["id"] == info.id and item["version"] == info.version
    assert item["name"] == "Pays minuscule" and item["active"] is True
    assert item["created_at"].startswith(str(info.created_at.date()))


def test_kpis_by_commune_are_the_apps_numbers(client, api_store):
    res = client.get(
        "/api/v1/kpis?level=commune&start=2026-01-05&end=2026-01-12&radius=5"
    )
    assert res.status_code == 200, res.get_json()
    body = res.get_json()
    assert body["level"] == "commune"
    assert body["filters"] == {
        "start": "2026-01-05",
        "end": "2026-01-12",
        "doc_types": ["A", "B"],
        "radius_km": 5.0,
    }
    assert [k["id"] for k in body["kpis"]] == list(KPIS)
    units = pd.DataFrame(body["units"]).set_index("code")
    assert units.index.tolist() == ["C1", "C2", "C3", "C4"]
    assert units.loc["C2", "name"] == "Commune C2"
    assert units["population"].tolist() == [1000, 3000, 2000, 4000]
    # Same value as the KPI catalogue's own SQL path
    store, *_ = api_store
    from dashapp.filters import resolve
    from data.views import load_context

    ctx = load_context(store)
    filters = resolve(ctx, start="2026-01-05", end="2026-01-12", radius=5).filters(ctx)
    measures = commune_measures(store, filters)
    expected = (
        measures.loc[:, "requests"]
        .groupby(ctx.communes().set_index("id")["code"])
        .sum()
    )
    assert units["requests"].to_dict() == pytest.approx(expected.to_dict())


def test_kpis_by_region_with_doc_types(client):
    res = client.get("/api/v1/kpis?level=region&doc_types=A&radius=20")
    assert res.status_code == 200
    body = res.get_json()
    (region,) = body["units"]
    assert region["code"] == "R1" and region["population"] == 10000
    assert body["filters"]["doc_types"] == ["A"]
    both = client.get("/api/v1/kpis?level=region").get_json()["units"][0]
    assert region["requests"] < both["requests"]
    english = client.get("/api/v1/kpis?level=region&lang=en&radius=7").get_json()
    names = {k["id"]: k["name"] for k in english["kpis"]}
    assert names["pop_within"] == "Population within 7 km of a center"


@pytest.mark.parametrize(
    ("query", "parameter", "match"),
    [
        ("level=country", "level", "one of region, department, commune"),
        ("doc_types=CNI,A", "doc_types", "codes among A, B"),
        ("doc_types=,", "doc_types", "empty"),
        ("radius=abc", "radius", "1..200"),
        ("radius=0", "radius", "1..200"),
        ("start=2026-13-01", "start", "YYYY-MM-DD"),
        ("end=hier", "end", "YYYY-MM-DD"),
        ("start=2026-01-12&end=2026-01-05", "start,end", "empty or reversed"),
        ("start=2030-01-01&end=2030-02-01", "start,end", "data covers weeks"),
        ("dataset=x", "dataset", "whole number"),
        ("lang=de", "lang", "fr, en"),
        ("radus=20", "radus", "unknown parameter"),
    ],
)
def test_kpis_bad_parameters_are_400_naming_them(client, query, parameter, match):
    res = client.get(f"/api/v1/kpis?{query}")
    assert res.status_code == 400
    body = res.get_json()
    assert body["parameter"] == parameter
    assert match in body["error"]


def test_kpis_of_an_unknown_dataset_is_404(client):
    res = client.get("/api/v1/kpis?dataset=99")
    assert res.status_code == 404
    assert res.get_json() == {"error": "no dataset with id 99"}


def test_scenario_list_and_detail(client, api_store):
    store, run, draft = api_store
    listed = client.get("/api/v1/scenarios").get_json()
    assert [s["name"] for s in listed] == ["Brouillon", "Plan"]
    assert listed[0]["author"] == "Awa" and listed[0]["stale"] is False
    assert (
        client.get(f"/api/v1/scenarios?dataset={run.dataset_id + 1}").get_json() == []
    )

    body = client.get(f"/api/v1/scenarios/{run.id}").get_json()
    assert body["name"] == "Plan" and body["status"] == "optimal"
    assert body["params"] == SPEC and body["stale"] is False
    assert body["summary"]["kpis"]["after"]["share_within_radius"] == pytest.approx(0.6)
    assert body["dataset_version"] == run.dataset_version
    assert client.get(f"/api/v1/scenarios/{draft.id}").get_json()["summary"] is None


def test_scenario_tables_as_json_and_csv(client, analyst, api_store):
    _, run, draft = api_store
    centers = client.get(f"/api/v1/scenarios/{run.id}/centers").get_json()
    assert [c["site_id"] for c in centers] == run.centers["site_id"].tolist()
    closed = next(c for c in centers if c["status"] == "closed")
    assert closed["utilisation"] is None  # NaN as null: valid JSON
    communes = client.get(f"/api/v1/scenarios/{run.id}/communes").get_json()
    assert [c["site_id"] for c in communes] == run.communes["site_id"].tolist()

    res = analyst.get(f"/api/v1/scenarios/{run.id}/communes?format=csv")
    assert res.status_code == 200 and res.mimetype == "text/csv"
    frame = pd.read_csv(io.BytesIO(res.data))
    pd.testing.assert_frame_equal(frame, run.communes, check_dtype=False)
    res = analyst.get("/api/v1/scenarios/999/communes?format=csv")
    assert res.status_code == 404 and "error" in res.get_json()

    res = client.get(f"/api/v1/scenarios/{draft.id}/centers")
    assert res.status_code == 404 and "no results yet" in res.get_json()["error"]
    res = client.get(f"/api/v1/scenarios/{run.id}/centers?format=xlsx")
    assert res.status_code == 400 and res.get_json()["parameter"] == "format"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/scenarios/999",
        "/api/v1/scenarios/999/centers",
        "/api/v1/scenarios/abc",
        "/api/v1/nothing",
    ],
)
def test_unknown_ids_and_paths_are_json_404(client, path):
    res = client.get(path)
    assert res.status_code == 404
    assert res.is_json and "error" in res.get_json()


def test_stale_flag_after_a_new_dataset(client, api_store):
    store, run, _ = api_store
    Store(store.url).add_dataset(tiny_bundle(), access=nearest_center)
    assert client.get(f"/api/v1/scenarios/{run.id}").get_json()["stale"] is True
    items = client.get("/api/v1/datasets").get_json()
    assert [d["active"] for d in items] == [True, False]
