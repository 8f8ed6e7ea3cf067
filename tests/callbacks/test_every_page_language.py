"""Every screen, and its main states, in each language: no text from elsewhere.

Each page the router serves, the shell around it (navbar, help panel, guide),
and what the main callbacks draw (the overview's map, cards and charts; an
instant evaluation, a solved scenario's result; a forecast; a segmentation; an
import report) are rendered in French and in English. Every string a user can
read (:func:`tests.visible_text.visible_strings`) must be that language's:
a catalogue text, a KPI's name or rule, a name from the data, or no words at all.
An English word on the French screen, or a raw identifier, fails here.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from callbacks import forecast as fc_cb
from callbacks import overview, shell
from callbacks import road_profile as rp_cb
from callbacks import scenario_plan as plan_cb
from callbacks import scenario_run as run_cb
from callbacks import scenarios as scn
from callbacks import segmentation as seg_cb
from callbacks.shell import PAGES
from dashapp import ids, services
from dashapp.services import road_profiles
from dashapp.services.importing import issue_text
from data import users
from data.importers import Report
from data.indicators import DEFAULT_INDICATORS
from layouts import importer as imp_layout
from layouts.shell import shell as shell_layout
from optimization.whatif import WhatIf
from tests.callbacks.conftest import ADMIN
from tests.visible_text import LanguageCheck, visible_strings

pytestmark = pytest.mark.writes_demo  # a scenario is solved and saved

# product and format names, the same in every language
PROPER_NAMES = {"CSV", "Excel", "GeoJSON", "JSON", "PDF"}
# the import screen's example of level codes (what the field expects, typed as is)
LEVEL_CODES_EXAMPLE = "region,department,commune"
IMPORTED_FILE = "communes.geojson"  # the file the import report below names
ROAD_VALUES = {"1", "track", "proposed"}  # a road file's class values, as in the file


def _names(call) -> set[str]:
    """The data's own names: units, centers, sites, documents, levels, datasets,
    accounts."""

    def collect():
        config = shell.current_config()
        ctx = services.context(config.database_url)
        store = services.get_store(config.database_url)
        names = set(ctx.units["name"]) | set(ctx.centers["name"])
        with store.engine.connect() as conn:
            names |= {
                r[0] for r in conn.execute(text("SELECT name FROM candidate_sites"))
            }
        for column in ("name_fr", "name_en"):
            names |= set(ctx.doc_types[column]) | set(ctx.levels[column])
        names |= {d.name for d in store.datasets()}
        accounts = users.list_users(store)
        names |= set(accounts["username"]) | set(accounts["full_name"].dropna())
        # the audit log's details: the values recorded (names, files), keys worded
        for detail in users.audit_events(store, 500)["detail"]:
            values = json.loads(detail) if detail else {}
            for value in values.values() if isinstance(values, dict) else ():
                items = value if isinstance(value, list) else [value]
                names |= {v for v in items if isinstance(v, str)}
        return names | {"system", "anonymous", ADMIN.username}

    return (
        call(collect)
        | PROPER_NAMES
        | {LEVEL_CODES_EXAMPLE, IMPORTED_FILE}
        | ROAD_VALUES
    )


def _panel() -> dict:
    values = WhatIf(new_centers=2).to_dict()
    del values["sites"], values["added"]
    return {
        **values,
        "doc_types": ["ACTE", "CNI", "PASS"],
        "growth_by_doc_pct": {
            "values": [0, 0, 0],
            "ids": [ids.scn_growth_doc(d) for d in ("ACTE", "CNI", "PASS")],
        },
        "map_choices": {"sites": {}, "added": []},
    }


def _screens(call, demo_app, lang: str) -> dict[str, object]:
    """What each screen and state shows in ``lang``, by a name for the report."""
    config = demo_app.server.config["DASHAPP"]
    ctx = call(lambda: services.context(config.database_url))
    dataset = ctx.info.id
    shown: dict[str, object] = {
        "shell": shell_layout(lang, dataset, ctx.info.name, True, ADMIN, "csrf"),
    }
    for path in PAGES:
        shown[f"page {path}"] = call(shell.render_page, path, "", lang, dataset)
    shown["guide /"] = call(
        shell.help_and_guide,
        "/",
        None,
        None,
        None,
        [],
        lang,
        trigger=ids.URL + ".pathname",
    )
    # the overview: map, cards, capacity (both groupings), trend
    values = {
        "level": "commune",
        "indicator": "requests_per_1000",
        "areas": [None, None],
        "doc_types": ["ACTE", "CNI", "PASS"],
        "start": ctx.weeks[-52].isoformat(),
        "end": ctx.weeks[-1].isoformat(),
        "radius": 20,
    }
    shown["overview map"] = call(
        overview.update_map, values, None, None, dataset, lang
    )[0]  # the figure (the other outputs are the view and the layer's key)
    shown["overview cards"] = call(overview.update_kpis, values, dataset, lang)
    for mode in ("center", "department"):
        shown[f"capacity {mode}"] = call(
            overview.update_capacity, values, mode, dataset, lang
        )
    shown["trend"] = call(overview.update_timeseries, values, dataset, lang)
    # scenarios: an instant evaluation, then a solved and saved run, its result
    shown["evaluation"] = call(plan_cb.evaluate_plan, _panel(), None, dataset, lang)
    # ... measured in travel minutes (the road network's names and units)
    shown["evaluation in minutes"] = call(
        plan_cb.evaluate_plan, {**_panel(), "measure": "walking|rainy"}, None,
        dataset, lang,
    )  # fmt: skip
    shown["measure labels"] = list(
        call(scn.measure_labels, "walking|rainy", dataset, lang)
    )
    result, status = call(
        run_cb.run_optimisation, config, lambda _: None, 1, _panel(), dataset, lang
    )
    assert result is not None, status
    shown["run status"] = status
    # a plan that cannot exist: the engine's reasons, each worded
    impossible = {**_panel(), "objective": "fewest", "radius_km": 2, "new_centers": 0}
    result_none, shown["infeasible run"] = call(
        run_cb.run_optimisation, config, lambda _: None, 1, impossible, dataset, lang
    )
    assert result_none is None
    shown["result"] = call(run_cb.show_result, result, None, lang, dataset)
    shown["result map"] = call(
        plan_cb.draw_map, "result", result, None, "distance", _panel(), dataset, lang
    )
    # a forecast of one region, and a segmentation
    ready = call(fc_cb.run_level_forecast, config, lambda _: None, "region", dataset)
    region = ctx.units_at(0)["code"].iloc[0]
    shown["forecast"] = call(
        fc_cb.update_forecast, ready, region, "PASS", 8, "region", dataset, lang
    )
    segments, alerts = call(
        seg_cb.run_segmentation,
        lambda _: None,
        1,
        None,
        list(DEFAULT_INDICATORS),
        "kmeans",
        3,
        dataset,
        lang,
    )
    assert segments, alerts
    shown["segmentation"] = call(seg_cb.show_results, segments, lang, dataset)
    # an import report with the faults whose words came from libraries before
    report = Report()
    report.error(
        "truncated",
        file=IMPORTED_FILE,
        row=12,
        line=12,
        column=40,
        reason="Unterminated string starting at",
    )
    report.warning(
        "repaired",
        file=IMPORTED_FILE,
        row=3,
        field="geometry",
        reason="Self-intersection[0.5 0.5]",
    )
    report.warning(
        "indicator_missing",
        file=IMPORTED_FILE,
        indicators="requests, poverty_rate",
    )
    texts = [issue_text(i, lang) for i in report.issues]
    shown["import report"] = imp_layout.report_view(
        report.to_records(), texts, None, lang
    )
    # a road file: its class values to map, then the network's report
    road_file = {
        "name": IMPORTED_FILE, "size": 2048, "role": "roads",
        "columns": ["CLASSE", "REVET"],
        "mapping": {"road_class": "CLASSE", "road_surface": None},
        "class_values": {"values": [
            {"value": "1", "count": 3, "road_class": None, "not_road": False},
            {"value": "track", "count": 1, "road_class": "track", "not_road": False},
            {"value": "proposed", "count": 1, "road_class": None, "not_road": True},
        ], "more": 2},
    }  # fmt: skip
    shown["road file"] = imp_layout.file_list([road_file], lang)
    shown["road report"] = imp_layout.road_report(
        {"file": IMPORTED_FILE, "lines": 5, "lines_kept": 4, "nodes": 9, "edges": 8,
         "length_km_by_class": {"trunk": 32.7, "track": 5.5}, "tolerance_m": 50.0,
         "joined_ends": 2, "joined_length_m": 31.5, "max_gap_m": 20.2,
         "components": 2, "main_share": 0.9, "unconnected_km": 3.3,
         "unconnected_parts": [{"edges": 1, "length_km": 3.3, "lon": -4.9,
                                "lat": 12.1}]},
        lang,
    )  # fmt: skip
    # the speed editor refusing two values
    values = road_profiles.profile_values(
        services.get_store(config.database_url), dataset
    )["values"]
    keys = road_profiles.field_keys()
    bad = {"road_kmh.motorised.rainy.track.unpaved": -5, "offroad_cap_km": None}
    refused = call(
        rp_cb.save_profile, 1, None, [bad.get(k, values[k]) for k in keys],
        [ids.rp_field(k) for k in keys], dataset, lang,
        trigger=f"{ids.RP_SAVE}.n_clicks",
    )  # fmt: skip
    shown["road speeds refused"] = refused[0]
    return shown


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_every_screen_speaks_one_language(call, demo_app, lang):
    check = LanguageCheck(lang, _names(call))
    foreign = {}
    for name, tree in _screens(call, demo_app, lang).items():
        strings = visible_strings(tree)
        assert strings or name.startswith("guide"), f"{name} shows no text"
        bad = check.foreign(strings)
        if bad:
            foreign[name] = bad
    assert not foreign, "\n".join(f"{name}: {bad}" for name, bad in foreign.items())


def test_the_check_catches_a_foreign_or_raw_text():
    """The check is not blind: English on the French screen, a raw id and a
    Python error are caught; catalogue texts, numbers and data names pass."""
    check = LanguageCheck("fr", {"Kaolack"})
    shown = [
        "Réseau des centres de service",
        "12 345,6",
        "Kaolack",
        "Rayon R (km)",
        "Zoom in",
        "requests_per_1000",
        "Unterminated string starting at",
    ]
    assert check.foreign(shown) == [
        "Unterminated string starting at",
        "Zoom in",
        "requests_per_1000",
    ]
