"""Summary outcomes of one run: the numbers batches, calibration and tests compare.

Every outcome is computed from a run's timeseries and events only, so it can be recomputed
from the files a run writes. Days are days since 2018-06-19 00:00 (the article's figures are
read at day 16, the day rebels returned to talks).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

ARTICLE_DAY = 16.0


def value_at(ts: pd.DataFrame, column: str, day: float) -> float:
    """The column's value at the last record at or before ``day`` (records in time order);
    NaN (missing) for a day past the run's last record (its horizon): the run says nothing
    about it."""
    days = ts["day"].to_numpy()
    if not len(days) or day > float(days[-1]) + 1e-9:
        return math.nan
    i = int(np.searchsorted(days, day + 1e-9, side="right")) - 1
    return float(ts[column].iloc[i]) if i >= 0 else math.nan


def first_day(events: pd.DataFrame, kind: str, **match: str) -> float:
    """Day of the first event of ``kind`` (matching columns), NaN if none."""
    ev = events[events["kind"] == kind]
    for k, v in match.items():
        ev = ev[ev[k] == v]
    return float(ev["day"].iloc[0]) if len(ev) else math.nan


def summarize(ts: pd.DataFrame, events: pd.DataFrame) -> dict[str, Any]:
    """The summary outcomes of a run (a flat dict of numbers)."""
    collapse = first_day(events, "talks_collapsed")
    resumed = first_day(events, "talks_resumed")
    deal = first_day(events, "deal_signed", actor="joint_command")
    peak_i = int(ts["displaced_total"].values.argmax())
    out: dict[str, Any] = {
        "start_day": float(ts["day"].iloc[0]),
        "crossed_day16": value_at(ts, "crossed_to_jordan", ARTICLE_DAY)
        + value_at(ts, "crossed_to_golan", ARTICLE_DAY),
        "displaced_day16": value_at(ts, "displaced_total", ARTICLE_DAY),
        "deaths_day16": value_at(ts, "civilian_deaths_cum", ARTICLE_DAY),
        "deaths_day60": value_at(ts, "civilian_deaths_cum", 60.0),
        "deaths_final": float(ts["civilian_deaths_cum"].iloc[-1]),
        "peak_displaced": float(ts["displaced_total"].iloc[peak_i]),
        "peak_day": float(ts["day"].iloc[peak_i]),
        "jordan_border_day16": value_at(ts, "displaced_jordan_border", ARTICLE_DAY),
        "golan_day16": value_at(ts, "displaced_golan", ARTICLE_DAY),
        "towns_reconciled_day15": value_at(ts, "towns_reconciled", 15.0),
        "towns_settled_at_collapse": (value_at(ts, "towns_reconciled", collapse)
                                      + value_at(ts, "towns_captured", collapse)
                                      if not math.isnan(collapse) else math.nan),
        "talks_open_day": first_day(events, "talks_opened", target="joint_command"),
        "first_collapse_day": collapse,
        "resume_day": resumed,
        "resume_delay_h": (resumed - collapse) * 24.0 if not math.isnan(resumed) else math.nan,
        "collapses": int(ts["collapses"].iloc[-1]),
        "deal_day": deal,
        "evacuated": float(ts["evacuated_cum"].iloc[-1]),
        "returned": float(ts["returned_cum"].iloc[-1]),
        "crossed_to_jordan": float(ts["crossed_to_jordan"].iloc[-1]),
        "crossed_to_golan": float(ts["crossed_to_golan"].iloc[-1]),
        "regime_share_day16": value_at(ts, "regime_share_area", ARTICLE_DAY),
        "regime_share_final": float(ts["regime_share_area"].iloc[-1]),
        "towns_rebel_final": float(ts["towns_rebel"].iloc[-1]),
    }
    # The blitz: the 24 hours after the first collapse.
    if not math.isnan(collapse):
        window = events[(events["day"] >= collapse - 1e-9) & (events["day"] < collapse + 1.0)]
        cas = window[(window["kind"] == "casualties") & (window["actor"] == "regime")]
        per_town = cas.assign(n=cas["detail"].str.extract(r"^(\d+)")[0].astype(float)) \
            .groupby("target")["n"].sum() if len(cas) else pd.Series(dtype=float)
        out["blitz_max_town_deaths"] = float(per_town.max()) if len(per_town) else 0.0
        after = events[(events["day"] >= collapse - 1e-9) & (events["day"] < collapse + 2.0)
                       & (events["kind"] == "area_handed_over")]
        out["area_handed_over_48h_after_collapse"] = float(
            after["detail"].str.extract(r"^([\d.]+)")[0].astype(float).sum()) if len(after) else 0.0
        pre = ts[ts["day"] < collapse - 1e-9]
        blitz = ts[(ts["day"] > collapse + 1e-9) & (ts["day"] <= collapse + 1.0 + 1e-9)]
        out["blitz_intensity_ratio"] = (float(blitz["bombardment_intensity"].max())
                                        / max(float(pre["bombardment_intensity"].max()), 1e-9)
                                        if len(pre) and len(blitz) else math.nan)
    else:
        out["blitz_max_town_deaths"] = math.nan
        out["area_handed_over_48h_after_collapse"] = math.nan
        out["blitz_intensity_ratio"] = math.nan
    crossing = first_day(events, "crossing_taken", target="nasib_crossing")
    out["nasib_taken_day"] = crossing
    # Towns settled (reconciled or captured) in the 24 hours after the first collapse
    # (article line 16: Saida retaken hours after the strikes).
    if not math.isnan(collapse):
        settled = value_at(ts, "towns_reconciled", collapse + 1.0) \
            + value_at(ts, "towns_captured", collapse + 1.0) - out["towns_settled_at_collapse"]
        out["towns_settled_24h_after_collapse"] = float(settled)
    else:
        out["towns_settled_24h_after_collapse"] = math.nan
    # Strikes halted (line 10): strikes per tick in the 24 h after the rebels return to talks,
    # relative to the blitz (the 24 h after the collapse).
    if not math.isnan(resumed) and not math.isnan(collapse):
        blitz = ts[(ts["day"] > collapse + 1e-9) & (ts["day"] <= collapse + 1.0 + 1e-9)]
        after = ts[(ts["day"] > resumed + 1e-9) & (ts["day"] <= resumed + 1.0 + 1e-9)]
        out["strikes_after_resume_ratio"] = (float(after["strikes"].mean())
                                             / max(float(blitz["strikes"].mean()), 1e-9)
                                             if len(after) and len(blitz) else math.nan)
    else:
        out["strikes_after_resume_ratio"] = math.nan
    # Displaced families "more than a week on the border" by the article's day (line 30): the
    # first day at least BORDER_PRESENCE persons wait at the Jordanian border.
    at_border = ts[ts["displaced_jordan_border"] >= BORDER_PRESENCE]
    out["jordan_border_since_day"] = float(at_border["day"].iloc[0]) if len(at_border) else math.nan
    # Event days of the public record (seeds/record.toml): corridors, offers, deals, 30 towns.
    out["corridors_open_day"] = min(first_day(events, "corridors_opened"),
                                    first_true_day(ts, ts["corridors_open"] > 0),
                                    key=lambda d: math.inf if math.isnan(d) else d)
    out["first_offer_day"] = first_day(events, "local_offer")
    out["first_local_deal_day"] = first_day(events, "local_deal")
    # "more than 30 towns": census localities (the article's villages and towns), not model towns
    out["thirty_towns_day"] = first_true_day(ts, ts["localities_settled"] > THIRTY_TOWNS)
    out["localities_settled_day15"] = value_at(ts, "localities_settled", 15.0)
    out["localities_settled_at_collapse"] = (value_at(ts, "localities_settled", collapse)
                                             if not math.isnan(collapse) else math.nan)
    return out


def first_true_day(ts: pd.DataFrame, mask: pd.Series) -> float:
    """Day of the first timeseries row where ``mask`` holds, NaN if never."""
    rows = ts.loc[mask.to_numpy(), "day"]
    return float(rows.iloc[0]) if len(rows) else math.nan


#: "More than 30 towns" (article line 3).
THIRTY_TOWNS = 30


#: Persons at the Jordanian border that count as "displaced families on the border".
BORDER_PRESENCE = 1000

#: When an outcome can be read, for runs cut short (``negsim calibrate --horizon-days``):
#: outcomes read on a fixed day need the run to reach that day ...
OUTCOME_DAY: dict[str, float] = {
    "start_day": 0.0, "crossed_day16": ARTICLE_DAY, "displaced_day16": ARTICLE_DAY,
    "deaths_day16": ARTICLE_DAY, "deaths_day60": 60.0, "jordan_border_day16": ARTICLE_DAY,
    "golan_day16": ARTICLE_DAY, "towns_reconciled_day15": 15.0, "regime_share_day16": ARTICLE_DAY,
    "localities_settled_day15": 15.0,
}
#: ... the day of an event needs the run to reach the latest day a target allows for it ...
EVENT_DAY_OUTCOMES: tuple[str, ...] = (
    "talks_open_day", "first_collapse_day", "resume_day", "deal_day", "nasib_taken_day",
    "jordan_border_since_day", "corridors_open_day", "first_offer_day", "first_local_deal_day",
    "thirty_towns_day",
)
#: ... an outcome read in a window after the talks' first collapse or resumption needs the run
#: to reach that many days past the latest collapse or resumption day a target allows (the
#: resumption comes up to 2 days after the collapse, then 24 hours of strikes are counted) ...
AFTER_TALKS_DAYS: dict[str, float] = {
    "towns_settled_at_collapse": 0.0, "localities_settled_at_collapse": 0.0,
    "blitz_max_town_deaths": 1.0, "blitz_intensity_ratio": 1.0,
    "towns_settled_24h_after_collapse": 1.0, "area_handed_over_48h_after_collapse": 2.0,
    "resume_delay_h": 2.0, "strikes_after_resume_ratio": 3.0,
}
#: ... and every other outcome (peaks, final values, totals) needs the whole run.

#: Every outcome :func:`summarize` returns (targets name one of these).
OUTCOME_NAMES: tuple[str, ...] = (
    "start_day", "crossed_day16", "displaced_day16", "deaths_day16", "deaths_day60",
    "deaths_final", "peak_displaced", "peak_day", "jordan_border_day16", "golan_day16",
    "towns_reconciled_day15", "towns_settled_at_collapse", "talks_open_day",
    "first_collapse_day", "resume_day", "resume_delay_h", "collapses", "deal_day", "evacuated",
    "returned", "crossed_to_jordan", "crossed_to_golan", "regime_share_day16",
    "regime_share_final", "towns_rebel_final", "blitz_max_town_deaths",
    "area_handed_over_48h_after_collapse", "blitz_intensity_ratio", "nasib_taken_day",
    "towns_settled_24h_after_collapse", "strikes_after_resume_ratio", "jordan_border_since_day",
    "corridors_open_day", "first_offer_day", "first_local_deal_day", "thirty_towns_day",
    "localities_settled_day15", "localities_settled_at_collapse",
)
