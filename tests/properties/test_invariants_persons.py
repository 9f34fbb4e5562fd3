"""Conservation of persons and monotone counters, at every tick, for any valid scenario."""

from __future__ import annotations

import numpy as np
from hypothesis import given

from sim.run import collect
from tests.properties.harness import Snap, run_checked
from tests.strategies import scenarios, seeds

GENERIC_COUNTS = ("displaced_total", "displaced_other", "displaced_towns", "returned_cum",
                  "evacuated_cum", "civilian_deaths_cum", "strike_deaths_cum", "exposure_deaths_cum",
                  "alive", "at_home")
GENERIC_CUMULATIVE = ("civilian_deaths_cum", "strike_deaths_cum", "exposure_deaths_cum",
                      "returned_cum", "evacuated_cum", "area_handed_over_km2_cum", "collapses",
                      "towns_reconciled", "towns_captured")


def count_columns(m) -> tuple[str, ...]:
    """Columns counting persons: the generic ones and every zone's."""
    zs = m.world.zones
    return (*GENERIC_COUNTS, *(c for z in zs for c in (z.column, z.crossed_column,
                                                       z.arrived_column) if c))


def cumulative_columns(m) -> tuple[str, ...]:
    zs = m.world.zones
    return (*GENERIC_CUMULATIVE, *(c for z in zs for c in (z.crossed_column, z.arrived_column) if c))


@given(scenarios(), seeds())
def test_alive_plus_dead_equals_initial_at_every_tick(sc, seed):
    def check(m, before: Snap, after: Snap) -> None:
        row = m.rows[-1]
        assert row["alive"] + row["civilian_deaths_cum"] == m.civilians.initial
        assert int(m.civilians.size.sum()) == row["alive"]
        assert row["strike_deaths_cum"] + row["exposure_deaths_cum"] == row["civilian_deaths_cum"]

    run_checked(sc, seed, check)


@given(scenarios(), seeds())
def test_home_displaced_evacuated_crossed_sum_to_alive_at_every_tick(sc, seed):
    def check(m, before: Snap, after: Snap) -> None:
        r = m.rows[-1]
        zs = m.world.zones
        crossed = sum(r[z.crossed_column] for z in zs if z.crossed_column)
        assert r["at_home"] + r["displaced_total"] + r["evacuated_cum"] + crossed == r["alive"]
        assert sum(r[z.column] for z in zs if z.closable) + r["displaced_other"] \
            == r["displaced_total"]
        assert sum(r[z.column] for z in zs if z.kind in ("fields", "government")) \
            + r["displaced_towns"] == r["displaced_other"]

    run_checked(sc, seed, check)


@given(scenarios(), seeds())
def test_zone_and_town_counts_are_nonnegative_integers_summing_to_totals(sc, seed):
    def check(m, before: Snap, after: Snap) -> None:
        civ, r, T = m.civilians, m.rows[-1], m.world.n_towns
        for col in count_columns(m):
            assert isinstance(r[col], int | np.integer) and r[col] >= 0, (col, r[col])
        assert (civ.size >= 0).all()
        for arr in (civ.count_loc, civ.home_at, civ.away_home, m.present):
            assert arr.dtype.kind == "i" and (arr >= 0).all()
        assert int(civ.count_loc.sum()) == r["alive"]
        assert int(civ.home_at.sum()) == r["at_home"]
        assert int(civ.away_home.sum()) == r["displaced_total"]
        # people in towns = at home + hosted displaced; zones and exits are the rest
        hosted = int(civ.count_loc[:T].sum()) - r["at_home"]
        assert hosted == r["displaced_towns"]
        assert civ.count_loc[m.loc.exit0] == r["evacuated_cum"]
        for z in m.world.closable_zones:
            assert civ.count_loc[m.loc.crossed[z.id]] == r[z.crossed_column]

    m = run_checked(sc, seed, check)
    towns = collect(m).towns
    for day, g in towns.groupby("day"):
        row = next(r for r in m.rows if abs(r["day"] - day) < 1e-9)
        assert g["at_home"].sum() == row["at_home"]
        assert g["displaced_out"].sum() == row["displaced_total"]
        assert (g[["population_present", "at_home", "displaced_out", "deaths_cum"]] >= 0).all().all()


@given(scenarios(), seeds())
def test_incremental_tallies_equal_full_recount_at_every_tick(sc, seed):
    def check(m, before: Snap, after: Snap) -> None:
        civ = m.civilians
        for kept, full in zip((civ.count_loc, civ.home_at, civ.away_home), civ.recount(), strict=True):
            np.testing.assert_array_equal(kept, full)

    run_checked(sc, seed, check)


@given(scenarios(), seeds())
def test_cumulative_counters_never_decrease(sc, seed):
    def check(m, before: Snap, after: Snap) -> None:
        prev, now = m.rows[-2], m.rows[-1]
        for col in cumulative_columns(m):
            assert now[col] >= prev[col], (col, prev[col], now[col])
        assert after.returned >= before.returned and after.evacuated >= before.evacuated

    run_checked(sc, seed, check)
