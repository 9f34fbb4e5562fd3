"""``negsim report``: one self-contained HTML file for a batch (figures embedded as PNG data).

Contents: the batch's provenance, the scenario comparison table (median and 90% interval of the
summary outcomes), displacement and deaths curves, displacement by zone, the outcome box plots,
a map and a negotiation timeline per scenario (from ``--run`` folders, or by re-running each
scenario's first replicate from the manifest's scenario file and seed), and, if present, the
sensitivity indices; and, when the batch has a ``baseline`` scenario, each scenario's effect
against it (``negsim effects``).
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import json
from pathlib import Path
from typing import Any

import pandas as pd

from analysis import figures as F
from analysis.store import FEW_RUNS, Batch, Run, load_run
from sim import atomic

CSS = """body{font-family:Georgia,serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#111}
h1{font-size:1.6em}h2{border-bottom:1px solid #999;margin-top:2em}figure{margin:1em 0}
figcaption{font-size:.9em;color:#333}img{max-width:100%}
table{border-collapse:collapse;font-size:.85em}th,td{border:1px solid #999;padding:3px 6px;text-align:right}
th:first-child,td:first-child{text-align:left}.note{color:#555;font-size:.9em}
.warning{color:#8a1c00;border-left:4px solid #8a1c00;padding-left:.5em}"""


def fig_data_uri(fig: Any, dpi: int = 150) -> str:
    """A figure as a PNG data URI (closes the figure)."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=dpi)
    finally:
        plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _figure(uri: str, caption: str) -> str:
    return (f'<figure><img src="{uri}" alt="{html.escape(caption)}"><figcaption>{html.escape(caption)}'
            "</figcaption></figure>")


def reproduce_runs(batch: Batch, max_runs: int = 3) -> tuple[list[Run], list[str]]:
    """Re-run the first finished run of each scenario from the manifest (file + seed + params)."""
    from sim.run import collect, simulate
    from sim.scenario.loader import file_sha256, load_scenario
    from sim.scenario.schema import set_param

    runs, notes = [], []
    entries = {r["run_id"]: r for r in batch.manifest.get("runs", [])}
    ok = batch.ok_runs()
    for name in sorted(batch.scenarios, key=lambda n: n != "baseline")[:max_runs]:
        info = batch.manifest.get("scenarios", {}).get(name, {})
        path = Path(info.get("file", ""))
        if not path.is_absolute() and not path.is_file():
            path = batch.root / path
        if not path.is_file():
            notes.append(f"{name}: scenario file {info.get('file')} not found; no map")
            continue
        if info.get("sha256") and file_sha256(path) != info["sha256"]:
            notes.append(f"{name}: scenario file changed since the batch; map drawn from the current file")
        first = ok[ok["scenario"] == name].iloc[0]
        sc = load_scenario(path)
        for k, v in (entries.get(first["run_id"], {}).get("params") or {}).items():
            set_param(sc, k, v)
        res = collect(simulate(sc, int(first["seed"])))
        meta = dict(res.metadata, scenario_name=name)
        runs.append(Run(batch.root, res.timeseries, res.events, res.towns, meta))
    return runs, notes


def _day0s(batch: Batch) -> str:
    """Each scenario's day 0 (its case's start date)."""
    from analysis.casemeta import batch_case

    starts = {s: batch_case(batch, s)[0] for s in batch.scenarios}
    uniq = sorted({str(v) for v in starts.values() if v})
    return uniq[0] if len(uniq) == 1 else "; ".join(f"{k}: {v}" for k, v in starts.items())


def build_report(batch: Batch, runs: list[Run] | None = None, sensitivity: Path | None = None,
                 reproduce: bool = True) -> str:
    """The report's HTML text."""
    from analysis.maps import case_dir, load_case_geometry, map_figure, timeline_figure

    m = batch.manifest
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>negsim report: "
             f"{html.escape(batch.root.name)}</title><style>{CSS}</style></head><body>",
             f"<h1>negsim batch report: {html.escape(batch.root.name)}</h1>"]
    prov = {"scenarios": ", ".join(batch.scenarios), "finished runs": len(batch.ok_runs()),
            "failed runs": int((batch.runs.get("status", pd.Series(dtype=str)) != "ok").sum()),
            "replicates": m.get("replicates"), "root seed": m.get("root_seed"),
            "design": m.get("design"), "sweeps": ", ".join(map(str, m.get("sweeps") or [])) or "none",
            "paired (common random numbers)": "yes" if m.get("common_random_numbers") else "no",
            "parameters": F.uncertainty_label(m).replace("bands", "bands and intervals", 1),
            "package version": m.get("package_version"), "git commit": m.get("git_commit"),
            "batch created": m.get("created"),
            "report created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    parts.append("<table class='provenance'>" + "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in prov.items())
        + "</table>")
    per = "scenario and parameter point" if batch.by_point() else "scenario"
    parts.append(f"<h2>Scenario comparison</h2><p class='note'>Median [5%–95%] across runs, per {per}"
                 + (" (swept values in the columns)" if batch.by_point() else "")
                 + ". Days are days since each case's day 0 (" + html.escape(_day0s(batch)) + ").</p>")
    table = F.comparison_table(batch)
    fewest = int(table["runs"].min()) if len(table) else 0
    if fewest < FEW_RUNS:
        parts.append(f"<p class='warning'><strong>Warning: only {fewest} run(s) in some rows (fewer "
                     f"than {FEW_RUNS}): the intervals and bands below are rough.</strong> Run more "
                     "replicates (<code>--replicates</code>) for a paper.</p>")
    parts.append(table.to_html(index=False, classes="comparison", border=0, escape=True))
    if "baseline" in batch.scenarios and len(batch.scenarios) > 1:
        parts.append(effects_section(batch))
    parts.append("<h2>Displacement and deaths over time</h2>")
    scale = baseline_population_scale(batch)
    by = "point" if batch.by_point() else "scenario"
    for metric in ("displaced_total", "civilian_deaths_cum"):
        parts.append(_figure(fig_data_uri(F.curves_figure(batch, metric, by=by, target_scale=scale)),
                             f"{metric}: median, 50% and 90% bands across replicates per {per}; "
                             "key dates marked"))
    parts.append("<h2>Displacement by destination</h2>")
    parts.append(_figure(fig_data_uri(F.zones_figure(batch)), "Displaced by destination zone (median)"))
    parts.append("<h2>Summary outcomes</h2>")
    parts.append(_figure(fig_data_uri(F.compare_figure(batch)), "Summary outcomes by scenario"))
    notes: list[str] = []
    if not runs and reproduce:
        runs, notes = reproduce_runs(batch)
    if runs:
        parts.append("<h2>Maps and negotiation timelines</h2>")
        geos: dict[Path, dict] = {}  # one per case folder (a batch may hold several cases)
        for r in runs:
            name = r.metadata.get("scenario_name", "")
            folder = case_dir(r)
            geo = geos.setdefault(folder, load_case_geometry(folder, r.metadata))
            parts.append(f"<h3>{html.escape(str(name))} (seed {r.metadata.get('seed')})</h3>")
            parts.append(_figure(fig_data_uri(map_figure(r, 16.0, geo=geo)),
                                 f"{name}: towns by controller on day 16, sized by people present"))
            parts.append(_figure(fig_data_uri(timeline_figure(r)), f"{name}: negotiation timeline"))
    for n in notes:
        parts.append(f"<p class='note'>{html.escape(n)}</p>")
    sens = sensitivity or (batch.root / "sensitivity" if (batch.root / "sensitivity" / "indices.csv").is_file()
                           else None)
    if sens is not None:
        parts.append(sensitivity_section(Path(sens)))
    parts.append("</body></html>")
    return "\n".join(parts)


def effects_section(batch: Batch, baseline: str = "baseline") -> str:
    """Each scenario's effect against the baseline (``negsim effects``): forest plot and table."""
    from analysis.effects import batch_effects, describe, display_table, forest_figure

    table = batch_effects(batch, baseline=baseline)
    pairing = "paired" if (table["pairing"] == "paired").all() else "unpaired"
    return "\n".join([
        f"<h2>Effects against the baseline ({pairing})</h2>",
        f"<p class='note'>{html.escape(describe(table))} Days are days since the case's day 0.</p>",
        _figure(fig_data_uri(forest_figure(table)), f"Effects against '{baseline}' ({pairing})"),
        display_table(table).to_html(index=False, classes="effects", border=0, escape=True)])


def sensitivity_section(folder: Path) -> str:
    """The sensitivity chart (embedded) and a table of the three most influential parameters."""
    from sim.errors import ScenarioError

    if not (folder / "indices.csv").is_file():
        raise ScenarioError("no indices.csv here", file=folder, field="--sensitivity",
                            fix="give the --out folder of `negsim sensitivity`")
    idx = pd.read_csv(folder / "indices.csv")
    info_p = folder / "sensitivity.json"
    info = json.loads(info_p.read_text(encoding="utf-8")) if info_p.is_file() else {}
    method = str(idx["method"].iloc[0]) if len(idx) else info.get("method", "")
    key = "mu_star" if method == "morris" else "ST"
    top = idx.sort_values(key, ascending=False).groupby("outcome").head(3)
    out = [f"<h2>Sensitivity ({html.escape(method)})</h2>",
           f"<p class='note'>{info.get('runs', '?')} runs, {len(info.get('parameters', []))} parameters, "
           f"samples {info.get('samples', '?')}, {info.get('replicates', 1)} replicate(s) per design point, "
           f"scenario {html.escape(str(info.get('scenario_file', '')))}</p>"]
    if info.get("skipped_outcomes"):
        out.append("<p class='note'>Left out (missing at some design point, or constant): "
                   + html.escape(", ".join(info["skipped_outcomes"])) + "</p>")
    if info.get("missing_rule"):
        out.append(f"<p class='note'>Missing outcomes: {html.escape(info['missing_rule'])}</p>")
    png = folder / "sensitivity.png"
    if png.is_file():
        uri = "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode("ascii")
        out.append(_figure(uri, f"Sensitivity indices ({method})"))
    out.append(top.round(3).to_html(index=False, classes="sensitivity", border=0))
    return "\n".join(out)


def baseline_population_scale(batch: Batch) -> float:
    """The population scale of the batch's baseline scenario (1 if unknown)."""
    from sim.errors import ScenarioError
    from sim.scenario.loader import load_scenario

    info = batch.manifest.get("scenarios", {}).get("baseline")
    if not info:
        return 1.0
    try:
        return float(load_scenario(info["file"]).world.population_scale)
    except (ScenarioError, OSError, KeyError):
        return 1.0


def write_report(batch: Batch, path: str | Path, **kw: Any) -> Path:
    """Write the report atomically."""
    out = Path(path)
    if out.is_dir():
        from sim.errors import ScenarioError

        raise ScenarioError("is a folder", file=out, field="--to", fix="name the HTML file, e.g. report.html")
    return atomic.write_text(out, build_report(batch, **kw))


__all__ = ["build_report", "write_report", "load_run", "reproduce_runs"]
