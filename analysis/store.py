"""Reading a batch and single-run folders for the analysis.

A batch folder (``negsim batch``) is read only through :mod:`sim.batch.store`, the one owner of
its layout (manifest, runs table, per-run time series); :class:`Batch` adds the analysis' views
(groups, labels, selections).
A run folder (``negsim run``) holds timeseries.csv, events.csv, towns.csv and metadata.json.
Missing or malformed files raise :class:`~sim.errors.ScenarioError` (exit code 2 in the CLI).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.batch.store import FEW_RUNS
from sim.errors import ScenarioError

__all__ = ["FEW_RUNS", "Batch", "Run", "load_batch", "load_run"]


@dataclass
class Batch:
    """A batch in memory: the manifest, the finished runs and (lazily) their timeseries."""

    root: Path
    manifest: dict[str, Any]
    runs: pd.DataFrame

    @property
    def scenarios(self) -> list[str]:
        """Scenario names in manifest order (those with at least one finished run)."""
        order = list(self.manifest.get("scenarios", {}))
        have = set(self.ok_runs()["scenario"])
        return [s for s in order if s in have] + sorted(have - set(order))

    def select(self, names: list[str] | None) -> Batch:
        """The same batch restricted to some scenarios (all if ``names`` is empty)."""
        if not names:
            return self
        unknown = [n for n in names if n not in set(self.runs["scenario"])]
        if unknown:
            raise ScenarioError(f"no runs of scenario(s) {', '.join(unknown)} in this batch", file=self.root,
                                field="--scenarios", fix="one of: " + ", ".join(self.scenarios))
        man = dict(self.manifest, scenarios={n: self.manifest.get("scenarios", {}).get(n, {}) for n in names})
        return Batch(self.root, man, self.runs[self.runs["scenario"].isin(names)])

    def swept_columns(self) -> list[str]:
        """Swept parameters (``group.field`` columns of runs.parquet) whose value varies."""
        runs = self.runs
        return [c for c in runs.columns if "." in c and runs[c].astype(str).nunique() > 1]

    def by_point(self) -> bool:
        """Whether the batch has several parameter points (then results are per point)."""
        return "point_id" in self.runs and self.runs["point_id"].nunique() > 1

    def group_labels(self, runs: pd.DataFrame | None = None) -> pd.Series:
        """A label per run: its scenario, and when the batch has several parameter points, the
        point and its swept values (``baseline p2 bombardment_capacity=40``), never pooled."""
        runs = self.runs if runs is None else runs
        label = runs["scenario"].astype(str)
        if not self.by_point():
            return label
        label = label + " p" + runs["point_id"].astype(int).astype(str)
        for c in self.swept_columns():
            label = label + " " + c.split(".", 1)[1] + "=" + runs[c].map(_short)
        return label

    def groups(self) -> list[tuple[str, pd.DataFrame]]:
        """(label, finished runs) per scenario, or per scenario and point: scenarios in manifest
        order, points in numeric order."""
        ok = self.ok_runs()
        order = {s: i for i, s in enumerate(self.scenarios)}
        key = ok["scenario"].map(order).fillna(len(order)).astype(int) * 10**9 + (
            ok["point_id"].astype(int) if "point_id" in ok else 0)
        ok = ok.assign(_label=self.group_labels(ok), _key=key).sort_values("_key", kind="stable")
        return [(str(lab), g.drop(columns=["_label", "_key"]))
                for lab, g in ok.groupby("_label", sort=False)]

    def ok_runs(self) -> pd.DataFrame:
        if "status" in self.runs:
            return self.runs[self.runs["status"] == "ok"]
        return self.runs

    def timeseries(self, scenario: str | None = None, columns: list[str] | None = None) -> pd.DataFrame:
        """The per-run timeseries of one scenario (or all), with a ``scenario`` column."""
        from sim.batch.store import read_timeseries

        return read_timeseries(self.root, scenario, columns, run_ids=set(self.ok_runs()["run_id"].astype(str)))


def _short(v: object) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def load_batch(path: str | Path) -> Batch:
    """Open a batch folder written by ``negsim batch``."""
    from sim.batch.store import MANIFEST, RUNS, BatchStore, is_batch_folder, read_manifest, read_runs_table

    root = Path(path)
    runs_p = root / RUNS
    if not root.is_dir():
        raise ScenarioError("batch folder not found", file=root, fix="give the OUT folder of `negsim batch`")
    if not is_batch_folder(root):
        raise ScenarioError(f"not a batch folder: {MANIFEST} is missing", file=root,
                            fix=f"give the OUT folder of `negsim batch` (it holds {MANIFEST})")
    manifest = read_manifest(BatchStore(root).manifest_path)
    runs = read_runs_table(root)
    missing = [c for c in ("run_id", "scenario") if c not in runs.columns]
    if missing:
        raise ScenarioError(f"runs.parquet has no column(s) {', '.join(missing)}", file=runs_p,
                            fix="give the OUT folder of `negsim batch`")
    if not len(runs):
        raise ScenarioError("the batch has no finished runs yet", file=runs_p,
                            fix="run or resume the batch with `negsim batch`")
    return Batch(root, manifest, runs)


@dataclass
class Run:
    """A single run folder in memory."""

    root: Path
    timeseries: pd.DataFrame
    events: pd.DataFrame
    towns: pd.DataFrame
    metadata: dict[str, Any]


def load_run(path: str | Path) -> Run:
    """Open a run folder written by ``negsim run``."""
    root = Path(path)
    files = ("timeseries.csv", "events.csv", "towns.csv", "metadata.json")
    missing = [n for n in files if not (root / n).is_file()]
    if missing:
        raise ScenarioError(f"not a run folder: missing {', '.join(missing)}", file=root,
                            fix="give an output folder of `negsim run`, e.g. runs/baseline/0")
    try:
        meta = json.loads((root / "metadata.json").read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"is damaged (not valid JSON: {getattr(exc, 'msg', exc)})",
                            file=root / "metadata.json", line=getattr(exc, "lineno", None),
                            fix="run the scenario again (negsim run ... --out RUN)") from None
    if not isinstance(meta, dict):
        raise ScenarioError("is not a negsim run's metadata", file=root / "metadata.json",
                            fix="run the scenario again (negsim run ... --out RUN)")
    tables = {}
    columns: tuple[tuple[str, tuple[str, ...]], ...] = (
        ("timeseries.csv", ("day", "displaced_total", "negotiation_state")),
        ("events.csv", ("day", "kind", "actor", "target")),
        ("towns.csv", ("day", "town_id", "controller", "population_present")))
    for name, need in columns:
        try:
            df = pd.read_csv(root / name, keep_default_na=name != "events.csv")
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise ScenarioError(f"is damaged ({type(exc).__name__})", file=root / name,
                                fix="run the scenario again (negsim run ... --out RUN)") from None
        gone = [c for c in need if c not in df.columns]
        if gone or (name != "events.csv" and df.empty):
            raise ScenarioError(f"is not a negsim run's table (missing {', '.join(gone) or 'rows'})",
                                file=root / name, fix="run the scenario again (negsim run ... --out RUN)")
        tables[name] = df
    return Run(root, tables["timeseries.csv"], tables["events.csv"], tables["towns.csv"], meta)
