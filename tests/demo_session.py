"""The demo country, a throw-away account on it and a headless Chromium signed in.

What ``scripts/screenshot.py`` (the README's picture) and ``bench/bench_screens.py``
(where users wait) share: a data folder holding the demo store and one user made
for the run, a Chromium drawing MapLibre's WebGL in software (SwiftShader: no GPU
here) with a script of the caller's installed before any page script, and the
sign-in form filled in. Like ``tests/chromium.py`` beside it, it lives with the
tests and imports the app (never from ``data/``, ``geo/`` or ``optimization/``).
"""

from __future__ import annotations

import time
from pathlib import Path

#: software WebGL, so that MapLibre draws in a headless Chromium without a GPU
SOFTWARE_GL = ("--enable-unsafe-swiftshader", "--use-angle=swiftshader")


def until(condition, what: str, timeout: float, step: float = 0.1):
    """``condition()``'s first true value, asked every ``step`` s; a
    ``RuntimeError`` naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise RuntimeError(f"timed out after {timeout} s waiting for {what}")


def demo_store(folder: Path, user: str, password: str, role: str) -> Path:
    """The demo country generated into ``folder`` (an empty one) with ``user``
    of ``role`` signed in by ``password`` (no change asked); the store's file."""
    from dashapp import services
    from dashapp.bootstrap import ensure_store
    from dashapp.config import Config
    from data import users

    config = Config(data_dir=folder)
    store = services.get_store(config.database_url)
    ensure_store(store)
    users.create_user(store, user, password, role, must_change_password=False)
    store.engine.dispose()  # the file may be copied or served by another process
    return folder / "dashapp.sqlite"


def chromium(
    hook: str | None = None,
    *,
    width: int | None = None,
    height: int | None = None,
    extra_args: tuple[str, ...] = (),
):
    """Headless Chromium drawing WebGL in software, running ``hook`` (a script)
    before any page script; with ``width`` and ``height``, the page exactly that
    size (a window has a minimum width, about 500 px), as on a phone below 600 px."""
    from selenium import webdriver

    from tests.chromium import chromium_options

    options = chromium_options(*([f"{width},{height}"] if width else []))
    for arg in (*SOFTWARE_GL, *extra_args):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options)
    if hook:
        driver.execute_cdp_cmd(
            "Page.addScriptToEvaluateOnNewDocument", {"source": hook}
        )
    if width:
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1,
             "mobile": width < 600},
        )  # fmt: skip
    return driver


def sign_in(driver, url: str, user: str, password: str, timeout: float) -> None:
    """Sign in on ``url``'s form; back once the app's page has started."""
    driver.get(url + "/login")
    driver.find_element("id", "username").send_keys(user)
    driver.find_element("id", "password").send_keys(password)
    driver.find_element("id", "auth-submit").click()
    until(
        lambda: driver.execute_script(
            "return !!document.getElementById('react-entry-point')"
        ),
        "the app after sign-in",
        timeout,
        step=0.05,
    )
