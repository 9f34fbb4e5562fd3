"""Targets: ranges, event-day ranges, timeseries columns read at a day, several files, horizons."""

from __future__ import annotations

import dataclasses
import math
import tempfile
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from sim.errors import ScenarioError
from sim.targets import (
    MISSING_ERROR,
    RANGE_FLOOR,
    Target,
    days_needed,
    distance,
    errors,
    horizon_needed,
    load_target_files,
    load_targets,
    series_key,
    series_values,
)
from tests.conftest import ROOT

RECORD = ROOT / "seeds" / "record.toml"
TARGETS = ROOT / "seeds" / "targets.toml"
SHARED = ROOT.parents[0] / "shared" / "data" / "daraa2018_history_to_5_july.toml"


def _write(tmp_path: Path, body: str, name: str = "t.toml") -> Path:
    p = tmp_path / name
    p.write_text(body, encoding="utf-8")
    return p


def _point(series: str = "displaced_total", day: float = 7, rng: str = "[45000, 50000]", **extra: str) -> str:
    more = "".join(f"{k} = {v}\n" for k, v in extra.items())
    return (f'[[target]]\nid = "{series}_d{day:g}"\nquantity = "q"\nseries = "{series}"\nday = {day}\n'
            f'kind = "range"\nrange = {rng}\nunit = "persons"\nwhy = "w"\n{more}')


def test_range_target_is_within_between_its_ends_and_scores_from_the_midpoint(tmp_path):
    (t,) = load_targets(_write(tmp_path, _point(rng="[45000, 50000]")))
    assert t.value == 47_500 and t.tolerance == 2_500 and t.bounds() == (45_000, 50_000)
    assert t.within(45_000) and t.within(50_000) and not t.within(44_999) and not t.within(50_001)
    assert t.error(47_500) == 0.0
    assert t.error(50_000) == pytest.approx(1.0)  # the edge of the range is one half-width away
    assert t.error(52_500) == pytest.approx(2.0)
    assert t.outcome == series_key("displaced_total", 7) == "displaced_total@7"


def test_narrow_range_is_divided_by_at_least_the_floor_share_of_its_midpoint(tmp_path):
    (t,) = load_targets(_write(tmp_path, _point(rng="[62000, 66000]")))
    floor = RANGE_FLOOR * 64_000  # 3,200 > the half-width 2,000
    assert t.error(64_000 + floor) == pytest.approx(1.0)
    assert t.within(66_000) and not t.within(64_000 + floor)  # within uses the range itself


def test_day_range_covers_whole_days_with_an_open_end():
    body = ('[[target]]\nid = "deals"\nquantity = "q"\noutcome = "first_local_deal_day"\n'
            'kind = "day_range"\nrange = [9, 12]\nunit = "day"\nwhy = "w"\n')
    with tempfile.TemporaryDirectory() as d:
        (t,) = load_targets(_write(Path(d), body))
    assert t.bounds() == (9.0, 13.0) and t.value == 11.0 and t.tolerance == 2.0
    assert t.within(9.0) and t.within(12.75) and not t.within(13.0) and not t.within(8.75)
    assert t.describe_tolerance() == "days 9–12"
    assert t.error(11.0) == 0.0 and t.error(13.0) == pytest.approx(1.0)
    assert t.error(math.nan) == MISSING_ERROR and not t.within(math.nan)


def test_one_day_range_is_that_day_from_midnight_to_midnight():
    t = Target("c", "q", 15.5, "day", "day_range", 0.5, "first_collapse_day", interval=(15.0, 16.0))
    assert t.within(15.0) and t.within(15.75) and not t.within(16.0)
    assert t.describe_tolerance() == "day 15"
    assert t.within_widened(16.0)  # 10% wider: up to day 17.6


def _ts() -> pd.DataFrame:
    # 6-hour records from day 0 to day 10
    days = [i / 4 for i in range(41)]
    return pd.DataFrame({"day": days, "displaced_total": [1000.0 * d for d in days],
                         "regime_share_daraa": [0.3 + 0.01 * d for d in days]})


def test_series_value_is_the_column_at_the_last_record_at_or_before_the_day():
    targets = [Target("a", "q", 0, "u", "range", 1, series_key("displaced_total", 7), series="displaced_total",
                      day=7.0),
               Target("b", "q", 0, "u", "range", 1, series_key("displaced_total", 7.1), series="displaced_total",
                      day=7.1),
               Target("c", "q", 0, "u", "range", 1, series_key("regime_share_daraa", 0),
                      series="regime_share_daraa", day=0.0)]
    v = series_values(_ts(), targets)
    assert v == {"displaced_total@7": 7000.0, "displaced_total@7.1": 7000.0,
                 "regime_share_daraa@0": pytest.approx(0.3)}


def test_series_value_after_the_end_of_the_run_is_missing_not_the_last_value():
    t = Target("a", "q", 5000, "u", "range", 100, "displaced_total@12", series="displaced_total", day=12.0)
    v = series_values(_ts(), [t])
    assert math.isnan(v["displaced_total@12"])
    assert errors(v, [t]) == {"a": MISSING_ERROR}


def test_a_calibration_runs_observations_hold_the_summary_outcomes_and_the_series_values():
    from analysis.calibration import run_one
    from sim.model import load_case
    from sim.outcomes import outcome_names
    from sim.scenario.loader import load_scenario
    from tests.conftest import BASELINE

    record = load_targets(RECORD)
    obs, _ = run_one(str(BASELINE), {}, 2, population_scale=0.05, targets=tuple(record))
    assert set(outcome_names(load_case(load_scenario(BASELINE)).outcomes)) <= set(obs)
    for t in record:
        if t.series is not None:
            assert t.outcome in obs and not math.isnan(obs[t.outcome]), t.id
    d16 = next(t for t in record if t.id == "displaced_total_day16")
    assert obs[d16.outcome] == obs["displaced_day16"]  # the same reading as the article's outcome


def test_distance_weighs_each_targets_file_equally():
    a = [Target(f"a{i}", "q", 0, "u", "absolute", 1, f"a{i}", group="article") for i in range(2)]
    r = [Target(f"r{i}", "q", 0, "u", "absolute", 1, f"r{i}", group="record") for i in range(8)]
    obs = {**{f"a{i}": 2.0 for i in range(2)}, **{f"r{i}": 0.0 for i in range(8)}}
    # the article's file alone has mean square 4, the record's 0: half of each
    assert distance(obs, a + r) == pytest.approx(math.sqrt((4 + 0) / 2))
    # one file: the plain root mean square over its ten targets
    one = [dataclasses.replace(t, group="one") for t in a + r]
    assert distance(obs, one) == pytest.approx(math.sqrt(2 * 4 / 10))


def test_record_file_holds_every_dated_point_and_event_of_the_shared_record():
    record = load_targets(RECORD)
    shared = tomllib.loads(SHARED.read_text(encoding="utf-8")) if SHARED.is_file() else None
    series = [t for t in record if t.series is not None]
    assert len(series) == 22
    counts = {c: sum(t.series == c for t in series) for c in {t.series for t in series}}
    assert counts == {"displaced_total": 7, "displaced_jordan_border": 4, "displaced_golan": 2,
                      "displaced_regime_area": 1, "civilian_deaths_cum": 4, "regime_share_daraa": 4}
    events = {t.id: t for t in record if t.kind == "day_range"}
    assert {e.outcome for e in events.values()} == {
        "corridors_open_day", "first_offer_day", "first_local_deal_day", "thirty_towns_day",
        "first_collapse_day", "resume_day"}
    if shared is not None:  # the same ranges as the shared record file
        for t in series:
            lo, hi = shared[t.series][str(int(t.day))]
            assert t.bounds() == (lo, hi), t.id
        for eid, (a, b) in shared["events"].items():
            assert events[eid].bounds() == (a, b + 1), eid
    with RECORD.open("rb") as f:
        raw = tomllib.load(f)
    assert raw["source"]["cutoff"] == "2018-07-05" and raw["source"]["cutoff_day"] == 16
    for t in record:
        assert t.day is None or t.day <= 16  # nothing after the article's date
        assert t.says and t.why and t.source
        for key in t.source.split("; "):
            assert key in raw["sources"], (t.id, key)


def test_article_and_record_load_together_with_unique_ids():
    both = load_target_files([TARGETS, RECORD])
    assert len(both) == len(load_targets(TARGETS)) + len(load_targets(RECORD))
    assert len({t.group for t in both}) == 2


def test_the_same_id_in_two_files_is_a_user_error(tmp_path):
    a = _write(tmp_path, _point(), "a.toml")
    b = _write(tmp_path, _point(), "b.toml")
    with pytest.raises(ScenarioError) as exc:
        load_target_files([a, b])
    assert "also in" in str(exc.value)


@pytest.mark.parametrize("body, field", [
    (_point(series="displaced_totl"), "displaced_totl_d7.series"),
    (_point(rng="[50000, 45000]"), "displaced_total_d7.range"),
    (_point(rng='"45-50k"'), "displaced_total_d7.range"),
    (_point().replace("day = 7\n", ""), "displaced_total_d7.day"),
    ('[[target]]\nid = "e"\nquantity = "q"\noutcome = "first_offer_day"\nkind = "day_range"\n'
     'range = [8.5, 10]\nunit = "day"\nwhy = "w"\n', "e.range"),
    ('[[target]]\nid = "e"\nquantity = "q"\noutcome = "deaths_day16"\nkind = "absolute"\n'
     'unit = "u"\nwhy = "w"\n', "e.value"),
])
def test_bad_record_point_is_a_clear_user_error(tmp_path, body, field):
    with pytest.raises(ScenarioError) as exc:
        load_targets(_write(tmp_path, body))
    assert exc.value.field == field and exc.value.fix


def test_region_columns_are_accepted_by_their_prefix(tmp_path):
    (t,) = load_targets(_write(tmp_path, _point(series="regime_share_quneitra", rng="[0.1, 0.2]")))
    assert t.series == "regime_share_quneitra"


def test_horizon_needed_covers_every_target_day_and_the_windows_after_the_talks():
    article = load_targets(TARGETS)
    need = days_needed(article)
    assert need["displaced_day16"] == 16 and need["displaced_week_on_border"] == 9
    assert need["talks_collapse_day"] == pytest.approx(17.25)  # 15.75 + 1.5
    assert need["nasib_rebel_held"] == 16  # "not before day 16": never is fine
    assert need["strikes_halted"] == pytest.approx(17.25 + 3)  # resumption + 24 h of strikes
    assert horizon_needed(article) == pytest.approx(20.25)
    both = load_target_files([TARGETS, RECORD])
    assert horizon_needed(both) == pytest.approx(20.25)
    record_only = load_targets(RECORD)
    assert horizon_needed(record_only) == 17.0  # the resumption, day 16, lasts until day 17


def test_a_target_on_the_whole_run_needs_the_whole_run(tmp_path):
    body = ('[[target]]\nid = "p"\nquantity = "q"\noutcome = "peak_displaced"\nkind = "relative"\n'
            'value = 1\ntolerance = 0.1\nunit = "u"\nwhy = "w"\n'
            '[[target]]\nid = "d60"\nquantity = "q"\noutcome = "deaths_day60"\nkind = "relative"\n'
            'value = 1\ntolerance = 0.1\nunit = "u"\nwhy = "w"\n')
    need = days_needed(load_targets(_write(tmp_path, body)))
    assert need == {"p": math.inf, "d60": 60.0}
