"""sim/rules/prelude.py and the surge of sim/rules/bombardment.py: the escalation before day 0
displaces people but kills nobody and records nothing; a dated surge multiplies the strikes."""

from __future__ import annotations

import numpy as np
import pytest

from sim.rules.bombardment import surge
from sim.rules.prelude import prelude_clock, prelude_ticks
from sim.run import simulate
from sim.scenario.schema import Scenario


@pytest.mark.parametrize(("axis_ticks", "n"), [
    ([], 0), ([0, 4], 0), ([-12, 4, -3], 12), ([5], 0),
])
def test_the_prelude_starts_at_the_earliest_axis_dated_before_day_0(axis_ticks, n):
    assert prelude_ticks(axis_ticks) == n


def test_the_prelude_clock_runs_up_to_the_tick_before_day_0():
    assert list(prelude_clock(3)) == [-3, -2, -1]
    assert list(prelude_clock(0)) == []


@pytest.mark.parametrize(("tick", "surge_tick", "factor", "until", "out"), [
    (5, None, 3.0, None, 1.0),   # no surge in the plan
    (31, 32, 3.0, None, 1.0),    # before its day
    (32, 32, 3.0, None, 3.0),    # from its day on
    (90, 32, 2.5, None, 2.5),    # no end: it goes on
    (39, 32, 2.5, 40, 2.5),      # the last tick before its end
    (40, 32, 2.5, 40, 1.0),      # ended
])
def test_a_surge_multiplies_the_strikes_from_its_day_until_its_end(tick, surge_tick, factor,
                                                                    until, out):
    assert surge(tick, surge_tick, factor, until) == out


def _west(from_day: float, **regime: object) -> Scenario:
    return Scenario(world={"population_scale": 0.05}, time={"horizon_days": 3.0},
                    mediator={"enabled": False, "local_deals": False},
                    regime={"axes": [{"name": "north-west", "lat": 33.09, "lon": 36.05,
                                      "radius_km": 15.0, "from_day": from_day}], **regime},
                    flight={"b_front": 1.0})


def test_an_axis_dated_before_day_0_has_displaced_people_by_day_0_but_killed_nobody():
    before = simulate(_west(-3.0), seed=4)
    at_launch = simulate(_west(0.0), seed=4)
    first = before.rows[0]
    assert first["day"] == 0.0
    assert first["displaced_total"] > 0
    assert at_launch.rows[0]["displaced_total"] == 0
    assert first["civilian_deaths_cum"] == 0
    assert all(e[0] >= 0.0 for e in before.events)
    # after day 0 the prelude's displaced stay counted: more displaced than without it
    assert before.rows[4]["displaced_total"] > at_launch.rows[4]["displaced_total"]


def test_a_surge_raises_the_bombardment_from_its_day_and_not_before():
    m = simulate(_west(0.0, surge_from_day=1.0, surge_factor=3.0, bombardment_capacity=40.0),
                 seed=2)
    # a row holds the intensity of the tick that ended at its time: the tick from day 1.0
    # is recorded at 1.25
    rows = {r["day"]: r["bombardment_intensity"] for r in m.rows}
    assert rows[1.0] == pytest.approx(40.0)
    assert rows[1.25] == pytest.approx(120.0)


def test_a_surge_with_an_end_day_returns_to_the_ordinary_tempo():
    m = simulate(_west(0.0, surge_from_day=0.5, surge_until_day=1.0, surge_factor=2.0,
                       bombardment_capacity=40.0), seed=2)
    rows = {r["day"]: r["bombardment_intensity"] for r in m.rows}
    assert [rows[d] for d in (0.5, 0.75, 1.0, 1.25)] == pytest.approx([40.0, 80.0, 80.0, 40.0])
    assert np.isfinite(list(rows.values())).all()
