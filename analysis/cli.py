"""Commands ``negsim plot ...``, ``negsim sensitivity`` and ``negsim report``.

Batch figures read an OUT folder of ``negsim batch``; single-run figures read a folder of
``negsim run``. Every figure is written as 300 dpi PNG and SVG (atomically).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.errors import ScenarioError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plot", help="figures of a batch or of a run (PNG + SVG, 300 dpi)",
                       description="Figures of a batch (curves, zones, compare) or of one run (map, "
                                   "timeline). Written as PNG and SVG at 300 dpi.")
    ps = p.add_subparsers(dest="figure", metavar="FIGURE", required=True)

    c = ps.add_parser("curves", help="a timeseries metric over time: median, 50%%/90%% bands")
    c.add_argument("out", type=Path, help="batch folder (OUT of negsim batch)")
    c.add_argument("--metric", default="displaced_total", help="any timeseries column (default displaced_total)")
    c.add_argument("--by", default=None,
                   help="group by 'scenario', 'point' (scenario and parameter point; the default when "
                        "the batch has several points) or a column of runs.parquet")
    c.add_argument("--scenarios", default=None, help="comma-separated scenarios to show (default all)")
    c.add_argument("--to", type=Path, default=None, help="output path without extension "
                                                          "(default OUT/figures/curves_<metric>)")
    c.set_defaults(func=cmd_curves)

    z = ps.add_parser("zones", help="displaced by destination zone, stacked, per scenario")
    z.add_argument("out", type=Path, help="batch folder")
    z.add_argument("--scenarios", default=None, help="comma-separated scenarios to show (default all)")
    z.add_argument("--to", type=Path, default=None, help="output path without extension (default OUT/figures/zones)")
    z.set_defaults(func=cmd_zones)

    m = ps.add_parser("map", help="the case map of one run on a day (or --animate: a GIF)")
    m.add_argument("run", type=Path, help="run folder (output of negsim run)")
    m.add_argument("--day", type=float, default=None, help="day since 19 June 2018 (default 16)")
    m.add_argument("--animate", action="store_true", help="also write map.gif over the horizon")
    m.add_argument("--to", type=Path, default=None, help="output path without extension (default RUN/map_day<D>)")
    m.set_defaults(func=cmd_map)

    t = ps.add_parser("timeline", help="negotiation states and events of one run")
    t.add_argument("run", type=Path, help="run folder")
    t.add_argument("--to", type=Path, default=None, help="output path without extension (default RUN/timeline)")
    t.set_defaults(func=cmd_timeline)

    f = ps.add_parser("forecast", help="the record's series to its cut-off and the model's forecast after it",
                      description="Days 0-60 of a batch (one scenario: median, 50%% and 90%% bands across "
                                  "replicates) or of a run (its line), one panel per series of the public "
                                  "record, with the record's ranges as error bars and a line at the "
                                  "article's date (the record's cut-off: what follows is the forecast).")
    f.add_argument("source", type=Path, metavar="RUN_OR_BATCH", help="batch folder or run folder")
    f.add_argument("--scenario", default=None,
                   help="scenario of the batch to show (default: baseline, or the batch's only scenario)")
    f.add_argument("--record", type=Path, default=None, help="record file (default seeds/record.toml)")
    f.add_argument("--days", type=float, default=60.0, help="last day shown (default 60)")
    f.add_argument("--to", type=Path, default=None,
                   help="output path without extension (default OUT/figures/forecast or RUN/forecast)")
    f.set_defaults(func=cmd_forecast)

    k = ps.add_parser("compare", help="summary outcomes per scenario (box plots, sorted)")
    k.add_argument("out", type=Path, help="batch folder")
    k.add_argument("--outcomes", default=None, help="comma-separated outcomes (default: a standard set)")
    k.add_argument("--scenarios", default=None, help="comma-separated scenarios to show (default all)")
    k.add_argument("--to", type=Path, default=None, help="output path without extension (default OUT/figures/compare)")
    k.set_defaults(func=cmd_compare)

    s = sub.add_parser("sensitivity", help="global sensitivity (SALib Morris or Sobol) of the outcomes",
                       description="Sample the calibratable parameters over their priors, run the scenario "
                                   "once per sample (resumable), and write indices.csv and sensitivity.png/svg.")
    s.add_argument("scenario", type=Path, help="scenario TOML file")
    s.add_argument("--method", choices=("morris", "sobol"), default="morris")
    s.add_argument("--samples", type=int, default=4,
                   help="Morris trajectories (runs = N*(D+1)) or Sobol base samples, a power of 2 (N*(D+2))")
    s.add_argument("--params", default=None, help="comma-separated parameters (default: all calibratable)")
    s.add_argument("--outcomes", default=None, help="comma-separated outcomes (default: a standard set)")
    s.add_argument("--seed", type=int, default=0, help="root seed of the sample and of the runs")
    s.add_argument("--replicates", "-r", type=int, default=1,
                   help="runs per design point (seeds from the batch engine, the same at every point); "
                        "indices use each point's mean (default 1)")
    s.add_argument("--out", type=Path, default=None, help="output folder (default sensitivity/<scenario>-<method>)")
    s.add_argument("--workers", type=int, default=None, help="parallel workers (batch engine)")
    s.add_argument("--scheduler", default=None, help="Dask scheduler address (batch engine)")
    s.set_defaults(func=cmd_sensitivity)

    r = sub.add_parser("report", help="one self-contained HTML report of a batch",
                       description="Write OUT/report.html: comparison table, curves, zones, outcomes, maps "
                                   "and timelines, and sensitivity indices if present.")
    r.add_argument("out", type=Path, help="batch folder")
    r.add_argument("--to", type=Path, default=None, help="HTML file (default OUT/report.html)")
    r.add_argument("--run", type=Path, action="append", default=None,
                   help="run folder(s) for maps and timelines (default: re-run each scenario's first run)")
    r.add_argument("--sensitivity", type=Path, default=None,
                   help="folder of negsim sensitivity (default OUT/sensitivity if present)")
    r.add_argument("--no-maps", action="store_true", help="skip maps and timelines")
    r.set_defaults(func=cmd_report)


def _say(args: argparse.Namespace, paths: list[Path]) -> None:
    if not args.quiet:
        for p in paths:
            print(p)


def _csv(text: str | None) -> list[str] | None:
    return [x.strip() for x in text.split(",") if x.strip()] if text else None


def cmd_curves(args: argparse.Namespace) -> int:
    from analysis.figures import curves_figure, save_figure
    from analysis.report import baseline_population_scale
    from analysis.store import load_batch

    b = load_batch(args.out).select(_csv(args.scenarios))
    fig = curves_figure(b, args.metric, by=args.by, target_scale=baseline_population_scale(b))
    by = "" if args.by in (None, "scenario") else f"_by_{args.by}"
    _say(args, save_figure(fig, args.to or args.out / "figures" / f"curves_{args.metric}{by}"))
    return 0


def cmd_zones(args: argparse.Namespace) -> int:
    from analysis.figures import save_figure, zones_figure
    from analysis.store import load_batch

    fig = zones_figure(load_batch(args.out).select(_csv(args.scenarios)))
    _say(args, save_figure(fig, args.to or args.out / "figures" / "zones"))
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from analysis.figures import compare_figure, save_figure
    from analysis.store import load_batch

    fig = compare_figure(load_batch(args.out).select(_csv(args.scenarios)), _csv(args.outcomes) or None)
    _say(args, save_figure(fig, args.to or args.out / "figures" / "compare"))
    return 0


def cmd_forecast(args: argparse.Namespace) -> int:
    from analysis.figures import forecast_figure, save_figure
    from sim.batch.store import is_batch_folder

    if not args.days > 0:
        raise ScenarioError(f"must be a positive number of days, got {args.days:g}", field="--days")
    fig = forecast_figure(args.source, args.record, args.scenario, days=(0.0, args.days))
    is_batch = is_batch_folder(args.source)
    stem = args.to or (args.source / "figures" / "forecast" if is_batch else args.source / "forecast")
    _say(args, save_figure(fig, stem))
    return 0


def cmd_map(args: argparse.Namespace) -> int:
    from analysis.figures import save_figure
    from analysis.maps import animate_map, case_dir, load_case_geometry, map_figure
    from analysis.store import load_run

    run = load_run(args.run)
    geo = load_case_geometry(case_dir(run), run.metadata)
    day = 16.0 if args.day is None else args.day
    paths = save_figure(map_figure(run, day, geo=geo), args.to or args.run / f"map_day{day:g}")
    if args.animate:
        paths.append(animate_map(run, (args.to.parent if args.to else args.run) / "map.gif", geo=geo))
    _say(args, paths)
    return 0


def cmd_timeline(args: argparse.Namespace) -> int:
    from analysis.figures import save_figure
    from analysis.maps import timeline_figure
    from analysis.store import load_run

    _say(args, save_figure(timeline_figure(load_run(args.run)), args.to or args.run / "timeline"))
    return 0


def cmd_sensitivity(args: argparse.Namespace) -> int:
    import sys

    from analysis.sensitivity import run_sensitivity

    if args.samples < 1:
        raise ScenarioError("must be a positive integer", field="--samples")
    if args.replicates < 1:
        raise ScenarioError("must be a positive integer", field="--replicates")
    if args.seed < 0:
        raise ScenarioError("must be a non-negative integer", field="--seed")
    if args.workers is not None and args.workers < 1:
        raise ScenarioError("must be at least 1", field="--workers")
    if args.scheduler is not None:
        from sim.batch.executors import check_scheduler_address

        check_scheduler_address(args.scheduler)
    out = args.out or Path("sensitivity") / f"{args.scenario.stem}-{args.method}"
    progress = not args.quiet and sys.stderr.isatty()
    info = run_sensitivity(args.scenario, out, args.method, args.samples, params=_csv(args.params),
                           outcomes=_csv(args.outcomes), seed=args.seed, workers=args.workers,
                           scheduler=args.scheduler, progress=progress, replicates=args.replicates)
    if not args.quiet:
        print(f"{args.method}: {info['runs']} runs ({info['replicates']} per design point) over "
              f"{len(info['parameters'])} parameters")
        if info["skipped_outcomes"]:
            print("  left out (missing at some design point, or constant): " + ", ".join(
                f"{o} ({info['missing_share'].get(o, 0):.0%} of runs missing)" for o in info["skipped_outcomes"]))
        print(f"  missing outcomes: {info['missing_rule']}")
        idx = info["indices"]
        key = "mu_star" if args.method == "morris" else "ST"
        for o, d in idx.groupby("outcome", sort=False):
            top = d.sort_values(key, ascending=False).head(3)
            print(f"  {o}: " + ", ".join(f"{p} {v:.3g}" for p, v in zip(top["parameter"], top[key],
                                                                         strict=True)))
        for f in info["files"]:
            print(f)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from analysis.report import write_report
    from analysis.store import load_batch, load_run

    b = load_batch(args.out)
    runs = [load_run(r) for r in args.run] if args.run else None
    path = write_report(b, args.to or args.out / "report.html", runs=runs, sensitivity=args.sensitivity,
                        reproduce=not args.no_maps)
    _say(args, [path])
    return 0
