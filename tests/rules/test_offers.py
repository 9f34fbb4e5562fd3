"""sim/rules/offers.py: the mediator's local terms (what tests/test_rules_offensive.py leaves out)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.rules.offers import new_offers, under_ultimatum


@pytest.mark.parametrize(("eligible", "offered", "axis", "gets"), [
    (True, False, 0.3, True),     # exactly at the reach counts
    (True, False, 0.2999, False),
    (True, True, 1.0, False),     # an offer is made once
    (False, False, 1.0, False),   # not eligible (refuses talks, settled, regime-held)
    (True, False, 0.0, False),    # the offensive has not reached it
])
def test_a_town_gets_terms_when_eligible_reached_and_not_yet_offered(eligible, offered, axis, gets):
    got = new_offers(10.0, 8.0, np.array([eligible]), np.array([offered]), np.array([axis]), 0.3)
    assert got.tolist() == [gets]


def test_offers_are_a_boolean_mask_of_the_towns_shape_before_and_after_their_day():
    for day in (0.0, 20.0):
        got = new_offers(day, 8.0, np.ones(3, bool), np.zeros(3, bool), np.ones(3), 0.3)
        assert got.dtype == bool and got.shape == (3,)
    assert new_offers(5.0, 0.0, np.zeros(0, bool), np.zeros(0, bool), np.zeros(0), 0.3).shape == (0,)


def test_a_zero_reach_offers_terms_to_every_eligible_town_and_an_infinite_one_to_none():
    elig = np.array([True, False, True])
    axis = np.array([0.0, 1.0, 0.7])
    np.testing.assert_array_equal(new_offers(9.0, 8.0, elig, np.zeros(3, bool), axis, 0.0), [True, False, True])
    assert not new_offers(9.0, 8.0, elig, np.zeros(3, bool), axis, np.inf).any()


@pytest.mark.parametrize(("offered", "rebel", "u"), [
    (True, True, 1.0), (True, False, 0.0), (False, True, 0.0), (False, False, 0.0)])
def test_only_an_offered_town_still_rebel_held_is_under_ultimatum(offered, rebel, u):
    got = under_ultimatum(np.array([offered]), np.array([rebel]))
    assert got.dtype == np.float64 and got[0] == u


def test_under_ultimatum_keeps_the_shape():
    assert under_ultimatum(np.zeros(0, bool), np.zeros(0, bool)).shape == (0,)
