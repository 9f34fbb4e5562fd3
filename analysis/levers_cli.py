"""Commands ``negsim effects`` and ``negsim discover``: what the levers do, from a batch.

    negsim effects batches/library --baseline baseline            # BATCH/effects/effects.{csv,md,tex,png,svg}
    negsim discover batches/lhs --outcome peak_displaced --below 150000
    negsim discover batches/lhs --where "notna(deal_day) and collapses == 0"
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.errors import ScenarioError


def register(sub: argparse._SubParsersAction) -> None:
    e = sub.add_parser(
        "effects", help="each scenario's effect on the outcomes against a baseline, with intervals",
        description="For every scenario other than the baseline and every summary outcome: the paired "
                    "difference from the baseline (batches run with --crn: pairs share replicate, point, seed "
                    "and posterior draw) with the median, the 90%% interval of the paired differences and the "
                    "share of pairs in which the outcome is lower; for batches without --crn, the difference "
                    "of medians with a bootstrap 90%% confidence interval, marked 'unpaired'. Writes "
                    "effects.csv, effects.md, effects.tex and a forest plot effects.png/svg.")
    e.add_argument("batch", type=Path, help="batch folder (OUT of negsim batch)")
    e.add_argument("--baseline", default="baseline", help="the scenario to compare against (default baseline)")
    e.add_argument("--outcomes", default=None,
                   help="comma-separated outcomes (columns of runs.parquet), or 'all' (default: a standard set)")
    e.add_argument("--seed", type=int, default=0, help="seed of the bootstrap (unpaired batches; default 0)")
    e.add_argument("--out", type=Path, default=None, help="output folder (default BATCH/effects)")
    e.set_defaults(func=cmd_effects)

    d = sub.add_parser(
        "discover", help="scenario discovery (PRIM): which inputs lead to an outcome",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Label the batch's runs by a condition and find, with PRIM (EMA Workbench), a box in "
                    "the space of the swept parameters or posterior draws that holds most of them.\n\n"
                    "  negsim discover B --outcome peak_displaced --below 150000\n"
                    "  negsim discover B --where \"notna(deal_day) and collapses == 0\"\n\n"
                    "--where: comparisons (<, <=, >, >=, ==, !=) of columns of runs.parquet with numbers, "
                    "and/or/not, parentheses, isna(x)/notna(x), and the named conditions "
                    "deal_without_collapse, no_collapse, deal. Parsed, never evaluated as Python.")
    d.add_argument("batch", type=Path, help="batch folder (OUT of negsim batch)")
    d.add_argument("--outcome", default=None, help="an outcome (column of runs.parquet), with --below or --above")
    d.add_argument("--below", type=float, default=None, help="runs of interest: outcome < this value")
    d.add_argument("--above", type=float, default=None, help="runs of interest: outcome > this value")
    d.add_argument("--where", default=None, metavar="CONDITION", help="runs of interest: a condition (see above)")
    d.add_argument("--params", default=None,
                   help="comma-separated inputs (parameter columns; default: every swept or drawn one that varies)")
    d.add_argument("--scenarios", default=None, help="comma-separated scenarios to include (default all)")
    d.add_argument("--min-coverage", type=float, default=0.8,
                   help="box rule: the densest box with at least this coverage (default 0.8)")
    d.add_argument("--box", type=int, default=None, help="choose box N of the peeling trajectory instead")
    d.add_argument("--peel-alpha", type=float, default=0.05, help="PRIM's peeling share (default 0.05)")
    d.add_argument("--mass-min", type=float, default=0.05, help="PRIM's smallest box mass (default 0.05)")
    d.add_argument("--out", type=Path, default=None,
                   help="output folder (default BATCH/discovery/<condition>)")
    d.set_defaults(func=cmd_discover)


def _csv(text: str | None) -> list[str] | None:
    return [x.strip() for x in text.split(",") if x.strip()] if text else None


def cmd_effects(args: argparse.Namespace) -> int:
    from analysis.effects import batch_effects, describe, display_table, write_effects
    from analysis.store import load_batch

    batch = load_batch(args.batch)
    table = batch_effects(batch, baseline=args.baseline, outcomes=_csv(args.outcomes), seed=args.seed)
    paths = write_effects(table, args.out or args.batch / "effects")
    if not args.quiet:
        import pandas as pd

        print(describe(table))
        with pd.option_context("display.width", 200, "display.max_columns", 20, "display.max_rows", 500):
            print(display_table(table).to_string(index=False))
        for p in paths:
            print(p)
    return 0


def cmd_discover(args: argparse.Namespace) -> int:
    from analysis.discover import discover, markdown, slug, write_discovery
    from analysis.store import load_batch

    if args.peel_alpha <= 0 or args.peel_alpha >= 0.5:
        raise ScenarioError("must be between 0 and 0.5", field="--peel-alpha")
    if not 0 < args.mass_min < 1:
        raise ScenarioError("must be between 0 and 1", field="--mass-min")
    batch = load_batch(args.batch)
    d = discover(batch.runs, outcome=args.outcome, below=args.below, above=args.above, where=args.where,
                 params=_csv(args.params), scenarios=_csv(args.scenarios), min_coverage=args.min_coverage,
                 box=args.box, peel_alpha=args.peel_alpha, mass_min=args.mass_min, root=batch.root)
    paths = write_discovery(d, args.out or args.batch / "discovery" / slug(d.condition))
    if not args.quiet:
        print(markdown(d))
        for p in paths:
            print(p)
    return 0
