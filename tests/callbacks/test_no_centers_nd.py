"""A country without any center: figures that need one read n.d., never 0."""

from __future__ import annotations

import pytest

from callbacks import overview
from dashapp import create_app, services
from dashapp.config import Config
from data.store import Store
from geo.access import nearest_center
from tests.tiny import new_country_bundle


@pytest.fixture
def app(tmp_path):
    """The app on a store whose only dataset has boundaries and population only."""
    store = Store(f"sqlite:///{tmp_path / 'dashapp.sqlite'}")
    store.upgrade()
    store.add_dataset(new_country_bundle(), kind="imported", access=nearest_center)
    store.engine.dispose()
    return create_app(Config(data_dir=tmp_path))


def _card_texts(cards) -> dict[str, str]:
    """Each KPI card's id index -> its whole text."""

    def text(node) -> str:
        if isinstance(node, (str, int, float)):
            return str(node)
        children = getattr(node, "children", None)
        if isinstance(children, (list, tuple)):
            return " ".join(text(c) for c in children)
        return "" if children is None else text(children)

    out, stack = {}, [cards]
    while stack:
        node = stack.pop()
        if isinstance(node, (list, tuple)):
            stack.extend(node)
            continue
        key = getattr(node, "id", None)
        if isinstance(key, dict) and "index" in key:
            out[key["index"]] = text(node)
        children = getattr(node, "children", None)
        if children is not None and not isinstance(children, str):
            stack.append(children)
    return out


@pytest.mark.parametrize(("lang", "nd"), [("fr", "n.d."), ("en", "n/a")])
def test_population_within_and_distance_read_nd_without_centers(call, lang, nd):
    dctx = call(lambda: services.context(overview.current_config().database_url))
    filters = {
        "level": "commune",
        "indicator": "population",
        "areas": [None, None],
        "doc_types": ["A", "B"],
        "start": None,
        "end": None,
        "radius": 20,
    }
    cards, _, _ = call(overview.update_kpis, filters, dctx.info.id, lang)
    texts = _card_texts(cards)
    assert {"pop_within", "mean_distance"} <= set(texts), texts
    for key in ("pop_within", "mean_distance"):
        assert nd in texts[key], texts[key]
        assert "0,0" not in texts[key] and "0.0" not in texts[key]
        assert "nan" not in texts[key].lower().replace("n/a", "")
