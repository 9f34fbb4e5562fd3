"""Figures, sensitivity and report of issue 6: what each command draws and writes."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from PIL import Image

from analysis import figures as F
from analysis import maps as M
from analysis.store import load_batch, load_run
from sim.cli import main
from sim.errors import ScenarioError
from tests.batchfixture import small_scenario_file, write_batch

SCENARIOS = ("baseline", "heavy_bombing")


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> list[Path]:
    d = tmp_path_factory.mktemp("scen")
    return [small_scenario_file(d, "baseline"),
            small_scenario_file(d, "heavy_bombing", extra="[regime]\nbombardment_capacity = 90.0\n")]


@pytest.fixture(scope="module")
def batch_dir(tmp_path_factory, files) -> Path:
    return write_batch(tmp_path_factory.mktemp("batch") / "out", files, replicates=3)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, files) -> Path:
    out = tmp_path_factory.mktemp("run") / "r"
    assert main(["--quiet", "run", str(files[0]), "--seed", "3", "--out", str(out), "--no-plot"]) == 0
    return out


def _is_png_300dpi(path: Path) -> None:
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(path) as im:
        im.verify()
    with Image.open(path) as im:
        assert round(im.info["dpi"][0]) == 300


def _is_svg(path: Path) -> ET.Element:
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")
    return root


# --- curves -------------------------------------------------------------------------------------

def test_curves_draw_a_median_line_and_two_bands_per_scenario(batch_dir):
    b = load_batch(batch_dir)
    fig = F.curves_figure(b, "displaced_total")
    ax = fig.axes[0]
    medians = [ln for ln in ax.lines if "(median, n=" in ln.get_label()]
    bands = [c for c in ax.collections if isinstance(c, PolyCollection) and c.get_label() in ("_band50", "_band90")]
    assert [ln.get_label().split(" ")[0] for ln in medians] == list(SCENARIOS)
    assert len(bands) == 2 * len(SCENARIOS)
    # Scenarios differ by line style too (readable in grey).
    assert len({str(ln.get_linestyle()) for ln in medians}) == len(SCENARIOS)


def test_curves_mark_the_median_key_dates_of_each_scenario(batch_dir):
    b = load_batch(batch_dir)
    runs = b.ok_runs()
    expected = sum(runs.loc[runs["scenario"] == s, c].notna().any() for s in SCENARIOS
                   for c, _, _ in F.KEY_DATES)
    fig = F.curves_figure(b)
    marks = [ln for ln in fig.axes[0].lines if ln.get_label() == "_keydate"]
    assert expected >= len(SCENARIOS)  # at least the talks collapse in each scenario
    assert len(marks) == expected
    collapse = float(runs.loc[runs["scenario"] == "baseline", "first_collapse_day"].median())
    assert any(np.isclose(ln.get_xdata()[0], collapse) for ln in marks)


def test_curves_overlay_the_article_figure_on_the_baseline_scaled_to_its_population(batch_dir):
    b = load_batch(batch_dir)
    ax = F.curves_figure(b, "displaced_total", target_scale=0.02).axes[0]
    art = [c for c in ax.containers if str(c.get_label()).startswith("article")]
    assert len(art) == 1
    x, y = art[0].lines[0].get_data()
    t = next(t for t in F.load_targets() if t["outcome"] == "displaced_day16")
    assert x[0] == pytest.approx(F._day_of(t)) and y[0] == pytest.approx(
        t["value"] * 0.02 / (1000 if "thousands" in ax.get_ylabel() else 1))
    other = F.curves_figure(b, "towns_rebel").axes[0]
    assert not [c for c in other.containers if str(c.get_label()).startswith("article")]


def test_quantile_bands_are_ordered_and_count_the_runs(batch_dir):
    ts = load_batch(batch_dir).timeseries("baseline")
    q = F.quantile_bands(ts, "displaced_total")
    assert (q["q05"] <= q["q25"]).all() and (q["q25"] <= q["q50"]).all()
    assert (q["q50"] <= q["q75"]).all() and (q["q75"] <= q["q95"]).all()
    assert (q["n"] == 3).all()


def test_curves_reject_an_unknown_metric_with_a_suggestion(batch_dir):
    with pytest.raises(ScenarioError, match="displaced_total"):
        F.curves_figure(load_batch(batch_dir), "displaced_totl")
    assert main(["--quiet", "plot", "curves", str(batch_dir), "--metric", "nope"]) == 2


def test_curves_group_by_a_runs_column(batch_dir):
    fig = F.curves_figure(load_batch(batch_dir), "civilian_deaths_cum", by="replicate")
    assert len([ln for ln in fig.axes[0].lines if "(median, n=" in ln.get_label()]) == 3


# --- zones and compare --------------------------------------------------------------------------

def test_zones_stack_five_hatched_zones_per_scenario(batch_dir):
    fig = F.zones_figure(load_batch(batch_dir))
    axes = [a for a in fig.axes if a.get_visible()]
    assert [a.get_title().split(" ")[0] for a in axes] == list(SCENARIOS)
    zones = F.zone_stack(F.batch_case(load_batch(batch_dir))[1])
    assert [z[0] for z in zones] == ["Jordanian border near the Nasib/Jaber crossing (waiting)",
                                     "camps near al-Rafid/Bariqa by the 1974 ceasefire line (waiting)",
                                     "olive groves and open fields",
                                     "Izra' / Daraa al-Mahatta (regime-held)",
                                     "Other (quieter towns)"]
    for a in axes:
        polys = [c for c in a.collections if isinstance(c, PolyCollection)]
        assert len(polys) == len(zones)
        assert len({p.get_hatch() for p in polys}) == len(zones)


def test_zones_stack_adds_up_to_the_median_of_a_single_replicate(tmp_path, files):
    b = load_batch(write_batch(tmp_path / "one", files[:1], replicates=1))
    ts = b.timeseries("baseline")
    top = F.zones_figure(b).axes[0].collections[len(F.zone_stack(F.batch_case(b)[1])) - 1]
    ymax = max(v[:, 1].max() for v in (p.vertices for p in top.get_paths()))
    assert ymax == pytest.approx(ts["displaced_total"].max() / 1000, rel=1e-6)


def test_compare_draws_one_box_per_scenario_sorted_by_median(batch_dir):
    b = load_batch(batch_dir)
    runs = b.ok_runs()
    fig = F.compare_figure(b, ["deaths_day16", "displaced_day16"])
    for ax, o in zip(fig.axes, ["deaths_day16", "displaced_day16"], strict=True):
        labels = [t.get_text() for t in ax.get_yticklabels()]
        med = runs.groupby("scenario")[o].median()
        assert labels == sorted(SCENARIOS, key=lambda s: med[s])
        assert len(list(ax.patches)) == len(SCENARIOS)


def test_comparison_table_has_a_row_per_scenario(batch_dir):
    t = F.comparison_table(load_batch(batch_dir))
    assert list(t["scenario"]) == list(SCENARIOS)
    assert (t["runs"] == 3).all()
    assert re.fullmatch(r"[\d,.]+ \[[\d,.]+–[\d,.]+\]", t["displaced_day16"].iloc[0])


def test_plot_commands_write_png_and_svg_at_300_dpi(batch_dir):
    for args, stem in ((["curves"], "curves_displaced_total"),
                       (["curves", "--metric", "civilian_deaths_cum"], "curves_civilian_deaths_cum"),
                       (["zones"], "zones"), (["compare"], "compare")):
        assert main(["--quiet", "plot", args[0], str(batch_dir), *args[1:]]) == 0
        _is_png_300dpi(batch_dir / "figures" / f"{stem}.png")
        _is_svg(batch_dir / "figures" / f"{stem}.svg")
    assert not list((batch_dir / "figures").glob(".*"))  # no temporary files left


def test_plot_of_a_folder_that_is_not_a_batch_exits_2(tmp_path):
    assert main(["--quiet", "plot", "zones", str(tmp_path)]) == 2


# --- map and timeline ---------------------------------------------------------------------------

def test_map_draws_every_town_once_polygons_and_both_borders(run_dir):
    run = load_run(run_dir)
    geo = M.load_case_geometry(M.case_dir(run), run.metadata)
    ax = M.map_figure(run, 16, geo=geo).axes[0]
    towns = [c for c in ax.collections
             if any(c.get_label().startswith(lab + " (") for lab, _, _ in M.CONTROLLERS.values())]
    n_towns = run.towns.loc[run.towns["day"] == 16, "town_id"].nunique()
    assert sum(len(c.get_offsets()) for c in towns) == n_towns
    assert len(ax.patches) == len(geo["features"])
    borders = [ln.get_label() for ln in ax.lines]
    assert sorted(borders) == sorted([  # each border line named by its zone, closed on day 0
        "Jordanian border near the Nasib/Jaber crossing (closed)",
        "camps near al-Rafid/Bariqa by the 1974 ceasefire line (closed)"])
    assert any(c.get_label().startswith("Nasib/Jaber border crossing (") for c in ax.collections)
    # Counts per controller in the legend match the run's towns table on that day.
    day = run.towns[run.towns["day"] == 16]
    for c in towns:
        ctl = next(k for k, v in M.CONTROLLERS.items() if c.get_label().startswith(v[0]))
        assert len(c.get_offsets()) == int((day["controller"] == ctl).sum())


def test_map_command_writes_images_and_an_animation_with_a_frame_per_day(run_dir):
    assert main(["--quiet", "plot", "map", str(run_dir), "--day", "20", "--animate"]) == 0
    _is_png_300dpi(run_dir / "map_day20.png")
    _is_svg(run_dir / "map_day20.svg")
    with Image.open(run_dir / "map.gif") as im:
        assert im.format == "GIF"
        assert im.n_frames == pd.read_csv(run_dir / "towns.csv")["day"].nunique()


def test_map_day_outside_the_run_exits_2(run_dir):
    assert main(["--quiet", "plot", "map", str(run_dir), "--day", "400"]) == 2


def test_timeline_bands_follow_the_negotiation_states(run_dir):
    run = load_run(run_dir)
    fig = M.timeline_figure(run)
    ax = fig.axes[0]
    bands = [c for c in ax.collections if c.__class__.__name__ == "PolyCollection"]
    states = run.timeseries["negotiation_state"].astype(str)
    assert len(bands) == int((states != states.shift()).sum())
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == list(dict.fromkeys(states))
    assert main(["--quiet", "plot", "timeline", str(run_dir)]) == 0
    _is_png_300dpi(run_dir / "timeline.png")


# --- sensitivity ---------------------------------------------------------------------------------

PARAMS = "regime.bombardment_capacity,flight.b_strike"


def test_sensitivity_morris_writes_indices_for_every_parameter_and_resumes(tmp_path, files):
    out = tmp_path / "sens"
    args = ["--quiet", "sensitivity", str(files[0]), "--method", "morris", "--samples", "2",
            "--params", PARAMS, "--outcomes", "displaced_day16,deaths_day16", "--out", str(out)]
    assert main(args) == 0
    idx = pd.read_csv(out / "indices.csv")
    assert set(idx["parameter"]) == set(PARAMS.split(","))
    assert len(idx) == 2 * 2
    assert {"mu_star", "mu_star_conf", "sigma"} <= set(idx.columns)
    assert (idx["mu_star"] >= 0).all()
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 2 * (2 + 1)  # N * (D + 1)
    parts = sorted(out.glob("timeseries/*/part-*.parquet"))
    stamps = [p.stat().st_mtime_ns for p in parts]
    assert main(args) == 0  # resumes: nothing re-run
    assert [p.stat().st_mtime_ns for p in parts] == stamps
    pd.testing.assert_frame_equal(pd.read_csv(out / "indices.csv"), idx)
    _is_png_300dpi(out / "sensitivity.png")


def test_sensitivity_sobol_indices_have_confidence_intervals(tmp_path, files):
    from analysis.sensitivity import run_sensitivity

    info = run_sensitivity(files[0], tmp_path / "s", "sobol", 2, params=PARAMS.split(","),
                           outcomes=["deaths_day16"])
    assert info["runs"] == 2 * (2 + 2)
    idx = info["indices"]
    assert {"S1", "S1_conf", "ST", "ST_conf"} <= set(idx.columns) and len(idx) == 2


def test_sensitivity_rejects_bad_samples_and_parameters(tmp_path, files):
    base = ["--quiet", "sensitivity", str(files[0]), "--out", str(tmp_path / "x")]
    assert main([*base, "--method", "sobol", "--samples", "6"]) == 2
    assert main([*base, "--params", "flight.w_strikes"]) == 2
    assert not (tmp_path / "x" / "indices.csv").exists()


# --- report --------------------------------------------------------------------------------------

class _Html(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tables: list[dict] = []
        self.imgs: list[str] = []
        self.h2: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self.tables.append({"class": a.get("class", ""), "rows": 0})
        elif tag == "tr" and self.tables:
            self.tables[-1]["rows"] += 1
        elif tag == "img":
            self.imgs.append(a.get("src", ""))
        elif tag == "h2":
            self._in = "h2"

    def handle_data(self, data):
        if self._in == "h2":
            self.h2.append(data.strip())
            self._in = None


def test_report_is_one_self_contained_html_with_table_figures_and_maps(batch_dir, tmp_path, files):
    sens = tmp_path / "sens"
    assert main(["--quiet", "sensitivity", str(files[0]), "--samples", "2", "--params", PARAMS,
                 "--out", str(sens)]) == 0
    out = tmp_path / "report.html"
    assert main(["--quiet", "report", str(batch_dir), "--to", str(out), "--sensitivity", str(sens)]) == 0
    p = _Html()
    p.feed(out.read_text(encoding="utf-8"))
    comparison = next(t for t in p.tables if "comparison" in t["class"])
    assert comparison["rows"] == 1 + len(SCENARIOS)  # header + one per scenario
    assert all(src.startswith("data:image/png;base64,") for src in p.imgs)
    # 2 curves + zones + compare + (map + timeline) per scenario + sensitivity chart + effects (a baseline)
    assert len(p.imgs) == 4 + 2 * len(SCENARIOS) + 1 + 1
    assert p.h2[0] == "Scenario comparison" and any(h.startswith("Sensitivity") for h in p.h2)
    assert "Effects against the baseline (unpaired)" in p.h2


def test_scenarios_option_restricts_a_figure_and_rejects_unknown_names(batch_dir, tmp_path):
    b = load_batch(batch_dir).select(["heavy_bombing"])
    assert [a.get_title().split(" ")[0] for a in F.zones_figure(b).axes if a.get_visible()] == ["heavy_bombing"]
    assert main(["--quiet", "plot", "compare", str(batch_dir), "--scenarios", "nope",
                 "--to", str(tmp_path / "c")]) == 2
    assert not (tmp_path / "c.png").exists()


# --- forecast -----------------------------------------------------------------------------------

def _panels(fig) -> list:
    return [ax for ax in fig.axes if ax.get_title()]


def test_forecast_draws_a_panel_per_record_series_with_bands_ranges_and_the_cutoff(batch_dir):
    record = F.load_record()
    fig = F.forecast_figure(batch_dir)  # the baseline of the batch
    panels = _panels(fig)
    assert [ax.get_title() for ax in panels] == [F.RECORD_SERIES_LABELS[s] for s in record.series]
    assert record.series == ["displaced_total", "displaced_jordan_border", "displaced_golan",
                             "displaced_regime_area", "civilian_deaths_cum", "regime_share_daraa"]
    ts = load_batch(batch_dir).timeseries("baseline")
    for ax, col in zip(panels, record.series, strict=True):
        assert ax.get_xlim() == (0.0, 60.0)
        bands = [c for c in ax.collections if isinstance(c, PolyCollection) and "of runs" in c.get_label()]
        assert sorted(c.get_label() for c in bands) == ["50% of runs", "90% of runs"]
        (median,) = [ln for ln in ax.lines if ln.get_label() == "model: median of 3 runs"]
        scale = 1000.0 if "thousands" in ax.get_ylabel() else 1.0
        at16 = ts[ts["day"] == 16.0][col].median() / scale
        x, y = median.get_data()
        assert y[list(x).index(16.0)] == pytest.approx(at16)
        # the record's ranges as error bars, scaled to the batch's population (persons only)
        bars = [c for c in ax.containers if c.get_label() == "record (range)"]
        pts = [t for t in record.targets if t.series == col]
        assert len(bars) == len(pts)
        k = 0.02 if pts[0].unit == "persons" else 1.0
        for bar, t in zip(bars, pts, strict=True):
            bx, by = bar.lines[0].get_data()
            assert bx[0] == t.day <= 16
            lo, hi = t.bounds()
            assert by[0] == pytest.approx((lo + hi) / 2 * k / scale)
        cut = [ln for ln in ax.lines if "the record's cut-off, start of the forecast" in ln.get_label()]
        assert len(cut) == 1 and list(cut[0].get_xdata()) == [16.0, 16.0]
        assert "5 July 2018" in cut[0].get_label()


def test_forecast_of_a_run_draws_its_line_without_bands(run_dir):
    fig = F.forecast_figure(run_dir)
    for ax in _panels(fig):
        assert [ln.get_label() for ln in ax.lines if ln.get_label().startswith("model")] == ["model (one run)"]
        assert not [c for c in ax.collections if isinstance(c, PolyCollection) and "of runs" in c.get_label()]


def test_forecast_command_writes_png_and_svg_and_names_bad_input(batch_dir, run_dir, tmp_path, capsys):
    assert main(["--quiet", "plot", "forecast", str(batch_dir)]) == 0
    _is_png_300dpi(batch_dir / "figures" / "forecast.png")
    _is_svg(batch_dir / "figures" / "forecast.svg")
    assert main(["--quiet", "plot", "forecast", str(batch_dir), "--scenario", "heavy_bombing",
                 "--to", str(tmp_path / "hb")]) == 0
    _is_png_300dpi(tmp_path / "hb.png")
    assert main(["--quiet", "plot", "forecast", str(run_dir)]) == 0
    _is_png_300dpi(run_dir / "forecast.png")
    assert not list(run_dir.glob(".*")) and not list((batch_dir / "figures").glob(".*"))
    capsys.readouterr()
    assert main(["--quiet", "plot", "forecast", str(batch_dir), "--scenario", "nope"]) == 2
    assert "heavy_bombing" in capsys.readouterr().err
    assert main(["--quiet", "plot", "forecast", str(run_dir), "--record", str(tmp_path / "none.toml")]) == 2
    assert main(["--quiet", "plot", "forecast", str(tmp_path)]) == 2  # neither a batch nor a run


def test_zones_figure_hides_only_the_spare_panels_of_its_grid(batch_dir, tmp_path):
    """Four scenarios on a 2 x 3 grid: four panels drawn, the two spare ones hidden."""
    from analysis.store import Batch

    b = load_batch(batch_dir)
    base = b.runs[b.runs["scenario"] == "baseline"]
    names = ["baseline", "copy_a", "copy_b", "copy_c"]
    runs = pd.concat([base.assign(scenario=n) for n in names], ignore_index=True)
    scen = b.manifest["scenarios"]["baseline"]
    four = Batch(b.root, dict(b.manifest, scenarios=dict.fromkeys(names, scen)), runs)
    four.timeseries = lambda scenario=None, columns=None: b.timeseries("baseline", columns)  # type: ignore[method-assign]
    axes = F.zones_figure(four).axes
    assert len(axes) == 6
    assert [a.get_title().split(" ")[0] for a in axes if a.get_visible()] == names
