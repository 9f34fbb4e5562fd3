"""Causality: effects only where their causes are (strikes, open borders, safe passage, calm)."""

from __future__ import annotations

import numpy as np
from hypothesis import example, given

from sim.rules.territory import Control, regime_side
from sim.scenario.schema import Scenario
from tests.properties.harness import Snap, run_checked
from tests.strategies import scenarios, seeds


@given(scenarios(fixed={"regime.bombardment_capacity": 0.0}), seeds())
def test_no_strike_deaths_when_bombardment_capacity_is_zero(sc, seed):
    def check(m, before: Snap, after: Snap) -> None:
        assert (m.strikes == 0).all() and (m.intensity == 0).all()
        assert after.strike_dead == before.strike_dead == 0
        assert not [e for e in m.events[before.n_events:] if e[1] == "strike"
                    or (e[1] == "casualties" and e[2] == "regime")]

    run_checked(sc, seed, check)


@given(scenarios(), seeds())
def test_nobody_crosses_a_closed_border(sc, seed):
    def check(m, before: Snap, after: Snap) -> None:
        # interventions are applied at the start of a tick: params now are the tick's params
        for z in m.world.closable_zones:
            code, exit_code = m.loc.zone[z.id], m.loc.crossed[z.id]
            if z.id not in m.params.borders.open:
                assert after.crossed[exit_code] == before.crossed[exit_code]
            # only people who had reached the border zone cross, into the country behind it
            crossed = (after.loc == exit_code) & (before.loc != exit_code)
            assert (before.loc[crossed] == code).all()

    run_checked(sc, seed, check)


@given(scenarios(), seeds())
def test_no_evacuations_without_safe_passage(sc, seed):
    offered = {"ever": False}

    def check(m, before: Snap, after: Snap) -> None:
        T = m.world.n_towns
        offered["ever"] |= m.params.mediator.safe_passage or any(
            t.terms.safe_passage for t in m.talks_by_bloc)
        evac = (after.loc == m.loc.exit0) & (before.loc != m.loc.exit0)
        if not offered["ever"]:
            assert after.evacuated == before.evacuated
            assert not evac.any()
        # evacuees leave by bus from towns that have signed a deal (waiting for seats since)
        from_towns = before.loc[evac]
        assert (from_towns < T).all()
        assert (after.control[from_towns] == Control.RECONCILED).all()
        # the buses never carry more than their capacity in a tick (whole households: at most
        # one household's size over it)
        cap = m.params.mediator.bus_capacity_per_day * m.dt_days
        assert after.evacuated - before.evacuated <= cap + T * int(m.civilians.size.max(initial=0))

    run_checked(sc, seed, check)


@given(scenarios(), seeds())
# regression: with quiet_days = 0 people returned in the very tick a strike fell near home
@example(Scenario(world={"population_scale": 0.01}, time={"horizon_days": 20},
                  returns={"quiet_days": 0.0, "quiet_radius_km": 100.0, "rate": 24.0}), 1)
def test_nobody_returns_to_a_town_still_under_bombardment(sc, seed):
    def check(m, before: Snap, after: Snap) -> None:
        civ, rp = m.civilians, m.params.returns
        back = (before.loc != civ.home) & (after.loc == civ.home) & (after.size > 0)
        homes = np.unique(civ.home[back])
        if not len(homes):
            return
        assert regime_side(after.control[homes]).all()
        near = m.world.dist_km[homes] <= rp.quiet_radius_km
        latest = np.where(near, after.last_strike_day[None, :], -np.inf).max(axis=1)
        # no strike near home in this tick, nor in the last quiet_days
        assert (latest < before.day).all(), (homes, latest, before.day)
        assert (before.day - latest >= rp.quiet_days).all()

    run_checked(sc, seed, check)


@given(scenarios(), seeds())
def test_strike_deaths_only_in_towns_struck_this_tick(sc, seed):
    """Deaths recounted from the households that shrank, by the town they were in (the tick's
    deaths come before its moves): none in a town not struck this tick."""

    def check(m, before: Snap, after: Snap) -> None:
        T = m.world.n_towns
        died = before.size.astype(np.int64) - after.size
        in_town = before.loc < T
        by_town = np.bincount(before.loc[in_town], weights=died[in_town], minlength=T)
        assert (by_town[m.strikes == 0] == 0).all(), np.flatnonzero(by_town[m.strikes == 0])

    run_checked(sc, seed, check)


@given(scenarios(), seeds())
def test_regime_held_towns_are_never_bombed(sc, seed):
    def check(m, before: Snap, after: Snap) -> None:
        held = regime_side(before.control)  # bombing happens before this tick's captures
        assert (m.intensity[held] == 0).all() and (m.strikes[held] == 0).all()

    run_checked(sc, seed, check)


@given(scenarios(), seeds())
def test_people_who_left_the_area_never_come_back(sc, seed):
    def check(m, before: Snap, after: Snap) -> None:
        gone = before.loc >= m.civilians.exit0
        assert (after.loc[gone] == before.loc[gone]).all()

    run_checked(sc, seed, check)


@given(scenarios(), seeds())
def test_towns_under_ceasefire_are_never_struck_or_taken_by_force(sc, seed):
    def check(m, before: Snap, after: Snap) -> None:
        protected = m.ceasefire_windows > 0  # windows open or close at the start of a tick
        assert (m.strikes[protected] == 0).all() and (m.intensity[protected] == 0).all()
        taken = protected & (after.control == Control.REGIME) & (before.control != Control.REGIME)
        assert not taken.any(), [m.world.town_id[i] for i in np.flatnonzero(taken)]

    run_checked(sc, seed, check)


@given(scenarios(), seeds())
def test_no_local_deal_before_the_town_was_offered_terms(sc, seed):
    offered_day: dict[str, float] = {}

    def check(m, before: Snap, after: Snap) -> None:
        for day, kind, _actor, target, _detail, _value in m.events[before.n_events:]:
            if kind == "local_offer":
                assert day >= m.params.mediator.offers_from_day
                assert target not in offered_day  # a town is offered once
                offered_day[target] = day
            elif kind == "local_deal":
                town = _actor
                assert town in offered_day and offered_day[town] <= day, (town, day)
        # local talks only where terms were offered
        negotiating = after.control == Control.NEGOTIATING
        local = negotiating & ~np.isinf(m.local_deal_day)
        assert m.offered[local].all()

    run_checked(sc, seed, check)


@given(scenarios(), seeds())
def test_nobody_reaches_government_areas_while_the_corridors_are_closed(sc, seed):
    def check(m, before: Snap, after: Snap) -> None:
        codes = [m.loc.zone[z.id] for z in m.world.zones_of("government")]
        arrived = np.isin(after.loc, codes) & ~np.isin(before.loc, codes)
        if not m.params.regime.corridors_open:
            assert not arrived.any()

    run_checked(sc, seed, check)


@given(scenarios(), seeds())
def test_the_offensive_moves_on_only_after_the_plan_and_never_during_talks(sc, seed):
    from sim.agents.regime import CONTINUE_IN

    def check(m, before: Snap, after: Snap) -> None:
        opened = [e for e in m.events[before.n_events:] if e[1] == "axis_opened"]
        if not opened:
            return
        p = m.params.regime
        assert p.continue_offensive and p.ground_capacity > 0
        last_plan = max((a.from_day for a in p.axes), default=0.0)
        for day, *_ in opened:
            assert day >= last_plan
        # the decision is taken before this tick's talks move: no bloc at the table, or (in an
        # enclave split into pockets) not the new focus' own bloc
        if not m.params.world.pockets:
            assert all(st in CONTINUE_IN for st in before.states)
        else:
            for _day, _kind, _actor, target, *_ in opened:  # never at a town whose bloc talks
                b = int(m.town_bloc[m.world.town_id.index(target)])
                assert b < 0 or before.states[b] in CONTINUE_IN
        focus = [i for i, _ in m.regime.auto_axes]
        assert len(focus) == len(set(focus))  # never twice at the same town

    run_checked(sc, seed, check)
