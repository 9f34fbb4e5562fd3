"""sim/rules/casualties.py: expected strike and exposure deaths, and the draw capped by who is there.

Hand values from the module's equations: strike deaths ``lethality * strikes * present /
(present + shelter_half)``; exposure deaths ``rate * heat * (1 - relief * aid) * n * dt``.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.rules.casualties import draw_deaths, exposure_death_rate, strike_death_rate

# (strikes, present, lethality, shelter_half, expected)
STRIKE_TABLE = [
    (2.0, 100.0, 0.5, 100.0, 0.5),     # half the full lethality at present == shelter_half
    (4.0, 300.0, 1.0, 100.0, 3.0),     # 4 * 300/400
    (0.0, 5000.0, 1.0, 100.0, 0.0),    # no strike, no strike death
    (3.0, 0.0, 1.0, 100.0, 0.0),       # an empty town loses nobody
    (3.0, 100.0, 0.0, 100.0, 0.0),     # zero lethality
]


@pytest.mark.parametrize(("strikes", "present", "leth", "half", "expected"), STRIKE_TABLE)
def test_strike_death_rate_matches_hand_values(strikes, present, leth, half, expected):
    got = strike_death_rate(np.array([strikes]), np.array([present]), leth, half)
    assert got[0] == pytest.approx(expected)


def test_more_strikes_mean_more_expected_deaths():
    rates = strike_death_rate(np.arange(0.0, 10.0), np.full(10, 500.0), 0.3, 2000.0)
    assert (np.diff(rates) > 0).all()


def test_more_people_present_mean_more_expected_deaths_but_never_beyond_full_lethality():
    present = np.array([0.0, 10.0, 1e3, 1e5, 1e9])
    rates = strike_death_rate(np.full(5, 2.0), present, 0.4, 2000.0)
    assert (np.diff(rates) > 0).all()
    assert (rates < 0.4 * 2.0).all()
    assert rates[-1] == pytest.approx(0.8, rel=1e-5)


def test_strike_death_rate_takes_whole_number_counts_and_keeps_the_shape():
    got = strike_death_rate(np.array([1, 0, 2]), np.array([100, 50, 0]), 1.0, 100.0)
    assert got.shape == (3,) and got.dtype == np.float64
    np.testing.assert_allclose(got, [0.5, 0.0, 0.0])


# (n, rate, heat, aid, relief, dt, expected)
EXPOSURE_TABLE = [
    (100.0, 0.01, 2.0, 1.0, 0.5, 0.5, 0.5),    # 0.01*2*(1-0.5)*100*0.5
    (100.0, 0.01, 2.0, 0.0, 0.5, 0.5, 1.0),    # no aid: no relief
    (100.0, 0.01, 2.0, 1.0, 1.0, 0.5, 0.0),    # full aid, fully relieving
    (0.0, 0.01, 2.0, 0.0, 0.5, 1.0, 0.0),      # nobody stuck
    (100.0, 0.0, 2.0, 0.0, 0.5, 1.0, 0.0),     # zero rate
    (100.0, 0.01, 2.0, 0.0, 0.5, 0.0, 0.0),    # zero-length tick
]


@pytest.mark.parametrize(("n", "rate", "heat", "aid", "relief", "dt", "expected"), EXPOSURE_TABLE)
def test_exposure_death_rate_matches_hand_values(n, rate, heat, aid, relief, dt, expected):
    assert exposure_death_rate(np.array([n]), rate, heat, aid, relief, dt)[0] == pytest.approx(expected)


def test_exposure_deaths_grow_with_the_people_stuck_and_the_heat_and_fall_with_aid():
    n = np.array([10.0, 100.0, 1000.0])
    base = exposure_death_rate(n, 0.001, 1.5, 0.5, 0.8, 1.0)
    assert (np.diff(base) > 0).all()
    assert (exposure_death_rate(n, 0.001, 3.0, 0.5, 0.8, 1.0) > base).all()
    assert (exposure_death_rate(n, 0.001, 1.5, 1.0, 0.8, 1.0) < base).all()


def test_exposure_of_no_border_zones_is_an_empty_array():
    assert exposure_death_rate(np.zeros(0), 0.01, 2.0, 0.0, 0.5, 1.0).shape == (0,)


def test_drawn_deaths_never_exceed_the_people_present():
    rng = np.random.default_rng(3)
    present = np.array([0, 1, 5, 1000])
    for _ in range(200):
        d = draw_deaths(np.array([50.0, 50.0, 50.0, 50.0]), present, rng)
        assert (d <= present).all() and (d >= 0).all()
    assert d[0] == 0 and d[1] == 1 and d[2] == 5  # expectations far above the present


def test_no_expected_death_means_no_death_and_negative_expectations_are_none():
    rng = np.random.default_rng(4)
    d = draw_deaths(np.array([0.0, -2.0, 0.0]), np.array([10, 10, 0]), rng)
    np.testing.assert_array_equal(d, [0, 0, 0])


def test_drawn_deaths_are_integers_of_the_expectations_shape_averaging_the_expectation():
    rng = np.random.default_rng(5)
    draws = np.stack([draw_deaths(np.array([0.3, 2.0]), np.array([10**6, 10**6]), rng)
                      for _ in range(20000)])
    assert draws.dtype == np.int64 and draws.shape == (20000, 2)
    np.testing.assert_allclose(draws.mean(axis=0), [0.3, 2.0], rtol=0.05)


def test_drawn_deaths_accept_float_counts_of_people_present():
    d = draw_deaths(np.array([100.0]), np.array([3.0]), np.random.default_rng(0))
    assert d.tolist() == [3]
