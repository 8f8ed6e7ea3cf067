"""Road networks in headless Chromium: a road file imported with the boundaries,
its class values mapped on screen; the speed editor refusing, saving, resetting."""

import json
import os

import geopandas as gpd
import pytest
from selenium.common.exceptions import (
    NoSuchElementException,
    StaleElementReferenceException,
)
from selenium.webdriver.common.by import By

from dashapp import ids
from tests.auth_helpers import browser_sign_in
from tests.browser.waits import until
from tests.unit.data import import_files as f

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("DASHAPP_SCREENSHOTS")  # a folder to keep the screenshots in


def _click(duo, element_id):
    duo.driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center'}); arguments[0].click()",
        duo.find_element(f"#{element_id}"),
    )


def _by_id(duo, id_: dict):
    """The element of a pattern-matching id (Dash writes it as sorted JSON)."""
    text = json.dumps(id_, sort_keys=True, separators=(",", ":"))
    return duo.driver.find_element(By.XPATH, f"//*[@id='{text}']")


def _pick(duo, road_value: str, label: str) -> bool:
    """Choose ``label`` as the class of ``road_value`` in the road file's card,
    the first or the second (the order the browser read the files in); False
    while it is not (or no longer) on the page."""
    for k in (0, 1):
        try:
            duo.select_dcc_dropdown(
                _by_id(duo, ids.imp_road_value(k, road_value)), value=label
            )
        except NoSuchElementException:
            continue
        except StaleElementReferenceException:
            return False
        return True
    return False


def _shot(duo, tmp_path, name):
    duo.driver.save_screenshot(str(tmp_path / name))
    if SHOTS:
        duo.driver.save_screenshot(os.path.join(SHOTS, name))


def test_road001_roads_with_the_boundaries_values_mapped_on_screen(
    dash_duo, app, tmp_path
):
    roads = f.roads().rename(columns={"CLASSE": "fclass"})
    roads["fclass"] = ["primary", "tertiary", "piste"]  # OSM values, and one not
    path = f.write_roads(tmp_path, gpd.GeoDataFrame(roads, crs=4326))
    browser_sign_in(dash_duo, app, path="/import")
    dash_duo.wait_for_text_to_equal("h5.card-title", "Jeux de données")
    field = dash_duo.driver.find_element(
        By.CSS_SELECTOR, f"#{ids.IMP_UPLOAD} input[type=file]"
    )
    field.send_keys(f"{f.write_cod_ab(tmp_path)}\n{path}")
    dash_duo.wait_for_contains_text(
        f"#{ids.IMP_FILES}", "Classes des valeurs de « fclass »"
    )
    files = dash_duo.find_element(f"#{ids.IMP_FILES}").text
    assert "Route primaire" in files and "à choisir" in files  # 'piste' unmapped
    _click(dash_duo, ids.IMP_CHECK)
    dash_duo.wait_for_contains_text(f"#{ids.IMP_REPORT}", "1 erreur(s)", timeout=30)
    dash_duo.wait_for_contains_text(f"#{ids.IMP_ISSUES}", "sans correspondance")
    # the road file's card: first or second, in the order the browser read the
    # files; found again if the cards were drawn anew after the check
    until(lambda: _pick(dash_duo, "piste", "Piste"))
    dash_duo.wait_for_contains_text(f"#{ids.IMP_FILES}", "Piste")
    _click(dash_duo, ids.IMP_CHECK)
    dash_duo.wait_for_contains_text(f"#{ids.IMP_REPORT}", "Aucune erreur", timeout=30)
    dash_duo.wait_for_contains_text(
        f"#{ids.IMP_ROAD_REPORT}", "Réseau routier de routes.geojson"
    )
    report = dash_duo.find_element(f"#{ids.IMP_ROAD_REPORT}").text
    assert "Route primaire" in report and "Parties connexes : 1" in report
    _shot(dash_duo, tmp_path, "road001_import.png")
    _click(dash_duo, ids.IMP_COMMIT)
    dash_duo.wait_for_contains_text(f"#{ids.IMP_REPORT}", "importé (n°", timeout=30)
    assert dash_duo.get_logs() == []


def test_road002_speed_editor_refuses_saves_and_resets(dash_duo, app, tmp_path):
    browser_sign_in(dash_duo, app, role="planner", path="/reseau-routier")
    dash_duo.wait_for_contains_text("h4", "Vitesses du réseau routier")
    dash_duo.wait_for_contains_text(".navbar", "Réseau routier")
    cap = _by_id(dash_duo, ids.rp_field("offroad_cap_km"))
    track = _by_id(dash_duo, ids.rp_field("road_kmh.motorised.rainy.track.unpaved"))
    track.clear()
    track.send_keys("-5")
    _click(dash_duo, ids.RP_SAVE)
    dash_duo.wait_for_contains_text(f"#{ids.RP_MESSAGE}", "1 valeur(s) refusée(s)")
    assert (
        "Motorisé, Saison des pluies, Piste, non revêtue : entre 0,0 et 200 km/h (0 = fermée), saisi : -5,0"
        in dash_duo.find_element(f"#{ids.RP_MESSAGE}").text
    )
    until(lambda: "is-invalid" in (track.get_attribute("class") or ""), 10)
    _shot(dash_duo, tmp_path, "road002_refused.png")
    track.clear()
    track.send_keys("0")  # closed to vehicles in the rains
    cap.clear()
    cap.send_keys("4")
    _click(dash_duo, ids.RP_SAVE)
    dash_duo.wait_for_contains_text(f"#{ids.RP_MESSAGE}", "Vitesses enregistrées")
    dash_duo.wait_for_contains_text(f"#{ids.RP_STATUS}", "Vitesses modifiées")
    until(lambda: "is-invalid" not in (track.get_attribute("class") or ""), 10)
    _shot(dash_duo, tmp_path, "road002_saved.png")
    _click(dash_duo, ids.RP_RESET)
    dash_duo.wait_for_contains_text(f"#{ids.RP_MESSAGE}", "Vitesses par défaut")
    until(lambda: cap.get_attribute("value") == "10", 10)
    assert dash_duo.get_logs() == []
