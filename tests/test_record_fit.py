"""How closely the calibrated baseline follows the public record to the article's date
(seeds/record.toml), over 20 seeds at full population; the runs stop on day 17 (nothing after
the record's last day is read).

Issue 12 asks for five things, each tested as asked: the displaced-total ARD against the
record's range midpoints over its 7 dates is at most 0.15 (measured 0.13 for the committed
calibration), at least 80% of the 22 dated points (18) are within their range widened by 10%
(measured 19: the misses are the Jordanian border on day 10, the Golan frontier on day 13 and
the deaths on day 9, README "Calibration"), the first local deal falls on days 9-12 and the
first collapse on day 15 (medians), and more than 30 towns are settled by day 15.
"""

from __future__ import annotations

from contextlib import closing

import numpy as np
import pandas as pd
import pytest

from sim.batch.executors import LocalExecutor
from sim.run import collect, simulate
from sim.scenario.loader import load_scenario
from sim.targets import load_targets, series_values
from tests.conftest import BASELINE, ROOT

RECORD = ROOT / "seeds" / "record.toml"


def _observe(seed: int) -> dict[str, float]:
    sc = load_scenario(BASELINE)
    sc.time.horizon_days = 17.0
    res = collect(simulate(sc, seed))
    targets = load_targets(RECORD)
    return {**res.outcomes, **series_values(res.timeseries, targets)}  # generic + the case's outcomes


@pytest.fixture(scope="module")
def runs() -> pd.DataFrame:
    with closing(LocalExecutor(workers=2)) as ex:  # the batch engine's executor (a forkserver pool)
        return pd.DataFrame(list(ex.map_ordered(_observe, range(20))))


@pytest.fixture(scope="module")
def points() -> list:
    return [t for t in load_targets(RECORD) if t.series is not None]


def test_the_record_has_22_dated_points(points):
    assert len(points) == 22


def test_displaced_total_ard_against_the_record_midpoints_is_at_most_0_15(runs, points):
    """Measured 0.13 for the committed calibration."""
    rd = [abs(runs[t.outcome].median() - t.value) / t.value for t in points
          if t.series == "displaced_total"]
    assert len(rd) == 7
    assert float(np.mean(rd)) <= 0.15, rd


def test_at_least_80pct_of_the_22_dated_points_are_within_their_range_widened_by_10pct(runs, points):
    """Measured 19 of 22 for the committed calibration (80% of 22 is 17.6: at least 18)."""
    inside = [t.within_widened(float(runs[t.outcome].median()), 0.1) for t in points]
    assert sum(inside) >= 18, [t.id for t, ok in zip(points, inside, strict=True) if not ok]


def test_the_first_local_deal_falls_on_days_9_to_12(runs):
    assert 9.0 <= runs["first_local_deal_day"].median() < 13.0


def test_the_first_collapse_falls_on_day_15(runs):
    assert 15.0 <= runs["first_collapse_day"].median() < 16.0


def test_more_than_30_towns_are_settled_by_day_15(runs):
    settled = runs["thirty_towns_day"]  # first day more than 30 towns are settled, NaN if never
    assert settled.fillna(np.inf).median() <= 15.0
