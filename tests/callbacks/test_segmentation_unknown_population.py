"""The segmentation screen on communes of unknown population: left out of the
population-weighted indicators and of the proposed sites' weights, with the count
on screen, never weighted as 0."""

from __future__ import annotations

import dataclasses

import pytest

from callbacks import segmentation as seg_cb
from dashapp import create_app, services
from dashapp.config import Config
from data.store import Store
from geo.access import nearest_center
from tests.callbacks.conftest import run_callback
from tests.tiny import tiny_bundle


def _app(path, unknown):
    bundle = tiny_bundle()
    units = bundle.units.assign(population=bundle.units["population"].astype(float))
    units.loc[units["unit_code"].isin(unknown), "population"] = float("nan")
    store = Store(f"sqlite:///{path / 'dashapp.sqlite'}")
    store.upgrade()
    store.add_dataset(dataclasses.replace(bundle, units=units), kind="imported",
                      access=nearest_center)  # fmt: skip
    store.engine.dispose()
    return create_app(Config(data_dir=path))


@pytest.fixture
def app(tmp_path):
    """The tiny country (operations, two centers) with C4's population unknown."""
    return _app(tmp_path, ("C4",))


@pytest.fixture
def dataset_id(app):
    return services.context(app.server.config["DASHAPP"].database_url).info.id


def _segment(call, dataset_id, features, lang="fr"):
    return call(seg_cb.run_segmentation, lambda _: None, 1, None, features,
                "kmeans", 2, dataset_id, lang)  # fmt: skip


def test_population_weighted_indicators_leave_the_commune_out(call, dataset_id):
    result, alerts = _segment(call, dataset_id, ["distance_km", "mean_delay"])
    assert alerts == []
    assert result["left_out"] == ["C4"] and set(result["labels"]) == {"C1", "C2", "C3"}
    assert result["imputed"] == {"distance_km": 0, "mean_delay": 0}  # not imputed
    notes, _, _, _ = call(seg_cb.show_results, result, "fr", dataset_id)
    shown = [n.children for n in notes]
    assert shown[0].endswith("(3 communes).")
    assert shown[1].startswith(
        "1 commune(s) sans population connue laissée(s) hors de la segmentation : "
        "les indicateurs choisis qui en dépendent (distance au centre le plus proche)"
    ), shown
    fig, _ = call(seg_cb.update_map, result, None, dataset_id, "fr")
    hover = dict(zip(fig["data"][1]["locations"], fig["data"][1]["customdata"],
                     strict=True))  # fmt: skip
    assert hover["C4"][1] == "n.d. (population inconnue : hors segmentation)"
    sent = call(seg_cb.export, 1, None, result, [], [], dataset_id, "fr")
    rows = sent["content"].splitlines()
    c4 = next(r for r in rows if r.startswith("C4,"))
    assert c4.split(",")[2] == "" and "population inconnue" in c4


def test_other_indicators_keep_it_but_not_as_zero_people(call, dataset_id):
    result, alerts = _segment(call, dataset_id, ["mean_delay", "rejection_rate"])
    assert alerts == [] and result["left_out"] == []
    assert result["population_unknown"] == 1 and "C4" in result["labels"]
    c4 = result["labels"]["C4"]
    row = next(r for r in result["profile"] if r["cluster"] == c4)
    assert row["population_unknown"] == 1
    # C4 counts as a commune of its cluster, never as 0 inhabitants of it
    known = {"C1": 1000, "C2": 3000, "C3": 2000}
    expected = sum(p for c, p in known.items() if result["labels"][c] == c4)
    assert (row["population"] or 0) == expected
    notes, _, _, table = call(seg_cb.show_results, result, "fr", dataset_id)
    assert any("segmentée(s) sur les indicateurs choisis" in n.children for n in notes)
    assert "+ 1 commune(s) n.d." in str(table)


def test_proposed_sites_leave_it_out_and_say_so(call, dataset_id):
    records, _, note = call(seg_cb.propose_sites, 1, 2, None, dataset_id, "fr")
    assert sum(r["n_communes"] for r in records) == 3
    assert sum(r["population_served"] for r in records) == 6000
    assert note.color == "info"
    assert note.children.startswith("1 commune(s) sans population connue laissée(s)")


def test_nothing_known_is_a_clear_message_in_french(tmp_path):
    app = _app(tmp_path, ("C1", "C2", "C3", "C4"))
    dataset_id = services.context(app.server.config["DASHAPP"].database_url).info.id
    result, alerts = run_callback(
        app, seg_cb.run_segmentation, lambda _: None, 1, None,
        ["density", "mean_delay"], "kmeans", 2, dataset_id, "fr",
    )  # fmt: skip
    assert result is None
    assert alerts[0].children.startswith(
        "Aucune des 4 communes de la zone n'a de population connue : les indicateurs "
        "choisis qui en dépendent (densité de population)"
    )
    _, _, note = run_callback(app, seg_cb.propose_sites, 1, 2, None, dataset_id, "fr")
    assert note.children.startswith(
        "Aucune des 4 communes de la zone n'a de population"
    )
