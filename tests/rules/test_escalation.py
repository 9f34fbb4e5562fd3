"""sim/rules/escalation.py: the bombardment multiplier for each negotiation state and each town.

tests/test_rules_offensive.py already pins the ultimatum on offered towns and the calm of local
talks in two states; this file pins the whole state table and the limits.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.rules.escalation import escalation_level, town_levels, town_levels_by_bloc
from sim.rules.negotiation import NegState

ESC, TALKS, HALT, ULT = 5.0, 0.25, 0.02, 3.0

LEVEL_TABLE = [
    (NegState.NO_TALKS, 1.0),       # the ordinary tempo
    (NegState.TALKS, TALKS),        # days of calm
    (NegState.OFFER, TALKS),
    (NegState.REJECTED, TALKS),
    (NegState.COLLAPSED, ESC),      # the blitz
    (NegState.ESCALATION, ESC),
    (NegState.RESUMED, HALT),       # strikes halted
    (NegState.DEAL, 0.0),           # signed: no more strikes
    (NegState.HANDOVER, 0.0),
    (NegState.IMPLEMENTED, 0.0),
    (NegState.ENDED, 0.0),
]


def test_the_level_table_covers_every_negotiation_state():
    assert {s for s, _ in LEVEL_TABLE} == set(NegState)


@pytest.mark.parametrize(("state", "level"), LEVEL_TABLE)
def test_escalation_level_of_each_negotiation_state(state, level):
    assert escalation_level(state, ESC, TALKS, HALT) == level


@pytest.mark.parametrize("state", list(NegState))
def test_towns_of_factions_outside_the_talks_are_bombed_at_the_ordinary_tempo(state):
    n = 3
    lv = town_levels(state, np.zeros(n, bool), np.ones(n, bool), np.zeros(n, bool), ESC, TALKS, HALT, ULT)
    np.testing.assert_array_equal(lv, np.ones(n))


@pytest.mark.parametrize("state", [s for s in NegState if s != NegState.NO_TALKS])
def test_an_offer_raises_the_level_only_before_comprehensive_talks(state):
    neg = np.array([True, True])
    offered = np.array([True, False])
    lv = town_levels(state, neg, offered, np.zeros(2, bool), ESC, TALKS, HALT, ULT)
    assert lv[0] == lv[1] == escalation_level(state, ESC, TALKS, HALT)


@pytest.mark.parametrize(("state", "expected"), [
    (NegState.NO_TALKS, TALKS),       # 1 capped at the calm of talks
    (NegState.ESCALATION, TALKS),     # the blitz capped
    (NegState.RESUMED, HALT),         # already lower: local talks never raise it
    (NegState.DEAL, 0.0),
])
def test_local_talks_cap_a_towns_level_at_the_talks_level_and_never_raise_it(state, expected):
    lv = town_levels(state, np.array([True]), np.array([True]), np.array([True]), ESC, TALKS, HALT, ULT)
    assert lv.tolist() == [expected]


def test_a_town_in_local_talks_outside_the_negotiation_is_still_calmed():
    lv = town_levels(NegState.ESCALATION, np.array([False]), np.array([False]), np.array([True]),
                     ESC, TALKS, HALT, ULT)
    assert lv.tolist() == [TALKS]


def test_town_levels_keep_the_shape_and_are_floats_for_no_towns_too():
    for n in (0, 4):
        lv = town_levels(NegState.TALKS, np.ones(n, bool), np.zeros(n, bool), np.zeros(n, bool),
                         ESC, TALKS, HALT, ULT)
        assert lv.shape == (n,) and lv.dtype == np.float64


@pytest.mark.parametrize("state", list(NegState))
def test_with_one_bloc_the_levels_by_bloc_are_the_single_talks_levels(state):
    town_bloc = np.array([0, 0, -1, 0, -1])
    offered = np.array([True, False, True, False, False])
    negotiating = np.array([False, False, False, True, True])
    by_bloc = town_levels_by_bloc([state], town_bloc, offered, negotiating, ESC, TALKS, HALT, ULT)
    single = town_levels(state, town_bloc == 0, offered, negotiating, ESC, TALKS, HALT, ULT)
    np.testing.assert_array_equal(by_bloc, single)


@pytest.mark.parametrize(("states", "expected"), [
    # town blocs: 0, 0, 1, 1, -1 (outside every bloc); town 0 offered, town 3 in local talks
    ([NegState.NO_TALKS, NegState.NO_TALKS], [ULT, 1.0, 1.0, TALKS, 1.0]),
    ([NegState.ESCALATION, NegState.NO_TALKS], [ESC, ESC, 1.0, TALKS, 1.0]),
    ([NegState.NO_TALKS, NegState.ESCALATION], [ULT, 1.0, ESC, TALKS, 1.0]),
    ([NegState.DEAL, NegState.RESUMED], [0.0, 0.0, HALT, HALT, 1.0]),
    ([NegState.TALKS, NegState.IMPLEMENTED], [TALKS, TALKS, 0.0, 0.0, 1.0]),
])
def test_each_towns_level_follows_its_own_blocs_talks(states, expected):
    town_bloc = np.array([0, 0, 1, 1, -1])
    offered = np.array([True, False, False, False, False])
    negotiating = np.array([False, False, False, True, False])
    lv = town_levels_by_bloc(states, town_bloc, offered, negotiating, ESC, TALKS, HALT, ULT)
    assert lv.tolist() == expected and lv.dtype == np.float64


def test_levels_by_bloc_keep_the_towns_shape_with_no_towns_or_no_blocs():
    for n in (0, 3):
        lv = town_levels_by_bloc([NegState.ESCALATION], np.full(n, -1), np.zeros(n, bool), np.zeros(n, bool),
                                 ESC, TALKS, HALT, ULT)
        assert lv.shape == (n,) and (lv == 1.0).all()
    lv = town_levels_by_bloc([], np.zeros(2, int), np.zeros(2, bool), np.zeros(2, bool), ESC, TALKS, HALT, ULT)
    assert lv.tolist() == [1.0, 1.0]
