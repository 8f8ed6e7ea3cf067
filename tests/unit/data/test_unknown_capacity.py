"""A center imported without a capacity (stored as 0) has an unknown capacity: no
utilisation and never drawn as overloaded on the main screen."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from data import views
from data.store import Store
from geo.access import nearest_center
from layouts import maps
from layouts.figures import capacity_chart
from tests.tiny import tiny_bundle


def test_center_table_gives_no_utilisation_for_an_unknown_capacity(tmp_path):
    bundle = tiny_bundle()
    centers = bundle.centers.assign(capacity_week=[0, 50])
    store = Store(f"sqlite:///{tmp_path / 'x.sqlite'}")
    store.upgrade()
    store.add_dataset(
        dataclasses.replace(bundle, centers=centers),
        kind="imported",
        access=nearest_center,
    )
    ctx = views.load_context(store)
    ids = dict(zip(ctx.centers["code"], ctx.centers["id"], strict=True))
    per_center = pd.DataFrame(
        {"row_id": [ids["S1"], ids["S2"]], "center_requests": [40.0, 120.0]}
    )
    table = views.center_table(ctx, per_center, 2).set_index("code")
    assert np.isnan(table.loc["S1", "utilisation"])
    assert table.loc["S2", "utilisation"] == 120.0


def test_capacity_chart_never_marks_an_unknown_capacity_overloaded():
    frame = pd.DataFrame(
        {"name": ["a", "b"], "capacity_week": [0.0, 10.0], "demand_week": [5.0, 20.0]}
    )
    fig = capacity_chart(frame, "name", "fr")
    bars = fig["data"][1]
    colors = dict(zip(bars["y"], bars["marker"]["color"], strict=True))
    # a: not overloaded (capacity unknown), b: overloaded, in the one palette's ends
    assert colors == {"a": maps.DIVERGING[0][1], "b": maps.DIVERGING[-1][1]}
    assert maps.DIVERGING[0][1] != maps.DIVERGING[-1][1]
