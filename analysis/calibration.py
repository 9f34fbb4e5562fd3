"""Calibration against the article's figures by ABC-SMC (pyabc), with replicate checks.

``negsim calibrate SCENARIO --targets seeds/targets.toml`` runs :func:`calibrate`:

1. **ABC-SMC** (pyabc) over the free parameters (:func:`calibration_priors`: the schema's
   calibratable ones minus ``FIXED_IN_CALIBRATION``, uniform priors on their ``prior`` ranges cut
   to [default / zoom, default x zoom]). Each particle is the per-target median of
   ``reps_per_particle`` runs at the scenario's population (seeds from ``seed``); the distance is
   the root mean square of the targets' scaled errors (:func:`sim.targets.distance`), so each
   target weighs by its tolerance. Generation 0 is a sample of the prior (epsilon = infinity);
   later generations take the weighted median distance as epsilon. ``budget`` bounds the
   number of ABC simulations (runs) exactly (a generation never starts with fewer than its
   population left, and never runs more than what is left).
2. **Choice of the calibrated point**: the values before calibration, the posterior's weighted
   median and the best particles of the last generation are each run on the same
   ``select_reps`` seeds; the one whose worst per-target median error is smallest (ties: the
   distance of the medians) is kept: the aim is every target's median within tolerance.
3. **Check**: ``replicates`` runs at the calibrated point (``procs`` processes); the report's
   table gives each target's median and 90% interval and whether the median is within tolerance.

Outputs (written atomically): ``<out>/posterior.parquet``, ``<out>/generations.csv``,
``<out>/replicates.csv``, ``<out>/report.md``, ``<out>/posterior_marginals.png``,
``<out>/curves.png`` and the calibrated scenario (``scenarios/calibrated.toml``).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import math
import multiprocessing
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim import atomic
from sim.errors import ScenarioError
from sim.scenario.schema import Scenario, calibratable_params, get_param, set_param
from sim.targets import Target, distance, errors, modelled

CURVE_COLUMNS = ("day", "displaced_total", "civilian_deaths_cum")


# --- simulation in worker processes ---------------------------------------------------------
@functools.lru_cache(maxsize=4)
def _base(scenario_path: str) -> tuple[Scenario, Any]:
    from sim.model import load_case
    from sim.scenario.loader import load_scenario

    sc = load_scenario(scenario_path)
    return sc, load_case(sc)


def _scenario_with(scenario_path: str, params: Mapping[str, float],
                   population_scale: float | None = None) -> tuple[Scenario, Any]:
    base, world = _base(scenario_path)
    sc = base.model_copy(deep=True)
    object.__setattr__(sc, "_source", getattr(base, "_source", None))
    for path, value in params.items():
        set_param(sc, path, float(value))
    if population_scale is not None:
        sc.world.population_scale = population_scale
    return sc, world


def run_one(scenario_path: str, params: Mapping[str, float], seed: int,
            population_scale: float | None = None, curves: bool = False
            ) -> tuple[dict[str, Any], pd.DataFrame | None]:
    """Run the scenario with ``params`` set and ``seed``; its outcomes (and curves)."""
    from sim.outcomes import summarize
    from sim.run import collect, simulate

    sc, world = _scenario_with(scenario_path, params, population_scale)
    model = simulate(sc, seed, world=world)
    res = collect(model)
    ts = res.timeseries[list(CURVE_COLUMNS)].copy() if curves else None
    return summarize(res.timeseries, res.events), ts


def _run_star(args: tuple) -> tuple[dict[str, Any], pd.DataFrame | None]:
    return run_one(*args)


def run_many(scenario_path: str, params: Mapping[str, float], seeds: Sequence[int],
             procs: int = 1, population_scale: float | None = None, curves: bool = False,
             progress: Callable[[int], None] | None = None
             ) -> list[tuple[dict[str, Any], pd.DataFrame | None]]:
    """Run several seeds at one parameter set, in ``procs`` processes; results in seed order."""
    jobs = [(scenario_path, dict(params), int(s), population_scale, curves) for s in seeds]
    out = []
    if procs <= 1:
        for j in jobs:
            out.append(_run_star(j))
            if progress:
                progress(1)
        return out
    with ProcessPoolExecutor(max_workers=procs, mp_context=_MP) as ex:
        for r in ex.map(_run_star, jobs):
            out.append(r)
            if progress:
                progress(1)
    return out


def _key(path: str) -> str:
    return path.replace(".", "__")


def _path(key: str) -> str:
    return key.replace("__", ".")


# A persistent process pool for the replicates of one particle (created by run_abc, module-level
# so that pyabc never has to pickle it).
#: forkserver, not fork: the calling process may hold threads (pyabc, dask, matplotlib).
_MP = multiprocessing.get_context("forkserver")
_POOL: ProcessPoolExecutor | None = None


@dataclass
class _Simulator:
    """pyabc's model: parameters -> scaled errors of the per-target medians over ``reps`` runs.

    Each particle's ``reps`` seeds are drawn from numpy's global generator, which run_abc seeds
    with ``--seed``: the whole ABC is reproducible; the runs of one particle go to ``_POOL``."""

    scenario_path: str
    targets: list[Target]
    population_scale: float | None
    counter: Callable[[int], None] | None = None
    reps: int = 1
    count: int = 0  # simulations run (reps per particle)

    def __call__(self, pars: Mapping[str, float]) -> dict[str, float]:
        seeds = [int(s) for s in np.random.randint(0, 2**31 - 1, size=self.reps)]
        params = {_path(k): float(v) for k, v in pars.items()}
        jobs = [(self.scenario_path, params, s, self.population_scale, False) for s in seeds]
        if _POOL is not None and self.reps > 1:
            res = list(_POOL.map(_run_star, jobs))
        else:
            res = [_run_star(j) for j in jobs]
        self.count += self.reps
        runs = [o for o, _ in res]
        out = median_outcomes(runs, self.targets) if self.reps > 1 else runs[0]
        e = errors(out, self.targets)
        if self.counter:
            self.counter(self.reps)
        return {"d": distance(out, self.targets), **{f"e_{k}": v for k, v in e.items()}}


def _abc_distance(x: Mapping[str, Any], x0: Mapping[str, Any]) -> float:
    return float(x["d"])


# --- the free parameters and their priors ------------------------------------------------------
#: Calibratable parameters (schema ``prior=``) held at their scenario value by ``negsim calibrate``
#: because the targets cannot tell them apart from a parameter that stays free (docs/ODD.md §8).
FIXED_IN_CALIBRATION: dict[str, str] = {
    "regime.bombardment_capacity": "deaths inform only strikes x lethality: casualties.lethality stays free",
    "regime.ground_capacity": "the pace of capture is carried by regime.k_capture",
    "reconciliation.w_front": "the reconciliation weights only matter relative to theta_mean, which stays free",
    "reconciliation.w_strikes": "relative to theta_mean (as w_front)",
    "reconciliation.w_neigh": "relative to theta_mean (as w_front)",
    "reconciliation.w_bloc": "relative to theta_mean (as w_front)",
    "flight.b_strike": "one displacement figure: flight.b_front and returns.rate stay free",
}


def calibration_priors(zoom: float | None = 2.0,
                       fixed: Mapping[str, str] | None = None) -> dict[str, tuple[float, float]]:
    """Uniform prior ranges of the free parameters: the schema's calibratable parameters minus
    ``fixed``, each prior cut to [v / zoom, v * zoom] around the schema default v (the hand
    calibration, which the prior thus always contains); ``zoom=None`` keeps the schema's range.
    Centred on the defaults, not on the scenario, so a scenario that ``extends`` the calibrated
    file gets the same priors."""
    fixed = FIXED_IN_CALIBRATION if fixed is None else fixed
    sc = Scenario()
    out = {}
    for p, (lo, hi) in calibratable_params().items():
        if p in fixed:
            continue
        v = float(get_param(sc, p))
        if zoom is not None and v > 0:
            lo, hi = max(lo, v / zoom), min(hi, v * zoom)
            if not lo < hi:
                lo, hi = v / zoom, v * zoom
        out[p] = (lo, hi)
    return out


# --- ABC-SMC --------------------------------------------------------------------------------
@dataclass
class AbcResult:
    posterior: pd.DataFrame          # last generation: one row per particle, params + weight + distance
    generations: pd.DataFrame        # t, epsilon, simulations, acceptance, mean distance
    all_particles: pd.DataFrame      # every generation's particles (for the record)
    free: dict[str, tuple[float, float]]
    n_simulations: int
    reps_per_particle: int = 1


def run_abc(scenario_path: str | Path, targets: Sequence[Target], budget: int, seed: int,
            free: Mapping[str, tuple[float, float]] | None = None, population_size: int | None = None,
            population_scale: float | None = None, work_dir: str | Path | None = None,
            progress: Callable[[int], None] | None = None, reps_per_particle: int = 1,
            procs: int = 1) -> AbcResult:
    """ABC-SMC over ``free`` (dotted path -> uniform prior range) within ``budget`` simulations.

    Each particle is the median of ``reps_per_particle`` runs (seeds drawn reproducibly from
    ``seed``), run in ``procs`` processes; ``budget`` counts simulations (runs), not particles."""
    global _POOL
    import pyabc

    free = dict(free if free is not None else calibratable_params())
    if not free:
        raise ScenarioError("no calibratable parameters", field="prior",
                            fix="mark parameters with prior=(lo, hi) in sim/scenario/schema.py")
    k = max(1, int(reps_per_particle))
    evals = budget // k  # particle evaluations the budget allows
    pop = population_size or int(min(100, max(8, evals // 6)))
    if evals < 2 * pop:
        raise ScenarioError(f"--budget {budget} is too small for two generations of {pop} particles "
                            f"of {k} runs each", field="--budget",
                            fix=f"use --budget >= {2 * pop * k} or a smaller --population / --reps-per-particle")
    logging.getLogger("ABC").setLevel(logging.WARNING)
    logging.getLogger("pyabc").setLevel(logging.WARNING)
    np.random.seed(seed)
    prior = pyabc.Distribution(**{_key(k): pyabc.RV("uniform", lo, hi - lo) for k, (lo, hi) in free.items()})
    sim = _Simulator(str(Path(scenario_path).resolve()), list(targets), population_scale, progress, k)
    abc = pyabc.ABCSMC(sim, prior, _abc_distance, population_size=pop,
                       sampler=pyabc.sampler.SingleCoreSampler(check_max_eval=True),
                       eps=pyabc.epsilon.QuantileEpsilon(initial_epsilon=np.inf, alpha=0.5))
    tmp = Path(tempfile.mkdtemp(prefix="negsim-abc-", dir=work_dir))
    if procs > 1 and k > 1:
        _POOL = ProcessPoolExecutor(max_workers=min(procs, k), mp_context=_MP)
    try:
        abc.new(f"sqlite:///{(tmp / 'abc.db').resolve()}", {"d": 0.0})
        while (budget - sim.count) // k >= pop:
            left = (budget - sim.count) // k
            before = abc.history.max_t
            # a generation runs at most `left` simulations (max_eval = pop / min_acceptance_rate);
            # one that cannot fill its population within them stops the ABC
            abc.run(max_nr_populations=1, min_acceptance_rate=min(1.0, pop / left))
            if abc.history.max_t == before:
                break
        used = sim.count
        h = abc.history
        gens = []
        parts = []
        for t in range(h.max_t + 1):
            df, w = h.get_distribution(m=0, t=t)
            d = h.get_weighted_distances(t=t)
            df = df.rename(columns={c: _path(c) for c in df.columns})
            df["weight"] = w
            df["distance"] = d["distance"].to_numpy()
            df.insert(0, "generation", t)
            parts.append(df.reset_index(drop=True))
        allpops = h.get_all_populations()
        allpops = allpops[allpops["t"] >= 0].reset_index(drop=True)
        for _, row in allpops.iterrows():
            t = int(row["t"])
            d = parts[t]
            gens.append({"generation": t, "epsilon": float(row["epsilon"]),
                         "simulations": int(row["samples"]),
                         "acceptance": len(d) / max(int(row["samples"]), 1),
                         "mean_distance": float(np.average(d["distance"], weights=d["weight"])),
                         "median_distance": float(d["distance"].median())})
        all_particles = pd.concat(parts, ignore_index=True)
        gens_df = pd.DataFrame(gens)
        gens_df["simulations"] = gens_df["simulations"] * k  # runs, not particle evaluations
        return AbcResult(parts[-1], gens_df, all_particles, free, used, k)
    finally:
        if _POOL is not None:
            _POOL.shutdown()
            _POOL = None
        shutil.rmtree(tmp, ignore_errors=True)


# --- the calibrated point -------------------------------------------------------------------
def weighted_quantile(x: np.ndarray, w: np.ndarray, q: float) -> float:
    order = np.argsort(x)
    x, w = np.asarray(x)[order], np.asarray(w)[order]
    cw = np.cumsum(w) - 0.5 * w
    cw /= w.sum()
    return float(np.interp(q, cw, x))


def posterior_summary(posterior: pd.DataFrame, free: Mapping[str, tuple[float, float]]) -> pd.DataFrame:
    rows = []
    for p, (lo, hi) in free.items():
        x, w = posterior[p].to_numpy(), posterior["weight"].to_numpy()
        rows.append({"parameter": p, "prior_lo": lo, "prior_hi": hi,
                     "q05": weighted_quantile(x, w, 0.05), "median": weighted_quantile(x, w, 0.5),
                     "q95": weighted_quantile(x, w, 0.95)})
    return pd.DataFrame(rows)


def median_outcomes(runs: Sequence[Mapping[str, Any]], targets: Sequence[Target]) -> dict[str, float]:
    """Per-target median over replicates (a missing event counts as +inf: it never came)."""
    df = pd.DataFrame(list(runs))
    out = {}
    for t in modelled(targets):
        col = df[t.outcome].astype(float)
        if t.never_ok:
            col = col.fillna(math.inf)
        med = float(col.median()) if col.notna().any() else math.nan
        out[t.outcome] = math.nan if (t.never_ok and math.isinf(med)) else med
    return out


def choose_point(scenario_path: str, abc: AbcResult, targets: Sequence[Target], n_candidates: int,
                 reps: int, seeds: Sequence[int], procs: int, population_scale: float | None,
                 progress: Callable[[int], None] | None = None) -> tuple[dict[str, float], pd.DataFrame]:
    """Pick the calibrated parameter set among the values before calibration, the posterior
    median and the best particles of the last generation (``n_candidates`` in all)."""
    summ = posterior_summary(abc.posterior, abc.free)
    base, _ = _base(scenario_path)
    cands: list[tuple[str, dict[str, float]]] = [
        ("values before calibration", {p: float(get_param(base, p)) for p in abc.free}),
        ("posterior median", {r.parameter: float(r.median) for r in summ.itertuples()})]
    best = abc.posterior.sort_values("distance").head(max(n_candidates - 2, 0))
    for i, (_, row) in enumerate(best.iterrows()):
        cands.append((f"particle {i + 1} (distance {row['distance']:.3f})",
                      {p: float(row[p]) for p in abc.free}))
    rows = []
    for label, params in cands:
        runs = [o for o, _ in run_many(scenario_path, params, seeds[:reps], procs, population_scale,
                                       progress=progress)]
        med = median_outcomes(runs, targets)
        rows.append({"candidate": label,
                     "worst_median_error": max(errors(med, targets).values(), default=0.0),
                     "distance_of_medians": distance(med, targets),
                     "mean_distance": float(np.mean([distance(o, targets) for o in runs])),
                     **{f"param:{k}": v for k, v in params.items()}})
    table = pd.DataFrame(rows)
    i = int(table.sort_values(["worst_median_error", "distance_of_medians"]).index[0])
    chosen = {k.removeprefix("param:"): float(v) for k, v in table.loc[i].items() if k.startswith("param:")}
    return chosen, table


# --- outputs --------------------------------------------------------------------------------
def _fmt(x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if isinstance(x, float) and math.isinf(x):
        return "never"
    ax = abs(x)
    if ax >= 1000:
        return f"{x:,.0f}"
    if ax >= 10 or float(x).is_integer():
        return f"{x:.0f}" if float(x).is_integer() or ax >= 100 else f"{x:.1f}"
    return f"{x:.2f}"


def target_table(runs: Sequence[Mapping[str, Any]], targets: Sequence[Target]) -> pd.DataFrame:
    """Per target: article value, model median, 90% interval over replicates, within yes/no."""
    df = pd.DataFrame(list(runs))
    med = median_outcomes(runs, targets)
    rows = []
    for t in targets:
        if not t.modelled:
            rows.append({"target": t.id, "quantity": t.quantity, "line": t.line, "article": t.value,
                         "unit": t.unit, "tolerance": t.describe_tolerance(), "median": math.nan,
                         "q05": math.nan, "q95": math.nan, "within": "not modelled",
                         "share_within": math.nan})
            continue
        col = df[t.outcome].astype(float)
        if t.never_ok:
            col = col.fillna(math.inf)
        share = float(np.mean([t.within(v if not math.isinf(v) else math.nan) for v in col]))
        m = med[t.outcome]
        rows.append({"target": t.id, "quantity": t.quantity, "line": t.line, "article": t.value,
                     "unit": t.unit, "tolerance": t.describe_tolerance(),
                     "median": math.inf if (t.never_ok and math.isnan(m)) else m,
                     "q05": float(col.quantile(0.05)), "q95": float(col.quantile(0.95)),
                     "within": "yes" if t.within(m) else "no", "share_within": share})
    return pd.DataFrame(rows)


def calibrated_toml(point: Mapping[str, float], header: Sequence[str]) -> str:
    """A scenario file (TOML) holding the calibrated values, grouped by table."""
    lines = [f"# {h}" if h else "#" for h in header]
    lines.append('description = "Calibrated parameters (generated by negsim calibrate; do not edit)"')
    groups: dict[str, list[tuple[str, float]]] = {}
    for path in sorted(point):
        g, f = path.split(".")
        groups.setdefault(g, []).append((f, point[path]))
    for g, items in groups.items():
        lines.append("")
        lines.append(f"[{g}]")
        for f, v in items:
            lines.append(f"{f} = {float(f'{v:.4g}')!r}")
    return "\n".join(lines) + "\n"


def rounded(point: Mapping[str, float]) -> dict[str, float]:
    """The values as written to the calibrated scenario (4 significant digits)."""
    return {k: float(f"{v:.4g}") for k, v in point.items()}


def plot_marginals(all_particles: pd.DataFrame, free: Mapping[str, tuple[float, float]],
                   point: Mapping[str, float], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(free)
    ncol = 4
    nrow = math.ceil(len(names) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.2 * ncol, 2.4 * nrow), dpi=120, squeeze=False)
    last = all_particles[all_particles["generation"] == all_particles["generation"].max()]
    for ax, p in zip(axes.flat, names, strict=False):
        lo, hi = free[p]
        bins = np.linspace(lo, hi, 16)
        ax.hist(last[p], bins=bins, weights=last["weight"], density=True, color="#4c72b0", alpha=0.8,
                label="posterior")
        ax.axhline(1.0 / (hi - lo), color="0.4", ls=":", lw=1, label="prior")
        ax.axvline(point[p], color="crimson", lw=1.5, label="calibrated")
        ax.set_title(p, fontsize=8)
        ax.set_xlim(lo, hi)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=6)
    fig.suptitle(f"Posterior marginals (ABC-SMC generation {int(last['generation'].iloc[0])}, "
                 f"{len(last)} particles) over uniform priors", fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_curves(curves: Sequence[pd.DataFrame], targets: Sequence[Target], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    days = curves[0]["day"].to_numpy()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), dpi=130)
    for ax, col, label, scale in ((axes[0], "displaced_total", "displaced persons (thousands)", 1000.0),
                                  (axes[1], "civilian_deaths_cum", "civilian deaths since June 19", 1.0)):
        y = np.vstack([c[col].to_numpy() for c in curves]) / scale
        lo, med, hi = np.percentile(y, [5, 50, 95], axis=0)
        ax.fill_between(days, lo, hi, color="#4c72b0", alpha=0.3, label="90% band over replicates")
        ax.plot(days, med, color="#4c72b0", lw=1.5, label="median")
        for t in targets:
            if t.modelled and t.outcome in (f"{'displaced' if col.startswith('displaced') else 'deaths'}"
                                            "_day16",) and t.day is not None:
                blo, bhi = t.bounds()
                ax.errorbar([t.day], [t.value / scale], yerr=[[(t.value - blo) / scale], [(bhi - t.value) / scale]],
                            fmt="D", color="crimson", capsize=4, label=f"article (line {t.line}) ± tolerance")
        ax.set_xlabel("days since 2018-06-19")
        ax.set_ylabel(label)
        ax.set_xlim(0, min(days[-1], 40))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper left")
    fig.suptitle(f"Calibrated baseline: {len(curves)} replicates", fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _md_table(df: pd.DataFrame) -> str:
    cols = list(df.columns)
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, r in df.iterrows():
        out.append("| " + " | ".join(_fmt(v) if isinstance(v, float) else str(v) for v in r) + " |")
    return "\n".join(out)


@dataclass
class CalibrationOutputs:
    out_dir: Path
    scenario_file: Path
    table: pd.DataFrame
    point: dict[str, float]
    abc: AbcResult
    extra: dict[str, Any] = field(default_factory=dict)


def _atomic_text(path: Path, text: str) -> None:
    atomic.write_text(path, text)


def calibrate(scenario_path: str | Path, targets_path: str | Path, out_dir: str | Path = "calibration",
              scenario_out: str | Path | None = None, budget: int = 400, seed: int = 0,
              population_size: int | None = None, replicates: int = 50, candidates: int = 5,
              select_reps: int = 8, procs: int = 2, population_scale: float | None = None,
              free: Mapping[str, tuple[float, float]] | None = None, quiet: bool = False,
              command: str = "", reps_per_particle: int = 2, prior_zoom: float | None = 2.0
              ) -> CalibrationOutputs:
    """Run the whole calibration and write its outputs (see the module docstring)."""
    from sim.scenario.loader import load_scenario
    from sim.targets import load_targets, scale_counts

    scenario_path = Path(scenario_path)
    sc = load_scenario(scenario_path)  # a bad scenario fails here, before any work
    # Counts of persons compare with a population of the size simulated (as plot curves draws them).
    targets = scale_counts(load_targets(targets_path), population_scale or sc.world.population_scale)
    free = dict(free if free is not None else calibration_priors(prior_zoom))
    scenario_out = Path(scenario_out) if scenario_out else scenario_path.parent / "calibrated.toml"
    out = Path(out_dir)
    spath = str(scenario_path.resolve())
    n_total = budget + max(candidates, 2) * select_reps + replicates
    bar = _progress(n_total, quiet)
    tick = bar.update if bar is not None else None
    t0 = dt.datetime.now(dt.UTC)
    from sim.run import git_commit

    commit = git_commit()  # the code that runs (recorded before any work)
    try:
        abc = run_abc(spath, targets, budget, seed, free, population_size, population_scale, progress=tick,
                      reps_per_particle=reps_per_particle, procs=procs)
        if bar is not None:  # the ABC may stop short of its budget
            bar.n = abc.n_simulations
            bar.refresh()
        rng = np.random.default_rng(seed)
        seeds = [int(s) for s in rng.choice(10**6, size=max(replicates, select_reps), replace=False)]
        point, cand = choose_point(spath, abc, targets, candidates, select_reps, seeds, procs,
                                   population_scale, progress=tick)
        point = rounded(point)
        res = run_many(spath, point, seeds[:replicates], procs, population_scale, curves=True,
                       progress=tick)
    finally:
        if bar is not None:
            bar.close()
    runs = [o for o, _ in res]
    curves = [c for _, c in res if c is not None]
    table = target_table(runs, targets)
    wall = (dt.datetime.now(dt.UTC) - t0).total_seconds()
    summ = posterior_summary(abc.posterior, free)
    summ["calibrated"] = [point[p] for p in summ["parameter"]]
    summ["before"] = [float(get_param(sc, p)) for p in summ["parameter"]]

    # write everything into a temporary folder, then swap it in
    with atomic.folder(out) as tmp:
        abc.all_particles.to_parquet(tmp / "posterior.parquet", index=False)
        abc.generations.to_csv(tmp / "generations.csv", index=False)
        cand.to_csv(tmp / "candidates.csv", index=False)
        rep = pd.DataFrame(runs)
        rep.insert(0, "seed", seeds[:replicates])
        rep.to_csv(tmp / "replicates.csv", index=False)
        plot_marginals(abc.all_particles, free, point, tmp / "posterior_marginals.png")
        plot_curves(curves, targets, tmp / "curves.png")
        report = render_report(command, scenario_path, targets_path, scenario_out, budget, seed, abc,
                               cand, summ, table, replicates, population_scale or sc.world.population_scale,
                               wall, abc.n_simulations + len(cand) * select_reps + replicates,
                               select_reps, commit, prior_zoom)
        (tmp / "report.md").write_text(report, encoding="utf-8")
    header = [f"Calibrated parameters: generated by `{command or 'negsim calibrate'}`",
              f"({dt.date.today().isoformat()}; ABC-SMC, {abc.n_simulations} simulations, seed {seed}).",
              f"Report: {out}/report.md. Do not edit by hand: re-run the command.",
              "A scenario may `extends` this file."]
    _atomic_text(scenario_out, calibrated_toml(point, header))
    return CalibrationOutputs(out, scenario_out, table, point, abc, {"candidates": cand})


def render_report(command: str, scenario_path: Path, targets_path: str | Path, scenario_out: Path,
                  budget: int, seed: int, abc: AbcResult, cand: pd.DataFrame, summ: pd.DataFrame,
                  table: pd.DataFrame, replicates: int, pop_scale: float, wall_s: float,
                  n_total: int, select_reps: int, commit: str | None, prior_zoom: float | None = None) -> str:
    import sim

    n_mod = int((table["within"] != "not modelled").sum())
    n_ok = int((table["within"] == "yes").sum())
    g = abc.generations.copy()
    lines = [
        "# Calibration report",
        "",
        f"Generated by `{command or 'negsim calibrate'}` — not edited by hand.",
        "",
        f"- scenario: `{scenario_path}`; targets: `{targets_path}`; calibrated scenario: `{scenario_out}`",
        f"- code: negsim {sim.__version__}, commit {commit}; seed {seed}; population scale {pop_scale:g}"
        + (f" (the targets that count persons are scaled by {pop_scale:g}: article value x {pop_scale:g})"
           if pop_scale != 1 else ""),
        f"- ABC-SMC (pyabc, uniform priors, distance = RMS of tolerance-scaled errors): budget {budget}, "
        f"{abc.n_simulations} simulations in {len(g)} generations of {len(abc.posterior)} particles; "
        f"each particle is the per-target median of {abc.reps_per_particle} runs (different seeds)",
        f"- free parameters: {len(abc.free)} (the schema's calibratable ones minus "
        f"{', '.join(f'`{p}`' for p in FIXED_IN_CALIBRATION if p not in abc.free) or 'none'}, held at their "
        "scenario values); priors: the schema's prior ranges"
        + (f" cut to [default / {prior_zoom:g}, default x {prior_zoom:g}]" if prior_zoom else ""),
        f"- total simulations {n_total} (ABC, candidate selection, {replicates} replicates); "
        f"wall time {wall_s / 60:.1f} min",
        "",
        f"**{n_ok} of {n_mod} modelled targets have their median within tolerance** over {replicates} "
        "replicates at the calibrated parameters.",
        "",
        "## Targets at the calibrated parameters",
        "",
        f"Median and 90% interval (5th–95th percentile) over {replicates} replicates (different seeds); "
        "*within* says whether the median is within the target's tolerance; *share* is the share of "
        "replicates within it. \"never\" means the event did not happen within the horizon.",
        "",
    ]
    t = table.copy()
    t["90% interval"] = [f"{_fmt(a)} – {_fmt(b)}" if not (isinstance(a, float) and math.isnan(a)) else "n/a"
                         for a, b in zip(t["q05"], t["q95"], strict=True)]
    t["share"] = [f"{s:.0%}" if not math.isnan(s) else "n/a" for s in t["share_within"]]
    t = t[["target", "line", "article", "unit", "tolerance", "median", "90% interval", "within", "share"]]
    t["line"] = t["line"].map(lambda x: "" if x is None or (isinstance(x, float) and math.isnan(x)) else str(int(x)))
    lines += [_md_table(t), "",
              "![displacement and deaths](curves.png)", "",
              "## ABC-SMC generations", "",
              _md_table(g.assign(generation=g["generation"].astype(str), simulations=g["simulations"].astype(str))),
              "",
              "Distances are the root mean square of the targets' scaled errors (1 = the edge of a "
              "two-sided tolerance); generation 0 is the prior; simulations count runs. Each particle's "
              "distance is that of the medians of a few stochastic runs, so it still mixes parameter and "
              "seed luck; the check above is what counts.",
              "",
              "## Parameters", "",
              "Posterior weighted quantiles (last generation), the calibrated value written to the "
              "calibrated scenario, and the value before calibration.", "",
              _md_table(summ.rename(columns={"q05": "posterior 5%", "median": "posterior median",
                                             "q95": "posterior 95%"})),
              "",
              "![posterior marginals](posterior_marginals.png)", "",
              "## Choice of the calibrated point", "",
              f"Each candidate ran on the same {select_reps} seeds; the one with the smallest worst "
              "scaled error of the per-target medians (1 = the edge of a tolerance) was kept, ties "
              "broken by the distance of the medians.", "",
              _md_table(cand[["candidate", "worst_median_error", "distance_of_medians",
                              "mean_distance"]]), "",
              "## Targets not modelled", ""]
    from sim.targets import load_targets

    for tg in load_targets(targets_path):
        if not tg.modelled:
            lines.append(f"- `{tg.id}` (line {tg.line}): {tg.quantity}. {tg.why}")
    lines.append("")
    return "\n".join(lines)


def _progress(total: int, quiet: bool) -> Any:
    if quiet or not sys.stderr.isatty() or os.environ.get("CI"):
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc="calibrate", unit="sim", file=sys.stderr)
