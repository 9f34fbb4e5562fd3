"""The committed Daraa/Quneitra towns table keeps its population bookkeeping consistent.

These pin properties of scenarios/data/daraa2018/towns.csv as written by
scripts/extract_case_data.py (whose packages the tests do not need): the UN total for the
rebel-held south, the crossing at zero, and that every population says where it came from.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

TOWNS = Path(__file__).resolve().parent.parent / "scenarios" / "data" / "daraa2018" / "towns.csv"
METHODS = {"census_2004", "census_2004_derived", "estimate", "geonames", "imputed", "facility"}
# Ids that scenario files and tests name; they must survive any re-extraction.
REFERENCED_IDS = {"nasib", "nasib_crossing", "saida", "daraa_al_balad", "daraa_al_mahatta",
                  "al_hirak", "busra_ash_sham", "tasil"}


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    with open(TOWNS, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_rebel_held_towns_sum_to_the_un_estimate(rows: list[dict[str, str]]) -> None:
    assert sum(int(r["population"]) for r in rows if r["controller"] == "rebel") == 750_000


def test_border_crossing_is_a_facility_with_no_population(rows: list[dict[str, str]]) -> None:
    crossing = [r for r in rows if r["strategic"] == "border_crossing"]
    assert [r["town_id"] for r in crossing] == ["nasib_crossing"]
    assert crossing[0]["population"] == "0" and crossing[0]["population_method"] == "facility"


def test_every_population_names_its_method_and_source(rows: list[dict[str, str]]) -> None:
    for r in rows:
        assert r["population_method"] in METHODS, r["town_id"]
        assert r["population_source"].strip(), r["town_id"]
        if r["population_method"] in ("census_2004", "census_2004_derived", "estimate"):
            assert "http" in r["population_source"], r["town_id"]
            assert r["population_year"], r["town_id"]


def test_census_column_is_filled_exactly_for_census_rows(rows: list[dict[str, str]]) -> None:
    for r in rows:
        census = r["population_method"].startswith("census_2004")
        assert bool(r["census_2004"]) == census, r["town_id"]
        if census:
            assert float(r["population_basis"]) == float(r["census_2004"]), r["town_id"]


def test_one_scale_factor_turns_basis_into_population(rows: list[dict[str, str]]) -> None:
    rebel = [r for r in rows if r["controller"] == "rebel"]
    factor = 750_000 / sum(float(r["population_basis"]) for r in rebel)
    for r in rows:
        # largest-remainder rounding moves each town by less than one person
        assert abs(int(r["population"]) - float(r["population_basis"]) * factor) < 1.0, r["town_id"]


def test_referenced_town_ids_are_kept(rows: list[dict[str, str]]) -> None:
    ids = [r["town_id"] for r in rows]
    assert len(ids) == len(set(ids))
    assert set(ids) >= REFERENCED_IDS
