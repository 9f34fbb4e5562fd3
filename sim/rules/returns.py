"""Rule: displaced households return home once home is settled and quiet.

Return hazard per displaced household of town i: ``1 - exp(-rate * settled_i * quiet_i * dt)``,
where ``settled_i`` is 1 once the home town is regime-side (reconciled or held) and ``quiet_i``
is 1 once no strike has fallen within ``returns.quiet_radius_km`` of it for
``returns.quiet_days``. Nobody returns to a town still under bombardment. People who crossed
a border or left by safe passage do not return within the horizon.

Parameters: ``returns.*``. Calibrated by: wounded arriving at a clinic "after several days of
calm" (article line 21) bounds how fast calm sets in; no return figure is in the article, so
``returns.rate`` is set loosely and the calibration only checks the day-16 displaced count.
"""

from __future__ import annotations

import numpy as np


def quiet_towns(last_strike_day: np.ndarray, dist_km: np.ndarray, day: float,
                quiet_days: float, radius_km: float) -> np.ndarray:
    """True where no strike fell within ``radius_km`` for at least ``quiet_days``.

    A strike in the current tick (``last_strike_day == day``) is never quiet, even when
    ``quiet_days`` is 0. Times on one clock (the model passes integer ticks,
    :mod:`sim.rules.clock`; -inf: never struck).
    """
    near = dist_km <= radius_km
    latest = np.where(near, last_strike_day[None, :], -np.inf).max(axis=1, initial=-np.inf)
    return ((day - latest) >= quiet_days) & (latest < day)


def return_probability(settled: np.ndarray, quiet: np.ndarray, rate: float,
                       dt_days: float) -> np.ndarray:
    """Per-tick probability that a displaced household of each home town returns."""
    return 1.0 - np.exp(-rate * (settled & quiet).astype(np.float64) * dt_days)
