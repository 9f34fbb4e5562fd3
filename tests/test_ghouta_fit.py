"""How closely Eastern Ghouta's calibrated baseline follows its 21 targets to day 28
(seeds/ghouta2018/targets.toml: civilian deaths and the government's share of the enclave), over
20 fixed seeds (2018-2037) at full population; the runs stop on day 29 (nothing after the
cut-off is read).

Issue 14 asks for every target's median within its range; the committed fit has 4 of 21 over
these seeds (docs/cases.md §4 shows why all 21 is out of reach of fitting). What these tests pin
is what the fourth and fifth sessions' changes gained (the places assaulted at once, HTS present
beside Faylaq, the air campaign's surge; then the room in host towns and its recalibration), so
that a later change cannot lose it unseen: at least 14 of the 21 medians within their range
widened by 10% (measured 15; 10 before the room in host towns), the root mean square of the
medians' scaled errors (the ABC's distance, each capped at 10) at most 3.7 (measured 3.57; 3.06
before, 5.5 for the fit before that over seeds 2018-2047: the lull of days 6-14 and the share of
the enclave after day 25 came closer, the first week's deaths went further), and the enclave not
all in the government's hands on day 28 (measured 0.846; the record 0.82-0.83; the fit before
the fourth session held all of it from day 25).
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
from tests.conftest import ROOT

GHOUTA = ROOT / "scenarios" / "ghouta2018" / "baseline.toml"
TARGETS = ROOT / "seeds" / "ghouta2018" / "targets.toml"


def _observe(seed: int) -> dict[str, float]:
    sc = load_scenario(GHOUTA)
    sc.time.horizon_days = 29.0
    return series_values(collect(simulate(sc, seed)).timeseries, load_targets(TARGETS))


@pytest.fixture(scope="module")
def medians() -> dict[str, float]:
    with closing(LocalExecutor(workers=2)) as ex:
        runs = pd.DataFrame(list(ex.map_ordered(_observe, range(2018, 2038))))
    return {c: float(runs[c].median()) for c in runs.columns}


@pytest.fixture(scope="module")
def targets() -> list:
    return [t for t in load_targets(TARGETS) if t.series is not None]


def test_at_least_14_of_the_21_medians_are_within_their_range_widened_by_10_percent(medians, targets):
    assert len(targets) == 21
    within = [t.outcome for t in targets if t.within_widened(medians[t.outcome])]
    assert len(within) >= 14, within


def test_the_medians_scaled_errors_have_a_root_mean_square_of_at_most_3_7(medians, targets):
    errs = [min(abs(t.error(medians[t.outcome])), 10.0) for t in targets]
    assert float(np.sqrt(np.mean(np.square(errs)))) <= 3.7, errs


def test_the_government_does_not_hold_the_whole_enclave_on_day_28(medians, targets):
    (share28,) = [medians[t.outcome] for t in targets
                  if t.series == "regime_share_area" and t.day == 28]
    assert 0.7 <= share28 < 0.99
