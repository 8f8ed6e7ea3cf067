"""Browser tests wait on conditions with a generous deadline.

Dash's ``dash_duo`` waits 10 s by default for an element or a text: on a busy
2-core machine (CI, or several suites at once) a sign-in hashing its password or
a first page building its figures can take longer, and a test fails though the
app is right. The same fixture, with a 45 s deadline: a wait still ends as soon
as its condition holds, so passing runs are as fast as before.
"""

from __future__ import annotations

import pytest
from dash.testing.composite import DashComposite

from dashapp import create_app
from dashapp.config import Config
from tests.browser.waits import WAIT_TIMEOUT


@pytest.fixture
def dash_duo(request, dash_thread_server, tmpdir):
    with DashComposite(
        server=dash_thread_server,
        browser=request.config.getoption("webdriver"),
        remote=request.config.getoption("remote"),
        remote_url=request.config.getoption("remote_url"),
        headless=request.config.getoption("headless"),
        options=request.config.hook.pytest_setup_options(),
        download_path=tmpdir.mkdir("download").strpath,
        percy_assets_root=request.config.getoption("percy_assets"),
        percy_finalize=request.config.getoption("nopercyfinalize"),
        pause=request.config.getoption("pause"),
        wait_timeout=WAIT_TIMEOUT,
    ) as duo:
        yield duo


@pytest.fixture
def app(demo_copy):
    """The app on a private copy of the demo data; a test module that needs
    another app (other data, settings or pages) defines its own ``app``."""
    return create_app(Config(data_dir=demo_copy))
