"""Scenarios: the parameter schema, the TOML loader (with ``extends``) and interventions."""

from sim.scenario.loader import load_scenario, resolve_path
from sim.scenario.schema import Scenario, calibratable_params, get_param, set_param

__all__ = ["Scenario", "load_scenario", "resolve_path", "calibratable_params", "get_param",
           "set_param"]
