"""Place-name normalisation, so tables join to boundaries despite spelling variants.

"Saint-Louis", "ST LOUIS", "St. Louis" and "saint louis" all normalise to
``"saint louis"``; accents, case, hyphens, apostrophes and repeated spaces do not
matter, and the abbreviations St/Ste/Gd are expanded.

Examples
--------
>>> normalise("Sainte-Mariama")
'sainte mariama'
>>> normalise("  STE. MARIAMA ")
'sainte mariama'
>>> normalise("N'Diassé") == normalise("N DIASSE")
True
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_ABBREVIATIONS = {
    "st": "saint",
    "ste": "sainte",
    "sts": "saints",
    "gd": "grand",
    "gde": "grande",
    "pt": "petit",
    "pte": "petite",
    "mt": "mont",
}
_SEPARATORS = re.compile(r"[\s\-_'’`.,/()]+")


def normalise(name) -> str:
    """Key for joining place names: no accents, lower case, words split on punctuation.

    Parameters
    ----------
    name : str
        A place name as typed in some table; ``None`` and NaN give ``""``.

    Returns
    -------
    str
        Words separated by single spaces, abbreviations expanded.

    Examples
    --------
    >>> normalise("Kouraba-sur-Falémou")
    'kouraba sur falemou'
    >>> normalise("St Amadou")
    'saint amadou'
    """
    if name is None or name != name:  # None or NaN
        return ""
    text = unicodedata.normalize("NFKD", str(name))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    words = [w for w in _SEPARATORS.split(text) if w]
    return " ".join(_ABBREVIATIONS.get(w, w) for w in words)


@dataclass(frozen=True)
class NameMatch:
    """Result of matching table names to unit names.

    Attributes
    ----------
    index : list of int or None
        For each table row, the position of the matched unit, or ``None``.
    unmatched : list of tuple
        ``(row position, name, suggestions)`` of rows matching no unit.
    ambiguous : list of tuple
        ``(row position, name, n)`` of rows whose name fits ``n`` > 1 units.
    """

    index: list[int | None]
    unmatched: list[tuple[int, str, list[str]]]
    ambiguous: list[tuple[int, str, int]]


def match_names(
    names: Sequence,
    unit_names: Sequence,
    *,
    scopes: Sequence | None = None,
    unit_scopes: Sequence | None = None,
) -> NameMatch:
    """Match each name of a table to the unit with the same normalised name.

    Parameters
    ----------
    names : sequence of str
        Names in the table, one per row.
    unit_names : sequence of str
        Names of the units (e.g. communes).
    scopes, unit_scopes : sequence, optional
        A second key that must agree too (e.g. the department's name), to tell apart
        communes sharing a name.

    Returns
    -------
    NameMatch

    Examples
    --------
    >>> m = match_names(["St Louis", "Kaolack", "Tambacunda"],
    ...                 ["Saint-Louis", "Kaolack", "Tambacounda"])
    >>> m.index
    [0, 1, None]
    >>> m.unmatched
    [(2, 'Tambacunda', ['Tambacounda'])]
    """
    if (scopes is None) != (unit_scopes is None):
        raise ValueError("'scopes' and 'unit_scopes' go together")
    keys = _keys(unit_names, unit_scopes)
    lookup: dict[tuple[str, str], list[int]] = {}
    for i, key in enumerate(keys):
        lookup.setdefault(key, []).append(i)
    by_name = {normalise(n): n for n in unit_names}
    index: list[int | None] = []
    unmatched, ambiguous = [], []
    for pos, key in enumerate(_keys(names, scopes)):
        hits = lookup.get(key, [])
        if len(hits) == 1:
            index.append(hits[0])
            continue
        index.append(None)
        original = "" if names[pos] is None else str(names[pos])
        if hits:
            ambiguous.append((pos, original, len(hits)))
        else:
            close = difflib.get_close_matches(key[0], list(by_name), n=3, cutoff=0.75)
            unmatched.append((pos, original, [by_name[c] for c in close]))
    return NameMatch(index, unmatched, ambiguous)


def _keys(names: Iterable, scopes: Iterable | None) -> list[tuple[str, str]]:
    names = list(names)
    scopes = [""] * len(names) if scopes is None else [normalise(s) for s in scopes]
    return [(normalise(n), s) for n, s in zip(names, scopes, strict=True)]
