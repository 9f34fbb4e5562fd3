"""sim/rules/flight.py: the flight hazard, the choice of a host town and of a destination
(multinomial logit), and travel time."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.rules import flight
from sim.rules.flight import (
    choice_probabilities,
    choose_host,
    destination_probabilities,
    destination_utilities,
    draw_choices,
    flight_probability,
    safety,
    travel_ticks,
)

ONE = np.ones(1)
ZERO = np.zeros(1)


def hazard(threat=0.0, d_front=math.inf, axis=0.0, ultimatum=0.0, b0=0.0, b_strike=0.0, b_front=0.0,
           scale=10.0, b_offer=0.0, dt=1.0) -> float:
    return float(flight_probability(np.array([threat]), np.array([d_front]), np.array([axis]),
                                    np.array([ultimatum]), b0, b_strike, b_front, scale, b_offer, dt)[0])


@pytest.mark.parametrize(("kw", "expected"), [
    ({}, 0.0),                                                    # no hazard: nobody flees
    ({"b0": 0.1}, 1 - math.exp(-0.1)),                            # the baseline alone
    ({"b_strike": 0.2, "threat": 2.0}, 1 - math.exp(-0.4)),       # threat x its weight
    ({"b_offer": 0.3, "ultimatum": 1.0}, 1 - math.exp(-0.3)),     # an ultimatum
    ({"b_front": 0.5, "axis": 1.0, "d_front": 0.0}, 1 - math.exp(-0.5)),       # on the front
    ({"b_front": 0.5, "axis": 1.0, "d_front": 10.0}, 1 - math.exp(-0.5 / math.e)),  # one scale away
    ({"b_front": 0.5, "axis": 0.0, "d_front": 0.0}, 0.0),         # no open axis: a quiet front
    ({"b_front": 0.5, "axis": 1.0, "d_front": math.inf}, 0.0),    # no regime town in reach
    ({"b0": 0.1, "dt": 0.25}, 1 - math.exp(-0.025)),              # a quarter-day tick
])
def test_flight_probability_is_one_minus_exp_of_the_summed_hazard_times_the_tick(kw, expected):
    assert hazard(**kw) == pytest.approx(expected, abs=1e-15)


@pytest.mark.parametrize("name", ["threat", "ultimatum", "axis", "b_strike", "b_front", "dt"])
def test_flight_probability_rises_with_each_driver_and_stays_below_one(name):
    base = {"b0": 0.05, "b_strike": 0.1, "b_front": 0.2, "b_offer": 0.3, "threat": 1.0,
            "ultimatum": 1.0, "axis": 0.5, "d_front": 5.0}
    ps = [hazard(**(base | {name: v})) for v in (0.0, 0.5, 1.0, 4.0, 1e6)]
    assert all(a < b for a, b in zip(ps[:3], ps[1:4], strict=True)) and ps[3] <= ps[4] <= 1.0
    assert all(0.0 <= p <= 1.0 for p in ps)


def test_flight_probability_falls_with_distance_to_the_front_and_keeps_the_towns_shape():
    d = np.array([0.0, 5.0, 20.0, 80.0, np.inf])
    n = len(d)
    p = flight_probability(np.zeros(n), d, np.ones(n), np.zeros(n), 0.0, 0.0, 1.0, 10.0, 0.0, 1.0)
    assert p.shape == (n,) and (np.diff(p) < 0).all() and p[-1] == 0.0


# four towns on a line, 5 km apart; town 0 has no other candidate within reach of 6 km but town 1
LINE = np.abs(np.subtract.outer(np.arange(4.0), np.arange(4.0))) * 5.0


@pytest.mark.parametrize(("threat", "candidate", "max_km", "threat_km", "hosts"), [
    ([0, 0, 0, 0], [1, 1, 1, 1], 6.0, 0.0, [1, 0, 1, 2]),    # nearest other town (first on ties)
    ([0, 0, 0, 0], [1, 1, 1, 1], 4.0, 0.0, [-1, -1, -1, -1]),  # nobody within reach
    ([0, 0, 0, 0], [0, 0, 1, 0], 20.0, 0.0, [2, 2, -1, 2]),  # only one candidate; never itself
    ([0, 9, 0, 0], [1, 1, 1, 1], 20.0, 1.0, [2, 0, 3, 2]),   # a bombed town costs 9 km more
    ([0, 9, 0, 0], [1, 1, 1, 1], 20.0, 0.0, [1, 0, 1, 2]),   # unless threat costs nothing
])
def test_choose_host_takes_the_cheapest_candidate_in_reach_or_none(threat, candidate, max_km, threat_km,
                                                                    hosts):
    host, dist = choose_host(np.array(threat, float), LINE, np.array(candidate, bool), max_km, threat_km)
    assert host.tolist() == hosts
    expected = [LINE[i, h] if h >= 0 else math.inf for i, h in enumerate(hosts)]
    np.testing.assert_array_equal(dist, expected)


def test_choose_host_stays_within_what_is_reachable():
    reach = np.array([[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 1], [0, 0, 1, 1]], bool)  # two pockets
    host, _ = choose_host(np.zeros(4), LINE, np.ones(4, bool), 100.0, 0.0, reachable=reach)
    assert host.tolist() == [1, 0, 3, 2]
    host, dist = choose_host(np.zeros(4), LINE, np.ones(4, bool), 100.0, 0.0, reachable=np.eye(4, dtype=bool))
    assert host.tolist() == [-1] * 4 and np.isinf(dist).all()


def test_destination_utilities_are_constant_minus_distance_plus_safety_and_minus_inf_when_unavailable():
    dist = np.array([[10.0, 2.0, 0.0]])
    ok = np.array([[True, True, False]])
    u = destination_utilities(dist, ok, np.array([1.0, 0.0, 5.0]), 0.1, np.array([[0.5, 0.0, 0.0]]))
    np.testing.assert_allclose(u, [[1.0 - 1.0 + 0.5, -0.2, -np.inf]])


@pytest.mark.parametrize(("threat", "scale", "expected"), [
    (0.0, 2.0, 1.0),               # quiet
    (2.0, 2.0, math.exp(-1)),      # one scale of threat
    (-3.0, 2.0, 1.0),              # a negative threat is no threat
    (1e6, 2.0, 0.0),               # under heavy fire: no safety
])
def test_safety_is_exp_of_minus_threat_over_its_scale(threat, scale, expected):
    assert float(safety(np.array([threat]), scale)[0]) == pytest.approx(expected)


def test_safety_falls_monotonically_with_threat():
    s = safety(np.linspace(0.0, 10.0, 11), 3.0)
    assert s.shape == (11,) and (np.diff(s) < 0).all() and s[0] == 1.0


@pytest.mark.parametrize("utilities", [
    [[0.0, 0.0]], [[1.0, 2.0, 3.0]], [[1000.0, 999.0]], [[-1000.0, -1001.0]], [[0.0, -np.inf]],
])
def test_choice_probabilities_are_a_softmax_summing_to_one(utilities):
    u = np.array(utilities)
    p = choice_probabilities(u)
    e = np.exp(u - u.max())
    np.testing.assert_allclose(p, e / e.sum())
    assert p.sum() == pytest.approx(1.0) and p.shape == u.shape


def test_a_row_with_no_option_gets_all_zero_probabilities():
    p = choice_probabilities(np.array([[-np.inf, -np.inf], [0.0, 0.0]]))
    np.testing.assert_array_equal(p, [[0.0, 0.0], [0.5, 0.5]])


def test_destination_probabilities_prefer_nearer_and_safer_places_and_skip_unavailable():
    dist = np.array([[5.0, 10.0, 5.0]])
    ok = np.array([[True, True, False]])
    asc = np.zeros(3)
    p = destination_probabilities(dist, ok, np.zeros((1, 3)), asc, 0.1, 1.0, 1.0)
    assert p[0, 0] > p[0, 1] > 0 and p[0, 2] == 0.0 and p.sum() == pytest.approx(1.0)
    # the nearer place under fire loses its edge once the safety bonus outweighs 0.5 of distance
    under_fire = destination_probabilities(dist, ok, np.array([[10.0, 0.0, 0.0]]), asc, 0.1, 1.0, 1.0)
    assert under_fire[0, 0] < under_fire[0, 1]
    p_manual = choice_probabilities(destination_utilities(dist, ok, asc, 0.1, 1.0 * safety(np.zeros((1, 3)), 1.0)))
    np.testing.assert_allclose(p, p_manual)


@pytest.mark.parametrize(("u", "choice"), [(0.0, 0), (0.29, 0), (0.3, 0), (0.31, 1), (0.99, 2)])
def test_draw_choices_picks_the_first_destination_whose_cumulative_probability_covers_the_draw(u, choice):
    class Fixed:
        def random(self, n):
            return np.full(n, u)

    got = draw_choices(np.array([[0.3, 0.7, 1.0]]), Fixed())
    assert got.tolist() == [choice]


def test_draw_choices_never_overflows_the_last_destination_and_follows_the_probabilities():
    rng = np.random.default_rng(1)
    cum = np.tile([0.2, 0.5, 0.9999], (20000, 1))  # rounding leaves a gap below 1
    got = draw_choices(cum, rng)
    assert got.max() <= 2 and got.shape == (20000,)
    np.testing.assert_allclose(np.bincount(got) / len(got), [0.2, 0.3, 0.5], atol=0.015)


@pytest.mark.parametrize(("dist", "speed", "dt", "ticks"), [
    (0.0, 20.0, 0.25, 1),     # at least one tick
    (5.0, 20.0, 0.25, 1),     # exactly one tick's travel
    (5.01, 20.0, 0.25, 2),
    (40.0, 20.0, 1.0, 2),
    (40.0, 20.0, 0.25, 8),
])
def test_travel_ticks_are_the_ceiling_of_distance_over_a_ticks_travel(dist, speed, dt, ticks):
    got = travel_ticks(np.array([[dist]]), speed, dt)
    assert got.dtype == np.int32 and got.tolist() == [[ticks]]


def test_travel_ticks_never_shrink_with_distance():
    t = travel_ticks(np.linspace(0, 200, 50), 15.0, 1 / 24)
    assert (np.diff(t) >= 0).all()


def test_host_room_is_what_is_left_of_the_limit_never_negative_and_unlimited_without_residents():
    room = flight.host_room(np.array([1000.0, 1000.0, 1000.0, 0.0]),
                            np.array([1000.0, 1500.0, 2500.0, 800.0]), 1.0)
    np.testing.assert_array_equal(room, [1000.0, 500.0, 0.0, np.inf])


def test_host_room_grows_with_the_multiple():
    res, present = np.array([400.0]), np.array([400.0])
    assert flight.host_room(res, present, 0.0)[0] == 0.0
    assert flight.host_room(res, present, 0.5)[0] == 200.0
    assert flight.host_room(res, present, 3.0)[0] == 1200.0


def test_admitted_keeps_everyone_and_draws_nothing_while_no_host_is_oversubscribed():
    rng = np.random.default_rng(0)
    state = rng.bit_generator.state
    keep = flight.admitted(np.array([0, 1, 5, 0]), np.array([3, 4, 6, 2]),
                           np.array([10.0, 4.0]), rng)
    assert keep.all()
    assert rng.bit_generator.state == state  # the random stream is untouched


def test_admitted_fills_an_oversubscribed_host_to_its_room_and_no_further():
    dest = np.array([0] * 10 + [1] * 3 + [7] * 4)  # 7: not a town (a zone), never limited
    size = np.full(len(dest), 5)
    keep = flight.admitted(dest, size, np.array([22.0, 100.0]), np.random.default_rng(1))
    assert size[keep & (dest == 0)].sum() == 20  # four households of 5 fit in 22
    assert keep[dest == 1].all() and keep[dest == 7].all()


def test_admitted_turns_away_everyone_heading_for_a_full_host():
    keep = flight.admitted(np.array([0, 0, 1]), np.array([2, 3, 4]), np.array([0.0, 9.0]),
                           np.random.default_rng(2))
    np.testing.assert_array_equal(keep, [False, False, True])


def test_admitted_picks_at_random_who_gets_into_an_oversubscribed_host():
    dest, size, room = np.zeros(40, dtype=int), np.ones(40), np.array([20.0])
    picks = {tuple(np.flatnonzero(flight.admitted(dest, size, room, np.random.default_rng(s))))
             for s in range(5)}
    assert len(picks) > 1  # not always the same (first) households
    assert all(len(p) == 20 for p in picks)


def test_host_costs_are_distance_plus_weighted_threat_and_inf_out_of_reach_or_at_home():
    dist = np.array([[0.0, 2.0, 9.0], [2.0, 0.0, 7.0], [9.0, 7.0, 0.0]])
    cost = flight.host_costs(np.array([1.0, 3.0, 0.0]), dist, np.array([True, True, True]),
                             8.0, 0.5)
    expected = np.array([[np.inf, 3.5, np.inf], [2.5, np.inf, 7.0], [np.inf, 8.5, np.inf]])
    np.testing.assert_array_equal(cost, expected)


def test_host_ranking_orders_each_towns_hosts_from_the_cheapest_and_marks_the_rest():
    cost = np.array([[np.inf, 3.0, 1.0, 2.0], [1.0, np.inf, 1.0, np.inf],
                     [np.inf, np.inf, np.inf, np.inf], [5.0, 4.0, 6.0, np.inf]])
    np.testing.assert_array_equal(flight.host_ranking(cost),
                                  [[2, 3, 1, -1], [0, 2, -1, -1], [-1, -1, -1, -1],
                                   [1, 0, 2, -1]])


def test_host_ranking_starts_with_the_host_choose_host_picks():
    rng = np.random.default_rng(5)
    dist = rng.uniform(0, 10, (6, 6))
    threat = rng.uniform(0, 3, 6)
    cand = np.array([True, False, True, True, True, False])
    host, _ = choose_host(threat, dist, cand, 8.0, 1.5)
    np.testing.assert_array_equal(flight.host_ranking(flight.host_costs(threat, dist, cand, 8.0,
                                                                        1.5))[:, 0], host)


def test_admit_or_redirect_sends_those_a_full_host_turns_away_to_their_next_host():
    cost = np.array([[np.inf, 1.0, 2.0], [1.0, np.inf, 2.0], [1.0, 2.0, np.inf]])
    dest = np.array([1, 1, 1, 1])  # four households of town 0, all heading for town 1
    size = np.full(4, 5)
    got, keep = flight.admit_or_redirect(dest, np.zeros(4, dtype=int), size,
                                         np.array([100.0, 10.0, 10.0]), cost,
                                         np.random.default_rng(0))
    assert keep.all()
    assert sorted(got.tolist()) == [1, 1, 2, 2]  # two fit in town 1, two move on to town 2


def test_admit_or_redirect_keeps_home_those_no_host_has_room_for():
    cost = np.array([[np.inf, 1.0, 2.0], [1.0, np.inf, 2.0], [1.0, 2.0, np.inf]])
    dest = np.array([1, 1, 1, 7])  # 7: not a town (a zone), never limited
    got, keep = flight.admit_or_redirect(dest, np.zeros(4, dtype=int), np.full(4, 5),
                                         np.array([100.0, 5.0, 5.0]), cost,
                                         np.random.default_rng(1))
    assert keep.sum() == 3 and keep[3]
    assert sorted(got[keep][:2].tolist()) == [1, 2]


def test_admit_or_redirect_changes_nothing_and_draws_nothing_when_every_host_has_room():
    rng = np.random.default_rng(2)
    state = rng.bit_generator.state
    dest = np.array([1, 2, 5])
    got, keep = flight.admit_or_redirect(dest, np.array([0, 0, 1]), np.array([3, 3, 3]),
                                         np.array([10.0, 10.0, 10.0]),
                                         np.array([[np.inf, 1.0, 2.0], [1.0, np.inf, 2.0],
                                                   [1.0, 2.0, np.inf]]), rng)
    assert keep.all() and (got == dest).all()
    assert rng.bit_generator.state == state


def test_cheapest_host_is_the_argmin_of_the_costs_or_none():
    cost = np.array([[np.inf, 2.0, 1.0], [np.inf, np.inf, np.inf], [3.0, 3.0, np.inf]])
    dist = np.array([[0.0, 4.0, 5.0], [4.0, 0.0, 6.0], [5.0, 6.0, 0.0]])
    host, d = flight.cheapest_host(cost, dist)
    np.testing.assert_array_equal(host, [2, -1, 0])
    np.testing.assert_array_equal(d, [5.0, np.inf, 5.0])
