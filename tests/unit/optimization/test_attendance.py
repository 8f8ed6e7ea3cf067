"""Maximise attendance against enumeration, and its decay functions' checks."""

from __future__ import annotations

import numpy as np
import pytest

from optimization import Attendance, Decay, InfeasibleError, SiteRules
from optimization.spec import ScenarioError, load_spec
from tests.unit.optimization import bruteforce as bf

DECAYS = [
    Decay("linear", cutoff=25.0),
    Decay("exponential", half_distance=8.0),
    Decay("power", exponent=1.5, scale=5.0),
]


def enumerate_best(D, w, p, decay, max_distance=None, **rules):
    """Best attended demand over every plan the rules allow, each commune at its
    nearest open site."""
    best = -np.inf
    for S, _ in bf.subsets(D.shape[1], p, **rules):
        if not S:
            continue
        near = D[:, list(S)].min(axis=1)
        share = decay(near)
        if max_distance is not None:
            share = np.where(near <= max_distance, share, 0.0)
        best = max(best, float((w * share).sum()))
    return best


@pytest.mark.parametrize("seed", range(30))
def test_attendance_matches_enumeration(seed):
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(3, 9)), int(rng.integers(2, 7))
    D = rng.integers(0, 30, (n, m)).astype(float)
    w = rng.integers(0, 10, n).astype(float)
    p = int(rng.integers(1, m + 1))
    decay = DECAYS[seed % 3]
    existing = [j for j in range(m) if rng.random() < 0.4]
    locked = existing[:1] if rng.random() < 0.5 else []
    forbidden = [j for j in range(m) if j not in existing and rng.random() < 0.2]
    if len(forbidden) > m - p:
        forbidden = forbidden[: m - p]
    cap = float(rng.integers(10, 30)) if seed % 4 == 0 else None
    expected = enumerate_best(
        D, w, p, decay, cap, locked=locked, forbidden=forbidden, existing=existing
    )
    rules = SiteRules.build(m, existing=existing, locked=locked, forbidden=forbidden)
    if not np.isfinite(expected):
        with pytest.raises(InfeasibleError):
            Attendance(D, w, p, rules, decay=decay, max_distance=cap).solve()
        return
    model = Attendance(D, w, p, rules, decay=decay, max_distance=cap).solve()
    assert model.status == "optimal"
    assert model.objective == pytest.approx(expected, abs=1e-6)
    open_set = set(model.open_sites.tolist())
    assert len(open_set) == p and set(locked) <= open_set
    assert not open_set & set(forbidden)
    # every commune is counted at its nearest open site
    near = D[:, model.open_sites].min(axis=1)
    share = decay(near) if cap is None else np.where(near <= cap, decay(near), 0.0)
    assert model.attended == pytest.approx(w * share)
    assert model.attended.sum() == pytest.approx(model.objective, abs=1e-6)


def test_attendance_with_a_max_new_count():
    D = np.array([[0.0, 5.0, 9.0], [9.0, 5.0, 0.0], [5.0, 0.0, 5.0]])
    w = np.array([10.0, 10.0, 1.0])
    decay = Decay("linear", cutoff=10)
    # one existing center in the middle, at most one new: keep it and add one end
    rules = SiteRules.build(3, existing=[1], max_new=1)
    model = Attendance(D, w, 2, rules, decay=decay).solve()
    assert model.status == "optimal"
    expected = enumerate_best(D, w, 2, decay, existing=[1], max_new=1)
    assert model.objective == pytest.approx(expected)


def test_a_nearer_center_creates_demand():
    # the same plan count: the model prefers the site that brings people in
    D = np.array([[2.0, 12.0], [2.0, 12.0]])
    model = Attendance(
        D, [50, 50], 1, decay=Decay("exponential", half_distance=4)
    ).solve()
    assert model.open_sites.tolist() == [0]
    assert model.objective == pytest.approx(100 * 0.5**0.5)
    assert model.potential == 100


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"function": "gravity"}, "'function' should be one of"),
        ({"function": "linear"}, "needs 'cutoff'"),
        ({"function": "exponential"}, "needs 'half_distance'"),
        ({"function": "power"}, "needs 'exponent'"),
        ({"function": "linear", "cutoff": 0}, "'cutoff' should be a positive number"),
        ({"function": "linear", "cutoff": float("nan")}, "positive number"),
        ({"function": "linear", "cutoff": "20"}, "positive number"),
        ({"function": "linear", "cutoff": True}, "positive number"),
        (
            {"function": "linear", "cutoff": 20, "half_distance": 5},
            "'half_distance' is for the 'exponential' decay, not 'linear'",
        ),
        (
            {"function": "exponential", "half_distance": 5, "scale": 3},
            "'scale' is for the 'power' decay",
        ),
        ({"function": "power", "exponent": -1}, "'exponent' should be a positive"),
    ],
)
def test_decay_refuses_bad_parameters_with_a_clear_message(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Decay(**kwargs)


def test_decay_never_increases_and_is_zero_out_of_reach():
    d = np.array([0.0, 1.0, 5.0, 50.0, np.inf, -1.0])
    for decay in DECAYS:
        share = decay(d)
        assert share[0] == 1.0
        assert (np.diff(share[:4]) <= 0).all()
        assert share[4] == 0.0 and share[5] == 0.0


def test_attendance_refuses_capacities_and_a_bad_decay():
    D = np.ones((2, 2))
    with pytest.raises(ValueError, match="does not take capacities"):
        Attendance(D, [1, 1], 1, SiteRules.build(2, capacities=5.0), decay=DECAYS[0])
    with pytest.raises(TypeError, match="'decay' should be Decay"):
        Attendance(D, [1, 1], 1, decay={"function": "linear", "cutoff": 5})


@pytest.mark.parametrize(
    ("decay", "message"),
    [
        (None, "model 'attendance' needs 'parameters.decay'"),
        (
            {"function": "linear"},
            "'parameters.decay' is invalid: the 'linear' decay needs 'cutoff'",
        ),
        (
            {"function": "exponential", "half_distance": -2},
            "'parameters.decay.half_distance' should be > 0, got -2",
        ),
        (
            {"function": "power", "exponent": 2, "cutoff": 10},
            "'cutoff' is for the 'linear' decay, not 'power'",
        ),
        ({"function": "step", "cutoff": 1}, "'parameters.decay.function' should be"),
        ({"function": "linear", "cutoff": 5, "speed": 1}, "unknown keys"),
    ],
)
def test_scenario_file_decay_messages(decay, message):
    raw = {"model": "attendance", "parameters": {"p": 2}}
    if decay is not None:
        raw["parameters"]["decay"] = decay
    with pytest.raises(ScenarioError, match=message):
        load_spec(raw)


def test_scenario_file_needs_p_and_keeps_the_decay():
    with pytest.raises(ScenarioError, match="needs 'parameters.p'"):
        load_spec(
            {
                "model": "attendance",
                "parameters": {"decay": {"function": "linear", "cutoff": 5}},
            }
        )
    spec = load_spec(
        {
            "model": "attendance",
            "parameters": {"p": 3, "decay": {"function": "power", "exponent": 2}},
        }
    )
    assert spec.parameters["decay"] == {"function": "power", "exponent": 2.0}
    with pytest.raises(ScenarioError, match="'parameters.decay' is only for"):
        load_spec(
            {
                "model": "pmedian",
                "parameters": {"p": 3, "decay": {"function": "power", "exponent": 2}},
            }
        )


def test_solve_agrees_with_the_direct_formulation_and_follows_progress():
    from optimization import SolveProgress
    from optimization.solver import solve_model

    rng = np.random.default_rng(5)
    a, b = rng.random((80, 2)) * 50, rng.random((20, 2)) * 50
    D = np.hypot(a[:, None, 0] - b[None, :, 0], a[:, None, 1] - b[None, :, 1])
    w = rng.integers(1, 50, 80).astype(float)
    decay = Decay("exponential", half_distance=6.0)
    progress = SolveProgress(maximize=True)
    model = Attendance(D, w, 4, decay=decay).solve(progress=progress)
    _, direct = solve_model(Attendance(D, w, 4, decay=decay).build_model())
    assert model.status == "optimal" and model.gap <= 1e-6
    assert model.objective == pytest.approx(direct.objective, rel=1e-6)
    assert model.bound >= model.objective - 1e-6
    snap = progress.snapshot()
    assert snap["objective"] == pytest.approx(model.objective)
    assert snap["gap"] == pytest.approx(0.0, abs=1e-6)
    assert model.report.details["formulation"] == "attendance as p-median"


@pytest.mark.parametrize("seed", range(8))
def test_attendance_with_equity_matches_enumeration(seed):
    from optimization import EquityRule

    rng = np.random.default_rng(seed + 900)
    n, m = 7, 5
    D = rng.integers(0, 30, (n, m)).astype(float)
    w = rng.integers(1, 10, n).astype(float)
    groups = list(rng.choice(["A", "B"], n))
    decay = Decay("linear", cutoff=30.0)
    p = 2
    best = -np.inf
    for S, _ in bf.subsets(m, p):
        if bf.covered_ok(D, w, S, groups, 12.0, 0.5):
            best = max(best, float((w * decay(D[:, list(S)].min(axis=1))).sum()))
    equity = EquityRule.build(groups, n, 12.0, 0.5)
    model = Attendance(D, w, p, decay=decay, equity=equity)
    if not np.isfinite(best):
        with pytest.raises(InfeasibleError):
            model.solve()
        return
    model.solve()
    assert model.status == "optimal"
    assert model.objective == pytest.approx(best, abs=1e-6)
    assert model.report.details["formulation"] == "attendance MIP"


def scenario_network():
    from tests.unit.optimization.test_scenario import network

    return network()


@pytest.mark.parametrize("unit", ["km", "min"])
def test_attendance_scenario_reports_attended_against_potential(unit):
    from optimization.scenario import run_scenario

    net = scenario_network()
    raw = {
        "model": "attendance",
        "demand": {"source": "requests"},
        "parameters": {"p": 2, "decay": {"function": "linear", "cutoff": 60}},
    }
    cost = None
    if unit == "min":
        # a travel-time matrix in minutes, as a road network would give
        raw["distance"] = {"kind": "matrix", "matrix_csv": "unused.csv"}
        cost = np.array(
            [[abs(i - j) * 12.0 + 3 for j in (1, 5, 8, 2)] for i in range(6)]
        )
    result = run_scenario(load_spec(raw), net, cost_matrix=cost)
    att = result.summary["attendance"]
    assert result.report.status == "optimal"
    assert att["potential"] == pytest.approx(100.0)
    assert att["after"]["attended"] == pytest.approx(result.report.objective)
    assert att["after"]["share"] == pytest.approx(result.report.objective / 100.0)
    assert att["after"]["attended"] >= att["before"]["attended"] - 1e-9
    assert att["decay"] == {"function": "linear", "cutoff": 60.0}
    assert result.summary["units"]["distance"] == unit
