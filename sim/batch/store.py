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
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import pandas as pd

import sim
from sim import atomic
from sim.batch.plan import Plan
from sim.batch.posterior import DRAW_COLUMN
from sim.batch.worker import RunOutput
from sim.errors import ScenarioError

MANIFEST = "manifest.json"
RUNS = "runs.parquet"
TIMESERIES = "timeseries"
JOURNAL = "_journal.jsonl"
#: Fewer runs than this in a group (scenario, or scenario and point): intervals across runs
#: (5%-95%, bands, boxes) are shown with a warning that they are rough.
FEW_RUNS = 10
ID_COLUMNS = ("run_id", "scenario", "point_id", "replicate", "seed", "status", "error")


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
        lock = open(self.out / ".lock", "a+")  # noqa: SIM115 - held until unlock()
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            raise ScenarioError("another batch is writing to this folder right now", file=self.out,
                                field="--out", fix="wait for it to finish, or choose another --out") from None
        self._lock: IO[str] | None = lock

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

        The same batch resumes; a batch grown with more replicates or more scenarios (same seed,
        sweeps and design; the runs it holds keep their ids and seeds) resumes with the new runs
        added. A folder holding a different batch, or one whose inputs (scenario files, files
        they extend, case data) changed since it started, is an error unless ``overwrite``
        (then it is cleared). A batch started by other code (another commit) resumes with a
        warning, unless ``overwrite``: then it is cleared and run again by this code, so that
        a script regenerating results after a change of the model never reuses older runs.
        """
        if self.out.exists() and not self.out.is_dir():
            raise ScenarioError("exists and is not a folder", file=self.out, field="--out")
        old = self.existing_manifest()
        if old is not None:
            changed = changed_inputs(old, plan)
            if changed and not overwrite:
                raise ScenarioError(
                    f"an input of this batch changed since it started: {changed[0]}"
                    + (f" (and {len(changed) - 1} more)" if len(changed) > 1 else "")
                    + "; resuming would mix results of two versions", file=self.out, field="--out",
                    fix="restore the file as it was, or add --overwrite to start the batch again "
                        "(or choose a new --out)")
            relation = "different" if changed else compare_plan(old, plan)
            if overwrite and old.get("git_commit") != git_commit:
                relation = "different"  # other code: --overwrite starts the batch again
            if relation == "different" and not overwrite:
                raise ScenarioError(
                    "holds a different batch (other seed, sweeps or design, fewer replicates, "
                    "or scenarios left out)", file=self.out, field="--out",
                    fix="choose a new --out folder, or add --overwrite to replace it; a batch "
                        "can grow (more replicates, more scenarios) but not change")
            if relation != "different":
                if old.get("git_commit") != git_commit:
                    import warnings

                    warnings.warn(f"{self.out}: resuming a batch started with code {old.get('git_commit')} "
                                  f"using code {git_commit}; runs from the two may differ", stacklevel=3)
                self.clean_temp()
                self.repair_journal()
                if relation == "grown":
                    self.write_manifest(plan, old.get("git_commit"), created=old.get("created"))
                return set(self.done_rows())
        elif self.out.exists() and any(p.name != ".lock" for p in self.out.iterdir()) and not overwrite:
            raise ScenarioError("is not empty and holds no batch", file=self.out, field="--out",
                                fix="choose a new or empty --out folder, or add --overwrite")
        if overwrite and self.out.exists():
            self._clear()
        self.out.mkdir(parents=True, exist_ok=True)
        self.write_manifest(plan, git_commit)
        return set()

    def existing_manifest(self) -> dict[str, Any] | None:
        """The folder's manifest (None if there is none); a damaged one is a ScenarioError."""
        if not self.manifest_path.exists():
            return None
        return self.manifest()

    def _clear(self) -> None:
        import shutil

        for p in self.out.iterdir():
            if p.name == ".lock":
                continue
            if p.is_dir():
                shutil.rmtree(p)
            else:
                p.unlink()

    def write_manifest(self, plan: Plan, git_commit: str | None, created: str | None = None) -> None:
        manifest = {
            **plan.identity(),
            "points": plan.points,
            "package_version": sim.__version__,
            "git_commit": git_commit,
            "created": created or dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "layout": {"runs": RUNS, "timeseries": f"{TIMESERIES}/scenario=<name>/part-<run_id>.parquet"},
            "runs": [r.manifest_entry() for r in plan.runs],
        }
        if plan.posterior_info is not None:  # a posterior-predictive batch (sim.batch.posterior)
            manifest["posterior_draws"] = plan.posterior_info
        text = json.dumps(manifest, indent=1, default=_json_value) + "\n"
        atomic.write_text(self.manifest_path, text)

    def manifest(self) -> dict[str, Any]:
        if not self.out.is_dir():
            raise ScenarioError("batch folder not found" if not self.out.exists() else "is not a folder",
                                file=self.out, fix="name the --out folder of `negsim batch`")
        if not self.manifest_path.exists():
            raise ScenarioError("holds no batch (no manifest.json)", file=self.out,
                                fix="name a folder written by `negsim batch ... --out FOLDER`")
        return read_manifest(self.manifest_path)

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
            # many parts share a folder: clean_temp() removes a killed batch's temporaries
            with atomic.writing(self.part_path(spec.scenario, spec.run_id), clean=False) as tmp:
                ts.to_parquet(tmp, index=False)
        row = {"run_id": spec.run_id, "scenario": spec.scenario, "point_id": spec.point_id,
               "replicate": spec.replicate, "seed": spec.seed, "status": res.status,
               "error": res.error, "params": spec.params, "outcomes": res.outcomes,
               "model_s": res.model_s}
        if spec.draw is not None:
            row["draw"] = spec.draw
        line = json.dumps(row, default=_json_value) + "\n"
        with open(self.journal_path, "a", encoding="utf-8") as f:
            f.write(line)
            f.flush()

    def done_rows(self) -> dict[str, dict[str, Any]]:
        """Journal rows by run id (the last complete line of each run wins).

        A line cut by a kill or a full disk is not a finished run (it runs again); a complete
        line appended to such a cut (by a batch before the journal was repaired on resume) is
        still read."""
        rows: dict[str, dict[str, Any]] = {}
        if not self.journal_path.exists():
            return rows
        with open(self.journal_path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if not line.endswith("\n"):
                    break  # a line cut by a kill: that run is not done
                row = _journal_row(line)
                if row is not None:
                    rows[row["run_id"]] = row
        return rows

    def repair_journal(self) -> int:
        """Cut a torn last line (a kill or a full disk mid-append) so the next line starts
        clean; returns the bytes removed. Called under the lock before a batch resumes."""
        if not self.journal_path.exists():
            return 0
        with open(self.journal_path, "rb+") as f:
            data = f.read()
            keep = data.rfind(b"\n") + 1
            if keep == len(data):
                return 0
            f.truncate(keep)
            f.flush()
            os.fsync(f.fileno())
        return len(data) - keep

    def forget(self, run_ids: Iterable[str]) -> None:
        """Drop runs from the journal (to run them again), rewriting it atomically."""
        drop = set(run_ids)
        rows = [r for r in self.done_rows().values() if r["run_id"] not in drop]
        text = "".join(json.dumps(r, default=_json_value) + "\n" for r in rows)
        atomic.write_text(self.journal_path, text)

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
        draw_cols = [DRAW_COLUMN] if any("draw" in r for r in rows.values()) else []
        records = []
        for rid in order:
            row = rows.get(rid)
            if row is None:
                continue
            rec = {k: row[k] for k in ID_COLUMNS}
            if draw_cols:
                rec[DRAW_COLUMN] = row.get("draw")
            for k in sweep_cols:
                rec[k] = row["params"].get(k)
            for k in outcome_cols:
                v = row["outcomes"].get(k, math.nan)
                rec[k] = math.nan if v is None else v
            records.append(rec)
        df = pd.DataFrame.from_records(records, columns=[*ID_COLUMNS, *draw_cols, *sweep_cols, *outcome_cols])
        for c in ("point_id", "replicate", "seed", *draw_cols):
            df[c] = df[c].astype("int64")
        with atomic.writing(self.out / RUNS) as tmp:
            df.to_parquet(tmp, index=False)
        return df


def _journal_row(line: str) -> dict[str, Any] | None:
    """One journal line as a row, or None; salvages a complete row written after a torn one."""
    for start in (0, line.rfind('{"run_id"')):
        if start < 0:
            continue
        try:
            row = json.loads(line[start:])
        except json.JSONDecodeError:
            continue
        if isinstance(row, dict) and "run_id" in row:
            return row
    return None


def read_manifest(path: Path) -> dict[str, Any]:
    """A batch's manifest.json; damaged or not a batch manifest: a ScenarioError saying so."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = getattr(exc, "lineno", None)
        raise ScenarioError(f"is damaged (not valid JSON: {getattr(exc, 'msg', exc)})", file=path, line=where,
                            fix="restore it, or run the batch again into a new --out (or with "
                                "--overwrite)") from None
    if not isinstance(data, dict) or not isinstance(data.get("runs"), list) \
            or not isinstance(data.get("scenarios"), dict):
        raise ScenarioError("is not a negsim batch manifest (no runs or scenarios)", file=path,
                            fix="name the --out folder of `negsim batch`")
    return data


def changed_inputs(old: dict[str, Any], plan: Plan) -> list[str]:
    """Input files (scenario files, what they extend, case data) of scenarios in both the
    manifest and the plan whose contents differ; a manifest without hashes of its inputs
    (an older negsim) compares only the scenario files."""
    changed = []
    for name, new in plan.scenarios.items():
        prev = old.get("scenarios", {}).get(name)
        if not isinstance(prev, dict):
            continue
        if prev.get("sha256") != new.get("sha256") or prev.get("file") != new.get("file"):
            changed.append(f"{new.get('file')} (scenario '{name}')")
            continue
        before, now = prev.get("inputs") or {}, new.get("inputs") or {}
        for f in sorted(set(before) | set(now)):
            if before and before.get(f) != now.get(f):
                changed.append(f + (" (no longer read)" if f not in now else " (newly read)"
                                    if f not in before else ""))
    return changed


def compare_plan(old: dict[str, Any], plan: Plan) -> str:
    """``"same"``, ``"grown"`` (more replicates and/or scenarios; every run the folder holds is
    in the plan with the same id, seed and parameters) or ``"different"``."""
    new = json.loads(json.dumps(plan.identity(), default=_json_value))
    fixed = [k for k in new if k not in ("scenarios", "replicates")]
    if any(old.get(k) != new[k] for k in fixed):
        return "different"
    old_runs = old.get("runs", [])
    new_runs = {r.run_id: r for r in plan.runs}
    if not set(old.get("scenarios", {})) <= set(plan.scenarios):
        return "different"
    if not isinstance(old.get("replicates"), int) or old["replicates"] > plan.replicates:
        return "different"
    for r in old_runs:
        spec = new_runs.get(r.get("run_id"))
        if spec is None or spec.seed != r.get("seed") \
                or json.loads(json.dumps(spec.params, default=_json_value)) != r.get("params"):
            return "different"
    return "same" if len(old_runs) == len(plan.runs) and old.get("scenarios") == new["scenarios"] else "grown"


def read_runs_table(out: str | Path) -> pd.DataFrame:
    """``OUT/runs.parquet``; missing or damaged, it is rebuilt from the journal when the folder
    has one, else a ScenarioError says what is wrong."""
    out = Path(out)
    path = out / RUNS
    try:
        runs = pd.read_parquet(path)
        if not set(ID_COLUMNS) <= set(runs.columns):
            raise ValueError("not a negsim runs table")
        return runs
    except Exception as exc:  # pyarrow raises several kinds for a damaged file
        store = BatchStore(out)
        if store.journal_path.exists() and store.manifest_path.exists():
            return store.write_runs_table()
        if not path.exists():
            raise ScenarioError("holds no runs.parquet", file=out,
                                fix="name the --out folder of `negsim batch` (run or resume it first)") from None
        raise ScenarioError(f"is damaged and cannot be rebuilt (no journal): {type(exc).__name__}",
                            file=path, fix="run the batch again into a new --out") from None


def load_runs(out: str | Path) -> pd.DataFrame:
    """The run table of a batch folder (``OUT/runs.parquet``)."""
    return read_runs_table(out)


def is_batch_folder(path: str | Path) -> bool:
    """Whether ``path`` is a batch output folder (it holds a manifest), not a run folder."""
    return (Path(path) / MANIFEST).is_file()


def read_timeseries(out: str | Path, scenario: str | None = None, columns: list[str] | None = None,
                    run_ids: set[str] | None = None) -> pd.DataFrame:
    """The per-run time series of a batch folder (one scenario's, or all), with a ``scenario``
    column; only the runs in ``run_ids`` if given. A part file that cannot be read (damaged, or
    without a requested column) is a ScenarioError naming it; no time series at all, one saying
    so."""
    base = Path(out) / TIMESERIES
    dirs = [base / f"scenario={scenario}"] if scenario else sorted(base.glob("scenario=*"))
    read = [*dict.fromkeys([c for c in columns if c != "scenario"] + ["run_id"])] if columns else None
    frames = []
    for d in dirs:
        name = d.name.split("=", 1)[1]
        for part in sorted(d.glob("part-*.parquet")):  # never the temporary ".part-*" files
            try:
                df = pd.read_parquet(part, columns=read)
            except Exception as exc:  # pyarrow: damaged file, or columns missing
                raise ScenarioError(f"cannot be read ({type(exc).__name__}: {str(exc)[:120]})",
                                    file=part, fix="delete it and rerun the same `negsim batch` "
                                    "command: the run is made again") from None
            if run_ids is not None and len(df) and str(df["run_id"].iloc[0]) not in run_ids:
                continue
            frames.append(df.assign(scenario=name))
    if not frames:
        raise ScenarioError(f"no timeseries found for scenario '{scenario or '*'}'",
                            file=base, fix="run `negsim batch` first, or check the scenario name")
    return pd.concat(frames, ignore_index=True)


def load_timeseries(out: str | Path, columns: list[str] | None = None,
                    scenario: str | None = None) -> pd.DataFrame:
    """All runs' time series of a batch folder in one frame (with a ``scenario`` column)."""
    df = read_timeseries(out, scenario, columns)
    return df[columns] if columns else df
