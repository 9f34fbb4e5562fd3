"""Batch throughput: runs per minute for baseline replicates on N workers.

    python benchmarks/batch_throughput.py                      # 1,000 full-scale runs, 2 workers
    python benchmarks/batch_throughput.py --runs 40 --workers 2   # a quick look

Reports wall time, runs per minute, mean model time per run (inside the worker: build, run,
tables, outcomes) and the share of worker time spent outside the model (start-up, transfer,
writing Parquet parts): ``1 - sum(model time) / (wall time x workers)``. Writes into a
temporary folder that is removed afterwards (``--keep DIR`` to keep the dataset).
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.batch import make_plan, run_batch  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1000, help="baseline replicates (default 1000)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--scheduler", default=None, help="Dask scheduler address or 'local'")
    ap.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "baseline.toml")
    ap.add_argument("--keep", type=Path, default=None, help="keep the dataset in this folder")
    args = ap.parse_args()
    plan = make_plan([args.scenario], replicates=args.runs, root_seed=0)
    tmp = Path(tempfile.mkdtemp(prefix="negsim-bench-"))
    out = args.keep or tmp / "batch"
    try:
        res = run_batch(plan, out, workers=args.workers, scheduler=args.scheduler,
                        progress=sys.stderr.isatty(), overwrite=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report = {
        "runs": res.ran, "failed": len(res.failed), "workers": res.workers,
        "wall_s": round(res.wall_s, 2),
        "runs_per_min": round(res.ran / res.wall_s * 60, 1),
        "model_s_per_run": round(res.model_s / max(res.ran, 1), 3),
        "share_outside_model": round(1 - res.model_s / (res.wall_s * res.workers), 3),
        "python": platform.python_version(), "machine": platform.machine(),
    }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
