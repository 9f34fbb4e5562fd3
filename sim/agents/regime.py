"""The regime: offensive axes, ground advance, and bombardment coordinated with the talks."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.rules import bombardment, ceasefire, escalation, offensive, siege, territory
from sim.rules.negotiation import NegState
from sim.rules.territory import Control
from sim.world.case import haversine_km

if TYPE_CHECKING:
    from sim.model import NegotiationModel


#: Negotiation states in which the offensive may move on (no comprehensive talks at the table).
CONTINUE_IN = frozenset({NegState.NO_TALKS, NegState.ESCALATION, NegState.IMPLEMENTED,
                         NegState.ENDED})


class Regime(mesa.Agent):
    """Opens offensive axes, allocates strikes to rebel towns and advances on the ground."""

    model: NegotiationModel

    def __init__(self, model: NegotiationModel) -> None:
        super().__init__(model)
        self._axis_cache: dict[tuple[float, float], np.ndarray] = {}
        #: axes opened by the continuing offensive: (focus town index, tick opened)
        self.auto_axes: list[tuple[int, int]] = []
        #: the tick each dated axis of the plan opens (converted once, at build)
        self.axis_from = [model.due(a.from_day) for a in model.params.regime.axes]
        #: the tick the air campaign intensifies (None: no surge in the plan)
        rp = model.params.regime
        self.surge_tick = None if rp.surge_from_day is None else model.due(rp.surge_from_day)
        self.surge_until_tick = None if rp.surge_until_day is None else model.due(rp.surge_until_day)

    def _axis_km(self, lat: float, lon: float) -> np.ndarray:
        """Town distances to an axis' focus, computed once per focus (not every tick)."""
        key = (float(lat), float(lon))
        if key not in self._axis_cache:
            w = self.model.world
            self._axis_cache[key] = haversine_km(w.lat, w.lon, np.asarray(lat, dtype=np.float64),
                                                 np.asarray(lon, dtype=np.float64))
        return self._axis_cache[key]

    def open_axes(self) -> list[tuple[np.ndarray, float, float]]:
        """The axes open now as (town distances to the focus, radius km, weight)."""
        p = self.model.params.regime
        now = self.model.tick
        out = [(self._axis_km(a.lat, a.lon), a.radius_km, a.weight)
               for a, start in zip(p.axes, self.axis_from, strict=True) if now >= start]
        out += [(self.model.world.dist_km[i], p.auto_axis_radius_km, p.auto_axis_weight)
                for i, _ in self.auto_axes]
        return out

    def axis(self) -> np.ndarray:
        """Weight of the open axes at each town."""
        axes = self.open_axes()
        return offensive.axis_weight([a[0] for a in axes], [a[1] for a in axes],
                                     [a[2] for a in axes], self.model.world.n_towns)

    def plan(self) -> int | None:
        """The offensive goes on: the focus town of the next axis when the open ones have
        stalled (the model opens it), else None."""
        m = self.model
        st = m.state
        p = m.params.regime
        if not p.continue_offensive or p.ground_capacity <= 0:
            return None
        rebel = ceasefire.targetable_under_ceasefire(territory.rebel_side(st.control),
                                                     st.ceasefire_windows)
        held = self.held_by_talks()
        if held is True:
            return None
        rebel = rebel & ~held
        last_plan = max(self.axis_from, default=0)
        progress = max(m.last_progress_tick, self.auto_axes[-1][1] if self.auto_axes else -1)
        if not offensive.continuation_due(m.tick, last_plan, bool(self.open_axes()), progress,
                                          m.ticks(p.next_axis_days)):
            return None
        focus = np.zeros(len(rebel), dtype=bool)
        focus[[j for j, _ in self.auto_axes]] = True
        return offensive.next_axis_town(rebel & ~focus, st.on_front, st.present, m.world.dist_km,
                                        p.auto_axis_radius_km)

    def held_by_talks(self) -> np.ndarray | bool:
        """Towns where the continuing offensive holds because comprehensive talks are at the
        table: without pockets, everywhere (True) while any bloc is at the table; in an enclave
        split into pockets (:mod:`sim.rules.pockets`), the pockets holding a rebel town of a bloc
        at the table. A mask of towns, or True for everywhere."""
        m = self.model
        at_table = [b for b, st in enumerate(m.bloc_states()) if st not in CONTINUE_IN]
        if not at_table:
            return np.zeros(m.world.n_towns, dtype=bool)
        if not m.params.world.pockets:
            return True
        pocket = m.state.pocket
        rebel = territory.rebel_side(m.state.control)
        mine = rebel & np.isin(m.traits.bloc, at_table)
        return np.isin(pocket, np.unique(pocket[mine])) & rebel

    def bombard(self) -> tuple[np.ndarray, np.ndarray]:
        """This tick's strike intensity per town (strikes a day) and the strikes drawn."""
        m = self.model
        st = m.state
        p = m.params.regime
        targetable = ceasefire.targetable_under_ceasefire(territory.rebel_side(st.control),
                                                          st.ceasefire_windows)
        level = escalation.town_levels_by_bloc(m.bloc_states(), m.traits.bloc,
                                               st.offered & ~m.settled_mask(),
                                               st.control == Control.NEGOTIATING,
                                               p.escalation_factor, p.talks_level, p.halt_level,
                                               p.ultimatum_factor)
        prio = bombardment.strike_priority(st.on_front.astype(float), m.traits.strategic,
                                           st.axis_w, p.priority_base, p.priority_front,
                                           p.priority_strategic, p.priority_axis)
        capacity = (p.bombardment_capacity * p.bombardment_scale
                    * bombardment.surge(m.tick, self.surge_tick, p.surge_factor,
                                        self.surge_until_tick)
                    * siege.pause_factor(p.pause_hours))
        intensity = bombardment.allocate_intensity(capacity, level, prio, targetable)
        return intensity, bombardment.draw_strikes(intensity, m.dt_days, m.rng)

    def advance(self) -> list[int]:
        """Ground assault: the rebel towns on the front that the ground forces assault
        (at most ``regime.assault_towns``) may fall. Returns the towns that fall (the model
        captures them, in this order)."""
        m = self.model
        st = m.state
        p = m.params.regime
        cand = ceasefire.targetable_under_ceasefire(territory.rebel_side(st.control) & st.on_front,
                                                    st.ceasefire_windows)
        if not cand.any():
            return []
        cand = territory.assaulted(cand, st.axis_w, m.traits.defence, p.ground_capacity,
                                   p.assault_towns)
        prob = territory.capture_probability(cand.astype(float), st.axis_w, m.traits.defence,
                                             p.ground_capacity, p.k_capture, m.dt_days)
        return [int(i) for i in np.flatnonzero(m.rng.random(len(prob)) < prob)]
