"""Rule: where the displaced can go: the case's destination zones, corridors, and sheltering in
place; and the daily humanitarian pause.

A case declares its destination zones as data (``zones.csv``, :class:`sim.world.case.Zone`),
each of a **kind** that says how the model treats it:

* ``border`` (an international border) and ``frontier`` (a ceasefire line): always reachable;
  people wait there, exposed (:mod:`sim.rules.casualties`), and cross at ``flight.cross_rate``
  only while the zone is open (``borders.open``, or an ``open_border`` intervention). The strike
  threat there is felt at the zone's point. Utility ``flight.asc_border`` / ``asc_frontier``.
* ``fields``: fields and groves near home, always reachable, at ``flight.fields_km``; the threat
  is that at home. Utility ``flight.asc_fields``.
* ``government``: government-held areas, reachable **only while corridors are open**
  (``regime.corridors_open``, which dated interventions set), at the distance to the nearest
  government-held town (reach ``front``) or to the crossing point (reach ``point``); nobody
  strikes them. Utility ``flight.asc_government``.
* a quieter rebel-held town (always a destination when one is in reach, :mod:`sim.rules.flight`;
  in an enclave split into pockets only one of the household's own pocket,
  :mod:`sim.rules.pockets`). Utility ``flight.asc_town``.
* ``shelter``: not a choice. A household that would flee but has no reachable destination (a
  siege: no border, no fields, corridors closed, no other town of its pocket) **shelters in
  place**: it stays in its town, exposed to the strikes there. The zone's column counts the
  persons at home in rebel-held towns under threat with nowhere to go. Without a shelter zone,
  such a household goes to the fields if the case has them.
* ``evacuation``: not a choice either: the buses of safe passage (:mod:`sim.rules.evacuation`).

A **siege with no exit** is therefore a case with neither borders nor fields: until corridors
open, people can only move between the towns of their pocket or shelter in place.

**Daily humanitarian pause** (``regime.pause_hours``, hours a day, set by a dated intervention):
the daily strike capacity is multiplied by ``(24 - pause_hours) / 24``.

Parameters: ``flight.asc_*``, ``flight.fields_km``, ``regime.corridors_open``,
``regime.pause_hours``; the zones and their kinds are case data. Sources: each case's zones file
and its scenario's dated interventions (Daraa: corridors on 27 June, OCHA Flash Update No. 3;
Eastern Ghouta: the Wafideen corridor and Russia's daily pause from 27 February 2018, TASS).
Calibrated by: nothing directly (the zones' utilities by each case's displacement figures).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from sim.rules.clock import HOURS_PER_DAY

if TYPE_CHECKING:
    from sim.agents.civilians import Locations
    from sim.world.case import World, Zone

#: Utility parameter of each destination kind (``flight.<name>``).
ASC_OF_KIND = {"border": "asc_border", "frontier": "asc_frontier", "fields": "asc_fields",
               "government": "asc_government"}
#: Distance standing for "out of reach" (km): an unavailable destination's, never chosen.
FAR_KM = 1e3


def pause_factor(pause_hours: float) -> float:
    """Share of the day the regime may strike under a daily pause of ``pause_hours``."""
    return (HOURS_PER_DAY - pause_hours) / HOURS_PER_DAY


def fallback_location(world: World, loc: Locations) -> np.ndarray:
    """Where a household of each town goes when it would flee but no destination is reachable:
    its own town (sheltering in place) if the case has a shelter zone, else the first fields
    zone, else its own town."""
    T = world.n_towns
    fields = world.zones_of("fields")
    if world.zones_of("shelter") or not fields:
        return np.arange(T, dtype=np.int32)
    return np.full(T, loc.zone[fields[0].id], dtype=np.int32)


def destinations(zones: tuple[Zone, ...], loc: Locations, d_zone: dict[str, np.ndarray],
                 d_regime: np.ndarray, host: np.ndarray, d_host: np.ndarray,
                 threat: np.ndarray, zone_threat: np.ndarray, fallback: np.ndarray, fp: Any,
                 corridors_open: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                                np.ndarray]:
    """The destination table of every town (towns x (zones..., a quieter town)): distance (km),
    availability, the strike threat there, the utility constants and the location codes.

    ``zones``: the case's destination zones in file order; ``d_zone``: distances to zones of a
    fixed reach; ``zone_threat``: the threat at each closable zone's point (in file order).
    """
    T = len(host)
    cols_d, cols_ok, cols_thr, ascs, locs = [], [], [], [], []
    k_closable = 0
    for z in zones:
        if z.reach == "near":
            d = np.full(T, fp.fields_km)
        elif z.reach == "front":
            d = np.where(np.isfinite(d_regime), d_regime, FAR_KM)
        else:
            d = d_zone[z.id]
        cols_d.append(d)
        cols_ok.append(corridors_open if z.kind == "government" else True)
        if z.closable:
            cols_thr.append(np.full(T, zone_threat[k_closable]))
            k_closable += 1
        elif z.kind == "fields":
            cols_thr.append(threat)
        else:
            cols_thr.append(np.zeros(T))
        ascs.append(getattr(fp, ASC_OF_KIND[z.kind]))
        locs.append(np.full(T, loc.zone[z.id], dtype=np.int32))
    cols_d.append(np.where(host >= 0, d_host, FAR_KM))
    cols_thr.append(threat[np.maximum(host, 0)])
    ascs.append(fp.asc_town)
    locs.append(np.where(host >= 0, host, fallback).astype(np.int32))
    dist = np.stack(cols_d, axis=1)
    available = np.ones((T, len(cols_d)), dtype=bool)
    for k, ok in enumerate(cols_ok):
        if ok is not True:
            available[:, k] = ok
    available[:, -1] = host >= 0
    dest_threat = np.stack(cols_thr, axis=1)
    dest_loc = np.stack(locs, axis=1)
    return dist, available, dest_threat, np.array(ascs), dest_loc
