"""Rule: the model's clock counts whole ticks; a dated thing happens at the first tick that starts
on or after its date.

A tick lasts ``time.tick_hours`` hours, an integer that divides 24, so a day has
``ticks_per_day = 24 // tick_hours`` ticks and every time the model records (the start of a
tick) is a whole number of hours. Scenario times are given in days or hours (an intervention's
``day`` and ``until_day``, an axis' ``from_day``, ``mediator.offers_from_day``, deadlines,
``mediator.round_hours``, ``mediator.local_talks_hours``, ...). They are converted to ticks
once, when the model is built, and the model compares integers:

* a **date** ``d`` (days) is due at tick ``ceil(d * ticks_per_day)``: the first tick starting
  at or after it (:func:`due_tick`);
* a **delay** of ``h`` hours (or ``d`` days) after tick ``t`` is due at tick
  ``t + ceil(h / tick_hours)`` (:func:`delay_ticks`, :func:`days_to_ticks`).

The conversion is exact: a number read from a scenario file is the decimal written there
(``Fraction(repr(x))`` recovers it from its float), so a date that falls on a tick boundary
(day 8.25 with 6-hour ticks) is never pushed to the next tick by binary rounding, and no
tolerance is needed anywhere.

One output changed with this rule (issue 16), and only for ticks whose length in days is not a
binary fraction (1, 2, 4 and 8 hours; the default 6 hours, and 3, 12 and 24, are exact in
floating point): the continuing offensive's stall (``regime.next_axis_days``) and the quiet spell
before returns (``returns.quiet_days``) used to compare float days without any tolerance, so
``t * dt - p * dt >= 2.0`` could be false for ``t - p`` exactly two days of ticks and the next axis
opened one tick late (seen with 1-hour ticks: Daraa pin levers, seed 2, an axis at day 33.083
instead of 33.125). In whole ticks it opens on time.

Parameters: ``time.tick_hours``. Calibrated by: nothing (the model's time base).
"""

from __future__ import annotations

import math
from fractions import Fraction

#: Hours in a day.
HOURS_PER_DAY = 24


def exact(x: float) -> Fraction:
    """The decimal a float was written as (its shortest repr), as an exact fraction."""
    return Fraction(repr(float(x)))


def ticks_per_day(tick_hours: int) -> int:
    """Ticks in a day (``tick_hours`` divides 24)."""
    if tick_hours <= 0 or HOURS_PER_DAY % tick_hours:
        raise ValueError(f"tick_hours must divide 24, got {tick_hours}")
    return HOURS_PER_DAY // tick_hours


def days_to_ticks(days: float, tick_hours: int) -> int:
    """Whole ticks covering a span of ``days`` (rounded up; 0 days are 0 ticks): ``ceil(days *
    ticks_per_day)``, exactly."""
    if not math.isfinite(days):
        raise ValueError(f"a span of days must be finite, got {days}")
    return math.ceil(exact(days) * ticks_per_day(tick_hours))


def due_tick(day: float, tick_hours: int) -> int:
    """The first tick starting at or after ``day`` (a date in days, finite)."""
    return days_to_ticks(day, tick_hours)


def delay_ticks(hours: float, tick_hours: int) -> int:
    """Whole ticks covering a delay of ``hours`` (rounded up)."""
    if not math.isfinite(hours):
        raise ValueError(f"a delay must be finite, got {hours}")
    return math.ceil(exact(hours) / tick_hours)


def tick_day(tick: int | float, tick_hours: int) -> float:
    """The day a tick starts (the model's ``day``)."""
    return tick * (tick_hours / HOURS_PER_DAY)
