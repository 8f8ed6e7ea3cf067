"""The decision brief in headless Chromium: a viewer downloads the PDF of a region."""

import glob
import os
import subprocess

import pytest
from dash.testing.wait import until

from dashapp import ids
from tests.auth_helpers import browser_sign_in

pytestmark = pytest.mark.browser


def test_brf001_a_viewer_downloads_the_brief_of_a_region(dash_duo, app):
    browser_sign_in(dash_duo, app, role="viewer", path="/?region=R02")
    dash_duo.wait_for_contains_text(f"#{ids.SCOPE_LABEL}", "Sud")
    button = dash_duo.find_element(f"#{ids.brief('area', 'button')}")
    assert button.text == "Note de synthèse (PDF)"
    dash_duo.driver.execute_script("arguments[0].scrollIntoView()", button)
    button.click()
    until(lambda: glob.glob(os.path.join(dash_duo.download_path, "*.pdf")), 60)
    path = glob.glob(os.path.join(dash_duo.download_path, "*.pdf"))[0]
    assert os.path.basename(path).startswith("note-R02-")
    until(lambda: os.path.getsize(path) > 10_000, 10)  # written to the end
    text = subprocess.run(["pdftotext", path, "-"], check=True, capture_output=True,
                          text=True).stdout  # fmt: skip
    assert "Note de synthèse : Région Sud" in text and "Ce qu'il faut retenir" in text
    dash_duo.wait_for_text_to_equal(f"#{ids.brief('area', 'progress')}", "")
    assert not button.get_attribute("disabled")
    assert dash_duo.get_logs() == []
