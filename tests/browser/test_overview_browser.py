"""The main screen in headless Chromium: every filter changes map, KPIs and charts."""

import time

import pytest
from selenium.webdriver.common.keys import Keys

from dashapp import create_app, ids
from dashapp.config import Config
from layouts.maps import N_OVERLAYS, overlay_index, site_index
from tests.auth_helpers import browser_sign_in
from tests.browser.maps import fitted, viewport
from tests.browser.waits import until

pytestmark = pytest.mark.browser

PLOT = "return document.querySelector('#{} .js-plotly-plot')?.data"


def _map(duo):
    return duo.driver.execute_script(PLOT.format(ids.MAP))


def _card(duo, kpi_id):
    element_id = f'{{"index":"{kpi_id}","type":"kpi-card-value"}}'
    return duo.driver.execute_script(
        "return document.getElementById(arguments[0])?.textContent", element_id
    )


def _area(level) -> str:
    """CSS selector of the area filter of ``level`` (a pattern-matching id)."""
    return f'[id=\'{{"index":{level},"type":"{ids.AREA}"}}\']'


MAP_LOADED = """
    const gd = document.querySelector('#overview-map .js-plotly-plot');
    const map = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot;
    return Boolean(map && map.map && map.map.loaded());"""


def _ready(duo):
    until(
        lambda: (
            _map(duo)
            and len(_map(duo)) == overlay_index(N_OVERLAYS - 1) + 1
            and _map(duo)[1].get("z")
        ),
        20,
    )
    # as a person would, wait for the map to finish drawing before using the filters
    until(lambda: duo.driver.execute_script(MAP_LOADED), 20)
    until(lambda: _card(duo, "requests") not in ("", "n.d.", "n/a"), 20)


def _scroll_to(duo, element_id):
    duo.driver.execute_script(
        "document.getElementById(arguments[0])"
        ".scrollIntoView({block: 'center', behavior: 'instant'})",
        element_id,
    )


def _series(duo):
    """The weekly series' traces, once scrolled to (it is drawn only then)."""
    _scroll_to(duo, ids.TIMESERIES)
    series = until(lambda: duo.driver.execute_script(PLOT.format(ids.TIMESERIES)), 20)
    duo.driver.execute_script("window.scrollTo({top: 0, behavior: 'instant'})")
    return series


# records the answers to Dash's callback requests: [output, HTTP status]
ANSWERS = """
window.__answers = [];
const fetched = window.fetch;
window.fetch = function (...args) {
  const url = String(args[0] && args[0].url || args[0]);
  if (!url.includes('_dash-update-component')) return fetched.apply(this, args);
  let output = '';
  try { output = JSON.parse(args[1].body).output; } catch (e) {}
  return fetched.apply(this, args).then(r => {
    window.__answers.push([output, r.status]);
    return r;
  });
};
"""


def _changes(duo, read, action, timeout=15):
    before = read()
    action()
    until(lambda: read() != before, timeout)
    return before, read()


# where the map's colour bars are drawn: [[top, bottom, left, right] of each
# whole bar, of its coloured strip and of its title], the map itself (MapLibre's
# area) and the whole graph, in px of the page
BARS = """
const gd = document.querySelector('#overview-map .js-plotly-plot');
const box = e => { const b = e.getBoundingClientRect();
                   return [b.top, b.bottom, b.left, b.right]; };
const map = gd && gd.querySelector('.maplibregl-map');
if (!map) return null;
const bars = [...gd.querySelectorAll('g.colorbar')].map(g => {
  const strip = g.querySelector('.cboutline'), title = g.querySelector('.cbtitle text');
  return strip && title ? [box(g), box(strip), box(title)] : null; });
return [bars, box(map), box(gd)];"""


def _mid(a, b):
    return (a + b) / 2


def _bars_outside_the_map(duo):
    """The two colour bars lie side by side under the map, inside the graph, each
    titled above its strip."""
    found = duo.driver.execute_script(BARS)
    if not found or len(found[0]) != 2 or None in found[0]:
        return False
    bars, (_, map_bottom, _, _), (_, graph_bottom, left, right) = found
    (_, _, l1, r1), (_, _, l2, r2) = sorted((b[0] for b in bars), key=lambda b: b[2])
    return (
        all(
            map_bottom <= top and bottom <= graph_bottom + 1
            for (top, bottom, _, _), _, _ in bars
        )
        and r1 < l2
        and left - 1 <= l1
        and r2 <= right + 1
        and all(
            _mid(t_top, t_bottom) < s_top and s_left < _mid(t_left, t_right) < s_right
            for _, (s_top, _, s_left, s_right), (t_top, t_bottom, t_left, t_right) in bars
        )
    )


def test_ovw001_main_screen_loads_offline_in_french(dash_duo, app):
    browser_sign_in(dash_duo, app)
    _ready(dash_duo)
    dash_duo.wait_for_contains_text("#synthetic-badge", "Données synthétiques")
    assert (
        dash_duo.find_element(f"#{ids.SCOPE_LABEL}").text == "Sélection : Tout le pays"
    )
    data = _map(dash_duo)
    assert (
        data[0]["type"] == "choroplethmap"
        and data[site_index()]["type"] == "scattermap"
    )
    # the colour bars (indicator, centers' utilisation) hide no part of the map,
    # in this window and in a narrower one
    until(lambda: _bars_outside_the_map(dash_duo), 20)
    dash_duo.driver.set_window_size(1280, 1100)
    until(lambda: _bars_outside_the_map(dash_duo), 20)
    dash_duo.driver.set_window_size(1500, 1200)
    # another indicator patches the map: its bar is retitled where it lies
    z = lambda: _map(dash_duo)[1]["z"]  # noqa: E731
    _changes(
        dash_duo, z, lambda: dash_duo.select_dcc_dropdown(f"#{ids.INDICATOR}", index=2)
    )
    until(lambda: _bars_outside_the_map(dash_duo), 20)
    assert len(_series(dash_duo)) == 3
    origins = dash_duo.driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    host = dash_duo.server_url
    assert origins and all(o.startswith(host) for o in origins), origins
    assert dash_duo.get_logs() == []


def test_ovw002_every_filter_updates_map_kpis_and_charts(dash_duo, app):
    browser_sign_in(dash_duo, app)
    _ready(dash_duo)
    z = lambda: _map(dash_duo)[1]["z"]  # noqa: E731
    n_locations = lambda: len(_map(dash_duo)[1]["locations"])  # noqa: E731
    _series(dash_duo)  # drawn once scrolled to; then follows every filter
    series = lambda: dash_duo.driver.execute_script(  # noqa: E731
        PLOT.format(ids.TIMESERIES)
    )
    capacity = lambda: dash_duo.driver.execute_script(  # noqa: E731
        PLOT.format(ids.CAPACITY_CHART)
    )[0]["y"]

    # indicator: map colours change, KPI cards stay
    _changes(
        dash_duo, z, lambda: dash_duo.select_dcc_dropdown(f"#{ids.INDICATOR}", index=2)
    )
    # level: the map switches to the departments' geometry
    before, after = _changes(
        dash_duo,
        n_locations,
        lambda: dash_duo.find_elements(f"#{ids.LEVEL} input")[1].click(),
    )
    assert after < before
    # document types: fewer requests, one line less
    _changes(
        dash_duo,
        lambda: _card(dash_duo, "requests"),
        lambda: dash_duo.find_elements(f"#{ids.DOC_TYPES} label")[0].click(),
    )
    until(lambda: len(series()) == 2, 10)
    # radius: population within X km changes
    thumb = dash_duo.find_element(f"#{ids.RADIUS} [role=slider]")

    def set_radius():
        thumb.send_keys(Keys.ARROW_RIGHT * 8)

    _changes(dash_duo, lambda: _card(dash_duo, "pop_within"), set_radius)
    # period: an earlier end date changes the requests and the series length
    end_input = dash_duo.find_element(".dash-datepicker-end-date")

    def set_end():
        end_input.send_keys(Keys.CONTROL, "a")
        end_input.send_keys("01/06/2026", Keys.ENTER)
        end_input.send_keys(Keys.ESCAPE)
        dash_duo.find_element(f"#{ids.SCOPE_LABEL}").click()

    _changes(dash_duo, lambda: len(series()[0]["x"]), set_end)
    # the area filters are the demo's levels, named as the dataset names them
    labels = dash_duo.find_elements(f"#{ids.AREAS} label")
    assert [e.text for e in labels] == ["Région", "Département"]
    # region: KPIs, map values, capacity chart and series are restricted
    _changes(
        dash_duo,
        capacity,
        lambda: dash_duo.select_dcc_dropdown(_area(0), index=0),
    )
    dash_duo.wait_for_contains_text(f"#{ids.SCOPE_LABEL}", "Sélection : ")
    assert "Tout le pays" not in dash_duo.find_element(f"#{ids.SCOPE_LABEL}").text
    assert any(v is None for v in z())
    # department (within the region)
    label = dash_duo.find_element(f"#{ids.SCOPE_LABEL}").text
    dash_duo.select_dcc_dropdown(_area(1), index=0)
    until(lambda: dash_duo.find_element(f"#{ids.SCOPE_LABEL}").text != label, 10)
    # reset
    dash_duo.find_element(f"#{ids.RESET}").click()
    dash_duo.wait_for_text_to_equal(f"#{ids.SCOPE_LABEL}", "Sélection : Tout le pays")
    assert dash_duo.get_logs() == []


def test_ovw008_weekly_series_drawn_once_scrolled_to(dash_duo, app):
    """The series below the map waits until the reader scrolls near it, so the
    map is drawn first; then it is drawn and follows the filters."""
    dash_duo.driver.execute_cdp_cmd(
        "Page.addScriptToEvaluateOnNewDocument", {"source": ANSWERS}
    )
    browser_sign_in(dash_duo, app)
    _ready(dash_duo)
    top = dash_duo.driver.execute_script(
        "return [document.getElementById(arguments[0]).getBoundingClientRect().top,"
        " window.innerHeight]",
        ids.TIMESERIES,
    )
    assert top[0] > top[1] + 300, top  # below the fold in this window
    # the series' first call has come back without a figure (204: no update)
    answers = lambda: dash_duo.driver.execute_script(  # noqa: E731
        "return window.__answers"
    )
    series_answers = lambda: [  # noqa: E731
        status for output, status in answers() or [] if output == ids.TIMESERIES + ".figure"
    ]
    assert until(series_answers, 20) == [204]
    assert not dash_duo.driver.execute_script(PLOT.format(ids.TIMESERIES))
    assert len(_series(dash_duo)) == 3
    # once drawn, a filter change redraws it (one document type less)
    dash_duo.find_elements(f"#{ids.DOC_TYPES} label")[0].click()
    until(
        lambda: len(dash_duo.driver.execute_script(PLOT.format(ids.TIMESERIES))) == 2,
        15,
    )
    # the page opened again in this browser (its scripts cached, so plotly loads
    # at once and replaces the graph's element): still drawn once scrolled to
    url = dash_duo.driver.current_url
    dash_duo.driver.get("about:blank")
    dash_duo.driver.get(url)
    _ready(dash_duo)
    assert _series(dash_duo)
    assert dash_duo.get_logs() == []


def _fitted(duo):
    return fitted(duo, f"#{ids.MAP}")


def test_ovw009_the_whole_country_shows_at_every_width(dash_duo, app):
    """The country fits the map in a 1280 px window, on a tablet and on a
    phone, also when the window is resized; a selected region fits too, and a
    view the user zoomed to is left alone."""
    browser_sign_in(dash_duo, app)
    viewport(dash_duo, 1280, 1000)
    dash_duo.driver.get(dash_duo.server_url + "/")
    _ready(dash_duo)
    found = until(lambda: _fitted(dash_duo), 20)
    country = found[3]
    for width, height in ((768, 1024), (390, 844)):
        viewport(dash_duo, width, height)
        before = found[1]
        # the map narrower (resized), and the country fitted to it again
        found = until(
            lambda: (f := _fitted(dash_duo)) and f[1] != before and f,  # noqa: B023
            20,
        )
        assert found[1] < width and found[3] == country
    # a region chosen in the filters: the map moves to it and fits it
    dash_duo.driver.get(dash_duo.server_url + "/?region=R02")
    _ready(dash_duo)
    found = until(lambda: _fitted(dash_duo), 20)
    assert found[1] <= 390 and found[3] != country
    # a zoom by the user (the mouse wheel) is kept over a filter change
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.actions.wheel_input import ScrollOrigin

    # the zoom plotly keeps in the layout once a move by the user has ended
    zoom = "return document.querySelector('#overview-map .js-plotly-plot')" \
        ".layout.map.zoom"  # fmt: skip
    fitted = dash_duo.driver.execute_script(zoom)
    _scroll_to(dash_duo, ids.MAP)
    canvas = dash_duo.find_element("#overview-map canvas")
    ActionChains(dash_duo.driver).scroll_from_origin(
        ScrollOrigin.from_element(canvas), 0, -200
    ).perform()
    zoomed = until(
        lambda: (z := dash_duo.driver.execute_script(zoom)) > fitted + 0.1
        and not _fitted(dash_duo)
        and z,
        10,
    )
    z = lambda: _map(dash_duo)[1]["z"]  # noqa: E731
    _scroll_to(dash_duo, ids.INDICATOR)
    _changes(
        dash_duo, z, lambda: dash_duo.select_dcc_dropdown(f"#{ids.INDICATOR}", index=2)
    )
    until(lambda: dash_duo.driver.execute_script(MAP_LOADED), 20)
    assert dash_duo.driver.execute_script(zoom) == pytest.approx(zoomed)
    assert dash_duo.get_logs() == []


def test_ovw003_clicking_a_unit_selects_and_zooms(dash_duo, app):
    browser_sign_in(dash_duo, app)
    _ready(dash_duo)
    zoom = lambda: dash_duo.driver.execute_script(  # noqa: E731
        "return document.querySelector('#overview-map .js-plotly-plot').layout.map.zoom"
    )
    before = zoom()
    # WebGL hit-testing is not reliable in headless software rendering, so the
    # click is emitted as plotly emits it, with a real point of the choropleth.
    dash_duo.driver.execute_script("""
        const gd = document.querySelector('#overview-map .js-plotly-plot');
        const i = 5;
        const point = {curveNumber: 1, pointNumber: i, pointIndex: i,
                       location: gd.data[1].locations[i], z: gd.data[1].z[i],
                       data: gd.data[1], fullData: gd._fullData[1]};
        gd.emit('plotly_click', {points: [point], event: {}});""")
    until(
        lambda: "Tout le pays" not in dash_duo.find_element(f"#{ids.SCOPE_LABEL}").text,
        10,
    )
    until(lambda: zoom() > before, 10)
    assert dash_duo.get_logs() == []


MAP_LAYER_IDS = """
    const gd = document.querySelector('#overview-map .js-plotly-plot');
    const map = gd._fullLayout.map._subplot.map;
    return map.getStyle().layers.map(l => l.id);"""


def test_ovw007_map_by_travel_time_with_roads_and_catchments(dash_duo, app):
    from selenium.webdriver.support.ui import Select

    browser_sign_in(dash_duo, app)
    _ready(dash_duo)
    roads, catchments = overlay_index(0), overlay_index(N_OVERLAYS - 1)
    assert _map(dash_duo)[roads]["lon"] == [None]
    before = _map(dash_duo)[1]["z"]
    Select(dash_duo.find_element(f"#{ids.MAP_ACCESS}")).select_by_value(
        "mean_minutes"
    )
    until(lambda: _map(dash_duo)[1]["z"] != before, 20)
    title = dash_duo.driver.execute_script(
        "return document.querySelector('#overview-map .js-plotly-plot')"
        ".data[1].colorbar.title.text"
    )
    assert title == "min"
    for value in ("roads", "catchments"):
        dash_duo.driver.execute_script(
            "document.querySelector('#' + arguments[0] + ' input[value=\"'"
            " + arguments[1] + '\"]').click()",
            ids.MAP_LAYERS,
            value,
        )
    until(lambda: len(_map(dash_duo)[catchments]["lon"]) > 100, 20)
    until(lambda: len(_map(dash_duo)[roads]["lon"]) > 10, 20)
    assert _map(dash_duo)[roads]["name"] == "Axe principal"
    until(lambda: dash_duo.driver.execute_script(MAP_LOADED), 20)
    # listed after the centers, drawn under them: below the first halo in MapLibre
    layers = dash_duo.driver.execute_script(MAP_LAYER_IDS)
    halo = next(i for i, name in enumerate(layers) if "site-halo-0" in name)
    uid = dash_duo.driver.execute_script(
        "return document.querySelector('#overview-map .js-plotly-plot')"
        "._fullData[arguments[0]].uid",
        roads,
    )
    road_layers = [i for i, name in enumerate(layers) if uid in name]
    assert road_layers and max(road_layers) < halo
    choropleth_uid = dash_duo.driver.execute_script(
        "return document.querySelector('#overview-map .js-plotly-plot')"
        "._fullData[1].uid"
    )
    fill = max(i for i, name in enumerate(layers) if choropleth_uid in name)
    assert fill < min(road_layers)  # and above the choropleth
    legend = dash_duo.driver.execute_script(
        "return [...document.querySelectorAll('#overview-map .legendtext')]"
        ".map(e => e.textContent)"
    )
    assert "Axe principal" in legend and any("bassins" in x for x in legend)
    # the legend sits above the map, its background over no part of it
    legend_bottom, map_top = dash_duo.driver.execute_script(
        "const gd = document.querySelector('#overview-map .js-plotly-plot');"
        "return [gd.querySelector('.legend .bg').getBoundingClientRect().bottom,"
        " gd.querySelector('.maplibregl-canvas').getBoundingClientRect().top]"
    )
    assert legend_bottom <= map_top + 1, (legend_bottom, map_top)
    # a walk in the rains leaves communes without a center: named, in orange
    dash_duo.driver.execute_script(
        "document.querySelector('#' + arguments[0] + ' input[value=\"walking|rainy\"]')"
        ".click()",
        ids.ROAD_MEASURE,
    )
    until(lambda: len(_map(dash_duo)[2]["locations"]) > 1, 20)
    assert "Aucun centre atteint" in dash_duo.driver.execute_script(
        "return document.querySelector('#overview-map').innerText"
    )
    assert dash_duo.get_logs() == []


def test_ovw004_language_switch_and_catalogue(dash_duo, app):
    browser_sign_in(dash_duo, app)
    _ready(dash_duo)
    dash_duo.find_element("#lang-en").click()
    dash_duo.wait_for_text_to_equal(f"#{ids.SCOPE_LABEL}", "Selection: Whole country")
    dash_duo.wait_for_contains_text("#synthetic-badge", "Synthetic demo data")
    dash_duo.find_element("a[href='/indicateurs']").click()
    dash_duo.wait_for_contains_text(f"#{ids.CATALOGUE_GRID}", "Rejection rate")
    assert "SELECT" in dash_duo.find_element(f"#{ids.CATALOGUE_GRID}").text
    dash_duo.find_element("#lang-fr").click()
    dash_duo.wait_for_contains_text(f"#{ids.CATALOGUE_GRID}", "Taux de rejet")
    assert dash_duo.get_logs() == []


def test_ovw005_invalid_url_filters_fall_back_with_a_message(dash_duo, app):
    browser_sign_in(dash_duo, app)
    dash_duo.driver.get(dash_duo.server_url + "/?region=R99&radius=abc&level=canton")
    _ready(dash_duo)
    dash_duo.wait_for_contains_text(f"#{ids.URL_MESSAGES}", "R99")
    text = dash_duo.find_element(f"#{ids.URL_MESSAGES}").text
    assert "abc" in text and "canton" in text
    assert (
        dash_duo.find_element(f"#{ids.SCOPE_LABEL}").text == "Sélection : Tout le pays"
    )
    time.sleep(0.5)
    assert dash_duo.get_logs() == []


@pytest.fixture
def flat_app(tmp_path):
    """A country of 6,000 communes and no level between them and the nation."""
    from data.store import Store
    from geo.access import nearest_center
    from tests.levels import flat_bundle

    store = Store(f"sqlite:///{tmp_path / 'dashapp.sqlite'}")
    store.upgrade()
    store.add_dataset(flat_bundle(6000), kind="imported", access=nearest_center)
    store.engine.dispose()
    return create_app(Config(data_dir=tmp_path), prepare_store=False)


def test_ovw006_a_flat_country_zooms_from_a_grid_to_its_communes(dash_duo, flat_app):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.actions.wheel_input import ScrollOrigin

    browser_sign_in(dash_duo, flat_app)
    until(lambda: _map(dash_duo) and _map(dash_duo)[1].get("z"), 20)
    until(lambda: dash_duo.driver.execute_script(MAP_LOADED), 20)
    locations = lambda: _map(dash_duo)[1]["locations"]  # noqa: E731
    assert all(c.startswith("grid:") for c in locations())
    # no level splits the country: no area filter, the country written as fixed
    assert dash_duo.find_element(f"#{ids.AREAS}").text == "Pays : Pays test"
    note = "#overview-map .annotation-text"
    dash_duo.wait_for_contains_text(note, "cases de 0,05°")
    # zoom in with the mouse wheel, as a person would, until communes are drawn
    canvas = dash_duo.find_element("#overview-map .maplibregl-canvas")
    for _ in range(12):
        if not locations()[0].startswith("grid:"):
            break
        ActionChains(dash_duo.driver).scroll_from_origin(
            ScrollOrigin.from_element(canvas), 0, -400
        ).perform()
        time.sleep(1.0)
    until(lambda: not locations()[0].startswith("grid:"), 15)
    assert 0 < len(locations()) <= 3000
    dash_duo.wait_for_contains_text(note, "unités de la zone visible")
    assert dash_duo.get_logs() == []


# the document's width and the window's: a phone zooms a page wider than itself
# out, so its window then reads as wide as the page; both must stay the phone's
PAGE_WIDTHS = "return [document.documentElement.scrollWidth, window.innerWidth]"

# the chosen value of a dcc.Dropdown (Dash 4): its text, and its full width
# against the width it is shown in
DROPDOWN_VALUE = """
const v = document.querySelector('#' + arguments[0] + ' .dash-dropdown-value');
return v && [v.innerText, v.scrollWidth, v.clientWidth];"""

SCENARIO_MAP_DRAWN = """
const gd = document.querySelector('#scn-map .js-plotly-plot');
return Boolean(gd && gd.data && gd.data.length)
  && !document.querySelector('[data-dash-is-loading="true"]');"""


def _fits_the_phone(duo, width: int = 390):
    """[document width, window width], once both are ``width`` at most (1 px
    rounding), the synthetic-data badge shown whole inside the window."""
    widths = duo.driver.execute_script(PAGE_WIDTHS)
    badge = duo.driver.execute_script(
        "const b = document.getElementById('synthetic-badge');"
        "return [b.getBoundingClientRect().right, b.scrollWidth, b.clientWidth];"
    )
    return (
        max(widths) <= width + 1
        and badge[0] <= width + 1
        and badge[1] <= badge[2] + 1
        and widths
    )


def test_ovw010_a_phone_never_scrolls_sideways_and_choices_read_whole(dash_duo, app):
    """On a 390 px phone the main and scenario screens fit the width (the header's
    synthetic-data badge wraps instead of pushing the page to 632 px); in a
    1280 px window the filter column's indicator shows its whole chosen value."""
    browser_sign_in(dash_duo, app)
    viewport(dash_duo, 390, 844)
    dash_duo.driver.get(dash_duo.server_url + "/")
    _ready(dash_duo)
    dash_duo.wait_for_contains_text("#synthetic-badge", "Données synthétiques")
    assert _fits_the_phone(dash_duo), dash_duo.driver.execute_script(PAGE_WIDTHS)
    # the header is still usable: help and sign-out inside the window
    for button in (f"#{ids.HELP_OPEN}", "#sign-out"):
        right = dash_duo.driver.execute_script(
            "return document.querySelector(arguments[0])"
            ".getBoundingClientRect().right",
            button,
        )
        assert right <= 391, (button, right)
    dash_duo.driver.get(dash_duo.server_url + "/scenarios")
    until(lambda: dash_duo.driver.execute_script(SCENARIO_MAP_DRAWN), 30)
    assert _fits_the_phone(dash_duo), dash_duo.driver.execute_script(PAGE_WIDTHS)
    # a 1280 px window: the chosen indicator is read whole, not "Demandes…"
    viewport(dash_duo, 1280, 1000)
    dash_duo.driver.get(dash_duo.server_url + "/")
    _ready(dash_duo)
    text, full, shown = dash_duo.driver.execute_script(DROPDOWN_VALUE, ids.INDICATOR)
    assert text == "Demandes pour 1 000 hab. (par an)"
    assert full <= shown + 1, (text, full, shown)
    assert dash_duo.get_logs() == []
