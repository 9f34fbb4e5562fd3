"""Towns: their fixed traits and their state tick by tick (numpy arrays, one entry per town), and
the town agents, a thin Mesa view on both.

The rules are vectorised over towns, so the authoritative values are arrays: :class:`TownTraits`
(fixed for a run, set when the model is built) and :class:`TownState` (what changes from tick to
tick). The model (:mod:`sim.model`) owns one of each and is the only one to write the state:
agents read it and return what they decide.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.rules.territory import Control

if TYPE_CHECKING:
    from sim.model import NegotiationModel

#: Tick of a thing not due (a town with no local talks under way): after any horizon.
NEVER = int(np.iinfo(np.int64).max)


@dataclass(frozen=True)
class TownTraits:
    """What a run fixes about each town when the model is built (arrays of length T)."""

    #: index of the faction holding it (in the model's canonical order; -1: none)
    faction: np.ndarray
    #: rebel-held on day 0 and its faction negotiates
    negotiable: np.ndarray
    #: it has a committee that can sign a local deal (not the border crossing itself)
    committee: np.ndarray
    #: hardliner share of its faction (0 without one)
    hardliners: np.ndarray
    #: defence of its faction (1 without one)
    defence: np.ndarray
    #: 1.0 where it has a strategic role (border crossing, border post, capital)
    strategic: np.ndarray
    #: towns x towns: neighbours within ``world.neighbour_km``
    neighbours: np.ndarray
    #: settlement threshold of its committee (:mod:`sim.rules.reconciliation`)
    theta: np.ndarray
    #: its negotiating bloc (-1: its faction does not negotiate, or not rebel-held on day 0)
    bloc: np.ndarray


@dataclass
class TownState:
    """Each town's state, tick by tick (arrays of length T): what the phases of a tick read and
    the model writes."""

    #: controller (:class:`sim.rules.territory.Control`)
    control: np.ndarray
    #: persons present (its own and hosted households), as of the last record
    present: np.ndarray
    #: holds the mediator's local terms (:mod:`sim.rules.offers`)
    offered: np.ndarray
    #: tick its local talks sign (:data:`NEVER`: none under way)
    local_deal_tick: np.ndarray
    #: strike intensity set by the regime this tick (strikes a day)
    intensity: np.ndarray
    #: strikes this tick, and since day 0
    strikes: np.ndarray
    strikes_cum: np.ndarray
    #: tick of its last strike (-inf: never)
    last_strike_tick: np.ndarray
    #: civilians killed in strikes there since day 0, and this tick
    deaths: np.ndarray
    new_deaths: np.ndarray
    #: its people newly displaced this tick
    new_displaced: np.ndarray
    #: open ceasefire windows covering it (:mod:`sim.rules.ceasefire`)
    ceasefire_windows: np.ndarray
    #: its pocket's label (:mod:`sim.rules.pockets`)
    pocket: np.ndarray
    #: the front: distance (km) to the nearest regime-side town, on the front, weight of the open
    #: axes there, and the two together (:mod:`sim.rules.territory`, :mod:`sim.rules.offensive`)
    d_regime: np.ndarray = field(default_factory=lambda: np.zeros(0))
    on_front: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    axis_w: np.ndarray = field(default_factory=lambda: np.zeros(0))
    front_w: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @classmethod
    def initial(cls, control: np.ndarray, present: np.ndarray) -> TownState:
        """Day 0: the given control and people, nothing offered, struck or killed yet."""
        T = len(control)
        return cls(control=control, present=present, offered=np.zeros(T, dtype=bool),
                   local_deal_tick=np.full(T, NEVER, dtype=np.int64), intensity=np.zeros(T),
                   strikes=np.zeros(T, dtype=np.int64), strikes_cum=np.zeros(T, dtype=np.int64),
                   last_strike_tick=np.full(T, -np.inf), deaths=np.zeros(T, dtype=np.int64),
                   new_deaths=np.zeros(T, dtype=np.int64),
                   new_displaced=np.zeros(T, dtype=np.int64),
                   ceasefire_windows=np.zeros(T, dtype=np.int64),
                   pocket=np.zeros(T, dtype=np.int64))


class Town(mesa.Agent):
    """A locality: controller, people present, area, strategic value, faction present.

    The authoritative values live in the model's :class:`TownState` (so the rules stay
    vectorised); this agent exposes them by name for inspection, the browser app and tests.
    """

    model: NegotiationModel

    def __init__(self, model: NegotiationModel, index: int) -> None:
        super().__init__(model)
        self.index = index
        w = model.world
        self.town_id = w.town_id[index]
        self.name = w.name[index]
        self.area_km2 = float(w.area_km2[index])
        self.strategic = w.strategic[index]
        self.faction = w.faction[index]

    @property
    def controller(self) -> str:
        return Control(int(self.model.state.control[self.index])).name.lower()

    @property
    def present(self) -> int:
        return int(self.model.state.present[self.index])

    @property
    def intensity(self) -> float:
        return float(self.model.state.intensity[self.index])
