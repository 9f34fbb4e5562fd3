"""Rule: town-by-town "reconciliation" deals as a threshold cascade (Granovetter 1978).

A rebel town's committee feels the pressure::

    pressure_i = w_front * front_i + w_strikes * I_i + w_neigh * settled_neighbours_i
                 + w_deals * settled_total - w_hard * hardliners_i

(``front_i`` the axis-weighted presence of the front, ``I_i`` strikes per day on it, the
shares of its neighbours and of all negotiable towns already settled, the hardliner share of
its faction). While the joint command negotiates a comprehensive deal, its towns hold together
as a bloc: their pressure is lowered by ``w_bloc``. Against its own threshold
``theta_i ~ Normal(theta_mean, theta_sd)`` (drawn once) it opens local talks with hazard
``1 - exp(-rate * max(0, pressure_i - theta_i) * dt)``; its deal is signed
``mediator.local_talks_hours`` later and it passes to regime control. Only towns whose faction
negotiates, and only while the mediator brokers local deals.

Parameters: ``reconciliation.*``, ``mediator.local_deals``, ``mediator.local_talks_hours``.
Calibrated by: more than 30 towns fallen back to regime control by the time talks collapsed
(article line 3).
"""

from __future__ import annotations

import numpy as np


def neighbour_share(settled: np.ndarray, neighbours: np.ndarray) -> np.ndarray:
    """Share of each town's neighbours that have settled (0 if it has none)."""
    n = neighbours.sum(axis=1)
    k = neighbours @ settled.astype(np.float64)
    return np.divide(k, n, out=np.zeros_like(k), where=n > 0)


def reconciliation_pressure(front: np.ndarray, intensity: np.ndarray, neigh_settled: np.ndarray,
                            total_settled: float, hardliners: np.ndarray, w_front: float,
                            w_strikes: float, w_neigh: float, w_deals: float,
                            w_hard: float) -> np.ndarray:
    """Pressure on each town's committee to settle."""
    return (w_front * front + w_strikes * intensity + w_neigh * neigh_settled
            + w_deals * total_settled - w_hard * hardliners)


def open_talks_probability(pressure: np.ndarray, theta: np.ndarray, rate: float,
                           dt_days: float) -> np.ndarray:
    """Per-tick probability that a town opens local talks."""
    return 1.0 - np.exp(-rate * np.maximum(0.0, pressure - theta) * dt_days)


def draw_thresholds(n: int, theta_mean: float, theta_sd: float,
                    rng: np.random.Generator) -> np.ndarray:
    """Heterogeneous settlement thresholds, one per town."""
    return rng.normal(theta_mean, theta_sd, size=n)
