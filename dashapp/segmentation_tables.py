"""A segmentation in words: cluster descriptions, recommendations, export tables.

Dash-free and cache-free: the screen, its export and the ``clusters`` command
share these, so a cluster reads the same everywhere.
"""

from __future__ import annotations

import pandas as pd

from dashapp.i18n import t


def describe(traits: list, lang: str) -> str:
    """A cluster's traits in words, e.g. 'forte demande, loin d'un centre'."""
    if not traits:
        return t("seg.trait.none", lang)
    return ", ".join(t(f"seg.trait.{f}.{d}", lang) for f, d in traits)


def default_recommendations(result: dict, lang: str) -> dict[int, str]:
    """Cluster -> suggested recommendation text."""
    return {
        int(c): t(f"seg.reco.{code}", lang)
        for c, code in result["recommendations"].items()
    }


def export_tables(
    result: dict,
    communes: pd.DataFrame,
    recommendations: dict[int, str],
    lang: str,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Commune labels and cluster profiles for the CSV/Excel export.

    ``communes`` has ``code``, ``name`` and the indicator columns (indexed by any
    key); clusters are numbered from 1 as on the screen. A commune left out (its
    population unknown) has no cluster and says why in ``description``.
    """
    recos = default_recommendations(result, lang) | {
        int(c): text for c, text in recommendations.items() if text is not None
    }
    words = {int(c): describe(v, lang) for c, v in result["traits"].items()}
    profile = pd.DataFrame(result["profile"])
    profile.insert(1, "description", profile["cluster"].map(words))
    profile.insert(2, "recommendation", profile["cluster"].map(recos))
    profile["cluster"] = profile["cluster"] + 1
    table = communes[["code", "name", *result["features"]]].copy()
    label = table["code"].map(result["labels"])
    table.insert(2, "cluster", (label + 1).astype("Int64"))
    table["description"] = label.map(words)
    out = table["code"].isin(result.get("left_out", []))
    table.loc[out, "description"] = t("seg.left_out_hover", lang)
    table["recommendation"] = label.map(recos)
    return table.reset_index(drop=True), profile
