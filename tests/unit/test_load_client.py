"""The load benchmark's browser (bench/load_client.py) polls a background job the
way Dash's renderer does: at the callback's own interval, with the inputs' and
states' values emptied (``handleServerside`` in dash-renderer)."""

from __future__ import annotations

import pytest

from bench import load_client
from bench.load_client import Page, poll_body

KEY = "scn-result.data"


def _body() -> dict:
    return {
        "output": KEY,
        "inputs": [{"id": "scn-run", "property": "n_clicks", "value": 3},
                   [{"id": {"type": "x", "index": 1}, "property": "value",
                     "value": 5}]],  # a wildcard: a list of entries
        "state": [{"id": "scn-new", "property": "value", "value": 15}],
        "changedPropIds": ["scn-run.n_clicks"],
    }  # fmt: skip


def test_a_poll_sends_the_first_body_with_its_values_emptied():
    body = _body()
    polled = poll_body(body)
    assert polled["inputs"][0] == {"id": "scn-run", "property": "n_clicks",
                                   "value": None}  # fmt: skip
    assert polled["state"] == [{"id": "scn-new", "property": "value", "value": None}]
    assert polled["inputs"][1] == body["inputs"][1]  # left as the renderer leaves it
    assert polled["output"] == KEY and polled["changedPropIds"] == ["scn-run.n_clicks"]
    assert body == _body()  # the first request's body is not changed
    assert poll_body({"output": KEY, "inputs": []}) == {"output": KEY, "inputs": [],
                                                         "state": []}  # fmt: skip


class _Answer:
    def __init__(self, status: int, data) -> None:
        self.status_code, self.data = status, data

    def json(self):
        return self.data


class _Http:
    def __init__(self, answers: list) -> None:
        self.answers, self.sent = answers, []

    def request(self, method, path, name=None, json=None, **_):
        self.sent.append((path, name, json))
        return self.answers.pop(0)


@pytest.mark.parametrize("interval", [1000, 300])
def test_a_job_is_polled_at_the_interval_its_callback_asks(monkeypatch, interval):
    waits = []
    monkeypatch.setattr(load_client.time, "sleep", waits.append)
    page = Page.__new__(Page)
    page.deps = {KEY: {"background": {"interval": interval}}}
    page.http = _Http([
        _Answer(200, {"cacheKey": "k/1", "job": "j 1"}),
        _Answer(200, {"progress": {"scn-progress.children": "12 s"}}),
        _Answer(200, {"response": {"scn-result": {"data": {"id": 4}}}}),
    ])  # fmt: skip
    answer = page._request(KEY, _body())
    assert answer == {"response": {"scn-result": {"data": {"id": 4}}}}
    assert waits == [interval / 1000] * 2
    first, *polls = page.http.sent
    assert first[2] == _body() and first[1] == f"callback {KEY}"
    assert [p[0] for p in polls] == [
        "_dash-update-component?cacheKey=k/1&job=j%201"
    ] * 2  # fmt: skip
    assert all(p[2] == poll_body(_body()) and p[1] == f"poll {KEY}" for p in polls)
