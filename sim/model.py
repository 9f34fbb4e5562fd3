"""The Mesa model: wires the agents and the rules together, tick by tick. Nothing else.

One tick (``time.tick_hours`` long; events carry the tick's start time) is one call per phase of
docs/ODD.md section 3, in this order (:meth:`NegotiationModel.step`):

1. ``apply_interventions``: interventions due now are applied or undone;
2. ``update_front``: pockets and the front; the regime opens its next axis if it stalled;
3. ``negotiate``: the mediator's local offers and each bloc's comprehensive talks;
4. ``bombard``: the regime's strikes;
5. ``count_casualties``: strike and exposure deaths;
6. ``assault``: the regime advances on the ground;
7. ``broker_local_deals``: local deals open and sign; the buses of safe passage leave;
8. ``move_civilians``: households flee, travel, cross open borders and return;
9. ``accumulate_pain``: factions' pain, pooled per bloc into its talks;
10. ``record``: the tick's timeseries row (and the per-day town table).

The towns' state is one :class:`sim.agents.town.TownState` (arrays over towns) that only the
model writes; the agents read it and return what they decide. The clock is Mesa's step counter
in integer ticks (:mod:`sim.rules.clock`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import mesa
import numpy as np

from sim.agents import Civilians, Faction, Mediator, Regime, Town
from sim.agents.civilians import Hosts, Locations
from sim.agents.town import NEVER, TownState, TownTraits
from sim.errors import ScenarioError
from sim.rules import acceptance, bombardment, casualties, clock, evacuation, flight, offers, returns, siege, territory
from sim.rules import pockets as pocket_rule
from sim.rules import prelude as prelude_rule
from sim.rules.negotiation import (
    IllegalTransition,
    NegState,
    Talks,
    blocs_of,
    canonical_order,
    merge_terms,
)
from sim.rules.reconciliation import draw_thresholds
from sim.rules.territory import Control
from sim.scenario.loader import resolve_path
from sim.scenario.schema import ZONE_FLAG, Intervention, Scenario, get_param, is_zone_flag, set_param
from sim.scenario.targets import intervention_changes, resolve_targets
from sim.world.case import World, load_world

#: Timeseries columns every case writes, in order (all counts are persons). The case's zones
#: add theirs (:func:`timeseries_columns`): persons at each border and frontier after
#: ``displaced_total``, at fields after ``displaced_other``, in government-held areas and
#: sheltering after ``displaced_towns``, then those who crossed, then arrivals.
TIMESERIES_COLUMNS = (
    "time", "day", "displaced_total", "displaced_other", "displaced_towns", "returned_cum",
    "evacuated_cum", "civilian_deaths_cum", "strike_deaths_cum", "exposure_deaths_cum", "alive",
    "at_home", "towns_reconciled", "towns_captured", "towns_rebel", "towns_negotiating",
    "regime_share_area", "area_handed_over_km2_cum", "bombardment_intensity", "strikes",
    "negotiation_state", "collapses", "corridors_open", "pockets", "localities_settled",
)
EVENT_COLUMNS = ("time", "day", "kind", "actor", "target", "detail", "value")


def bloc_state_column(bloc: str) -> str:
    """The timeseries column of one bloc's talks (written when there are several blocs)."""
    return f"negotiation_state_{territory.slug(bloc)}"


def timeseries_columns(world: World, blocs: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The timeseries columns of a case, in order: the generic ones with the zones' columns
    in their places, then one ``regime_share_<governorate>`` per governorate, then (with
    several negotiating blocs) each bloc's talks state."""
    zs = world.zones
    closable = [z.column for z in zs if z.closable]
    fields = [z.column for z in zs if z.kind == "fields"]
    after_towns = [z.column for z in zs if z.kind in ("government", "shelter")]
    crossed = [z.crossed_column for z in zs if z.crossed_column]
    arrived = [z.arrived_column for z in zs if z.arrived_column]
    base = list(TIMESERIES_COLUMNS)
    cols = (base[:3] + closable + ["displaced_other"] + fields + ["displaced_towns"] + after_towns
            + crossed + base[5:] + arrived)
    regions = [f"regime_share_{territory.slug(g)}" for g in dict.fromkeys(world.governorate)]
    states = [bloc_state_column(b) for b in blocs] if len(blocs) > 1 else []
    return (*cols, *regions, *states)


def load_case(scenario: Scenario) -> World:
    """Load the case world named by a scenario's ``[world]`` table (and check that the
    case's outcomes read columns its runs write)."""
    from sim.outcomes import check_outcome_series

    w = scenario.world
    out = resolve_path(scenario, w.outcomes_file) if w.outcomes_file.strip() else None
    world = load_world(resolve_path(scenario, w.towns_file),
                       resolve_path(scenario, w.subdistricts_file),
                       resolve_path(scenario, w.zones_file),
                       {f.name for f in scenario.factions},
                       resolve_path(scenario, w.borders_file) if w.borders_file.strip() else None,
                       out)
    if out is not None:
        check_outcome_series(world.outcomes, timeseries_columns(world), out)
    return world


@dataclass
class _Scheduled:
    """An intervention on the model's clock: due at tick ``start`` (None: waiting for its
    ``after`` event), undone at tick ``until`` (None: never)."""

    spec: Intervention
    start: int | None
    until: int | None
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
        self.dt_days = clock.tick_day(1, tp.tick_hours)  # tick_hours / 24
        self.n_ticks = int(round(tp.horizon_days / self.dt_days))
        self.ticks_per_day = clock.ticks_per_day(tp.tick_hours)
        self._stepping = False  # inside step(): the clock reads the tick being simulated
        self._prelude_tick: int | None = None  # before day 0: the prelude's tick (negative)
        T = w.n_towns

        # Factions in a canonical order (strongest first, then by name): outputs must not
        # depend on the order a scenario lists them in (random draws are made in this order).
        specs = canonical_order(self.params.factions)
        fac_names = [f.name for f in specs]
        faction_idx = np.array([fac_names.index(f) if f in fac_names else -1
                                for f in w.faction], dtype=np.int64)
        rebel0 = w.rebel0
        # a town is negotiable if its holder negotiates and no faction present refuses talks
        # (a refuser present keeps the town out of every deal: sim/rules/negotiation.py)
        refuses = {f.name for f in specs if f.kind == "refuses_talks"}
        present = w.also_present or ((),) * T
        negotiable = np.array([rebel0[i] and faction_idx[i] >= 0
                               and specs[faction_idx[i]].kind != "refuses_talks"
                               and not refuses.intersection(present[i])
                               for i in range(T)])
        # Negotiating blocs (sim/rules/negotiation.py): one Talks each; the first (the bloc of
        # the strongest negotiating faction) is ``talks``, whose state the timeseries records.
        self.blocs = blocs_of(specs)
        self.bloc_names = tuple(name for name, _ in self.blocs)
        fac_bloc = {k: b for b, (_, ks) in enumerate(self.blocs) for k in ks}
        rp = self.params.reconciliation
        self.traits = TownTraits(
            faction=faction_idx,
            negotiable=negotiable,
            committee=np.array([s != "border_crossing" for s in w.strategic]),
            hardliners=np.array([specs[k].hardliner_share if k >= 0 else 0.0
                                 for k in faction_idx]),
            defence=np.array([specs[k].defence if k >= 0 else 1.0 for k in faction_idx]),
            strategic=np.array([s != "none" for s in w.strategic], dtype=np.float64),
            neighbours=(w.dist_km < self.params.world.neighbour_km) & ~np.eye(T, dtype=bool),
            theta=draw_thresholds(T, rp.theta_mean, rp.theta_sd, self.rng),
            bloc=np.array([fac_bloc.get(int(k), -1) if negotiable[i] else -1
                           for i, k in enumerate(faction_idx)], dtype=np.int64))
        self.n_negotiable0 = max(int(negotiable.sum()), 1)
        self.bloc_towns0 = [max(int((self.traits.bloc == b).sum()), 1)
                            for b in range(len(self.blocs))]
        clash = sorted(set(self.bloc_names) & set(w.town_id))
        if clash:  # a bloc's events name it as actor, as a town's do: they must differ
            raise ScenarioError(f"bloc {clash[0]!r} has the id of a town", field="factions.bloc",
                                fix="name the bloc after its faction or pocket, not a town id")
        self.last_progress_tick = 0  # last tick a town changed hands (the offensive's progress)
        self.area_handed_over = 0.0
        self.events: list[tuple[float, str, str, str, str, float]] = []
        self.triggered: set[str] = set()

        # Agents: the few actors are Mesa agents; civilians are one agent holding arrays.
        pop = np.where(rebel0, np.round(w.population * self.params.world.population_scale),
                       0).astype(np.int64)
        self.loc = Locations.of(w)
        self.civilians = Civilians(self, pop, self.params.world.household_size_mean, self.loc)
        self.state = TownState.initial(
            np.where(rebel0, Control.REBEL, Control.REGIME).astype(np.int8),
            self.civilians.counts_by_loc()[:T])
        self.towns = [Town(self, i) for i in range(T)]
        self.factions = [Faction(self, spec, k) for k, spec in enumerate(specs)]
        self.regime = Regime(self)
        self.mediator = Mediator(self)
        self.bloc_factions = [[self.factions[k] for k in ks] for _, ks in self.blocs]
        for b, (_, ks) in enumerate(self.blocs):
            for k in ks:
                self.factions[k].bloc = b
        self.talks_by_bloc = [Talks(terms=self.mediator.base_terms()) for _ in self.blocs]
        self.talks = self.talks_by_bloc[0]
        self.n_pockets = 1
        self._pocket_key = b""
        self.buses = evacuation.Buses()  # those leaving under safe passage, waiting for seats
        targets = resolve_targets(self.params, self.world)
        self.schedule_iv = [_Scheduled(iv, None if iv.day is None else self.due(iv.day),
                                       None if iv.until_day is None else self.due(iv.until_day),
                                       idx)
                            for iv, idx in zip(self.params.interventions, targets, strict=True)]
        self._iv_order: list[_Scheduled] = []  # interventions in the order they took effect
        self._iv_base: dict[str, Any] = {}     # parameter -> its value before any intervention

        # Static distance tables (computed once per run): to each destination zone of a fixed
        # reach (a border line or a point), and from the closable zones' points to the towns
        # (the strike threat felt where people wait).
        self.dest_zones = w.destination_zones
        self.closable = w.closable_zones
        self.d_zone = {z.id: w.zone_distance_km(z.id) for z in self.dest_zones
                       if z.reach in ("line", "point")}
        self.d_zone_town = np.vstack([w.zone_point_distance_km(z.id) for z in self.closable]) \
            if self.closable else np.zeros((0, T))
        self.fallback = siege.fallback_location(w, self.loc)
        self.sheltering = 0
        self._kernel: tuple[float, np.ndarray | None, np.ndarray | None] = (math.nan, None, None)
        #: travel ticks between towns at the households' speed (computed once; again if it changes)
        self._town_ticks: tuple[float, np.ndarray] = (math.nan, np.zeros((0, 0), dtype=np.int32))

        self.prelude()
        #: per-governorate regime share columns, e.g. ``regime_share_daraa`` (from the case data)
        self.region_columns = {f"regime_share_{territory.slug(g)}": np.array(
            [gv == g for gv in w.governorate]) for g in dict.fromkeys(w.governorate)}
        self.timeseries_columns = timeseries_columns(w, self.bloc_names)
        self.rows: list[dict[str, Any]] = []
        self.town_days: list[tuple[float, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                   np.ndarray]] = []
        self.record()

    # --- the clock (integer ticks: sim/rules/clock.py) ------------------------------------
    @property
    def tick(self) -> int:
        """The clock, Mesa's step counter: between steps, the ticks done (the time of the last
        record); during a step, the tick being simulated (Mesa counts a step as it starts)."""
        if self._prelude_tick is not None:
            return self._prelude_tick
        return self.steps - 1 if self._stepping else self.steps

    @property
    def day(self) -> float:
        """The clock in days (the start of the current tick; for records and events)."""
        return clock.tick_day(self.tick, self.params.time.tick_hours)

    def due(self, day: float) -> int:
        """The first tick starting at or after ``day`` (a date in days)."""
        return clock.due_tick(day, self.params.time.tick_hours)

    def ticks(self, days: float) -> int:
        """Whole ticks covering a span of ``days``."""
        return clock.days_to_ticks(days, self.params.time.tick_hours)

    def ticks_h(self, hours: float) -> int:
        """Whole ticks covering a span of ``hours``."""
        return clock.delay_ticks(hours, self.params.time.tick_hours)

    # --- read-only views of the towns' state for observers (tests, the browser app) ---------
    @property
    def control(self) -> np.ndarray:
        """Each town's controller (the state's array itself)."""
        return self.state.control

    @property
    def present(self) -> np.ndarray:
        """Persons present in each town, as of the last record."""
        return self.state.present

    @property
    def intensity(self) -> np.ndarray:
        """Strike intensity on each town this tick."""
        return self.state.intensity

    @property
    def strikes(self) -> np.ndarray:
        """Strikes on each town this tick."""
        return self.state.strikes

    @property
    def deaths_town(self) -> np.ndarray:
        """Civilians killed in strikes in each town since day 0."""
        return self.state.deaths

    @property
    def offered(self) -> np.ndarray:
        """Towns holding the mediator's local terms."""
        return self.state.offered

    @property
    def ceasefire_windows(self) -> np.ndarray:
        """Open ceasefire windows covering each town."""
        return self.state.ceasefire_windows

    @property
    def d_regime(self) -> np.ndarray:
        """Each town's distance (km) to the nearest regime-side town (inf: none)."""
        return self.state.d_regime

    @property
    def axis_w(self) -> np.ndarray:
        """Weight of the open offensive axes at each town."""
        return self.state.axis_w

    @property
    def front_w(self) -> np.ndarray:
        """Weight of the open axes at each town on the front (0 off it)."""
        return self.state.front_w

    @property
    def theta(self) -> np.ndarray:
        """Each town committee's settlement threshold."""
        return self.traits.theta

    @property
    def town_bloc(self) -> np.ndarray:
        """Each town's negotiating bloc (-1: none)."""
        return self.traits.bloc

    @property
    def local_deal_day(self) -> np.ndarray:
        """Day each town's local talks sign (inf: none under way)."""
        t = self.state.local_deal_tick
        return np.where(t == NEVER, np.inf, t * self.dt_days)

    @property
    def last_strike_day(self) -> np.ndarray:
        """Day of each town's last strike (-inf: never struck)."""
        return self.state.last_strike_tick * self.dt_days

    # --- helpers used by agents -----------------------------------------------------------
    def log(self, kind: str, actor: str, target: str, detail: str = "",
            value: float = math.nan) -> None:
        """Record a discrete event at the start of the current tick, with its numeric
        ``value`` (deaths, km², persons, strikes; NaN when it has none)."""
        self.events.append((self.day, kind, actor, target, detail, value))

    def settled_mask(self) -> np.ndarray:
        return territory.regime_side(self.state.control)

    def settled_share(self) -> float:
        """Share of the day-0 negotiable rebel towns now under regime control."""
        return float((self.settled_mask() & self.traits.negotiable).sum()) / self.n_negotiable0

    def rebel_negotiable_towns(self, bloc: int | None = None) -> np.ndarray:
        """Rebel-held towns whose faction negotiates (of one bloc if given)."""
        mask = territory.rebel_side(self.state.control) & self.traits.negotiable
        if bloc is not None:
            mask &= self.traits.bloc == bloc
        return np.flatnonzero(mask)

    def bloc_settled_share(self, bloc: int) -> float:
        """Share of a bloc's day-0 negotiable towns now under regime control."""
        mine = self.traits.negotiable & (self.traits.bloc == bloc)
        return float((self.settled_mask() & mine).sum()) / self.bloc_towns0[bloc]

    def bloc_states(self) -> list[NegState]:
        return [t.state for t in self.talks_by_bloc]

    def set_control(self, i: int, new: Control, kind: str, actor: str, detail: str) -> None:
        """Change a town's controller along a legal transition and log what it means."""
        control = self.state.control
        old = int(control[i])
        if not territory.legal_control_change(old, int(new)):
            raise IllegalTransition(f"town {self.world.town_id[i]}: "
                                    f"{Control(old).name} -> {Control(new).name}")
        control[i] = new
        if new >= Control.RECONCILED:
            self.last_progress_tick = self.tick
        tid = self.world.town_id[i]
        self.log(kind, actor, tid, detail)
        if new == Control.RECONCILED:
            km2 = float(self.world.area_km2[i])
            self.area_handed_over += km2
            self.log("area_handed_over", tid, "regime", f"{km2:.1f} km2 without a fight", km2)
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
                s.start = self.tick + self.ticks_h(s.spec.delay_hours)

    # --- the tick: one call per phase of docs/ODD.md section 3 ------------------------------
    def step(self) -> None:
        self._stepping = True  # Mesa has counted this step: self.tick is the one simulated
        try:
            if self.tick >= self.n_ticks:
                self.running = False
                return
            self.apply_interventions()
            self.update_front()
            self.negotiate()
            self.bombard()
            self.count_casualties()
            self.assault()
            self.broker_local_deals()
            self.move_civilians()
            self.accumulate_pain()
        finally:
            self._stepping = False  # the tick is done (or failed): the clock reads its end
        self.record()
        if self.tick >= self.n_ticks:
            self.running = False

    def prelude(self) -> None:
        """Phase 0, before day 0 (:mod:`sim.rules.prelude`): for each tick from the earliest axis
        the plan dates before day 0, the flight of civilians, with the front refreshed when an
        axis opens; nothing else happens and nothing is recorded. Then the front as of day 0."""
        opens = set(self.regime.axis_from)
        for t in prelude_rule.prelude_clock(prelude_rule.prelude_ticks(self.regime.axis_from)):
            self._prelude_tick = t
            if t in opens:  # the front moves only when an axis opens (nothing else changes)
                self._refresh_front()
            self.move_civilians()
        self._prelude_tick = None
        self._refresh_front()

    def apply_interventions(self) -> None:
        """Phase 1: the tick's bus seats are renewed; interventions due now are applied (their
        parameters set, ceasefire windows opened, towns handed over) or undone; the terms on
        the table take any better terms an intervention set (:func:`merge_terms`)."""
        self.buses.new_tick(self.params.mediator.bus_capacity_per_day, self.dt_days)
        changed = False
        now = self.tick
        for s in self.schedule_iv:
            spec = s.spec
            if not s.applied and s.start is not None and now >= s.start:
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
                    self.state.ceasefire_windows[s.towns] += 1
                elif spec.action == "handover":
                    for i in s.towns:
                        if territory.rebel_side(self.state.control)[i]:
                            self.mediator.settle_town(int(i), "imposed")
            if s.applied and not s.undone and s.until is not None and now >= s.until:
                s.undone = changed = True
                for path in s.old:
                    set_param(self.params, path, self._value_in_force(path))
                if spec.action == "ceasefire":
                    self.state.ceasefire_windows[s.towns] -= 1
                self.log("intervention_ended", "scenario", self._iv_target(s),
                         spec.description or "")
        if changed:
            base = self.mediator.base_terms()
            for talks in self.talks_by_bloc:
                talks.terms = merge_terms(base, talks.terms)

    def update_front(self) -> None:
        """Phase 2: pockets and the front; the regime opens its next axis if its offensive has
        stalled (:mod:`sim.rules.offensive`), and the front follows."""
        self._refresh_front()
        axis = self.regime.plan()
        if axis is not None:  # a new axis moves the front's weights (nothing else changed)
            self.regime.auto_axes.append((axis, self.tick))
            self.log("axis_opened", "regime", self.world.town_id[axis], "the offensive moves on")
            self._refresh_front()

    def negotiate(self) -> None:
        """Phase 3: the mediator presents local terms to the towns the offensive has reached and
        advances each bloc's comprehensive talks."""
        new = self.mediator.make_offers()
        for i in np.flatnonzero(new):
            self.state.offered[i] = True
            self.log("local_offer", "mediator", self.world.town_id[i], "local terms offered")
        self.mediator.negotiate(self.day)

    def bombard(self) -> None:
        """Phase 4: the regime sets each town's strike intensity and draws its strikes."""
        st = self.state
        st.intensity, st.strikes = self.regime.bombard()
        for i in np.flatnonzero(st.strikes):
            self.log("strike", "regime", self.world.town_id[i], f"{int(st.strikes[i])} strikes",
                     float(st.strikes[i]))
        st.strikes_cum += st.strikes
        st.last_strike_tick[st.strikes > 0] = self.tick

    def count_casualties(self) -> None:
        """Phase 5: strike deaths where people are, exposure deaths at the closable zones
        (:mod:`sim.rules.casualties`)."""
        cp = self.params.casualties
        T = self.world.n_towns
        civ = self.civilians
        # a population scaled down (world.population_scale) is a sample of the whole: a strike
        # kills that share of the persons it would kill at full scale
        lethality, shelter_half = casualties.scaled_strike_lethality(
            cp.lethality, cp.shelter_half, self.params.world.population_scale)
        aid = casualties.aid_level(cp.aid_through_hostilities, self.mediator.all_settled())
        codes = [self.loc.zone[z.id] for z in self.closable]
        deaths = casualties.draw_tick_deaths(self.state.strikes, civ.counts_by_loc(), codes,
                                             lethality, shelter_half, cp.exposure_rate,
                                             cp.heat_factor, aid, cp.aid_relief, self.dt_days,
                                             self.rng)
        applied = civ.kill(deaths)
        strike, exposure = casualties.split_deaths(applied, T)
        civ.strike_dead += strike
        civ.exposure_dead += exposure
        self.state.new_deaths = applied[:T]
        self.state.deaths += applied[:T]
        for i in np.flatnonzero(applied[:T]):
            self.log("casualties", "regime", self.world.town_id[i],
                     f"{int(applied[i])} civilians killed in strikes", float(applied[i]))
        for z, code in zip(self.closable, codes, strict=True):
            if applied[code]:
                self.log("casualties", "exposure", z.id,
                         f"{int(applied[code])} died of exposure at the border", float(applied[code]))

    def assault(self) -> None:
        """Phase 6: ground assaults on the front; the towns that fall are captured."""
        for i in self.regime.advance():
            self.set_control(i, Control.REGIME, "town_captured", "regime", "by force")
        if self.state.control.tobytes() != self._pocket_key:  # towns fell since the last refresh
            self._refresh_front()

    def broker_local_deals(self) -> None:
        """Phase 7: local talks sign and open (:mod:`sim.rules.reconciliation`); the buses of
        safe passage carry those waiting (:mod:`sim.rules.evacuation`)."""
        self.mediator.broker_local_deals()
        self.mediator.run_buses()

    def open_local_talks(self, i: int) -> None:
        """A town's committee opens local talks; its deal signs ``mediator.local_talks_hours``
        later."""
        self.set_control(i, Control.NEGOTIATING, "talks_opened", "mediator",
                         "local reconciliation talks")
        self.state.local_deal_tick[i] = self.tick + self.ticks_h(
            self.params.mediator.local_talks_hours)

    def move_civilians(self) -> None:
        """Phase 8: households flee (or shelter in place), travel, cross open borders and return
        (:mod:`sim.rules.flight`, :mod:`sim.rules.siege`, :mod:`sim.rules.returns`)."""
        fp, rp = self.params.flight, self.params.returns
        w, st = self.world, self.state
        if self._kernel[0] != fp.kernel_km:  # once per run; again if an intervention changes it
            self._kernel = (fp.kernel_km, bombardment.distance_kernel(w.dist_km, fp.kernel_km),
                            bombardment.distance_kernel(self.d_zone_town, fp.kernel_km))
        _, kernel, zone_kernel = self._kernel
        assert kernel is not None and zone_kernel is not None
        rebel = territory.rebel_side(st.control)
        threat = bombardment.local_intensity(st.intensity, kernel)
        zone_threat = bombardment.local_intensity(st.intensity, zone_kernel)
        p_flee = flight.flight_probability(
            threat, st.d_regime, st.axis_w, offers.under_ultimatum(st.offered, rebel), fp.b0,
            fp.b_strike, flight.front_coefficient(fp.b_front, self.params.regime.ground_capacity),
            fp.front_scale_km, fp.b_offer, self.dt_days)
        p_flee = np.where(rebel, p_flee, 0.0)
        quiet = returns.quiet_towns(st.last_strike_tick, w.dist_km, self.tick,
                                    self.ticks(rp.quiet_days), rp.quiet_radius_km)
        p_ret = returns.return_probability(self.settled_mask(), quiet, rp.rate, self.dt_days)

        civ = self.civilians
        room = flight.host_room(civ.residents, civ.count_loc[:w.n_towns], fp.host_room)
        cost = flight.host_costs(threat, w.dist_km, rebel & (room > 0), fp.host_max_km,
                                 fp.host_threat_km,
                                 pocket_rule.same_pocket(st.pocket, self.params.world.pockets))
        host, d_host = flight.cheapest_host(cost, w.dist_km)
        dist, available, dest_threat, asc, dest_loc = siege.destinations(
            self.dest_zones, self.loc, self.d_zone, st.d_regime, host, d_host, threat,
            zone_threat, self.fallback, fp, self.params.regime.corridors_open)
        probs = flight.destination_probabilities(dist, available, dest_threat, asc, fp.c_dist,
                                                 fp.c_safe, fp.safety_scale)
        cum, nowhere = flight.cumulative_choices(probs)
        ticks = flight.travel_ticks(dist, fp.speed_km_per_day, self.dt_days)
        if self._town_ticks[0] != fp.speed_km_per_day:  # once; again if an intervention changes it
            self._town_ticks = (fp.speed_km_per_day,
                                flight.travel_ticks(w.dist_km, fp.speed_km_per_day, self.dt_days))
        st.new_displaced = civ.flee_and_return(p_flee, p_ret, cum, dest_loc, ticks, self.tick,
                                               Hosts(room, cost, self._town_ticks[1]))
        self.sheltering = int(civ.home_at[nowhere & (p_flee > 0)].sum())
        p_cross = flight.crossing_probability(fp.cross_rate, self.dt_days)
        for z in self.closable:
            if z.id in self.params.borders.open:
                civ.cross(self.loc.zone[z.id], self.loc.crossed[z.id], p_cross, self.tick)

    def accumulate_pain(self) -> None:
        """Phase 9: each faction's pain from this tick's strikes, deaths and displacement in
        its towns; each bloc's talks in escalation feel the strength-weighted mean
        (:func:`sim.rules.acceptance.bloc_pain`)."""
        st = self.state
        incs = [f.suffer(float(st.strikes[f.towns].sum()), float(st.new_deaths[f.towns].sum()),
                         float(st.new_displaced[f.towns].sum())) for f in self.factions]
        pooled = acceptance.bloc_pain(incs, [f.spec.strength for f in self.factions],
                                      [f.bloc for f in self.factions], len(self.blocs))
        for talks, pain in zip(self.talks_by_bloc, pooled, strict=True):
            if talks.state == NegState.ESCALATION and pain is not None:
                talks.pain_since_collapse += pain

    # --- helpers of the phases ------------------------------------------------------------
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
        for path, value in changes.items():
            if is_zone_flag(path) and value is True:
                z = self.world.zone(path[len(ZONE_FLAG):])
                self.log("border_opened", "border", z.id, f"{z.name} opens")
        if changes.get("regime.corridors_open") is True:
            self.log("corridors_opened", "regime", "regime_area",
                     "corridors into government-held areas open")

    def _update_pockets(self) -> None:
        """Recompute the pockets when control has changed (only for an enclave: world.pockets)."""
        control = self.state.control
        key = control.tobytes()
        if key == self._pocket_key:
            return
        self._pocket_key = key
        rebel = territory.rebel_side(control)
        if not self.params.world.pockets:
            self.n_pockets = int(rebel.any())
            return
        self.state.pocket = pocket_rule.pocket_labels(rebel, territory.regime_side(control),
                                                      self.world.dist_km,
                                                      self.params.world.pocket_km)
        n = pocket_rule.count(self.state.pocket)
        if n > self.n_pockets and self.tick > 0:
            self.log("pockets_split", "regime", "area", f"the rebel-held area is now {n} pockets",
                     float(n))
        self.n_pockets = n

    def _refresh_front(self) -> None:
        """Pockets, then the front's geometry: distance to regime-side ground, front towns, the
        open axes' weight."""
        p = self.params.regime
        st = self.state
        self._update_pockets()
        st.d_regime = territory.distance_to_regime(st.control, self.world.dist_km)
        st.on_front = territory.rebel_side(st.control) & (st.d_regime <= p.front_km)
        st.axis_w = self.regime.axis()
        st.front_w = st.on_front * st.axis_w

    # --- recording ------------------------------------------------------------------------
    def record(self) -> None:
        """Phase 10: the tick's timeseries row (and, at each day's start, the town table)."""
        civ = self.civilians
        T = self.world.n_towns
        counts = civ.counts_by_loc()
        self.state.present = counts[:T]
        at_home_by = civ.at_home_by_town()
        at_home = int(at_home_by.sum())
        alive = civ.initial - civ.dead
        lc = self.loc
        at_zone = {z.column: int(counts[lc.zone[z.id]]) for z in self.dest_zones}
        evac = int(counts[lc.exit0])
        crossed = {z.crossed_column: int(counts[lc.crossed[z.id]]) for z in self.closable
                   if z.crossed_column}  # every closable zone has one (sim/world/case.py)
        displaced = alive - at_home - evac - sum(crossed.values())
        at_closable = sum(at_zone[z.column] for z in self.closable)
        ctl = self.state.control
        row: dict[str, Any] = {
            "time": None, "day": self.day,
            "displaced_total": displaced,
            **{z.column: at_zone[z.column] for z in self.closable},
            "displaced_other": displaced - at_closable,
            **{z.column: at_zone[z.column] for z in self.dest_zones if z.kind == "fields"},
            "displaced_towns": displaced - sum(at_zone.values()),
            **{z.column: (self.sheltering if z.kind == "shelter" else at_zone[z.column])
               for z in self.world.zones if z.kind in ("government", "shelter")},
            **crossed,
            "returned_cum": civ.returned,
            "evacuated_cum": evac,
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
            "bombardment_intensity": float(self.state.intensity.sum()),
            "strikes": int(self.state.strikes.sum()),
            "negotiation_state": self.talks.state.value,
            "collapses": sum(t.collapses for t in self.talks_by_bloc),
            "pockets": self.n_pockets,
            "corridors_open": int(self.params.regime.corridors_open),
            # census localities of the towns that have fallen back to the regime (the article's
            # "towns": villages and towns, of which each model town stands for several)
            "localities_settled": int(self.world.localities[
                territory.regime_side(ctl) & self.world.rebel0].sum()),
            **{z.arrived_column: int(civ.arrived_loc[lc.zone[z.id]]) for z in self.dest_zones
               if z.arrived_column},
        }
        if len(self.blocs) > 1:
            for name, talks in zip(self.bloc_names, self.talks_by_bloc, strict=True):
                row[bloc_state_column(name)] = talks.state.value
        for col, mask in self.region_columns.items():
            row[col] = territory.regime_share_area(ctl[mask], self.world.area_km2[mask])
        self.rows.append(row)
        if self.tick % self.ticks_per_day == 0:
            self.town_days.append((self.day, ctl.copy(), self.state.present.copy(), at_home_by,
                                   civ.away_by_home(), self.state.deaths.copy()))

    def run(self) -> None:
        """Run to the horizon."""
        while self.running and self.tick < self.n_ticks:
            self.step()
