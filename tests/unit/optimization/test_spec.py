"""The scenario file: one typed model per section, every refusal naming its key."""

from __future__ import annotations

import pytest

from optimization.scenario import ScenarioError, load_spec

FULL = {
    "model": "pmedian",
    "name": "Plan 2027",
    "description": "free text",
    "demand": {"source": "requests", "growth_rate": 0.01, "years": 5},
    "distance": {"kind": "matrix", "matrix_csv": "t.csv", "missing": 99},
    "sites": {
        "use_candidates": True,
        "closable": False,
        "locked": ["a", 1],
        "closing_cost": {"a": 3},
        "max_new": 3,
        "budget": 500000,
    },
    "parameters": {
        "p": 12,
        "service_radius": 20,
        "capacitated": True,
        "modules": {"size": 200, "cost": 40000, "max": 2},
    },
    "equity": {"level": "region", "min_share": {"r1": 0.8}},
    "reallocation": {"objective": "delay", "total_staff": None},
    "solver": {"name": "cbc", "time_limit": 60, "gap": 1e-6},
}


def test_sections_keep_what_was_given_and_the_schema_defaults():
    spec = load_spec(FULL).to_dict()
    assert spec["demand"] == {"source": "requests", "growth_rate": 0.01, "years": 5.0}
    assert spec["distance"] == {
        "kind": "matrix",
        "matrix_csv": "t.csv",
        "missing": 99,
        "unit": "min",  # a matrix's default unit
    }
    assert spec["sites"]["locked"] == ["a", "1"] and spec["sites"]["forbidden"] == []
    assert spec["sites"]["max_new"] == 3 and isinstance(spec["sites"]["budget"], float)
    assert spec["parameters"]["p"] == 12 and isinstance(spec["parameters"]["p"], int)
    assert spec["parameters"]["modules"] == {"size": 200.0, "cost": 40000.0, "max": 2.0}
    # the equity radius defaults to the service radius, as does the report radius
    assert spec["equity"] == {
        "level": "region",
        "min_share": {"r1": 0.8},
        "radius": 20.0,
    }
    assert spec["report_radius"] == 20.0
    assert spec["reallocation"] == {"objective": "delay", "total_staff": None}
    assert spec["aggregate"] is None
    bare = load_spec({"model": "pmedian", "parameters": None, "equity": None})
    assert bare.to_dict() == {
        "name": "scenario",
        "model": "pmedian",
        "demand": {"source": "population"},
        "distance": {"kind": "great_circle", "missing": "error", "unit": "km"},
        "sites": {"locked": [], "forbidden": []},
        "parameters": {},
        "equity": None,
        "reallocation": {"objective": "unmet"},
        "solver": {"name": "highs"},
        "report_radius": None,
        "aggregate": None,
    }
    # a stored spec loads again to itself
    assert load_spec(load_spec(FULL).to_dict()).to_dict() == load_spec(FULL).to_dict()


@pytest.mark.parametrize(
    ("section", "value", "message"),
    [
        ("demand", {"source": "x"}, "'demand.source' should be one of"),
        (
            "demand",
            {"growth_rate": -2},
            "'demand.growth_rate' should be >= -1.0, got -2",
        ),
        ("demand", {"forecast": [1]}, "'demand.forecast' should map commune ids"),
        (
            "distance",
            {"missing": "x"},
            "'distance.missing' should be 'error', 'forbid'",
        ),
        ("sites", {"locked": "a"}, "'sites.locked' should be a list of site ids"),
        ("sites", {"max_new": -1}, "'sites.max_new' should be >= 0.0, got -1"),
        (
            "sites",
            {"budget": float("nan")},
            "'sites.budget' should be a number, got nan",
        ),
        ("sites", [1], "'sites' should be an object, got list"),
        ("sites", {"open": 1}, r"unknown keys in 'sites': \['open'\]; allowed: \["),
        ("parameters", {"p": True}, "'parameters.p' should be a number, got True"),
        ("parameters", {"modules": {"cost": 3}}, "'parameters.modules' needs 'size'"),
        ("parameters", {"modules": 3}, "'parameters.modules' should be an object"),
        (
            "parameters",
            {"modules": {"size": -3}},
            "'parameters.modules.size' should be >=",
        ),
        (
            "parameters",
            {"modules": {"size": 1, "x": 2}},
            "unknown keys in 'parameters.modules'",
        ),
        (
            "equity",
            {"min_share": {"a": 2}, "radius": 1},
            "'equity.min_share' for 'a' should be <= 1.0",
        ),
        ("equity", {"min_share": 0.5, "level": "x"}, "'equity.level' should be one of"),
        ("equity", {"min_share": 0.5}, "'equity' needs 'radius'"),
        (
            "reallocation",
            {"objective": "x"},
            "'reallocation.objective' should be one of",
        ),
        ("solver", {"gap": 2}, "'solver.gap' should be <= 1.0, got 2"),
        ("solver", {"time_limit": -1}, "'solver.time_limit' should be >= 0.0"),
        (
            "aggregate",
            {"enabled": "yes"},
            "'aggregate.enabled' should be true or false",
        ),
        ("report_radius", "x", "'report_radius' should be a number, got 'x'"),
    ],
)
def test_each_section_names_the_key_it_refuses(section, value, message):
    with pytest.raises(ScenarioError, match=message):
        load_spec({"model": "pmedian", section: value})


@pytest.mark.parametrize(
    ("model", "parameters", "message"),
    [
        # a model that cannot impose capacities refuses to be asked for them
        # (lscp and reallocation ran without them, the summary saying "capacitated")
        ("lscp", {"service_radius": 5, "capacitated": True}, "'lscp' does not take"),
        ("reallocation", {"capacitated": True}, "'reallocation' does not take"),
        ("lscp", {"service_radius": 5, "split": True}, "parameters.split"),
        (
            "mclp",
            {"p": 2, "service_radius": 5, "modules": {"size": 10}},
            "'mclp' does not take 'parameters.modules'",
        ),
        (
            "pcenter",
            {"p": 2, "modules": {"size": 10}, "capacitated": True},
            "'pcenter' does not take 'parameters.modules'",
        ),
        ("pmedian", {"p": 2, "split": True}, "'parameters.split' .* needs 'param"),
        ("pcenter", {"p": 2, "split": True}, "needs 'parameters.capacitated'"),
    ],
)
def test_capacities_asked_of_a_model_that_cannot_impose_them(
    model, parameters, message
):
    with pytest.raises(ScenarioError, match=message):
        load_spec({"model": model, "parameters": parameters})


@pytest.mark.parametrize("model", ["pmedian", "mclp", "pcenter"])
def test_models_that_impose_capacities_take_them(model):
    parameters = {"p": 2, "service_radius": 5, "capacitated": True, "split": True}
    if model == "pcenter":
        del parameters["service_radius"]
    spec = load_spec({"model": model, "parameters": parameters})
    assert spec.parameters["capacitated"] is True and spec.parameters["split"] is True
