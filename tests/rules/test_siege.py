"""sim/rules/siege.py: the daily pause, where a household with nowhere to go ends up, and the
destination table (distance, availability, threat, utility constant and location code)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from sim.agents.civilians import Locations
from sim.rules.siege import FAR_KM, destinations, fallback_location, pause_factor
from sim.world.case import Zone

T = 3


@pytest.mark.parametrize(("hours", "factor"), [(0.0, 1.0), (5.0, 19 / 24), (12.0, 0.5), (24.0, 0.0)])
def test_the_daily_pause_removes_its_hours_from_the_strike_capacity(hours, factor):
    assert pause_factor(hours) == pytest.approx(factor)


def test_a_longer_pause_always_leaves_less_strike_capacity():
    f = [pause_factor(h) for h in np.linspace(0.0, 24.0, 25)]
    assert all(a > b for a, b in zip(f, f[1:], strict=False))


def zone(zid: str, kind: str, reach: str | None) -> Zone:
    return Zone(zid, zid, kind, 0.0, 0.0, reach, "", f"at_{zid}",
                f"crossed_{zid}" if kind in ("border", "frontier") else None, None)


class World:
    """The little of a case world the siege rule reads: its towns and zones."""

    def __init__(self, zones: list[Zone]) -> None:
        self.n_towns = T
        self.zones = tuple(zones)

    def zones_of(self, kind: str) -> tuple[Zone, ...]:
        return tuple(z for z in self.zones if z.kind == kind)


def locations(zones: list[Zone]) -> Locations:
    dest = [z for z in zones if z.kind in ("border", "frontier", "fields", "government")]
    closable = [z for z in dest if z.kind in ("border", "frontier")]
    exit0 = T + len(dest)
    return Locations(T, {z.id: T + k for k, z in enumerate(dest)}, exit0,
                     {z.id: exit0 + 1 + j for j, z in enumerate(closable)})


@pytest.mark.parametrize(("zones", "expected"), [
    ([zone("jordan", "border", "point"), zone("groves", "fields", "near")], [T + 1] * T),  # the fields
    ([zone("a", "fields", "near"), zone("b", "fields", "near")], [T] * T),                  # the first fields
    ([zone("groves", "fields", "near"), zone("home", "shelter", None)], [0, 1, 2]),          # shelter in place
    ([zone("wafideen", "government", "point")], [0, 1, 2]),                                  # no fields: stay
])
def test_a_household_with_nowhere_to_go_goes_to_the_fields_unless_the_case_shelters_in_place(zones, expected):
    got = fallback_location(World(zones), locations(zones))
    assert got.tolist() == expected and got.dtype == np.int32


FP = SimpleNamespace(fields_km=3.0, asc_border=1.0, asc_frontier=2.0, asc_fields=3.0, asc_government=4.0,
                     asc_town=5.0)
ZONES = [zone("jordan", "border", "point"), zone("groves", "fields", "near"),
         zone("golan", "frontier", "line"), zone("regime", "government", "front")]
LOC = locations(ZONES)


def table(corridors_open: bool, host=(1, -1, 0), d_regime=(4.0, math.inf, 6.0)):
    threat = np.array([1.0, 2.0, 3.0])
    return destinations(tuple(ZONES), LOC, {"jordan": np.array([10.0, 20.0, 30.0]),
                                            "golan": np.array([7.0, 8.0, 9.0])},
                        np.array(d_regime), np.array(host), np.array([5.0, math.inf, 5.0]), threat,
                        np.array([0.5, 0.25]), np.array([0, 1, 2], dtype=np.int32), FP, corridors_open)


def test_the_destination_table_has_one_column_per_zone_and_one_for_a_quieter_town():
    dist, available, threat, asc, loc = table(True)
    assert dist.shape == available.shape == threat.shape == loc.shape == (T, len(ZONES) + 1)
    assert asc.tolist() == [1.0, 3.0, 2.0, 4.0, 5.0]
    assert available.dtype == bool and loc.dtype == np.int32


def test_distances_by_reach_point_and_line_from_the_zone_near_at_fields_km_front_to_the_regime():
    dist = table(True)[0]
    np.testing.assert_array_equal(dist[:, 0], [10.0, 20.0, 30.0])     # point: the zone's distance
    np.testing.assert_array_equal(dist[:, 1], [3.0, 3.0, 3.0])        # near: flight.fields_km
    np.testing.assert_array_equal(dist[:, 2], [7.0, 8.0, 9.0])        # line: the border's
    np.testing.assert_array_equal(dist[:, 3], [4.0, FAR_KM, 6.0])     # front; none in reach: far
    np.testing.assert_array_equal(dist[:, 4], [5.0, FAR_KM, 5.0])     # the host town; none: far


@pytest.mark.parametrize("corridors_open", [False, True])
def test_government_areas_are_available_only_while_corridors_are_open_and_a_town_only_with_a_host(
        corridors_open):
    available = table(corridors_open)[1]
    assert available[:, [0, 1, 2]].all()
    assert (available[:, 3] == corridors_open).all()
    assert available[:, 4].tolist() == [True, False, True]


def test_threat_at_a_border_is_its_points_at_the_fields_homes_none_in_government_areas_and_the_hosts():
    threat = table(True)[2]
    np.testing.assert_array_equal(threat[:, 0], [0.5] * T)        # first closable zone's point
    np.testing.assert_array_equal(threat[:, 2], [0.25] * T)       # second closable zone's point
    np.testing.assert_array_equal(threat[:, 1], [1.0, 2.0, 3.0])  # fields: the threat at home
    np.testing.assert_array_equal(threat[:, 3], [0.0] * T)        # nobody strikes government areas
    np.testing.assert_array_equal(threat[:, 4], [2.0, 1.0, 1.0])  # at the host (town 0 if none)


def test_location_codes_are_the_zones_and_the_host_or_the_fallback():
    loc = table(True, host=(2, -1, 0))[4]
    for k, z in enumerate(ZONES):
        assert (loc[:, k] == LOC.zone[z.id]).all()
    assert loc[:, 4].tolist() == [2, 1, 0]  # town 1 has no host: its fallback (itself here)
