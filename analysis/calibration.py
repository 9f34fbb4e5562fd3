"""Calibration against the article's figures and the public record by ABC-SMC (pyabc).

``negsim calibrate SCENARIO --targets seeds/targets.toml --targets seeds/record.toml`` runs
:func:`calibrate`:

1. **ABC-SMC** (pyabc) over the free parameters (:func:`calibration_priors`: the schema's
   calibratable ones minus ``FIXED_IN_CALIBRATION``, uniform priors on their ``prior`` ranges cut
   to [default / zoom, default x zoom], or for a utility or weight (a prior reaching below 0) to
   a window of the prior's width / zoom centred on the default). Each particle is the per-target median of
   ``reps_per_particle`` runs at the scenario's population (seeds from ``seed``), each run up to
   the calibration horizon (:func:`calibration_horizon`: the last day the targets need, plus a
   day); the distance is the root mean square of the targets' scaled errors
   (:func:`sim.targets.distance`), each target weighing by its tolerance or range and each
   targets file weighing equally. Generation 0 is a sample of the prior (epsilon = infinity);
   later generations take the weighted median distance as epsilon. ``budget`` bounds the
   number of ABC simulations (runs) exactly (a generation never starts with fewer than its
   population left, and never runs more than what is left).
   Particles are numbered jobs on the batch engine's executors (``sim.batch.executors``: local
   processes or Dask): job k of generation t seeds numpy's global generator from
   ``SeedSequence([seed, t, k])`` and runs pyabc's ``simulate_one`` (shipped with cloudpickle);
   results are taken in job order up to the generation's n-th accepted particle, so the
   posterior is the same on any executor and any number of workers.
2. **Choice of the calibrated point**: the values before calibration, the posterior's weighted
   median and the best particles of the last generation are each run on the same
   ``select_reps`` seeds (at the calibration horizon); the one whose worst per-target median
   error is smallest (ties: the distance of the medians) is kept: the aim is every target's
   median within tolerance.
3. **Check**: ``replicates`` runs at the calibrated point over the scenario's whole horizon; the
   report's tables give each target's median and 90% interval and whether the median is within
   tolerance, and for the record its dated points (within the range, within it ±10%), the
   displaced-total ARD and the event days.

Outputs (written atomically): ``<out>/posterior.parquet``, ``<out>/generations.csv``,
``<out>/candidates.csv``, ``<out>/replicates.csv``, ``<out>/targets.csv``, ``<out>/report.md``,
``<out>/posterior_marginals.png``, ``<out>/curves.png``, ``<out>/record.png`` (when the targets
hold series points) and the calibrated scenario (``scenarios/calibrated.toml``).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import itertools
import json
import logging
import math
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim import atomic
from sim.errors import ScenarioError
from sim.scenario.schema import Scenario, calibratable_params, get_param, set_param
from sim.targets import Target, distance, errors, modelled

if TYPE_CHECKING:
    from sim.batch.executors import Executor

#: Timeseries columns kept for the report's curves (plus every series a target names).
CURVE_COLUMNS = ("day", "displaced_total", "civilian_deaths_cum")
#: Days a calibration run goes past the last day its targets need (``--horizon-days`` default).
HORIZON_MARGIN_DAYS = 1.0


# --- simulation in worker processes ---------------------------------------------------------
@functools.lru_cache(maxsize=4)
def _base(scenario_path: str) -> tuple[Scenario, Any]:
    from sim.model import load_case
    from sim.scenario.loader import load_scenario

    sc = load_scenario(scenario_path)
    return sc, load_case(sc)


def _scenario_with(scenario_path: str, params: Mapping[str, float],
                   population_scale: float | None = None,
                   horizon_days: float | None = None) -> tuple[Scenario, Any]:
    base, world = _base(scenario_path)
    sc = base.model_copy(deep=True)
    object.__setattr__(sc, "_source", getattr(base, "_source", None))
    for path, value in params.items():
        set_param(sc, path, float(value))
    if population_scale is not None:
        sc.world.population_scale = population_scale
    if horizon_days is not None:
        # interventions after a shortened horizon simply never happen in the run
        sc.time.horizon_days = float(horizon_days)
    return sc, world


def curve_columns(targets: Sequence[Target]) -> list[str]:
    """The report's curve columns: displacement, deaths and every series a target names."""
    cols = list(CURVE_COLUMNS)
    for t in targets:
        if t.series is not None and t.series not in cols:
            cols.append(t.series)
    return cols


def run_one(scenario_path: str, params: Mapping[str, float], seed: int,
            population_scale: float | None = None, curves: bool = False,
            horizon_days: float | None = None, targets: Sequence[Target] = ()
            ) -> tuple[dict[str, Any], pd.DataFrame | None]:
    """Run the scenario with ``params`` set and ``seed`` (up to ``horizon_days`` if given); its
    observations (summary outcomes and the targets' series values) and, with ``curves``, the
    curve columns of its time series."""
    from sim.batch.worker import simulate_tables
    from sim.targets import series_values

    sc, world = _scenario_with(scenario_path, params, population_scale, horizon_days)
    ts, outcomes = simulate_tables(sc, seed, world=world)  # as a batch run: no per-town table
    obs = {**outcomes, **series_values(ts, targets)}
    return obs, (ts[curve_columns(targets)].copy() if curves else None)


@dataclass(frozen=True)
class RunJob:
    """One run of the candidate choice or the replicate check (sent to an executor)."""

    scenario_path: str
    params: dict[str, float]
    seed: int
    population_scale: float | None = None
    curves: bool = False
    horizon_days: float | None = None
    targets: tuple[Target, ...] = ()


def run_job(job: RunJob) -> tuple[dict[str, Any], pd.DataFrame | None]:
    """Execute a :class:`RunJob` (a module-level function: executors pickle it)."""
    return run_one(job.scenario_path, job.params, job.seed, job.population_scale, job.curves,
                   job.horizon_days, job.targets)


def run_many(scenario_path: str, params: Mapping[str, float], seeds: Sequence[int],
             executor: Executor | None = None, population_scale: float | None = None,
             curves: bool = False, progress: Callable[[int], None] | None = None,
             horizon_days: float | None = None, targets: Sequence[Target] = ()
             ) -> list[tuple[dict[str, Any], pd.DataFrame | None]]:
    """Run several seeds at one parameter set on ``executor`` (in this process if None);
    results in seed order."""
    jobs = [RunJob(scenario_path, dict(params), int(s), population_scale, curves, horizon_days,
                   tuple(targets)) for s in seeds]
    results = executor.map_ordered(run_job, jobs) if executor is not None else map(run_job, jobs)
    out = []
    for r in results:
        out.append(r)
        if progress:
            progress(1)
    return out


def _key(path: str) -> str:
    return path.replace(".", "__")


def _path(key: str) -> str:
    return key.replace("__", ".")


@dataclass
class _Simulator:
    """pyabc's model: parameters -> scaled errors of the per-target medians over ``reps`` runs.

    Runs inside an ABC job (:func:`abc_job`), which has seeded numpy's global generator for
    that job: the ``reps`` seeds are drawn from it, so a particle depends only on (``--seed``,
    generation, job number). The runs of one particle run one after another in the job's
    worker; particles run in parallel."""

    scenario_path: str
    targets: list[Target]
    population_scale: float | None
    reps: int = 1
    horizon_days: float | None = None
    #: the free parameters' prior ranges: pyabc samples each in the unit interval (see run_abc)
    free: dict[str, tuple[float, float]] = field(default_factory=dict)

    def __call__(self, pars: Mapping[str, float]) -> dict[str, float]:
        # pyabc draws from numpy's global generator, seeded per job: the runs' seeds come from it too
        seeds = [int(s) for s in np.random.randint(0, 2**31 - 1, size=self.reps)]  # noqa: NPY002
        _release_rng()  # the job's random draws are done: other threads of a worker may go on
        params = from_unit({_path(k): float(v) for k, v in pars.items()}, self.free)
        runs = [run_one(self.scenario_path, params, s, self.population_scale,
                        horizon_days=self.horizon_days, targets=self.targets)[0] for s in seeds]
        out = median_outcomes(runs, self.targets) if self.reps > 1 else runs[0]
        e = errors(out, self.targets)
        return {"d": distance(out, self.targets), **{f"e_{k}": v for k, v in e.items()}}


#: Floor of the ABC kernel's standard deviation, in units of a free parameter's prior range
#: (the ABC samples each on [0, 1]): 0.5% of the range.
KERNEL_MIN_SD = 0.005


def _scale_free_transition() -> Any:
    """pyabc's Gaussian kernel transition with its density divided by its peak value.

    A particle's importance weight is its prior density over the kernel density; a constant
    factor common to a whole generation changes no normalised weight. But in 17 dimensions the
    kernel's normalised density reaches 1e30 and more as the population contracts, and the
    weights under- and overflowed to NaN; divided by its peak (a constant per generation) the
    density stays within [0, 1] per particle. The kernel's covariance also gets a floor of
    ``KERNEL_MIN_SD`` (in units of each prior's range) on its diagonal: a generation whose weights
    concentrate on a few particles otherwise gives a singular covariance, under which a proposal
    off its support has density 0 and an infinite weight."""
    import pyabc
    import scipy.stats as st

    class ScaleFreeTransition(pyabc.MultivariateNormalTransition):
        cov: np.ndarray

        def fit(self, X: Any, w: np.ndarray) -> None:
            super().fit(X, w)
            self.cov = self.cov + np.eye(self.cov.shape[0]) * KERNEL_MIN_SD ** 2
            self.normal = st.multivariate_normal(cov=self.cov)
            self._log_peak = float(self.normal.logpdf(np.zeros(self.cov.shape[0])))

        def _pdf_single(self, x: np.ndarray) -> float:
            dens = np.exp(np.atleast_1d(self.normal.logpdf(x - self._X_arr)) - self._log_peak)
            return float((dens * self.w).sum())

    return ScaleFreeTransition()


def from_unit(u: Mapping[str, float], free: Mapping[str, tuple[float, float]]) -> dict[str, float]:
    """Parameter values from their positions in the unit interval of their prior ranges.

    The ABC samples every free parameter on [0, 1] (a uniform prior there is the uniform prior on
    [lo, hi]): pyabc's multivariate normal transition and its density ratios then work on
    comparable scales (parameters span 1e-4 to 1e2 in their own units, which made the kernel's
    densities underflow and the importance weights NaN with 25 free parameters)."""
    return {p: free[p][0] + float(x) * (free[p][1] - free[p][0]) for p, x in u.items()}


def _abc_distance(x: Mapping[str, Any], x0: Mapping[str, Any]) -> float:
    return float(x["d"])


# --- ABC jobs on the batch engine's executors ----------------------------------------------
#: numpy's global generator is shared by the threads of a process (a Dask worker may run
#: several): a job holds this lock from seeding it until its last draw (:func:`_release_rng`).
_RNG_LOCK = threading.Lock()
_JOB = threading.local()
#: The last simulate function unpickled in this worker (one per generation): (digest, function).
_SIMULATE: tuple[bytes, Callable[[], Any]] | None = None


def _release_rng() -> None:
    if getattr(_JOB, "holds_rng", False):
        _JOB.holds_rng = False
        _RNG_LOCK.release()


def job_seed(seed: int, generation: int, job: int) -> np.ndarray:
    """The state that seeds numpy's global generator for ABC job ``job`` of ``generation``."""
    return np.random.SeedSequence([seed, generation, job]).generate_state(4)


def abc_job(args: tuple[bytes, int, int, int]) -> Any:
    """One ABC evaluation: ``(simulate_one pickled by cloudpickle, seed, generation, job)``.

    Seeds numpy's global generator (from which pyabc draws the particle and the particle its
    runs' seeds) from (seed, generation, job), then calls pyabc's ``simulate_one``: the
    particle is the same whichever worker, executor or order runs it."""
    global _SIMULATE
    import cloudpickle

    payload, seed, generation, job = args
    digest = hashlib.sha1(payload).digest()
    if _SIMULATE is None or _SIMULATE[0] != digest:
        _SIMULATE = (digest, cloudpickle.loads(payload))
    simulate_one = _SIMULATE[1]
    _RNG_LOCK.acquire()
    _JOB.holds_rng = True
    try:
        np.random.seed(job_seed(seed, generation, job))  # noqa: NPY002 - pyabc's proposals use the global generator
        return simulate_one()
    finally:
        _release_rng()


def _make_sampler(executor: Executor, seed: int, progress: Callable[[int], None] | None,
                  reps: int, in_flight: int | None) -> Any:
    import pyabc

    class ExecutorSampler(pyabc.sampler.Sampler):
        """A pyabc sampler that evaluates numbered jobs on a batch-engine executor.

        Job k of generation t is :func:`abc_job` (seed, t, k); results come back in job order
        and the generation is the jobs up to its n-th accepted particle, so it does not depend
        on the number of workers, the executor or how many jobs were in flight (those after
        the n-th accepted are discarded). ``nr_evaluations_`` counts the jobs kept; at most
        ``max_eval`` jobs are run (the sample is then not ok)."""

        def __init__(self) -> None:
            super().__init__()
            self.jobs_used = 0  # jobs of every generation up to its n-th accepted (or its max)

        def sample_until_n_accepted(self, n: int, simulate_one: Callable[[], Any], t: int, *,
                                    max_eval: float = np.inf, all_accepted: bool = False,
                                    ana_vars: Any = None) -> Any:
            import cloudpickle

            payload = cloudpickle.dumps(simulate_one)
            limit = math.ceil(max_eval - 1e-9) if math.isfinite(max_eval) else None
            numbers = range(limit) if limit is not None else itertools.count()
            sample = self._create_empty_sample()
            accepted = used = 0
            results = executor.map_ordered(abc_job, ((payload, seed, t, k) for k in numbers),
                                           in_flight=in_flight)
            try:
                for particle in results:
                    sample.append(particle)
                    used += 1
                    accepted += bool(particle.accepted)
                    if progress:
                        progress(reps)
                    if accepted >= n:
                        break
            finally:
                results.close()
            self.nr_evaluations_ = used
            self.jobs_used += used
            if accepted < n:
                sample.ok = False
            return sample

    return ExecutorSampler()


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
    # Held at the hand calibration (an exploratory search of the record fit, docs/ODD.md §8):
    # secondary levers of the same figures; with them free (25 parameters) pyabc's kernel
    # densities under- and overflowed and the importance weights became NaN.
    "regime.talks_level": "the calm during talks: with escalation_factor, one death figure (day 16)",
    "regime.priority_base": "strikes off the axes: a second-order share of the strikes",
    "mediator.offer_reach": "set by the search at its floor: every town near an axis gets the terms",
    "negotiation.pain_per_strike": "the return to talks is carried by resume_threshold",
    "flight.b0": "background flight: day-1 displacement, one point",
    "flight.kernel_km": "the reach of strike threat: b_strike carries its strength",
    "flight.c_safe": "the destination's safety: the zones' constants (asc) carry their shares",
    "returns.rate": "returns before the article's date are few; the record has no return figure",
}


def calibration_priors(zoom: float | None = 2.0,
                       fixed: Mapping[str, str] | None = None) -> dict[str, tuple[float, float]]:
    """Uniform prior ranges of the free parameters: the schema's calibratable parameters minus
    ``fixed``, each prior cut around the schema default v (the hand calibration, which the prior
    thus always contains); ``zoom=None`` keeps the schema's range.

    A parameter on a ratio scale (its schema prior has no negative values: rates, factors,
    days) is cut to [v / zoom, v * zoom]. One on an interval scale (its prior reaches below 0:
    utilities and weights, whose zero is no natural origin) is cut to a window of the prior's
    width / zoom centred on v (:func:`interval_window`), so a default near 0 does not shrink
    its prior to nothing. Centred on the defaults, not on the scenario, so a scenario that
    ``extends`` the calibrated file gets the same priors."""
    fixed = FIXED_IN_CALIBRATION if fixed is None else fixed
    sc = Scenario()
    out = {}
    for p, (lo, hi) in calibratable_params().items():
        if p in fixed:
            continue
        v = float(get_param(sc, p))
        if zoom is not None and lo < 0:
            lo, hi = interval_window(v, lo, hi, zoom)
        elif zoom is not None and v > 0:
            lo, hi = max(lo, v / zoom), min(hi, v * zoom)
            if not lo < hi:
                lo, hi = v / zoom, v * zoom
        out[p] = (lo, hi)
    return out


def interval_window(v: float, lo: float, hi: float, zoom: float) -> tuple[float, float]:
    """The prior [lo, hi] of an interval-scale parameter cut to a window of width
    ``(hi - lo) / zoom`` centred on ``v``, shifted to stay within [lo, hi] (``v`` within it)."""
    half = (hi - lo) / (2.0 * zoom)
    a, b = v - half, v + half
    if a < lo:
        a, b = lo, lo + 2.0 * half
    if b > hi:
        a, b = hi - 2.0 * half, hi
    return a, b


# --- ABC-SMC --------------------------------------------------------------------------------
@dataclass
class AbcResult:
    posterior: pd.DataFrame          # last generation: one row per particle, params + weight + distance
    generations: pd.DataFrame        # t, epsilon, simulations, acceptance, mean distance
    all_particles: pd.DataFrame      # every generation's particles (for the record)
    free: dict[str, tuple[float, float]]
    n_simulations: int
    reps_per_particle: int = 1
    horizon_days: float | None = None  # the runs' horizon (None: the scenario's)
    #: simulations of a last generation that could not fill its population within the budget
    #: (counted in n_simulations, not in generations)
    unfinished: int = 0


def run_abc(scenario_path: str | Path, targets: Sequence[Target], budget: int, seed: int,
            free: Mapping[str, tuple[float, float]] | None = None, population_size: int | None = None,
            population_scale: float | None = None, work_dir: str | Path | None = None,
            progress: Callable[[int], None] | None = None, reps_per_particle: int = 1,
            executor: Executor | None = None, horizon_days: float | None = None,
            in_flight: int | None = None) -> AbcResult:
    """ABC-SMC over ``free`` (dotted path -> uniform prior range) within ``budget`` simulations.

    Each particle is the median of ``reps_per_particle`` runs (seeds drawn reproducibly from
    ``seed``), run up to ``horizon_days`` (the scenario's horizon if None); particles are
    evaluated as numbered jobs on ``executor`` (in this process if None; ``in_flight`` jobs at
    most, default the executor's), with the same result on any executor. ``budget`` counts
    simulations (runs), not particles."""
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
    np.random.seed(seed)  # noqa: NPY002 - pyabc samples from numpy's global generator
    prior = pyabc.Distribution(**{_key(k): pyabc.RV("uniform", 0.0, 1.0) for k in free})
    sim = _Simulator(str(Path(scenario_path).resolve()), list(targets), population_scale, k, horizon_days,
                     dict(free))
    if executor is None:
        from sim.batch.executors import SerialExecutor

        executor = SerialExecutor()
    sampler = _make_sampler(executor, seed, progress, k, in_flight)
    abc = pyabc.ABCSMC(sim, prior, _abc_distance, population_size=pop, sampler=sampler,
                       transitions=_scale_free_transition(),
                       eps=pyabc.epsilon.QuantileEpsilon(initial_epsilon=np.inf, alpha=0.5, weighted=False))
    tmp = Path(tempfile.mkdtemp(prefix="negsim-abc-", dir=work_dir))
    try:
        abc.new(f"sqlite:///{(tmp / 'abc.db').resolve()}", {"d": 0.0})
        while (budget - sampler.jobs_used * k) // k >= pop:
            left = (budget - sampler.jobs_used * k) // k
            before = abc.history.max_t
            # a generation runs at most `left` simulations (max_eval = pop / min_acceptance_rate);
            # one that cannot fill its population within them stops the ABC
            try:
                abc.run(max_nr_populations=1, min_acceptance_rate=min(1.0, pop / left))
            except AssertionError as exc:  # pyabc: a generation's importance weights degenerated
                print(f"negsim calibrate: the ABC stops after generation {before}: {exc}",
                      file=sys.stderr)
                break
            if abc.history.max_t == before:
                break
        used = sampler.jobs_used * k
        h = abc.history
        gens = []
        parts = []
        for t in range(h.max_t + 1):
            df, w = h.get_distribution(m=0, t=t)
            d = h.get_weighted_distances(t=t)
            df = df.rename(columns={c: _path(c) for c in df.columns})
            for p, (lo, hi) in free.items():  # from the unit interval to the parameter's units
                df[p] = lo + df[p] * (hi - lo)
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
        unfinished = used - int(gens_df["simulations"].sum())
        return AbcResult(parts[-1], gens_df, all_particles, free, used, k, horizon_days, unfinished)
    finally:
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
                 reps: int, seeds: Sequence[int], executor: Executor | None,
                 population_scale: float | None, progress: Callable[[int], None] | None = None,
                 horizon_days: float | None = None) -> tuple[dict[str, float], pd.DataFrame]:
    """Pick the calibrated parameter set among the values before calibration (if within the
    priors), the posterior median and the best particles of the last generation
    (``n_candidates`` in all), each run on the same ``reps`` seeds (on ``executor``, up to
    ``horizon_days``)."""
    summ = posterior_summary(abc.posterior, abc.free)
    base, _ = _base(scenario_path)
    before = {p: float(get_param(base, p)) for p in abc.free}
    cands: list[tuple[str, dict[str, float]]] = [
        ("posterior median", {str(p): float(m) for p, m in zip(summ["parameter"], summ["median"], strict=True)})]
    # the values before calibration compete only if the priors hold them (a second case's
    # priors need not hold the first case's values: its point must be one of its priors)
    if all(abc.free[p][0] <= v <= abc.free[p][1] for p, v in before.items()):
        cands.insert(0, ("values before calibration", before))
    best = abc.posterior.sort_values("distance").head(max(n_candidates - len(cands), 0))
    for i, (_, row) in enumerate(best.iterrows()):
        cands.append((f"particle {i + 1} (distance {row['distance']:.3f})",
                      {p: float(row[p]) for p in abc.free}))
    rows = []
    for label, params in cands:
        runs = [o for o, _ in run_many(scenario_path, params, seeds[:reps], executor, population_scale,
                                       progress=progress, horizon_days=horizon_days, targets=targets)]
        med = median_outcomes(runs, targets)
        rows.append({"candidate": label,
                     "worst_median_error": max(errors(med, targets).values(), default=0.0),
                     "distance_of_medians": distance(med, targets),
                     "mean_distance": float(np.mean([distance(o, targets) for o in runs])),
                     **{f"param:{k}": v for k, v in params.items()}})
    table = pd.DataFrame(rows)
    i = int(table.sort_values(["worst_median_error", "distance_of_medians"]).index[0])
    best_row: dict[Any, Any] = table.loc[i].to_dict()
    chosen = {str(k).removeprefix("param:"): float(v) for k, v in best_row.items()
              if str(k).startswith("param:")}
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
    """Per target: its value, model median, 90% interval over replicates, within yes/no (and
    for a ``range``, within the range widened by ±10%)."""
    df = pd.DataFrame(list(runs))
    med = median_outcomes(runs, targets)
    rows = []
    for t in targets:
        common = {"target": t.id, "quantity": t.quantity, "line": t.line, "article": t.value,
                  "unit": t.unit, "tolerance": t.describe_tolerance(), "group": t.group,
                  "series": t.series or "", "day": t.day, "source": t.source,
                  "low": t.bounds()[0], "high": t.bounds()[1]}
        if not t.modelled:
            rows.append({**common, "median": math.nan, "q05": math.nan, "q95": math.nan,
                         "within": "not modelled", "within10": "n/a", "share_within": math.nan})
            continue
        col = df[t.outcome].astype(float) if t.outcome in df else pd.Series([math.nan] * len(df))
        if t.never_ok:
            col = col.fillna(math.inf)
        share = float(np.mean([t.within(v if not math.isinf(v) else math.nan) for v in col]))
        m = med[t.outcome]
        rows.append({**common,
                     "median": math.inf if (t.never_ok and math.isnan(m)) else m,
                     "q05": float(col.quantile(0.05)), "q95": float(col.quantile(0.95)),
                     "within": "yes" if t.within(m) else "no",
                     "within10": ("yes" if t.within_widened(m, 0.1) else "no")
                     if t.kind == "range" else "n/a",
                     "share_within": share})
    return pd.DataFrame(rows)


def record_summary(table: pd.DataFrame, targets: Sequence[Target]) -> dict[str, Any]:
    """How the medians meet the dated points of the record (series targets): the displaced-total
    ARD (mean |median - midpoint| / midpoint over its dates), and the points within their range
    and within it widened by ±10%."""
    by_id = {t.id: t for t in targets}
    rows = table[[bool(by_id[i].series) and by_id[i].modelled for i in table["target"]]]
    total = rows[rows["series"] == "displaced_total"]
    ard = float(np.mean([abs(float(m) - by_id[str(t)].value) / abs(by_id[str(t)].value)
                         for m, t in zip(total["median"], total["target"], strict=True)])) if len(total) else math.nan
    return {"points": len(rows), "within": int((rows["within"] == "yes").sum()),
            "within10": int((rows["within10"] == "yes").sum()),
            "ard_displaced_total": ard, "ard_dates": len(total)}


def calibrated_toml(point: Mapping[str, float], header: Sequence[str],
                    extends: str | None = None) -> str:
    """A scenario file (TOML) holding the calibrated values, grouped by table (and extending
    ``extends``, e.g. the first case's calibration, if given)."""
    lines = [f"# {h}" if h else "#" for h in header]
    if extends:
        lines.append(f"extends = {json.dumps(extends)}")
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


def calibration_horizon(targets: Sequence[Target], scenario_horizon: float,
                        requested: float | None = None) -> float | None:
    """The horizon of the calibration's runs: ``requested`` (refused if a target needs a later
    day), else the last day the targets need plus ``HORIZON_MARGIN_DAYS``, rounded up (None:
    the scenario's own horizon, when a target needs the whole run or the scenario is shorter)."""
    from sim.targets import days_needed, horizon_needed

    need = horizon_needed(targets)
    if requested is None:
        if math.isinf(need):
            return None
        h = float(math.ceil(need - 1e-9) + HORIZON_MARGIN_DAYS)
        return h if h < scenario_horizon else None
    late = {k: d for k, d in days_needed(targets).items() if d > requested + 1e-9}
    if late:
        what = ", ".join(f"{k} (" + ("the whole run" if math.isinf(d) else f"day {d:g}") + ")"
                         for k, d in late.items())
        raise ScenarioError(f"--horizon-days {requested:g} ends before what these targets need: {what}",
                            field="--horizon-days",
                            fix=("leave --horizon-days out (the scenario's horizon)" if math.isinf(need)
                                 else f"use --horizon-days >= {math.ceil(need - 1e-9)} or leave it out"))
    return float(requested)


def check_series(targets: Sequence[Target], scenario: Scenario, world: Any,
                 files: Sequence[str | Path]) -> None:
    """Every series a target names must be a column this scenario's runs write (the
    ``regime_share_<governorate>`` columns depend on the case's governorates)."""
    from sim.model import timeseries_columns

    cols = set(timeseries_columns(world))
    for t in targets:
        if t.series is not None and t.series not in cols:
            regions = sorted(c for c in cols if c.startswith("regime_share_"))
            raise ScenarioError(f"the runs of {scenario.name or 'this scenario'} have no column "
                                f"'{t.series}'", file=Path(t.group) if t.group else Path(files[0]),
                                field=f"{t.id}.series", fix="use one of " + ", ".join(regions)
                                + " or another timeseries column")


def _executor_label(executor: Executor, scheduler: str | None) -> str:
    kind = type(executor).__name__
    where = {"SerialExecutor": "in-process", "LocalExecutor": "local processes",
             "DaskExecutor": f"Dask ({scheduler})"}.get(kind, kind)
    return f"{where}, {executor.workers} worker{'s' if executor.workers != 1 else ''}"


def calibrate(scenario_path: str | Path, targets_path: str | Path | Sequence[str | Path],
              out_dir: str | Path = "calibration", scenario_out: str | Path | None = None,
              budget: int = 400, seed: int = 0, population_size: int | None = None,
              replicates: int = 50, candidates: int = 5, select_reps: int = 8,
              workers: int | None = None, scheduler: str | None = None,
              population_scale: float | None = None,
              free: Mapping[str, tuple[float, float]] | None = None, quiet: bool = False,
              command: str = "", reps_per_particle: int = 2, prior_zoom: float | None = 2.0,
              horizon_days: float | None = None, extends: str | None = None) -> CalibrationOutputs:
    """Run the whole calibration and write its outputs (see the module docstring).

    ``targets_path``: one targets file or several (e.g. the article's and the record's; each
    file weighs equally in the distance). The ABC and the candidate choice run up to
    ``horizon_days`` (default :func:`calibration_horizon`); the replicate check runs the
    scenario's whole horizon. Simulations run on ``workers`` local processes (default all
    cores; 1: in this process) or a Dask cluster (``scheduler``: an address or "local")."""
    from sim.batch.executors import make_executor
    from sim.scenario.loader import load_scenario
    from sim.targets import load_target_files, scale_counts

    scenario_path = Path(scenario_path)
    sc = load_scenario(scenario_path)  # a bad scenario fails here, before any work
    files = [targets_path] if isinstance(targets_path, str | Path) else list(targets_path)
    # Counts of persons compare with a population of the size simulated (as plot curves draws them).
    targets = scale_counts(load_target_files(files), population_scale or sc.world.population_scale)
    spath = str(scenario_path.resolve())
    check_series(targets, sc, _base(spath)[1], files)
    horizon = calibration_horizon(targets, float(sc.time.horizon_days), horizon_days)
    free_given = free is not None
    free = dict(free if free is not None else calibration_priors(prior_zoom))
    scenario_out = Path(scenario_out) if scenario_out else scenario_path.parent / "calibrated.toml"
    out = Path(out_dir)
    n_total = budget + max(candidates, 2) * select_reps + replicates
    from sim.run import git_commit

    commit = git_commit()  # the code that runs (recorded before any work)
    executor = make_executor(workers, scheduler, preload=("pyabc", "analysis.calibration"))
    bar = _progress(n_total, quiet)
    tick = bar.update if bar is not None else None
    t0 = dt.datetime.now(dt.UTC)
    try:
        label = _executor_label(executor, scheduler)
        abc = run_abc(spath, targets, budget, seed, free, population_size, population_scale, progress=tick,
                      reps_per_particle=reps_per_particle, executor=executor, horizon_days=horizon,
                      in_flight=2 * executor.workers)  # few jobs past a generation's last particle
        if bar is not None:  # the ABC may stop short of its budget
            bar.n = abc.n_simulations
            bar.refresh()
        rng = np.random.default_rng(seed)
        seeds = [int(s) for s in rng.choice(10**6, size=max(replicates, select_reps), replace=False)]
        point, cand = choose_point(spath, abc, targets, candidates, select_reps, seeds, executor,
                                   population_scale, progress=tick, horizon_days=horizon)
        point = rounded(point)
        res = run_many(spath, point, seeds[:replicates], executor, population_scale, curves=True,
                       progress=tick, targets=targets)
    finally:
        executor.close()
        if bar is not None:
            bar.close()
    runs = [o for o, _ in res]
    curves = [c for _, c in res if c is not None]
    table = target_table(runs, targets)
    wall = (dt.datetime.now(dt.UTC) - t0).total_seconds()
    summ = posterior_summary(abc.posterior, free)
    summ["calibrated"] = [point[p] for p in summ["parameter"]]
    summ["before"] = [float(get_param(sc, p)) for p in summ["parameter"]]
    pop_scale = population_scale or sc.world.population_scale
    has_record = any(t.series for t in targets)

    # write everything into a temporary folder, then swap it in
    with atomic.folder(out) as tmp:
        abc.all_particles.to_parquet(tmp / "posterior.parquet", index=False)
        abc.generations.to_csv(tmp / "generations.csv", index=False)
        cand.to_csv(tmp / "candidates.csv", index=False)
        rep = pd.DataFrame(runs)
        rep.insert(0, "seed", seeds[:replicates])
        rep.to_csv(tmp / "replicates.csv", index=False)
        table.to_csv(tmp / "targets.csv", index=False)
        plot_marginals(abc.all_particles, free, point, tmp / "posterior_marginals.png")
        plot_curves(curves, targets, tmp / "curves.png")
        if has_record:
            plot_record(curves, targets, tmp / "record.png", pop_scale)
        report = render_report(command, scenario_path, files, scenario_out, budget, seed, abc,
                               cand, summ, table, replicates, pop_scale,
                               wall, abc.n_simulations + len(cand) * select_reps + replicates,
                               select_reps, commit, prior_zoom, targets=targets, executor=label,
                               scenario_horizon=float(sc.time.horizon_days), free_given=free_given)
        (tmp / "report.md").write_text(report, encoding="utf-8")
    header = [f"Calibrated parameters: generated by `{command or 'negsim calibrate'}`",
              f"({dt.date.today().isoformat()}; ABC-SMC, {abc.n_simulations} simulations, seed {seed}).",
              f"Report: {out}/report.md. Do not edit by hand: re-run the command.",
              "A scenario may `extends` this file."]
    atomic.write_text(scenario_out, calibrated_toml(point, header, extends))
    return CalibrationOutputs(out, scenario_out, table, point, abc,
                              {"candidates": cand, "record": record_summary(table, targets),
                               "horizon_days": horizon, "executor": label})


def plot_record(curves: Sequence[pd.DataFrame], targets: Sequence[Target], path: Path,
                population_scale: float = 1.0) -> None:
    """The record's series: the replicates' median and 90% band, the record's ranges."""
    from analysis.figures import Record, load_record, record_figure

    series = [t for t in targets if t.series is not None and t.modelled]
    try:  # the record file's own cut-off (the article's date), else its last dated point
        whole = load_record(series[0].group)
        cutoff, date = whole.cutoff_day, whole.cutoff_date
    except (ScenarioError, OSError):
        cutoff, date = None, ""
    if cutoff is None:
        cutoff = max(t.day for t in series if t.day is not None)
    record = Record(Path(series[0].group), series, cutoff, date)
    ts = pd.concat([c.assign(run=i) for i, c in enumerate(curves)], ignore_index=True)
    wide = {s: ts.pivot_table(index="day", columns="run", values=s, aggfunc="first")
            for s in record.series if s in ts}
    fig = record_figure(wide, record, bands=(0.9,), days=(0.0, min(float(ts["day"].max()), 30.0)),
                        population_scale=population_scale, label="calibrated",
                        title=f"The record to its last day and the calibrated model ({len(curves)} replicates)")
    fig.savefig(path, dpi=130)
    import matplotlib.pyplot as plt

    plt.close(fig)


def render_report(command: str, scenario_path: Path, targets_path: str | Path | Sequence[str | Path],
                  scenario_out: Path, budget: int, seed: int, abc: AbcResult, cand: pd.DataFrame,
                  summ: pd.DataFrame, table: pd.DataFrame, replicates: int, pop_scale: float,
                  wall_s: float, n_total: int, select_reps: int, commit: str | None,
                  prior_zoom: float | None = None, targets: Sequence[Target] | None = None,
                  executor: str = "", scenario_horizon: float | None = None,
                  free_given: bool = False) -> str:
    import sim
    from sim.targets import load_target_files

    files = [targets_path] if isinstance(targets_path, str | Path) else list(targets_path)
    targets = list(targets) if targets is not None else load_target_files(files)
    n_mod = int((table["within"] != "not modelled").sum())
    n_ok = int((table["within"] == "yes").sum())
    g = abc.generations.copy()
    groups = list(dict.fromkeys(t.group for t in targets))
    weighting = ("each file weighing equally (the mean over files of each file's mean squared error)"
                 if len(groups) > 1 else "one file")
    horizon = (f"{abc.horizon_days:g} days (the last day the targets need, plus a margin; "
               f"`--horizon-days`)" if abc.horizon_days is not None
               else "the scenario's horizon")
    lines = [
        "# Calibration report",
        "",
        f"Generated by `{command or 'negsim calibrate'}` — not edited by hand.",
        "",
        f"- scenario: `{scenario_path}`; targets: {', '.join(f'`{f}`' for f in files)}; "
        f"calibrated scenario: `{scenario_out}`",
        f"- code: negsim {sim.__version__}, commit {commit}; seed {seed}; population scale {pop_scale:g}"
        + (f" (the targets that count persons are scaled by {pop_scale:g}: article value x {pop_scale:g})"
           if pop_scale != 1 else ""),
        f"- ABC-SMC (pyabc, uniform priors, distance = RMS of tolerance-scaled errors, {weighting}): "
        f"budget {budget}, {abc.n_simulations} simulations in {len(g)} generations of "
        f"{len(abc.posterior)} particles"
        + (f" (and {abc.unfinished} in a last generation that could not fill its population within "
           "the budget)" if abc.unfinished else "")
        + "; each particle is the per-target median of "
        f"{abc.reps_per_particle} runs (different seeds); ABC and candidate runs simulate {horizon}; "
        "the replicate check runs the scenario's whole horizon"
        + (f" ({scenario_horizon:g} days)" if scenario_horizon else ""),
        f"- simulations ran on {executor or 'this process'}; particles are numbered jobs seeded "
        "from the seed, so the result does not depend on the executor or the worker count",
        (f"- free parameters: {len(abc.free)}, given by --free with their uniform prior ranges: "
         + ", ".join(f"`{p}` [{lo:g}, {hi:g}]" for p, (lo, hi) in abc.free.items())
         + "; every other parameter held at its scenario value" if free_given else
         f"- free parameters: {len(abc.free)} (the schema's calibratable ones minus "
         f"{', '.join(f'`{p}`' for p in FIXED_IN_CALIBRATION if p not in abc.free) or 'none'}, held at their "
         "scenario values); priors: the schema's prior ranges"
         + (f" cut to [default / {prior_zoom:g}, default x {prior_zoom:g}] (utilities and weights: a window"
            f" of the prior's width / {prior_zoom:g} centred on the default)" if prior_zoom else "")),
        f"- total simulations {n_total} (ABC, candidate selection, {replicates} replicates); "
        f"wall time {wall_s / 60:.1f} min",
    ]
    if pop_scale != 1:
        lines.append(f"- population scale {pop_scale:g}: the targets in persons are for the whole "
                     "population and are compared unscaled in the tables and the distance (a trial of "
                     "the machinery, not a fit); record.png scales the record's ranges by it")
    lines += [
        "",
        f"**{n_ok} of {n_mod} modelled targets have their median within tolerance** over {replicates} "
        "replicates at the calibrated parameters.",
        "",
    ]
    by_id = {t.id: t for t in targets}
    record_rows = table[[bool(by_id[i].series) for i in table["target"]]]
    if len(record_rows):
        rs = record_summary(table, targets)
        lines += [
            "## The public record",
            "",
            f"Over {replicates} replicates at the calibrated parameters: "
            + (f"**displaced-total ARD {rs['ard_displaced_total']:.2f}** against the record's range "
               f"midpoints over its {rs['ard_dates']} dates (mean |model median − midpoint| / "
               "midpoint); " if rs["ard_dates"] else "")
            + f"**{rs['within']} of {rs['points']} dated points** have their median within the "
            f"record's range, **{rs['within10']} of {rs['points']}** within the range widened by ±10%.",
            "",
            "![the record's series](record.png)",
            "",
        ]
    intro = (f"Median and 90% interval (5th–95th percentile) over {replicates} replicates (different "
             "seeds); *within* says whether the median is within the target's tolerance; *share* is "
             "the share of replicates within it. \"never\" means the event did not happen within the "
             "horizon.")
    for grp in groups:
        rows = table[table["group"] == grp]
        name = Path(grp).name if grp else "targets"
        pts = rows[rows["series"] != ""]
        other = rows[rows["series"] == ""]
        lines += [f"## Targets of `{name}`", "", intro, ""]
        if len(pts):
            t = pts.copy()
            t["range"] = t["tolerance"].str.removeprefix("range ")
            t["90% interval"] = _intervals(t)
            t["day"] = t["day"].map(lambda d: f"{d:g}")
            lines += ["### Dated points", "",
                      _md_table(t[["target", "series", "day", "range", "source", "median", "90% interval",
                                   "within", "within10"]].rename(columns={"within10": "within ±10%"})),
                      ""]
        if len(other):
            t = other.copy()
            t["90% interval"] = _intervals(t)
            t["share"] = [f"{s:.0%}" if not math.isnan(s) else "n/a" for s in t["share_within"]]
            if (t["source"] != "").any() and t["line"].isna().all():
                lines += ["### Event days and other targets", "",
                          _md_table(t[["target", "quantity", "source", "tolerance", "median",
                                       "90% interval", "within", "share"]]), ""]
            else:
                t["line"] = t["line"].map(
                    lambda x: "" if x is None or (isinstance(x, float) and math.isnan(x)) else str(int(x)))
                lines += [_md_table(t[["target", "line", "article", "unit", "tolerance", "median",
                                       "90% interval", "within", "share"]]), ""]
    lines += ["![displacement and deaths](curves.png)", "",
              "## ABC-SMC generations", "",
              _md_table(g.assign(generation=g["generation"].astype(str), simulations=g["simulations"].astype(str))),
              "",
              "Distances are the root mean square of the targets' scaled errors (1 = the edge of a "
              "two-sided tolerance; a record range's half-width is at least 5% of its midpoint); "
              "generation 0 is the prior; simulations count runs. Each particle's "
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
    for tg in targets:
        if not tg.modelled:
            lines.append(f"- `{tg.id}` (line {tg.line}): {tg.quantity}. {tg.why}")
    lines.append("")
    return "\n".join(lines)


def _intervals(t: pd.DataFrame) -> list[str]:
    return [f"{_fmt(a)} – {_fmt(b)}" if not (isinstance(a, float) and math.isnan(a)) else "n/a"
            for a, b in zip(t["q05"], t["q95"], strict=True)]


def _progress(total: int, quiet: bool) -> Any:
    if quiet or not sys.stderr.isatty() or os.environ.get("CI"):
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc="calibrate", unit="sim", file=sys.stderr)
