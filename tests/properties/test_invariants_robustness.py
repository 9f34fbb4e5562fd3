"""Robustness: every valid scenario runs cleanly; every invalid one is rejected by the schema."""

from __future__ import annotations

import math
import tomllib

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from sim.errors import ScenarioError
from sim.run import collect
from sim.scenario.loader import load_scenario, validate_data
from sim.scenario.schema import Axis
from tests.properties.harness import run_checked
from tests.strategies import (
    invalid_assignments,
    scenario_dicts,
    scenarios,
    seeds,
    unknown_field_names,
    wrong_type_assignments,
)

# Any floating-point warning (overflow, 0/0, inf - inf) is a numeric bug, not noise.
pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")


def _finite(name: str, value: object) -> None:
    arr = np.asarray(value, dtype=np.float64)
    assert not np.isnan(arr).any(), f"{name} has NaN"
    # distances to a regime town that does not exist yet are +inf by design; nothing else is
    if name not in ("d_regime", "last_strike_day", "local_deal_day"):
        assert np.isfinite(arr).all(), f"{name} is not finite"


@given(scenarios(), seeds())
def test_any_valid_scenario_runs_without_exception_nan_or_infinity(sc, seed):
    def check(m, before, after) -> None:
        for name in ("intensity", "strikes", "present", "theta", "area_handed_over", "d_regime",
                     "axis_w", "front_w", "last_strike_day", "local_deal_day"):
            _finite(name, getattr(m, name))
        for f in m.factions:
            _finite(f"pain of {f.spec.name}", f.pain)
        for t in m.talks_by_bloc:
            _finite("pain_since_collapse", t.pain_since_collapse)

    m = run_checked(sc, seed, check)
    res = collect(m)
    numeric = [c for c in m.timeseries_columns
               if c != "time" and not c.startswith("negotiation_state")]
    _finite("timeseries", res.timeseries[numeric].to_numpy(dtype=np.float64))
    for k, v in res.outcomes.items():
        # outcomes are NaN by design when an event never happened (no collapse, no deal)
        assert not (isinstance(v, float) and math.isinf(v)), k


def _assert_rejected_naming(data: dict, path: str, value: object) -> None:
    group, field = path.split(".")
    data[group][field] = value
    with pytest.raises(ScenarioError) as err:
        validate_data(data, file="drawn.toml")
    assert err.value.field == path


@given(scenario_dicts(), invalid_assignments())
def test_out_of_range_parameter_is_rejected_with_scenario_error(data, bad):
    _assert_rejected_naming(data, *bad)


@given(scenario_dicts(), wrong_type_assignments())
def test_wrong_type_value_is_rejected_with_scenario_error(data, bad):
    _assert_rejected_naming(data, *bad)


@given(scenario_dicts(), unknown_field_names())
def test_unknown_field_is_rejected_with_scenario_error_naming_it(data, unknown):
    group, name = unknown
    data[group][name] = 1.0
    with pytest.raises(ScenarioError) as err:
        validate_data(data, file="drawn.toml")
    assert err.value.field == f"{group}.{name}"
    assert "unknown field" in err.value.message


def _toml_value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'"{v}"'
    return repr(v)


@given(invalid_assignments(), st.sampled_from(["table", "dotted"]))
def test_invalid_scenario_file_is_rejected_with_scenario_error_not_a_crash(tmp_path_factory, bad, style):
    path, value = bad
    group, field = path.split(".")
    text = (f"[{group}]\n{field} = {_toml_value(value)}\n" if style == "table"
            else f"{group}.{field} = {_toml_value(value)}\n")
    tomllib.loads(text)  # the file itself is valid TOML; only the value is wrong
    f = tmp_path_factory.mktemp("bad") / "bad.toml"
    f.write_text(f'extends = "{_baseline()}"\n' + text, encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_scenario(f)
    assert err.value.field == path
    assert err.value.line is not None


@given(st.text(min_size=1, max_size=20).filter(lambda s: "." not in s or s.count(".") > 1)
       | st.sampled_from(["regime.bombing", "world.population_scale", "time.tick_hours",
                          "borders.jordan", "x.y"]), st.floats(0, 1))
@example(path="0", value=0.0)  # regression: a path without a group was reported with no field
def test_unknown_or_unsettable_intervention_path_is_rejected_with_scenario_error(path, value):
    data = {"interventions": [{"day": 1.0, "set": {path: value}}]}
    with pytest.raises(ScenarioError) as err:
        validate_data(data, file="drawn.toml")
    # the error says which intervention and which path is wrong
    assert (err.value.field or "").startswith("interventions[0]")
    assert repr(path) in err.value.message or path in err.value.message


def _baseline() -> str:
    from tests.conftest import BASELINE

    return str(BASELINE)


def test_regression_tiny_axis_radius_and_defence_give_finite_capture_hazards():
    """Found by the suite: radius_km and defence just above 0 overflowed (and 0 * inf = NaN)."""
    from sim.rules.offensive import axis_weight
    from sim.rules.territory import capture_probability
    from sim.world.case import haversine_km

    ax = Axis(name="a", lat=33.0, lon=36.0, radius_km=2.2250738585072014e-308, from_day=0.0,
              weight=0.0)
    d = haversine_km(np.array([32.9, 33.0]), np.array([36.1, 36.0]), np.float64(ax.lat),
                     np.float64(ax.lon))
    w = axis_weight([d], [ax.radius_km], [ax.weight], 2)
    assert np.isfinite(w).all()
    p = capture_probability(np.array([0.0, 1.0, 1.0]), np.array([1.0, 1.0, 0.0]),
                            np.array([1e-308, 1e-308, 1e-308]), 1.6, 0.0, 0.25)
    np.testing.assert_array_equal(p, [0.0, 0.0, 0.0])
    p = capture_probability(np.array([0.0, 1.0]), np.array([1.0, 1.0]),
                            np.array([1e-308, 1e-308]), 1.6, 0.5, 0.25)
    np.testing.assert_array_equal(p, [0.0, 1.0])
