"""The scenario workspace in headless Chromium: choose, evaluate, run, read."""

import pytest
from dash.testing.wait import until

from dashapp import create_app, ids
from dashapp.config import Config

pytestmark = pytest.mark.browser

INSTANT_ROW = (
    "return [...document.querySelectorAll('#scn-instant-kpis tr')]"
    ".map(r => r.innerText)"
)


@pytest.fixture
def app(demo_copy):
    return create_app(Config(data_dir=demo_copy))


def test_scn001_lock_a_site_run_and_read_the_proposal(dash_duo, app):
    dash_duo.start_server(app)
    dash_duo.driver.get(dash_duo.server_url + "/scenarios")
    dash_duo.wait_for_contains_text(
        f"#{ids.SCN_INSTANT}", "Centres ouverts", timeout=20
    )
    until(
        lambda: dash_duo.driver.execute_script(
            "const gd = document.querySelector('#scn-map .js-plotly-plot');"
            "return Boolean(gd && gd._fullLayout && gd._fullLayout.map"
            " && gd._fullLayout.map._subplot.map.loaded());"
        ),
        20,
    )
    before = dash_duo.driver.execute_script(INSTANT_ROW)
    # lock a candidate site open, as a click on its marker does
    dash_duo.driver.execute_script("""
        const gd = document.querySelector('#scn-map .js-plotly-plot');
        const i = 60;
        gd.emit('plotly_click', {points: [{curveNumber: 2, pointNumber: i,
            pointIndex: i, id: gd.data[2].ids[i], data: gd.data[2],
            fullData: gd._fullData[2]}], event: {}});""")
    dash_duo.wait_for_contains_text(f"#{ids.SCN_SITES_LIST}", "verrouillé ouvert")
    until(lambda: dash_duo.driver.execute_script(INSTANT_ROW) != before, 10)
    dash_duo.find_element(f"#{ids.SCN_NEW}").clear()
    dash_duo.find_element(f"#{ids.SCN_NEW}").send_keys("2\n")
    dash_duo.find_element(f"#{ids.SCN_RUN}").click()
    dash_duo.wait_for_contains_text(
        f"#{ids.SCN_STATUS}", "optimal (prouvé)", timeout=60
    )
    dash_duo.wait_for_contains_text(f"#{ids.SCN_DELTAS}", "Proposition")
    dash_duo.wait_for_contains_text(f"#{ids.SCN_CENTERS_GRID}", "ouvert", timeout=20)
    dash_duo.wait_for_contains_text(f"#{ids.SCN_COMMUNES_GRID}", "Centre proposé")
    dash_duo.find_elements(f"#{ids.SCN_VIEW} input")[1].click()
    until(
        lambda: (
            "#1a9850"
            in dash_duo.driver.execute_script(
                "return document.querySelector('#scn-map .js-plotly-plot')"
                ".data[2].marker.color.join(',')"
            )
        ),
        10,
    )
    assert dash_duo.get_logs() == []
