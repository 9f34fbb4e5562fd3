"""Rule: the mediator's local offers: no town settles before it has been offered terms.

From ``mediator.offers_from_day`` on, the mediator (Russian officers, with the regime's
ultimatum behind them) presents local "reconciliation" terms to every rebel-held town whose
faction negotiates and that the offensive has reached: the weight of the open axes at the
town (:mod:`sim.rules.offensive`) is at least ``mediator.offer_reach``. A town keeps its offer
once made. Only offered towns can open local talks (:mod:`sim.rules.reconciliation`), and an
offered town that has not yet settled is bombed at ``regime.ultimatum_factor`` times the
ordinary tempo (:mod:`sim.rules.escalation`): the coercion behind the offer (Schelling 1966).

Parameters: ``mediator.offers_from_day``, ``mediator.offer_reach``. Calibrated by the public
record to 5 July 2018 (seeds/record.toml): Russian officers presenting terms to towns on days
8-10 and the first local deals on days 9-12 (OCHA flash update No. 3; the article, line 3:
"more than 30 towns have already agreed").
"""

from __future__ import annotations

import numpy as np


def new_offers(day: float, offers_from_day: float, eligible: np.ndarray, offered: np.ndarray,
               axis_w: np.ndarray, offer_reach: float) -> np.ndarray:
    """Towns that receive the mediator's terms this tick (a boolean mask).

    ``day`` and ``offers_from_day`` are on one clock (the model passes integer ticks,
    :mod:`sim.rules.clock`).

    ``eligible``: rebel-held towns with a committee whose faction negotiates.
    """
    if day < offers_from_day:
        return np.zeros(eligible.shape, dtype=bool)
    return eligible & ~offered & (axis_w >= offer_reach)


def under_ultimatum(offered: np.ndarray, rebel: np.ndarray) -> np.ndarray:
    """1.0 where a town holds the mediator's terms and is still rebel-held (the ultimatum that
    drives flight, :mod:`sim.rules.flight`), else 0.0."""
    return (offered & rebel).astype(np.float64)
