"""The page served by ``negsim viz`` (``solara run analysis/viz/app.py``).

The scenario comes from ``$NEGSIM_VIZ_SCENARIO`` (set by ``negsim viz``) or scenarios/baseline.toml;
the levers start at that file's values. *Step* advances "Render Interval" ticks (6 h each by default);
*Reset* rebuilds the model from the controls.
"""

from __future__ import annotations

from typing import Any

import mesa.visualization.solara_viz as _solara_viz
import solara
from mesa.visualization import SolaraViz

from analysis.viz.components import DeathsChart, DisplacedChart, MapView, NegotiationPanel
from analysis.viz.model import VizModel, build_scenario, default_scenario_file, lever_values
from sim.scenario.schema import Scenario

#: Grid cells (12 columns, 30 px rows) of the four views: map and panel on top, charts below.
LAYOUT = [
    {"i": 0, "x": 0, "y": 0, "w": 6, "h": 17, "moved": False},
    {"i": 1, "x": 6, "y": 0, "w": 6, "h": 17, "moved": False},
    {"i": 2, "x": 0, "y": 17, "w": 6, "h": 10, "moved": False},
    {"i": 3, "x": 6, "y": 17, "w": 6, "h": 10, "moved": False},
]


def grid_layout(num_components: int) -> list[dict[str, Any]]:
    """Initial layout of the page's views (Mesa's default makes every view 10 rows high)."""
    if num_components == len(LAYOUT):
        return [dict(cell) for cell in LAYOUT]
    return _solara_viz._mesa_initial_grid_layout(num_components)


# Mesa 3.5 has no layout argument; ComponentsView looks this function up at render time.
# (Kept idempotent: solara may execute this module once per session.)
if not hasattr(_solara_viz, "_mesa_initial_grid_layout"):
    _solara_viz._mesa_initial_grid_layout = _solara_viz.make_initial_grid_layout
_solara_viz.make_initial_grid_layout = grid_layout


def model_params(scenario_file: str) -> dict[str, Any]:
    """SolaraViz controls; levers start at the scenario file's values (schema defaults if bad)."""
    built = build_scenario(scenario_file)
    v = lever_values(built.scenario if built.scenario is not None else Scenario())
    return {
        "scenario_file": {"type": "InputText", "value": scenario_file,
                          "label": "Scenario file (press Enter, then Reset)"},
        "seed": {"type": "InputText", "value": "0", "label": "Seed"},
        "phases": {"type": "SliderInt", "value": int(v["phases"]), "min": 1, "max": 10, "step": 1,
                   "label": "Disarmament phases"},
        "safe_passage": {"type": "Checkbox", "value": bool(v["safe_passage"]),
                         "label": "Safe passage offered"},
        "open_borders": {"type": "Checkbox", "value": bool(v["open_borders"]),
                         "label": "Borders and frontiers open"},
        "corridors_open": {"type": "Checkbox", "value": bool(v["corridors_open"]),
                           "label": "Corridors to government areas open"},
        "bombardment_capacity": {"type": "SliderFloat", "value": float(v["bombardment_capacity"]),
                                 "min": 0.0, "max": 200.0, "step": 5.0,
                                 "label": "Bombardment (strikes/day)"},
    }


def make_page(scenario_file: str | None = None, model: VizModel | None = None) -> Any:
    """The SolaraViz page element for a scenario file (the default one if None)."""
    path = str(scenario_file or default_scenario_file())
    params = model_params(path)
    model = model if model is not None else VizModel(scenario_file=path, seed=0)
    return SolaraViz(
        model,
        components=[(MapView, 0), (NegotiationPanel, 0), (DisplacedChart, 0), (DeathsChart, 0)],
        model_params=params,
        name="negsim: negotiated surrender under bombardment (southern Syria, 2018)",
        render_interval=1,
        play_interval=150,
    )


@solara.component
def Page():
    """What ``solara run`` serves: one model per browser session (tabs do not share a model)."""
    path = str(default_scenario_file())
    model = solara.use_memo(lambda: VizModel(scenario_file=path, seed=0), [])
    return make_page(path, model)
