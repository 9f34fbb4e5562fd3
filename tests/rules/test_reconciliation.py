"""sim/rules/reconciliation.py: the threshold cascade of local deals.

Hand values from the module's equations: pressure ``w_front*front + w_strikes*I + w_neigh*neigh
+ w_deals*settled_total - w_hard*hardliners``; hazard ``1 - exp(-rate * max(0, p - theta) * dt)``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.rules.reconciliation import (
    draw_thresholds,
    neighbour_share,
    open_talks_probability,
    reconciliation_pressure,
)

# a path 0 - 1 - 2 and an isolated town 3
PATH = np.array([[0, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 0]], dtype=bool)


@pytest.mark.parametrize(("settled", "share"), [
    ([False, False, False, False], [0.0, 0.0, 0.0, 0.0]),
    ([True, False, False, False], [0.0, 0.5, 0.0, 0.0]),
    ([False, True, False, True], [1.0, 0.0, 1.0, 0.0]),   # an isolated town has no share
    ([True, True, True, True], [1.0, 1.0, 1.0, 0.0]),
])
def test_neighbour_share_counts_settled_neighbours_over_all_neighbours(settled, share):
    got = neighbour_share(np.array(settled), PATH)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, share)


def test_neighbour_share_is_a_share_and_ignores_the_town_itself():
    rng = np.random.default_rng(0)
    nb = rng.random((8, 8)) < 0.4
    nb = nb | nb.T
    np.fill_diagonal(nb, False)
    for _ in range(20):
        s = neighbour_share(rng.random(8) < 0.5, nb)
        assert ((s >= 0) & (s <= 1)).all()
    alone = np.zeros((1, 1), dtype=bool)
    assert neighbour_share(np.array([True]), alone).tolist() == [0.0]


def test_neighbour_share_of_no_towns_is_empty():
    assert neighbour_share(np.zeros(0, bool), np.zeros((0, 0), bool)).shape == (0,)


W = {"w_front": 1.0, "w_strikes": 0.5, "w_neigh": 2.0, "w_deals": 3.0, "w_hard": 4.0}


@pytest.mark.parametrize(("front", "intensity", "neigh", "total", "hard", "pressure"), [
    (0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
    (1.0, 2.0, 0.5, 0.1, 0.25, 1.0 + 1.0 + 1.0 + 0.3 - 1.0),
    (0.0, 0.0, 0.0, 0.0, 1.0, -4.0),     # hardliners alone push against settling
    (0.0, 0.0, 0.0, 1.0, 0.0, 3.0),      # every other town settled
])
def test_reconciliation_pressure_matches_hand_values(front, intensity, neigh, total, hard, pressure):
    got = reconciliation_pressure(np.array([front]), np.array([intensity]), np.array([neigh]), total,
                                  np.array([hard]), **W)
    assert got[0] == pytest.approx(pressure)


@pytest.mark.parametrize("which", ["front", "intensity", "neigh", "total"])
def test_pressure_grows_with_the_front_strikes_and_settled_towns(which):
    args = {"front": 0.3, "intensity": 1.0, "neigh": 0.2, "total": 0.1}
    lo = reconciliation_pressure(*_args(args), np.array([0.2]), **W)
    args[which] += 0.5
    assert reconciliation_pressure(*_args(args), np.array([0.2]), **W)[0] > lo[0]


def _args(a):
    return np.array([a["front"]]), np.array([a["intensity"]]), np.array([a["neigh"]]), a["total"]


def test_pressure_falls_with_more_hardliners():
    hard = np.linspace(0.0, 1.0, 6)
    p = reconciliation_pressure(np.ones(6), np.ones(6), np.ones(6), 0.5, hard, **W)
    assert (np.diff(p) < 0).all()


@pytest.mark.parametrize(("pressure", "theta", "rate", "dt", "prob"), [
    (2.0, 1.0, math.log(2), 1.0, 0.5),        # excess 1: 1 - exp(-ln 2)
    (3.0, 1.0, math.log(2), 1.0, 0.75),       # excess 2
    (1.0, 1.0, 5.0, 1.0, 0.0),                # at the threshold: nothing
    (0.0, 1.0, 5.0, 1.0, 0.0),                # below it: nothing, never negative
    (5.0, 1.0, 0.0, 1.0, 0.0),                # zero rate
    (5.0, 1.0, 3.0, 0.0, 0.0),                # zero-length tick
    (math.inf, 1.0, 1.0, 1.0, 1.0),           # overwhelming pressure: certain
])
def test_open_talks_probability_matches_hand_values(pressure, theta, rate, dt, prob):
    got = open_talks_probability(np.array([pressure]), np.array([theta]), rate, dt)
    assert got[0] == pytest.approx(prob)


def test_open_talks_probability_is_a_probability_rising_with_pressure():
    p = open_talks_probability(np.linspace(-5.0, 20.0, 51), np.full(51, 1.0), 0.7, 0.25)
    assert ((p >= 0) & (p <= 1)).all()
    assert (np.diff(p) >= 0).all() and p[-1] > p[0]


def test_thresholds_are_one_per_town_reproducible_and_exact_without_spread():
    a = draw_thresholds(50, 1.0, 0.4, np.random.default_rng(3))
    b = draw_thresholds(50, 1.0, 0.4, np.random.default_rng(3))
    assert a.shape == (50,) and a.dtype == np.float64
    np.testing.assert_array_equal(a, b)
    assert a.std() > 0
    np.testing.assert_array_equal(draw_thresholds(4, 2.5, 0.0, np.random.default_rng(0)), np.full(4, 2.5))
    assert draw_thresholds(0, 1.0, 0.4, np.random.default_rng(0)).shape == (0,)


def test_thresholds_centre_on_their_mean_with_their_spread():
    t = draw_thresholds(40000, 1.5, 0.4, np.random.default_rng(11))
    assert t.mean() == pytest.approx(1.5, abs=0.01)
    assert t.std() == pytest.approx(0.4, rel=0.02)
