"""sim/rules/negotiation.py: the terms on the table when an intervention changes the mediator's
base terms (issue 16: moved out of the model), and the talks' exact clock."""

from __future__ import annotations

import pytest

from sim.rules.negotiation import NegState, Talks, Terms, merge_terms

# (base, current, merged)
MERGE_TABLE = [
    (Terms(1, False, 0.2), Terms(1, False, 0.2), Terms(1, False, 0.2)),
    (Terms(3, False, 0.2), Terms(1, False, 0.2), Terms(3, False, 0.2)),   # more phases set
    (Terms(1, True, 0.2), Terms(2, False, 0.5), Terms(2, True, 0.5)),     # passage set, rest won
    (Terms(1, False, 0.0), Terms(2, True, 0.8), Terms(2, True, 0.8)),     # concessions kept
    (Terms(1, False, 0.9), Terms(1, False, 0.5), Terms(1, False, 0.9)),
]


@pytest.mark.parametrize(("base", "current", "merged"), MERGE_TABLE)
def test_merged_terms_are_the_better_of_the_two_on_each_point(base, current, merged):
    assert merge_terms(base, current) == merged


@pytest.mark.parametrize(("base", "current", "merged"), MERGE_TABLE)
def test_merging_never_takes_back_a_concession_and_is_symmetric(base, current, merged):
    m = merge_terms(base, current)
    assert m.phases >= max(base.phases, current.phases)
    assert m.safe_passage >= (base.safe_passage or current.safe_passage)
    assert m.guarantees >= max(base.guarantees, current.guarantees)
    assert merge_terms(current, base) == m


@pytest.mark.parametrize(("deadline", "collapses_at"), [(15, 15), (1, 1), (0, 0)])
def test_talks_collapse_exactly_at_the_deadline_tick(deadline, collapses_at):
    t = Talks(terms=Terms())
    t.open(0, deadline)
    assert not t.deadline_passed(collapses_at - 1) or collapses_at == 0
    assert t.deadline_passed(collapses_at)


def test_the_next_offer_is_due_exactly_one_round_later():
    t = Talks(terms=Terms())
    t.open(4, 15)
    assert t.offer_due(4)
    t.make_offer(4)
    t.answer(False, 4, 2)
    assert t.state == NegState.REJECTED
    assert not t.offer_due(5) and t.offer_due(6)
