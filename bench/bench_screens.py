"""Where users wait: four screens timed in headless Chromium on the demo country.

Each repetition starts from nothing: a fresh data folder (a copy of a demo store,
no cache of any kind), the production server (``python -m dashapp serve --prod``,
gunicorn) on a free loopback port, a new Chromium signed in as an analyst. The
server's forecasts are precomputed in the background after its start: the script
records how long that took, and measures once it is done, as a user arriving after
the start would (``--no-wait``: at once, while it runs). Then, in this order:

a. **first page load**: from asking for ``/`` until the overview map is drawn (its
   figure has data and MapLibre's canvas is on the page); the sign-in just before
   lands on ``/`` too, and is left as soon as the page's scripts start. Then, at
   once, the page is scrolled to the weekly series below the map (drawn only once
   scrolled to) and the time until every chart of the page is drawn (map,
   capacity chart, series) is recorded too, from the same start. This is a
   first visit: the browser has never run plotly.js. After (d), the same
   browser opens the first page again and it is timed the same way
   (``a_returning_*``): its HTTP cache and compiled-code cache then hold the
   scripts, as the browser of an official who used the app before does;
b. **forecast demand**: on ``/scenarios``, once the screen is ready, the click on
   "forecast" demand until the screen is ready again (KPIs and map redrawn: no
   callback still waiting for the server, and no error message shown);
c. **forecast screen at center level**: ``/prevision`` opened, then the click on the
   "Center" level until that level's chart is drawn;
d. **solve to result**: on a fresh ``/scenarios`` (today's demand, 3 new centers,
   p-median), the click on "Run" until the KPI deltas, tables and map are on screen
   and no callback waits; the time the solver itself reports (model build + solve)
   is subtracted, which leaves the time from a finished solve to its result shown.

"Ready" is also checked the same way everywhere: no request to the Dash server in
flight for 0.3 s (a hook on ``fetch`` counts them); the time recorded is that of
the last answer, not the end of the quiet period.

Run: ``.venv/bin/python bench/bench_screens.py [--runs 3] [--label after]``.
Results are printed and written to ``bench/results/screens_<label>.json``, with the
machine's load (``uptime``) before and after: this machine is shared, and its other
users' work slows every figure here.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dashapp import ids  # noqa: E402
from tests.demo_session import chromium, demo_store, sign_in, until  # noqa: E402

USER, PASSWORD = "bench-analyst", "bench-screens-password-1"
QUIET_S = 0.3
TIMEOUT_S = 240

# counts the Dash requests in flight; installed before any page script runs
FETCH_HOOK = """
(() => {
  window.__bench = {pending: 0, last: performance.now(), started: 0, log: []};
  const orig = window.fetch;
  window.fetch = function (...args) {
    const url = String(args[0] && args[0].url || args[0]);
    if (!url.includes('_dash-update-component')) return orig.apply(this, args);
    window.__bench.pending += 1; window.__bench.started += 1;
    const t0 = performance.now();
    let output = '';
    try { output = JSON.parse(args[1].body).output; } catch (e) {}
    const done = () => {
      window.__bench.pending -= 1; window.__bench.last = performance.now();
      window.__bench.log.push([output, t0, window.__bench.last]);
    };
    return orig.apply(this, args).then(
      r => { r.clone().text().then(done, done); return r; },
      e => { done(); throw e; });
  };
})();
"""

MAP_DRAWN = """
const gd = document.querySelector('#' + arguments[0] + ' .js-plotly-plot');
return !!(gd && gd.data && gd.data.length && gd._fullLayout
          && document.querySelector('#' + arguments[0] + ' canvas'));
"""
CHART_DRAWN = """
const gd = document.querySelector('#' + arguments[0] + ' .js-plotly-plot');
return !!(gd && gd.data && gd.data.length && gd._fullLayout);
"""
CHART = """
const gd = document.querySelector('#' + arguments[0] + ' .js-plotly-plot');
if (!gd || !gd.data || !gd.layout) return null;
const title = gd.layout.title;
return {n: gd.data.length, title: (title && title.text) || title || ''};
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def make_template(folder: Path) -> Path:
    """A data folder holding only the demo store and the bench's analyst."""
    return demo_store(folder, USER, PASSWORD, "analyst")


class Server:
    """``python -m dashapp serve --prod`` on a fresh data folder."""

    def __init__(self, database: Path, workers: int) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="bench-screens-"))
        shutil.copy(database, self.folder / "dashapp.sqlite")
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "DASHAPP_DATA_DIR": str(self.folder),
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "DASHAPP_WORKERS": str(workers),
            "DASHAPP_SECRET_KEY": secrets.token_urlsafe(48),
        }
        self.log = open(self.folder / "server.log", "w")  # noqa: SIM115
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dashapp", "serve", "--prod"],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.time() + TIMEOUT_S
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited; see {self.folder}/server.log")
            try:
                urllib.request.urlopen(self.url + "/login", timeout=2)
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("server did not answer")
        self.ready_s = time.perf_counter() - self.started

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(40)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        shutil.rmtree(self.folder, ignore_errors=True)


class Browser:
    def __init__(self, url: str) -> None:
        self.driver = chromium(FETCH_HOOK)
        self.url = url

    def js(self, script: str, *args):
        return self.driver.execute_script(script, *args)

    def until(self, condition, what: str, timeout: float = TIMEOUT_S, step=0.05):
        return until(condition, what, timeout, step)

    def sign_in(self) -> None:
        sign_in(self.driver, self.url, USER, PASSWORD, TIMEOUT_S)

    def now_ms(self) -> float:
        return self.js("return performance.now()")

    def settled(self, since_started: int = 0) -> float:
        """Wait until no Dash request is in flight for QUIET_S; the last answer's
        time (``performance.now()``, ms)."""

        def quiet():
            b = self.js("return window.__bench")
            if not b or b["pending"] or b["started"] <= since_started:
                return None
            if self.now_ms() - b["last"] < QUIET_S * 1000:
                return None
            return b["last"]

        return self.until(quiet, "the Dash requests to settle")

    def requests(self, since_ms: float, top: int = 4) -> list:
        """The slowest Dash requests answered since ``since_ms``: output, start
        after ``since_ms`` and duration (s)."""
        log = self.js("return window.__bench.log") or []
        rows = [
            (str(o)[:70], round((a - since_ms) / 1000, 2), round((b - a) / 1000, 2))
            for o, a, b in log
            if b >= since_ms
        ]
        return sorted(rows, key=lambda r: -r[2])[:top]

    def started(self) -> int:
        return self.js("return window.__bench.started")

    def click_label(self, radio_id: str, value: str) -> None:
        """Click the radio item of ``radio_id`` whose input has ``value``."""
        self.js(
            "const i = document.querySelector("
            "'#' + arguments[0] + ' input[value=\"' + arguments[1] + '\"]');"
            "i.scrollIntoView({block: 'center'}); i.click();",
            radio_id,
            value,
        )

    def quit(self) -> None:
        self.driver.quit()


def first_page(b: Browser) -> dict:
    b.driver.get("about:blank")
    start = time.perf_counter()
    b.driver.get(b.url + "/")
    b.until(lambda: b.js(MAP_DRAWN, ids.MAP), "the overview map", step=0.02)
    map_s = time.perf_counter() - start
    # every chart of the page: the weekly series below the map is drawn once
    # scrolled to, so scroll to it at once, as a reader going down the page
    # would, and keep it in view while the cards above it arrive and push it down
    scrolled = time.perf_counter()
    charts = (ids.MAP, ids.CAPACITY_CHART, ids.TIMESERIES)

    def every_chart_in_view():
        b.js(
            "document.getElementById(arguments[0])"
            ".scrollIntoView({block: 'center', behavior: 'instant'})",
            ids.TIMESERIES,
        )
        return all(b.js(CHART_DRAWN, c) for c in charts)

    b.until(every_chart_in_view, "every chart", step=0.02)
    end = time.perf_counter()
    return {
        "s": map_s,
        "all_charts_s": end - start,
        "below_map_after_scroll_s": end - scrolled,
        "slowest": b.requests(0),
    }


def forecast_demand(b: Browser) -> float:
    b.driver.get(b.url + "/scenarios")
    b.until(
        lambda: (
            "Centres ouverts"
            in b.js(
                "return document.getElementById(arguments[0])?.innerText || ''",
                ids.SCN_INSTANT,
            )
        ),
        "the scenario KPIs",
    )
    b.until(lambda: b.js(MAP_DRAWN, ids.SCN_MAP), "the scenario map")
    b.settled()
    before = b.started()
    t0 = b.now_ms()
    b.click_label(ids.SCN_DEMAND_SOURCE, "forecast")
    last = b.settled(before)
    messages = b.js(
        "return document.getElementById(arguments[0])?.innerText || ''",
        ids.SCN_MESSAGES,
    )
    if messages.strip():
        raise RuntimeError(f"the scenario screen shows a message: {messages!r}")
    return {"s": (last - t0) / 1000, "slowest": b.requests(t0)}


def forecast_center(b: Browser) -> float:
    b.driver.get(b.url + "/prevision")
    first = b.until(
        lambda: (c := b.js(CHART, ids.FC_CHART)) and c["n"] == 4 and c, "a chart"
    )
    b.settled()
    t0 = b.now_ms()
    b.click_label(ids.FC_LEVEL, "center")
    b.until(
        lambda: (
            (c := b.js(CHART, ids.FC_CHART))
            and c["n"] == 4
            and c["title"] != first["title"]
        ),
        "the center-level chart",
        step=0.02,
    )
    shown = b.now_ms()
    return {"s": (shown - t0) / 1000, "slowest": b.requests(t0)}


# the solver's time in the status line: "· 0,79 s" (followed by "·" or the end)
SECONDS = re.compile(r"·\s*(\d+(?:[ \u202f\u00a0]\d{3})*(?:[,.]\d+)?)\s*s(?:\s*·|\s*$)")


def solve_to_result(b: Browser) -> dict:
    b.driver.get(b.url + "/scenarios")
    b.until(
        lambda: (
            "Centres ouverts"
            in b.js(
                "return document.getElementById(arguments[0])?.innerText || ''",
                ids.SCN_INSTANT,
            )
        ),
        "the scenario KPIs",
    )
    b.settled()
    before = b.started()
    t0 = b.now_ms()
    b.js("document.getElementById(arguments[0]).click()", ids.SCN_RUN)
    b.until(
        lambda: (
            "Proposition"
            in b.js(
                "return document.getElementById(arguments[0])?.innerText || ''",
                ids.SCN_DELTAS,
            )
        ),
        "the KPI deltas",
        step=0.02,
    )
    last = b.settled(before)
    status = b.js("return document.getElementById('scn-status-alert')?.innerText || ''")
    match = SECONDS.search(status.strip())
    if not match:
        raise RuntimeError(f"no solve time in the status line {status!r}")
    solve = float(re.sub(r"[ \u202f\u00a0]", "", match.group(1)).replace(",", "."))
    total = (last - t0) / 1000
    return {
        "click_to_result_s": total,
        "solve_s": solve,
        "after_solve_s": total - solve,
        "slowest": b.requests(t0),
    }


def wait_precomputed(server: Server) -> float | None:
    """Seconds from the server's start until its forecasts are precomputed;
    ``None`` for a version of the app without a precompute."""
    try:
        from dashapp.services import forecasting
    except ImportError:
        return None
    if not hasattr(forecasting, "is_precomputed"):
        return None
    from dashapp.config import Config

    config = Config(data_dir=server.folder)
    deadline = time.time() + 3 * TIMEOUT_S
    while time.time() < deadline:
        if forecasting.is_precomputed(config, 1):
            return time.perf_counter() - server.started
        time.sleep(0.5)
    raise RuntimeError("the forecasts were not precomputed")


def one_run(database: Path, workers: int, wait: bool) -> dict:
    server = Server(database, workers)
    browser = None
    try:
        out = {"server_start_s": server.ready_s}
        if wait:
            out["precomputed_after_start_s"] = wait_precomputed(server)
        browser = Browser(server.url)
        browser.sign_in()
        out["a_first_page"] = first_page(browser)
        out["b_forecast_demand"] = forecast_demand(browser)
        out["c_forecast_center"] = forecast_center(browser)
        out["d"] = solve_to_result(browser)
        # the same browser opening the first page again after this use of the
        # app: its HTTP cache and V8's compiled-code cache now hold plotly.js
        # and the app's scripts, as a returning official's browser does
        out["a_returning"] = first_page(browser)
        out["since_server_start_s"] = time.perf_counter() - server.started
        return out
    finally:
        if browser is not None:
            browser.quit()
        server.stop()


def summary(values: list[float]) -> dict:
    ordered = sorted(values)
    n = len(ordered)
    median = ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2
    return {
        "median_s": round(median, 2),
        "max_s": round(ordered[-1], 2),
        "all_s": [round(v, 2) for v in values],
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--label", default="after")
    parser.add_argument("--out", type=Path)
    parser.add_argument(
        "--no-wait",
        action="store_true",
        help="measure at once after the server starts, not once its forecasts "
        "are precomputed",
    )
    args = parser.parse_args(argv)
    out = args.out or ROOT / f"bench/results/screens_{args.label}.json"
    load_before = uptime()
    with tempfile.TemporaryDirectory(prefix="bench-screens-template-") as tmp:
        database = make_template(Path(tmp))
        runs = []
        for i in range(args.runs):
            run = one_run(database, args.workers, not args.no_wait)
            print(f"run {i + 1}: {json.dumps(run)}", flush=True)
            runs.append(run)
    results = {
        "label": args.label,
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip(),
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "runs": args.runs,
        "server": f"gunicorn, {args.workers} workers, fresh data folder per run",
        "a_first_page_load_to_map": summary([r["a_first_page"]["s"] for r in runs]),
        "a_first_page_load_to_every_chart": summary(
            [r["a_first_page"]["all_charts_s"] for r in runs]
        ),
        "a_chart_below_map_after_scroll": summary(
            [r["a_first_page"]["below_map_after_scroll_s"] for r in runs]
        ),
        "a_returning_browser_first_page_to_map": summary(
            [r["a_returning"]["s"] for r in runs]
        ),
        "a_returning_browser_first_page_to_every_chart": summary(
            [r["a_returning"]["all_charts_s"] for r in runs]
        ),
        "b_scenario_demand_forecast_to_ready": summary(
            [r["b_forecast_demand"]["s"] for r in runs]
        ),
        "c_forecast_screen_center_level_to_chart": summary(
            [r["c_forecast_center"]["s"] for r in runs]
        ),
        "d_finished_solve_to_result_shown": summary(
            [r["d"]["after_solve_s"] for r in runs]
        ),
        "d_solve_reported_s": summary([r["d"]["solve_s"] for r in runs]),
        "d_click_to_result_s": summary([r["d"]["click_to_result_s"] for r in runs]),
        "server_start_s": summary([r["server_start_s"] for r in runs]),
        "forecasts_precomputed_after_server_start_s": (
            summary([r["precomputed_after_start_s"] for r in runs])
            if runs and runs[0].get("precomputed_after_start_s") is not None
            else None
        ),
        "measured": "at once after the server started"
        if args.no_wait
        else "once the server's forecasts were precomputed (when it has a "
        "precompute), as a user arriving after the start would",
        "each_run": runs,
        "machine": {
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "uptime_before": load_before,
            "uptime_after": uptime(),
            "note": "shared 2-core machine, other engineers' tests and servers "
            "running at the same time: figures vary with their load",
        },
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(results, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
