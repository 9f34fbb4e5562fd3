"""Found by walking through the README as a new user: the animated map's legend, the browser
app's server process, sensitivity replicates and outcomes that are sometimes missing."""

from __future__ import annotations

import re

import matplotlib.animation
import numpy as np
import pytest

from analysis.maps import animate_map
from analysis.store import load_run
from sim.cli import main
from tests.test_batch import tiny_toml


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("walk")
    out = d / "run"
    assert main(["--quiet", "run", str(tiny_toml(d)), "--seed", "3", "--no-plot", "--out", str(out)]) == 0
    return out


def test_every_frame_of_the_animated_map_has_its_own_days_legend(run_dir, monkeypatch, tmp_path):
    legends: list[tuple[float, list[str]]] = []
    real = matplotlib.animation.FuncAnimation

    class Recording(real):  # draws every frame, as saving does, and keeps its legend
        def __init__(self, fig, func, frames, **kw):
            super().__init__(fig, func, frames=frames, **kw)
            for i in range(frames):
                func(i)
                ax = fig.axes[0]
                legends.append((ax.get_title(), [t.get_text() for t in ax.get_legend().get_texts()]))

    monkeypatch.setattr(matplotlib.animation, "FuncAnimation", Recording)
    run = load_run(run_dir)
    animate_map(run, tmp_path / "map.gif", dpi=20)
    days = np.sort(run.towns["day"].unique())
    assert len(legends) == len(days)
    for (title, texts), day in zip(legends, days, strict=True):
        assert f"day {day:g}," in title
        t = run.towns[np.isclose(run.towns["day"], day)]
        for ctl, (label, _c, _m) in {"rebel": ("rebel-held", 0, 0), "regime": ("regime-held", 0, 0)}.items():
            shown = next(x for x in texts if x.startswith(label + " ("))
            assert int(re.search(r"\((\d+)\)", shown).group(1)) == int((t["controller"] == ctl).sum()), (day, shown)
    first, last = legends[0][1], legends[-1][1]
    assert first != last, "the towns change hands over the run, so the legend must too"
