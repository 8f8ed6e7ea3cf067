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
    until(lambda: dash_duo.find_element(f"#{ids.SEG_MAP_NOTE}").text == "", 20)
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


# [bottom, left, right] of the note above the map, [top] of MapLibre's area, the
# page's width, and whether the figure has annotations (a note drawn in the map)
NOTE_AND_MAP = """
const note = document.getElementById(arguments[0]).getBoundingClientRect();
const gd = document.querySelector('#' + arguments[1] + ' .js-plotly-plot');
const map = gd && gd.querySelector('.maplibregl-map');
if (!map || !note.height) return null;
return [[note.bottom, note.left, note.right], map.getBoundingClientRect().top,
        document.documentElement.clientWidth,
        Boolean(gd.layout.annotations && gd.layout.annotations.length)];"""


@pytest.mark.parametrize("width", [1280, 390])
def test_seg003_the_note_before_a_run_lies_above_the_map(
    dash_duo, app, width, tmp_path
):
    """The note saying what to do before a run is a line above the map, inside
    the page at any width: no part of the map (the country's south tip) under it."""
    from tests.browser.maps import fitted, viewport

    viewport(dash_duo, width, 1000)
    browser_sign_in(dash_duo, app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/segmentation")
    dash_duo.wait_for_contains_text(f"#{ids.SEG_MAP_NOTE}", "Lancez la segmentation")
    until(lambda: fitted(dash_duo, f"#{ids.SEG_MAP}"), 20)
    (bottom, left, right), map_top, page, drawn_in = until(
        lambda: dash_duo.driver.execute_script(
            NOTE_AND_MAP, ids.SEG_MAP_NOTE, ids.SEG_MAP
        ),
        20,
    )
    assert bottom <= map_top + 1 and not drawn_in
    assert left >= 0 and right <= page + 1  # wrapped on a phone, never cut off
    dash_duo.driver.execute_script(
        "document.getElementById(arguments[0]).scrollIntoView({block: 'start'})",
        ids.SEG_MAP_NOTE,
    )
    dash_duo.driver.save_screenshot(str(tmp_path / f"segmentation-{width}.png"))
    assert dash_duo.get_logs() == []
