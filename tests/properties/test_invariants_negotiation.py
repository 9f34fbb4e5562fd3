"""The negotiation protocol: only legal transitions, deals never re-opened, refusers never sign."""

from __future__ import annotations

from hypothesis import given, note
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from sim.rules.negotiation import FINAL, LEGAL, SETTLED, IllegalTransition, NegState, Talks, Terms
from sim.rules.territory import Control
from sim.scenario.schema import Scenario
from tests.properties.harness import Snap, run_checked
from tests.strategies import scenario_dicts, seeds

#: The protocol's moves and the first transition each one attempts.
MOVES = {
    "open": NegState.TALKS,
    "offer": NegState.OFFER,
    "accept": NegState.DEAL,
    "reject": NegState.REJECTED,
    "collapse": NegState.COLLAPSED,
    "resume": NegState.RESUMED,
    "handover": NegState.HANDOVER,
    "complete": NegState.IMPLEMENTED,
    "end": NegState.ENDED,
}


def _is_path(history: list[tuple[float, NegState]] | tuple[tuple[float, NegState], ...]) -> bool:
    state = NegState.NO_TALKS
    for _, new in history:
        if new not in LEGAL[state]:
            return False
        state = new
    return True


class NegotiationProtocol(RuleBasedStateMachine):
    """Drive :class:`Talks` with offers, answers, deadlines, escalations and concessions in any order.

    Every move is attempted whatever the state: a legal one must succeed, an illegal one must
    raise :class:`IllegalTransition` and leave the talks exactly as they were.
    """

    def __init__(self) -> None:
        super().__init__()
        self.talks = Talks(terms=Terms(1, False, 0.2))
        self.day = 0.0
        self.settled = False
        self.prev_terms = self.talks.terms

    @rule(dt=st.floats(0.0, 5.0))
    def time_passes(self, dt: float) -> None:
        self.day += dt

    @rule(move=st.sampled_from(sorted(MOVES)), deadline=st.floats(0.25, 60.0),
          round_hours=st.floats(1.0, 240.0), concede=st.sampled_from([None, "safe_passage", "phases"]),
          step=st.floats(0.0, 1.0))
    def attempt(self, move: str, deadline: float, round_hours: float, concede: str | None,
                step: float) -> None:
        t = self.talks
        legal = MOVES[move] in LEGAL[t.state]
        before = (t.state, len(t.history), t.collapses, t.terms, t.deal_day)
        note(f"{t.state} --{move}--> legal={legal}")
        try:
            if move == "open":
                t.open(self.day, deadline)
            elif move == "offer":
                t.make_offer(self.day)
            elif move in ("accept", "reject"):
                t.answer(move == "accept", self.day, round_hours)
            elif move == "collapse":
                t.collapse(self.day)
            elif move == "resume":
                t.resume(self.day, deadline, t.terms.concede(concede, step) if concede else None)
            elif move == "handover":
                t.start_handover(self.day, deadline)
            elif move == "complete":
                t.complete(self.day)
            else:
                t.end(self.day)
        except IllegalTransition:
            assert not legal, f"{before[0]} --{move}--> was legal but refused"
            assert (t.state, len(t.history), t.collapses, t.terms, t.deal_day) == before
            return
        assert legal, f"{before[0]} --{move}--> is illegal but happened"

    @precondition(lambda self: self.talks.deadline_passed(self.day))
    @rule()
    def deadline_passes(self) -> None:
        """What the mediator does at a deadline: the talks collapse into escalation."""
        n = self.talks.collapses
        self.talks.collapse(self.day)
        assert self.talks.state == NegState.ESCALATION and self.talks.collapses == n + 1

    @precondition(lambda self: self.talks.offer_due(self.day))
    @rule(accepted=st.booleans(), round_hours=st.floats(1.0, 240.0))
    def offer_due_is_made_and_answered(self, accepted: bool, round_hours: float) -> None:
        self.talks.make_offer(self.day)
        self.talks.answer(accepted, self.day, round_hours)
        assert self.talks.state == (NegState.DEAL if accepted else NegState.REJECTED)

    @invariant()
    def history_is_a_legal_path(self) -> None:
        assert _is_path(self.talks.history)
        assert self.talks.state == (self.talks.history[-1][1] if self.talks.history
                                    else NegState.NO_TALKS)

    @invariant()
    def deal_is_never_reopened(self) -> None:
        if self.settled:
            assert self.talks.state in SETTLED
        self.settled = self.talks.state in SETTLED
        states = [s for _, s in self.talks.history]
        if NegState.DEAL in states:
            after = states[states.index(NegState.DEAL):]
            assert set(after) <= SETTLED
            assert self.talks.deal_day is not None

    @invariant()
    def final_states_are_final(self) -> None:
        states = [s for _, s in self.talks.history]
        for k, s in enumerate(states):
            if s in FINAL:
                assert k == len(states) - 1, states[k:]

    @invariant()
    def collapses_are_counted(self) -> None:
        assert self.talks.collapses == sum(s == NegState.COLLAPSED for _, s in self.talks.history)

    @invariant()
    def concessions_never_take_terms_back(self) -> None:
        t, p = self.talks.terms, self.prev_terms
        assert t.phases >= p.phases and (t.safe_passage or not p.safe_passage)
        assert p.guarantees <= t.guarantees <= 1.0
        self.prev_terms = t

    @invariant()
    def history_days_never_go_back(self) -> None:
        days = [d for d, _ in self.talks.history]
        assert days == sorted(days)


TestNegotiationProtocolAsStateMachine = NegotiationProtocol.TestCase


@given(scenario_dicts(), seeds())
def test_model_talks_follow_legal_transitions_only(data, seed):
    sc = Scenario.model_validate(data)

    def check(m, before: Snap, after: Snap) -> None:
        assert _is_path(after.history)
        assert after.history[:len(before.history)] == before.history

    run_checked(sc, seed, check)


@given(scenario_dicts(), seeds())
def test_model_deal_once_signed_is_never_reopened(data, seed):
    sc = Scenario.model_validate(data)
    reopening = {"offer_made", "offer_rejected", "talks_collapsed", "talks_resumed", "ultimatum"}

    def check(m, before: Snap, after: Snap) -> None:
        if before.state in FINAL:
            assert after.state == before.state and after.history == before.history
        if before.state in SETTLED:
            assert after.state in SETTLED
            kinds = {e[1] for e in m.events[before.n_events:]}
            assert not kinds & reopening, kinds & reopening
            assert after.history[len(before.history):] == tuple(
                h for h in after.history[len(before.history):] if h[1] in SETTLED)

    run_checked(sc, seed, check)


@given(scenario_dicts(), seeds(), st.data())
def test_faction_refusing_all_talks_never_signs(data, seed, draw):
    refusers = draw.draw(st.lists(st.sampled_from([f["name"] for f in data["factions"]]),
                                  min_size=1, unique=True), label="refusers")
    for f in data["factions"]:
        if f["name"] in refusers:
            f["kind"] = "refuses_talks"
    # a handover imposed by the scenario is not a signature: leave those out here
    data["interventions"] = [iv for iv in data["interventions"] if iv.get("action") != "handover"]
    sc = Scenario.model_validate(data)
    everyone_refuses = len(refusers) == len(data["factions"])

    def check(m, before: Snap, after: Snap) -> None:
        mine = [i for i, f in enumerate(m.world.faction) if f in refusers and m.world.rebel0[i]]
        # their towns never open local talks, never reconcile; they can only be taken by force
        assert not (after.control[mine] == Control.NEGOTIATING).any()
        assert not (after.control[mine] == Control.RECONCILED).any()
        for f in m.factions:
            if f.spec.name in refusers:
                assert f.accept_probability(m.talks.terms, m.day) == 0.0
        if everyone_refuses:
            assert after.state == NegState.NO_TALKS
            new = m.events[before.n_events:]
            assert not [e for e in new if e[1] in ("deal_signed", "town_reconciled")]

    run_checked(sc, seed, check)
