"""The civilians: every person of the rebel-held south, as numpy arrays of households.

One Mesa agent holds the arrays; there is never one Python object per person. Each row is a
household (families flee and return together) with its home town, its living members, where
it is (``loc``: a town index, or a zone/exit code after the towns) and the tick it arrives
there. Persons are represented 1:1: household sizes sum to each town's population exactly.

Location codes (:class:`Locations`), with ``T`` the number of towns: ``0..T-1`` a town (home
or host); then the case's destination zones inside the area in the order of its zones file
(borders, frontiers, fields, government-held areas: ``T+k``); then the exits, which have left
the area: evacuated by bus under safe passage (``exit0``), and one code per border or frontier
for those who crossed it. In the Daraa case: ``T+0`` the Jordanian border, ``T+1`` the Golan
frontier, ``T+2`` fields, ``T+3`` regime areas, ``T+4`` evacuated, ``T+5`` crossed into Jordan,
``T+6`` crossed the Golan line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import mesa
import numpy as np

from sim.rules import flight

if TYPE_CHECKING:
    from sim.model import NegotiationModel
    from sim.world.case import World


@dataclass(frozen=True)
class Locations:
    """The location codes of a case (from its zones table)."""

    n_towns: int
    #: zone id -> code of the destination zones inside the area (borders, fields, ...)
    zone: dict[str, int]
    #: code of the evacuated (the first exit: codes >= exit0 have left the area)
    exit0: int
    #: border/frontier zone id -> code of those who crossed it
    crossed: dict[str, int]

    @property
    def n_loc(self) -> int:
        return self.exit0 + 1 + len(self.crossed)

    @classmethod
    def of(cls, world: World) -> Locations:
        T = world.n_towns
        dest = [z.id for z in world.destination_zones]
        exit0 = T + len(dest)
        return cls(T, {z: T + k for k, z in enumerate(dest)}, exit0,
                   {z.id: exit0 + 1 + j for j, z in enumerate(world.closable_zones)})


#: Household sizes are drawn in batches of ``n / mean_size * DRAW_MARGIN + DRAW_EXTRA`` (more than
#: a town needs, so one batch almost always suffices). Not a model parameter, but part of the
#: random stream: changing either changes every run's draws.
DRAW_MARGIN = 1.3
DRAW_EXTRA = 10


def make_households(pop_by_town: np.ndarray, mean_size: float,
                    rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Split each town's population into households (sizes 1 + Poisson(mean - 1)).

    Returns (home town index, size) arrays whose sizes sum to each town's population exactly.
    """
    homes, sizes = [], []
    lam = max(mean_size - 1.0, 0.0)
    for t, n in enumerate(pop_by_town.tolist()):
        if n <= 0:
            continue
        k = int(n / mean_size * DRAW_MARGIN) + DRAW_EXTRA
        s = 1 + rng.poisson(lam, size=k)
        while s.sum() < n:
            s = np.concatenate([s, 1 + rng.poisson(lam, size=k)])
        cs = np.cumsum(s)
        m = int(np.searchsorted(cs, n))  # first index with cs >= n
        s = s[: m + 1].copy()
        s[-1] = n - (cs[m - 1] if m > 0 else 0)
        homes.append(np.full(len(s), t, dtype=np.int32))
        sizes.append(s.astype(np.int32))
    if not homes:
        return np.zeros(0, np.int32), np.zeros(0, np.int32)
    return np.concatenate(homes), np.concatenate(sizes)


class Hosts(NamedTuple):
    """What the host towns offer this tick's fleeing households: ``room``, the persons each can
    still take in (:func:`sim.rules.flight.host_room`); ``cost``, the order in which a town's
    households try them (:func:`sim.rules.flight.host_costs`); ``ticks``, the travel ticks
    between towns."""

    room: np.ndarray
    cost: np.ndarray
    ticks: np.ndarray


class Civilians(mesa.Agent):
    """All civilians, vectorised. Methods move households; the rules decide the probabilities."""

    model: NegotiationModel

    def __init__(self, model: NegotiationModel, pop_by_town: np.ndarray, mean_size: float,
                 locations: Locations) -> None:
        super().__init__(model)
        self.n_towns = len(pop_by_town)
        self.home, self.size = make_households(pop_by_town, mean_size, model.rng)
        self.loc = self.home.copy()
        self.arrive = np.zeros(len(self.home), dtype=np.int32)
        self.initial = int(self.size.sum())
        self.locations = locations
        self.n_loc = locations.n_loc
        self.exit0 = locations.exit0  # codes >= exit0 have left the area
        # cumulative counters (persons)
        self.dead = 0
        self.strike_dead = 0
        self.exposure_dead = 0
        self.returned = 0
        self.evacuated = 0
        #: persons who crossed each open border or frontier (by exit code)
        self.crossed = dict.fromkeys(locations.crossed.values(), 0)
        # tallies kept up to date by every move (so no per-tick pass over all households)
        self.count_loc = self._bincount(self.loc, self.size, self.n_loc)
        #: persons who ever arrived at each location (cumulative; moves home included)
        self.arrived_loc = np.zeros(self.n_loc, dtype=np.int64)
        self.home_at = self._bincount(self.home, self.size, self.n_towns)
        #: each town's own pre-offensive population (persons): what its room as a host scales
        self.residents = self.home_at.copy()
        self.away_home = np.zeros(self.n_towns, dtype=np.int64)
        # Households never change home and are made town by town, so each town's households
        # are one contiguous block: per-town values expand to households with np.repeat (much
        # cheaper than gathering by ``home``); the gather is kept for any other ordering.
        self._per_home = np.bincount(self.home, minlength=self.n_towns)
        self._home_sorted = bool(np.all(self.home[1:] >= self.home[:-1]))
        self._u = np.empty(len(self.home))
        self._at_home = np.empty(len(self.home), dtype=bool)
        self._mask = np.empty(len(self.home), dtype=bool)

    def by_home(self, per_town: np.ndarray) -> np.ndarray:
        """Per-town values expanded to one value per household (its home town's)."""
        if self._home_sorted:
            return np.repeat(per_town, self._per_home)
        return per_town[self.home]

    @staticmethod
    def _bincount(idx: np.ndarray, w: np.ndarray, n: int) -> np.ndarray:
        return np.bincount(idx, weights=w, minlength=n).astype(np.int64)

    # --- counts ---------------------------------------------------------------------------
    def counts_by_loc(self) -> np.ndarray:
        """Persons at each location code (towns, then zones and exits)."""
        return self.count_loc.copy()

    def at_home_by_town(self) -> np.ndarray:
        """Persons at home, per home town."""
        return self.home_at.copy()

    def away_by_home(self) -> np.ndarray:
        """Persons displaced (away, alive, still in the area), per home town."""
        return self.away_home.copy()

    def recount(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The three tallies recomputed from the arrays (for tests of the bookkeeping)."""
        at_home = self.loc == self.home
        away = ~at_home & (self.loc < self.exit0)
        return (self._bincount(self.loc, self.size, self.n_loc),
                self._bincount(self.home, np.where(at_home, self.size, 0), self.n_towns),
                self._bincount(self.home, np.where(away, self.size, 0), self.n_towns))

    def _move(self, idx: np.ndarray, new: np.ndarray) -> None:
        """Move households ``idx`` to locations ``new``, keeping every tally right."""
        old = self.loc[idx]
        s = self.size[idx].astype(np.int64)
        h = self.home[idx]
        n, t = self.n_loc, self.n_towns
        arrived = self._bincount(new, s, n)
        self.count_loc += arrived - self._bincount(old, s, n)
        self.arrived_loc += arrived
        was_home, now_home = old == h, new == h
        self.home_at += self._bincount(h, s * (now_home.astype(np.int64) - was_home), t)
        was_away = ~was_home & (old < self.exit0)
        now_away = ~now_home & (new < self.exit0)
        self.away_home += self._bincount(h, s * (now_away.astype(np.int64) - was_away), t)
        self.loc[idx] = new

    # --- moves ----------------------------------------------------------------------------
    def flee_and_return(self, p_flee: np.ndarray, p_return: np.ndarray,
                        cum_dest: np.ndarray, dest_loc: np.ndarray, dest_ticks: np.ndarray,
                        tick: int, hosts: Hosts | None = None) -> np.ndarray:
        """One tick of flight and return. Returns persons newly displaced, per home town.

        ``p_flee``/``p_return`` are per home town; ``cum_dest`` (towns x destinations) the
        cumulative destination probabilities, ``dest_loc`` and ``dest_ticks`` the location
        code and travel time of each (home town, destination) pair; ``hosts`` the host towns'
        room (None: no limit): households a full host cannot take try their home's next host
        and stay home if none has room (:func:`sim.rules.flight.admit_or_redirect`).
        """
        rng = self.model.rng
        # per-household work arrays are reused every tick (fresh ones cost page faults)
        u = rng.random(len(self.home), out=self._u)
        at_home = np.equal(self.loc, self.home, out=self._at_home)
        flee = np.less(u, self.by_home(p_flee), out=self._mask)
        flee &= at_home
        idx = np.flatnonzero(flee)
        new_disp = np.zeros(self.n_towns, dtype=np.int64)
        if len(idx):
            h = self.home[idx]
            choice = flight.draw_choices(cum_dest[h], rng)
            new = dest_loc[h, choice]
            moving = new != h  # a household with nowhere to go shelters in place
            travel = dest_ticks[h, choice]
            if hosts is not None:  # ... and so does one no host has room for
                heading = np.where(moving, new, self.n_loc)
                got, admit = flight.admit_or_redirect(heading, h, self.size[idx], hosts.room,
                                                      hosts.cost, rng)
                moved_on = admit & (got != heading)  # to the next host with room
                if moved_on.any():
                    new = np.where(moved_on, got, new)
                    travel = np.where(moved_on, hosts.ticks[h, np.minimum(new, self.n_towns - 1)],
                                      travel)
                moving &= admit
            if not moving.all():
                idx, h, new, travel = idx[moving], h[moving], new[moving], travel[moving]
            self._move(idx, new)
            self.arrive[idx] = tick + travel
            new_disp = np.bincount(h, weights=self.size[idx], minlength=self.n_towns).astype(
                np.int64)
        if p_return.any():  # back: displaced, still in the area, arrived, and drew a return
            back = np.less(u, self.by_home(p_return), out=self._mask)
            back &= ~at_home
            back &= self.loc < self.exit0
            back &= self.arrive <= tick
            ridx = np.flatnonzero(back)
        else:  # nobody may return this tick: skip the pass (the draws above are unchanged)
            ridx = np.zeros(0, dtype=np.intp)
        if len(ridx):
            self._move(ridx, self.home[ridx])
            self.returned += int(self.size[ridx].sum())
        return new_disp

    def cross(self, zone_code: int, exit_code: int, p_cross: float, tick: int) -> int:
        """People who reached an open border (location ``zone_code``) cross it (to
        ``exit_code``); returns persons crossed."""
        idx = np.flatnonzero(self.loc == zone_code)
        idx = idx[self.arrive[idx] <= tick]  # arrived: one pass over the few at the border
        if not len(idx) or p_cross <= 0:
            return 0
        go = idx[self.model.rng.random(len(idx)) < p_cross]
        self._move(go, np.full(len(go), exit_code, dtype=self.loc.dtype))
        n = int(self.size[go].sum())
        self.crossed[exit_code] += n
        return n

    def present_in(self, town: int) -> float:
        """Persons present in ``town`` (its own and hosted households)."""
        return float(self.count_loc[town])  # the running tally (every move and death updates it)

    def evacuate(self, town: int, persons: float) -> int:
        """Bus ``persons`` of the people present in ``town`` out of the area (safe passage),
        whole households chosen at random until the number is reached; returns persons."""
        idx = np.flatnonzero((self.loc == town) & (self.size > 0))
        if not len(idx) or persons <= 0:
            return 0
        idx = self.model.rng.permutation(idx)
        target = float(persons)
        k = int(np.searchsorted(np.cumsum(self.size[idx]), target)) + 1
        go = idx[:k] if target > 0 else idx[:0]
        self._move(go, np.full(len(go), self.exit0, dtype=self.loc.dtype))
        n = int(self.size[go].sum())
        self.evacuated += n
        return n

    def kill(self, deaths_by_loc: np.ndarray) -> np.ndarray:
        """Remove ``deaths_by_loc[c]`` persons at each location code c; returns deaths applied."""
        applied = np.zeros_like(deaths_by_loc)
        if deaths_by_loc.sum() <= 0:
            return applied
        rng = self.model.rng
        for c in np.flatnonzero(deaths_by_loc):  # a few locations a tick: one pass each
            # an emptied household (size 0) has zero width in the cumulative sum: never drawn
            hh = np.flatnonzero(self.loc == c)
            if not len(hh):
                continue
            cs = np.cumsum(self.size[hh])
            k = int(min(deaths_by_loc[c], cs[-1]))
            persons = rng.choice(int(cs[-1]), size=k, replace=False)
            victims = hh[np.searchsorted(cs, persons, side="right")]
            self._remove(victims)
            applied[c] = k
        self.dead += int(applied.sum())
        return applied

    def _remove(self, victims: np.ndarray) -> None:
        """One person dies in each listed household (repeats allowed); tallies follow."""
        ones = np.ones(len(victims), dtype=np.int64)
        loc, h = self.loc[victims], self.home[victims]
        self.count_loc -= self._bincount(loc, ones, self.n_loc)
        at_home = loc == h
        self.home_at -= self._bincount(h, at_home.astype(np.int64), self.n_towns)
        self.away_home -= self._bincount(h, (~at_home & (loc < self.exit0)).astype(np.int64),
                                         self.n_towns)
        np.subtract.at(self.size, victims, 1)
