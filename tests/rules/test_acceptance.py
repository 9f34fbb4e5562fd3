"""sim/rules/acceptance.py: the value of a deal, of fighting on, the logistic choice, the coalition.

Known values are worked by hand from the module's equations::

    V_deal  = deal_base + passage_value * hardliner_share * s - disarm_risk * (1 - g) / k
    V_fight = hold_value * p_hold * resolve + hope0 * exp(-hope_decay * day) - pain
    P       = 1 / (1 + exp(-(V_deal - V_fight) / noise))
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.rules.acceptance import (
    accept_probability,
    accumulate_pain,
    bloc_pain,
    coalition_accepts,
    deal_value,
    disarm_stake,
    fight_value,
    pain_increment,
)

# (phases, safe_passage, guarantees, hardliner_share, deal_base, passage_value, disarm_risk, value)
DEAL_TABLE = [
    (1, False, 0.0, 0.5, 1.0, 2.0, 3.0, -2.0),   # disarm at once, no guarantee: the full risk
    (3, False, 0.0, 0.5, 1.0, 2.0, 3.0, 0.0),    # three phases: a third of it
    (3, True, 0.5, 0.5, 1.0, 2.0, 3.0, 1.5),     # 1 + 2*0.5 - 3*0.5/3
    (1, True, 1.0, 1.0, 0.0, 2.0, 3.0, 2.0),     # full guarantees: no disarm risk left
    (0, False, 0.0, 0.0, 0.0, 0.0, 2.0, -2.0),   # zero phases counts as one
    (2, True, 0.0, 0.0, 1.0, 5.0, 0.0, 1.0),     # passage is worth nothing without hardliners
]


@pytest.mark.parametrize(("k", "s", "g", "h", "base", "pv", "risk", "value"), DEAL_TABLE)
def test_deal_value_matches_hand_computed_values(k, s, g, h, base, pv, risk, value):
    assert deal_value(k, s, g, h, base, pv, risk) == pytest.approx(value)


def test_more_phases_never_lower_the_deal_value_and_tend_to_the_riskless_deal():
    values = [deal_value(k, False, 0.2, 0.3, 1.0, 2.0, 4.0) for k in range(1, 50)]
    assert all(b > a for a, b in zip(values, values[1:], strict=False))
    assert values[-1] < 1.0 and values[-1] == pytest.approx(1.0, abs=0.1)


def test_more_guarantees_raise_the_deal_value_and_full_guarantees_remove_the_phasing_gain():
    values = [deal_value(1, False, g, 0.3, 1.0, 2.0, 4.0) for g in np.linspace(0, 1, 11)]
    assert all(b > a for a, b in zip(values, values[1:], strict=False))
    assert deal_value(1, False, 1.0, 0.3, 1.0, 2.0, 4.0) == deal_value(7, False, 1.0, 0.3, 1.0, 2.0, 4.0)


def test_safe_passage_adds_passage_value_times_the_hardliner_share():
    with_p = deal_value(2, True, 0.3, 0.4, 1.0, 2.5, 3.0)
    without = deal_value(2, False, 0.3, 0.4, 1.0, 2.5, 3.0)
    assert with_p - without == pytest.approx(2.5 * 0.4)


# (p_hold, resolve, day, pain, hold_value, hope0, hope_decay, value)
FIGHT_TABLE = [
    (0.5, 2.0, 0.0, 1.0, 3.0, 1.0, 0.1, 3.0),                # 3*0.5*2 + 1 - 1
    (0.5, 2.0, math.log(2) / 0.1, 1.0, 3.0, 1.0, 0.1, 2.5),  # hope halved
    (1.0, 1.0, math.inf, 0.0, 2.0, 5.0, 0.1, 2.0),           # hope gone for good
    (0.0, 1.0, 0.0, 0.0, 2.0, 0.0, 0.1, 0.0),                # nothing held, no hope, no pain
    (1.0, 1.0, 10.0, 0.5, 1.0, 2.0, 0.0, 2.5),               # no decay: hope stays at hope0
]


@pytest.mark.parametrize(("p", "r", "day", "pain", "hv", "h0", "hd", "value"), FIGHT_TABLE)
def test_fight_value_matches_hand_computed_values(p, r, day, pain, hv, h0, hd, value):
    assert fight_value(p, r, day, pain, hv, h0, hd) == pytest.approx(value)


def test_fighting_on_is_worth_less_with_more_pain_less_ground_and_later_days():
    base = fight_value(0.6, 1.0, 5.0, 1.0, 2.0, 1.0, 0.2)
    assert fight_value(0.6, 1.0, 5.0, 2.0, 2.0, 1.0, 0.2) < base
    assert fight_value(0.3, 1.0, 5.0, 1.0, 2.0, 1.0, 0.2) < base
    assert fight_value(0.6, 1.0, 9.0, 1.0, 2.0, 1.0, 0.2) < base


@pytest.mark.parametrize(("v_deal", "v_fight", "noise", "p"), [
    (1.0, 1.0, 0.5, 0.5),                          # indifferent
    (math.log(3), 0.0, 1.0, 0.75),                 # odds of 3 to 1
    (0.0, math.log(3), 1.0, 0.25),
    (2.0 * math.log(3), 0.0, 2.0, 0.75),           # the noise scales the difference
])
def test_accept_probability_matches_the_logistic_by_hand(v_deal, v_fight, noise, p):
    assert accept_probability(v_deal, v_fight, noise) == pytest.approx(p)


@pytest.mark.parametrize("diff", [1e3, 1e6, 1e300, -1e3, -1e6, -1e300])
def test_accept_probability_stays_a_probability_for_huge_value_gaps(diff):
    p = accept_probability(diff, 0.0, 0.01)
    assert 0.0 <= p <= 1.0
    assert (p > 0.999) if diff > 0 else (p < 0.001)


def test_accept_probability_is_symmetric_between_deal_and_fight():
    for a, b in [(0.3, 1.2), (-2.0, 0.5), (4.0, 4.1)]:
        assert accept_probability(a, b, 0.7) + accept_probability(b, a, 0.7) == pytest.approx(1.0)


def test_more_pain_means_a_higher_probability_of_accepting():
    deal = deal_value(1, False, 0.0, 0.3, 1.0, 2.0, 3.0)
    probs = [accept_probability(deal, fight_value(0.7, 1.0, 3.0, pain, 2.0, 1.0, 0.1), 0.5)
             for pain in np.linspace(0.0, 10.0, 21)]
    assert all(b > a for a, b in zip(probs, probs[1:], strict=False))
    assert probs[0] < 0.5 < probs[-1]


def test_more_noise_pulls_the_choice_towards_a_coin_toss():
    ps = [accept_probability(1.0, 0.0, n) for n in (0.1, 0.5, 2.0, 10.0)]
    assert all(b < a for a, b in zip(ps, ps[1:], strict=False))
    assert all(p > 0.5 for p in ps)


# (accepts, weights, threshold, signs)
COALITION_TABLE = [
    ([True, False], [0.6, 0.4], 0.6, True),          # exactly at the threshold signs
    ([True, False], [0.6, 0.4], 0.61, False),
    ([False, True], [0.6, 0.4], 0.5, False),
    ([True, True, False], [1.0, 1.0, 2.0], 0.5, True),
    ([True, True], [1.0, 3.0], 1.0, True),           # unanimity
    ([True, False], [1.0, 1e-9], 1.0, False),        # unanimity: one tiny refuser blocks
    ([False, False], [0.0, 0.0], 0.5, False),        # no strength at all: no deal
    ([True], [0.0], 0.0, False),
    ([], [], 0.0, False),                            # no faction: no deal
]


@pytest.mark.parametrize(("accepts", "weights", "threshold", "signs"), COALITION_TABLE)
def test_the_joint_command_signs_when_accepting_strength_reaches_the_threshold(accepts, weights,
                                                                               threshold, signs):
    got = coalition_accepts(np.array(accepts, dtype=bool), np.array(weights, dtype=float), threshold)
    assert got is signs


def test_the_coalition_result_ignores_the_scale_of_the_weights():
    acc = np.array([True, False, True])
    w = np.array([2.0, 3.0, 1.0])
    for t in (0.3, 0.5, 0.51, 0.7):
        assert coalition_accepts(acc, w, t) == coalition_accepts(acc, 1000.0 * w, t)


# --- pain (issue 16: moved out of the faction agent and the model's step) -------------------------
# (strikes, deaths, displaced, scale, expected) with per_strike 0.1, per_death 0.5, per_displaced 2
PAIN_TABLE = [
    (0.0, 0.0, 0.0, 1.0, 0.0),
    (10.0, 0.0, 0.0, 1.0, 1.0),
    (0.0, 4.0, 0.0, 1.0, 2.0),
    (0.0, 0.0, 1000.0, 1.0, 2.0),      # per thousand displaced
    (0.0, 4.0, 1000.0, 0.1, 40.0),     # a tenth of the people: counted at full scale (x10)
    (2.0, 2.0, 500.0, 0.5, 4.2),       # strikes are not scaled
]


@pytest.mark.parametrize(("strikes", "deaths", "displaced", "scale", "expected"), PAIN_TABLE)
def test_pain_increment_matches_hand_values(strikes, deaths, displaced, scale, expected):
    assert pain_increment(strikes, deaths, displaced, scale, 0.1, 0.5, 2.0) == pytest.approx(expected)


def test_pain_increment_grows_with_each_cause():
    base = pain_increment(1.0, 1.0, 100.0, 1.0, 0.1, 0.5, 2.0)
    assert pain_increment(2.0, 1.0, 100.0, 1.0, 0.1, 0.5, 2.0) > base
    assert pain_increment(1.0, 2.0, 100.0, 1.0, 0.1, 0.5, 2.0) > base
    assert pain_increment(1.0, 1.0, 200.0, 1.0, 0.1, 0.5, 2.0) > base


@pytest.mark.parametrize(("pain", "inc", "decay", "dt", "expected"), [
    (0.0, 1.0, 0.5, 0.25, 1.0),
    (2.0, 0.0, 0.0, 1.0, 2.0),                      # no decay: pain stays
    (2.0, 0.0, math.log(2.0), 1.0, 1.0),            # half-life of a day
    (4.0, 1.0, math.log(2.0), 2.0, 2.0),
])
def test_pain_fades_and_accumulates(pain, inc, decay, dt, expected):
    assert accumulate_pain(pain, inc, decay, dt) == pytest.approx(expected)


def test_pain_fades_more_over_longer_ticks():
    vals = [accumulate_pain(3.0, 0.0, 0.4, dt) for dt in (0.0, 0.25, 1.0, 4.0)]
    assert vals[0] == 3.0 and all(a > b for a, b in zip(vals, vals[1:], strict=False))


# (increments, strengths, blocs, n_blocs, expected)
BLOC_TABLE = [
    ([1.0, 3.0], [1.0, 1.0], [0, 0], 1, [2.0]),                  # equal strengths: the mean
    ([1.0, 3.0], [3.0, 1.0], [0, 0], 1, [1.5]),                  # strength-weighted
    ([1.0, 3.0, 9.0], [1.0, 1.0, 5.0], [0, 1, -1], 2, [1.0, 3.0]),  # -1: outside any bloc
    ([5.0], [0.0], [0], 1, [None]),                              # no strength: nothing pooled
    ([], [], [], 2, [None, None]),
]


@pytest.mark.parametrize(("incs", "strengths", "blocs", "n", "expected"), BLOC_TABLE)
def test_a_blocs_pain_is_the_strength_weighted_mean_of_its_factions(incs, strengths, blocs, n,
                                                                   expected):
    got = bloc_pain(incs, strengths, blocs, n)
    assert len(got) == n
    for g, e in zip(got, expected, strict=True):
        assert g is None if e is None else g == pytest.approx(e)


def test_a_blocs_pain_lies_between_its_factions_pains():
    got = bloc_pain([0.5, 2.0, 7.0], [10.0, 3.0, 1.0], [0, 0, 0], 1)[0]
    assert got is not None and 0.5 <= got <= 7.0


# --- the arsenal as a lever of the talks (FactionSpec.heavy_weapons, negotiation.weapons_risk) ----
@pytest.mark.parametrize(("weapons", "risk", "stake"), [
    (0, 0.0, 1.0), (200, 0.0, 1.0),      # weapons_risk 0 (the default): the arsenal does not weigh
    (0, 0.01, 1.0), (100, 0.01, 2.0), (200, 0.005, 2.0), (30, 0.1, 4.0)])
def test_disarm_stake_matches_hand_values(weapons, risk, stake):
    assert disarm_stake(weapons, risk) == pytest.approx(stake)


def test_a_stake_of_one_leaves_the_deal_value_exactly_as_without_it():
    for args in [(1, False, 0.2, 0.3, 1.0, 2.0, 4.0), (3, True, 0.5, 0.9, -1.0, 1.5, 12.3)]:
        assert deal_value(*args, disarm_stake(200, 0.0)) == deal_value(*args)


def test_more_heavy_weapons_lower_the_deal_value_unless_fully_guaranteed():
    vals = [deal_value(1, False, 0.2, 0.3, 1.0, 2.0, 4.0, disarm_stake(w, 0.01))
            for w in (0, 10, 100, 1000)]
    assert all(a > b for a, b in zip(vals, vals[1:], strict=False))
    full = {deal_value(1, False, 1.0, 0.3, 1.0, 2.0, 4.0, disarm_stake(w, 0.01)) for w in (0, 1000)}
    assert len(full) == 1
