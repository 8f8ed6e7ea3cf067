"""``python -m dashapp`` run as a real command with bad options, files and values:
each ends with ONE line on stderr naming the problem (after the progress lines of
a command that ran over a couple of seconds), exit code 2, no traceback, and the
store as it was."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from dashapp.__main__ import main, one_line
from dashapp.config import PROJECT_ROOT
from data.store import Store
from tests.unit.data import import_files as f

HUGE = "99999999999999999999999"
#: A line of the command line's progress (dashapp/cli_progress.py) on stderr.
PROGRESS_LINE = re.compile(r"^(import|optimize|forecast|demo): ")


@pytest.fixture(scope="module")
def folders(demo_dir, tmp_path_factory):
    """A private copy of the demo data folder, and a folder of input files."""
    data = tmp_path_factory.mktemp("cli-data") / "data"
    shutil.copytree(demo_dir, data)
    files = tmp_path_factory.mktemp("cli-files")
    f.write_cod_ab(files)
    f.population_by_pcode(files)
    (files / "latin1.json").write_bytes('{"model": "pmédian"}'.encode("latin-1"))
    (files / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    (files / "list.json").write_text("[1, 2]")
    (files / "ok.json").write_text(
        json.dumps({"model": "pmedian", "parameters": {"p": 3}})
    )
    (files / "a_file").write_text("not a folder")
    (files / "a_folder").mkdir()
    return data, files


def cases(files) -> dict[str, tuple[list[str], str]]:
    """Name -> (arguments, a phrase the one error line must hold)."""
    adm3 = str(files / "xy_admbnda_adm3.geojson")
    imp = ["import", "--boundaries", adm3, "--dry-run"]
    pop = [*imp, "--population", str(files / "population.csv")]
    opt = ["optimize", "--scenario", str(files / "ok.json")]
    a_file, a_folder = str(files / "a_file"), str(files / "a_folder")
    return {
        "rate-nan": ([*imp, "--rate", "CNI=nan"], "rate of CNI should be a number"),
        "rate-inf": ([*imp, "--rate", "CNI=inf"], "got 'inf'"),
        "rate-negative": ([*imp, "--rate", "CNI=-0.5"], "got '-0.5'"),
        "rate-text": ([*imp, "--rate", "CNI=beaucoup"], "got 'beaucoup'"),
        "rate-unknown-doc": ([*imp, "--rate", "VISA=0.1"], "unknown document type"),
        "rate-no-value": ([*imp, "--rate", "CNI"], "expected DOC=RATE"),
        "levels-mismatch": ([*pop, "--levels", "region,commune"], "2 level(s) given"),
        "levels-empty-name": ([*pop, "--levels", "region,,commune"], "--levels"),
        "max-size-nan": ([*imp, "--max-size-mb", "nan"], "--max-size-mb"),
        "scenario-latin1": (
            ["optimize", "--scenario", str(files / "latin1.json"), "--out", a_folder],
            "is not UTF-8 text",
        ),
        "scenario-deep": (
            ["optimize", "--scenario", str(files / "deep.json"), "--out", a_folder],
            "nests lists or objects too deeply",
        ),
        "scenario-not-object": (
            ["optimize", "--scenario", str(files / "list.json"), "--out", a_folder],
            "should be a JSON object",
        ),
        "out-folder-is-a-file": ([*opt, "--out", a_file], "is a file, a folder is"),
        "out-folder-under-a-file": ([*opt, "--out", f"{a_file}/x"], "not a folder"),
        "dataset-huge": ([*opt, "--out", a_folder, "--dataset", HUGE], "whole number"),
        "dataset-unknown": ([*opt, "--out", a_folder, "--dataset", "4242"], "no such"),
        "forecast-out-is-a-folder": (["forecast", "--out", a_folder], "is a folder"),
        "forecast-out-under-a-file": (
            ["forecast", "--out", f"{a_file}/f.csv"],
            "is not an existing folder",
        ),
        "clusters-out-is-a-folder": (["clusters", "--out", a_folder], "is a folder"),
        "clusters-profiles-under-a-file": (
            ["clusters", "--out", f"{a_folder}/c.csv", "--profiles", f"{a_file}/p.csv"],
            "--profiles",
        ),
        "bad-database-url": (["db", "status", "--database-url", "nope://x"], "nope"),
        "demo-negative-seed": (["demo", "--seed", "-1", "--no-activate"], "seed"),
        "port-not-a-number": (["serve", "--port", "huit"], "--port"),
    }


def run(data, args: list[str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "DASHAPP_DATA_DIR": str(data)}
    env.pop("DASHAPP_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "dashapp", *args],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def stored(data) -> list:
    store = Store(f"sqlite:///{data / 'dashapp.sqlite'}")
    try:
        return [(d.id, d.version, d.is_active) for d in store.datasets()]
    finally:
        store.engine.dispose()


@pytest.fixture(scope="module")
def results(folders):
    """Every case run once, side by side (each is a fresh Python process)."""
    data, files = folders
    before = stored(data)
    table = cases(files)
    with ThreadPoolExecutor(max_workers=6) as pool:
        done = dict(
            zip(table, pool.map(lambda c: run(data, table[c][0]), table), strict=True)
        )
    return done, before, stored(data)


@pytest.mark.slow  # every case is a Python process: ~30 s in all
@pytest.mark.parametrize("name", list(cases(PROJECT_ROOT)))
def test_one_line_exit_code_2_no_traceback(results, folders, name):
    done, _, _ = results
    result = done[name]
    phrase = cases(folders[1])[name][1]
    # progress lines of a command that ran a while before failing are not errors
    lines = [
        line
        for line in result.stderr.splitlines()
        if line.strip() and not PROGRESS_LINE.match(line)
    ]
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and phrase in lines[0], lines[0]


@pytest.mark.slow
def test_nothing_was_stored(results):
    _, before, after = results
    assert after == before


def test_the_guard_in_process(capsys, tmp_path):
    code = main(["db", "status", "--database-url", "nope://x"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and err.startswith("error: ")
    assert one_line(ValueError("first line\n  SQL: SELECT 1\n")) == "first line"
    missing = FileNotFoundError(2, "No such file or directory", str(tmp_path / "x"))
    assert one_line(missing) == f"{tmp_path / 'x'}: No such file or directory"


def test_a_bug_keeps_its_traceback(monkeypatch):
    import dashapp.__main__ as cli

    def broken(argv):
        raise KeyError("a bug, not bad input")

    monkeypatch.setattr(cli, "_main", broken)
    with pytest.raises(KeyError):
        cli.main(["kpis"])
