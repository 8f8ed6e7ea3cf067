"""The scenario KPIs in the catalogue; missing data reads n.d.; exports and the
comparison in the interface language, rounded as the screen rounds."""

import datetime as dt
import io

import numpy as np
import openpyxl
import pandas as pd
import pytest

from data import kpi
from data.exports import (
    COMPARISON_ROWS,
    ExportText,
    compare_kpis,
    comparison_excel,
    readable_comparison,
    readable_table,
    scenario_csv,
    unserved_frame,
)
from data.scenarios import ScenarioRecord
from data.store import Store
from data.views import load_context, selection_kpis
from geo.access import nearest_center
from tests.tiny import W1, W2, tiny_bundle


def test_every_scenario_kpi_is_in_the_catalogue_in_both_languages():
    for lang in ("fr", "en"):
        frame = kpi.scenario_catalogue_frame(lang)
        assert frame["id"].tolist() == list(kpi.SCENARIO_KPIS)
        assert frame[["name", "rule"]].map(bool).all().all()
    assert [r.id for r in COMPARISON_ROWS] == list(kpi.SCENARIO_KPIS)
    # the distance KPIs say which demand they cover, and how they are weighted
    mean = kpi.SCENARIO_KPIS["mean_distance"]
    assert "demande desservie" in mean.name("fr") and "pondérée" in mean.name("fr")
    assert "demand served" in mean.name("en")
    # the markdown of the README holds both tables
    text = kpi.catalogue_markdown("en")
    assert "(`unassigned_demand`)" in text and "(`pop_within`)" in text


@pytest.mark.parametrize(
    ("lang", "units", "expected"),
    [
        ("fr", {"demand": "requests/week", "distance": "km"}, "dem./sem. (km)"),
        ("en", {"demand": "inhabitants", "distance": "min"}, "inhab. (min)"),
        ("en", None, "requests/week (km)"),
    ],
)
def test_units_follow_the_run_and_the_language(lang, units, expected):
    demand = kpi.SCENARIO_KPIS["unassigned_demand"].unit_in(lang, units)
    distance = kpi.SCENARIO_KPIS["max_distance"].unit_in(lang, units)
    assert f"{demand} ({distance})" == expected


@pytest.mark.parametrize(
    ("model", "lang", "unit"),
    [
        ("pmedian", "fr", "dem./sem.·km"),
        ("pmedian", "en", "requests/week·km"),
        ("mclp", "fr", "dem./sem. couvertes"),
        ("lscp", "fr", "centres"),
        ("pcenter", "en", "km"),
        ("reallocation", "en", "requests/week"),
        ("unknown", "fr", ""),
    ],
)
def test_each_model_objective_has_its_unit(model, lang, unit):
    units = {"demand": "requests/week", "distance": "km"}
    assert kpi.objective_unit(model, units, lang) == unit


def test_a_dataset_without_centers_gives_nd_not_zero(tmp_path):
    """No center anywhere: no distance, so population within X km and the mean
    distance have no value (n.d.), and there are 0 centers per 100,000."""
    bundle = tiny_bundle()
    bundle.centers = bundle.centers.iloc[0:0]
    bundle.operations = bundle.operations.iloc[0:0]
    store = Store(f"sqlite:///{tmp_path / 's.sqlite'}")
    store.upgrade()
    info = store.add_dataset(bundle, kind="imported", access=nearest_center)
    filters = kpi.Filters(info.id, W1, W2, ("A", "B"), 20.0, 2)
    values = selection_kpis(load_context(store), kpi.commune_measures(store, filters))
    assert np.isnan(values["pop_within"]) and np.isnan(values["mean_distance"])
    assert values["centers_per_100k"] == 0
    assert values["population"] == 10000


def _record(i, name, after, communes=None, units=None, status="optimal"):
    now = dt.datetime(2026, 1, 1)
    summary = {
        "kpis": {"after": after},
        "units": units or {"distance": "km", "demand": "requests/week"},
        "solve": {"gap": 0.0},
    }
    return ScenarioRecord(
        i, 1, "v1", name, "", {}, summary, None, communes, status, now, now
    )


FR = ExportText(
    lang="fr",
    headers={"kpi": "Indicateur", "unit": "Unité", "best": "Meilleur"},
    words={"optimal": "optimal (prouvé)"},
)
EN = ExportText(
    lang="en",
    headers={"kpi": "Indicator", "unit": "Unit", "best": "Best"},
    words={"optimal": "optimal (proven)"},
    yes_no=("yes", "no"),
    missing="n/a",
)


def test_the_comparison_without_population_reads_nd(tmp_path):
    a = _record(1, "A", {"mean_distance": 12.345, "open_centers": 3,
                         "share_within_radius": 0.65432, "unassigned_demand": 3146.44})  # fmt: skip
    b = _record(2, "B", {"mean_distance": 9.0, "open_centers": 4,
                         "share_within_radius": 0.5, "unassigned_demand": 3146.44})  # fmt: skip
    table = compare_kpis([a, b], lang="en")
    assert table.loc["centers_per_100k", ["A", "B"]].isna().all()
    for text, nd in ((FR, "n.d."), (EN, "n/a")):
        out = readable_comparison(compare_kpis([a, b], lang=text.lang), text)
        rows = out.set_index(out.columns[0])
        per_100k = kpi.SCENARIO_KPIS["centers_per_100k"].name(text.lang)
        assert rows.loc[per_100k, ["A", "B"]].tolist() == [nd, nd]
        share = kpi.SCENARIO_KPIS["share_within_radius"].name(text.lang)
        assert rows.loc[share, "A"] == 65.4  # in %, one decimal as on screen
        mean = kpi.SCENARIO_KPIS["mean_distance"].name(text.lang)
        assert rows.loc[mean, "A"] == 12.3
        assert "better" not in out.columns
        assert list(out.columns[:2]) == [text.header("kpi"), text.header("unit")]
    # with a population, a number
    known = compare_kpis([a, b], population=200_000)
    assert known.loc["centers_per_100k", "A"] == pytest.approx(1.5)
    book = openpyxl.load_workbook(io.BytesIO(comparison_excel([a, b], text=EN)))
    values = [v for r in book["comparaison"].iter_rows(values_only=True) for v in r]
    assert "n/a" in values and "nan" not in values and None not in values[:3]


COMMUNES = pd.DataFrame(
    {
        "commune_id": ["C1", "C2", "C3", "C4"],
        "name": ["Un", "Deux", "Trois", "Quatre"],
        "demand": [10.04, 0.0, 25.55, np.nan],
        "population": [1000.0, 500.0, np.nan, 300.0],
        "site_id": ["S1", None, None, None],
        "distance": [1.26, np.nan, np.nan, np.nan],
        "site_id_before": ["S1", "S1", "S1", None],
        "distance_before": [1.26, 3.0, 44.44, np.nan],
    }
)
CENTERS = pd.DataFrame(
    {
        "site_id": ["S1", "S2"],
        "name": ["Centre", "Site"],
        "lon": [0.1, 0.2],
        "lat": [0.1, 0.2],
        "existing": [True, False],
        "status": ["kept", "not_opened"],
        "assigned_demand": [10.04, 0.0],
        "communes": [1, 0],
        "capacity": [12.0, np.nan],
        "utilisation": [10.04 / 12.0, np.nan],
    }
)


def test_the_unserved_list_keeps_communes_with_demand_and_no_center():
    rec = _record(1, "A", {}, COMMUNES)
    rec.centers = CENTERS
    frame = unserved_frame(rec)
    # C2 has no demand, C4 an unknown one: neither is counted as unserved
    assert frame["commune_id"].tolist() == ["C3"]
    assert np.isnan(frame.loc[0, "population"])


@pytest.mark.parametrize("text", [FR, EN], ids=["fr", "en"])
def test_exports_read_as_the_screen_in_each_language(text):
    headers = {
        "site_id": "Site",
        "utilisation": "Utilisation (%)",
        "status": {"fr": "Statut", "en": "Status"}[text.lang],
        "existing": {"fr": "Centre existant", "en": "Existing center"}[text.lang],
    }
    words = {"kept": {"fr": "maintenu", "en": "kept"}[text.lang], **text.words}
    text = ExportText(text.lang, {**text.headers, **headers}, words, text.yes_no,
                      text.missing)  # fmt: skip
    centers = readable_table(CENTERS, text)
    assert list(centers.columns[:1]) == ["Site"]
    first = centers.iloc[0]
    assert first["Utilisation (%)"] == 83.7
    assert first[headers["status"]] == words["kept"]
    assert first[headers["existing"]] == text.yes_no[0]
    assert centers.iloc[1]["Utilisation (%)"] == text.missing  # unknown capacity
    assert centers.iloc[1]["capacity"] == text.missing
    communes = readable_table(COMMUNES, text)
    assert communes["distance_before"].tolist()[:3] == [1.3, 3.0, 44.4]
    assert "nan" not in communes.astype(str).to_numpy().ravel().tolist()
    rec = _record(1, "A", {"mean_distance": 4.56, "share_within_radius": 0.5},
                  COMMUNES)  # fmt: skip
    rec.centers = CENTERS
    rec.summary["kpis"]["before"] = {"mean_distance": None, "share_within_radius": 0.25}
    files = scenario_csv(rec, text)
    summary = pd.read_csv(
        io.BytesIO(files["summary_kpis.csv"]), encoding="utf-8-sig",
        keep_default_na=False,  # "n/a" is kept as written
    )  # fmt: skip
    name = kpi.SCENARIO_KPIS["share_within_radius"].label(text.lang)
    row = summary[summary.iloc[:, 1] == name].iloc[0]
    assert [float(v) for v in row.iloc[3:6]] == [25.0, 50.0, 25.0]  # in %
    mean = kpi.SCENARIO_KPIS["mean_distance"].label(text.lang)
    assert summary[summary.iloc[:, 1] == mean].iloc[0].iloc[3] == text.missing
    unserved = pd.read_csv(
        io.BytesIO(files["unserved_communes.csv"]), encoding="utf-8-sig"
    )
    assert unserved.iloc[:, 0].tolist() == ["C3"]


def test_the_catalogue_page_documents_the_scenario_kpis():
    from layouts.catalogue import catalogue

    for lang, title in (("fr", "Indicateurs des scénarios"), ("en", "Scenario KPIs")):
        page = repr(catalogue(lang))
        assert title in page
        for key, item in kpi.SCENARIO_KPIS.items():
            assert f"scenario-{key}" in page
            assert item.rule(lang)[:40] in page
