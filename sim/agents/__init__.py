"""Mesa agents: towns, rebel factions, the regime, the Russian mediator, and the civilians.

The few actors are ``mesa.Agent`` objects; the civilians are one agent holding numpy arrays of
households (never one Python object per person). Agents hold state and call the pure rules in
:mod:`sim.rules`; the model (:mod:`sim.model`) orders the calls.
"""

from sim.agents.civilians import Civilians
from sim.agents.faction import Faction
from sim.agents.mediator import Mediator
from sim.agents.regime import Regime
from sim.agents.town import Town

__all__ = ["Civilians", "Faction", "Mediator", "Regime", "Town"]
