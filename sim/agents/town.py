"""Town agents: a thin Mesa view on the model's per-town arrays."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

from sim.rules.territory import Control

if TYPE_CHECKING:
    from sim.model import NegotiationModel


class Town(mesa.Agent):
    """A locality: controller, people present, area, strategic value, faction present.

    The authoritative values live in the model's arrays (so the rules stay vectorised);
    this agent exposes them by name for inspection, the browser app and tests.
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
        return Control(int(self.model.control[self.index])).name.lower()

    @property
    def present(self) -> int:
        return int(self.model.present[self.index])

    @property
    def intensity(self) -> float:
        return float(self.model.intensity[self.index])
