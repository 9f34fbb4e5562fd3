"""``negsim batch``: run scenario batches; ``negsim batch summarize OUT``: tabulate one.

    negsim batch scenarios/*.toml --replicates 100 --out batches/library
    negsim batch scenarios/baseline.toml --replicates 20 \\
        --sweep "regime.bombardment_capacity=20:80:4" --sweep "mediator.phases=1,2,3" --out batches/sweep
    negsim batch summarize batches/library
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import pandas as pd

from sim.errors import ScenarioError

#: Outcomes printed by ``summarize`` (the CSV has every numeric outcome).
SHOWN = ("displaced_day16", "peak_displaced", "peak_day", "deaths_day16", "deaths_day60",
         "deaths_day28", "deaths_final", "regime_share_day28", "collapses", "first_collapse_day",
         "deal_day", "evacuated", "returned", "crossed_to_jordan", "arrived_government")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "batch", help="run many scenarios x parameter points x replicates (or: batch summarize OUT)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run every (scenario, parameter point, replicate) and write a tidy dataset to "
                    "--out: runs.parquet (one row per run), timeseries/scenario=<name>/part-<run_id>"
                    ".parquet and manifest.json. Rerunning the same command resumes an interrupted "
                    "batch; rerunning it with more replicates or more scenarios runs only the new "
                    "runs.\n\n  negsim batch summarize OUT [--csv FILE]   median and 90% interval of "
                    "the summary outcomes per scenario and parameter point (see its --help)")
    p.add_argument("scenarios", nargs="+", metavar="SCENARIO", help="scenario TOML files")
    p.add_argument("--replicates", "-r", type=int, default=1, help="replicates per point (default 1)")
    p.add_argument("--sweep", action="append", default=[], metavar="PATH=SPEC",
                   help="sweep a parameter: PATH=LO:HI:N (N values), PATH=A,B,C (listed), or "
                        "PATH=LO:HI (a range for --design lhs/sobol); PATH is group.field "
                        "(e.g. regime.bombardment_capacity; alias bombardment.capacity)")
    p.add_argument("--design", choices=("grid", "lhs", "sobol"), default="grid",
                   help="how sweeps make points: every combination (grid, default), Latin "
                        "hypercube or Sobol sequence with --samples N")
    p.add_argument("--samples", type=int, default=None, help="points for --design lhs/sobol")
    p.add_argument("--seed", type=int, default=0, help="root seed of the batch (default 0)")
    p.add_argument("--crn", action="store_true",
                   help="common random numbers: replicate r uses the same seed in every scenario "
                        "and point (paired comparisons)")
    p.add_argument("--posterior", type=Path, default=None, metavar="PARQUET",
                   help="draw each run's calibrated parameters from this ABC posterior (e.g. "
                        "calibration/daraa2018/posterior.parquet): bands then include parameter uncertainty; "
                        "values the scenario file or a sweep sets win")
    p.add_argument("--generation", default="last", metavar="last|N",
                   help="(with --posterior) the ABC generation to draw from (default last)")
    p.add_argument("--workers", "-j", type=int, default=None,
                   help="worker processes (default: all cores; 1 runs in this process)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run on a Dask cluster (tcp://host:8786), or 'local' for a LocalCluster")
    p.add_argument("--out", "-o", type=Path, default=None, help="output folder, e.g. batches/NAME")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an output folder holding a different batch, or one "
                        "started by other code (a different commit): run it again")
    p.add_argument("--retry-failed", action="store_true",
                   help="when resuming, run failed runs again")
    p.add_argument("--max-runs", type=int, default=None, metavar="N",
                   help="refuse a plan of more than N runs, checked before planning (default "
                        "1,000,000)")
    p.set_defaults(func=cmd_batch)
    # `negsim batch summarize OUT`: its own parser (sim.cli rewrites the two words to this name).
    s = sub.add_parser("batch-summarize", prog="negsim batch summarize",
                       description="Median and 90% interval (5th-95th percentile) of every summary "
                                   "outcome of a batch, per scenario and parameter point (with the "
                                   "swept values); prints the main outcomes and writes the whole table.")
    s.add_argument("out", type=Path, metavar="OUT", help="batch folder (the --out of negsim batch)")
    s.add_argument("--csv", type=Path, default=None,
                   help="where to write the table (default OUT/summary.csv)")
    s.set_defaults(func=lambda a: cmd_summarize(a.out, a.csv, quiet=a.quiet))


def cmd_batch(args: argparse.Namespace) -> int:
    from sim.batch.api import progress_enabled, run_batch
    from sim.batch.plan import make_plan

    if args.out is None:
        raise ScenarioError("--out is required", field="--out", fix="e.g. --out batches/mybatch")
    if args.workers is not None and args.workers < 1:
        raise ScenarioError("must be at least 1", field="--workers")
    if args.max_runs is not None and args.max_runs < 1:
        raise ScenarioError("must be at least 1", field="--max-runs")
    if args.scheduler is not None:
        from sim.batch.executors import check_scheduler_address

        check_scheduler_address(args.scheduler)
    plan = make_plan(args.scenarios, replicates=args.replicates, sweeps=args.sweep,
                     design=args.design, samples=args.samples, root_seed=args.seed,
                     common_random_numbers=args.crn, posterior=args.posterior,
                     generation=args.generation, max_runs=args.max_runs)
    if not args.quiet:
        print(f"batch {args.out}: {len(plan.scenarios)} scenario(s) x {len(plan.points)} point(s) x "
              f"{plan.replicates} replicate(s) = {len(plan.runs)} runs", file=sys.stderr)
        if plan.posterior_info is not None:
            _say_posterior(plan.posterior_info)
    res = run_batch(plan, args.out, workers=args.workers, scheduler=args.scheduler,
                    progress=progress_enabled(args.quiet), overwrite=args.overwrite,
                    retry_failed=args.retry_failed)
    if not args.quiet:
        rate = res.ran / res.wall_s * 60 if res.wall_s > 0 and res.ran else math.nan
        print(f"ran {res.ran} run(s) ({res.skipped} already done) in {res.wall_s:.1f} s on "
              f"{res.workers} worker(s): {rate:,.0f} runs/min; dataset: {res.out}/", file=sys.stderr)
    if res.failed:
        print(f"{len(res.failed)} run(s) failed:", file=sys.stderr)
        for f in res.failed:
            print(f"  {f['run_id']} {f['params']}: {f['error']}", file=sys.stderr)
    if res.interrupted:
        print(f"{len(res.interrupted)} run(s) not finished: a worker process died (the machine's "
              "failure, not the runs'; e.g. out of memory or killed). Rerun the same command to "
              "resume them:", file=sys.stderr)
        for f in res.interrupted[:10]:
            print(f"  {f['run_id']}: {f['error']}", file=sys.stderr)
        return 3
    return 1 if res.failed else 0


def _say_posterior(info: dict) -> None:
    """Tell the user what is drawn, and which scenarios keep their own values of what."""
    n = len(info["parameters"])
    print(f"parameters drawn from {info['file']} (generation {info['generation']}, "
          f"{info['particles']} particles, effective sample size {info['effective_sample_size']:.1f}): "
          f"{n} parameter(s)", file=sys.stderr)
    for name, kept in info["kept_from_scenario"].items():
        if kept:
            print(f"  {name} sets {len(kept)} of them itself (not drawn): {', '.join(kept)}", file=sys.stderr)


def point_columns(runs: pd.DataFrame, param_cols: list[str]) -> list[str]:
    """The parameter columns that label a point: constant within each (scenario, point).

    Posterior draws vary within a point, so they are not part of it."""
    if not param_cols or runs.empty:
        return list(param_cols)
    within = runs.groupby(["scenario", "point_id"])[param_cols].nunique(dropna=False).max()
    return [c for c in param_cols if within[c] <= 1]


def summary_table(runs: pd.DataFrame, by_point: bool | None = None) -> pd.DataFrame:
    """Median and 90% interval (5th-95th percentile) of every numeric outcome, per scenario
    (and per parameter point if ``by_point``; by default when there are several); failed runs
    are left out."""
    from sim.batch.posterior import DRAW_COLUMN
    from sim.batch.store import ID_COLUMNS

    ok = runs[runs["status"] == "ok"]
    param_cols = [c for c in runs.columns if "." in c]
    outcome_cols = [c for c in runs.columns if c not in ID_COLUMNS and c not in param_cols
                    and c != DRAW_COLUMN and pd.api.types.is_numeric_dtype(runs[c])]
    if by_point is None:
        by_point = runs["point_id"].nunique() > 1
    keys = ["scenario", "point_id", *point_columns(runs, param_cols)] if by_point else ["scenario"]
    long = ok.melt(id_vars=keys, value_vars=outcome_cols, var_name="outcome")
    g = long.groupby([*keys, "outcome"], sort=False, dropna=False)["value"]
    out = pd.DataFrame({"n": g.count(), "median": g.median(), "q05": g.quantile(0.05),
                        "q95": g.quantile(0.95)}).reset_index()
    return out


def _short(v: object) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _fmt(v: float) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def cmd_summarize(out: Path, csv: Path | None, quiet: bool = False) -> int:
    from sim import atomic
    from sim.batch.store import FEW_RUNS, BatchStore, read_runs_table

    store = BatchStore(out)
    manifest = store.manifest()  # a clear error if OUT is not a batch
    runs = read_runs_table(out)  # rebuilt from the journal if missing or damaged
    if runs.empty:
        raise ScenarioError("has no finished runs yet", file=out)
    # Every parameter point is its own row (grid, lhs or sobol alike): pooling points would mix
    # different parameter values into one interval.
    table = summary_table(runs, by_point=runs["point_id"].nunique() > 1)
    order = {s: i for i, s in enumerate(manifest.get("scenarios", {}))}
    keys = ["scenario", "point_id"] if "point_id" in table else ["scenario"]
    table = table.assign(_s=table["scenario"].map(order).fillna(len(order))).sort_values(
        ["_s", *keys[1:]], kind="stable").drop(columns="_s").reset_index(drop=True)
    target = csv or out / "summary.csv"
    if target.is_dir():
        raise ScenarioError("is a folder", file=target, field="--csv", fix="name a .csv file")
    with atomic.writing(target) as tmp:
        table.to_csv(tmp, index=False)
    if not quiet:
        group = [c for c in table.columns if c not in ("outcome", "n", "median", "q05", "q95")]
        table = table.assign(cell=[f"{_fmt(m)} [{_fmt(lo)}, {_fmt(hi)}]" for m, lo, hi
                                   in zip(table["median"], table["q05"], table["q95"], strict=True)])
        shown = table[table["outcome"].isin(SHOWN)]
        if len(group) > 1:  # label a point by the swept values that vary
            label = shown["scenario"].astype(str) + " p" + shown["point_id"].astype(str)
            for c in (c for c in group if "." in c and runs[c].astype(str).nunique() > 1):
                label = label + " " + c.split(".")[1] + "=" + shown[c].map(_short)
        else:
            label = shown["scenario"]
        shown = shown.assign(label=label)
        columns = list(dict.fromkeys(shown["label"]))  # scenario order, then points in numeric order
        wide = shown.pivot(index="outcome", columns="label", values="cell")
        wide = wide.reindex(index=[o for o in SHOWN if o in wide.index], columns=columns)
        wide.columns.name = None
        n = runs.groupby("scenario")["status"].value_counts().unstack(fill_value=0)
        print(f"{out}: {len(runs)} runs; median [5%, 95%] per "
              f"{'scenario and point' if len(group) > 1 else 'scenario'}")
        print(" ".join(f"{s}: {int(r.get('ok', 0))} ok, {int(r.get('failed', 0))} failed"
                       for s, r in n.iterrows()))
        ok = runs[runs["status"] == "ok"]
        fewest = int(ok.groupby(keys)["run_id"].count().min()) if len(ok) else 0
        if fewest < FEW_RUNS:
            print(f"WARNING: only {fewest} run(s) in some groups (fewer than {FEW_RUNS}): the "
                  "[5%, 95%] intervals are rough; run more replicates", file=sys.stderr)
        with pd.option_context("display.width", 200, "display.max_columns", 50,
                               "display.max_colwidth", 40):
            print(wide.to_string())
        print(f"table: {target}")
    return 0
