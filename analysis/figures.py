"""Figures of batches: displacement curves with bands, zones, scenario comparison.

Every figure function returns a matplotlib ``Figure`` (so tests can count what was drawn);
:func:`save_figure` writes it as 300 dpi PNG and SVG, atomically. Figures are readable in grey:
scenarios differ by line style and marker as well as colour, zones by hatching.
"""

from __future__ import annotations

import math
import os
import tempfile
import tomllib
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from analysis.plots import ZONE_SERIES  # noqa: E402
from analysis.store import FEW_RUNS, Batch  # noqa: E402
from sim.errors import ScenarioError  # noqa: E402

#: Okabe-Ito colours (colour-blind safe) with distinct lightness; styles make them grey-safe.
COLOURS = ("#000000", "#0072b2", "#e69f00", "#009e73", "#cc79a7", "#d55e00", "#56b4e9", "#f0e442")
LINESTYLES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 3)), (0, (8, 3)), (0, (3, 1)))
KEY_DATES = (  # (outcome column, label, marker)
    ("first_collapse_day", "talks collapse", "X"),
    ("resume_day", "talks resume", "^"),
    ("deal_day", "deal signed", "*"),
)
#: Which article figures (seeds/targets.toml outcome names) belong on which timeseries column.
TARGETS_FOR_METRIC = {
    "displaced_total": ("displaced_day16",),
    "civilian_deaths_cum": ("deaths_day16",),
    "displaced_jordan_border": ("jordan_border_day16",),
    "displaced_golan": ("golan_day16",),
}
ZONES = (  # (label, colour, hatch, how to compute from a timeseries frame)
    ("Jordanian border", ZONE_SERIES[0][2], "", lambda d: d["displaced_jordan_border"]),
    ("Golan frontier", ZONE_SERIES[1][2], "//", lambda d: d["displaced_golan"]),
    ("Fields and olive groves", ZONE_SERIES[2][2], "..", lambda d: d["displaced_fields"]),
    ("Other (towns, regime areas)", ZONE_SERIES[3][2], "xx",
     lambda d: d["displaced_total"] - d["displaced_jordan_border"] - d["displaced_golan"]
     - d["displaced_fields"]),
)
DEFAULT_OUTCOMES = ("displaced_day16", "peak_displaced", "deaths_day16", "deaths_day60",
                    "first_collapse_day", "deal_day", "returned", "evacuated")
ROOT = Path(__file__).resolve().parents[1]


def style(i: int) -> dict[str, Any]:
    """Colour and line style of the i-th series."""
    return {"color": COLOURS[i % len(COLOURS)],
            "ls": LINESTYLES[(i + i // len(COLOURS)) % len(LINESTYLES)]}


def save_figure(fig: Figure, stem: str | Path, formats: tuple[str, ...] = ("png", "svg"),
                dpi: int = 300) -> list[Path]:
    """Write ``fig`` as ``stem.png`` and ``stem.svg`` (300 dpi), each atomically; close it."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    for fmt in formats:
        if stem.with_name(f"{stem.name}.{fmt}").is_dir():
            raise ScenarioError("is a folder", file=stem.with_name(f"{stem.name}.{fmt}"), field="--to",
                                fix="give --to a path without extension, e.g. figures/curves")
    out = []
    try:
        for fmt in formats:
            final = stem.with_name(f"{stem.name}.{fmt}")
            fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
            os.close(fd)
            try:
                fig.savefig(tmp, format=fmt, dpi=dpi)
                publish(tmp, final)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            out.append(final)
    finally:
        plt.close(fig)
    return out


def publish(tmp: str | Path, final: str | Path) -> None:
    """Give a finished temporary file the usual permissions and rename it into place."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    os.replace(tmp, final)


def load_targets(path: str | Path | None = None) -> list[dict[str, Any]]:
    """The article's figures (seeds/targets.toml) as a list of target tables."""
    p = Path(path) if path else ROOT / "seeds" / "targets.toml"
    if not p.is_file():
        return []
    with p.open("rb") as f:
        return list(tomllib.load(f).get("target", []))


def _target_interval(t: dict[str, Any]) -> tuple[float, float, float]:
    v, tol, kind = float(t["value"]), float(t.get("tolerance", 0)), t.get("kind", "absolute")
    if kind == "relative":
        return v, v * (1 - tol), v * (1 + tol)
    if kind == "absolute":
        return v, v - tol, v + tol
    return v, v, v


def _day_of(t: dict[str, Any]) -> float:
    import datetime as dt

    when = dt.datetime.fromisoformat(str(t["time"]))
    return (when - dt.datetime(2018, 6, 19)).total_seconds() / 86400.0


def quantile_bands(ts: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Per day: median and the 50% and 90% bands of ``metric`` across runs."""
    wide = ts.pivot_table(index="day", columns="run_id", values=metric, aggfunc="first")
    q = wide.quantile([0.05, 0.25, 0.5, 0.75, 0.95], axis=1).T
    q.columns = ["q05", "q25", "q50", "q75", "q95"]
    q["n"] = wide.notna().sum(axis=1)
    return q


def _check_metric(batch: Batch, metric: str) -> None:
    first = batch.timeseries(batch.scenarios[0]).columns
    numeric = [c for c in first if c not in ("time", "run_id", "scenario", "negotiation_state", "point_id",
                                             "replicate", "seed")]
    if metric not in numeric:
        import difflib

        close = difflib.get_close_matches(metric, numeric, n=1)
        raise ScenarioError(f"'{metric}' is not a timeseries column", file=batch.root, field="--metric",
                            fix=(f"did you mean '{close[0]}'? " if close else "")
                            + "one of: " + ", ".join(numeric))


def curves_figure(batch: Batch, metric: str = "displaced_total", by: str | None = None,
                  targets: list[dict[str, Any]] | None = None, target_scale: float = 1.0) -> Figure:
    """The metric over time: median line and 50%/90% bands per group, key dates marked.

    Groups are scenarios (``by="scenario"``), scenarios and parameter points (``"point"``, the
    default when the batch has several points) or the values of any column of runs.parquet
    (e.g. a swept parameter). The article's figures for this metric are overlaid when a group is the
    baseline scenario, multiplied by ``target_scale`` (the baseline's population scale: the
    article's figures are for the full population).
    """
    _check_metric(batch, metric)
    runs = batch.ok_runs()
    if by is None:  # never pool parameter points into one curve unless asked to
        by = "point" if batch.by_point() else "scenario"
    if by == "point":  # scenario and parameter point (with the swept values), never pooled
        runs = runs.assign(point=batch.group_labels(runs))
    if by not in runs.columns:
        raise ScenarioError(f"cannot group by '{by}': not a column of runs.parquet", file=batch.root,
                            field="--by",
                            fix="use 'scenario', 'point' or a swept parameter: "
                            + ", ".join(c for c in runs.columns if "." in c))
    ts = batch.timeseries(columns=["day", metric])
    ts = ts.merge(runs[["run_id", by]].rename(columns={by: "_group"}), on="run_id", how="inner") \
        if by != "scenario" else ts.assign(_group=ts["scenario"])
    groups = (batch.scenarios if by == "scenario" else [g for g, _ in batch.groups()] if by == "point"
              else sorted(ts["_group"].unique()))
    scale, unit = (1000.0, " (thousands)") if float(ts[metric].abs().max()) >= 10_000 else (1.0, "")
    fig, ax = plt.subplots(figsize=(9, 5.2))
    targets = load_targets() if targets is None else targets
    fewest = 10**9
    for i, g in enumerate(groups):
        sub = ts[ts["_group"] == g]
        q = quantile_bands(sub, metric) / np.r_[[scale] * 5, [1]]
        st = style(i)
        label = f"{by}={g}" if by not in ("scenario", "point") else str(g)
        n = int(sub["run_id"].nunique())
        fewest = min(fewest, n)
        ax.fill_between(q.index, q["q05"], q["q95"], color=st["color"], alpha=0.12, lw=0,
                        label="_band90")
        ax.fill_between(q.index, q["q25"], q["q75"], color=st["color"], alpha=0.28, lw=0,
                        label="_band50")
        ax.plot(q.index, q["q50"], lw=1.8, label=f"{label} (median, n={n})", **st)
        grp_runs = runs[runs[by] == g]
        for col, _lab, marker in KEY_DATES:
            if col not in grp_runs or grp_runs[col].isna().all():
                continue
            d = float(grp_runs[col].median())
            y = float(np.interp(d, q.index.to_numpy(), q["q50"].to_numpy()))
            ax.plot([d], [y], marker=marker, ms=9, color=st["color"], mec="white", mew=0.8,
                    ls="none", label="_keydate", zorder=5)
        if by == "scenario" and str(g) == "baseline":
            for t in targets:
                if t.get("outcome") in TARGETS_FOR_METRIC.get(metric, ()):
                    v, lo, hi = (x * target_scale / scale for x in _target_interval(t))
                    ax.errorbar([_day_of(t)], [v], yerr=[[v - lo], [hi - v]], fmt="D", color="crimson",
                                mec="black", ms=7, capsize=4, zorder=6,
                                label=f"article: {t.get('quantity', t['id'])}"
                                + (f" (x{target_scale:g})" if target_scale != 1 else ""))
    # Legend entries for the marks and bands, drawn once in grey.
    for _col, lab, marker in KEY_DATES:
        ax.plot([], [], marker=marker, color="0.3", ls="none", ms=8, label=f"{lab} (median day)")
    ax.fill_between([], [], [], color="0.3", alpha=0.28, label="50% of runs")
    ax.fill_between([], [], [], color="0.3", alpha=0.12, label="90% of runs")
    ax.set_xlabel("Days since 19 June 2018 (start of the offensive)")
    ax.set_ylabel(metric.replace("_", " ") + unit)
    ax.set_title(f"{metric} across replicates: median, 50% and 90% bands"
                 + few_runs_warning(fewest), fontsize=11 if fewest >= FEW_RUNS else 10)
    ax.set_ylim(bottom=0 if float(ts[metric].min()) >= 0 else None)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best", framealpha=0.9)
    fig.tight_layout()
    return fig


def few_runs_warning(n: int, what: str = "bands") -> str:
    """A visible line for figures whose intervals come from fewer than FEW_RUNS runs."""
    if n >= FEW_RUNS:
        return ""
    return f"\nWARNING: only {n} run(s) in a group (< {FEW_RUNS}): the {what} are rough"


def zones_figure(batch: Batch) -> Figure:
    """Displaced persons by destination zone (median across replicates), stacked, per scenario
    (per scenario and parameter point when the batch has several points)."""
    groups = batch.groups()
    scen = [g for g, _ in groups]
    ncol = min(len(scen), 3)
    nrow = math.ceil(len(scen) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.4 * nrow + 0.6), sharex=True,
                             sharey=True, squeeze=False)
    cols = ["day", "displaced_total", "displaced_jordan_border", "displaced_golan", "displaced_fields"]
    for ax, (name, g) in zip(axes.flat, groups, strict=False):
        ts = batch.timeseries(str(g["scenario"].iloc[0]), columns=cols)
        ts = ts[ts["run_id"].isin(set(g["run_id"]))]
        med = ts.groupby("day")[cols[1:]].median()
        ys = [fn(med).clip(lower=0).to_numpy() / 1000 for *_, fn in ZONES]
        polys = ax.stackplot(med.index.to_numpy(), *ys, colors=[c for _, c, _, _ in ZONES],
                             labels=[lab for lab, *_ in ZONES], alpha=0.85, edgecolor="0.2", lw=0.3)
        for poly, (_, _, hatch, _) in zip(polys, ZONES, strict=True):
            poly.set_hatch(hatch)
        ax.set_title(f"{name} (n={ts['run_id'].nunique()})", fontsize=9)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(scen):]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel("Displaced (thousands)")
    for ax in axes[-1, :]:
        ax.set_xlabel("Days since 19 June 2018")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=4, fontsize=8, frameon=False)
    fig.suptitle("Displaced persons by destination (median across replicates)", fontsize=11)
    fig.tight_layout(rect=(0, 0.06, 1, 0.97))
    return fig


def compare_figure(batch: Batch, outcomes: tuple[str, ...] | list[str] = DEFAULT_OUTCOMES) -> Figure:
    """Summary outcomes per scenario (per scenario and point when the batch has several) as box
    plots, sorted by the median in each panel. The title says what is drawn: box = middle 50%
    of the runs, whiskers = 5th to 95th percentile, dots = every run; groups with fewer than
    FEW_RUNS runs, and outcomes or groups with no value, are said, not silently left out."""
    runs = batch.ok_runs()
    missing = [o for o in outcomes if o not in runs.columns]
    if missing:
        raise ScenarioError(f"unknown outcome(s): {', '.join(missing)}", file=batch.root, field="--outcomes",
                            fix="outcomes are columns of runs.parquet, e.g. " + ", ".join(DEFAULT_OUTCOMES))
    outs = [o for o in outcomes if runs[o].notna().any()]
    empty = [o for o in outcomes if o not in outs]
    if not outs:
        raise ScenarioError(f"no run has a value for {', '.join(outcomes)} (e.g. days past the "
                            "horizon, or events that never happened)", file=batch.root,
                            field="--outcomes", fix="choose other outcomes")
    ncol = 2
    nrow = math.ceil(len(outs) / ncol)
    groups = batch.groups()
    fig, axes = plt.subplots(nrow, ncol, figsize=(10, (0.2 * len(groups) + 0.9) * nrow + 0.9),
                             squeeze=False)
    fewest = min(len(g) for _, g in groups)
    for ax, o in zip(axes.flat, outs, strict=False):
        data = {s: g[o].dropna().to_numpy(float) for s, g in groups}
        absent = [s for s, v in data.items() if not len(v)]
        data = {s: v for s, v in data.items() if len(v)}
        order = sorted(data, key=lambda s: float(np.median(data[s])))
        ax.boxplot([data[s] for s in order], orientation="horizontal", tick_labels=order, widths=0.6,
                   whis=(5, 95), patch_artist=True, showfliers=False,
                   boxprops={"facecolor": "0.85", "edgecolor": "black"},
                   medianprops={"color": "black", "lw": 2})
        for j, s in enumerate(order):
            ax.plot(data[s], np.full(len(data[s]), j + 1.0), "o", ms=2.5, color="0.35", zorder=3)
        n = sorted({len(v) for v in data.values()})
        title = o.replace("_", " ") + f" (n = {n[0]}" + (f"-{n[-1]}" if len(n) > 1 else "") + " runs)"
        if absent:
            title += f"\nno value in: {', '.join(absent)}"
        ax.set_title(title, fontsize=9)
        ax.tick_params(labelsize=7)
        ax.ticklabel_format(axis="x", style="plain", useOffset=False)
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _p: f"{v:,.0f}"
                                                                     if abs(v) >= 1000 else f"{v:g}"))
        ax.grid(alpha=0.3, axis="x")
    for ax in axes.flat[len(outs):]:
        ax.set_visible(False)
    per = "scenario and parameter point" if batch.by_point() else "scenario"
    title = (f"Summary outcomes by {per}: box = middle 50% of runs, whiskers = 5th-95th "
             "percentile, dots = each run")
    if empty:
        title += f"\nnot drawn (no run has a value): {', '.join(empty)}"
    title += few_runs_warning(fewest, "boxes and whiskers")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 1 - (0.3 + 0.18 * title.count("\n")) / fig.get_figheight()))
    return fig


def comparison_table(batch: Batch, outcomes: tuple[str, ...] | list[str] = DEFAULT_OUTCOMES) -> pd.DataFrame:
    """Per scenario (per scenario and parameter point, with the swept values, when the batch has
    several points): runs, and each outcome's median with its 90% interval, as text."""
    rows = []
    swept = batch.swept_columns() if batch.by_point() else []
    for _label, r in batch.groups():
        row: dict[str, Any] = {"scenario": str(r["scenario"].iloc[0])}
        if batch.by_point():
            row["point"] = int(r["point_id"].iloc[0])
            row.update({c: r[c].iloc[0] for c in swept})
        row["runs"] = len(r)
        for o in outcomes:
            v = r[o].dropna() if o in r else pd.Series(dtype=float)
            if not len(v):
                row[o] = "–"
                continue
            fmt = "{:,.0f}" if float(v.abs().max()) >= 100 else "{:.2f}"
            lo, med, hi = (float(v.quantile(p)) for p in (0.05, 0.5, 0.95))
            row[o] = f"{fmt.format(med)} [{fmt.format(lo)}–{fmt.format(hi)}]"
        rows.append(row)
    return pd.DataFrame(rows)
