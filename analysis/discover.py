"""``negsim discover``: scenario discovery with PRIM (EMA Workbench) over a batch's runs.

Which values of the levers (the batch's swept parameters, e.g. an LHS over disarmament phases,
safe passage and bombardment) and of the calibrated parameters (a posterior-predictive batch's
draws) lead to an outcome of interest? The runs are labelled by a condition -- ``--outcome X
--below V`` / ``--above V``, or ``--where`` a condition in the small language of
:mod:`analysis.conditions` (e.g. ``"notna(deal_day) and collapses == 0"``) -- and PRIM
(:class:`ema_workbench.analysis.prim.Prim`, not re-implemented here) peels a box in the space of
the inputs that holds many of the cases of interest (coverage) and few others (density).

The box is chosen by a stated rule: the densest box on the peeling trajectory whose coverage is
at least ``min_coverage`` (0.8 by default), or the box the user names (``--box N``). Outputs (one
folder, written atomically): ``trajectory.{png,svg}`` (coverage against density, every box of the
trajectory, the chosen one marked), ``trajectory.csv``, and the chosen box's limits with PRIM's
quasi-p-values (a one-sided binomial test per limit, Bryant and Lempert 2010; small means the
limit matters) as ``box.csv`` and ``box.md``.
"""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from sim.errors import ScenarioError  # noqa: E402

MIN_COVERAGE = 0.8
#: Name of the input column holding the scenario when several are analysed together (PRIM drops
#: a column called "scenario").
SCENARIO_INPUT = "scenario_name"
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


def prim_class() -> Any:
    """EMA Workbench's Prim, imported without its optional-dependency warnings."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*ipyparallel not installed.*")
        warnings.filterwarnings("ignore", message=".*altair based interactive inspection.*")
        from ema_workbench.analysis.prim import Prim
    return Prim


def discovery_inputs(runs: pd.DataFrame, params: list[str] | None = None,
                     root: Path | None = None) -> pd.DataFrame:
    """PRIM's inputs: the parameter columns of ``runs`` that vary (swept or drawn), plus the
    scenario when there are several. Flags become the categories "true"/"false"; whole numbers
    are treated as reals (a limit such as 2.5 phases then means "3 or more")."""
    cols = [c for c in runs.columns if "." in c]
    if params:
        unknown = [p for p in params if p not in cols]
        if unknown:
            raise ScenarioError(f"not a parameter column of runs.parquet: {', '.join(unknown)}", file=root,
                                field="--params", fix="one of: " + (", ".join(cols) or "(none: sweep or "
                                                                    "--posterior the batch)"))
        cols = list(params)
    x = pd.DataFrame(index=runs.index)
    for c in cols:
        v = runs[c]
        if v.nunique(dropna=True) < 2:
            continue
        if pd.api.types.is_bool_dtype(v) or v.dropna().map(lambda e: type(e) is bool).all():
            x[c] = v.map({True: "true", False: "false"}).astype("category")
        elif pd.api.types.is_numeric_dtype(v):  # ints too: EMA Workbench 3.0 cannot paste int columns
            # under pandas 3 (it writes a float limit into an int frame), so PRIM sees them as reals.
            x[c] = v.astype("float64")
        else:
            x[c] = v.astype(str).astype("category")
    if runs["scenario"].nunique() > 1:
        x[SCENARIO_INPUT] = runs["scenario"].astype(str).astype("category")
    if x.shape[1] == 0:
        raise ScenarioError("no inputs vary across these runs: nothing to discover", file=root,
                            fix="run the batch with --sweep (e.g. --design lhs) or --posterior")
    return x


def label_runs(runs: pd.DataFrame, *, outcome: str | None = None, below: float | None = None,
               above: float | None = None, where: str | None = None,
               root: Path | None = None) -> tuple[np.ndarray, str]:
    """The runs of interest (a boolean array) and the condition in words."""
    from analysis.conditions import evaluate

    given = [where is not None, below is not None, above is not None]
    if where is not None:
        if outcome is not None or below is not None or above is not None:
            raise ScenarioError("give --where alone, or --outcome with --below or --above", field="--where")
        return evaluate(where, runs), where
    if outcome is None or sum(given) != 1:
        raise ScenarioError("say which runs are of interest", field="--outcome",
                            fix="--outcome peak_displaced --below 150000 (or --above X), or --where "
                                "\"notna(deal_day) and collapses == 0\"")
    if outcome not in runs.columns or not pd.api.types.is_numeric_dtype(runs[outcome]):
        from analysis.effects import outcome_columns

        raise ScenarioError(f"'{outcome}' is not an outcome of this batch", file=root, field="--outcome",
                            fix="one of: " + ", ".join(outcome_columns(runs)))
    v = runs[outcome].to_numpy(dtype=float, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        if below is not None:
            return (v < below) & ~np.isnan(v), f"{outcome} < {below:g}"
        return (v > above) & ~np.isnan(v), f"{outcome} > {above:g}"


@dataclass
class Discovery:
    """PRIM's result on a batch: the trajectory, the chosen box and its limits."""

    condition: str
    n_runs: int
    n_interest: int
    inputs: list[str]
    trajectory: pd.DataFrame
    chosen: int
    rule: str
    limits: pd.DataFrame
    box: Any = field(repr=False, default=None)

    @property
    def stats(self) -> dict[str, float]:
        r: dict[Any, Any] = self.trajectory.loc[self.chosen].to_dict()
        return {"coverage": float(r["coverage"]), "density": float(r["density"]), "mass": float(r["mass"]),
                "res_dim": int(r["res_dim"]), "n": int(r["n"])}


def choose_box(trajectory: pd.DataFrame, min_coverage: float = MIN_COVERAGE,
               box: int | None = None) -> tuple[int, str]:
    """The chosen box and the rule in words: ``box`` if given, else the densest box with coverage
    at least ``min_coverage`` (ties: the larger coverage, i.e. the earlier box)."""
    if box is not None:
        if not 0 <= box < len(trajectory):
            raise ScenarioError(f"box {box} is not on the peeling trajectory", field="--box",
                                fix=f"choose 0 to {len(trajectory) - 1} (see trajectory.csv)")
        return box, f"box {box}, chosen by the user (--box)"
    ok = trajectory[trajectory["coverage"] >= min_coverage - 1e-12]
    best = ok.sort_values(["density", "coverage"], ascending=[False, False], kind="stable").index[0]
    return int(best), f"the densest box with coverage >= {min_coverage:g}"


def box_limits(box: Any, i: int) -> pd.DataFrame:
    """The limits of box ``i`` on its restricted inputs, with the quasi-p-values of each limit."""
    lims = box.box_lims[i]
    init = box.box_lims[0]
    qp = box.p_values[i]
    rows = []
    for c in qp:
        lo_qp, hi_qp = (None if v is None or v < 0 else float(v) for v in qp[c])
        if isinstance(lims[c].iloc[0], set):
            vals = sorted(map(str, lims[c].iloc[0]))
            rows.append({"input": c, "low": math.nan, "high": math.nan, "values": ", ".join(vals),
                         "range_low": math.nan, "range_high": math.nan,
                         "range_values": ", ".join(sorted(map(str, init[c].iloc[0]))),
                         "qp_low": lo_qp, "qp_high": hi_qp})
        else:
            rows.append({"input": c, "low": float(lims[c].iloc[0]), "high": float(lims[c].iloc[1]), "values": "",
                         "range_low": float(init[c].iloc[0]), "range_high": float(init[c].iloc[1]),
                         "range_values": "", "qp_low": lo_qp, "qp_high": hi_qp})
    cols = ["input", "low", "high", "values", "range_low", "range_high", "range_values", "qp_low", "qp_high"]
    return pd.DataFrame(rows, columns=cols)


def discover(runs: pd.DataFrame, *, outcome: str | None = None, below: float | None = None,
             above: float | None = None, where: str | None = None, params: list[str] | None = None,
             scenarios: list[str] | None = None, min_coverage: float = MIN_COVERAGE, box: int | None = None,
             peel_alpha: float = 0.05, mass_min: float = 0.05, root: Path | None = None) -> Discovery:
    """Label the finished runs by the condition and peel a PRIM box over their inputs."""
    ok = runs[runs["status"] == "ok"] if "status" in runs else runs
    if scenarios:
        unknown = sorted(set(scenarios) - set(ok["scenario"].astype(str)))
        if unknown:
            raise ScenarioError(f"no finished runs of scenario(s) {', '.join(unknown)}", file=root,
                                field="--scenarios", fix="one of: " + ", ".join(sorted(set(ok["scenario"]))))
        ok = ok[ok["scenario"].astype(str).isin(scenarios)]
    ok = ok.reset_index(drop=True)
    if not 0 < min_coverage <= 1:
        raise ScenarioError("must be in (0, 1]", field="--min-coverage")
    y, words = label_runs(ok, outcome=outcome, below=below, above=above, where=where, root=root)
    x = discovery_inputs(ok, params, root)
    keep = x.notna().all(axis=1).to_numpy()
    x, y = x[keep].reset_index(drop=True), y[keep]
    k = int(y.sum())
    if k == 0 or k == len(y):
        raise ScenarioError(f"{'no' if k == 0 else 'every'} run meets the condition ({words}): "
                            f"{k} of {len(y)}", file=root, field="--where" if where else "--outcome",
                            fix="choose a threshold that some runs meet and some do not")
    with warnings.catch_warnings():  # EMA Workbench 3.0 uses drop(inplace=True), deprecated in pandas 3
        warnings.filterwarnings("ignore", message=".*inplace keyword.*")
        prim = prim_class()(x, y.astype(int), peel_alpha=peel_alpha, mass_min=mass_min)
        found = prim.find_box()
    traj = found.peeling_trajectory[["id", "coverage", "density", "mass", "mean", "res_dim", "n", "k"]].copy()
    traj = traj.astype({"id": int, "res_dim": int, "n": int, "k": int}).set_index("id", drop=False)
    chosen, rule = choose_box(traj, min_coverage, box)
    return Discovery(words, len(y), k, list(x.columns), traj, chosen, rule, box_limits(found, chosen), found)


# --- outputs --------------------------------------------------------------------------------------
def trajectory_figure(d: Discovery) -> Figure:
    """Coverage against density for every box of the peeling trajectory; the chosen one marked.

    Readable in grey: the number of restricted inputs is shown by the marker's shape as well as
    by its shade."""
    t = d.trajectory
    fig, ax = plt.subplots(figsize=(6.4, 5.0))
    ax.plot(t["coverage"], t["density"], color="0.6", lw=1, zorder=1)
    dims = sorted(t["res_dim"].unique())
    shades = np.linspace(0.85, 0.0, max(len(dims), 2))
    for j, r in enumerate(dims):
        s = t[t["res_dim"] == r]
        ax.scatter(s["coverage"], s["density"], marker=MARKERS[j % len(MARKERS)], s=36,
                   color=str(shades[j]), edgecolors="black", linewidths=0.6, zorder=2,
                   label=f"{r} restricted input{'s' if r != 1 else ''}")
    c = t.loc[d.chosen]
    ax.scatter([c["coverage"]], [c["density"]], s=220, facecolors="none", edgecolors="black", linewidths=1.8,
               zorder=3, label=f"chosen: box {d.chosen}")
    ax.annotate(f"box {d.chosen}\ncoverage {c['coverage']:.2f}\ndensity {c['density']:.2f}",
                (c["coverage"], c["density"]), xytext=(-95 if c["coverage"] > 0.5 else 14, -48),
                textcoords="offset points", fontsize=8,
                arrowprops={"arrowstyle": "-", "color": "0.3"})
    if d.rule.startswith("the densest"):
        cov = float(re.search(r">= ([\d.]+)", d.rule).group(1))  # type: ignore[union-attr]
        ax.axvline(cov, color="0.3", ls=":", lw=1, label=f"coverage {cov:g} (rule)")
    ax.set_xlim(-0.02, 1.05)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("coverage (share of the runs of interest inside the box)")
    ax.set_ylabel("density (share of the box's runs that are of interest)")
    ax.set_title(f"PRIM peeling trajectory: {d.condition}\n{d.n_interest} of {d.n_runs} runs of interest "
                 f"(base rate {d.n_interest / d.n_runs:.2f})", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower left", framealpha=0.9)
    fig.tight_layout()
    return fig


def _num(v: float | None) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"


def _qp(v: float | None) -> str:
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.2g}"


def markdown(d: Discovery) -> str:
    """The chosen box as a Markdown document: condition, rule, statistics, limits."""
    s = d.stats
    lines = [f"# Scenario discovery (PRIM): {d.condition}", "",
             f"- runs: {d.n_runs}; of interest: {d.n_interest} (base rate {d.n_interest / d.n_runs:.3f})",
             f"- inputs: {', '.join(d.inputs)}",
             f"- chosen box: {d.chosen} ({d.rule})",
             f"- coverage {s['coverage']:.3f}, density {s['density']:.3f}, mass {s['mass']:.3f}, "
             f"{s['res_dim']} restricted input(s), {s['n']} runs in the box", "",
             "Limits of the restricted inputs (the box is every run within all of them); quasi-p-values "
             "test each limit (one-sided binomial; small: the limit matters).", "",
             "| input | box | full range | qp (low limit) | qp (high limit) |", "|---|---|---|---|---|"]
    for r in d.limits.to_dict("records"):
        if r["values"]:
            box, full = f"{{{r['values']}}}", f"{{{r['range_values']}}}"
        else:
            box = f"{_num(r['low'])} – {_num(r['high'])}"
            full = f"{_num(r['range_low'])} – {_num(r['range_high'])}"
        lines.append(f"| {r['input']} | {box} | {full} | {_qp(r['qp_low'])} | {_qp(r['qp_high'])} |")
    if not len(d.limits):
        lines.append("| (no input restricted: the box is the whole space) | | | | |")
    return "\n".join(lines) + "\n"


def slug(text: str) -> str:
    """A folder name for a condition (``collapses == 0`` -> ``collapses_eq_0``)."""
    for a, b in (("<=", "_le_"), (">=", "_ge_"), ("==", "_eq_"), ("!=", "_ne_"), ("<", "_lt_"), (">", "_gt_")):
        text = text.replace(a, b)
    return re.sub(r"_+", "_", re.sub(r"[^\w.-]+", "_", text)).strip("_")[:80] or "condition"


def write_discovery(d: Discovery, out: str | Path) -> list[Path]:
    """Write trajectory.{png,svg,csv}, box.csv and box.md into the folder ``out``, all or nothing."""
    from analysis.effects import output_folder
    from analysis.figures import save_figure
    from sim.atomic import folder

    out = Path(out)
    names = ["box.md", "box.csv", "trajectory.csv", "trajectory.png", "trajectory.svg"]
    output_folder(out, names)
    with folder(out) as tmp:
        (tmp / "box.md").write_text(markdown(d), encoding="utf-8")
        limits = d.limits.assign(box=d.chosen, condition=d.condition, rule=d.rule, **d.stats)
        limits.to_csv(tmp / "box.csv", index=False)
        d.trajectory.to_csv(tmp / "trajectory.csv", index=False)
        save_figure(trajectory_figure(d), tmp / "trajectory")
    return [out / n for n in names]
