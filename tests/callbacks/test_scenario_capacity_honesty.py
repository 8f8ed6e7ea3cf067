"""'Respecter les capacités' never leaves a plan looking compliant when it is not.

For every objective with the switch on, either the run imposes the capacities
(no open center serves more than its capacity, the status says "capacités
respectées") or the panel names the objective as one the switch does not apply
to and the result says capacities were not imposed. ("Rebalance" moves capacity
itself: the switch has no say there.)
"""

import pytest

from callbacks import scenario_run as run_cb
from dashapp import services
from data.scenarios import get_scenario
from layouts.scenarios import (
    OBJECTIVE_KEYS,
    capacity_note,
    capacity_objectives,
    parameter_panel,
)
from optimization.spec import CAPACITY_MODELS
from tests.callbacks.test_scenario_callbacks import _panel
from tests.callbacks.test_scenario_results_trust import _text

pytestmark = pytest.mark.writes_demo  # runs save scenarios

CHECKED = [k for k in OBJECTIVE_KEYS if k != "rebalance"]
#: Models whose status line says whether capacities were imposed
#: (layouts/scenario_results.py status_alert): every location model.
STATUS_SAYS = ("pmedian", "mclp", "lscp", "pcenter", "attendance")


def _run(call, demo_app, objective):
    config = demo_app.server.config["DASHAPP"]
    dataset_id = services.get_store(config.database_url).active_dataset().id
    result, status = call(
        run_cb.run_optimisation,
        config,
        lambda _: None,
        1,
        # a radius every commune can reach (the cover needs one), a short limit
        _panel(objective=objective, capacitated=True, radius_km=60, time_limit_s=20),
        dataset_id,
        "fr",
    )
    assert result is not None, _text(status)
    record = get_scenario(services.get_store(config.database_url), result["id"])
    return _text(status), record


def test_capacity_objectives_are_those_whose_spec_carries_the_switch():
    from optimization.whatif import WhatIf, build_spec

    imposed = capacity_objectives()
    assert {"distance", "coverage"} <= set(imposed)
    assert "attendance" not in imposed and "fewest" not in imposed
    for key in OBJECTIVE_KEYS:
        spec = build_spec(WhatIf(objective=key, capacitated=True), 1)
        assert bool(spec["parameters"].get("capacitated")) == (key in imposed)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_panel_names_the_objectives_the_switch_does_not_apply_to(lang):
    import pandas as pd

    from dashapp.i18n import t

    docs = pd.DataFrame({"code": ["CNI"], "name_fr": ["CNI"], "name_en": ["ID"]})
    card = parameter_panel(docs, lang)
    note = _text(capacity_note(lang))
    assert note in _text(card)  # shown under the switch
    assert note.startswith(
        "Les capacités ne sont pas prises en compte pour"
        if lang == "fr"
        else "Capacities are not taken into account for"
    )
    for key in CHECKED:
        named = t(f"scn.objective.{key}", lang) in note
        assert named == (key not in capacity_objectives()), key
    assert t("scn.objective.rebalance", lang) not in note


@pytest.mark.parametrize("objective", CHECKED)
def test_a_run_with_the_switch_on_respects_capacities_or_says_it_did_not(
    call, demo_app, objective
):
    status, record = _run(call, demo_app, objective)
    kpis = record.summary["kpis"]
    if objective in capacity_objectives():
        assert kpis["capacitated"] is True
        assert kpis["after"]["overloaded_centers"] == 0
        centers = record.centers[record.centers["status"].isin(["kept", "opened"])]
        known = centers["capacity"].notna()
        assert (
            centers.loc[known, "assigned_demand"]
            <= centers.loc[known, "capacity"] + 1e-6
        ).all()
    else:
        # the panel named it; the result's flag says the model imposed none
        assert kpis["capacitated"] is False
        assert "capacités respectées" not in status


@pytest.mark.parametrize("model", STATUS_SAYS)
@pytest.mark.parametrize("imposed", [True, False])
def test_the_status_line_says_whether_capacities_were_imposed(model, imposed):
    from optimization.solver import SolveReport

    if imposed and model not in CAPACITY_MODELS:
        pytest.skip("this model never imposes capacities")
    report = SolveReport(status="optimal", objective=1.0, bound=1.0, gap=0.0)
    summary = {"scenario": {"model": model}, "kpis": {"capacitated": imposed}}
    fr = _text(run_cb.status_alert(report, summary, "fr"))
    en = _text(run_cb.status_alert(report, summary, "en"))
    if imposed:
        assert "capacités respectées" in fr and "capacities respected" in en
    else:
        assert "capacités non imposées" in fr and "capacities not imposed" in en
