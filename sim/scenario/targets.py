"""Check a scenario against its case data: the towns and zones its interventions name.

Town names in ``[[interventions]]`` (``towns = [...]``) are matched against the towns table by
id or name (case-insensitive, :meth:`sim.world.case.World.index`); zones (``zone = ...``)
against the border zones. A name that matches nothing is a :class:`ScenarioError` naming the
file, the field, the line and the valid names.
"""

from __future__ import annotations

import difflib
from typing import Any

import numpy as np

from sim.errors import ScenarioError
from sim.scenario.loader import find_line, scenario_source
from sim.scenario.schema import Scenario
from sim.world.case import World

#: Border zones an ``open_border`` action can name, and the parameter each one sets.
BORDER_PARAM: dict[str, str] = {"jordan_border": "borders.jordan_open",
                                "golan_frontier": "borders.golan_open"}


def _where(sc: Scenario, loc: tuple[Any, ...]) -> tuple[str | None, int | None]:
    src = scenario_source(sc)
    if src is None:
        return None, None
    try:
        return str(src), find_line(src.read_text(encoding="utf-8"), loc)
    except OSError:
        return str(src), None


def resolve_targets(sc: Scenario, world: World) -> list[np.ndarray]:
    """Town indices targeted by each intervention (empty arrays for untargeted ones).

    Raises ScenarioError for an unknown town or zone.
    """
    out: list[np.ndarray] = []
    keys = [*world.town_id, *world.name]
    for i, iv in enumerate(sc.interventions):
        idx: list[int] = []
        for name in iv.towns:
            try:
                idx.append(world.index(name))
            except ValueError:
                file, line = _where(sc, ("interventions", i, "towns"))
                close = difflib.get_close_matches(name, keys, n=1, cutoff=0.6)
                hint = f"did you mean '{close[0]}'? " if close else ""
                raise ScenarioError(
                    f"unknown town '{name}'", file=file, field=f"interventions[{i}].towns",
                    line=line,
                    fix=f"{hint}use a town_id or name from the towns table "
                        f"({len(world.town_id)} towns): {', '.join(sorted(world.town_id))}") from None
        if iv.zone is not None and (iv.zone not in BORDER_PARAM or iv.zone not in world.zone_lat):
            file, line = _where(sc, ("interventions", i, "zone"))
            valid = [z for z in BORDER_PARAM if z in world.zone_lat]
            close = difflib.get_close_matches(iv.zone, valid, n=1, cutoff=0.5)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise ScenarioError(f"unknown border zone '{iv.zone}'", file=file,
                                field=f"interventions[{i}].zone", line=line,
                                fix=f"{hint}a border that can open is one of: {', '.join(valid)}")
        out.append(np.array(sorted(set(idx)), dtype=np.int64))
    return out


def intervention_changes(iv: Any) -> dict[str, Any]:
    """The parameter changes an intervention makes: its ``set`` plus an opened border."""
    changes = dict(iv.set)
    if iv.action == "open_border" and iv.zone in BORDER_PARAM:
        changes[BORDER_PARAM[iv.zone]] = True
    return changes
