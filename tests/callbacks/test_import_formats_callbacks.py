"""Import screen: point layers, File Geodatabases and files
of the wrong kind through the upload, the guessed roles and the check."""

from __future__ import annotations

import base64

from callbacks import importer as cb
from dashapp import ids, services
from dashapp.services.importing import UPLOAD_SUFFIXES
from layouts import importer as lay
from tests.unit.data import import_files as f


def _upload(call, paths, lang="fr"):
    urls = [
        "data:application/octet-stream;base64,"
        + base64.b64encode(p.read_bytes()).decode()
        for p in paths
    ]
    data, children, messages = call(
        cb.receive_uploads, urls, [p.name for p in paths], None, None, lang,
        trigger=f"{ids.IMP_UPLOAD}.contents",
    )  # fmt: skip
    assert messages == []
    return data, children


def _check(call, demo_app, uploads, roles=None, columns=None, lang="fr"):
    config = demo_app.server.config["DASHAPP"]
    roles, columns = roles or {}, columns or {}
    report, figure, _, _ = call(
        cb.run_import_job, config, lambda p: None, 1, None, uploads,
        list(roles.values()), [ids.imp_role(i) for i in roles],
        list(columns.values()), [ids.imp_column(*k) for k in columns],
        [0.024, 0.006, 0.02], [ids.imp_rate(d) for d in ("CNI", "PASS", "ACTE")],
        "Pays test", [], lang, trigger=f"{ids.IMP_CHECK}.n_clicks",
    )  # fmt: skip
    return str(report), figure


def test_upload_accepts_every_format_the_import_reads():
    page = str(lay.page([], "fr", "01/01/2027"))
    for suffix in (".geojson", ".gpkg", ".fgb", ".kml", ".kmz", ".zip", ".csv",
                   ".xlsx"):  # fmt: skip
        assert suffix in UPLOAD_SUFFIXES and suffix in page


def test_osm_places_are_guessed_as_candidates_and_checked_without_a_code(
    call, demo_app, tmp_path
):
    centers = f.write_layer(f.sites(), tmp_path, "centres.gpkg")
    paths = [f.write_cod_ab(tmp_path), f.write_osm_places(tmp_path), centers]
    uploads, children = _upload(call, paths)
    roles = {u["name"]: u["role"] for u in uploads["files"]}
    assert roles == {"xy_admbnda_adm3.geojson": "boundaries",
                     "osm_places.geojson": "candidates",
                     "centres.gpkg": "centers"}  # fmt: skip
    places = uploads["files"][1]
    assert places["mapping"] == {"code": None, "name": "name",
                                 "capacity_week": None, "opening_cost": None}  # fmt: skip
    assert "Code du site" in str(children) and "Coût d'ouverture" in str(children)
    store = services.get_store(demo_app.server.config["DASHAPP"].database_url)
    before = [d.id for d in store.datasets()]
    report, figure = _check(call, demo_app, uploads)
    assert "Aucune erreur" in report, report
    assert "2 centres, 3 sites candidats" in report
    assert "tirés de la colonne « osm_id »" in report
    assert len(figure["data"][0]["locations"]) == 8
    assert [d.id for d in store.datasets()] == before  # a check stores nothing
    # the code chosen on screen: OSM's own column, without the n/w prefix
    report, _ = _check(call, demo_app, uploads, columns={(1, "code"): "osm_id"})
    assert "Aucune erreur" in report and "tirés de la colonne" not in report


def test_points_given_the_boundaries_role_get_one_clear_message(
    call, demo_app, tmp_path
):
    paths = [f.write_layer(f.sites(), tmp_path, "centres.geojson")]
    uploads, _ = _upload(call, paths, "en")
    assert uploads["files"][0]["role"] == "centers"
    report, figure = _check(call, demo_app, uploads, roles={0: "boundaries"},
                            lang="en")  # fmt: skip
    assert "1 error(s)" in report
    assert "centres.geojson, field “geometry”: the file holds points (Point)" in report
    assert "Give it as centers or as candidate sites" in report


def test_a_geodatabase_with_several_layers_offers_them_biggest_first(
    call, demo_app, tmp_path
):
    communes = f.communes()
    regions = communes.dissolve("ADM1_PCODE", as_index=False)[
        ["ADM0_PCODE", "ADM1_PCODE", "ADM1_FR", "geometry"]
    ]
    gdb = f.write_gdb_zip(tmp_path, {"adm1": regions, "adm3": communes,
                                     "points": f.sites()})  # fmt: skip
    uploads, children = _upload(call, [gdb])
    (info,) = uploads["files"]
    assert info["role"] == "boundaries" and info["layers"] == ["adm1", "adm3"]
    assert (
        info["mapping"]["layer"] == "adm3" and info["mapping"]["code"] == "ADM3_PCODE"
    )
    assert "Couche" in str(children)
    report, figure = _check(call, demo_app, uploads)
    assert "Aucune erreur" in report, report
    assert len(figure["data"][0]["locations"]) == 8
    report, _ = _check(call, demo_app, uploads, columns={(0, "layer"): "nope"})
    assert "pas de couche « nope »" in report


def test_a_json_that_is_not_geojson_is_refused_by_name(call, demo_app, tmp_path):
    path = tmp_path / "stats.json"
    path.write_text('{"a": 1}')
    uploads, _ = _upload(call, [path])
    report, _ = _check(call, demo_app, uploads)
    assert "stats.json : format non pris en charge" in report
    assert "1 erreur(s)" in report
