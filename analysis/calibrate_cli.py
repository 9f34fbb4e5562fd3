"""The ``negsim calibrate`` command: fit the calibratable parameters to the article's figures and
the public record."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from sim.errors import ScenarioError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "calibrate", help="fit the calibratable parameters to the article and the record (ABC-SMC)",
        description="Fit the schema's calibratable parameters to the targets by ABC-SMC (pyabc), "
                    "pick the calibrated point, check it over replicates, and write "
                    "calibration/<case>/posterior.parquet, report.md (+ plots) and "
                    "scenarios/calibrated.toml.")
    p.add_argument("scenario", type=Path, help="scenario to calibrate, e.g. scenarios/baseline.toml")
    p.add_argument("--targets", type=Path, action="append", default=None, metavar="FILE",
                   help="targets file; repeat for several, each file weighing equally in the distance "
                        "(default: seeds/targets.toml and seeds/record.toml, the article and the record)")
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
    p.add_argument("--workers", type=int, default=None,
                   help="local worker processes for every simulation (default: all cores; 1 runs in "
                        "this process); the result is the same for any number")
    p.add_argument("--procs", type=int, dest="workers", help=argparse.SUPPRESS)  # the former name
    p.add_argument("--scheduler", default=None,
                   help="run the simulations on a Dask cluster: tcp://host:8786, or 'local' for a "
                        "LocalCluster (workers must import sim and analysis and see the same files)")
    p.add_argument("--horizon-days", type=float, default=None,
                   help="days simulated by the ABC and candidate runs (default: the last day the "
                        "targets need, plus one; a shorter horizon than a target needs is refused); "
                        "the replicate check runs the scenario's horizon")
    p.add_argument("--population-scale", type=float, default=None,
                   help="override world.population_scale (for quick trials; default: the scenario's)")
    p.add_argument("--out", type=Path, default=None,
                   help="output folder (default calibration/<case>/, the case being the folder of "
                        "the scenario's towns file, e.g. calibration/daraa2018); a previous "
                        "calibration folder is "
                        "replaced, any other non-empty folder or file is refused")
    p.add_argument("--scenario-out", type=Path, default=None,
                   help="calibrated scenario file (default calibrated.toml beside the scenario); "
                        "only a file negsim calibrate wrote is replaced")
    p.add_argument("--overwrite", action="store_true",
                   help="replace --out and --scenario-out even if negsim did not write them")
    p.add_argument("--free", default=None, metavar="PATH[=LO:HI],...",
                   help="the parameters to fit, each with its uniform prior range (default: the "
                        "schema's calibratable parameters minus those held fixed; a calibratable "
                        "parameter given without a range keeps its schema prior), e.g. "
                        "regime.bombardment_capacity=10:400,regime.ground_capacity")
    p.add_argument("--extends", default=None, metavar="FILE",
                   help="write `extends = FILE` into the calibrated scenario (relative to it): a "
                        "second case keeps the first case's calibration, e.g. ../calibrated.toml")
    p.set_defaults(func=cmd_calibrate)


def parse_free(spec: str) -> dict[str, tuple[float, float]]:
    """``--free`` as {path: (lo, hi)}; errors name the option and the fix."""
    from sim.batch.plan import field_type
    from sim.scenario.schema import Scenario, calibratable_params, canonical_path, check_param_path

    out: dict[str, tuple[float, float]] = {}
    priors = calibratable_params()
    for item in (x.strip() for x in spec.split(",")):
        if not item:
            continue
        path, _, rng = item.partition("=")
        path = canonical_path(path.strip())
        try:
            group, field = check_param_path(path)
        except ValueError as exc:
            raise ScenarioError(str(exc), field="--free",
                                fix="name group.field parameters of the schema") from None
        if field_type(path) is not float:
            raise ScenarioError(f"{path} is not a number the calibration can vary", field="--free",
                                fix="free parameters are numbers (float fields of the schema)")
        if rng:
            try:
                lo, hi = (float(x) for x in rng.split(":"))
            except ValueError:
                raise ScenarioError(f"{item!r}: the range must be LO:HI", field="--free",
                                    fix=f"e.g. {path}=10:400") from None
            if not lo < hi:
                raise ScenarioError(f"{item!r}: LO must be below HI", field="--free")
            try:  # both ends within the schema's range
                sc = Scenario()
                for v in (lo, hi):
                    setattr(getattr(sc, group), field, v)
            except Exception as exc:  # pydantic: out of the schema's range
                raise ScenarioError(f"{item!r}: {str(exc).splitlines()[-2].strip()}", field="--free",
                                    fix="keep the range within the schema's") from None
        elif path in priors:
            lo, hi = priors[path]
        else:
            raise ScenarioError(f"{path} has no prior in the schema: give its range", field="--free",
                                fix=f"e.g. {path}=LO:HI")
        out[path] = (lo, hi)
    if not out:
        raise ScenarioError("no parameter given", field="--free", fix="e.g. --free regime.k_capture")
    return out


#: First line of a calibrated scenario file written by negsim calibrate (how it is recognised).
CALIBRATED_HEADER = "# Calibrated parameters: generated by"


def default_targets() -> list[Path]:
    """The project's targets files (the article's figures and the public record), wherever the
    command runs from."""
    seeds = Path(__file__).resolve().parents[1] / "seeds"
    return [seeds / "targets.toml", seeds / "record.toml"]


def check_outputs(args: argparse.Namespace) -> None:
    """Before hours of work: refuse outputs that would destroy what negsim did not write."""
    from sim.outdir import check_output_folder
    from sim.run import input_files
    from sim.scenario.loader import load_scenario

    sc = load_scenario(args.scenario)
    if args.out is None:  # one folder per case, so one case's calibration never replaces another's
        from sim.outdir import safe_name

        args.out = Path("calibration") / safe_name(Path(sc.world.towns_file).parent.name, "case")
    inputs = [*input_files(sc), *map(Path, args.targets)]
    check_output_folder(args.out, "calibration", overwrite=args.overwrite, protect=inputs)
    target = args.scenario_out or Path(args.scenario).parent / "calibrated.toml"
    if target.is_dir():
        raise ScenarioError("is a folder", file=target, field="--scenario-out",
                            fix="name the calibrated scenario file, e.g. scenarios/calibrated.toml")
    if target.resolve() == Path(args.scenario).resolve() or any(
            target.resolve() == Path(t).resolve() for t in args.targets):
        raise ScenarioError("is an input of this calibration: writing it would replace it", file=target,
                            field="--scenario-out", fix="name another file, e.g. scenarios/calibrated.toml")
    if target.exists() and not args.overwrite:
        try:
            first = target.read_text(encoding="utf-8").split("\n", 1)[0]
        except (OSError, UnicodeDecodeError):
            first = ""
        if not first.startswith(CALIBRATED_HEADER):
            raise ScenarioError("exists and was not written by negsim calibrate", file=target,
                                field="--scenario-out",
                                fix="name another file, or add --overwrite to replace it")


def cmd_calibrate(args: argparse.Namespace) -> int:
    from analysis.calibration import calibrate

    if not args.targets:
        args.targets = default_targets()

    for name in ("budget", "replicates", "candidates", "select_reps", "reps_per_particle"):
        if getattr(args, name) < 1:
            raise ScenarioError(f"must be a positive integer, got {getattr(args, name)}",
                                field="--" + name.replace("_", "-"))
    if args.workers is not None and args.workers < 1:
        raise ScenarioError(f"must be a positive integer, got {args.workers}", field="--workers")
    if args.horizon_days is not None and not 1 <= args.horizon_days <= 365:
        raise ScenarioError(f"must be between 1 and 365 days, got {args.horizon_days:g}",
                            field="--horizon-days")
    if args.seed < 0:
        raise ScenarioError("must be a non-negative integer", field="--seed")
    if args.prior_zoom != 0 and not args.prior_zoom > 1:
        raise ScenarioError(f"must be 0 (schema priors) or greater than 1, got {args.prior_zoom}",
                            field="--prior-zoom")
    if args.population_scale is not None and not 0.001 <= args.population_scale <= 10:
        raise ScenarioError("must be between 0.001 and 10", field="--population-scale")
    if args.population is not None and args.population < 2:
        raise ScenarioError(f"must be at least 2 particles, got {args.population}", field="--population",
                            fix="e.g. --population 40 (default: budget / 6, between 8 and 100)")
    free = parse_free(args.free) if args.free is not None else None
    check_outputs(args)
    command = "negsim " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:] else ""
    targets = args.targets
    res = calibrate(args.scenario, targets, out_dir=args.out, scenario_out=args.scenario_out,
                    budget=args.budget, seed=args.seed, population_size=args.population,
                    replicates=args.replicates, candidates=args.candidates,
                    select_reps=args.select_reps, workers=args.workers, scheduler=args.scheduler,
                    population_scale=args.population_scale, quiet=args.quiet, command=command,
                    reps_per_particle=args.reps_per_particle, prior_zoom=args.prior_zoom or None,
                    horizon_days=args.horizon_days, free=free, extends=args.extends)
    if not args.quiet:
        t = res.table[res.table["within"] != "not modelled"]
        print(f"ABC-SMC: {res.abc.n_simulations} simulations ({res.abc.reps_per_particle} per particle), "
              f"{len(res.abc.generations)} generations; "
              f"mean distance {res.abc.generations['mean_distance'].iloc[0]:.3f} (prior) -> "
              f"{res.abc.generations['mean_distance'].iloc[-1]:.3f} (last)")
        print(f"{int((t['within'] == 'yes').sum())} of {len(t)} targets' medians within tolerance; "
              f"missed: {', '.join(t.loc[t['within'] != 'yes', 'target']) or 'none'}")
        rec = res.extra["record"]
        if rec["points"]:
            print(f"record: {rec['within']} of {rec['points']} dated points within range "
                  f"({rec['within10']} within ±10%)"
                  + (f"; displaced-total ARD {rec['ard_displaced_total']:.2f}" if rec["ard_dates"] else ""))
        print(f"  report: {res.out_dir}/report.md; calibrated scenario: {res.scenario_file}")
    return 0
