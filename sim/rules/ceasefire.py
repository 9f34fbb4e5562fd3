"""Rule: local ceasefires (a timed, town-targeted intervention).

A ceasefire protects a set of towns from an intervention's ``day`` (or ``after`` event) to its
``until_day``: the regime neither strikes them nor assaults them on the ground. Its strike
capacity is not lost but goes to the other rebel towns (strikes are allocated by priority among
targetable towns, :mod:`sim.rules.bombardment`). Windows may overlap: a town is protected while
any window that names it is open, so the model keeps a count of open windows per town.

Parameters: none in the schema; the towns and days are the scenario's ``[[interventions]]``
with ``action = "ceasefire"``. Calibrated by: nothing in the article (it is a what-if lever);
the article's "days of calm" during talks (line 21) are ``regime.talks_level`` instead.
"""

from __future__ import annotations

import numpy as np


def protected(open_windows: np.ndarray) -> np.ndarray:
    """Towns under at least one open ceasefire window."""
    return open_windows > 0


def targetable_under_ceasefire(targetable: np.ndarray, open_windows: np.ndarray) -> np.ndarray:
    """Towns the regime may strike or assault: ``targetable`` minus the protected ones."""
    return targetable & ~protected(open_windows)
