"""What the figures need to know of a run's or a batch's case: its calendar, its zones and its
negotiating blocs, read from the run's metadata or the batch's scenario files (never assumed).

A case's zones (``zones.csv``) say which timeseries columns count the displaced where, and how
to label them; its start date labels the time axis; its blocs say which events are those of the
comprehensive talks.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.scenario.schema import Scenario
    from sim.world.case import Zone

#: Colours (Okabe-Ito, colour-blind safe) and hatches of stacked zones, in order.
ZONE_COLOURS = ("#4c72b0", "#55a868", "#c4ad66", "#8172b2", "#937860", "#d55e00", "#cc79a7",
                "#0072b2")
ZONE_HATCHES = ("", "//", "..", "xx", "\\\\", "++", "--", "oo")


def days_label(start: str | dt.date | None, what: str = "start of the offensive") -> str:
    """The time axis' label: days since the case's day 0."""
    if start is None:
        return "Days since day 0"
    d = start if isinstance(start, dt.date) else dt.date.fromisoformat(str(start)[:10])
    return f"Days since {d.day} {d:%B %Y} ({what})"


def run_start(meta: dict[str, Any]) -> str | None:
    return meta.get("parameters", {}).get("time", {}).get("start_date")


def run_zones(meta: dict[str, Any]) -> list[dict[str, Any]]:
    """The zones of a run's case (metadata.json), as dicts."""
    return list(meta.get("zones") or [])


def run_blocs(meta: dict[str, Any]) -> tuple[str, ...]:
    from sim.rules.negotiation import DEFAULT_BLOC

    return tuple(meta.get("blocs") or (DEFAULT_BLOC,))


def scenario_zones(sc: Scenario) -> tuple[Zone, ...]:
    """The zones (:class:`sim.world.case.Zone`) of a scenario's case: its ``world.zones_file``,
    checked against its ``world.borders_file`` (:func:`sim.world.case.read_case_zones`)."""
    from sim.scenario.loader import resolve_path
    from sim.world.case import read_case_zones

    w = sc.world
    return read_case_zones(resolve_path(sc, w.zones_file),
                           resolve_path(sc, w.borders_file) if w.borders_file.strip() else None)


@functools.cache
def _scenario_case(path: str) -> tuple[str, tuple[dict[str, Any], ...], tuple[str, ...]]:
    from sim.rules.negotiation import bloc_names
    from sim.run import zone_dict
    from sim.scenario.loader import load_scenario

    sc = load_scenario(path)
    return (sc.time.start_date.isoformat(), tuple(zone_dict(z) for z in scenario_zones(sc)),
            bloc_names(sc.factions))


def scenario_case(path: str | Path) -> tuple[str, list[dict[str, Any]], tuple[str, ...]]:
    """Start date, zones and blocs of a scenario file's case (cached)."""
    start, zones, blocs = _scenario_case(str(Path(path).resolve()))
    return start, list(zones), blocs


def batch_scenario_files(batch: Any) -> dict[str, str]:
    """Scenario name -> its file, from a batch's manifest."""
    scen = batch.manifest.get("scenarios") or {}
    return {str(k): str(v["file"]) for k, v in scen.items() if isinstance(v, dict) and v.get("file")}


def batch_case(batch: Any, scenario: str | None = None
               ) -> tuple[str | None, list[dict[str, Any]], tuple[str, ...]]:
    """Start date, zones and blocs of a batch's scenario (its first one by default); nothing
    known if its file cannot be read (then the figures fall back to the generic columns)."""
    files = batch_scenario_files(batch)
    name = scenario if scenario in files else next(iter(files), None)
    if name is None:
        return None, [], ()
    try:
        return scenario_case(files[name])
    except Exception:  # a moved or changed scenario: the figures still draw what they can
        return None, [], ()


def zone_series(zones: list[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    """Stacked displacement series (column, label, colour, hatch) whose sum is the displaced
    total: each border and frontier, the fields, the quieter towns, government-held areas."""
    out: list[tuple[str, str]] = []
    for z in zones:
        if z["kind"] in ("border", "frontier"):
            out.append((z["column"], f"{z['name']} (waiting)"))
    for z in zones:
        if z["kind"] == "fields":
            out.append((z["column"], z["name"]))
    out.append(("displaced_towns", "Quieter rebel-held towns"))
    for z in zones:
        if z["kind"] == "government":
            out.append((z["column"], z["name"]))
    return [(c, lab, ZONE_COLOURS[i % len(ZONE_COLOURS)], ZONE_HATCHES[i % len(ZONE_HATCHES)])
            for i, (c, lab) in enumerate(out)]


def column_labels(zones: list[dict[str, Any]]) -> dict[str, str]:
    """Readable names of a case's zone columns."""
    out = {}
    for z in zones:
        out[z["column"]] = ("Persons sheltering in place" if z["kind"] == "shelter" else
                            "Evacuated by bus" if z["kind"] == "evacuation" else
                            f"Displaced: {z['name']}")
        if z.get("crossed_column"):
            out[z["crossed_column"]] = f"Crossed: {z['name']}"
        if z.get("arrived_column"):
            out[z["arrived_column"]] = f"Arrived (cumulative): {z['name']}"
    return out
