"""A small writer of batch folders in the batch engine's store layout, for tests of the analysis.

It mirrors the contract of ``negsim batch`` (manifest.json, runs.parquet, timeseries/scenario=*/)
using ``sim.run.simulate/collect`` directly, so the figure tests do not depend on the engine.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from sim.run import collect, simulate
from sim.scenario.schema import Scenario


def write_batch(out: Path, scenarios: dict[str, Scenario], replicates: int = 2,
                root_seed: int = 1) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    runs, rows = [], []
    for si, (name, sc) in enumerate(scenarios.items()):
        tdir = out / "timeseries" / f"scenario={name}"
        tdir.mkdir(parents=True, exist_ok=True)
        for rep in range(replicates):
            seed = root_seed * 1000 + si * 100 + rep
            run_id = f"{name}-p0-r{rep}"
            res = collect(simulate(sc, seed))
            ts = res.timeseries.assign(run_id=run_id, point_id=0, replicate=rep, seed=seed)
            ts.to_parquet(tdir / f"part-{run_id}.parquet", index=False)
            runs.append({"run_id": run_id, "scenario": name, "point_id": 0, "replicate": rep,
                         "seed": seed, "params": {}})
            rows.append({"run_id": run_id, "scenario": name, "point_id": 0, "replicate": rep,
                         "seed": seed, "status": "ok", "error": "", **res.outcomes})
    pd.DataFrame(rows).to_parquet(out / "runs.parquet", index=False)
    manifest = {"root_seed": root_seed,
                "scenarios": {n: {"file": f"{n}.toml", "sha256": ""} for n in scenarios},
                "design": "replicates", "sweeps": {}, "replicates": replicates,
                "package_version": "test", "git_commit": None, "created": "", "runs": runs}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return out
