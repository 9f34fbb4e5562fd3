"""Check a scenario against its case data: the towns and zones it names.

Town names in ``[[interventions]]`` (``towns = [...]``) are matched against the towns table by
id or name (case-insensitive, :meth:`sim.world.case.World.index`); zones (an intervention's
``zone = ...``, a ``borders.open.<zone>`` flag it sets, and ``borders.open``) against the case's
borders and frontiers (zones.csv). A name that matches nothing is a :class:`ScenarioError`
naming the file, the field, the line and the valid names.
"""

from __future__ import annotations

import difflib
from typing import Any

import numpy as np

from sim.errors import ScenarioError
from sim.scenario.loader import find_line, scenario_source
from sim.scenario.schema import ZONE_FLAG, Scenario, is_zone_flag
from sim.world.case import World


def _zone_error(sc: Scenario, world: World, zone: str, loc: tuple[Any, ...],
                field: str) -> ScenarioError:
    file, line = _where(sc, loc)
    valid = [z.id for z in world.closable_zones]
    close = difflib.get_close_matches(zone, valid, n=1, cutoff=0.5)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return ScenarioError(f"unknown border zone '{zone}'", file=file, field=field, line=line,
                         fix=f"{hint}a border or frontier that can open is one of: "
                             + (", ".join(valid) or "(none in this case's zones.csv)"))


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
    closable = {z.id for z in world.closable_zones}
    for zone in sc.borders.open:
        if zone not in closable:
            raise _zone_error(sc, world, zone, ("borders", "open"), "borders.open")
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
        if iv.zone is not None and iv.zone not in closable:
            raise _zone_error(sc, world, iv.zone, ("interventions", i, "zone"),
                              f"interventions[{i}].zone")
        for path in iv.set:
            if is_zone_flag(path) and path[len(ZONE_FLAG):] not in closable:
                raise _zone_error(sc, world, path[len(ZONE_FLAG):], ("interventions", i, "set"),
                                  f"interventions[{i}].set")
        out.append(np.array(sorted(set(idx)), dtype=np.int64))
    return out


def intervention_changes(iv: Any) -> dict[str, Any]:
    """The parameter changes an intervention makes: its ``set`` plus an opened border
    (``borders.open.<zone>``)."""
    changes = dict(iv.set)
    if iv.action == "open_border" and iv.zone is not None:
        changes[ZONE_FLAG + iv.zone] = True
    return changes
