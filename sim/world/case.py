"""Case data: load the small committed tables once, validate them, derive distance tables.

Inputs (paths from the scenario's ``[world]`` group, relative to the scenario file):

* ``towns.csv``: one row per locality (GeoNames, CC BY 4.0, plus hand-entered places): id,
  name, lat/lon, sub-district, population (persons; the rebel-held towns sum to the UN's
  750,000), controller on day 0, faction present, strategic role.
* ``subdistricts.csv``: sub-district areas in km2 (geoBoundaries / UN OCHA, CC BY 3.0 IGO).
  A town's area is an equal share of its sub-district's area among the towns in it; the case
  area is the sum of the sub-districts that hold towns.
* ``zones.csv``: the destination zones of the displaced, each with its kind (a border or a
  frontier that may open, fields near home, government-held areas reached through corridors,
  sheltering in place, evacuation by bus), how its distance is measured, a representative point
  and the timeseries columns that count the persons there (:class:`Zone`).
* ``borders.csv`` (optional): border polylines that zones of reach ``line`` name.
* ``outcomes.toml`` (optional): the case's own declared outcomes (:mod:`sim.outcomes`).

Everything here is read-only after loading: distances are computed once per case (haversine),
so per-tick work never touches geometry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from sim.errors import ScenarioError
from sim.world.schema import BorderRow, SubdistrictRow, TownRow, ZoneRow, check_total_population, read_table

TOWN_COLUMNS = ("town_id", "name", "lat", "lon", "governorate", "subdistrict", "population",
                "controller", "faction", "strategic")
CONTROLLERS0 = ("rebel", "regime")
STRATEGIC = ("none", "border_crossing", "provincial_capital", "border_post")
EARTH_RADIUS_KM = 6371.0088
#: Zone kinds people wait at and may cross when the scenario opens them.
CLOSABLE_KINDS = ("border", "frontier")
#: Zone kinds that are destinations inside the case area (a household there is displaced).
DESTINATION_KINDS = ("border", "frontier", "fields", "government")
#: Default reach (how distance is measured) of each kind; None: the kind has no distance.
DEFAULT_REACH = {"border": "point", "frontier": "point", "fields": "near", "government": "front",
                 "shelter": None, "evacuation": None}
#: The persons bused out under safe passage are always counted in this column.
EVACUATED_COLUMN = "evacuated_cum"


@dataclass(frozen=True)
class Zone:
    """A destination zone of the case (a row of ``zones.csv``, defaults filled in)."""

    id: str
    name: str
    kind: str
    lat: float | None
    lon: float | None
    reach: str | None
    border: str
    column: str
    crossed_column: str | None
    arrived_column: str | None

    @property
    def closable(self) -> bool:
        """A border or frontier: people wait at it, and cross only while it is open."""
        return self.kind in CLOSABLE_KINDS

    @property
    def destination(self) -> bool:
        return self.kind in DESTINATION_KINDS


def haversine_km(lat1: npt.ArrayLike, lon1: npt.ArrayLike, lat2: npt.ArrayLike,
                 lon2: npt.ArrayLike) -> np.ndarray:
    """Great-circle distance in km between points in degrees (arrays or scalars, broadcasting)."""
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
    zones: tuple[Zone, ...] = ()
    #: the case's declared outcomes (:class:`sim.outcomes.Outcome`), from its outcomes file
    outcomes: tuple[Any, ...] = ()
    #: other factions present in each town besides its holder (towns.csv ``also_present``)
    also_present: tuple[tuple[str, ...], ...] = ()

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

    def zone(self, zone: str) -> Zone:
        """A zone by id; KeyError if the case has none of that name."""
        for z in self.zones:
            if z.id == zone:
                return z
        raise KeyError(zone)

    def zone_distance_km(self, zone: str) -> np.ndarray:
        """Distance from every town to a zone of reach ``line`` (its border polyline) or
        ``point`` (its representative point)."""
        z = self.zone(zone)
        if z.reach == "line":
            return self.border_km[z.border]
        return haversine_km(self.lat, self.lon, np.float64(z.lat), np.float64(z.lon))

    @property
    def destination_zones(self) -> tuple[Zone, ...]:
        """Zones households flee to inside the case area, in file order."""
        return tuple(z for z in self.zones if z.destination)

    @property
    def closable_zones(self) -> tuple[Zone, ...]:
        """Borders and frontiers (may be opened by a scenario), in file order."""
        return tuple(z for z in self.zones if z.closable)

    def zones_of(self, kind: str) -> tuple[Zone, ...]:
        return tuple(z for z in self.zones if z.kind == kind)


def _read_borders(path: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Border polylines (lat, lon arrays in vertex order), by name."""
    lines: dict[str, list[tuple[float, float, float]]] = {}
    for b in read_table(path, BorderRow, "borders"):
        assert isinstance(b, BorderRow)
        lines.setdefault(b.border, []).append((b.seq, b.lat, b.lon))
    out = {}
    for name, pts in lines.items():
        pts.sort()
        out[name] = (np.array([p[1] for p in pts]), np.array([p[2] for p in pts]))
    return out


def _border_distances(lines: dict[str, tuple[np.ndarray, np.ndarray]], lat: np.ndarray,
                      lon: np.ndarray) -> dict[str, np.ndarray]:
    """Distance (km) from each town to each border polyline (densified every ~0.5 km)."""
    out: dict[str, np.ndarray] = {}
    for name, (la, lo) in lines.items():
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


def read_zones(path: Path, border_names: set[str] = frozenset(),  # type: ignore[assignment]
               borders_file: Path | None = None) -> tuple[Zone, ...]:
    """Read and check the zones table: each row's kind, reach and point agree; column names are
    unique; at most one shelter and one evacuation zone. Errors name the file, line and field."""
    zones: list[Zone] = []
    used: dict[str, int] = {}
    for i, z in enumerate(read_table(path, ZoneRow, "zones"), start=2):
        assert isinstance(z, ZoneRow)

        def fail(msg: str, fld: str, fix: str | None = None, i: int = i) -> ScenarioError:
            return ScenarioError(msg, file=path, line=i, field=fld, fix=fix)

        if (z.lat is None) != (z.lon is None):
            raise fail("give both lat and lon, or neither", "lat" if z.lat is None else "lon")
        reach = z.reach or DEFAULT_REACH[z.kind]
        if z.kind in ("shelter", "evacuation") and z.reach:
            raise fail(f"a {z.kind} zone has no distance: leave reach blank", "reach")
        if z.kind in ("border", "frontier") and reach == "point" and z.border:
            reach = "line"
        if reach == "line":
            if not z.border:
                raise fail("reach 'line' needs the name of a border polyline", "border",
                           "name a border of the borders file (its `border` column)")
            if z.border not in border_names:
                raise fail(f"border {z.border!r} is not in the borders file", "border",
                           f"use one of: {', '.join(sorted(border_names)) or '(no borders file)'}"
                           + ("" if borders_file else "; set world.borders_file"))
        if (reach == "point" or z.kind in CLOSABLE_KINDS) and z.lat is None:
            raise fail(f"a {z.kind} zone of reach {reach!r} needs lat and lon", "lat",
                       "give the zone's representative point (where people gather)")
        if z.kind == "evacuation":
            if z.column not in (None, EVACUATED_COLUMN):
                raise fail(f"the evacuated are counted in {EVACUATED_COLUMN}", "column",
                           f"leave column blank or write {EVACUATED_COLUMN}")
            column = EVACUATED_COLUMN
        elif z.kind == "shelter":
            column = z.column or f"sheltering_{z.zone}"
        else:
            column = z.column or f"displaced_{z.zone}"
        crossed = (z.crossed_column or f"crossed_{z.zone}") if z.kind in CLOSABLE_KINDS else None
        if z.crossed_column and z.kind not in CLOSABLE_KINDS:
            raise fail("only a border or frontier has people who cross it", "crossed_column",
                       "leave crossed_column blank")
        if z.arrived_column and z.kind not in DESTINATION_KINDS:
            raise fail(f"a {z.kind} zone counts no arrivals", "arrived_column",
                       "leave arrived_column blank")
        for col, fld in ((column, "column"), (crossed, "crossed_column"),
                         (z.arrived_column, "arrived_column")):
            if col is None:
                continue
            if col in used or col in RESERVED_COLUMNS and col != EVACUATED_COLUMN:
                raise fail(f"column {col!r} is already used"
                           + (f" (line {used[col]})" if col in used else " by the model"), fld,
                           "give each zone its own column names")
            used[col] = i
        if z.kind in ("shelter", "evacuation") and any(q.kind == z.kind for q in zones):
            raise fail(f"a second {z.kind} zone", "kind", f"a case has at most one {z.kind} zone")
        zones.append(Zone(z.zone, z.name or z.zone, z.kind, z.lat, z.lon, reach, z.border,
                          column, crossed, z.arrived_column))
    return tuple(zones)


def read_case_zones(zones_file: Path, borders_file: Path | None = None) -> tuple[Zone, ...]:
    """A case's zones, without the rest of its world: ``zones_file`` read and checked by
    :func:`read_zones` against the border names of ``borders_file`` (``None``: the case has no
    borders file). The one reader of the zones for the figures, the browser app and the targets'
    known columns; a bad file is a ScenarioError naming the file, the line, the field and the fix."""
    names = ({b.border for b in read_table(borders_file, BorderRow, "borders")
              if isinstance(b, BorderRow)} if borders_file is not None else set())
    return read_zones(zones_file, names, borders_file)


def read_folder_zones(folder: Path) -> tuple[Zone, ...]:
    """The zones of a case data folder: its ``zones.csv``, checked against its ``borders.csv``
    if it has one (:func:`read_case_zones`)."""
    borders = folder / "borders.csv"
    return read_case_zones(folder / "zones.csv", borders if borders.is_file() else None)


#: Timeseries columns the model writes for every case (a zone may not reuse one).
RESERVED_COLUMNS = frozenset({
    "time", "day", "displaced_total", "displaced_other", "displaced_towns", "returned_cum",
    EVACUATED_COLUMN, "civilian_deaths_cum", "strike_deaths_cum", "exposure_deaths_cum", "alive",
    "at_home", "towns_reconciled", "towns_captured", "towns_rebel", "towns_negotiating",
    "regime_share_area", "area_handed_over_km2_cum", "bombardment_intensity", "strikes",
    "negotiation_state", "collapses", "corridors_open", "pockets"})


def load_case_outcomes(path: Path) -> tuple[Any, ...]:
    """The case's declared outcomes (read by :func:`sim.outcomes.read_outcomes_file`)."""
    from sim.outcomes import read_outcomes_file

    return read_outcomes_file(path)


def load_world(towns_file: Path, subdistricts_file: Path, zones_file: Path,
               faction_names: set[str], borders_file: Path | None = None,
               outcomes_file: Path | None = None) -> World:
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
        for f in r.present_factions:
            if f not in faction_names:
                raise ScenarioError(f"faction {f!r} (also present) is not defined in the "
                                    "scenario", file=towns_file, field="also_present", line=i,
                                    fix=f"use ids among {', '.join(sorted(faction_names))}, "
                                        "separated by ';', or add a [[factions]] entry")
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

    border_lines = _read_borders(borders_file) if borders_file else {}
    zones = read_zones(zones_file, set(border_lines), borders_file)
    zlat = {z.id: z.lat for z in zones if z.lat is not None}
    zlon = {z.id: z.lon for z in zones if z.lon is not None}

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
        border_km=_border_distances(border_lines, la, lo_),
        zone_lat=zlat, zone_lon=zlon,
        source_files=tuple(str(f) for f in (towns_file, subdistricts_file, zones_file,
                                            borders_file, outcomes_file) if f is not None),
        zones=zones,
        outcomes=load_case_outcomes(outcomes_file) if outcomes_file is not None else (),
        also_present=tuple(r.present_factions if r.controller == "rebel" else () for r in rows),
    )
