"""Segmentation callbacks called directly, on the demo store."""

import functools
import io

import pandas as pd
import pytest
from dash import Patch, no_update

from callbacks import segmentation as seg_cb
from callbacks import shell
from dashapp import create_app, ids
from dashapp.config import Config
from data.indicators import DEFAULT_INDICATORS
from data.store import Store
from data.views import load_context
from tests.callbacks.conftest import run_callback


@pytest.fixture
def ctx(demo_dir):
    return load_context(Store(f"sqlite:///{demo_dir / 'dashapp.sqlite'}"))


def _run(
    call, ctx, region=None, features=DEFAULT_INDICATORS, method="kmeans", k="auto"
):
    steps = []
    result, alerts = call(
        seg_cb.run_segmentation,
        steps.append,
        1,
        region,
        list(features),
        method,
        k,
        ctx.info.id,
        "fr",
    )
    return result, alerts, steps


@pytest.fixture(scope="module")
def result_k3(demo_dir):
    """One k-means run with k = 3, shared by the tests that only read it."""
    app = create_app(Config(data_dir=demo_dir))
    ctx = load_context(Store(f"sqlite:///{demo_dir / 'dashapp.sqlite'}"))
    result, alerts, _ = _run(functools.partial(run_callback, app), ctx, k=3)
    assert alerts == []
    return result


@pytest.mark.slow
def test_run_labels_every_commune_reports_progress_and_is_reproducible(call, ctx):
    result, alerts, steps = _run(call, ctx)
    assert alerts == []
    assert set(result["labels"]) == set(ctx.communes()["code"])
    assert result["k"] == result["scores"]["best_k"]
    assert result["scores"]["ks"] == list(range(2, 11))
    assert len(steps) == 9 and steps[-1][0] == 100
    assert steps[0][1] == "1 / 9 valeurs de k"
    again, _, _ = _run(call, ctx)
    assert again["labels"] == result["labels"]


def test_override_k_region_scope_and_contiguous_method(call, ctx):
    region = ctx.units_at(0)["code"].iloc[1]
    result, alerts, _ = _run(call, ctx, region=region, method="contiguous", k=4)
    assert alerts == [] and result["k"] == 4 and result["method"] == "contiguous"
    inside = ctx.communes()[ctx.communes()["ancestor_0"] == region]["code"]
    assert set(result["labels"]) == set(inside)
    assert sorted(set(result["labels"].values())) == [0, 1, 2, 3]


@pytest.mark.parametrize(
    ("changes", "text"),
    [
        ({"features": []}, "Choisissez au moins un indicateur"),
        ({"features": ["bogus"]}, "« bogus » invalide"),
        ({"k": 42}, "« 42 » invalide pour nombre de groupes"),
        ({"method": "magic"}, "« magic » invalide pour méthode"),
        ({"region": "R99"}, "« R99 » invalide pour la région"),
    ],
)
def test_bad_controls_give_a_message_not_a_result(call, ctx, changes, text):
    result, alerts, _ = _run(call, ctx, **changes)
    assert result is None
    assert any(text in a.children for a in alerts), [a.children for a in alerts]


def test_results_show_summary_curves_pca_and_profile(call, ctx, result_k3):
    result = result_k3
    notes, scores, pca, table = call(seg_cb.show_results, result, "fr", ctx.info.id)
    assert notes[0].children.startswith("3 groupes, k-moyennes ; silhouette")
    assert "Aucune valeur manquante" in notes[1].children
    assert "échelle logarithmique" in notes[2].children
    assert [d["name"] for d in scores["data"]] == [
        "Inertie intra-groupes (coude)",
        "Silhouette",
    ]
    assert scores["layout"]["shapes"][0]["x0"] == 3
    assert [d["name"] for d in pca["data"]] == ["Groupe 1", "Groupe 2", "Groupe 3"]
    assert sum(len(d["x"]) for d in pca["data"]) == len(ctx.communes())
    rows = table.children[1].children
    assert len(rows) == 3
    empty = call(seg_cb.show_results, None, "en", ctx.info.id)
    assert empty[0] == "Choose the indicators, then run the segmentation."


def test_map_is_drawn_for_a_run_and_patched_for_sites(call, ctx, result_k3):
    result = result_k3
    fig, note = call(seg_cb.update_map, result, None, ctx.info.id, "fr")
    assert fig["layout"]["map"]["style"] == "white-bg"
    assert note is None and "annotations" not in fig["layout"]  # a run: no note
    before, note = call(seg_cb.update_map, None, None, ctx.info.id, "fr")
    assert "Lancez la segmentation" in str(note)  # above the map, not in it
    assert "annotations" not in before["layout"]
    chor = fig["data"][1]
    assert len(chor["locations"]) == len(ctx.communes())
    assert set(chor["z"]) == {0, 1, 2}
    sites, _, msg = call(seg_cb.propose_sites, 1, 4, None, ctx.info.id, "fr")
    assert msg is None and [s["code"] for s in sites] == [
        "SEG01",
        "SEG02",
        "SEG03",
        "SEG04",
    ]
    patch, note = call(
        seg_cb.update_map,
        result,
        sites,
        ctx.info.id,
        "fr",
        trigger=f"{ids.SEG_SITES}.data",
    )
    assert isinstance(patch, Patch) and note is no_update
    assert "geojson" not in str(patch.to_plotly_json())


def test_sites_need_a_valid_number(call, ctx):
    for bad in (0, None, 2.5, 31):
        sites, table, msg = call(seg_cb.propose_sites, 1, bad, None, ctx.info.id, "en")
        assert sites is no_update and "between 1 and 30" in msg.children


def test_adding_sites_writes_candidates_with_free_codes(demo_copy):
    app = create_app(Config(data_dir=demo_copy))
    call = functools.partial(run_callback, app)

    store = Store(f"sqlite:///{demo_copy / 'dashapp.sqlite'}")
    dataset = store.active_dataset().id
    before = len(store.candidates(dataset))
    sites, _, _ = call(seg_cb.propose_sites, 1, 3, None, dataset, "fr")
    first = call(seg_cb.add_sites, 1, sites, dataset, "fr")
    assert first.color == "success" and "SEG01, SEG02, SEG03" in first.children
    second = call(seg_cb.add_sites, 2, sites, dataset, "fr")
    assert "SEG04, SEG05, SEG06" in second.children
    added = store.candidates(dataset).set_index("code").loc[["SEG01", "SEG04"]]
    assert len(store.candidates(dataset)) == before + 6
    assert added["lon"].tolist()[0] == added["lon"].tolist()[1] == sites[0]["lon"]
    assert call(seg_cb.add_sites, 3, None, dataset, "fr").children == (
        "Proposez d'abord des sites."
    )


def test_exports_carry_labels_profiles_and_edited_recommendations(call, ctx, result_k3):
    result = result_k3
    reco_ids = [ids.seg_recommendation(c) for c in range(3)]
    recos = ["Ouvrir une antenne", None, "Rien"]
    csv = call(
        seg_cb.export,
        1,
        None,
        result,
        recos,
        reco_ids,
        ctx.info.id,
        "fr",
        trigger=f"{ids.SEG_EXPORT_CSV}.n_clicks",
    )
    assert csv["filename"] == "segmentation.csv"
    table = pd.read_csv(io.StringIO(csv["content"]))
    assert len(table) == len(ctx.communes())
    assert set(table["cluster"]) == {1, 2, 3}
    assert set(table.loc[table["cluster"] == 1, "recommendation"]) == {
        "Ouvrir une antenne"
    }
    xlsx = call(
        seg_cb.export,
        None,
        1,
        result,
        recos,
        reco_ids,
        ctx.info.id,
        "fr",
        trigger=f"{ids.SEG_EXPORT_XLSX}.n_clicks",
    )
    import base64

    sheets = pd.read_excel(
        io.BytesIO(base64.b64decode(xlsx["content"])), sheet_name=None
    )
    assert list(sheets) == ["communes", "profiles"]
    profile = sheets["profiles"]
    assert profile["cluster"].tolist() == [1, 2, 3]
    assert profile["recommendation"].tolist()[2] == "Rien"
    assert profile["n_communes"].sum() == len(ctx.communes())
    assert call(seg_cb.export, 1, None, None, [], [], ctx.info.id, "fr") is no_update


def test_route_and_page_in_both_languages(call, ctx):
    page = call(shell.render_page, "/segmentation", "", "en", ctx.info.id)
    assert "Segmentation of communes" in str(page)
    page_fr = call(shell.render_page, "/segmentation", "", "fr", ctx.info.id)
    assert "Lancer la segmentation" in str(page_fr)


@pytest.mark.slow
def test_clusters_command_writes_labels_profiles_and_refuses_bad_options(
    demo_dir, tmp_path, capsys
):
    from dashapp.__main__ import main

    out, prof = tmp_path / "c.csv", tmp_path / "p.csv"
    base = ["clusters", "--data-dir", str(demo_dir)]
    assert main([*base, "--k", "3", "--out", str(out), "--profiles", str(prof)]) == 0
    assert "400 communes in 3 clusters (kmeans" in capsys.readouterr().out
    labels = pd.read_csv(out)
    assert set(labels["cluster"]) == {1, 2, 3} and len(labels) == 400
    assert pd.read_csv(prof)["n_communes"].sum() == 400
    for bad, message in (
        (["--k", "x", "--out", str(out)], "--k should be an integer or 'auto'"),
        (["--k", "1", "--out", str(out)], "k should be between 2 and 399"),
        (["--features", "foo", "--out", str(out)], "unknown indicators foo"),
        (["--region", "R99", "--out", str(out)], "unknown region 'R99'"),
        (["--out", str(tmp_path / "c.txt")], "should end with .csv or .xlsx"),
    ):
        assert main([*base, *bad]) == 2
        assert message in capsys.readouterr().err


def test_indicators_and_sites_are_computed_once_and_left_as_they_were(call, ctx):
    """Memoised in process (dashapp.cache.memo): a run, the proposed sites and an
    export read the same frames, and none of them changes what it read."""
    import hashlib
    import pickle

    from dashapp.cache import clear_memos
    from dashapp.services import segmentation as seg_service

    def digest(value) -> str:
        return hashlib.sha256(pickle.dumps(value)).hexdigest()

    clear_memos()
    indicators, sites = seg_service.cached_indicators, seg_service.cached_sites
    result, alerts, _ = _run(call, ctx, k=3)
    assert alerts == [] and (indicators.misses, indicators.hits) == (1, 0)
    (frame,) = indicators.entries.values()
    before = digest(frame)
    call(seg_cb.export, 1, None, result, [], [], ctx.info.id, "fr")
    _run(call, ctx, k=3)
    assert (indicators.misses, indicators.hits) == (1, 2)
    assert digest(frame) == before
    first, _, _ = call(seg_cb.propose_sites, 1, 3, None, ctx.info.id, "fr")
    (proposed,) = sites.entries.values()
    kept = digest(proposed)
    again, _, _ = call(seg_cb.propose_sites, 2, 3, None, ctx.info.id, "fr")
    assert again == first and (sites.misses, sites.hits) == (1, 1)
    assert digest(proposed) == kept
