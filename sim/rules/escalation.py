"""Rule: the level of bombardment as a function of the negotiation (coercive diplomacy).

``level`` multiplies the regime's daily strike capacity on towns whose factions negotiate:

* no talks: 1 (the offensive's ordinary tempo); on a town that has been offered local terms
  (:mod:`sim.rules.offers`) and not yet settled, ``regime.ultimatum_factor`` (the ultimatum's
  coercion);
* talks under way (talks, offer, rejected): ``regime.talks_level`` (the days of calm);
* after a collapse (collapsed, escalation): ``regime.escalation_factor`` (the blitz);
* after the rebels return (resumed): ``regime.halt_level`` (strikes halted);
* after a deal (deal, handover, implemented) or the end of talks: 0 on the towns that signed.

Towns of a faction that refuses all talks are bombed at the ordinary tempo throughout; a town
in local talks is bombed at no more than ``regime.talks_level``. With several negotiating blocs
(:mod:`sim.rules.negotiation`), each town's level follows the state of its own bloc's talks.

Calibrated by: the surge of strikes when the offers came (46 civilians killed on 27-28 June,
seeds/record.toml, days 8-9) for ``ultimatum_factor``; the heaviest bombing of the offensive in
the day after talks fell apart (article lines 4-5, 11), the halt to strikes when rebels
announced their return (line 10), the several days of calm before (line 21).
"""

from __future__ import annotations

import numpy as np

from sim.rules.negotiation import NegState


def escalation_level(state: NegState, escalation_factor: float, talks_level: float,
                     halt_level: float) -> float:
    """Bombardment multiplier on negotiating factions' towns for a negotiation state."""
    if state == NegState.NO_TALKS:
        return 1.0
    if state in (NegState.TALKS, NegState.OFFER, NegState.REJECTED):
        return talks_level
    if state in (NegState.COLLAPSED, NegState.ESCALATION):
        return escalation_factor
    if state == NegState.RESUMED:
        return halt_level
    return 0.0


def town_levels(state: NegState, negotiable: np.ndarray, offered: np.ndarray,
                negotiating: np.ndarray, escalation_factor: float, talks_level: float,
                halt_level: float, ultimatum_factor: float) -> np.ndarray:
    """Bombardment multiplier of each town, with one negotiating bloc
    (:func:`town_levels_by_bloc`).

    ``negotiable``: its faction negotiates; ``offered``: it holds the mediator's local terms;
    ``negotiating``: it is in local talks.
    """
    return town_levels_by_bloc([state], np.where(negotiable, 0, -1), offered, negotiating,
                               escalation_factor, talks_level, halt_level, ultimatum_factor)


def town_levels_by_bloc(states: list[NegState], town_bloc: np.ndarray, offered: np.ndarray,
                        negotiating: np.ndarray, escalation_factor: float, talks_level: float,
                        halt_level: float, ultimatum_factor: float) -> np.ndarray:
    """Bombardment multiplier of each town, from the state of its bloc's talks.

    ``states``: each bloc's talks state; ``town_bloc``: each town's bloc (-1: its faction does
    not negotiate, or it is not rebel-held on day 0). One bloc gives :func:`town_levels`.
    """
    per_town = np.ones(town_bloc.shape)
    for b, st in enumerate(states):
        sel = town_bloc == b
        if not sel.any():
            continue
        level = escalation_level(st, escalation_factor, talks_level, halt_level)
        vals = np.where(offered, ultimatum_factor, level) if st == NegState.NO_TALKS \
            else np.full(town_bloc.shape, level)
        per_town = np.where(sel, vals, per_town)
    return np.where(negotiating, np.minimum(per_town, talks_level), per_town)
