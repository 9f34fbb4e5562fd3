"""sim/rules/evacuation.py: the bus queue of safe passage, first come first served, within the
seats of each tick."""

from __future__ import annotations

import pytest

from sim.rules.evacuation import Buses


def carry_all(b: Buses) -> list[tuple[int, float]]:
    got = []
    for town, n in b.board():
        got.append((town, n))
        b.carried(town, int(n))
    return got


def test_buses_carry_at_most_their_capacity_first_come_first_served():
    b = Buses()
    b.new_tick(capacity_per_day=100.0, dt_days=0.25)  # 25 seats this tick
    b.queue(3, 30.0)
    b.queue(7, 10.0)
    assert carry_all(b) == [(3, 25.0)] and b.waiting == {3: 5.0, 7: 10.0}
    b.new_tick(100.0, 0.25)
    carry_all(b)
    assert b.waiting == {} and b.queued == 0
    b.queue(1, 5.0)
    b.new_tick(0.0, 0.25)  # no buses: nobody leaves
    assert list(b.board()) == []


def test_a_town_with_nobody_left_leaves_the_queue():
    b = Buses()
    b.new_tick(1e7, 1.0)
    b.queue(2, 50.0)
    for town, _n in b.board():
        b.carried(town, 0)
    assert b.waiting == {}


@pytest.mark.parametrize(("capacity", "dt", "seats"), [
    (0.0, 1.0, 0.0), (100.0, 1.0, 100.0), (100.0, 0.25, 25.0), (1e7, 1 / 24, 1e7 / 24),
])
def test_the_seats_of_a_tick_are_the_daily_capacity_times_the_tick(capacity, dt, seats):
    b = Buses()
    b.new_tick(capacity, dt)
    assert b.remaining == pytest.approx(seats)
    b.remaining = -3.0
    b.new_tick(capacity, dt)  # seats do not carry over from one tick to the next
    assert b.remaining == pytest.approx(seats)


def test_queueing_adds_to_a_towns_waiting_and_ignores_nobody():
    b = Buses()
    b.queue(4, 10.0)
    b.queue(4, 2.5)
    b.queue(5, 0.0)
    b.queue(6, -1.0)
    assert b.waiting == {4: 12.5} and b.queued == 12.5


def test_seats_left_by_one_town_go_to_the_next_in_the_queue_and_never_beyond():
    b = Buses()
    b.new_tick(30.0, 1.0)
    for town, n in ((1, 10.0), (2, 15.0), (3, 40.0)):
        b.queue(town, n)
    assert carry_all(b) == [(1, 10.0), (2, 15.0), (3, 5.0)]
    assert b.remaining == 0.0 and b.waiting == {3: 35.0}


def test_fewer_carried_than_offered_keeps_the_rest_waiting():
    b = Buses()
    b.new_tick(100.0, 1.0)
    b.queue(1, 50.0)
    for town, _n in b.board():
        b.carried(town, 20)  # the town had only 20 present households that fit
    assert b.waiting == {1: 30.0} and b.remaining == 80.0
