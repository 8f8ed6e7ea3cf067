import datetime as dt
from pathlib import Path

import pytest

from dashapp.config import Config
from dashapp.filters import DEFAULT_RADIUS_KM, resolve
from dashapp.i18n import STRINGS, t
from data.views import load_context


def test_config_precedence_argument_then_env_then_default(tmp_path):
    env = {"DASHAPP_DATA_DIR": str(tmp_path), "PORT": "9000", "DASHAPP_LANG": "en"}
    cfg = Config.from_env(env)
    assert cfg.data_dir == tmp_path and cfg.port == 9000 and cfg.lang == "en"
    assert cfg.database_url == f"sqlite:///{tmp_path / 'dashapp.sqlite'}"
    cfg = Config.from_env(env, port=9100, lang=None, database_url="sqlite://")
    assert cfg.port == 9100 and cfg.lang == "en" and cfg.database_url == "sqlite://"
    assert Config.from_env({}).data_dir == Path(__file__).resolve().parents[3] / "var"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DASHAPP_LANG": "de"}, "lang should be one of"),
        ({"PORT": "eighty"}, "PORT should be an integer"),
        ({"PORT": "70000"}, "port should be in 1..65535"),
    ],
)
def test_bad_settings_are_named(env, message):
    with pytest.raises(ValueError, match=message):
        Config.from_env(env)


def test_every_string_has_both_languages_and_same_placeholders():
    import string

    for key, texts in STRINGS.items():
        assert set(texts) == {"fr", "en"}, key
        # never empty; a separator (French thousands: a narrow space) may be blank
        assert texts["fr"] and texts["en"], key
        assert (texts["fr"].strip() and texts["en"].strip()) or len(texts["fr"]) == 1, key
        fields = [
            {f for _, f, _, _ in string.Formatter().parse(texts[lang]) if f}
            for lang in ("fr", "en")
        ]
        assert fields[0] == fields[1], key
    assert t("filters.all", "xx") == "Tout le pays"


def test_resolve_keeps_valid_values(tiny_store):
    ctx = load_context(tiny_store)
    r = resolve(
        ctx,
        "fr",
        level="department",
        indicator="mean_delay",
        areas=["D2"],  # R1, alone on top, is no filter
        doc_types=["A"],
        start="2026-01-05",
        end="2026-01-12",
        radius=30,
    )
    assert (r.level, r.indicator, r.areas) == (1, "mean_delay", ("D2",))
    assert r.doc_types == ("A",) and r.radius_km == 30.0 and r.selection == "D2"
    assert (r.start, r.end) == (dt.date(2026, 1, 5), dt.date(2026, 1, 12))
    assert r.messages == []


@pytest.mark.parametrize(
    ("raw", "check", "fragment"),
    [
        ({"level": "canton"}, lambda r: r.level == 2, "canton"),
        (
            {"indicator": "DROP TABLE"},
            lambda r: r.indicator == "requests_per_1000",
            "DROP TABLE",
        ),
        ({"areas": ["D9"]}, lambda r: r.selection is None, "D9"),
        ({"areas": ["C1"]}, lambda r: r.selection is None, "C1"),
        ({"doc_types": ["Z"]}, lambda r: r.doc_types == ("A", "B"), "Z"),
        (
            {"start": "not-a-date"},
            lambda r: r.start == dt.date(2026, 1, 5),
            "not-a-date",
        ),
        (
            {"start": "2026-02-01", "end": "2026-01-01"},
            lambda r: r.end == dt.date(2026, 1, 12),
            "2026-02-01",
        ),
        ({"radius": "-3"}, lambda r: r.radius_km == DEFAULT_RADIUS_KM, "-3"),
        ({"radius": "nan"}, lambda r: r.radius_km == DEFAULT_RADIUS_KM, "nan"),
    ],
)
def test_resolve_falls_back_with_a_message(tiny_store, raw, check, fragment):
    ctx = load_context(tiny_store)
    r = resolve(ctx, "en", **raw)
    assert check(r)
    assert len(r.messages) == 1 and fragment in r.messages[0]


def test_resolve_department_outside_region_and_empty_period(tiny_store):
    from tests.tiny import tiny_bundle  # noqa: F401  (same country)

    ctx = load_context(tiny_store)
    r = resolve(ctx, "fr", doc_types=[], start="2030-01-01", end="2030-02-01")
    assert r.doc_types == ("A", "B")
    assert any("Aucun type" in m for m in r.messages)
    assert any("aucune semaine" in m for m in r.messages)


def test_default_indicator_is_population_without_operations(tmp_path):
    from data.store import Store
    from geo.access import nearest_center
    from tests.tiny import tiny_bundle

    store = Store(f"sqlite:///{tmp_path / 'noops.sqlite'}")
    store.upgrade()
    bundle = tiny_bundle()
    bundle.operations = bundle.operations.iloc[0:0]
    store.add_dataset(bundle, kind="imported", access=nearest_center)
    assert resolve(load_context(store), "fr").indicator == "population"
