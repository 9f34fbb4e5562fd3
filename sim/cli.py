"""The ``negsim`` command (also ``python -m sim``): parses arguments and calls the library.

Each group of subcommands lives in its own module with a ``register(subparsers)`` function;
add a module to ``COMMAND_MODULES`` to add commands. A user's mistake (a bad scenario, a missing
file) is a :class:`~sim.errors.ScenarioError`: printed as one clear message, exit code 2, no
traceback unless ``--debug``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from sim.errors import ScenarioError

#: Modules that add subcommands (each has ``register(subparsers)``).
COMMAND_MODULES: tuple[str, ...] = (
    "sim.cli",
    "sim.scenario.cli",
    "sim.batch.cli",
    "analysis.viz.cli",
    "analysis.cli",
    "analysis.calibrate_cli",
    "analysis.levers_cli",
)


class UsageError(ScenarioError):
    """A command-line mistake that is not about a file."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run one scenario and write its outputs",
                       description="Run one scenario to its horizon and write timeseries.csv, "
                                   "events.csv, towns.csv, metadata.json and displacement.png.")
    p.add_argument("scenario", type=Path, help="scenario TOML file, e.g. scenarios/baseline.toml")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--out", type=Path, default=None,
                   help="output folder (default runs/<scenario>/<seed>/)")
    p.add_argument("--no-plot", action="store_true", help="skip displacement.png")
    p.set_defaults(func=cmd_run)


def cmd_run(args: argparse.Namespace) -> int:
    from sim.run import default_out_dir, run_file, write_outputs

    if args.seed < 0:
        raise UsageError("--seed must be a non-negative integer", field="--seed")
    t0 = time.perf_counter()
    res = run_file(args.scenario, seed=args.seed)
    out = args.out or default_out_dir(res)
    extra = {}
    if not args.no_plot:
        from analysis.plots import displacement_png

        extra["displacement.png"] = lambda path: displacement_png(
            res.timeseries, res.events, path,
            title=f"{res.scenario.name} (seed {res.seed}): displaced persons by destination")
    write_outputs(res, out, extra)
    o = res.outcomes
    if not args.quiet:
        print(f"{res.scenario.name} seed {res.seed}: {res.metadata['persons']:,} persons, "
              f"{res.metadata['ticks']} ticks, {time.perf_counter() - t0:.1f} s")
        print(f"  day 16: displaced {o['displaced_day16']:,.0f}, deaths {o['deaths_day16']:,.0f};"
              f" towns reconciled by day 15: {o['towns_reconciled_day15']:.0f}")
        print(f"  talks collapse day {o['first_collapse_day']:.2f}, resume after "
              f"{o['resume_delay_h']:.0f} h, deal day {o['deal_day']:.2f}")
        print(f"  outputs: {out}/")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="negsim",
        description="negsim: an agent-based model of negotiated surrender under bombardment "
                    "(southern Syria, June-July 2018).")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    parser.add_argument("--quiet", action="store_true", help="print less")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ScenarioError as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
