"""The texts a screen shows, and a check that each comes from one language.

:func:`visible_strings` walks what a layout function or a callback returns (Dash
components, figures as dicts, AG Grid column definitions and rows) and collects
every string a user can read: text children, labels, placeholders, tooltips,
options, chart titles, axis titles, legends, hover templates, table headers.

:class:`LanguageCheck` says which of them are not the language's: a string is
the language's when it is a catalogue text of that language (templates filled
with anything), a KPI's name, rule or unit in that language, a name from the
data (communes, centers, document types, levels), or carries no words at all
(numbers, units, codes, dates). Anything else, an English word on a French
screen or a raw identifier, is reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from dashapp.i18n import STRINGS
from data import kpi as kpi_catalogue
from layouts.maps import MESSAGE_NAME as MESSAGE

# component properties a user reads (besides ``children``)
TEXT_PROPS = (
    "placeholder",
    "title",
    "label",
    "start_date_placeholder_text",
    "end_date_placeholder_text",
    "tooltip",
    "header",
    "message",
    "submit_n_clicks_text",
)
FIGURE_TEXT_KEYS = ("name", "text", "hovertemplate", "ticktext", "texttemplate")
_TAGS = re.compile(r"<[^>]+>")
_FIELD = re.compile(r"%\{[^}]*\}")
_PLACEHOLDER = re.compile(r"\\\{[a-z_0-9]*\\\}")
# no words: numbers with their separators, signs, units and symbols
_NO_WORDS = re.compile(
    r"^[\d\s\u202f\u00a0.,;:%‰+\-−–—×·/()\[\]<>=≥≤#*→←↑↓±~'’°…|?!Δ✓]*"
    r"(km|m|s|min|h|j|d|%|k|M|Md)?[\d\s\u202f\u00a0.,;:%+\-−–—×·/()\[\]<>=≥≤#*→±…]*$"
)
# a code: capitals and digits (R01, CNI, C017, EPSG:4326), or a date
_CODE = re.compile(
    r"^([A-Z0-9][A-Z0-9_\-:.]*|\d{4}-\d{2}-\d{2}([ T][\d:]+)?|\d{2}/\d{2}/\d{4})$"
)
_SQL = re.compile(r"^SELECT\s")  # the KPI catalogue shows each indicator's query
_ASIDE = re.compile(r"^(.*)\s*\(([^()]*)\)\s*$", re.S)  # the last parenthesis
_SPLIT = re.compile(r"\s+·\s+|\s*;\s+|,\s+|\s+—\s+|\s*:\s+|\s+/\s+|\s+→\s+|\s*\|\s*|\n")


def _component_strings(node, out: list[str]) -> None:
    if node is None or isinstance(node, (bool, int, float)):
        return
    if isinstance(node, str):
        out.append(node)
        return
    if isinstance(node, (list, tuple)):
        for item in node:
            _component_strings(item, out)
        return
    if isinstance(node, dict):
        if "props" in node and "type" in node:  # a component as JSON
            _props_strings(node["type"], node["props"], out)
        elif "data" in node and "layout" in node:
            figure_strings(node, out)
        return
    if hasattr(node, "_prop_names"):  # a component (not no_update, a Patch...)
        props = {k: getattr(node, k) for k in node._prop_names if hasattr(node, k)}
        _props_strings(node._type, props, out)


def _props_strings(kind: str, props: dict, out: list[str]) -> None:
    if kind in ("Store", "Location", "Download", "Interval"):
        return
    _component_strings(props.get("children"), out)
    for key in TEXT_PROPS:
        value = props.get(key)
        if isinstance(value, str):
            out.append(value)
        elif value is not None and not isinstance(value, (bool, int, float)):
            _component_strings(value, out)
    for option in props.get("options") or []:
        if isinstance(option, dict):
            _component_strings(option.get("label"), out)
        elif isinstance(option, str):
            out.append(option)
    marks = props.get("marks")
    if isinstance(marks, dict):
        for mark in marks.values():
            label = mark.get("label") if isinstance(mark, dict) else mark
            _component_strings(label, out)
    if kind == "Graph" and isinstance(props.get("figure"), dict):
        figure_strings(props["figure"], out)
    if kind == "AgGrid":
        for column in props.get("columnDefs") or []:
            for key in ("headerName", "headerTooltip"):
                if isinstance(column.get(key), str):
                    out.append(column[key])
        shown = {c.get("field") for c in props.get("columnDefs") or []}
        for row in props.get("rowData") or []:
            out += [v for k, v in row.items() if k in shown and isinstance(v, str)]


def figure_strings(figure: dict, out: list[str] | None = None) -> list[str]:
    """The texts of a Plotly figure (as a dict): titles, axes, legend, traces."""
    out = [] if out is None else out

    def text_of(value):
        if isinstance(value, dict):
            value = value.get("text")
        if isinstance(value, str):
            out.append(value)

    layout = figure.get("layout") or {}
    text_of(layout.get("title"))
    for key, value in layout.items():
        if isinstance(value, dict) and (
            key.startswith(("xaxis", "yaxis", "coloraxis")) or key == "legend"
        ):
            text_of(value.get("title"))
            for tick in value.get("ticktext") or []:
                text_of(tick)
            text_of((value.get("colorbar") or {}).get("title"))
    for note in layout.get("annotations") or []:
        text = note.get("text")
        if note.get("name") == MESSAGE and isinstance(text, str):
            text = text.replace("<br>", " ")  # one text, broken to fit its chart
        text_of(text)
    for trace in figure.get("data") or []:
        for key in FIGURE_TEXT_KEYS:
            value = trace.get(key)
            values = value if isinstance(value, (list, tuple)) else [value]
            for item in values:
                if isinstance(item, str):
                    out.append(item)
        text_of((trace.get("marker") or {}).get("colorbar", {}).get("title"))
        text_of((trace.get("colorbar") or {}).get("title"))
    return out


def visible_strings(tree) -> list[str]:
    """Every string a user can read in ``tree`` (components, figures, grids),
    hover templates' HTML and ``%{...}`` fields taken out, one line each."""
    raw: list[str] = []
    _component_strings(tree, raw)
    out = []
    for text in raw:
        text = _FIELD.sub("0", text.replace("<extra></extra>", ""))
        for line in re.split(r"<br\s*/?>|\n", text, flags=re.I):
            line = _TAGS.sub("", line).strip()
            if line:
                out.append(line)
    return out


def kpi_texts(lang: str) -> set[str]:
    """Names, rules, units and labels of every indicator catalogue of
    :mod:`data.kpi` (map KPIs, scenario KPIs, travel KPIs...), in ``lang``."""
    texts = set()
    for catalogue in vars(kpi_catalogue).values():
        items = catalogue.values() if isinstance(catalogue, dict) else catalogue
        if not isinstance(catalogue, (dict, tuple, list)):
            continue
        for item in items:
            if not hasattr(item, "name_fr"):
                continue
            for attr in ("name", "rule", "unit_in", "label"):
                if callable(getattr(item, attr, None)):
                    texts.add(str(getattr(item, attr)(lang)))
            if "{radius}" in item.name_fr and isinstance(item, kpi_catalogue.KPI):
                texts.add(item.name(lang, 20))
            if getattr(item, "time_fr", None):  # its travel-time wording
                minutes = {"distance": "min"}
                texts |= {item.name(lang, minutes), item.label(lang, minutes)}
    return texts


class LanguageCheck:
    """Which strings are not ``lang``'s (see the module's docstring).

    ``names`` are the data's own names (communes, centers...), allowed as they are.
    """

    def __init__(self, lang: str, names: Iterable[str] = ()):
        self.lang = lang
        texts = {v[lang] for v in STRINGS.values()}
        texts |= kpi_texts(lang)
        self.exact = {s.strip() for s in texts} | {str(n).strip() for n in names}
        self.templates = []
        for text in texts:
            if "{" not in text:
                continue
            literal = _PLACEHOLDER.sub("", re.escape(text))
            if len(re.sub(r"[^A-Za-zÀ-ÿ]", "", literal)) < 2:
                continue  # "{n} {name}" would match anything
            # ", ligne {row}" is appended to a text: matched without its comma
            pattern = _PLACEHOLDER.sub("(.+?)", re.escape(text.strip(" ,;:")))
            self.templates.append(re.compile(f"^{pattern}$", re.S))
        # the text of a template before its first placeholder, when long enough
        self._seen: dict[str, bool] = {}

    def _whole(self, text: str) -> bool:
        """One text: a catalogue text (template filled), a name, or no words."""
        if not text or text in self.exact or text.rstrip(" :.") in self.exact:
            return True
        if _NO_WORDS.match(text) or _CODE.match(text) or _SQL.match(text):
            return True
        return any(p.match(text) for p in self.templates)

    def is_ours(self, text: str) -> bool:
        """``text`` is ours whole, or in two parts around a separator (" · ",
        " : ", ", "...) each ours, or with a last parenthesis ("Rayon R (km)")."""
        text = text.strip()
        if text in self._seen:
            return self._seen[text]
        self._seen[text] = False  # no loop through the same text
        ours = self._whole(text)
        if not ours:
            bare = text.strip("«»“”\"'").strip()
            ours = bare != text and self.is_ours(bare)
        if not ours and (aside := _ASIDE.match(text)):
            head, inner = aside.groups()
            ours = (not head.strip() or self.is_ours(head)) and (
                f"({inner})" in self.exact or self.is_ours(inner)
            )
        if not ours:
            for sep in _SPLIT.finditer(text):
                left, right = text[: sep.start()], text[sep.end() :]
                ours = all(p.strip() and self.is_ours(p) for p in (left, right))
                if ours:
                    break
        self._seen[text] = ours
        return ours

    def foreign(self, strings: Iterable[str]) -> list[str]:
        """The strings that are not this language's, each once, sorted."""
        return sorted({s for s in strings if not self.is_ours(s)})
