"""Running one scenario: simulate, collect the outputs, write them atomically.

Every run is reproducible from (scenario file, seed, code version); ``metadata.json`` records
all three (the file's SHA-256, the resolved parameters, the package version and git commit).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import platform
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import sim
from sim import atomic
from sim.model import EVENT_COLUMNS, NegotiationModel
from sim.outcomes import RunTables, summarize_tables
from sim.rules.territory import Control
from sim.scenario.loader import file_sha256, load_scenario, scenario_source
from sim.scenario.schema import Scenario
from sim.world.case import World


@dataclass
class RunResult:
    """Everything one run produced, in memory."""

    scenario: Scenario
    seed: int
    timeseries: pd.DataFrame
    events: pd.DataFrame
    towns: pd.DataFrame
    metadata: dict[str, Any]
    outcomes: dict[str, Any] = field(default_factory=dict)


def git_commit() -> str | None:
    """The code's git commit (with '-dirty' if the tree has changes), or None outside git."""
    root = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                              text=True, timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--", "sim",
                                "scenarios"], capture_output=True, text=True, timeout=5).stdout
        return head + ("-dirty" if dirty.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def _times(start: dt.date, days: np.ndarray) -> list[str]:
    t0 = dt.datetime.combine(start, dt.time())
    return [(t0 + dt.timedelta(days=float(d))).isoformat() for d in days]


def _towns_table(town_days: list[tuple], w: World) -> pd.DataFrame:
    """One row per town per recorded day, built in one go from the stacked daily arrays."""
    T, D = w.n_towns, len(town_days)
    days, ctl, present, at_home, away, deaths = (list(c) for c in zip(*town_days, strict=True))
    names = np.array([c.name.lower() for c in Control], dtype=object)
    return pd.DataFrame({
        "day": np.repeat(np.asarray(days, dtype=np.float64), T),
        "town_id": np.tile(np.asarray(w.town_id, dtype=object), D),
        "name": np.tile(np.asarray(w.name, dtype=object), D),
        "controller": names[np.concatenate(ctl).astype(np.intp)],
        "population_present": np.concatenate(present), "at_home": np.concatenate(at_home),
        "displaced_out": np.concatenate(away), "deaths_cum": np.concatenate(deaths)})


def zone_dict(z: Any) -> dict[str, Any]:
    """A case zone as plain data (for metadata.json and the figures)."""
    return {"id": z.id, "name": z.name, "kind": z.kind, "lat": z.lat, "lon": z.lon,
            "border": z.border, "column": z.column, "crossed_column": z.crossed_column,
            "arrived_column": z.arrived_column}


def events_frame(model: NegotiationModel) -> pd.DataFrame:
    """A model's events as a table (without the ISO ``time`` column)."""
    return pd.DataFrame(model.events, columns=["day", "kind", "actor", "target", "detail", "value"])


def simulate(scenario: Scenario, seed: int, world: World | None = None) -> NegotiationModel:
    """Build and run the model to its horizon."""
    model = NegotiationModel(scenario, seed=seed, world=world)
    model.run()
    return model


def run_tables(model: NegotiationModel, towns: bool = True) -> tuple[RunTables, dict[str, Any]]:
    """A finished model's tables, as its files hold them (time series with its ISO ``time``;
    with ``towns``, also the events' ``time`` and the per-town table), and its summary outcomes. The one builder of
    a run's tables: :func:`collect` (``negsim run``) and the batch worker both use it (a batch
    keeps no per-town table)."""
    start = model.params.time.start_date
    ts = pd.DataFrame(model.rows, columns=list(model.timeseries_columns))
    ts["time"] = _times(start, ts["day"].to_numpy())
    ev = events_frame(model)
    town_table = None
    if towns:  # the files' tables; a batch keeps only the time series (no event times needed)
        ev.insert(0, "time", _times(start, ev["day"].to_numpy()))
        ev = ev[list(EVENT_COLUMNS)]
        town_table = _towns_table(model.town_days, model.world)
        town_table.insert(0, "time", _times(start, town_table["day"].to_numpy()))
    tables = RunTables(ts, ev, town_table, tuple(model.bloc_names))
    return tables, summarize_tables(tables, model.world.outcomes)


def collect(model: NegotiationModel, wall_s: float | None = None) -> RunResult:
    """Turn a finished model into tables and metadata."""
    sc = model.params
    tables, outcomes = run_tables(model)
    ts, ev, towns = tables.timeseries, tables.events, tables.towns
    assert towns is not None
    w = model.world
    src = scenario_source(model.params)
    meta = {
        "scenario_name": sc.name,
        "scenario_file": str(src) if src else None,
        "scenario_sha256": file_sha256(src) if src else None,
        "seed": model.seed,
        "package_version": sim.__version__,
        "git_commit": git_commit(),
        "python": platform.python_version(),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "wall_time_s": wall_s,
        "ticks": model.n_ticks,
        "households": int(len(model.civilians.home)),
        "persons": int(model.civilians.initial),
        "case_files": list(w.source_files),
        "blocs": list(model.bloc_names),
        "case_outcomes": [[o.name, o.unit, o.description] for o in w.outcomes],
        "zones": [zone_dict(z) for z in w.zones],
        "parameters": sc.model_dump(mode="json"),
    }
    res = RunResult(sc, model.seed, ts, ev, towns, meta, outcomes)
    meta["outcomes"] = outcomes
    return res


def run_file(path: str | Path, seed: int = 0) -> RunResult:
    """Load a scenario file, run it with ``seed`` and collect the results."""
    sc = load_scenario(path)
    t0 = time.perf_counter()
    model = simulate(sc, seed)
    return collect(model, wall_s=time.perf_counter() - t0)


def default_out_dir(result: RunResult | str, seed: int | None = None) -> Path:
    """``runs/<scenario name>/<seed>``, the name made a safe folder name (never a path)."""
    from sim.outdir import safe_name

    if isinstance(result, RunResult):
        name, seed = result.scenario.name, result.seed
    else:
        name = result
    return Path("runs") / safe_name(name) / str(seed)


def input_files(sc: Scenario) -> list[Path]:
    """The files a scenario is built from: its ``extends`` chain and its case data."""
    from sim.scenario.loader import case_files, resolve_chain

    src = scenario_source(sc)
    return [*(resolve_chain(src) if src is not None else []), *case_files(sc).values()]


def write_outputs(result: RunResult, out_dir: str | Path,
                  extra: dict[str, Any] | None = None) -> Path:
    """Write a run's files into ``out_dir`` atomically: all of them appear, or none.

    Files are written into a temporary folder beside ``out_dir`` that is then renamed into
    place; an existing ``out_dir`` is replaced only after the new one is complete.
    ``extra`` maps file names to callables ``f(path)`` that write more files (e.g. plots).
    """
    out = Path(out_dir)
    with atomic.folder(out) as tmp:
        result.timeseries.to_csv(tmp / "timeseries.csv", index=False)
        with contextlib.suppress(ImportError):
            result.timeseries.to_parquet(tmp / "timeseries.parquet", index=False)
        result.events.to_csv(tmp / "events.csv", index=False)
        result.towns.to_csv(tmp / "towns.csv", index=False)
        (tmp / "metadata.json").write_text(json.dumps(result.metadata, indent=2, default=str)
                                           + "\n", encoding="utf-8")
        for name, writer in (extra or {}).items():
            writer(tmp / name)
    return out
