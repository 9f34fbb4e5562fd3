"""The ``negsim calibrate`` command: fit the calibratable parameters to the article's figures."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from sim.errors import ScenarioError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "calibrate", help="fit the calibratable parameters to the article's figures (ABC-SMC)",
        description="Fit the schema's calibratable parameters to the targets by ABC-SMC (pyabc), "
                    "pick the calibrated point, check it over replicates, and write "
                    "calibration/posterior.parquet, calibration/report.md (+ plots) and "
                    "scenarios/calibrated.toml.")
    p.add_argument("scenario", type=Path, help="scenario to calibrate, e.g. scenarios/baseline.toml")
    p.add_argument("--targets", type=Path, default=Path("seeds/targets.toml"),
                   help="targets file (default seeds/targets.toml)")
    p.add_argument("--budget", type=int, default=400,
                   help="number of ABC simulations (default 400); the candidate selection and the "
                        "replicate check add candidates x select-reps + replicates more")
    p.add_argument("--seed", type=int, default=0, help="random seed of the whole calibration (default 0)")
    p.add_argument("--population", type=int, default=None,
                   help="particles per ABC generation (default budget/6, between 8 and 100)")
    p.add_argument("--replicates", type=int, default=50,
                   help="replicates of the check at the calibrated parameters (default 50)")
    p.add_argument("--candidates", type=int, default=5,
                   help="candidate points compared: the values before calibration, the posterior "
                        "median and the best particles of the last generation (default 5, at least 2)")
    p.add_argument("--reps-per-particle", type=int, default=2,
                   help="runs (seeds drawn from --seed) whose per-target medians make one ABC particle "
                        "(default 2); --budget counts runs")
    p.add_argument("--prior-zoom", type=float, default=2.0,
                   help="cut each prior to [default / Z, default x Z] around the schema default (the hand "
                        "calibration; default 2); 0 keeps the schema's prior ranges")
    p.add_argument("--select-reps", type=int, default=8, help="replicates per candidate (default 8)")
    p.add_argument("--procs", type=int, default=2,
                   help="processes for candidate and replicate runs (default 2; the ABC itself runs "
                        "in one process so that --seed reproduces it)")
    p.add_argument("--population-scale", type=float, default=None,
                   help="override world.population_scale (for quick trials; default: the scenario's)")
    p.add_argument("--out", type=Path, default=Path("calibration"), help="output folder (default calibration/)")
    p.add_argument("--scenario-out", type=Path, default=None,
                   help="calibrated scenario file (default calibrated.toml beside the scenario)")
    p.set_defaults(func=cmd_calibrate)


def cmd_calibrate(args: argparse.Namespace) -> int:
    from analysis.calibration import calibrate

    for name in ("budget", "replicates", "candidates", "select_reps", "procs", "reps_per_particle"):
        if getattr(args, name) < 1:
            raise ScenarioError(f"must be a positive integer, got {getattr(args, name)}",
                                field="--" + name.replace("_", "-"))
    if args.seed < 0:
        raise ScenarioError("must be a non-negative integer", field="--seed")
    if args.prior_zoom != 0 and not args.prior_zoom > 1:
        raise ScenarioError(f"must be 0 (schema priors) or greater than 1, got {args.prior_zoom}",
                            field="--prior-zoom")
    if args.population_scale is not None and not 0.001 <= args.population_scale <= 10:
        raise ScenarioError("must be between 0.001 and 10", field="--population-scale")
    command = "negsim " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:] else ""
    res = calibrate(args.scenario, args.targets, out_dir=args.out, scenario_out=args.scenario_out,
                    budget=args.budget, seed=args.seed, population_size=args.population,
                    replicates=args.replicates, candidates=args.candidates,
                    select_reps=args.select_reps, procs=args.procs,
                    population_scale=args.population_scale, quiet=args.quiet, command=command,
                    reps_per_particle=args.reps_per_particle, prior_zoom=args.prior_zoom or None)
    if not args.quiet:
        t = res.table[res.table["within"] != "not modelled"]
        print(f"ABC-SMC: {res.abc.n_simulations} simulations ({res.abc.reps_per_particle} per particle), "
              f"{len(res.abc.generations)} generations; "
              f"mean distance {res.abc.generations['mean_distance'].iloc[0]:.3f} (prior) -> "
              f"{res.abc.generations['mean_distance'].iloc[-1]:.3f} (last)")
        print(f"{int((t['within'] == 'yes').sum())} of {len(t)} targets' medians within tolerance; "
              f"missed: {', '.join(t.loc[t['within'] != 'yes', 'target']) or 'none'}")
        print(f"  report: {res.out_dir}/report.md; calibrated scenario: {res.scenario_file}")
    return 0
