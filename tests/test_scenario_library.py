"""The scenario library: every file loads, runs, and moves the outcomes the way a reader expects.

Directions are compared on medians over ``SEEDS`` seeds at 1:5 population (directions, not
magnitudes: the calibration may move the defaults). Runs are shared across tests and made in
two processes.
"""

from __future__ import annotations

from contextlib import closing
from typing import Any

import pandas as pd
import pytest

from sim.batch.executors import LocalExecutor
from sim.run import collect, simulate
from sim.scenario.loader import load_scenario
from tests.conftest import SCENARIOS

SEEDS = range(6)
SCALE = 0.2
LIBRARY = ("baseline", "phased_disarmament", "safe_passage", "phased_and_passage",
           "open_jordan_border", "open_golan_frontier", "ceasefire_enforced", "no_mediator",
           "intensified_bombing", "restrained_bombing", "aid_access", "nasib_truce")
NASIB = ("nasib", "nasib_crossing", "saida")


#: Exposure deaths are a handful per run; the aid test multiplies their rate to see a direction.
EXPOSURE_X = 50.0


def _run(job: tuple[str, int, float]) -> dict[str, Any]:
    name, seed, exposure_x = job
    sc = load_scenario(SCENARIOS / f"{name}.toml")
    sc.world.population_scale = SCALE
    sc.casualties.exposure_rate = min(sc.casualties.exposure_rate * exposure_x, 1e-2)
    res = collect(simulate(sc, seed))
    ts, ev = res.timeseries, res.events
    out = dict(res.outcomes)
    out["scenario"] = name if exposure_x == 1.0 else f"{name}@exposure_x{exposure_x:g}"
    out["seed"] = seed
    out["collapsed"] = float(out["collapses"] > 0)
    out["exposure_deaths"] = float(ts["exposure_deaths_cum"].iloc[-1])
    out["strike_deaths"] = float(ts["strike_deaths_cum"].iloc[-1])
    out["strikes_total"] = float(ts["strikes"].sum())
    out["jordan_border_final"] = float(ts["displaced_jordan_border"].iloc[-1])
    out["golan_final"] = float(ts["displaced_golan"].iloc[-1])
    out["peak_jordan_border"] = float(ts["displaced_jordan_border"].max())
    out["towns_reconciled_final"] = float(ts["towns_reconciled"].iloc[-1])
    out["towns_captured_final"] = float(ts["towns_captured"].iloc[-1])
    out["area_handed_over"] = float(ts["area_handed_over_km2_cum"].iloc[-1])
    strikes = ev[ev["kind"] == "strike"]
    window = strikes[(strikes["day"] >= 12) & (strikes["day"] < 14) & strikes["target"].isin(NASIB)]
    out["nasib_strikes_in_truce"] = float(len(window))
    out["interventions"] = int((ev["kind"] == "intervention").sum())
    return out


@pytest.fixture(scope="module")
def outcomes() -> pd.DataFrame:
    jobs = [(name, seed, 1.0) for name in LIBRARY for seed in SEEDS]
    jobs += [(name, seed, EXPOSURE_X) for name in ("baseline", "aid_access") for seed in SEEDS]
    with closing(LocalExecutor(workers=2)) as ex:  # the batch engine's executor (a forkserver pool)
        return pd.DataFrame(list(ex.map_ordered(_run, jobs)))


def med(outcomes: pd.DataFrame, name: str, col: str) -> float:
    return float(outcomes.loc[outcomes["scenario"] == name, col].median())


def mean(outcomes: pd.DataFrame, name: str, col: str) -> float:
    return float(outcomes.loc[outcomes["scenario"] == name, col].mean())


def test_every_library_file_has_a_directional_test_and_ran_for_every_seed(outcomes):
    # calibrated.toml is generated parameter values (negsim calibrate), not a what-if of its own
    files = {p.stem for p in SCENARIOS.glob("*.toml")} - {"calibrated"}
    assert files == set(LIBRARY)
    counts = outcomes[~outcomes["scenario"].str.contains("@")].groupby("scenario").size()
    assert set(counts.index) == set(LIBRARY) and (counts == len(SEEDS)).all()


def test_every_library_file_has_its_own_description():
    for name in LIBRARY:
        assert load_scenario(SCENARIOS / f"{name}.toml").description.strip(), name


def test_baseline_borders_stay_closed_so_nobody_crosses(outcomes):
    base = outcomes[outcomes["scenario"] == "baseline"]
    assert (base["crossed_to_jordan"] == 0).all() and (base["crossed_to_golan"] == 0).all()
    assert (base["displaced_day16"] > 0).all()


def test_phased_disarmament_makes_a_collapse_of_talks_less_likely(outcomes):
    assert mean(outcomes, "phased_disarmament", "collapsed") < mean(outcomes, "baseline", "collapsed")


def test_safe_passage_raises_evacuations(outcomes):
    assert med(outcomes, "safe_passage", "evacuated") > med(outcomes, "baseline", "evacuated")


def test_phased_and_passage_has_fewer_collapses_and_more_evacuations(outcomes):
    assert mean(outcomes, "phased_and_passage", "collapsed") < mean(outcomes, "baseline", "collapsed")
    assert med(outcomes, "phased_and_passage", "evacuated") > med(outcomes, "phased_disarmament", "evacuated")


def test_open_jordan_border_moves_people_from_the_border_into_jordan(outcomes):
    assert med(outcomes, "open_jordan_border", "crossed_to_jordan") > 0
    assert med(outcomes, "open_jordan_border", "jordan_border_final") < med(outcomes, "baseline",
                                                                            "jordan_border_final")
    assert med(outcomes, "open_jordan_border", "crossed_to_golan") == 0


def test_open_golan_frontier_moves_people_from_the_frontier_across(outcomes):
    assert med(outcomes, "open_golan_frontier", "crossed_to_golan") > 0
    assert med(outcomes, "open_golan_frontier", "golan_final") < med(outcomes, "baseline", "golan_final")
    assert med(outcomes, "open_golan_frontier", "crossed_to_jordan") == 0


def test_enforced_ceasefire_means_no_strikes_fewer_deaths_and_fewer_displaced(outcomes):
    cf = outcomes[outcomes["scenario"] == "ceasefire_enforced"]
    assert (cf["strikes_total"] == 0).all() and (cf["strike_deaths"] == 0).all()
    assert med(outcomes, "ceasefire_enforced", "deaths_final") < med(outcomes, "baseline", "deaths_final")
    assert med(outcomes, "ceasefire_enforced", "peak_displaced") < med(outcomes, "baseline", "peak_displaced")


def test_without_a_mediator_no_town_is_reconciled_and_the_regime_takes_less_ground_by_day16(outcomes):
    nm = outcomes[outcomes["scenario"] == "no_mediator"]
    assert (nm["towns_reconciled_final"] == 0).all() and (nm["area_handed_over"] == 0).all()
    assert med(outcomes, "no_mediator", "towns_captured_final") > med(outcomes, "baseline",
                                                                      "towns_captured_final")
    assert med(outcomes, "no_mediator", "regime_share_day16") < med(outcomes, "baseline",
                                                                    "regime_share_day16")
    assert med(outcomes, "no_mediator", "deaths_final") > med(outcomes, "baseline", "deaths_final")


def test_intensified_bombing_means_more_strikes_deaths_and_displaced(outcomes):
    for col in ("strikes_total", "deaths_final", "displaced_day16"):
        assert med(outcomes, "intensified_bombing", col) > med(outcomes, "baseline", col), col


def test_restrained_bombing_means_fewer_strikes_deaths_and_displaced(outcomes):
    for col in ("strikes_total", "deaths_final", "displaced_day16"):
        assert med(outcomes, "restrained_bombing", col) < med(outcomes, "baseline", col), col


def test_aid_through_hostilities_lowers_exposure_deaths_at_the_borders(outcomes):
    tag = f"@exposure_x{EXPOSURE_X:g}"
    assert med(outcomes, "aid_access" + tag, "exposure_deaths") < med(outcomes, "baseline" + tag,
                                                                      "exposure_deaths")


def test_nasib_truce_stops_strikes_on_its_towns_during_the_window(outcomes):
    truce = outcomes[outcomes["scenario"] == "nasib_truce"]
    assert (truce["nasib_strikes_in_truce"] == 0).all()
    assert outcomes.loc[outcomes["scenario"] == "baseline", "nasib_strikes_in_truce"].sum() > 0
    assert (truce["interventions"] >= 2).all()  # the truce and the aid; passage if talks collapse
