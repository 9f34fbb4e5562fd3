"""Rule: where the offensive is: the plan's dated axes, and the offensive going on after them.

An **axis** is a focus of the regime's effort (lat/lon, or a town) with a reach ``radius_km``
and a ``weight``, open from a day. Its weight at town i is ``weight * exp(-(d_i / radius_km)^2)``
(a Gaussian reach: full strength near the focus, fading fast beyond ``radius_km``);
the offensive's weight at i is the maximum over the open axes (:func:`axis_weight`). This
weight drives everything that "follows the offensive": ground pressure and capture
(:mod:`sim.rules.territory`), strike priority (:mod:`sim.rules.bombardment`), flight from the
front (:mod:`sim.rules.flight`), the mediator's offers (:mod:`sim.rules.offers`) and local
pressure to settle (:mod:`sim.rules.reconciliation`). Towns far from every open axis are
quiet: the offensive does not press the whole front line at once.

**Dated axes** are the government's operational plan: inputs of the scenario
(``[[regime.axes]]``, each with its source), never fitted to outcomes.

**Continuation** (``regime.continue_offensive``): once the last dated axis has opened, when
the offensive has stalled (no town has changed hands, and no axis opened, for
``regime.next_axis_days``) and no comprehensive talks are at the table, the regime opens a new
axis at the rebel-held town on the front with the most rebel-held people within
``regime.auto_axis_radius_km`` (:func:`next_axis_town`), with weight
``regime.auto_axis_weight`` (never twice at the same town); with no axis open at all it
starts at once. An axis whose area
has been taken or settled stalls, and so does one too weak to take its towns: either way the
effort moves on or concentrates. So an offensive goes on until every rebel area is taken or
settled, unless the scenario stops it (``continue_offensive = false``, ``ground_capacity = 0``,
a ceasefire over the remaining towns).

Parameters: ``regime.axes``, ``regime.continue_offensive``, ``regime.next_axis_days``,
``regime.auto_axis_radius_km``, ``regime.auto_axis_weight``. Sources: the dated axes of a
case are cited in its scenario file (Daraa: OCHA flash updates of 22 and 26 June 2018 and the
article, lines 14-17). Calibrated by: nothing directly; the continuation acts only after the
last dated axis, so in the Daraa case it shapes the forecast after 5 July, never the fit.
"""

from __future__ import annotations

import numpy as np


def axis_weight(open_dist_km: list[np.ndarray], radii_km: list[float],
                weights: list[float], n_towns: int) -> np.ndarray:
    """Weight of the open axes at each town: ``max_a weight_a * exp(-(d_ia / radius_a)^2)``.

    ``open_dist_km[a]`` are the towns' distances (km) to open axis a's focus.
    """
    w = np.zeros(n_towns)
    for d, r, wt in zip(open_dist_km, radii_km, weights, strict=True):
        with np.errstate(over="ignore"):  # a tiny radius: d / r -> inf, exp(-inf) = 0
            w = np.maximum(w, wt * np.exp(-np.square(d / r)))
    return w


def next_axis_town(rebel: np.ndarray, on_front: np.ndarray, people: np.ndarray,
                   dist_km: np.ndarray, radius_km: float) -> int | None:
    """Focus of the next axis: the rebel-held front town with the most rebel-held people
    within ``radius_km`` (any rebel-held town if none is on the front); None if no rebel town.

    Ties go to the lowest town index, so the choice is deterministic.
    """
    if not rebel.any():
        return None
    cand = rebel & on_front
    if not cand.any():
        cand = rebel
    reach = (dist_km <= radius_km) & rebel[None, :]
    mass = reach.astype(np.float64) @ np.maximum(people, 0).astype(np.float64)
    # a town with nobody left near it still counts (the offensive goes on): +1 per rebel town
    score = np.where(cand, mass + reach.sum(axis=1), -np.inf)
    return int(np.argmax(score))


def continuation_due(day: float, last_plan_day: float, any_open: bool, last_progress_day: float,
                     next_axis_days: float) -> bool:
    """Whether the next (rule-made) axis opens now.

    Only once the plan's last dated axis has opened; then at once if no axis is open, else
    once the offensive has made no progress (a town changing hands, an axis opening) for
    ``next_axis_days``. All times on one clock (the model passes integer ticks,
    :mod:`sim.rules.clock`).
    """
    if day < last_plan_day:
        return False
    return not any_open or day - last_progress_day >= next_axis_days
