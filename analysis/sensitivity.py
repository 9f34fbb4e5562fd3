"""Global sensitivity of the summary outcomes to the calibratable parameters (SALib).

Two methods:

* ``morris``: elementary-effects screening. ``samples`` trajectories, each of ``D + 1`` runs
  (``D`` parameters); reports mu* (mean absolute effect), its 95% bootstrap interval and sigma
  (non-linearity / interactions).
* ``sobol``: variance-based indices (Saltelli sampling, first and total order, no second
  order). ``samples`` (a power of 2) base points, ``samples * (D + 2)`` runs; reports S1 and ST
  with 95% bootstrap intervals.

Parameters are sampled uniformly over their prior ranges (``calibratable_params()`` in the
schema). Each design point runs ``replicates`` times (``--replicates``); replicate r has the same
seed at every point (common random numbers, seeds from the batch engine), so the indices
measure the parameters' effect, not the seed's, and are computed on each point's mean over its
replicates. Outcomes missing in some runs follow :data:`MISSING_RULE`. Runs go through the
batch engine (``sim.batch``), so a sensitivity analysis resumes after an interruption and can
use Dask; its folder is a batch store.
"""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim import atomic
from sim.errors import ScenarioError
from sim.scenario.schema import calibratable_params

DEFAULT_OUTCOMES = ("displaced_day16", "deaths_day16", "deaths_day60", "peak_displaced",
                    "returned", "towns_reconciled_day15", "first_collapse_day")
#: Outcomes every case has (sim/outcomes.py), when a case lacks the default ones.
GENERIC_OUTCOMES = ("peak_displaced", "deaths_final", "returned", "regime_share_final",
                    "first_collapse_day")
METHODS = ("morris", "sobol")


def problem(params: list[str] | None = None) -> dict[str, Any]:
    """The SALib problem over ``params`` (default: every calibratable parameter)."""
    priors = calibratable_params()
    names = list(params) if params else list(priors)
    unknown = [n for n in names if n not in priors]
    if unknown:
        raise ScenarioError(f"not calibratable parameter(s): {', '.join(unknown)}", field="--params",
                            fix="choose among: " + ", ".join(priors))
    return {"num_vars": len(names), "names": names, "bounds": [list(priors[n]) for n in names]}


def sample(prob: dict[str, Any], method: str, samples: int, seed: int = 0) -> np.ndarray:
    """The design matrix (one row per run) of ``method`` with ``samples`` base samples."""
    if method == "morris":
        from SALib.sample import morris

        if samples < 2:
            raise ScenarioError("Morris needs at least 2 trajectories", field="--samples")
        return morris.sample(prob, samples, num_levels=4, seed=seed)
    if method == "sobol":
        from SALib.sample import sobol

        if samples < 2 or samples & (samples - 1):
            raise ScenarioError(f"Sobol needs --samples a power of 2 (got {samples})", field="--samples",
                                fix="e.g. --samples 8, 16 or 64")
        return sobol.sample(prob, samples, calc_second_order=False, seed=seed)
    raise ScenarioError(f"unknown method '{method}'", field="--method", fix="use morris or sobol")


def analyze(prob: dict[str, Any], method: str, X: np.ndarray, outcomes: pd.DataFrame,
            seed: int = 0) -> tuple[pd.DataFrame, list[str]]:
    """Indices per (outcome, parameter); also the outcomes skipped (NaN in a run, or constant)."""
    rows, skipped = [], []
    for o in outcomes.columns:
        y = outcomes[o].to_numpy(float)
        if np.isnan(y).any() or np.ptp(y) == 0:
            skipped.append(o)
            continue
        if method == "morris":
            from SALib.analyze import morris

            r = morris.analyze(prob, X, y, num_resamples=200, conf_level=0.95, seed=seed)
            for i, n in enumerate(prob["names"]):
                rows.append({"outcome": o, "parameter": n, "mu": float(r["mu"][i]),
                             "mu_star": float(r["mu_star"][i]),
                             "mu_star_conf": float(r["mu_star_conf"][i]), "sigma": float(r["sigma"][i])})
        else:
            from SALib.analyze import sobol

            r = sobol.analyze(prob, y, calc_second_order=False, num_resamples=200, conf_level=0.95,
                              seed=seed)
            for i, n in enumerate(prob["names"]):
                rows.append({"outcome": o, "parameter": n, "S1": float(r["S1"][i]),
                             "S1_conf": float(r["S1_conf"][i]), "ST": float(r["ST"][i]),
                             "ST_conf": float(r["ST_conf"][i])})
    return pd.DataFrame(rows), skipped


# --- running the design ------------------------------------------------------------------------

def _points(prob: dict[str, Any], X: np.ndarray) -> list[dict[str, float]]:
    return [{n: float(v) for n, v in zip(prob["names"], row, strict=True)} for row in X]


def run_points(scenario_file: Path, points: list[dict[str, float]], out: Path, *, seed: int = 0,
               workers: int | None = None, scheduler: str | None = None, progress: bool = False,
               label: str = "sensitivity", replicates: int = 1) -> pd.DataFrame:
    """Run the scenario ``replicates`` times per point, resumably; the runs table in point order.

    Seeds come from the batch engine with common random numbers: replicate r has the seed of
    ``SeedSequence(seed).spawn`` child (r,) at every point, so differences between points are
    the parameters' effect, paired replicate by replicate (one replicate: every run one seed).
    More replicates later grow the same folder (the runs already made are kept).
    """
    from sim.batch.api import run_batch
    from sim.batch.plan import RunSpec, check_plan_size, make_plan, run_id, run_seed
    from sim.batch.store import read_runs_table

    check_plan_size(len(points) * replicates, None, f"{len(points):,} design points x {replicates} replicate(s)")
    plan = make_plan([scenario_file], replicates=replicates, root_seed=seed, common_random_numbers=True)
    name = next(iter(plan.scenarios))
    plan.points = points
    plan.design = label.rsplit("-", 1)[-1]  # type: ignore[assignment]  # morris or sobol: a label here
    plan.samples = len(points)
    plan.sweeps = [f"{label}: {len(points)} points over {', '.join(points[0]) if points else ''}"]
    base = plan.runs[0]
    plan.runs = [RunSpec(run_id(name, i, r), name, base.scenario_file, i, r, run_seed(seed, (r,)), dict(pt))
                 for i, pt in enumerate(points) for r in range(replicates)]
    res = run_batch(plan, out, workers=workers, scheduler=scheduler, progress=progress)
    runs = res.runs if res.runs is not None else read_runs_table(out)
    if res.interrupted:
        from sim.errors import InfrastructureError

        raise InfrastructureError(f"{len(res.interrupted)} run(s) not finished: a worker process died",
                                  file=out, fix="rerun the same command: it resumes")
    return runs.sort_values(["point_id", "replicate"]).reset_index(drop=True)


@functools.cache
def event_day_outcomes() -> frozenset[str]:
    """Outcomes that are the day of an event (of every case of the project): missing (NaN) in a
    run where the event did not happen within the horizon. Read once, on first use (not when the
    module is imported)."""
    from sim.targets import project_outcomes

    return frozenset(name for name, o in project_outcomes().items() if o.event)

#: How outcomes missing in some runs are kept (written to sensitivity.json and the report).
MISSING_RULE = (
    "An event day missing in a run (the event did not happen within the horizon) counts as the "
    "horizon day (right-censored). Any other outcome missing in some replicates of a design point "
    "is the mean of the replicates that have it. An outcome still missing at some design point, "
    "or constant over all points, is left out of the indices and listed with its share of "
    "missing runs.")


def point_outcomes(runs: pd.DataFrame, outcomes: list[str], n_points: int,
                   horizon_days: float) -> tuple[pd.DataFrame, dict[str, float]]:
    """One row per design point: each outcome's mean over the point's replicates, by
    :data:`MISSING_RULE`; and the share of runs in which each outcome was missing."""
    df = runs[["point_id", *outcomes]].copy()
    missing = {o: float(df[o].isna().mean()) for o in outcomes}
    event_days = event_day_outcomes()
    for o in outcomes:
        if o in event_days:
            df[o] = df[o].astype(float).fillna(horizon_days)
    y = df.groupby("point_id")[outcomes].mean().reindex(range(n_points))
    return y.reset_index(drop=True).astype(float), missing


def run_sensitivity(scenario_file: str | Path, out: str | Path, method: str = "morris", samples: int = 4,
                    params: list[str] | None = None, outcomes: list[str] | None = None, seed: int = 0,
                    workers: int | None = None, scheduler: str | None = None,
                    progress: bool = False, replicates: int = 1) -> dict[str, Any]:
    """Sample, run ``replicates`` times per design point (resumably) and analyse the per-point
    means (missing outcomes by :data:`MISSING_RULE`); writes ``indices.csv``,
    ``sensitivity.json`` and ``sensitivity.png/svg``."""
    if method not in METHODS:
        raise ScenarioError(f"unknown method '{method}'", field="--method", fix="use morris or sobol")
    if replicates < 1:
        raise ScenarioError(f"must be at least 1, got {replicates}", field="--replicates")
    scenario_file = Path(scenario_file)
    if not scenario_file.is_file():
        raise ScenarioError("scenario file not found", file=scenario_file,
                            fix="e.g. negsim sensitivity scenarios/baseline.toml --method morris")
    out = Path(out)
    prob = problem(params)
    X = sample(prob, method, samples, seed)
    runs = run_points(scenario_file, _points(prob, X), out, seed=seed, workers=workers,
                      scheduler=scheduler, progress=progress, label=f"sensitivity-{method}",
                      replicates=replicates)
    ok = runs["status"] == "ok"
    if not ok.all():
        bad = runs.loc[~ok, "run_id"].tolist()
        raise ScenarioError(f"{len(bad)} run(s) failed, e.g. {bad[0]}: {runs.loc[~ok, 'error'].iloc[0]}",
                            file=out, fix="fix the cause; rerunning resumes the finished runs")
    outs = list(outcomes or (DEFAULT_OUTCOMES if set(DEFAULT_OUTCOMES) <= set(runs.columns)
                             else GENERIC_OUTCOMES))
    missing = [o for o in outs if o not in runs.columns]
    if missing:
        raise ScenarioError(f"unknown outcome(s): {', '.join(missing)}", field="--outcomes",
                            fix="outcomes of sim.outcomes.summarize, e.g. " + ", ".join(DEFAULT_OUTCOMES))
    from sim.scenario.loader import load_scenario

    horizon = float(load_scenario(scenario_file).time.horizon_days)
    Y, missing_share = point_outcomes(runs, outs, len(X), horizon)
    indices, skipped = analyze(prob, method, X, Y, seed)
    indices.insert(0, "method", method)
    _atomic_csv(indices, out / "indices.csv")
    info = {"method": method, "samples": samples, "replicates": replicates, "runs": len(runs),
            "parameters": prob["names"], "outcomes": [o for o in outs if o not in skipped],
            "skipped_outcomes": skipped, "missing_share": missing_share, "missing_rule": MISSING_RULE,
            "seed": seed, "scenario_file": str(scenario_file)}
    atomic.write_text(out / "sensitivity.json", json.dumps(info, indent=2) + "\n")
    from analysis.figures import save_figure

    files = save_figure(sensitivity_figure(indices, method), out / "sensitivity")
    info["files"] = [str(out / "indices.csv"), *map(str, files)]
    info["indices"] = indices
    return info


def _atomic_csv(df: pd.DataFrame, path: Path) -> None:
    with atomic.writing(path) as tmp:
        df.to_csv(tmp, index=False)


def sensitivity_figure(indices: pd.DataFrame, method: str, top: int = 10) -> Any:
    """Bar chart per outcome: mu* (Morris) or S1 and ST (Sobol) with 95% intervals, top parameters."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    outs = list(dict.fromkeys(indices["outcome"]))
    ncol = min(len(outs), 2) or 1
    nrow = max(math.ceil(len(outs) / ncol), 1)
    fig, axes = plt.subplots(nrow, ncol, figsize=(6 * ncol, 0.28 * top * nrow + 1.1 * nrow + 0.4),
                             squeeze=False)
    for ax, o in zip(axes.flat, outs, strict=False):
        d = indices[indices["outcome"] == o]
        key = "mu_star" if method == "morris" else "ST"
        d = d.sort_values(key, ascending=False).head(top).iloc[::-1]
        y = np.arange(len(d))
        if method == "morris":
            ax.barh(y, d["mu_star"], xerr=d["mu_star_conf"], color="0.55", ec="black", capsize=2,
                    label="mu* (95% CI)")
            ax.plot(d["sigma"], y, "D", color="black", mfc="white", ms=4, label="sigma")
        else:
            ax.barh(y + 0.2, d["ST"], height=0.4, xerr=d["ST_conf"], color="0.35", ec="black", capsize=2,
                    label="total order ST")
            ax.barh(y - 0.2, d["S1"], height=0.4, xerr=d["S1_conf"], color="white", ec="black", hatch="///",
                    capsize=2, label="first order S1")
            ax.axvline(0, color="black", lw=0.6)
        ax.set_yticks(y, d["parameter"], fontsize=7)
        ax.set_title(o.replace("_", " "), fontsize=9)
        ax.grid(alpha=0.3, axis="x")
        ax.tick_params(axis="x", labelsize=7)
    for ax in axes.flat[len(outs):]:
        ax.set_visible(False)
    if outs:
        axes.flat[0].legend(fontsize=7, loc="lower right")
    fig.suptitle(f"Global sensitivity ({method}) of the summary outcomes to the calibratable parameters",
                 fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.4 / fig.get_figheight()))
    return fig
