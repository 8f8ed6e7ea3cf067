"""The import screen in headless Chromium: upload, check, import, then pick datasets."""

import pytest
from selenium.webdriver.common.by import By

from dashapp import ids
from tests.auth_helpers import browser_sign_in
from tests.browser.maps import bars_below, fitted
from tests.browser.waits import until
from tests.unit.data import import_files as f

pytestmark = pytest.mark.browser


def _click(duo, element_id):
    duo.driver.execute_script(
        "arguments[0].click()", duo.find_element(f"#{element_id}")
    )


def _upload(duo, paths):
    field = duo.driver.find_element(
        By.CSS_SELECTOR, f"#{ids.IMP_UPLOAD} input[type=file]"
    )
    field.send_keys("\n".join(str(p) for p in paths))


def _save_element(duo, selector, path):
    """A picture of one element, wherever the page is scrolled (to look at)."""
    import base64

    box = duo.driver.execute_script(
        "const b = document.querySelector(arguments[0]).getBoundingClientRect();"
        "return {x: b.left + window.scrollX, y: b.top + window.scrollY,"
        " width: b.width, height: b.height, scale: 1};",
        selector,
    )
    shot = duo.driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"clip": box, "captureBeyondViewport": True}
    )
    path.write_bytes(base64.b64decode(shot["data"]))


def test_imp001_upload_check_import_then_show_on_the_map(dash_duo, app, tmp_path):
    browser_sign_in(dash_duo, app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/import")
    dash_duo.wait_for_text_to_equal("h5.card-title", "Jeux de données")
    _upload(dash_duo, [f.write_cod_ab(tmp_path), f.population_by_name(tmp_path),
                       f.write_centers(tmp_path)])  # fmt: skip
    dash_duo.wait_for_contains_text(f"#{ids.IMP_FILES}", "Convention : cod-ab")
    dash_duo.wait_for_contains_text(f"#{ids.IMP_FILES}", "population_noms.csv")
    # every command-line choice is on screen: join by name, separator, levels...
    dash_duo.wait_for_contains_text(f"#{ids.IMP_FILES}", "Joindre par")
    dash_duo.wait_for_contains_text(f"#{ids.IMP_FILES}", "Nom du niveau supérieur 1")
    dash_duo.wait_for_contains_text(f"#{ids.IMP_FILES}", "Séparateur")
    by_name = dash_duo.driver.find_element(
        By.XPATH, "//label[normalize-space()='nom' and "
        "ancestor::*[contains(@id, 'join_by')]]",
    )  # fmt: skip
    dash_duo.driver.execute_script(  # below the fold on a small window
        "arguments[0].scrollIntoView({block: 'center'}); arguments[0].click();", by_name
    )
    dash_duo.find_element(f"#{ids.IMP_LEVELS}").send_keys("region,prefecture,commune")
    _click(dash_duo, ids.IMP_CHECK)
    dash_duo.wait_for_contains_text(f"#{ids.IMP_REPORT}", "Aucune erreur", timeout=30)
    # the report is a grid: the guesses are there, to check
    dash_duo.wait_for_contains_text(f"#{ids.IMP_ISSUES}", "colonnes devinées")
    assert "4 préfectures" in dash_duo.find_element(f"#{ids.IMP_REPORT}").text
    dash_duo.driver.save_screenshot(str(tmp_path / "imp001.png"))
    dash_duo.wait_for_contains_text(f"#{ids.IMP_PREVIEW_TABLE}", "Saint-Louis")
    until(
        lambda: (
            dash_duo.driver.execute_script(
                f"return document.querySelector('#{ids.IMP_PREVIEW_MAP} .js-plotly-plot')"
                "?.data?.[0]?.locations?.length"
            )
            == 8
        ),
        10,
    )
    # the population's colour bar lies under the preview map; the units fit it
    until(lambda: bars_below(dash_duo, f"#{ids.IMP_PREVIEW_MAP}", 1), 20)
    until(lambda: fitted(dash_duo, f"#{ids.IMP_PREVIEW_MAP}"), 20)
    _save_element(dash_duo, f"#{ids.IMP_PREVIEW_MAP}", tmp_path / "imp001-preview.png")
    _click(dash_duo, ids.IMP_COMMIT)
    dash_duo.wait_for_contains_text(f"#{ids.IMP_REPORT}", "importé (n°", timeout=30)
    dash_duo.driver.execute_script(  # reload on the map (the link may be below)
        "arguments[0].click()", dash_duo.find_element("#imp-committed a")
    )
    dash_duo.wait_for_contains_text(".navbar", "Import du")
    dash_duo.wait_for_contains_text(f"#{ids.SCOPE_LABEL}", "Tout le pays")
    assert dash_duo.get_logs() == []


def test_imp002_bad_file_message_and_dataset_picker(dash_duo, app, tmp_path):
    browser_sign_in(dash_duo, app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/import")
    bad = tmp_path / "coupe.geojson"
    bad.write_text(f.write_cod_ab(tmp_path).read_text()[:400])
    _upload(dash_duo, [bad])
    dash_duo.wait_for_contains_text(f"#{ids.IMP_FILES}", "coupe.geojson")
    _click(dash_duo, ids.IMP_COMMIT)
    dash_duo.wait_for_contains_text(f"#{ids.IMP_REPORT}", "1 erreur(s)", timeout=30)
    dash_duo.wait_for_contains_text(f"#{ids.IMP_ISSUES}", "coupe.geojson, ligne")
    assert "JSON tronqué" in dash_duo.find_element(f"#{ids.IMP_ISSUES}").text
    # only the demo dataset: choosing it and showing it reloads the map
    dash_duo.wait_for_contains_text(f"#{ids.IMP_DATASET}", "(affiché)")
    _click(dash_duo, ids.IMP_ACTIVATE)
    dash_duo.wait_for_contains_text(f"#{ids.SCOPE_LABEL}", "Tout le pays", timeout=20)
    assert dash_duo.driver.current_url.rstrip("/") == dash_duo.server_url.rstrip("/")
    assert dash_duo.get_logs() == []
