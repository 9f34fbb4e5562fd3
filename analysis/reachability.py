"""How reachable a "median within range" criterion is for a stochastic model.

A fit judged by "the median of n seeds lies within each target's range" mixes two things: how
close the model's central trajectory is to the record, and how narrow the ranges are against
the model's own run-to-run spread. A range one person wide (1,099-1,100 deaths) is missed by
most batches of 20 seeds even by a model whose centre is exactly on it.

:func:`median_within_chance` separates the two by a bootstrap over the batch's runs (each
resample takes whole runs, so the targets' correlations are kept):

* **as run**: the chance that the median of n runs drawn from the model falls in each range,
  and in all of them at once;
* **centred**: the same for an *ideal* model with the batch's spread but each target's median
  moved onto the middle of its range (each column shifted by ``(lo + hi) / 2 - median``): the
  best any model with that spread can expect. A joint chance near 0 there says the criterion
  asks for luck, not fit;
* **Poisson floor** (:func:`poisson_median_within_chance`, for counts such as deaths): the
  same chance for a count of independent rare events (Poisson, mean on the middle of the
  range): how much deaths among 400,000 people vary unless something makes them regular.

Side effects (reading batches, writing tables) live in the caller
(``scripts/ghouta_fit_table.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.outcomes import value_at
from sim.targets import Target


@dataclass(frozen=True)
class Reachability:
    """Bootstrap chances that the median of ``n`` runs lies within each range (``per_target``,
    in the targets' order) and within all of them at once (``joint``)."""

    per_target: np.ndarray
    joint: float
    n: int
    n_boot: int


def target_values(ts: pd.DataFrame, targets: Sequence[Target]) -> np.ndarray:
    """Each run's value of each dated target (runs x targets), from a batch's time series
    (``run_id`` and ``day`` columns and the targets' series), runs in ``run_id`` order."""
    undated = [t.id for t in targets if t.series is None or t.day is None]
    if undated:
        raise ValueError(f"targets without a series and a day: {', '.join(undated)}")
    runs = [g.sort_values("day") for _, g in ts.groupby("run_id", sort=True)]
    return np.array([[value_at(g, str(t.series), float(t.day or 0)) for t in targets]
                     for g in runs], dtype=float)


def median_within_chance(values: np.ndarray, bounds: Sequence[tuple[float, float]],
                         centred: bool = False, n: int | None = None, n_boot: int = 10_000,
                         seed: int = 0) -> Reachability:
    """Bootstrap chance that the median of ``n`` runs (default: as many as given) is within
    each ``(lo, hi)`` of ``bounds`` and within all at once; with ``centred``, for the runs'
    values shifted so that each column's median is the middle of its range.

    ``values``: runs x targets (no missing values).
    """
    v = np.asarray(values, dtype=float)
    if v.ndim != 2 or v.shape[1] != len(bounds):
        raise ValueError(f"values must be runs x {len(bounds)} targets, got shape {v.shape}")
    if np.isnan(v).any():
        raise ValueError("values hold missing entries (a run that ended before a target's day)")
    lo = np.array([b[0] for b in bounds], dtype=float)
    hi = np.array([b[1] for b in bounds], dtype=float)
    if centred:
        v = v + ((lo + hi) / 2.0 - np.median(v, axis=0))[None, :]
    k = v.shape[0] if n is None else int(n)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, v.shape[0], size=(n_boot, k))
    med = np.median(v[idx], axis=1)  # n_boot x targets
    inside = (med >= lo[None, :]) & (med <= hi[None, :])
    return Reachability(inside.mean(axis=0), float(inside.all(axis=1).mean()), k, n_boot)


def poisson_median_within_chance(lo: float, hi: float, n: int = 20, n_boot: int = 100_000,
                                 seed: int = 0) -> float:
    """Chance that the median of ``n`` Poisson counts with mean ``(lo + hi) / 2`` lies within
    ``[lo, hi]``: what a count of independent rare events can expect."""
    rng = np.random.default_rng(seed)
    med = np.median(rng.poisson((lo + hi) / 2.0, size=(n_boot, n)), axis=1)
    return float(((med >= lo) & (med <= hi)).mean())
