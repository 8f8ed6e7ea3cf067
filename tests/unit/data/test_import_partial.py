"""Imports of real-world shapes: population optional, partial joins.

Boundaries come without population (COD-AB), a GADM-style commune layer comes with a
census table that matches it imperfectly: spelling variants, one commune name in two
provinces, a commune missing from the census and census rows for communes that no
longer exist. ``strict`` refuses with every problem listed; ``partial`` stores what
joins, NULL for the rest, and says so.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from dashapp.services.importing import issue_text, join_only, run_import
from data import kpi
from data.importers import ImportSpec, Report, Source, assemble
from data.importers.boundaries import LayerMapping
from data.views import load_context, selection_kpis, unit_kpis
from tests.unit.data import import_files as f

ROOT = Path(__file__).resolve().parents[3]

# GADM-style layer: the same 8 squares, two communes named "Koro" in two provinces
GADM_NAMES = [
    "Saint-Louis", "Koro", "Sainte-Mariama", "Diassé",
    "Grand-Kouraba", "Koro", "Sokodougou", "Médina-Gare",
]  # fmt: skip
GADM_MAPPING = LayerMapping(
    "GID_3", "NAME_3", (("GID_1", "NAME_1"), ("GID_2", "NAME_2")), "generic"
)
# the census: spelling variants, Koro twice told apart by province, Sokodougou
# missing, two communes that no longer exist
CENSUS = [
    ("Province 1", "ST LOUIS", 12000),
    ("Province 1", "Koro", 8000),
    ("Province 2", "Ste Mariama", 5000),
    ("Province 2", "Diasse", 7000),
    ("Province 3", "GRAND KOURABA", 20000),
    ("Province 3", "KORO", 3000),
    ("Province 4", "MEDINA GARE", 6000),
    ("Province 4", "Ndoulo", 900),
    ("Province 1", "Touba Extension", 1500),
]


def write_gadm(folder: Path) -> Path:
    """NAME_1/NAME_2/NAME_3 and GID_1/2/3, as GADM publishes its level-3 layer."""
    base = f.communes()
    frame = gpd.GeoDataFrame(
        {
            "GID_0": "XYZ",
            "GID_1": [f"XYZ.{i // 4 + 1}_1" for i in range(8)],
            "NAME_1": [["Nord", "Sud"][i // 4] for i in range(8)],
            "GID_2": [f"XYZ.{i // 4 + 1}.{i // 2 + 1}_1" for i in range(8)],
            "NAME_2": [f"Province {i // 2 + 1}" for i in range(8)],
            "GID_3": [f"XYZ.{i // 4 + 1}.{i // 2 + 1}.{i + 1}_1" for i in range(8)],
            "NAME_3": GADM_NAMES,
        },
        geometry=base.geometry,
        crs="EPSG:4326",
    )
    path = folder / "gadm41_XYZ_3.gpkg"
    frame.to_file(path, layer="ADM_ADM_3", driver="GPKG")
    return path


def write_census(folder: Path, rows=CENSUS, province: bool = True) -> Path:
    lines = ["province;commune;population"] if province else ["commune;population"]
    for prov, name, pop in rows:
        lines.append(f"{prov};{name};{pop}" if province else f"{name};{pop}")
    path = folder / "recensement.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def gadm_spec(tmp_path, join_mode="strict", province=True, **kw) -> ImportSpec:
    return ImportSpec(
        [Source("gadm41_XYZ_3.gpkg", write_gadm(tmp_path), GADM_MAPPING)],
        population=Source(
            "recensement.csv", write_census(tmp_path, province=province), **kw
        ),
        name="GADM test",
        join_mode=join_mode,
    )


def communes_of(bundle) -> pd.DataFrame:
    level = bundle.units["level"].max()
    return bundle.units[bundle.units["level"] == level].set_index("unit_code")


def _codes(report, code, severity=None):
    return [
        i
        for i in report.issues
        if i.code == code and (severity is None or i.severity == severity)
    ]


# -- boundaries alone ------------------------------------------------------------------


def test_cod_ab_boundaries_without_population_import_with_unknown_population(
    tiny_store, tmp_path
):
    spec = ImportSpec([Source("adm3.geojson", f.write_cod_ab(tmp_path))], name="CODAB")
    report, info, summary = run_import(tiny_store, spec)
    assert report.ok, [i.text() for i in report.errors]
    assert info is not None
    (absent,) = _codes(report, "population_absent", "warning")
    assert absent.params["n"] == 8
    assert "n.d." in issue_text(absent, "fr")
    assert "per-capita" in issue_text(absent, "en")
    skipped = _codes(report, "demand_skipped", "warning")
    assert skipped[0].params["n"] == 8 and skipped[0].params["total"] == 8
    assert summary["population_unknown"] == 8
    assert "population" in summary["missing"]
    stored = tiny_store.read_frame(
        "SELECT level, population FROM admin_units WHERE dataset_id = :d",
        {"d": info.id},
    )
    assert stored["population"].isna().all()  # NULL, never a made-up 0
    assert tiny_store.read_frame(
        "SELECT COUNT(*) AS n FROM demand_estimates WHERE dataset_id = :d",
        {"d": info.id},
    )["n"].iloc[0] == 0  # fmt: skip


# -- GADM layer + census table ---------------------------------------------------------


def test_strict_refuses_and_lists_every_unmatched_row_and_commune(tmp_path):
    report = Report()
    assert assemble(gadm_spec(tmp_path), report) is None
    unmatched = _codes(report, "unmatched_name", "error")
    assert sorted(i.params["value"] for i in unmatched) == ["Ndoulo", "Touba Extension"]
    assert [i.row for i in unmatched] == [8, 9]
    (missing,) = _codes(report, "no_population", "error")
    assert missing.params["value"] == "XYZ.2.4.7_1 (Sokodougou)"
    # the homonyms were told apart by the province: no ambiguity, no duplicate
    assert not _codes(report, "ambiguous_name") and not _codes(report, "duplicate_code")
    assert len(report.errors) == 3
    assert join_only(report, gadm_spec(tmp_path))


def test_partial_stores_what_joins_and_null_for_the_rest(tiny_store, tmp_path):
    spec = gadm_spec(tmp_path, join_mode="partial")
    report, info, summary = run_import(tiny_store, spec)
    assert report.ok and info is not None
    communes = tiny_store.units(info.id, level=2).set_index("code")
    pop = communes["population"]
    assert pop["XYZ.1.1.1_1"] == 12000  # ST LOUIS -> Saint-Louis
    assert pop["XYZ.1.1.2_1"] == 8000  # Koro of Province 1
    assert pop["XYZ.2.3.6_1"] == 3000  # KORO of Province 3
    assert pop["XYZ.1.2.4_1"] == 7000  # Diasse -> Diassé
    assert np.isnan(pop["XYZ.2.4.7_1"])  # Sokodougou: unknown, not 0
    # every problem still listed, as warnings
    assert [i.params["value"] for i in _codes(report, "unmatched_name", "warning")] == [
        "Ndoulo",
        "Touba Extension",
    ]
    assert len(_codes(report, "no_population", "warning")) == 1
    (partial,) = _codes(report, "population_partial")
    assert (partial.params["n"], partial.params["total"]) == (1, 8)
    assert "exclues des indicateurs par habitant" in issue_text(partial, "fr")
    assert summary["population_unknown"] == 1
    assert summary["population"] == 12000 + 8000 + 5000 + 7000 + 20000 + 3000 + 6000
    # upper levels: sums of the known communes; the demand skips the unknown one
    depts = tiny_store.units(info.id, level=1).set_index("code")
    assert depts.loc["XYZ.2.4_1", "population"] == 6000
    demand = tiny_store.read_frame(
        "SELECT DISTINCT u.code FROM demand_estimates e "
        "JOIN admin_units u ON u.id = e.commune_id WHERE e.dataset_id = :d",
        {"d": info.id},
    )
    assert len(demand) == 7 and "XYZ.2.4.7_1" not in set(demand["code"])
    assert _codes(report, "demand_skipped")[0].params["n"] == 1


def test_homonyms_without_a_parent_column_are_ambiguous_not_joined_to_the_first(
    tmp_path,
):
    report = Report()
    bundle = assemble(gadm_spec(tmp_path, "partial", province=False), report)
    ambiguous = _codes(report, "ambiguous_name", "warning")
    assert [(i.params["value"], i.params["n"]) for i in ambiguous] == [
        ("Koro", 2),
        ("KORO", 2),
    ]
    communes = communes_of(bundle)
    assert communes.loc[["XYZ.1.1.2_1", "XYZ.2.3.6_1"], "population"].isna().all()
    report = Report()
    assert assemble(gadm_spec(tmp_path, "strict", province=False), report) is None
    assert len(_codes(report, "ambiguous_name", "error")) == 2


def test_parent_column_matches_the_parent_code_too(tmp_path):
    rows = [("XYZ.1.1_1", "Koro", 8000), ("XYZ.2.3_1", "Koro", 3000)]
    report = Report()
    bundle = assemble(
        ImportSpec(
            [Source("g.gpkg", write_gadm(tmp_path), GADM_MAPPING)],
            population=Source(
                "c.csv", write_census(tmp_path, rows), mapping={"parent": "province"}
            ),
            join_mode="partial",
        ),
        report,
    )
    communes = communes_of(bundle)
    assert communes.loc["XYZ.1.1.2_1", "population"] == 8000
    assert communes.loc["XYZ.2.3.6_1", "population"] == 3000
    assert len(_codes(report, "no_population")) == 6


def test_every_unmatched_row_is_listed_beyond_twenty(tmp_path):
    """60 communes, 25 census rows renamed: 25 unmatched rows, 25 communes without."""
    n, bad = 60, 25
    layer = gpd.GeoDataFrame(
        {
            "code": [f"C{i:03d}" for i in range(n)],
            "nom": [f"Commune {i}" for i in range(n)],
            "code_region": ["R1"] * (n // 2) + ["R2"] * (n - n // 2),
        },
        geometry=[box(i * 0.01, 0, (i + 1) * 0.01, 0.01) for i in range(n)],
        crs="EPSG:4326",
    )
    path = tmp_path / "communes.geojson"
    layer.to_file(path, driver="GeoJSON")
    names = [f"Ancienne {i}" if i < bad else f"Commune {i}" for i in range(n)]
    table = tmp_path / "pop.csv"
    table.write_text(
        "nom,population\n" + "".join(f"{m},{100 + i}\n" for i, m in enumerate(names))
    )
    for mode, severity in (("strict", "error"), ("partial", "warning")):
        report = Report()
        assemble(
            ImportSpec(
                [Source("communes.geojson", path)],
                population=Source("pop.csv", table, join="name"),
                join_mode=mode,
            ),
            report,
        )
        assert len(_codes(report, "unmatched_name", severity)) == bad
        assert len(_codes(report, "no_population", severity)) == bad
        assert not any("more" in i.params for i in report.issues)


def test_population_column_with_blank_cells_partial(tmp_path):
    layer = f.communes().assign(T_TL=[100, None, 300, 400, 500, 600, 700, 800])
    path = tmp_path / "adm3.geojson"
    layer.to_file(path, driver="GeoJSON")
    report = Report()
    assert assemble(ImportSpec([Source("adm3.geojson", path)]), report) is None
    assert _codes(report, "missing_value", "error")[0].row == 2
    report = Report()
    bundle = assemble(
        ImportSpec([Source("adm3.geojson", path)], join_mode="partial"), report
    )
    assert report.ok
    assert np.isnan(communes_of(bundle).loc["XY0101002", "population"])
    assert _codes(report, "no_population")[0].params["value"] == "XY0101002 (Kaolack)"


def test_join_mode_is_checked():
    with pytest.raises(ValueError, match="join_mode should be one of"):
        ImportSpec([], join_mode="lenient")


# -- KPIs of units without population --------------------------------------------------


def test_kpis_of_units_without_population_are_nd_and_left_out_per_capita(
    tiny_store, tmp_path
):
    centers = tmp_path / "centres.csv"
    centers.write_text(
        "code,nom,longitude,latitude,capacite\n"
        "SC1,Centre Sokodougou,-4.65,12.05,300\n"  # commune without population
        "SC2,Centre Medina,-4.65,12.15,300\n"
    )
    spec = gadm_spec(tmp_path, join_mode="partial")
    spec.centers = Source("centres.csv", centers)
    report, info, _ = run_import(tiny_store, spec)
    assert report.ok, [i.text() for i in report.errors]
    ctx = load_context(tiny_store, info.id)
    filters = kpi.Filters(
        info.id, dt.date(2026, 1, 5), dt.date(2026, 12, 28), ("CNI",), 30.0, 2
    )
    measures = kpi.commune_measures(tiny_store, filters)
    by_commune = unit_kpis(ctx, measures, 2)
    soko = by_commune.loc["XYZ.2.4.7_1"]
    for kid in ("population", "pop_within", "mean_distance", "centers_per_100k"):
        assert np.isnan(soko[kid]), kid  # n.d., never 0
    assert by_commune.loc["XYZ.2.4.8_1", "population"] == 6000
    # the province of Sokodougou: its center and its unknown people are left out
    dept = unit_kpis(ctx, measures, 1).loc["XYZ.2.4_1"]
    assert dept["population"] == 6000
    assert dept["centers_per_100k"] == pytest.approx(100_000 / 6000)
    assert dept["pop_within"] == pytest.approx(100.0)
    country = selection_kpis(ctx, measures)
    assert country["centers_per_100k"] == pytest.approx(100_000 / 61_000)
    # the catalogue SQL agrees
    dept_id = int(ctx.unit("XYZ.2.4_1")["id"])
    for kid in ("population", "centers_per_100k", "pop_within", "mean_distance"):
        assert kpi.run_kpi_sql(tiny_store, kid, filters, [dept_id]) == pytest.approx(
            dept[kid]
        ), kid
    soko_id = int(ctx.unit("XYZ.2.4.7_1")["id"])
    assert np.isnan(kpi.run_kpi_sql(tiny_store, "population", filters, [soko_id]))


def test_access_is_computed_for_communes_without_population(tiny_store, tmp_path):
    spec = ImportSpec([Source("adm3.geojson", f.write_cod_ab(tmp_path))])
    spec.centers = Source("centres.csv", f.write_centers(tmp_path))
    report, info, _ = run_import(tiny_store, spec)
    assert report.ok
    access = tiny_store.read_frame(
        "SELECT a.distance_km FROM commune_access a JOIN admin_units u "
        "ON u.id = a.commune_id WHERE u.dataset_id = :d",
        {"d": info.id},
    )
    assert len(access) == 8 and access["distance_km"].notna().all()


# -- the command -----------------------------------------------------------------------


def _cli(*args, data_dir):
    return subprocess.run(
        [sys.executable, "-m", "dashapp", "import", *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )


@pytest.mark.slow
def test_cli_join_mode_strict_then_partial(tmp_path):
    # parents given by code on the command line: the census names them by code too
    by_code = [(f"XYZ.{int(p[-1]) // 3 + 1}.{p[-1]}_1", n, v) for p, n, v in CENSUS]
    gadm, census = write_gadm(tmp_path), write_census(tmp_path, by_code)
    base = ["--boundaries", str(gadm), "--code-column", "GID_3", "--name-column",
            "NAME_3", "--parent-columns", "GID_1,GID_2", "--population", str(census),
            "--join", "name", "--join-column", "commune",
            "--join-parent-column", "province", "--lang", "en"]  # fmt: skip
    strict = _cli(*base, "--dry-run", data_dir=tmp_path / "d")
    assert strict.returncode == 2
    assert strict.stderr.count("matches no commune") == 2
    assert "no population for commune XYZ.2.4.7_1 (Sokodougou)" in strict.stderr
    assert "--join-mode partial" in strict.stderr
    assert "matches 2 communes" not in strict.stderr  # Koro told apart by code
    partial = _cli(*base, "--join-mode", "partial", data_dir=tmp_path / "d")
    assert partial.returncode == 0, partial.stderr
    assert "unknown for 1 communes: n.d." in partial.stdout
    assert partial.stderr.count("warning:") >= 4
    alone = _cli("--boundaries", str(gadm), "--code-column", "GID_3",
                 "--dry-run", data_dir=tmp_path / "d")  # fmt: skip
    assert alone.returncode == 0, alone.stderr
    assert "population unknown (n.d.)" in alone.stdout
