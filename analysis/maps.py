"""Single-run figures: the case map (towns by controller, sized by people present) and the
negotiation timeline.

Both read a run folder written by ``negsim run`` (:func:`analysis.store.load_run`). The map also
reads the case data the run used: the sub-district polygons (``subdistricts.geojson``), the
towns' coordinates (``towns.csv``) and the borders (``borders.csv``), found beside the run's
towns file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Polygon  # noqa: E402

from analysis.plots import EVENT_MARKS  # noqa: E402
from analysis.store import Run  # noqa: E402
from sim import atomic  # noqa: E402
from sim.errors import ScenarioError  # noqa: E402

#: Controller -> (label, colour, marker): shape as well as colour, for grey print.
CONTROLLERS = {
    "rebel": ("rebel-held", "#d55e00", "o"),
    "negotiating": ("negotiating", "#e69f00", "D"),
    "reconciled": ("reconciled (deal)", "#56b4e9", "^"),
    "regime": ("regime-held", "#0072b2", "s"),
}
#: Line styles of border polylines, in the order the borders file lists them.
BORDER_LINESTYLES = ("-", "--", "-.", ":")
STATE_STYLE = {  # negotiation state -> (colour, hatch)
    "no_talks": ("#ffffff", ""), "talks": ("#bdd7e7", "//"), "offer": ("#6baed6", ".."),
    "rejected": ("#fdae6b", "\\\\"), "collapsed": ("#d7301f", "xx"), "escalation": ("#a50f15", "xx"),
    "resumed": ("#74c476", "//"), "deal": ("#238b45", "oo"), "handover": ("#00441b", ".."),
    "implemented": ("#525252", ""),
}


def case_dir(run: Run) -> Path:
    """The folder of the case data a run used (where its towns.csv lives).

    Taken from the run's metadata (the case files it read, else its scenario file and towns
    path); the project's own case data only for a run of a scenario built in code.
    """
    meta = run.metadata
    towns_rel = meta.get("parameters", {}).get("world", {}).get("towns_file", "data/daraa2018/towns.csv")
    candidates = []
    files = meta.get("case_files") or []
    if files and isinstance(files[0], str):
        candidates.append(Path(files[0]))
    if meta.get("scenario_file"):
        candidates.append(Path(meta["scenario_file"]).parent / towns_rel)
    if not candidates:
        from sim.scenario.loader import default_scenarios_dir

        candidates.append(default_scenarios_dir() / towns_rel)
    for c in candidates:
        if c.is_file():
            if not (c.parent / "subdistricts.geojson").exists():
                raise ScenarioError("the case data folder has no subdistricts.geojson (the map's "
                                    "polygons)", file=c.parent,
                                    fix="add the sub-district polygons beside towns.csv")
            return c.parent
    raise ScenarioError("cannot find the case data (towns.csv) this run used: "
                        + ", ".join(str(c) for c in candidates), file=run.root,
                        fix="restore the case data at that path (the run's metadata.json names it)")


def load_case_geometry(folder: Path, meta: dict[str, Any] | None = None) -> dict[str, Any]:
    """Polygons, towns and borders of the case, from its data folder (and its zones, from a
    run's metadata, to name the border lines)."""
    from sim.world.schema import BorderRow, TownRow, read_geojson, read_table

    gj = read_geojson(folder / "subdistricts.geojson")
    towns = pd.DataFrame([r.model_dump() for r in read_table(folder / "towns.csv", TownRow, "towns")])
    borders = (pd.DataFrame([r.model_dump() for r in read_table(folder / "borders.csv", BorderRow,
                                                                 "borders")])
               if (folder / "borders.csv").is_file() else None)
    zones = list((meta or {}).get("zones") or [])
    if not zones and (folder / "zones.csv").is_file():
        from sim.run import zone_dict
        from sim.world.case import read_folder_zones

        try:
            zones = [zone_dict(z) for z in read_folder_zones(folder)]
        except ScenarioError:
            zones = []
    opened = set((meta or {}).get("parameters", {}).get("borders", {}).get("open", []) or [])
    return {"features": gj["features"], "towns": towns, "borders": borders, "zones": zones,
            "open": opened}


def border_label(geo: dict[str, Any], line: str) -> str:
    """A border line's label: the zone that names it (open or closed at the start), else its name."""
    for z in geo.get("zones", []):
        if z.get("border") == line:
            return f"{z['name']} ({'open' if z['id'] in geo.get('open', ()) else 'closed'})"
    return line


def _rings(geom: dict[str, Any]) -> list[list[list[float]]]:
    if geom["type"] == "Polygon":
        return [geom["coordinates"][0]]
    if geom["type"] == "MultiPolygon":
        return [poly[0] for poly in geom["coordinates"]]
    return []


def _draw_base(ax: Any, geo: dict[str, Any]) -> int:
    n = 0
    for f in geo["features"]:
        occ = bool(f["properties"].get("occupied"))
        for ring in _rings(f["geometry"]):
            ax.add_patch(Polygon(np.asarray(ring), closed=True, fc="0.93" if not occ else "0.82",
                                 ec="0.45", lw=0.5, hatch="///" if occ else None, zorder=1))
            n += 1
        if not occ:
            xy = np.asarray(_rings(f["geometry"])[0])
            ax.text(xy[:, 0].mean(), xy[:, 1].mean(), f["properties"].get("subdistrict", ""),
                    fontsize=4.5, color="0.45", ha="center", va="center", zorder=2)
    if geo["borders"] is not None:
        for k, name in enumerate(dict.fromkeys(geo["borders"]["border"])):
            g = geo["borders"][geo["borders"]["border"] == name]
            lab, ls = border_label(geo, str(name)), BORDER_LINESTYLES[k % len(BORDER_LINESTYLES)]
            g = g.sort_values("seq")
            ax.plot(g["lon"], g["lat"], color="black", lw=1.6, ls=ls, label=lab, zorder=3)
    return n


def map_figure(run: Run, day: float | None = None, geo: dict[str, Any] | None = None) -> Figure:
    """The case area on ``day`` (default: the last recorded day at or before day 16)."""
    geo = geo or load_case_geometry(case_dir(run), run.metadata)
    fig, ax = plt.subplots(figsize=(7, 7.4))
    _draw_base(ax, geo)
    _draw_towns(ax, run, geo, _pick_day(run, day))
    _finish_map(ax, geo)
    fig.tight_layout()
    return fig


def _pick_day(run: Run, day: float | None) -> float:
    days = np.sort(run.towns["day"].unique())
    want = 16.0 if day is None else float(day)
    if not np.isfinite(want) or want < days[0] - 1e-9 or want > days[-1] + 1e-9:
        raise ScenarioError(f"day {want:g} is outside the run (days {days[0]:g} to {days[-1]:g})",
                            field="--day", fix=f"give a day between {days[0]:g} and {days[-1]:g}")
    return float(days[days <= want + 1e-9][-1])


def _draw_towns(ax: Any, run: Run, geo: dict[str, Any], day: float) -> list[Any]:
    t = run.towns[np.isclose(run.towns["day"], day)].merge(
        geo["towns"][["town_id", "lat", "lon"]], on="town_id", how="left").dropna(subset=["lat"])
    pmax = max(float(run.towns["population_present"].max()), 1.0)
    artists = []
    for ctl, (lab, col, marker) in CONTROLLERS.items():
        sub = t[t["controller"] == ctl]
        sizes = 8 + 420 * np.sqrt(sub["population_present"].clip(lower=0) / pmax)
        artists.append(ax.scatter(sub["lon"], sub["lat"], s=sizes, c=col, marker=marker, ec="black",
                                  lw=0.5, alpha=0.85, label=f"{lab} ({len(sub)})", zorder=4))
    crossings = set(geo["towns"].loc[geo["towns"]["strategic"] == "border_crossing", "town_id"])
    for _, c in t[t["town_id"].isin(crossings)].iterrows():  # border crossings as stars
        artists.append(ax.scatter([c["lon"]], [c["lat"]], s=220, marker="*", c="white", ec="black",
                                  lw=1.2, zorder=5, label=f"{c['name']} ({c['controller']})"))
    row = run.timeseries.iloc[int(np.argmin(np.abs(run.timeseries["day"].to_numpy() - day)))]
    for z in geo.get("zones", []):  # where the displaced wait or arrive: a triangle, with the count
        if z.get("lat") is None or z["kind"] not in ("border", "frontier", "government") \
                or z["column"] not in row:
            continue
        n = float(row[z["column"]])
        artists.append(ax.scatter([z["lon"]], [z["lat"]], marker="^", s=40 + n / 400.0, c="#1565c0",
                                  ec="black", lw=0.6, zorder=5, label=f"{z['name']}: {n:,.0f}"))
    present = float(t["population_present"].sum())
    ax.set_title(f"{run.metadata.get('scenario_name', '')} seed {run.metadata.get('seed', '')}: "
                 f"day {day:g}, {present:,.0f} persons in their towns", fontsize=10)
    return artists


def _finish_map(ax: Any, geo: dict[str, Any]) -> None:
    xs = np.concatenate([np.asarray(r)[:, 0] for f in geo["features"] for r in _rings(f["geometry"])])
    ys = np.concatenate([np.asarray(r)[:, 1] for f in geo["features"] for r in _rings(f["geometry"])])
    ax.set_xlim(xs.min() - 0.03, xs.max() + 0.03)
    ax.set_ylim(ys.min() - 0.03, ys.max() + 0.03)
    ax.set_aspect(1 / np.cos(np.radians(ys.mean())))
    ax.set_xlabel("Longitude (°E)")
    ax.set_ylabel("Latitude (°N)")
    if any(f["properties"].get("occupied") for f in geo["features"]):
        ax.scatter([], [], marker="s", s=60, fc="0.82", ec="0.45", hatch="///",
                   label="occupied area (not part of the case)")
    _legend(ax)


def _legend(ax: Any) -> None:
    """The map's legend from the artists drawn now (town counts are those of the day shown)."""
    ax.legend(loc="lower left", fontsize=7, framealpha=0.9, title="towns sized by people present",
              title_fontsize=7)


def animate_map(run: Run, path: str | Path, fps: int = 4, dpi: int = 80,
                geo: dict[str, Any] | None = None) -> Path:
    """Write a GIF of the map over the run's horizon (one frame per recorded day), atomically."""
    from matplotlib.animation import FuncAnimation, PillowWriter

    geo = geo or load_case_geometry(case_dir(run), run.metadata)
    days = np.sort(run.towns["day"].unique())
    fig, ax = plt.subplots(figsize=(7, 7.4))
    _draw_base(ax, geo)
    state: dict[str, list[Any]] = {"artists": _draw_towns(ax, run, geo, float(days[0]))}
    _finish_map(ax, geo)
    fig.tight_layout()

    def frame(i: int) -> list[Any]:
        for a in state["artists"]:
            a.remove()
        state["artists"] = _draw_towns(ax, run, geo, float(days[i]))
        _legend(ax)  # each frame's legend counts that frame's towns, not day 0's
        return state["artists"]

    anim = FuncAnimation(fig, frame, frames=len(days), blit=False)
    out = Path(path)
    try:
        with atomic.writing(out, ext=".gif") as tmp:  # Pillow picks the format from the name
            anim.save(tmp, writer=PillowWriter(fps=fps), dpi=dpi)
    finally:
        plt.close(fig)
    return out


TIMELINE_KINDS = (  # (event kind, label, marker, only the blocs' (comprehensive talks)?)
    ("ultimatum", "ultimatum", "v", False),
    ("talks_opened", "talks open (a bloc)", "o", True),
    ("offer_made", "offer made", ">", False),
    ("offer_rejected", "offer rejected", "x", False),
    ("talks_collapsed", "talks collapse", "X", False),
    ("talks_resumed", "talks resume", "^", False),
    ("deal_signed", "deal (a bloc)", "*", True),
    ("strikes_halted", "strikes halted", "s", False),
    ("crossing_taken", "crossing taken", "P", False),
    ("town_reconciled", "local town deals", "|", False),
)


def timeline_figure(run: Run) -> Figure:
    """Negotiation states as coloured, hatched bands; events as marker rows; bombardment below.

    The bands are the state of the first bloc's talks (the strongest negotiating faction's)."""
    from analysis.casemeta import days_label, run_blocs, run_start

    ts, ev = run.timeseries, run.events
    blocs = run_blocs(run.metadata)
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(10, 5.6), sharex=True,
                                  gridspec_kw={"height_ratios": [3, 1]})
    days = ts["day"].to_numpy()
    dt = float(np.median(np.diff(days))) if len(days) > 1 else 1.0
    states = ts["negotiation_state"].astype(str).to_numpy()
    # Runs of equal state -> bands.
    starts = np.r_[0, np.flatnonzero(states[1:] != states[:-1]) + 1]
    ends = np.r_[starts[1:], len(states)]
    seen: set[str] = set()
    for s, e in zip(starts, ends, strict=True):
        st = states[s]
        col, hatch = STATE_STYLE.get(st, ("0.7", ""))
        x0, x1 = days[s], days[e - 1] + dt
        ax.broken_barh([(x0, x1 - x0)], (len(TIMELINE_KINDS) - 0.4, 0.8), fc=col, ec="black", lw=0.6,
                       hatch=hatch, label=st if st not in seen else "_nolegend_")
        seen.add(st)
    for i, (kind, _label, marker, jc) in enumerate(TIMELINE_KINDS):
        e = ev[ev["kind"] == kind]
        if jc:
            e = e[e["actor"].isin(blocs) | e["target"].isin(blocs)]
        y = len(TIMELINE_KINDS) - 1 - i
        if len(e):
            ax.plot(e["day"], np.full(len(e), y), marker=marker, ls="none", ms=8 if marker != "|" else 10,
                    color="black", mfc="0.6", label="_nolegend_")
    ax.set_yticks(range(len(TIMELINE_KINDS) + 1),
                  [lab for _, lab, _, _ in reversed(TIMELINE_KINDS)] + ["negotiation state"], fontsize=8)
    for d in ev.loc[ev["kind"] == "talks_collapsed", "day"]:
        for a in (ax, ax2):
            a.axvline(d, color="0.3", ls=EVENT_MARKS["talks_collapsed"][1], lw=0.8)
    ax.set_ylim(-0.7, len(TIMELINE_KINDS) + 0.7)
    ax.grid(alpha=0.3, axis="x")
    ax.legend(title="negotiation state", loc="upper center", bbox_to_anchor=(0.5, -0.02), ncol=min(len(seen), 10),
              fontsize=7, title_fontsize=7, frameon=False, bbox_transform=ax.transAxes)
    ax.set_title(f"{run.metadata.get('scenario_name', '')} seed {run.metadata.get('seed', '')}: "
                 "negotiation timeline", fontsize=10)
    ax2.fill_between(days, ts["bombardment_intensity"], step="post", color="0.4", alpha=0.7, lw=0)
    ax2.set_ylabel("bombardment\nintensity", fontsize=8)
    ax2.set_xlabel(days_label(run_start(run.metadata)))
    ax2.grid(alpha=0.3)
    ax2.set_xlim(days[0], days[-1] + dt)
    fig.tight_layout()
    fig.subplots_adjust(hspace=0.35)
    return fig
