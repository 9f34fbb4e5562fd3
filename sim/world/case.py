"""Case data: load the small committed tables once, validate them, derive distance tables.

Inputs (paths from the scenario's ``[world]`` group, relative to the scenario file):

* ``towns.csv``: one row per locality (GeoNames, CC BY 4.0, plus hand-entered places): id,
  name, lat/lon, sub-district, population (persons; the rebel-held towns sum to the UN's
  750,000), controller on day 0, faction present, strategic role.
* ``subdistricts.csv``: sub-district areas in km2 (geoBoundaries / UN OCHA, CC BY 3.0 IGO).
  A town's area is an equal share of its sub-district's area among the towns in it; the case
  area is the sum of the sub-districts that hold towns.
* ``zones.csv``: representative points of the destination zones (Jordanian border, Golan
  frontier, regime area).

Everything here is read-only after loading: distances are computed once per case (haversine),
so per-tick work never touches geometry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sim.errors import ScenarioError
from sim.world.schema import BorderRow, SubdistrictRow, TownRow, ZoneRow, check_total_population, read_table

TOWN_COLUMNS = ("town_id", "name", "lat", "lon", "governorate", "subdistrict", "population",
                "controller", "faction", "strategic")
CONTROLLERS0 = ("rebel", "regime")
STRATEGIC = ("none", "border_crossing", "provincial_capital", "border_post")
ZONE_NAMES = ("jordan_border", "golan_frontier", "fields", "regime_area")
EARTH_RADIUS_KM = 6371.0088


def haversine_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray,
                 lon2: np.ndarray) -> np.ndarray:
    """Great-circle distance in km between points (broadcasting over arrays)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(lon2) - np.radians(lon1)
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


@dataclass(frozen=True)
class World:
    """Read-only tables of one case. Arrays are indexed by town (0..n_towns-1)."""

    town_id: tuple[str, ...]
    name: tuple[str, ...]
    lat: np.ndarray
    lon: np.ndarray
    governorate: tuple[str, ...]
    subdistrict: tuple[str, ...]
    population: np.ndarray          # persons (int64), from the data file (before scaling)
    rebel0: np.ndarray              # bool: rebel-held on day 0
    faction: tuple[str, ...]        # faction id or "regime"
    strategic: tuple[str, ...]
    area_km2: np.ndarray            # the town's share of its sub-district's area
    localities: np.ndarray          # census localities the town stands for (int64)
    dist_km: np.ndarray             # town x town great-circle distances
    border_km: dict[str, np.ndarray] = field(default_factory=dict)  # town -> border line
    zone_lat: dict[str, float] = field(default_factory=dict)
    zone_lon: dict[str, float] = field(default_factory=dict)
    source_files: tuple[str, ...] = ()

    @property
    def n_towns(self) -> int:
        return len(self.town_id)

    @property
    def total_area_km2(self) -> float:
        return float(self.area_km2.sum())

    def index(self, town: str) -> int:
        """Index of a town by id or name (case-insensitive); ValueError if unknown."""
        key = town.strip().lower()
        for i, (tid, nm) in enumerate(zip(self.town_id, self.name, strict=True)):
            if tid.lower() == key or nm.lower() == key:
                return i
        raise ValueError(f"unknown town '{town}'")

    def zone_point_distance_km(self, zone: str) -> np.ndarray:
        """Distance from every town to a zone's representative point (where people gather)."""
        return haversine_km(self.lat, self.lon, np.float64(self.zone_lat[zone]),
                            np.float64(self.zone_lon[zone]))

    def zone_distance_km(self, zone: str) -> np.ndarray:
        """Distance from every town to a zone: its border line if known, else its point."""
        line = {"jordan_border": "jordan", "golan_frontier": "golan"}.get(zone)
        if line in self.border_km:
            return self.border_km[line]
        return haversine_km(self.lat, self.lon, np.float64(self.zone_lat[zone]),
                            np.float64(self.zone_lon[zone]))


def _border_distances(path: Path, lat: np.ndarray, lon: np.ndarray) -> dict[str, np.ndarray]:
    """Distance (km) from each town to each border polyline (densified every ~0.5 km)."""
    lines: dict[str, list[tuple[float, float, float]]] = {}
    for b in read_table(path, BorderRow, "borders"):
        assert isinstance(b, BorderRow)
        lines.setdefault(b.border, []).append((b.seq, b.lat, b.lon))
    out: dict[str, np.ndarray] = {}
    for name, pts in lines.items():
        pts.sort()
        la = np.array([p[1] for p in pts])
        lo = np.array([p[2] for p in pts])
        dense_la, dense_lo = [la[:1]], [lo[:1]]
        for k in range(1, len(la)):
            seg = float(haversine_km(la[k - 1], lo[k - 1], la[k], lo[k]))
            n = max(1, int(seg / 0.5))
            f = np.arange(1, n + 1) / n
            dense_la.append(la[k - 1] + f * (la[k] - la[k - 1]))
            dense_lo.append(lo[k - 1] + f * (lo[k] - lo[k - 1]))
        bl, bo = np.concatenate(dense_la), np.concatenate(dense_lo)
        out[name] = haversine_km(lat[:, None], lon[:, None], bl[None, :], bo[None, :]).min(axis=1)
    return out


def load_world(towns_file: Path, subdistricts_file: Path, zones_file: Path,
               faction_names: set[str], borders_file: Path | None = None) -> World:
    """Load and validate the case tables; raise ScenarioError naming file, row and column.

    Each table is checked against its row schema (:mod:`sim.world.schema`); the checks across
    tables (a town's sub-district and faction exist) are made here.
    """
    rows = [r for r in read_table(towns_file, TownRow, "towns", check=check_total_population)
            if isinstance(r, TownRow)]
    for i, r in enumerate(rows, start=2):  # line 1 is the header
        if r.controller == "rebel" and r.faction not in faction_names:
            raise ScenarioError(f"faction {r.faction!r} is not defined in the scenario",
                                file=towns_file, field="faction", line=i,
                                fix=f"use one of {', '.join(sorted(faction_names))} "
                                    "or add a [[factions]] entry")
    lat = [r.lat for r in rows]
    lon = [r.lon for r in rows]
    pop = [r.population for r in rows]

    sub_area = {r.subdistrict: r.area_km2 for r in read_table(
        subdistricts_file, SubdistrictRow, "sub-districts") if isinstance(r, SubdistrictRow)}
    subs = [r.subdistrict for r in rows]
    for i, s in enumerate(subs, start=2):
        if s not in sub_area:
            raise ScenarioError(f"sub-district {s!r} is not in {subdistricts_file.name}",
                                file=towns_file, field="subdistrict", line=i,
                                fix="use a sub-district listed in the sub-districts file")
    counts: dict[str, int] = {}
    for s in subs:
        counts[s] = counts.get(s, 0) + 1
    area = np.array([sub_area[s] / counts[s] for s in subs], dtype=np.float64)

    zlat: dict[str, float] = {}
    zlon: dict[str, float] = {}
    for i, z in enumerate(read_table(zones_file, ZoneRow, "zones"), start=2):
        assert isinstance(z, ZoneRow)
        if z.lat is None and z.lon is None:
            continue
        if z.lat is None or z.lon is None:
            raise ScenarioError("give both lat and lon, or neither", file=zones_file, line=i,
                                field="lat" if z.lat is None else "lon")
        zlat[z.zone], zlon[z.zone] = z.lat, z.lon
    for z in ("jordan_border", "golan_frontier"):
        if z not in zlat:
            raise ScenarioError(f"zone {z!r} missing (with lat/lon)", file=zones_file,
                                field="zone", fix=f"add a row for {z}")

    la, lo_ = np.array(lat), np.array(lon)
    dist = haversine_km(la[:, None], lo_[:, None], la[None, :], lo_[None, :])
    return World(
        town_id=tuple(r.town_id for r in rows),
        name=tuple(r.name for r in rows),
        lat=la, lon=lo_,
        governorate=tuple(r.governorate for r in rows),
        subdistrict=tuple(subs),
        population=np.array(pop, dtype=np.int64),
        rebel0=np.array([r.controller == "rebel" for r in rows]),
        faction=tuple(r.faction if r.controller == "rebel" else "regime" for r in rows),
        strategic=tuple(r.strategic for r in rows),
        area_km2=area,
        localities=np.array([r.localities for r in rows], dtype=np.int64),
        dist_km=dist,
        border_km=_border_distances(borders_file, la, lo_) if borders_file else {},
        zone_lat=zlat, zone_lon=zlon,
        source_files=tuple(str(f) for f in (towns_file, subdistricts_file, zones_file,
                                            borders_file) if f is not None),
    )
