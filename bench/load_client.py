"""A browser without a browser, over HTTP: what Dash's renderer requests, replayed.

:class:`Page` is one browser tab of one signed-in user against a running server.
It reads the callback graph the server gives every browser
(``/_dash-dependencies``) and keeps what the page holds (every component's
properties, from ``/_dash-layout`` and from each callback's answer), as
:class:`tests.dash_client.DashClient` does for a Flask test client. A user's
action (:meth:`Page.change`) then makes the requests Dash's renderer makes for it:

* every callback with a changed property among its inputs is requested, with the
  page's values for its inputs and states (the renderer's own request body);
* a callback waits while another one still to answer may change one of its
  inputs (as the renderer orders them), the others go at once, up to six at a
  time (a browser's connections to one host);
* the properties an answer sets trigger the callbacks that have them as inputs
  (not the one that answered), and components an answer adds fire their
  callbacks' initial call (also when a screen left and opened again brings them
  back), until nothing is left to request;
* a background callback is polled at its own ``interval`` until its answer.

The action's time is the wall time from the change to the last answer, as a user
sees it. Every request is counted; an answer that is not 200/204, or that puts a
message in the page's alert area (what ``dashapp.auth.on_callback_error`` does for
an unexpected error, a refused right or a lost job), is an error.
"""

from __future__ import annotations

import json
import re
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Executor, wait
from dataclasses import dataclass, field
from types import SimpleNamespace
from urllib.parse import quote

import requests

from bench.bench_overview import callback_body
from dashapp import ids
from tests.dash_client import DISPATCH, DashClient, stringify

BROWSER_CONNECTIONS = 6
TIMEOUT_S = 120.0
_ASSET = re.compile(r'<(?:script[^>]*\ssrc|link[^>]*\shref)="([^"]+)"')
# what the renderer loads when the first graph, dropdown, date picker, slider shows
LAZY_ASSETS = (
    "_dash-component-suites/plotly/package_data/plotly.min.js",
    "_dash-component-suites/dash/dcc/async-graph.js",
    "_dash-component-suites/dash/dcc/async-dropdown.js",
    "_dash-component-suites/dash/dcc/async-datepicker.js",
    "_dash-component-suites/dash/dcc/async-slider.js",
)


@dataclass
class Record:
    """One request or one user action, timed."""

    kind: str  # "request" or an action: "filter", "api", "page", "scenario"...
    name: str
    seconds: float
    ok: bool
    started: float  # time.monotonic() at its start
    detail: str = ""


class Recorder:
    """Thread-safe list of :class:`Record`."""

    def __init__(self) -> None:
        self.records: list[Record] = []
        self._lock = threading.Lock()

    def add(self, record: Record) -> None:
        with self._lock:
            self.records.append(record)

    def snapshot(self) -> list[Record]:
        with self._lock:
            return list(self.records)


class LoadError(RuntimeError):
    """A request that failed; the message says which and how."""


class Http:
    """A user's ``requests.Session`` on ``base``, each request timed and recorded."""

    def __init__(self, base: str, recorder: Recorder) -> None:
        self.base = base.rstrip("/") + "/"
        self.recorder = recorder
        self.session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(
            pool_connections=1, pool_maxsize=BROWSER_CONNECTIONS
        )
        self.session.mount("http://", adapter)
        self.session.headers["Accept-Encoding"] = "br, gzip, deflate"

    def request(self, method: str, path: str, name: str | None = None,
                ok=(200, 204), **kwargs) -> requests.Response:  # fmt: skip
        started = time.monotonic()
        kwargs.setdefault("timeout", TIMEOUT_S)
        url = self.base + path.lstrip("/")
        try:
            try:
                response = self.session.request(method, url, **kwargs)
            except requests.ConnectionError as exc:
                if "Connection aborted" not in str(exc):
                    raise
                # the server closed a kept-alive connection as it was reused (its
                # keep-alive ran out during the think time): a browser sends the
                # request again on a new one, and so do we, once
                self.recorder.add(Record("retry", name or path, 0.0, True, started))
                response = self.session.request(method, url, **kwargs)
        except requests.RequestException as exc:
            self.recorder.add(Record("request", name or path, time.monotonic() - started,
                                     False, started, f"{type(exc).__name__}: {exc}"))  # fmt: skip
            raise LoadError(f"{method} {path}: {type(exc).__name__}: {exc}") from None
        good = response.status_code in ok
        self.recorder.add(Record("request", name or path.split("?")[0],
                                 time.monotonic() - started, good, started,
                                 "" if good else f"HTTP {response.status_code}"))  # fmt: skip
        if not good:
            raise LoadError(
                f"{method} {path}: HTTP {response.status_code} {response.text[:200]}"
            )
        return response

    def sign_in(self, username: str, password: str) -> None:
        form = self.request("GET", "login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        if csrf is None:
            raise LoadError("the sign-in page has no CSRF field")
        self.request("POST", "login", ok=(302,), allow_redirects=False,
                     data={"username": username, "password": password,
                           "csrf": csrf.group(1)})  # fmt: skip

    def assets(self, html: str) -> None:
        """What a browser with an empty cache downloads for the page ``html``."""
        for url in [*_ASSET.findall(html), *LAZY_ASSETS]:
            if url.startswith("/") or not url.startswith("http"):
                self.request("GET", url.lstrip("/"), name="asset")


def _outputs(key: str) -> list[tuple[str, str]]:
    """``(id, property)`` of each output of callback ``key`` (``@hash`` dropped)."""
    parts = key[2:-2].split("...") if key.startswith("..") else [key]
    pairs = []
    for part in parts:
        cid, prop = part.rsplit(".", 1)
        pairs.append((cid, prop.split("@", 1)[0]))
    return pairs


def _same(spec_id: str, cid: str) -> bool:
    """Whether component ``cid`` (stringified) is ``spec_id`` or matches its pattern."""
    if spec_id == cid:
        return True
    if not (spec_id.startswith("{") and cid.startswith("{")):
        return False
    pattern, concrete = json.loads(spec_id), json.loads(cid)
    return set(pattern) == set(concrete) and all(
        isinstance(v, list) or isinstance(concrete[k], list) or concrete[k] == v
        for k, v in pattern.items()
    )


class Page(DashClient):
    """One tab of a signed-in user: the page's state and the renderer's requests."""

    def __init__(self, http: Http, deps: list[dict], pool: Executor) -> None:
        self.deps = {d["output"]: d for d in deps if not d.get("clientside_function")}
        super().__init__(SimpleNamespace(callback_map=self.deps), http, "/")
        self.http = http
        self.pool = pool
        self.errors: list[str] = []

    # -- what a browser does -----------------------------------------------------
    @classmethod
    def load(
        cls, http: Http, path: str, pool: Executor, cold: bool
    ) -> tuple[Page, int]:
        """Open ``path`` as a new tab (the page, with a cold cache its scripts, the
        layout, the callback graph, then every initial callback); requests made."""
        html = http.request("GET", path, name="page").text
        if cold:
            http.assets(html)
        deps = http.request("GET", "_dash-dependencies").json()
        page = cls(http, deps, pool)
        layout = http.request("GET", "_dash-layout").json()
        walk(layout, page.props)
        page.props[ids.URL] = (ids.URL, {"pathname": path, "search": ""})
        return page, page._cascade(page._initial(set(page.props)))

    def change(self, changes: dict) -> int:
        """Set ``changes`` (``"id.property": value``), as a user's action does, and
        make every request it causes; the number of requests."""
        for prop, value in changes.items():
            self.set(prop, value)
        return self._cascade(self._triggered(set(changes)))

    def open(self, path: str) -> int:  # a link inside the app: dcc.Location changes
        return self.change({f"{ids.URL}.pathname": path})

    def options(self, cid: str, prop: str = "options") -> list:
        """The values a user can pick in component ``cid`` (its ``options``)."""
        found = self.props.get(cid, (None, {}))[1].get(prop) or []
        return [o["value"] if isinstance(o, dict) else o for o in found]

    def get(self, prop: str):
        cid, name = prop.rsplit(".", 1)
        return self.props.get(cid, (None, {}))[1].get(name)

    # -- the renderer --------------------------------------------------------------
    def _triggered(self, changed: set[str], exclude: str | None = None) -> dict:
        """Callbacks with one of ``changed`` (``"id.prop"``) as an input."""
        found: dict[str, set[str]] = {}
        for key, dep in self.deps.items():
            if key == exclude:
                continue
            for prop_id in changed:
                cid, prop = prop_id.rsplit(".", 1)
                if any(s["property"] == prop and _same(s["id"], cid)
                       for s in dep["inputs"]):  # fmt: skip
                    found.setdefault(key, set()).add(prop_id)
        return found

    def _initial(self, new_ids: set[str]) -> dict:
        """Callbacks a new component fires at once (not ``prevent_initial_call``),
        when every one of their single-id inputs is on the page."""
        found = {}
        for key, dep in self.deps.items():
            if dep.get("prevent_initial_call"):
                continue
            inputs = [s["id"] for s in dep["inputs"]]
            present = [i for i in inputs if not i.startswith("{")]
            if not any(i in new_ids or (i.startswith("{") and any(_same(i, n)
                       for n in new_ids)) for i in inputs):  # fmt: skip
                continue
            if all(i in self.props for i in present):
                found[key] = set()
        return found

    def _blocked(self, key: str, others: set[str]) -> bool:
        """Whether a callback in ``others`` may still change an input of ``key``."""
        inputs = [(s["id"], s["property"]) for s in self.deps[key]["inputs"]]
        for other in others:
            for cid, prop in _outputs(other):
                if any(p == prop and (_same(i, cid) or _same(cid, i))
                       for i, p in inputs):  # fmt: skip
                    return True
        return False

    def _cascade(self, pending: dict) -> int:
        inflight: dict = {}
        sent = 0
        while pending or inflight:
            busy = set(pending) | set(inflight.values())
            ready = [k for k in pending if not self._blocked(k, busy - {k})]
            if not ready and not inflight:  # a cycle: the renderer fires anyway
                ready = list(pending)
            for key in ready[: max(0, BROWSER_CONNECTIONS - len(inflight))]:
                changed = sorted(pending.pop(key))
                body = callback_body(self.app, key, self.values(key), changed)
                inflight[self.pool.submit(self._request, key, body)] = key
                sent += 1
            done, _ = wait(list(inflight), return_when=FIRST_COMPLETED)
            for future in done:
                key = inflight.pop(future)
                data = future.result()  # a LoadError ends the action
                changed, new_ids = self._apply(key, data)
                for k, props in self._triggered(changed, exclude=key).items():
                    pending.setdefault(k, set()).update(props)
                for k in self._initial(new_ids):
                    pending.setdefault(k, set())
        return sent

    def _request(self, key: str, body: dict) -> dict | None:
        """One callback request; a background one polled until it answers."""
        name = key.split("...")[0].strip(".")[:60]
        response = self.http.request(
            "POST", DISPATCH, name=f"callback {name}", json=body
        )
        data = response.json() if response.status_code == 200 else None
        if not (isinstance(data, dict) and "cacheKey" in data):
            return data
        # the renderer's poll: the callback's own interval (its default 500 ms),
        # the handles in the query, the inputs' and states' values emptied
        interval = (self.deps[key].get("background") or {}).get("interval", 500)
        query = f"?cacheKey={quote(data['cacheKey'])}&job={quote(data['job'])}"
        polled = poll_body(body)
        deadline, quiet = time.monotonic() + TIMEOUT_S, 0
        while time.monotonic() < deadline:
            time.sleep(interval / 1000)
            response = self.http.request("POST", DISPATCH + query,
                                         name=f"poll {name}", json=polled)  # fmt: skip
            answer = response.json() if response.status_code == 200 else None
            if response.status_code == 204:
                quiet += 1  # a job ending between two polls looks cancelled once
                if quiet == 3:
                    return None
            elif "response" in (answer or {}) or "sideUpdate" in (answer or {}):
                return answer
        raise LoadError(f"{name}: no answer from its job within {TIMEOUT_S} s")

    def _apply(self, key: str, data: dict | None) -> tuple[set[str], set[str]]:
        """Keep an answer's properties; the props it set and the ids it added."""
        changed: set[str] = set()
        before = set(self.props)
        for part in ("response", "sideUpdate"):
            for cid, props in ((data or {}).get(part) or {}).items():
                if cid == ids.ALERTS and part == "sideUpdate":
                    self.errors.append(f"{key[:60]}: alert {str(props)[:300]}")
                for prop, value in props.items():
                    prop = prop.split("@", 1)[0]
                    if isinstance(value, dict) and "__dash_patch_update" in value:
                        changed.add(f"{cid}.{prop}")  # a Patch: the figure stays
                        continue
                    holder = self.props.setdefault(cid, (_parse(cid), {}))[1]
                    # the components the old value held leave the page (a screen
                    # replaced by another): when they come back, as a browser
                    # mounts them again, their callbacks' initial calls fire
                    gone: dict = {}
                    walk(holder.get(prop), gone)
                    for old in gone:
                        self.props.pop(old, None)
                    before -= set(gone)
                    holder[prop] = value
                    changed.add(f"{cid}.{prop}")
                    walk(value, self.props)
        return changed, set(self.props) - before


def poll_body(body: dict) -> dict:
    """The body of a background callback's poll, as Dash's renderer sends it
    (``handleServerside``): the first request's, every input and state value
    set to ``null`` (the job already has them; the server reads only the
    handles; a wildcard's list of entries is left as it is, as the renderer
    leaves it)."""
    return {
        **body,
        **{
            part: [
                {**item, "value": None} if isinstance(item, dict) else item
                for item in body.get(part) or []
            ]
            for part in ("inputs", "state")
        },
    }


def walk(node, found: dict) -> None:
    """Collect ``{id: (id, props)}`` of the components in ``node``: the layout's
    tree only, not the data inside a figure or a table (thousands of numbers
    whose walk would cost the load generator the CPU the server needs)."""
    if isinstance(node, list):
        for child in node:
            if isinstance(child, dict | list):
                walk(child, found)
        return
    props = node.get("props") if isinstance(node, dict) and "type" in node else None
    if not isinstance(props, dict):
        return
    if "id" in props:
        found[stringify(props["id"])] = (props["id"], props)
    for name, value in props.items():
        if name not in ("figure", "data", "rowData") and isinstance(value, dict | list):
            walk(value, found)


def _parse(cid: str):
    return json.loads(cid) if cid.startswith("{") else cid


@dataclass
class Action:
    """A user's action and its outcome."""

    kind: str
    name: str
    requests: int = 0
    detail: str = ""
    errors: list[str] = field(default_factory=list)


__all__ = ["Http", "LoadError", "Page", "Record", "Recorder", "stringify"]
