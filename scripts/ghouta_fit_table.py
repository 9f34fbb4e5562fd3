"""Eastern Ghouta's fit and forecast from a batch of its baseline (markdown on stdout).

    .venv/bin/python scripts/ghouta_fit_table.py batches/cases/ghouta20 > docs/cases/ghouta_fit.md

For every target of seeds/ghouta2018/targets.toml (deaths and the government's share of the
enclave to day 28): the median over the batch's runs on its day, the 5th-95th percentiles and
whether the median is within the target's range; then the forecast outcomes of the talks (the
case's declared outcomes and the generic ones), as median [5%-95%] with the share of runs in
which the event happened.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.outcomes import value_at  # noqa: E402
from sim.targets import load_targets  # noqa: E402

FORECAST = ("talks_open_day_douma", "talks_open_day_faylaq", "talks_open_day_harasta",
            "deal_day_douma", "deal_day_faylaq", "deal_day_harasta", "first_evacuation_day",
            "evacuated", "arrived_government", "in_government_areas_final", "deaths_final",
            "regime_share_final", "pockets_day21", "collapses", "sheltering_peak")


def fmt(v: float) -> str:
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else (
        f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}")


def main(batch: Path) -> None:
    targets = load_targets(ROOT / "seeds" / "ghouta2018" / "targets.toml")
    ts = pd.read_parquet(batch / "timeseries")
    runs = pd.read_parquet(batch / "runs.parquet")
    runs = runs[runs["status"] == "ok"]
    n = runs["run_id"].nunique()
    print(f"Eastern Ghouta baseline: {n} runs of `{batch}` (seeds from --seed 2018).\n")
    print("| target | day | range | model median [5%–95%] | median within |")
    print("|---|---|---|---|---|")
    within = 0
    for t in targets:
        vals = np.array([value_at(g.sort_values("day"), t.series, t.day)
                         for _, g in ts.groupby("run_id")])
        med = float(np.median(vals))
        lo, hi = t.bounds()
        ok = lo - 1e-9 <= med <= hi + 1e-9
        within += ok
        print(f"| {t.series} | {t.day:g} | {fmt(lo)}–{fmt(hi)} | {fmt(med)} "
              f"[{fmt(float(np.percentile(vals, 5)))}–{fmt(float(np.percentile(vals, 95)))}] | "
              f"{'yes' if ok else 'no'} |")
    print(f"\n**{within} of {len(targets)} targets' medians within range.**\n")
    print("Forecast (not in the inputs; not tuned to anything):\n")
    print("| outcome | median [5%–95%] | runs in which it happened |")
    print("|---|---|---|")
    for o in FORECAST:
        if o not in runs:
            continue
        v = runs[o].astype(float)
        ok = v.dropna()
        cell = (f"{fmt(float(ok.median()))} [{fmt(float(ok.quantile(0.05)))}–"
                f"{fmt(float(ok.quantile(0.95)))}]") if len(ok) else "never"
        print(f"| {o} | {cell} | {len(ok)} of {len(v)} |")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
