"""The page's views: a map of the case area, charts, and the negotiation panel.

Figures are built by plain functions of a :class:`~sim.model.NegotiationModel` (testable without
a browser); the solara components around them re-render after every step (they read Mesa's
``update_counter``). Every view shows the error of a bad scenario instead of its content.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import solara
from matplotlib.figure import Figure
from matplotlib.patches import Polygon
from mesa.visualization.utils import update_counter

from sim.model import NegotiationModel
from sim.rules.territory import Control
from sim.scenario.loader import resolve_path

from .model import VizModel

#: Colour of a town by controller (the map legend uses these names).
CONTROL_STYLE: dict[Control, tuple[str, str]] = {
    Control.REBEL: ("rebel-held", "#2e7d32"),
    Control.NEGOTIATING: ("negotiating", "#f9a825"),
    Control.RECONCILED: ("reconciled (deal)", "#6a1b9a"),
    Control.REGIME: ("regime-held", "#c62828"),
}
#: Events too frequent to list one by one (they are summed in the panel instead).
NOISY_EVENTS = frozenset({"strike", "casualties"})
PERSONS_PER_POINT2 = 120.0  # marker area (pt^2) = people present / this


@dataclass(frozen=True)
class CaseGeometry:
    """Drawing-only geometry of a case: sub-district rings and border polylines (lon, lat)."""

    rings: tuple[tuple[np.ndarray, bool], ...]       # (N x 2 lon/lat ring, occupied?)
    borders: dict[str, np.ndarray]                   # name -> N x 2 lon/lat


@lru_cache(maxsize=8)
def load_geometry(subdistricts_geojson: Path, borders_csv: Path) -> CaseGeometry:
    """Read the sub-district polygons (GeoJSON) and border lines (CSV); missing files draw nothing."""
    rings: list[tuple[np.ndarray, bool]] = []
    if subdistricts_geojson.is_file():
        data = json.loads(subdistricts_geojson.read_text(encoding="utf-8"))
        for feat in data.get("features", []):
            geom = feat.get("geometry") or {}
            occupied = bool((feat.get("properties") or {}).get("occupied", False))
            polys = ([geom.get("coordinates", [])] if geom.get("type") == "Polygon"
                     else geom.get("coordinates", []) if geom.get("type") == "MultiPolygon" else [])
            for poly in polys:
                if poly:
                    rings.append((np.asarray(poly[0], dtype=float), occupied))
    borders: dict[str, list[tuple[float, float, float]]] = {}
    if borders_csv.is_file():
        with borders_csv.open(newline="", encoding="utf-8") as fh:
            for r in csv.DictReader(fh):
                try:
                    borders.setdefault(r["border"], []).append(
                        (float(r["seq"]), float(r["lon"]), float(r["lat"])))
                except (KeyError, ValueError):
                    continue
    lines = {k: np.array([(p[1], p[2]) for p in sorted(v)]) for k, v in borders.items()}
    return CaseGeometry(tuple(rings), lines)


def geometry_for(m: NegotiationModel) -> CaseGeometry:
    """The geometry next to the scenario's data files (subdistricts.geojson beside the CSV)."""
    w = m.params.world
    sub = resolve_path(m.params, w.subdistricts_file)
    borders = resolve_path(m.params, w.borders_file) if w.borders_file.strip() else Path("/nonexistent")
    return load_geometry(sub.with_suffix(".geojson"), borders)


def current_date(m: NegotiationModel) -> dt.date:
    return m.params.time.start_date + dt.timedelta(days=int(m.day))


def map_figure(m: NegotiationModel, geo: CaseGeometry | None = None) -> Figure:
    """Towns coloured by controller and sized by people present; displaced counts by zone."""
    geo = geo if geo is not None else geometry_for(m)
    w = m.world
    fig = Figure(figsize=(6.4, 6.0))
    fig.subplots_adjust(left=0.1, right=0.98, bottom=0.08, top=0.91)
    ax = fig.subplots()
    for ring, occupied in geo.rings:
        ax.add_patch(Polygon(ring, closed=True, facecolor="#d9d9d9" if occupied else "#f4f1ea",
                             edgecolor="#8c8c8c", linewidth=0.6, hatch="//" if occupied else None))
    for name, line in geo.borders.items():
        ax.plot(line[:, 0], line[:, 1], color="#37474f", linewidth=2.0, linestyle="--")
        zone = next((z for z in w.zones if z.border == name), None)
        label = zone.name if zone is not None else name
        ax.annotate(f"{label} (OPEN)" if zone is not None and _open(m, zone.id) else f"{label} (closed)",
                    line[len(line) // 4], fontsize=7, color="#37474f", style="italic",
                    xytext=(-4, -12), textcoords="offset points", ha="right")
    present = np.asarray(m.present, dtype=float)
    for ctl, (label, colour) in CONTROL_STYLE.items():
        sel = m.control == ctl
        if not sel.any():
            continue
        ax.scatter(w.lon[sel], w.lat[sel], s=np.maximum(present[sel] / PERSONS_PER_POINT2, 8.0),
                   c=colour, alpha=0.75, edgecolors="white", linewidths=0.5,
                   label=f"{label} ({int(sel.sum())})")
    row = m.rows[-1]
    for z in w.zones:  # where the displaced wait or arrive
        if z.lat is None or z.lon is None or z.kind not in ("border", "frontier", "government"):
            continue
        n = int(row[z.column])
        ax.scatter([z.lon], [z.lat], marker="^", c="#1565c0", s=40 + n / 400.0,
                   edgecolors="black", linewidths=0.6, zorder=5)
        ax.annotate(f"{n:,} at {z.name}", (z.lon, z.lat), fontsize=8, color="#0d47a1",
                    xytext=(6, 4), textcoords="offset points", zorder=6)
    crossed = sum(int(row[z.crossed_column]) for z in w.closable_zones if z.crossed_column)
    ax.set_title(f"Day {m.day:.2f} ({current_date(m).isoformat()}): towns by controller, "
                 f"size = people present\ndisplaced elsewhere {int(row['displaced_other']):,}; "
                 f"crossed {crossed:,}; evacuated {int(row['evacuated_cum']):,}; "
                 f"civilian deaths {int(row['civilian_deaths_cum']):,}", fontsize=9)
    ax.legend(loc="upper left", fontsize=7, markerscale=0.5, framealpha=0.85)
    ax.set_aspect(1.0 / np.cos(np.radians(float(np.mean(w.lat)))))
    ax.set_xlabel("longitude", fontsize=8)
    ax.set_ylabel("latitude", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.autoscale_view()
    return fig


def _open(m: NegotiationModel, zone: str) -> bool:
    return zone in m.params.borders.open


def _chart(m: NegotiationModel) -> tuple[Figure, Any, list[dict[str, Any]], list[float]]:
    """An empty time chart, with the model's rows so far and their days."""
    rows = m.rows
    fig = Figure(figsize=(6.4, 3.6))
    fig.subplots_adjust(left=0.13, right=0.88, bottom=0.14, top=0.9)
    return fig, fig.subplots(), rows, [r["day"] for r in rows]


def displaced_figure(m: NegotiationModel) -> Figure:
    """Displaced persons by where they are, per tick so far."""
    fig, ax, rows, day = _chart(m)
    palette = ("#1565c0", "#00838f", "#6a1b9a", "#ef6c00")
    lines = [("displaced_total", "all displaced", "black")]
    lines += [(z.column, f"at {z.name}", palette[k % len(palette)])
              for k, z in enumerate(z for z in m.world.zones if z.kind in ("border", "frontier",
                                                                          "government"))]
    lines.append(("displaced_towns", "in quieter towns", "#8d6e63"))
    for key, label, colour in lines:
        ax.plot(day, [r[key] for r in rows], label=label, color=colour, linewidth=1.4)
    ax.set_xlim(0, max(m.params.time.horizon_days, 1.0))
    ax.set_xlabel(f"day since {m.params.time.start_date.isoformat()}", fontsize=8)
    ax.set_ylabel("persons", fontsize=8)
    ax.set_title("Displaced by zone", fontsize=9)
    ax.ticklabel_format(axis="y", style="plain")
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7, loc="upper left")
    return fig


def deaths_share_figure(m: NegotiationModel) -> Figure:
    """Cumulative civilian deaths and the regime's share of the area, per tick so far."""
    fig, ax, rows, day = _chart(m)
    ax.plot(day, [r["civilian_deaths_cum"] for r in rows], color="#b71c1c", label="civilian deaths")
    ax.set_ylabel("civilian deaths (cumulative)", fontsize=8, color="#b71c1c")
    ax2 = ax.twinx()
    ax2.plot(day, [100.0 * r["regime_share_area"] for r in rows], color="#37474f",
             linestyle="--", label="regime share of area")
    ax2.set_ylabel("regime share of area (%)", fontsize=8, color="#37474f")
    ax2.set_ylim(0, 100)
    ax.set_xlim(0, max(m.params.time.horizon_days, 1.0))
    ax.set_xlabel(f"day since {m.params.time.start_date.isoformat()}", fontsize=8)
    ax.set_title("Deaths and regime share of area", fontsize=9)
    ax.tick_params(labelsize=7)
    ax2.tick_params(labelsize=7)
    return fig


def latest_events(m: NegotiationModel, n: int = 8) -> list[tuple[float, str, str, str, str, float]]:
    """The last ``n`` events that are not single strikes or casualty counts, newest first."""
    out = []
    for ev in reversed(m.events):
        if ev[1] not in NOISY_EVENTS:
            out.append(ev)
            if len(out) == n:
                break
    return out


def state_text(m: NegotiationModel) -> str:
    """One line: the day and the state of the comprehensive talks (the test reads it)."""
    return (f"Day {m.day:.2f} ({current_date(m).isoformat()}): negotiation state "
            f"{m.talks.state.value.replace('_', ' ')}, {m.talks.collapses} collapse(s)")


def panel_markdown(m: NegotiationModel) -> str:
    """The negotiation panel: terms on the table, towns by controller, levers, latest events."""
    t = m.talks.terms
    row = m.rows[-1]
    p = m.params
    lines = [
        f"- **Terms on the table:** heavy weapons in {t.phases} phase(s); safe passage "
        f"{'offered' if t.safe_passage else 'refused'}; guarantees {t.guarantees:.2f}",
        f"- **Towns:** {row['towns_rebel']} rebel-held, {row['towns_negotiating']} negotiating, "
        f"{row['towns_reconciled']} reconciled, {row['towns_captured']} captured; regime holds "
        f"{100 * row['regime_share_area']:.0f}% of the area",
        f"- **This tick:** {row['strikes']} strikes; {int(row['displaced_total']):,} displaced; "
        f"{int(row['civilian_deaths_cum']):,} civilian deaths so far",
        f"- **Levers:** phases {p.mediator.phases}, safe passage "
        f"{'yes' if p.mediator.safe_passage else 'no'}, borders open: "
        f"{', '.join(p.borders.open) or 'none'}, corridors "
        f"{'open' if p.regime.corridors_open else 'closed'}, bombardment capacity "
        f"{p.regime.bombardment_capacity:g} strikes/day; seed {m.seed}",
        "",
        "**Latest events**",
        "",
    ]
    evs = latest_events(m)
    if not evs:
        lines.append("(none yet)")
    for day, kind, actor, target, detail, _value in evs:
        lines.append(f"- day {day:.2f}: {kind.replace('_', ' ')} ({actor} / {target})"
                     + (f": {detail}" if detail else ""))
    return "\n".join(lines)


@solara.component
def ErrorNotice(model: VizModel) -> None:
    """The schema's message for a bad scenario, shown where a view would be."""
    solara.Error(label=model.error or "", classes=["negsim-error"], icon=True)


@solara.component
def MapView(model: VizModel) -> solara.Element:
    update_counter.get()
    if model.sim is None:
        return ErrorNotice(model)
    fig = map_figure(model.sim)
    return solara.FigureMatplotlib(fig, format="png")


@solara.component
def DisplacedChart(model: VizModel) -> solara.Element:
    update_counter.get()
    if model.sim is None:
        return ErrorNotice(model)
    with solara.Column() as col:
        solara.FigureMatplotlib(displaced_figure(model.sim), format="png")
        solara.Text(f"{len(model.sim.rows)} points plotted", classes=["negsim-points"])
    return col


@solara.component
def DeathsChart(model: VizModel) -> solara.Element:
    update_counter.get()
    if model.sim is None:
        return ErrorNotice(model)
    return solara.FigureMatplotlib(deaths_share_figure(model.sim), format="png")


@solara.component
def NegotiationPanel(model: VizModel) -> solara.Element:
    update_counter.get()
    with solara.Column(style={"padding": "8px"}) as col:
        solara.Text(f"Scenario file: {model.scenario_file}", classes=["negsim-file"])
        if model.sim is None:
            ErrorNotice(model)
        else:
            solara.Text(state_text(model.sim), classes=["negsim-state"],
                        style={"font-size": "1.1em", "font-weight": "bold"})
            solara.Markdown(panel_markdown(model.sim))
    return col
