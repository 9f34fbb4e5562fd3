"""Rule: an enclave split into pockets by the offensive.

When the case's area is an enclave (``world.pockets = true``), its rebel-held towns form
**pockets**: the connected components of a graph whose edges join two rebel-held towns at most
``world.pocket_km`` apart, unless a government-held (reconciled or captured) town lies between
them, i.e. closer to each of the two than they are to each other (the "lune" of the relative
neighbourhood graph, Toussaint 1980). As towns fall, links are cut and the area splits; the
pockets are recomputed whenever control changes, and each split is logged
(``pockets_split``, with the number of pockets as its value; the timeseries column ``pockets``
counts them).

What pockets change: a household flees only to a quieter town of its own pocket (people do not
cross the front line between pockets, :func:`sim.rules.flight.choose_host`); and the continuing
offensive (:mod:`sim.rules.offensive`) holds only in the pockets where a bloc whose towns are
there is at the table (elsewhere it goes on). Each pocket held by one faction negotiates through
that faction's bloc (:mod:`sim.rules.negotiation`). Without pockets (``world.pockets = false``,
Daraa) the whole area counts as one pocket.

Parameters: ``world.pockets``, ``world.pocket_km`` (km). Source: the geometry of the case's
towns; in Eastern Ghouta the offensive's aim of cutting the enclave apart (ISWNews, SOHR, AFP,
shared/data/ghouta2018_inputs.toml [offensive.axes]). Calibrated by: nothing (the split is
not fitted; the government's share of the area is).
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components


def pocket_labels(rebel: np.ndarray, regime_side: np.ndarray, dist_km: np.ndarray,
                  link_km: float) -> np.ndarray:
    """Pocket label (0, 1, ...) of each rebel-held town; -1 for the others.

    Labels follow the lowest town index of each pocket, so they are deterministic.
    """
    out = np.full(len(rebel), -1, dtype=np.int64)
    r = np.flatnonzero(rebel)
    if not len(r):
        return out
    d = dist_km[np.ix_(r, r)]
    link = d <= link_km
    g = np.flatnonzero(regime_side)
    if len(g):
        dg = dist_km[np.ix_(r, g)]
        between = (dg[:, None, :] < d[:, :, None]) & (dg[None, :, :] < d[:, :, None])
        link &= ~between.any(axis=2)
    _, lab = connected_components(csr_matrix(link.astype(np.int8)), directed=False)
    # relabel in order of first appearance (lowest town index first)
    _, first = np.unique(lab, return_index=True)
    order = np.argsort(np.argsort(first))
    out[r] = order[lab]
    return out


def count(labels: np.ndarray) -> int:
    """Number of pockets."""
    return int(labels.max()) + 1 if len(labels) and labels.max() >= 0 else 0


def same_pocket(labels: np.ndarray, enabled: bool) -> np.ndarray | None:
    """Towns x towns: whether two towns lie in the same pocket (None without pockets: any town
    may host any other's displaced)."""
    return (labels[:, None] == labels[None, :]) if enabled else None
