"""Headless Debian Chromium options, shared by the browser tests and the benchmarks.

No tool downloads a browser: Debian's ``chromium`` and ``chromium-driver`` are used
(``DASHAPP_CHROMIUM`` points elsewhere if needed).
"""

from __future__ import annotations

import os
from pathlib import Path

from selenium.webdriver.chrome.options import Options

CHROMIUM = os.environ.get("DASHAPP_CHROMIUM", "/usr/bin/chromium")
ARGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
)


def chromium_options(window: str = "1500,1200") -> Options:
    """Options for a headless Chromium; fails clearly when it is not installed."""
    if not Path(CHROMIUM).exists():
        raise RuntimeError(
            f"Chromium not found at {CHROMIUM}: install Debian's chromium and "
            "chromium-driver (see README)"
        )
    options = Options()
    options.binary_location = CHROMIUM
    for arg in (*ARGS, f"--window-size={window}"):
        options.add_argument(arg)
    return options
