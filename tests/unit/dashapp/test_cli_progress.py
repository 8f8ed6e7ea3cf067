"""Progress of the command line's long work: lines off a terminal, a live line on
one, nothing with --quiet."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dashapp.__main__ import main
from dashapp.cli_progress import CliProgress, solve_text
from optimization.solver import SolveProgress

ROOT = Path(__file__).resolve().parents[3]


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_off_a_terminal_it_writes_plain_lines_stage_by_stage_and_every_few_seconds():
    out = io.StringIO()
    progress = SolveProgress(maximize=True)
    with CliProgress("optimize", stream=out, every=0.05, delay=0) as shown:
        shown.stage("reading the network")
        shown.solve(progress, "requests/week attended")
        progress.plan(90.0)
        progress.prove(100.0)
        time.sleep(0.3)
    text = out.getvalue()
    lines = text.splitlines()
    assert "\r" not in text
    assert lines[0] == "optimize: reading the network"
    assert "optimize: solving" in lines
    periodic = [line for line in lines if line.startswith("optimize: 0 s, ")]
    assert periodic, lines
    assert "best plan 90.0 requests/week attended" in periodic[-1]
    assert "bound 100.0" in periodic[-1] and "gap 11.11%" in periodic[-1]
    assert lines[-1].startswith("optimize: done in ")
    assert lines[-1].endswith("gap 11.11%)")


def test_counts_and_a_failure_are_said():
    out = io.StringIO()
    with (
        pytest.raises(RuntimeError),
        CliProgress("forecast", stream=out, delay=0) as shown,
    ):
        shown.count(3, 12, "steps")
        raise RuntimeError("boom")
    assert out.getvalue().splitlines()[-1].startswith("forecast: stopped in ")


def test_quick_work_shows_only_its_last_line_and_a_quick_failure_nothing():
    for stream in (io.StringIO(), Terminal()):
        with CliProgress("demo", stream=stream, delay=5) as shown:
            shown.stage("generating the country")
        assert stream.getvalue().startswith("demo: done in ")
        assert "generating" not in stream.getvalue()
        failed = type(stream)()
        with pytest.raises(ValueError), CliProgress("demo", stream=failed, delay=5):
            raise ValueError("'seed' should be >= 0")
        assert failed.getvalue() == ""


def test_a_stage_held_during_the_delay_is_written_once_it_has_passed():
    out = io.StringIO()
    with CliProgress("import", stream=out, delay=0.2, tick=0.02) as shown:
        shown.stage("boundaries (10%)")
        time.sleep(0.5)
        shown.stage("roads (90%)")
    assert out.getvalue().splitlines()[:2] == [
        "import: boundaries (10%)",
        "import: roads (90%)",
    ]


def test_on_a_terminal_one_live_line_is_redrawn():
    out = Terminal()
    with CliProgress("import", stream=out, tick=0.02, delay=0) as shown:
        shown.stage("boundaries (40%)")
        time.sleep(0.1)
        shown.count(2, 4, "files")
        time.sleep(0.1)
    text = out.getvalue()
    assert "\r" in text and "import: 00:00, boundaries (40%)" in text
    assert "2/4 files (50%)" in text
    # the stages are drawn on the live line, not as lines of their own
    assert "import: boundaries (40%)\n" not in text
    assert text.rstrip("\n").split("\r")[-1].startswith("import: done in ")


def test_quiet_writes_nothing():
    for stream in (io.StringIO(), Terminal()):
        with CliProgress("demo", quiet=True, stream=stream, every=0.01) as shown:
            shown.stage("generating the country")
            time.sleep(0.05)
        assert stream.getvalue() == ""


def test_solve_text_before_any_plan_and_without_a_bound():
    assert solve_text({"objective": None, "bound": 5.0, "gap": None}) == (
        "looking for a first plan, bound 5.0"
    )
    assert solve_text({"objective": 3.0, "bound": None, "gap": None}, "centers") == (
        "best plan 3.0 centers"
    )


def _attendance(tmp_path) -> str:
    path = tmp_path / "attendance.json"
    path.write_text(
        json.dumps(
            {
                "model": "attendance",
                "demand": {"source": "requests"},
                "parameters": {
                    "p": 30,
                    "decay": {"function": "linear", "cutoff": 40},
                },
            }
        )
    )
    return str(path)


def test_cli_optimize_shows_progress_on_stderr_and_quiet_silences_it(
    demo_copy, tmp_path, capsys, monkeypatch
):
    monkeypatch.setattr("dashapp.cli_progress.DELAY", 0.0)
    args = ["optimize", "--scenario", _attendance(tmp_path), "--data-dir"]
    code = main([*args, str(demo_copy), "--out", str(tmp_path / "a")])
    captured = capsys.readouterr()
    assert code == 0
    assert "attendance: optimal" in captured.out
    err = [line for line in captured.err.splitlines() if line.startswith("optimize:")]
    assert err[0] == "optimize: reading the network"
    assert "optimize: solving" in err
    assert err[-1].startswith("optimize: done in ")
    assert "requests/week attended" in err[-1] and "gap 0.00%" in err[-1]
    assert "optimize:" not in captured.out
    code = main([*args, str(demo_copy), "--out", str(tmp_path / "b"), "--quiet"])
    captured = capsys.readouterr()
    assert code == 0 and "attendance: optimal" in captured.out
    assert "optimize:" not in captured.err


@pytest.mark.slow
def test_cli_demo_and_forecast_progress_in_a_real_process(tmp_path):
    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "dashapp", *args, "--data-dir", str(tmp_path)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
        )

    demo = run("demo", "--communes", "20")
    assert demo.returncode == 0, demo.stderr
    lines = [x for x in demo.stderr.splitlines() if x.startswith("demo:")]
    stages = {
        "demo: generating the country",
        "demo: storing the dataset and its access to centers",
        "demo: building its road network",
    }
    # the stages reached after the first second, then the end
    assert lines[-1].startswith("demo: done in ")
    periodic = re.compile(r"demo: \d+ s, ")
    assert all(x in stages or periodic.match(x) for x in lines[:-1]), lines
    quiet = run("demo", "--communes", "20", "--quiet", "--no-activate")
    assert quiet.returncode == 0 and "demo:" not in quiet.stderr
    out = tmp_path / "f.csv"
    forecast = run("forecast", "--level", "national", "--out", str(out))
    assert forecast.returncode == 0, forecast.stderr
    lines = forecast.stderr.splitlines()
    assert lines[-1].startswith("forecast: done in ")
    # past the first seconds: the stage, then the steps done of all
    shown = re.compile(
        r"forecast: (\d+ s, )?(backtesting and forecasting the national series"
        r"|\d+/\d+ steps \(\d+%\))$"
    )
    assert all(shown.match(x) for x in lines[:-1]), lines
