"""One run of a batch, as executed in a worker process (local pool or Dask worker).

A worker keeps each scenario file it has loaded and each case world it has built (keyed by the
files they came from), so a batch pays the loading cost once per worker, not once per run.
Whatever happens inside the model, :func:`execute` returns: a failure becomes a result with
``status = "failed"`` and the error, so the batch goes on.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.batch.plan import RunSpec, apply_params
from sim.model import load_case
from sim.run import run_tables, simulate
from sim.scenario.loader import load_scenario, resolve_path
from sim.scenario.schema import Scenario
from sim.world.case import World

_SCENARIOS: dict[tuple[str, float], Scenario] = {}
_WORLDS: dict[tuple[Any, ...], World] = {}


@dataclass
class RunOutput:
    """What a worker sends back: the run's row (status, error, outcomes) and its time series."""

    spec: RunSpec
    status: str
    error: str
    outcomes: dict[str, Any]
    timeseries: pd.DataFrame | None
    model_s: float


def watch_parent(pid: int, every_s: float = 1.0) -> None:
    """Pool initializer: exit this worker when the batch process ``pid`` is gone (e.g. kill -9),
    so no orphaned workers keep computing runs nobody will store."""
    import os
    import threading

    def watch() -> None:
        while True:
            time.sleep(every_s)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                os._exit(1)
            except PermissionError:  # pragma: no cover - pid reused by another user's process
                os._exit(1)

    threading.Thread(target=watch, name="negsim-watch-parent", daemon=True).start()


def cached_scenario(path: str) -> Scenario:
    p = Path(path)
    key = (str(p), p.stat().st_mtime)
    sc = _SCENARIOS.get(key)
    if sc is None:
        sc = _SCENARIOS[key] = load_scenario(p)
    return sc


def cached_world(sc: Scenario) -> World:
    w = sc.world
    key = tuple(str(resolve_path(sc, f)) if f.strip() else "" for f in (
        w.towns_file, w.subdistricts_file, w.zones_file, w.borders_file, w.outcomes_file))
    key += tuple(sorted(f.name for f in sc.factions))
    world = _WORLDS.get(key)
    if world is None:
        world = _WORLDS[key] = load_case(sc)
    return world


def simulate_tables(sc: Scenario, seed: int, world: World | None = None
                    ) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Run the model; return its time series (as ``timeseries.csv``) and summary outcomes,
    built by :func:`sim.run.run_tables` (without the per-town table a batch does not keep)."""
    model = simulate(sc, seed, world=world if world is not None else cached_world(sc))
    tables, outcomes = run_tables(model, towns=False)
    return tables.timeseries, outcomes


def execute(spec: RunSpec) -> RunOutput:
    """Run one planned run; never raises for a failure inside the run."""
    t0 = time.perf_counter()
    try:
        sc = apply_params(cached_scenario(spec.scenario_file), spec.params)
        ts, outcomes = simulate_tables(sc, spec.seed)
    except Exception as exc:  # a failing run is data: recorded, and the batch goes on
        tb = traceback.extract_tb(exc.__traceback__)
        where = f" (at {Path(tb[-1].filename).name}:{tb[-1].lineno})" if tb else ""
        return RunOutput(spec, "failed", f"{type(exc).__name__}: {exc}{where}", {}, None,
                         time.perf_counter() - t0)
    return RunOutput(spec, "ok", "", outcomes, ts, time.perf_counter() - t0)
