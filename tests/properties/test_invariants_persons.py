"""Conservation of persons and monotone counters, at every tick, for any valid scenario.

Every recorded count is checked against an independent recount from the civilians' household
arrays (``home``, ``loc``, ``size``: where each household lives, where it is, how many of it are
alive), never against the sums the model's recording itself performs: the row's columns are not
re-added here, and the model's own tallies (``count_loc``, ``home_at``, ``away_home``) are
compared with a recount, not used as one. Deaths are recounted from the shrinking household
sizes between two ticks, where the households were when they died.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import example, given

from sim.run import collect
from sim.scenario.loader import default_scenarios_dir, load_scenario
from tests.properties.harness import Snap, run_checked
from tests.strategies import scenarios, seeds

GENERIC_CUMULATIVE = ("civilian_deaths_cum", "strike_deaths_cum", "exposure_deaths_cum",
                      "returned_cum", "evacuated_cum", "area_handed_over_km2_cum", "collapses",
                      "towns_reconciled", "towns_captured")


def small(name: str, horizon_days: float):
    """A scenario of the library at 1% of the population over a shorter horizon."""
    sc = load_scenario(default_scenarios_dir() / name)
    return sc.model_copy(update={"world": sc.world.model_copy(update={"population_scale": 0.01}),
                                 "time": sc.time.model_copy(update={"horizon_days": horizon_days})})


#: Returns, buses and strike deaths within 30 days (the drawn examples are often too short).
SAFE_PASSAGE = small("safe_passage.toml", 30.0)


def cumulative_columns(m) -> tuple[str, ...]:
    zs = m.world.zones
    return (*GENERIC_CUMULATIVE, *(c for z in zs for c in (z.crossed_column, z.arrived_column) if c))


@dataclass(frozen=True)
class Codes:
    """Location codes, derived here from the case's zones table (towns ``0..T-1``, then the
    destination zones in file order, then the evacuated, then one code per crossed border)."""

    T: int
    zone: dict[str, int]     # destination zone id -> code
    evacuated: int
    crossed: dict[str, int]  # border/frontier zone id -> code of those who crossed it

    @classmethod
    def of(cls, world) -> Codes:
        T = world.n_towns
        dest = [z for z in world.zones if z.kind in ("border", "frontier", "fields", "government")]
        closable = [z for z in world.zones if z.kind in ("border", "frontier")]
        evac = T + len(dest)
        return cls(T, {z.id: T + k for k, z in enumerate(dest)}, evac,
                   {z.id: evac + 1 + j for j, z in enumerate(closable)})


def persons(size: np.ndarray, mask: np.ndarray) -> int:
    return int(size[mask].sum())


def tick_deaths(before: Snap, after: Snap) -> np.ndarray:
    """Persons who died in each household during the tick (household sizes only shrink)."""
    return before.size.astype(np.int64) - after.size


@given(scenarios(), seeds())
def test_alive_plus_dead_equals_the_case_population_at_every_tick(sc, seed):
    """The living are the household members left; with the dead they are every person of the
    rebel-held towns at the scenario's scale; household sizes never grow."""

    def check(m, before: Snap, after: Snap) -> None:
        w, row = m.world, m.rows[-1]
        case_persons = int(np.round(w.population[w.rebel0] * sc.world.population_scale).sum())
        assert int(after.size.sum()) == row["alive"]
        assert row["alive"] + row["civilian_deaths_cum"] == case_persons
        assert after.size.shape == before.size.shape and (after.size >= 0).all()
        assert (after.size <= before.size).all()

    run_checked(sc, seed, check)


@given(scenarios(), seeds())
def test_strike_and_exposure_deaths_are_those_of_households_in_towns_and_at_borders(sc, seed):
    """Deaths recounted from the shrinking households, by where they were when they died
    (deaths come before any move of the tick): in a town they are strike deaths, at a border or
    frontier exposure deaths; nobody dies anywhere else."""

    def check(m, before: Snap, after: Snap) -> None:
        codes = Codes.of(m.world)
        d = tick_deaths(before, after)
        prev, row = m.rows[-2], m.rows[-1]
        in_town = before.loc < codes.T
        at_border = np.isin(before.loc, [codes.zone[z] for z in codes.crossed])
        assert row["strike_deaths_cum"] - prev["strike_deaths_cum"] == int(d[in_town].sum())
        assert row["exposure_deaths_cum"] - prev["exposure_deaths_cum"] == int(d[at_border].sum())
        assert int(d[~in_town & ~at_border].sum()) == 0
        assert row["civilian_deaths_cum"] - prev["civilian_deaths_cum"] == int(d.sum())

    run_checked(sc, seed, check)


@given(scenarios(), seeds())
@example(SAFE_PASSAGE, 1)
def test_recorded_counts_equal_a_recount_of_the_household_arrays_at_every_tick(sc, seed):
    """Each person count of the row is the members of the households at the places it names."""

    def check(m, before: Snap, after: Snap) -> None:
        codes, row = Codes.of(m.world), m.rows[-1]
        home, loc, size = m.civilians.home, after.loc, after.size
        in_area = loc < codes.evacuated
        away = in_area & (loc != home)
        at_closable = np.isin(loc, [codes.zone[z] for z in codes.crossed])
        expected = {
            "alive": persons(size, size > 0),
            "at_home": persons(size, loc == home),
            "displaced_total": persons(size, away),
            "displaced_towns": persons(size, away & (loc < codes.T)),
            "displaced_other": persons(size, away & ~at_closable),
            "evacuated_cum": persons(size, loc == codes.evacuated),
        }
        for z in m.world.zones:
            if z.id in codes.zone:
                expected[z.column] = persons(size, loc == codes.zone[z.id])
            if z.id in codes.crossed:
                expected[z.crossed_column] = persons(size, loc == codes.crossed[z.id])
        got = {k: row[k] for k in expected}
        assert got == expected
        for k, v in got.items():
            assert isinstance(v, int | np.integer), (k, type(v))
        assert (loc >= 0).all() and (loc <= max([codes.evacuated, *codes.crossed.values()])).all()

    run_checked(sc, seed, check)


def town_recount(home: np.ndarray, loc: np.ndarray, size: np.ndarray, codes: Codes) -> dict[str, np.ndarray]:
    """Persons present in each town, at home and displaced (still in the area) per home town."""
    s, T = size.astype(np.int64), codes.T
    away = (loc != home) & (loc < codes.evacuated)
    return {"population_present": np.bincount(loc[loc < T], weights=s[loc < T], minlength=T),
            "at_home": np.bincount(home, weights=np.where(loc == home, s, 0), minlength=T),
            "displaced_out": np.bincount(home, weights=np.where(away, s, 0), minlength=T)}


@given(scenarios(), seeds())
@example(SAFE_PASSAGE, 1)
def test_town_table_counts_equal_a_recount_of_the_households_on_each_recorded_day(sc, seed):
    """The towns table's people present, at home and displaced per town, and its deaths per
    town (where they died), recounted from the household arrays on the days it records."""
    recounts: list[dict[str, np.ndarray]] = []
    died_in_town: list[np.ndarray] = []

    def check(m, before: Snap, after: Snap) -> None:
        codes, home = Codes.of(m.world), m.civilians.home
        if not died_in_town:  # day 0, recorded when the model is built
            died_in_town.append(np.zeros(codes.T, dtype=np.int64))
            recounts.append(town_recount(home, before.loc, before.size, codes)
                            | {"deaths_cum": died_in_town[0].copy()})
        d = tick_deaths(before, after)
        town = before.loc < codes.T
        died_in_town[0] += np.bincount(before.loc[town], weights=d[town], minlength=codes.T).astype(np.int64)
        if after.tick % m.ticks_per_day == 0:
            recounts.append(town_recount(home, after.loc, after.size, codes)
                            | {"deaths_cum": died_in_town[0].copy()})

    m = run_checked(sc, seed, check)
    towns = collect(m).towns
    days = [g for _, g in towns.groupby("day", sort=True)]
    assert len(days) == len(recounts)
    for g, expected in zip(days, recounts, strict=True):
        assert list(g["town_id"]) == list(m.world.town_id)
        for col, values in expected.items():
            np.testing.assert_array_equal(g[col].to_numpy(dtype=np.int64), values.astype(np.int64),
                                          err_msg=col)


@given(scenarios(), seeds())
@example(SAFE_PASSAGE, 1)
def test_incremental_tallies_equal_a_recount_of_the_household_arrays_at_every_tick(sc, seed):
    """The civilians' per-location and per-home tallies, kept up to date by every move, equal a
    recount from the arrays (so no move forgets to update them)."""

    def check(m, before: Snap, after: Snap) -> None:
        civ, codes = m.civilians, Codes.of(m.world)
        n_loc = codes.evacuated + 1 + len(codes.crossed)
        s = after.size.astype(np.int64)
        at_home = after.loc == civ.home
        away = ~at_home & (after.loc < codes.evacuated)
        assert all(a.dtype.kind == "i" for a in (civ.count_loc, civ.home_at, civ.away_home))
        np.testing.assert_array_equal(civ.count_loc, np.bincount(after.loc, weights=s, minlength=n_loc))
        np.testing.assert_array_equal(civ.home_at, np.bincount(civ.home, weights=np.where(at_home, s, 0),
                                                               minlength=codes.T))
        np.testing.assert_array_equal(civ.away_home, np.bincount(civ.home, weights=np.where(away, s, 0),
                                                                 minlength=codes.T))

    run_checked(sc, seed, check)


@given(scenarios(), seeds())
@example(SAFE_PASSAGE, 1)
def test_returns_and_evacuations_count_the_households_that_made_them(sc, seed):
    """The returned this tick are the members of households that were away and are home now;
    the evacuated those that reached the exit this tick (recounted from the arrays)."""

    def check(m, before: Snap, after: Snap) -> None:
        codes, home = Codes.of(m.world), m.civilians.home
        prev, row = m.rows[-2], m.rows[-1]
        came_home = (before.loc != home) & (after.loc == home)
        bused = (before.loc != codes.evacuated) & (after.loc == codes.evacuated)
        assert row["returned_cum"] - prev["returned_cum"] == persons(after.size, came_home)
        assert after.returned - before.returned == persons(after.size, came_home)
        assert row["evacuated_cum"] - prev["evacuated_cum"] == persons(after.size, bused)
        # nobody leaves the area and comes back
        left = before.loc >= codes.evacuated
        np.testing.assert_array_equal(after.loc[left], before.loc[left])

    run_checked(sc, seed, check)


@given(scenarios(), seeds())
def test_cumulative_counters_never_decrease(sc, seed):
    def check(m, before: Snap, after: Snap) -> None:
        prev, now = m.rows[-2], m.rows[-1]
        for col in cumulative_columns(m):
            assert now[col] >= prev[col], (col, prev[col], now[col])
        assert after.returned >= before.returned and after.evacuated >= before.evacuated

    run_checked(sc, seed, check)
