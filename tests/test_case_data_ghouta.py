"""The committed Eastern Ghouta case data keep what scripts/make_ghouta_case.py promises: every
place of the inputs with its coordinates marked sourced or estimate, the headline population,
the enclave's area, one pocket before the offensive, the targets as given, and no outcome of the
talks among the inputs."""

from __future__ import annotations

import csv
import tomllib
from pathlib import Path

import numpy as np
import pytest

from sim.targets import load_targets

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "scenarios" / "data" / "ghouta2018"
SCENARIO = ROOT / "scenarios" / "ghouta2018" / "baseline.toml"
TARGETS = ROOT / "seeds" / "ghouta2018" / "targets.toml"


@pytest.fixture(scope="module")
def towns() -> list[dict[str, str]]:
    with open(DATA / "towns.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_every_place_says_whether_its_coordinates_are_sourced_or_estimated(towns):
    kinds = {r["coord_kind"] for r in towns}
    assert kinds <= {"sourced", "estimate", "sourced (coarse, 0.01 deg)"}
    est = [r for r in towns if r["coord_kind"] == "estimate"]
    assert len(est) >= 10 and all(r["source"] for r in towns)


def test_the_rebel_held_places_hold_the_headline_population(towns):
    rebel = [r for r in towns if r["controller"] == "rebel"]
    assert sum(int(r["population"]) for r in rebel) == 400_000
    own = [r for r in rebel if r["population_figure"]]
    shared = [r for r in rebel if not r["population_figure"]]
    assert all(r["population_basis"].startswith("own figure") for r in own)
    assert all(r["population_basis"].startswith("estimate") for r in shared)
    assert len({int(r["population"]) for r in shared}) == 1  # an equal share each


def test_the_cells_cover_the_enclave_and_the_crossing_has_none():
    with open(DATA / "subdistricts.csv", encoding="utf-8", newline="") as fh:
        cells = list(csv.DictReader(fh))
    total = sum(float(c["area_km2"]) for c in cells)
    assert total == pytest.approx(105.0, abs=0.01)  # the middle of the inputs' 100-110 km2
    assert [c for c in cells if float(c["area_km2"]) == 0] == [
        c for c in cells if c["subdistrict"] == "government side"]


def test_the_enclave_is_besieged_with_a_corridor_shelter_and_buses_but_no_border():
    from sim.world.case import read_zones

    kinds = [z.kind for z in read_zones(DATA / "zones.csv")]
    assert kinds == ["government", "shelter", "evacuation"]


def test_the_baseline_starts_on_18_february_2018_with_its_sourced_plan():
    from sim.model import load_case
    from sim.rules import pockets
    from sim.rules.territory import Control
    from sim.scenario.loader import load_scenario

    sc = load_scenario(SCENARIO)
    assert sc.time.start_date.isoformat() == "2018-02-18"
    assert all(a.source for a in sc.regime.axes)
    assert sorted(iv.day for iv in sc.interventions) == [9.0, 9.0]  # the pause, the corridor
    assert sc.mediator.safe_passage is True and sc.borders.open == []
    w = load_case(sc)
    control = np.where(w.rebel0, Control.REBEL, Control.REGIME)
    lab = pockets.pocket_labels(w.rebel0, control >= Control.RECONCILED, w.dist_km,
                                sc.world.pocket_km)
    assert pockets.count(lab) == 1


def test_the_targets_are_the_inputs_ranges_up_to_day_28_each_with_its_source():
    targets = load_targets(TARGETS)
    assert len(targets) == 21
    assert {t.series for t in targets} == {"civilian_deaths_cum", "regime_share_area"}
    assert max(t.day for t in targets) == 28
    assert all(t.source and t.kind == "range" for t in targets)
    by = {t.id: t.interval for t in targets}
    assert by["civilian_deaths_cum_day28"] == (1330.0, 1472.0)
    assert by["regime_share_area_day28"] == (0.82, 0.83)


def test_no_outcome_of_the_talks_is_an_input():
    """The case's outcomes of the talks are declared (forecast), never given as inputs or
    targets: no target names a deal, an evacuation or a crossing."""
    text = SCENARIO.read_text(encoding="utf-8")
    data = tomllib.loads(text)
    assert not any(iv.get("action") == "handover" for iv in data.get("interventions", []))
    for t in load_targets(TARGETS):
        assert t.series in ("civilian_deaths_cum", "regime_share_area")
