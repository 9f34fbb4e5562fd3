"""sim/rules/pockets.py: who may host whom (issue 16: moved out of the model's step)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.rules.pockets import same_pocket


@pytest.mark.parametrize(("labels", "expected"), [
    ([0, 0, 1], [[1, 1, 0], [1, 1, 0], [0, 0, 1]]),
    ([2, 1, 2, 1], [[1, 0, 1, 0], [0, 1, 0, 1], [1, 0, 1, 0], [0, 1, 0, 1]]),
    ([0, 0], [[1, 1], [1, 1]]),
])
def test_same_pocket_joins_towns_of_one_label(labels, expected):
    got = same_pocket(np.array(labels), True)
    assert got is not None
    np.testing.assert_array_equal(got, np.array(expected, dtype=bool))
    np.testing.assert_array_equal(got, got.T)
    assert got.diagonal().all()


def test_without_pockets_any_town_may_host_any_other():
    assert same_pocket(np.array([0, 1, 2]), False) is None


def test_same_pocket_of_no_town_is_empty():
    got = same_pocket(np.zeros(0, dtype=np.int64), True)
    assert got is not None and got.shape == (0, 0)
