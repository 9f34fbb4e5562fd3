"""Found by walking through the README as a new user: the animated map's legend, the browser
app's server process, sensitivity replicates and outcomes that are sometimes missing."""

from __future__ import annotations

import json
import re

import matplotlib.animation
import numpy as np
import pandas as pd
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


# --- sensitivity: replicates per design point, and outcomes that are sometimes missing -------------

SENS_PARAMS = ["regime.bombardment_capacity", "flight.b_strike"]


def test_sensitivity_runs_replicates_per_point_with_batch_engine_seeds_and_can_grow(tmp_path):
    from analysis.sensitivity import point_outcomes, run_sensitivity
    from sim.batch.plan import run_seed

    sc = tiny_toml(tmp_path)
    out = tmp_path / "sens"
    kw = {"params": SENS_PARAMS, "outcomes": ["displaced_day16", "deaths_day16"], "seed": 4}
    one = run_sensitivity(sc, out, "morris", 2, replicates=1, **kw)
    assert one["runs"] == 2 * 3
    first = {p.name: p.stat().st_mtime_ns for p in out.glob("timeseries/*/part-*.parquet")}
    info = run_sensitivity(sc, out, "morris", 2, replicates=2, **kw)  # grows the same folder
    assert info["runs"] == 2 * 3 * 2 and info["replicates"] == 2
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("timeseries/*/part-*.parquet")
            if p.name in first} == first  # replicate 0 was not run again
    runs = pd.read_parquet(out / "runs.parquet")
    for r in (0, 1):  # common random numbers: replicate r has one seed at every point
        assert set(runs.loc[runs["replicate"] == r, "seed"]) == {run_seed(4, (r,))}
    y, _ = point_outcomes(runs, ["displaced_day16"], 6, 20.0)
    assert y["displaced_day16"].tolist() == pytest.approx(
        runs.groupby("point_id")["displaced_day16"].mean().tolist())
    saved = json.loads((out / "sensitivity.json").read_text())
    assert saved["replicates"] == 2 and "right-censored" in saved["missing_rule"]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # SALib on a 3-point toy design
def test_missing_outcomes_follow_the_stated_rule():
    from analysis.sensitivity import MISSING_RULE, analyze, point_outcomes

    nan = float("nan")
    runs = pd.DataFrame({"point_id": [0, 0, 1, 1, 2, 2],
                         "first_collapse_day": [10.0, nan, nan, nan, 12.0, 14.0],
                         "blitz_intensity_ratio": [2.0, nan, 3.0, 5.0, nan, nan]})
    y, missing = point_outcomes(runs, ["first_collapse_day", "blitz_intensity_ratio"], 3, 60.0)
    # event days never reached count as the horizon day
    assert y["first_collapse_day"].tolist() == [35.0, 60.0, 13.0]
    # other outcomes: the mean of the replicates that have one; none at all: still missing
    assert y["blitz_intensity_ratio"].iloc[:2].tolist() == [2.0, 4.0] and np.isnan(y["blitz_intensity_ratio"][2])
    assert missing == {"first_collapse_day": pytest.approx(0.5), "blitz_intensity_ratio": pytest.approx(0.5)}
    prob = {"num_vars": 1, "names": ["a"], "bounds": [[0, 1]]}
    _idx, skipped = analyze(prob, "morris", np.array([[0.0], [1 / 3], [2 / 3]]), y)
    assert skipped == ["blitz_intensity_ratio"]
    assert "right-censored" in MISSING_RULE and "mean of the replicates" in MISSING_RULE


def test_sensitivity_cli_takes_replicates_and_says_the_rule(tmp_path, capsys):
    out = tmp_path / "s"
    assert main(["sensitivity", str(tiny_toml(tmp_path)), "--samples", "2", "--params", ",".join(SENS_PARAMS),
                 "--outcomes", "peak_displaced,first_collapse_day", "-r", "2",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "(2 per design point)" in printed and "right-censored" in printed
    assert main(["--quiet", "sensitivity", str(tiny_toml(tmp_path)), "--replicates", "0", "--out",
                 str(tmp_path / "z")]) == 2
