"""sim/rules/offensive.py: limits and tie-breaks of the axes and the continuation (the main cases
are in tests/test_rules_offensive.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.rules.offensive import axis_weight, continuation_due, next_axis_town


def test_an_axis_weighs_nothing_at_an_unreachable_town():
    w = axis_weight([np.array([0.0, math.inf])], [10.0], [0.8], 2)
    np.testing.assert_allclose(w, [0.8, 0.0])


def test_an_axis_weight_scales_linearly_with_its_weight():
    d = np.array([0.0, 5.0, 12.0])
    np.testing.assert_allclose(axis_weight([d], [8.0], [0.6], 3), 0.6 * axis_weight([d], [8.0], [1.0], 3))


@pytest.mark.parametrize(("d", "radius", "w"), [
    (0.0, 10.0, 1.0),
    (10.0, 10.0, math.exp(-1.0)),
    (20.0, 10.0, math.exp(-4.0)),    # Gaussian: twice the radius, e^-4 (not e^-2)
    (5.0, 10.0, math.exp(-0.25)),
])
def test_axis_weight_is_a_gaussian_of_distance_over_radius(d, radius, w):
    assert axis_weight([np.array([d])], [radius], [1.0], 1)[0] == pytest.approx(w)


def test_a_tiny_radius_gives_full_weight_at_the_focus_and_none_elsewhere_without_nans():
    w = axis_weight([np.array([0.0, 1.0, 50.0])], [1e-300], [1.0], 3)
    np.testing.assert_array_equal(w, [1.0, 0.0, 0.0])


def test_axis_lists_of_different_lengths_are_an_error():
    with pytest.raises(ValueError):
        axis_weight([np.zeros(2), np.zeros(2)], [10.0], [1.0, 1.0], 2)


def test_axis_weight_is_a_float_array_of_the_towns_and_never_below_zero():
    w = axis_weight([np.array([3.0, 40.0, 7.0])], [10.0], [0.5], 3)
    assert w.shape == (3,) and w.dtype == np.float64 and (w >= 0).all()


def test_the_next_axis_tie_goes_to_the_lowest_town_index():
    dist = np.array([[0.0, 50.0, 50.0], [50.0, 0.0, 50.0], [50.0, 50.0, 0.0]])
    people = np.array([10, 10, 10])
    assert next_axis_town(np.ones(3, bool), np.array([False, True, True]), people, dist, 5.0) == 1


def test_the_next_axis_counts_only_rebel_held_people_in_reach():
    # town 0 sits beside a crowded regime-held town 1; town 2 beside a rebel town 3 with fewer people
    dist = np.array([[0.0, 2.0, 60.0, 60.0], [2.0, 0.0, 60.0, 60.0],
                     [60.0, 60.0, 0.0, 2.0], [60.0, 60.0, 2.0, 0.0]])
    rebel = np.array([True, False, True, True])
    people = np.array([10, 10_000, 10, 200])
    assert next_axis_town(rebel, np.array([True, False, True, False]), people, dist, 5.0) == 2


def test_the_next_axis_ignores_negative_people_and_goes_on_where_nobody_is_left():
    dist = np.array([[0.0, 30.0], [30.0, 0.0]])
    front = np.array([True, True])
    assert next_axis_town(np.array([True, True]), front, np.array([-500, 0]), dist, 5.0) == 0
    assert next_axis_town(np.array([True, True]), front, np.array([0, 0]), dist, 5.0) in (0, 1)
    got = next_axis_town(np.array([False, True]), front, np.array([0, 0]), dist, 5.0)
    assert got == 1 and isinstance(got, int)


@pytest.mark.parametrize(("day", "plan", "any_open", "progress", "due"), [
    (3.0, 5.0, False, -1.0, False),   # nothing open, but the plan is not over: still never
    (8.0, 5.0, True, 7.0, False),     # progress a day ago resets the stall
    (9.0, 5.0, True, 7.0, True),
    (5.0, 0.0, True, 3.0, True),      # a plan with no dated axis: the stall rule alone
])
def test_continuation_limits(day, plan, any_open, progress, due):
    assert continuation_due(day, plan, any_open, progress, 2.0) is due
