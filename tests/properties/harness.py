"""Run a model tick by tick and hand each invariant a before/after snapshot of its state."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from sim.model import NegotiationModel, load_case
from sim.rules.negotiation import NegState, Terms
from sim.scenario.schema import Scenario
from sim.world.case import World

_WORLDS: dict[tuple, World] = {}


def world_for(sc: Scenario) -> World:
    """The case world of a scenario (read-only), loaded once per case (and set of faction
    names) for the whole suite."""
    from sim.scenario.loader import resolve_path

    w = sc.world
    files = tuple(str(resolve_path(sc, f)) if f.strip() else "" for f in (
        w.towns_file, w.subdistricts_file, w.zones_file, w.borders_file, w.outcomes_file))
    key = (files, frozenset(f.name for f in sc.factions))
    if key not in _WORLDS:
        _WORLDS[key] = load_case(sc)
    return _WORLDS[key]


def case_world() -> World:
    """The default case (Daraa; read-only), loaded once for the whole suite."""
    return world_for(Scenario())


@dataclass(frozen=True)
class Snap:
    """What the invariants compare between two ticks (copies, never views)."""

    tick: int
    day: float
    control: np.ndarray
    loc: np.ndarray
    size: np.ndarray
    dead: int
    strike_dead: int
    returned: int
    evacuated: int
    crossed: dict[int, int]      # persons who crossed, by exit code
    area_handed_over: float
    state: NegState
    history: tuple[tuple[float, NegState], ...]
    terms: Terms
    last_strike_day: np.ndarray
    n_events: int
    states: tuple[NegState, ...] = ()  # every bloc's talks state (the first is ``state``)


def snap(m: NegotiationModel) -> Snap:
    c = m.civilians
    return Snap(m.tick, m.day, m.control.copy(), c.loc.copy(), c.size.copy(), c.dead,
                c.strike_dead, c.returned, c.evacuated, dict(c.crossed),
                m.area_handed_over, m.talks.state, tuple(m.talks.history), m.talks.terms,
                m.last_strike_day.copy(), len(m.events), tuple(m.bloc_states()))


def model(sc: Scenario, seed: int) -> NegotiationModel:
    return NegotiationModel(sc, seed=seed, world=world_for(sc))


def ticks(m: NegotiationModel) -> Iterator[tuple[Snap, Snap]]:
    """Step ``m`` to its horizon, yielding (state before, state after) for every tick."""
    while m.running and m.tick < m.n_ticks:
        before = snap(m)
        m.step()
        yield before, snap(m)


def run_checked(sc: Scenario, seed: int,
                check: Callable[[NegotiationModel, Snap, Snap], None]) -> NegotiationModel:
    """Run to the horizon calling ``check(model, before, after)`` after every tick."""
    m = model(sc, seed)
    for before, after in ticks(m):
        check(m, before, after)
    return m


def new_events(m: NegotiationModel, before: Snap) -> list[tuple[float, str, str, str, str, float]]:
    return m.events[before.n_events:]
