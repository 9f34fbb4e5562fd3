"""Reference only (never used by the model): the civilian flight-and-return rule written the
idiomatic Mesa way, one :class:`mesa.Agent` per person, stepped by ``AgentSet.shuffle_do``.

It exists to measure what the vectorised civilians of :mod:`sim.agents.civilians` buy. The
rule is the same as :meth:`sim.agents.civilians.Civilians.flee_and_return`, per person instead
of per household:

* a person at home flees with the per-tick probability ``p_flee[home]`` (from
  :func:`sim.rules.flight.flight_probability`), to a destination drawn from the cumulative
  choice probabilities ``cum_dest[home]`` (from :func:`sim.rules.flight.choice_probabilities`),
  arriving ``dest_ticks[home, choice]`` ticks later (:func:`sim.rules.flight.travel_ticks`);
* a displaced person still in the area who has arrived returns home with the per-tick
  probability ``p_return[home]`` (:func:`sim.rules.returns.return_probability`);
* one uniform draw per person and tick decides either move, as one draw per household does
  in the vectorised rule.

The per-town inputs of each tick (about 100 towns) are passed in with :meth:`set_inputs`; the
benchmark records them from a real run of :class:`sim.model.NegotiationModel`, so both versions
see exactly the same probabilities. Border crossings, deaths and evacuations are left out
(none of them is part of the flight-and-return rule).
"""

from __future__ import annotations

from bisect import bisect_left

import mesa
import numpy as np


class Person(mesa.Agent):
    """One civilian: a home town, a location code and the tick of arrival there."""

    model: PersonFlightModel

    def __init__(self, model: PersonFlightModel, home: int) -> None:
        super().__init__(model)
        self.home = home
        self.loc = home
        self.arrive = 0

    def step(self) -> None:
        m = self.model
        h = self.home
        u = self.random.random()
        if self.loc == h:
            if u < m.p_flee[h]:
                cum = m.cum_dest[h]
                c = min(bisect_left(cum, self.random.random()), len(cum) - 1)
                self.loc = m.dest_loc[h][c]
                self.arrive = m.tick + m.dest_ticks[h][c]
                m.new_disp[h] += 1
        elif self.loc < m.exit0 and self.arrive <= m.tick and u < m.p_return[h]:
            self.loc = h
            m.returned += 1


class PersonFlightModel(mesa.Model):
    """All persons of the towns as Mesa agents; one :meth:`step` is one tick of the rule."""

    def __init__(self, persons_by_town: np.ndarray, exit0: int, seed: int = 0) -> None:
        super().__init__(rng=seed)
        self.n_towns = len(persons_by_town)
        self.exit0 = exit0
        self.tick = 0
        self.returned = 0
        self.new_disp = [0] * self.n_towns
        self.p_flee: list[float] = [0.0] * self.n_towns
        self.p_return: list[float] = [0.0] * self.n_towns
        self.cum_dest: list[list[float]] = []
        self.dest_loc: list[list[int]] = []
        self.dest_ticks: list[list[int]] = []
        for town, n in enumerate(np.asarray(persons_by_town, dtype=np.int64).tolist()):
            for _ in range(n):
                Person(self, town)

    def set_inputs(self, p_flee: np.ndarray, p_return: np.ndarray, cum_dest: np.ndarray,
                   dest_loc: np.ndarray, dest_ticks: np.ndarray, tick: int) -> None:
        """The per-town inputs of one tick (same arguments as ``Civilians.flee_and_return``)."""
        self.p_flee = p_flee.tolist()
        self.p_return = p_return.tolist()
        self.cum_dest = cum_dest.tolist()
        self.dest_loc = dest_loc.tolist()
        self.dest_ticks = dest_ticks.tolist()
        self.tick = tick

    def step(self) -> None:
        self.new_disp = [0] * self.n_towns
        self.agents.shuffle_do("step")

    def displaced(self) -> int:
        """Persons away from home but still in the area."""
        return sum(1 for a in self.agents if a.loc != a.home and a.loc < self.exit0)
