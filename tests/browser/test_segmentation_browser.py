"""The segmentation screen in headless Chromium: run, results, sites, language."""

import pytest

from dashapp import ids
from layouts.maps import site_index
from tests.auth_helpers import browser_sign_in
from tests.browser.waits import until

pytestmark = pytest.mark.browser

PLOT = "return document.querySelector('#{} .js-plotly-plot')?.data"
TOP_LAYER = (
    "const gd = document.querySelector('#seg-map .js-plotly-plot');"
    "const ids = gd._fullLayout.map._subplot.map.getStyle().layers.map(l => l.id);"
    "const mine = ids.indexOf('plotly-trace-layer-' + gd._fullData[arguments[0]].uid"
    " + '-circle');"
    "return mine > 0 && ids.every((id, i) => !id.endsWith('-fill') || i < mine);"
)


def _click(duo, element_id):
    element = duo.find_element(f"#{element_id}")
    # a JS click: the dev-tools footer of dash_duo may cover the lower buttons
    duo.driver.execute_script("arguments[0].click()", element)


def _plot(duo, graph_id):
    return duo.driver.execute_script(PLOT.format(graph_id))


def test_seg001_run_shows_clusters_map_curves_pca_profiles_and_sites(dash_duo, app):
    browser_sign_in(dash_duo, app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/segmentation")
    dash_duo.wait_for_text_to_equal(
        f"#{ids.SEG_SUMMARY}", "Choisissez les indicateurs puis lancez la segmentation."
    )
    dash_duo.select_dcc_dropdown(f"#{ids.SEG_K}", value="3")  # override k
    _click(dash_duo, ids.SEG_RUN)
    dash_duo.wait_for_contains_text(f"#{ids.SEG_SUMMARY}", "3 groupes", timeout=60)
    until(lambda: (_plot(dash_duo, ids.SEG_MAP) or [{}, {}])[1].get("z"), 20)
    z = _plot(dash_duo, ids.SEG_MAP)[1]["z"]
    assert len(z) == 400 and set(z) == {0, 1, 2}
    assert len(_plot(dash_duo, ids.SEG_SCORES)[0]["x"]) == 9
    assert [t["name"] for t in _plot(dash_duo, ids.SEG_PCA)] == [
        "Groupe 1",
        "Groupe 2",
        "Groupe 3",
    ]
    rows = dash_duo.find_elements(f"#{ids.SEG_PROFILE} tbody tr")
    assert len(rows) == 3
    _click(dash_duo, ids.SEG_SITES_RUN)
    until(lambda: len(_plot(dash_duo, ids.SEG_MAP)[site_index(1)]["lon"]) == 5, 20)
    # MapLibre draws the proposed sites above every commune shape
    until(lambda: dash_duo.driver.execute_script(TOP_LAYER, site_index(1)), 20)
    _click(dash_duo, ids.SEG_SITES_ADD)
    dash_duo.wait_for_contains_text(
        f"#{ids.SEG_SITES_MESSAGE}", "5 sites ajoutés aux sites candidats"
    )
    assert dash_duo.get_logs() == []


def test_seg002_screen_in_english_and_no_indicator_gives_a_message(dash_duo, app):
    browser_sign_in(dash_duo, app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/lang/en?next=/segmentation")
    dash_duo.wait_for_text_to_equal(f"#{ids.SEG_RUN}", "Run the segmentation")
    for box in dash_duo.find_elements(f"#{ids.SEG_FEATURES} input:checked"):
        box.click()
    _click(dash_duo, ids.SEG_RUN)
    dash_duo.wait_for_contains_text(
        f"#{ids.SEG_MESSAGES}", "Choose at least one indicator.", timeout=30
    )
    assert dash_duo.get_logs() == []
