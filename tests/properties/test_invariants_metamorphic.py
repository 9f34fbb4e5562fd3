"""Metamorphic relations, statistical over fixed seeds (common random numbers), with stated tolerances.

Each relation compares the mean over ``SEEDS`` of a daily curve (as a share of the initial
population) between two scenarios that differ in one lever. Seeds and scenarios are fixed, so the
tests are deterministic; the tolerances are several times the standard error of those means
measured when the tests were written (see each test).
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from sim.scenario.loader import load_scenario
from sim.scenario.schema import Scenario, set_param
from tests.conftest import BASELINE
from tests.properties.harness import model

SEEDS = tuple(range(6))
HORIZON = 16.0  # the article's day


@functools.cache
def _base() -> Scenario:
    sc = load_scenario(BASELINE)
    sc.time.horizon_days = HORIZON
    sc.world.population_scale = 0.02
    return sc


def _variant(**changes: object) -> Scenario:
    sc = _base().model_copy(deep=True)
    for path, value in changes.items():
        if path.startswith("borders__open__"):  # one border's flag
            set_param(sc, "borders.open." + path[len("borders__open__"):], value)
            continue
        group, field = path.split("__")
        setattr(getattr(sc, group), field, value)
    return sc


def _daily(sc: Scenario, seed: int) -> dict[str, np.ndarray]:
    """Daily curves (one value per day 0..horizon) as shares of the initial population."""
    m = model(sc, seed)
    m.run()
    rows = m.rows[::m.ticks_per_day]
    n = m.civilians.initial
    col = {k: np.array([r[k] for r in rows], dtype=float) / n for k in rows[0] if k not in (
        "time", "negotiation_state")}
    # displacement so far: persons away from home now plus those who fled and came back
    col["fled_cum"] = col["alive"] - col["at_home"] + col["returned_cum"]
    return col


def _means(sc: Scenario, keys: tuple[str, ...], seeds: tuple[int, ...] = SEEDS) -> dict[str, np.ndarray]:
    """Mean daily curves over ``seeds`` (one run per seed)."""
    runs = [_daily(sc, s) for s in seeds]
    return {k: np.mean([r[k] for r in runs], axis=0) for k in keys}


def _mean(sc: Scenario, key: str, seeds: tuple[int, ...] = SEEDS) -> np.ndarray:
    return _means(sc, (key,), seeds)[key]


# Bombardment capacities over the calibration prior (10-120 strikes/day; schema prior).
CAPACITIES = (10.0, 20.0, 40.0, 80.0, 120.0)


@pytest.mark.parametrize("context", [{}, {"borders__open__jordan_border": True},
                                     {"regime__corridors_open": True}],
                         ids=["baseline", "jordan_open", "corridors_open"])
def test_more_bombardment_never_lowers_expected_displacement_before_the_offers(context):
    """Until the mediator's offers (``mediator.offers_from_day``), mean cumulative displacement
    never falls as capacity rises, on any day (tolerance 2% of the population; seed-to-seed s.e.
    of these means was about 1-2%): before coercion and settlement begin, strikes only drive
    people out.

    After the offers the relation does not hold, by the rules' design, and is reported, not
    tested: heavier bombing makes towns settle sooner (reconciliation pressure), which ends their
    ultimatum flight and leaves fewer towns for the blitz after the collapse. Measured on the
    baseline at 1:50, 6 seeds: day-16 cumulative displacement 44%, 47%, 46%, 39%, 42% of the
    population for 10, 20, 40, 80, 120 strikes/day, while on day 8 it rises 5%, 7%, 9%, 14%, 17%.
    """
    first_offer = int(_base().mediator.offers_from_day)  # whole days before the first offer
    curves = [_mean(_variant(regime__bombardment_capacity=c, **context), "fled_cum")[:first_offer + 1]
              for c in CAPACITIES]
    for lo, hi, c_lo, c_hi in zip(curves, curves[1:], CAPACITIES, CAPACITIES[1:], strict=False):
        worst = float((hi - lo).min())
        assert worst >= -0.02, f"capacity {c_lo} -> {c_hi}: displacement falls by {-worst:.3f}"


@pytest.mark.parametrize("zone,column", [("jordan_border", "displaced_jordan_border"),
                                         ("golan_frontier", "displaced_golan")])
def test_opening_a_border_never_raises_the_count_stuck_at_it(zone, column):
    """People stuck at a border, by day: open <= closed + 0.5% of the population."""
    closed = _mean(_variant(**{f"borders__open__{zone}": False}), column)
    opened = _mean(_variant(**{f"borders__open__{zone}": True}), column)
    assert (opened <= closed + 0.005).all(), np.round(opened - closed, 4)
    assert opened[-1] < closed[-1]  # and the border does drain


def test_tick_length_1h_6h_24h_gives_the_same_daily_curves_up_to_a_one_day_lag():
    """Daily displaced and at-home shares agree within 4% of the population across tick lengths
    of 1, 6 and 24 hours, allowing the coarser tick to lag by up to one day: a threshold crossed
    during a tick (an ultimatum, the collapse and its blitz) acts only from the next tick, so the
    coarser curve may show a jump later. On each day the 1 h curve lies within 4% of the band
    the 6 h curve spans on that day and the next, and the 24 h curve within 4% of the band the
    6 h curve spans on that day and the day before. Measured when written (calibrated baseline,
    6 seeds, 1:50): without the allowance the curves differ by up to 5% (1 h vs 6 h, day 16,
    hours after the collapse) and 6.6% (24 h vs 6 h, day 10: the jump of the offers a day late)."""
    keys = ("displaced_total", "at_home")
    curves = {h: _means(_variant(time__tick_hours=h, time__horizon_days=HORIZON + 1), keys)
              for h in (1, 6, 24)}
    for k in keys:
        six = curves[6][k]
        for h, other in ((1, np.concatenate([six[1:], six[-1:]])),
                         (24, np.concatenate([six[:1], six[:-1]]))):
            lo = np.minimum(six, other)[:-1] - 0.04  # days 0..HORIZON
            hi = np.maximum(six, other)[:-1] + 0.04
            day = curves[h][k][:-1]
            outside = np.flatnonzero((day < lo) | (day > hi))
            assert outside.size == 0, f"{h} h ticks: {k} leaves the one-day-lag band on days {outside}"


def test_population_scale_1_to_10_gives_the_same_shares_as_1_to_1():
    """Shares displaced, at home and at the borders at 1:10 vs 1:1 agree within 4% of the
    population (measured: <2%, over 4 seeds)."""
    keys = ("displaced_total", "at_home", "displaced_jordan_border", "displaced_golan")
    seeds = SEEDS[:4]
    small = _means(_variant(world__population_scale=0.1), keys, seeds)
    full = _means(_variant(world__population_scale=1.0), keys, seeds)
    for k in keys:
        diff = float(np.abs(small[k] - full[k]).max())
        assert diff <= 0.04, f"1:10 vs 1:1: {k} share differs by {diff:.3f}"
