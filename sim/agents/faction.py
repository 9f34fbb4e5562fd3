"""Rebel faction agents: strength, heavy weapons, resolve, hardliners, towns held, pain."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.rules import acceptance
from sim.rules.negotiation import Terms
from sim.rules.territory import rebel_side
from sim.scenario.schema import FactionSpec

if TYPE_CHECKING:
    from sim.model import NegotiationModel


class Faction(mesa.Agent):
    """A rebel faction. Its pain accumulates from strikes, deaths and displacement in its towns."""

    model: NegotiationModel

    def __init__(self, model: NegotiationModel, spec: FactionSpec, index: int) -> None:
        super().__init__(model)
        self.spec = spec
        self.index = index
        self.towns = np.flatnonzero(model.traits.faction == index)
        self.initial_towns = max(len(self.towns), 1)
        self.pain = 0.0
        self.last_increment = 0.0
        #: index of its negotiating bloc in the model's ``blocs`` (-1: refuses talks)
        self.bloc = -1

    @property
    def negotiates(self) -> bool:
        return self.spec.kind != "refuses_talks"

    def held_share(self) -> float:
        """Share of its day-0 towns still held (its military balance)."""
        return float(rebel_side(self.model.state.control[self.towns]).sum()) / self.initial_towns

    def suffer(self, strikes: float, deaths: float, new_displaced: float) -> float:
        """Accumulate pain for one tick; returns this tick's increment.

        Deaths and displaced persons count at full scale (divided by ``world.population_scale``):
        a population scaled down to run faster must weigh on the talks as the whole one does."""
        p = self.model.params.negotiation
        inc = acceptance.pain_increment(strikes, deaths, new_displaced,
                                        self.model.params.world.population_scale,
                                        p.pain_per_strike, p.pain_per_death, p.pain_per_displaced)
        self.pain = acceptance.accumulate_pain(self.pain, inc, p.pain_decay, self.model.dt_days)
        self.last_increment = inc
        return inc

    def accept_probability(self, terms: Terms, day: float) -> float:
        """Probability that the faction accepts ``terms`` now (the bargaining rule)."""
        if not self.negotiates:
            return 0.0
        p = self.model.params.negotiation
        v_deal = acceptance.deal_value(terms.phases, terms.safe_passage, terms.guarantees,
                                       self.spec.hardliner_share, p.deal_base, p.passage_value,
                                       p.disarm_risk,
                                       acceptance.disarm_stake(self.spec.heavy_weapons,
                                                               p.weapons_risk))
        v_fight = acceptance.fight_value(self.held_share(), self.spec.resolve, day, self.pain,
                                         p.hold_value, p.hope0, p.hope_decay)
        return acceptance.accept_probability(v_deal, v_fight, p.noise)
