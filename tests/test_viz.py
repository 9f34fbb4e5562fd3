"""The browser app without a browser: levers, on-page errors, views (solara.render), CLI errors."""

from __future__ import annotations

import inspect
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import ipyvuetify as v
import numpy as np
import pytest
import solara
from mesa.visualization.solara_viz import _check_model_params
from mesa.visualization.utils import force_update

from analysis.viz.app import model_params
from analysis.viz.components import (
    CONTROL_STYLE,
    DisplacedChart,
    MapView,
    NegotiationPanel,
    latest_events,
    map_figure,
    panel_markdown,
)
from analysis.viz.model import LEVERS, VizModel, build_scenario
from sim.cli import main
from sim.scenario.schema import get_param
from tests.conftest import BASELINE


def _scenario(tmp_path: Path, body: str, name: str = "s.toml", population_scale: float = 1.0) -> Path:
    """A scenario file in tmp_path extending the baseline; its data paths point at the case data."""
    data = BASELINE.parent / "data" / "daraa2018"
    world = "".join(f'{key}_file = "{(data / f"{key}.csv").as_posix()}"\n'
                    for key in ("towns", "subdistricts", "zones", "borders"))
    p = tmp_path / name
    p.write_text(f'extends = "{BASELINE.as_posix()}"\n{body}\n[world]\n{world}'
                 f"population_scale = {population_scale}\n", encoding="utf-8")
    return p


@pytest.fixture()
def small_file(tmp_path: Path) -> Path:
    """The baseline at 1:20 population (mechanics only)."""
    return _scenario(tmp_path, "", "small.toml", population_scale=0.05)


def test_levers_override_the_scenario_file_values(small_file: Path):
    built = build_scenario(small_file, "3", {"phases": 4, "safe_passage": True, "open_borders": True,
                                             "corridors_open": None, "bombardment_capacity": 75.0})
    assert built.error is None and built.seed == 3
    sc = built.scenario
    assert get_param(sc, "mediator.phases") == 4
    assert get_param(sc, "mediator.safe_passage") is True
    assert sc.borders.open == ["jordan_border", "golan_frontier"]  # every border of the case
    assert get_param(sc, "borders.open.jordan_border") is True
    assert get_param(sc, "regime.corridors_open") is False  # None keeps the file's value
    assert get_param(sc, "regime.bombardment_capacity") == 75.0
    assert sc.world.population_scale == 0.05


def test_an_invalid_scenario_file_becomes_error_text_not_an_exception(tmp_path: Path):
    bad = _scenario(tmp_path, "[mediator]\nphasez = 2\n")
    m = VizModel(scenario_file=str(bad))
    assert m.sim is None and not m.running
    assert "mediator.phasez" in m.error and "did you mean 'phases'" in m.error
    m.step()  # a no-op, not a crash
    assert m.rows == []


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({"scenario_file": "/no/such/file.toml"}, "file not found"),
    ({"seed": "seven"}, "seed must be a whole number"),
    ({"seed": "-1"}, "seed must be non-negative"),
    ({"phases": 0}, "mediator.phases"),
    ({"bombardment_capacity": -5.0}, "regime.bombardment_capacity"),
])
def test_bad_inputs_are_reported_with_what_is_wrong(kwargs, expected):
    kwargs.setdefault("scenario_file", str(BASELINE))
    m = VizModel(**kwargs)
    assert m.sim is None
    assert expected in m.error


def test_page_controls_start_at_the_scenario_files_values_and_fit_the_model(tmp_path: Path):
    f = _scenario(tmp_path, "[mediator]\nphases = 3\nsafe_passage = true\n"
                            "[regime]\nbombardment_capacity = 55.0\n")
    params = model_params(str(f))
    assert params["phases"]["value"] == 3
    assert params["safe_passage"]["value"] is True
    assert params["bombardment_capacity"]["value"] == 55.0
    assert params["scenario_file"]["value"] == str(f)
    assert set(LEVERS) <= set(params)
    _check_model_params(VizModel(scenario_file=str(f)), params)  # Mesa's own check: no raise
    init = inspect.signature(VizModel.__init__).parameters
    assert set(params) <= set(init)


def test_views_show_the_new_state_after_steps(small_file: Path):
    m = VizModel(scenario_file=str(small_file), seed=1, bombardment_capacity=200.0)

    @solara.component
    def Page():
        with solara.Column() as col:
            NegotiationPanel(m)
            DisplacedChart(m)
        return col

    _, rc = solara.render(Page(), handle_error=False)
    state0 = rc.find(v.Html, class_="negsim-state").widget.children[0]
    assert state0.startswith("Day 0.00") and "no talks" in state0
    assert rc.find(v.Html, class_="negsim-points").widget.children == ["1 points plotted"]
    while m.running and m.sim.talks.state.value == "no_talks":
        m.step()
    force_update()
    state = rc.find(v.Html, class_="negsim-state").widget.children[0]
    assert state != state0
    assert "no talks" not in state
    assert rc.find(v.Html, class_="negsim-points").widget.children == [
        f"{len(m.rows)} points plotted"]
    assert len(m.rows) > 1


def test_views_of_a_bad_scenario_show_the_error(tmp_path: Path):
    m = VizModel(scenario_file=str(tmp_path / "missing.toml"))
    for view in (NegotiationPanel, MapView, DisplacedChart):
        _, rc = solara.render(view(m), handle_error=False)
        alerts = [w.children for w in rc.find(v.Alert).widgets]
        assert any("file not found" in str(c) for c in alerts), view


def test_map_colours_towns_by_controller_and_counts_them(small_file: Path):
    m = VizModel(scenario_file=str(small_file), seed=2, bombardment_capacity=200.0)
    for _ in range(40):
        m.step()
    fig = map_figure(m.sim)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    for ctl, (label, _colour) in CONTROL_STYLE.items():
        n = int((m.sim.control == ctl).sum())
        assert (f"{label} ({n})" in labels) == (n > 0)
    sizes = np.concatenate([c.get_sizes() for c in ax.collections if len(c.get_offsets()) > 1])
    assert sizes.max() > sizes.min()  # sized by people present


def test_latest_events_leave_out_single_strikes(small_file: Path):
    m = VizModel(scenario_file=str(small_file), seed=0)
    for _ in range(30):
        m.step()
    evs = latest_events(m.sim, n=5)
    assert len(evs) <= 5
    assert all(e[1] not in ("strike", "casualties") for e in evs)
    assert [e[0] for e in evs] == sorted((e[0] for e in evs), reverse=True)


def test_cli_viz_rejects_a_bad_scenario_before_starting_a_server(tmp_path: Path, capsys):
    assert main(["viz", str(tmp_path / "nope.toml"), "--port", "1"]) == 2
    assert "file not found" in capsys.readouterr().err


def test_cli_viz_reports_a_port_in_use(capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert main(["viz", str(BASELINE), "--port", str(port)]) == 2
    assert f"port {port}" in capsys.readouterr().err


def test_negsim_viz_serves_the_page_on_localhost_and_ctrl_c_stops_it(tmp_path: Path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, PYTHONPATH=str(BASELINE.parents[1]))
    log = tmp_path / "viz.log"
    with log.open("w") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "sim", "viz", str(BASELINE), "--port", str(port)],
                                env=env, stdout=fh, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120.0  # readiness bound on a busy machine
        body = ""
        while not body and time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
                    body = r.read().decode("utf-8", "replace")
            except OSError:
                time.sleep(0.5)
        assert body, log.read_text()
        assert "solara" in body.lower()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 130
        with pytest.raises(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=15)
    assert f"http://127.0.0.1:{port}/" in log.read_text()


def test_the_whole_page_renders_with_the_default_scenario():
    import ipywidgets

    from analysis.viz.app import Page

    _, rc = solara.render(Page(), handle_error=False)
    assert rc.find(v.Html, class_="negsim-state").widget.children[0].startswith("Day 0.00")
    assert len(rc.find(ipywidgets.Image).widgets) == 3  # map and two charts


def test_the_views_draw_the_second_case_from_its_zones(tmp_path: Path):
    """Eastern Ghouta: no border line, a corridor zone, three blocs; the views read its data."""
    ghouta = Path(BASELINE).parent / "ghouta2018" / "baseline.toml"
    small = tmp_path / "g.toml"
    small.write_text(f'extends = "{ghouta}"\n[world]\npopulation_scale = 0.02\n', encoding="utf-8")
    m = VizModel(scenario_file=str(small), seed=1, open_borders=True, corridors_open=True)
    assert m.error is None and m.sim.params.borders.open == []  # the case has no border
    for _ in range(8):
        m.step()
    fig = map_figure(m.sim)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert any("Wafideen corridor" in t for t in texts)  # the corridor zone's count is drawn
    assert "borders open: none" in panel_markdown(m.sim)
