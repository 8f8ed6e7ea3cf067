"""The import benchmark at a small size (CI), checking what it measures."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_bench_import_runs_end_to_end_on_a_small_country(tmp_path):
    spec = importlib.util.spec_from_file_location(
        "bench_import", ROOT / "bench" / "bench_import.py"
    )
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    result = bench.run(60, tmp_path)
    assert result["communes"] == 60
    assert result["output"].startswith(
        f"{result['regions']} region / {result['departments']} department / 60 commune"
    )
    assert result["import_seconds"] > 0 and result["import_peak_rss_mb"] > 0
