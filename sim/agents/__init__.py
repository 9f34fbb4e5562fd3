"""Mesa agents: towns, rebel factions, the regime, the Russian mediator, and the civilians.

The few actors are ``mesa.Agent`` objects; the civilians are one agent holding numpy arrays of
households (never one Python object per person). The towns' state is one
:class:`~sim.agents.town.TownState` of arrays that only the model writes; agents read it, call the
pure rules in :mod:`sim.rules` and return what they decide; the model (:mod:`sim.model`) orders
the calls, one phase at a time, and wires their decisions into the state.
"""

from sim.agents.civilians import Civilians
from sim.agents.faction import Faction
from sim.agents.mediator import Mediator
from sim.agents.regime import Regime
from sim.agents.town import Town

__all__ = ["Civilians", "Faction", "Mediator", "Regime", "Town"]
