"""The regime: offensive axes, ground advance, and bombardment coordinated with the talks."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.rules import bombardment, ceasefire, escalation, territory
from sim.rules.territory import Control
from sim.world.case import haversine_km

if TYPE_CHECKING:
    from sim.model import NegotiationModel


class Regime(mesa.Agent):
    """Allocates strikes to rebel towns and advances on the ground along its axes."""

    model: NegotiationModel

    def __init__(self, model: NegotiationModel) -> None:
        super().__init__(model)
        self._axis_cache: dict[tuple[float, float], np.ndarray] = {}

    def axis(self, day: float) -> np.ndarray:
        w = self.model.world
        return territory.axis_weight(day, w.lat, w.lon, self.model.params.regime.axes,
                                     self._axis_km)

    def _axis_km(self, lat: np.ndarray, lon: np.ndarray, ax_lat: np.float64,
                 ax_lon: np.float64) -> np.ndarray:
        """Town distances to an axis' focus, computed once per focus (not every tick)."""
        key = (float(ax_lat), float(ax_lon))
        if key not in self._axis_cache:
            self._axis_cache[key] = haversine_km(lat, lon, ax_lat, ax_lon)
        return self._axis_cache[key]

    def bombard(self, day: float) -> np.ndarray:
        """Set the model's strike intensity per town and draw this tick's strikes."""
        m = self.model
        p = m.params.regime
        targetable = ceasefire.targetable_under_ceasefire(territory.rebel_side(m.control),
                                                      m.ceasefire_windows)
        lvl_talks = escalation.escalation_level(m.talks.state, p.escalation_factor,
                                                p.talks_level, p.halt_level)
        level = np.where(m.negotiable, lvl_talks, 1.0)
        level = np.where(m.control == Control.NEGOTIATING, np.minimum(level, p.talks_level),
                         level)
        prio = bombardment.strike_priority(m.on_front.astype(float), m.strategic_mask,
                                           m.axis_w, p.priority_front, p.priority_strategic,
                                           p.priority_axis)
        m.intensity = bombardment.allocate_intensity(p.bombardment_capacity * p.bombardment_scale,
                                                     level, prio, targetable)
        strikes = bombardment.draw_strikes(m.intensity, m.dt_days, m.rng)
        for i in np.flatnonzero(strikes):
            m.log("strike", "regime", m.world.town_id[i], f"{int(strikes[i])} strikes")
        return strikes

    def advance(self, day: float) -> list[int]:
        """Ground assault: rebel towns on the front may fall. Returns captured town indices."""
        m = self.model
        p = m.params.regime
        cand = ceasefire.targetable_under_ceasefire(territory.rebel_side(m.control) & m.on_front,
                                                m.ceasefire_windows)
        if not cand.any():
            return []
        prob = territory.capture_probability(cand.astype(float), m.axis_w, m.defence,
                                             p.ground_capacity, p.k_capture, m.dt_days)
        fall = np.flatnonzero(m.rng.random(len(prob)) < prob)
        for i in fall:
            m.set_control(int(i), Control.REGIME, "town_captured", "regime", "by force")
        return [int(i) for i in fall]
