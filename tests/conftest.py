"""Shared fixtures: the baseline scenario, a small-population variant, finished runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.scenario.loader import load_scenario
from sim.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
BASELINE = SCENARIOS / "baseline.toml"


@pytest.fixture(scope="session")
def baseline() -> Scenario:
    return load_scenario(BASELINE)


@pytest.fixture()
def small(baseline: Scenario) -> Scenario:
    """The baseline at 1:20 population, for fast tests of mechanics (not of calibration)."""
    sc = baseline.model_copy(deep=True)
    sc.world.population_scale = 0.05
    return sc
