"""``negsim effects``: what each scenario changes against a baseline, with an honest interval.

For every scenario other than the baseline and every summary outcome (a numeric column of
``runs.parquet``):

* **Paired** (the batch ran with ``--crn``: replicate r has the same seed, and with
  ``--posterior`` the same parameter draw, in every scenario and point): pairs are the runs of
  the scenario and of the baseline with the same point and replicate. The effect is the median
  of the paired differences (scenario - baseline), the interval the 5th-95th percentiles of the
  paired differences (where 90% of the pairs' effects fall), and ``share_lower`` the share of
  pairs in which the scenario's outcome is lower.
* **Unpaired** (no ``--crn``): there are no pairs. The effect is the difference of the medians
  with a percentile-bootstrap 90% confidence interval (:func:`scipy.stats.bootstrap`, seeded
  per scenario and outcome),
  and ``share_lower`` the share of all (scenario run, baseline run) combinations in which the
  scenario's outcome is lower. Every output says "unpaired".

A pair or run whose outcome is missing (NaN: e.g. ``deal_day`` when no deal was signed) is left
out of that outcome; ``n`` says how many were used.

Outputs (one folder, written atomically): ``effects.csv`` (tidy, every number),
``effects.md``, ``effects.tex`` (pandas Styler; ``\\input`` it in a paper) and a forest plot
``effects.{png,svg}``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from analysis.store import Batch  # noqa: E402
from sim.errors import ScenarioError  # noqa: E402

#: Outcomes shown by default (those present in the batch; ``--outcomes all`` for every one).
DEFAULT_EFFECT_OUTCOMES = ("peak_displaced", "displaced_day16", "deaths_day60", "deaths_day28",
                           "deaths_final", "deal_day", "collapses", "evacuated", "returned",
                           "arrived_government", "regime_share_day30", "regime_share_day16",
                           "regime_share_day28")
LEVEL = 0.90
PAIRED_INTERVAL = "90% of paired differences (5th-95th percentile)"
UNPAIRED_INTERVAL = "bootstrap 90% CI of the difference of medians"


def outcome_columns(runs: pd.DataFrame) -> list[str]:
    """The summary outcomes of a run table: numeric columns that are not ids or parameters."""
    from sim.batch.posterior import DRAW_COLUMN
    from sim.batch.store import ID_COLUMNS

    return [c for c in runs.columns if c not in ID_COLUMNS and c != DRAW_COLUMN and "." not in c
            and pd.api.types.is_numeric_dtype(runs[c]) and not pd.api.types.is_bool_dtype(runs[c])]


def choose_outcomes(runs: pd.DataFrame, outcomes: list[str] | None, root: Path | None = None) -> list[str]:
    """The outcomes to analyse: the given ones (checked), ``["all"]``, or the default set."""
    have = outcome_columns(runs)
    if outcomes == ["all"]:
        return have
    if outcomes:
        unknown = [o for o in outcomes if o not in have]
        if unknown:
            raise ScenarioError(f"unknown outcome(s): {', '.join(unknown)}", file=root, field="--outcomes",
                                fix="outcomes are numeric columns of runs.parquet: " + ", ".join(have))
        return list(outcomes)
    chosen = [o for o in DEFAULT_EFFECT_OUTCOMES if o in have]
    return chosen or have


def is_paired(manifest: dict[str, Any]) -> bool:
    """Whether a batch's runs pair up across scenarios (run with ``--crn``)."""
    return bool(manifest.get("common_random_numbers"))


def _rng(seed: int, scenario: str, outcome: str) -> np.random.Generator:
    """The bootstrap's stream for one (scenario, outcome): the same whatever else is analysed."""
    import zlib

    key = (zlib.crc32(scenario.encode()), zlib.crc32(outcome.encode()))
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


def _diff_of_medians(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.median(x, axis=axis) - np.median(y, axis=axis)


def _paired_row(xs: pd.Series, xb: pd.Series) -> dict[str, Any]:
    d = (xs - xb).dropna().to_numpy(float)
    if not len(d):
        return {"n": 0, "effect": math.nan, "lo": math.nan, "hi": math.nan, "share_lower": math.nan,
                "share_higher": math.nan}
    lo, hi = np.quantile(d, [(1 - LEVEL) / 2, 1 - (1 - LEVEL) / 2])
    return {"n": len(d), "effect": float(np.median(d)), "lo": float(lo), "hi": float(hi),
            "share_lower": float(np.mean(d < 0)), "share_higher": float(np.mean(d > 0))}


def _unpaired_row(xs: np.ndarray, xb: np.ndarray, rng: np.random.Generator, n_resamples: int) -> dict[str, Any]:
    from scipy.stats import bootstrap

    out: dict[str, Any] = {"n": min(len(xs), len(xb)), "effect": math.nan, "lo": math.nan, "hi": math.nan,
                           "share_lower": math.nan, "share_higher": math.nan}
    if not len(xs) or not len(xb):
        return out
    out["effect"] = float(np.median(xs) - np.median(xb))
    cmp = xs[:, None] - xb[None, :]
    out["share_lower"] = float(np.mean(cmp < 0))
    out["share_higher"] = float(np.mean(cmp > 0))
    if len(xs) >= 2 and len(xb) >= 2:
        if np.ptp(xs) == 0 and np.ptp(xb) == 0:  # no spread: every resample gives the same difference
            out["lo"] = out["hi"] = out["effect"]
        else:
            res = bootstrap((xs, xb), _diff_of_medians, vectorized=True, paired=False,
                            confidence_level=LEVEL, n_resamples=n_resamples, method="percentile", rng=rng)
            out["lo"], out["hi"] = float(res.confidence_interval.low), float(res.confidence_interval.high)
    return out


def effects_table(runs: pd.DataFrame, *, baseline: str = "baseline", outcomes: list[str] | None = None,
                  paired: bool, seed: int = 0, n_resamples: int = 2000, root: Path | None = None) -> pd.DataFrame:
    """One row per (scenario, outcome): the effect against ``baseline``, its interval and shares.

    ``runs`` is a run table (failed runs are left out). ``paired`` pairs runs by (point_id,
    replicate) -- only right for a batch run with ``--crn``; otherwise the unpaired bootstrap
    (seeded by ``seed``) is used.
    """
    ok = runs[runs["status"] == "ok"] if "status" in runs else runs
    scenarios = list(dict.fromkeys(ok["scenario"].astype(str)))
    if baseline not in scenarios:
        raise ScenarioError(f"no finished runs of the baseline scenario '{baseline}'", file=root,
                            field="--baseline", fix="one of: " + ", ".join(scenarios))
    others = [s for s in scenarios if s != baseline]
    if not others:
        raise ScenarioError("the batch has only the baseline scenario: nothing to compare", file=root,
                            field="--baseline", fix="run the batch with the baseline and other scenario files")
    outs = choose_outcomes(ok, outcomes, root)
    base = ok[ok["scenario"].astype(str) == baseline]
    rows = []
    for s in others:
        sub = ok[ok["scenario"].astype(str) == s]
        if paired:
            both = sub.merge(base, on=["point_id", "replicate"], suffixes=("", "__base"))
        for o in outs:
            row: dict[str, Any] = {"scenario": s, "baseline": baseline, "outcome": o,
                                   "pairing": "paired" if paired else "unpaired",
                                   "interval": PAIRED_INTERVAL if paired else UNPAIRED_INTERVAL,
                                   "baseline_median": float(base[o].median()),
                                   "scenario_median": float(sub[o].median())}
            if paired:
                row.update(_paired_row(both[o], both[f"{o}__base"]))
            else:
                row.update(_unpaired_row(sub[o].dropna().to_numpy(float), base[o].dropna().to_numpy(float),
                                         _rng(seed, s, o), n_resamples))
            rows.append(row)
    cols = ["scenario", "baseline", "outcome", "pairing", "n", "baseline_median", "scenario_median", "effect",
            "lo", "hi", "share_lower", "share_higher", "interval"]
    return pd.DataFrame(rows, columns=cols)


def batch_effects(batch: Batch, *, baseline: str = "baseline", outcomes: list[str] | None = None,
                  seed: int = 0) -> pd.DataFrame:
    """:func:`effects_table` of a batch, paired exactly when it was run with ``--crn``."""
    return effects_table(batch.runs, baseline=baseline, outcomes=outcomes, paired=is_paired(batch.manifest),
                         seed=seed, root=batch.root)


# --- presentation --------------------------------------------------------------------------------
def fmt(v: float) -> str:
    """A number for a table: thousands separated, or 3 significant digits."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def describe(table: pd.DataFrame) -> str:
    """One sentence saying how the effects were computed (paired or unpaired)."""
    if not len(table):
        return ""
    b = table["baseline"].iloc[0]
    if (table["pairing"] == "paired").all():
        return (f"Paired differences from '{b}' (common random numbers: same replicate, point, seed and "
                f"parameter draw): median, {PAIRED_INTERVAL}, share of pairs in which the outcome is lower.")
    return (f"UNPAIRED (batch run without --crn): difference of medians from '{b}' with a {UNPAIRED_INTERVAL}; "
            "share lower over all combinations of runs.")


def display_table(table: pd.DataFrame) -> pd.DataFrame:
    """The effects as text cells, one row per (scenario, outcome)."""
    return pd.DataFrame({
        "scenario": table["scenario"], "outcome": table["outcome"], "pairing": table["pairing"],
        "n": table["n"].astype(int),
        "baseline median": table["baseline_median"].map(fmt),
        "effect": table["effect"].map(lambda v: ("+" if v > 0 else "") + fmt(v)),
        "90% interval": [f"[{fmt(lo)}, {fmt(hi)}]" for lo, hi in zip(table["lo"], table["hi"], strict=True)],
        "share lower": table["share_lower"].map(lambda v: "–" if math.isnan(v) else f"{v:.0%}"),
    })


def markdown(table: pd.DataFrame) -> str:
    """The effects as a Markdown document (a sentence saying how, then the table)."""
    shown = display_table(table)
    lines = [f"# Effects against the baseline '{table['baseline'].iloc[0]}'", "", describe(table), "",
             "| " + " | ".join(shown.columns) + " |", "|" + "|".join("---" for _ in shown.columns) + "|"]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in shown.itertuples(index=False)]
    return "\n".join(lines) + "\n"


def latex(table: pd.DataFrame) -> str:
    """The effects as a LaTeX table (pandas Styler, booktabs rules), captioned with the method."""
    shown = display_table(table).drop(columns="pairing")
    styler = shown.style.hide(axis="index").format(escape="latex").format_index(escape="latex", axis=1)
    caption = describe(table).replace("%", r"\%").replace("_", r"\_")
    return styler.to_latex(caption=caption, label="tab:effects", hrules=True, position="htbp",
                           column_format="ll" + "r" * (len(shown.columns) - 2))


def forest_figure(table: pd.DataFrame) -> Figure:
    """A forest plot: one panel per outcome, one row per scenario, the effect with its interval.

    Readable in grey: a filled marker when the interval excludes zero, an open one when it does
    not; the zero line dashed.
    """
    outs = list(dict.fromkeys(table["outcome"]))
    scen = list(dict.fromkeys(table["scenario"]))
    ncol = 2 if len(outs) > 1 else 1
    nrow = math.ceil(len(outs) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(5.2 * ncol, (0.32 * len(scen) + 1.1) * nrow + 0.9),
                             squeeze=False, layout="constrained")
    ys = np.arange(len(scen))[::-1]
    for ax, o in zip(axes.flat, outs, strict=False):
        d = table[table["outcome"] == o].set_index("scenario").reindex(scen)
        ax.axvline(0, color="0.4", ls="--", lw=1)
        for y, (_s, r) in zip(ys, d.iterrows(), strict=True):
            if math.isnan(r["effect"]):
                continue
            ax.plot([r["lo"], r["hi"]], [y, y], color="black", lw=1.6, solid_capstyle="butt")
            excludes = not (r["lo"] <= 0 <= r["hi"])
            ax.plot([r["effect"]], [y], "o", ms=6.5, mec="black", mew=1.2,
                    mfc="black" if excludes else "white", zorder=3)
        ax.set_yticks(ys, [f"{s} (n={int(n)})" for s, n in zip(scen, d["n"].fillna(0), strict=True)], fontsize=8)
        ax.set_ylim(-0.7, len(scen) - 0.3)
        ax.set_title(o.replace("_", " "), fontsize=9)
        ax.tick_params(axis="x", labelsize=7)
        ax.grid(alpha=0.3, axis="x")
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(
            lambda v, _p: f"{v:,.0f}" if abs(v) >= 1000 else f"{v:g}"))
    for ax in axes.flat[len(outs):]:
        ax.set_visible(False)
    paired = (table["pairing"] == "paired").all()
    b = table["baseline"].iloc[0]
    title = (f"Effect of each scenario vs '{b}': paired differences (common random numbers)\n"
             f"dot: median; line: {PAIRED_INTERVAL}" if paired else
             f"Effect of each scenario vs '{b}': UNPAIRED difference of medians\nline: {UNPAIRED_INTERVAL}")
    fig.suptitle(title, fontsize=10)
    handles = [plt.Line2D([], [], marker="o", color="black", mfc="black", ls="none", label="interval excludes 0"),
               plt.Line2D([], [], marker="o", color="black", mfc="white", ls="none", label="interval includes 0")]
    fig.legend(handles=handles, loc="outside lower center", ncol=2, fontsize=8, frameon=False)
    return fig


def output_folder(out: Path, names: list[str], field: str = "--out") -> None:
    """Refuse to replace a folder holding anything but ``names`` (say, the batch itself)."""
    if out.exists() and (not out.is_dir() or any(not p.name.startswith(".") and p.name not in names
                                                 for p in out.iterdir())):
        raise ScenarioError("holds other files; this command replaces its output folder whole", file=out,
                            field=field, fix="choose a new folder (the default is a subfolder of the batch)")


def write_effects(table: pd.DataFrame, out: str | Path) -> list[Path]:
    """Write effects.csv, .md, .tex, .png and .svg into the folder ``out``, all or nothing."""
    from analysis.figures import save_figure
    from sim.atomic import folder

    out = Path(out)
    names = ["effects.csv", "effects.md", "effects.tex", "effects.png", "effects.svg"]
    output_folder(out, names)
    with folder(out) as tmp:
        table.to_csv(tmp / "effects.csv", index=False)
        (tmp / "effects.md").write_text(markdown(table), encoding="utf-8")
        (tmp / "effects.tex").write_text(latex(table), encoding="utf-8")
        save_figure(forest_figure(table), tmp / "effects")
    return [out / n for n in names]

