"""Figures of single runs. (Batch figures live in analysis.figures.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

EVENT_MARKS = {
    "talks_opened": ("talks open", ":"),
    "talks_collapsed": ("talks collapse", "--"),
    "talks_resumed": ("talks resume", "-."),
    "deal_signed": ("deal signed", "-"),
}


def _key_events(events: pd.DataFrame, blocs: tuple[str, ...] = ("joint_command",)
                ) -> list[tuple[float, str, str]]:
    marks = []
    for kind, (label, style) in EVENT_MARKS.items():
        ev = events[events["kind"] == kind]
        if kind in ("talks_opened", "deal_signed"):  # the comprehensive talks, not a town's
            ev = ev[ev["target"].isin(blocs) | ev["actor"].isin(blocs)]
        for d in ev["day"].drop_duplicates().head(3):
            marks.append((float(d), label, style))
    return marks


def displacement_png(ts: pd.DataFrame, events: pd.DataFrame, path: str | Path,
                     title: str = "", targets: list[dict[str, Any]] | None = None,
                     meta: dict[str, Any] | None = None) -> Path:
    """Displaced persons over time, stacked by destination zone (the case's zones, from the
    run's metadata), key events marked."""
    from analysis.casemeta import days_label, run_blocs, run_start, run_zones, zone_series

    meta = meta or {}
    series = [z for z in zone_series(run_zones(meta)) if z[0] in ts.columns]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 5.8), dpi=150)
    days = ts["day"].to_numpy()
    ys = [ts[c].to_numpy() / 1000 for c, *_ in series]
    polys = ax.stackplot(days, *ys, labels=[lab for _, lab, _, _ in series],
                         colors=[c for *_, c, _ in series], alpha=0.85)
    for poly, (*_, hatch) in zip(polys, series, strict=True):
        poly.set_hatch(hatch)
    ax.plot(days, ts["displaced_total"] / 1000, color="black", lw=1.2, label="Displaced, total")
    ymax = max(float(ts["displaced_total"].max()) / 1000 * 1.15, 1.0)
    last_d, level = -1e9, 0
    for d, label, style in sorted(_key_events(events, run_blocs(meta))):
        ax.axvline(d, color="0.2", ls=style, lw=0.9)
        level = level + 1 if d - last_d < 2.0 else 0  # stagger labels of close events
        last_d = d
        # a label runs about a fifth of the axes' height: the next level starts below it
        ax.text(d + 0.3, ymax * (0.97 - 0.24 * (level % 3)), label, rotation=90, va="top",
                fontsize=7, color="0.2", bbox={"facecolor": "white", "alpha": 0.7, "lw": 0})
    for t in targets or []:
        ax.errorbar([t["day"]], [t["value"] / 1000], yerr=[[t["lo"] / 1000], [t["hi"] / 1000]],
                    fmt="D", color="crimson", ms=6, capsize=4, label=t.get("label"))
    ax.set_ylim(0, ymax)
    ax.set_xlim(days[0], days[-1])
    ax.set_xlabel(days_label(run_start(meta)))
    ax.set_ylabel("Displaced persons (thousands)")
    ax.set_title(title or "Displacement by destination")
    # below the axes: inside, it would hide the peak and the event labels
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3, fontsize=7, frameon=False)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out)
    plt.close(fig)
    return out
