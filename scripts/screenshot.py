"""Screenshots of the app on the demo country, in headless Chromium.

Re-makes ``docs/screenshot.png`` (the README's picture: the whole country, communes
coloured by mean distance to the nearest center, in a 1280 px window)::

    .venv/bin/python scripts/screenshot.py

and takes any other screen at any width, to look at a change::

    .venv/bin/python scripts/screenshot.py --path /scenarios --width 390 \\
        --out /tmp/scenarios-phone.png

It generates the demo country in a temporary folder, serves the app there on a
free loopback port, signs in as an administrator created for the shot, opens
``--path``, waits until every map on it is drawn by MapLibre (its tiles and
layers loaded) and no request to the server is in flight, then saves the window.
Nothing is fetched from the internet. Debian's ``chromium`` and
``chromium-driver`` are used (``tests/chromium.py``), with a software WebGL
(SwiftShader) so that MapLibre draws without a GPU.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.demo_session import chromium, demo_store, sign_in, until  # noqa: E402

USER, PASSWORD = "screenshot-admin", "screenshot-password-1"
README_PATH = "/?level=commune&indicator=mean_distance"
TIMEOUT_S = 180
QUIET_S = 0.5

# counts the Dash requests in flight; installed before any page script runs
FETCH_HOOK = """
(() => {
  window.__shot = {pending: 0, last: performance.now()};
  const orig = window.fetch;
  window.fetch = function (...args) {
    const url = String(args[0] && args[0].url || args[0]);
    if (!url.includes('_dash-update-component')) return orig.apply(this, args);
    window.__shot.pending += 1;
    const done = () => { window.__shot.pending -= 1;
                         window.__shot.last = performance.now(); };
    return orig.apply(this, args).then(
      r => { r.clone().text().then(done, done); return r; },
      e => { done(); throw e; });
  };
})();
"""

# every map of the page drawn: each MapLibre map loaded with nothing left to
# render; none still missing its figure. Null while one is not.
MAPS_DRAWN = """
const plots = [...document.querySelectorAll('.js-plotly-plot')];
const maps = plots.filter(gd => gd._fullLayout && gd._fullLayout.map);
if (!maps.length) return null;
const ready = maps.every(gd => { const m = gd._fullLayout.map._subplot;
  return m && m.map && m.map.loaded() && m.map.areTilesLoaded(); });
const quiet = !window.__shot.pending
  && performance.now() - window.__shot.last > arguments[0];
const spinning = document.querySelector('[data-dash-is-loading="true"]');
return ready && quiet && !spinning ? maps.length : null;
"""


def _until(condition, what: str, timeout: float = TIMEOUT_S):
    return until(condition, what, timeout)


def _serve(folder: Path):
    """The app on the demo data in ``folder``, served in a thread; (url, server)."""
    from werkzeug.serving import make_server

    from dashapp import create_app
    from dashapp.config import Config

    demo_store(folder, USER, PASSWORD, "admin")
    app = create_app(Config(data_dir=folder))
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


def browser(width: int, height: int):
    """Headless Chromium of the tests, drawing WebGL in software, the page
    exactly ``width`` px wide."""
    return chromium(
        FETCH_HOOK,
        width=width,
        height=height,
        extra_args=("--hide-scrollbars", "--force-device-scale-factor=1"),
    )


def shoot(
    driver,
    url: str,
    path: str,
    out: Path,
    lang: str = "fr",
    keep_guide: bool = False,
    element: str | None = None,
) -> int:
    """Sign in, open ``path`` (its guide hidden unless ``keep_guide``), wait for
    its maps, save the window (scrolled to the element of id ``element``); the
    number of maps drawn."""
    from dashapp import ids

    sign_in(driver, url, USER, PASSWORD, TIMEOUT_S)
    sep = "&" if "?" in path else "?"
    driver.get(url + path + (f"{sep}lang={lang}" if lang != "fr" else ""))
    if not keep_guide:  # the screen's guide above it, hidden as a user would
        _until(
            lambda: driver.find_elements("css selector", ".js-plotly-plot"),
            "the page's first chart",
        )
        button = driver.find_element("id", ids.GUIDE_DISMISS)
        if button.is_displayed():
            button.click()
            _until(
                lambda: not driver.find_element("id", ids.GUIDE).is_displayed(),
                "the guide hidden",
            )
    n = _until(
        lambda: driver.execute_script(MAPS_DRAWN, QUIET_S * 1000),
        f"the maps of {path}",
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    if element:
        top = driver.execute_script(
            "const top = document.getElementById(arguments[0])"
            ".getBoundingClientRect().top + window.scrollY;"
            "window.scrollTo(0, top); return Math.round(top);",
            element,
        )
        _until(
            lambda: (
                abs(driver.execute_script("return window.scrollY") - top) < 2
                or driver.execute_script(
                    "return window.innerHeight + window.scrollY"
                    " >= document.documentElement.scrollHeight - 1"
                )
            ),
            f"the page scrolled to {element}",
            timeout=10,
        )
    driver.save_screenshot(str(out))
    return n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--path", default=README_PATH, help="page and query string")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=1400)
    parser.add_argument(
        "--keep-guide", action="store_true", help="leave the screen's guide shown"
    )
    parser.add_argument("--lang", choices=("fr", "en"), default="fr")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshot.png")
    parser.add_argument("--element", help="id of an element to scroll to the top")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="dashapp-screenshot-") as tmp:
        url, server = _serve(Path(tmp))
        driver = browser(args.width, args.height)
        try:
            n = shoot(
                driver,
                url,
                args.path,
                args.out,
                args.lang,
                args.keep_guide,
                args.element,
            )
        finally:
            driver.quit()
            server.shutdown()
    print(f"{args.out}: {args.path} at {args.width}x{args.height}, {n} map(s) drawn")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
