"""The Russian mediator: local reconciliation deals and the comprehensive negotiation."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.rules import evacuation, negotiation, offers, reconciliation
from sim.rules.acceptance import coalition_accepts
from sim.rules.negotiation import NegState, Terms
from sim.rules.territory import Control

if TYPE_CHECKING:
    from sim.model import NegotiationModel


class Mediator(mesa.Agent):
    """Sets terms and deadlines, brokers town deals, may concede after a collapse."""

    model: NegotiationModel

    def __init__(self, model: NegotiationModel) -> None:
        super().__init__(model)
        #: offers the officers may still present (sim/rules/offers.py, offer_budget)
        self.offer_budget = 0.0

    def base_terms(self) -> Terms:
        p = self.model.params.mediator
        return Terms(p.phases, p.safe_passage, p.guarantees)

    # --- comprehensive talks (one per negotiating bloc) ------------------------------------
    def negotiate(self, day: float) -> None:
        for b in range(len(self.model.talks_by_bloc)):
            self._negotiate_bloc(b, day)

    def _negotiate_bloc(self, b: int, day: float) -> None:
        m = self.model
        t = m.talks_by_bloc[b]
        name = m.bloc_names[b]
        pm = m.params.mediator
        if t.state == NegState.NO_TALKS:
            share = max(m.bloc_settled_share(b), m.settled_share())  # its towns', or the area's
            if negotiation.should_open(share, pm.open_share, pm.enabled) \
                    and m.tick >= m.due(pm.offers_from_day) and m.rebel_negotiable_towns(b).size:
                t.open(m.tick, m.ticks(pm.deadline_days))
                m.log("talks_opened", "mediator", name, "comprehensive talks")
                # the nominal deadline (the talks collapse at the first tick starting after it)
                m.log("ultimatum", "mediator", name,
                      f"deadline day {day + pm.deadline_days:.2f}; {t.terms.describe()}")
            return
        if t.state in (NegState.TALKS, NegState.REJECTED, NegState.ESCALATION, NegState.RESUMED) \
                and not m.rebel_negotiable_towns(b).size:
            t.end(m.tick)
            m.log("talks_ended", "mediator", name,
                  "no town left to negotiate for: all settled locally or taken")
            return
        if t.state == NegState.ESCALATION:
            if negotiation.should_resume(t.pain_since_collapse, m.params.negotiation
                                         .resume_threshold):
                conceded = None
                if m.rng.random() < pm.concede_prob:
                    conceded = t.terms.concede(pm.concession, pm.guarantee_step)
                since = m.tick - t.last_collapse_at if t.last_collapse_at else 0
                t.resume(m.tick, m.ticks(pm.deadline_days), conceded)
                m.log("talks_resumed", name, "mediator",
                      f"after {since * m.dt_days:.2f} days of escalation"
                      + (f"; mediator concedes: {t.terms.describe()}" if conceded else ""))
                m.log("strikes_halted", "regime", name, "halt while talks resume")
                m.trigger("first_resumption")
            return
        if t.state == NegState.HANDOVER:
            self._hand_over(b, day)
            return
        if t.state in (NegState.DEAL, *negotiation.FINAL):
            return
        if t.offer_due(m.tick):
            t.make_offer(m.tick)
            m.log("offer_made", "mediator", name, t.terms.describe())
            accepted = self._bloc_answers(b, t.terms, day)
            t.answer(accepted, m.tick, m.ticks_h(pm.round_hours))
            if accepted:
                m.log("deal_signed", name, "mediator", f"comprehensive: {t.terms.describe()}",
                      float(len(m.rebel_negotiable_towns(b))))
                m.trigger("deal")
                t.start_handover(m.tick, m.ticks(pm.handover_days))
                self._hand_over(b, day)
                return
            m.log("offer_rejected", name, "mediator", t.terms.describe())
        if t.deadline_passed(m.tick):
            t.collapse(m.tick)
            m.log("talks_collapsed", name, "mediator",
                  f"collapse #{t.collapses}: {t.terms.describe()} rejected", float(t.collapses))
            m.trigger("first_collapse")

    def _bloc_answers(self, b: int, terms: Terms, day: float) -> bool:
        """The bloc's factions that still hold ground answer; the bloc signs by coalition."""
        m = self.model
        facs = [f for f in m.bloc_factions[b] if f.negotiates and f.held_share() > 0]
        if not facs:
            return False
        probs = np.array([f.accept_probability(terms, day) for f in facs])
        accepts = m.rng.random(len(facs)) < probs
        weights = np.array([f.spec.strength for f in facs])
        return coalition_accepts(accepts, weights, m.params.negotiation.coalition_threshold)

    def _hand_over(self, b: int, day: float) -> None:
        """Hand over the bloc's towns evenly over the handover period."""
        m = self.model
        t = m.talks_by_bloc[b]
        todo = m.rebel_negotiable_towns(b)
        end = t.handover_end_at if t.handover_end_at is not None else m.tick
        ticks_left = max(1, int(end - m.tick))
        k = int(np.ceil(len(todo) / ticks_left)) if len(todo) else 0
        if k:
            order = todo[np.argsort(m.state.d_regime[todo], kind="stable")]
            for i in order[:k]:
                self.settle_town(int(i), "comprehensive")
        if not len(m.rebel_negotiable_towns(b)):
            t.complete(m.tick)
            m.log("deal_implemented", "mediator", m.bloc_names[b], "handover complete")

    # --- local deals ----------------------------------------------------------------------
    def make_offers(self) -> np.ndarray:
        """The towns the offensive has reached that receive local terms now (a mask; the model
        records them, :mod:`sim.rules.offers`)."""
        m = self.model
        st, tr = m.state, m.traits
        pm = m.params.mediator
        if not (pm.enabled and pm.local_deals) or self.all_settled():
            return np.zeros(m.world.n_towns, dtype=bool)
        eligible = (st.control == Control.REBEL) & tr.negotiable & tr.committee & self._open_blocs()
        start = m.due(pm.offers_from_day)
        new = offers.new_offers(m.tick, start, eligible, st.offered, st.axis_w, pm.offer_reach)
        if m.tick >= start:
            self.offer_budget = offers.offer_budget(self.offer_budget, pm.offers_per_day, m.dt_days)
        new = offers.ration_offers(new, st.axis_w, self.offer_budget)
        self.offer_budget -= int(new.sum())
        return new

    def broker_local_deals(self) -> None:
        """Committees whose local talks are done sign their deals; committees under enough
        pressure open local talks (:mod:`sim.rules.reconciliation`; the model opens them)."""
        m = self.model
        st, tr = m.state, m.traits
        pm = m.params.mediator
        if not (pm.enabled and pm.local_deals) or self.all_settled():
            return
        open_blocs = self._open_blocs()
        # committees whose talks are done sign their deals (not those under a bloc's deal)
        done = np.flatnonzero((st.control == Control.NEGOTIATING) & (st.local_deal_tick <= m.tick)
                              & open_blocs)
        for i in done:
            self.settle_town(int(i), "local")
        pr = m.params.reconciliation
        # The border crossing is held by the joint command itself, not by a town committee:
        # it changes hands by force or under the comprehensive deal, never by a local deal.
        rebel = ((st.control == Control.REBEL) & tr.negotiable & tr.committee & st.offered
                 & open_blocs)
        if not rebel.any():
            return
        settled = m.settled_mask()
        pressure = reconciliation.reconciliation_pressure(
            st.front_w, st.intensity, reconciliation.neighbour_share(settled, tr.neighbours),
            m.settled_share(), tr.hardliners, pr.w_front, pr.w_strikes, pr.w_neigh, pr.w_deals,
            pr.w_hard)
        # a bloc in comprehensive talks negotiates for its towns: they hold together
        in_talks = np.array([s != NegState.NO_TALKS for s in m.bloc_states()] + [False])
        if in_talks.any():
            pressure = pressure - pr.w_bloc * in_talks[tr.bloc]
        prob = reconciliation.open_talks_probability(pressure, tr.theta, pr.rate, m.dt_days)
        for i in np.flatnonzero(rebel & (m.rng.random(len(prob)) < prob)):
            m.open_local_talks(int(i))

    def all_settled(self) -> bool:
        """Every bloc has signed its comprehensive deal (no local deal is left to broker)."""
        return all(st in negotiation.SETTLED for st in self.model.bloc_states())

    def _open_blocs(self) -> np.ndarray:
        """Towns whose bloc has not signed a comprehensive deal (and towns of no bloc)."""
        m = self.model
        settled = np.array([st in negotiation.SETTLED for st in m.bloc_states()] + [False])
        return ~settled[m.traits.bloc]

    def settle_town(self, i: int, how: str) -> None:
        """A town signs (local or comprehensive deal) and passes to regime control."""
        m = self.model
        b = int(m.traits.bloc[i])
        t = m.talks_by_bloc[b] if b >= 0 else m.talks
        if m.state.control[i] == Control.REBEL:
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
            share = evacuation.evacuation_share(m.traits.hardliners[i],
                                                pm.evacuation_share_hardline,
                                                pm.evacuation_share, pm.hardline_majority)
            if share > 0:
                m.buses.queue(i, share * m.civilians.present_in(i))
                self.run_buses()

    def run_buses(self) -> None:
        """The buses of safe passage carry out those waiting, up to the tick's capacity
        (:mod:`sim.rules.evacuation`)."""
        m = self.model
        for i, persons in m.buses.board():
            n = m.civilians.evacuate(i, persons)
            m.buses.carried(i, n)
            if n:
                m.log("evacuation", m.world.town_id[i], "north", f"{n} persons by bus", float(n))
