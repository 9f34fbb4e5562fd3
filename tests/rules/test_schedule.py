"""The schedule of a tick: ``NegotiationModel.step`` makes one call per phase of docs/ODD.md
section 3, with the same names in the same order (the ODD and the code cannot drift apart)."""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
from pathlib import Path

import pytest

from sim.model import NegotiationModel
from sim.scenario.schema import Intervention

ODD = Path(__file__).resolve().parents[2] / "docs" / "ODD.md"


def _odd_phases() -> list[str]:
    text = ODD.read_text(encoding="utf-8")
    section = text[text.index("## 3. Process overview"):text.index("## 4. Design concepts")]
    return re.findall(r"^\d+\. `(\w+)`", section, flags=re.MULTILINE)


def _step_calls() -> list[str]:
    tree = ast.parse(textwrap.dedent(inspect.getsource(NegotiationModel.step)))
    calls = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "self"):
            calls.append((node.lineno, node.func.attr))
    return [name for _, name in sorted(calls)]


def test_the_odd_lists_the_phases_of_a_tick():
    phases = _odd_phases()
    assert len(phases) >= 9 and phases[-1] == "record"


def test_step_calls_the_odds_phases_in_order_and_nothing_else():
    assert _step_calls() == _odd_phases()


def test_every_phase_is_a_documented_method_of_the_model():
    for name in _odd_phases():
        method = getattr(NegotiationModel, name)
        assert callable(method) and (method.__doc__ or "").strip(), name


def test_the_clock_is_mesas_step_counter(small):
    sc = small.model_copy(deep=True)
    sc.time.horizon_days = 1
    m = NegotiationModel(sc, seed=1)
    assert m.tick == m.steps == 0 and m.day == 0.0
    m.step()
    m.step()
    assert m.tick == m.steps == 2
    assert [r["day"] for r in m.rows] == [0.0, m.dt_days, 2 * m.dt_days]
    assert {e[0] for e in m.events} <= {0.0, m.dt_days}  # events carry their tick's start
    m.run()
    assert m.tick == m.n_ticks and not m.running
    rows = len(m.rows)
    m.step()  # past the horizon: nothing happens
    assert len(m.rows) == rows


@pytest.mark.parametrize(("day", "applied_day"), [(0.3, 0.5), (0.5, 0.5), (0.75, 0.75), (0.0, 0.0)])
def test_an_intervention_takes_effect_at_the_first_tick_starting_on_or_after_its_day(
        small, day, applied_day):
    sc = small.model_copy(deep=True)
    sc.time.horizon_days = 2
    sc.interventions = [Intervention(day=day, set={"regime.bombardment_scale": 0.5})]
    m = NegotiationModel(sc, seed=1)
    m.run()
    assert [e[0] for e in m.events if e[1] == "intervention"] == [applied_day]
