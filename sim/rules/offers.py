"""Rule: the mediator's local offers: no town settles before it has been offered terms.

From ``mediator.offers_from_day`` on, the mediator (Russian officers, with the regime's
ultimatum behind them) presents local "reconciliation" terms to every rebel-held town whose
faction negotiates and that the offensive has reached: the weight of the open axes at the
town (:mod:`sim.rules.offensive`) is at least ``mediator.offer_reach``. A town keeps its offer
once made. Only offered towns can open local talks (:mod:`sim.rules.reconciliation`), and an
offered town that has not yet settled is bombed at ``regime.ultimatum_factor`` times the
ordinary tempo (:mod:`sim.rules.escalation`): the coercion behind the offer (Schelling 1966).

A scenario may ration the offers (``mediator.offers_per_day``, a lever; by default 1000, no
limit): the officers then go town by town, presenting at most that many offers a day
(:func:`offer_budget`: the day's allowance accrues tick by tick from ``offers_from_day``, and no
more than one day's worth is kept unused), to the towns where the offensive weighs most first
(:func:`ration_offers`). Fitted with the rest (issue 12), the ABC put it near its prior's ceiling
(13 a day) and fitted the record worse than without it, so the baseline does not ration.

Parameters: ``mediator.offers_from_day``, ``mediator.offer_reach``, ``mediator.offers_per_day``.
Calibrated by the public record to 5 July 2018 (seeds/record.toml): Russian officers presenting
terms to towns on days 8-10, the first local deals on days 9-12 (OCHA flash update No. 3), more
than 30 towns settled on days 13-15 (the article, line 3: "more than 30 towns have already
agreed") and the government's share of Daraa governorate on days 11-15 (SOHR).
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


def offer_budget(budget: float, offers_per_day: float, dt_days: float) -> float:
    """The offers the mediator may still present after a tick's allowance accrues: ``budget +
    offers_per_day * dt_days``, keeping at most one day's worth (at least one offer)."""
    return min(budget + offers_per_day * dt_days, max(offers_per_day, 1.0))


def ration_offers(new: np.ndarray, axis_w: np.ndarray, budget: float) -> np.ndarray:
    """At most ``floor(budget)`` of the ``new`` offers (a mask): the towns where the open axes
    weigh most first, ties to the lowest town index."""
    idx = np.flatnonzero(new)
    k = max(int(np.floor(budget)), 0)
    if idx.size <= k:
        return new
    keep = idx[np.lexsort((idx, -axis_w[idx]))][:k]
    out = np.zeros(new.shape, dtype=bool)
    out[keep] = True
    return out


def under_ultimatum(offered: np.ndarray, rebel: np.ndarray) -> np.ndarray:
    """1.0 where a town holds the mediator's terms and is still rebel-held (the ultimatum that
    drives flight, :mod:`sim.rules.flight`), else 0.0."""
    return (offered & rebel).astype(np.float64)
