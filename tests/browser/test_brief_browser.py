"""The decision briefs in headless Chromium: a viewer downloads the PDF of a region,
of a saved scenario and of a comparison."""

import glob
import os
import subprocess

import pytest
from selenium.webdriver.common.keys import Keys

from dashapp import ids
from dashapp.i18n import t
from tests.auth_helpers import browser_sign_in
from tests.browser.waits import until

pytestmark = pytest.mark.browser


def test_brf001_a_viewer_downloads_the_brief_of_a_region(dash_duo, app):
    browser_sign_in(dash_duo, app, role="viewer", path="/?region=R02")
    dash_duo.wait_for_contains_text(f"#{ids.SCOPE_LABEL}", "Sud")
    button_id = ids.brief("area", "button")
    # found by id at each step: the screen may draw the button again meanwhile
    dash_duo.wait_for_text_to_equal(f"#{button_id}", "Note de synthèse (PDF)")
    _click(dash_duo, button_id)
    until(lambda: glob.glob(os.path.join(dash_duo.download_path, "*.pdf")), 60)
    path = glob.glob(os.path.join(dash_duo.download_path, "*.pdf"))[0]
    assert os.path.basename(path).startswith("note-R02-")
    until(lambda: os.path.getsize(path) > 10_000, 10)  # written to the end
    text = subprocess.run(["pdftotext", path, "-"], check=True, capture_output=True,
                          text=True).stdout  # fmt: skip
    assert "Note de synthèse : Région Sud" in text and "Ce qu'il faut retenir" in text
    dash_duo.wait_for_text_to_equal(f"#{ids.brief('area', 'progress')}", "")
    assert not dash_duo.find_element(f"#{button_id}").get_attribute("disabled")
    assert dash_duo.get_logs() == []


def _saved_runs(app, n: int) -> list[int]:
    """Saved scenarios with results, made in the store before the page opens."""
    from dashapp import services
    from data.scenarios import record_from_result, save_scenario
    from optimization.whatif import WhatIf

    url = app.server.config["DASHAPP"].database_url
    store = services.get_store(url)
    dataset = store.active_dataset().id
    ws = services.workspace(url, dataset)
    out = []
    for k in range(n):
        whatif = WhatIf(new_centers=k + 1, time_limit_s=30)
        run = ws.prepare_run(whatif)
        out.append(save_scenario(
            store, dataset, f"Plan {k + 1}",
            {"whatif": whatif.to_dict(), "spec": run.spec.to_dict()},
            author="Awa", **record_from_result(run.solve()),
        ).id)  # fmt: skip
    return out


def _click(duo, element_id: str) -> None:
    duo.driver.execute_script(
        "const e = document.getElementById(arguments[0]);"
        "e.scrollIntoView({block: 'center'}); e.click();",
        element_id,
    )


def _downloaded(duo, prefix: str) -> str:
    """The text of the PDF whose name starts with ``prefix``, once written whole."""

    def found():
        names = glob.glob(os.path.join(duo.download_path, prefix + "*.pdf"))
        return names[0] if names else None

    until(found, 90)
    path = found()

    def whole():  # a PDF ends with %%EOF once Chromium has written it all
        with open(path, "rb") as f:
            data = f.read()
        return data.startswith(b"%PDF") and data.rstrip().endswith(b"%%EOF")

    until(whole, 20)
    return subprocess.run(["pdftotext", path, "-"], check=True, capture_output=True,
                          text=True).stdout  # fmt: skip


def test_brf002_briefs_of_a_saved_scenario_and_of_a_comparison(dash_duo, app):
    first, second = _saved_runs(app, 2)
    browser_sign_in(dash_duo, app, role="viewer", path=f"/scenarios?scenario={first}")
    dash_duo.wait_for_contains_text(f"#{ids.SCN_DELTAS}", "Proposition", timeout=30)
    button = dash_duo.find_element(f"#{ids.brief('scenario', 'button')}")
    assert button.text == t("brief.button.scenario", "fr")
    _click(dash_duo, ids.brief("scenario", "button"))
    text = _downloaded(dash_duo, f"note-scenario-S{first}-")
    assert "Plan 1" in text and t("brief.scenario.asked", "fr") in text
    dash_duo.wait_for_text_to_equal(f"#{ids.brief('scenario', 'progress')}", "")
    # the comparison: pick both saved scenarios, then its brief
    _click(dash_duo, ids.SCN_COMPARE_PICK)
    until(lambda: len(dash_duo.find_elements(".dash-dropdown-option")) >= 2, 20)
    for option in dash_duo.find_elements(".dash-dropdown-option")[:2]:
        dash_duo.driver.execute_script("arguments[0].click();", option)
    until(lambda: len(dash_duo.find_elements(
        "#scn-compare-pick-value .dash-dropdown-value-item")) == 2, 10)  # fmt: skip
    dash_duo.find_element("body").send_keys(Keys.ESCAPE)
    _click(dash_duo, ids.brief("comparison", "button"))
    text = _downloaded(dash_duo, "comparaison-")  # the scenarios in the order picked
    assert "Comparaison de 2 scénarios" in text
    assert "Plan 1" in text and "Plan 2" in text
    dash_duo.wait_for_text_to_equal(f"#{ids.brief('comparison', 'progress')}", "")
    assert dash_duo.find_element(f"#{ids.brief('comparison', 'message')}").text == ""
    assert dash_duo.get_logs() == []
