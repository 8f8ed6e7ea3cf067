"""Import screen: boundaries alone, strict or partial population joins.

The census here has a province column (guessed as the join's parent column), a
commune name shared by two provinces, a commune missing and two rows for communes
that no longer exist. The screen lists every problem and offers to import anyway.
"""

from __future__ import annotations

import base64
import json

import dash_bootstrap_components as dbc
import numpy as np
import pytest
from dash.exceptions import PreventUpdate

from callbacks import importer as cb
from callbacks import overview
from dashapp import ids, services
from data import views
from layouts import importer as lay
from tests.unit.data import import_files as f

CENSUS = (
    "departement;commune;population\n"
    "Département 1;ST LOUIS;12000\n"
    "Département 1;Koro;8000\n"
    "Département 2;Ste Mariama;5000\n"
    "Département 2;Diasse;7000\n"
    "Département 3;GRAND KOURABA;20000\n"
    "Département 3;KORO;3000\n"
    "Département 4;MEDINA GARE;6000\n"
    "Département 4;Ndoulo;900\n"
    "Département 1;Touba Extension;1500\n"
)


#: the census's card: the files are listed by name (recensement.csv, then
#: xy_adm3_homonymes.geojson), whatever order the browser read them in
CENSUS_CARD = 0
PARTIAL = json.dumps(ids.imp_partial(), sort_keys=True, separators=(",", ":"))


def _data_url(path) -> str:
    return (
        "data:application/octet-stream;base64,"
        + base64.b64encode(path.read_bytes()).decode()
    )


def _cod_ab_with_homonyms(folder):
    """COD-AB communes; XY0101002 and XY0203006 are both called Koro."""
    layer = f.communes()
    layer.loc[[1, 5], "ADM3_FR"] = "Koro"
    path = folder / "xy_adm3_homonymes.geojson"
    layer.to_file(path, driver="GeoJSON")
    return path


def _upload(call, paths, lang="fr"):
    data, children, _ = call(
        cb.receive_uploads, [_data_url(p) for p in paths], [p.name for p in paths],
        None, None, lang, trigger=f"{ids.IMP_UPLOAD}.contents",
    )  # fmt: skip
    return data, children


def _job(call, demo_app, trigger, uploads, columns=(), lang="fr"):
    """Run the job as the button ``trigger`` would, without showing the dataset."""
    config = demo_app.server.config["DASHAPP"]
    col_values = [v for _, v in columns]
    col_ids = [ids.imp_column(i, field) for (i, field), _ in columns]
    return call(
        cb.run_import_job, config, lambda _: None, 1, 1, uploads, [], [],
        col_values, col_ids, [0.024, 0.006, 0.02],
        [ids.imp_rate(d) for d in ("CNI", "PASS", "ACTE")], "Recensement", [],
        lang, [1], trigger=f"{trigger}.n_clicks",
    )  # fmt: skip


pytestmark = pytest.mark.writes_demo  # imports here leave the shared store as is


@pytest.fixture
def census_uploads(call, tmp_path):
    census = tmp_path / "recensement.csv"
    census.write_text(CENSUS, encoding="utf-8")
    data, children = _upload(call, [_cod_ab_with_homonyms(tmp_path), census])
    return data, children


def _store(demo_app):
    return services.get_store(demo_app.server.config["DASHAPP"].database_url)


def _find(component, id_):
    """The component with ``id_`` inside a Dash component tree, or ``None``."""
    if getattr(component, "id", None) == id_:
        return component
    children = getattr(component, "children", None)
    if isinstance(component, (list, tuple)):
        children = component
    if children is None or isinstance(children, str):
        return None
    for child in children if isinstance(children, (list, tuple)) else [children]:
        hit = _find(child, id_)
        if hit is not None:
            return hit
    return None


def test_population_card_has_the_parent_column_and_the_join_mode(census_uploads):
    data, children = census_uploads
    census = data["files"][CENSUS_CARD]
    assert census["mapping"] == {
        "join": "commune",
        "population": "population",
        "join_parent": "departement",
    }
    parent = _find(children, ids.imp_column(CENSUS_CARD, "join_parent"))
    assert parent.value == "departement"
    radio = _find(children, ids.imp_column(CENSUS_CARD, "join_mode"))
    assert isinstance(radio, dbc.RadioItems) and radio.value == "strict"
    assert [o["value"] for o in radio.options] == ["strict", "partial"]


def test_strict_check_lists_every_problem_and_offers_a_partial_import(
    call, demo_app, census_uploads
):
    store = _store(demo_app)
    before = [d.id for d in store.datasets()]
    report, *_ = _job(call, demo_app, ids.IMP_CHECK, census_uploads[0])
    text = str(report)
    assert "3 erreur(s)" in text
    assert "« Ndoulo » ne correspond à aucune commune" in text
    assert "« Touba Extension » ne correspond à aucune commune" in text
    assert "aucune population pour la commune XY0204007 (Sokodougou)" in text
    assert "correspond à 2 communes" not in text  # Koro told apart by département
    button = _find(report, ids.imp_partial())
    assert button is not None and "jointure partielle" in str(button.children)
    assert [d.id for d in store.datasets()] == before


def test_import_anyway_stores_the_partial_join(call, demo_app, census_uploads):
    store = _store(demo_app)
    before = {d.id for d in store.datasets()}
    report, figure, table, _ = _job(call, demo_app, PARTIAL, census_uploads[0])
    text = str(report)
    assert "importé (n°" in text
    assert "Population inconnue pour 1 commune(s)" in text
    assert "jointure partielle : 1 commune(s) sur 8 sans population" in text
    assert "« Ndoulo » ne correspond à aucune commune" in text  # still listed
    assert _find(report, ids.imp_partial()) is None
    (new,) = [d for d in store.datasets() if d.id not in before]
    assert not new.is_active
    pop = store.units(new.id, level=2).set_index("code")["population"]
    assert pop["XY0101002"] == 8000 and pop["XY0203006"] == 3000  # the two Koro
    assert np.isnan(pop["XY0204007"])
    assert "n.d." in str(table)
    # the main map says so when it shows this dataset
    dctx = views.load_context(store, new.id)
    note = overview._scope_note(dctx, views.map_scope(dctx, 2, None), "fr")
    assert "Population inconnue pour 1 commune(s) : n.d., exclues" in note


def test_partial_chosen_with_the_radio_passes_the_check(call, demo_app, census_uploads):
    report, *_ = _job(
        call, demo_app, ids.IMP_CHECK, census_uploads[0],
        columns=[((CENSUS_CARD, "join_mode"), "partial")],
    )  # fmt: skip
    text = str(report)
    assert "Aucune erreur" in text and "Population inconnue pour 1 commune(s)" in text
    assert "« Ndoulo »" in text


def test_a_forged_join_mode_means_strict(call, demo_app, census_uploads):
    report, *_ = _job(
        call, demo_app, ids.IMP_CHECK, census_uploads[0],
        columns=[((CENSUS_CARD, "join_mode"), "lenient")],
    )  # fmt: skip
    assert "3 erreur(s)" in str(report)


def test_without_the_parent_column_homonyms_are_ambiguous(
    call, demo_app, census_uploads
):
    report, *_ = _job(
        call, demo_app, ids.IMP_CHECK, census_uploads[0],
        columns=[((CENSUS_CARD, "join_parent"), "")],
    )  # fmt: skip
    text = str(report)
    assert text.count("correspond à 2 communes") == 2
    assert _find(report, ids.imp_partial()) is not None


def test_boundaries_alone_check_and_import(call, demo_app, tmp_path):
    data, _ = _upload(call, [f.write_cod_ab(tmp_path)], lang="en")
    report, figure, table, _ = _job(call, demo_app, ids.IMP_CHECK, data, lang="en")
    text = str(report)
    assert "No error" in text or "no error" in text
    assert "the population of the 8 communes is unknown" in text
    assert "left out of per-capita indicators" in text
    assert "Population unknown for 8 commune(s)" in text
    assert "population 0" not in text.lower()
    assert str(table).count("n/a") == 8
    assert _find(report, ids.imp_partial()) is None


def test_report_view_without_offer_has_no_button():
    view = lay.report_view(
        [{"severity": "error", "code": "unreadable"}], ["x"], None, "en"
    )
    assert _find(view, ids.imp_partial()) is None


def test_the_button_appearing_is_not_a_click(call, demo_app, census_uploads):
    config = demo_app.server.config["DASHAPP"]
    with pytest.raises(PreventUpdate):
        call(
            cb.run_import_job, config, lambda _: None, 1, 1, census_uploads[0],
            [], [], [], [], [], [], "x", [], "fr", [None],
            trigger=f"{PARTIAL}.n_clicks",
        )  # fmt: skip
