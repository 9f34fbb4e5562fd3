"""Calibration throughput: full-scale simulations per second of ``negsim calibrate``'s ABC.

    python benchmarks/calibration_throughput.py                     # 2 workers, 160 simulations
    python benchmarks/calibration_throughput.py --horizon-days 60   # the runs' whole 60 days
    python benchmarks/run.py --only calibration                     # the same, in a child process

Runs the calibration's ABC-SMC (``analysis.calibration.run_abc``: numbered particle jobs on the
batch engine's local process pool) on the baseline at population scale 1 with the article's and
the record's targets, each run going to the calibration horizon (default: the one ``negsim
calibrate`` chooses for these targets, 22 days), and prints one JSON object: simulations per
second of wall time (the figure; the pool is started and warmed up before the clock starts),
CPU seconds per simulation (this process and its workers, read from /proc), the rate the
workers would reach with the cores to themselves (workers / CPU per simulation: the figure to
trust on a shared machine) and the settings. Simulations are those the ABC kept: jobs computed
after a generation's last particle and discarded are not counted (their CPU is), so the figures
are what a calibration gets.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BASELINE = ROOT / "scenarios" / "baseline.toml"
TARGET_FILES = (ROOT / "seeds" / "targets.toml", ROOT / "seeds" / "record.toml")


def _cpu(pids: list[int]) -> float:
    """CPU seconds of this process and of the worker processes ``pids`` so far (Linux /proc;
    the pool's workers are forked by the forkserver, so ``RUSAGE_CHILDREN`` never sees them)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    total = own.ru_utime + own.ru_stime
    tick = os.sysconf("SC_CLK_TCK")
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def measure(budget: int, population: int, reps: int, workers: int, horizon: float | None,
            seed: int = 0) -> dict[str, object]:
    """Run the ABC once and return its throughput (see the module docstring)."""
    from analysis.calibration import _base, calibration_horizon, run_abc
    from sim.batch.executors import LocalExecutor, SerialExecutor
    from sim.scenario.loader import load_scenario
    from sim.targets import load_target_files

    targets = load_target_files(list(TARGET_FILES))
    sc = load_scenario(BASELINE)
    h = calibration_horizon(targets, float(sc.time.horizon_days), horizon)
    days = h if h is not None else float(sc.time.horizon_days)
    _base(str(BASELINE.resolve()))
    ex = (LocalExecutor(workers, preload=("pyabc", "analysis.calibration")) if workers > 1
          else SerialExecutor())
    try:
        # warm-up: start every worker, import the model and pyabc, load the case (once per worker)
        from analysis.calibration import RunJob, run_job

        warm = [RunJob(str(BASELINE.resolve()), {}, s, 0.01, False, 2.0) for s in range(2 * workers)]
        list(ex.map_ordered(run_job, warm))
        pool = getattr(ex, "_pool", None)
        pids = list(pool._processes) if pool is not None else []
        cpu0, wall0 = _cpu(pids), time.perf_counter()
        res = run_abc(str(BASELINE.resolve()), targets, budget, seed, population_size=population,
                      population_scale=1.0, reps_per_particle=reps, executor=ex, horizon_days=h,
                      in_flight=2 * workers)
        wall, cpu = time.perf_counter() - wall0, _cpu(pids) - cpu0
    finally:
        ex.close()
    n = res.n_simulations
    return {"simulations_per_s": round(n / wall, 2), "simulations": n, "wall_s": round(wall, 2),
            "cpu_s_per_simulation": round(cpu / n, 3),
            # what the workers would do with the cores to themselves (CPU includes discarded jobs)
            "simulations_per_s_cpu_bound": round(workers * n / cpu, 2),
            "workers": workers, "horizon_days": days,
            "population_scale": 1.0, "budget": budget, "population": population,
            "reps_per_particle": reps, "generations": len(res.generations),
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "python": platform.python_version()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budget", type=int, default=160, help="ABC simulations (default 160)")
    ap.add_argument("--population", type=int, default=16, help="particles per generation (default 16)")
    ap.add_argument("--reps-per-particle", type=int, default=2, help="runs per particle (default 2)")
    ap.add_argument("--workers", type=int, default=2, help="local worker processes (default 2)")
    ap.add_argument("--horizon-days", type=float, default=None,
                    help="days per run (default: the calibration's horizon for the targets, 22)")
    a = ap.parse_args(argv)
    print(json.dumps(measure(a.budget, a.population, a.reps_per_particle, a.workers, a.horizon_days)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
