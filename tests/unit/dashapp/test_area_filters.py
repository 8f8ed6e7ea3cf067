"""Area filters built from the dataset's own levels.

As many filters as levels above the communes, named after the dataset's levels; a
single national unit on top is written as fixed text, never offered as a filter.
"""

from __future__ import annotations

import pytest

from dashapp import ids
from dashapp.filters import area_path, areas_from_query, resolve, resolve_areas
from data import views
from data.store import Store
from geo.access import nearest_center
from layouts.overview import area_choices, area_filters
from tests.levels import flat_bundle, nested_bundle


def _context(bundle):
    store = Store("sqlite://")
    store.upgrade()
    store.add_dataset(bundle, kind="imported", access=nearest_center)
    return views.load_context(store)


@pytest.fixture(scope="module")
def shapes():
    """Two, three and four levels, and a national unit on top of three or one."""
    return {
        "two": _context(nested_bundle([2, 4])),
        "three": _context(nested_bundle([2, 2, 3])),
        "four": _context(nested_bundle([2, 3, 2, 2])),
        "national_three": _context(nested_bundle([2, 2, 3], national=True)),
        "national_communes": _context(nested_bundle([6], national=True)),
    }


def _labels(ctx, lang="fr") -> list[str]:
    """The filter block as a reader sees it: fixed lines and dropdown labels."""
    out = []
    for component in area_filters(ctx, (None,) * len(views.filter_levels(ctx)), lang):
        name = type(component).__name__
        if name in ("Label", "Div"):
            out.append(component.children)
        elif name == "Dropdown":
            out.append(("dropdown", component.id["index"], len(component.options)))
    return out


@pytest.mark.parametrize(
    ("shape", "levels", "labels"),
    [
        ("two", [0], ["Province", ("dropdown", 0, 2)]),
        (
            "three",
            [0, 1],
            ["Région", ("dropdown", 0, 2), "Département", ("dropdown", 1, 4)],
        ),
        (
            "four",
            [0, 1, 2],
            [
                "Région",
                ("dropdown", 0, 2),
                "Département",
                ("dropdown", 1, 6),
                "Arrondissement",
                ("dropdown", 2, 12),
            ],
        ),
        (
            "national_three",
            [1, 2],
            [
                "Pays : Pays test",
                "Région",
                ("dropdown", 1, 2),
                "Département",
                ("dropdown", 2, 4),
            ],
        ),
        ("national_communes", [], ["Pays : Pays test"]),
    ],
)
def test_one_filter_per_level_above_the_communes(shapes, shape, levels, labels):
    ctx = shapes[shape]
    assert views.filter_levels(ctx) == levels
    assert _labels(ctx) == labels


def test_filters_are_labelled_in_the_current_language(shapes):
    labels = _labels(shapes["national_three"], "en")
    assert labels[0] == "Country: Pays test"
    assert labels[1] == "Region" and labels[3] == "Department"


def test_each_filter_lists_the_units_inside_the_one_above(shapes):
    ctx = shapes["four"]
    choices = area_choices(ctx, ("L0-002", None, None), "fr")
    (regions, top), (depts, in_region), (arrs, in_region_too) = choices
    assert [o["value"] for o in regions] == ["L0-001", "L0-002"]
    assert [o["value"] for o in depts] == ["L1-004", "L1-005", "L1-006"]
    # nothing chosen at the department level: its arrondissements are the region's
    assert len(arrs) == 6
    assert top == "Tout le pays" and in_region == in_region_too == "Tout « Région 2 »"


def test_a_choice_fills_the_filters_above_and_checks_those_below(shapes):
    ctx = shapes["national_three"]
    assert area_path(ctx, "L1-003") == ("L0-002", "L1-003")
    assert area_path(ctx, "C00001") == ("L0-001", "L1-001")  # a commune: its parents
    assert area_path(ctx, "NAT") == (None, None)  # the fixed country: no filter
    assert resolve_areas(ctx, [None, "L1-003"]) == (("L0-002", "L1-003"), [])
    areas, messages = resolve_areas(ctx, ["L0-001", "L1-003"], "en")
    assert areas == ("L0-001", None)
    assert messages == ["L1-003 is not in Région 1, chosen above: selection cleared."]


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (["R9", None], "“R9” for the “Region” filter"),
        (["L1-001", None], "“L1-001” for the “Region” filter"),  # wrong level
        (["NAT"], "“NAT” for the “Region” filter"),  # the country is no filter
        ([["L0-001"], None], "“['L0-001']” for the “Region” filter"),
        ([{"a": 1}], "“{'a': 1}” for the “Region” filter"),
        ([None, "x" * 300], "“" + "x" * 39 + "…” for the “Department” filter"),
    ],
)
def test_forged_area_values_fall_back_with_a_message(shapes, raw, fragment):
    ctx = shapes["national_three"]
    r = resolve(ctx, "en", areas=raw)
    assert r.areas == (None, None) and r.selection is None
    assert len(r.messages) == 1 and fragment in r.messages[0]


@pytest.mark.parametrize("raw", [None, "L0-001", 7, {"x": 1}, [], [None] * 9])
def test_any_shape_of_areas_is_read_without_error(shapes, raw):
    r = resolve(shapes["three"], "fr", areas=raw)
    assert r.areas == (None, None)


def test_urls_name_areas_by_the_datasets_level_codes(shapes):
    ctx = shapes["national_three"]
    assert areas_from_query(ctx, {"department": "L1-003"}) == [None, "L1-003"]
    # links from before: 'region' and 'department' are the first and second filter
    two = shapes["two"]
    assert areas_from_query(two, {"region": "L0-002"}) == ["L0-002"]
    assert areas_from_query(two, {"province": "L0-001", "region": "L0-002"}) == [
        "L0-001"
    ]
    assert areas_from_query(shapes["national_communes"], {"region": "NAT"}) == []


def test_the_demo_keeps_its_region_and_department_filters(tiny_store):
    ctx = views.load_context(tiny_store)  # one region on top: a fixed unit
    assert views.filter_levels(ctx) == [1]
    r = resolve(ctx, "fr", areas=["D2"])
    assert r.selection == "D2" and r.messages == []
    assert [c.id for c in area_filters(ctx, r.areas, "fr") if hasattr(c, "value")] == [
        ids.area_filter(1)
    ]


def test_a_large_flat_country_is_grouped_on_a_grid():
    ctx = _context(flat_bundle(views.MAX_MAP_UNITS + 100))
    scope = views.map_scope(ctx, 1, None)
    assert scope == views.MapScope(1, grid=True, n_units=views.MAX_MAP_UNITS + 100)
    assert views.map_scope(ctx, 0, None) == views.MapScope(0, n_units=1)


def test_a_unit_and_a_level_are_found_without_scanning_each_time(demo_copy):
    """DatasetContext.unit and units_at answer as a full comparison would, for
    any code (hostile ones too), and a caller's change stays in its own copy."""
    from data.store import Store
    from data.views import load_context

    store = Store(f"sqlite:///{demo_copy / 'dashapp.sqlite'}")
    ctx = load_context(store)
    for code in ctx.units["code"].sample(25, random_state=1):
        expected = ctx.units[ctx.units["code"] == code].iloc[0]
        assert ctx.unit(code).equals(expected)
    for bad in ("", "R99", None, 3, ["R01"], {"a": 1}):
        assert ctx.unit(bad) is None
    for level in ctx.levels["level"]:
        expected = ctx.units[ctx.units["level"] == level]
        assert ctx.units_at(level).equals(expected)
    communes = ctx.communes()
    communes["population"] = 0  # a caller's own change...
    assert ctx.communes()["population"].gt(0).any()  # ...never reaches the others
    store.engine.dispose()
