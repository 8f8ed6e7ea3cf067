"""Help and the French interface in headless Chromium: the guide, the glossary,
French months on a chart's axis and in the date picker, a French grid pagination,
and no Plotly logo or cloud button."""

import os

import pytest

from dashapp import ids
from tests.auth_helpers import browser_sign_in
from tests.browser.waits import until

pytestmark = pytest.mark.browser

FRENCH_MONTHS = ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août",
                 "sept.", "oct.", "nov.", "déc.")  # fmt: skip
SCREENSHOTS = os.environ.get("DASHAPP_SCREENSHOTS")  # a folder, to look at them


def _shot(duo, name: str) -> None:
    if SCREENSHOTS:
        duo.driver.save_screenshot(os.path.join(SCREENSHOTS, f"{name}.png"))


def _js(duo, script: str, *args):
    return duo.driver.execute_script(script, *args)


def _series_ticks(duo):
    """The weekly series' date ticks: it is drawn once scrolled to, so keep it in
    view (the cards above it arriving push it down), then back to the top."""

    def ticks():
        _js(
            duo,
            "document.getElementById(arguments[0])"
            "?.scrollIntoView({block: 'center', behavior: 'instant'})",
            ids.TIMESERIES,
        )
        drawn = _js(
            duo,
            "return document.querySelector('#' + arguments[0] + ' .js-plotly-plot')"
            "?.data?.length",
            ids.TIMESERIES,
        )
        # before its figure comes, the empty graph has numeric ticks of its own
        return drawn and duo.find_elements(f"#{ids.TIMESERIES} .xtick text")

    found = until(ticks, 45)
    _js(duo, "window.scrollTo({top: 0, behavior: 'instant'})")
    return found


def test_hlp001_guide_glossary_and_french_charts_grids_dates(dash_duo, app):
    browser_sign_in(dash_duo, app)
    duo = dash_duo
    assert _js(duo, "return document.documentElement.lang") == "fr"
    # the first-use guide of the main screen, in three steps
    duo.wait_for_contains_text(f"#{ids.GUIDE_STEPS}", "Choisissez un indicateur")
    assert duo.find_element(f"#{ids.GUIDE}").is_displayed()
    assert "Pour commencer sur cet écran" in duo.find_element(f"#{ids.GUIDE}").text
    assert len(duo.find_elements(f"#{ids.GUIDE_STEPS} li")) == 3
    # the trend chart: French month names on its date axis, French tooltips,
    # and neither the Plotly logo nor a cloud button
    chart = f"#{ids.TIMESERIES}"
    _series_ticks(duo)  # drawn once scrolled to
    ticks = [e.text for e in duo.find_elements(f"{chart} .xtick text")]
    assert any(month in tick for tick in ticks for month in FRENCH_MONTHS), ticks
    titles = _js(
        duo,
        f"""return [...document.querySelectorAll('{chart} .modebar-btn')]
        .map(b => b.getAttribute('data-title'));""",
    )
    assert "Télécharger le graphique en PNG" in titles, titles
    assert not [t for t in titles if "Plotly" in (t or "") or "Share" in (t or "")]
    assert not duo.find_elements(".modebar-btn--logo")
    _shot(duo, "overview_fr")
    # the period's date picker: French month and day names
    duo.find_element(f"#{ids.PERIOD}-wrapper").click()
    until(lambda: duo.find_elements(".dash-datepicker-calendar, [role='dialog']"), 15)
    calendar = _js(duo, "return document.body.innerText")
    assert "lu" in calendar.split() and "di" in calendar.split(), calendar[-600:]
    assert any(m in calendar for m in ("janvier", "février", "mars", "avril", "mai",
                                       "juin", "juillet", "août", "septembre",
                                       "octobre", "novembre", "décembre"))  # fmt: skip
    labels = _js(
        duo,
        """return [...document.querySelectorAll(
        '.dash-datepicker-month-nav, .dash-datepicker-close-button')]
        .map(b => b.getAttribute('aria-label'));""",
    )
    assert "Mois précédent" in labels and "Previous month" not in labels, labels
    _shot(duo, "datepicker_fr")
    duo.find_element("body").click()
    # the help panel: the glossary
    duo.find_element(f"#{ids.HELP_OPEN}").click()
    duo.wait_for_contains_text(f"#{ids.HELP_PANEL}", "Glossaire")
    duo.wait_for_contains_text(f"#{ids.HELP_PANEL}", "Demande non servie")
    assert "hab.·km" in duo.find_element("#glossary-objective + dd").text
    _shot(duo, "glossary_fr")
    # the guide again from the panel, then dismissed: it stays hidden on reload
    duo.find_element(f"#{ids.HELP_AGAIN}").click()
    until(lambda: not duo.find_elements(f"#{ids.HELP_PANEL}.show"), 15)
    until(lambda: duo.find_element(f"#{ids.GUIDE}").is_displayed(), 15)
    duo.find_element(f"#{ids.GUIDE_DISMISS}").click()
    until(lambda: not duo.find_element(f"#{ids.GUIDE}").is_displayed(), 15)
    duo.driver.refresh()
    _series_ticks(duo)
    assert not duo.find_element(f"#{ids.GUIDE}").is_displayed()
    # the admin screen's audit grid: French pagination, actions named
    duo.wait_for_page(duo.server_url + "/admin")
    duo.wait_for_contains_text(".ag-paging-panel", "sur")
    paging = duo.find_element(".ag-paging-panel").text
    assert "Page" in paging and "Lignes par page" in paging, paging
    duo.wait_for_contains_text(f"#{ids.ADM_AUDIT}", "connexion")
    duo.wait_for_contains_text(f"#{ids.GUIDE_STEPS}", "Créez un compte")
    _shot(duo, "admin_fr")
    assert dash_duo.get_logs() == []


def _widths(duo):
    """[document width, window width]: a phone zooms a page wider than itself out,
    so its window then reads as wide as the page."""
    return _js(duo, "return [document.documentElement.scrollWidth, window.innerWidth]")


def test_hlp002_english_header_fits_a_phone_and_choices_read_whole(dash_duo, app):
    """In English too: on a 390 px phone the header's "Synthetic demo data" badge
    wraps inside the window (it pushed the page to 632 px), on the main and
    scenario screens; at 1280 px the chosen indicator is read whole."""
    from tests.browser.maps import viewport

    browser_sign_in(dash_duo, app)
    duo = dash_duo
    duo.find_element("#lang-en").click()
    duo.wait_for_contains_text("#synthetic-badge", "Synthetic demo data")
    viewport(duo, 390, 844)
    for path, ready in (("/", f"#{ids.SCOPE_LABEL}"), ("/scenarios", "#scn-map")):
        duo.driver.get(duo.server_url + path)
        duo.wait_for_element(ready)
        duo.wait_for_contains_text("#synthetic-badge", "Synthetic demo data")
        until(lambda: not duo.find_elements('[data-dash-is-loading="true"]'), 30)
        assert max(_widths(duo)) <= 391, (path, _widths(duo))
        badge = _js(
            duo,
            "const b = document.getElementById('synthetic-badge');"
            "return [b.getBoundingClientRect().right, b.scrollWidth, b.clientWidth];",
        )
        assert badge[0] <= 391 and badge[1] <= badge[2] + 1, (path, badge)
        _shot(duo, f"phone_{path.strip('/') or 'overview'}_en")
    viewport(duo, 1280, 1000)
    duo.driver.get(duo.server_url + "/")
    value = f"#{ids.INDICATOR} .dash-dropdown-value"
    duo.wait_for_text_to_equal(value, "Requests per 1,000 inhabitants (per year)")
    full, shown = _js(
        duo,
        "const v = document.querySelector(arguments[0]);"
        "return [v.scrollWidth, v.clientWidth];",
        value,
    )
    assert full <= shown + 1, (full, shown)
    assert dash_duo.get_logs() == []
