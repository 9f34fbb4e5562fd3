"""The rules an enclave needs (issue 14) at work in a run of Eastern Ghouta: corridors, the daily
pause, talks per negotiating bloc, pockets; and declared outcomes. The rule functions' own unit
tests are in tests/rules/ (test_pockets, test_evacuation, test_siege, test_negotiation)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.errors import ScenarioError
from sim.outcomes import RunTables, first_day_reaching, read_outcomes_file, summarize, value_on_day

ROOT = Path(__file__).resolve().parents[1]
GHOUTA = ROOT / "scenarios" / "ghouta2018" / "baseline.toml"


@pytest.fixture(scope="module")
def ghouta():
    from sim.run import collect, simulate
    from sim.scenario.loader import load_scenario

    sc = load_scenario(GHOUTA)
    sc.world.population_scale = 0.1
    sc.time.horizon_days = 30
    return collect(simulate(sc, 2))


def test_in_a_siege_nobody_leaves_for_government_areas_before_the_corridor_opens(ghouta):
    ts = ghouta.timeseries
    assert (ts.loc[ts["day"] < 9, "arrived_wafideen_cum"] == 0).all()
    assert (ts.loc[ts["day"] < 9, "corridors_open"] == 0).all()
    assert (ts.loc[ts["day"] > 9, "corridors_open"] == 1).all()  # (the row of day 9 is the state before its tick)
    # no border, no fields: the displaced are in other towns of their pocket or in government areas
    assert (ts["displaced_total"] == ts["displaced_towns"] + ts["displaced_wafideen"]).all()


def test_each_bloc_has_its_own_talks_and_the_pause_lowers_the_strikes(ghouta):
    ts, ev = ghouta.timeseries, ghouta.events
    blocs = ghouta.metadata["blocs"]
    assert set(blocs) == {"jaysh_al_islam", "faylaq_al_rahman", "ahrar_al_sham"}
    for b in blocs:
        assert f"negotiation_state_{b}" in ts.columns
    talks = ev[ev["kind"].isin(["ultimatum", "deal_signed", "talks_collapsed"])
               & (ev["actor"].isin(blocs) | ev["target"].isin(blocs))]
    # every comprehensive event names one bloc; their deal days are the case's outcomes
    pocket = {"jaysh_al_islam": "douma", "faylaq_al_rahman": "faylaq", "ahrar_al_sham": "harasta"}
    for b in blocs:
        o = ghouta.outcomes[f"deal_day_{pocket[b]}"]
        mine = talks[(talks["kind"] == "deal_signed") & (talks["actor"] == b)]
        assert (math.isnan(o) and mine.empty) or o == mine["day"].iloc[0]
    assert ev.loc[(ev["kind"] == "intervention") & (ev["target"] == "regime.pause_hours"), "day"].tolist() == [9.0]


def test_the_enclave_is_one_pocket_before_the_offensive(ghouta):
    ts = ghouta.timeseries
    assert ts["pockets"].iloc[0] == 1


def test_declared_outcomes_read_the_tables_not_event_text():
    ts = pd.DataFrame({"day": [0.0, 1.0, 2.0, 3.0], "a": [0, 5, 9, 12], "b": [1, 1, 1, 1]})
    t = RunTables(ts, pd.DataFrame(columns=["day", "kind", "actor", "target", "detail", "value"]))
    assert value_on_day(["a", "b"], 2.0)(t) == 10
    assert math.isnan(value_on_day(["a"], 9.0)(t))  # past the run: missing, never a guess
    assert first_day_reaching(["a"], 9)(t) == 2.0
    assert first_day_reaching(["a"], 9, strict=True)(t) == 3.0
    ev = pd.DataFrame({"day": [1.0, 1.5], "kind": ["casualties", "casualties"],
                       "actor": ["regime", "regime"], "target": ["x", "x"],
                       "detail": ["nonsense text", "12 killed"], "value": [3.0, 4.0]})
    ts2 = pd.DataFrame({"day": np.arange(0, 3, 0.25), "civilian_deaths_cum": 0, "displaced_total": 0,
                        "returned_cum": 0, "evacuated_cum": 0, "collapses": 0, "towns_rebel": 1,
                        "regime_share_area": 0.0, "towns_reconciled": 0, "towns_captured": 0,
                        "bombardment_intensity": 1.0, "strikes": 1, "corridors_open": 0,
                        "localities_settled": 0})
    ev = pd.concat([pd.DataFrame({"day": [0.9], "kind": ["talks_collapsed"], "actor": ["jc"],
                                  "target": ["mediator"], "detail": [""], "value": [1.0]}), ev])
    assert summarize(ts2, ev, blocs=("jc",))["blitz_max_town_deaths"] == 7.0  # the values' sum


@pytest.mark.parametrize("body, field", [
    ('[[outcome]]\nname = "x"\nunit = "d"\nfunction = "value_on_day"\nseries = "a"\n', "x.day"),
    ('[[outcome]]\nname = "peak_day"\nunit = "d"\nfunction = "final"\nseries = "a"\n', "peak_day.name"),
    ('[[outcome]]\nname = "x"\nunit = "d"\nfunction = "guess"\n', "x.function"),
    ('[[outcomes]]\nname = "x"\n', None),
])
def test_a_bad_outcomes_file_names_the_file_and_the_field(tmp_path, body, field):
    p = tmp_path / "outcomes.toml"
    p.write_text(body, encoding="utf-8")
    with pytest.raises(ScenarioError) as e:
        read_outcomes_file(p)
    assert str(p) in str(e.value)
    if field:
        assert field in str(e.value)


def test_a_case_outcome_reading_a_missing_column_is_refused(tmp_path):
    from sim.model import load_case
    from sim.scenario.loader import load_scenario

    p = tmp_path / "outcomes.toml"
    p.write_text('[[outcome]]\nname = "x"\nunit = "persons"\nfunction = "final"\n'
                 'series = "displaced_jordan"\n', encoding="utf-8")
    sc = load_scenario(ROOT / "scenarios" / "baseline.toml")
    sc.world.outcomes_file = str(p)
    with pytest.raises(ScenarioError, match="reads column .displaced_jordan., which the case.s runs do not write"):
        load_case(sc)


@pytest.mark.parametrize("limit", [1.0, 2.0])
def test_the_ground_forces_take_no_more_towns_in_a_tick_than_they_can_assault(limit):
    from sim.run import collect, simulate
    from sim.scenario.loader import load_scenario

    def captures_per_tick(assault_towns: float) -> pd.Series:
        sc = load_scenario(GHOUTA)
        sc.world.population_scale = 0.05
        sc.time.horizon_days = 40
        # strong ground forces (whatever the calibration): unchecked, they take places in bulk
        sc.regime.ground_capacity, sc.regime.k_capture = 5.0, 2.0
        sc.regime.assault_towns = assault_towns
        ev = collect(simulate(sc, 3)).events
        return ev[ev["kind"] == "town_captured"].groupby("day").size()

    limited, unlimited = captures_per_tick(limit), captures_per_tick(1000.0)
    assert unlimited.max() > limit  # without the limit, several places fall in one tick
    assert limited.max() <= limit and limited.sum() >= 5  # with it, one or two at a time


def test_a_host_town_takes_in_no_more_than_its_room_and_without_a_limit_the_enclave_crowds():
    from sim.run import collect, simulate
    from sim.scenario.loader import load_scenario

    def peak_crowding(host_room: float) -> float:
        sc = load_scenario(GHOUTA)
        sc.world.population_scale = 0.05
        sc.time.horizon_days = 16  # before any deal: nobody goes home to a full town
        sc.flight.host_room = host_room
        towns = collect(simulate(sc, 4)).towns
        present = towns.pivot(index="day", columns="town_id", values="population_present")
        residents = present.iloc[0]
        own = residents > 0
        return float((present.loc[:, own] / residents[own]).max().max())

    assert peak_crowding(1.0) <= 2.0  # at most its own population again
    assert peak_crowding(0.5) <= 1.5
    assert peak_crowding(1e6) > 5.0  # unlimited: the quietest village takes in the enclave
