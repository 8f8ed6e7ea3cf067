import json
import re

import numpy as np
import pytest

from dashapp.__main__ import main
from optimization.network import network_from_store, weekly_requests_by_commune
from optimization.scenario import ScenarioError


def test_network_from_the_tiny_store(tiny_store):
    net = network_from_store(tiny_store)
    assert list(net.commune_ids) == ["C1", "C2", "C3", "C4"]
    assert list(net.department_ids) == ["D1", "D1", "D2", "D2"]
    assert list(net.region_ids) == ["R1"] * 4
    assert list(net.center_ids) == ["S1", "S2"] and list(net.candidate_ids) == ["K1"]
    np.testing.assert_allclose(net.lon, [0.05, 0.15, 0.05, 0.15])
    # two weeks of data: C1 had 10 + 12 + 10 requests -> 16 a week
    np.testing.assert_allclose(net.requests, [16.0, 15.0, 10.0, 20.0])
    assert len(net.polygons) == 4


def test_requests_window_is_the_last_weeks(tiny_store):
    info = tiny_store.active_dataset()
    last_week = weekly_requests_by_commune(tiny_store, info.id, weeks=1)
    assert last_week.to_dict() == {
        int(tiny_store.units(info.id, 2).set_index("code").loc["C1", "id"]): 22.0
    }


def test_empty_store_or_unknown_dataset_is_a_clear_error(tmp_path, tiny_store):
    from data.store import Store

    empty = Store(f"sqlite:///{tmp_path / 'e.sqlite'}")
    empty.upgrade()
    with pytest.raises(ScenarioError, match="the store holds no dataset"):
        network_from_store(empty)
    with pytest.raises(ScenarioError, match="no dataset with id 99"):
        network_from_store(tiny_store, 99)


def _write(path, spec):
    path.write_text(json.dumps(spec))
    return str(path)


def test_cli_optimize_writes_the_four_files(demo_copy, tmp_path, capsys):
    scenario = _write(
        tmp_path / "s.json",
        {
            "model": "pmedian",
            "demand": {"source": "requests"},
            "sites": {"use_candidates": True, "max_new": 3},
            "parameters": {"p": 53},
        },
    )
    out = tmp_path / "out"
    code = main(
        [
            "optimize",
            "--scenario",
            scenario,
            "--out",
            str(out),
            "--data-dir",
            str(demo_copy),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "pmedian: optimal" in printed
    summary = json.loads((out / "summary.json").read_text())
    assert summary["solve"]["status"] == "optimal" and summary["changes"]["opened"] == 3
    # "solved in" is the whole solve, every stage: the report's build + solve time
    seconds = float(re.search(r"solved in (\d+\.\d+) s", printed).group(1))
    whole = summary["solve"]["build_seconds"] + summary["solve"]["solve_seconds"]
    assert seconds == pytest.approx(whole, abs=0.006)
    assert (out / "centers.csv").read_text().startswith("site_id,")
    assert len((out / "assignments.csv").read_text().splitlines()) == 401
    assert (
        json.loads((out / "result.geojson").read_text())["type"] == "FeatureCollection"
    )


def test_cli_optimize_bad_file_and_infeasible_plan_exit_non_zero(
    demo_copy, tmp_path, capsys
):
    bad = _write(tmp_path / "bad.json", {"model": "pmedian", "parameters": {"p": -1}})
    assert (
        main(
            [
                "optimize",
                "--scenario",
                bad,
                "--out",
                str(tmp_path / "o"),
                "--data-dir",
                str(demo_copy),
            ]
        )
        == 2
    )
    assert "'parameters.p' should be >= 1" in capsys.readouterr().err
    infeasible = _write(
        tmp_path / "inf.json",
        {
            "model": "lscp",
            "sites": {"use_candidates": False, "closable": False},
            "parameters": {"service_radius": 5},
        },
    )
    assert (
        main(
            [
                "optimize",
                "--scenario",
                infeasible,
                "--out",
                str(tmp_path / "o"),
                "--data-dir",
                str(demo_copy),
            ]
        )
        == 3
    )
    assert "km from every allowed site" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
    missing = str(tmp_path / "nope.json")
    assert (
        main(
            [
                "optimize",
                "--scenario",
                missing,
                "--out",
                str(tmp_path / "o"),
                "--data-dir",
                str(demo_copy),
            ]
        )
        == 2
    )
