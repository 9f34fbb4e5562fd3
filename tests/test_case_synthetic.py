"""A third case from data files alone: no case needs code.

The test writes a small, made-up enclave into a temporary folder (five places, two factions
with their own blocs, a government-held garrison, a corridor, sheltering in place, buses north,
and the case's own outcomes), then validates and runs it with the ``negsim`` command, and checks
that every output is there, named from the data.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main

TOWNS = """town_id,name,lat,lon,governorate,subdistrict,population,controller,faction,strategic
north,North Town,10.020,20.000,Lowland,North,30000,rebel,greens,none
centre,Centre Town,10.000,20.005,Lowland,Centre,20000,rebel,greens,none
south,South Town,9.980,20.000,Lowland,South,25000,rebel,blues,none
hamlet,Hamlet,9.985,20.020,Lowland,South,4000,rebel,blues,none
garrison,Garrison,10.030,20.030,Lowland,Outside,0,regime,regime,none
"""
SUBDISTRICTS = """subdistrict,area_km2
North,12
Centre,8
South,20
Outside,0
"""
ZONES = """zone,name,kind,lat,lon,reach,border,column,crossed_column,arrived_column
gate,government side through the gate,government,10.031,20.031,point,,displaced_gate,,arrived_gate_cum
basements,sheltering in place,shelter,,,,,sheltering,,
north_bus,buses to the north,evacuation,,,,,,,
"""
OUTCOMES = """case = "a made-up enclave"

[[outcome]]
name = "deaths_day5"
unit = "persons"
function = "value_on_day"
series = "civilian_deaths_cum"
day = 5

[[outcome]]
name = "deal_day_greens"
unit = "day"
function = "first_event_day"
event = "deal_signed"
actor = "green_bloc"

[[outcome]]
name = "through_the_gate"
unit = "persons"
function = "final"
series = "arrived_gate_cum"

[[outcome]]
name = "half_taken_day"
unit = "day"
function = "first_day_reaching"
series = "regime_share_area"
threshold = 0.5
"""
SCENARIO = """name = "enclave"
description = "a made-up enclave: two blocs, a corridor from day 2, safe passage north"

[time]
start_date = 2020-01-01
horizon_days = 12.0

[world]
towns_file = "data/towns.csv"
subdistricts_file = "data/subdistricts.csv"
zones_file = "data/zones.csv"
borders_file = ""
outcomes_file = "data/outcomes.toml"
neighbour_km = 3.0
pockets = true
pocket_km = 4.0

[regime]
bombardment_capacity = 60.0
front_km = 10.0

[[regime.axes]]
name = "from the garrison"
lat = 10.02
lon = 20.01
radius_km = 3.0
from_day = 1.0

[mediator]
safe_passage = true
offers_from_day = 2.0
bus_capacity_per_day = 2000.0

[[factions]]
name = "greens"
kind = "moderate"
strength = 3000.0
bloc = "green_bloc"

[[factions]]
name = "blues"
kind = "hardline"
strength = 1000.0
hardliner_share = 0.9
bloc = "blue_bloc"

[[interventions]]
description = "the gate opens"
day = 2.0
set = { "regime.corridors_open" = true }
"""


@pytest.fixture
def case(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    for name, text in (("towns.csv", TOWNS), ("subdistricts.csv", SUBDISTRICTS),
                       ("zones.csv", ZONES), ("outcomes.toml", OUTCOMES)):
        (data / name).write_text(text, encoding="utf-8")
    (tmp_path / "enclave.toml").write_text(SCENARIO, encoding="utf-8")
    return tmp_path / "enclave.toml"


def test_a_third_case_written_as_data_validates_and_runs_end_to_end(case, capsys):
    assert main(["scenario", "validate", str(case)]) == 0
    out = case.parent / "run"
    assert main(["run", str(case), "--seed", "3", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    for name in ("deaths_day5", "deal_day_greens", "through_the_gate", "half_taken_day"):
        assert name in printed  # the case's own outcomes are printed ...
    meta = json.loads((out / "metadata.json").read_text())
    o = meta["outcomes"]
    assert {"deaths_day5", "deal_day_greens", "through_the_gate", "half_taken_day",
            "peak_displaced", "evacuated", "deal_day"} <= set(o)  # ... and written
    assert meta["blocs"] == ["green_bloc", "blue_bloc"]
    ts = pd.read_csv(out / "timeseries.csv")
    # the zones' columns, named from the zone file; no border, so nobody waits or crosses one
    assert {"displaced_gate", "arrived_gate_cum", "sheltering", "evacuated_cum", "pockets",
            "negotiation_state_green_bloc", "negotiation_state_blue_bloc",
            "regime_share_lowland"} <= set(ts.columns)
    assert not [c for c in ts.columns if c.startswith("crossed_")]
    # nobody reaches the government side before the gate opens on day 2
    assert (ts.loc[ts["day"] < 2, "arrived_gate_cum"] == 0).all()
    assert o["through_the_gate"] == ts["arrived_gate_cum"].iloc[-1]
    assert o["deaths_day5"] == ts.loc[ts["day"] <= 5, "civilian_deaths_cum"].iloc[-1]
    assert math.isnan(o["deal_day_greens"]) or o["deal_day_greens"] >= 0
    # persons are conserved
    r = ts.iloc[-1]
    assert r["at_home"] + r["displaced_total"] + r["evacuated_cum"] == r["alive"]
    assert r["alive"] + r["civilian_deaths_cum"] == meta["persons"]
    ev = pd.read_csv(out / "events.csv")
    assert "value" in ev.columns
    assert (ev.loc[ev["kind"] == "casualties", "value"] > 0).all()
    for f in ("towns.csv", "displacement.png"):
        assert (out / f).is_file()


def test_a_third_case_draws_its_map_and_batches(case, tmp_path):
    out = case.parent / "run"
    assert main(["--quiet", "run", str(case), "--seed", "1", "--out", str(out), "--no-plot"]) == 0
    # a map needs the case's polygons: without them the command says so (exit 2) ...
    assert main(["--quiet", "plot", "map", str(out), "--day", "5"]) == 2
    # ... and draws once they are given
    cells = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"subdistrict": n},
         "geometry": {"type": "Polygon", "coordinates": [[[x, y], [x + .01, y], [x + .01, y + .01],
                                                          [x, y + .01], [x, y]]]}}
        for n, x, y in (("North", 19.99, 10.015), ("Centre", 19.99, 9.995), ("South", 19.99, 9.975))]}
    (case.parent / "data" / "subdistricts.geojson").write_text(json.dumps(cells), encoding="utf-8")
    assert main(["--quiet", "plot", "map", str(out), "--day", "5"]) == 0
    assert (out / "map_day5.png").is_file()
    b = tmp_path / "batch"
    assert main(["--quiet", "batch", str(case), "-r", "2", "--workers", "1", "--out", str(b)]) == 0
    runs = pd.read_parquet(b / "runs.parquet")
    assert {"deal_day_greens", "through_the_gate"} <= set(runs.columns)
    assert main(["--quiet", "plot", "zones", str(b)]) == 0
    assert main(["--quiet", "plot", "compare", str(b)]) == 0


def test_a_bloc_named_like_a_town_is_refused(case, capsys):
    case.write_text(case.read_text().replace('bloc = "blue_bloc"', 'bloc = "south"'), encoding="utf-8")
    assert main(["run", str(case), "--out", str(case.parent / "r")]) == 2
    assert "has the id of a town" in capsys.readouterr().err


def _with_refusers_in_centre(case: Path, faction: str = "reds") -> None:
    """The case with a column ``also_present``: ``faction`` is present in Centre Town besides the
    greens, and a faction ``reds`` that refuses all talks is defined."""
    towns = case.parent / "data" / "towns.csv"
    lines = towns.read_text(encoding="utf-8").splitlines()
    out = [lines[0] + ",also_present"]
    out += [ln + ("," + faction if ln.startswith("centre,") else ",") for ln in lines[1:]]
    towns.write_text("\n".join(out) + "\n", encoding="utf-8")
    case.write_text(case.read_text(encoding="utf-8") + """
[[factions]]
name = "reds"
kind = "refuses_talks"
strength = 200.0
""", encoding="utf-8")


def test_a_place_where_a_faction_refusing_talks_is_present_is_covered_by_no_deal(case):
    from sim.run import collect, simulate
    from sim.scenario.loader import load_scenario

    def reconciled(with_refusers: bool) -> list[set[str]]:
        if with_refusers:
            _with_refusers_in_centre(case)
        sc = load_scenario(case)
        sc.time.horizon_days = 30.0
        return [set(ev.loc[ev["kind"] == "town_reconciled", "target"])
                for ev in (collect(simulate(sc, seed)).events for seed in range(5))]

    before, after = reconciled(False), reconciled(True)
    assert any("centre" in r for r in before)     # Centre Town settles by a deal in some runs
    assert any("north" in r for r in after)       # with the reds there, North Town still does
    assert not any("centre" in r for r in after)  # but Centre Town never


def test_a_faction_named_present_that_the_scenario_does_not_define_is_refused(case, capsys):
    _with_refusers_in_centre(case, faction="purples")
    assert main(["scenario", "validate", str(case)]) != 0
    err = capsys.readouterr().err
    assert "towns.csv" in err and "also_present" in err and "purples" in err
