"""Rule: control of towns, the front, ground capture and the area under regime control.

Control states and their legal transitions (anything else is a bug)::

    rebel -> negotiating -> reconciled        (a deal: local or comprehensive)
    rebel | negotiating -> regime             (captured by force)
    negotiating -> rebel                      (a town's talks fail)

Reconciled and regime-held towns are both regime-side; they never change again.

Ground capture: a rebel town within ``regime.front_km`` of a regime-side town is on the front.
Its ground pressure is ``a_i = ground_capacity * axis_i / defence_i`` where ``axis_i`` is the
weight of the open offensive axes at the town (:mod:`sim.rules.offensive`), and it falls with
hazard ``1 - exp(-k_capture * max(0, a_i - 1) * dt)``.
The ground forces are finite: they assault at most ``regime.assault_towns`` towns at once, those
where the pressure is highest (ties to the lowest town index; :func:`assaulted`); the others on
the front wait their turn. The default (1000) is no limit, as in the Daraa case, where the
offensive's effort is already spread by its dated axes; in a small enclave, where one axis
reaches every place, the limit is what keeps the ground forces from taking a whole town-belt
in one day. ``assault_towns`` is a capacity of a case (fitted with ``negsim calibrate --free``).
Area: a town carries an equal share of its sub-district's km2; ``regime_share_area`` is the
regime-side area over the case area.

Calibrated by: Saida retaken hours after its bombing (article lines 15-16), the 275 km2 of
border area handed over without a fight (line 17), and the Nasib crossing still rebel-held
on the day of the article (line 18).
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np


class Control(IntEnum):
    REBEL = 0
    NEGOTIATING = 1
    RECONCILED = 2
    REGIME = 3


LEGAL_CONTROL: dict[Control, frozenset[Control]] = {
    Control.REBEL: frozenset({Control.NEGOTIATING, Control.REGIME}),
    Control.NEGOTIATING: frozenset({Control.REBEL, Control.RECONCILED, Control.REGIME}),
    Control.RECONCILED: frozenset(),
    Control.REGIME: frozenset(),
}


def legal_control_change(old: int, new: int) -> bool:
    """True if a town may move from ``old`` to ``new`` control."""
    return Control(new) in LEGAL_CONTROL[Control(old)]


def regime_side(control: np.ndarray) -> np.ndarray:
    """Boolean mask of towns under regime control (reconciled or held)."""
    return control >= Control.RECONCILED


def rebel_side(control: np.ndarray) -> np.ndarray:
    """Boolean mask of towns still held by rebels (including those in local talks)."""
    return control <= Control.NEGOTIATING


def distance_to_regime(control: np.ndarray, dist_km: np.ndarray) -> np.ndarray:
    """Each town's distance (km) to the nearest regime-side town (inf if none)."""
    reg = regime_side(control)
    if not reg.any():
        return np.full(control.shape, np.inf)
    return dist_km[:, reg].min(axis=1)


#: Cap on the excess ground pressure (numerical: any pressure this high already makes capture
#: certain within a tick; it keeps inf * 0 from making a NaN hazard).
PRESSURE_CAP = 1e12


def ground_pressure(axis: np.ndarray, defence: np.ndarray, ground_capacity: float) -> np.ndarray:
    """Each town's ground pressure ``ground_capacity * axis / defence`` (inf for a vanishing
    defence)."""
    with np.errstate(over="ignore", divide="ignore"):  # a tiny defence: pressure -> inf
        return ground_capacity * axis / defence


def assaulted(candidates: np.ndarray, axis: np.ndarray, defence: np.ndarray,
              ground_capacity: float, max_towns: float) -> np.ndarray:
    """The towns the ground forces assault this tick (a mask): of the ``candidates`` (rebel
    towns on the front) whose ground pressure (:func:`ground_pressure`) exceeds 1 (so that they
    can fall), the ``floor(max_towns)`` (at least 1) where it is highest, ties to the lowest
    town index."""
    pressure = np.where(candidates, ground_pressure(axis, defence, ground_capacity), 0.0)
    able = np.flatnonzero(pressure > 1.0)
    k = max(int(np.floor(max_towns)), 1)
    out = np.zeros(candidates.shape, dtype=bool)
    if able.size <= k:
        out[able] = True
        return out
    out[able[np.lexsort((able, -pressure[able]))][:k]] = True
    return out


def capture_probability(on_front: np.ndarray, axis: np.ndarray, defence: np.ndarray,
                        ground_capacity: float, k_capture: float, dt_days: float) -> np.ndarray:
    """Per-tick probability that each town falls to a ground assault."""
    pressure = ground_pressure(axis, defence, ground_capacity)
    # capped so that inf * 0 (off the front, or k_capture = 0) never makes a NaN hazard
    hazard = k_capture * np.minimum(np.maximum(0.0, pressure - 1.0), PRESSURE_CAP) * on_front
    return 1.0 - np.exp(-hazard * dt_days)


def slug(name: str) -> str:
    """A column-safe lower-case name: "Rif Dimashq" -> "rif_dimashq"."""
    import re

    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_") or "area"


def regime_share_area(control: np.ndarray, area_km2: np.ndarray) -> float:
    """Share (0..1) of the case area under regime control."""
    total = float(area_km2.sum())
    return float(area_km2[regime_side(control)].sum()) / total if total > 0 else 0.0
