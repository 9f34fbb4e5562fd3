"""Rule: the comprehensive negotiation between the mediator and each negotiating bloc.

**Blocs.** Factions negotiate in blocs (``FactionSpec.bloc``): the factions of one bloc answer
the mediator's offers together (:func:`sim.rules.acceptance.coalition_accepts`) and sign one
comprehensive deal for all their towns. A faction that names no bloc belongs to the joint
command (``joint_command``), so factions that all leave it empty negotiate together, as Daraa's
joint rebel command did; factions of different blocs (Eastern Ghouta's three groups, each
holding its own pocket) negotiate separately, each with its own talks, deadline, collapses and
deal. Factions of kind ``refuses_talks`` belong to no bloc, and a town where one is present
(the town's holder, or a faction named in the case's ``towns.csv`` column ``also_present``:
Eastern Ghouta's HTS beside Faylaq al-Rahman) is covered by no deal, local or comprehensive: it
stays rebel-held, outside the talks' truce, until it is taken. Each bloc's talks follow the state
machine below; "the joint command" in what follows is any bloc.

A state machine with legal transitions only (any other raises :class:`IllegalTransition`)::

    no_talks -> talks -> offer -> deal -> handover -> implemented
                 |        |  ^
                 |        v  |
                 +-----> rejected -> collapsed -> escalation -> resumed -> offer ...
    (talks | rejected | escalation | resumed) -> ended   (nothing left to negotiate)

* The mediator opens a bloc's talks (an ultimatum with a deadline ``mediator.deadline_days``)
  once the share of negotiable towns already settled reaches ``mediator.open_share``, counted
  over the bloc's own towns or over the whole area, whichever is larger (a bloc holding a single
  town would otherwise be offered talks only once it had fallen).
* Every ``mediator.round_hours`` it makes an offer with the current terms (phases, safe passage,
  guarantees); the joint command answers by the bargaining rule (:mod:`sim.rules.acceptance`).
* A rejection past the deadline is a collapse; the regime escalates (:mod:`sim.rules.escalation`).
* The joint command returns when the pain it suffered since the collapse passes
  ``negotiation.resume_threshold``; the mediator may then concede one step
  (``mediator.concede_prob``, ``mediator.concession``, ``mediator.guarantee_step``) and sets
  a new deadline.
* A signed deal is handed over during ``mediator.handover_days`` and is never re-opened.
* If the joint command's last town settles by a local deal or falls before any comprehensive
  deal, the talks have nothing left to decide: they end (``ended``, final).

Calibrated by the article: talks collapse on Wednesday (July 4, day 15) over the one-go
demand (lines 4, 11-12); rebels return 24 hours into the blitz (line 6); strikes halt (line 10).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

#: The bloc of factions that name none: they negotiate together, as one joint command.
DEFAULT_BLOC = "joint_command"


class NegState(StrEnum):
    NO_TALKS = "no_talks"
    TALKS = "talks"
    OFFER = "offer"
    REJECTED = "rejected"
    COLLAPSED = "collapsed"
    ESCALATION = "escalation"
    RESUMED = "resumed"
    DEAL = "deal"
    HANDOVER = "handover"
    IMPLEMENTED = "implemented"
    ENDED = "ended"


LEGAL: dict[NegState, frozenset[NegState]] = {
    NegState.NO_TALKS: frozenset({NegState.TALKS}),
    NegState.TALKS: frozenset({NegState.OFFER, NegState.COLLAPSED, NegState.ENDED}),
    NegState.OFFER: frozenset({NegState.DEAL, NegState.REJECTED}),
    NegState.REJECTED: frozenset({NegState.OFFER, NegState.COLLAPSED, NegState.ENDED}),
    NegState.COLLAPSED: frozenset({NegState.ESCALATION}),
    NegState.ESCALATION: frozenset({NegState.RESUMED, NegState.ENDED}),
    NegState.RESUMED: frozenset({NegState.OFFER, NegState.COLLAPSED, NegState.ENDED}),
    NegState.DEAL: frozenset({NegState.HANDOVER}),
    NegState.HANDOVER: frozenset({NegState.IMPLEMENTED}),
    NegState.IMPLEMENTED: frozenset(),
    NegState.ENDED: frozenset(),
}

#: States in which the parties are at the table (offers can be made).
AT_TABLE = frozenset({NegState.TALKS, NegState.REJECTED, NegState.RESUMED})
#: States after a deal: nothing can re-open it.
SETTLED = frozenset({NegState.DEAL, NegState.HANDOVER, NegState.IMPLEMENTED})
#: Final states: a deal implemented, or talks ended because the joint command holds no town.
FINAL = frozenset({NegState.IMPLEMENTED, NegState.ENDED})


class IllegalTransition(RuntimeError):
    """A transition the protocol does not allow."""


@dataclass(frozen=True)
class Terms:
    """The mediator's terms: heavy weapons in ``phases`` (1 = at once), safe passage, guarantees."""

    phases: int = 1
    safe_passage: bool = False
    guarantees: float = 0.0

    def describe(self) -> str:
        handover = "at once" if self.phases == 1 else f"in {self.phases} phases"
        passage = "with safe passage" if self.safe_passage else "no safe passage"
        return f"heavy weapons {handover}; {passage}; guarantees {self.guarantees:.2f}"

    def concede(self, what: str, guarantee_step: float = 0.0) -> Terms:
        """One step of concession: safe passage (if not yet granted) or one more phase.

        Each concession also raises the guarantees by ``guarantee_step`` (capped at 1): in the
        case, the final deal came with Russian military police deployed in the handed-over areas.
        """
        g = min(1.0, self.guarantees + guarantee_step)
        if what == "safe_passage" and not self.safe_passage:
            return Terms(self.phases, True, g)
        return Terms(self.phases + 1, self.safe_passage, g)


@dataclass
class Talks:
    """State of the comprehensive negotiation (mutated only through :meth:`go`).

    Times are on the caller's clock, compared exactly: the model counts integer ticks
    (:mod:`sim.rules.clock`) and passes its spans (deadline, the time between rounds, the
    handover) already converted to ticks.
    """

    terms: Terms
    state: NegState = NegState.NO_TALKS
    opened_at: float | None = None
    deadline_at: float | None = None
    next_offer_at: float | None = None
    collapses: int = 0
    last_collapse_at: float | None = None
    pain_since_collapse: float = 0.0
    deal_at: float | None = None
    handover_end_at: float | None = None
    history: list[tuple[float, NegState]] = field(default_factory=list)

    @property
    def deal_day(self) -> float | None:
        """When the deal was signed, on the caller's clock (as :attr:`deal_at`)."""
        return self.deal_at

    def go(self, new: NegState, now: float) -> None:
        """Move to ``new``; raise IllegalTransition if the protocol forbids it."""
        if new not in LEGAL[self.state]:
            raise IllegalTransition(f"{self.state} -> {new} is not a legal transition")
        self.state = new
        self.history.append((now, new))

    # --- the protocol's moves -------------------------------------------------------------
    def open(self, now: float, deadline_after: float) -> None:
        self.go(NegState.TALKS, now)
        self.opened_at = now
        self.deadline_at = now + deadline_after
        self.next_offer_at = now

    def offer_due(self, now: float) -> bool:
        return (self.state in AT_TABLE and self.next_offer_at is not None
                and now >= self.next_offer_at)

    def deadline_passed(self, now: float) -> bool:
        return (self.state in (NegState.TALKS, NegState.REJECTED, NegState.RESUMED)
                and self.deadline_at is not None and now >= self.deadline_at)

    def make_offer(self, now: float) -> None:
        self.go(NegState.OFFER, now)

    def answer(self, accepted: bool, now: float, next_round_after: float) -> None:
        if accepted:
            self.go(NegState.DEAL, now)
            self.deal_at = now
        else:
            self.go(NegState.REJECTED, now)
            self.next_offer_at = now + next_round_after

    def collapse(self, now: float) -> None:
        self.go(NegState.COLLAPSED, now)
        self.collapses += 1
        self.last_collapse_at = now
        self.pain_since_collapse = 0.0
        self.go(NegState.ESCALATION, now)

    def resume(self, now: float, deadline_after: float, conceded: Terms | None) -> None:
        self.go(NegState.RESUMED, now)
        if conceded is not None:
            self.terms = conceded
        self.deadline_at = now + deadline_after
        self.next_offer_at = now

    def start_handover(self, now: float, handover_after: float) -> None:
        self.go(NegState.HANDOVER, now)
        self.handover_end_at = now + handover_after

    def complete(self, now: float) -> None:
        self.go(NegState.IMPLEMENTED, now)

    def end(self, now: float) -> None:
        """The joint command holds nothing more: talks end without a comprehensive deal."""
        self.go(NegState.ENDED, now)


def merge_terms(base: Terms, current: Terms) -> Terms:
    """The terms on the table once an intervention changes the mediator's base terms: the
    better of the two for the rebels on each point (more phases, safe passage if either grants
    it, the higher guarantees), so an intervention never takes back a concession already won."""
    return Terms(max(base.phases, current.phases), base.safe_passage or current.safe_passage,
                 max(base.guarantees, current.guarantees))


def should_open(settled_share: float, open_share: float, enabled: bool) -> bool:
    """The mediator opens comprehensive talks once enough towns have settled."""
    return enabled and settled_share >= open_share


def should_resume(pain_since_collapse: float, resume_threshold: float) -> bool:
    """The joint command returns to the table when the blitz has hurt enough (Schelling)."""
    return pain_since_collapse >= resume_threshold


class _Ranked(Protocol):
    strength: float
    name: str


def canonical_order[F: _Ranked](factions: Sequence[F]) -> list[F]:
    """Factions strongest first, then by name: outputs must not depend on the order a scenario
    lists them in (random draws are made in this order, and blocs follow it)."""
    return sorted(factions, key=lambda f: (-f.strength, f.name))


def bloc_names(factions: Sequence[Any]) -> tuple[str, ...]:
    """The negotiating blocs' names of a scenario's factions, in the model's order."""
    return tuple(name for name, _ in blocs_of(canonical_order(factions)))


def blocs_of(specs: Sequence[Any]) -> list[tuple[str, list[int]]]:
    """The negotiating blocs of factions (in the given order): (name, faction indices), blocs
    in the order of their first faction; factions that refuse talks belong to none. Always at
    least one bloc (empty when no faction negotiates)."""
    out: dict[str, list[int]] = {}
    for k, f in enumerate(specs):
        if f.kind == "refuses_talks":
            continue
        out.setdefault(f.bloc or DEFAULT_BLOC, []).append(k)
    return list(out.items()) or [(DEFAULT_BLOC, [])]
