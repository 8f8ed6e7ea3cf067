"""Bad ids, numbers and uploads from the browser or the API: a clear refusal naming
the value, never an exception or a bare 500, and nothing stored or written."""

from __future__ import annotations

import base64
import doctest
import re

import pytest

from dashapp import create_app, parsing, services
from dashapp.config import Config
from dashapp.i18n import STRINGS
from dashapp.parsing import (
    ID_MAX,
    BadIdError,
    BadInputError,
    UnknownIdError,
    parse_id,
    parse_ids,
    parse_number,
    upload_name,
)
from dashapp.services import importing
from data.scenarios import list_scenarios, save_scenario
from data.store import Store
from geo.access import refresh_access
from layouts.messages import bad_input_text
from tests.tiny import tiny_bundle

HUGE = "99999999999999999999999"
NOT_IDS = [
    HUGE, 10**23, 2**63, 0, -1, "0", "-1", "+1", " 1", "1 ", "1e3", "1_0", "1.0",
    "١", "abc", "", 1.0, 1e30, float("nan"), float("inf"), True, False, None, [1],
    {"id": 1}, (1,), b"1",
]  # fmt: skip


def test_docstring_examples():
    assert doctest.testmod(parsing, optionflags=doctest.ELLIPSIS).failed == 0


@pytest.mark.parametrize(("value", "expected"), [(1, 1), ("42", 42), ("007", 7),
                         (ID_MAX, ID_MAX), (str(ID_MAX), ID_MAX)])  # fmt: skip
def test_ids_accepted(value, expected):
    assert parse_id(value, "scenario") == expected


@pytest.mark.parametrize("value", NOT_IDS, ids=repr)
def test_anything_else_is_not_an_id(value):
    with pytest.raises(BadIdError, match="'scenario' should be a whole number") as exc:
        parse_id(value, "scenario")
    assert isinstance(exc.value, ValueError) and exc.value.code == "id"
    assert len(exc.value.values["value"]) <= 40  # a huge value is cut in messages


def test_lists_of_ids_and_numbers():
    assert parse_ids(None, "scenarios") == [] and parse_ids(["3", 4], "x") == [3, 4]
    for bad in ("3", 3, {"a": 1}, list(range(101))):
        with pytest.raises(BadInputError, match="list of at most 100 ids"):
            parse_ids(bad, "scenarios")
    with pytest.raises(BadIdError):
        parse_ids([1, HUGE], "scenarios")
    assert parse_number("2.5", "x", minimum=0, maximum=3) == 2.5
    for bad in ("nan", "inf", "-inf", float("nan"), "1e400", True, None, [1], "-1"):
        with pytest.raises(BadInputError, match="finite number >= 0"):
            parse_number(bad, "x", minimum=0)


@pytest.mark.parametrize(
    ("name", "kept"),
    [
        ("communes.geojson", "communes.geojson"),
        ("../../etc/communes.geojson", "communes.geojson"),
        ("C:\\Users\\awa\\pop.csv", "pop.csv"),
        ("dir/.hidden.csv", ".hidden.csv"),
    ],
)
def test_upload_names_keep_the_base_name(name, kept):
    assert upload_name(name) == kept


@pytest.mark.parametrize(
    "name",
    ["", " ", ".", "..", "...", "/", "//", "./..", "a/..", "..\\..", "a\x00b.csv",
     "a\nb.csv", "tab\t.csv", "del\x7f.csv", "x" * 256 + ".csv", "\ud800.csv", None,
     ["a.csv"]],
    ids=repr,
)  # fmt: skip
def test_upload_names_refused(name):
    with pytest.raises(BadInputError, match="cannot be used") as exc:
        upload_name(name)
    assert exc.value.code == "upload_name"


def test_every_bad_input_key_in_french_and_english():
    keys = [k for k in STRINGS if k.startswith("bad.")]
    assert {"bad.id", "bad.ids", "bad.unknown_id", "bad.upload_name"} <= set(keys)
    for key in keys:
        assert set(STRINGS[key]) == {"fr", "en"}
        fr, en = (set(re.findall(r"{(\w+)}", STRINGS[key][x])) for x in ("fr", "en"))
        assert fr == en, key


def test_refusals_are_worded_in_the_users_language():
    exc = BadIdError("dataset", HUGE)
    fr, en = bad_input_text(exc, "fr"), bad_input_text(exc, "en")
    assert "jeu de données" in fr and "Rien n'a été modifié" in fr
    assert "Invalid dataset id" in en and "'99999999999999999999999'" in en
    assert "There is no scenario with id 5" in bad_input_text(
        UnknownIdError("scenario", 5), "en"
    )


# -- uploads (save_upload) ------------------------------------------------------------
def data_url(raw: bytes) -> str:
    return "data:text/csv;base64," + base64.b64encode(raw).decode()


@pytest.mark.parametrize(
    ("name", "contents", "reason"),
    [
        ("pop.csv", "data:text/csv;base64,***not base64***", "upload_content"),
        ("pop.csv", "data:text/csv;base64,QUJD=extra", "upload_content"),
        ("pop.csv", None, "upload_content"),
        ("pop.csv", ["x"], "upload_content"),
        ("", data_url(b"a,b\n1,2\n"), "upload_name"),
        ("..", data_url(b"a,b\n1,2\n"), "upload_name"),
        ("../..", data_url(b"a,b\n1,2\n"), "upload_name"),
        ("///", data_url(b"a,b\n1,2\n"), "upload_name"),
        ("pop\x00.csv", data_url(b"a,b\n1,2\n"), "upload_name"),
        ("pop\x1b[31m.csv", data_url(b"a,b\n1,2\n"), "upload_name"),
        (None, data_url(b"a,b\n1,2\n"), "upload_name"),
    ],
)
def test_bad_uploads_get_a_message_and_write_nothing(tmp_path, name, contents, reason):
    folder = tmp_path / "uploads" / "u1"
    info = importing.save_upload(folder, name, contents)
    assert info["reason"] == reason and info["error"]
    assert not folder.exists() or not any(folder.iterdir())
    for lang, words in (("fr", "n'a pas été enregistré"), ("en", "was not saved")):
        text = importing.upload_message(info, lang)
        assert words in text and "{" not in text


def test_a_good_upload_is_still_kept(tmp_path):
    info = importing.save_upload(tmp_path, "../pop.csv", data_url(b"code,pop\nA,1\n"))
    assert info["error"] is None and info["name"] == "pop.csv"
    assert (tmp_path / "pop.csv").read_bytes() == b"code,pop\nA,1\n"
    assert [p.name for p in tmp_path.iterdir()] == ["pop.csv"]


def test_oversized_upload_is_refused_before_decoding(tmp_path, monkeypatch):
    monkeypatch.setattr(importing, "MAX_UPLOAD_MB", 0.001)
    info = importing.save_upload(tmp_path, "big.csv", "data:,**" + "A" * 4000)
    assert info["reason"] == "too_large" and not any(tmp_path.iterdir())
    assert "trop volumineux" in importing.upload_message(info, "fr")


def test_names_coming_back_from_the_browser_are_checked(tmp_path):
    files = [{"name": "../../etc/passwd", "role": "population", "mapping": {}}]
    with pytest.raises(BadInputError, match="not an uploaded file"):
        importing.spec_from_uploads(tmp_path, files, name="x", rates={})


# -- the JSON API ---------------------------------------------------------------------
def with_access(store, activate: bool = True):
    """The tiny country stored with its nearest-center distances (then shown)."""
    info = store.add_dataset(tiny_bundle(), kind="imported", activate=False)
    refresh_access(store, info.id)
    if activate:
        store.set_active(info.id)
    return info


@pytest.fixture(scope="module")
def api_app(tmp_path_factory):
    """The tiny country and a draft scenario; the API only reads it."""
    tmp_path = tmp_path_factory.mktemp("api")
    store = Store(f"sqlite:///{tmp_path / 'dashapp.sqlite'}")
    store.upgrade()
    info = with_access(store)
    save_scenario(store, info.id, "Brouillon", {"model": "pmedian"})
    store.engine.dispose()
    return create_app(Config(data_dir=tmp_path))


@pytest.fixture(scope="module")
def client(api_app):
    """A client signed in through the form, when the app has sign-in."""
    if "/login" not in {rule.rule for rule in api_app.server.url_map.iter_rules()}:
        return api_app.server.test_client()
    from tests.auth_helpers import signed_in_client

    return signed_in_client(api_app)


def stored(app) -> tuple:
    store = services.get_store(app.server.config["DASHAPP"].database_url)
    scenarios = list_scenarios(store)
    return (
        [(d.id, d.version, d.is_active) for d in store.datasets()],
        scenarios[["id", "name", "updated_at"]].to_dict("records"),
    )


@pytest.mark.parametrize("value", [HUGE, "-1", "0", "1e30", "abc", "1.5", "true",
                                   "%5B1%5D", "%201", "+1", "1_0"])  # fmt: skip
@pytest.mark.parametrize("endpoint", ["kpis", "scenarios"])
def test_bad_dataset_parameter_is_a_400_naming_it(client, api_app, endpoint, value):
    before = stored(api_app)
    res = client.get(f"/api/v1/{endpoint}?dataset={value}")
    assert res.status_code == 400 and res.is_json
    body = res.get_json()
    assert body["parameter"] == "dataset"
    assert "'dataset' should be a whole number from 1 to" in body["error"]
    assert stored(api_app) == before


@pytest.mark.parametrize("value", [HUGE, "-1", "0", "1e30", "abc", "1.5", "%00"])
@pytest.mark.parametrize("suffix", ["", "/centers", "/communes?format=csv"])
def test_bad_scenario_path_ids_are_json_404_naming_them(client, api_app, value, suffix):
    before = stored(api_app)
    res = client.get(f"/api/v1/scenarios/{value}{suffix}")
    assert res.status_code == 404 and res.is_json
    assert res.get_json()["parameter"] == "id"
    assert "should be a whole number" in res.get_json()["error"]
    assert stored(api_app) == before


def test_well_formed_unknown_ids_stay_404(client):
    assert client.get(f"/api/v1/scenarios/{ID_MAX}").status_code == 404
    assert client.get(f"/api/v1/kpis?dataset={ID_MAX}").status_code == 404
    assert client.get(f"/api/v1/scenarios?dataset={ID_MAX}").get_json() == []


# -- the dataset id every screen sends back ------------------------------------------
def test_context_parses_the_browsers_dataset_id_and_remembers_no_miss(tmp_path):
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    store = Store(url)
    store.upgrade()
    first = with_access(store)
    for bad in (HUGE, "abc", [1], True, 1.5):
        with pytest.raises(BadIdError):
            services.context(url, bad)
        with pytest.raises(BadIdError):
            services.workspace(url, bad)
    with pytest.raises(UnknownIdError, match=f"no dataset with id {first.id + 1}"):
        services.context(url, first.id + 1)
    second = store.add_dataset(tiny_bundle(), activate=False)
    assert services.context(url, str(second.id)).info.id == second.id == first.id + 1
    assert services.context(url, first.id).info.id == first.id
