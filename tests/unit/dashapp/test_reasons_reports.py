"""Infeasibility reasons and import reports in the interface language."""

from __future__ import annotations

import numpy as np
import pytest

from dashapp.i18n import STRINGS, count_of
from dashapp.services.importing import geometry_fault, indicator_names, issue_text
from data.importers import Report
from layouts.messages import failure_text, reason_text
from optimization.errors import InfeasibleError, Reason
from optimization.spec import ScenarioError


@pytest.mark.parametrize(
    ("n", "name", "lang", "expected"),
    [
        (2, "Région", "fr", "2 régions"),
        (4, "département", "fr", "4 départements"),
        (1, "Région", "fr", "1 région"),
        (1200, "Commune", "fr", "1\u202f200 communes"),
        (3, "Pays", "fr", "3 pays"),
        (2, "Region", "en", "2 regions"),
        (1, "Department", "en", "1 department"),
        (5, "County", "en", "5 counties"),
        (2, "CRD", "fr", "2 CRD"),
    ],
)
def test_counts_of_levels_are_said_properly(n, name, lang, expected):
    assert count_of(n, name, lang) == expected


def test_infeasibility_is_explained_in_the_language():
    reasons = [
        Reason("p_above_allowed", "12 centers ...", {"p": 12, "allowed": 9}),
        Reason(
            "capacity_below_demand",
            "total capacity ...",
            {"capacity": 12300.0, "demand": 15000.5},
        ),
        Reason(
            "equity_unreachable",
            "even with ...",
            {
                "group": "Nord",
                "best": 0.625,
                "share": 0.8,
                "radius": 20.0,
                "unit": "km",
            },
        ),
        Reason(
            "commune_out_of_reach",
            "x",
            {"commune": "Kaolack", "nearest": 3.0, "cap": None, "unit": "km"},
        ),  # fmt: skip
    ]
    exc = ScenarioError("The plan is infeasible: ...")
    exc.__cause__ = InfeasibleError(reasons)
    fr = failure_text(exc, "fr")
    assert fr.startswith("12 centres sont demandés mais seuls 9 sites peuvent ouvrir")
    assert "12\u202f300" in fr and "15\u202f000,5" in fr
    assert "62\u00a0%" in fr and "80\u00a0%" in fr and "20 km" in fr
    assert "n'a aucun site autorisé" in fr
    en = failure_text(exc, "en")
    assert "12 centers are requested but only 9 sites may open" in en
    assert "12,300" in en and "15,000.5" in en
    assert "centers" not in fr and "requested" not in fr
    # every code the engine raises has its sentence in both languages
    codes = {
        "no_allowed_site", "p_above_allowed", "p_below_locked",
        "p_above_existing_plus_new", "locked_above_max_new",
        "budget_below_forced_cost", "commune_out_of_reach", "communes_out_of_reach",
        "capacity_below_demand", "p_capacity_below_demand",
        "group_capacity_below_demand", "equity_unreachable", "commune_beyond_radius",
        "communes_beyond_radius", "staff_below_minimum", "staff_above_maximum",
        "staff_bounds", "center_cannot_stabilise", "staff_below_saturation",
        "constraints_incompatible", "new_sites_needed",
    }  # fmt: skip
    assert all(f"reason.{code}" in STRINGS for code in codes)
    # an error that is not an infeasibility keeps its own message
    assert failure_text(ScenarioError("bad spec"), "fr") == "bad spec"


def test_engine_reasons_carry_every_figure_their_sentence_needs():
    """The real engine's reasons, translated: no placeholder is left unfilled and
    no English sentence comes back in French."""
    from optimization.explain import check_coverage_radius, check_site_counts
    from optimization.inputs import SiteRules

    rules = SiteRules.build(
        3, existing=[True, False, False], max_new=0, locked=[False, True, True],
    )  # fmt: skip
    reasons = check_site_counts(rules, p=1) + check_coverage_radius(
        np.array([[50.0, 60.0, 70.0]] * 7), rules, 20.0, limit=5
    )
    assert {r.code for r in reasons} >= {"p_below_locked", "locked_above_max_new",
                                         "commune_beyond_radius",
                                         "communes_beyond_radius"}  # fmt: skip
    for reason in reasons:
        fr = reason_text(reason, "fr")
        assert fr != reason.message and "{" not in fr, reason


def test_generic_infeasibility_names_the_constraints_in_french():
    from optimization.pmedian import PMedian

    model = PMedian.from_cost_matrix(np.ones((3, 3)), np.ones(3), 2)
    reason = model._generic_reason()
    assert reason.params["parts"][0] == "p"
    text = reason_text(reason, "fr")
    assert text.startswith("aucun plan ne respecte ensemble 2 centres")


def test_import_report_shows_no_library_text_and_no_raw_ids():
    report = Report()
    report.error("truncated", file="c.geojson", row=12, line=12, column=40,
                 reason="Unterminated string starting at")  # fmt: skip
    report.warning("repaired", file="c.geojson", row=3, field="geometry",
                   reason="Self-intersection[0.5 0.5]")  # fmt: skip
    report.error("invalid_geometry", file="c.geojson", row=4, field="geometry",
                 reason="TopologyException: side location conflict at 1 2")  # fmt: skip
    report.warning("indicator_missing", file="c.geojson",
                   indicators="requests, mean_distance, poverty_rate")  # fmt: skip
    fr = [issue_text(i, "fr") for i in report.issues]
    en = [issue_text(i, "en") for i in report.issues]
    joined = " ".join(fr + en)
    for raw in ("Unterminated", "Self-intersection", "TopologyException",
                "requests,", "mean_distance", "poverty_rate"):  # fmt: skip
        assert raw not in joined, raw
    assert fr[0] == (
        "c.geojson, ligne 12 : JSON tronqué ou invalide à la ligne 12, colonne 40 : "
        "le fichier est-il complet ?"
    )
    assert "le contour se recoupe" in fr[1] and "the outline crosses itself" in en[1]
    assert "contour incohérent" in fr[2]
    assert "Taux de pauvreté" in fr[3] and "Poverty rate" in en[3]
    assert (
        geometry_fault("Ring Self-intersection[1 2]", "en") == "a ring touches itself"
    )
    assert indicator_names("unknown_id", "fr") == "unknown_id"


def test_a_table_pandas_cannot_read_names_its_line_not_pandas_words():
    import io

    from data.importers.tables import read_table

    report = Report()
    raw = b"code,population\nC1,10\nC2,20,30\n"
    assert read_table(io.BytesIO(raw), "pop.csv", report, delimiter=",") is None
    (issue,) = report.errors
    assert issue.code == "unreadable" and issue.row == 3
    fr, en = issue_text(issue, "fr"), issue_text(issue, "en")
    assert fr.startswith("pop.csv, ligne 3 : fichier illisible")
    assert en.startswith("pop.csv, row 3: unreadable file")
    assert "tokenizing" not in fr + en and "C error" not in fr + en


def test_estimated_demand_rates_are_written_the_language_s_way():
    report = Report()
    report.info(
        "demand_estimated", file="communes.geojson", rates="CNI 0.024, PASS 0.006"
    )
    (issue,) = report.issues
    fr, en = issue_text(issue, "fr"), issue_text(issue, "en")
    assert "(CNI 0,024 ; PASS 0,006 demandes par habitant" in fr
    assert "(CNI 0.024, PASS 0.006 requests per inhabitant" in en
