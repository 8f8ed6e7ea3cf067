"""The scenario panel's defaults are WhatIf's; KPIs without a value read n.d."""

import pandas as pd
import pytest

from layouts.scenario_results import kpi_table
from layouts.scenarios import parameter_panel
from optimization.whatif import PanelError, WhatIf

DOCS = pd.DataFrame({"code": ["A"], "name_fr": ["Doc A"], "name_en": ["Doc A"]})


def _value(tree, target):
    """The ``value`` of the component with id ``target``."""
    if getattr(tree, "id", None) == target:
        return tree.value
    children = getattr(tree, "children", None)
    for child in children if isinstance(children, (list, tuple)) else [children]:
        if hasattr(child, "to_plotly_json"):
            found = _value(child, target)
            if found is not None:
                return found
    return None


def test_the_panel_shows_whatif_defaults_and_empty_fields_are_named_not_replaced():
    from dashapp import ids

    panel = parameter_panel(DOCS, "fr")
    defaults = WhatIf()
    assert (defaults.new_centers, defaults.time_limit_s) == (3, 30.0)
    assert _value(panel, ids.SCN_NEW) == defaults.new_centers
    assert _value(panel, ids.SCN_TIME_LIMIT) == defaults.time_limit_s
    assert _value(panel, ids.SCN_RADIUS) == defaults.radius_km
    # an emptied field is never silently replaced by its default: each is named
    with pytest.raises(PanelError) as caught:
        WhatIf.from_panel({"new_centers": None, "time_limit_s": "", "radius_km": None})
    assert {(p.field, p.reason) for p in caught.value.problems} == {
        ("new_centers", "empty"),
        ("time_limit_s", "empty"),
        ("radius_km", "empty"),
    }


def test_kpis_without_a_value_read_nd_and_no_difference():
    table = kpi_table(
        {"mean_distance": float("nan"), "open_centers": 2},
        {"mean_distance": 4.0, "open_centers": 3},
        "fr",
        ("Aujourd'hui", "Proposition"),
    )
    rows = {r.id["index"]: r for r in table.children[1].children}
    before, after, delta = (
        rows["mean_distance"].children[i].children for i in (1, 2, 3)
    )
    assert (before, after, delta) == ("n.d.", "4,0", "")
    assert set(rows) == {"mean_distance", "open_centers"}  # the rest not computed


def test_grid_records_are_the_frames_records():
    """The result grids' rows (layouts.scenarios.records) are what
    ``to_dict("records")`` gives: same keys, values and types, missing values too."""
    import json

    import numpy as np
    import pandas as pd

    from layouts.scenarios import records

    frame = pd.DataFrame(
        {
            "site_id": pd.array(["S1", None, "S3"], dtype="str"),
            "distance": [1.5, np.nan, 0.0],
            "communes": np.array([3, 0, 7], dtype="int64"),
            "existing": [True, False, True],
            "other": pd.Series([None, "x", 2], dtype=object),
        }
    )
    fast, slow = records(frame), frame.to_dict("records")
    assert json.dumps(fast) == json.dumps(slow)  # NaN written alike
    assert [[type(v) for v in r.values()] for r in fast] == [
        [type(v) for v in r.values()] for r in slow
    ]
    assert records(frame.iloc[:0]) == [] == frame.iloc[:0].to_dict("records")
