"""The ``negsim`` command (also ``python -m sim``): parses arguments and calls the library.

Each group of subcommands lives in its own module with a ``register(subparsers)`` function;
add a module to ``COMMAND_MODULES`` to add commands. A user's mistake (a bad scenario, a missing
file) is a :class:`~sim.errors.ScenarioError`: printed as one clear message, exit code 2, no
traceback unless ``--debug``.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from sim.errors import InfrastructureError, ScenarioError

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
                   help="output folder (default runs/<scenario>/<seed>/); a previous run folder "
                        "is replaced, any other non-empty folder or file is refused")
    p.add_argument("--overwrite", action="store_true",
                   help="replace --out even if it is not a previous run folder (deletes it)")
    p.add_argument("--no-plot", action="store_true", help="skip displacement.png")
    p.set_defaults(func=cmd_run)


def cmd_run(args: argparse.Namespace) -> int:
    from sim.outdir import check_output_folder
    from sim.run import default_out_dir, input_files, run_file, write_outputs
    from sim.scenario.loader import load_scenario

    if args.seed < 0:
        raise UsageError("--seed must be a non-negative integer", field="--seed")
    t0 = time.perf_counter()
    sc = load_scenario(args.scenario)
    out = args.out or default_out_dir(sc.name, args.seed)
    # Before any work: never replace the user's files (or the inputs) with a run.
    check_output_folder(out, "run", overwrite=args.overwrite, protect=input_files(sc))
    res = run_file(args.scenario, seed=args.seed)
    extra = {}
    if not args.no_plot:
        from analysis.plots import displacement_png

        extra["displacement.png"] = lambda path: displacement_png(
            res.timeseries, res.events, path,
            title=f"{res.scenario.name} (seed {res.seed}): displaced persons by destination",
            meta=res.metadata)
    write_outputs(res, out, extra)
    o = res.outcomes
    if not args.quiet:
        print(f"{res.scenario.name} seed {res.seed}: {res.metadata['persons']:,} persons, "
              f"{res.metadata['ticks']} ticks, {time.perf_counter() - t0:.1f} s")
        print(f"  deaths {o['deaths_final']:,.0f}; peak displaced {o['peak_displaced']:,.0f} on "
              f"day {o['peak_day']:g}; evacuated {o['evacuated']:,.0f}; returned "
              f"{o['returned']:,.0f}; regime share {o['regime_share_final']:.0%} at the end")
        print(f"  talks open day {o['talks_open_day']:.2f}, first collapse day "
              f"{o['first_collapse_day']:.2f}, resume after {o['resume_delay_h']:.0f} h, first "
              f"deal day {o['deal_day']:.2f}")
        case = res.metadata.get("case_outcomes", [])
        if case:
            print("  the case's outcomes (its outcomes.toml):")
            for name, unit, desc in case:
                v = o[name]
                shown = "never" if v != v else (f"{v:,.0f}" if unit == "persons" else f"{v:g}")
                print(f"    {name} = {shown} {unit if v == v and unit != 'persons' else ''}".rstrip()
                      + (f"  ({desc})" if desc else ""))
        print(f"  outputs: {out}/")
    return 0


#: Options every command takes, before or after the command's name.
GLOBAL_FLAGS: tuple[tuple[str, str], ...] = (("--debug", "show tracebacks for errors"),
                                             ("--quiet", "print less"))


def _leaf_parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """Every (sub)command parser below ``parser``, nested ones included."""
    out = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):  # aliases share a parser
                out.append(sub)
                out.extend(_leaf_parsers(sub))
    return out


def add_global_flags(parser: argparse.ArgumentParser) -> None:
    """``--debug`` and ``--quiet`` on the program and on every subcommand: ``negsim --quiet run X``
    and ``negsim run X --quiet`` mean the same (a subcommand's default never resets the flag)."""
    for flag, text in GLOBAL_FLAGS:
        parser.add_argument(flag, action="store_true", help=text)
    for sub in _leaf_parsers(parser):
        have = {o for a in sub._actions for o in a.option_strings}
        for flag, text in GLOBAL_FLAGS:
            if flag not in have:
                sub.add_argument(flag, action="store_true", default=argparse.SUPPRESS, help=text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="negsim",
        description="negsim: an agent-based model of negotiated surrender under bombardment "
                    "(southern Syria, June-July 2018).")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    add_global_flags(parser)
    return parser


#: Commands made of two words whose second word is not a subparser of the first (``negsim batch
#: summarize OUT`` while ``negsim batch FILE...`` takes files): rewritten to one hidden command.
TWO_WORD_COMMANDS: dict[tuple[str, str], str] = {("batch", "summarize"): "batch-summarize"}


def _rewrite_two_word_commands(argv: list[str]) -> list[str]:
    flags = {f for f, _ in GLOBAL_FLAGS} | {"-h", "--help"}
    i = 0
    while i < len(argv) and argv[i] in flags:
        i += 1
    pair = tuple(argv[i:i + 2])
    if pair in TWO_WORD_COMMANDS:
        return [*argv[:i], TWO_WORD_COMMANDS[pair], *argv[i + 2:]]
    return argv


def _os_error(exc: OSError) -> ScenarioError:
    """A file-system failure (read-only folder, full disk, a folder where a file is expected...)
    said as file, what, fix."""
    fixes = {
        errno.EACCES: "check the permissions, or choose another location (e.g. another --out)",
        errno.EPERM: "check the permissions, or choose another location (e.g. another --out)",
        errno.EROFS: "the file system is read-only: choose another location (e.g. another --out)",
        errno.ENOSPC: "free some disk space and run the command again (nothing was half-written: "
                      "outputs are written to a temporary name and renamed when complete)",
        errno.EDQUOT: "free some space within your quota and run the command again",
        errno.EISDIR: "name a file, not a folder",
        errno.ENOTDIR: "a part of the path is a file, not a folder: check the path",
        errno.ENOENT: "check the path",
        errno.ENAMETOOLONG: "use a shorter path",
        errno.EEXIST: "a file of that name is in the way (a folder was expected): check the path",
    }
    what = exc.strerror or str(exc)
    what = what.rstrip(".")
    return ScenarioError(what[:1].lower() + what[1:] if what else "cannot read or write",
                         file=exc.filename, fix=fixes.get(exc.errno or 0, "check the path"))


def _terminate(_signum: int, _frame: object) -> None:
    """SIGTERM (``kill PID``) unwinds like Ctrl-C, so temporary outputs are removed."""
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(_rewrite_two_word_commands(argv))
    debug = bool(getattr(args, "debug", False))
    try:
        previous = signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not the main thread (a test calling main() from a thread)
        previous = None
    try:
        return int(args.func(args) or 0)
    except ScenarioError as exc:
        if debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 3 if isinstance(exc, InfrastructureError) else 2
    except OSError as exc:
        if debug:
            raise
        print(f"error: {_os_error(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: still no traceback without --debug
        if debug:
            raise
        print(f"error: internal error: {type(exc).__name__}: {exc}\n  this is a bug in negsim: "
              "rerun with --debug for the traceback and report it", file=sys.stderr)
        return 1
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
