"""The capacity chart and the weekly series show neither the indicator nor the
radius: a change of either sends neither chart's request (the renderer fires a
callback for its inputs only), every other filter still redraws them, and they
still read the indicator and radius of the page (states)."""

from __future__ import annotations

import pytest

from callbacks import overview
from dashapp import ids

CHARTS = (f"{ids.CAPACITY_CHART}.figure", f"{ids.TIMESERIES}.figure")


def _props(items) -> set[str]:
    return {f"{i['id']}.{i['property']}" for i in items}


@pytest.mark.parametrize("chart", CHARTS)
def test_charts_follow_the_filters_they_show(demo_app, chart):
    spec = demo_app.callback_map[chart]
    inputs, states = _props(spec["inputs"]), _props(spec["state"])
    for left_out in (f"{ids.INDICATOR}.value", f"{ids.RADIUS}.value"):
        assert left_out not in inputs and left_out in states
    area = '{"index":["ALL"],"type":"' + ids.AREA + '"}.value'
    for shown in (f"{ids.LEVEL}.value", f"{ids.DOC_TYPES}.value",
                  f"{ids.PERIOD}.start_date", f"{ids.PERIOD}.end_date", area):  # fmt: skip
        assert shown in inputs
    # the map and the KPI cards still follow every filter
    for follows in (f"{ids.MAP}.figure", f"{ids.KPI_CARDS}.children"):
        key = next(k for k in demo_app.callback_map if follows in k)
        assert {f"{ids.INDICATOR}.value", f"{ids.RADIUS}.value"} <= _props(
            demo_app.callback_map[key]["inputs"]
        )
    assert set(overview.CHART_FILTERS) == set(overview.FILTERS)
