"""The bootstrap that says how reachable "every median within range" is (analysis/reachability)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.reachability import median_within_chance, poisson_median_within_chance, target_values
from sim.targets import Target


def _normal_runs(sd: float, n: int = 20, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).normal(1000.0, sd, size=(n, 1))


def test_a_wide_range_around_the_median_is_always_met() -> None:
    r = median_within_chance(_normal_runs(30.0), [(800.0, 1200.0)])
    assert r.per_target[0] == 1.0 and r.joint == 1.0


def test_a_range_far_from_the_runs_is_never_met_as_run_but_is_once_centred() -> None:
    runs = _normal_runs(30.0)
    assert median_within_chance(runs, [(2000.0, 2400.0)]).joint == 0.0
    assert median_within_chance(runs, [(2000.0, 2400.0)], centred=True).joint == 1.0


def test_a_one_person_range_is_rarely_met_even_by_a_centred_model() -> None:
    r = median_within_chance(_normal_runs(30.0), [(1099.0, 1100.0)], centred=True)
    assert 0.0 < r.per_target[0] < 0.15


def test_the_joint_chance_is_no_more_than_any_targets_chance() -> None:
    rng = np.random.default_rng(3)
    runs = np.column_stack([rng.normal(0, 1, 20), rng.normal(10, 2, 20)])
    r = median_within_chance(runs, [(-0.3, 0.3), (9.0, 11.0)], centred=True)
    assert r.joint <= r.per_target.min()
    assert r.joint < r.per_target.max()


def test_more_runs_make_the_median_land_in_a_narrow_range_more_often() -> None:
    runs = _normal_runs(30.0, n=200)
    few = median_within_chance(runs, [(990.0, 1010.0)], centred=True, n=5)
    many = median_within_chance(runs, [(990.0, 1010.0)], centred=True, n=100)
    assert many.per_target[0] > few.per_target[0] + 0.3


def test_missing_values_and_wrong_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="missing"):
        median_within_chance(np.array([[1.0], [np.nan]]), [(0.0, 2.0)])
    with pytest.raises(ValueError, match="2 targets"):
        median_within_chance(np.ones((3, 1)), [(0.0, 2.0), (0.0, 1.0)])


def test_target_values_reads_each_runs_value_on_each_targets_day() -> None:
    ts = pd.DataFrame({"run_id": ["b", "b", "a", "a"], "day": [0.0, 1.0, 0.0, 1.0],
                       "deaths": [0.0, 7.0, 0.0, 3.0]})
    t = Target(id="d1", quantity="deaths", value=5.0, unit="persons", kind="range",
               tolerance=0.0, outcome="deaths_day1", series="deaths", day=1.0,
               interval=(4.0, 6.0))
    np.testing.assert_array_equal(target_values(ts, [t]), [[3.0], [7.0]])


def test_the_poisson_floor_of_a_one_person_range_around_1100_is_a_few_percent() -> None:
    assert 0.02 < poisson_median_within_chance(1099.0, 1100.0, n=20, n_boot=20_000) < 0.12


def test_the_poisson_floor_of_a_wide_range_is_near_certainty() -> None:
    assert poisson_median_within_chance(237.0, 263.0, n=20, n_boot=20_000) > 0.99
