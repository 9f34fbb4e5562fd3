"""The Russian mediator: local reconciliation deals and the comprehensive negotiation."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.rules import negotiation, offers, reconciliation
from sim.rules.acceptance import coalition_accepts
from sim.rules.negotiation import NegState, Terms
from sim.rules.territory import Control

if TYPE_CHECKING:
    from sim.model import NegotiationModel


class Mediator(mesa.Agent):
    """Sets terms and deadlines, brokers town deals, may concede after a collapse."""

    model: NegotiationModel

    def base_terms(self) -> Terms:
        p = self.model.params.mediator
        return Terms(p.phases, p.safe_passage, p.guarantees)

    # --- comprehensive talks --------------------------------------------------------------
    def negotiate(self, day: float) -> None:
        m = self.model
        t = m.talks
        pm = m.params.mediator
        if t.state == NegState.NO_TALKS:
            if negotiation.should_open(m.settled_share(), pm.open_share, pm.enabled) \
                    and day >= pm.offers_from_day and m.rebel_negotiable_towns().size:
                t.open(day, pm.deadline_days)
                m.log("talks_opened", "mediator", "joint_command", "comprehensive talks")
                m.log("ultimatum", "mediator", "joint_command",
                      f"deadline day {t.deadline_day:.2f}; {t.terms.describe()}")
            return
        if t.state in (NegState.TALKS, NegState.REJECTED, NegState.ESCALATION, NegState.RESUMED) \
                and not m.rebel_negotiable_towns().size:
            t.end(day)
            m.log("talks_ended", "mediator", "joint_command",
                  "no town left to negotiate for: all settled locally or taken")
            return
        if t.state == NegState.ESCALATION:
            if negotiation.should_resume(t.pain_since_collapse, m.params.negotiation
                                         .resume_threshold):
                conceded = None
                if m.rng.random() < pm.concede_prob:
                    conceded = t.terms.concede(pm.concession, pm.guarantee_step)
                t.resume(day, pm.deadline_days, conceded)
                m.log("talks_resumed", "joint_command", "mediator",
                      f"after {day - (t.last_collapse_day or day):.2f} days of escalation"
                      + (f"; mediator concedes: {t.terms.describe()}" if conceded else ""))
                m.log("strikes_halted", "regime", "joint_command", "halt while talks resume")
                m.trigger("first_resumption")
            return
        if t.state == NegState.HANDOVER:
            self._hand_over(day)
            return
        if t.state in (NegState.DEAL, *negotiation.FINAL):
            return
        if t.offer_due(day):
            t.make_offer(day)
            m.log("offer_made", "mediator", "joint_command", t.terms.describe())
            accepted = self._joint_command_answers(t.terms, day)
            t.answer(accepted, day, pm.round_hours)
            if accepted:
                m.log("deal_signed", "joint_command", "mediator",
                      f"comprehensive: {t.terms.describe()}")
                m.trigger("deal")
                t.start_handover(day, pm.handover_days)
                self._hand_over(day)
                return
            m.log("offer_rejected", "joint_command", "mediator", t.terms.describe())
        if t.deadline_passed(day):
            t.collapse(day)
            m.log("talks_collapsed", "joint_command", "mediator",
                  f"collapse #{t.collapses}: {t.terms.describe()} rejected")
            m.trigger("first_collapse")

    def _joint_command_answers(self, terms: Terms, day: float) -> bool:
        m = self.model
        facs = [f for f in m.factions if f.negotiates and f.held_share() > 0]
        if not facs:
            return False
        probs = np.array([f.accept_probability(terms, day) for f in facs])
        accepts = m.rng.random(len(facs)) < probs
        weights = np.array([f.spec.strength for f in facs])
        return coalition_accepts(accepts, weights, m.params.negotiation.coalition_threshold)

    def _hand_over(self, day: float) -> None:
        """Hand over the signatories' towns evenly over the handover period."""
        m = self.model
        t = m.talks
        todo = m.rebel_negotiable_towns()
        end = t.handover_end_day if t.handover_end_day is not None else day
        ticks_left = max(1, int(np.ceil((end - day) / m.dt_days - 1e-9)))
        k = int(np.ceil(len(todo) / ticks_left)) if len(todo) else 0
        if k:
            order = todo[np.argsort(m.d_regime[todo], kind="stable")]
            for i in order[:k]:
                self.settle_town(int(i), "comprehensive")
        if not len(m.rebel_negotiable_towns()):
            t.complete(day)
            m.log("deal_implemented", "mediator", "joint_command", "handover complete")

    # --- local deals ----------------------------------------------------------------------
    def make_offers(self, day: float) -> None:
        """Present local terms to the towns the offensive has reached (:mod:`sim.rules.offers`)."""
        m = self.model
        pm = m.params.mediator
        if not (pm.enabled and pm.local_deals) or m.talks.state in negotiation.SETTLED:
            return
        eligible = (m.control == Control.REBEL) & m.negotiable & m.committee
        new = offers.new_offers(day, pm.offers_from_day, eligible, m.offered, m.axis_w,
                                pm.offer_reach)
        for i in np.flatnonzero(new):
            m.offered[i] = True
            m.log("local_offer", "mediator", m.world.town_id[i], "local terms offered")

    def broker_local_deals(self, day: float) -> None:
        m = self.model
        pm = m.params.mediator
        if not (pm.enabled and pm.local_deals) or m.talks.state in negotiation.SETTLED:
            return
        # committees whose talks are done sign their deals
        done = np.flatnonzero((m.control == Control.NEGOTIATING) & (m.local_deal_day <= day + 1e-9))
        for i in done:
            self.settle_town(int(i), "local")
        pr = m.params.reconciliation
        # The border crossing is held by the joint command itself, not by a town committee:
        # it changes hands by force or under the comprehensive deal, never by a local deal.
        rebel = (m.control == Control.REBEL) & m.negotiable & m.committee & m.offered
        if not rebel.any():
            return
        settled = m.settled_mask()
        pressure = reconciliation.reconciliation_pressure(
            m.front_w, m.intensity, reconciliation.neighbour_share(settled, m.neighbours),
            m.settled_share(), m.hardliners, pr.w_front, pr.w_strikes, pr.w_neigh, pr.w_deals,
            pr.w_hard)
        if m.talks.state != NegState.NO_TALKS:
            pressure = pressure - pr.w_bloc  # the joint command negotiates for its towns as a bloc
        prob = reconciliation.open_talks_probability(pressure, m.theta, pr.rate, m.dt_days)
        start = np.flatnonzero(rebel & (m.rng.random(len(prob)) < prob))
        for i in start:
            m.set_control(int(i), Control.NEGOTIATING, "talks_opened", "mediator",
                          "local reconciliation talks")
            m.local_deal_day[i] = day + pm.local_talks_hours / 24.0

    def settle_town(self, i: int, how: str) -> None:
        """A town signs (local or comprehensive deal) and passes to regime control."""
        m = self.model
        t = m.talks
        if m.control[i] == Control.REBEL:
            m.set_control(i, Control.NEGOTIATING, "talks_opened", "mediator",
                          f"{how} handover")
        m.set_control(i, Control.RECONCILED, "town_reconciled", "mediator", how)
        passage = t.terms.safe_passage if how == "comprehensive" else \
            m.params.mediator.safe_passage
        m.log("deal_signed", m.world.town_id[i], "mediator",
              f"{how}; {'safe passage' if passage else 'no safe passage'}")
        if how == "local":
            m.log("local_deal", m.world.town_id[i], "mediator", "town reconciled by a local deal")
        if passage:
            pm = m.params.mediator
            share = pm.evacuation_share_hardline if m.hardliners[i] >= 0.5 else pm.evacuation_share
            n = m.civilians.evacuate(i, share)
            if n:
                m.log("evacuation", m.world.town_id[i], "north", f"{n} persons by bus")
