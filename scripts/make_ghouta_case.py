"""Write the Eastern Ghouta 2018 case data (scenarios/data/ghouta2018/) from the sourced inputs.

    .venv/bin/python scripts/make_ghouta_case.py [--inputs /work/shared/data/ghouta2018_inputs.toml]

Reads the inputs file (towns with coordinates and pre-offensive figures, the armed groups and
what they held, the enclave's area) and writes, deterministically:

* ``towns.csv``: one row per place of the inputs, coordinates as given (``coord_kind`` says
  sourced or estimate, ``coord_basis`` how an estimate was placed). Populations: a town's own
  figure where the inputs give one (a wartime estimate before the offensive if there is one,
  else the census figure of the town itself; sub-district totals are not a town's), and the
  rest of the headline population (the UN's "nearly 400,000", 20-21 Feb 2018) shared equally
  among the places with no figure (``population_basis``). The faction is that of the place's
  pocket (douma: Jaysh al-Islam, harasta: Ahrar al-Sham, faylaq: Faylaq al-Rahman); the two
  places of the Douma-Harasta link zone (Misraba "contested", Mudeira "not recorded") take the
  faction of the nearest place whose group is recorded (``faction_basis``). ``also_present`` is
  ``hts`` where the inputs' ``held_by`` names HTS beside the holder (Arbin, Jobar, al-Ash'ari):
  HTS refuses all talks, so such a place is covered by no deal. The Wafideen camp
  crossing is government-held (the corridor's gate), with no simulated population.
* ``subdistricts.csv`` / ``subdistricts.geojson``: one cell per rebel-held place: the Voronoi
  cells of the places, clipped to the enclave's outline (approximated by the convex hull of the
  places pushed 1 km outward from its centre), their areas scaled so the enclave covers the
  middle of the inputs' [100, 110] km2 (105 km2). The crossing's cell has no area (the share of
  the enclave counts only the pre-offensive rebel area).
* ``zones.csv``: the Wafideen corridor (government-held areas reached through it), sheltering in
  place, and evacuation north by bus. No border or frontier: the enclave was besieged.
* ``seeds/ghouta2018/targets.toml``: the calibration targets up to day 28 (cumulative civilian
  deaths; the government's share of the enclave), each range as given with its source line.

(``outcomes.toml``, the case's own outcomes, and ``ATTRIBUTION.md`` are written by hand.)

Nothing here reads or encodes the talks' outcomes (deals, evacuations, exits): they are the
model's forecast.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import re
import tomllib
from pathlib import Path

import numpy as np
from scipy.spatial import ConvexHull, Voronoi

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "scenarios" / "data" / "ghouta2018"
INPUTS = Path("/work/shared/data/ghouta2018_inputs.toml")
HEADLINE = 400_000          # UN, 20-21 Feb 2018: "nearly 400,000" (inputs [population])
ENCLAVE_KM2 = 105.0         # middle of the inputs' rebel_enclave_km2 = [100, 110]
OUTLINE_PUSH_KM = 1.0       # the hull of the places pushed outward (the enclave's edge)
FACTION_OF_POCKET = {"douma": "jaysh_al_islam", "harasta": "ahrar_al_sham",
                     "faylaq": "faylaq_al_rahman"}


def slug(name: str) -> str:
    base = re.sub(r"\(.*?\)", "", name).strip().lower().replace("'", "")
    return re.sub(r"[^a-z0-9]+", "_", base).strip("_")


def km_xy(lat: np.ndarray, lon: np.ndarray, lat0: float, lon0: float) -> np.ndarray:
    return np.column_stack([(lon - lon0) * math.cos(math.radians(lat0)) * 111.32,
                            (lat - lat0) * 110.57])


def latlon(xy: np.ndarray, lat0: float, lon0: float) -> np.ndarray:
    return np.column_stack([lat0 + xy[:, 1] / 110.57,
                            lon0 + xy[:, 0] / (math.cos(math.radians(lat0)) * 111.32)])


def clip(poly: np.ndarray, hull: np.ndarray) -> np.ndarray:
    """Sutherland-Hodgman: ``poly`` clipped by the convex polygon ``hull`` (counter-clockwise)."""
    out = list(poly)
    for a, b in zip(hull, np.roll(hull, -1, axis=0), strict=True):
        inp, out = out, []
        if not inp:
            break

        def inside(p: np.ndarray, a: np.ndarray = a, b: np.ndarray = b) -> bool:
            return (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]) >= 0

        def cut(p: np.ndarray, q: np.ndarray, a: np.ndarray = a, b: np.ndarray = b) -> np.ndarray:
            d1, d2 = q - p, b - a
            t = ((a[0] - p[0]) * d2[1] - (a[1] - p[1]) * d2[0]) / (d1[0] * d2[1] - d1[1] * d2[0])
            return p + t * d1

        s = inp[-1]
        for e in inp:
            if inside(e):
                if not inside(s):
                    out.append(cut(s, e))
                out.append(e)
            elif inside(s):
                out.append(cut(s, e))
            s = e
    return np.array(out)


def area(poly: np.ndarray) -> float:
    x, y = poly[:, 0], poly[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def population_figure(t: dict) -> tuple[float | None, str]:
    """A place's own pre-offensive figure and what it is (None if the inputs give none)."""
    if "pop_2018_low" in t:
        v = (t["pop_2018_low"] + t["pop_2018_high"]) / 2
        return v, f"wartime estimate {t['pop_2018_low']:,}-{t['pop_2018_high']:,} (midpoint)"
    if "pop_wartime_approx" in t:
        return float(t["pop_wartime_approx"]), f"wartime estimate about {t['pop_wartime_approx']:,}"
    if "pop_2004" in t:
        return float(t["pop_2004"]), f"2004 census {t['pop_2004']:,}"
    if "pop_2007" in t:
        return float(t["pop_2007"]), f"2007 figure {t['pop_2007']:,}"
    return None, ""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inputs", type=Path, default=INPUTS)
    a = ap.parse_args()
    text = a.inputs.read_text(encoding="utf-8")
    data = tomllib.loads(text)
    write_targets(text)
    towns = data["towns"]
    lo_km2, hi_km2 = data["meta"]["rebel_enclave_km2"]
    assert (lo_km2 + hi_km2) / 2 == ENCLAVE_KM2
    rebel = [t for t in towns if t["pocket"] != "government"]
    lat = np.array([t["lat"] for t in rebel])
    lon = np.array([t["lon"] for t in rebel])
    lat0, lon0 = float(lat.mean()), float(lon.mean())
    xy = km_xy(lat, lon, lat0, lon0)

    # factions: the pocket's; the link zone takes the nearest recorded place's
    faction, basis = {}, {}
    for t in rebel:
        if t["pocket"] in FACTION_OF_POCKET:
            faction[t["name"]] = FACTION_OF_POCKET[t["pocket"]]
            basis[t["name"]] = f"pocket '{t['pocket']}' (held by {t['held_by']})"
    for i, t in enumerate(rebel):
        if t["name"] in faction:
            continue
        d = np.hypot(*(xy - xy[i]).T)
        order = [j for j in np.argsort(d) if rebel[j]["name"] in faction]
        j = order[0]
        faction[t["name"]] = faction[rebel[j]["name"]]
        basis[t["name"]] = (f"estimate: pocket '{t['pocket']}' ({t['held_by']}); the faction of the "
                            f"nearest place with a recorded group, {rebel[j]['name']} ({d[j]:.1f} km)")

    # populations: own figures, the rest of the headline shared among the places with none
    figs = {t["name"]: population_figure(t) for t in rebel}
    sourced = sum(v for v, _ in figs.values() if v is not None)
    missing = [n for n, (v, _) in figs.items() if v is None]
    share = (HEADLINE - sourced) / len(missing)
    assert share > 0, "the places' own figures exceed the headline population"
    raw = {n: (v if v is not None else share) for n, (v, _) in figs.items()}
    pops = {n: int(round(v)) for n, v in raw.items()}
    pops[max(pops, key=pops.get)] += HEADLINE - sum(pops.values())  # exact total

    # Voronoi cells clipped to the enclave's outline, scaled to the enclave's area
    hull = xy[ConvexHull(xy).vertices]
    c = hull.mean(axis=0)
    r = np.hypot(*(hull - c).T)
    outline = c + (hull - c) * ((r + OUTLINE_PUSH_KM) / r)[:, None]
    far = np.array([[-200, -200], [-200, 200], [200, -200], [200, 200]], dtype=float)
    vor = Voronoi(np.vstack([xy, far]))
    cells = []
    for i in range(len(rebel)):
        reg = vor.regions[vor.point_region[i]]
        assert -1 not in reg and reg
        poly = vor.vertices[reg]
        ang = np.arctan2(poly[:, 1] - xy[i, 1], poly[:, 0] - xy[i, 0])
        cells.append(clip(poly[np.argsort(ang)], outline))
    areas = np.array([area(p) for p in cells])
    k = ENCLAVE_KM2 / areas.sum()
    areas *= k

    OUT.mkdir(parents=True, exist_ok=True)
    src_pop = "; ".join(f"{e['reporter']}: {e['value']:,} ({e['date']})"
                        for e in data["population"]["estimates"])
    cols = ["town_id", "name", "lat", "lon", "governorate", "subdistrict", "population",
            "controller", "faction", "strategic", "also_present", "coord_kind", "coord_basis", "pocket", "held_by",
            "faction_basis", "population_figure", "population_basis", "source"]
    rows = []
    for t in towns:
        gov = t["pocket"] == "government"
        name = t["name"]
        fig, what = (None, "") if gov else figs[name]
        rows.append({
            "town_id": slug(name), "name": name, "lat": t["lat"], "lon": t["lon"],
            "governorate": "Rif Dimashq",
            "subdistrict": "government side" if gov else f"cell {slug(name)}",
            "population": 0 if gov else pops[name],
            "controller": "regime" if gov else "rebel",
            "faction": "regime" if gov else faction[name], "strategic": "none",
            # the inputs' held_by names HTS beside the holder in some places (HTS refuses all
            # talks: such a place is covered by no deal, sim/rules/negotiation.py)
            "also_present": "hts" if not gov and "HTS" in t["held_by"] else "",
            "coord_kind": t["coord_kind"], "coord_basis": t.get("coord_basis", ""),
            "pocket": t["pocket"], "held_by": t["held_by"],
            "faction_basis": "" if gov else basis[name],
            "population_figure": "" if fig is None else fig,
            "population_basis": (
                "government-held: not simulated" if gov else
                f"own figure ({what}), scaled x1" if fig is not None else
                f"estimate: no figure in the inputs; an equal share of the headline {HEADLINE:,} "
                f"(UN) less the places' own figures ({sourced:,.0f}) among {len(missing)} places"),
            "source": t["source"]})
    with (OUT / "towns.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, cols)
        w.writeheader()
        w.writerows(rows)

    with (OUT / "subdistricts.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["subdistrict", "governorate", "area_km2", "method"])
        for t, a_ in zip(rebel, areas, strict=True):
            w.writerow([f"cell {slug(t['name'])}", "Rif Dimashq", round(float(a_), 3),
                        "Voronoi cell of the place, clipped to the enclave's outline (hull of the "
                        f"places pushed {OUTLINE_PUSH_KM:g} km out), scaled x{k:.3f} so the cells "
                        f"sum to {ENCLAVE_KM2:g} km2 (inputs: 100-110 km2)"])
        w.writerow(["government side", "Rif Dimashq", 0.0,
                    "outside the pre-offensive enclave: no area in the share of the enclave"])
    feats = []
    for t, poly in zip(rebel, cells, strict=True):
        ll = latlon(poly, lat0, lon0)
        ring = [[round(float(b), 5), round(float(a_), 5)] for a_, b in ll]
        ring.append(ring[0])
        feats.append({"type": "Feature", "properties": {"subdistrict": t["name"].split(" (")[0],
                                                        "cell_of": slug(t["name"])},
                      "geometry": {"type": "Polygon", "coordinates": [ring]}})
    (OUT / "subdistricts.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": feats}, indent=1) + "\n",
        encoding="utf-8")

    wafideen = next(t for t in towns if t["pocket"] == "government")
    corridor = data["offensive"]["wafideen_corridor"]
    terms = data["terms_offered_elsewhere"]
    with (OUT / "zones.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["zone", "name", "kind", "lat", "lon", "reach", "border", "column",
                    "crossed_column", "arrived_column", "capacity_note", "source"])
        w.writerow(["wafideen", "government-held areas through the Wafideen corridor",
                    "government", wafideen["lat"], wafideen["lon"], "point", "", "displaced_wafideen",
                    "", "arrived_wafideen_cum",
                    "temporary accommodation, medical post at al-Duweir; coordinates an estimate",
                    corridor["source"]])
        w.writerow(["shelter", "sheltering in place (basements) with nowhere to go", "shelter", "",
                    "", "", "", "sheltering", "", "", "no exit: a siege", data["meta"]["region"]])
        w.writerow(["evacuated", "opposition-held north-west Syria by bus", "evacuation", "", "",
                    "", "", "evacuated_cum", "", "", terms["refusers"],
                    "terms offered elsewhere: " + terms["broker"]])
    print(f"towns: {len(rows)} ({len(rebel)} rebel-held), {sum(pops.values()):,} persons; "
          f"own figures {sourced:,.0f}, {len(missing)} places at {share:,.0f}; "
          f"cells {areas.sum():.1f} km2 (x{k:.3f}); population sources: {src_pop}")


def target_lines(text: str, table: str) -> list[tuple[int, list[float], str]]:
    """(day, [low, high], the source comment) of each line of a ``[table]`` of the inputs."""
    out, inside = [], False
    for line in text.splitlines():
        if line.startswith("["):
            inside = line.strip() == f"[{table}]"
            continue
        m = re.match(r"^(\d+)\s*=\s*\[([^\]]*)\]\s*#\s*(.*)$", line) if inside else None
        if m:
            out.append((int(m.group(1)), [float(x) for x in m.group(2).split(",")], m.group(3).strip()))
    return out


def write_targets(text: str) -> None:
    """seeds/ghouta2018/targets.toml: the inputs' calibration targets as series ranges."""
    seeds = ROOT / "seeds" / "ghouta2018"
    seeds.mkdir(parents=True, exist_ok=True)
    head = [
        "# Eastern Ghouta 2018: CALIBRATION TARGETS up to and including day 28 (18 March 2018),",
        "# written by scripts/make_ghouta_case.py from shared/data/ghouta2018_inputs.toml (every",
        "# range and source as there). Day 0 = 2018-02-18. The outcomes of the talks are NOT here",
        "# (nor any figure after day 28): they are the model's forecast (the case's outcomes.toml).",
        "#",
        "# kind = \"range\": within when low <= model <= high (sim/targets.py); a single reported",
        "# figure was given +-5% by the inputs. Cumulative civilian deaths are persons (compared at",
        "# the simulated population scale); the government's share of the enclave is the model's",
        "# regime_share_area (the enclave's cells, 105 km2 in all).",
        "",
        "[source]",
        'title = "Eastern Ghouta 2018: civilian deaths (SOHR, OCHA, AFP) and the government\'s share '
        'of the enclave (SOHR, army and state media, CGTN) to day 28"',
        'file = "shared/data/ghouta2018_inputs.toml"',
        'day0 = "2018-02-18"',
        'cutoff = "2018-03-18"',
        "cutoff_day = 28",
        "",
    ]
    rows = []
    for table, series, unit, what in (
            ("civilian_deaths_cum", "civilian_deaths_cum", "persons",
             "civilians killed since the evening of 18 February 2018"),
            ("regime_share_area", "regime_share_area", "share",
             "share of the pre-offensive rebel enclave held by government forces")):
        for day, (lo, hi), src in target_lines(text, table):
            v = int(lo) if unit == "persons" else lo
            w = int(hi) if unit == "persons" else hi
            rows += ["[[target]]", f'id = "{table}_day{day}"', f'quantity = "{what}, day {day}"',
                     f'unit = "{unit}"', 'kind = "range"', f"range = [{v}, {w}]",
                     f'series = "{series}"', f"day = {day}",
                     "source = " + json.dumps(src.split(". ", 1)[-1] if src[0].isdigit() else src),
                     "says = " + json.dumps(src),
                     'why = "the inputs\' range (a single reported figure +-5%)"', ""]
    (seeds / "targets.toml").write_text("\n".join(head + rows), encoding="utf-8")


if __name__ == "__main__":
    main()
