"""The model the browser app drives: scenario levers in, a :class:`NegotiationModel` inside.

SolaraViz re-creates the model on *Reset* by calling its class with the page's keyword
parameters, so the levers are plain keywords here. The scenario file is loaded with
:func:`sim.scenario.loader.load_scenario` and the levers are applied with
:func:`sim.scenario.schema.set_param` (validated against the schema's ranges). Any user mistake
(a missing or invalid scenario file, a seed that is not a number) is kept as ``error`` text,
which the page shows; the model then does nothing, so no traceback reaches the page.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mesa
from pydantic import ValidationError

from sim.errors import ScenarioError
from sim.model import NegotiationModel
from sim.scenario.loader import default_scenarios_dir, load_scenario
from sim.scenario.schema import Scenario, get_param, set_param

#: Environment variable through which ``negsim viz`` passes the scenario file to the page.
SCENARIO_ENV = "NEGSIM_VIZ_SCENARIO"

#: Lever keyword -> dotted schema parameter it sets (``open_borders``: every border and
#: frontier of the case's zones, open or closed, via ``borders.open``).
LEVERS: dict[str, str] = {
    "phases": "mediator.phases",
    "safe_passage": "mediator.safe_passage",
    "open_borders": "borders.open",
    "corridors_open": "regime.corridors_open",
    "bombardment_capacity": "regime.bombardment_capacity",
}


def closable_zones(sc: Scenario) -> list[str]:
    """The case's borders and frontiers (zone ids of its zones table)."""
    from analysis.casemeta import scenario_zones

    return [z.id for z in scenario_zones(sc) if z.closable]


def default_scenario_file() -> Path:
    """The scenario the page opens with: ``$NEGSIM_VIZ_SCENARIO`` or scenarios/baseline.toml."""
    env = os.environ.get(SCENARIO_ENV)
    return Path(env) if env else default_scenarios_dir() / "baseline.toml"


@dataclass(frozen=True)
class Built:
    """The outcome of building a scenario from the page's inputs: a scenario or an error."""

    scenario: Scenario | None
    seed: int
    error: str | None


def parse_seed(seed: int | str) -> int:
    """A seed from a slider (int) or a text box (str); ScenarioError if not a non-negative int."""
    try:
        value = int(str(seed).strip())
    except ValueError:
        raise ScenarioError(f"seed must be a whole number, got {seed!r}", field="seed",
                            fix="type a non-negative integer, e.g. 0") from None
    if value < 0:
        raise ScenarioError(f"seed must be non-negative, got {value}", field="seed",
                            fix="type a non-negative integer, e.g. 0")
    return value


def build_scenario(scenario_file: str | Path, seed: int | str = 0,
                   levers: dict[str, Any] | None = None) -> Built:
    """Load ``scenario_file``, apply the levers (``None`` keeps the file's value), parse the seed.

    Returns the scenario or the user-facing error text; never raises for a user's mistake.
    """
    try:
        s = parse_seed(seed)
        path = Path(str(scenario_file).strip()).expanduser()
        if not str(scenario_file).strip():
            raise ScenarioError("no scenario file given", field="scenario_file",
                                fix="type a path such as scenarios/baseline.toml")
        sc = load_scenario(path)
        for name, value in (levers or {}).items():
            if value is None:
                continue
            if name not in LEVERS:
                raise ScenarioError(f"unknown lever {name!r}", field=name,
                                    fix=f"levers: {', '.join(LEVERS)}")
            try:
                if name == "open_borders":  # every border and frontier of the case
                    sc.borders.open = closable_zones(sc) if value else []
                    continue
                set_param(sc, LEVERS[name], value)
            except (ValidationError, ValueError) as exc:
                msg = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
                raise ScenarioError(msg, file=path, field=LEVERS[name],
                                    fix="use a value in the schema's range") from None
        return Built(sc, s, None)
    except ScenarioError as exc:
        return Built(None, 0, str(exc))


def lever_values(scenario: Scenario) -> dict[str, Any]:
    """The current value of every lever in a scenario (for the page's initial controls)."""
    return {name: (bool(scenario.borders.open) if name == "open_borders" else get_param(scenario, path))
            for name, path in LEVERS.items()}


class VizModel(mesa.Model):
    """What the page steps: a :class:`NegotiationModel` built from levers, or an error to show.

    ``sim`` is the running model (``None`` if the inputs were bad), ``error`` the message to show.
    One Mesa step is one model tick (``time.tick_hours``).
    """

    def __init__(
        self,
        scenario_file: str = "",
        seed: int | str = 0,
        phases: int | None = None,
        safe_passage: bool | None = None,
        open_borders: bool | None = None,
        corridors_open: bool | None = None,
        bombardment_capacity: float | None = None,
    ) -> None:
        built = build_scenario(scenario_file or default_scenario_file(), seed, {
            "phases": phases, "safe_passage": safe_passage, "open_borders": open_borders,
            "corridors_open": corridors_open, "bombardment_capacity": bombardment_capacity})
        super().__init__(rng=built.seed)
        self.scenario_file = str(scenario_file or default_scenario_file())
        self.error: str | None = built.error
        self.sim: NegotiationModel | None = None
        if built.scenario is not None:
            try:
                self.sim = NegotiationModel(built.scenario, seed=built.seed)
            except ScenarioError as exc:  # a bad data file named by the scenario
                self.error = str(exc)
        self.running = self.sim is not None

    @property
    def rows(self) -> list[dict[str, Any]]:
        """Per-tick rows of the inner model (empty when there is none)."""
        return self.sim.rows if self.sim is not None else []

    def step(self) -> None:
        if self.sim is None:
            self.running = False
            return
        self.sim.step()
        self.running = self.sim.running
