"""Fictional, French-language place names for the synthetic demo country.

Names mix West-African-sounding roots built from syllables ("Kouraba",
"N'Diassé", "Sokodougou") with French toponymic patterns ("Sainte-Mariama",
"Kouraba-sur-Falémou", "Grand-Diassé"). Every name comes from a seeded
``numpy.random.Generator``, so the same generator state gives the same names.
None of the names is meant to designate a real place.
"""

from __future__ import annotations

import numpy as np

_ONSETS = (
    "b", "b", "d", "d", "f", "g", "k", "k", "k", "l", "m", "m", "n", "s", "s",
    "t", "t", "y", "w", "z", "dj", "dj", "gb", "mb", "nd", "ng", "ch", "r", "s",
)  # fmt: skip
_VOWELS = ("a", "a", "a", "o", "ou", "ou", "i", "i", "é", "ia")
_ENDINGS = (
    "", "", "", "ba", "ko", "ra", "ni", "né", "ya", "ssé", "na", "dougou",
    "bougou", "kro", "nda", "mé", "bo", "la", "ma", "ga", "ri", "ta", "sso", "ndé",
)  # fmt: skip
_GIVEN_NAMES_F = (
    "Mariama", "Aminata", "Fatou", "Awa", "Kadiatou", "Salimata", "Adjoa",
    "Rokia", "Astou", "Ramatou",
)  # fmt: skip
_GIVEN_NAMES_M = (
    "Amadou", "Ibrahima", "Moussa", "Ousmane", "Kofi", "Sékou", "Lamine",
    "Boubacar", "Yacouba", "Issa",
)  # fmt: skip
_SUFFIXES = (
    "-les-Bains", "-Gare", "-Marché", "-Plateau", "-Centre", "-Village",
    "-les-Puits", "-la-Forêt", "-Carrière", "-Escale",
)  # fmt: skip
_PREFIXES = ("Grand-", "Petit-", "Nouveau-", "Vieux-", "Haut-", "Bas-")
_QUARTERS = (
    "Plateau", "Médina", "Port", "Cité-Verte", "Gare", "Marché", "Extension",
    "Cité-Administrative", "Zone-Industrielle", "Aéroport", "Universités",
    "Résidences", "Château-d'Eau", "Corniche", "Stade",
)  # fmt: skip
_REGION_FLAVOURS = (
    "Hauts-Bassins", "Savanes", "Plateaux", "Cascades", "Lacs", "Falaises",
    "Collines", "Grands-Plateaux", "Terres-Rouges", "Monts", "Marais",
    "Plaines", "Forêts", "Sahel",
)  # fmt: skip
_DIRECTIONS = (
    "Est",
    "Nord-Est",
    "Nord",
    "Nord-Ouest",
    "Ouest",
    "Sud-Ouest",
    "Sud",
    "Sud-Est",
)


def root(rng: np.random.Generator) -> str:
    """Return one capitalised West-African-sounding root such as ``"Kouraba"``.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness; the result only depends on its state.

    Returns
    -------
    str
        A root of two to three syllables.

    Examples
    --------
    >>> import numpy as np
    >>> name = root(np.random.default_rng(0))
    >>> name[0].isupper()
    True
    """
    n_syllables = rng.choice((1, 2, 2, 3))
    parts = [
        _ONSETS[rng.integers(len(_ONSETS))] + _VOWELS[rng.integers(len(_VOWELS))]
        for _ in range(n_syllables)
    ]
    parts.append(_ENDINGS[rng.integers(len(_ENDINGS))])
    word = "".join(parts)
    if len(word) < 4:
        word += _ENDINGS[3 + rng.integers(len(_ENDINGS) - 3)]
    word = word.replace("iai", "ia").replace("iia", "ia")
    if rng.random() < 0.07 and word[0] not in "nmaoiué":
        return "N'" + word.capitalize()
    return word.capitalize()


def river_names(rng: np.random.Generator, n: int) -> list[str]:
    """Return ``n`` distinct fictional river names (masculine, for "du ...").

    Examples
    --------
    >>> import numpy as np
    >>> len(river_names(np.random.default_rng(0), 4))
    4
    """
    names: list[str] = []
    while len(names) < n:
        name = root(rng)
        if name not in names and not name.startswith("N'"):
            names.append(name)
    return names


def commune_name(rng: np.random.Generator, rivers: list[str]) -> str:
    """Return a rural commune name: a root, often decorated by a French pattern.

    Examples
    --------
    >>> import numpy as np
    >>> isinstance(commune_name(np.random.default_rng(1), ["Falémou"]), str)
    True
    """
    base = root(rng)
    draw = rng.random()
    if draw < 0.62:
        return base
    if draw < 0.70:
        return f"{base}-sur-{rivers[rng.integers(len(rivers))]}"
    if draw < 0.80:
        return base + _SUFFIXES[rng.integers(len(_SUFFIXES))]
    if draw < 0.90 and not base.startswith("N'"):
        return _PREFIXES[rng.integers(len(_PREFIXES))] + base
    if draw < 0.95:
        return "Sainte-" + _GIVEN_NAMES_F[rng.integers(len(_GIVEN_NAMES_F))]
    return "Saint-" + _GIVEN_NAMES_M[rng.integers(len(_GIVEN_NAMES_M))]


def urban_name(rng: np.random.Generator, city: str) -> str:
    """Return the name of a commune inside ``city`` ("Kouraba-Plateau", ...).

    Examples
    --------
    >>> import numpy as np
    >>> urban_name(np.random.default_rng(2), "Kouraba").startswith("Kouraba")
    True
    """
    if rng.random() < 0.45:
        return f"{city}-{_QUARTERS[rng.integers(len(_QUARTERS))]}"
    return f"{city}-{root(rng)}"


def region_name(
    rng: np.random.Generator, direction: int | None, rivers: list[str]
) -> str:
    """Return a region name from a compass sector (0 = east, counter-clockwise).

    ``direction`` is an index into the eight compass sectors, or ``None`` for a
    region near the centre of the country.

    Examples
    --------
    >>> import numpy as np
    >>> region_name(np.random.default_rng(0), None, ["Falémou"])[:6]
    'Centre'
    """
    draw = rng.random()
    label = "Centre" if direction is None else _DIRECTIONS[direction]
    if direction is None:
        return label if draw < 0.5 else f"Centre-{_DIRECTIONS[rng.integers(8)]}"
    if draw < 0.4:
        return label
    if draw < 0.6:
        river = rivers[rng.integers(len(rivers))]
        pattern = ("Vallée du {}", "Boucle du {}", "Haut-{}", "Bas-{}")
        return pattern[rng.integers(len(pattern))].format(river)
    flavour = _REGION_FLAVOURS[rng.integers(len(_REGION_FLAVOURS))]
    return flavour if draw < 0.8 else f"{flavour}-du-{label}"


def make_unique(names: list[str]) -> list[str]:
    """Append " 2", " 3", ... to repeated names so that all become unique.

    Examples
    --------
    >>> make_unique(["Kouraba", "Diassé", "Kouraba"])
    ['Kouraba', 'Diassé', 'Kouraba 2']
    """
    seen: set[str] = set()
    out: list[str] = []
    for name in names:
        candidate, k = name, 1
        while candidate in seen:
            k += 1
            candidate = f"{name} {k}"
        seen.add(candidate)
        out.append(candidate)
    return out
