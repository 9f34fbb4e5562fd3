"""The batch engine's public functions.

* :func:`run_scenario` -- one run, parameters in, summary outcomes out: the function EMA
  Workbench, SALib or any other driver wraps.
* :func:`run_batch` -- every run of a :class:`~sim.batch.plan.Plan` through an executor into a
  batch folder (see :mod:`sim.batch.store`), resuming what an earlier call left unfinished.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.batch.executors import INTERRUPTED, Executor, make_executor
from sim.batch.plan import Plan, apply_params, with_scenario_order
from sim.batch.store import BatchStore
from sim.batch.worker import cached_scenario, simulate_tables
from sim.errors import InfrastructureError, ScenarioError
from sim.outdir import refuse_dangerous
from sim.scenario.loader import default_scenarios_dir
from sim.scenario.schema import Scenario


def run_scenario(params: dict[str, Any] | Scenario, seed: int = 0, *,
                 base: str | Path | Scenario | None = None) -> dict[str, Any]:
    """Run the model once and return its summary outcomes (:func:`sim.outcomes.summarize`).

    ``params`` is a :class:`Scenario`, or a dict of dotted parameter paths and values
    (``{"regime.bombardment_capacity": 60, "mediator.phases": 2}``) applied to ``base`` (a
    scenario file or Scenario; default ``scenarios/baseline.toml``). A dict may also name the
    base scenario file under the key ``"scenario"``. Same (params, seed) -> same outcomes, and
    the same outcomes as the matching run of a batch.
    """
    if isinstance(params, Scenario):
        sc = params
    else:
        params = dict(params)
        base = params.pop("scenario", base)
        if base is None:
            base = default_scenarios_dir() / "baseline.toml"
        sc0 = base if isinstance(base, Scenario) else cached_scenario(str(Path(base).resolve()))
        try:
            sc = apply_params(sc0, params)
        except ValueError as exc:
            raise ScenarioError(str(exc), field="params") from None
    _, outcomes = simulate_tables(sc, int(seed))
    return outcomes


@dataclass
class BatchResult:
    """What a call of :func:`run_batch` did."""

    out: Path
    total: int
    ran: int
    skipped: int
    failed: list[dict[str, Any]] = field(default_factory=list)
    #: runs lost to the infrastructure (a worker process died): not stored, run on resume
    interrupted: list[dict[str, Any]] = field(default_factory=list)
    wall_s: float = 0.0
    model_s: float = 0.0
    workers: int = 1
    runs: pd.DataFrame | None = None


def progress_enabled(quiet: bool = False) -> bool:
    """Progress bars only on a terminal, never in CI or with --quiet."""
    return not quiet and sys.stderr.isatty() and not os.environ.get("CI")


def run_batch(plan: Plan, out: str | Path, *, executor: Executor | None = None,
              workers: int | None = None, scheduler: str | None = None, progress: bool = False,
              overwrite: bool = False, retry_failed: bool = False,
              refresh_s: float = 60.0) -> BatchResult:
    """Run every planned run not already in ``out`` and store the results as they finish.

    ``executor`` (or ``workers``/``scheduler``, see :func:`~sim.batch.executors.make_executor`)
    says where runs are computed. Runs already in ``out`` from an earlier, interrupted call of
    the same plan are skipped (failed ones too, unless ``retry_failed``). ``runs.parquet`` is
    rebuilt at the end (and every ``refresh_s`` seconds, to watch a long batch).
    """
    t0 = time.perf_counter()
    store = BatchStore(out)
    if Path(out).exists() and not Path(out).is_dir():
        raise ScenarioError("exists and is not a folder", file=out, field="--out")
    # never the current folder, a parent, home, root or a folder holding the inputs
    refuse_dangerous(out, [Path(f) for info in plan.scenarios.values()
                           for f in [info.get("file", ""), *(info.get("inputs") or {})] if f])
    store.lock()
    try:
        return _run_locked(plan, store, t0, executor, workers, scheduler, progress, overwrite,
                           retry_failed, refresh_s)
    finally:
        store.unlock()


def _run_locked(plan: Plan, store: BatchStore, t0: float, executor: Executor | None, workers: int | None,
                scheduler: str | None, progress: bool, overwrite: bool, retry_failed: bool,
                refresh_s: float) -> BatchResult:
    from sim.run import git_commit

    out = store.out
    old = store.existing_manifest()
    if old is not None and not overwrite:  # a grown batch keeps the scenario order it began with
        plan = with_scenario_order(plan, list(old.get("scenarios", {})))
    fresh = old is None
    done = store.open(plan, git_commit=git_commit(), overwrite=overwrite)
    infra_before = [rid for rid, row in store.done_rows().items() if is_infrastructure_failure(row)
                    or (row["status"] == "ok" and not store.part_path(row["scenario"], rid).is_file())]
    if infra_before:  # failures an older negsim recorded for a dead worker, or time series lost
        store.forget(infra_before)
        done -= set(infra_before)
    if retry_failed:
        failed_before = [rid for rid, row in store.done_rows().items() if row["status"] != "ok"]
        if failed_before:
            store.forget(failed_before)
            done -= set(failed_before)
    todo = [r for r in plan.runs if r.run_id not in done]
    order = [r.run_id for r in plan.runs]
    own = executor is None and todo
    try:
        ex = make_executor(workers, scheduler) if own else executor
    except BaseException:
        if fresh or overwrite:  # nothing ran: leave no manifest behind (unlock removes the rest)
            store.manifest_path.unlink(missing_ok=True)
        raise
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(plan.runs), initial=len(plan.runs) - len(todo), unit="run",
                   desc=f"batch {Path(out).name}", smoothing=0.05)
    model_s = 0.0
    last_refresh = time.monotonic()
    interrupted: list[dict[str, Any]] = []
    try:
        if todo:
            assert ex is not None
            for res in ex.map_unordered(todo):
                if res.status == INTERRUPTED:  # the infrastructure's failure, not the run's
                    interrupted.append({"run_id": res.spec.run_id, "params": res.spec.params,
                                        "error": res.error})
                    if bar is not None:
                        bar.set_postfix_str(f"interrupted: {res.spec.run_id}")
                    continue
                store.record(res)
                model_s += res.model_s
                if bar is not None:
                    bar.update(1)
                    if res.status != "ok":
                        bar.set_postfix_str(f"failed: {res.spec.run_id}")
                if time.monotonic() - last_refresh > refresh_s:
                    store.write_runs_table(order)
                    last_refresh = time.monotonic()
    except InfrastructureError:
        store.write_runs_table(order)  # what finished is stored; the rest runs on resume
        raise
    finally:
        if bar is not None:
            bar.close()
        if own and ex is not None:
            ex.close()
    runs = store.write_runs_table(order)
    rows = store.done_rows()
    failed = [{"run_id": rid, "params": rows[rid]["params"], "error": rows[rid]["error"]}
              for rid in order if rid in rows and rows[rid]["status"] != "ok"]
    return BatchResult(Path(out), len(plan.runs), len(todo) - len(interrupted),
                       len(plan.runs) - len(todo), failed, interrupted,
                       time.perf_counter() - t0, model_s,
                       ex.workers if ex is not None else 0, runs)


def is_infrastructure_failure(row: dict[str, Any]) -> bool:
    """A journal row an older negsim recorded as failed when its worker process died."""
    return row.get("status") != "ok" and str(row.get("error", "")).endswith("(worker process failed)")
