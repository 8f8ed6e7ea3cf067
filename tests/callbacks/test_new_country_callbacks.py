"""A new country (boundaries and population, no center) planned from the screen."""

from __future__ import annotations

import dataclasses

import pytest

from callbacks import scenarios as scn
from dashapp import create_app, ids, services
from dashapp.config import Config
from data.scenarios import get_scenario
from data.store import Store
from geo.access import nearest_center
from tests.tiny import new_country_bundle, tiny_bundle

DOC_IDS = [ids.scn_growth_doc(d) for d in ("A", "B")]


def _values(new=2, added=(), **changes):
    values = {
        "objective": "distance",
        "new": new,
        "budget": None,
        "closing_cost": 0,
        "module_size": None,
        "module_cost": 0,
        "radius": 20,
        "growth": 0,
        "years": 1,
        "doc_growth": [0, 0],
        "capacity": 0,
        "closures": False,
        "capacitated": False,
        "min_cov": None,
        "max_dist": None,
        "time_limit": 30,
        "demand_source": "today",
        "forecast_weeks": 12,
        "period_start": None,
        "period_end": None,
        "doc_types": ["A", "B"],
        "sites": {"sites": {}, "added": list(added)},
        **changes,
    }
    return list(values.values())


def _data_dir(path, bundle):
    store = Store(f"sqlite:///{path / 'dashapp.sqlite'}")
    store.upgrade()
    store.add_dataset(bundle, kind="imported", access=nearest_center)
    store.engine.dispose()
    return path


@pytest.fixture
def demo_app(tmp_path):
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
            scn.evaluate_plan, *_values(added=added), None, DOC_IDS, dataset_id, "fr"
        )
        assert messages == [] and "scn-kpi-row" in str(table)
        fig = call(
            scn.draw_map, "plan", None, None, "distance",
            *_values(added=added), DOC_IDS, dataset_id, "fr",
        )  # fmt: skip
        assert len(fig["data"][2]["lon"]) == len(added)


def test_pmedian_for_two_new_centers_among_added_sites_is_optimal(
    call, demo_app, dataset_id
):
    config = demo_app.server.config["DASHAPP"]
    result, status = call(
        scn.run_optimisation, config, lambda _: None, 1,
        *_values(new=2, added=["C1", "C2", "C4"]),
        DOC_IDS, dataset_id, "en",
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


def test_a_run_without_any_site_says_how_to_add_some(call, demo_app, dataset_id):
    config = demo_app.server.config["DASHAPP"]
    result, status = call(
        scn.run_optimisation, config, lambda _: None, 1,
        *_values(new=2), DOC_IDS, dataset_id, "en",
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
    base = services.scenario_base(config.database_url, dctx.info.id)
    assert all(c != c for c in base.network.center_capacity)  # NaN: unknown
    from optimization.results import network_kpis
    from optimization.whatif import WhatIf, evaluate_as_is

    demand = base.demand_by_doc.sum(axis=1).to_numpy()
    capacity = [*base.network.center_capacity, *base.network.candidate_capacity]
    assignment, open_mask, kpis = evaluate_as_is(
        base.cost, demand, base.site_ids, capacity, base.n_existing, WhatIf()
    )
    assert kpis["overloaded_centers"] == 0 and kpis["unmet_demand"] == 0.0
    zone = network_kpis(base.cost, demand, open_mask, assignment, capacity, 20.0)
    assert zone["overloaded_centers"] == 0 and zone["unmet_demand"] == 0.0
