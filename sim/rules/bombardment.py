"""Rule: daily strike capacity allocated to rebel towns by priority; strikes drawn per tick.

``S(t) = regime.bombardment_capacity * regime.bombardment_scale * surge(t) * level_i(t)``
strikes per day (air strikes, barrel bombs, missiles; the scale is a scenario lever, 1 by
default), where ``level_i`` comes from :mod:`sim.rules.escalation` and ``surge(t)`` is
``regime.surge_factor`` from ``regime.surge_from_day`` until ``regime.surge_until_day`` (if
given) and 1 otherwise (:func:`surge`): a dated phase of heavier air campaign, part of the plan
(its dates an input with their source; none by default), whose size is a capacity (not in the
default calibration; a case that uses it fits it with ``negsim calibrate --free``).
Capacity is split among rebel-held towns (except those under a local ceasefire,
:mod:`sim.rules.ceasefire`) in proportion to
``priority_i = priority_base + axis_i * (priority_axis + priority_front * on_front_i +
priority_strategic * strategic_i)`` (``axis_i`` the weight of the open offensive axes at the
town, :mod:`sim.rules.offensive`: strikes follow the axes). The level multiplies a town's share
after the split, so a town calmed by talks does not pass its share to the others. Intensity
``I_i`` (strikes/day); strikes per tick ~ Poisson(I_i * dt).

Calibrated by: nearly 150 civilians killed since June 19 (article line 26) together with
:mod:`sim.rules.casualties`; the blitz being the heaviest bombing of the offensive (line 5).
Eastern Ghouta's baseline uses the surge: the air and artillery campaign on the whole enclave
before the ground assault (days 0-8, an input of its plan; the factor fitted with the case's
other capacities). Daraa's does not: the air strikes of 27-28 June (days 8-9, the death toll
doubling from about 47 to 93: seeds/record.toml; ``scenarios/daraa2018/air_strikes_27_28_june.toml``)
are a lever, whose size the hand calibration searched down to ~1 because a heavier air campaign
then outdid the blitz after the collapse (article line 5) (docs/ODD.md §8, docs/cases.md).
"""

from __future__ import annotations

import numpy as np


def strike_priority(on_front: np.ndarray, strategic: np.ndarray, axis: np.ndarray,
                    priority_base: float, priority_front: float, priority_strategic: float,
                    priority_axis: float) -> np.ndarray:
    """Relative strike priority of each town (strikes follow the offensive's axes)."""
    return priority_base + axis * (priority_axis + priority_front * on_front
                                   + priority_strategic * strategic)


def surge(tick: int, surge_tick: int | None, factor: float, until_tick: int | None = None) -> float:
    """Multiplier of the daily strike capacity: ``factor`` from ``surge_tick`` until
    ``until_tick`` (exclusive; None: no end), 1 otherwise (and if the plan has no surge)."""
    on = surge_tick is not None and tick >= surge_tick \
        and (until_tick is None or tick < until_tick)
    return factor if on else 1.0


def allocate_intensity(capacity_per_day: float, level: np.ndarray, priority: np.ndarray,
                       targetable: np.ndarray) -> np.ndarray:
    """Strikes per day on each town: capacity split by priority among targetable towns."""
    pr = np.where(targetable, priority, 0.0)
    total = pr.sum()
    if total <= 0 or capacity_per_day <= 0:
        return np.zeros(priority.shape)
    return capacity_per_day * level * pr / total


def draw_strikes(intensity: np.ndarray, dt_days: float, rng: np.random.Generator) -> np.ndarray:
    """Number of strikes on each town in one tick."""
    return rng.poisson(np.maximum(intensity, 0.0) * dt_days)


def distance_kernel(dist_km: np.ndarray, scale_km: float) -> np.ndarray:
    """Exponential distance kernel ``exp(-d / scale)`` (computed once per run)."""
    return np.exp(-dist_km / scale_km)


def local_intensity(intensity: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Strike threat felt at each town: intensities summed through a distance kernel."""
    return kernel @ intensity
