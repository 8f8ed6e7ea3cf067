"""The memoised results the screens share are read, never changed: a callback that
changed a frame or a GeoJSON in place would change it for every later visitor
(dashapp.cache.memo hands out the object itself, not a copy)."""

from __future__ import annotations

import hashlib
import json
import pickle

from callbacks import overview
from dashapp import ids
from dashapp.cache import _MEMOS
from data.store import Store
from data.views import load_context

ALL_DOCS = ["ACTE", "CNI", "PASS"]


def _fingerprints() -> dict:
    return {
        (one.__qualname__, key): hashlib.sha256(pickle.dumps(value)).hexdigest()
        for one in _MEMOS
        for key, value in list(one.entries.items())
    }


def _filters(ctx, **changes) -> dict:
    values = {
        "level": "commune", "indicator": "requests_per_1000", "areas": [None, None],
        "doc_types": ALL_DOCS, "start": ctx.weeks[-52].isoformat(),
        "end": ctx.weeks[-1].isoformat(), "radius": 20,
    }  # fmt: skip
    return values | changes


def _area(level: int) -> str:
    return json.dumps(ids.area_filter(level), separators=(",", ":"),
                      sort_keys=True) + ".value"  # fmt: skip


def _screen(call, ctx, filters: dict, trigger):
    dataset = ctx.info.id
    call(overview.update_map, filters, None, None, dataset, "fr", trigger=trigger)
    call(overview.update_kpis, filters, dataset, "fr", trigger=trigger)
    call(overview.update_capacity, filters, "department", dataset, "fr",
         trigger=trigger)  # fmt: skip
    call(overview.update_capacity, filters, "center", dataset, "fr", trigger=trigger)
    call(overview.update_timeseries, filters, dataset, "fr", trigger=trigger)


def test_screens_and_api_leave_memoised_results_as_they_were(call, demo_app,
                                                             demo_dir):  # fmt: skip
    ctx = load_context(Store(f"sqlite:///{demo_dir / 'dashapp.sqlite'}"))
    region = ctx.units_at(0)["code"].iloc[1]
    department = ctx.units[ctx.units["ancestor_0"] == region]
    department = department[department["level"] == 1]["code"].iloc[0]
    changes = [
        (_filters(ctx), None),
        (_filters(ctx, level="department"), f"{ids.LEVEL}.value"),
        (_filters(ctx, areas=[region, None]), _area(0)),
        (_filters(ctx, areas=[region, department]), _area(1)),
        (_filters(ctx, doc_types=["CNI"], radius=45), f"{ids.RADIUS}.value"),
        (_filters(ctx, start=ctx.weeks[-20].isoformat()), f"{ids.PERIOD}.start_date"),
    ]
    for filters, trigger in changes:  # fills the memos
        _screen(call, ctx, filters, trigger)
    from tests.auth_helpers import signed_in_client

    client = signed_in_client(demo_app, "planner")
    for query in ("level=commune&radius=20", "level=department&doc_types=CNI"):
        assert client.get(f"/api/v1/kpis?{query}").status_code == 200
    before = _fingerprints()
    assert len(before) > 10
    for filters, trigger in changes:  # the same changes read what is memoised
        _screen(call, ctx, filters, trigger)
    for query in ("level=commune&radius=20", "level=department&doc_types=CNI"):
        assert client.get(f"/api/v1/kpis?{query}").status_code == 200
    after = _fingerprints()
    changed = [key for key, digest in before.items() if after.get(key) != digest]
    assert changed == []
