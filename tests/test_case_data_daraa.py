"""The committed Daraa/Quneitra towns table keeps its population bookkeeping consistent.

These pin properties of scenarios/data/daraa2018/towns.csv as written by
scripts/extract_case_data.py (whose packages the tests do not need): the UN total for the
rebel-held south, the crossing at zero, and that every population says where it came from;
and that the census localities the towns stand for add up to each sub-district's count.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent.parent / "scenarios" / "data" / "daraa2018"
TOWNS = DATA / "towns.csv"
SUBDISTRICTS = DATA / "subdistricts.csv"
METHODS = {"census_2004", "census_2004_derived", "estimate", "geonames", "imputed", "facility"}
# Ids that scenario files and tests name; they must survive any re-extraction.
REFERENCED_IDS = {"nasib", "nasib_crossing", "saida", "daraa_al_balad", "daraa_al_mahatta",
                  "al_hirak", "busra_ash_sham", "tasil"}


# CBS 2004 census localities per sub-district, as sourced in scripts/extract_case_data.py
# (LOCALITY_COUNTS_2004; pages named in ATTRIBUTION.md). Pinned here so that a re-extraction
# cannot change a sourced count unnoticed.
SOURCED_LOCALITIES = {"Dar'a": 8, "Busra Esh-Sham": 9, "Mseifra": 4, "Da'el": 2, "Hrak": 6,
                      "Tassil": 3, "Mzeireb": 9, "Ash-Shajara": 17, "Izra'": 21, "Jasim": 2,
                      "Ghabagheb": 13}
LOCALITY_KINDS = {"sourced", "imputed", "facility"}


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    with open(TOWNS, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def subdistricts() -> dict[str, dict[str, str]]:
    with open(SUBDISTRICTS, encoding="utf-8", newline="") as fh:
        return {r["subdistrict"]: r for r in csv.DictReader(fh)}


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


def test_towns_localities_add_up_to_each_subdistricts_count(
    rows: list[dict[str, str]], subdistricts: dict[str, dict[str, str]]
) -> None:
    totals: dict[str, int] = {}
    for r in rows:
        totals[r["subdistrict"]] = totals.get(r["subdistrict"], 0) + int(r["localities"])
    for name, sd in subdistricts.items():
        if not sd["localities"]:  # not counted (occupied): no model town may stand for it
            assert name not in totals, name
            continue
        assert totals.get(name) == int(sd["localities"]), name
        kind = sd["localities_source"].split(":", 1)[0]
        assert kind == ("sourced" if name in SOURCED_LOCALITIES else "imputed"), name
    for name, n in SOURCED_LOCALITIES.items():
        assert int(subdistricts[name]["localities"]) == n, name
    assert set(totals) <= {n for n, sd in subdistricts.items() if sd["localities"]}


def test_every_settlement_stands_for_at_least_one_locality_and_the_crossing_for_none(
    rows: list[dict[str, str]]
) -> None:
    for r in rows:
        kind = r["localities_source"].split(":", 1)[0]
        assert kind in LOCALITY_KINDS, r["town_id"]
        if r["strategic"] == "border_crossing":
            assert (r["localities"], kind) == ("0", "facility"), r["town_id"]
        else:
            assert int(r["localities"]) >= 1 and kind != "facility", r["town_id"]
        if kind == "sourced":
            assert "http" in r["localities_source"], r["town_id"]
