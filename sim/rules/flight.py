"""Rule: civilians flee threat, choosing a destination by multinomial logit, and travel.

Flight hazard of a household at home in town i (Davenport, Moore & Poe 2003)::

    h_i = 1 - exp(-(b0 + b_strike * L_i + b_front * A_i * exp(-d_front_i / front_scale_km)
                    + b_offer * U_i) * dt)

``L_i`` is the strike threat felt at i (intensities of all towns through an exponential kernel
of ``flight.kernel_km``), ``d_front_i`` the distance to the nearest regime-side town and
``A_i`` the weight of the open offensive axes at i (:mod:`sim.rules.offensive`): people flee
where the offensive is, not along the whole front line at once. The front threatens only while
the regime is on the offensive (``regime.ground_capacity > 0``): a static, quiet front line
(an enforced ceasefire) drives nobody out.

Destinations (Flee, Suleimenova et al. 2017) are the case's destination zones, of the kinds
:mod:`sim.rules.siege` describes (borders and frontiers, fields near home, government-held
areas while corridors are open), and a quieter rebel town (the one minimising distance plus
threat, within ``host_max_km``). Utility
``U_iz = asc_z - c_dist * d_iz + c_safe * exp(-L_z / safety_scale)`` where ``asc_z`` is the
constant of the zone's kind and ``L_z`` the strike threat at the destination (at a border's
representative point through the same kernel; at home for the fields; none in government
areas): people flee away from the bombing (in Daraa, those of the western countryside go west
toward Quneitra and the Golan line), and a border zone that comes under fire stops drawing
people. Choice probabilities are the softmax of U. Travel takes ``ceil(d / speed_km_per_day /
dt)`` ticks. Closed borders stop people at the border. A household with no reachable
destination shelters in place (:mod:`sim.rules.siege`).

A host town takes in people only while it has room (Flee's location capacity): at most
``flight.host_room`` times its own pre-offensive population besides it (1: a town can double;
the default, 1e6, is no limit, and a case sets it: Eastern Ghouta's baseline 1). A place with
no residents of its own (a border crossing) is a gathering point, not housing, and has no
limit. A full town is no longer a host (:func:`host_room`). A town's
households try its hosts from the cheapest on (:func:`host_costs`, :func:`host_ranking`): if
more head for a host in one tick than it has room for, those it cannot take, drawn at random,
try the next host in the same tick, and stay home only when no host in reach has room
(:func:`admitted`, :func:`admit_or_redirect`). In a besieged enclave with nowhere else to go,
without the limit the whole enclave would crowd into its quietest farming village. Daraa keeps
no limit: at its calibrated values no town comes near doubling (its runs are the same with a
limit of 1), but at some points of its sensitivity design a limit of 1 would bind, and its
calibration was made without one.

A household that reached an open border or frontier crosses it with per-tick probability
``1 - exp(-cross_rate * dt)`` (:func:`crossing_probability`).

Parameters: ``flight.*`` (``flight.host_room`` a judgement of a case, not calibrated). Calibrated by:
the surge of displacement that came with the ultimatums (62-66,000 displaced on 28 June,
160,000 a day later: seeds/record.toml) for ``b_offer``; 320,000 displaced by the day of the
article (article line 27), many to the Jordanian border or near the Golan (line 27), people
streaming into olive groves and fields (line 20), families more than a week on the border
(line 30).
"""

from __future__ import annotations

import math

import numpy as np


def flight_probability(threat: np.ndarray, d_front_km: np.ndarray, axis_w: np.ndarray,
                       ultimatum: np.ndarray, b0: float, b_strike: float, b_front: float,
                       front_scale_km: float, b_offer: float, dt_days: float) -> np.ndarray:
    """Per-tick probability that a household at home in each town flees."""
    front = np.exp(-np.where(np.isfinite(d_front_km), d_front_km, np.inf) / front_scale_km)
    hazard = b0 + b_strike * threat + b_front * axis_w * front + b_offer * ultimatum
    return 1.0 - np.exp(-hazard * dt_days)


def choose_host(threat: np.ndarray, dist_km: np.ndarray, candidate: np.ndarray,
                max_km: float, threat_km: float,
                reachable: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """For each town, the quieter rebel town to flee to (index, distance); -1 if none in reach.

    Cost of host j from i: ``d_ij + threat_km * threat_j``; only candidates within ``max_km``
    (and, if ``reachable`` (towns x towns) is given, only where it holds: the same pocket).
    """
    return cheapest_host(host_costs(threat, dist_km, candidate, max_km, threat_km, reachable),
                         dist_km)


def cheapest_host(cost: np.ndarray, dist_km: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each town's cheapest host by ``cost`` (:func:`host_costs`) and its distance; -1 and inf
    where none is in reach (ties to the lower index)."""
    host = cost.argmin(axis=1)
    has = np.isfinite(cost[np.arange(len(host)), host])
    host = np.where(has, host, -1)
    dist = np.where(has, dist_km[np.arange(len(host)), np.maximum(host, 0)], np.inf)
    return host, dist


def host_costs(threat: np.ndarray, dist_km: np.ndarray, candidate: np.ndarray,
               max_km: float, threat_km: float,
               reachable: np.ndarray | None = None) -> np.ndarray:
    """Cost of each host j from each town i (towns x towns): ``d_ij + threat_km * threat_j``
    for candidates within ``max_km`` (and ``reachable``), inf otherwise and on the diagonal."""
    cost = dist_km + threat_km * threat[None, :]
    ok = candidate[None, :] & (dist_km <= max_km)
    if reachable is not None:
        ok &= reachable
    np.fill_diagonal(ok, False)
    return np.where(ok, cost, np.inf)


def host_ranking(cost: np.ndarray) -> np.ndarray:
    """Each town's hosts from the cheapest on (towns x towns, from :func:`host_costs`; -1 after
    the last one in reach): the order in which its households try them when one is full. The
    first is :func:`choose_host`'s (ties to the lower index)."""
    order = np.argsort(cost, axis=1, kind="stable")
    return np.where(np.isfinite(np.take_along_axis(cost, order, axis=1)), order, -1)


def admit_or_redirect(dest: np.ndarray, home: np.ndarray, size: np.ndarray, room: np.ndarray,
                      cost: np.ndarray, rng: np.random.Generator
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Where this tick's fleeing households get in: each heading for a host town that has no
    room left for it tries its home's next host (by ``cost``, :func:`host_costs`, ranked by
    :func:`host_ranking` only when some host is full) in the same tick, until one takes it in
    or none is left (then it stays home). Returns the destinations and which households get in;
    draws nothing when no host is oversubscribed."""
    n = len(room)
    dest = dest.copy()
    left = np.asarray(room, dtype=np.float64).copy()
    keep = admitted(dest, size, left, rng)
    into = keep & (dest < n)
    left -= np.bincount(dest[into], weights=size[into], minlength=n)
    waiting = np.flatnonzero((dest < n) & ~keep)
    if not len(waiting):
        return dest, keep
    ranking = host_ranking(cost)
    K = ranking.shape[1]
    pos = np.argmax(ranking[home[waiting]] == dest[waiting][:, None], axis=1)
    while len(waiting):
        pos = pos + 1
        nxt = np.where(pos < K, ranking[home[waiting], np.minimum(pos, K - 1)], -1)
        more = nxt >= 0
        waiting, pos, nxt = waiting[more], pos[more], nxt[more]
        if not len(waiting):
            break
        got = admitted(nxt, size[waiting], left, rng)
        dest[waiting[got]] = nxt[got]
        keep[waiting[got]] = True
        left -= np.bincount(nxt[got], weights=size[waiting[got]], minlength=n)
        waiting, pos = waiting[~got], pos[~got]
    return dest, keep


def host_room(residents: np.ndarray, present: np.ndarray, room: float) -> np.ndarray:
    """Persons each town can still take in: ``(1 + room) * residents - present`` (at least 0),
    ``residents`` its own pre-offensive population, ``present`` the persons there now; a place
    with no residents of its own (a border crossing) is a gathering point, not housing, and is
    not limited (inf)."""
    left = np.maximum((1.0 + room) * residents - present, 0.0)
    return np.where(residents > 0, left, np.inf)


def admitted(dest: np.ndarray, size: np.ndarray, room: np.ndarray,
             rng: np.random.Generator) -> np.ndarray:
    """Which of this tick's fleeing households get in where they head: those heading for a
    host town (a location code below ``len(room)``) while its ``room`` lasts, in random order
    when more head there than it has room for; all others. Draws nothing when no host is
    oversubscribed."""
    n = len(room)
    keep = np.ones(len(dest), dtype=bool)
    to_town = dest < n
    arriving = np.bincount(dest[to_town], weights=size[to_town], minlength=n)
    over = arriving > room
    if not over.any():
        return keep
    sel = np.flatnonzero(to_town & over[np.where(to_town, dest, 0)])
    sel = rng.permutation(sel)
    sel = sel[np.argsort(dest[sel], kind="stable")]  # grouped by host, random within a host
    d = dest[sel]
    cum = np.cumsum(size[sel].astype(np.float64))
    first = np.searchsorted(d, d, side="left")  # each household's group start
    within = cum - (cum[first] - size[sel[first]])
    keep[sel[within > room[d]]] = False
    return keep


def destination_utilities(dist: np.ndarray, available: np.ndarray, asc: np.ndarray,
                          c_dist: float, safety_bonus: np.ndarray) -> np.ndarray:
    """Utilities (towns x destinations); unavailable destinations get -inf."""
    u = asc[None, :] - c_dist * dist + safety_bonus
    return np.where(available, u, -np.inf)


def safety(threat: np.ndarray, safety_scale: float) -> np.ndarray:
    """Safety of a place under a strike threat: ``exp(-threat / safety_scale)`` (1 = quiet)."""
    return np.exp(-np.maximum(threat, 0.0) / safety_scale)


def destination_probabilities(dist: np.ndarray, available: np.ndarray, dest_threat: np.ndarray,
                              asc: np.ndarray, c_dist: float, c_safe: float,
                              safety_scale: float) -> np.ndarray:
    """Choice probabilities (towns x destinations) from distances and the threat at each
    destination: the multinomial logit of the module docstring."""
    bonus = c_safe * safety(dest_threat, safety_scale)
    return choice_probabilities(destination_utilities(dist, available, asc, c_dist, bonus))


def choice_probabilities(utilities: np.ndarray) -> np.ndarray:
    """Row-wise softmax of utilities (rows with no option get all zeros)."""
    m = utilities.max(axis=1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    e = np.exp(utilities - m)
    s = e.sum(axis=1, keepdims=True)
    return np.divide(e, s, out=np.zeros_like(e), where=s > 0)


def draw_choices(cum_prob: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Draw one destination per row from cumulative probabilities (rows x destinations)."""
    u = rng.random((cum_prob.shape[0], 1))
    return np.minimum((u > cum_prob).sum(axis=1), cum_prob.shape[1] - 1)


def travel_ticks(dist_km: np.ndarray, speed_km_per_day: float, dt_days: float) -> np.ndarray:
    """Ticks needed to cover a distance (at least 1)."""
    return np.maximum(1, np.ceil(dist_km / (speed_km_per_day * dt_days))).astype(np.int32)


def front_coefficient(b_front: float, ground_capacity: float) -> float:
    """The front's weight in the flight hazard: ``b_front`` while the regime is on the offensive
    (``ground_capacity > 0``), else 0 (a static, quiet front drives nobody out)."""
    return b_front if ground_capacity > 0 else 0.0


def crossing_probability(cross_rate: float, dt_days: float) -> float:
    """Per-tick probability that a household at an open border crosses it."""
    return 1.0 - math.exp(-cross_rate * dt_days)


def cumulative_choices(probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative destination probabilities (rows: towns) for drawing, the last column exactly 1,
    and the rows with no reachable destination (all probabilities 0: they shelter in place)."""
    nowhere = probs.sum(axis=1) <= 0
    cum = np.cumsum(probs, axis=1)
    if cum.shape[1]:
        cum[:, -1] = 1.0
    return cum, nowhere
