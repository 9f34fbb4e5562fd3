"""Rule: whether a faction accepts the mediator's terms (bargaining under a commitment problem).

For faction f facing terms (phases k, safe passage s in {0,1}, guarantees g)::

    V_deal  = deal_base + passage_value * hardliner_share_f * s
              - disarm_risk * (1 + weapons_risk * W_f) * (1 - g) / k
    V_fight = hold_value * p_hold_f * resolve_f + hope0 * exp(-hope_decay * day) - pain_f
    P(accept) = logistic((V_deal - V_fight) / noise)

Disarming at once with no credible guarantee is Fearon's (1995) commitment problem: phasing
spreads the risk (the 1/k term) and guarantees reduce it. The more heavy weapons ``W_f`` a
faction must hand over (``FactionSpec.heavy_weapons``), the more it stakes on the other side's
promises: each piece raises its disarmament cost by ``negotiation.weapons_risk``
(:func:`disarm_stake`; 0, the default, leaves the arsenal out of the talks: a lever for
scenarios, not calibrated). Safe passage is an outside option,
worth most to hardliners. ``pain_f`` is the coercion of Schelling (1966): strikes on the
faction's towns, its civilians' deaths and displacement (accumulated, fading at
``negotiation.pain_decay``). ``p_hold_f`` is the share of its towns still held (the military
balance, Slantchev 2003). The joint command accepts when factions holding at least
``negotiation.coalition_threshold`` of the negotiating strength accept; a faction of kind
``refuses_talks`` never accepts.

**Pain** (:func:`pain_increment`, :func:`accumulate_pain`): each tick a faction's pain fades
at ``negotiation.pain_decay`` and grows by ``pain_per_strike`` per strike on its towns,
``pain_per_death`` per civilian killed there and ``pain_per_displaced`` per thousand newly
displaced (deaths and displaced at full scale: a run at ``world.population_scale`` s counts
them / s). A bloc's talks feel the strength-weighted mean of its factions' increments
(:func:`bloc_pain`).

Parameters: ``negotiation.*``. Calibrated by: talks collapsing over the one-go demand
(article lines 4, 12) and the return to talks after the blitz (lines 6-9).
"""

from __future__ import annotations

import math

import numpy as np


def disarm_stake(heavy_weapons: float, weapons_risk: float) -> float:
    """How much a faction's arsenal multiplies its cost of disarming: ``1 + weapons_risk *
    heavy_weapons`` (1 with no weapons or ``weapons_risk`` 0)."""
    return 1.0 + weapons_risk * heavy_weapons


def deal_value(phases: int, safe_passage: bool, guarantees: float, hardliner_share: float,
               deal_base: float, passage_value: float, disarm_risk: float,
               stake: float = 1.0) -> float:
    """Value of accepting the terms for a faction (utility); ``stake`` from
    :func:`disarm_stake`."""
    return (deal_base + passage_value * hardliner_share * float(safe_passage)
            - disarm_risk * stake * (1.0 - guarantees) / max(phases, 1))


def fight_value(p_hold: float, resolve: float, day: float, pain: float, hold_value: float,
                hope0: float, hope_decay: float) -> float:
    """Value of fighting on (utility): ground held, hope of outside help, minus pain."""
    return hold_value * p_hold * resolve + hope0 * math.exp(-hope_decay * day) - pain


#: Largest utility gap (in units of ``noise``) the logistic sees: beyond it the probability is
#: 0 or 1 to double precision (exp(-60) ~ 1e-26), and exp() cannot overflow. Numerical, not a
#: behavioural parameter.
LOGIT_CLIP = 60.0


def accept_probability(v_deal: float, v_fight: float, noise: float) -> float:
    """Logistic choice between the deal and fighting on."""
    z = (v_deal - v_fight) / noise
    return 1.0 / (1.0 + math.exp(-max(min(z, LOGIT_CLIP), -LOGIT_CLIP)))


def coalition_accepts(accepts: np.ndarray, weights: np.ndarray, threshold: float) -> bool:
    """The joint command signs if the accepting factions hold enough of the strength."""
    total = float(weights.sum())
    if total <= 0:
        return False
    return float(weights[accepts].sum()) / total >= threshold


#: ``negotiation.pain_per_displaced`` is per this many persons displaced.
DISPLACED_PER_UNIT = 1000.0


def pain_increment(strikes: float, deaths: float, new_displaced: float, population_scale: float,
                   per_strike: float, per_death: float, per_displaced: float) -> float:
    """One tick's pain for a faction from the strikes on its towns, its civilians killed and
    newly displaced (persons of a run at ``population_scale``, counted at full scale)."""
    deaths, new_displaced = deaths / population_scale, new_displaced / population_scale
    return (per_strike * strikes + per_death * deaths
            + per_displaced * new_displaced / DISPLACED_PER_UNIT)


def accumulate_pain(pain: float, increment: float, pain_decay: float, dt_days: float) -> float:
    """Pain after one tick: the old pain fading at ``pain_decay`` (per day) plus the increment."""
    return pain * math.exp(-pain_decay * dt_days) + increment


def bloc_pain(increments: list[float], strengths: list[float], blocs: list[int],
              n_blocs: int) -> list[float | None]:
    """Each bloc's pain this tick: the strength-weighted mean of its factions' increments
    (factions in the order given; ``blocs[k]`` is faction k's bloc, -1 for none); None for a
    bloc with no strength."""
    inc = [0.0] * n_blocs
    wsum = [0.0] * n_blocs
    for d, w, b in zip(increments, strengths, blocs, strict=True):
        if b >= 0:
            inc[b] += d * w
            wsum[b] += w
    return [inc[b] / wsum[b] if wsum[b] > 0 else None for b in range(n_blocs)]
