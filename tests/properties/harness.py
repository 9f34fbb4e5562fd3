"""Run a model tick by tick and hand each invariant a before/after snapshot of its state."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from sim.model import NegotiationModel, load_case
from sim.rules.negotiation import NegState, Terms
from sim.scenario.schema import Scenario
from sim.world.case import World


@functools.cache
def case_world() -> World:
    """The default case (read-only), loaded once for the whole suite."""
    return load_case(Scenario())


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
    crossed_jordan: int
    crossed_golan: int
    area_handed_over: float
    state: NegState
    history: tuple[tuple[float, NegState], ...]
    terms: Terms
    last_strike_day: np.ndarray
    n_events: int


def snap(m: NegotiationModel) -> Snap:
    c = m.civilians
    return Snap(m.tick, m.day, m.control.copy(), c.loc.copy(), c.size.copy(), c.dead,
                c.strike_dead, c.returned, c.evacuated, c.crossed_jordan, c.crossed_golan,
                m.area_handed_over, m.talks.state, tuple(m.talks.history), m.talks.terms,
                m.last_strike_day.copy(), len(m.events))


def model(sc: Scenario, seed: int) -> NegotiationModel:
    return NegotiationModel(sc, seed=seed, world=case_world())


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


def new_events(m: NegotiationModel, before: Snap) -> list[tuple[float, str, str, str, str]]:
    return m.events[before.n_events:]
