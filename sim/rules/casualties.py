"""Rule: civilian deaths from strikes (where people are, when they are there) and exposure.

Strike deaths in town i per tick ~ ``Poisson(lethality * strikes_i * present_i /
(present_i + shelter_half))``: deaths scale with the people actually present, so a town
emptied by flight loses fewer, and there are no strike deaths without strikes. A run at a
population scale s (``world.population_scale``) is a sample of the whole population: its
``lethality`` and ``shelter_half`` (persons) are multiplied by s, so deaths are the same share
of the population at every scale.
Exposure deaths among people stuck at a closed border per tick ~ ``Poisson(exposure_rate *
heat_factor * (1 - aid_relief * aid) * n * dt)`` (45 degC heat, desert winds, scorpions and
snakes; aid blocked by the hostilities unless ``casualties.aid_through_hostilities``, and
flowing once every negotiating bloc has signed its deal: :func:`aid_level`).

Each tick's deaths are drawn by location, strikes in towns first, then exposure at each closable
zone in the zones file's order (:func:`draw_tick_deaths`); deaths in towns count as strike
deaths, deaths at zones as exposure deaths (:func:`split_deaths`).

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


def aid_level(aid_through_hostilities: bool, all_settled: bool) -> float:
    """Whether aid reaches those exposed at the borders (1) or not (0): through the hostilities
    (``casualties.aid_through_hostilities``), or once every negotiating bloc has signed."""
    return 1.0 if (aid_through_hostilities or all_settled) else 0.0


def scaled_strike_lethality(lethality: float, shelter_half: float,
                            population_scale: float) -> tuple[float, float]:
    """A strike's ``lethality`` and ``shelter_half`` (persons) in a population scaled by
    ``population_scale``: both scale with it, so a strike kills the same share of the people."""
    return lethality * population_scale, shelter_half * population_scale


def draw_tick_deaths(strikes: np.ndarray, counts: np.ndarray, exposed: list[int],
                     lethality: float, shelter_half: float, exposure_rate: float,
                     heat_factor: float, aid: float, aid_relief: float, dt_days: float,
                     rng: np.random.Generator) -> np.ndarray:
    """One tick's deaths at every location (towns first, then the area's other locations).

    ``strikes`` per town (its length is the number of towns ``T``), ``counts`` persons at each
    location, ``exposed`` the location codes of the closable zones (borders, frontiers) where
    people wait exposed. Strike deaths are drawn first (towns in order), then exposure deaths;
    never more than the people present.
    """
    T = len(strikes)
    deaths = np.zeros(len(counts), dtype=np.int64)
    present = counts[:T]
    deaths[:T] = draw_deaths(strike_death_rate(strikes, present, lethality, shelter_half),
                             present, rng)
    if exposed:
        n = counts[exposed]
        deaths[exposed] = draw_deaths(
            exposure_death_rate(n, exposure_rate, heat_factor, aid, aid_relief, dt_days), n, rng)
    return deaths


def split_deaths(applied: np.ndarray, n_towns: int) -> tuple[int, int]:
    """(strike deaths, exposure deaths) of a tick's deaths by location: those in the towns died
    in strikes, those elsewhere (the closable zones) of exposure."""
    strike = int(applied[:n_towns].sum())
    return strike, int(applied.sum()) - strike
