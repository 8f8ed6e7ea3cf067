"""The brief buttons' callbacks, called directly: a PDF with the screen's figures for
the filters shown, or one message saying what was refused."""

from __future__ import annotations

import base64
import shutil
import subprocess

import pytest
from dash import no_update

from callbacks import briefs as cb
from dashapp import services
from dashapp.filters import resolve
from dashapp.services.briefs import _kpi_value
from data import views
from data.kpi import KPIS
from data.scenarios import record_from_result, save_scenario
from data.users import Principal
from optimization.whatif import WhatIf

pytestmark = [
    pytest.mark.writes_demo,
    pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils"),
]
VIEWER = Principal(7, "viewer", "viewer")
FILTERS = {
    "level": "department", "indicator": "rejection_rate", "areas": ["R02", None],
    "doc_types": ["CNI"], "start": "2026-01-05", "end": "2026-10-26", "radius": 30,
}  # fmt: skip


@pytest.fixture
def config(demo_app):
    return demo_app.server.config["DASHAPP"]


def text_of(download: dict, tmp_path) -> str:
    assert download["filename"].endswith(".pdf") and download["base64"]
    path = tmp_path / download["filename"]
    path.write_bytes(base64.b64decode(download["content"]))
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                         capture_output=True, text=True).stdout  # fmt: skip
    return " ".join(out.split())


def saved_runs(config, n: int) -> list[int]:
    store = services.get_store(config.database_url)
    dataset = store.active_dataset().id
    ws = services.workspace(config.database_url, dataset)
    ids = []
    for k in range(n):
        whatif = WhatIf(new_centers=k + 1, time_limit_s=30)
        run = ws.prepare_run(whatif)
        ids.append(save_scenario(
            store, dataset, f"Run {k + 1}",
            {"whatif": whatif.to_dict(), "spec": run.spec.to_dict()},
            **record_from_result(run.solve()),
        ).id)  # fmt: skip
    return ids


def test_area_brief_has_the_screens_figures_for_its_filters(call, config, tmp_path):
    steps = []
    download, message = call(cb.area_brief, config, steps.append, 1, FILTERS, None,
                             "fr", user=VIEWER)  # fmt: skip
    assert message is None and steps[-1] == ""
    assert any("%" in str(s) for s in steps)  # progress was shown
    text = text_of(download, tmp_path)
    url = config.database_url
    ctx = services.context(url)
    r = resolve(ctx, "fr", **FILTERS)
    values = views.selection_kpis(ctx, services.measures_for(url, ctx, r), "R02")
    for kid in ("requests", "rejection_rate", "pop_within", "mean_delay"):
        shown = f"{KPIS[kid].name('fr', 30.0)} {_kpi_value(kid, values[kid], 'fr')}"
        assert " ".join(shown.split()) in text, kid
    assert "Carte nationale d'identité" in text and "Passeport" not in text
    assert "Région Sud" in text and download["filename"].startswith("note-R02-")


def test_scenario_and_comparison_briefs(call, config, tmp_path):
    first, second = saved_runs(config, 2)
    download, message = call(cb.scenario_brief, config, lambda _: None, 1,
                             {"id": first}, "R01", None, "en")  # fmt: skip
    assert message is None and "Scenario brief: Run 1" in text_of(download, tmp_path)
    download, message = call(cb.comparison_brief, config, lambda _: None, 1,
                             [first, second], None, "fr")  # fmt: skip
    text = text_of(download, tmp_path)
    assert message is None and "Comparaison de 2 scénarios" in text
    assert "Run 1" in text and "Run 2" in text


@pytest.mark.parametrize(
    "fn,args,said",
    [
        (cb.scenario_brief, ({"id": "x"}, None), "scenario"),
        (cb.scenario_brief, (None, None), "open or run one to brief it"),
        (cb.scenario_brief, ({"id": 9999}, None), "no saved scenario with id '9999'"),
        (cb.scenario_brief, ({"id": 1}, "R99"), "no area with code 'R99'"),
        (cb.comparison_brief, ([1],), "2 to 4"),
        (cb.comparison_brief, ([1, 2, 3, 4, 5],), "Invalid choice of scenarios"),
        (cb.comparison_brief, ("1,2",), "scenarios"),
    ],
)
def test_bad_requests_get_a_message_and_no_file(call, config, fn, args, said):
    saved_runs(config, 1)
    download, message = call(fn, config, lambda _: None, 1, *args, None, "en")
    assert download is no_update
    assert said in str(message)


def test_bad_dataset_is_refused(call, config):
    download, message = call(cb.area_brief, config, lambda _: None, 1, FILTERS,
                             "abc", "en")  # fmt: skip
    assert download is no_update and "dataset" in str(message)
