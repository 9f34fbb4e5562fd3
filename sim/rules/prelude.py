"""Rule: the escalation before day 0 (the prelude) displaces people before the offensive's launch.

A case's day 0 is the offensive's launch, but the plan may date an axis before it (``from_day <
0``: shelling that began days earlier). The model then starts at the earliest such axis: for
each tick before day 0 it runs only the front and the flight phases (:mod:`sim.rules.offensive`,
:mod:`sim.rules.flight`), with the axes open at that tick. No strikes are drawn, no town changes
hands, no talks are held and nothing is recorded before day 0: the prelude's one effect is the
stock of people already displaced, and on their way, at day 0 (the public record counts the
displaced from the escalation, not from the launch; deaths are counted from the launch, so the
prelude kills nobody).

Parameters: ``regime.axes[*].from_day`` (negative: an input of the plan, with its source).
Calibrated by: nothing of its own (the flight parameters). The Daraa baseline dates its
north-western axis from 16 June (day -3, OCHA Flash Update #1: the escalation in north-west Dar'a
three days before the launch), so some 5,500 people are already displaced on day 1 (the record:
5,890 verified, 12-25,000 estimated; seeds/record.toml).
"""

from __future__ import annotations

from collections.abc import Iterable


def prelude_ticks(axis_from_ticks: Iterable[int]) -> int:
    """Ticks simulated before day 0: those from the earliest axis dated before day 0 (0 if none).

    ``axis_from_ticks`` are the ticks the plan's axes open at (negative: before day 0).
    """
    return max([0, *(-t for t in axis_from_ticks)])


def prelude_clock(n_ticks: int) -> range:
    """The ticks of the prelude, in order: ``-n_ticks .. -1`` (day 0 is tick 0)."""
    return range(-n_ticks, 0)
