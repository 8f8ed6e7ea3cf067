"""Benchmark of the import of a national commune layer.

1. Generates the synthetic country (``data.demo.generate_demo``) and writes its
   communes as one COD-AB-style GeoJSON (``ADM1/2/3_PCODE`` and ``_FR`` names, the
   upper levels to be dissolved by the importer) and the population as a CSV.
2. Runs ``python -m dashapp import --boundaries ... --population ...`` in a child
   process on a fresh SQLite store and records its wall time and peak resident
   memory, plus the sizes of the files.
   The peak is the child's own ``VmHWM`` (Linux).

Run: ``.venv/bin/python bench/bench_import.py [--communes 35000] [--out FILE]``.
Results are printed and written to ``bench/results/import.json``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from data.demo import generate_demo  # noqa: E402

# The import runs in a fresh interpreter that reports its own peak resident memory
# (VmHWM is per address space, so nothing of this parent process is counted).
CHILD = (
    "import sys; from dashapp.__main__ import main; code = main(sys.argv[1:]); "
    "print(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')), "
    "file=sys.stderr); sys.exit(code)"
)


def write_inputs(folder: Path, n_communes: int, seed: int = 7) -> dict:
    """The demo country's communes (COD-AB columns) and population files."""
    started = time.perf_counter()
    country = generate_demo(seed=seed, n_communes=n_communes)
    generated = time.perf_counter() - started
    units = country.units
    names = dict(zip(units["unit_code"], units["name"], strict=True))
    communes = units[units["level"] == 2].copy()
    dept = communes["parent_code"]
    region = dept.map(dict(zip(units["unit_code"], units["parent_code"], strict=True)))
    layer = communes[["geometry"]].assign(
        ADM0_PCODE="ND",
        ADM1_PCODE=region.to_numpy(),
        ADM1_FR=region.map(names).to_numpy(),
        ADM2_PCODE=dept.to_numpy(),
        ADM2_FR=dept.map(names).to_numpy(),
        ADM3_PCODE=communes["unit_code"].to_numpy(),
        ADM3_FR=communes["name"].to_numpy(),
    )
    boundaries = folder / "nd_admbnda_adm3.geojson"
    layer.to_file(boundaries, driver="GeoJSON")
    population = folder / "population.csv"
    communes[["unit_code", "name", "population"]].rename(
        columns={"unit_code": "ADM3_PCODE", "name": "ADM3_FR", "population": "T_TL"}
    ).to_csv(population, index=False)
    return {
        "boundaries": boundaries,
        "population": population,
        "generate_seconds": round(generated, 1),
        "regions": int((units["level"] == 0).sum()),
        "departments": int((units["level"] == 1).sum()),
    }


def run(n_communes: int, folder: Path) -> dict:
    """Write the inputs, import them in a child process; measured figures."""
    inputs = write_inputs(folder, n_communes)
    db = folder / "store.sqlite"
    cmd = [
        sys.executable, "-c", CHILD, "import",
        "--database-url", f"sqlite:///{db}",
        "--boundaries", str(inputs["boundaries"]),
        "--population", str(inputs["population"]),
        "--name", f"Bench {n_communes}",
    ]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"import failed ({done.returncode}): {done.stderr[-2000:]}")
    peak_kb = int(done.stderr.rsplit("VmHWM:", 1)[1].split()[0])
    return {
        "communes": n_communes,
        "departments": inputs["departments"],
        "regions": inputs["regions"],
        "geojson_mb": round(inputs["boundaries"].stat().st_size / 1024**2, 1),
        "population_csv_kb": round(inputs["population"].stat().st_size / 1024),
        "generate_seconds": inputs["generate_seconds"],
        "import_seconds": round(seconds, 1),
        "import_peak_rss_mb": round(peak_kb / 1024),
        "store_mb": round(db.stat().st_size / 1024**2, 1),
        "output": done.stdout.strip(),
        "command": "python -m dashapp import --boundaries nd_admbnda_adm3.geojson "
        "--population population.csv",
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--communes", type=int, default=35_000)
    parser.add_argument("--out", default=str(ROOT / "bench/results/import.json"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        result = run(args.communes, Path(tmp))
    result["machine"] = "2 shared cores"
    print(json.dumps(result, indent=2, ensure_ascii=False))
    Path(args.out).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
