"""Control of towns and area: legal transitions only, area accounted by sub-district."""

from __future__ import annotations

import csv
import itertools

import numpy as np
import pytest
from hypothesis import given

from sim.rules.negotiation import IllegalTransition
from sim.rules.territory import LEGAL_CONTROL, Control, regime_side
from sim.scenario.loader import resolve_path
from sim.scenario.schema import Scenario
from tests.properties.harness import Snap, case_world, model, run_checked
from tests.strategies import scenarios, seeds


def _reachable() -> set[tuple[int, int]]:
    """Pairs (a, b) with b reachable from a through legal changes (including a == b)."""
    reach = {(int(c), int(c)) for c in Control}
    for _ in Control:
        reach |= {(a, int(n)) for a, b in reach for n in LEGAL_CONTROL[Control(b)]}
    return reach


REACHABLE = _reachable()


@given(scenarios(), seeds())
def test_town_control_changes_only_along_legal_transitions(sc, seed):
    def check(m, before: Snap, after: Snap) -> None:
        for i in np.flatnonzero(before.control != after.control):
            old, new = int(before.control[i]), int(after.control[i])
            assert (old, new) in REACHABLE, (m.world.town_id[i], Control(old), Control(new))
        # regime-side towns never change again; regime-held towns on day 0 never change at all
        assert (after.control[regime_side(before.control)]
                == before.control[regime_side(before.control)]).all()
        assert (after.control[~m.world.rebel0] == Control.REGIME).all()

    run_checked(sc, seed, check)


@pytest.mark.parametrize("old,new", [(a, b) for a, b in itertools.product(Control, Control)
                                     if b not in LEGAL_CONTROL[a]])
def test_set_control_refuses_every_illegal_transition(old, new):
    m = model(Scenario(world={"population_scale": 0.005}), seed=0)
    i = int(np.flatnonzero(m.world.rebel0)[0])
    m.control[i] = old
    with pytest.raises(IllegalTransition):
        m.set_control(i, new, "test", "test", "")
    assert m.control[i] == old


def test_town_areas_sum_to_their_subdistrict_areas():
    w = case_world()
    path = resolve_path(Scenario(), Scenario().world.subdistricts_file)
    with path.open(newline="", encoding="utf-8") as fh:
        sub_area = {r["subdistrict"]: float(r["area_km2"]) for r in csv.DictReader(fh)}
    for sub in set(w.subdistrict):
        towns = [i for i, s in enumerate(w.subdistrict) if s == sub]
        assert w.area_km2[towns].sum() == pytest.approx(sub_area[sub], rel=1e-12)
    assert w.total_area_km2 == pytest.approx(sum(sub_area[s] for s in set(w.subdistrict)))


@given(scenarios(), seeds())
def test_regime_area_equals_sum_of_its_towns_areas(sc, seed):
    def check(m, before: Snap, after: Snap) -> None:
        w, row = m.world, m.rows[-1]
        # held by the regime: taken by force or handed over in a deal (not the model's mask)
        regime_km2 = float(w.area_km2[np.isin(after.control, [Control.REGIME, Control.RECONCILED])].sum())
        assert row["regime_share_area"] * w.total_area_km2 == pytest.approx(regime_km2, rel=1e-9)
        # the area handed over is exactly the area of the towns reconciled by a deal
        reconciled_km2 = float(w.area_km2[after.control == Control.RECONCILED].sum())
        assert row["area_handed_over_km2_cum"] == pytest.approx(reconciled_km2, rel=1e-9, abs=1e-9)

    run_checked(sc, seed, check)


@given(scenarios(), seeds())
def test_regime_share_area_is_within_unit_interval(sc, seed):
    def check(m, before: Snap, after: Snap) -> None:
        share = m.rows[-1]["regime_share_area"]
        assert 0.0 <= share <= 1.0
        assert share >= m.rows[-2]["regime_share_area"]  # towns never return to rebels

    run_checked(sc, seed, check)
