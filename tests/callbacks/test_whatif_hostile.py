"""Forged map choices and saved what-ifs through Dash's endpoint: refused in words,
before any evaluation, and never saved for others to open.

A viewer's 20,000 repeats of one commune in ``scn-sites.data`` kept the server
busy 7 s (60,000: a minute) building the network; a planner could save such a
draft, or ``{"sites": 5}``, and every visitor of its link waited or met an
unexpected error. The world and the helpers are the hostile suite's.
"""

from __future__ import annotations

import json
import shutil

import pytest
from dash import Input
from sqlalchemy import text

from callbacks import scenario_library, scenario_plan, shell
from callbacks.scenarios import panel
from dashapp import ids, services
from dashapp.i18n import t
from data.scenarios import get_scenario, save_scenario
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
DRAFT = prop(ids.SCN_DRAFT, "data")
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


def _save(world, who, draft):
    return call(
        world, who, scenario_library.manage,
        {prop(ids.SCN_SAVE, "n_clicks"): 1, prop(ids.SCN_NAME, "value"): "Piège",
         DRAFT: draft},
        prop(ids.SCN_SAVE, "n_clicks"),
    )  # fmt: skip


# forged value (REPEATED: one commune 20,000 times), field named, reason, value quoted
FORGED = {
    "repeated-commune": ("REPEATED", "added", "repeated", "CODE"),
    "sites-not-a-mapping": ({"sites": 5}, "sites", "type", "int"),
    "unknown-site": ({"sites": {"NOPE": "closed"}}, "sites", "unknown", "'NOPE'"),
    "unknown-key": ({"objective": [1], "colour": 2}, "parameters", "unknown",
                    "'colour'"),
    "not-a-mapping": (["a", "list"], "parameters", "type", "list"),
}  # fmt: skip


def _forged(world, name: str) -> tuple:
    """The forged what-if ``name`` and the refusal it should get, in English."""
    whatif, field, reason, value = FORGED[name]
    code = _commune(world)
    if whatif == "REPEATED":
        whatif = {"added": [code] * REPEATS, "radius_km": 7}
    value = repr(code) if value == "CODE" else value
    return whatif, t(f"scn.problem.{reason}", "en", field=_label(field), value=value)


@pytest.mark.parametrize("name", list(FORGED))
def test_a_planners_forged_draft_is_not_saved(world, name):
    draft, refusal = _forged(world, name)
    with unchanged(world):
        response = _save(world, "planner", draft)
    assert response.status_code == 200, response.data[:300]
    said = texts(response)
    assert t("scn.draft_invalid", "en") in said and refusal in said
    assert ids.SCN_RESULT not in outputs(response)  # no scenario to show


def test_a_planners_valid_draft_is_saved_checked_and_whole(world):
    code = _commune(world)
    response = _save(world, "planner", {"added": [code], "objective": "coverage"})
    saved = outputs(response)[ids.SCN_RESULT]["data"]["id"]
    params = get_scenario(world.store, saved).params
    assert params["whatif"] == WhatIf(added=(code,), objective="coverage").to_dict()


def _component(node, component_id):
    """The JSON of the component with ``component_id`` in a Dash answer."""
    if isinstance(node, dict):
        if (node.get("props") or {}).get("id") == component_id:
            return node
        for value in node.values():
            found = _component(value, component_id)
            if found is not None:
                return found
    elif isinstance(node, list):
        for value in node:
            found = _component(value, component_id)
            if found is not None:
                return found
    return None


def _forged_row(world, whatif) -> int:
    """A saved scenario whose stored what-if is ``whatif``, written in the table
    as an old version or a hand-made row would have it."""
    boss = world.people["admin"]
    name = f"Ligne forgée {json.dumps(whatif)[:40]}"
    scenario_id = save_scenario(world.store, world.dataset, name, {"whatif": {}},
                                owner_id=boss.id).id  # fmt: skip
    with world.store.engine.begin() as conn:
        conn.execute(
            text("UPDATE scenarios SET params_json = :p WHERE id = :id"),
            {"p": json.dumps({"whatif": whatif}), "id": scenario_id},
        )
    return scenario_id


@pytest.mark.parametrize("name", list(FORGED))
def test_a_forged_saved_row_opens_at_the_defaults_with_a_notice(world, name):
    whatif, refusal = _forged(world, name)
    scenario_id = _forged_row(world, whatif)
    with unchanged(world):
        response = call(
            world, "viewer", shell.render_page,
            {prop(ids.URL, "pathname"): "/scenarios",
             prop(ids.URL, "search"): f"?scenario={scenario_id}", DATASET: world.dataset},
            prop(ids.URL, "pathname"),
        )  # fmt: skip
    assert response.status_code == 200, response.data[:300]
    said = texts(response)
    assert t("scn.saved_invalid", "en") in said and refusal in said
    page = response.get_json()
    assert _component(page, ids.SCN_SITES)["props"]["data"] == {
        "sites": {},
        "added": [],
    }
    radius = _component(page, ids.SCN_RADIUS)["props"]["value"]
    assert radius == WhatIf().radius_km  # the defaults, not the row's 7


def test_a_valid_saved_row_opens_as_saved(world):
    code = _commune(world)
    scenario_id = _forged_row(world, {"added": [code], "radius_km": 7})
    response = call(
        world, "viewer", shell.render_page,
        {prop(ids.URL, "pathname"): "/scenarios",
         prop(ids.URL, "search"): f"?scenario={scenario_id}", DATASET: world.dataset},
        prop(ids.URL, "pathname"),
    )  # fmt: skip
    page = response.get_json()
    assert t("scn.saved_invalid", "en") not in texts(response)
    assert _component(page, ids.SCN_SITES)["props"]["data"] == {
        "sites": {}, "added": [code]
    }  # fmt: skip
    assert _component(page, ids.SCN_RADIUS)["props"]["value"] == 7
