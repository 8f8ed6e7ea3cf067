import pytest

from callbacks import scenario_plan as plan_cb
from callbacks import scenario_run as run_cb
from callbacks import scenarios as scn
from dashapp import ids, services
from data.scenarios import get_scenario, list_scenarios
from layouts.maps import SITE_COLORS, site_index
from optimization.whatif import WhatIf

DOC_TYPES = ("ACTE", "CNI", "PASS")
DOC_IDS = [ids.scn_growth_doc(d) for d in DOC_TYPES]


def _panel(**changes) -> dict:
    """The panel as the page first shows it (WhatIf's defaults, every document
    type), with two new centers (the runs below count them) and ``changes``."""
    values = WhatIf(new_centers=2).to_dict()
    del values["sites"], values["added"]  # the map's choices, below
    return {
        **values,
        "doc_types": list(DOC_TYPES),
        "growth_by_doc_pct": {"values": [0, 0, 0], "ids": DOC_IDS},
        "map_choices": {"sites": {}, "added": []},
        **changes,
    }


pytestmark = pytest.mark.writes_demo  # runs save scenarios


@pytest.fixture
def dataset_id(call):
    return call(lambda: services.context(scn.current_config().database_url).info.id)


def test_instant_evaluation_reacts_to_choices(call, dataset_id):
    table, choices, messages = call(
        plan_cb.evaluate_plan, _panel(), None, dataset_id, "fr"
    )
    assert messages == [] and "Aucun choix" in str(choices)
    row = {"index": "open_centers", "type": "scn-kpi-row"}
    assert row in [r.id for r in table.children[0].children[1].children]
    closed = {"sites": {"SC001": "closed", "SC002": "closed"}, "added": []}
    table2, choices2, _ = call(
        plan_cb.evaluate_plan, _panel(map_choices=closed), None, dataset_id, "en"
    )
    rows = {r.id["index"]: r for r in table2.children[0].children[1].children}
    today, as_set = (rows["open_centers"].children[i].children for i in (1, 2))
    assert (today, as_set) == ("50", "48")
    assert "to close" in str(choices2)


def test_invalid_parameters_give_a_message_not_an_error(call, dataset_id):
    out = call(
        plan_cb.evaluate_plan,
        _panel(new_centers=-4, growth_pct=5000),
        None,
        dataset_id,
        "fr",
    )
    assert "Nouveaux centres" in str(out[2]) and "Croissance" in str(out[2])


@pytest.mark.parametrize(
    ("changes", "label"),
    [
        ({"radius_km": -5}, "Rayon R (km) : -5 n'est pas entre 0,1 et 1"),
        ({"radius_km": None}, "Rayon R (km) : valeur vide"),  # what the browser sends
        ({"radius_km": 0}, "Rayon R (km) : 0 n'est pas entre"),
        ({"new_centers": -1}, "Nouveaux centres : -1 n'est pas entre 0 et 500"),
        ({"time_limit_s": 99999}, "Temps max. (s) : 99999 n'est pas entre 1 et 3"),
        ({"new_centers": ""}, "Nouveaux centres : valeur vide"),
    ],
)
def test_unusable_values_are_named_and_nothing_runs(
    call, demo_app, dataset_id, changes, label
):
    config = demo_app.server.config["DASHAPP"]
    store = services.get_store(config.database_url)
    before = len(list_scenarios(store))
    result, status = call(
        run_cb.run_optimisation,
        config,
        lambda _: None,
        1,
        _panel(**changes),
        dataset_id,
        "fr",
    )
    assert result is None and label in str(status)
    assert "Rien n'a été calculé" in str(status)
    assert len(list_scenarios(store)) == before  # no default ran in its place


def test_unusable_fields_are_flagged_beside_the_field(call):
    from layouts.scenarios import NUMBER_FIELDS

    values = {**_panel(radius_km=-5, time_limit_s=None)}
    flags = call(run_cb.mark_invalid, *(values[f] for f in NUMBER_FIELDS))
    flagged = {f for f, bad in zip(NUMBER_FIELDS, flags, strict=True) if bad}
    assert flagged == {"radius_km", "time_limit_s"}
    assert not any(call(run_cb.mark_invalid, *(_panel()[f] for f in NUMBER_FIELDS)))


def _zoomed(zoom: float) -> dict:
    """The map's relayoutData after the user zoomed to ``zoom`` (any corners)."""
    corners = [[-4.0, 13.0], [-3.0, 13.0], [-3.0, 12.0], [-4.0, 12.0]]
    return {"map.zoom": zoom, "map._derived": {"coordinates": corners}}


def test_a_click_where_a_center_and_a_candidate_overlap_selects_the_center(
    call, dataset_id
):
    # in the demo, candidate CS001 stands 0.3 km from center SC006: one dot at the
    # country's zoom, where plotly reports the candidate under the pointer
    def click(code, relayout):
        return call(
            scn.toggle_site,
            {"points": [{"id": code}]},
            None,
            "toggle",
            {"sites": {}, "added": []},
            dataset_id,
            relayout,
            trigger=f"{ids.SCN_MAP}.clickData",
        )["sites"]

    assert click("CS001", None) == {"SC006": "locked"}  # the first view
    assert click("CS001", _zoomed(6.0)) == {"SC006": "locked"}
    assert click("CS001", _zoomed(13.0)) == {"CS001": "locked"}  # zoomed in: apart
    assert click("SC006", _zoomed(6.0)) == {"SC006": "locked"}
    # a forged relayoutData reads as no zoom at all: the first view's rule
    assert click("CS001", {"map.zoom": "x"}) == {"SC006": "locked"}
    assert click("CS002", _zoomed(6.0)) == {"CS002": "locked"}  # alone


def test_a_click_reads_the_zoom_of_the_browsers_fit_of_the_zone_shown(
    call, demo_app, dataset_id
):
    # the map drawn for a 700 px map is fitted to its real width in the browser
    # (assets/mapfit.js), which reports that fit: a click reads its zoom
    config = demo_app.server.config["DASHAPP"]
    dctx = services.context(config.database_url, dataset_id)
    zone = dctx.units_at(1)["code"].iloc[0]

    def click(relayout, zone=None):
        return call(
            scn.toggle_site,
            {"points": [{"id": "CS001"}]},
            None,
            "toggle",
            {"sites": {}, "added": []},
            dataset_id,
            relayout,
            zone,
            trigger=f"{ids.SCN_MAP}.clickData",
        )["sites"]

    def fit(view, zoom):
        return {"map.center": view["center"], "map.zoom": zoom}

    country = scn.map_area_view(dctx, None)
    assert click(fit(country, 13.0)) == {"CS001": "locked"}  # a fit on a wide map
    assert click(fit(country, country["zoom"] - 1)) == {"SC006": "locked"}
    # a fit reported for the country while the map shows one zone: not this map's
    region = scn.map_area_view(dctx, zone)
    far = {"lon": country["fit"][0] - 1.0, "lat": country["fit"][1] - 1.0}
    assert click(None, zone) == {"CS001": "locked"}  # the zone's first view: apart
    assert click({"map.center": far, "map.zoom": 5.0}, zone) == {"CS001": "locked"}
    assert click(fit(region, 5.0), zone) == {"SC006": "locked"}  # the zone's fit
    assert region["zoom"] > country["zoom"]
    for forged in ("no-such-zone", ["R01"], {"code": zone}, 7):
        assert scn.map_area_view(dctx, forged) == country


def test_map_clicks_cycle_site_states_and_add_sites(call, dataset_id):
    click = {"points": [{"id": "SC001"}]}
    state = {"sites": {}, "added": []}
    seen = []
    for _ in range(3):
        state = call(
            scn.toggle_site,
            click,
            None,
            "toggle",
            state,
            dataset_id,
            trigger=f"{ids.SCN_MAP}.clickData",
        )
        seen.append(state["sites"].get("SC001"))
    assert seen == ["locked", "closed", None]
    cand = call(
        scn.toggle_site,
        {"points": [{"id": "CS001"}]},
        None,
        "toggle",
        {"sites": {"CS001": "locked"}, "added": []},
        dataset_id,
        _zoomed(12.0),  # CS001 lies next to a center: apart at this zoom
        trigger=f"{ids.SCN_MAP}.clickData",
    )
    assert cand["sites"]["CS001"] == "forbidden"
    added = call(
        scn.toggle_site,
        {"points": [{"location": "R01D01C002"}]},
        None,
        "add",
        state,
        dataset_id,
        trigger=f"{ids.SCN_MAP}.clickData",
    )
    assert added["added"] == ["R01D01C002"]
    cleared = call(
        scn.toggle_site,
        None,
        1,
        "toggle",
        added,
        dataset_id,
        trigger=f"{ids.SCN_SITES_RESET}.n_clicks",
    )
    assert cleared == {"sites": {}, "added": []}


def test_map_shows_the_plan_then_the_proposal(call, dataset_id):
    fig = call(
        plan_cb.draw_map,
        "plan",
        None,
        None,
        "distance",
        _panel(map_choices={"sites": {"SC001": "closed"}, "added": ["R01D01C002"]}),
        dataset_id,
        "fr",
    )
    markers = fig["data"][site_index()]
    i = markers["ids"].index("SC001")
    assert markers["marker"]["color"][i] == SITE_COLORS["closed"]
    assert markers["ids"][-1] == "NEW-R01D01C002"


def test_run_saves_the_scenario_and_shows_the_result(call, demo_app, dataset_id):
    config = demo_app.server.config["DASHAPP"]
    progress = []
    result, status = call(
        run_cb.run_optimisation,
        config,
        progress.append,
        1,
        _panel(),
        dataset_id,
        "fr",
    )
    assert "optimal" in str(status) and progress[-1] == ""
    record = get_scenario(services.get_store(config.database_url), result["id"])
    assert record.status == "optimal" and record.params["whatif"]["new_centers"] == 2
    # what is saved is exactly what ran: the panel's values, none replaced
    assert record.params["whatif"] == WhatIf.from_panel(_panel()).to_dict()
    assert (record.centers["status"] == "opened").sum() == 2
    deltas, centers, communes = call(run_cb.show_result, result, None, "fr", dataset_id)
    assert "Proposition" in str(deltas)
    assert len(centers[1].rowData) == 52 and len(communes[1].rowData) == 400
    fig = call(
        plan_cb.draw_map,
        "result",
        result,
        None,
        "distance",
        _panel(),
        dataset_id,
        "fr",
    )
    assert SITE_COLORS["opened"] in fig["data"][site_index()]["marker"]["color"]


def test_infeasible_run_explains_and_saves_nothing(call, demo_app, dataset_id):
    config = demo_app.server.config["DASHAPP"]
    store = services.get_store(config.database_url)
    before = len(list_scenarios(store))
    result, status = call(
        run_cb.run_optimisation,
        config,
        lambda _: None,
        1,
        _panel(objective="fewest", radius_km=2, new_centers=0),
        dataset_id,
        "en",
    )
    assert result is None and "cannot be solved" in str(status)
    assert "km from every allowed site" in str(status)
    assert len(list_scenarios(store)) == before


def test_forecast_demand_is_used_and_recorded(call, demo_app, dataset_id):
    config = demo_app.server.config["DASHAPP"]
    table, _, messages = call(
        plan_cb.evaluate_plan,
        _panel(demand_source="forecast", forecast_weeks=8),
        None,
        dataset_id,
        "fr",
    )
    assert messages == []
    result, status = call(
        run_cb.run_optimisation,
        config,
        lambda _: None,
        1,
        _panel(demand_source="forecast", forecast_weeks=8),
        dataset_id,
        "fr",
    )
    record = get_scenario(services.get_store(config.database_url), result["id"])
    assert record.params["whatif"]["demand_source"] == "forecast"
    assert record.params["whatif"]["forecast_weeks"] == 8
    today = call(
        run_cb.run_optimisation,
        config,
        lambda _: None,
        1,
        _panel(),
        dataset_id,
        "fr",
    )[0]
    other = get_scenario(services.get_store(config.database_url), today["id"])
    assert record.communes["demand"].sum() != pytest.approx(
        other.communes["demand"].sum()
    )


def test_the_area_scopes_kpis_tables_and_map(call, demo_app, dataset_id):
    config = demo_app.server.config["DASHAPP"]
    ctx = services.context(config.database_url, dataset_id)
    region = ctx.units_at(0)["code"].iloc[1]
    in_region = ctx.centers[ctx.centers["ancestor_0"] == region]
    table, _, _ = call(plan_cb.evaluate_plan, _panel(), region, dataset_id, "fr")
    rows = {r.id["index"]: r for r in table.children[0].children[1].children}
    assert rows["open_centers"].children[1].children == str(len(in_region))
    result, _ = call(
        run_cb.run_optimisation,
        config,
        lambda _: None,
        1,
        _panel(),
        dataset_id,
        "fr",
    )
    _, _, communes = call(run_cb.show_result, result, region, "fr", dataset_id)
    n_region = int((ctx.communes()["ancestor_0"] == region).sum())
    assert len(communes[1].rowData) == n_region
    fig = call(
        plan_cb.draw_map,
        "result",
        result,
        region,
        "change",
        _panel(),
        dataset_id,
        "fr",
    )
    record = get_scenario(services.get_store(config.database_url), result["id"])
    expected = (record.communes["distance"] - record.communes["distance_before"]).round(
        1
    )
    assert fig["data"][1]["z"] == [None if v != v else v for v in expected.tolist()]
    assert fig["data"][1]["colorbar"]["title"]["text"] == "Δ km"


def test_a_shorter_period_changes_the_demand_evaluated(call, demo_app, dataset_id):
    config = demo_app.server.config["DASHAPP"]
    ctx = services.context(config.database_url, dataset_id)
    last = ctx.weeks[-1].isoformat()
    result, _ = call(
        run_cb.run_optimisation,
        config,
        lambda _: None,
        1,
        _panel(period_start=last, period_end=last),
        dataset_id,
        "fr",
    )
    record = get_scenario(services.get_store(config.database_url), result["id"])
    assert record.params["whatif"]["period_start"] == last
    base = services.workspace(config.database_url, dataset_id)
    one_week = base.demand_for_period(last, last)
    assert record.communes["demand"].sum() == pytest.approx(one_week.to_numpy().sum())
    assert one_week.to_numpy().sum() != pytest.approx(
        base.demand_by_doc.to_numpy().sum()
    )


def test_too_large_or_siteless_datasets_get_a_message(call, monkeypatch):
    monkeypatch.setattr(scn, "SCREEN_MAX_PAIRS", 100)
    page = call(scn.render, "", "en", None)
    assert page.id == "scn-too-large" and "400 communes" in str(page.children)


def test_a_dataset_without_sites_opens_with_a_notice(call, demo_app):
    from tests.tiny import tiny_bundle

    bundle = tiny_bundle()
    bundle.centers = bundle.centers.iloc[0:0]
    bundle.candidates = bundle.candidates.iloc[0:0]
    bundle.operations = bundle.operations.iloc[0:0]
    store = services.get_store(demo_app.server.config["DASHAPP"].database_url)
    info = store.add_dataset(bundle, kind="imported", activate=False)
    page = call(scn.render, "", "fr", info.id)
    # the workspace itself, so sites can be added by clicking the map
    assert "scn-no-sites" in repr(page) and ids.SCN_MAP in repr(page)


def test_running_text_shows_time_then_plan_bound_and_gap():
    assert run_cb.running_text({}, 3.2, "fr") == "Optimisation en cours : 3 s"
    snap = {"objective": 1234.5, "bound": 1200.0, "gap": 0.0279}
    fr = run_cb.running_text(snap, 12.0, "fr")
    assert fr.startswith("Optimisation en cours : 12 s · meilleur plan ")
    assert "borne " in fr and "écart 2,79 %" in fr
    en = run_cb.running_text({"bound": 10.0}, 1.0, "en")
    assert en == "Optimising: 1 s · bound 10.0"
