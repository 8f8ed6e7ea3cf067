"""A browser without a browser: Dash's HTTP endpoints driven as the renderer does.

:class:`DashClient` keeps what a page holds (every component's properties by id,
from the layout and from each callback's answer), sends a callback's request with
the page's own values for its inputs and states, and polls a background callback's
job until it answers, keeping the progress it reported. Bodies are built from the
app's ``callback_map``, so a callback rewired or given new states needs no change
here: the values come from the page, as in a browser.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from urllib.parse import quote

from bench.bench_overview import callback_body
from dashapp import ids

DISPATCH = "_dash-update-component"


def stringify(component_id) -> str:
    """A component id as Dash writes it in ``callback_map`` keys."""
    if isinstance(component_id, dict):
        return json.dumps(component_id, sort_keys=True, separators=(",", ":"))
    return str(component_id)


def walk(node, found: dict) -> None:
    """Collect ``{id: props}`` of every component in a layout's JSON."""
    if isinstance(node, list):
        for child in node:
            walk(child, found)
        return
    if not isinstance(node, dict):
        return
    props = node.get("props")
    if isinstance(props, dict) and "type" in node:
        if "id" in props:
            found[stringify(props["id"])] = (props["id"], props)
        for value in props.values():
            walk(value, found)


@dataclass
class JobAnswer:
    """The end of one callback request: the last response and what came before."""

    status: int
    json: dict | None
    progress: list = field(default_factory=list)
    job: dict | None = None

    def texts(self) -> str:
        """Every string of the answer (outputs and side updates), one a line."""
        found: list[str] = []

        def collect(node):
            if isinstance(node, str):
                found.append(node)
            elif isinstance(node, dict):
                for value in node.values():
                    collect(value)
            elif isinstance(node, list):
                for value in node:
                    collect(value)

        collect(self.json or {})
        return "\n".join(found)


class DashClient:
    """One page of ``app`` open in a Flask test ``client`` (signed in already)."""

    def __init__(self, app, client, prefix: str = "/") -> None:
        self.app = app
        self.client = client
        self.prefix = prefix
        self.props: dict[str, tuple] = {}

    def open(self, path: str) -> DashClient:
        """The root layout, then the page the router shows for ``path``."""
        layout = self.client.get(self.prefix + "_dash-layout")
        assert layout.status_code == 200, layout.data[:300]
        walk(layout.get_json(), self.props)
        self.props[ids.URL] = (ids.URL, {"pathname": path, "search": ""})
        page = self.fire(f"{ids.PAGE}.children", {f"{ids.URL}.pathname": path})
        assert page.status == 200, page.json
        return self

    def key_of(self, output: str, trigger: str | None = None) -> str:
        """The ``callback_map`` key among whose outputs is ``output``."""
        found = [
            k
            for k, cb in self.app.callback_map.items()
            if output in k.strip(".").split("...")
            and (
                trigger is None
                or any(f"{i['id']}.{i['property']}" == trigger for i in cb["inputs"])
            )
        ]
        assert len(found) == 1, f"{output} ({trigger}): {found}"
        return found[0]

    def values(self, key: str) -> dict:
        """The page's values for every input and state of callback ``key``."""
        cb = self.app.callback_map[key]
        values = {}
        for spec in [*cb["inputs"], *cb["state"]]:
            name = f"{spec['id']}.{spec['property']}"
            if spec["id"].startswith("{"):
                pattern = json.loads(spec["id"])
                values[name] = [
                    {"id": cid, "property": spec["property"],
                     "value": props.get(spec["property"])}
                    for cid, props in self.props.values()
                    if isinstance(cid, dict) and _matches(pattern, cid)
                ]  # fmt: skip
            else:
                values[name] = self.props.get(spec["id"], (None, {}))[1].get(
                    spec["property"]
                )
        return values

    def set(self, prop: str, value) -> None:
        """What a user's action changes on the page (``"id.property"``)."""
        cid, name = prop.rsplit(".", 1)
        self.props.setdefault(cid, (cid, {}))[1][name] = value

    def fire(self, output: str, changes: dict, timeout: float = 120.0,
             trigger: str | None = None, on_poll=None) -> JobAnswer:  # fmt: skip
        """Change ``changes`` on the page, fire the callback of ``output`` that
        ``trigger`` (default: the first change) is an input of, and wait for its
        answer (polling a background job); the answer's outputs are kept."""
        for prop, value in changes.items():
            self.set(prop, value)
        trigger = trigger or next(iter(changes), None)
        key = self.key_of(output, trigger)
        body = callback_body(self.app, key, self.values(key), [trigger])
        answer = self.post(body, timeout, on_poll)
        if answer.json and "response" in answer.json:
            for cid, props in answer.json["response"].items():
                self.props.setdefault(cid, (cid, {}))[1].update(props)
                walk(list(props.values()), self.props)
        return answer

    def post(self, body: dict, timeout: float, on_poll=None) -> JobAnswer:
        url = self.prefix + DISPATCH
        response = self.client.post(url, json=body)
        data = response.get_json(silent=True) if response.status_code == 200 else None
        if not (isinstance(data, dict) and "cacheKey" in data):
            return JobAnswer(response.status_code, data)
        job = data
        query = f"?cacheKey={quote(job['cacheKey'])}&job={quote(job['job'])}"
        progress: list = []
        deadline, quiet = time.monotonic() + timeout, 0
        while time.monotonic() < deadline:
            if on_poll is not None:
                on_poll(progress)
            response = self.client.post(url + query, json=body)
            answer = response.get_json(silent=True)
            if isinstance(answer, dict) and answer.get("progress"):
                progress.append(answer["progress"])
            if response.status_code == 204:
                # Dash reads the result, then asks whether the job still runs: a
                # job ending in between looks cancelled once (204)
                quiet += 1
                if quiet == 3:
                    return JobAnswer(204, None, progress, job)
            elif response.status_code != 200 or "response" in (answer or {}) or (
                "sideUpdate" in (answer or {})
            ):
                return JobAnswer(response.status_code, answer, progress, job)
            time.sleep(0.1)
        raise AssertionError(f"no answer from {body['output']} within {timeout} s")

    def cancel(self, job: dict, button: str) -> int:
        """Press a job's cancel button (``id``): Dash's cancel request; its status."""
        body = {
            "output": f"{button}.id",
            "outputs": {"id": button, "property": "id"},
            "inputs": [{"id": button, "property": "n_clicks", "value": 1}],
            "state": [],
            "changedPropIds": [f"{button}.n_clicks"],
        }
        response = self.client.post(
            self.prefix + DISPATCH + f"?cancelJob={quote(job['job'])}", json=body
        )
        return response.status_code


def _matches(pattern: dict, cid: dict) -> bool:
    if set(pattern) != set(cid):
        return False
    return all(
        isinstance(v, list) or cid[k] == v for k, v in pattern.items()
    )
