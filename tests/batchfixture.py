"""A small writer of batch folders in the batch engine's store layout, for tests of the analysis.

It mirrors the contract of ``negsim batch`` (manifest.json, runs.parquet, timeseries/scenario=*/)
using ``sim.run.simulate/collect`` directly, so the figure tests do not depend on the engine.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from sim.run import collect, simulate
from sim.scenario.loader import file_sha256, load_scenario


def small_scenario_file(folder: Path, name: str, scale: float = 0.02, extends: Path | None = None,
                        extra: str = "") -> Path:
    """A scenario file extending the baseline at a small population (data paths made absolute)."""
    root = Path(__file__).resolve().parents[1] / "scenarios"
    data = root / "data" / "daraa2018"
    path = folder / f"{name}.toml"
    path.write_text(
        f'extends = "{(extends or root / "baseline.toml").as_posix()}"\nname = "{name}"\n{extra}\n'
        f"[world]\npopulation_scale = {scale}\n"
        + "".join(f'{k}_file = "{(data / f).as_posix()}"\n' for k, f in
                  (("towns", "towns.csv"), ("subdistricts", "subdistricts.csv"), ("zones", "zones.csv"),
                   ("borders", "borders.csv"))), encoding="utf-8")
    return path


def write_batch(out: Path, files: list[Path], replicates: int = 2, root_seed: int = 1) -> Path:
    """Run every scenario file ``replicates`` times and store the batch in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    runs, rows = [], []
    scenarios = {}
    for f in files:
        sc = load_scenario(f)
        scenarios[sc.name] = (sc, f)
    for si, (name, (sc, _f)) in enumerate(scenarios.items()):
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
                "scenarios": {n: {"file": str(f.resolve()), "sha256": file_sha256(f)}
                              for n, (_sc, f) in scenarios.items()},
                "design": "replicates", "sweeps": {}, "replicates": replicates,
                "package_version": "test", "git_commit": None, "created": "", "runs": runs}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return out
