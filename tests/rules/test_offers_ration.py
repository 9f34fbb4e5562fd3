"""sim/rules/offers.py: the mediator's officers present a limited number of offers a day, to
the towns the offensive presses most first."""

from __future__ import annotations

import numpy as np
import pytest

from sim.rules.offers import offer_budget, ration_offers


def test_the_budget_accrues_each_tick_and_keeps_at_most_a_days_worth():
    assert offer_budget(0.0, 8.0, 0.25) == pytest.approx(2.0)
    assert offer_budget(7.5, 8.0, 0.25) == pytest.approx(8.0)   # capped at one day's worth
    assert offer_budget(0.0, 0.5, 0.25) == pytest.approx(0.125)
    assert offer_budget(0.9, 0.5, 0.25) == pytest.approx(1.0)   # but at least one offer


def test_rationing_keeps_the_towns_the_axes_weigh_most_first_ties_to_the_lowest_index():
    new = np.array([True, True, False, True, True])
    axis = np.array([0.2, 0.9, 1.0, 0.5, 0.9])
    np.testing.assert_array_equal(ration_offers(new, axis, 2.7), [False, True, False, False, True])
    np.testing.assert_array_equal(ration_offers(new, axis, 1.0), [False, True, False, False, False])


def test_rationing_passes_every_offer_within_the_budget_and_none_without_one():
    new = np.array([True, False, True])
    axis = np.array([0.3, 0.9, 0.1])
    np.testing.assert_array_equal(ration_offers(new, axis, 5.0), new)
    assert not ration_offers(new, axis, 0.99).any()
    assert not ration_offers(new, axis, -1.0).any()
