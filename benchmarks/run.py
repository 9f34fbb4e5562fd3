"""Performance benchmarks of negsim: every figure of the performance issue, with the machine.

    python benchmarks/run.py                 # everything (a few minutes on an idle machine)
    python benchmarks/run.py --quick         # one repetition, a short batch (a smoke test)
    python benchmarks/run.py --only model,e2e --json /tmp/bench.json

Sections (``--only``): ``model`` the model's run at full scale (after loading, before outputs),
at 24-, 6- and 1-hour ticks, with the model's own peak memory; ``e2e`` ``negsim run
scenarios/baseline.toml`` end to end in a fresh interpreter, all outputs written, with its peak
memory; ``scaling`` cost against population (10k..1M persons); ``mesa`` the vectorised
flight-and-return rule against the one-agent-per-person Mesa reference at 100,000 persons;
``batch`` full-scale baseline replicates on a pool of worker processes; ``calibration`` the
full-scale simulations per second of ``negsim calibrate``'s ABC on 2 workers at the calibration
horizon (``benchmarks/calibration_throughput.py``).

Every measurement runs in a child process (one thread for numpy's libraries); CPU time comes
from the child's ``rusage`` or ``time.process_time`` and is the figure to trust on a loaded
machine; wall time is printed beside it. Nothing is written unless ``--json`` is given (then
atomically).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PROBE = ROOT / "benchmarks" / "probe.py"
BASELINE = ROOT / "scenarios" / "baseline.toml"
SECTIONS = ("model", "e2e", "scaling", "mesa", "batch", "calibration")
SCALING_PERSONS = (10_000, 100_000, 300_000, 750_000, 1_000_000)
TICK_HOURS = (24, 6, 1)

#: The issue's targets.
TARGETS = {
    "model_run_s": 4.0,          # full scale, 6-hour ticks, one core
    "e2e_s": 8.0,                # negsim run, interpreter start and all outputs included
    "peak_mb": 500.0,
    "model_run_1h_s": 20.0,
    "scaling_1m_over_100k": 11.0,
    "mesa_ratio": 100.0,
    "batch_1000_min": 30.0,
    "calibration_sims_per_s": 5.0,  # full scale, 2 workers, at the calibration horizon
}
#: Allowance for timing noise when judging "at most linear in ticks" (the population target
#: has its own: 11x the cost for 10x the persons).
TICKS_NOISE = 0.10
SINGLE_THREAD = dict.fromkeys(("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                               "NUMEXPR_NUM_THREADS"), "1")


# --- machine ------------------------------------------------------------------------------
def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _mem_total_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024**2
    except OSError:
        pass
    return None


def _git_commit() -> str | None:
    try:
        return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, timeout=5,
                              check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    import mesa
    import numpy

    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        usable = os.cpu_count()
    return {
        "date_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cpu": _cpu_model(), "logical_cpus": os.cpu_count(), "usable_cpus": usable,
        "memory_gb": _mem_total_gb(), "load_average": list(os.getloadavg()),
        "os": platform.platform(), "python": platform.python_version(),
        "numpy": numpy.__version__, "mesa": mesa.__version__, "git_commit": _git_commit(),
    }


# --- children -----------------------------------------------------------------------------
def _child_env() -> dict[str, str]:
    env = dict(os.environ, **SINGLE_THREAD, MPLBACKEND="Agg")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


#: Started with ``python -S``: spawns the command, waits for it and for every process it left
#: behind, and reports on stderr the command's wall time, the CPU time of the command and all
#: its descendants (as a child subreaper, orphans such as a pool's forkserver workers are
#: reaped here, so their CPU is counted) and peak RSS. A child's ``ru_maxrss`` counts the memory
#: of the process it was forked from (the fork's pages are resident until exec), so commands
#: are spawned from this small launcher, never from the benchmark process itself.
_LAUNCHER = """
import ctypes, os, resource, sys, time
try:
    ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER (Linux)
except Exception:
    pass
w0 = time.perf_counter()
pid = os.posix_spawnp(sys.argv[1], sys.argv[1:], os.environ)
_, status, ru = os.wait4(pid, 0)
wall = time.perf_counter() - w0
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    try:
        if os.waitpid(-1, os.WNOHANG)[0] == 0:
            time.sleep(0.02)
    except ChildProcessError:
        break
tot = resource.getrusage(resource.RUSAGE_CHILDREN)
sys.stderr.write("\\n@@rusage %d %r %r %d %d\\n" % (os.waitstatus_to_exitcode(status), wall,
                 tot.ru_utime + tot.ru_stime, ru.ru_maxrss, tot.ru_maxrss))
"""


def run_child(cmd: list[str]) -> dict[str, Any]:
    """Run ``cmd`` to completion: its stdout, wall seconds, CPU seconds (with all descendants),
    its peak RSS and the largest peak RSS of any of its processes (MB)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        subprocess.run([sys.executable, "-S", "-c", _LAUNCHER, *cmd], stdout=out, stderr=err,
                       env=_child_env(), cwd=ROOT, check=False)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    head, _, tail = stderr.rpartition("@@rusage ")
    if not tail:
        raise RuntimeError(f"{shlex.join(cmd)}: could not be started:\n{stderr[-2000:]}")
    code, wall, cpu, maxrss_kb, max_any_kb = tail.split()
    if int(code) != 0:
        raise RuntimeError(f"{shlex.join(cmd)} failed ({code}):\n{head[-2000:]}")
    return {"stdout": stdout, "wall": float(wall), "cpu": float(cpu),
            "peak_mb": int(maxrss_kb) / 1024.0, "peak_mb_any": int(max_any_kb) / 1024.0}


def probe(*args: str) -> dict[str, Any]:
    """Run ``benchmarks/probe.py ARGS`` in a child; its JSON result plus the child's rusage."""
    r = run_child([sys.executable, str(PROBE), *args])
    res = json.loads(r["stdout"].strip().splitlines()[-1])
    res["child"] = {k: r[k] for k in ("wall", "cpu", "peak_mb")}
    return res


# --- sections -----------------------------------------------------------------------------
_model_cache: dict[tuple[int, int], dict[str, Any]] = {}


def model_run(persons: int, tick_hours: int, reps: int) -> dict[str, Any]:
    key = (persons, tick_hours)
    if key not in _model_cache:
        _model_cache[key] = probe("model", "--persons", str(persons), "--tick-hours",
                                  str(tick_hours), "--reps", str(reps))
    return _model_cache[key]


def section_model(reps: int, say: Any) -> dict[str, Any]:
    say("model: full scale, 24/6/1-hour ticks (after loading, before outputs)")
    out: dict[str, Any] = {}
    for h in TICK_HOURS:
        r = model_run(750_000, h, reps)
        cpu, wall = min(r["run_cpu"]), min(r["run_wall"])
        out[f"{h}h"] = {"persons": r["persons"], "households": r["households"],
                        "ticks": r["ticks"], "run_cpu_s": cpu, "run_wall_s": wall,
                        "run_cpu_all": r["run_cpu"], "init_cpu_s": min(r["init_cpu"]),
                        "cpu_per_tick_ms": 1e3 * cpu / r["ticks"],
                        "peak_mb_model_process": r["child"]["peak_mb"]}
        say(f"  {h:>2} h ticks: {r['persons']:,} persons in {r['households']:,} households, "
            f"{r['ticks']} ticks: run {cpu:.2f} s CPU ({wall:.2f} s wall; min of {reps}), "
            f"{1e3 * cpu / r['ticks']:.2f} ms/tick; model built in {min(r['init_cpu']):.3f} s; "
            f"process peak {r['child']['peak_mb']:.0f} MB")
    six, one, day = out["6h"], out["1h"], out["24h"]
    out["ratio_1h_over_6h"] = one["run_cpu_s"] / six["run_cpu_s"]
    out["ratio_6h_over_24h"] = six["run_cpu_s"] / day["run_cpu_s"]
    say(f"  cost ratio 1h/6h = {out['ratio_1h_over_6h']:.2f} (ticks x{one['ticks'] / six['ticks']:.0f}),"
        f" 6h/24h = {out['ratio_6h_over_24h']:.2f} (ticks x{six['ticks'] / day['ticks']:.0f})")
    return out


def section_e2e(reps: int, say: Any) -> dict[str, Any]:
    say("e2e: `python -m sim run scenarios/baseline.toml` in a fresh interpreter, all outputs")
    runs = []
    with tempfile.TemporaryDirectory(prefix="negsim-bench-") as tmp:
        for k in range(reps):
            dest = Path(tmp) / f"out{k}"
            r = run_child([sys.executable, "-m", "sim", "--quiet", "run", str(BASELINE),
                           "--out", str(dest)])
            files = sorted(p.name for p in dest.iterdir())
            runs.append(r)
    wall = [r["wall"] for r in runs]
    cpu = [r["cpu"] for r in runs]
    peak = max(r["peak_mb"] for r in runs)
    say(f"  end to end {min(wall):.2f} s wall (min of {reps}; median {statistics.median(wall):.2f}),"
        f" {min(cpu):.2f} s CPU; peak memory {peak:.0f} MB; wrote {', '.join(files)}")
    return {"wall_s": min(wall), "wall_all": wall, "cpu_s": min(cpu), "cpu_all": cpu,
            "peak_mb": peak, "files": files}


def section_scaling(reps: int, say: Any) -> dict[str, Any]:
    say("scaling: the model's run against population (6-hour ticks)")
    rows = []
    for n in SCALING_PERSONS:
        r = model_run(n, 6, reps)
        cpu = min(r["run_cpu"])
        rows.append({"requested": n, "persons": r["persons"], "households": r["households"], "run_cpu_s": cpu,
                     "run_wall_s": min(r["run_wall"]),
                     "ns_per_person_tick": 1e9 * cpu / (r["persons"] * r["ticks"]),
                     "peak_mb": r["child"]["peak_mb"]})
        say(f"  {r['persons']:>9,} persons ({r['households']:>7,} households): "
            f"{cpu:6.2f} s CPU, {rows[-1]['ns_per_person_tick']:6.2f} ns per person-tick, "
            f"peak {r['child']['peak_mb']:.0f} MB")
    by = {row["requested"]: row for row in rows}
    big, small = by[1_000_000], by[100_000]
    ratio = big["run_cpu_s"] / small["run_cpu_s"]
    say(f"  cost({big['persons']:,}) / cost({small['persons']:,}) = {ratio:.2f} "
        f"(persons x{big['persons'] / small['persons']:.1f}; "
        f"target <= {TARGETS['scaling_1m_over_100k']:.0f})")
    return {"rows": rows, "ratio_1m_over_100k": ratio}


def section_mesa(quick: bool, say: Any) -> dict[str, Any]:
    ref_ticks = "4" if quick else "20"
    say(f"mesa: flight-and-return at 100,000 persons, vectorised vs one mesa.Agent per person "
        f"(reference replays {ref_ticks} ticks of the same inputs)")
    r = probe("mesa", "--persons", "100000", "--ticks", "60", "--ref-ticks", ref_ticks)
    v, v2, ref = r["vectorised"], r["vectorised_same_ticks"], r["reference"]
    vec_rule = v["persons"] * v["ticks"] / v["rule_cpu"]
    vec_model = v["persons"] * v["ticks"] / v["model_cpu"]
    ref_rate = ref["agents"] * ref["ticks"] / ref["rule_cpu"]
    out = {"persons": v["persons"], "households": v["households"], "vec_ticks": v["ticks"],
           "ref_ticks": ref["ticks"], "vectorised_rule_person_ticks_per_s": vec_rule,
           "vectorised_whole_model_person_ticks_per_s": vec_model,
           "mesa_reference_person_ticks_per_s": ref_rate, "ratio_rule": vec_rule / ref_rate,
           "ratio_whole_model": vec_model / ref_rate, "reference_build_s": ref["build_cpu"],
           "displaced_after_ref_ticks": {"vectorised": v2["displaced_end"],
                                         "mesa_reference": ref["displaced_end"]}}
    say(f"  vectorised rule:        {vec_rule:>14,.0f} person-ticks/s ({v['ticks']} ticks)")
    say(f"  vectorised whole model: {vec_model:>14,.0f} person-ticks/s (every rule, same ticks)")
    say(f"  Mesa reference rule:    {ref_rate:>14,.0f} person-ticks/s ({ref['ticks']} ticks; "
        f"{ref['build_cpu']:.2f} s to create {ref['agents']:,} agents)")
    say(f"  ratio: {out['ratio_rule']:,.0f}x rule vs rule, {out['ratio_whole_model']:,.0f}x whole "
        f"model vs the reference rule alone (target >= {TARGETS['mesa_ratio']:.0f}x)")
    say(f"  check, displaced after {ref['ticks']} ticks: vectorised {v2['displaced_end']:,}, "
        f"reference {ref['displaced_end']:,}")
    return out


def section_batch(n: int, workers: int, runner: str, model_cpu: float | None, quiet: bool,
                  say: Any) -> dict[str, Any]:
    if runner == "negsim":
        return _batch_negsim(n, workers, model_cpu, say)
    return _batch_pool(n, workers, quiet, say)


def _batch_report(out: dict[str, Any], say: Any) -> dict[str, Any]:
    n, workers, wall, cpu = out["replicates"], out["workers"], out["wall_s"], out["cpu_s"]
    out["runs_per_min"] = per_min = 60.0 * n / wall
    out["projected_1000_min"] = 1000 / per_min
    out["projected_1000_min_cpu_bound"] = 1000 * cpu / n / workers / 60.0
    say(f"  {n} runs in {wall:.1f} s wall, {cpu:.1f} s CPU: {per_min:.1f} runs/min -> 1,000 runs "
        f"in {out['projected_1000_min']:.1f} min (target <= {TARGETS['batch_1000_min']:.0f}); "
        f"with {workers} free cores (CPU / workers): {out['projected_1000_min_cpu_bound']:.1f} min")
    shares = [f"{100 * out[k]:.1f}% of {what}" for k, what in (
        ("share_outside_model_cpu", "CPU"), ("share_outside_model_wall", "worker wall time"))
        if out.get(k) is not None]
    say(f"  time outside the model: {', '.join(shares)}")
    return out


def _batch_negsim(n: int, workers: int, model_cpu: float | None, say: Any) -> dict[str, Any]:
    """``negsim batch`` (issue 5) in a child process: process start, imports, case loading,
    the runs and the Parquet dataset included."""
    import pandas as pd

    with tempfile.TemporaryDirectory(prefix="negsim-batch-") as tmp:
        out_dir = Path(tmp) / "batch"
        cmd = [sys.executable, "-m", "sim", "--quiet", "batch", str(BASELINE), "--replicates",
               str(n), "--workers", str(workers), "--out", str(out_dir)]
        say(f"batch: {n} full-scale baseline replicates, `negsim batch` on {workers} workers "
            f"(everything included: interpreter, imports, case data, runs, Parquet dataset)")
        r = run_child(cmd)
        runs = pd.read_parquet(out_dir / "runs.parquet")
        # each run's own timer (model, time series, outcomes) is kept in the batch's journal
        journal = [json.loads(line) for line in
                   (out_dir / "_journal.jsonl").read_text(encoding="utf-8").splitlines()]
    ok = int((runs["status"] == "ok").sum())
    model_s = float(sum(row["model_s"] for row in journal))
    out = {"runner": "negsim batch", "replicates": n, "ok": ok, "workers": workers,
           "wall_s": r["wall"], "cpu_s": r["cpu"], "peak_mb_largest_process": r["peak_mb_any"],
           "model_wall_per_run_s": model_s / max(len(runs), 1),
           "share_outside_model_wall": 1.0 - model_s / (workers * r["wall"]),
           "cpu_per_run_s": r["cpu"] / n, "model_alone_cpu_s": model_cpu,
           "mean_displaced_day16": float(runs["displaced_day16"].mean())
           if "displaced_day16" in runs else None}
    if ok != n:
        say(f"  WARNING: {n - ok} of {n} runs failed")
    out = _batch_report(out, say)
    alone = f" (the model's run alone, model section: {model_cpu:.2f} s)" if model_cpu else ""
    say(f"  CPU per run, everything included: {r['cpu'] / n:.2f} s{alone}; the wall share counts "
        f"each run's own timer (model, time series, outcomes) as inside")
    return out


def _batch_pool(n: int, workers: int, quiet: bool, say: Any) -> dict[str, Any]:
    """A plain process pool over ``sim.run.simulate`` + ``collect`` (no files written)."""
    from tqdm import tqdm

    from benchmarks.probe import batch_init, batch_one

    say(f"batch: {n} full-scale baseline replicates on {workers} worker processes "
        f"(process pool over sim.run.simulate + collect; spawn, case data loaded once per worker)")
    os.environ.update(SINGLE_THREAD)
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    w0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"),
                             initializer=batch_init, initargs=(str(BASELINE),)) as ex:
        res = list(tqdm(ex.map(batch_one, range(n)), total=n, unit="run",
                        disable=quiet or not sys.stderr.isatty()))
    wall = time.perf_counter() - w0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    m_cpu = sum(r["model_cpu"] for r in res)
    m_wall = sum(r["model_wall"] for r in res)
    out = {"runner": "process pool (benchmarks/probe.py batch_one)", "replicates": n,
           "workers": workers, "wall_s": wall, "cpu_s": cpu,
           "share_outside_model_cpu": 1.0 - m_cpu / cpu if cpu > 0 else None,
           "share_outside_model_wall": 1.0 - m_wall / (workers * wall),
           "model_cpu_per_run_s": m_cpu / n,
           "collect_cpu_per_run_s": sum(r["collect_cpu"] for r in res) / n,
           "mean_displaced_day16": statistics.fmean(r["displaced_day16"] for r in res)}
    return _batch_report(out, say)


def section_calibration(workers: int, quick: bool, say: Any) -> dict[str, Any]:
    """``benchmarks/calibration_throughput.py`` in a child process."""
    budget, pop = ("40", "8") if quick else ("160", "16")
    say(f"calibration: full-scale ABC simulations per second on {workers} workers at the "
        f"calibration horizon (budget {budget}, {pop} particles per generation, 2 runs each)")
    r = run_child([sys.executable, str(ROOT / "benchmarks" / "calibration_throughput.py"),
                   "--workers", str(workers), "--budget", budget, "--population", pop])
    out = json.loads(r["stdout"].strip().splitlines()[-1])
    out["child"] = {k: r[k] for k in ("wall", "cpu", "peak_mb_any")}
    say(f"  {out['simulations']} simulations of {out['horizon_days']:g} days in {out['wall_s']:.1f} s: "
        f"{out['simulations_per_s']:.2f} simulations/s (target >= "
        f"{TARGETS['calibration_sims_per_s']:g}); {out['cpu_s_per_simulation']:.3f} s CPU each, i.e. "
        f"{out['simulations_per_s_cpu_bound']:.2f}/s with {workers} free cores; load average "
        f"{', '.join(f'{x:.2f}' for x in out['load_average'])}")
    return out


# --- verdicts -----------------------------------------------------------------------------
def verdicts(res: dict[str, Any]) -> list[tuple[str, float, float, bool]]:
    """(figure, measured, target, met) for every target that was measured."""
    t, out = TARGETS, []
    if "model" in res:
        m = res["model"]
        out.append(("model run, full scale, 6 h ticks (s CPU)", m["6h"]["run_cpu_s"],
                    t["model_run_s"], m["6h"]["run_cpu_s"] <= t["model_run_s"]))
        out.append(("model run, full scale, 1 h ticks (s CPU)", m["1h"]["run_cpu_s"],
                    t["model_run_1h_s"], m["1h"]["run_cpu_s"] <= t["model_run_1h_s"]))
        lim = 6.0 * (1 + TICKS_NOISE)  # linear in ticks: 6x the ticks, allowance for noise
        out.append(("cost 1 h / 6 h ticks (6x ticks, +10% noise)", m["ratio_1h_over_6h"], lim,
                    m["ratio_1h_over_6h"] <= lim))
        pk = m["6h"]["peak_mb_model_process"]
        out.append(("peak memory, model process (MB)", pk, t["peak_mb"], pk <= t["peak_mb"]))
    if "e2e" in res:
        e = res["e2e"]
        out.append(("negsim run end to end (s wall)", e["wall_s"], t["e2e_s"],
                    e["wall_s"] <= t["e2e_s"]))
        out.append(("  same, CPU time (s)", e["cpu_s"], t["e2e_s"], e["cpu_s"] <= t["e2e_s"]))
        out.append(("peak memory, negsim run (MB)", e["peak_mb"], t["peak_mb"],
                    e["peak_mb"] <= t["peak_mb"]))
    if "scaling" in res:
        r = res["scaling"]["ratio_1m_over_100k"]
        out.append(("cost 1M / 100k persons", r, t["scaling_1m_over_100k"],
                    r <= t["scaling_1m_over_100k"]))
    if "mesa" in res:
        r = res["mesa"]["ratio_rule"]
        out.append(("vectorised / Mesa reference (x)", r, t["mesa_ratio"], r >= t["mesa_ratio"]))
    if "batch" in res:
        b = res["batch"]["projected_1000_min"]
        out.append(("1,000 replicates on 2 workers (min, wall)", b, t["batch_1000_min"],
                    b <= t["batch_1000_min"]))
        b = res["batch"].get("projected_1000_min_cpu_bound")
        if b is not None:
            out.append(("  same, from CPU time / 2 workers (min)", b, t["batch_1000_min"],
                        b <= t["batch_1000_min"]))
    if "calibration" in res:
        c = res["calibration"]
        out.append(("calibration, full scale, 2 workers (sims/s, wall)", c["simulations_per_s"],
                    t["calibration_sims_per_s"], c["simulations_per_s"] >= t["calibration_sims_per_s"]))
        out.append(("  same, from CPU time / workers (sims/s)", c["simulations_per_s_cpu_bound"],
                    t["calibration_sims_per_s"],
                    c["simulations_per_s_cpu_bound"] >= t["calibration_sims_per_s"]))
    return out


def _write_json(path: Path, data: dict[str, Any]) -> None:
    from sim import atomic

    atomic.write_text(path, json.dumps(data, indent=2) + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", default=",".join(SECTIONS),
                    help=f"comma-separated sections (default all): {','.join(SECTIONS)}")
    ap.add_argument("--quick", action="store_true",
                    help="one repetition, 8 batch replicates, a short reference run")
    ap.add_argument("--reps", type=int, default=None, help="repetitions per timing (default 3)")
    ap.add_argument("--replicates", type=int, default=None,
                    help="batch replicates (default 100; 1000 for the issue's full figure)")
    ap.add_argument("--workers", type=int, default=2,
                    help="batch and calibration worker processes (default 2)")
    ap.add_argument("--batch-runner", choices=("negsim", "pool"), default="negsim",
                    help="negsim: time `negsim batch` (default); pool: a plain process pool over "
                         "sim.run.simulate, for comparison")
    ap.add_argument("--json", type=Path, default=None, help="also write all figures to this file")
    ap.add_argument("--quiet", action="store_true", help="no progress bar")
    a = ap.parse_args(argv)
    only = [s.strip() for s in a.only.split(",") if s.strip()]
    bad = [s for s in only if s not in SECTIONS]
    if bad:
        ap.error(f"unknown section(s) {', '.join(bad)}; choose from {', '.join(SECTIONS)}")
    if a.reps is not None and a.reps < 1 or a.replicates is not None and a.replicates < 1:
        ap.error("--reps and --replicates must be at least 1")
    reps = a.reps or (1 if a.quick else 3)
    n_batch = a.replicates or (8 if a.quick else 100)

    def say(msg: str) -> None:
        print(msg, flush=True)

    mach = machine()
    say(f"negsim benchmarks, {mach['date_utc']}, commit {mach['git_commit']}")
    say(f"machine: {mach['cpu']}, {mach['logical_cpus']} logical CPUs ({mach['usable_cpus']} usable), "
        f"{mach['memory_gb']:.1f} GB; {mach['os']}; Python {mach['python']}, numpy "
        f"{mach['numpy']}, mesa {mach['mesa']}; load average at start "
        f"{', '.join(f'{x:.2f}' for x in mach['load_average'])}")
    res: dict[str, Any] = {"machine": mach}
    if "model" in only:
        res["model"] = section_model(reps, say)
    if "e2e" in only:
        res["e2e"] = section_e2e(reps, say)
    if "scaling" in only:
        res["scaling"] = section_scaling(reps, say)
    if "mesa" in only:
        res["mesa"] = section_mesa(a.quick, say)
    if "batch" in only:
        six = _model_cache.get((750_000, 6))
        res["batch"] = section_batch(n_batch, a.workers, a.batch_runner,
                                     min(six["run_cpu"]) if six else None, a.quiet, say)
    if "calibration" in only:
        res["calibration"] = section_calibration(a.workers, a.quick, say)
    res["load_average_end"] = list(os.getloadavg())
    say(f"load average at end {', '.join(f'{x:.2f}' for x in res['load_average_end'])}")
    say("targets:")
    res["verdicts"] = [{"figure": f, "measured": v, "target": t, "met": ok}
                       for f, v, t, ok in verdicts(res)]
    for f, v, t, ok in verdicts(res):
        say(f"  {'MET ' if ok else 'MISS'} {f:<45} {v:>10.2f}   target {t:g}")
    if a.json:
        _write_json(a.json, res)
        say(f"figures written to {a.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
