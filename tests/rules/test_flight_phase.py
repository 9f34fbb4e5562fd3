"""sim/rules/flight.py: the pieces of a tick's flight the model used to compute inline (issue 16):
the front's switch-off, the crossing hazard and the cumulative destination table."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.rules.flight import crossing_probability, cumulative_choices, front_coefficient


@pytest.mark.parametrize(("b_front", "capacity", "expected"), [
    (0.8, 1.6, 0.8), (0.8, 0.0, 0.0), (0.8, -1.0, 0.0), (0.0, 5.0, 0.0), (2.5, 1e-6, 2.5)])
def test_the_front_drives_flight_only_while_the_regime_is_on_the_offensive(b_front, capacity,
                                                                           expected):
    assert front_coefficient(b_front, capacity) == expected


@pytest.mark.parametrize(("rate", "dt", "expected"), [
    (0.0, 0.25, 0.0),
    (1.0, 1.0, 1.0 - math.exp(-1.0)),
    (math.log(2.0), 1.0, 0.5),          # a rate whose daily hazard is one half
    (0.5, 0.25, 1.0 - math.exp(-0.125)),
])
def test_crossing_probability_matches_hand_values(rate, dt, expected):
    assert crossing_probability(rate, dt) == pytest.approx(expected)


def test_crossing_probability_rises_with_the_rate_and_the_tick_and_stays_below_one():
    ps = [crossing_probability(r, 0.25) for r in (0.0, 0.1, 1.0, 10.0, 100.0)]
    assert all(a < b for a, b in zip(ps, ps[1:], strict=False)) and ps[-1] <= 1.0
    assert crossing_probability(1.0, 0.25) < crossing_probability(1.0, 1.0)


# (probabilities by destination, expected cumulative, no destination)
CUM_TABLE = [
    ([0.2, 0.3, 0.5], [0.2, 0.5, 1.0], False),
    ([0.0, 1.0, 0.0], [0.0, 1.0, 1.0], False),
    ([0.0, 0.0, 0.0], [0.0, 0.0, 1.0], True),     # nowhere to go: shelters in place
    ([1.0 / 3] * 3, [1.0 / 3, 2.0 / 3, 1.0], False),
]


@pytest.mark.parametrize(("probs", "cum", "nowhere"), CUM_TABLE)
def test_cumulative_choices_end_at_exactly_one_and_flag_rows_with_nowhere_to_go(probs, cum,
                                                                                nowhere):
    got, none = cumulative_choices(np.array([probs]))
    np.testing.assert_allclose(got[0], cum)
    assert got[0, -1] == 1.0
    assert bool(none[0]) is nowhere


def test_cumulative_choices_are_non_decreasing_and_keep_the_shape():
    rng = np.random.default_rng(3)
    p = rng.random((7, 5))
    p /= p.sum(axis=1, keepdims=True)
    cum, none = cumulative_choices(p)
    assert cum.shape == (7, 5) and none.shape == (7,)
    assert (np.diff(cum, axis=1) >= 0).all() and not none.any()
    assert cumulative_choices(np.zeros((0, 3)))[0].shape == (0, 3)
