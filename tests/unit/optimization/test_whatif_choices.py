"""The map's choices and saved what-ifs are checked where they enter: kinds,
repeats, lengths and codes, each refused by name, in time linear in their size."""

import dataclasses

import pytest

from optimization import whatif as whatif_module
from optimization.scenario import NetworkInputs
from optimization.whatif import (
    MAX_ADDED,
    PanelError,
    WhatIf,
    apply_to_network,
    quoted,
)
from tests.unit.optimization.test_whatif import _network


def _problems(exc: pytest.ExceptionInfo) -> list[tuple[str, str]]:
    return [(p.field, p.reason) for p in exc.value.problems]


def test_a_commune_added_twice_is_refused_by_name_and_quoted_once():
    panel = {"map_choices": {"sites": {}, "added": ["B", "C", "B"] + ["A"] * 50_000}}
    with pytest.raises(PanelError) as info:
        WhatIf.from_panel(panel)
    assert _problems(info) == [("added", "repeated")]
    assert info.value.problems[0].value == "'B', 'A'"
    assert "added names 'B', 'A' more than once" in str(info.value)
    with pytest.raises(PanelError, match="added names 'x' more than once"):
        WhatIf.from_dict({"added": ["x", "x"]})


def test_a_refusal_quotes_a_few_values_each_cut_short():
    assert quoted([f"C{i}" for i in range(8)]) == "'C0', 'C1', 'C2', 'C3', 'C4' … (8)"
    assert quoted(["x" * 1000]) == "'" + "x" * 38 + "…"
    with pytest.raises(PanelError) as info:
        WhatIf.from_dict({"added": [str(i) for i in range(10_000)] * 2})
    assert len(str(info.value)) < 200


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"sites": 5}, [("sites", "type")]),
        ({"sites": ["S1"]}, [("sites", "type")]),
        ({"sites": {"S1": ["locked"]}}, [("sites", "invalid")]),
        ({"sites": {"S1": "demolished"}}, [("sites", "invalid")]),
        ({"added": 5}, [("added", "type")]),
        ({"added": "ABC"}, [("added", "type")]),
        ({"added": {"A": 1}}, [("added", "type")]),
        ({"added": [1, 2]}, [("added", "type")]),
        ({"added": [["A"], ["A"]]}, [("added", "type")]),
        ({"doc_types": 3}, [("doc_types", "type")]),
        ({"doc_types": [None]}, [("doc_types", "type")]),
        ({"growth_by_doc_pct": [5]}, [("growth_by_doc_pct", "type")]),
        ({"objective": ["distance"]}, [("objective", "invalid")]),
        ({"objective": {}}, [("objective", "invalid")]),
        ({"colour": "blue"}, [("parameters", "unknown")]),
    ],
)
def test_a_saved_what_if_of_the_wrong_kind_is_refused_by_name(values, expected):
    """A forged draft or row raises PanelError (no TypeError or AttributeError,
    which the page shows as an unexpected error)."""
    with pytest.raises(PanelError) as info:
        WhatIf.from_dict(values)
    assert _problems(info) == expected


@pytest.mark.parametrize("values", [5, "x", ["objective"], None])
def test_a_saved_what_if_that_is_no_mapping_is_refused(values):
    with pytest.raises(PanelError) as info:
        WhatIf.from_dict(values)
    assert _problems(info) == [("parameters", "type")]


def test_a_panel_whose_map_choices_are_no_mapping_is_refused_by_name():
    for choices, field in [
        (5, "sites"),
        ({"sites": 5}, "sites"),
        ({"added": 7}, "added"),
    ]:
        with pytest.raises(PanelError) as info:
            WhatIf.from_panel({"map_choices": choices})
        assert _problems(info) == [(field, "type")]


def test_a_saved_what_if_reads_as_the_panel_does():
    w = WhatIf.from_dict(
        {"allow_closures": 1, "period_start": "2026-01-05T00:00:00" + "x" * 100,
         "added": ["B"], "doc_types": ["CNI"]}
    )  # fmt: skip
    assert (w.allow_closures, w.period_start, w.added, w.doc_types) == (
        True, "2026-01-05", ("B",), ("CNI",)
    )  # fmt: skip
    assert WhatIf.from_dict(w.to_dict()) == w


def test_added_sites_are_checked_against_the_network():
    net = _network()  # communes A, B, C
    assert WhatIf(added=("A", "C")).check(net).added == ("A", "C")
    with pytest.raises(PanelError) as info:
        WhatIf(added=("A", "Z", "Y")).check(net)
    assert _problems(info) == [("added", "unknown")]
    assert info.value.problems[0].value == "'Z', 'Y'"
    with pytest.raises(PanelError) as info:
        WhatIf(added=("A", "B", "C", "D")).check(net)  # more than the communes
    assert _problems(info) == [("added", "too_many")]
    assert (info.value.problems[0].value, info.value.problems[0].high) == (4, 3)


def test_no_more_than_max_added_sites_even_on_a_large_country():
    n = MAX_ADDED + 10
    codes = [f"C{i}" for i in range(n)]
    big = dataclasses.replace(
        _network(),
        commune_ids=codes, commune_names=codes, department_ids=["D"] * n,
        department_names=["d"] * n, region_ids=["R"] * n, region_names=["r"] * n,
        population=[1.0] * n, lon=[0.0] * n, lat=[0.0] * n,
    )  # fmt: skip
    WhatIf(added=tuple(codes[:MAX_ADDED])).check(big)
    with pytest.raises(PanelError) as info:
        WhatIf(added=tuple(codes[: MAX_ADDED + 1])).check(big)
    assert _problems(info) == [("added", "too_many")]
    assert info.value.problems[0].high == MAX_ADDED


def test_site_choices_are_checked_against_the_network():
    net = _network()  # centers S1, S2; candidate K1
    ok = {"S1": "closed", "S2": "locked", "K1": "forbidden"}
    assert WhatIf(sites=ok).check(net).sites == ok
    with pytest.raises(PanelError) as info:
        WhatIf(sites={"S1": "closed", "NOPE": "locked"}).check(net)
    assert _problems(info) == [("sites", "unknown")]
    with pytest.raises(PanelError) as info:
        WhatIf(sites={"K1": "closed", "S2": "forbidden"}).check(net)
    assert _problems(info) == [("sites", "invalid")]
    assert "'K1: closed', 'S2: forbidden'" in str(info.value)
    many = {f"X{i}": "locked" for i in range(4)}
    with pytest.raises(PanelError) as info:
        WhatIf(sites=many).check(net)
    assert _problems(info) == [("sites", "too_many")]


def test_the_network_is_built_only_from_checked_choices(monkeypatch):
    """apply_to_network checks first: nothing is built for a list it refuses."""
    built = []
    monkeypatch.setattr(
        whatif_module.dataclasses, "replace", lambda *a, **k: built.append(a)
    )
    with pytest.raises(PanelError, match="added sites name unknown communes 'Z'"):
        apply_to_network(_network(), WhatIf(added=("A", "Z")))
    with pytest.raises(PanelError):
        apply_to_network(_network(), WhatIf(added=tuple("ABCD")))
    assert built == []


def test_repeated_site_ids_are_reported_once_each():
    net = _network()
    with pytest.raises(Exception, match=r"used twice: \['K1', 'S1'\]"):
        NetworkInputs(
            **{
                **{f.name: getattr(net, f.name) for f in dataclasses.fields(net)},
                "candidate_ids": ["K1", "S1", "K1", "S1", "K1"],
                "candidate_names": ["k"] * 5, "candidate_lon": [0.0] * 5,
                "candidate_lat": [0.0] * 5, "candidate_opening_cost": [1.0] * 5,
                "candidate_capacity": [1.0] * 5,
            }
        )  # fmt: skip
