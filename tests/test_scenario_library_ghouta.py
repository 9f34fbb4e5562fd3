"""Eastern Ghouta's scenario library: every file loads, runs, and moves the outcomes the way a
reader expects (directions on 4 seeds at 1:5 population, or certainties where the rules give
them)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from sim.run import collect, simulate
from sim.scenario.loader import load_scenario
from tests.conftest import SCENARIOS

FOLDER = SCENARIOS / "ghouta2018"
LIBRARY = ("baseline", "no_safe_passage", "phased_disarmament", "no_corridor",
           "restrained_bombing", "town_deals")
SEEDS = range(4)


@pytest.fixture(scope="module")
def outcomes() -> pd.DataFrame:
    rows = []
    for name in LIBRARY:
        for seed in SEEDS:
            sc = load_scenario(FOLDER / f"{name}.toml")
            sc.world.population_scale = 0.2
            o = dict(collect(simulate(sc, seed)).outcomes)
            o.update(scenario=name, seed=seed)
            rows.append(o)
    return pd.DataFrame(rows)


def med(df: pd.DataFrame, name: str, col: str) -> float:
    return float(df.loc[df["scenario"] == name, col].median())


def test_every_file_of_the_folder_is_in_the_library_and_has_a_description():
    files = {p.stem for p in FOLDER.glob("*.toml")} - {"calibrated"}
    assert files == set(LIBRARY)
    for name in LIBRARY:
        assert load_scenario(FOLDER / f"{name}.toml").description.strip(), name


def test_without_the_corridor_nobody_reaches_government_areas(outcomes):
    nc = outcomes[outcomes["scenario"] == "no_corridor"]
    assert (nc["arrived_government"] == 0).all()
    assert med(outcomes, "baseline", "arrived_government") > 0


def test_the_baseline_has_no_town_by_town_deal_and_town_deals_has_some(outcomes):
    base = outcomes[outcomes["scenario"] == "baseline"]
    assert base["first_local_deal_day"].isna().all()
    assert outcomes.loc[outcomes["scenario"] == "town_deals", "first_local_deal_day"].notna().all()


def test_without_safe_passage_no_one_leaves_north_before_the_first_collapse(outcomes):
    """Safe passage can still come as the mediator's concession after a collapse."""
    nsp = outcomes[outcomes["scenario"] == "no_safe_passage"]
    for _, r in nsp.iterrows():
        if not math.isnan(r["first_evacuation_day"]):
            assert r["first_evacuation_day"] >= r["first_collapse_day"]
    assert med(outcomes, "no_safe_passage", "evacuated") <= med(outcomes, "baseline", "evacuated")


def test_halving_the_bombardment_lowers_the_deaths(outcomes):
    assert med(outcomes, "restrained_bombing", "deaths_day28") < med(outcomes, "baseline", "deaths_day28")
