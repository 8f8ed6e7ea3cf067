"""Benchmark of name matching with suggestions for unmatched names.

A census table of 31,000 commune names is joined by name to 31,000 units; 1,000 of
its names are misspelt so that they match no unit and each gets the closest unit
names as suggestions. ``data.importers.names.match_names`` (rapidfuzz) runs the whole
join; difflib's ``get_close_matches``, which it replaced, is timed on a sample of the
unmatched names and extrapolated (it takes about a second per name at this size).

Run: ``.venv/bin/python bench/bench_name_match.py [--units 31000] [--unmatched 1000]
[--difflib-sample 20] [--out FILE]``. Results are printed and written to
``bench/results/name_match.json``.
"""

from __future__ import annotations

import argparse
import difflib
import json
import platform
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from data.importers.names import match_names, normalise, suggest  # noqa: E402

CONSONANTS = ("b", "d", "f", "g", "k", "l", "m", "n", "r", "s", "t", "w", "y", "z")
VOWELS = ("a", "e", "i", "o", "ou")
SYLLABLES = tuple(c + v for c in CONSONANTS for v in VOWELS) + ("n'd", "m'b")
PREFIXES = ("", "", "", "Saint-", "Grand-", "Petit-", "Sainte-", "Nouveau-")


def unit_names(n: int, rng: random.Random) -> list[str]:
    """``n`` distinct place-like names (2 to 4 syllables, some with a prefix)."""
    names: set[str] = set()
    while len(names) < n:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
        names.add(rng.choice(PREFIXES) + word.capitalize())
    return sorted(names)


def misspell(name: str, rng: random.Random, taken: set[str]) -> str:
    """A variant of ``name`` (two letters changed) that normalises to no unit name."""
    while True:
        chars = list(name)
        for _ in range(2):
            i = rng.randrange(len(chars))
            chars[i] = rng.choice("aeioukmnrst")
        variant = "".join(chars)
        if normalise(variant) not in taken:
            return variant


def run(n_units: int, n_unmatched: int, sample: int, seed: int = 12) -> dict:
    rng = random.Random(seed)
    units = unit_names(n_units, rng)
    keys = {normalise(n) for n in units}
    table = list(units)
    bad = rng.sample(range(n_units), n_unmatched)
    for i in bad:
        table[i] = misspell(units[i], rng, keys)

    started = time.perf_counter()
    found = match_names(table, units)
    total = time.perf_counter() - started
    assert len(found.unmatched) == n_unmatched, len(found.unmatched)
    with_suggestion = sum(1 for _, _, close in found.unmatched if close)
    truth_first = sum(
        1
        for pos, _, close in found.unmatched
        if close and normalise(close[0]) == normalise(units[pos])
    )

    choices = sorted(keys)
    queries = [normalise(table[i]) for i in bad[:sample]]
    started = time.perf_counter()
    by_difflib = [
        difflib.get_close_matches(q, choices, n=3, cutoff=0.75) for q in queries
    ]
    difflib_per_name = (time.perf_counter() - started) / max(len(queries), 1)
    started = time.perf_counter()
    by_rapidfuzz = [suggest(q, choices) for q in queries]
    rapidfuzz_per_name = (time.perf_counter() - started) / max(len(queries), 1)
    same_first = sum(
        1 for a, b in zip(by_difflib, by_rapidfuzz, strict=True) if a[:1] == b[:1]
    )
    return {
        "units": n_units,
        "table_rows": n_units,
        "unmatched": n_unmatched,
        "match_names_seconds": round(total, 3),
        "unmatched_with_suggestion": with_suggestion,
        "true_name_suggested_first": truth_first,
        "rapidfuzz_ms_per_unmatched_name": round(rapidfuzz_per_name * 1000, 3),
        "difflib_sample": len(queries),
        "difflib_ms_per_unmatched_name": round(difflib_per_name * 1000, 1),
        "difflib_extrapolated_seconds": round(difflib_per_name * n_unmatched, 1),
        "speedup_per_name": round(difflib_per_name / max(rapidfuzz_per_name, 1e-9)),
        "same_first_suggestion_on_sample": same_first,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=31_000)
    parser.add_argument("--unmatched", type=int, default=1_000)
    parser.add_argument("--difflib-sample", type=int, default=20)
    parser.add_argument(
        "--out", type=Path, default=ROOT / "bench" / "results" / "name_match.json"
    )
    args = parser.parse_args()
    result = run(args.units, args.unmatched, args.difflib_sample)
    text = json.dumps(result, indent=2)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
