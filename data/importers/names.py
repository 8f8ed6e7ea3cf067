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

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

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
#: Similarity (0-100, rapidfuzz's normalised Indel ratio, as difflib's ratio x 100)
#: from which a unit name is suggested for a name that matches none.
SUGGEST_CUTOFF = 75.0


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
    parents: Sequence | None = None,
    unit_parents: Sequence[tuple] | None = None,
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
    parents, unit_parents : sequence, optional
        The parent given on each table row (a name or a code, ``None`` when blank)
        and each unit's parent as ``(code, name)``. Only used to tell apart units
        sharing a name: a row whose name fits several units goes to the one whose
        parent's code or normalised name is the row's parent; without it, the row
        is ambiguous, never joined to the first.

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
    >>> m = match_names(["Koro", "Koro", "Koro"], ["Koro", "Koro"],
    ...                 parents=["Nord", "XY02", None],
    ...                 unit_parents=[("XY01", "Nord"), ("XY02", "Sud")])
    >>> m.index, m.ambiguous
    ([0, 1, None], [(2, 'Koro', 2)])
    """
    if (scopes is None) != (unit_scopes is None):
        raise ValueError("'scopes' and 'unit_scopes' go together")
    if (parents is None) != (unit_parents is None):
        raise ValueError("'parents' and 'unit_parents' go together")
    keys = _keys(unit_names, unit_scopes)
    lookup: dict[tuple[str, str], list[int]] = {}
    for i, key in enumerate(keys):
        lookup.setdefault(key, []).append(i)
    by_name = {normalise(n): n for n in unit_names}
    choices = list(by_name)
    index: list[int | None] = []
    unmatched, ambiguous = [], []
    pending: list[tuple[int, str, str]] = []  # suggestions computed in one batch
    for pos, key in enumerate(_keys(names, scopes)):
        hits = lookup.get(key, [])
        if len(hits) > 1 and parents is not None:
            hits = _by_parent(hits, parents[pos], unit_parents) or hits
        if len(hits) == 1:
            index.append(hits[0])
            continue
        index.append(None)
        original = "" if names[pos] is None else str(names[pos])
        if hits:
            ambiguous.append((pos, original, len(hits)))
        else:
            pending.append((pos, original, key[0]))
    closest = suggest_many([k for _, _, k in pending], choices)
    for (pos, original, _), close in zip(pending, closest, strict=True):
        unmatched.append((pos, original, [by_name[c] for c in close]))
    return NameMatch(index, unmatched, ambiguous)


def _by_parent(hits: list[int], parent, unit_parents: Sequence[tuple]) -> list[int]:
    """The units among ``hits`` whose parent is ``parent`` (a code or a name)."""
    if parent is None or parent != parent or not str(parent).strip():
        return hits
    code, key = str(parent).strip(), normalise(parent)
    return [
        h
        for h in hits
        if str(unit_parents[h][0]) == code or normalise(unit_parents[h][1]) == key
    ]


def suggest(key: str, choices: Sequence[str], limit: int = 3) -> list[str]:
    """The ``limit`` normalised ``choices`` closest to ``key``, best first.

    rapidfuzz compares one name with 31,000 in about a millisecond, where difflib
    took half a second (``bench/bench_name_match.py``).

    Examples
    --------
    >>> suggest("tambacunda", ["tambacounda", "kaolack", "tambacoumba"])
    ['tambacounda', 'tambacoumba']
    """
    if not key:
        return []
    found = process.extract(
        key, choices, scorer=fuzz.ratio, limit=limit, score_cutoff=SUGGEST_CUTOFF
    )
    return [choice for choice, _score, _pos in found]


def suggest_many(
    keys: Sequence[str], choices: Sequence[str], limit: int = 3, chunk: int = 256
) -> list[list[str]]:
    """:func:`suggest` for many keys at once (one similarity matrix per ``chunk``).

    rapidfuzz scores a chunk of keys against every choice on all cores; memory stays
    at ``chunk × len(choices)`` bytes.

    Examples
    --------
    >>> suggest_many(["kaolak", "zzz"], ["kaolack", "kolda"])
    [['kaolack'], []]
    """
    out: list[list[str]] = []
    if not choices:
        return [[] for _ in keys]
    for start in range(0, len(keys), chunk):
        part = list(keys[start : start + chunk])
        scores = process.cdist(
            part,
            choices,
            scorer=fuzz.ratio,
            score_cutoff=SUGGEST_CUTOFF,
            dtype=np.uint8,
            workers=-1,
        )
        for key, row in zip(part, scores, strict=True):
            if not key:
                out.append([])
                continue
            best = np.argsort(-row.astype(np.int16), kind="stable")[:limit]
            out.append([choices[i] for i in best if row[i] > 0])
    return out


def _keys(names: Iterable, scopes: Iterable | None) -> list[tuple[str, str]]:
    names = list(names)
    scopes = [""] * len(names) if scopes is None else [normalise(s) for s in scopes]
    return [(normalise(n), s) for n, s in zip(names, scopes, strict=True)]
