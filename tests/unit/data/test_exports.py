import io
import json

import openpyxl
import pandas as pd
import pytest

from data.exports import (
    COMPARISON_ROWS,
    SCENARIO_SHEETS,
    compare_kpis,
    comparison_excel,
    scenario_csv,
    scenario_excel,
    scenario_geojson,
)
from data.scenarios import get_scenario, record_from_result, save_scenario
from optimization.network import network_from_store
from optimization.scenario import load_spec, run_scenario


def _spec(p: int) -> dict:
    return {
        "model": "pmedian",
        "sites": {"use_candidates": True},
        "parameters": {"p": p},
        "report_radius": 10.0,
    }


@pytest.fixture
def saved(tiny_store):
    """Two run scenarios on the tiny country (p=2 and p=3) and a draft."""
    ds = tiny_store.active_dataset().id
    network = network_from_store(tiny_store)
    records = []
    for name, p in (("Deux centres", 2), ("Trois centres", 3)):
        result = run_scenario(load_spec(_spec(p)), network)
        rec = save_scenario(
            tiny_store, ds, name, _spec(p), author="Awa", **record_from_result(result)
        )
        records.append(rec)
    records.append(save_scenario(tiny_store, ds, "Brouillon", _spec(4)))
    return [get_scenario(tiny_store, r.id) for r in records]


def _read_csv(data: bytes) -> pd.DataFrame:
    assert data.startswith(b"\xef\xbb\xbf")  # BOM: accents right in spreadsheets
    return pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")


def test_scenario_csv_files_hold_the_record(saved):
    rec = saved[0]
    files = scenario_csv(rec)
    assert sorted(files) == [
        "centers.csv",
        "communes.csv",
        "parameters.csv",
        "summary_kpis.csv",
        "unserved_communes.csv",
    ]
    params = _read_csv(files["parameters.csv"]).set_index("parameter")["value"]
    assert params["scenario.name"] == "Deux centres"
    assert params["scenario.author"] == "Awa"
    assert params["dataset.version"] == rec.dataset_version
    assert params["spec.model"] == "pmedian"
    assert params["spec.parameters.p"] == "2"
    assert params["spec.sites.use_candidates"] == "True"

    summary = _read_csv(files["summary_kpis.csv"])
    assert summary.columns.tolist() == [
        "section",
        "name",
        "value",
        "before",
        "after",
        "change",
    ]
    kpis = summary[summary["section"] == "kpis"].set_index("name")
    after = rec.summary["kpis"]["after"]
    before = rec.summary["kpis"]["before"]
    assert kpis.loc["mean_distance", "after"] == pytest.approx(after["mean_distance"])
    assert kpis.loc["mean_distance", "change"] == pytest.approx(
        after["mean_distance"] - before["mean_distance"]
    )
    assert kpis.loc["share_within_radius", "after"] == pytest.approx(0.6)
    solve = summary[summary["section"] == "solve"].set_index("name")["value"]
    assert solve["status"] == "optimal"
    changes = summary[summary["section"] == "changes"].set_index("name")["value"]
    assert changes.to_dict() == {"kept": "1", "closed": "1", "opened": "1"}

    centers = _read_csv(files["centers.csv"])
    pd.testing.assert_frame_equal(centers, rec.centers, check_dtype=False)
    communes = _read_csv(files["communes.csv"])
    assert communes.columns.tolist() == rec.communes.columns.tolist()
    assert communes["site_id"].tolist() == rec.communes["site_id"].tolist()
    assert communes["distance"].to_numpy() == pytest.approx(
        rec.communes["distance"].to_numpy()
    )


def test_a_draft_exports_its_parameters_and_empty_tables(saved):
    files = scenario_csv(saved[2])
    assert _read_csv(files["parameters.csv"]).set_index("parameter").loc[
        "scenario.status", "value"
    ] == ("draft")
    assert _read_csv(files["summary_kpis.csv"]).empty
    centers = _read_csv(files["centers.csv"])
    assert centers.empty and "site_id" in centers.columns


def test_scenario_excel_has_the_five_sheets_with_the_record(saved):
    rec = saved[1]
    data = scenario_excel(rec)
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == list(SCENARIO_SHEETS)
    assert SCENARIO_SHEETS == (
        "parametres",
        "synthese",
        "centres",
        "communes",
        "sans_centre",
    )
    sheets = pd.read_excel(io.BytesIO(data), sheet_name=None)
    params = sheets["parametres"].set_index("parameter")["value"]
    assert params["scenario.name"] == "Trois centres"
    assert int(params["spec.parameters.p"]) == 3
    pd.testing.assert_frame_equal(sheets["centres"], rec.centers, check_dtype=False)
    assert sheets["communes"]["commune_id"].tolist() == ["C1", "C2", "C3", "C4"]
    assert sheets["communes"]["demand"].sum() == pytest.approx(10000)
    synthese = sheets["synthese"]
    row = synthese[
        (synthese["section"] == "kpis") & (synthese["name"] == "open_centers")
    ]
    assert row[["before", "after", "change"]].iloc[0].tolist() == [2, 3, 1]


def test_geojson_has_center_points_and_dissolved_catchments(tiny_store, saved):
    rec = saved[0]
    communes = tiny_store.units(rec.dataset_id, 2)
    polygons = dict(zip(communes["code"], communes.geometry, strict=True))

    geo = scenario_geojson(rec, polygons)

    json.dumps(geo)  # plain JSON
    centers = [f for f in geo["features"] if f["properties"]["kind"] == "center"]
    status = {f["properties"]["site_id"]: f["properties"]["status"] for f in centers}
    assert status == {"S1": "closed", "S2": "kept", "K1": "opened"}
    s2 = next(f for f in centers if f["properties"]["site_id"] == "S2")
    assert s2["geometry"] == {"type": "Point", "coordinates": [0.16, 0.16]}
    catch = {
        f["properties"]["site_id"]: f
        for f in geo["features"]
        if f["properties"]["kind"] == "catchment"
    }
    assert sorted(catch) == ["K1", "S2"]  # the closed center serves nobody
    k1 = catch["K1"]["properties"]
    assert (k1["name"], k1["demand"], k1["communes"]) == ("Site K1", 3000.0, 2)
    # K1 serves C1 (x 0-0.1, y 0-0.1) and C3 (x 0-0.1, y 0.1-0.2): one rectangle
    assert catch["K1"]["geometry"]["type"] == "Polygon"
    xs = [x for x, _ in catch["K1"]["geometry"]["coordinates"][0]]
    ys = [y for _, y in catch["K1"]["geometry"]["coordinates"][0]]
    assert (min(xs), max(xs), min(ys), max(ys)) == pytest.approx((0, 0.1, 0, 0.2))


def test_geojson_without_polygons_and_unopened_sites(saved):
    rec = saved[0]
    rec.centers.loc[rec.centers["site_id"] == "S1", "status"] = "not_opened"
    geo = scenario_geojson(rec)
    kinds = [f["properties"]["kind"] for f in geo["features"]]
    assert kinds == ["center", "center", "catchment", "catchment"]
    assert all(
        f["geometry"] is None
        for f in geo["features"]
        if f["properties"]["kind"] == "catchment"
    )
    assert len(scenario_geojson(rec, include_unopened=True)["features"]) == 5
    with pytest.raises(ValueError, match="no results yet"):
        scenario_geojson(saved[2])


def test_compare_kpis_values_and_best(saved):
    table = compare_kpis(saved)
    labels = ["Deux centres", "Trois centres", "Brouillon"]
    assert table.index.tolist() == [r.id for r in COMPARISON_ROWS]
    assert table.columns.tolist() == ["kpi", "unit", *labels, "better", "best"]
    two, three = (r.summary["kpis"]["after"] for r in saved[:2])
    assert table.loc["mean_distance", "Deux centres"] == pytest.approx(
        two["mean_distance"]
    )
    assert table.loc["mean_distance", "unit"] == "km"
    assert table.loc["mean_distance", "best"] == "Trois centres"
    assert table.loc["share_within_radius", "Trois centres"] == pytest.approx(70.0)
    assert table.loc["share_within_radius", "best"] == "Trois centres"
    # demand is the population (10,000 inhabitants) so this is known
    assert table.loc["centers_per_100k", labels[:2]].tolist() == pytest.approx(
        [20.0, 30.0]
    )
    assert pd.isna(table.loc["open_centers", "best"])  # no better direction
    assert pd.isna(table.loc["cost", "best"])  # 10 each: a tie between all
    assert table.loc["solver_status", labels].tolist() == [
        "optimal",
        "optimal",
        "draft",
    ]
    assert pd.isna(table.loc["mean_distance", "Brouillon"])
    assert table.loc["mean_distance", "kpi"] == (
        "Distance moyenne pondérée par la demande, demande desservie"
    )
    english = compare_kpis(saved[:2], lang="en", population=20_000)
    assert english.loc["mean_distance", "kpi"] == (
        "Demand-weighted mean distance, demand served"
    )
    # units from the catalogue in the language: the run's demand is inhabitants
    assert table.loc["unassigned_demand", "unit"] == "hab."
    assert english.loc["unassigned_demand", "unit"] == "inhab."
    assert english.loc["gap", "unit"] == "%"
    assert english.loc["centers_per_100k", "Trois centres"] == pytest.approx(15.0)
    assert three["open_centers"] == 3


def test_compare_labels_repeated_names_and_rejects_nothing(saved):
    saved[1].name = saved[0].name
    table = compare_kpis(saved[:2])
    assert [c for c in table.columns if c.startswith("Deux")] == [
        f"Deux centres (#{saved[0].id})",
        f"Deux centres (#{saved[1].id})",
    ]
    with pytest.raises(ValueError, match="at least one"):
        compare_kpis([])
    with pytest.raises(TypeError, match="should be ScenarioRecord"):
        compare_kpis([{"name": "x"}])


def test_comparison_excel_has_the_table_and_one_sheet_per_scenario(saved):
    data = comparison_excel(saved)
    book = openpyxl.load_workbook(io.BytesIO(data))
    ids = [r.id for r in saved]
    assert book.sheetnames == [
        "comparaison",
        f"S{ids[0]} Deux centres",
        f"S{ids[1]} Trois centres",
        f"S{ids[2]} Brouillon",
    ]
    sheets = pd.read_excel(io.BytesIO(data), sheet_name=None)
    comparison = sheets["comparaison"].set_index("id")
    expected = compare_kpis(saved)
    assert comparison.loc["mean_distance", "Trois centres"] == pytest.approx(
        expected.loc["mean_distance", "Trois centres"]
    )
    assert comparison.loc["share_within_radius", "best"] == "Trois centres"
    sheet = book[f"S{ids[1]} Trois centres"]
    cells = [c.value for c in sheet["A"]]
    assert cells[:2] == ["parameter", "scenario.id"]
    assert "section" in cells and "kpis" in cells  # summary under the parameters


def test_sheet_names_are_valid_and_unique_for_long_odd_names(saved):
    saved[0].name = "Plan: 2027/2030 [réseau] * version longue avec détails"
    saved[1].name = saved[0].name
    book = openpyxl.load_workbook(io.BytesIO(comparison_excel(saved[:2])))
    names = book.sheetnames[1:]
    assert len(set(names)) == 2
    assert all(len(n) <= 31 and not set(n) & set("[]:*?/\\") for n in names)


def _record(i, name, after, communes=None):
    import datetime as dt

    from data.scenarios import ScenarioRecord

    now = dt.datetime(2026, 1, 1)
    summary = {"kpis": {"after": after}, "units": {"distance": "km"}}
    return ScenarioRecord(
        i, 1, "v1", name, "", {}, summary, None, communes, "optimal", now, now
    )


def test_a_plan_serving_fewer_people_is_never_best_on_distance():
    """The issue's case: shorter distances because many are left without a center."""
    near = _record(
        1,
        "Proche mais incomplet",
        {"mean_distance": 9.0, "max_distance": 19.8, "share_within_radius": 0.9,
         "unassigned_demand": 3146.0, "unmet_demand": 3146.0},
        pd.DataFrame({"site_id": [None, "A", None], "demand": [5.0, 2.0, 0.0]}),
    )  # fmt: skip
    whole = _record(
        2,
        "Tout le monde servi",
        {"mean_distance": 23.2, "max_distance": 190.9, "share_within_radius": 0.6,
         "unassigned_demand": 0.0, "unmet_demand": 508.0},
        pd.DataFrame({"site_id": ["A", "A", "B"], "demand": [5.0, 2.0, 0.0]}),
    )  # fmt: skip
    table = compare_kpis([near, whole])
    for row in ("mean_distance", "max_distance", "share_within_radius"):
        assert table.loc[row, "best"] == "Tout le monde servi", row
    assert table.loc["unassigned_demand", "best"] == "Tout le monde servi"
    assert table.loc["unserved_communes", ["Proche mais incomplet",
                                           "Tout le monde servi"]].tolist() == [1, 0]  # fmt: skip
    assert table.loc["unassigned_demand", "kpi"] == "Demande sans centre"
    # serving as many, the shorter distance wins again
    fair = _record(3, "Proche", {**near.summary["kpis"]["after"],
                                 "unassigned_demand": 0.0})  # fmt: skip
    assert compare_kpis([fair, whole]).loc["mean_distance", "best"] == "Proche"
