"""The demo benchmark's machine reference (bench/bench_optimization.py): fixed
work none of our code takes part in, recorded next to the demo models so that a
slower machine is told apart from a slower engine."""

from __future__ import annotations

import numpy as np

from bench import bench_optimization as bench
from optimization import LSCP


def test_the_reference_cover_is_the_instance_it_says_solved_to_optimality():
    ref = bench.machine_reference(runs=1)
    assert ref["python_loop_cpu_seconds"] > 0
    assert ref["highs_cover_cpu_seconds"] > 0
    # the same seeded instance, solved by our own set covering model
    rng = np.random.default_rng(0)
    a, b = rng.random((400, 2)) * 100.0, rng.random((200, 2)) * 100.0
    cost = np.hypot(a[:, None, 0] - b[None, :, 0], a[:, None, 1] - b[None, :, 1])
    ours = LSCP.from_cost_matrix(cost, service_radius=12).solve()
    assert ours.status == "optimal"
    assert ref["highs_cover_sites"] == round(ours.objective)


def test_the_demo_table_prints_the_reference_and_skips_it_as_a_row(capsys):
    demo = {
        "instance": "demo country",
        "uptime_before": "load average: 0.50",
        "machine_reference": {
            "python_loop_cpu_seconds": 0.2,
            "highs_cover_cpu_seconds": 0.33,
            "highs_cover_sites": 30,
            "highs_cover_nodes": 1,
        },
        "lscp R=60": {"seconds": 0.4, "cpu_seconds": 0.4, "status": "optimal"},
        "uptime": "load average: 0.90",
    }
    bench.print_demo(demo)
    out = capsys.readouterr().out
    assert "machine reference: Python loop 0.200 CPU s, HiGHS cover 0.330 CPU s" in out
    assert "(30 sites, 1 nodes)" in out
    assert "lscp R=60" in out
    assert out.count("\n  ") == 3  # load line, reference line, one model row
