"""A new country (boundaries and population, no center) planned from the screen."""

from __future__ import annotations

import dataclasses

import pytest

from callbacks import scenario_plan as plan_cb
from callbacks import scenario_run as run_cb
from callbacks import scenarios as scn
from dashapp import create_app, ids, services
from dashapp.config import Config
from data.scenarios import get_scenario
from data.store import Store
from geo.access import nearest_center
from layouts.maps import site_index
from optimization.whatif import WhatIf
from tests.tiny import new_country_bundle, tiny_bundle

DOC_IDS = [ids.scn_growth_doc(d) for d in ("A", "B")]


def _panel(new_centers=2, added=(), **changes) -> dict:
    """The panel as the page first shows it, ``new_centers`` and ``added`` sites."""
    values = WhatIf(new_centers=new_centers).to_dict()
    del values["sites"], values["added"]  # the map's choices, below
    return {
        **values,
        "doc_types": ["A", "B"],
        "growth_by_doc_pct": {"values": [0, 0], "ids": DOC_IDS},
        "map_choices": {"sites": {}, "added": list(added)},
        **changes,
    }


def _data_dir(path, bundle):
    store = Store(f"sqlite:///{path / 'dashapp.sqlite'}")
    store.upgrade()
    store.add_dataset(bundle, kind="imported", access=nearest_center)
    store.engine.dispose()
    return path


@pytest.fixture
def app(tmp_path):
    """The app on a store whose only (active) dataset has no center and no site."""
    return create_app(Config(data_dir=_data_dir(tmp_path, new_country_bundle())))


@pytest.fixture
def dataset_id(call):
    return call(lambda: services.context(scn.current_config().database_url).info.id)


def _find(component, target):
    if getattr(component, "id", None) == target:
        return component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, (list, tuple)) else [children]:
        if hasattr(child, "to_plotly_json"):
            found = _find(child, target)
            if found is not None:
                return found
    return None


def test_the_page_opens_with_a_notice_and_clicks_add_sites(call, dataset_id):
    page = call(scn.render, "", "en", dataset_id)
    notice = _find(page, "scn-no-sites")
    assert notice is not None and "no center and no candidate site" in str(notice)
    assert "add a site in the commune" in str(notice.children)
    assert _find(page, "scn-estimated-demand") is not None
    assert _find(page, ids.SCN_MAP) is not None
    assert _find(page, ids.SCN_CLICK_MODE).value == "add"
    assert _find(page, ids.SCN_RUN) is not None


def test_clicks_add_sites_and_the_map_and_kpis_draw_without_any(call, dataset_id):
    state = {"sites": {}, "added": []}
    for commune in ("C1", "C2", "C4"):
        click = {"points": [{"location": commune}]}
        state = call(
            scn.toggle_site, click, None, "add", state, dataset_id,
            trigger=f"{ids.SCN_MAP}.clickData",
        )  # fmt: skip
    assert state == {"sites": {}, "added": ["C1", "C2", "C4"]}
    for added in ((), state["added"]):
        table, _, messages = call(
            plan_cb.evaluate_plan, _panel(added=added), None, dataset_id, "fr"
        )
        assert messages == [] and "scn-kpi-row" in str(table)
        fig = call(
            plan_cb.draw_map, "plan", None, None, "distance",
            _panel(added=added), dataset_id, "fr",
        )  # fmt: skip
        lon = fig["data"][site_index()]["lon"]
        assert len([x for x in lon if x is not None]) == len(added)


def test_pmedian_for_two_new_centers_among_added_sites_is_optimal(
    call, app, dataset_id
):
    config = app.server.config["DASHAPP"]
    result, status = call(
        run_cb.run_optimisation, config, lambda _: None, 1,
        _panel(new_centers=2, added=["C1", "C2", "C4"]),
        dataset_id, "en",
    )  # fmt: skip
    assert result is not None, status
    assert "optimal" in str(status) and "TypeError" not in str(status)
    record = get_scenario(services.get_store(config.database_url), result["id"])
    assert record.status == "optimal"
    assert (record.centers["status"] == "opened").sum() == 2
    assert record.communes["site_id"].notna().all()
    assert record.summary["kpis"]["before"]["open_centers"] == 0
    # demand is the import's estimate from population (the page says so), not 0
    assert record.communes["demand"].sum() == pytest.approx(115.384, abs=0.01)


def test_a_run_without_any_site_says_how_to_add_some(call, app, dataset_id):
    config = app.server.config["DASHAPP"]
    result, status = call(
        run_cb.run_optimisation, config, lambda _: None, 1,
        _panel(new_centers=2), dataset_id, "en",
    )  # fmt: skip
    assert result is None
    assert "no active center and no candidate site" in str(status)
    assert "clicks on the map" in str(status) and "Error" not in str(status)


def test_centers_without_capacity_are_never_overloaded(call, tmp_path):
    """Capacity 0 is what the import stores when the file has none."""
    bundle = tiny_bundle()
    bundle = dataclasses.replace(bundle, centers=bundle.centers.assign(capacity_week=0))
    (tmp_path / "nocap").mkdir()
    app = create_app(Config(data_dir=_data_dir(tmp_path / "nocap", bundle)))
    config = app.server.config["DASHAPP"]
    dctx = services.context(config.database_url)
    notes = scn.data_notices(config, dctx, 3, "en")
    assert [n.id for n in notes] == ["scn-unknown-capacity"]
    assert "2 center(s) without a known capacity" in str(notes[0].children)
    base = services.workspace(config.database_url, dctx.info.id)
    assert all(c != c for c in base.network.center_capacity)  # NaN: unknown
    from optimization.results import network_kpis
    from optimization.whatif import evaluate_as_is

    demand = base.demand_by_doc.sum(axis=1).to_numpy()
    capacity = [*base.network.center_capacity, *base.network.candidate_capacity]
    assignment, open_mask, kpis = evaluate_as_is(
        base.cost, demand, base.site_ids, capacity, base.n_existing, WhatIf()
    )
    assert kpis["overloaded_centers"] == 0 and kpis["unmet_demand"] == 0.0
    zone = network_kpis(base.cost, demand, open_mask, assignment, capacity, 20.0)
    assert zone["overloaded_centers"] == 0 and zone["unmet_demand"] == 0.0
