"""sim/rules/negotiation.py: when talks open and resume, the blocs of factions, the terms and
their concessions, and the moves of the talks' state machine."""

from __future__ import annotations

import pytest

from sim.rules.negotiation import (
    AT_TABLE,
    DEFAULT_BLOC,
    LEGAL,
    IllegalTransition,
    NegState,
    Talks,
    Terms,
    bloc_names,
    blocs_of,
    canonical_order,
    should_open,
    should_resume,
)
from sim.scenario.schema import FactionSpec


@pytest.mark.parametrize(("settled", "open_share", "enabled", "opens"), [
    (0.0, 0.0, True, True),      # a zero threshold opens at once
    (0.29, 0.3, True, False),
    (0.3, 0.3, True, True),      # exactly at the share
    (1.0, 0.3, False, False),    # no mediator: never
    (0.5, 1.01, True, False),    # an unreachable share: never
])
def test_talks_open_once_the_settled_share_reaches_the_threshold(settled, open_share, enabled, opens):
    assert should_open(settled, open_share, enabled) is opens


@pytest.mark.parametrize(("pain", "threshold", "resumes"), [
    (0.0, 0.0, True), (0.99, 1.0, False), (1.0, 1.0, True), (5.0, 1.0, True), (1e9, float("inf"), False),
])
def test_the_joint_command_resumes_once_the_pain_since_the_collapse_reaches_the_threshold(pain, threshold,
                                                                                         resumes):
    assert should_resume(pain, threshold) is resumes


def test_resuming_is_monotone_in_pain():
    got = [should_resume(p, 2.0) for p in (0.0, 1.0, 1.9, 2.0, 3.0, 100.0)]
    assert got == sorted(got)


def test_blocs_group_factions_and_leave_out_those_that_refuse_talks():
    specs = [FactionSpec(name="a", kind="moderate", strength=10),
             FactionSpec(name="b", kind="hardline", strength=5),
             FactionSpec(name="c", kind="refuses_talks", strength=3),
             FactionSpec(name="d", kind="moderate", strength=2, bloc="south")]
    assert blocs_of(specs) == [(DEFAULT_BLOC, [0, 1]), ("south", [3])]
    assert blocs_of(specs[2:3]) == [(DEFAULT_BLOC, [])]
    assert blocs_of([]) == [(DEFAULT_BLOC, [])]
    # blocs in the order of their first faction
    assert [b for b, _ in blocs_of(specs[::-1])] == ["south", DEFAULT_BLOC]


@pytest.mark.parametrize("listed", [("a", "b", "c", "d"), ("d", "c", "b", "a"), ("c", "a", "d", "b")])
def test_the_canonical_order_is_strongest_first_then_by_name_whatever_the_listing(listed):
    by = {"a": 10, "b": 5, "c": 5, "d": 2}
    specs = [FactionSpec(name=n, kind="moderate", strength=by[n]) for n in listed]
    assert [f.name for f in canonical_order(specs)] == ["a", "b", "c", "d"]


def test_bloc_names_follow_the_canonical_order_of_the_scenario_factions():
    specs = [FactionSpec(name="d", kind="moderate", strength=2, bloc="south"),
             FactionSpec(name="c", kind="refuses_talks", strength=30),
             FactionSpec(name="a", kind="moderate", strength=10)]
    assert bloc_names(specs) == (DEFAULT_BLOC, "south")
    assert bloc_names(specs[1:2]) == (DEFAULT_BLOC,)


@pytest.mark.parametrize(("terms", "what", "step", "after"), [
    (Terms(), "safe_passage", 0.0, Terms(1, True, 0.0)),
    (Terms(1, True, 0.0), "safe_passage", 0.0, Terms(2, True, 0.0)),  # already granted: a phase
    (Terms(), "phases", 0.25, Terms(2, False, 0.25)),
    (Terms(3, False, 0.9), "phases", 0.25, Terms(4, False, 1.0)),     # guarantees capped at 1
])
def test_a_concession_grants_safe_passage_or_one_more_phase_and_raises_guarantees(terms, what, step, after):
    assert terms.concede(what, step) == after


@pytest.mark.parametrize(("terms", "text"), [
    (Terms(), "heavy weapons at once; no safe passage; guarantees 0.00"),
    (Terms(3, True, 0.5), "heavy weapons in 3 phases; with safe passage; guarantees 0.50"),
])
def test_terms_describe_themselves_in_words(terms, text):
    assert terms.describe() == text


def test_a_round_of_talks_from_ultimatum_to_implemented_deal():
    # times on the caller's clock: integer ticks (here 4 a day), compared exactly
    t = Talks(Terms())
    assert not t.offer_due(0) and not t.deadline_passed(400)  # no talks: nothing due
    t.open(8, 12)
    assert (t.state, t.opened_at, t.deadline_at) == (NegState.TALKS, 8, 20)
    assert t.offer_due(8) and not t.deadline_passed(19) and t.deadline_passed(20)
    t.make_offer(8)
    assert t.state == NegState.OFFER and not t.offer_due(8)  # an offer waits for its answer
    t.answer(False, 8, next_round_after=2)
    assert t.state == NegState.REJECTED and t.next_offer_at == 10
    assert not t.offer_due(9) and t.offer_due(10)
    t.make_offer(10)
    t.answer(True, 10, 2)
    assert t.state == NegState.DEAL and t.deal_at == 10 and t.deal_day == 10
    t.start_handover(12, handover_after=16)
    assert t.state == NegState.HANDOVER and t.handover_end_at == 28
    t.complete(28)
    assert t.state == NegState.IMPLEMENTED
    assert [s for _, s in t.history] == [NegState.TALKS, NegState.OFFER, NegState.REJECTED, NegState.OFFER,
                                         NegState.DEAL, NegState.HANDOVER, NegState.IMPLEMENTED]


def test_a_collapse_escalates_and_a_resumption_sets_new_terms_and_deadline():
    t = Talks(Terms())
    t.open(0, 8)
    t.pain_since_collapse = 7.0
    t.collapse(8)
    assert t.state == NegState.ESCALATION and t.collapses == 1 and t.last_collapse_at == 8
    assert t.pain_since_collapse == 0.0 and not t.offer_due(12)
    t.resume(12, 8, conceded=Terms(2, False, 0.1))
    assert t.state == NegState.RESUMED and t.terms == Terms(2, False, 0.1)
    assert t.deadline_at == 20 and t.offer_due(12)
    t.collapse(20)
    t.resume(24, 4, conceded=None)  # nothing conceded: the terms stay
    assert t.collapses == 2 and t.terms == Terms(2, False, 0.1)
    t.end(26)
    assert t.state == NegState.ENDED and LEGAL[t.state] == frozenset()


@pytest.mark.parametrize("state", list(NegState))
def test_go_allows_exactly_the_legal_transitions(state):
    for new in NegState:
        t = Talks(Terms(), state=state)
        if new in LEGAL[state]:
            t.go(new, 1.0)
            assert t.state == new and t.history == [(1.0, new)]
        else:
            with pytest.raises(IllegalTransition):
                t.go(new, 1.0)
            assert t.state == state and t.history == []


def test_offers_are_due_only_at_the_table():
    for state in NegState:
        t = Talks(Terms(), state=state, next_offer_at=0, deadline_at=0)
        assert t.offer_due(1) is (state in AT_TABLE)
        assert t.deadline_passed(1) is (state in AT_TABLE)
