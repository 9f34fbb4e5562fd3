"""The Mesa model: wires the agents and the rules together, tick by tick. Nothing else.

Order of one tick (``time.tick_hours`` long; events carry the tick's start time):

1. interventions due now are applied (or undone);
2. geometry of the front: distance to regime-held ground, open offensive axes;
3. the mediator advances the comprehensive talks (:mod:`sim.rules.negotiation`);
4. the regime bombards (:mod:`sim.rules.escalation`, :mod:`sim.rules.bombardment`);
5. strike and exposure deaths (:mod:`sim.rules.casualties`);
6. the regime advances on the ground (:mod:`sim.rules.territory`);
7. the mediator brokers local deals (:mod:`sim.rules.reconciliation`);
8. civilians flee, travel, cross open borders and return (:mod:`sim.rules.flight`,
   :mod:`sim.rules.returns`);
9. factions accumulate pain (:mod:`sim.rules.acceptance`); the tick is recorded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import mesa
import numpy as np

from sim.agents import Civilians, Faction, Mediator, Regime, Town
from sim.agents import civilians as C
from sim.rules import bombardment, casualties, flight, returns, territory
from sim.rules.negotiation import SETTLED, IllegalTransition, NegState, Talks, Terms
from sim.rules.reconciliation import draw_thresholds
from sim.rules.territory import Control
from sim.scenario.loader import resolve_path
from sim.scenario.schema import Intervention, Scenario, get_param, set_param
from sim.scenario.targets import intervention_changes, resolve_targets
from sim.world.case import World, load_world

#: Timeseries columns, in order (all counts are persons).
TIMESERIES_COLUMNS = (
    "time", "day", "displaced_total", "displaced_jordan_border", "displaced_golan",
    "displaced_other", "displaced_fields", "displaced_towns", "displaced_regime_area",
    "crossed_to_jordan", "crossed_to_golan", "returned_cum", "evacuated_cum",
    "civilian_deaths_cum", "strike_deaths_cum", "exposure_deaths_cum", "alive", "at_home",
    "towns_reconciled", "towns_captured", "towns_rebel", "towns_negotiating",
    "regime_share_area", "area_handed_over_km2_cum", "bombardment_intensity", "strikes",
    "negotiation_state", "collapses", "corridors_open", "localities_settled",
)
EVENT_COLUMNS = ("time", "day", "kind", "actor", "target", "detail")


def load_case(scenario: Scenario) -> World:
    """Load the case world named by a scenario's ``[world]`` table."""
    w = scenario.world
    return load_world(resolve_path(scenario, w.towns_file),
                      resolve_path(scenario, w.subdistricts_file),
                      resolve_path(scenario, w.zones_file),
                      {f.name for f in scenario.factions},
                      resolve_path(scenario, w.borders_file))


@dataclass
class _Scheduled:
    spec: Intervention
    start: float | None
    towns: np.ndarray
    applied: bool = False
    undone: bool = False
    old: dict[str, Any] = field(default_factory=dict)


class NegotiationModel(mesa.Model):
    """Negotiated surrender under bombardment: towns, factions, regime, mediator, civilians."""

    def __init__(self, scenario: Scenario, seed: int = 0, world: World | None = None) -> None:
        super().__init__(rng=seed)
        self.seed = seed
        self.params = scenario.model_copy(deep=True)
        self.world = world if world is not None else load_case(scenario)
        w, tp = self.world, self.params.time
        self.dt_days = tp.tick_hours / 24.0
        self.n_ticks = int(round(tp.horizon_days / self.dt_days))
        self.ticks_per_day = 24 // tp.tick_hours
        self.tick = 0
        T = w.n_towns

        # Factions in a canonical order (strongest first, then by name): outputs must not
        # depend on the order a scenario lists them in (random draws are made in this order).
        specs = sorted(self.params.factions, key=lambda f: (-f.strength, f.name))
        fac_names = [f.name for f in specs]
        self.faction_idx = np.array([fac_names.index(f) if f in fac_names else -1
                                     for f in w.faction], dtype=np.int64)
        rebel0 = w.rebel0
        self.control = np.where(rebel0, Control.REBEL, Control.REGIME).astype(np.int8)
        self.negotiable = np.array([rebel0[i] and self.faction_idx[i] >= 0
                                    and specs[self.faction_idx[i]].kind != "refuses_talks"
                                    for i in range(T)])
        self.n_negotiable0 = max(int(self.negotiable.sum()), 1)
        # towns with a committee that can sign a local deal (not the border crossing itself)
        self.committee = np.array([s != "border_crossing" for s in w.strategic])
        self.hardliners = np.array([specs[k].hardliner_share if k >= 0 else 0.0
                                    for k in self.faction_idx])
        self.defence = np.array([specs[k].defence if k >= 0 else 1.0 for k in self.faction_idx])
        self.strategic_mask = np.array([s != "none" for s in w.strategic], dtype=np.float64)
        self.neighbours = (w.dist_km < self.params.world.neighbour_km) & ~np.eye(T, dtype=bool)
        rp = self.params.reconciliation
        self.theta = draw_thresholds(T, rp.theta_mean, rp.theta_sd, self.rng)
        self.local_deal_day = np.full(T, np.inf)
        self.offered = np.zeros(T, dtype=bool)  # towns holding the mediator's local terms
        self.last_progress_day = 0.0  # last day a town changed hands (the offensive's progress)
        self.intensity = np.zeros(T)
        self.strikes = np.zeros(T, dtype=np.int64)
        self.last_strike_day = np.full(T, -np.inf)
        self.strikes_cum = np.zeros(T, dtype=np.int64)
        self.deaths_town = np.zeros(T, dtype=np.int64)
        self.area_handed_over = 0.0
        self.events: list[tuple[float, str, str, str, str]] = []
        self.triggered: set[str] = set()

        # Agents: the few actors are Mesa agents; civilians are one agent holding arrays.
        pop = np.where(rebel0, np.round(w.population * self.params.world.population_scale),
                       0).astype(np.int64)
        self.civilians = Civilians(self, pop, self.params.world.household_size_mean)
        self.towns = [Town(self, i) for i in range(T)]
        self.factions = [Faction(self, spec, k) for k, spec in enumerate(specs)]
        self.regime = Regime(self)
        self.mediator = Mediator(self)
        self.talks = Talks(terms=self.mediator.base_terms())
        self.ceasefire_windows = np.zeros(T, dtype=np.int64)  # open ceasefire windows per town
        targets = resolve_targets(self.params, self.world)
        self.schedule_iv = [_Scheduled(iv, iv.day, idx)
                            for iv, idx in zip(self.params.interventions, targets, strict=True)]
        self._iv_order: list[_Scheduled] = []  # interventions in the order they took effect
        self._iv_base: dict[str, Any] = {}     # parameter -> its value before any intervention

        # Static distance tables (computed once per run).
        self.d_jordan = w.zone_distance_km("jordan_border")
        self.d_golan = w.zone_distance_km("golan_frontier")
        # distances from the border zones' representative points to the towns (zone threat)
        self.d_zone_town = np.vstack([w.zone_point_distance_km(z)
                                      for z in ("jordan_border", "golan_frontier")])
        self._kernel: tuple[float, np.ndarray | None, np.ndarray | None] = (math.nan, None, None)

        self.present = self.civilians.counts_by_loc()[:T]
        self._update_front(0.0)
        #: per-governorate regime share columns, e.g. ``regime_share_daraa`` (from the case data)
        self.region_columns = {f"regime_share_{territory.slug(g)}": np.array(
            [gv == g for gv in w.governorate]) for g in dict.fromkeys(w.governorate)}
        self.timeseries_columns = (*TIMESERIES_COLUMNS, *self.region_columns)
        self.rows: list[dict[str, Any]] = []
        self.town_days: list[tuple[float, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                   np.ndarray]] = []
        self.datacollector = mesa.DataCollector(
            model_reporters={c: (lambda m, c=c: m.rows[-1][c]) for c in self.timeseries_columns})
        self._record()

    # --- helpers used by agents -----------------------------------------------------------
    @property
    def day(self) -> float:
        return self.tick * self.dt_days

    def log(self, kind: str, actor: str, target: str, detail: str = "") -> None:
        """Record a discrete event at the start of the current tick."""
        self.events.append((self.day, kind, actor, target, detail))

    def settled_mask(self) -> np.ndarray:
        return territory.regime_side(self.control)

    def settled_share(self) -> float:
        """Share of the day-0 negotiable rebel towns now under regime control."""
        return float((self.settled_mask() & self.negotiable).sum()) / self.n_negotiable0

    def rebel_negotiable_towns(self) -> np.ndarray:
        return np.flatnonzero(territory.rebel_side(self.control) & self.negotiable)

    def set_control(self, i: int, new: Control, kind: str, actor: str, detail: str) -> None:
        """Change a town's controller along a legal transition and log what it means."""
        old = int(self.control[i])
        if not territory.legal_control_change(old, int(new)):
            raise IllegalTransition(f"town {self.world.town_id[i]}: "
                                    f"{Control(old).name} -> {Control(new).name}")
        self.control[i] = new
        if new >= Control.RECONCILED:
            self.last_progress_day = self.day
        tid = self.world.town_id[i]
        self.log(kind, actor, tid, detail)
        if new == Control.RECONCILED:
            km2 = float(self.world.area_km2[i])
            self.area_handed_over += km2
            self.log("area_handed_over", tid, "regime", f"{km2:.1f} km2 without a fight")
        if new >= Control.RECONCILED and self.world.strategic[i] in ("border_crossing",
                                                                     "border_post"):
            self.log("crossing_taken", "regime", tid, self.world.strategic[i])

    def trigger(self, name: str) -> None:
        """An event that interventions may wait for (first_collapse, first_resumption, deal)."""
        if name in self.triggered:
            return
        self.triggered.add(name)
        for s in self.schedule_iv:
            if s.spec.after == name and s.start is None:
                s.start = self.day + s.spec.delay_hours / 24.0

    # --- the tick -------------------------------------------------------------------------
    def _apply_interventions(self, day: float) -> None:
        changed = False
        for s in self.schedule_iv:
            spec = s.spec
            if not s.applied and s.start is not None and day + 1e-9 >= s.start:
                changes = intervention_changes(spec)
                for path, value in changes.items():
                    self._iv_base.setdefault(path, get_param(self.params, path))
                    s.old[path] = set_param(self.params, path, value)
                s.applied = changed = True
                self._iv_order.append(s)
                self.log("intervention", "scenario", self._iv_target(s),
                         spec.description or str(changes or spec.action))
                self._log_intervention_effects(changes)
                if spec.action == "ceasefire":
                    self.ceasefire_windows[s.towns] += 1
                elif spec.action == "handover":
                    for i in s.towns:
                        if territory.rebel_side(self.control)[i]:
                            self.mediator.settle_town(int(i), "imposed")
            if (s.applied and not s.undone and spec.until_day is not None
                    and day + 1e-9 >= spec.until_day):
                s.undone = changed = True
                for path in s.old:
                    set_param(self.params, path, self._value_in_force(path))
                if spec.action == "ceasefire":
                    self.ceasefire_windows[s.towns] -= 1
                self.log("intervention_ended", "scenario", self._iv_target(s),
                         spec.description or "")
        if changed:
            base = self.mediator.base_terms()
            t = self.talks.terms
            self.talks.terms = Terms(max(base.phases, t.phases),
                                     base.safe_passage or t.safe_passage,
                                     max(base.guarantees, t.guarantees))

    def _value_in_force(self, path: str) -> Any:
        """A parameter's value once an intervention on it ends: that of the latest-applied
        intervention still in force that sets it (windows stack), else the scenario's own value
        (never what the ending intervention happened to see when it started)."""
        for s in reversed(self._iv_order):
            if not s.undone and path in s.old:
                return intervention_changes(s.spec)[path]
        return self._iv_base[path]

    def _iv_target(self, s: _Scheduled) -> str:
        spec = s.spec
        names = [*spec.set]
        if spec.action == "open_border":
            names.append(f"open_border:{spec.zone}")
        elif spec.action:
            names.append(f"{spec.action}:" + "+".join(self.world.town_id[i] for i in s.towns))
        return ",".join(names)

    def _log_intervention_effects(self, changes: dict[str, Any]) -> None:
        if changes.get("borders.jordan_open") is True:
            self.log("border_opened", "jordan", "jordan_border", "Jordan opens its border")
        if changes.get("borders.golan_open") is True:
            self.log("border_opened", "israel", "golan_frontier", "the Golan line opens")
        if changes.get("regime.corridors_open") is True:
            self.log("corridors_opened", "regime", "regime_area",
                     "corridors into government-held areas open")

    def _update_front(self, day: float) -> None:
        p = self.params.regime
        self.d_regime = territory.distance_to_regime(self.control, self.world.dist_km)
        self.on_front = territory.rebel_side(self.control) & (self.d_regime <= p.front_km)
        self.axis_w = self.regime.axis(day)
        self.front_w = self.on_front * self.axis_w

    def step(self) -> None:
        if self.tick >= self.n_ticks:
            self.running = False
            return
        day = self.day
        T = self.world.n_towns
        civ = self.civilians
        self._apply_interventions(day)
        self._update_front(day)
        self.regime.plan(day)
        self._update_front(day)
        self.mediator.make_offers(day)
        self.mediator.negotiate(day)

        # bombardment and its deaths
        self.strikes = self.regime.bombard(day)
        self.strikes_cum += self.strikes
        self.last_strike_day[self.strikes > 0] = day
        cp = self.params.casualties
        # a population scaled down (world.population_scale) is a sample of the whole: a strike
        # kills that share of the persons it would kill at full scale
        scale = self.params.world.population_scale
        counts = civ.counts_by_loc()
        present = counts[:T]
        deaths = np.zeros(civ.n_loc, dtype=np.int64)
        deaths[:T] = casualties.draw_deaths(
            casualties.strike_death_rate(self.strikes, present, cp.lethality * scale,
                                         cp.shelter_half * scale),
            present, self.rng)
        aid = 1.0 if (cp.aid_through_hostilities or self.talks.state in SETTLED) else 0.0
        border = np.array([counts[T + C.JORDAN], counts[T + C.GOLAN]])
        deaths[[T + C.JORDAN, T + C.GOLAN]] = casualties.draw_deaths(
            casualties.exposure_death_rate(border, cp.exposure_rate, cp.heat_factor, aid,
                                           cp.aid_relief, self.dt_days), border, self.rng)
        strike_before = civ.dead
        applied = civ.kill(deaths)
        civ.strike_dead += int(applied[:T].sum())
        civ.exposure_dead += civ.dead - strike_before - int(applied[:T].sum())
        self.deaths_town += applied[:T]
        for i in np.flatnonzero(applied[:T]):
            self.log("casualties", "regime", self.world.town_id[i],
                     f"{int(applied[i])} civilians killed in strikes")
        for code, zname in ((C.JORDAN, "jordan_border"), (C.GOLAN, "golan_frontier")):
            if applied[T + code]:
                self.log("casualties", "exposure", zname,
                         f"{int(applied[T + code])} died of exposure at the border")

        # ground war and local deals
        self.regime.advance(day)
        self._update_front(day)
        self.mediator.broker_local_deals(day)

        # civilians
        new_disp = self._civilians_move(day)

        # pain
        inc, wsum = 0.0, 0.0
        for f in self.factions:
            towns = f.towns
            d = f.suffer(float(self.strikes[towns].sum()), float(applied[towns].sum()),
                         float(new_disp[towns].sum()))
            if f.negotiates:
                inc += d * f.spec.strength
                wsum += f.spec.strength
        if self.talks.state == NegState.ESCALATION and wsum > 0:
            self.talks.pain_since_collapse += inc / wsum

        self.tick += 1
        self._record()
        if self.tick >= self.n_ticks:
            self.running = False

    def _civilians_move(self, day: float) -> np.ndarray:
        fp, rp = self.params.flight, self.params.returns
        w = self.world
        T = w.n_towns
        if self._kernel[0] != fp.kernel_km:  # once per run; again if an intervention changes it
            self._kernel = (fp.kernel_km, bombardment.distance_kernel(w.dist_km, fp.kernel_km),
                            bombardment.distance_kernel(self.d_zone_town, fp.kernel_km))
        _, kernel, zone_kernel = self._kernel
        threat = bombardment.local_intensity(self.intensity, kernel)
        zone_threat = bombardment.local_intensity(self.intensity, zone_kernel)
        b_front = fp.b_front if self.params.regime.ground_capacity > 0 else 0.0  # no offensive
        ultimatum = (self.offered & territory.rebel_side(self.control)).astype(np.float64)
        p_flee = flight.flight_probability(threat, self.d_regime, self.axis_w, ultimatum, fp.b0,
                                           fp.b_strike, b_front, fp.front_scale_km, fp.b_offer,
                                           self.dt_days)
        p_flee = np.where(territory.rebel_side(self.control), p_flee, 0.0)
        quiet = returns.quiet_towns(self.last_strike_day, w.dist_km, day, rp.quiet_days,
                                    rp.quiet_radius_km)
        p_ret = returns.return_probability(self.settled_mask(), quiet, rp.rate, self.dt_days)

        host, d_host = flight.choose_host(threat, w.dist_km, territory.rebel_side(self.control),
                                          fp.host_max_km, fp.host_threat_km)
        d_reg = np.where(np.isfinite(self.d_regime), self.d_regime, 1e3)
        dist = np.stack([self.d_jordan, self.d_golan, np.full(T, fp.fields_km), d_reg,
                         np.where(host >= 0, d_host, 1e3)], axis=1)
        available = np.ones((T, 5), dtype=bool)
        available[:, flight.D_REGIME] = self.params.regime.corridors_open
        available[:, flight.D_TOWN] = host >= 0
        asc = np.array([fp.asc_jordan_border, fp.asc_golan_frontier, fp.asc_fields,
                        fp.asc_regime_area, fp.asc_town])
        dest_threat = np.stack([np.full(T, zone_threat[0]), np.full(T, zone_threat[1]), threat,
                                np.zeros(T), threat[np.maximum(host, 0)]], axis=1)
        probs = flight.destination_probabilities(dist, available, dest_threat, asc, fp.c_dist,
                                                 fp.c_safe, fp.safety_scale)
        cum = np.cumsum(probs, axis=1)
        cum[:, -1] = 1.0
        dest_loc = np.empty((T, 5), dtype=np.int32)
        dest_loc[:, flight.D_JORDAN] = T + C.JORDAN
        dest_loc[:, flight.D_GOLAN] = T + C.GOLAN
        dest_loc[:, flight.D_FIELDS] = T + C.FIELDS
        dest_loc[:, flight.D_REGIME] = T + C.REGIME_AREA
        dest_loc[:, flight.D_TOWN] = np.where(host >= 0, host, T + C.FIELDS)
        ticks = flight.travel_ticks(dist, fp.speed_km_per_day, self.dt_days)
        civ = self.civilians
        new_disp = civ.flee_and_return(p_flee, p_ret, cum, dest_loc, ticks, self.tick)
        p_cross = 1.0 - math.exp(-fp.cross_rate * self.dt_days)
        if self.params.borders.jordan_open:
            civ.cross(C.JORDAN, C.CROSSED_JORDAN, p_cross, self.tick)
        if self.params.borders.golan_open:
            civ.cross(C.GOLAN, C.CROSSED_GOLAN, p_cross, self.tick)
        return new_disp

    # --- recording ------------------------------------------------------------------------
    def _record(self) -> None:
        civ = self.civilians
        T = self.world.n_towns
        counts = civ.counts_by_loc()
        self.present = counts[:T]
        at_home_by = civ.at_home_by_town()
        at_home = int(at_home_by.sum())
        alive = civ.initial - civ.dead
        zone = {k: int(counts[T + code]) for k, code in (
            ("jordan", C.JORDAN), ("golan", C.GOLAN), ("fields", C.FIELDS),
            ("regime", C.REGIME_AREA), ("evac", C.EVACUATED), ("cj", C.CROSSED_JORDAN),
            ("cg", C.CROSSED_GOLAN))}
        displaced = alive - at_home - zone["evac"] - zone["cj"] - zone["cg"]
        in_towns = displaced - zone["jordan"] - zone["golan"] - zone["fields"] - zone["regime"]
        ctl = self.control
        row = {
            "time": None, "day": self.day,
            "displaced_total": displaced,
            "displaced_jordan_border": zone["jordan"],
            "displaced_golan": zone["golan"],
            "displaced_other": displaced - zone["jordan"] - zone["golan"],
            "displaced_fields": zone["fields"],
            "displaced_towns": in_towns,
            "displaced_regime_area": zone["regime"],
            "crossed_to_jordan": zone["cj"],
            "crossed_to_golan": zone["cg"],
            "returned_cum": civ.returned,
            "evacuated_cum": zone["evac"],
            "civilian_deaths_cum": civ.dead,
            "strike_deaths_cum": civ.strike_dead,
            "exposure_deaths_cum": civ.exposure_dead,
            "alive": alive,
            "at_home": at_home,
            "towns_reconciled": int((ctl == Control.RECONCILED).sum()),
            "towns_captured": int(((ctl == Control.REGIME) & self.world.rebel0).sum()),
            "towns_rebel": int(territory.rebel_side(ctl).sum()),
            "towns_negotiating": int((ctl == Control.NEGOTIATING).sum()),
            "regime_share_area": territory.regime_share_area(ctl, self.world.area_km2),
            "area_handed_over_km2_cum": self.area_handed_over,
            "bombardment_intensity": float(self.intensity.sum()),
            "strikes": int(self.strikes.sum()),
            "negotiation_state": self.talks.state.value,
            "collapses": self.talks.collapses,
            "corridors_open": int(self.params.regime.corridors_open),
            # census localities of the towns that have fallen back to the regime (the article's
            # "towns": villages and towns, of which each model town stands for several)
            "localities_settled": int(self.world.localities[
                territory.regime_side(ctl) & self.world.rebel0].sum()),
        }
        for col, mask in self.region_columns.items():
            row[col] = territory.regime_share_area(ctl[mask], self.world.area_km2[mask])
        self.rows.append(row)
        self.datacollector.collect(self)
        if self.tick % self.ticks_per_day == 0:
            self.town_days.append((self.day, ctl.copy(), self.present.copy(), at_home_by,
                                   civ.away_by_home(), self.deaths_town.copy()))

    def run(self) -> None:
        """Run to the horizon."""
        while self.running and self.tick < self.n_ticks:
            self.step()
