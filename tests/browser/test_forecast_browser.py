"""The forecasts screen in headless Chromium: chart, accuracy, risk drivers."""

import pytest

from dashapp import ids
from tests.auth_helpers import browser_sign_in
from tests.browser.waits import until

pytestmark = pytest.mark.browser

PLOT = "return document.querySelector('#{} .js-plotly-plot')?.data"
# backtests and risk models are fitted in background jobs: on a busy 2-core
# machine (CI, a fresh clone) a fit took over 60 s; the waits end when drawn
BACKGROUND_S = 180


def _data(duo, graph_id):
    return duo.driver.execute_script(PLOT.format(graph_id))


def test_fcst001_forecast_with_intervals_and_backtest_accuracy(dash_duo, app):
    browser_sign_in(dash_duo, app)
    dash_duo.wait_for_page(f"{dash_duo.server_url}/prevision")
    dash_duo.wait_for_text_to_equal(
        "h4", "Prévisions de la demande et facteurs de retard"
    )
    # the department level is backtested in the background, then drawn
    until(
        lambda: (
            _data(dash_duo, ids.FC_CHART) and len(_data(dash_duo, ids.FC_CHART)) == 4
        ),
        BACKGROUND_S,
    )
    names = [d["name"] for d in _data(dash_duo, ids.FC_CHART)]
    assert names == ["Intervalle 95 %", "Intervalle 80 %", "Observé", "Prévision"]
    assert len(_data(dash_duo, ids.FC_CHART)[3]["x"]) == 1 + 12
    dash_duo.wait_for_contains_text(
        f"#{ids.FC_ACCURACY}", "Précision du test à 12 semaines"
    )
    level_table = dash_duo.find_element(f"#{ids.FC_ACCURACY_LEVEL}").text
    assert "Naïf saisonnier" in level_table and "Gradient boosting" in level_table
    assert dash_duo.find_element(f"#{ids.FC_MODEL}").text.startswith("Modèle retenu")
    # another level: its series list and chart follow
    dash_duo.find_elements(f"#{ids.FC_LEVEL} label")[0].click()  # national
    until(lambda: "Tout le pays" in dash_duo.find_element(f"#{ids.FC_SERIES}").text, 10)
    until(
        lambda: (_data(dash_duo, ids.FC_CHART) or [{}])[2].get("y", [0])[-1] > 1000, BACKGROUND_S
    )
    assert dash_duo.get_logs() == []


def test_fcst002_risk_tab_shows_roc_importance_and_caution(dash_duo, app):
    browser_sign_in(dash_duo, app)
    dash_duo.wait_for_page(f"{dash_duo.server_url}/prevision")
    dash_duo.find_elements(".nav-tabs .nav-link")[1].click()
    dash_duo.wait_for_contains_text(f"#{ids.RISK_CAUTION}", "Il ne prouve pas de cause")
    until(
        lambda: (
            _data(dash_duo, ids.RISK_ROC) and len(_data(dash_duo, ids.RISK_ROC)) == 3
        ),
        BACKGROUND_S,
    )
    roc = _data(dash_duo, ids.RISK_ROC)
    assert "AUC" in roc[1]["name"] and "AUC" in roc[2]["name"]
    assert len(_data(dash_duo, ids.RISK_IMPORTANCE)) == 2
    dash_duo.wait_for_contains_text(f"#{ids.RISK_SUMMARY}", "semaines-centres")
    assert dash_duo.find_element(f"#{ids.risk_confusion('logistic')}").text
    # the other outcome recomputes
    before = roc[1]["name"]
    dash_duo.find_elements(f"#{ids.RISK_TARGET} label")[1].click()
    until(lambda: _data(dash_duo, ids.RISK_ROC)[1]["name"] != before, BACKGROUND_S)
    assert dash_duo.get_logs() == []
