"""A candidate site may not reuse a center's code: refused at import, where the
file, row and column can still be named (the engine would refuse it later)."""

from __future__ import annotations

import pandas as pd
import pytest

from dashapp.services.importing import issue_text
from data.importers import ImportSpec, Report, Source, assemble
from data.store import StoreError
from tests.unit.data import import_files as f


def test_candidate_with_a_center_code_is_refused_with_file_row_and_column(tmp_path):
    sites = tmp_path / "sites.csv"
    sites.write_text(
        "code,nom,lon,lat,cout,capacite\n"
        "CS1,Site Kaolack,-4.95,12.15,90,250\n"
        "SC2,Site Sokodougou,-4.65,12.05,80,250\n",
        encoding="utf-8",
    )
    spec = ImportSpec(
        [Source("adm3.geojson", f.write_cod_ab(tmp_path))],
        population=Source("population.csv", f.population_by_pcode(tmp_path)),
        centers=Source("centres.csv", f.write_centers(tmp_path)),
        candidates=Source("sites.csv", sites),
    )
    report = Report()
    assert assemble(spec, report) is None
    (issue,) = [i for i in report.issues if i.code == "site_code_is_center"]
    assert (issue.file, issue.row, issue.field) == ("sites.csv", 2, "code")
    assert issue_text(issue, "en") == (
        "sites.csv, row 2, field “code”: code “SC2” is already a center's: a "
        "candidate site needs its own code."
    )
    assert issue_text(issue, "fr").startswith("sites.csv, ligne 2, champ « code » :")


def test_adding_candidate_sites_refuses_a_center_code(tiny_store):
    info = tiny_store.active_dataset()
    commune = int(tiny_store.units(info.id, 2).set_index("code").loc["C2", "id"])
    frame = pd.DataFrame(
        {"code": ["S1"], "name": ["x"], "commune_id": [commune],
         "lon": [0.15], "lat": [0.05]}
    )  # fmt: skip
    with pytest.raises(StoreError, match="already used by centers: S1"):
        tiny_store.add_candidate_sites(info.id, frame)
