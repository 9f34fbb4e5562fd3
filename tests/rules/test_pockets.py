"""sim/rules/pockets.py: an enclave's rebel-held towns form pockets, cut where a government-held
town lies between two of them."""

from __future__ import annotations

import numpy as np
import pytest

from sim.rules.pockets import count, pocket_labels


def line_of_towns(n: int, km: float) -> np.ndarray:
    """Distances (km) between ``n`` towns on a straight line, ``km`` apart."""
    x = np.arange(n) * km
    return np.abs(np.subtract.outer(x, x))


def test_pockets_are_components_cut_where_a_government_town_lies_between():
    d = line_of_towns(5, 2.0)
    rebel = np.ones(5, dtype=bool)
    none = np.zeros(5, dtype=bool)
    assert pocket_labels(rebel, none, d, 2.5).tolist() == [0, 0, 0, 0, 0]
    # the middle town falls: the line splits in two, labelled from the lowest town index
    rebel[2] = False
    gov = ~rebel
    lab = pocket_labels(rebel, gov, d, 5.0)  # links long enough to jump the gap ...
    assert lab.tolist() == [0, 0, -1, 1, 1]  # ... are cut by the government town between them
    assert count(lab) == 2
    assert pocket_labels(np.zeros(5, dtype=bool), gov, d, 5.0).tolist() == [-1] * 5


@pytest.mark.parametrize(("link_km", "labels"), [
    (1.99, [0, 1, 2, 3]),   # shorter than the spacing: every town alone
    (2.0, [0, 0, 0, 0]),    # exactly the spacing links them
    (100.0, [0, 0, 0, 0]),
])
def test_towns_link_when_at_most_link_km_apart(link_km, labels):
    d = line_of_towns(4, 2.0)
    assert pocket_labels(np.ones(4, bool), np.zeros(4, bool), d, link_km).tolist() == labels


def test_a_town_fallen_but_not_regime_held_cuts_nothing_it_only_leaves_the_pockets():
    d = line_of_towns(3, 2.0)
    rebel = np.array([True, False, True])  # town 1 neither rebel nor counted as government-held
    assert pocket_labels(rebel, np.zeros(3, bool), d, 5.0).tolist() == [0, -1, 0]


def test_labels_follow_the_lowest_town_index_of_each_pocket():
    # towns 0 and 2 close together, town 1 far away: pocket of town 0 is 0, town 1's is 1
    d = np.array([[0.0, 50.0, 1.0], [50.0, 0.0, 50.0], [1.0, 50.0, 0.0]])
    lab = pocket_labels(np.ones(3, bool), np.zeros(3, bool), d, 2.0)
    assert lab.tolist() == [0, 1, 0] and lab.dtype == np.int64


def test_government_towns_only_ever_split_pockets_and_longer_links_only_merge_them():
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 20, size=(25, 2))
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    rebel = np.ones(25, bool)
    gov = np.zeros(25, bool)
    last = count(pocket_labels(rebel, gov, d, 6.0))
    for town in rng.permutation(25)[:12]:  # towns fall one by one and stay government-held
        rebel[town], gov[town] = False, True
        kept = count(pocket_labels(rebel, gov, d, 6.0))
        # a fallen town can remove itself (a pocket of one) or cut links, never merge pockets
        assert kept >= last - 1
        last = kept
    counts = [count(pocket_labels(rebel, gov, d, km)) for km in (1.0, 3.0, 6.0, 12.0, 40.0)]
    assert counts == sorted(counts, reverse=True)


@pytest.mark.parametrize(("labels", "n"), [
    ([], 0), ([-1, -1], 0), ([0], 1), ([0, -1, 0], 1), ([0, 1, -1, 2, 1], 3),
])
def test_count_is_the_number_of_pockets(labels, n):
    assert count(np.array(labels, dtype=np.int64)) == n
