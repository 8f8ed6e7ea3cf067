"""The scenario screen on forecast demand while the forecasts are still being
computed: it says so at once, then shows the evaluation by itself once ready."""

import pytest

from dashapp import ids, services
from dashapp.services import forecasting
from optimization.whatif import WhatIf
from tests.auth_helpers import browser_sign_in
from tests.browser.waits import until

pytestmark = pytest.mark.browser


def test_scn101_forecast_demand_pending_then_shown(dash_duo, app, monkeypatch,
                                                   tmp_path):  # fmt: skip
    ready = {"now": False}
    real = forecasting.demand_ready
    monkeypatch.setattr(
        forecasting, "demand_ready",
        lambda *args: ready["now"] and real(*args),
    )  # fmt: skip
    browser_sign_in(dash_duo, app)
    dash_duo.driver.get(dash_duo.server_url + "/scenarios")
    dash_duo.wait_for_contains_text(f"#{ids.SCN_INSTANT}", "Centres ouverts")
    forecast = dash_duo.find_elements(f"#{ids.SCN_DEMAND_SOURCE} input")[1]
    dash_duo.driver.execute_script("arguments[0].click();", forecast)
    dash_duo.wait_for_contains_text(f"#{ids.SCN_INSTANT}", "en cours de calcul")
    dash_duo.driver.save_screenshot(str(tmp_path / "scn101_pending.png"))
    # what the precompute does meanwhile: the forecast demand stored for every
    # process; the timer's next tick then shows the evaluation
    config = app.server.config["DASHAPP"]
    dataset = services.context(config.database_url).info.id
    forecasting.demand_by_commune(config, dataset, WhatIf().forecast_weeks)
    ready["now"] = True
    until(lambda: "Centres ouverts" in dash_duo.find_element(f"#{ids.SCN_INSTANT}").text,
          30)  # fmt: skip
    assert "en cours de calcul" not in dash_duo.find_element(f"#{ids.SCN_INSTANT}").text
    assert dash_duo.get_logs() == []
