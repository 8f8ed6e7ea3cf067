"""Forged map choices through Dash's endpoint: refused in words, before any
evaluation.

A viewer's 20,000 repeats of one commune in ``scn-sites.data`` kept the server
busy 7 s (60,000: a minute) building the network. The world and the helpers are
the hostile suite's.
"""

from __future__ import annotations

import shutil

import pytest
from dash import Input

from callbacks import scenario_plan
from callbacks.scenarios import panel
from dashapp import ids, services
from dashapp.i18n import t
from optimization.whatif import WhatIf
from optimization.workspace import Workspace
from tests.callbacks.test_hostile_requests import (
    DATASET,
    _world,
    call,
    outputs,
    prop,
    texts,
    unchanged,
)

SITES = prop(ids.SCN_SITES, "data")
REPEATS = 20_000  # 0.3 MB of JSON: 7 s of server time before the check


def _panel_state(world, sites=None, added=None) -> dict:
    """The panel at its defaults as the browser sends it, with these map choices."""
    defaults = WhatIf().to_dict()
    state = {
        prop(dep.component_id, dep.component_property): defaults[name]
        for name, dep in panel(Input).items()
        if name not in ("growth_by_doc_pct", "map_choices")
    }
    state[SITES] = {"sites": sites or {}, "added": added or []}
    state[DATASET] = world.dataset
    return state


def _commune(world) -> str:
    ws = services.workspace(world.config.database_url, world.dataset)
    return str(ws.network.commune_ids[0])


@pytest.fixture(scope="module")
def world(demo_dir, tmp_path_factory):
    """The demo country on a private data folder, its users signed in."""
    root = tmp_path_factory.mktemp("whatif-hostile")
    shutil.copytree(demo_dir, root / "data")
    world = _world(root, root / "data")
    yield world
    world.snapshots.close()


@pytest.fixture
def plans(monkeypatch):
    """The what-ifs the workspace planned (evaluation, map), as they came."""
    seen = []
    original = Workspace.plan

    def plan(self, whatif, *args, **kwargs):
        seen.append(whatif)
        return original(self, whatif, *args, **kwargs)

    monkeypatch.setattr(Workspace, "plan", plan)
    return seen


def _label(field: str) -> str:
    return t(f"scn.field.{field}", "en")


def test_a_viewers_repeated_commune_is_refused_before_any_evaluation(world, plans):
    code = _commune(world)
    state = _panel_state(world, added=[code] * REPEATS)
    with unchanged(world):
        evaluated = call(world, "viewer", scenario_plan.evaluate_plan, state,
                         prop(ids.SCN_NEW, "value"))  # fmt: skip
        drawn = call(world, "viewer", scenario_plan.draw_map,
                     {**state, prop(ids.SCN_VIEW, "value"): "plan"},
                     prop(ids.SCN_VIEW, "value"))  # fmt: skip
    assert evaluated.status_code == 200, evaluated.data[:300]
    refusal = t("scn.problem.repeated", "en", field=_label("added"), value=repr(code))
    assert refusal in texts(evaluated)
    assert len(evaluated.data) < 5_000  # the list is not sent back
    assert outputs(drawn) == {}  # the map stays as drawn
    assert plans == []  # nothing was planned, evaluated or drawn


def test_a_viewers_list_of_unknown_communes_is_refused_by_its_length(world, plans):
    state = _panel_state(world, added=[f"X{i}" for i in range(REPEATS)])
    with unchanged(world):
        evaluated = call(world, "viewer", scenario_plan.evaluate_plan, state,
                         prop(ids.SCN_NEW, "value"))  # fmt: skip
    assert evaluated.status_code == 200, evaluated.data[:300]
    n = len(services.workspace(world.config.database_url, world.dataset).network.lon)
    refusal = t("scn.problem.too_many", "en", field=_label("added"),
                value=f"{REPEATS:,}", high=f"{min(n, 500):,}")  # fmt: skip
    assert refusal in texts(evaluated)
    assert len(evaluated.data) < 5_000
    assert len(plans) == 1 and len(plans[0].added) == REPEATS  # refused there


def test_site_choices_of_the_wrong_kind_are_refused_by_name(world, plans):
    state = _panel_state(world, sites={"NOPE": "locked"})
    evaluated = call(world, "viewer", scenario_plan.evaluate_plan, state,
                     prop(ids.SCN_NEW, "value"))  # fmt: skip
    refusal = t("scn.problem.unknown", "en", field=_label("sites"), value="'NOPE'")
    assert refusal in texts(evaluated)
    state[SITES] = {"sites": 5, "added": []}
    evaluated = call(world, "viewer", scenario_plan.evaluate_plan, state,
                     prop(ids.SCN_NEW, "value"))  # fmt: skip
    refusal = t("scn.problem.type", "en", field=_label("sites"), value="int")
    assert refusal in texts(evaluated)
