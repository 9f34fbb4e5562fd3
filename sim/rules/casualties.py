"""Rule: civilian deaths from strikes (where people are, when they are there) and exposure.

Strike deaths in town i per tick ~ ``Poisson(lethality * strikes_i * present_i /
(present_i + shelter_half))``: deaths scale with the people actually present, so a town
emptied by flight loses fewer, and there are no strike deaths without strikes. A run at a
population scale s (``world.population_scale``) is a sample of the whole population: its
``lethality`` and ``shelter_half`` (persons) are multiplied by s, so deaths are the same share
of the population at every scale.
Exposure deaths among people stuck at a closed border per tick ~ ``Poisson(exposure_rate *
heat_factor * (1 - aid_relief * aid) * n * dt)`` (45 degC heat, desert winds, scorpions and
snakes; aid blocked by the hostilities unless ``casualties.aid_through_hostilities``).

Parameters: ``casualties.*``. Calibrated by: nearly 150 civilians dead since June 19 (article
line 26); six killed in one town's strikes in the blitz (line 15); the heat and the week on the
border (lines 29-31).
"""

from __future__ import annotations

import numpy as np


def strike_death_rate(strikes: np.ndarray, present: np.ndarray, lethality: float,
                      shelter_half: float) -> np.ndarray:
    """Expected strike deaths in each town this tick."""
    occ = present / (present + shelter_half)
    return lethality * strikes * occ


def exposure_death_rate(n_exposed: np.ndarray, exposure_rate: float, heat_factor: float,
                        aid: float, aid_relief: float, dt_days: float) -> np.ndarray:
    """Expected exposure deaths at each border zone this tick."""
    return exposure_rate * heat_factor * (1.0 - aid_relief * aid) * n_exposed * dt_days


def draw_deaths(expected: np.ndarray, present: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Deaths drawn from their expectation, never more than the people present."""
    return np.minimum(rng.poisson(np.maximum(expected, 0.0)), present.astype(np.int64))
