"""sim/rules/territory.py: the control state machine, sides, distance to the regime, ground capture,
column-safe names and the area share."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.rules.territory import (
    LEGAL_CONTROL,
    Control,
    assaulted,
    capture_probability,
    distance_to_regime,
    ground_pressure,
    legal_control_change,
    rebel_side,
    regime_share_area,
    regime_side,
    slug,
)

R, N, C, G = Control.REBEL, Control.NEGOTIATING, Control.RECONCILED, Control.REGIME

# every (old, new) pair and whether a town may make that move, as in the module's docstring
TRANSITIONS = [
    (R, R, False), (R, N, True), (R, C, False), (R, G, True),     # a deal needs talks first
    (N, R, True), (N, N, False), (N, C, True), (N, G, True),      # talks fail, succeed, or force
    (C, R, False), (C, N, False), (C, C, False), (C, G, False),   # regime-side: final
    (G, R, False), (G, N, False), (G, C, False), (G, G, False),
]


def test_the_transition_table_covers_every_pair_of_states():
    assert {(a, b) for a, b, _ in TRANSITIONS} == {(a, b) for a in Control for b in Control}
    assert set(LEGAL_CONTROL) == set(Control)


@pytest.mark.parametrize(("old", "new", "legal"), TRANSITIONS)
def test_legal_control_changes(old, new, legal):
    assert legal_control_change(int(old), int(new)) is legal
    assert (new in LEGAL_CONTROL[old]) is legal


def test_an_unknown_control_code_is_an_error_not_a_legal_move():
    with pytest.raises(ValueError):
        legal_control_change(0, 7)


def test_every_town_is_on_exactly_one_side():
    control = np.array([R, N, C, G], dtype=np.int8)
    np.testing.assert_array_equal(regime_side(control), [False, False, True, True])
    np.testing.assert_array_equal(rebel_side(control), [True, True, False, False])
    assert (regime_side(control) ^ rebel_side(control)).all()


def test_distance_to_regime_is_the_nearest_regime_side_town():
    dist = np.array([[0.0, 4.0, 9.0], [4.0, 0.0, 5.0], [9.0, 5.0, 0.0]])
    got = distance_to_regime(np.array([R, N, G]), dist)
    np.testing.assert_allclose(got, [9.0, 5.0, 0.0])
    got = distance_to_regime(np.array([C, R, G]), dist)
    np.testing.assert_allclose(got, [0.0, 4.0, 0.0])


def test_with_no_regime_side_town_every_distance_is_infinite():
    got = distance_to_regime(np.array([R, N]), np.array([[0.0, 1.0], [1.0, 0.0]]))
    assert np.isinf(got).all() and got.shape == (2,)


def test_a_town_out_of_reach_of_every_regime_town_is_infinitely_far():
    dist = np.array([[0.0, math.inf], [math.inf, 0.0]])
    np.testing.assert_array_equal(distance_to_regime(np.array([R, G]), dist), [math.inf, 0.0])


# (on_front, axis, defence, ground_capacity, k_capture, dt, probability)
CAPTURE_TABLE = [
    (True, 1.0, 1.0, 2.0, math.log(2), 1.0, 0.5),     # pressure 2: excess 1
    (True, 1.0, 1.0, 3.0, math.log(2), 1.0, 0.75),    # pressure 3: excess 2
    (True, 0.5, 1.0, 4.0, math.log(2), 1.0, 0.5),     # half the axis weight halves the pressure
    (True, 1.0, 2.0, 2.0, 5.0, 1.0, 0.0),             # pressure 1: the defence holds
    (True, 0.0, 1.0, 9.0, 5.0, 1.0, 0.0),             # no open axis here: no assault
    (False, 1.0, 1.0, 9.0, 5.0, 1.0, 0.0),            # off the front: never
    (True, 1.0, 1.0, 9.0, 0.0, 1.0, 0.0),             # zero capture rate
    (True, 1.0, 1.0, 0.0, 5.0, 1.0, 0.0),             # no ground capacity
    (True, 1.0, 1.0, 9.0, 5.0, 0.0, 0.0),             # zero-length tick
]


@pytest.mark.parametrize(("front", "axis", "defence", "cap", "k", "dt", "prob"), CAPTURE_TABLE)
def test_capture_probability_matches_hand_values(front, axis, defence, cap, k, dt, prob):
    got = capture_probability(np.array([front]), np.array([axis]), np.array([defence]), cap, k, dt)
    assert got[0] == pytest.approx(prob)


def test_a_vanishing_defence_is_certain_capture_on_the_front_and_never_a_nan():
    tiny = np.array([1e-320, 1e-320])
    got = capture_probability(np.array([True, False]), np.ones(2), tiny, 2.0, 0.5, 1.0)
    np.testing.assert_array_equal(got, [1.0, 0.0])
    got = capture_probability(np.array([True]), np.ones(1), tiny[:1], 2.0, 0.0, 1.0)
    assert got.tolist() == [0.0]


def test_capture_is_more_likely_with_more_ground_capacity_and_less_defence():
    front, axis = np.ones(5, bool), np.ones(5)
    defence = np.array([0.5, 1.0, 1.5, 2.0, 4.0])
    p = capture_probability(front, axis, defence, 5.0, 0.3, 0.25)
    assert (np.diff(p) < 0).all() and ((p >= 0) & (p <= 1)).all()
    caps = [capture_probability(front[:1], axis[:1], defence[:1], c, 0.3, 0.25)[0] for c in (1.0, 2.0, 4.0)]
    assert caps[0] < caps[1] < caps[2]


def test_ground_pressure_is_capacity_times_axis_over_defence_and_inf_for_no_defence():
    got = ground_pressure(np.array([1.0, 0.5, 1.0]), np.array([2.0, 1.0, 0.0]), 3.0)
    np.testing.assert_array_equal(got, [1.5, 1.5, np.inf])


def test_the_ground_forces_assault_only_the_most_pressed_towns_that_can_fall():
    front = np.array([True, True, True, True, False, True])
    axis = np.array([1.0, 0.9, 1.0, 0.2, 1.0, 0.95])
    defence = np.ones(6)
    # pressure 2 * axis: town 3 (0.4) cannot fall, town 4 is off the front; of the rest, the
    # two most pressed are towns 0 and 2 (a tie at 2.0, both kept), then 5 (1.9), then 1 (1.8)
    np.testing.assert_array_equal(assaulted(front, axis, defence, 2.0, 2.0),
                                  [True, False, True, False, False, False])
    np.testing.assert_array_equal(assaulted(front, axis, defence, 2.0, 3.7),
                                  [True, False, True, False, False, True])
    # no limit: every town that can fall is assaulted, the one that cannot is not
    np.testing.assert_array_equal(assaulted(front, axis, defence, 2.0, 1000.0),
                                  [True, True, True, False, False, True])


def test_a_tie_in_pressure_goes_to_the_lowest_town_index_and_one_town_is_always_assaulted():
    front, axis, defence = np.ones(4, bool), np.ones(4), np.ones(4)
    np.testing.assert_array_equal(assaulted(front, axis, defence, 3.0, 1.0),
                                  [True, False, False, False])
    np.testing.assert_array_equal(assaulted(front, axis, defence, 3.0, 0.2),
                                  [True, False, False, False])
    # a stronger defence lowers the pressure: the weaker-held town goes first
    np.testing.assert_array_equal(
        assaulted(front, axis, np.array([2.0, 1.0, 1.0, 1.0]), 3.0, 1.0),
        [False, True, False, False])


@pytest.mark.parametrize(("name", "expected"), [
    ("Rif Dimashq", "rif_dimashq"),
    ("  Daraa  ", "daraa"),
    ("As-Suwayda'", "as_suwayda"),
    ("Quneitra (occupied)", "quneitra_occupied"),
    ("Izra 2", "izra_2"),
    ("", "area"),                # nothing left: a placeholder, never an empty column name
    ("!!!", "area"),
])
def test_slug_makes_column_safe_lower_case_names(name, expected):
    assert slug(name) == expected


@pytest.mark.parametrize(("control", "area", "share"), [
    ([R, G], [1.0, 3.0], 0.75),
    ([C, N, G, R], [1.0, 1.0, 1.0, 1.0], 0.5),   # reconciled and held both count
    ([R, N], [2.0, 2.0], 0.0),
    ([C, G], [2.0, 5.0], 1.0),
    ([G], [0.0], 0.0),                             # no area at all: 0, not a NaN
    ([], [], 0.0),
])
def test_regime_share_area_matches_hand_values(control, area, share):
    got = regime_share_area(np.array(control, dtype=np.int64), np.array(area, dtype=float))
    assert isinstance(got, float)
    assert got == pytest.approx(share)
