import base64
import io
import json
import zipfile

import openpyxl
import pytest

from callbacks import scenario_compare as compare_cb
from callbacks import scenario_curve as curve_cb
from callbacks import scenario_library as lib
from callbacks import scenario_run as run_cb
from callbacks import scenarios as scn
from dashapp import ids, services
from data.scenarios import get_scenario, list_scenarios
from tests.callbacks.test_scenario_callbacks import _panel

pytestmark = pytest.mark.writes_demo


@pytest.fixture
def store(demo_app):
    return services.get_store(demo_app.server.config["DASHAPP"].database_url)


def _run(call, demo_app, **changes):
    config = demo_app.server.config["DASHAPP"]
    dataset_id = services.get_store(config.database_url).active_dataset().id
    result, _ = call(
        run_cb.run_optimisation,
        config,
        lambda _: None,
        1,
        _panel(**changes),
        dataset_id,
        "fr",
    )
    return result


def _find(component, target):
    """The component with id ``target`` in a layout tree."""
    if getattr(component, "id", None) == target:
        return component
    children = getattr(component, "children", None)
    if not isinstance(children, (list, tuple)):
        children = [children]
    for child in children:
        if hasattr(child, "to_plotly_json"):
            found = _find(child, target)
            if found is not None:
                return found
    return None


def _manage(
    call,
    trigger,
    name=None,
    author=None,
    selected=None,
    result=None,
    draft=None,
    lang="fr",
):
    return call(
        lib.manage,
        1,
        1,
        1,
        1,
        name,
        author,
        selected,
        result,
        draft or {},
        lang,
        trigger=f"{trigger}.submit_n_clicks"
        if trigger == ids.SCN_DELETE_CONFIRM
        else f"{trigger}.n_clicks",
    )


def test_save_names_the_run_then_duplicate_and_delete(call, demo_app, store):
    result = _run(call, demo_app)
    options, _, message, new_result, *_ = _manage(
        call, ids.SCN_SAVE, "Plan Nord", "Awa", result=result
    )
    assert "Plan Nord" in str(message) and new_result is lib.no_update
    record = get_scenario(store, result["id"])
    assert (record.name, record.author, record.status) == (
        "Plan Nord",
        "Awa",
        "optimal",
    )
    assert any("Plan Nord" in o["label"] for o in options)
    _, _, message, *_ = _manage(call, ids.SCN_DUPLICATE, selected=result["id"])
    assert "Plan Nord (copie)" in str(message)
    names = list(list_scenarios(store)["name"])
    assert "Plan Nord (copie)" in names
    _, _, message, cleared, *_ = _manage(
        call, ids.SCN_DELETE_CONFIRM, selected=result["id"], result=result
    )
    assert cleared is None and "supprimé" in str(message)
    assert "Plan Nord" not in list(list_scenarios(store)["name"])


def test_save_without_a_run_keeps_a_draft_and_names_are_checked(call, store):
    draft = {"objective": "coverage", "new_centers": 1}
    _, _, message, new_result, *_ = _manage(
        call, ids.SCN_SAVE, "Brouillon", draft=draft
    )
    record = get_scenario(store, new_result["id"])
    assert (
        record.status == "draft" and record.params["whatif"]["objective"] == "coverage"
    )
    _, _, message, *_ = _manage(call, ids.SCN_SAVE, "Brouillon", draft=draft, lang="en")
    assert "already has this name" in str(message)
    _, _, message, *_ = _manage(call, ids.SCN_SAVE, "   ", draft=draft)
    assert "Donnez un nom" in str(message)
    _, _, message, _, href, *_ = _manage(call, ids.SCN_OPEN)
    assert "Choisissez d'abord" in str(message) and href is lib.no_update
    href = _manage(call, ids.SCN_OPEN, selected=new_result["id"])[4]
    assert href == f"/scenarios?scenario={new_result['id']}"


def test_a_panel_holding_an_error_is_not_saved_as_the_defaults(call, store):
    """A panel the page shows an error for drafted ``{}`` and Save stored the
    defaults under the user's name: now Save says to fix the panel first."""
    bad_panel = {"objective": "coverage", "new_centers": -4}
    draft = call(lib.whatif_values, bad_panel)
    assert draft == {lib.INVALID_DRAFT: True}
    before = len(list_scenarios(store))
    _, _, message, new_result, *_ = _manage(call, ids.SCN_SAVE, "Défauts", draft=draft)
    assert "contiennent une erreur" in str(message) and new_result is lib.no_update
    assert len(list_scenarios(store)) == before
    good = call(lib.whatif_values, {"objective": "coverage", "new_centers": 1})
    assert good.get("new_centers") == 1 and lib.INVALID_DRAFT not in good


def test_reopening_by_url_restores_parameters_and_flags_other_data(
    call, demo_app, store
):
    result = _run(call, demo_app, new_centers=1, radius_km=35)
    page = call(scn.render, f"?scenario={result['id']}", "fr", None)
    assert _find(page, ids.SCN_RADIUS).value == 35
    assert _find(page, ids.SCN_NEW).value == 1
    assert _find(page, ids.SCN_RESULT).data == {"id": result["id"]}
    assert "scn-stale-alert" not in str(page)
    from dashapp.bootstrap import create_demo

    create_demo(store, seed=7, n_communes=60)  # a newer dataset becomes active
    services._context.cache_clear()
    stale = call(scn.render, f"?scenario={result['id']}", "en", None)
    assert "scn-stale-alert" in str(stale)
    missing = call(scn.render, "?scenario=9999", "en", None)
    assert "does not exist" in str(missing)


def test_exports_match_the_saved_result(call, demo_app, store):
    result = _run(call, demo_app)
    record = get_scenario(store, result["id"])
    xlsx, _ = call(
        lib.export, 1, 1, 1, result, "fr", trigger=f"{ids.SCN_EXPORT_XLSX}.n_clicks"
    )
    book = openpyxl.load_workbook(io.BytesIO(base64.b64decode(xlsx["content"])))
    assert book.sheetnames == [
        "parametres",
        "synthese",
        "centres",
        "communes",
        "sans_centre",
    ]
    assert book["communes"].max_row == len(record.communes) + 1
    zipped, _ = call(
        lib.export, 1, 1, 1, result, "fr", trigger=f"{ids.SCN_EXPORT_CSV}.n_clicks"
    )
    archive = zipfile.ZipFile(io.BytesIO(base64.b64decode(zipped["content"])))
    assert sorted(archive.namelist()) == [
        "centers.csv",
        "communes.csv",
        "parameters.csv",
        "summary_kpis.csv",
        "unserved_communes.csv",
    ]
    geo, _ = call(
        lib.export, 1, 1, 1, result, "fr", trigger=f"{ids.SCN_EXPORT_GEOJSON}.n_clicks"
    )
    features = json.loads(geo["content"])["features"]
    kinds = {f["properties"]["kind"] for f in features}
    assert kinds == {"center", "catchment"}
    assert all(f["geometry"] for f in features)
    nothing, message = call(
        lib.export, 1, 1, 1, None, "fr", trigger=f"{ids.SCN_EXPORT_CSV}.n_clicks"
    )
    assert nothing is lib.no_update and "Aucun résultat" in str(message)


def test_compare_marks_the_best_and_exports_one_workbook(call, demo_app):
    first = _run(call, demo_app, new_centers=1)
    second = _run(call, demo_app, new_centers=4)
    out = call(compare_cb.compare, 1, [first["id"], second["id"]], "fr")
    text = str(out)
    assert "scn-compare-table" in text and "★" in text
    book = call(compare_cb.export_comparison, 1, [first["id"], second["id"]], "fr")
    workbook = openpyxl.load_workbook(io.BytesIO(base64.b64decode(book["content"])))
    assert workbook.sheetnames[0] == "comparaison" and len(workbook.sheetnames) == 3
    assert "2 à 4" in str(call(compare_cb.compare, 1, [first["id"]], "fr"))


def test_coverage_curve_improves_with_centers(call, demo_app):
    config = demo_app.server.config["DASHAPP"]
    dataset_id = services.get_store(config.database_url).active_dataset().id
    fig = call(
        curve_cb.coverage_curve,
        config,
        lambda _: None,
        1,
        3,
        _panel(),
        dataset_id,
        "fr",
    )
    progress = []
    again = call(
        curve_cb.coverage_curve,
        config,
        progress.append,
        2,
        3,
        _panel(),
        dataset_id,
        "fr",
    )
    assert again == fig and progress == []  # read from the results cache
    coverage, distance = fig["data"][0]["y"], fig["data"][1]["y"]
    assert fig["data"][0]["x"] == [0, 1, 2, 3]
    assert all(b <= a + 1e-9 for a, b in zip(distance, distance[1:], strict=False))
    assert coverage[-1] >= coverage[0]


def test_drawing_the_page_does_not_press_the_buttons(call, store):
    before = len(list_scenarios(store))
    options, _, message, result, href, *_ = call(
        lib.manage,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        {},
        "fr",
        trigger=f"{ids.SCN_SAVE}.n_clicks",
    )
    assert message is None and result is lib.no_update and href is lib.no_update
    assert len(list_scenarios(store)) == before and isinstance(options, list)


def test_compared_small_maps_share_one_distance_range(call, demo_app):
    from dash import dcc

    from layouts.maps import CHOROPLETH

    def graphs(node):
        if isinstance(node, dcc.Graph):
            yield node.figure
        kids = getattr(node, "children", None)
        for kid in kids if isinstance(kids, list) else [kids]:
            if kid is not None and not isinstance(kid, str):
                yield from graphs(kid)

    runs = [_run(call, demo_app, new_centers=n) for n in (0, 4)]
    out = call(compare_cb.compare, 1, [r["id"] for r in runs], "fr")
    chors = [f["data"][CHOROPLETH] for f in graphs(out)]
    assert len(chors) == 2
    assert chors[0]["zmin"] == chors[1]["zmin"] == 0.0
    assert chors[0]["zmax"] == chors[1]["zmax"]
    values = [z for c in chors for z in c["z"] if z is not None]
    assert max(values) == pytest.approx(chors[0]["zmax"], abs=0.05)
    # four new centers bring people closer: less on the shared scale overall
    before, after = (sum(z for z in c["z"] if z is not None) for c in chors)
    assert after < before
    assert [c["showscale"] for c in chors] == [False, True]  # one colour bar
