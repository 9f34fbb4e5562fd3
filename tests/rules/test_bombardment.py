"""sim/rules/bombardment.py: strike priority, allocation of capacity, draws, distance kernel.

Hand values from the module's equations: ``priority = base + axis * (p_axis + p_front * front +
p_strategic * strategic)``; ``I_i = capacity * level_i * pr_i / sum(pr over targetable towns)``;
``kernel = exp(-d / scale)``; threat felt ``= kernel @ I``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.rules.bombardment import (
    allocate_intensity,
    distance_kernel,
    draw_strikes,
    local_intensity,
    strike_priority,
)

# (on_front, strategic, axis, expected with base 1, p_front 2, p_strategic 3, p_axis 4)
PRIORITY_TABLE = [
    (0.0, 0.0, 0.0, 1.0),    # far from every axis: the base only, whatever else is true
    (1.0, 1.0, 0.0, 1.0),
    (0.0, 0.0, 1.0, 5.0),    # 1 + 4
    (1.0, 0.0, 1.0, 7.0),    # 1 + 4 + 2
    (1.0, 1.0, 1.0, 10.0),   # 1 + 4 + 2 + 3
    (1.0, 1.0, 0.5, 5.5),    # 1 + 0.5 * 9
]


@pytest.mark.parametrize(("front", "strategic", "axis", "expected"), PRIORITY_TABLE)
def test_strike_priority_matches_hand_values(front, strategic, axis, expected):
    got = strike_priority(np.array([front]), np.array([strategic]), np.array([axis]), 1.0, 2.0, 3.0, 4.0)
    assert got.shape == (1,)
    assert got[0] == pytest.approx(expected)


def test_strike_priority_grows_with_the_axis_weight():
    axis = np.linspace(0.0, 1.0, 11)
    pr = strike_priority(np.ones(11), np.zeros(11), axis, 0.1, 2.0, 2.0, 4.0)
    assert (np.diff(pr) > 0).all()


def test_capacity_is_split_by_priority_among_targetable_towns():
    got = allocate_intensity(10.0, np.ones(3), np.array([1.0, 3.0, 6.0]), np.array([True, True, False]))
    np.testing.assert_allclose(got, [2.5, 7.5, 0.0])
    assert got.dtype == np.float64


def test_with_all_levels_one_the_whole_capacity_is_used():
    pr = np.array([0.2, 1.0, 4.0, 0.0, 7.5])
    got = allocate_intensity(42.0, np.ones(5), pr, np.ones(5, dtype=bool))
    assert got.sum() == pytest.approx(42.0)
    assert got[3] == 0.0


def test_a_town_at_level_zero_gets_nothing_and_its_share_is_not_given_to_the_others():
    # the calm of talks lowers the strikes; unlike a ceasefire (not targetable), it does not
    # move them elsewhere
    got = allocate_intensity(10.0, np.array([0.0, 1.0]), np.array([1.0, 1.0]), np.array([True, True]))
    np.testing.assert_allclose(got, [0.0, 5.0])


def test_the_level_multiplies_a_towns_share():
    got = allocate_intensity(10.0, np.array([3.0, 1.0]), np.array([1.0, 1.0]), np.array([True, True]))
    np.testing.assert_allclose(got, [15.0, 5.0])


@pytest.mark.parametrize(("capacity", "priority", "targetable"), [
    (0.0, [1.0, 2.0], [True, True]),       # no capacity
    (-5.0, [1.0, 2.0], [True, True]),      # a negative capacity is none
    (10.0, [1.0, 2.0], [False, False]),    # nothing targetable
    (10.0, [0.0, 0.0], [True, True]),      # no priority anywhere
])
def test_no_capacity_or_no_target_means_no_strikes(capacity, priority, targetable):
    got = allocate_intensity(capacity, np.ones(2), np.array(priority), np.array(targetable))
    np.testing.assert_array_equal(got, [0.0, 0.0])
    assert got.shape == (2,)


def test_allocation_of_no_towns_is_an_empty_array():
    got = allocate_intensity(10.0, np.ones(0), np.ones(0), np.ones(0, dtype=bool))
    assert got.shape == (0,)


def test_more_capacity_means_proportionally_more_strikes_on_every_town():
    pr, tg = np.array([1.0, 2.0, 0.5]), np.array([True, True, True])
    one = allocate_intensity(5.0, np.ones(3), pr, tg)
    np.testing.assert_allclose(allocate_intensity(15.0, np.ones(3), pr, tg), 3.0 * one)


def test_draws_are_whole_numbers_of_the_intensitys_shape_and_zero_without_intensity():
    rng = np.random.default_rng(0)
    got = draw_strikes(np.array([0.0, 2.0, -60.0, 0.0]), 0.5, rng)
    assert got.shape == (4,) and np.issubdtype(got.dtype, np.integer)
    assert got[0] == 0 and got[2] == 0 and got[3] == 0  # negative intensity is none
    assert draw_strikes(np.array([5.0, 5.0]), 0.0, rng).tolist() == [0, 0]  # a zero-length tick


def test_draws_average_intensity_times_the_tick_length():
    rng = np.random.default_rng(1)
    draws = np.stack([draw_strikes(np.array([4.0, 0.5]), 0.25, rng) for _ in range(20000)])
    np.testing.assert_allclose(draws.mean(axis=0), [1.0, 0.125], rtol=0.05)


def test_draws_are_reproducible_from_the_seed():
    a = draw_strikes(np.full(10, 3.0), 1.0, np.random.default_rng(7))
    b = draw_strikes(np.full(10, 3.0), 1.0, np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(("d", "scale", "k"), [
    (0.0, 5.0, 1.0),
    (5.0, 5.0, math.exp(-1.0)),
    (10.0, 5.0, math.exp(-2.0)),
    (math.inf, 5.0, 0.0),         # an unreachable town feels nothing
])
def test_distance_kernel_matches_hand_values(d, scale, k):
    assert distance_kernel(np.array([d]), scale)[0] == pytest.approx(k)


def test_distance_kernel_keeps_the_matrix_shape_and_decreases_with_distance():
    d = np.array([[0.0, 3.0, 9.0], [3.0, 0.0, 6.0], [9.0, 6.0, 0.0]])
    k = distance_kernel(d, 4.0)
    assert k.shape == (3, 3)
    np.testing.assert_allclose(np.diag(k), 1.0)
    assert k[0, 1] > k[1, 2] > k[0, 2]
    assert ((k > 0) & (k <= 1)).all()


def test_local_intensity_sums_strikes_through_the_kernel():
    kernel = np.array([[1.0, 0.5], [0.5, 1.0]])
    np.testing.assert_allclose(local_intensity(np.array([2.0, 4.0]), kernel), [4.0, 5.0])
    # row i of the kernel is what town i feels from each town
    np.testing.assert_allclose(local_intensity(np.array([2.0, 4.0]), np.array([[1.0, 0.5], [0.0, 1.0]])),
                               [4.0, 4.0])


def test_local_intensity_with_an_identity_kernel_is_the_intensity_and_zero_without_strikes():
    i = np.array([1.0, 0.0, 3.0])
    np.testing.assert_allclose(local_intensity(i, np.eye(3)), i)
    np.testing.assert_array_equal(local_intensity(np.zeros(3), np.ones((3, 3))), np.zeros(3))
