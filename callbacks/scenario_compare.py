"""Scenario workspace: 2 to 4 saved scenarios side by side, and their workbook."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, no_update, set_props

from callbacks.scenario_library import store_error
from dashapp import ids, services
from dashapp.auth import requires
from dashapp.context import current_config
from dashapp.i18n import t
from dashapp.parsing import BadInputError, parse_ids
from dashapp.services.maps import unit_mean_distance
from data import exports
from data.kpi import measure_of
from data.scenarios import ScenarioStoreError, get_scenario
from layouts.maps import shared_range
from layouts.messages import bad_input_alert
from layouts.scenario_results import comparison, export_text
from layouts.scenarios import scenario_small_map
from optimization.whatif import measure_unit


def _comparison_records(store, selected):
    picks = parse_ids(selected, "scenarios")
    if not 2 <= len(picks) <= 4:
        return None
    records = [get_scenario(store, i) for i in picks]
    records = [r for r in records if r.has_results]
    return records if 2 <= len(records) <= 4 else None


@requires("view")
def compare(n_clicks, selected, lang):
    """KPI table with the best value marked, and one small map per scenario."""
    url = current_config().database_url
    store = services.get_store(url)
    try:
        records = _comparison_records(store, selected)
    except ScenarioStoreError as exc:
        return store_error(exc, lang)
    except BadInputError as exc:
        return bad_input_alert(exc, lang)
    if records is None:
        return dbc.Alert(
            t("scn.compare_need", lang), color="secondary", className="py-2"
        )
    maps = _small_maps(url, records, lang)
    return comparison(exports.compare_kpis(records, lang=lang), maps, lang)


@requires("export.any")
def export_comparison(n_clicks, selected, lang):
    """One workbook with the comparison and each scenario's summary."""
    store = services.get_store(current_config().database_url)
    try:
        records = _comparison_records(store, selected)
    except (ScenarioStoreError, BadInputError) as exc:  # e.g. deleted meanwhile
        alert = (
            store_error(exc, lang)
            if isinstance(exc, ScenarioStoreError)
            else bad_input_alert(exc, lang)
        )
        set_props(ids.ALERTS, {"children": alert})
        return no_update
    if records is None:
        return no_update
    return dcc.send_bytes(
        exports.comparison_excel(records, lang=lang, text=export_text(lang)),
        "comparaison-scenarios.xlsx",
    )


def _small_maps(url: str, records, lang: str) -> list[tuple[str, dict]]:
    """One small map per scenario, their units coloured on one range per unit
    (km, or min for the runs measured in travel time), each unit's colour bar
    on its last map."""
    outlines = [services.outline(url, r.dataset_id) for r in records]
    units = [measure_unit(measure_of(r.params)) for r in records]
    means = [
        unit_mean_distance(services.context(url, r.dataset_id), r.communes, o[1])
        for r, o in zip(records, outlines, strict=True)
    ]
    ranges = {
        u: shared_range(*(m for m, v in zip(means, units, strict=True) if v == u),
                        floor=0.0)
        for u in set(units)
    }  # fmt: skip
    last = {u: i for i, u in enumerate(units)}
    return [
        (r.name, scenario_small_map(*o, r.centers, lang, d, ranges[u], last[u] == i, u))
        for i, (r, o, d, u) in enumerate(zip(records, outlines, means, units,
                                             strict=True))
    ]  # fmt: skip


def register(app) -> None:
    app.callback(
        Output(ids.SCN_COMPARE_OUT, "children"),
        Input(ids.SCN_COMPARE, "n_clicks"),
        State(ids.SCN_COMPARE_PICK, "value"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(compare)
    app.callback(
        Output(ids.SCN_DOWNLOAD, "data", allow_duplicate=True),
        Input(ids.SCN_COMPARE_EXPORT, "n_clicks"),
        State(ids.SCN_COMPARE_PICK, "value"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(export_comparison)
