"""The model's clock: dates and spans in days or hours become whole ticks, exactly."""

from __future__ import annotations

import pytest

from sim.rules.clock import days_to_ticks, delay_ticks, due_tick, exact, tick_day, ticks_per_day


@pytest.mark.parametrize(("tick_hours", "per_day"), [(1, 24), (6, 4), (8, 3), (24, 1)])
def test_ticks_per_day_divides_the_day(tick_hours, per_day):
    assert ticks_per_day(tick_hours) == per_day


@pytest.mark.parametrize("tick_hours", [0, 5, 7, 48])
def test_tick_length_must_divide_the_day(tick_hours):
    with pytest.raises(ValueError, match="divide 24"):
        ticks_per_day(tick_hours)


@pytest.mark.parametrize(("day", "tick_hours", "tick"), [
    (0.0, 6, 0),        # day 0 is the first tick
    (8.25, 6, 33),      # on a tick boundary: that tick, not the next
    (8.26, 6, 34),      # just after a boundary: the next tick
    (9.0, 24, 9),
    (1 / 3, 8, 1),      # 8 h: a third of a day is one tick (float rounding must not push it)
    (0.1, 1, 3),        # 2.4 h -> the tick starting at 3 h
    (0.7, 6, 3),        # 0.7 * 4 = 2.8 -> 3 (binary 0.7 * 4 is 2.8000000000000003)
    (2.5, 12, 5),
])
def test_a_date_is_due_at_the_first_tick_starting_on_or_after_it(day, tick_hours, tick):
    assert due_tick(day, tick_hours) == tick
    assert tick_day(tick, tick_hours) * 24 >= day * 24 - 1e-9  # never before the date


@pytest.mark.parametrize(("days", "tick_hours", "ticks"), [
    (0.0, 6, 0), (3.74, 6, 15), (3.75, 6, 15), (3.76, 6, 16), (2.0, 6, 8), (2.0, 8, 6),
    (0.25, 24, 1),
])
def test_a_span_of_days_is_covered_by_whole_ticks(days, tick_hours, ticks):
    assert days_to_ticks(days, tick_hours) == ticks


@pytest.mark.parametrize(("hours", "tick_hours", "ticks"), [
    (0.0, 6, 0), (12.0, 6, 2), (18.0, 6, 3), (10.0, 6, 2), (1.0, 6, 1), (24.0, 8, 3), (0.5, 1, 1),
])
def test_a_delay_in_hours_is_covered_by_whole_ticks(hours, tick_hours, ticks):
    assert delay_ticks(hours, tick_hours) == ticks


def test_longer_spans_never_take_fewer_ticks():
    spans = [k * 0.05 for k in range(200)]
    for th in (1, 2, 3, 4, 6, 8, 12, 24):
        got = [days_to_ticks(d, th) for d in spans]
        assert got == sorted(got)
        assert all(t * th >= d * 24 - 1e-12 for t, d in zip(got, spans, strict=True))
        assert all((t - 1) * th < d * 24 for t, d in zip(got, spans, strict=True) if t > 0)


@pytest.mark.parametrize("bad", [float("inf"), float("nan"), -float("inf")])
def test_infinite_spans_are_refused(bad):
    with pytest.raises(ValueError):
        days_to_ticks(bad, 6)
    with pytest.raises(ValueError):
        delay_ticks(bad, 6)


def test_exact_recovers_the_decimal_written():
    assert exact(0.1) * 10 == 1
    assert exact(3.74) * 100 == 374


def test_tick_day_is_the_models_day():
    assert tick_day(33, 6) == 8.25
    assert tick_day(0, 8) == 0.0
