"""sim/rules/returns.py: households go home once home is settled and no strike fell near it lately."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.rules.returns import quiet_towns, return_probability

# two towns 10 km apart
DIST = np.array([[0.0, 10.0], [10.0, 0.0]])
NEVER = -np.inf


@pytest.mark.parametrize(("last", "day", "quiet_days", "radius", "quiet"), [
    ([NEVER, NEVER], 5.0, 3.0, 8.0, [True, True]),        # never struck: quiet
    ([3.0, NEVER], 5.0, 2.0, 8.0, [True, True]),          # two days since: quiet
    ([3.0, NEVER], 5.0, 3.0, 8.0, [False, True]),         # only two of three days: not yet
    ([3.0, NEVER], 5.0, 3.0, 12.0, [False, False]),       # the strike on town 0 is near town 1
    ([NEVER, 4.5], 5.0, 1.0, 0.0, [True, False]),         # radius 0: a town's own strikes only
    ([5.0, NEVER], 5.0, 0.0, 8.0, [False, True]),         # a strike this tick is never quiet
])
def test_quiet_towns_table(last, day, quiet_days, radius, quiet):
    got = quiet_towns(np.array(last), DIST, day, quiet_days, radius)
    assert got.dtype == bool
    np.testing.assert_array_equal(got, quiet)


def test_unreachable_towns_never_disturb_each_others_quiet():
    dist = np.array([[0.0, math.inf], [math.inf, 0.0]])
    got = quiet_towns(np.array([9.0, NEVER]), dist, 10.0, 3.0, 1e9)
    np.testing.assert_array_equal(got, [False, True])


def test_quiet_comes_back_as_days_pass_without_strikes():
    last = np.array([2.0, NEVER])
    seq = [quiet_towns(last, DIST, d, 4.0, 12.0).tolist() for d in (3.0, 5.0, 6.0, 9.0)]
    assert seq == [[False, False], [False, False], [True, True], [True, True]]


def test_quiet_of_no_towns_is_empty():
    assert quiet_towns(np.zeros(0), np.zeros((0, 0)), 3.0, 1.0, 5.0).shape == (0,)


@pytest.mark.parametrize(("settled", "quiet", "rate", "dt", "prob"), [
    (True, True, math.log(2), 1.0, 0.5),
    (True, True, math.log(2), 2.0, 0.75),
    (True, False, 5.0, 1.0, 0.0),     # nobody returns under bombardment
    (False, True, 5.0, 1.0, 0.0),     # nor to a town still held by rebels
    (False, False, 5.0, 1.0, 0.0),
    (True, True, 0.0, 1.0, 0.0),      # zero rate
    (True, True, 2.0, 0.0, 0.0),      # zero-length tick
])
def test_return_probability_table(settled, quiet, rate, dt, prob):
    got = return_probability(np.array([settled]), np.array([quiet]), rate, dt)
    assert got.dtype == np.float64
    assert got[0] == pytest.approx(prob)


def test_return_probability_rises_with_the_rate_and_stays_below_one():
    probs = [return_probability(np.array([True]), np.array([True]), r, 0.25)[0] for r in (0.1, 1.0, 10.0, 1e3)]
    assert all(b > a for a, b in zip(probs, probs[1:], strict=False))
    assert probs[0] > 0.0 and probs[-1] <= 1.0
