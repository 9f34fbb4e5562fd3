"""Performance work must not change behaviour: the fast civilian rule, the one-agent-per-person
Mesa reference and the benchmark's bookkeeping. No timing assertions here (see benchmarks/)."""

from __future__ import annotations

import copy
import sys

import numpy as np
import pandas as pd
import pytest

from benchmarks import probe
from benchmarks import run as bench
from benchmarks.mesa_reference import PersonFlightModel
from sim.agents.civilians import Civilians
from sim.model import NegotiationModel
from sim.rules.territory import Control
from sim.run import _towns_table


def _plain_flee_and_return(civ: Civilians, rng: np.random.Generator, p_flee: np.ndarray,
                           p_return: np.ndarray, cum_dest: np.ndarray, dest_loc: np.ndarray,
                           dest_ticks: np.ndarray, tick: int) -> tuple[np.ndarray, np.ndarray,
                                                                       np.ndarray]:
    """The rule written plainly (gathers, fresh arrays): new loc, arrive and persons fled."""
    loc, arrive = civ.loc.copy(), civ.arrive.copy()
    u = rng.random(len(civ.home))
    at_home = loc == civ.home
    idx = np.flatnonzero(at_home & (u < p_flee[civ.home]))
    fled = np.zeros(civ.n_towns, dtype=np.int64)
    if len(idx):
        h = civ.home[idx]
        choice = np.minimum((rng.random(len(idx))[:, None] > cum_dest[h]).sum(axis=1),
                            cum_dest.shape[1] - 1)
        go = dest_loc[h, choice] != h  # a destination at home: it shelters in place, stays
        idx, h, choice = idx[go], h[go], choice[go]
        loc[idx] = dest_loc[h, choice]
        arrive[idx] = tick + dest_ticks[h, choice]
        fled = np.bincount(h, weights=civ.size[idx], minlength=civ.n_towns).astype(np.int64)
    back = ~at_home & (loc < civ.exit0) & (arrive <= tick) & (u < p_return[civ.home])
    loc[back] = civ.home[back]
    return loc, arrive, fled


@pytest.fixture()
def midrun(small) -> NegotiationModel:
    """A small model some days into the offensive (people displaced, towns settled)."""
    m = NegotiationModel(small, seed=5)
    for _ in range(60):
        m.step()
    return m


def _inputs(m: NegotiationModel, seed: int) -> tuple:
    r = np.random.default_rng(seed)
    T, K = m.world.n_towns, 5
    cum = np.cumsum(r.dirichlet(np.ones(K), size=T), axis=1)
    cum[:, -1] = 1.0
    dest = r.integers(0, m.civilians.exit0, size=(T, K)).astype(np.int32)
    ticks = r.integers(1, 4, size=(T, K)).astype(np.int32)
    p_ret = np.where(r.random(T) < 0.5, r.random(T), 0.0)
    return r.random(T) * 0.3, p_ret, cum, dest, ticks


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fast_flight_and_return_moves_exactly_the_households_the_plain_rule_moves(midrun, seed):
    civ = midrun.civilians
    p_flee, p_ret, cum, dest, ticks = _inputs(midrun, seed)
    for p_return in (p_ret, np.zeros_like(p_ret)):  # also the skipped return pass
        c = copy.deepcopy(civ.model)
        rng_plain = copy.deepcopy(c.rng)
        loc, arrive, fled = _plain_flee_and_return(c.civilians, rng_plain, p_flee, p_return,
                                                   cum, dest, ticks, c.tick)
        got = c.civilians.flee_and_return(p_flee, p_return, cum, dest, ticks, c.tick)
        assert np.array_equal(got, fled)
        assert np.array_equal(c.civilians.loc, loc)
        assert np.array_equal(c.civilians.arrive, arrive)
        assert c.rng.random() == rng_plain.random()  # same number of draws consumed
        tallies = c.civilians.recount()
        assert np.array_equal(tallies[0], c.civilians.count_loc)
        assert np.array_equal(tallies[1], c.civilians.home_at)
        assert np.array_equal(tallies[2], c.civilians.away_home)


def test_per_town_values_reach_each_household_of_that_town_in_any_household_order(midrun):
    civ = copy.deepcopy(midrun.civilians)
    per_town = np.arange(civ.n_towns, dtype=np.float64) * 0.5
    assert civ._home_sorted
    assert np.array_equal(civ.by_home(per_town), per_town[civ.home])
    perm = np.random.default_rng(0).permutation(len(civ.home))
    civ.home = civ.home[perm]
    civ._home_sorted = bool(np.all(civ.home[1:] >= civ.home[:-1]))
    assert not civ._home_sorted
    assert np.array_equal(civ.by_home(per_town), per_town[civ.home])


def test_deaths_fall_on_the_same_persons_as_with_one_sort_over_all_households(midrun):
    c = copy.deepcopy(midrun)
    civ = c.civilians
    deaths = np.zeros(civ.n_loc, dtype=np.int64)
    occupied = np.flatnonzero(civ.count_loc[: civ.exit0] > 0)
    deaths[occupied[::3]] = 7
    # the former algorithm: candidates of every death location, stably sorted by location
    rng = copy.deepcopy(c.rng)
    size = civ.size.copy()
    cand = np.flatnonzero((deaths[civ.loc] > 0) & (size > 0))
    order = cand[np.argsort(civ.loc[cand], kind="stable")]
    locs = civ.loc[order]
    for loc in np.flatnonzero(deaths):
        hh = order[np.searchsorted(locs, loc):np.searchsorted(locs, loc, side="right")]
        cs = np.cumsum(size[hh])
        persons = rng.choice(int(cs[-1]), size=int(min(deaths[loc], cs[-1])), replace=False)
        np.subtract.at(size, hh[np.searchsorted(cs, persons, side="right")], 1)
    applied = civ.kill(deaths)
    assert np.array_equal(civ.size, size)
    assert applied.sum() == 7 * len(occupied[::3])


def test_the_model_gives_the_same_run_for_the_same_seed(small):
    a, b = NegotiationModel(small, seed=11), NegotiationModel(small, seed=11)
    a.run()
    b.run()
    assert a.rows == b.rows and a.events == b.events


def test_towns_table_has_one_row_per_town_per_recorded_day(midrun):
    w = midrun.world
    tab = _towns_table(midrun.town_days, w)
    plain = pd.concat([pd.DataFrame({
        "day": day, "town_id": w.town_id, "name": w.name,
        "controller": [Control(int(c)).name.lower() for c in ctl],
        "population_present": present, "at_home": at_home, "displaced_out": away,
        "deaths_cum": deaths}) for day, ctl, present, at_home, away, deaths in midrun.town_days],
        ignore_index=True)
    pd.testing.assert_frame_equal(tab, plain)


# --- the Mesa reference ---------------------------------------------------------------------
def _ref_inputs(T: int, p_flee: float, p_return: float) -> tuple:
    cum = np.tile([0.25, 0.5, 1.0], (T, 1))
    dest = np.tile(np.array([T, T + 1, T + 2], dtype=np.int32), (T, 1))
    return (np.full(T, p_flee), np.full(T, p_return), cum, dest,
            np.ones((T, 3), dtype=np.int32))


def test_reference_persons_flee_with_certainty_and_come_back_once_they_have_arrived():
    T = 3
    m = PersonFlightModel(np.array([40, 0, 25]), exit0=T + 4, seed=3)
    m.set_inputs(*_ref_inputs(T, 1.0, 1.0), tick=0)
    m.step()
    assert m.displaced() == 65 and m.new_disp == [40, 0, 25]
    assert {a.loc for a in m.agents} <= {T, T + 1, T + 2}
    m.set_inputs(*_ref_inputs(T, 0.0, 1.0), tick=0)  # not arrived yet (arrive = tick 1)
    m.step()
    assert m.displaced() == 65 and m.returned == 0
    m.set_inputs(*_ref_inputs(T, 0.0, 1.0), tick=1)
    m.step()
    assert m.displaced() == 0 and m.returned == 65


def test_reference_and_vectorised_rule_displace_the_same_share_in_expectation(midrun):
    T = midrun.world.n_towns
    persons = np.full(T, 300)
    inputs = _ref_inputs(T, 0.2, 0.0)
    ref = PersonFlightModel(persons, exit0=T + 4, seed=1)
    ref.set_inputs(*inputs, tick=0)
    ref.step()
    share_ref = ref.displaced() / persons.sum()
    civ = copy.deepcopy(midrun.civilians)
    at_home0 = int(civ.home_at.sum())
    fled = civ.flee_and_return(*inputs, tick=midrun.tick).sum()
    share_vec = fled / at_home0
    assert abs(share_ref - 0.2) < 0.03  # 21,900 persons: sd of the share ~0.003
    assert abs(share_vec - 0.2) < 0.03  # households of ~5.5 persons: sd ~0.007


# --- the benchmark's bookkeeping ------------------------------------------------------------
def test_model_probe_reports_persons_ticks_and_times_for_each_repetition():
    sc = probe.scenario_for(3_000, 24)
    res = probe.time_model(sc, reps=2)
    assert res["ticks"] == 60 and res["tick_hours"] == 24
    assert abs(res["persons"] - 3_000) < 100  # per-town rounding
    assert len(res["run_cpu"]) == len(res["run_wall"]) == len(res["init_cpu"]) == 2


def test_child_peak_memory_is_each_childs_own():
    big = bench.run_child([sys.executable, "-c",
                           "import numpy as np; a = np.ones(40_000_000); print(a.sum())"])
    small = bench.run_child([sys.executable, "-c", "print(1)"])
    assert big["peak_mb"] > 300 and small["peak_mb"] < 100
    assert big["stdout"].strip() == "40000000.0"


def test_child_cpu_includes_processes_it_left_behind(tmp_path):
    """A batch's pool workers may outlive its main process; their CPU must still count."""
    mark = tmp_path / "orphan_cpu"
    orphan = ("import time, pathlib; x = sum(range(3_000_000)); "
              f"pathlib.Path({str(mark)!r}).write_text(repr(time.process_time()))")
    r = bench.run_child([sys.executable, "-c",
                         f"import subprocess, sys; subprocess.Popen([sys.executable, '-c', {orphan!r}])"])
    assert mark.exists()  # the launcher waited for the orphan
    assert r["cpu"] >= float(mark.read_text())


def test_failing_child_is_reported_with_its_error():
    with pytest.raises(RuntimeError, match="boom"):
        bench.run_child([sys.executable, "-c", "raise SystemExit('boom')"])


def test_verdicts_compare_every_measured_figure_with_its_target():
    res = {"scaling": {"ratio_1m_over_100k": 12.0},
           "mesa": {"ratio_rule": 250.0},
           "e2e": {"wall_s": 9.0, "cpu_s": 5.0, "peak_mb": 300.0}}
    got = {f: ok for f, _, _, ok in bench.verdicts(res)}
    assert got == {"cost 1M / 100k persons": False, "vectorised / Mesa reference (x)": True,
                   "negsim run end to end (s wall)": False, "  same, CPU time (s)": True,
                   "peak memory, negsim run (MB)": True}
