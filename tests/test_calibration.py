"""Calibration: targets and their tolerance kinds, the distance, and `negsim calibrate` end to end."""

from __future__ import annotations

import math
import os
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main
from sim.errors import ScenarioError
from sim.model import load_case
from sim.outcomes import outcome_names, summarize
from sim.run import collect, simulate
from sim.scenario.loader import load_scenario
from sim.targets import Target, distance, errors, load_targets, project_outcomes
from tests.conftest import BASELINE, ROOT

TARGETS = ROOT / "seeds" / "targets.toml"
SCEN = ROOT / "scenarios"


def _t(kind: str, value: float, tol: float, **kw) -> Target:
    return Target(id="x", quantity="q", value=value, unit="u", kind=kind, tolerance=tol, outcome="o", **kw)


def test_relative_tolerance_is_a_share_of_the_value():
    t = _t("relative", 320_000, 0.25)
    assert t.within(240_000) and t.within(400_000)
    assert not t.within(239_000) and not t.within(401_000)
    assert t.error(400_000) == pytest.approx(1.0)
    assert t.error(320_000) == 0.0


def test_absolute_tolerance_is_in_the_targets_unit():
    t = _t("absolute", 24, 12)
    assert t.within(36) and not t.within(36.5)
    assert t.error(30) == pytest.approx(0.5)


def test_one_sided_targets_have_no_error_on_their_side_of_the_bound():
    lo = _t("min", 31, 0, scale=5)
    assert lo.within(31) and lo.within(100) and not lo.within(30)
    assert lo.error(40) == 0.0 and lo.error(26) == pytest.approx(1.0)
    hi = _t("max", 0, 0, scale=1000)
    assert hi.within(0) and not hi.within(1)
    assert hi.error(500) == pytest.approx(0.5)


def test_missing_event_is_an_error_unless_never_counts_as_within():
    assert _t("min", 16, 0).error(math.nan) > 1 and not _t("min", 16, 0).within(math.nan)
    assert _t("min", 16, 0, never_ok=True).error(math.nan) == 0.0
    assert _t("min", 16, 0, never_ok=True).within(math.nan)


def test_distance_weighs_each_target_by_its_tolerance():
    tight = Target("a", "q", 100, "u", "absolute", 1, "a")
    loose = Target("b", "q", 100, "u", "absolute", 10, "b")
    # the same deviation of 5 is five tolerances on the tight target, half of one on the loose
    assert errors({"a": 105, "b": 105}, [tight, loose]) == {"a": pytest.approx(5.0), "b": pytest.approx(0.5)}
    assert distance({"a": 105, "b": 105}, [tight, loose]) == pytest.approx(math.sqrt((25 + 0.25) / 2))


def test_article_targets_file_loads_and_names_real_outcomes():
    targets = load_targets(TARGETS)
    ids = {t.id for t in targets}
    for needed in ("offensive_launch", "towns_settled_before_collapse", "talks_collapse_day",
                   "resume_delay", "blitz_heaviest", "strikes_halted", "deaths_in_one_town",
                   "town_retaken_hours_later", "border_area_handed_over", "nasib_rebel_held",
                   "deaths_day16", "displaced_day16", "displaced_week_on_border", "borders_closed"):
        assert needed in ids
    for t in targets:
        assert t.line is not None and t.why
        if t.modelled:
            assert t.outcome in project_outcomes()


def test_outcome_names_list_every_outcome_summarize_returns(small):
    res = collect(simulate(small, seed=4))
    case = load_case(small).outcomes
    assert set(summarize(res.timeseries, res.events, case)) == set(outcome_names(case))
    assert set(res.outcomes) == set(outcome_names(case))


@pytest.mark.parametrize("body, field", [
    ('[[target]]\nid="a"\nquantity="q"\nvalue=1\nunit="u"\nkind="approx"\ntolerance=1\noutcome="deaths_day16"\nwhy="w"\n',
     "a.kind"),
    ('[[target]]\nid="a"\nquantity="q"\nvalue=1\nunit="u"\nkind="min"\ntolerance=0\noutcome="deaths_day61"\nwhy="w"\n',
     "a.outcome"),
    ('[[target]]\nid="a"\nquantity="q"\nvalue=1\nunit="u"\nkind="min"\ntolerance=-1\noutcome="deaths_day16"\nwhy="w"\n',
     "a.tolerance"),
    ('title = "no targets"\n', "target"),
])
def test_bad_targets_file_is_a_clear_user_error(tmp_path, body, field):
    p = tmp_path / "t.toml"
    p.write_text(body, encoding="utf-8")
    with pytest.raises(ScenarioError) as exc:
        load_targets(p)
    assert exc.value.field == field and exc.value.fix


def test_calibrate_with_missing_targets_file_exits_2_and_writes_nothing(tmp_path, capsys):
    rc = main(["--quiet", "calibrate", str(BASELINE), "--targets", str(tmp_path / "nope.toml"),
               "--out", str(tmp_path / "cal"), "--scenario-out", str(tmp_path / "c.toml")])
    assert rc == 2
    assert "file not found" in capsys.readouterr().err
    assert not (tmp_path / "cal").exists() and not (tmp_path / "c.toml").exists()


@pytest.fixture()
def coarse(tmp_path) -> Path:
    """The baseline with 12-hour ticks over 30 days: the same mechanics, a quarter of the work."""
    p = tmp_path / "coarse" / "coarse.toml"
    p.parent.mkdir()
    rel = os.path.relpath(BASELINE, p.parent)
    p.write_text(f'extends = "{rel}"\n[time]\ntick_hours = 12\nhorizon_days = 30\n'
                 f'[world]\ntowns_file = "{os.path.relpath(SCEN / "data/daraa2018/towns.csv", p.parent)}"\n'
                 f'subdistricts_file = "{os.path.relpath(SCEN / "data/daraa2018/subdistricts.csv", p.parent)}"\n'
                 f'zones_file = "{os.path.relpath(SCEN / "data/daraa2018/zones.csv", p.parent)}"\n'
                 f'borders_file = "{os.path.relpath(SCEN / "data/daraa2018/borders.csv", p.parent)}"\n',
                 encoding="utf-8")
    return p


def test_tiny_calibration_end_to_end_reduces_the_distance_from_the_prior(tmp_path, coarse):
    out, cal = tmp_path / "cal", tmp_path / "scen" / "calibrated.toml"
    rc = main(["--quiet", "calibrate", str(coarse), "--targets", str(TARGETS), "--budget", "60",
               "--population", "6", "--reps-per-particle", "2", "--replicates", "3",
               "--candidates", "2", "--select-reps", "2", "--workers", "1", "--population-scale", "0.03",
               "--seed", "5", "--out", str(out),
               "--scenario-out", str(cal)])
    assert rc == 0
    for name in ("posterior.parquet", "generations.csv", "replicates.csv", "report.md",
                 "posterior_marginals.png", "curves.png"):
        assert (out / name).exists(), name
    gens = pd.read_csv(out / "generations.csv")
    assert len(gens) >= 2 and gens["simulations"].sum() <= 60
    assert math.isinf(gens["epsilon"].iloc[0])  # generation 0 is the prior sample
    # Each generation's particles lie within epsilon, the median distance of the generation
    # before, so the median falls (the weighted mean need not: generation 0 may have a low tail).
    assert gens["median_distance"].iloc[-1] < gens["median_distance"].iloc[0]
    post = pd.read_parquet(out / "posterior.parquet")
    last = post[post["generation"] == post["generation"].max()]
    assert last["weight"].sum() == pytest.approx(1.0)
    # the calibrated scenario is usable by `extends` and holds every calibrated parameter
    child = cal.parent / "child.toml"
    child.write_text('extends = "calibrated.toml"\n', encoding="utf-8")
    sc = load_scenario(child)
    from analysis.calibration import FIXED_IN_CALIBRATION, _path, calibration_priors
    from sim.scenario.schema import get_param

    chosen = pd.read_csv(out / "candidates.csv")
    best = chosen.sort_values(["worst_median_error", "distance_of_medians"]).iloc[0]
    free = calibration_priors()
    assert free and not set(free) & set(FIXED_IN_CALIBRATION)
    for path in free:
        assert get_param(sc, path) == pytest.approx(float(best[f"param:{path}"]), rel=1e-3)
    assert _path("a__b") == "a.b"
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "| target | line | article |" in report and "not edited by hand" in report


def test_abc_is_reproducible_with_the_same_seed(coarse):
    from analysis.calibration import run_abc

    targets = load_targets(TARGETS)
    a = run_abc(str(coarse), targets, budget=10, seed=3, population_size=5, population_scale=0.02)
    b = run_abc(str(coarse), targets, budget=10, seed=3, population_size=5, population_scale=0.02)
    pd.testing.assert_frame_equal(a.all_particles, b.all_particles)
    c = run_abc(str(coarse), targets, budget=10, seed=4, population_size=5, population_scale=0.02)
    assert not a.all_particles.equals(c.all_particles)


def test_budget_too_small_for_two_generations_is_a_user_error():
    from analysis.calibration import run_abc

    with pytest.raises(ScenarioError):
        run_abc(str(BASELINE), load_targets(TARGETS), budget=10, seed=0, population_size=8)


def test_abc_with_several_runs_per_particle_is_reproducible_and_budget_counts_runs(coarse):
    from analysis.calibration import run_abc

    targets = load_targets(TARGETS)
    kw = {"budget": 20, "seed": 3, "population_size": 5, "population_scale": 0.02, "reps_per_particle": 2}
    a = run_abc(str(coarse), targets, **kw)
    b = run_abc(str(coarse), targets, **kw)
    pd.testing.assert_frame_equal(a.all_particles, b.all_particles)
    assert a.n_simulations <= 20 and a.n_simulations % 2 == 0
    assert a.generations["simulations"].sum() + a.unfinished == a.n_simulations


def test_calibration_priors_hold_the_hand_calibration_and_leave_out_the_fixed_parameters():
    from analysis.calibration import FIXED_IN_CALIBRATION, calibration_priors
    from sim.scenario.schema import Scenario, calibratable_params, get_param

    free = calibration_priors(zoom=2.0)
    assert set(free) == set(calibratable_params()) - set(FIXED_IN_CALIBRATION)
    for p, (lo, hi) in free.items():
        schema_lo, schema_hi = calibratable_params()[p]
        assert schema_lo <= lo < get_param(Scenario(), p) < hi <= schema_hi
    assert calibration_priors(zoom=None) == {p: r for p, r in calibratable_params().items() if p in free}


def test_baseline_extends_the_calibrated_scenario():
    from analysis.calibration import calibration_priors
    from sim.scenario.schema import get_param

    text = Path(BASELINE).read_text(encoding="utf-8")
    assert 'extends = "calibrated.toml"' in text
    cal = load_scenario(BASELINE.parent / "calibrated.toml")
    base = load_scenario(BASELINE)
    for path in calibration_priors():
        assert get_param(base, path) == get_param(cal, path)


RECORD = ROOT / "seeds" / "record.toml"


def _tiny_cal(coarse: Path, out: Path, *extra: str) -> int:
    return main(["--quiet", "calibrate", str(coarse), "--targets", str(TARGETS), "--targets", str(RECORD),
                 "--budget", "48", "--population", "6", "--reps-per-particle", "2", "--replicates", "3",
                 "--candidates", "2", "--select-reps", "2", "--population-scale", "0.02", "--seed", "11",
                 "--out", str(out / "cal"), "--scenario-out", str(out / "calibrated.toml"), *extra])


def test_calibration_gives_the_same_posterior_on_one_and_two_workers(tmp_path, coarse):
    one, two = tmp_path / "one", tmp_path / "two"
    assert _tiny_cal(coarse, one, "--workers", "1") == 0
    assert _tiny_cal(coarse, two, "--workers", "2") == 0
    a = pd.read_parquet(one / "cal" / "posterior.parquet")
    b = pd.read_parquet(two / "cal" / "posterior.parquet")
    assert len(a) >= 6
    pd.testing.assert_frame_equal(a, b)
    for name in ("generations.csv", "candidates.csv", "replicates.csv", "targets.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(one / "cal" / name), pd.read_csv(two / "cal" / name))
    body = lambda p: [x for x in p.read_text(encoding="utf-8").splitlines() if not x.startswith("#")]  # noqa: E731
    assert body(one / "calibrated.toml") == body(two / "calibrated.toml")
    report = (two / "cal" / "report.md").read_text(encoding="utf-8")
    assert "local processes, 2 workers" in report and "simulate 22 days" in report


def test_report_shows_the_record_points_events_and_fit_measures(tmp_path, coarse):
    assert _tiny_cal(coarse, tmp_path, "--workers", "1") == 0
    out = tmp_path / "cal"
    report = (out / "report.md").read_text(encoding="utf-8")
    assert (out / "record.png").stat().st_size > 10_000 and "![the record's series](record.png)" in report
    assert "displaced-total ARD" in report and "dated points" in report and "within ±10%" in report
    table = pd.read_csv(out / "targets.csv", keep_default_na=False, na_values=[""])
    from sim.targets import scale_counts

    record = scale_counts(load_targets(RECORD), 0.02)  # counts compared at the population simulated
    rows = table.set_index("target")
    for t in record:  # every record point and event day has its row, range, median and interval
        r = rows.loc[t.id]
        assert (r["low"], r["high"]) == pytest.approx(t.bounds())
        assert r["within"] in ("yes", "no")
        assert f"| {t.id} |" in report
    pts = table[table["series"].notna() & (table["series"] != "")]
    assert len(pts) == 22 and set(pts["within10"]) <= {"yes", "no"}
    # the ARD in the report is that of the table's medians against the range midpoints
    from analysis.calibration import record_summary

    summ = record_summary(table.assign(series=table["series"].fillna("")),
                          scale_counts(load_targets(TARGETS), 0.02) + record)
    assert f"displaced-total ARD {summ['ard_displaced_total']:.2f}" in report
    assert f"{summ['within']} of 22 dated points" in report
    for ev in ("corridors_opened", "first_town_deals", "talks_resume"):
        assert f"| {ev} |" in report


def test_calibration_horizon_covers_the_targets_and_refuses_a_shorter_one():
    from analysis.calibration import calibration_horizon
    from sim.targets import load_target_files

    both = load_target_files([TARGETS, RECORD])
    assert calibration_horizon(both, 60.0) == 22.0  # day 20.25 needed, rounded up, plus one
    assert calibration_horizon(both, 20.0) is None  # the scenario is shorter: its own horizon
    assert calibration_horizon(both, 60.0, 25.0) == 25.0
    with pytest.raises(ScenarioError) as exc:
        calibration_horizon(both, 60.0, 18.0)
    assert exc.value.field == "--horizon-days" and "strikes_halted" in str(exc.value)


def test_a_target_needing_day_60_keeps_the_whole_horizon(tmp_path):
    from analysis.calibration import calibration_horizon

    p = tmp_path / "t.toml"
    p.write_text('[[target]]\nid = "d60"\nquantity = "q"\noutcome = "deaths_day60"\nkind = "relative"\n'
                 'value = 300\ntolerance = 0.2\nunit = "persons"\nwhy = "w"\n', encoding="utf-8")
    targets = load_targets(p)
    assert calibration_horizon(targets, 60.0) is None  # 61 days would be past the scenario's 60
    assert calibration_horizon(targets, 90.0) == 61.0
    with pytest.raises(ScenarioError):
        calibration_horizon(targets, 90.0, 30.0)


def test_calibration_runs_stop_at_the_horizon(coarse):
    from analysis.calibration import run_one

    record = load_targets(RECORD)
    obs, ts = run_one(str(coarse), {}, 3, population_scale=0.02, curves=True, horizon_days=17,
                      targets=record)
    assert ts["day"].max() == 17.0
    assert "regime_share_daraa" in ts and "displaced_golan" in ts  # every record series is a curve
    assert not math.isnan(obs["displaced_total@16"])


def test_a_series_the_case_does_not_have_is_refused_before_any_run(tmp_path):
    p = tmp_path / "t.toml"
    p.write_text('[[target]]\nid = "x"\nquantity = "q"\nseries = "regime_share_sweida"\nday = 3\n'
                 'kind = "range"\nrange = [0.1, 0.2]\nunit = "ratio"\nwhy = "w"\n', encoding="utf-8")
    with pytest.raises(ScenarioError) as exc:
        from analysis.calibration import calibrate

        calibrate(BASELINE, [p], out_dir=tmp_path / "cal", scenario_out=tmp_path / "c.toml", budget=10,
                  workers=1, quiet=True)
    assert exc.value.field == "x.series" and "regime_share_daraa" in str(exc.value)
    assert not (tmp_path / "cal").exists()


def test_abc_on_a_dask_cluster_gives_the_in_process_posterior(coarse):
    pytest.importorskip("distributed")
    from analysis.calibration import run_abc
    from sim.batch.executors import DaskExecutor
    from sim.targets import load_target_files

    targets = load_target_files([TARGETS, RECORD])
    kw = {"budget": 16, "seed": 8, "population_size": 4, "population_scale": 0.02, "horizon_days": 22}
    a = run_abc(str(coarse), targets, **kw)
    ex = DaskExecutor("local", workers=2)
    try:
        b = run_abc(str(coarse), targets, executor=ex, in_flight=3, **kw)
    finally:
        ex.close()
    assert a.n_simulations == b.n_simulations
    pd.testing.assert_frame_equal(a.all_particles, b.all_particles)


def test_an_interval_scale_prior_is_cut_to_a_window_centred_on_the_default_not_shrunk_near_zero():
    from analysis.calibration import interval_window

    assert interval_window(0.1, -4.0, 2.0, 2.0) == (-1.4, 1.6)        # not [0.05, 0.2]
    assert interval_window(-3.5, -4.0, 2.0, 2.0) == (-4.0, -1.0)      # shifted to stay in the prior
    assert interval_window(1.9, -4.0, 2.0, 2.0) == (-1.0, 2.0)
