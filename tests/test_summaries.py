"""Summaries, reports and figures of batches: one row/curve per sweep point (never pooled),
points in numeric order, visible warnings on few replicates, titles that say only what is drawn."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analysis import figures as F
from analysis.report import build_report
from analysis.store import load_batch
from sim.cli import main
from tests.test_batch import tiny_toml


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> Path:
    """tiny over 11 bombardment capacities (p000..p010), 2 replicates, 5 days (without the
    baseline's dated interventions, which fall after that horizon)."""
    d = tmp_path_factory.mktemp("sweep")
    sc = tiny_toml(d, extra="interventions = []")
    sc.write_text(sc.read_text().replace("horizon_days = 20", "horizon_days = 5"), encoding="utf-8")
    out = d / "b"
    assert main(["--quiet", "batch", str(sc), "-r", "2", "--workers", "1", "--out", str(out),
                 "--sweep", "regime.bombardment_capacity=20:70:11"]) == 0
    return out


def test_summarize_gives_one_row_per_point_in_numeric_order(sweep, capsys):
    assert main(["batch", "summarize", str(sweep)]) == 0
    captured = capsys.readouterr()
    header = captured.out.splitlines()[2]
    labels = [f"tiny p{i}" for i in range(11)]
    pos = [header.index(lab + " ") for lab in labels]
    assert pos == sorted(pos), header  # p2 before p10
    table = pd.read_csv(sweep / "summary.csv")
    one = table[table["outcome"] == "peak_displaced"]
    assert list(one["point_id"]) == list(range(11)) and (one["n"] == 2).all()
    assert list(one["regime.bombardment_capacity"]) == pytest.approx([20 + 5 * i for i in range(11)])
    assert "WARNING: only 2 run(s)" in captured.err


def test_summarize_keeps_sampled_designs_point_by_point(tmp_path, capsys):
    sc = tiny_toml(tmp_path, extra="interventions = []")  # its day-8 corridors are past day 3
    sc.write_text(sc.read_text().replace("horizon_days = 20", "horizon_days = 3"), encoding="utf-8")
    out = tmp_path / "lhs"
    assert main(["--quiet", "batch", str(sc), "--workers", "1", "--out", str(out), "--design", "lhs",
                 "--samples", "3", "--sweep", "regime.bombardment_capacity=20:80"]) == 0
    assert main(["--quiet", "batch", "summarize", str(out)]) == 0
    t = pd.read_csv(out / "summary.csv")
    peak = t[t["outcome"] == "peak_displaced"]
    assert list(peak["point_id"]) == [0, 1, 2] and (peak["n"] == 1).all()


def test_report_and_curves_show_each_point_with_its_swept_value(sweep):
    b = load_batch(sweep)
    table = F.comparison_table(b)
    assert list(table["point"]) == list(range(11)) and (table["runs"] == 2).all()
    assert list(table["regime.bombardment_capacity"]) == pytest.approx([20 + 5 * i for i in range(11)])
    fig = F.curves_figure(b, "displaced_total", by="point")
    medians = [ln.get_label() for ln in fig.axes[0].lines if "(median, n=" in ln.get_label()]
    assert medians[0].startswith("tiny p0 bombardment_capacity=20") and len(medians) == 11
    assert medians[10].startswith("tiny p10 bombardment_capacity=70")
    html = build_report(b, reproduce=False)
    assert "per scenario and parameter point" in html and "Warning: only 2 run(s)" in html
    assert "bombardment_capacity" in html


def test_few_replicates_carry_a_visible_warning_on_the_figures(sweep):
    b = load_batch(sweep)
    assert "WARNING: only 2 run(s)" in F.curves_figure(b).axes[0].get_title()
    assert "WARNING: only 2 run(s)" in F.compare_figure(b, ["peak_displaced"])._suptitle.get_text()


def test_box_plot_titles_say_what_is_drawn_and_what_is_not(sweep):
    fig = F.compare_figure(load_batch(sweep), ["peak_displaced", "deaths_day60"])
    title = fig._suptitle.get_text()
    assert "whiskers = 5th-95th percentile" in title and "dots = each run" in title
    assert "not drawn (no run has a value): deaths_day60" in title  # 5-day horizon
    ax = fig.axes[0]
    assert "(n = 2 runs)" in ax.get_title()
    assert not [ln for ln in ax.lines if ln.get_marker() == "."]  # no fliers drawn twice
