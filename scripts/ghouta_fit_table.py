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

from analysis.reachability import (  # noqa: E402
    median_within_chance,
    poisson_median_within_chance,
    target_values,
)
from sim.targets import load_targets  # noqa: E402

FORECAST = ("talks_open_day_douma", "talks_open_day_faylaq", "talks_open_day_harasta",
            "deal_day_douma", "deal_day_faylaq", "deal_day_harasta", "first_evacuation_day",
            "evacuated", "arrived_government", "in_government_areas_final", "deaths_final",
            "regime_share_final", "pockets_day21", "collapses", "sheltering_peak")


def fmt(v: float) -> str:
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else (
        f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}")


def chance(p: float, n_boot: int) -> str:
    """A bootstrap chance as a percentage; one never seen as "< 1 in n_boot"."""
    return f"< 1 in {n_boot:,}" if p == 0 else f"{p:.2%}" if p < 0.01 else f"{p:.0%}"


def reachability(targets: list, values: np.ndarray) -> None:
    """How much of the criterion is luck: bootstrap chances (analysis/reachability.py) that the
    median of as many runs is within each range, for the model as run, for an ideal model with
    the same spread centred on every range, and for a Poisson count centred there."""
    bounds = [t.bounds() for t in targets]
    run = median_within_chance(values, bounds)
    ideal = median_within_chance(values, bounds, centred=True)
    floor = [poisson_median_within_chance(lo, hi, run.n) if t.unit == "persons" else math.nan
             for t, (lo, hi) in zip(targets, bounds, strict=True)]
    print(f"How reachable is \"every median within range\"? A bootstrap over these runs "
          f"({run.n_boot:,} resamples of {run.n} whole runs): the chance that the median of "
          f"{run.n} runs is within each range, for the model as run, and for an ideal model "
          "with the same run-to-run spread whose median sits on the middle of every range; for "
          "the counts, also for a count of independent rare events centred there (Poisson: how "
          "much deaths among 400,000 people vary unless something makes them regular). "
          "analysis/reachability.py.\n")
    print("| target | day | range width | as run | ideal, centred | Poisson floor, centred |")
    print("|---|---|---|---|---|---|")
    for t, (lo, hi), p, q, f in zip(targets, bounds, run.per_target, ideal.per_target, floor,
                                    strict=True):
        print(f"| {t.series} | {t.day:g} | {fmt(hi - lo)} | {chance(p, run.n_boot)} | "
              f"{chance(q, ideal.n_boot)} | {'–' if math.isnan(f) else chance(f, 100_000)} |")
    print(f"| **all at once** | | | **{chance(run.joint, run.n_boot)}** | "
          f"**{chance(ideal.joint, ideal.n_boot)}** (product of the rows: "
          f"{float(np.prod(ideal.per_target)):.1g}) | |\n")


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
    values = target_values(ts, targets)
    for t, vals in zip(targets, values.T, strict=True):
        med = float(np.median(vals))
        lo, hi = t.bounds()
        ok = lo - 1e-9 <= med <= hi + 1e-9
        within += ok
        print(f"| {t.series} | {t.day:g} | {fmt(lo)}–{fmt(hi)} | {fmt(med)} "
              f"[{fmt(float(np.percentile(vals, 5)))}–{fmt(float(np.percentile(vals, 95)))}] | "
              f"{'yes' if ok else 'no'} |")
    print(f"\n**{within} of {len(targets)} targets' medians within range.**\n")
    reachability(targets, values)
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
