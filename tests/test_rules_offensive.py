"""The offensive's rules: axes (a Gaussian reach), the continuation, offers, per-town levels,
and the offensive going on until every rebel area is taken or settled."""

from __future__ import annotations

import numpy as np
import pytest

from sim.rules import escalation, offensive, offers
from sim.rules.negotiation import NegState
from sim.run import simulate
from sim.scenario.schema import Scenario


def test_axis_weight_is_full_at_the_focus_and_fades_beyond_the_radius():
    d = np.array([0.0, 10.0, 20.0, 40.0])
    w = offensive.axis_weight([d], [10.0], [1.0], 4)
    assert w[0] == pytest.approx(1.0)
    assert w[1] == pytest.approx(np.exp(-1.0))
    assert w[3] < 1e-6
    assert (np.diff(w) < 0).all()


def test_axis_weight_takes_the_strongest_open_axis_and_is_zero_with_none():
    a, b = np.array([0.0, 30.0]), np.array([30.0, 0.0])
    w = offensive.axis_weight([a, b], [10.0, 10.0], [1.0, 0.5], 2)
    np.testing.assert_allclose(w, [1.0, 0.5], atol=1e-3)
    np.testing.assert_array_equal(offensive.axis_weight([], [], [], 3), np.zeros(3))


def test_next_axis_goes_to_the_front_town_with_most_rebel_people_in_reach():
    dist = np.array([[0, 5, 50, 52], [5, 0, 48, 50], [50, 48, 0, 4], [52, 50, 4, 0]], float)
    rebel = np.array([True, True, True, True])
    people = np.array([100, 100, 1000, 0])
    front = np.array([True, False, False, True])
    # on the front: towns 0 and 3; town 3 has 1000 people within 10 km (town 2)
    assert offensive.next_axis_town(rebel, front, people, dist, 10.0) == 3
    # no town on the front: any rebel town; no rebel town: none
    assert offensive.next_axis_town(rebel, np.zeros(4, bool), people, dist, 10.0) == 2
    assert offensive.next_axis_town(np.zeros(4, bool), front, people, dist, 10.0) is None


@pytest.mark.parametrize(("day", "plan", "any_open", "progress", "due"), [
    (3.0, 5.0, True, -1.0, False),   # before the plan's last dated axis: never
    (5.0, 5.0, False, 5.0, True),    # nothing open: at once
    (6.0, 5.0, True, 5.0, False),    # stalled for 1 day < 2
    (7.0, 5.0, True, 5.0, True),     # stalled for 2 days
])
def test_continuation_waits_for_the_plan_and_for_a_stall(day, plan, any_open, progress, due):
    assert offensive.continuation_due(day, plan, any_open, progress, 2.0) is due


def test_offers_come_only_from_their_day_to_reached_towns_not_yet_offered():
    eligible = np.array([True, True, True, False])
    offered = np.array([False, True, False, False])
    axis = np.array([0.5, 0.9, 0.1, 0.9])
    assert not offers.new_offers(7.9, 8.0, eligible, offered, axis, 0.3).any()
    np.testing.assert_array_equal(offers.new_offers(8.0, 8.0, eligible, offered, axis, 0.3),
                                  [True, False, False, False])


def test_town_levels_coerce_offered_towns_and_calm_those_in_local_talks():
    neg = np.array([True, True, True, False])
    offered = np.array([True, False, True, True])
    talking = np.array([False, False, True, False])
    lv = escalation.town_levels(NegState.NO_TALKS, neg, offered, talking, 5.0, 0.25, 0.02, 3.0)
    np.testing.assert_allclose(lv, [3.0, 1.0, 0.25, 1.0])
    lv = escalation.town_levels(NegState.ESCALATION, neg, offered, talking, 5.0, 0.25, 0.02, 3.0)
    np.testing.assert_allclose(lv, [5.0, 5.0, 0.25, 1.0])


def _force_alone(continue_offensive: bool) -> Scenario:
    return Scenario(world={"population_scale": 0.01}, time={"horizon_days": 150.0},
                    mediator={"enabled": False, "local_deals": False},
                    regime={"ground_capacity": 3.0, "k_capture": 0.5,
                            "continue_offensive": continue_offensive,
                            "axes": [{"name": "east", "lat": 32.83, "lon": 36.34,
                                      "radius_km": 15.0}]})


def test_the_offensive_goes_on_until_every_rebel_town_is_taken():
    m = simulate(_force_alone(True), seed=1)
    assert m.rows[-1]["towns_rebel"] == 0
    assert any(e[1] == "axis_opened" for e in m.events)


def test_an_offensive_told_to_stop_after_its_plan_leaves_rebel_towns():
    m = simulate(_force_alone(False), seed=1)
    assert m.rows[-1]["towns_rebel"] > 10
    assert not any(e[1] == "axis_opened" for e in m.events)


def _offer_days(sc: Scenario, per_day: float) -> np.ndarray:
    sc = sc.model_copy(deep=True)
    sc.mediator.offers_per_day = per_day
    sc.time.horizon_days = 14.0
    m = simulate(sc, seed=3)
    return np.array([e[0] for e in m.events if e[1] == "local_offer"])


def test_the_mediator_offers_town_by_town_within_its_daily_allowance(small):
    unlimited = _offer_days(small, 1000.0)
    assert len(unlimited) > 6 and np.ptp(unlimited) == 0.0  # all reached towns at once
    rationed = _offer_days(small, 2.0)
    assert len(rationed) > 4
    for d in rationed:  # within any day, today's allowance and at most a day's carried over
        assert ((rationed >= d) & (rationed < d + 1.0)).sum() <= 4
    assert np.ptp(rationed) >= (len(rationed) - 4) / 2.0 - 0.25
