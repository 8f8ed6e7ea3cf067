"""Every tabular export writes hostile names as text, never as formulas (OWASP).

Each test puts names a spreadsheet would run as formulas, a plain name, an accented
name and a negative number into the data, produces the file's bytes and reads them
back: CSV cells carry a leading quote, Excel cells keep the exact text in a plain
text cell with Excel's quote prefix, and everything else is unchanged.
"""

import csv
import datetime as dt
import io
import json
import zipfile
from types import SimpleNamespace

import openpyxl
import pandas as pd
import pytest

from dashapp import create_app
from dashapp.config import Config
from dashapp.services import segmentation as seg_service
from data.exports import (
    CENTER_COLUMNS,
    COMMUNE_COLUMNS,
    comparison_excel,
    csv_text,
    neutralise_frame,
    neutralise_text,
    scenario_csv,
    scenario_excel,
    write_csv,
)
from data.scenarios import ScenarioRecord, save_scenario
from optimization.scenario import write_outputs
from tests.auth_helpers import signed_in_client

HOSTILE = [
    '=HYPERLINK("http://x","y")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "-1+1",
    "\tTab",
    "\rCR",
    " =1+1",  # a leading space does not save it: some importers trim spaces
]
NORMAL = ["Centre Un", "Thiès Médina"]
NAMES = HOSTILE + NORMAL
LON = -17.4467  # Dakar: negative numbers are numbers, not formulas
CSV_TEXT = {n: "'" + n for n in HOSTILE} | {n: n for n in NORMAL}


def _centers() -> pd.DataFrame:
    n = len(NAMES)
    return pd.DataFrame(
        {
            "site_id": [f"S{k}" for k in range(n)],
            "name": NAMES,
            "lon": [LON] * n,
            "lat": [14.69] * n,
            "existing": [True] * n,
            "status": ["kept"] * n,
            "assigned_demand": [-2.5] + [10.0] * (n - 1),
            "communes": [1] * n,
            "capacity": [100.0] * n,
            "utilisation": [0.1] * n,
        },
        columns=CENTER_COLUMNS,
    )


def _communes() -> pd.DataFrame:
    n = len(NAMES)
    return pd.DataFrame(
        {
            "commune_id": [f"C{k}" for k in range(n)],
            "name": NAMES,
            "demand": [-3] + [5] * (n - 1),
            "site_id": [f"S{k}" for k in range(n)],
            "distance": [1.5] * n,
            "site_id_before": [None] * n,
            "distance_before": [float("nan")] * n,
        },
        columns=COMMUNE_COLUMNS,
    )


def _record(rid: int, name: str, author: str) -> ScenarioRecord:
    now = dt.datetime(2026, 1, 1)
    summary = {
        "kpis": {
            "before": {"mean_distance": 3.0},
            "after": {"mean_distance": 2.0 + rid, "open_centers": len(NAMES)},
        },
        "solve": {"status": "optimal", "gap": 0.0},
        "units": {"demand": "requests/week", "distance": "km"},
    }
    params = {"model": "pmedian", "note": "=1+1", "offset": -5}
    return ScenarioRecord(
        rid,
        1,
        "@v1",
        name,
        author,
        params,
        summary,
        _centers(),
        _communes(),
        "optimal",
        now,
        now,
    )


@pytest.fixture
def records() -> list[ScenarioRecord]:
    return [_record(1, HOSTILE[0], HOSTILE[2]), _record(2, "Thiès Médina", "Awa")]


# -- reading back -------------------------------------------------------------------
def _rows(data: bytes | str) -> list[list[str]]:
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    return list(csv.reader(io.StringIO(text, newline="")))


def _table(data: bytes | str) -> list[dict[str, str]]:
    header, *rows = _rows(data)
    return [dict(zip(header, row, strict=True)) for row in rows]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _assert_no_live_cell(rows: list[list[str]]) -> None:
    """No CSV cell (header included) would start a formula, numbers aside."""
    for row in rows:
        for cell in row:
            live = cell[:1] in "\t\r" or cell.lstrip()[:1] in ("=", "+", "-", "@")
            assert not (cell and live and not _is_number(cell)), repr(cell)


def _assert_names_csv(data: bytes | str) -> None:
    rows = _rows(data)
    _assert_no_live_cell(rows)
    table = _table(data)
    assert [row["name"] for row in table] == [CSV_TEXT[n] for n in NAMES]


def _cells(data: bytes):
    book = openpyxl.load_workbook(io.BytesIO(data), data_only=False)
    return [
        cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row
    ]


def _assert_workbook(data: bytes) -> None:
    """No formula anywhere; formula-like text is quote-prefixed text, kept exact."""
    for cell in _cells(data):
        assert cell.data_type != "f", (cell.coordinate, cell.value)
        if isinstance(cell.value, str) and cell.value in HOSTILE:
            assert cell.data_type == "s" and cell.quotePrefix, repr(cell.value)
        if isinstance(cell.value, str) and cell.value in NORMAL:
            assert not cell.quotePrefix


def _sheet_column(data: bytes, sheet: str, column: str) -> list:
    rows = list(openpyxl.load_workbook(io.BytesIO(data))[sheet].values)
    k = list(rows[0]).index(column)
    return [row[k] for row in rows[1:]]


# -- the rule -----------------------------------------------------------------------
@pytest.mark.parametrize("name", HOSTILE)
def test_formula_like_text_gets_a_quote(name):
    assert neutralise_text(name) == "'" + name


@pytest.mark.parametrize("value", ["Centre Un", "Thiès Médina", "", "a=b", -1, -1.5])
def test_other_values_are_unchanged(value):
    assert neutralise_text(value) == value


def test_frame_copy_numbers_nan_and_headers():
    frame = pd.DataFrame(
        {"name": ["=1+1", None, "Thiès"], "=x": [-1.5, float("nan"), 2.0]}
    )
    before = frame.copy()
    out = neutralise_frame(frame)
    pd.testing.assert_frame_equal(frame, before)  # the input is not touched
    assert out.columns.tolist() == ["name", "'=x"]
    assert out["name"].tolist()[::2] == ["'=1+1", "Thiès"]
    assert pd.isna(out["name"].iloc[1])
    assert out["'=x"].tolist()[::2] == [-1.5, 2.0] and pd.isna(out["'=x"].iloc[1])
    assert out["'=x"].dtype == frame["=x"].dtype
    assert csv_text(frame).splitlines()[2] == ","


def test_mixed_and_categorical_columns():
    frame = pd.DataFrame(
        {
            "value": pd.Series([-3, "-1+1", 2.5, "ok"], dtype=object),
            "kind": pd.Categorical(["@a", "b", "@a", "b"]),
        }
    )
    out = neutralise_frame(frame)
    assert out["value"].tolist() == [-3, "'-1+1", 2.5, "ok"]
    assert out["kind"].tolist() == ["'@a", "b", "'@a", "b"]


def test_a_carriage_return_inside_a_name_cannot_start_a_row():
    # unquoted, "a\r=1+1" would be two rows in a spreadsheet, the second a formula
    frame = pd.DataFrame({"name": ["a\r=1+1", "b\n@x"], "n": [-1, 2]})
    assert _table(csv_text(frame)) == [
        {"name": "a\r=1+1", "n": "-1"},
        {"name": "b\n@x", "n": "2"},
    ]


# -- scenario exports ---------------------------------------------------------------
def test_scenario_csv_zip_files(records):
    from data.exports import zip_files

    archive = zipfile.ZipFile(io.BytesIO(zip_files(scenario_csv(records[0]))))
    files = {name: archive.read(name) for name in archive.namelist()}
    for data in files.values():
        _assert_no_live_cell(_rows(data))
    for name in ("centers.csv", "communes.csv"):
        _assert_names_csv(files[name])
    centers = _table(files["centers.csv"])
    assert {row["lon"] for row in centers} == {str(LON)}
    assert centers[0]["assigned_demand"] == "-2.5"
    assert _table(files["communes.csv"])[0]["demand"] == "-3"
    params = {r["parameter"]: r["value"] for r in _table(files["parameters.csv"])}
    assert params["scenario.name"] == "'" + HOSTILE[0]
    assert params["scenario.author"] == "'@SUM(1+1)"
    assert params["dataset.version"] == "'@v1"
    assert params["spec.note"] == "'=1+1"
    assert params["spec.offset"] == "-5"
    summary = _table(files["summary_kpis.csv"])
    change = [r["change"] for r in summary if r["name"] == "mean_distance"]
    assert change == ["0.0"]


def test_scenario_excel(records):
    data = scenario_excel(records[0])
    _assert_workbook(data)
    assert _sheet_column(data, "centres", "name") == NAMES
    assert _sheet_column(data, "communes", "name") == NAMES
    assert set(_sheet_column(data, "centres", "lon")) == {LON}
    assert _sheet_column(data, "communes", "demand")[0] == -3
    params = dict(
        zip(
            _sheet_column(data, "parametres", "parameter"),
            _sheet_column(data, "parametres", "value"),
            strict=True,
        )
    )
    assert params["scenario.name"] == HOSTILE[0]
    assert params["spec.note"] == "=1+1"
    assert params["spec.offset"] == -5


def test_comparison_workbook_headers_and_cells(records):
    data = comparison_excel(records)
    _assert_workbook(data)
    sheet = openpyxl.load_workbook(io.BytesIO(data))["comparaison"]
    label = next(c for c in sheet[1] if c.value == HOSTILE[0])
    assert label.data_type == "s" and label.quotePrefix
    version = [c for c in _cells(data) if c.value == "@v1"]
    assert version and all(c.quotePrefix for c in version)
    best = _sheet_column(data, "comparaison", "best")
    assert best[0] == HOSTILE[0]  # record 1 has the lower mean distance


# -- API ------------------------------------------------------------------------------
@pytest.fixture
def api_client(tiny_store, tmp_path):
    """A signed-in API client on the tiny country with the hostile tables saved."""
    dataset = tiny_store.active_dataset().id
    rec = save_scenario(
        tiny_store,
        dataset,
        "Plan",
        {"model": "pmedian"},
        centers=_centers(),
        communes=_communes(),
        status="optimal",
    )
    tiny_store.engine.dispose()
    app = create_app(Config(data_dir=tmp_path, database_url=tiny_store.url))
    client = app.server.test_client()
    if client.get("/api/v1/datasets").status_code in (302, 401):
        # once the app asks for sign-in; a CSV is an export: export.any (analyst)
        client = signed_in_client(app, "analyst")
    return client, rec.id


@pytest.mark.parametrize("which", ["centers", "communes"])
def test_api_csv(api_client, which):
    client, rid = api_client
    res = client.get(f"/api/v1/scenarios/{rid}/{which}?format=csv")
    assert res.status_code == 200 and res.mimetype == "text/csv"
    _assert_names_csv(res.get_data(as_text=True))
    table = _table(res.get_data(as_text=True))
    if which == "centers":
        assert {row["lon"] for row in table} == {str(LON)}
    else:
        assert table[0]["demand"] == "-3"
    # JSON is not a spreadsheet: names go out exactly as stored
    names = [r["name"] for r in client.get(f"/api/v1/scenarios/{rid}/{which}").json]
    assert names == NAMES


# -- segmentation, forecast and command-line tables ---------------------------------
def _labels() -> tuple[pd.DataFrame, pd.DataFrame]:
    communes = _communes()[["commune_id", "name"]].rename(
        columns={"commune_id": "code"}
    )
    communes["cluster"] = 1
    communes["access_km"] = -0.75
    communes["recommendation"] = HOSTILE[1]
    profile = pd.DataFrame(
        {
            "cluster": [1],
            "description": ["@forte demande"],
            "recommendation": [HOSTILE[0]],
            "access_km_diff": [-0.75],
        }
    )
    return communes, profile


def test_segmentation_csv_and_workbook(tmp_path):
    communes, profile = _labels()
    text = csv_text(communes)  # what the screen's CSV button sends
    _assert_names_csv(text)
    assert {r["recommendation"] for r in _table(text)} == {"'" + HOSTILE[1]}
    assert {r["access_km"] for r in _table(text)} == {"-0.75"}
    buffer = io.BytesIO()
    seg_service.write_excel(buffer, communes, profile)
    data = buffer.getvalue()
    _assert_workbook(data)
    assert _sheet_column(data, "communes", "name") == NAMES
    assert _sheet_column(data, "profiles", "recommendation") == [HOSTILE[0]]
    assert _sheet_column(data, "profiles", "access_km_diff") == [-0.75]
    # the `clusters` command writes the same table
    path = tmp_path / "clusters.csv"
    seg_service.write_excel(tmp_path / "clusters.xlsx", communes, profile)
    _assert_workbook((tmp_path / "clusters.xlsx").read_bytes())
    write_csv(communes, path)
    assert path.read_bytes().decode("utf-8") == text


def test_forecast_table_csv(tmp_path):
    table = pd.DataFrame(
        {
            "series": [f"D{k}" for k in range(len(NAMES))],
            "name": NAMES,
            "doc_type": ["CNI"] * len(NAMES),
            "week": ["2026-01-05"] * len(NAMES),
            "forecast": [12.5] * len(NAMES),
            "lo95": [-4.25] * len(NAMES),
        }
    )
    path = tmp_path / "forecast.csv"
    write_csv(table.round(2), path)  # as `python -m dashapp forecast --out`
    data = path.read_bytes()
    _assert_names_csv(data)
    assert {r["lo95"] for r in _table(data)} == {"-4.25"}


def test_scenario_command_outputs(tmp_path):
    result = SimpleNamespace(
        summary={"status": "optimal"},
        centers=_centers(),
        assignments=_communes(),
        geojson={"type": "FeatureCollection", "features": []},
    )
    paths = write_outputs(result, tmp_path)
    _assert_names_csv(paths["centers"].read_bytes())
    _assert_names_csv(paths["assignments"].read_bytes())
    centers = _table(paths["centers"].read_bytes())
    assert {row["lon"] for row in centers} == {str(LON)}
    assert json.loads(paths["summary"].read_text()) == {"status": "optimal"}
