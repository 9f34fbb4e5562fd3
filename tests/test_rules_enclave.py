"""The rules an enclave needs (issue 14): pockets, buses under safe passage, sheltering in
place, corridors, the daily pause, and talks per negotiating bloc; and declared outcomes."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.errors import ScenarioError
from sim.outcomes import RunTables, first_day_reaching, read_outcomes_file, summarize, value_on_day
from sim.rules import evacuation, pockets, siege
from sim.rules.negotiation import DEFAULT_BLOC, blocs_of
from sim.scenario.schema import FactionSpec
from sim.world.case import haversine_km

ROOT = Path(__file__).resolve().parents[1]
GHOUTA = ROOT / "scenarios" / "ghouta2018" / "baseline.toml"


def _line_of_towns(n: int, km: float) -> np.ndarray:
    lat = np.zeros(n)
    lon = np.arange(n) * km / 111.32
    return haversine_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])


def test_pockets_are_components_cut_where_a_government_town_lies_between():
    d = _line_of_towns(5, 2.0)  # five towns 2 km apart on a line
    rebel = np.ones(5, dtype=bool)
    none = np.zeros(5, dtype=bool)
    assert pockets.pocket_labels(rebel, none, d, 2.5).tolist() == [0, 0, 0, 0, 0]
    # the middle town falls: the line splits in two, labelled from the lowest town index
    rebel[2] = False
    gov = ~rebel
    lab = pockets.pocket_labels(rebel, gov, d, 5.0)  # links long enough to jump the gap ...
    assert lab.tolist() == [0, 0, -1, 1, 1]  # ... are cut by the government town between them
    assert pockets.count(lab) == 2
    assert pockets.pocket_labels(np.zeros(5, dtype=bool), gov, d, 5.0).tolist() == [-1] * 5


def test_buses_carry_at_most_their_capacity_first_come_first_served():
    b = evacuation.Buses()
    b.new_tick(capacity_per_day=100.0, dt_days=0.25)  # 25 seats this tick
    b.queue(3, 30.0)
    b.queue(7, 10.0)
    got = []
    for town, n in b.board():
        got.append((town, n))
        b.carried(town, int(n))
    assert got == [(3, 25.0)] and b.waiting == {3: 5.0, 7: 10.0}
    b.new_tick(100.0, 0.25)
    for town, n in b.board():
        b.carried(town, int(n))
    assert b.waiting == {} and b.queued == 0
    b.queue(1, 5.0)
    b.new_tick(0.0, 0.25)  # no buses: nobody leaves
    assert list(b.board()) == []


def test_a_town_with_nobody_left_leaves_the_queue():
    b = evacuation.Buses()
    b.new_tick(1e7, 1.0)
    b.queue(2, 50.0)
    for town, _n in b.board():
        b.carried(town, 0)
    assert b.waiting == {}


def test_the_daily_pause_removes_its_hours_from_the_strike_capacity():
    assert siege.pause_factor(0.0) == 1.0
    assert siege.pause_factor(5.0) == pytest.approx(19 / 24)
    assert siege.pause_factor(24.0) == 0.0


def test_blocs_group_factions_and_leave_out_those_that_refuse_talks():
    specs = [FactionSpec(name="a", kind="moderate", strength=10),
             FactionSpec(name="b", kind="hardline", strength=5),
             FactionSpec(name="c", kind="refuses_talks", strength=3),
             FactionSpec(name="d", kind="moderate", strength=2, bloc="south")]
    assert blocs_of(specs) == [(DEFAULT_BLOC, [0, 1]), ("south", [3])]
    assert blocs_of(specs[2:3]) == [(DEFAULT_BLOC, [])]


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
