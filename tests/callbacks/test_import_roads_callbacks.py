"""Road networks on the import screen, callbacks called directly: a road file
with the boundaries or alone into a stored dataset, its class values mapped on
screen, bad files, forged values and the wrong role.

Nothing is stored on any error: the datasets and the road network stay as they
were.
"""

from __future__ import annotations

import base64

import pytest
from dash.exceptions import PreventUpdate

from callbacks import importer as cb
from dashapp import ids, services
from dashapp.auth import AccessDeniedError
from dashapp.services import importing
from data import roads as road_store
from data import users
from data.users import Principal
from tests.unit.data import import_files as f

pytestmark = pytest.mark.writes_demo

NATIONAL = {"1": "trunk", "3": "tertiary", "6": "track"}


def _data_url(content: bytes) -> str:
    return "data:application/octet-stream;base64," + base64.b64encode(content).decode()


def upload(call, paths, lang="fr"):
    data, _, messages = call(
        cb.receive_uploads, [_data_url(p.read_bytes()) for p in paths],
        [p.name for p in paths], None, None, lang,
        trigger=f"{ids.IMP_UPLOAD}.contents",
    )  # fmt: skip
    return data, messages


def job(call, demo_app, uploads, *, commit=False, classes=NATIONAL, target=None,
        lang="fr", user=None):  # fmt: skip
    """Check (or import) the uploads, with ``classes`` chosen for the road file."""
    config = demo_app.server.config["DASHAPP"]
    k = next(i for i, x in enumerate(uploads["files"]) if x["role"] == "roads")
    road_ids = [ids.imp_road_value(k, v) for v in classes]
    trigger = ids.IMP_COMMIT if commit else ids.IMP_CHECK
    kwargs = {} if user is None else {"user": user}
    return call(
        cb.run_import_job, config, lambda p: None, 1, 1, uploads, [], [], [], [],
        [0.024, 0.006, 0.02], [ids.imp_rate(d) for d in ("CNI", "PASS", "ACTE")],
        "Pays routier", [], lang, None, None, list(classes.values()), road_ids,
        target, trigger=f"{trigger}.n_clicks", **kwargs,
    )  # fmt: skip


def store_of(demo_app):
    return services.get_store(demo_app.server.config["DASHAPP"].database_url)


def texts(tree) -> str:
    """Every string in a component tree."""
    if isinstance(tree, str):
        return tree
    if isinstance(tree, list | tuple):
        return " ".join(texts(x) for x in tree)
    if hasattr(tree, "to_plotly_json"):
        return texts(getattr(tree, "children", None))
    return ""


def find(tree, id_):
    if isinstance(tree, list | tuple):
        return next((x for x in (find(c, id_) for c in tree) if x is not None), None)
    if hasattr(tree, "to_plotly_json"):
        if getattr(tree, "id", None) == id_:
            return tree
        return find(getattr(tree, "children", None), id_)
    return None


def test_a_lines_layer_is_taken_for_roads_with_its_values_listed(call, tmp_path):
    data, messages = upload(call, [f.write_cod_ab(tmp_path), f.write_roads(tmp_path)])
    assert messages == []
    roads = next(x for x in data["files"] if x["name"] == "routes.geojson")
    assert roads["role"] == "roads"
    assert roads["mapping"] == {"road_class": "CLASSE", "road_surface": None}
    assert [(v["value"], v["count"], v["road_class"])
            for v in roads["class_values"]["values"]] == [
        ("1", 1, None), ("3", 1, None), ("6", 1, None)]  # fmt: skip
    # the class column changed on screen: the table follows it
    k = data["files"].index(roads)
    table = call(cb.show_road_values, "REVET", ids.imp_column(k, "road_class"), data,
                 "fr")  # fmt: skip
    shown = texts(table)
    assert "asphalt" in shown and "gravel" in shown and "« REVET »" in shown


def test_check_then_import_roads_with_the_boundaries(call, demo_app, tmp_path):
    data, _ = upload(call, [f.write_cod_ab(tmp_path), f.write_roads(tmp_path)])
    store = store_of(demo_app)
    before = len(store.datasets())
    view, *_ = job(call, demo_app, data)
    report = find(view, ids.IMP_ROAD_REPORT)
    assert report is not None
    assert "Réseau routier de routes.geojson" in texts(report)
    assert "Axe principal" in texts(report) and "32,7" in texts(report)
    assert len(store.datasets()) == before  # a check stores nothing
    view, *_ = job(call, demo_app, data, commit=True)
    assert len(store.datasets()) == before + 1
    new = max(store.datasets(), key=lambda d: d.id)
    network = road_store.network_info(store, new.id)
    assert network["source"] == "routes.geojson"
    assert set(network["report"]["length_km_by_class"]) == {
        "trunk",
        "tertiary",
        "track",
    }
    events = users.audit_events(store, 5)
    imported = events[events["action"] == "dataset.import"].iloc[0]
    assert "routes.geojson" in imported["detail"]


def test_a_value_left_without_class_stores_nothing(call, demo_app, tmp_path):
    data, _ = upload(call, [f.write_cod_ab(tmp_path), f.write_roads(tmp_path)])
    store = store_of(demo_app)
    before = len(store.datasets())
    view, *_ = job(call, demo_app, data, commit=True,
                   classes={"1": "trunk", "3": None, "6": "none"})  # fmt: skip
    (issue,) = [r for r in view[1].rowData if r["level"] == "error"]
    assert issue["message"].startswith("routes.geojson, ligne 2, champ « CLASSE »")
    assert "1 ligne(s) ont une classe sans correspondance ('3' x 1)" in issue["message"]
    assert len(store.datasets()) == before


@pytest.mark.parametrize(
    ("content", "phrase"),
    [
        (b"\x00\x01garbage" * 100, "routes.geojson"),
        (b'{"type": "FeatureCollection", "features": []}', "routes.geojson"),
    ],
)
def test_a_broken_or_empty_road_file_is_named_and_nothing_stored(
    call, demo_app, tmp_path, content, phrase
):
    bad = tmp_path / "routes.geojson"
    bad.write_bytes(content)
    data, messages = upload(call, [f.write_cod_ab(tmp_path), bad])
    # neither lines nor readable: the role is the user's to give
    data["files"][1]["role"] = "roads"
    data["files"][1]["mapping"] = {"road_class": "CLASSE"}
    store = store_of(demo_app)
    before = len(store.datasets())
    view, *_ = job(call, demo_app, data, commit=True, classes={})
    grid = view[1].rowData
    assert grid[0]["level"] == "error" and phrase in grid[0]["message"]
    assert len(store.datasets()) == before


def test_roads_alone_replace_the_chosen_datasets_network(call, demo_app, tmp_path):
    store = store_of(demo_app)
    demo = store.active_dataset()
    old = road_store.network_info(store, demo.id)
    data, _ = upload(call, [f.write_roads(tmp_path)])
    view, *_ = job(call, demo_app, data, target=demo.id)  # check: nothing changes
    assert road_store.network_info(store, demo.id)["version"] == old["version"]
    assert "Réseau routier de 43,7 km" in texts(view)
    view, *_ = job(call, demo_app, data, commit=True, target=demo.id, lang="en")
    assert "Road network stored for" in texts(view)
    new = road_store.network_info(store, demo.id)
    assert new["source"] == "routes.geojson" and new["version"] != old["version"]
    events = users.audit_events(store, 5)
    assert events.iloc[0]["action"] == "roads.import"
    assert events.iloc[0]["target"] == str(demo.id)


@pytest.mark.parametrize("target", [None, "abc", 999999, -1, "1; DROP TABLE x", True])
def test_roads_alone_into_a_forged_dataset_are_refused(
    call, demo_app, tmp_path, target
):
    store = store_of(demo_app)
    demo = store.active_dataset()
    old = road_store.network_info(store, demo.id)
    data, _ = upload(call, [f.write_roads(tmp_path)])
    view, *_ = job(call, demo_app, data, commit=True, target=target)
    assert view[0].color == "warning"
    assert road_store.network_info(store, demo.id)["version"] == old["version"]


@pytest.mark.parametrize(
    "classes",
    [
        {"1": "autoroute"},  # not a class
        {"x" * 101: "trunk"},  # no such short value
        {"": "trunk"},
    ],
)
def test_forged_class_choices_are_refused(call, demo_app, tmp_path, classes):
    store = store_of(demo_app)
    before = len(store.datasets())
    data, _ = upload(call, [f.write_cod_ab(tmp_path), f.write_roads(tmp_path)])
    view, *_ = job(call, demo_app, data, commit=True, classes=classes)
    assert "Déposez à nouveau" in texts(view) or view[0].color == "danger"
    assert len(store.datasets()) == before


def test_two_road_files_at_once_are_refused(call, demo_app, tmp_path):
    other = f.write_roads(tmp_path, name="pistes.geojson")
    data, _ = upload(call, [f.write_cod_ab(tmp_path), f.write_roads(tmp_path), other])
    view, *_ = job(call, demo_app, data, commit=True)
    assert "Un seul fichier de réseau routier à la fois" in texts(view)


def test_road_values_of_a_forged_file_name_read_nothing(call, tmp_path):
    data, _ = upload(call, [f.write_roads(tmp_path)])
    data["files"][0]["name"] = "../../dashapp.sqlite"
    table = call(cb.show_road_values, "CLASSE", ids.imp_column(0, "road_class"),
                 data, "en")  # fmt: skip
    assert "cannot be read" in texts(table)
    with pytest.raises(PreventUpdate):
        call(cb.show_road_values, "CLASSE", {"index": "0"}, data, "en")


def test_only_importers_may_import_roads(call, demo_app, tmp_path):
    data, _ = upload(call, [f.write_roads(tmp_path)])
    planner = Principal(7, "planif", "planner")
    with pytest.raises(AccessDeniedError):
        job(call, demo_app, data, commit=True, target=1, user=planner)
    with pytest.raises(AccessDeniedError):
        call(cb.show_road_values, "CLASSE", ids.imp_column(0, "road_class"), data,
             "fr", user=planner)  # fmt: skip


def test_an_osm_extract_is_roads_by_its_highway_tags(call, tmp_path):
    from tests.unit.data.test_roads_store import write_pbf

    path = tmp_path / "extrait.osm.pbf"
    write_pbf(path)
    data, messages = upload(call, [path])
    assert messages == []
    (info,) = data["files"]
    assert info["role"] == "roads" and info["columns"] == list(importing.PBF_COLUMNS)
    assert [(v["value"], v["road_class"], v["not_road"])
            for v in info["class_values"]["values"]] == [
        ("construction", None, True), ("primary", "primary", False),
        ("track", "track", False)]  # fmt: skip


def test_a_garbage_osm_extract_is_named_at_upload_and_check(call, demo_app, tmp_path):
    path = tmp_path / "faux.osm.pbf"
    path.write_bytes(b"\x00garbage, not a protobuf" * 50)
    data, messages = upload(call, [path])
    (info,) = data["files"]
    assert info["role"] == "roads" and info["class_values"] == {"error": "unreadable"}
    store = store_of(demo_app)
    old = road_store.network_info(store, store.active_dataset().id)
    view, *_ = job(call, demo_app, data, commit=True, classes={},
                   target=store.active_dataset().id)  # fmt: skip
    (issue,) = [r for r in view[1].rowData if r["level"] == "error"]
    assert issue["message"].startswith("faux.osm.pbf")
    assert road_store.network_info(store, store.active_dataset().id) == old
