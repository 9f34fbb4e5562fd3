"""sim/rules/casualties.py: expected strike and exposure deaths, and the draw capped by who is there.

Hand values from the module's equations: strike deaths ``lethality * strikes * present /
(present + shelter_half)``; exposure deaths ``rate * heat * (1 - relief * aid) * n * dt``.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.rules.casualties import (
    aid_level,
    draw_deaths,
    draw_tick_deaths,
    exposure_death_rate,
    scaled_strike_lethality,
    split_deaths,
    strike_death_rate,
)

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


# --- one tick's deaths by location (issue 16: moved out of the model's step) --------------------


@pytest.mark.parametrize(("through", "settled", "aid"), [
    (False, False, 0.0), (True, False, 1.0), (False, True, 1.0), (True, True, 1.0)])
def test_aid_reaches_the_exposed_through_hostilities_or_once_every_bloc_signed(through, settled, aid):
    assert aid_level(through, settled) == aid


@pytest.mark.parametrize(("scale", "expected"), [(1.0, (0.5, 2000.0)), (0.1, (0.05, 200.0)),
                                                 (0.0, (0.0, 0.0))])
def test_a_scaled_population_scales_lethality_and_shelter_alike(scale, expected):
    assert scaled_strike_lethality(0.5, 2000.0, scale) == pytest.approx(expected)


def test_a_scaled_strike_kills_the_same_share_of_the_people():
    full = strike_death_rate(np.array([3.0]), np.array([10000.0]), 0.5, 2000.0)
    lt, sh = scaled_strike_lethality(0.5, 2000.0, 0.1)
    scaled = strike_death_rate(np.array([3.0]), np.array([1000.0]), lt, sh)
    assert scaled[0] / 1000.0 == pytest.approx(full[0] / 10000.0)


# (applied deaths by location, towns, (strike, exposure))
SPLIT_TABLE = [
    ([3, 0, 2, 5, 1], 3, (5, 6)),
    ([0, 0, 0], 3, (0, 0)),      # no zones
    ([4, 1], 0, (0, 5)),         # no towns
    ([0, 0, 7], 2, (0, 7)),
]


@pytest.mark.parametrize(("applied", "towns", "expected"), SPLIT_TABLE)
def test_deaths_in_towns_are_strike_deaths_and_elsewhere_exposure(applied, towns, expected):
    got = split_deaths(np.array(applied, dtype=np.int64), towns)
    assert got == expected
    assert sum(got) == sum(applied)


def test_tick_deaths_shape_and_where_they_fall():
    rng = np.random.default_rng(1)
    counts = np.array([1000, 0, 500, 40, 7, 0], dtype=np.int64)  # 3 towns, 3 other locations
    d = draw_tick_deaths(np.array([5, 5, 0]), counts, [3], 2.0, 10.0, 0.5, 1.0, 0.0, 0.8, 1.0, rng)
    assert d.shape == counts.shape and d.dtype == np.int64
    assert d[1] == 0 and d[2] == 0          # nobody there / no strikes
    assert d[4] == 0 and d[5] == 0          # not exposed: nobody dies there
    assert (d <= counts).all() and d[0] > 0 and d[3] > 0


def test_tick_deaths_draw_strikes_first_then_exposure():
    counts = np.array([800, 300, 60], dtype=np.int64)
    args = (np.array([4, 2]), counts, [2], 0.5, 100.0, 0.05, 1.5, 0.0, 0.8, 0.25)
    got = draw_tick_deaths(*args, np.random.default_rng(7))
    rng = np.random.default_rng(7)
    towns = draw_deaths(strike_death_rate(np.array([4, 2]), counts[:2], 0.5, 100.0), counts[:2], rng)
    zone = draw_deaths(exposure_death_rate(counts[[2]], 0.05, 1.5, 0.0, 0.8, 0.25), counts[[2]], rng)
    np.testing.assert_array_equal(got, [*towns, *zone])


def test_tick_deaths_without_closable_zones_draw_only_strikes():
    d = draw_tick_deaths(np.array([0, 0]), np.array([10, 10, 99]), [], 1.0, 1.0, 1.0, 1.0, 0.0, 0.0,
                         1.0, np.random.default_rng(0))
    np.testing.assert_array_equal(d, [0, 0, 0])
