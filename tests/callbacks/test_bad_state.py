"""Callback states the server turns into ids (saved-scenario picks, the result
store, comparison picks, the dataset stores) sent by a stale or crafted browser:
an alert in the user's language, and nothing changed in the store."""

from __future__ import annotations

import pytest
from dash import no_update

from callbacks import forecast as fc_cb
from callbacks import importer as imp_cb
from callbacks import scenario_compare as compare_cb
from callbacks import scenario_curve as curve_cb
from callbacks import scenario_library as lib
from callbacks import scenario_plan as plan_cb
from callbacks import scenario_run as run_cb
from callbacks import scenarios as scn
from callbacks import segmentation as seg_cb
from callbacks import shell
from dashapp import ids, services
from dashapp.parsing import BadInputError
from data.scenarios import list_scenarios, save_scenario
from layouts import forecast as lay_fc
from tests.callbacks.test_scenario_callbacks import _panel

HUGE = "99999999999999999999999"
NOT_IDS = [HUGE, 10**30, "abc", "-1", 0, 1.5, 1e30, True, [1], {"id": 1}]
FR, EN = "Rien n'a été modifié", "Nothing was changed"


pytestmark = pytest.mark.writes_demo  # some tests try to write


@pytest.fixture
def config(demo_app):
    return demo_app.server.config["DASHAPP"]


@pytest.fixture
def store(config):
    return services.get_store(config.database_url)


@pytest.fixture
def drafts(store):
    dataset = store.active_dataset().id
    return [save_scenario(store, dataset, n, {"whatif": {}}) for n in ("A", "B")]


def saved(store) -> list:
    return list_scenarios(store)[["id", "name", "author", "updated_at"]].to_dict(
        "records"
    )


def said(component, *phrases) -> bool:
    text = str(component)
    return all(p in text for p in phrases)


# -- pages ----------------------------------------------------------------------------
@pytest.mark.parametrize("wanted", [HUGE, "abc", "-1", "0", "1e30", "1.0", "%20"])
def test_scenario_page_with_a_bad_id_in_the_url(call, wanted):
    page = call(scn.render, f"?scenario={wanted}", "fr", None)
    assert said(page, "scn-bad-id", "Identifiant de scénario invalide", FR)
    english = call(scn.render, f"?scenario={wanted}", "en", None)
    assert said(english, "Invalid scenario id", EN)


def test_scenario_page_with_an_unknown_id(call):
    assert said(call(scn.render, "?scenario=424242", "fr", None), "n'existe pas")


@pytest.mark.parametrize("dataset", [*NOT_IDS, 4242], ids=repr)
def test_router_refuses_a_bad_dataset_store(call, dataset):
    for path in ("/", "/scenarios", "/segmentation", "/prevision", "/import"):
        page = call(shell.render_page, path, "", "en", dataset)
        assert said(page, "bad-dataset", EN), path
    assert said(call(shell.render_page, "/", "", "fr", dataset), "jeu de données", FR)


# -- saved scenarios ---------------------------------------------------------------
DELETE = getattr(ids, "SCN_DELETE_CONFIRM", ids.SCN_DELETE)  # the click that deletes


@pytest.mark.parametrize("selected", [v for v in NOT_IDS if v], ids=repr)
@pytest.mark.parametrize("button", [ids.SCN_DUPLICATE, DELETE, ids.SCN_OPEN])
def test_saved_scenario_picks(call, store, drafts, button, selected):
    before = saved(store)
    clicks = [1 if b == button else None for b in
              (ids.SCN_SAVE, ids.SCN_DUPLICATE, DELETE, ids.SCN_OPEN)]  # fmt: skip
    out = call(lib.manage, *clicks, "", "", selected, {"id": drafts[0].id}, {},
               "fr", trigger=f"{button}.n_clicks")  # fmt: skip
    _, _, message, result, href, *_ = out
    assert said(message, "invalide", FR)
    assert result is no_update and href is no_update
    assert saved(store) == before


@pytest.mark.parametrize("result", [{"id": v} for v in NOT_IDS] + [[1], "3", 7],
                         ids=repr)  # fmt: skip
def test_the_result_store_id(call, store, drafts, result):
    before = saved(store)
    out = call(lib.manage, 1, None, None, None, "Nouveau nom", "Awa", None, result,
               {}, "en", trigger=f"{ids.SCN_SAVE}.n_clicks")  # fmt: skip
    assert said(out[2], "Invalid scenario id", EN)
    assert saved(store) == before  # neither renamed nor saved anew
    download, message = call(lib.export, 1, None, None, result, "fr",
                             trigger=f"{ids.SCN_EXPORT_CSV}.n_clicks")  # fmt: skip
    assert download is no_update and said(message, FR)
    deltas, centers, communes = call(run_cb.show_result, result, None, "en", None)
    assert said(deltas, "scn-bad-result", EN) and centers == communes == []
    assert call(lib.share_link, result, "fr") == []


@pytest.mark.parametrize(
    "picks", ["3", 3, {"a": 1}, [HUGE, 1], [True, 2], [1.5, 2], [[1], 2]], ids=repr
)
def test_comparison_picks(call, store, drafts, monkeypatch, picks):
    before = saved(store)
    out = call(compare_cb.compare, 1, picks, "fr")
    assert said(out, "scénarios", FR)
    # the workbook button has no message of its own: the refusal goes to the app's
    # alert area, set here or by the app's callback error handler
    shown = []
    monkeypatch.setattr(
        compare_cb, "set_props", lambda cid, props: shown.append(props), raising=False
    )
    try:
        assert call(compare_cb.export_comparison, 1, picks, "en") is no_update
        assert said(shown, "scenarios", EN)
    except BadInputError as exc:
        assert "'scenarios' should be" in str(exc)
    assert saved(store) == before


# -- the dataset store on the screens ------------------------------------------
@pytest.mark.parametrize("dataset", [HUGE, "abc", [1], 4242], ids=repr)
def test_scenario_screen_with_a_bad_dataset(call, config, store, dataset):
    before = saved(store)
    table, choices, message = call(
        plan_cb.evaluate_plan, _panel(), None, dataset, "fr"
    )
    assert table is no_update and choices is no_update and said(message, FR)
    result, alert = call(
        run_cb.run_optimisation, config, lambda _: None, 1, _panel(),
        dataset, "en",
    )  # fmt: skip
    assert result is None and said(alert, EN)
    progress = []
    figure = call(curve_cb.coverage_curve, config, progress.append, 1, 4, _panel(),
                  dataset, "fr")  # fmt: skip
    assert figure is no_update and said(progress[-1], FR)
    assert saved(store) == before


def test_coverage_curve_with_a_bad_maximum(call, config, store):
    dataset = store.active_dataset().id
    progress = []
    figure = call(curve_cb.coverage_curve, config, progress.append, 1, "beaucoup",
                  _panel(), dataset, "en")  # fmt: skip
    assert figure is no_update and said(progress[-1], "max_added")


@pytest.mark.parametrize("dataset", [HUGE, "abc", {"id": 1}, 4242], ids=repr)
def test_forecast_screen_with_a_bad_dataset(call, config, dataset):
    ready = call(fc_cb.run_level_forecast, config, lambda _: None, "region", dataset)
    assert ready["error"]["code"] == "unknown_dataset"
    assert "dataset does not exist" in lay_fc.error_text(ready["error"], "en")
    *_, message = call(fc_cb.update_forecast, ready, "R01", "PASS", 8, "region",
                       dataset, "en")  # fmt: skip
    assert said(message, EN)
    message, *_ = call(fc_cb.run_risk, config, lambda _: None, "risk", "late",
                       dataset, "fr")  # fmt: skip
    assert said(message, FR)


@pytest.mark.parametrize("dataset", [HUGE, "abc", [1], 4242], ids=repr)
def test_segmentation_screen_with_a_bad_dataset(call, dataset):
    result, messages = call(
        seg_cb.run_segmentation, lambda _: None, 1, None, ["mean_delay"], "kmeans",
        "auto", dataset, "en",
    )  # fmt: skip
    assert result is None and said(messages, EN)


@pytest.mark.parametrize(
    "sites",
    [
        "SEG01",
        [{"code": "S1", "name": "S", "commune_id": HUGE, "lon": 0, "lat": 0}],
        [{"code": "S1", "name": "S", "commune_id": 1, "lon": 1e308, "lat": 0}],
        [{"code": "S1", "name": "S", "commune_id": 1, "lon": "nan", "lat": 0}],
        [{"code": "S1", "name": ["S"], "commune_id": 1, "lon": 0, "lat": 0}],
        [{"code": "S1", "name": "S" * 500, "commune_id": 1, "lon": 0, "lat": 0}],
        [{"code": "S1", "name": "S", "commune_id": 1, "lon": 0, "lat": 0}] * 500,
        [7],
    ],
    ids=lambda s: repr(s)[:40],
)
def test_proposed_sites_sent_back_by_the_browser(call, store, sites):
    dataset = store.active_dataset().id
    before = len(store.candidates(dataset))
    message = call(seg_cb.add_sites, 1, sites, dataset, "fr")
    assert said(message, "Sites proposés invalides", "Rien n'a été ajouté")
    assert len(store.candidates(dataset)) == before


@pytest.mark.parametrize("dataset", [HUGE, "abc", [1], 4242], ids=repr)
def test_dataset_picker(call, store, monkeypatch, dataset):
    shown = []
    monkeypatch.setattr(imp_cb, "set_props", lambda cid, props: shown.append(props))
    active = store.active_dataset().id
    assert call(imp_cb.activate_dataset, 1, dataset) is no_update
    ((props),) = shown
    assert said(props["children"], "jeu de données", FR)
    assert store.active_dataset().id == active


def test_import_rates_from_the_screen(call):
    rate_ids = [ids.imp_rate(d) for d in ("CNI", "PASS", "ACTE")] + [
        {"type": "x", "index": "VISA"}
    ]
    rates, messages = call(imp_cb._rates, ["inf", "nan", "0.02", "0.1"], rate_ids, "fr")
    assert rates == {"ACTE": 0.02}
    assert len(messages) == 3 and all("Taux invalide" in m for m in messages)
