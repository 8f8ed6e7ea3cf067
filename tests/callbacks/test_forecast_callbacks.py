"""Forecast screen callbacks called directly on the demo data."""

from __future__ import annotations

import pytest
from dash.exceptions import PreventUpdate

from callbacks import forecast as cb
from dashapp import ids
from dashapp.services import forecasting

# the forecasts are cached in the data folder: each test starts from an empty cache
pytestmark = pytest.mark.writes_demo


@pytest.fixture
def config(demo_app):
    return demo_app.server.config["DASHAPP"]


def series_table(panel):
    """Header and body cells (text) of the series' accuracy table."""
    div = next(c for c in panel if getattr(c, "id", None) == ids.FC_ACCURACY_SERIES)
    head, body = div.children.children
    texts = [str(th.children) for th in head.children.children]
    rows = [[str(td.children) for td in tr.children] for tr in body.children]
    return texts, rows


def test_page_renders_in_both_languages(call):
    fr = str(call(cb.render, "", "fr", None))
    en = str(call(cb.render, "", "en", None))
    assert "Facteurs de retard" in fr and "Il ne prouve pas de cause" in fr
    assert "Delay-risk drivers" in en and "does not prove causes" in en


def test_series_options_follow_the_level(call):
    options, value = call(cb.update_series_options, "region", None, None, "fr")
    assert len(options) == 5 and value == options[0]["value"]
    options, value = call(cb.update_series_options, "center", "XX", None, "en")
    assert len(options) == 50 and value.startswith("SC")
    options, value = call(cb.update_series_options, "national", None, None, "en")
    assert options == [{"label": "Whole country", "value": "national"}]


def test_level_forecast_job_then_chart_and_accuracy(call, config):
    progress = []
    ready = call(cb.run_level_forecast, config, progress.append, "region", 1)
    assert ready == {"dataset": 1, "level": "region"}
    assert progress[-1] == (100,) and len(progress) > 10
    figure, model, panel, messages = call(
        cb.update_forecast, ready, "R01", "PASS", 8, "region", 1, "fr"
    )
    forecast = figure["data"][3]
    assert len(forecast["x"]) == 1 + 8  # joined to the last observed week
    assert figure["data"][0]["name"] == "Intervalle 95 %"
    assert model.startswith("Modèle retenu pour cette série : ")
    text = str(panel)
    assert "Précision du test à 8 semaines" in text and "Naïf saisonnier" in text
    assert messages == []
    # the text names the score that chose, and the series table shows it: the
    # ticked model has the smallest value of the "Choix" column
    assert "le plus petit WAPE" in model
    assert "1 à 8 semaines avant chacune des 12 dernières semaines" in model
    head, body = series_table(panel)
    assert head[-1] == "Choix : WAPE 1–8 sem."
    choice = {r[0]: r[-1] for r in body if r[-1] != "—"}
    assert len(choice) == 3
    ticked = [name for name, cell in choice.items() if cell.startswith("✓ ")]
    assert len(ticked) == 1 and ticked[0] in model

    def value(cell):
        return float(cell.removeprefix("✓ ").removesuffix(" %").replace(",", "."))

    assert value(choice[ticked[0]]) == min(value(c) for c in choice.values())
    assert f"({choice[ticked[0]].removeprefix('✓ ')})" in model
    # the result is cached: the second job reports no progress
    again = []
    assert call(cb.run_level_forecast, config, again.append, "region", 1) == ready
    assert again == []


def test_stale_or_unknown_inputs_give_messages_not_errors(call, config):
    ready = call(cb.run_level_forecast, config, lambda _: None, "region", 1)
    with pytest.raises(PreventUpdate):  # the level changed, its job is running
        call(cb.update_forecast, ready, "D01", "PASS", 8, "department", 1, "fr")
    out = call(cb.update_forecast, ready, "R99", "PASS", 8, "region", 1, "en")
    assert out[3].children == (
        "Cannot forecast: no series “R99” for document type “PASS”"
    )
    out = call(cb.update_forecast, ready, "R01", "PASS", 40, "region", 1, "fr")
    assert out[3].children == (
        "Prévision impossible : l'horizon doit être un nombre entier de semaines, "
        "de 1 à 26"
    )
    bad = call(cb.run_level_forecast, config, lambda _: None, "commune", 1)
    assert bad["error"]["code"] == "unknown_level"
    assert bad["error"]["params"] == {"level": "commune"}
    out = call(cb.update_forecast, bad, "X", "PASS", 8, "commune", 1, "fr")
    assert out[3].children == (
        "Prévision impossible : ce jeu de données n'a pas de niveau « commune » "
        "à prévoir"
    )
    out = call(cb.update_forecast, bad, "X", "PASS", 8, "commune", 1, "en")
    assert out[3].children == (
        "Cannot forecast: this dataset has no level “commune” to forecast"
    )


@pytest.mark.parametrize(
    "forged",
    [
        "unknown level 'commune'",  # a bare message: never shown as is
        {"code": "__class__", "params": {}},
        {"code": ["unknown_level"], "params": {"level": "x"}},
        {"code": "unknown_level", "params": "level"},
        {"code": "unknown_level", "params": {}},  # a parameter missing
        {"code": "short_history", "params": {"need": {"a": 1}, "got": 3}},
        {"code": "short_history", "params": {"need": True, "got": 3}},
    ],
)
def test_a_forged_error_in_the_ready_store_words_as_internal(call, forged):
    ready = {"dataset": 1, "level": "region", "error": forged}
    out = call(cb.update_forecast, ready, "R01", "PASS", 8, "region", 1, "en")
    assert out[3].children == (
        "Cannot forecast: internal error of the computation "
        "(the server log has the details)"
    )


def test_error_parameters_are_cut_and_numbers_in_the_language():
    from layouts.forecast import error_text

    long = {"code": "unknown_level", "params": {"level": "x" * 500}}
    assert error_text(long, "en").count("x") == 80
    short = {"code": "short_history", "params": {"need": 1129, "got": 40}}
    assert error_text(short, "fr") == (
        "Prévision impossible : il faut au moins 1\u202f129 semaines d'historique, "
        "les données en ont 40"
    )


def test_risk_job_outputs_roc_importance_and_confusion(call, config):
    with pytest.raises(PreventUpdate):  # computed only once its tab is open
        call(cb.run_risk, config, lambda _: None, "forecast", "late", 1, "fr")
    messages, summary, roc, importance, confusion = call(
        cb.run_risk, config, lambda _: None, "risk", "rejections", 1, "en"
    )
    assert messages == []
    assert summary.startswith("Models trained on")
    assert [d["name"].split(" (")[0] for d in roc["data"]] == [
        "Chance",
        "Logistic regression",
        "Gradient boosting",
    ]
    assert len(importance["data"]) == 2 and len(importance["data"][0]["y"]) == 13
    assert "risk-confusion-logistic" in str(confusion)


def test_demand_by_commune_reuses_the_cached_department_forecast(call, config):
    demand = call(forecasting.demand_by_commune, config, 1, 4)
    assert len(demand) == 400 and demand.sum() > 0
    assert forecasting.cached_level_forecast(config, 1, "department") is not None
