"""The exploratory search behind the hand calibration (the schema defaults the ABC's priors are
centred on; docs/ODD.md §8), on issue 12's own criteria. Not the calibration: `negsim calibrate`
is; this finds where to centre its priors.

    .venv/bin/python scripts/search_defaults.py scenarios/baseline.toml OUT.json \\
        [--init PREV.json] [--generations 20] [--sigma 0.08] [--seeds 41,42,43,44,45,46] \\
        [--widen-low 0.92 --widen-high 1.08] [--ard-target 0.13] [--free regime.surge_factor=1:4]

An elitist population search over the calibration's free parameters
(`analysis.calibration.calibration_priors`, in unit coordinates of their priors, plus any
`--free PATH=LO:HI`): each generation draws 36 points around the mean of the last generation's 8
best (normal steps of `--sigma`, shrinking by 0.88 a generation), runs each on the same
`--seeds` at full population to day 22, and keeps the 8 best of the new points and the old
elite. A point's loss, from the medians over its runs:

- each dated point of seeds/record.toml: the squared distance outside its range widened to
  [low x widen-low, high x widen-high], over the widened half-width (0 inside), plus 0.5 for
  each point short of 18 (issue 12's 80% of 22);
- each event day of the record: (scaled error - 1)^2 when outside its tolerance;
- each modelled figure of seeds/targets.toml: 10 (scaled error - 1)^2 when outside its
  tolerance, plus 3;
- 2000 (ARD - ard-target)^2 when the displaced-total ARD is above `--ard-target`.

Writes OUT.json after every generation: `mean` (the elite's mean: the defaults to take),
`best` (the best point), `names` and the loss history. Every target read is dated on or before
the article's date (5 July 2018).

The third session's defaults came from a chain of four runs, each starting from the previous
one's result, each over the calibration's priors of the time (centred on the second session's
defaults, so a re-run today searches another box): (1) `--free regime.surge_factor=1:4` on the
baseline with the 27-28 June surge (days 8-9), seeds 11-14, 14 generations, sigma 0.12, the ARD
term 200 (ARD - 0.15)^2, the article's figures weighing 2 (scaled error - 1)^2 and no fixed
penalty; (2) the same from (1)'s mean, seeds 21-24, 20 generations, sigma 0.08, the article's
figures weighing 10 (scaled error - 1)^2 and the ARD term 2000 (ARD - 0.14)^2; (3) the same from
(2)'s mean with the fixed penalty of 3 per article figure missed, seeds 31-34 (its best had the
surge factor at 1.02); (4) this script's defaults on the baseline without the surge, from (3)'s
best less the surge factor (`docs/research/hand_calibration/start.json`), 20 generations,
`--sigma 0.06 --widen-low 0.92 --widen-high 1.08 --ard-target 0.13`: its output is
`docs/research/hand_calibration/search.json`, whose elite mean, rounded to three digits, is the
schema default.
"""

from __future__ import annotations

import argparse
import json
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.calibrate_cli import parse_free
from analysis.calibration import calibration_priors, run_many
from sim.batch.executors import LocalExecutor
from sim.scenario.loader import load_scenario
from sim.scenario.schema import get_param
from sim.targets import Target, load_targets, modelled

ROOT = Path(__file__).resolve().parent.parent
POP, ELITE, SHRINK, HORIZON = 36, 8, 0.88, 22.0


def loss(runs: pd.DataFrame, record: list[Target], article: list[Target], widen: tuple[float, float],
         ard_target: float) -> tuple[float, int, float]:
    """The search's loss of one point (module docstring), the number of record points within
    their widened range and the displaced-total ARD."""
    total, inside, ard = 0.0, 0, []
    for t in record:
        m = float(runs[t.outcome].median())
        if t.series is not None:
            lo, hi = t.bounds()
            wl, wh = lo * widen[0], hi * widen[1]
            excess = max(0.0, wl - m, m - wh) / ((wh - wl) / 2)
            total += excess ** 2
            inside += excess == 0
            if t.series == "displaced_total":
                ard.append(abs(m - t.value) / t.value)
        else:
            e = t.error(m) if np.isfinite(m) else 5.0
            total += max(0.0, e - 1.0) ** 2
    for t in article:
        m = float(runs[t.outcome].median()) if t.outcome in runs else float("nan")
        e = t.error(m) if np.isfinite(m) else 5.0
        total += 10 * max(0.0, e - 1.0) ** 2 + (3.0 if not (np.isfinite(m) and t.within(m)) else 0.0)
    a = float(np.mean(ard))
    total += 2000 * max(0.0, a - ard_target) ** 2 + 0.5 * max(0, 18 - inside)
    return total, inside, a


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scenario")
    ap.add_argument("out", type=Path)
    ap.add_argument("--init", type=Path,
                    help="start from this earlier output's --init-key (default: the scenario's values)")
    ap.add_argument("--init-key", default="mean", choices=("mean", "best"))
    ap.add_argument("--generations", type=int, default=20)
    ap.add_argument("--sigma", type=float, default=0.08)
    ap.add_argument("--seeds", default="41,42,43,44,45,46")
    ap.add_argument("--widen-low", type=float, default=0.9)
    ap.add_argument("--widen-high", type=float, default=1.1)
    ap.add_argument("--ard-target", type=float, default=0.14)
    ap.add_argument("--free", action="append", default=[], metavar="PATH=LO:HI")
    ap.add_argument("--rng", type=int, default=7, help="seed of the search's own draws")
    args = ap.parse_args()

    free = dict(calibration_priors())
    for spec in args.free:  # as `negsim calibrate --free` (checked against the schema)
        free.update(parse_free(spec))
    names = list(free)
    lo = np.array([free[k][0] for k in names])
    hi = np.array([free[k][1] for k in names])
    record = load_targets(ROOT / "seeds" / "record.toml")
    article = modelled(load_targets(ROOT / "seeds" / "targets.toml"))
    sc = load_scenario(args.scenario)  # the starting point when there is no --init
    start: dict[str, Any] = json.loads(args.init.read_text())[args.init_key] if args.init else {}
    x0 = np.clip([(float(start.get(k, get_param(sc, k))) - lo[i]) / (hi[i] - lo[i])
                  for i, k in enumerate(names)], 0, 1)
    seeds = [int(s) for s in args.seeds.split(",")]
    rng = np.random.default_rng(args.rng)
    widen = (args.widen_low, args.widen_high)

    def values(u: np.ndarray) -> dict[str, float]:
        return {k: float(lo[i] + u[i] * (hi[i] - lo[i])) for i, k in enumerate(names)}

    def evaluate(ex: LocalExecutor, u: np.ndarray) -> tuple[float, int, float]:
        res = run_many(args.scenario, values(u), seeds, executor=ex, horizon_days=HORIZON,
                       targets=record + article)
        return loss(pd.DataFrame([r[0] for r in res]), record, article, widen, args.ard_target)

    history = []
    sigma = args.sigma
    with closing(LocalExecutor(workers=2)) as ex:
        l0, n0, a0 = evaluate(ex, x0)
        print(f"start: loss {l0:.3f}, {n0} of 22 within, ARD {a0:.3f}", flush=True)
        elite: list[tuple[float, np.ndarray]] = [(l0, x0)]
        mean = x0.copy()
        for g in range(args.generations):
            t0 = time.time()
            cand = []
            for _ in range(POP):
                u = np.clip(mean + sigma * rng.standard_normal(len(names)), 0, 1)
                lv, n, a = evaluate(ex, u)
                cand.append((lv, u, n, a))
            pool = sorted(cand + [(lv, u, -1, -1.0) for lv, u in elite], key=lambda c: c[0])
            elite = [(c[0], c[1]) for c in pool[:ELITE]]
            mean = np.mean([u for _, u in elite], axis=0)
            sigma *= SHRINK
            best = pool[0]
            print(f"generation {g}: best loss {best[0]:.3f}, elite mean loss "
                  f"{np.mean([lv for lv, _ in elite]):.3f} ({time.time() - t0:.0f} s)", flush=True)
            history.append({"generation": g, "best": best[0]})
            tmp = args.out.with_suffix(".tmp")
            tmp.write_text(json.dumps({"names": names, "mean": values(mean), "best": values(best[1]),
                                       "history": history}, indent=1))
            tmp.replace(args.out)


if __name__ == "__main__":
    main()
