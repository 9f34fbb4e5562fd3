"""Rule: evacuation by bus of those who refuse the terms, when the terms include safe passage.

When a town settles (a local deal, its bloc's comprehensive deal, or an imposed handover) and
the terms include safe passage (``mediator.safe_passage``, or the concession won in the
comprehensive talks), those who refuse to "settle their status" leave for opposition-held
territory elsewhere: ``mediator.evacuation_share_hardline`` of the people present in a town
whose faction is mostly hardliners (hardliner share at least ``mediator.hardline_majority``),
``mediator.evacuation_share`` in any other (:func:`evacuation_share`). They join a queue
(first come, first served); the buses carry at most ``mediator.bus_capacity_per_day`` persons a
day (``x dt`` per tick), whole households chosen at
random among the people present in the town (its own and those it hosts), so a large departure
takes days. Those who have left are counted in ``evacuated_cum`` (the case's ``evacuation``
zone) and never return within the horizon.

Parameters: ``mediator.safe_passage``, ``mediator.evacuation_share_hardline``,
``mediator.evacuation_share``, ``mediator.hardline_majority``, ``mediator.bus_capacity_per_day``
(persons a day; the default, 10 million, is no limit: everyone leaves the tick their town
settles). Source: the Russian
reconciliation template of earlier local deals (shared/data/ghouta2018_inputs.toml,
[terms_offered_elsewhere]: refusers and their families bused to the north-west). Calibrated by:
nothing (Daraa was refused safe passage; Eastern Ghouta's evacuations are a forecast).
"""

from __future__ import annotations

from collections.abc import Iterator


class Buses:
    """The queue of persons waiting for the buses, by town, in the order they joined it."""

    def __init__(self) -> None:
        self.waiting: dict[int, float] = {}
        self.remaining = 0.0

    def new_tick(self, capacity_per_day: float, dt_days: float) -> None:
        """Seats available this tick."""
        self.remaining = capacity_per_day * dt_days

    def queue(self, town: int, persons: float) -> None:
        """``persons`` of ``town`` wait for the buses (added to any already waiting there)."""
        if persons > 0:
            self.waiting[town] = self.waiting.get(town, 0.0) + persons

    def board(self) -> Iterator[tuple[int, float]]:
        """Towns and persons to carry now, first come first served, within the seats left this
        tick (:meth:`carried` must follow each)."""
        for town in list(self.waiting):
            if self.remaining <= 0:
                return
            yield town, min(self.waiting[town], self.remaining)

    def carried(self, town: int, persons: int) -> None:
        """``persons`` of ``town`` left; a town with nobody left to carry leaves the queue."""
        want = self.waiting.get(town, 0.0)
        self.remaining -= persons
        left = want - persons
        if persons <= 0 or left <= 0:
            self.waiting.pop(town, None)
        else:
            self.waiting[town] = left

    @property
    def queued(self) -> float:
        """Persons still waiting."""
        return float(sum(self.waiting.values()))


def evacuation_share(hardliner_share: float, share_hardline: float, share_other: float,
                     hardline_majority: float) -> float:
    """Share of a settling town's people who leave by bus under safe passage: ``share_hardline``
    where its faction's hardliner share reaches ``hardline_majority``, else ``share_other``."""
    return share_hardline if hardliner_share >= hardline_majority else share_other
