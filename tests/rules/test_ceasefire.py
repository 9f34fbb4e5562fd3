"""sim/rules/ceasefire.py: a town is protected while any window naming it is open."""

from __future__ import annotations

import numpy as np
import pytest

from sim.rules.ceasefire import protected, targetable_under_ceasefire


@pytest.mark.parametrize(("open_windows", "expected"), [
    ([0, 1, 2, 5], [False, True, True, True]),   # overlapping windows: still protected
    ([0, 0], [False, False]),
    ([], []),
])
def test_a_town_is_protected_while_at_least_one_window_is_open(open_windows, expected):
    got = protected(np.array(open_windows, dtype=np.int64))
    assert got.dtype == bool
    np.testing.assert_array_equal(got, expected)


# (targetable, open windows, may be struck or assaulted)
TARGET_TABLE = [
    (True, 0, True),
    (True, 1, False),    # protected
    (True, 3, False),
    (False, 0, False),   # a ceasefire never makes an untargetable town targetable
    (False, 2, False),
]


@pytest.mark.parametrize(("targetable", "windows", "expected"), TARGET_TABLE)
def test_targetable_under_ceasefire_is_targetable_and_not_protected(targetable, windows, expected):
    got = targetable_under_ceasefire(np.array([targetable]), np.array([windows]))
    assert got.tolist() == [expected]


def test_closing_the_last_window_makes_a_town_targetable_again():
    tg = np.array([True, True])
    windows = np.array([2, 1])
    windows -= 1  # one window closes on each town
    np.testing.assert_array_equal(targetable_under_ceasefire(tg, windows), [False, True])
