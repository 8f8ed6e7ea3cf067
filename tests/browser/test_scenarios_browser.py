"""The scenario workspace in headless Chromium: choose, evaluate, run, read."""

import pytest
from selenium.webdriver.common.keys import Keys

from dashapp import ids, services
from layouts.maps import SITE_COLORS, site_index
from tests.auth_helpers import browser_sign_in
from tests.browser.maps import bars_below, fitted
from tests.browser.waits import until

pytestmark = pytest.mark.browser

INSTANT_ROW = (
    "return [...document.querySelectorAll('#scn-instant-kpis tr')]"
    ".map(r => r.innerText)"
)


def _open_with_map(dash_duo, app):
    """Sign in, open the scenarios screen, wait for its evaluation and its map."""
    browser_sign_in(dash_duo, app)
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


def test_scn001_lock_a_site_run_and_read_the_proposal(dash_duo, app):
    _open_with_map(dash_duo, app)
    before = dash_duo.driver.execute_script(INSTANT_ROW)
    # lock a candidate site open, as a click on its marker does: the candidate
    # farthest from every center (one under a center's marker selects the center)
    dash_duo.driver.execute_script(
        LOCK_FARTHEST_CANDIDATE,
        SITE_COLORS["existing"],
        SITE_COLORS["candidate"],
    )
    dash_duo.wait_for_contains_text(f"#{ids.SCN_SITES_LIST}", "verrouillé ouvert")
    until(lambda: dash_duo.driver.execute_script(INSTANT_ROW) != before, 10)
    dash_duo.find_element(f"#{ids.SCN_NEW}").clear()
    dash_duo.find_element(f"#{ids.SCN_NEW}").send_keys("2\n")
    _click(dash_duo, ids.SCN_RUN)
    dash_duo.wait_for_contains_text(
        f"#{ids.SCN_STATUS}", "optimal (prouvé)", timeout=60
    )
    dash_duo.wait_for_contains_text(f"#{ids.SCN_DELTAS}", "Proposition")
    dash_duo.wait_for_contains_text(f"#{ids.SCN_CENTERS_GRID}", "ouvert", timeout=20)
    dash_duo.wait_for_contains_text(f"#{ids.SCN_COMMUNES_GRID}", "Centre proposé")
    result_view = dash_duo.find_elements(f"#{ids.SCN_VIEW} input")[1]
    dash_duo.driver.execute_script("arguments[0].click();", result_view)
    until(
        lambda: (
            SITE_COLORS["opened"]
            in dash_duo.driver.execute_script(
                "return document.querySelector('#scn-map .js-plotly-plot')"
                ".data[4].marker.color.join(',')"
            )
        ),
        10,
    )
    assert dash_duo.get_logs() == []


def _scroll_to(duo, element_id):
    duo.driver.execute_script(
        "document.getElementById(arguments[0])"
        ".scrollIntoView({block: 'center', behavior: 'instant'})",
        element_id,
    )


def _click(duo, element_id):
    duo.driver.execute_script(
        "const e = document.getElementById(arguments[0]);"
        "e.scrollIntoView({block: 'center'}); e.click();",
        element_id,
    )


def _run_and_wait(duo, previous=""):
    _click(duo, ids.SCN_RUN)
    until(lambda: duo.find_element(f"#{ids.SCN_STATUS}").text not in ("", previous), 60)
    return duo.find_element(f"#{ids.SCN_STATUS}").text


def test_scn002_save_reload_reopen_compare_and_export(dash_duo, app, tmp_path):
    import glob
    import os
    import time

    import openpyxl

    browser_sign_in(dash_duo, app)
    dash_duo.driver.get(dash_duo.server_url + "/scenarios")
    dash_duo.wait_for_contains_text(
        f"#{ids.SCN_INSTANT}", "Centres ouverts", timeout=20
    )
    assert dash_duo.find_element(f"#{ids.SCN_LIBRARY_MSG}").text == ""
    # the map's colour bar lies under it, and the whole country shows
    until(lambda: bars_below(dash_duo, f"#{ids.SCN_MAP}", 1), 20)
    until(lambda: fitted(dash_duo, f"#{ids.SCN_MAP}"), 20)
    first = _run_and_wait(dash_duo)
    assert "optimal" in first
    dash_duo.find_element(f"#{ids.SCN_NAME}").send_keys("Plan A")
    dash_duo.find_element(f"#{ids.SCN_AUTHOR}").send_keys("Awa")
    _click(dash_duo, ids.SCN_SAVE)
    dash_duo.wait_for_contains_text(f"#{ids.SCN_LIBRARY_MSG}", "Plan A")
    link = dash_duo.find_element("#scn-share-link").get_attribute("href")
    # reload through the share link: the scenario reopens with its result
    dash_duo.driver.get(link)
    dash_duo.wait_for_contains_text(f"#{ids.SCN_DELTAS}", "Proposition", timeout=20)
    assert dash_duo.find_element(f"#{ids.SCN_LIBRARY_MSG}").text == ""
    # a second scenario with more centers, then compare the two
    radius = dash_duo.find_element(f"#{ids.SCN_NEW}")
    radius.clear()
    radius.send_keys("6\n")
    time.sleep(0.5)
    _run_and_wait(dash_duo, previous="")
    dash_duo.wait_for_contains_text(f"#{ids.SCN_SHARE}", "scenario=")
    _click(dash_duo, ids.SCN_COMPARE_PICK)
    until(lambda: len(dash_duo.find_elements(".dash-dropdown-option")) >= 2, 10)
    for option in dash_duo.find_elements(".dash-dropdown-option")[:2]:
        dash_duo.driver.execute_script("arguments[0].click();", option)
    until(
        lambda: (
            len(
                dash_duo.find_elements(
                    "#scn-compare-pick-value .dash-dropdown-value-item"
                )
            )
            == 2
        ),
        10,
    )
    dash_duo.find_element("body").send_keys(Keys.ESCAPE)
    _click(dash_duo, ids.SCN_COMPARE)
    dash_duo.wait_for_contains_text("#scn-compare-table", "★", timeout=20)
    # the small maps: one colour bar, under the last map; both maps one size
    small = f"#{ids.SCN_COMPARE_OUT} .dash-graph"
    until(lambda: len(dash_duo.find_elements(small)) == 2, 20)
    for k in range(2):
        dash_duo.driver.execute_script(
            "document.querySelectorAll(arguments[0])[arguments[1]].id = arguments[2];",
            small, k, f"scn-small-map-{k}",
        )  # fmt: skip
    until(lambda: bars_below(dash_duo, "#scn-small-map-0", 0), 20)
    last = until(lambda: bars_below(dash_duo, "#scn-small-map-1", 1), 20)
    plain = bars_below(dash_duo, "#scn-small-map-0", 0)
    height = lambda box: round(box[1] - box[0])  # noqa: E731
    assert height(plain[1]) == height(last[1])  # the maps (MapLibre's areas)
    assert height(plain[2]) < height(last[2])  # the graph with the bar, taller
    _scroll_to(dash_duo, "scn-small-map-0")
    dash_duo.driver.save_screenshot(str(tmp_path / "scn002-compare.png"))
    # the Excel export downloads a workbook with the four sheets
    _click(dash_duo, ids.SCN_EXPORT_XLSX)
    until(lambda: glob.glob(os.path.join(dash_duo.download_path, "*.xlsx")), 20)
    path = glob.glob(os.path.join(dash_duo.download_path, "*.xlsx"))[0]
    until(lambda: os.path.getsize(path) > 0, 10)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == [
        "parametres",
        "synthese",
        "centres",
        "communes",
        "sans_centre",
    ]
    assert book["communes"].max_row == 401
    assert dash_duo.get_logs() == []


def test_scn003_capacitated_run_keeps_every_center_within_capacity(dash_duo, app):
    browser_sign_in(dash_duo, app)
    dash_duo.driver.get(dash_duo.server_url + "/scenarios")
    dash_duo.wait_for_contains_text(
        f"#{ids.SCN_INSTANT}", "Centres ouverts", timeout=20
    )
    _click(dash_duo, ids.SCN_CAPACITATED)
    # the run reads the switch's value: wait until the page holds it, so a run
    # cannot start from the uncapacitated default (whose plan overloads centers)
    until(lambda: dash_duo.find_element(f"#{ids.SCN_CAPACITATED}").is_selected(), 10)
    status = _run_and_wait(dash_duo)
    # the status says which run this is: capacities respected, and proven optimal
    assert "optimal (prouvé)" in status and "capacités respectées" in status
    dash_duo.wait_for_contains_text(f"#{ids.SCN_CENTERS_GRID}", "ouvert", timeout=20)
    # Every center of the proposal is within its capacity: the grid's
    # utilisation column never exceeds 100%.
    rows = dash_duo.driver.execute_script(
        "const out = []; dash_ag_grid.getApi(arguments[0]).forEachNode("
        "n => out.push([n.data.status, n.data.utilisation_pct])); return out;",
        ids.SCN_CENTERS_GRID + "-table",
    )
    used = [u for status, u in rows if u is not None]
    assert len(rows) >= 50 and used and max(used) <= 100.0
    assert dash_duo.get_logs() == []



def test_scn004_travel_time_measure_runs_saves_and_reopens(dash_duo, app, tmp_path):
    browser_sign_in(dash_duo, app)
    dash_duo.driver.get(dash_duo.server_url + "/scenarios")
    dash_duo.wait_for_contains_text(
        f"#{ids.SCN_INSTANT}", "Distance moyenne", timeout=20
    )
    assert dash_duo.find_element(f"#{ids.SCN_RADIUS_LABEL}").text == "Rayon R (km)"
    # the demo has roads: every measure is offered; pick motorised, dry season
    radios = dash_duo.find_elements(f"#{ids.SCN_MEASURE} input")
    assert len(radios) == 5 and not any(r.get_attribute("disabled") for r in radios)
    dash_duo.driver.execute_script("arguments[0].click();", radios[1])
    dash_duo.wait_for_text_to_equal(f"#{ids.SCN_RADIUS_LABEL}", "Rayon R (min)")
    dash_duo.wait_for_contains_text(f"#{ids.SCN_MAP_LEGEND}", "temps de trajet")
    dash_duo.wait_for_contains_text(f"#{ids.SCN_INSTANT}", "Temps de trajet moyen")
    dash_duo.wait_for_contains_text(
        f"#{ids.SCN_INSTANT}", "Mesure : Temps de trajet motorisé, saison sèche (min)"
    )
    assert "Population à moins de 60 min" in dash_duo.find_element(
        f"#{ids.SCN_INSTANT}"
    ).text
    # the map's colour bar says minutes
    until(
        lambda: dash_duo.driver.execute_script(
            "const gd = document.querySelector('#scn-map .js-plotly-plot');"
            "return gd && gd.data.some(d => d.colorbar && d.colorbar.title"
            " && d.colorbar.title.text === 'min');"
        ),
        20,
    )
    radius = dash_duo.find_element(f"#{ids.SCN_RADIUS}")
    radius.clear()
    radius.send_keys("45\n")
    dash_duo.wait_for_contains_text(f"#{ids.SCN_INSTANT}", "Demande à moins de R min")
    dash_duo.driver.save_screenshot(str(tmp_path / "scn004-minutes.png"))
    status = _run_and_wait(dash_duo)
    assert "optimal" in status and "dem./sem.·min" in status
    dash_duo.wait_for_contains_text(
        f"#{ids.SCN_DELTAS}", "Temps de trajet motorisé, saison sèche (min)"
    )
    dash_duo.wait_for_contains_text(
        f"#{ids.SCN_COMMUNES_GRID}", "Temps de trajet proposé (min)", timeout=20
    )
    # reopening the saved run restores its measure (and the radius in minutes)
    dash_duo.wait_for_contains_text(f"#{ids.SCN_SHARE}", "scenario=")
    link = dash_duo.find_element("#scn-share-link").get_attribute("href")
    dash_duo.driver.get(link)
    dash_duo.wait_for_contains_text(f"#{ids.SCN_DELTAS}", "Proposition", timeout=20)
    until(lambda: dash_duo.find_elements(f"#{ids.SCN_MEASURE} input")[1].is_selected())
    assert dash_duo.find_element(f"#{ids.SCN_RADIUS_LABEL}").text == "Rayon R (min)"
    assert dash_duo.find_element(f"#{ids.SCN_RADIUS}").get_attribute("value") == "45"
    dash_duo.driver.save_screenshot(str(tmp_path / "scn004-reopened.png"))
    assert dash_duo.get_logs() == []


assert site_index() == 4  # the site layer the scripts above read (gd.data[4])



# the map's site layer and the zooms it shows: [lon, lat, ids, colours, MapLibre's
# zoom, the zoom the server drew for its nominal 700 px map]
SITES_AND_ZOOMS = """
const gd = document.querySelector('#scn-map .js-plotly-plot');
const d = gd.data[arguments[0]], map = gd._fullLayout.map._subplot.map;
return [d.lon, d.lat, d.ids, d.marker.color, map.getZoom(),
        gd.layout.meta.mapfit.view.zoom];"""


def _fitted_sites(duo):
    duo.driver.get(duo.server_url + "/scenarios")
    duo.wait_for_contains_text(f"#{ids.SCN_INSTANT}", "Centres ouverts", timeout=20)
    until(lambda: fitted(duo, f"#{ids.SCN_MAP}"), 20)
    return duo.driver.execute_script(SITES_AND_ZOOMS, site_index())


def _candidate_between(app, lon, lat, zooms):
    """A new candidate site beside the center at ``lon``, ``lat``: its marker
    overlaps the center's at the lower of ``zooms`` and lies apart at the higher
    (callbacks.scenarios.aimed_site's rule)."""
    import pandas as pd
    from shapely.geometry import Point

    from layouts.maps import HALO_PX, SITE_SIZES

    reach = max(SITE_SIZES["open"], SITE_SIZES["other"]) + HALO_PX  # px, diameter
    step = reach / 2 * 360.0 / (512.0 * 2.0 ** (sum(zooms) / 2))  # degrees
    config = app.server.config["DASHAPP"]
    dctx = services.context(config.database_url, None)
    communes = dctx.units_at(dctx.commune_level)
    for dlon in (step, -step):
        inside = communes[communes.contains(Point(lon + dlon, lat))]
        if len(inside):
            break
    site = {"code": "FIT01", "name": "Site de la largeur", "lon": lon + dlon,
            "lat": lat, "commune_id": int(inside["id"].iloc[0])}  # fmt: skip
    services.get_store(config.database_url).add_candidate_sites(
        dctx.info.id, pd.DataFrame([site])
    )
    return site


@pytest.mark.parametrize("width", [1280, 390])
def test_scn005_a_click_picks_the_site_at_the_zoom_the_fitted_map_shows(
    dash_duo, app, width, tmp_path
):
    """The map is fitted to its real width in the browser (assets/mapfit.js): a
    click on a candidate beside a center selects by the zoom the map shows (the
    center where their markers overlap there), not the nominal 700 px map's."""
    from tests.browser.maps import viewport

    viewport(dash_duo, width, 900)
    browser_sign_in(dash_duo, app)
    lon, lat, codes, colours, shown, nominal = _fitted_sites(dash_duo)
    # a fit of this width moves the zoom off the nominal map's by a visible step
    assert abs(shown - nominal) > 0.1, (shown, nominal)
    # the center farthest from any other site: no third marker near the two
    center = max(
        (j for j, c in enumerate(colours) if c == SITE_COLORS["existing"]),
        key=lambda j: min(
            abs(lon[j] - lon[o]) + abs(lat[j] - lat[o])
            for o in range(len(lon)) if o != j
        ),
    )  # fmt: skip
    site = _candidate_between(app, lon[center], lat[center], (shown, nominal))
    center = codes[center]
    lon, lat, codes, colours, again, _ = _fitted_sites(dash_duo)
    assert abs(again - shown) < 0.01
    k = codes.index("FIT01")
    dash_duo.driver.execute_script(
        """
        const gd = document.querySelector('#scn-map .js-plotly-plot');
        const i = arguments[1], k = arguments[0];
        gd.emit('plotly_click', {points: [{curveNumber: k, pointNumber: i,
            pointIndex: i, id: gd.data[k].ids[i], data: gd.data[k],
            fullData: gd._fullData[k]}], event: {}});""",
        site_index(),
        k,
    )
    config = app.server.config["DASHAPP"]
    names = services.workspace(config.database_url, None).names()
    # a narrower map shows less zoomed in: the markers overlap, the center is
    # picked; a wider one shows them apart, the candidate is picked
    want, other = (center, site["code"])
    if shown > nominal:
        want, other = other, want
    dash_duo.wait_for_contains_text(
        f"#{ids.SCN_SITES_LIST}", f"{names[want]} · verrouillé ouvert"
    )
    assert names[other] not in dash_duo.find_element(f"#{ids.SCN_SITES_LIST}").text
    dash_duo.driver.save_screenshot(str(tmp_path / f"scenario-map-{width}.png"))
    assert dash_duo.get_logs() == []


# the Graph's relayoutData as Dash holds it (what a callback reads), and the view
# MapLibre shows: [zoom, [lon, lat] of the centre, corners of the canvas (NW, NE,
# SE, SW), canvas width]
RELAYOUT = (
    "return window.dash_component_api.getLayout(arguments[0]).props.relayoutData;"
)
SHOWN = """
const gd = document.querySelector(arguments[0] + ' .js-plotly-plot');
const map = gd._fullLayout.map._subplot.map, c = map.getCenter();
const w = map.getCanvas().clientWidth, h = map.getCanvas().clientHeight;
const corners = [[0, 0], [w, 0], [w, h], [0, h]].map(p => map.unproject(p).toArray());
return [map.getZoom(), [c.lng, c.lat], corners, w];"""


def _flat(corners) -> list[float]:
    return [v for corner in corners for v in corner]


def test_scn006_a_resize_keeps_the_view_the_user_moved_to_in_relayout_data(
    dash_duo, app, tmp_path
):
    """After the user zoomed and panned the map, a resized window leaves the
    view where they put it, and the Graph's relayoutData tells that view (the
    resized map's corners, the user's zoom): a click then picks at that zoom
    (layouts.maps.shown_zoom), not at the first view's."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.actions.wheel_input import ScrollOrigin

    from callbacks.scenarios import map_area_view
    from layouts.maps import shown_zoom
    from tests.browser.maps import viewport

    viewport(dash_duo, 1280, 900)
    browser_sign_in(dash_duo, app)
    dash_duo.driver.get(dash_duo.server_url + "/scenarios")
    dash_duo.wait_for_contains_text(
        f"#{ids.SCN_INSTANT}", "Centres ouverts", timeout=20
    )
    until(lambda: fitted(dash_duo, f"#{ids.SCN_MAP}"), 20)
    relayout = lambda: dash_duo.driver.execute_script(RELAYOUT, ids.SCN_MAP)  # noqa: E731
    shown = lambda: dash_duo.driver.execute_script(SHOWN, f"#{ids.SCN_MAP}")  # noqa: E731
    # the view the server drew first (the country at 700 px), which a click
    # reads when relayoutData tells no view
    config = app.server.config["DASHAPP"]
    first = map_area_view(services.context(config.database_url, None), None)
    # as a user: the mouse wheel zooms in, a step at a time, well past the
    # first view; then a drag pans
    _scroll_to(dash_duo, ids.SCN_MAP)
    canvas = dash_duo.find_element(f"#{ids.SCN_MAP} canvas")
    zoomed = lambda: (relayout() or {}).get("map.zoom", 0)  # noqa: E731
    for _ in range(5):
        step = zoomed()
        if step > first["zoom"] + 0.5:
            break
        ActionChains(dash_duo.driver).scroll_from_origin(
            ScrollOrigin.from_element(canvas), 0, -300
        ).perform()
        until(lambda: zoomed() > step + 0.05, 10)  # noqa: B023
    assert zoomed() > first["zoom"] + 0.5
    before = relayout()
    drag = ActionChains(dash_duo.driver).move_to_element(canvas).click_and_hold()
    drag.move_by_offset(120, 60).release().perform()
    until(lambda: relayout()["map.center"] != before["map.center"], 10)
    zoom, center, corners, width = until(
        lambda: (s := shown()) and s[0] == relayout()["map.zoom"] and s, 10
    )
    assert _flat(relayout()["map._derived"]["coordinates"]) == pytest.approx(
        _flat(corners)
    )
    # the window narrower: the map (its column) changes width, not its centre
    viewport(dash_duo, 900, 900)
    until(lambda: abs(shown()[3] - width) > 50, 20)

    def told():
        """relayoutData once it tells the view the resized map shows."""
        now, r = shown(), relayout()
        r = r or {}
        corners = _flat((r.get("map._derived") or {}).get("coordinates") or [])
        near = corners == pytest.approx(_flat(now[2]), abs=1e-6)
        return r.get("map.zoom") == now[0] and near and r

    resized = until(told, 20)
    # the user's view, never moved: the same zoom and centre as before the resize
    zoom_now, center_now, corners_now, _ = shown()
    assert zoom_now == pytest.approx(zoom, abs=1e-9)
    assert center_now == pytest.approx(center, abs=1e-9)
    assert _flat(corners_now) != pytest.approx(_flat(corners))
    assert shown_zoom(resized, first) == pytest.approx(zoom)
    _scroll_to(dash_duo, ids.SCN_MAP)
    dash_duo.driver.save_screenshot(str(tmp_path / "scn006-resized.png"))
    assert dash_duo.get_logs() == []


# every text a box of the page takes, in order, from the moment it is watched
WATCH = """
window.__seen = window.__seen || {};
for (const id of arguments[0]) {
    const box = document.getElementById(id), seen = window.__seen[id] = [];
    const note = () => {
        const text = box.innerText.trim();
        if (seen[seen.length - 1] !== text) seen.push(text);
    };
    note();
    new MutationObserver(note).observe(
        box, {childList: true, subtree: true, characterData: true});
}
"""


def _type(duo, element_id, value):
    box = duo.find_element(f"#{element_id}")
    box.clear()
    box.send_keys(f"{value}\n")  # the field sends its value on Enter (debounce)


def test_scn007_a_run_starts_at_once_and_a_cancelled_one_says_so(
    dash_duo, app, tmp_path
):
    # the walk-through: after Lancer the old status stayed and nothing but a grey
    # button showed for 7 to 11 s; after Annuler the progress line and the old
    # status stayed for ever, without a word of the cancellation
    from data.scenarios import list_scenarios

    store = services.get_store(app.server.config["DASHAPP"].database_url)
    browser_sign_in(dash_duo, app)
    dash_duo.driver.get(dash_duo.server_url + "/scenarios")
    dash_duo.wait_for_contains_text(
        f"#{ids.SCN_INSTANT}", "Centres ouverts", timeout=20
    )
    assert "optimal" in _run_and_wait(dash_duo)  # a status the next run must clear
    saved = len(list_scenarios(store))
    # a plan the solver works on for long: 15 new centers, capacities 30 % lower
    # and respected, closures allowed, 600 s
    before = dash_duo.driver.execute_script(INSTANT_ROW)
    for field, value in ((ids.SCN_NEW, 15), (ids.SCN_TIME_LIMIT, 600),
                         (ids.SCN_CAPACITY, -30)):  # fmt: skip
        _type(dash_duo, field, value)
    for switch in (ids.SCN_CAPACITATED, ids.SCN_CLOSURES):
        _click(dash_duo, switch)
        until(lambda s=switch: dash_duo.find_element(f"#{s}").is_selected(), 10)
    until(lambda: dash_duo.driver.execute_script(INSTANT_ROW) != before, 20)
    dash_duo.driver.execute_script(WATCH, [ids.SCN_PROGRESS, ids.SCN_STATUS])
    _click(dash_duo, ids.SCN_RUN)

    def seen(box):
        return dash_duo.driver.execute_script("return window.__seen[arguments[0]]", box)

    # the job's first progress line, once its solver runs
    until(lambda: seen(ids.SCN_PROGRESS)[-1].startswith("Optimisation en cours"), 60)
    # before it, at once: the old status gone and "Démarrage…"
    assert seen(ids.SCN_PROGRESS)[:2] == ["", "Démarrage…"], seen(ids.SCN_PROGRESS)
    assert seen(ids.SCN_STATUS)[1:] == [""], seen(ids.SCN_STATUS)
    _click(dash_duo, ids.SCN_CANCEL)
    dash_duo.wait_for_contains_text(f"#{ids.SCN_STATUS}", "Optimisation annulée")
    # the job is over (its last answer gives Lancer back): no progress line left
    until(lambda: dash_duo.find_element(f"#{ids.SCN_RUN}").is_enabled(), 60)
    assert dash_duo.find_element(f"#{ids.SCN_PROGRESS}").text == ""
    assert dash_duo.find_element(f"#{ids.SCN_STATUS}").text == (
        "Optimisation annulée : rien n'a été enregistré."
    )
    assert not dash_duo.find_element(f"#{ids.SCN_CANCEL}").is_enabled()
    assert len(list_scenarios(store)) == saved
    _scroll_to(dash_duo, ids.SCN_STATUS)
    dash_duo.driver.save_screenshot(str(tmp_path / "scn007-cancelled.png"))
    assert dash_duo.get_logs() == []


LOCK_FARTHEST_CANDIDATE = """
const gd = document.querySelector('#scn-map .js-plotly-plot');
const d = gd.data[4], ex = [], cand = [];
d.marker.color.forEach((c, k) => {
    if (c === arguments[0]) ex.push(k);
    if (c === arguments[1]) cand.push(k);
});
let i = cand[0], far = -1;
for (const k of cand) {
    const near = Math.min(...ex.map(
        e => Math.hypot(d.lon[k] - d.lon[e], d.lat[k] - d.lat[e])));
    if (near > far) { far = near; i = k; }
}
gd.emit('plotly_click', {points: [{curveNumber: 4, pointNumber: i,
    pointIndex: i, id: gd.data[4].ids[i], data: gd.data[4],
    fullData: gd._fullData[4]}], event: {}});
"""


def test_scn008_a_curve_with_a_site_locked_open_is_drawn(dash_duo, app, tmp_path):
    # the walk-through: with a site locked open the curve's job failed on its
    # first plan (the locked site was counted among the added ones) and the
    # page said "Calcul : 0 / 4" for ever; the curve is drawn now
    _open_with_map(dash_duo, app)
    dash_duo.driver.execute_script(
        LOCK_FARTHEST_CANDIDATE, SITE_COLORS["existing"], SITE_COLORS["candidate"]
    )
    dash_duo.wait_for_contains_text(f"#{ids.SCN_SITES_LIST}", "verrouillé ouvert")
    _type(dash_duo, ids.SCN_CURVE_MAX, 2)
    _click(dash_duo, ids.SCN_CURVE_RUN)
    points = (
        f"const gd = document.querySelector('#{ids.SCN_CURVE} .js-plotly-plot');"
        "return gd && gd.data && gd.data.length ? gd.data[0].x.length : 0;"
    )
    until(lambda: dash_duo.driver.execute_script(points) == 3, 120)
    said = dash_duo.find_element(f"#{ids.SCN_CURVE_PROGRESS}").text
    assert "Pas de courbe" not in said and "The plan is" not in said, said
    until(lambda: dash_duo.find_element(f"#{ids.SCN_CURVE_RUN}").is_enabled(), 30)
    _scroll_to(dash_duo, ids.SCN_CURVE)
    dash_duo.driver.save_screenshot(str(tmp_path / "scn008-curve.png"))
    assert dash_duo.get_logs() == []


def test_scn009_a_curve_of_an_unusable_panel_says_which_field(dash_duo, app):
    # the job said why in its progress line and returned no_update: Dash answered
    # 204, which drops that line, and the page showed nothing
    browser_sign_in(dash_duo, app)
    dash_duo.driver.get(dash_duo.server_url + "/scenarios")
    dash_duo.wait_for_contains_text(
        f"#{ids.SCN_INSTANT}", "Centres ouverts", timeout=20
    )
    _type(dash_duo, ids.SCN_NEW, -4)
    dash_duo.wait_for_contains_text(f"#{ids.SCN_MESSAGES}", "Nouveaux centres")
    _click(dash_duo, ids.SCN_CURVE_RUN)
    # (the browser sends no value for a number below the field's minimum)
    dash_duo.wait_for_contains_text(
        f"#{ids.SCN_CURVE_PROGRESS}", "Nouveaux centres : valeur vide ou illisible"
    )
    assert "Rien n'a été calculé" in dash_duo.find_element(
        f"#{ids.SCN_CURVE_PROGRESS}"
    ).text
    dash_duo.wait_for_contains_text(f"#{ids.SCN_CURVE}", "Pas de courbe")
    assert dash_duo.get_logs() == []
