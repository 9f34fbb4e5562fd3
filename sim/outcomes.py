"""Summary outcomes of one run, declared as objects: the numbers batches, calibration and tests
compare.

An :class:`Outcome` has a name, a unit, a description and a function of the run's tables
(:class:`RunTables`: its timeseries, its events with their numeric ``value`` column, and
optionally its per-town table), like EMA Workbench's ``ScalarOutcome``. It also says when it
can be read in a run cut short (``negsim calibrate --horizon-days``): on a fixed ``day``, at an
``event`` (the latest day a target allows for it), in a window after the talks' first collapse
or resumption (``after_talks`` days), or only at the end of the run.

* :data:`GENERIC_OUTCOMES` hold for every case: displacement peaks, deaths, the talks' dates
  (opening, collapse, resumption, deal), the blitz after a collapse, evacuations, returns, the
  regime's share of the area, and the dates of the first offers, local deals and corridors.
* Each case declares its own outcomes in a data file beside its data (``world.outcomes_file``,
  e.g. ``scenarios/data/daraa2018/outcomes.toml``): readings of a timeseries column on a day,
  the day of a named event, the first day a column reaches a threshold... built from the generic
  functions of :data:`FUNCTIONS` (:func:`read_outcomes_file`). No case needs code.

**Times are compared exactly, in whole hours.** A run records at the start of each tick, and a tick
is ``time.tick_hours`` long, a whole number of hours: every ``day`` in its tables is a whole
number of hours (``tick * tick_hours / 24``), so :func:`hours` (``np.rint(day * 24)``) recovers
it exactly as an integer and windows ("the 24 h after the collapse") are integer comparisons.
A day given in a file (an outcome's or a target's ``day``, any decimal) is compared exactly
against those integers (:func:`sim.rules.clock.exact`). No tolerance is needed.

Outcomes never parse event text: events carry a numeric ``value`` (deaths in a ``casualties``
event, km² in an ``area_handed_over`` event, persons in an ``evacuation``, strikes in a
``strike``).
"""

from __future__ import annotations

import functools
import math
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim.errors import ScenarioError
from sim.rules.clock import HOURS_PER_DAY, exact
from sim.rules.negotiation import DEFAULT_BLOC


@dataclass(frozen=True)
class RunTables:
    """What outcomes are computed from: a run's tables (as its files hold them)."""

    timeseries: pd.DataFrame
    events: pd.DataFrame
    towns: pd.DataFrame | None = None
    #: names of the negotiating blocs (actors of the comprehensive talks' events)
    blocs: tuple[str, ...] = (DEFAULT_BLOC,)

    @functools.cached_property
    def collapse_day(self) -> float:
        """Day the comprehensive talks first collapse (NaN if never); read by many outcomes."""
        return first_day(self.events, "talks_collapsed")

    @functools.cached_property
    def resume_day(self) -> float:
        """Day a bloc first returns to talks after a collapse (NaN if never)."""
        return first_day(self.events, "talks_resumed")


@dataclass(frozen=True)
class Outcome:
    """A named scalar outcome of a run."""

    name: str
    unit: str
    function: Callable[[RunTables], float]
    description: str = ""
    #: read on this day (a run that ends before it reads NaN)
    day: float | None = None
    #: the day of an event (a run must reach the latest day a target allows for it)
    event: bool = False
    #: read this many days after the talks' first collapse or resumption
    after_talks: float | None = None
    #: the timeseries columns it reads (a case's declared outcome: checked against the columns
    #: the case's runs write, :func:`check_outcome_series`)
    series: tuple[str, ...] = ()

    def __call__(self, tables: RunTables) -> float:
        return self.function(tables)


# --- reading the tables ----------------------------------------------------------------------
def hours(day: Any) -> Any:
    """A run's time(s) in days (records, events: whole hours) as whole hours (int64)."""
    return np.rint(np.asarray(day, dtype=np.float64) * HOURS_PER_DAY).astype(np.int64)


def value_at(ts: pd.DataFrame, column: str, day: float) -> float:
    """The column's value at the last record at or before ``day`` (any day, e.g. from a file;
    records in time order); NaN (missing) for a day past the run's last record (its horizon):
    the run says nothing about it."""
    if not len(ts):
        return math.nan
    h = exact(day) * HOURS_PER_DAY
    if h > int(hours(ts["day"].iloc[-1])):
        return math.nan
    return value_at_hour(ts, column, math.floor(h))


def value_at_hour(ts: pd.DataFrame, column: str, hour: int) -> float:
    """The column's value at the last record at or before ``hour`` (whole hours from day 0);
    NaN for an hour past the run's last record."""
    rec = hours(ts["day"].to_numpy())
    if not len(rec) or hour > rec[-1]:
        return math.nan
    i = int(np.searchsorted(rec, hour, side="right")) - 1
    return float(ts[column].iloc[i]) if i >= 0 else math.nan


def first_day(events: pd.DataFrame, kind: str, **match: Any) -> float:
    """Day of the first event of ``kind`` (matching columns; a tuple matches any of its
    values), NaN if none."""
    ev = events[events["kind"] == kind]
    for k, v in match.items():
        ev = ev[ev[k].isin(v)] if isinstance(v, tuple | list | set) else ev[ev[k] == v]
    return float(ev["day"].iloc[0]) if len(ev) else math.nan


def first_true_day(ts: pd.DataFrame, mask: pd.Series) -> float:
    """Day of the first timeseries row where ``mask`` holds, NaN if never."""
    rows = ts.loc[mask.to_numpy(), "day"]
    return float(rows.iloc[0]) if len(rows) else math.nan


def _sum(ts: pd.DataFrame, series: Sequence[str]) -> pd.Series:
    out = ts[series[0]].astype(float)
    for s in series[1:]:
        out = out + ts[s]
    return out


def _values(events: pd.DataFrame) -> pd.Series:
    return pd.to_numeric(events["value"], errors="coerce") if "value" in events else \
        pd.Series(np.nan, index=events.index)


# --- generic functions (what a case's outcomes file may name) -----------------------------------
def value_on_day(series: Sequence[str], day: float) -> Callable[[RunTables], float]:
    """The sum of ``series`` columns on ``day`` (the last record at or before it)."""
    return lambda t: float(sum(value_at(t.timeseries, s, day) for s in series))


def final(series: Sequence[str]) -> Callable[[RunTables], float]:
    """The sum of ``series`` columns at the end of the run."""
    return lambda t: float(_sum(t.timeseries, series).iloc[-1])


def peak(series: Sequence[str]) -> Callable[[RunTables], float]:
    """The largest value of the sum of ``series`` columns over the run."""
    return lambda t: float(_sum(t.timeseries, series).max())


def first_event_day(event: str, actor: str | None = None,
                    target: str | None = None) -> Callable[[RunTables], float]:
    """The day of the first event of kind ``event`` (by ``actor`` / on ``target`` if given)."""
    match = {k: v for k, v in (("actor", actor), ("target", target)) if v is not None}
    return lambda t: first_day(t.events, event, **match)


def first_day_reaching(series: Sequence[str], threshold: float,
                       strict: bool = False) -> Callable[[RunTables], float]:
    """The first day the sum of ``series`` reaches ``threshold`` (exceeds it if ``strict``)."""
    def f(t: RunTables) -> float:
        s = _sum(t.timeseries, series)
        return first_true_day(t.timeseries, s > threshold if strict else s >= threshold)
    return f


@dataclass(frozen=True)
class OutcomeFunction:
    """A generic function a case's outcomes file may name (``function = "value_on_day"``)."""

    #: what it reads: ``day`` (read on a day), ``event`` (an event's day) or ``whole`` (the run)
    reads: Literal["day", "event", "whole"]
    #: the fields of its ``[[outcome]]`` table it needs (besides name and unit)
    needs: tuple[str, ...]
    #: the outcome's function of a run's tables, from its table and the series it names
    build: Callable[[OutcomeRow, list[str]], Callable[[RunTables], float]]


#: The generic functions a case's outcomes file names, one entry each (:func:`read_outcomes_file`).
FUNCTIONS: dict[str, OutcomeFunction] = {
    "value_on_day": OutcomeFunction("day", ("series", "day"),
                                    lambda r, s: value_on_day(s, float(r.day or 0.0))),
    "final": OutcomeFunction("whole", ("series",), lambda r, s: final(s)),
    "peak": OutcomeFunction("whole", ("series",), lambda r, s: peak(s)),
    "first_event_day": OutcomeFunction("event", ("event",),
                                       lambda r, s: first_event_day(str(r.event), r.actor, r.target)),
    "first_day_reaching": OutcomeFunction(
        "event", ("series", "threshold"),
        lambda r, s: first_day_reaching(s, float(r.threshold or 0.0), r.strict)),
}


# --- generic outcomes (every case) ---------------------------------------------------------------
def _collapse(t: RunTables) -> float:
    return t.collapse_day


def _resumed(t: RunTables) -> float:
    return t.resume_day


def _settled_at(t: RunTables, hour: int) -> float:
    return (value_at_hour(t.timeseries, "towns_reconciled", hour)
            + value_at_hour(t.timeseries, "towns_captured", hour))


def _towns_settled_at_collapse(t: RunTables) -> float:
    c = _collapse(t)
    return _settled_at(t, int(hours(c))) if not math.isnan(c) else math.nan


def _localities_settled_at_collapse(t: RunTables) -> float:
    c = _collapse(t)
    return (value_at_hour(t.timeseries, "localities_settled", int(hours(c)))
            if not math.isnan(c) else math.nan)


def _towns_settled_24h_after_collapse(t: RunTables) -> float:
    c = _collapse(t)
    if math.isnan(c):
        return math.nan
    ch = int(hours(c))
    return float(_settled_at(t, ch + HOURS_PER_DAY) - _settled_at(t, ch))


def _events_after(events: pd.DataFrame, day: float, window_h: int, kind: str) -> pd.DataFrame:
    """Events of ``kind`` in the ``window_h`` hours from ``day`` on (compared in whole hours)."""
    start = int(hours(day))
    eh = hours(events["day"].to_numpy())
    return events[(eh >= start) & (eh < start + window_h) & (events["kind"] == kind).to_numpy()]


def _blitz_max_town_deaths(t: RunTables) -> float:
    """Most civilians killed in strikes on one town in the 24 h after the first collapse."""
    c = _collapse(t)
    if math.isnan(c):
        return math.nan
    cas = _events_after(t.events, c, HOURS_PER_DAY, "casualties")
    cas = cas[cas["actor"] == "regime"]
    if not len(cas):
        return 0.0
    return float(_values(cas).groupby(cas["target"]).sum().max())


def _area_handed_over_48h(t: RunTables) -> float:
    """km² handed over without a fight in the 48 h after the first collapse."""
    c = _collapse(t)
    if math.isnan(c):
        return math.nan
    after = _events_after(t.events, c, 2 * HOURS_PER_DAY, "area_handed_over")
    return float(_values(after).sum()) if len(after) else 0.0


def _blitz_intensity_ratio(t: RunTables) -> float:
    """The highest bombardment in the 24 h after the first collapse over the highest before."""
    c = _collapse(t)
    if math.isnan(c):
        return math.nan
    ts = t.timeseries
    th, ch = hours(ts["day"].to_numpy()), int(hours(c))
    pre = ts[th < ch]
    blitz = ts[_day_after(th, ch)]
    if not (len(pre) and len(blitz)):
        return math.nan
    return _ratio(float(blitz["bombardment_intensity"].max()),
                  float(pre["bombardment_intensity"].max()))


def _strikes_after_resume_ratio(t: RunTables) -> float:
    """Strikes per tick in the 24 h after the return to talks, relative to the blitz."""
    c, r = _collapse(t), _resumed(t)
    if math.isnan(r) or math.isnan(c):
        return math.nan
    ts = t.timeseries
    th = hours(ts["day"].to_numpy())
    blitz = ts[_day_after(th, int(hours(c)))]
    after = ts[_day_after(th, int(hours(r)))]
    if not (len(after) and len(blitz)):
        return math.nan
    return _ratio(float(after["strikes"].mean()), float(blitz["strikes"].mean()))


def _day_after(rec_hours: np.ndarray, hour: int) -> np.ndarray:
    """Records of the 24 h after ``hour``: later than it, at most a day later."""
    return (rec_hours > hour) & (rec_hours <= hour + HOURS_PER_DAY)


def _ratio(num: float, den: float) -> float:
    """``num / den`` for bombardment (strikes, intensity: never negative). Over a quiet period
    (``den == 0``) the ratio is 0 if the other period is quiet too, else unbounded (``inf``; before
    issue 16 the denominator was floored at a billionth: a finite but meaningless number)."""
    if den > 0:
        return num / den
    return 0.0 if num <= 0 else math.inf


def _resume_delay_h(t: RunTables) -> float:
    r = _resumed(t)
    return (r - _collapse(t)) * 24.0 if not math.isnan(r) else math.nan


def _corridors_open_day(t: RunTables) -> float:
    ts = t.timeseries
    return min(first_day(t.events, "corridors_opened"),
               first_true_day(ts, ts["corridors_open"] > 0),
               key=lambda d: math.inf if math.isnan(d) else d)


def _peak_day(t: RunTables) -> float:
    ts = t.timeseries
    return float(ts["day"].iloc[int(ts["displaced_total"].to_numpy().argmax())])


GENERIC_OUTCOMES: tuple[Outcome, ...] = (
    Outcome("start_day", "day", lambda t: float(t.timeseries["day"].iloc[0]),
            "first day of the run", day=0.0),
    Outcome("deaths_final", "persons", final(["civilian_deaths_cum"]),
            "civilians killed by the end of the run"),
    Outcome("peak_displaced", "persons", peak(["displaced_total"]),
            "most persons displaced at once"),
    Outcome("peak_day", "day", _peak_day, "day of the peak of displacement"),
    Outcome("towns_settled_at_collapse", "towns", _towns_settled_at_collapse,
            "towns reconciled or captured when comprehensive talks first collapse",
            after_talks=0.0),
    Outcome("localities_settled_at_collapse", "localities", _localities_settled_at_collapse,
            "census localities of the towns settled when comprehensive talks first collapse "
            "(each model town stands for its ``localities``)", after_talks=0.0),
    Outcome("talks_open_day", "day", first_event_day("ultimatum"),
            "day comprehensive talks first open (with the mediator's ultimatum)", event=True),
    Outcome("first_collapse_day", "day", _collapse, "day comprehensive talks first collapse",
            event=True),
    Outcome("resume_day", "day", _resumed, "day a bloc first returns to talks after a collapse",
            event=True),
    Outcome("resume_delay_h", "h", _resume_delay_h, "hours from the first collapse to the return",
            after_talks=2.0),
    Outcome("collapses", "collapses", final(["collapses"]),
            "collapses of comprehensive talks (all blocs)"),
    Outcome("deal_day", "day", lambda t: first_day(t.events, "deal_signed", actor=tuple(t.blocs)),
            "day the first comprehensive deal is signed (any bloc)", event=True),
    Outcome("evacuated", "persons", final(["evacuated_cum"]),
            "persons bused out under safe passage"),
    Outcome("returned", "persons", final(["returned_cum"]), "persons returned home"),
    Outcome("regime_share_final", "share", final(["regime_share_area"]),
            "regime's share of the case area at the end"),
    Outcome("towns_rebel_final", "towns", final(["towns_rebel"]), "rebel-held towns at the end"),
    Outcome("blitz_max_town_deaths", "persons", _blitz_max_town_deaths,
            "most civilians killed in one town in the 24 h after the first collapse",
            after_talks=1.0),
    Outcome("area_handed_over_48h_after_collapse", "km2", _area_handed_over_48h,
            "area handed over without a fight in the 48 h after the first collapse",
            after_talks=2.0),
    Outcome("blitz_intensity_ratio", "ratio", _blitz_intensity_ratio,
            "heaviest bombardment in the day after the first collapse over the heaviest before",
            after_talks=1.0),
    Outcome("towns_settled_24h_after_collapse", "towns", _towns_settled_24h_after_collapse,
            "towns settled in the 24 h after the first collapse", after_talks=1.0),
    Outcome("strikes_after_resume_ratio", "ratio", _strikes_after_resume_ratio,
            "strikes in the day after the return to talks over those of the blitz",
            after_talks=3.0),
    Outcome("corridors_open_day", "day", _corridors_open_day,
            "day corridors into government-held areas first open", event=True),
    Outcome("first_offer_day", "day", first_event_day("local_offer"),
            "day the mediator first offers a town local terms", event=True),
    Outcome("first_local_deal_day", "day", first_event_day("local_deal"),
            "day the first town settles by a local deal", event=True),
)

#: Names of the generic outcomes (a case adds its own: :func:`outcome_names`).
GENERIC_OUTCOME_NAMES: tuple[str, ...] = tuple(o.name for o in GENERIC_OUTCOMES)


def outcomes_for(case: Sequence[Outcome] = ()) -> tuple[Outcome, ...]:
    """The generic outcomes followed by a case's own."""
    return (*GENERIC_OUTCOMES, *case)


def outcome_names(case: Sequence[Outcome] = ()) -> tuple[str, ...]:
    return tuple(o.name for o in outcomes_for(case))


def summarize(ts: pd.DataFrame, events: pd.DataFrame, case: Sequence[Outcome] = (),
              towns: pd.DataFrame | None = None,
              blocs: Sequence[str] = (DEFAULT_BLOC,)) -> dict[str, Any]:
    """The summary outcomes of a run (a flat dict of numbers): the generic ones and the
    case's declared ones (``case``)."""
    return summarize_tables(RunTables(ts, events, towns, tuple(blocs)), case)


def summarize_tables(tables: RunTables, case: Sequence[Outcome] = ()) -> dict[str, Any]:
    """:func:`summarize` of a run's tables already gathered."""
    return {o.name: o(tables) for o in outcomes_for(case)}


# --- a case's outcomes file -----------------------------------------------------------------------
if TYPE_CHECKING:
    FunctionName = str
else:  # the names of FUNCTIONS, as a Literal (pydantic's error lists them)
    FunctionName = Literal[tuple(FUNCTIONS)]


class OutcomeRow(BaseModel):
    """One ``[[outcome]]`` table of a case's outcomes file (strict: TOML has types)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    unit: str
    description: str = ""
    function: FunctionName
    series: str | list[str] | None = None
    day: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    event: str | None = None
    actor: str | None = None
    target: str | None = None
    threshold: Annotated[float, Field(allow_inf_nan=False)] | None = None
    strict: bool = False
    source: str = ""


def read_outcomes_file(path: str | Path) -> tuple[Outcome, ...]:
    """A case's declared outcomes; errors name the file, the outcome and the field."""
    from sim.scenario.loader import find_line

    p = Path(path)
    if not p.is_file():
        raise ScenarioError("outcomes file not found" if not p.exists() else "is a folder",
                            file=p, fix="check world.outcomes_file (relative to the scenario file "
                                        "that sets it); a case's outcomes live beside its data")
    try:
        text = p.read_text(encoding="utf-8-sig")
        data = tomllib.loads(text)
    except UnicodeDecodeError:
        raise ScenarioError("not UTF-8 text", file=p, fix="save the file as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"TOML syntax error: {exc}", file=p,
                            fix="see https://toml.io for the syntax") from None
    rows = data.get("outcome", [])
    extra = [k for k in data if k not in ("outcome", "case", "description")]
    if extra or not isinstance(rows, list):
        raise ScenarioError(f"unknown table(s): {', '.join(extra) or 'outcome'}", file=p,
                            fix="a case's outcomes file holds [[outcome]] tables (and optional "
                                "case = ..., description = ...)")
    out: list[Outcome] = []
    seen = set(GENERIC_OUTCOME_NAMES)
    for i, raw in enumerate(rows):
        label = raw.get("name", f"outcome[{i}]") if isinstance(raw, dict) else f"outcome[{i}]"
        try:
            row = OutcomeRow.model_validate(raw)
        except ValidationError as exc:
            err = exc.errors()[0]
            fld = str(err["loc"][0]) if err["loc"] else ""
            raise ScenarioError(f"{err['msg']}", file=p, field=f"{label}.{fld}" if fld else label,
                                line=find_line(text, ("outcome", i, fld) if fld else ("outcome", i)),
                                fix="an outcome needs name, unit and function (one of "
                                    + ", ".join(FUNCTIONS) + ")") from None

        def fail(msg: str, fld: str, fix: str, i: int = i, name: str = row.name) -> ScenarioError:
            return ScenarioError(msg, file=p, field=f"{name}.{fld}",
                                 line=find_line(text, ("outcome", i, fld)), fix=fix)

        if row.name in seen:
            raise fail(f"outcome '{row.name}' is already defined"
                       + (" (a generic outcome)" if row.name in GENERIC_OUTCOME_NAMES else ""),
                       "name", "give each outcome its own name")
        seen.add(row.name)
        spec = FUNCTIONS[row.function]
        for need in spec.needs:
            if getattr(row, need) is None:
                raise fail(f"function '{row.function}' needs `{need}`", need,
                           "see the generic functions in sim/outcomes.py")
        series = [row.series] if isinstance(row.series, str) else list(row.series or [])
        out.append(Outcome(row.name, row.unit, spec.build(row, series), row.description,
                           day=row.day if spec.reads == "day" else None,
                           event=spec.reads == "event", series=tuple(series)))
    return tuple(out)


def check_outcome_series(outcomes: Sequence[Outcome], columns: Sequence[str], path: Path) -> None:
    """Every timeseries column a case's outcome reads is one the case's runs write."""
    cols = set(columns)
    for o in outcomes:
        for s in o.series:
            if s not in cols:
                import difflib

                close = difflib.get_close_matches(s, sorted(cols), n=1)
                raise ScenarioError(f"outcome '{o.name}' reads column '{s}', which the case's "
                                    "runs do not write", file=path, field=f"{o.name}.series",
                                    fix=(f"did you mean '{close[0]}'? " if close else "")
                                    + "a timeseries column: " + ", ".join(sorted(cols)))
