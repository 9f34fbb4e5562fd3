"""Figures of batches: displacement curves with bands, zones, scenario comparison.

Every figure function returns a matplotlib ``Figure`` (so tests can count what was drawn);
:func:`save_figure` writes it as 300 dpi PNG and SVG, atomically. Figures are readable in grey:
scenarios differ by line style and marker as well as colour, zones by hatching.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from analysis.casemeta import batch_case, column_labels, days_label, zone_series  # noqa: E402
from analysis.store import FEW_RUNS, Batch  # noqa: E402
from sim import atomic  # noqa: E402
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
#: Outcomes every case has (sim/outcomes.py), shown when a batch has none of a case's own.
GENERIC_DEFAULT_OUTCOMES = ("peak_displaced", "deaths_final", "first_collapse_day", "deal_day",
                            "returned", "evacuated", "regime_share_final")
#: Outcomes shown by default where a batch has them (the Daraa article's readings first).
DEFAULT_OUTCOMES = ("displaced_day16", "peak_displaced", "deaths_day16", "deaths_day60",
                    "first_collapse_day", "deal_day", "returned", "evacuated")


def default_outcomes(columns: Any) -> tuple[str, ...]:
    """The default outcomes a batch can show: :data:`DEFAULT_OUTCOMES` if its runs have them
    all (a Daraa batch), else the generic ones it has."""
    cols = set(columns)
    if set(DEFAULT_OUTCOMES) <= cols:
        return DEFAULT_OUTCOMES
    return tuple(o for o in GENERIC_DEFAULT_OUTCOMES if o in cols)


def zone_stack(zones: list[dict[str, Any]]) -> list[tuple[str, str, str, Any, list[str]]]:
    """Stacked zones of a batch figure: (label, colour, hatch, how to compute it from a frame of
    medians, the columns it needs): each border and frontier, the fields, government-held areas,
    and the rest (the quieter towns: the displaced total less those, so that the stack's top is
    the median total)."""
    series = zone_series(zones)
    kinds = {z["column"]: z["kind"] for z in zones}
    own = [(c, lab, col, h) for c, lab, col, h in series
           if kinds.get(c) in ("border", "frontier", "fields", "government")]
    out = [(lab, col, h, (lambda d, c=c: d[c]), [c]) for c, lab, col, h in own]
    cols = [c for c, *_ in own]
    _, _, rest_col, rest_h = next(x for x in series if x[0] == "displaced_towns")
    out.append(("Other (quieter towns)" if own else "Displaced (quieter towns)",
                rest_col, rest_h, lambda d, cols=tuple(cols): d["displaced_total"]
                - sum((d[c] for c in cols), 0), []))
    return out


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
            with atomic.writing(final) as tmp:
                fig.savefig(tmp, format=fmt, dpi=dpi)
            out.append(final)
    finally:
        plt.close(fig)
    return out


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
        if by == "scenario" and str(g) == "baseline" and str(batch_case(batch, "baseline")[0]) \
                == "2018-06-19":  # the article's figures belong to the Daraa baseline
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
    ax.plot([], [], ls="none", label=uncertainty_label(batch.manifest))
    ax.set_xlabel(days_label(batch_case(batch)[0]))
    ax.set_ylabel(metric.replace("_", " ") + unit)
    drawn = batch.manifest.get("posterior") is not None
    ax.set_title(f"{metric} across replicates{' and posterior draws' if drawn else ''}: median, 50% and 90% bands"
                 + few_runs_warning(fewest), fontsize=11 if fewest >= FEW_RUNS else 10)
    ax.set_ylim(bottom=0 if float(ts[metric].min()) >= 0 else None)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best", framealpha=0.9)
    fig.tight_layout()
    return fig


def uncertainty_label(manifest: dict[str, Any]) -> str:
    """What a batch's bands include, from its manifest: parameter uncertainty (a posterior-
    predictive batch, ``negsim batch --posterior``) or stochastic variation only."""
    post = manifest.get("posterior")
    if post is None:
        return "bands: stochastic variation only (parameters fixed)"
    return f"bands include parameter uncertainty (ABC posterior, generation {post.get('generation')})"


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
    # one panel gets the width of the title above it (narrower, the title was cut off)
    fig, axes = plt.subplots(nrow, ncol, figsize=(max(4.2 * ncol, 6.4), 3.4 * nrow + 0.6),
                             sharex=True, sharey=True, squeeze=False)
    handles_from = None
    for ax, (name, g) in zip(axes.flat, groups, strict=False):
        scenario = str(g["scenario"].iloc[0])
        zones = zone_stack(batch_case(batch, scenario)[1])
        cols = ["day", "displaced_total", *dict.fromkeys(c for *_, need in zones for c in need)]
        ts = batch.timeseries(scenario, columns=cols)
        ts = ts[ts["run_id"].isin(set(g["run_id"]))]
        med = ts.groupby("day")[cols[1:]].median()
        ys = [fn(med).clip(lower=0).to_numpy() / 1000 for *_, fn, _ in zones]
        polys = ax.stackplot(med.index.to_numpy(), *ys, colors=[c for _, c, _, _, _ in zones],
                             labels=[lab for lab, *_ in zones], alpha=0.85, edgecolor="0.2", lw=0.3)
        for poly, (_, _, hatch, _, _) in zip(polys, zones, strict=True):
            poly.set_hatch(hatch)
        if handles_from is None or len(zones) > len(handles_from.get_legend_handles_labels()[0]):
            handles_from = ax
        ax.set_title(f"{name} (n={ts['run_id'].nunique()})", fontsize=9)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(scen):]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel("Displaced (thousands)")
    for ax in axes[-1, :]:
        ax.set_xlabel(days_label(batch_case(batch)[0], "day 0"))
    handles, labels = (handles_from or axes.flat[0]).get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=4, fontsize=8, frameon=False)
    fig.suptitle("Displaced persons by destination (median across replicates)", fontsize=11)
    fig.tight_layout(rect=(0, 0.06, 1, 0.97))
    return fig


def compare_figure(batch: Batch, outcomes: tuple[str, ...] | list[str] | None = None) -> Figure:
    """Summary outcomes per scenario (per scenario and point when the batch has several) as box
    plots, sorted by the median in each panel. The title says what is drawn: box = middle 50%
    of the runs, whiskers = 5th to 95th percentile, dots = every run; groups with fewer than
    FEW_RUNS runs, and outcomes or groups with no value, are said, not silently left out."""
    runs = batch.ok_runs()
    outcomes = outcomes or default_outcomes(runs.columns)
    missing = [o for o in outcomes if o not in runs.columns]
    if missing:
        raise ScenarioError(f"unknown outcome(s): {', '.join(missing)}", file=batch.root, field="--outcomes",
                            fix="outcomes are columns of runs.parquet, e.g. "
                                + ", ".join(default_outcomes(runs.columns)))
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


def comparison_table(batch: Batch, outcomes: tuple[str, ...] | list[str] | None = None) -> pd.DataFrame:
    """Per scenario (per scenario and parameter point, with the swept values, when the batch has
    several points): runs, and each outcome's median with its 90% interval, as text."""
    rows = []
    outcomes = outcomes or default_outcomes(batch.ok_runs().columns)
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


# --- the public record and the forecast ---------------------------------------------------
#: Panel titles of the record's series (any other timeseries column gets its own name).
RECORD_SERIES_LABELS = {
    "displaced_total": "Displaced, total",
    "displaced_jordan_border": "Displaced at the Jordanian border",
    "displaced_golan": "Displaced at the Golan frontier",
    "displaced_regime_area": "Crossed into government areas",
    "civilian_deaths_cum": "Civilians killed since day 0",
    "regime_share_area": "Government's share of the area",
    "regime_share_daraa": "Government's share of Daraa governorate",
}
RECORD_FILE = ROOT / "seeds" / "record.toml"


@dataclass
class Record:
    """The public record (``seeds/record.toml``): its targets and its cut-off."""

    path: Path
    targets: list[Any]          # sim.targets.Target
    cutoff_day: float | None
    cutoff_date: str

    @property
    def series(self) -> list[str]:
        """The record's series in file order."""
        return list(dict.fromkeys(t.series for t in self.targets if t.series is not None))


def load_record(path: str | Path | None = None) -> Record:
    """Read a record file (``[[target]]`` tables with series points; ``[source]`` may give
    ``cutoff_day`` and ``cutoff``). Errors name the file and the field."""
    from sim.targets import load_targets

    p = Path(path) if path else RECORD_FILE
    targets = load_targets(p)
    with p.open("rb") as f:
        source = tomllib.load(f).get("source", {})
    cut = source.get("cutoff_day")
    if cut is not None and not isinstance(cut, int | float):
        raise ScenarioError(f"cutoff_day must be a number of days, got {cut!r}", file=p,
                            field="source.cutoff_day", fix="e.g. cutoff_day = 16")
    if not any(t.series for t in targets):
        raise ScenarioError("no dated series points (targets with series and day)", file=p,
                            field="target", fix="give a record file such as seeds/record.toml")
    return Record(p, targets, float(cut) if cut is not None else None, str(source.get("cutoff", "")))


def record_figure(wide: dict[str, pd.DataFrame], record: Record, *, bands: tuple[float, ...] = (0.5, 0.9),
                  days: tuple[float, float] = (0.0, 60.0), population_scale: float = 1.0,
                  title: str = "", label: str = "model", zones: list[dict[str, Any]] | None = None,
                  start: str | None = None) -> Figure:
    """One panel per series of the record: the model's median across runs with its bands
    (``bands``: shares of runs, e.g. 0.5 and 0.9; one run: its line), the record's ranges as
    error bars (persons scaled by ``population_scale``), and a vertical line at the record's
    cut-off (the article's date: the forecast starts there).

    ``wide`` maps each series to a frame indexed by day with one column per run; ``zones`` and
    ``start`` (the case's zones and day 0) label the panels and the time axis."""
    names = record.series
    labels = column_labels(zones or [])
    ncol = min(3, len(names))
    nrow = math.ceil(len(names) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.4 * ncol, 3.3 * nrow), squeeze=False)
    colour = COLOURS[1]
    for ax, col in zip(axes.flat, names, strict=False):
        pts = [t for t in record.targets if t.series == col]
        persons = all(t.unit == "persons" for t in pts)
        k = population_scale if persons else 1.0
        w = wide.get(col)
        top = max(t.bounds()[1] * k for t in pts)
        if w is not None and w.shape[1]:
            top = max(top, float(np.nanmax(w.to_numpy())))
        scale, unit = (1000.0, " (thousands)") if top >= 10_000 else (1.0, "")
        if col.startswith("regime_share"):
            unit = " (share)"
        if w is not None and w.shape[1] > 1:
            for b in sorted(bands, reverse=True):  # wide and light first, narrow and dark on top
                lo = w.quantile(0.5 - b / 2, axis=1) / scale
                hi = w.quantile(0.5 + b / 2, axis=1) / scale
                ax.fill_between(w.index, lo, hi, color=colour, alpha=0.14 if b >= 0.75 else 0.32,
                                lw=0, label=f"{b:.0%} of runs")
            ax.plot(w.index, w.median(axis=1) / scale, color=colour, lw=1.8,
                    label=f"{label}: median of {w.shape[1]} runs")
        elif w is not None and w.shape[1] == 1:
            ax.plot(w.index, w.iloc[:, 0] / scale, color=colour, lw=1.8, label=f"{label} (one run)")
        for t in pts:
            lo, hi = (x * k / scale for x in t.bounds())
            mid = (lo + hi) / 2
            ax.errorbar([t.day], [mid], yerr=[[mid - lo], [hi - mid]], fmt="D", ms=4.5,
                        color="crimson", mec="black", mew=0.6, ecolor="black", elinewidth=1.2,
                        capsize=3.5, zorder=6, label="record (range)")
        if record.cutoff_day is not None:
            ax.axvspan(record.cutoff_day, days[1], color="0.93", lw=0, zorder=0)
            if ax is axes.flat[0]:
                ax.text(record.cutoff_day, 0.02, " forecast \u2192", transform=ax.get_xaxis_transform(),
                        ha="left", va="bottom", fontsize=7, color="0.25")
                ax.text(record.cutoff_day, 0.02, "record ", transform=ax.get_xaxis_transform(),
                        ha="right", va="bottom", fontsize=7, color="0.25")
            ax.axvline(record.cutoff_day, color="0.15", ls="--", lw=1.1, zorder=5,
                       label=f"{_long_date(record.cutoff_date)}day {record.cutoff_day:g}: the "
                             "record's cut-off, start of the forecast")
        ax.set_title(RECORD_SERIES_LABELS.get(col, labels.get(col, col)), fontsize=9)
        ax.set_xlim(*days)
        ax.set_ylim(bottom=0)
        ax.set_ylabel(col.replace("_", " ") + unit, fontsize=7.5)
        ax.set_xlabel(days_label(start).replace("Days", "days") if start else "days since day 0",
                      fontsize=7.5)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    seen: dict[str, Any] = {}
    for h, lab in zip(handles, labels, strict=True):
        seen.setdefault(lab, h)
    fig.legend(list(seen.values()), list(seen), loc="lower center", ncol=min(len(seen), 3),
               fontsize=7.5, framealpha=0.9)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0.09 if nrow > 1 else 0.14, 1, 0.96 if title else 1))
    return fig


def _long_date(iso: str) -> str:
    """'2018-07-05' -> '5 July 2018, ' ('' if not a date)."""
    import datetime as dt

    try:
        d = dt.date.fromisoformat(iso)
    except ValueError:
        return ""
    return f"{d.day} {d:%B %Y}, "


def wide_series(ts: pd.DataFrame, columns: list[str], run_col: str = "run_id") -> dict[str, pd.DataFrame]:
    """Per column: a frame indexed by day with one column per run (``run_col``)."""
    out = {}
    for c in columns:
        if c in ts:
            out[c] = ts.pivot_table(index="day", columns=run_col, values=c, aggfunc="first").sort_index()
    return out


def forecast_figure(source: str | Path, record_path: str | Path | None = None,
                    scenario: str | None = None, days: tuple[float, float] = (0.0, 60.0)) -> Figure:
    """``negsim plot forecast``: a batch folder (one scenario's runs: median, 50% and 90% bands)
    or a run folder (its line), against the record's ranges up to its cut-off."""
    from analysis.store import load_batch, load_run
    from sim.batch.store import is_batch_folder

    record = load_record(record_path)
    src = Path(source)
    if is_batch_folder(src):
        batch = load_batch(src)
        names = batch.scenarios
        if scenario is None:
            if "baseline" in names:
                scenario = "baseline"
            elif len(names) == 1:
                scenario = names[0]
            else:
                raise ScenarioError("the batch holds several scenarios", file=src, field="--scenario",
                                    fix="choose one: " + ", ".join(names))
        if scenario not in names:
            raise ScenarioError(f"no runs of scenario '{scenario}' in this batch", file=src,
                                field="--scenario", fix="one of: " + ", ".join(names))
        ts = batch.timeseries(scenario)
        missing = [c for c in record.series if c not in ts]
        scale = _scenario_population_scale(batch, scenario)
        n = int(ts["run_id"].nunique())
        title = f"{scenario}: {n} runs of {src.name}"
        start, zones, _ = batch_case(batch, scenario)
    else:
        run = load_run(src)
        ts = run.timeseries.assign(run_id=0)
        missing = [c for c in record.series if c not in ts]
        scale = float(run.metadata.get("parameters", {}).get("world", {}).get("population_scale", 1.0))
        title = f"{run.metadata.get('scenario_name', src.name)}, seed {run.metadata.get('seed', '?')}"
        from analysis.casemeta import run_start, run_zones

        start, zones = run_start(run.metadata), run_zones(run.metadata)
    if missing:
        raise ScenarioError(f"the runs have no column {', '.join(missing)}", file=src,
                            fix="re-run them with this version of negsim (which writes every record series)")
    wide = wide_series(ts, record.series)
    return record_figure(wide, record, bands=(0.5, 0.9), days=days, population_scale=scale,
                         zones=zones, start=start,
                         title=f"Forecast after the record's cut-off: {title}"
                               + (f" (population x{scale:g}; record scaled)" if scale != 1 else ""))


def _scenario_population_scale(batch: Batch, scenario: str) -> float:
    from sim.scenario.loader import load_scenario

    runs = batch.ok_runs()
    col = "world.population_scale"
    if col in runs:
        vals = runs.loc[runs["scenario"] == scenario, col].dropna().unique()
        if len(vals) == 1:
            return float(vals[0])
    info = batch.manifest.get("scenarios", {}).get(scenario) or {}
    try:
        return float(load_scenario(info["file"]).world.population_scale)
    except (ScenarioError, OSError, KeyError):
        return 1.0
