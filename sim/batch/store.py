"""The batch output folder: a tidy dataset written as runs finish, resumable after a crash.

Layout (a contract other parts of negsim read)::

    OUT/manifest.json                                  the plan: seeds, scenarios, sweeps, runs
    OUT/runs.parquet                                   one row per finished run
    OUT/timeseries/scenario=<name>/part-<run_id>.parquet   one run's time series
    OUT/_journal.jsonl                                 one line per finished run (for resuming)

Every file appears whole or not at all: it is written to a temporary name starting with "."
(which Parquet readers skip) and renamed into place. A run counts as done once its journal line
is complete; its part file is renamed into place before that line is written, so a run killed
half-way is simply run again. ``runs.parquet`` is rebuilt from the journal in plan order, so an
interrupted-and-resumed batch ends with exactly the dataset of an uninterrupted one.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pandas as pd

import sim
from sim.atomic import umask
from sim.batch.plan import Plan
from sim.batch.worker import RunOutput
from sim.errors import ScenarioError

MANIFEST = "manifest.json"
RUNS = "runs.parquet"
TIMESERIES = "timeseries"
JOURNAL = "_journal.jsonl"
ID_COLUMNS = ("run_id", "scenario", "point_id", "replicate", "seed", "status", "error")


def atomic_write(path: Path, write: Callable[[Path], None]) -> Path:
    """Write ``path`` through ``write(tmp)`` on a hidden temp file in the same folder, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~umask())  # mkstemp makes 0600; give the file the usual mode
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _json_value(v: Any) -> Any:
    if hasattr(v, "item"):  # numpy scalars
        v = v.item()
    return v


class BatchStore:
    """Reads and writes one batch output folder."""

    def __init__(self, out: str | Path) -> None:
        self.out = Path(out)

    # --- paths ---------------------------------------------------------------------------------
    @property
    def manifest_path(self) -> Path:
        return self.out / MANIFEST

    @property
    def journal_path(self) -> Path:
        return self.out / JOURNAL

    def part_path(self, scenario: str, run_id: str) -> Path:
        return self.out / TIMESERIES / f"scenario={scenario}" / f"part-{run_id}.parquet"

    # --- one writer at a time ------------------------------------------------------------------
    def lock(self) -> None:
        """Hold an exclusive lock on the folder (released on exit, even after kill -9)."""
        import fcntl

        self._made_dir = not self.out.exists()
        self.out.mkdir(parents=True, exist_ok=True)
        self._lock = open(self.out / ".lock", "a+")  # noqa: SIM115 - held until unlock()
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            raise ScenarioError("another batch is writing to this folder right now", file=self.out,
                                field="--out", fix="wait for it to finish, or choose another --out") from None

    def unlock(self) -> None:
        lock = getattr(self, "_lock", None)
        if lock is not None:
            if not self.manifest_path.exists():  # not a batch folder: leave no trace
                (self.out / ".lock").unlink(missing_ok=True)
                if getattr(self, "_made_dir", False) and not any(self.out.iterdir()):
                    self.out.rmdir()
            lock.close()
            self._lock = None

    # --- the manifest --------------------------------------------------------------------------
    def open(self, plan: Plan, *, git_commit: str | None, overwrite: bool = False) -> set[str]:
        """Prepare the folder for ``plan``; return the run ids already done (when resuming).

        A folder holding a different batch is an error unless ``overwrite`` (then it is cleared).
        """
        if self.out.exists() and not self.out.is_dir():
            raise ScenarioError("exists and is not a folder", file=self.out, field="--out")
        if self.manifest_path.exists():
            old = json.loads(self.manifest_path.read_text(encoding="utf-8"))
            same = ({k: old.get(k) for k in plan.identity()} == json.loads(json.dumps(plan.identity()))
                    and [r["run_id"] for r in old.get("runs", [])] == [r.run_id for r in plan.runs]
                    and [r["seed"] for r in old.get("runs", [])] == [r.seed for r in plan.runs])
            if not same and not overwrite:
                raise ScenarioError(
                    "holds a different batch (other scenarios, sweeps, seed or replicates)",
                    file=self.out, field="--out",
                    fix="choose a new --out folder, or add --overwrite to replace it")
            if same:
                if old.get("git_commit") != git_commit:
                    import warnings

                    warnings.warn(f"{self.out}: resuming a batch started with code {old.get('git_commit')} "
                                  f"using code {git_commit}; runs from the two may differ", stacklevel=3)
                self.clean_temp()
                return set(self.done_rows())
        elif self.out.exists() and any(p.name != ".lock" for p in self.out.iterdir()) and not overwrite:
            raise ScenarioError("is not empty and holds no batch", file=self.out, field="--out",
                                fix="choose a new or empty --out folder, or add --overwrite")
        if overwrite and self.out.exists():
            self._clear()
        self.out.mkdir(parents=True, exist_ok=True)
        self.write_manifest(plan, git_commit)
        return set()

    def _clear(self) -> None:
        import shutil

        for p in self.out.iterdir():
            if p.name == ".lock":
                continue
            if p.is_dir():
                shutil.rmtree(p)
            else:
                p.unlink()

    def write_manifest(self, plan: Plan, git_commit: str | None) -> None:
        manifest = {
            **plan.identity(),
            "points": plan.points,
            "package_version": sim.__version__,
            "git_commit": git_commit,
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "layout": {"runs": RUNS, "timeseries": f"{TIMESERIES}/scenario=<name>/part-<run_id>.parquet"},
            "runs": [r.manifest_entry() for r in plan.runs],
        }
        text = json.dumps(manifest, indent=1, default=_json_value) + "\n"
        atomic_write(self.manifest_path, lambda p: p.write_text(text, encoding="utf-8"))

    def manifest(self) -> dict[str, Any]:
        if not self.manifest_path.exists():
            raise ScenarioError("holds no batch (no manifest.json)", file=self.out,
                                fix="name a folder written by `negsim batch ... --out FOLDER`")
        return json.loads(self.manifest_path.read_text(encoding="utf-8"))

    def clean_temp(self) -> None:
        """Remove temp files a killed batch left behind (names starting with '.')."""
        for p in self.out.rglob(".*.tmp"):
            p.unlink(missing_ok=True)

    # --- streaming results ---------------------------------------------------------------------
    def record(self, res: RunOutput) -> None:
        """Store one finished run: its part file first (atomically), then its journal line."""
        spec = res.spec
        if res.timeseries is not None:
            ts = res.timeseries.copy()
            ts["run_id"] = spec.run_id
            ts["point_id"] = spec.point_id
            ts["replicate"] = spec.replicate
            ts["seed"] = spec.seed
            atomic_write(self.part_path(spec.scenario, spec.run_id),
                         lambda p: ts.to_parquet(p, index=False))
        row = {"run_id": spec.run_id, "scenario": spec.scenario, "point_id": spec.point_id,
               "replicate": spec.replicate, "seed": spec.seed, "status": res.status,
               "error": res.error, "params": spec.params, "outcomes": res.outcomes,
               "model_s": res.model_s}
        line = json.dumps(row, default=_json_value) + "\n"
        with open(self.journal_path, "a", encoding="utf-8") as f:
            f.write(line)
            f.flush()

    def done_rows(self) -> dict[str, dict[str, Any]]:
        """Journal rows by run id (the last complete line of each run wins)."""
        rows: dict[str, dict[str, Any]] = {}
        if not self.journal_path.exists():
            return rows
        with open(self.journal_path, encoding="utf-8") as f:
            for line in f:
                if not line.endswith("\n"):
                    break  # a line cut by a kill: that run is not done
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    continue
                rows[row["run_id"]] = row
        return rows

    def forget(self, run_ids: Iterable[str]) -> None:
        """Drop runs from the journal (to run them again), rewriting it atomically."""
        drop = set(run_ids)
        rows = [r for r in self.done_rows().values() if r["run_id"] not in drop]
        text = "".join(json.dumps(r, default=_json_value) + "\n" for r in rows)
        atomic_write(self.journal_path, lambda p: p.write_text(text, encoding="utf-8"))

    def write_runs_table(self, plan_order: list[str] | None = None) -> pd.DataFrame:
        """Rebuild ``runs.parquet`` from the journal, in plan order; returns the table."""
        rows = self.done_rows()
        order = plan_order or [r["run_id"] for r in self.manifest()["runs"]]
        sweep_cols: list[str] = []
        outcome_cols: list[str] = []
        for rid in order:
            row = rows.get(rid)
            if row is None:
                continue
            for k in row["params"]:
                if k not in sweep_cols:
                    sweep_cols.append(k)
            if not outcome_cols and row["outcomes"]:
                outcome_cols = list(row["outcomes"])
        records = []
        for rid in order:
            row = rows.get(rid)
            if row is None:
                continue
            rec = {k: row[k] for k in ID_COLUMNS}
            for k in sweep_cols:
                rec[k] = row["params"].get(k)
            for k in outcome_cols:
                v = row["outcomes"].get(k, math.nan)
                rec[k] = math.nan if v is None else v
            records.append(rec)
        df = pd.DataFrame.from_records(records, columns=[*ID_COLUMNS, *sweep_cols, *outcome_cols])
        for c in ("point_id", "replicate", "seed"):
            df[c] = df[c].astype("int64")
        atomic_write(self.out / RUNS, lambda p: df.to_parquet(p, index=False))
        return df


def load_runs(out: str | Path) -> pd.DataFrame:
    """The run table of a batch folder (``OUT/runs.parquet``)."""
    return pd.read_parquet(Path(out) / RUNS)


def load_timeseries(out: str | Path, columns: list[str] | None = None,
                    scenario: str | None = None) -> pd.DataFrame:
    """All runs' time series of a batch folder in one frame (with a ``scenario`` column)."""
    filters = [("scenario", "==", scenario)] if scenario else None
    df = pd.read_parquet(Path(out) / TIMESERIES, columns=columns, filters=filters)
    if "scenario" in df:
        df["scenario"] = df["scenario"].astype(str)
    return df
