"""The interface language in charts, tables, date pickers, reasons and reports."""

from __future__ import annotations

import json
import re

import pytest
from dash import dcc

from dashapp.config import LANGUAGES
from dashapp.i18n import STRINGS, t
from dashapp.page_index import LOCALE_ID, locale_tag
from layouts import locale
from layouts.shell import (
    GLOSSARY,
    GUIDE_STEPS,
    GUIDES,
    glossary,
    guide_frame,
    guide_steps,
)
from tests.visible_text import LanguageCheck, visible_strings

PLACEHOLDER = re.compile(r"\{([a-z_0-9]*)\}")


def test_every_key_has_both_languages_and_the_same_placeholders():
    for key, texts in STRINGS.items():
        assert set(texts) == set(LANGUAGES), key
        assert all(isinstance(v, str) and v for v in texts.values()), key
        fields = {lang: set(PLACEHOLDER.findall(v)) for lang, v in texts.items()}
        assert fields["fr"] == fields["en"], key


def test_graph_config_carries_the_language_and_no_cloud():
    config = locale.graph_config("fr", scrollZoom=True)
    assert config["displaylogo"] is False and config["showSendToCloud"] is False
    assert "sendChartToCloud" in config["modeBarButtonsToRemove"]
    assert config["scrollZoom"] is True and config["locale"] == "fr"
    fr = config["locales"]["fr"]
    assert fr["format"]["months"][0] == "janvier"
    assert fr["format"]["shortMonths"][1] == "févr."
    assert fr["format"]["decimal"] + fr["format"]["thousands"] == ",\u202f"
    assert fr["dictionary"]["Zoom in"] == "Zoom avant"
    assert fr["dictionary"]["Download plot as a PNG"].startswith("Télécharger")
    assert set(fr["dictionary"]) == set(locale.PLOTLY_TEXTS)
    en = locale.graph_config("en")["locales"]["en"]
    assert en["format"]["months"][0] == "January" and en["format"]["decimal"] == "."
    # an unknown language is French, never an error
    assert locale.graph_config("xx")["locale"] == "fr"
    # every option is one dcc.Graph accepts
    dcc.Graph(config=locale.graph_config("en", displayModeBar=False))


def test_every_graph_of_the_layouts_uses_the_helper():
    """No dcc.Graph is built with a hand-written config (it would miss the locale
    or bring back the cloud button)."""
    from dashapp.config import PROJECT_ROOT

    for path in (PROJECT_ROOT / "layouts").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "displaylogo" not in text or path.name == "locale.py", path
        for match in re.finditer(r"dcc\.Graph\((.*?)\)\s*[,)]", text, re.S):
            if "config=" in match.group(1):
                assert re.search(r"config=(graph_config\(|config\b|\{\*\*config)",
                                 match.group(1)), (path, match.group(0))  # fmt: skip


def test_grid_texts_and_numbers_follow_the_language():
    fr = locale.grid_locale_text("fr")
    assert (
        fr["page"] == "Page" and fr["of"] == "sur" and fr["nextPage"] == "Page suivante"
    )
    assert fr["contains"] == "Contient" and fr["noRowsToShow"].startswith("Aucune")
    assert set(fr) == set(locale.grid_locale_text("en"))
    number = locale.grid_number(1, "fr", missing="n.d.")["function"]
    assert '"decimal": ","' in number and '"thousands": "\u202f"' in number
    assert "'n.d.'" in number and "format(',.1f')" in number
    assert '"decimal": "."' in locale.grid_number(0, "en")["function"]


def test_calendar_and_index_page_data():
    fr = locale.calendar("fr")
    assert fr["months"][7] == "août" and fr["days"][1] == "lundi"
    assert fr["minDays"] == ["di", "lu", "ma", "me", "je", "ve", "sa"]
    assert fr["labels"]["Previous month"] == "Mois précédent"
    assert set(fr["labels"]) == set(locale.PICKER_TEXTS)
    tag = locale_tag("fr")
    data = json.loads(re.search(r">(.*)</script>", tag).group(1))
    assert data["lang"] == "fr" and data["months"][0] == "janvier"
    assert tag.startswith(f'<script id="{LOCALE_ID}" type="application/json">')


@pytest.mark.parametrize("lang", LANGUAGES)
def test_glossary_and_guides_are_complete_and_in_the_language(lang):
    check = LanguageCheck(lang)
    strings = visible_strings(glossary(lang))
    assert len(strings) == 2 * len(GLOSSARY)
    assert check.foreign(strings) == []
    assert t("help.term.unserved", lang) in strings
    for screen in set(GUIDES.values()):
        shown = visible_strings(guide_steps(screen, lang))
        assert len(shown) == GUIDE_STEPS and check.foreign(shown) == []
    frame = visible_strings(guide_frame(lang))
    assert frame == [t("help.guide", lang), t("help.dismiss", lang)]
