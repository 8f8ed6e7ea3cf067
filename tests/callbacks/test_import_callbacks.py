"""Import screen callbacks called directly: uploads, check, import, bad files, picker."""

from __future__ import annotations

import base64

import pytest
from dash.exceptions import PreventUpdate

from callbacks import importer as cb
from dashapp import ids, services
from dashapp.services import importing
from dashapp.uploads import folder_of
from data import users
from tests.callbacks.conftest import ADMIN
from tests.unit.data import import_files as f


def _data_url(path) -> str:
    return (
        "data:application/octet-stream;base64,"
        + base64.b64encode(path.read_bytes()).decode()
    )


@pytest.fixture
def uploads(call, tmp_path):
    paths = [f.write_cod_ab(tmp_path), f.population_by_name(tmp_path),
             f.write_centers(tmp_path)]  # fmt: skip
    data, children, messages = call(
        cb.receive_uploads,
        [_data_url(p) for p in paths],
        [p.name for p in paths],
        None,
        None,
        "fr",
        trigger=f"{ids.IMP_UPLOAD}.contents",
    )
    return data


def _job(call, demo_app, trigger, uploads, rates=(0.024, 0.006, 0.02), lang="fr"):
    config = demo_app.server.config["DASHAPP"]
    progress = []
    out = call(
        cb.run_import_job, config, progress.append, 1, 1, uploads,
        [], [], [], [], list(rates),
        [ids.imp_rate(d) for d in ("CNI", "PASS", "ACTE")],
        "Pays test", ["on"], lang, trigger=f"{trigger}.n_clicks",
    )  # fmt: skip
    return out, progress


def test_uploads_are_saved_with_guessed_roles_and_mappings(uploads, demo_app):
    roles = {f["name"]: f["role"] for f in uploads["files"]}
    assert roles == {
        "xy_admbnda_adm3.geojson": "boundaries",
        "population_noms.csv": "population",
        "centres.csv": "centers",
    }
    # listed by name, whatever order the browser read them in
    assert [f["name"] for f in uploads["files"]] == [
        "centres.csv", "population_noms.csv", "xy_admbnda_adm3.geojson"
    ]  # fmt: skip
    geo = uploads["files"][2]
    assert geo["mapping"]["convention"] == "cod-ab"
    assert geo["mapping"]["code"] == "ADM3_PCODE"
    assert uploads["files"][1]["mapping"] == {
        "join": "commune",
        "population": "population",
    }
    folder = folder_of(demo_app.server.config["DASHAPP"], uploads["token"], ADMIN.id)
    assert sorted(p.name for p in folder.iterdir()) == sorted(roles)


def test_dropped_files_are_listed_by_name_whatever_order_the_browser_read(
    call, tmp_path
):
    """dcc.Upload lists dropped files as the browser finishes reading each: the
    cards stand by name (case aside), also when a second drop adds to the list."""
    paths = [f.write_cod_ab(tmp_path), f.population_by_name(tmp_path),
             f.write_centers(tmp_path)]  # fmt: skip
    upper = tmp_path / "Bureaux.csv"
    upper.write_bytes(paths[2].read_bytes())
    want = ["Bureaux.csv", "centres.csv", "population_noms.csv",
            "xy_admbnda_adm3.geojson"]  # fmt: skip

    def drop(files, uploads=None):
        data, cards, _ = call(
            cb.receive_uploads, [_data_url(p) for p in files],
            [p.name for p in files], None, uploads, "fr",
            trigger=f"{ids.IMP_UPLOAD}.contents",
        )  # fmt: skip
        shown = [n for n in want if n in str(cards)]
        assert sorted(shown, key=lambda n: str(cards).index(n)) == shown
        return data

    for order in (
        [*paths, upper],
        [upper, *reversed(paths)],
        [paths[1], upper, *paths[::2]],
    ):
        data = drop(order)
        assert [x["name"] for x in data["files"]] == want
    first = drop([paths[2], paths[0]])
    assert [x["name"] for x in first["files"]] == [
        "centres.csv",
        "xy_admbnda_adm3.geojson",
    ]
    both = drop([upper, paths[1]], first)  # a second drop joins the list in order
    assert both["token"] == first["token"]
    assert [x["name"] for x in both["files"]] == want


def test_check_is_a_dry_run_then_import_stores_and_lists_the_dataset(
    call, demo_app, uploads
):
    store = services.get_store(demo_app.server.config["DASHAPP"].database_url)
    before = [d.id for d in store.datasets()]
    (report, figure, table, options), progress = _job(
        call, demo_app, ids.IMP_CHECK, uploads
    )
    assert [d.id for d in store.datasets()] == before
    assert progress[-1] == (100,) and len(progress) >= 5
    assert len(figure["data"][0]["locations"]) == 8
    assert "Aucune erreur" in str(report)
    (report, figure, table, options), _ = _job(call, demo_app, ids.IMP_COMMIT, uploads)
    new = [d for d in store.datasets() if d.id not in before]
    assert len(new) == 1 and new[0].name == "Pays test" and new[0].is_active
    assert "importé (n°" in str(report)
    assert options[0]["value"] == new[0].id and "(affiché)" in options[0]["label"]
    event = users.audit_events(store, 1).iloc[0]  # written with the dataset
    assert (event.username, event.action, event.target) == (
        ADMIN.username,
        "dataset.import",
        str(new[0].id),
    )
    store.set_active(before[0])  # the demo folder is shared by the callback tests


def test_bad_file_gives_the_message_and_stores_nothing(call, demo_app, tmp_path):
    bad = tmp_path / "cut.geojson"
    bad.write_text(f.write_cod_ab(tmp_path).read_text()[:500])
    data, _, _ = call(
        cb.receive_uploads, [_data_url(bad)], [bad.name], None, None, "en",
        trigger=f"{ids.IMP_UPLOAD}.contents",
    )  # fmt: skip
    store = services.get_store(demo_app.server.config["DASHAPP"].database_url)
    before = [d.id for d in store.datasets()]
    (report, figure, table, _), _ = _job(
        call, demo_app, ids.IMP_COMMIT, data, lang="en"
    )
    text = str(report)
    assert "cut.geojson, row" in text and "truncated or invalid JSON" in text
    assert "1 error(s)" in text and "Nothing was stored" in text
    assert [d.id for d in store.datasets()] == before


def test_bad_rate_and_missing_boundaries_are_refused(call, demo_app, uploads):
    (report, *_), _ = _job(
        call, demo_app, ids.IMP_CHECK, uploads, rates=(-1, 0.006, None)
    )
    assert "Taux invalide pour CNI" in str(report)
    empty = {"token": uploads["token"], "files": []}
    (report, *_), _ = _job(call, demo_app, ids.IMP_CHECK, empty)
    assert "au moins un fichier de limites" in str(report)
    forged = {"token": "x", "files": []}  # not a token this server signed
    (report, *_), _ = _job(call, demo_app, ids.IMP_CHECK, forged)
    assert "déposez-les à nouveau" in str(report)


def test_oversized_upload_is_refused_without_writing(call, demo_app, monkeypatch):
    monkeypatch.setattr(importing, "MAX_UPLOAD_MB", 0)
    data, _, messages = call(
        cb.receive_uploads, ["data:;base64," + base64.b64encode(b"x" * 2048).decode()],
        ["big.geojson"], None, None, "fr", trigger=f"{ids.IMP_UPLOAD}.contents",
    )  # fmt: skip
    assert data["files"] == [] and "trop volumineux" in str(messages)


def test_roles_and_columns_chosen_on_screen_override_the_guesses(uploads):
    files = cb._with_choices(
        uploads["files"],
        ["boundaries", "ignore", "centers"],
        [ids.imp_role(i) for i in range(3)],
        ["ADM2_PCODE"],
        [ids.imp_column(0, "parent1")],
    )
    assert files[1]["role"] == "ignore"
    assert files[0]["mapping"]["parents"][1][0] == "ADM2_PCODE"


def test_activate_dataset_and_no_click(call, demo_app):
    with pytest.raises(PreventUpdate):
        call(cb.activate_dataset, None, 1)
    store = services.get_store(demo_app.server.config["DASHAPP"].database_url)
    active = store.active_dataset().id
    assert call(cb.activate_dataset, 1, active) == "/"
    assert store.active_dataset().id == active
