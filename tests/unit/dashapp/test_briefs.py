"""Decision briefs: the PDF's figures are the app's, its maps are drawn, bad requests
get one clear line.

The PDF's text comes from ``pdftotext`` and its pages from ``pdftoppm`` (Debian's
poppler-utils, installed by scripts/test.sh).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from dashapp import __main__ as cli
from dashapp import services
from dashapp.config import Config
from dashapp.filters import area_path, resolve
from dashapp.i18n import number
from dashapp.services import briefs
from data import views
from data.exports import compare_kpis
from data.kpi import KPIS, run_kpi_sql
from data.scenarios import record_from_result, save_scenario
from data.store import Store
from geo.access import nearest_center
from optimization.whatif import WhatIf
from optimization.workspace import Workspace
from tests.tiny import new_country_bundle, tiny_bundle

pytestmark = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None,
    reason="poppler-utils missing (scripts/test.sh installs it)",
)
ON = dt.date(2026, 11, 29)


@pytest.fixture(scope="module")
def demo(demo_dir, tmp_path_factory):
    """A copy of the demo with two saved runs and one scenario of another dataset."""
    folder = tmp_path_factory.mktemp("briefs") / "data"
    shutil.copytree(demo_dir, folder, ignore=shutil.ignore_patterns("cache"))
    config = Config(data_dir=folder)
    store = Store(config.database_url)
    dataset = store.active_dataset().id
    ws = Workspace.from_store(store, dataset)
    ids = []
    for n in (1, 3):
        whatif = WhatIf(new_centers=n, time_limit_s=30)
        run = ws.prepare_run(whatif)
        record = save_scenario(
            store, dataset, f"Plan {n}",
            {"whatif": whatif.to_dict(), "spec": run.spec.to_dict()},
            author="Awa", **record_from_result(run.solve()),
        )  # fmt: skip
        ids.append(record.id)
    other = store.add_dataset(tiny_bundle(), activate=False, access=nearest_center)
    first = briefs.get_scenario(store, ids[0])
    foreign = save_scenario(
        store, other.id, "Ailleurs", first.params, summary=first.summary,
        centers=first.centers, communes=first.communes, status=first.status,
    )  # fmt: skip
    store.engine.dispose()
    with briefs.standalone(config):
        yield config, ids, foreign.id


def pdf_text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "brief.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                         capture_output=True, text=True).stdout  # fmt: skip
    return " ".join(out.split())  # every space (narrow no-break ones too) as one


def flat(text: str) -> str:
    return " ".join(text.split())


def pages(pdf: bytes, tmp_path, dpi: int = 40) -> list[np.ndarray]:
    tmp_path.mkdir(exist_ok=True)
    path = tmp_path / "pages.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(path),
                    str(tmp_path / "page")], check=True)  # fmt: skip
    return [np.asarray(Image.open(p).convert("RGB"), dtype=int)
            for p in sorted(tmp_path.glob("page-*.png"))]  # fmt: skip


def map_rows(image: np.ndarray) -> int:
    """Rows of a page with many coloured pixels (maps; text is black and grey)."""
    colour = image.max(axis=-1) - image.min(axis=-1)  # 0 for white, grey, black
    return int(((colour > 20).mean(axis=1) > 0.1).sum())


def build(config, **kwargs) -> bytes:
    return briefs.build_brief(
        config.database_url, briefs.BriefRequest(on=ON, **kwargs)
    )


@pytest.mark.parametrize("area,lang", [("R02", "fr"), (None, "en"), ("R01D02", "fr")])
def test_area_brief_figures_are_the_apps(demo, tmp_path, area, lang):
    config, _, _ = demo
    text = pdf_text(build(config, area=area, lang=lang), tmp_path)
    url = config.database_url
    ctx = services.context(url)
    r = resolve(ctx, lang, areas=list(area_path(ctx, area)))
    app = views.selection_kpis(ctx, services.measures_for(url, ctx, r), r.selection)
    scope = [int(ctx.unit(area)["id"])] if area else ctx.units_at(0)["id"].tolist()
    for kid in briefs.BRIEF_KPIS:
        shown = f"{KPIS[kid].name(lang, r.radius_km)} {briefs._kpi_value(kid, app[kid], lang)}"
        assert flat(shown) in text, kid
        # and the app's value is the catalogue's SQL straight on the store
        assert run_kpi_sql(services.get_store(url), kid, r.filters(ctx), scope) == (
            pytest.approx(app[kid], rel=1e-9, nan_ok=True)
        )
    assert ("Note de synthèse" if lang == "fr" else "Decision brief") in text
    assert ("page 1 / " if lang == "fr" else "page 1 of ") in text


def test_numbers_are_written_for_the_language(demo, tmp_path):
    config, _, _ = demo
    fr = pdf_text(build(config, lang="fr"), tmp_path)
    en = pdf_text(build(config, lang="en"), tmp_path)
    population = services.context(config.database_url).communes()["population"].sum()
    assert flat(number(population, 0, "fr")) in fr and "\u202f" in number(population)
    assert number(population, 0, "en") in en and "," in number(population, 0, "en")
    assert re.search(r"\d,\d %", fr) and re.search(r"\d\.\d%", en)


def test_findings_name_the_worst_with_their_figure(demo, tmp_path):
    config, _, _ = demo
    url = config.database_url
    ctx = services.context(url)
    facts = briefs.area_facts(url, ctx, "R02", "fr")
    found = briefs.findings(facts, "fr")
    assert 3 <= len(found) <= 5
    busiest = facts.centers.sort_values("utilisation").iloc[-1]
    assert busiest["name"] in found[0]
    assert number(busiest["utilisation"], 0, "fr") + " %" in found[0]
    far = facts.commune_values["mean_distance"].idxmax()
    assert ctx.unit(far)["name"] in found[1]
    text = pdf_text(build(config, area="R02"), tmp_path)
    for line in found:
        assert flat(line) in text


def test_maps_are_drawn(demo, tmp_path):
    config, ids, _ = demo
    images = pages(build(config, area="R02"), tmp_path / "area")
    assert max(map_rows(page) for page in images) > 0.2 * images[0].shape[0]
    images = pages(build(config, scenarios=(ids[0],)), tmp_path / "scn")
    best = max(images, key=map_rows)
    half = best.shape[1] // 2
    # before and after, side by side: both halves drawn
    assert map_rows(best[:, :half]) > 0.15 * best.shape[0]
    assert map_rows(best[:, half:]) > 0.15 * best.shape[0]


def test_same_brief_same_bytes(demo):
    config, ids, _ = demo
    assert build(config, area="R03") == build(config, area="R03")
    assert build(config, scenarios=(ids[1],)) == build(config, scenarios=(ids[1],))


def test_powerpoint_deck_holds_the_same_figures_as_text(demo):
    from pptx import Presentation

    config, ids, _ = demo
    url = config.database_url
    deck = briefs.build_brief(url, briefs.BriefRequest(area="R02", on=ON), fmt="pptx")
    assert deck == briefs.build_brief(url, briefs.BriefRequest(area="R02", on=ON),
                                      fmt="pptx")  # deterministic  # fmt: skip
    prs = Presentation(io.BytesIO(deck))
    cells, texts, pictures = [], [], 0
    for slide in prs.slides:
        for shape in slide.shapes:
            if shape.has_table:
                cells += [c.text for row in shape.table.rows for c in row.cells]
            elif shape.has_text_frame:
                texts.append(shape.text_frame.text)
            pictures += shape.shape_type == 13  # a picture: the map
            assert shape.top + shape.height <= prs.slide_height
    ctx = services.context(url)
    facts = briefs.area_facts(url, ctx, "R02", "fr")
    for row in briefs.kpi_rows(facts, "fr"):
        assert row[0] in cells and row[1] in cells  # editable table cells
    assert pictures == 1 and any("Ce qu'il faut retenir" in x for x in texts)
    with pytest.raises(ValueError, match="brief format 'docx'"):
        briefs.build_brief(url, briefs.BriefRequest(on=ON), fmt="docx")


def test_scenario_brief_is_the_screens_result(demo, tmp_path):
    config, ids, _ = demo
    url = config.database_url
    record = briefs.get_scenario(services.get_store(url), ids[1])
    ws = services.workspace(url, None)
    before, after = ws.result_kpis(record, ws.area("R02"))
    text = pdf_text(build(config, scenarios=(ids[1],), area="R02"), tmp_path)
    rows = briefs.scenario_kpi_rows(before, after, "fr", record.summary.get("units"))
    assert len(rows) >= 8
    for row in rows:  # a long label may wrap: its start, then the row's figures
        assert row[0][:25] in text and flat(" ".join(c for c in row[1:] if c)) in text
    assert "Population sans centre" in text  # people not served
    centers, _ = ws.result_tables(record, ws.area("R02"))
    for name in centers.loc[centers["status"] == "opened", "name"]:
        assert name in text
    assert "Preuve : le solveur a prouvé" in text or "au plus à" in text
    assert "Hypothèses" in text and "orthodromique" in text


def test_comparison_brief_is_the_comparison_table(demo, tmp_path):
    config, ids, _ = demo
    store = services.get_store(config.database_url)
    records = [briefs.get_scenario(store, i) for i in ids]
    text = pdf_text(build(config, scenarios=tuple(ids), lang="en"), tmp_path)
    population = services.context(config.database_url).communes()["population"].sum()
    table = compare_kpis(records, lang="en", population=float(population))
    for row_id in ("open_centers", "opened", "mean_distance", "unmet_demand"):
        for label in ("Plan 1", "Plan 3"):
            assert briefs._compare_cell(row_id, table.loc[row_id, label], "en") in text
    assert "Comparison of 2 scenarios" in text and "Solver proofs" in text


@pytest.mark.parametrize(
    "kwargs,reason",
    [
        ({"area": "R99"}, "unknown_area"),
        ({"area": "R01D01C001"}, "unknown_area"),  # a commune is no area
        ({"scenarios": (999,)}, "unknown_scenario"),
        ({"scenarios": (1, 2, 3, 4, 5)}, "too_many"),
        ({"indicator": "nope"}, "unknown_indicator"),
    ],
)
def test_bad_requests_are_refused(demo, kwargs, reason):
    config, _, _ = demo
    with pytest.raises(briefs.BriefError) as caught:
        build(config, **kwargs)
    assert caught.value.code == reason
    assert "\n" not in str(caught.value)


def test_a_draft_is_refused(demo):
    config, _, _ = demo
    store = services.get_store(config.database_url)
    draft = save_scenario(store, store.active_dataset().id, "Brouillon H8",
                          {"whatif": {}})  # fmt: skip
    with pytest.raises(briefs.BriefError, match="pas encore été calculé"):
        build(config, scenarios=(draft.id,))


def test_scenario_of_another_dataset_is_refused(demo):
    config, _, foreign = demo
    with pytest.raises(briefs.BriefError, match="autre version des données"):
        build(config, scenarios=(foreign,))


def test_dataset_without_operations_says_what_is_missing(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'dashapp.sqlite'}")
    store.upgrade()
    bundle = tiny_bundle()
    bundle = dataclasses.replace(bundle, operations=bundle.operations.iloc[0:0])
    store.add_dataset(bundle, kind="imported", access=nearest_center)
    config = Config(data_dir=tmp_path)
    with briefs.standalone(config):
        text = pdf_text(build(config, lang="en"), tmp_path)
    assert "Sections not available" in text
    assert "holds no operations data" in text
    assert "Rejection rate" not in text and "Population" in text


def test_new_country_without_centers_or_operations(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'dashapp.sqlite'}")
    store.upgrade()
    store.add_dataset(new_country_bundle(), kind="imported", access=nearest_center)
    config = Config(data_dir=tmp_path)
    with briefs.standalone(config):
        pdf = build(config, lang="fr")
    text = pdf_text(pdf, tmp_path)
    assert "Sections non disponibles" in text and "Population" in text
    assert max(map_rows(page) for page in pages(pdf, tmp_path / "p")) > 0


def test_cli_writes_a_brief_and_refuses_bad_requests(demo, tmp_path, capsys):
    config, ids, foreign = demo
    out = tmp_path / "note.pdf"
    common = ["brief", "--data-dir", str(config.data_dir), "--out", str(out)]
    assert cli.main([*common, "--region", "R02", "--lang", "en"]) == 0
    assert out.read_bytes().startswith(b"%PDF")
    assert "area brief written" in capsys.readouterr().out
    for bad, said in [
        (["--region", "R99"], "aucune zone de code 'R99'"),
        (["--region", "R02", "--out", str(tmp_path / "n.docx")], "a .pdf or .pptx"),
        (["--scenario", "abc"], "'scenario' should be a whole number"),
        (["--scenario", "999", "--lang", "en"], "no saved scenario with id '999'"),
        (["--scenario", str(foreign), "--lang", "en"], "another version of the data"),
    ]:
        assert cli.main([*common, *bad]) == 2
        err = capsys.readouterr().err
        assert said in err and err.count("\n") == 1


@pytest.mark.slow
def test_cli_process(demo, tmp_path):
    config, ids, _ = demo
    out = tmp_path / "cmp.pdf"
    run = subprocess.run(
        [sys.executable, "-m", "dashapp", "brief", "--data-dir", str(config.data_dir),
         *[a for i in ids for a in ("--scenario", str(i))], "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "comparison brief written" in run.stdout and out.stat().st_size > 10_000


def test_scenario_brief_lists_centers_resized_by_capacity_modules(demo, tmp_path):
    config, _, _ = demo
    url = config.database_url
    store = services.get_store(url)
    dataset = store.active_dataset().id
    whatif = WhatIf(new_centers=0, capacitated=True, module_size=100, module_cost=0.5,
                    time_limit_s=30)  # fmt: skip
    run = services.workspace(url, dataset).prepare_run(whatif)
    result = run.solve()
    record = save_scenario(
        store, dataset, "Modules",
        {"whatif": whatif.to_dict(), "spec": run.spec.to_dict()},
        **record_from_result(result),
    )  # fmt: skip
    centers = result.centers
    grown = centers[centers["modules_added"] > 0].sort_values("name")
    assert len(grown) >= 2  # the demo's overloaded centers get modules
    table = briefs.resized(record.centers, record)
    assert table["name"].tolist() == grown["name"].tolist()
    assert table["capacity"].tolist() == grown["capacity"].tolist()
    assert (table["capacity"] - table["capacity_before"]).tolist() == (
        100.0 * grown["modules_added"]
    ).tolist()
    assert table["cost"].sum() == pytest.approx(result.summary["kpis"]["after"]["cost"])
    text = pdf_text(build(config, scenarios=(record.id,), lang="en"), tmp_path)
    first = table.iloc[0]
    row = (f"resize {first['name']} {number(first['capacity_before'], 0, 'en')} → "
           f"{number(first['capacity'], 0, 'en')}")  # fmt: skip
    assert flat(row) in text
    assert f"{len(grown)} to resize" in text
    assert f"{number(first['cost'], 1, 'en')}" in text


def test_resized_without_modules_or_capacity_is_empty(demo):
    config, ids, _ = demo
    record = briefs.get_scenario(services.get_store(config.database_url), ids[0])
    assert "modules_added" not in record.centers
    assert briefs.resized(record.centers, record).empty
    assert briefs.resized(record.centers.iloc[0:0], record).empty
    no_capacity = record.centers.drop(columns=["capacity"], errors="ignore")
    assert briefs.resized(no_capacity, record).empty
    # a reallocation's table: capacity before and after, staff moved at no price
    moved = record.centers.assign(capacity_before=record.centers["capacity"])
    moved.loc[moved.index[0], "capacity_before"] = moved["capacity"].iloc[0] - 40
    moved.loc[moved.index[0], "status"] = "kept"
    table = briefs.resized(moved, record)
    assert len(table) == 1 and np.isnan(table["cost"].iloc[0])
    rows = briefs.changes_rows(moved, "fr", record)
    assert rows[-1][0] == "redimensionner" and rows[-1][-1] == ""


def test_comparison_brief_of_a_region_has_the_regions_figures(demo, tmp_path):
    config, ids, _ = demo
    url = config.database_url
    store = services.get_store(url)
    records = [briefs.get_scenario(store, i) for i in ids]
    ws = services.workspace(url, None)
    zone = ws.area("R02")
    text = pdf_text(build(config, scenarios=tuple(ids), area="R02", lang="en"), tmp_path)
    national = compare_kpis(records, lang="en")
    for record, label in zip(records, ("Plan 1", "Plan 3"), strict=True):
        _, after = ws.result_kpis(record, zone)  # the scenario screen's, for R02
        centers, _ = ws.result_tables(record, zone)
        for row_id, value in [
            ("mean_distance", after["mean_distance"]),
            ("open_centers", after["open_centers"]),
            ("unserved_population", after["unserved_population"]),
            ("opened", int((centers["status"] == "opened").sum())),
        ]:
            assert briefs._compare_cell(row_id, value, "en") in text, (label, row_id)
        # not the country's: the region's open centers are fewer
        assert after["open_centers"] < national.loc["open_centers", label]
    assert "Indicators computed for Region Sud only" in flat(text)
    national_text = pdf_text(build(config, scenarios=tuple(ids), lang="en"), tmp_path)
    assert "Indicators computed for" not in national_text


def test_printed_maps_use_the_screens_colours():
    from matplotlib.colors import Normalize, to_hex, to_rgb

    from dashapp.services import brief_maps
    from layouts import maps

    assert brief_maps.UTIL_RANGE == maps.UTIL_RANGE
    norm = Normalize(*brief_maps.UTIL_RANGE)
    low, high = maps.UTIL_RANGE
    # the screen's scale at its ends and middle: under-used, full, overloaded
    for pct, (_, colour) in zip((low, (low + high) / 2, high),
                                (maps.UTIL_SCALE[0], maps.UTIL_SCALE[2],
                                 maps.UTIL_SCALE[-1]), strict=True):  # fmt: skip
        drawn = to_rgb(brief_maps.UTIL_CMAP(norm(pct)))  # a 256-step table: to 1/255
        assert drawn == pytest.approx(to_rgb(colour), abs=1.5 / 255)
    for status, colour in brief_maps.STATUS_COLORS.items():
        assert colour == maps.SITE_COLORS[status]
    assert to_hex(brief_maps.DISTANCE_CMAP(1.0)) == maps.SEQUENTIAL[-1][1]
