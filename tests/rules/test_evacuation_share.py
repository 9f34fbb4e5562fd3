"""sim/rules/evacuation.py: who leaves by bus under safe passage (issue 16: the hardline threshold
is the schema parameter ``mediator.hardline_majority``)."""

from __future__ import annotations

import pytest

from sim.rules.evacuation import evacuation_share
from sim.scenario.schema import MediatorParams

# (hardliner share, majority, expected) with share_hardline 0.06, share_other 0.01
TABLE = [
    (0.9, 0.5, 0.06),
    (0.5, 0.5, 0.06),     # at the threshold: hardline
    (0.49, 0.5, 0.01),
    (0.0, 0.5, 0.01),
    (0.0, 0.0, 0.06),     # threshold 0: every town counts as hardline
    (1.0, 1.0, 0.06),
    (0.99, 1.0, 0.01),
]


@pytest.mark.parametrize(("hard", "majority", "expected"), TABLE)
def test_a_town_counts_as_hardline_from_the_majority_threshold(hard, majority, expected):
    assert evacuation_share(hard, 0.06, 0.01, majority) == expected


def test_the_share_never_falls_as_hardliners_grow():
    shares = [evacuation_share(h / 10, 0.06, 0.01, 0.5) for h in range(11)]
    assert shares == sorted(shares)


def test_the_threshold_default_is_the_former_constant():
    assert MediatorParams().hardline_majority == 0.5
