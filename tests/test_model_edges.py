"""Model edges that gave silently wrong results: overlapping intervention windows, outcomes
asked for days past the horizon."""

from __future__ import annotations

import math

import pytest

from sim.model import NegotiationModel, load_case
from sim.outcomes import outcome_names
from sim.run import collect, simulate
from sim.scenario.schema import Intervention, get_param

PATH = "regime.bombardment_scale"


def _model(small, *windows: tuple[float, float | None, float]) -> NegotiationModel:
    sc = small.model_copy(deep=True)
    sc.time.horizon_days = 12
    sc.interventions = [Intervention(day=d, until_day=u, set={PATH: v}) for d, u, v in windows]
    return NegotiationModel(sc, seed=1)


def _values_by_day(m: NegotiationModel) -> dict[float, float]:
    seen = {}
    while m.running and m.tick < m.n_ticks:
        m.step()
        seen[round(m.day - m.dt_days, 6)] = get_param(m.params, PATH)  # in force during that tick
    return seen


@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_overlapping_set_windows_stack_and_end_at_the_scenarios_value(small, order):
    base = small.regime.bombardment_scale
    wins = [(2.0, 6.0, 2.0), (4.0, 8.0, 3.0)]
    seen = _values_by_day(_model(small, *(wins[i] for i in order)))
    assert seen[1.0] == base
    assert seen[3.0] == 2.0
    assert seen[5.0] == 3.0                     # the later window wins while both are open
    assert seen[7.0] == 3.0                     # the first ended: the second is still in force
    assert seen[9.0] == base and seen[11.0] == base  # both ended: the scenario's value, not 2.0


def test_a_window_nested_in_another_returns_to_the_outer_windows_value(small):
    base = small.regime.bombardment_scale
    seen = _values_by_day(_model(small, (2.0, 9.0, 2.0), (4.0, 6.0, 3.0)))
    assert (seen[3.0], seen[5.0], seen[7.0], seen[10.0]) == (2.0, 3.0, 2.0, base)


def test_a_window_over_a_permanent_change_returns_to_the_permanent_value(small):
    seen = _values_by_day(_model(small, (2.0, None, 2.0), (4.0, 6.0, 3.0)))
    assert (seen[3.0], seen[5.0], seen[7.0], seen[11.0]) == (2.0, 3.0, 2.0, 2.0)


def test_outcomes_for_days_past_the_horizon_are_missing(small):
    sc = small.model_copy(deep=True)
    sc.time.horizon_days = 5
    o = collect(simulate(sc, 3)).outcomes
    for name in ("deaths_day16", "deaths_day60", "displaced_day16", "towns_reconciled_day15",
                 "regime_share_day16", "crossed_day16", "jordan_border_day16", "golan_day16"):
        assert math.isnan(o[name]), name
    assert o["deaths_final"] >= 0 and not math.isnan(o["deaths_final"])
    assert set(o) == set(outcome_names(load_case(sc).outcomes))


def test_outcomes_at_the_horizon_day_itself_are_reported(small):
    sc = small.model_copy(deep=True)
    sc.time.horizon_days = 16
    o = collect(simulate(sc, 3)).outcomes
    assert o["deaths_day16"] == o["deaths_final"] and math.isnan(o["deaths_day60"])
