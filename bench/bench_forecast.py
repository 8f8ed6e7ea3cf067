"""Backtest accuracy of the demand forecasts on the demo data, per level.

For each level (national, region, department, center) every weekly series of
requests per document type is backtested from rolling origins on the last 12 weeks
(see ``data.forecast``), and the MAPE, WAPE and skill against the seasonal naive are
recorded at 4 weeks ahead (and 12), for each model and for the per-series
selection; also the time to compute a level. A risk-model summary (AUC of both
classifiers on the time-based split) is added.

Results are printed and written to ``bench/results/forecast.json``::

    .venv/bin/python bench/bench_forecast.py [--seed 42] [--communes 400]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dashapp.bootstrap import ensure_store  # noqa: E402
from data import forecast as fc  # noqa: E402
from data import risk  # noqa: E402
from data.store import Store  # noqa: E402

OUT = ROOT / "bench" / "results" / "forecast.json"
STEPS = (4, 12)


def _accuracy(result: fc.LevelForecast, step: int) -> dict:
    acc = result.accuracy(step)
    return {
        name: {
            "mape_pct": round(float(r["mape"]), 2),
            "wape_pct": round(float(r["wape"]), 2),
            "skill_vs_seasonal_naive_pct": round(float(r["skill"]), 2),
            "n_forecasts": int(r["n"]),
        }
        for name, r in acc.iterrows()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--communes", type=int, default=400)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'bench.sqlite'}")
        info = ensure_store(store, args.seed, args.communes)
        levels = {}
        for level in fc.level_codes(store, info.id):
            started = time.perf_counter()
            result = fc.forecast_level(store, info.id, level)
            seconds = time.perf_counter() - started
            chosen = result.chosen(4)
            models = dict.fromkeys(fc.MODELS, 0)
            for index in chosen:
                models[fc.MODELS[index]] += 1
            levels[level] = {
                "n_series": len(result.panel.keys),
                "seconds": round(seconds, 2),
                "models_chosen_at_4_weeks": models,
                **{f"step_{s}": _accuracy(result, s) for s in STEPS},
            }
            h4 = levels[level]["step_4"]["selected"]
            print(
                f"{level:<11} {len(result.panel.keys):>4} series {seconds:5.1f} s  "
                f"4 weeks ahead: MAPE {h4['mape_pct']:.1f}%  WAPE {h4['wape_pct']:.1f}%"
                f"  skill {h4['skill_vs_seasonal_naive_pct']:+.1f}%"
            )
        started = time.perf_counter()
        frame = risk.center_weeks(store, info.id)
        risks = {}
        for target in risk.TARGETS:
            report = risk.fit_risk(frame, target)
            risks[target] = {
                "auc": {k: round(m.auc, 3) for k, m in report.models.items()},
                "positive_share_test": round(report.positive_test, 3),
                "top_feature": {
                    k: m.importance.index[0] for k, m in report.models.items()
                },
            }
        risks["seconds_both_targets"] = round(time.perf_counter() - started, 2)
        store.engine.dispose()
    result = {
        "what": "rolling-origin backtest on the last 12 weeks of the demo data; "
        "'selected' is the per-series model chosen from errors realised before "
        "each origin",
        "dataset": {"seed": args.seed, "communes": args.communes, "weeks": 156},
        "machine": {"python": platform.python_version(), "cpu": platform.machine()},
        "levels": levels,
        "risk": risks,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"written to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
