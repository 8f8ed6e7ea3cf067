"""The catalogue page lists the travel-time access KPIs, with their rule in words."""

from __future__ import annotations

from data.kpi import TRAVEL_KPIS
from layouts.catalogue import catalogue


def texts(component) -> list[str]:
    """Every string under a component."""
    out = []
    children = getattr(component, "children", component)
    if isinstance(children, str):
        return [children]
    for child in children if isinstance(children, list | tuple) else [children]:
        if isinstance(child, str):
            out.append(child)
        elif child is not None:
            out += texts(child)
    return out


def test_travel_kpis_are_on_the_catalogue_page_in_both_languages():
    for lang, title, name in (
        ("fr", "Accès par la route (temps de trajet)", "Population à moins de 60 min"),
        ("en", "Access by road (travel time)", "Population within 60 min"),
    ):
        page = catalogue(lang)
        words = " ".join(texts(page))
        assert title in words and name in words
        rows = [c.id["index"] for c in page.children[-1].children[1].children]
        assert rows == [f"travel-{k}" for k in TRAVEL_KPIS]
