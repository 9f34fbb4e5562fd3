"""Calibration targets: figures, their tolerances, and the distance to them.

A targets file (the article's ``seeds/targets.toml``, the public record's ``seeds/record.toml``)
lists ``[[target]]`` tables. Each names what of a run it is compared with:

* ``outcome = "deaths_day16"``: a summary outcome of :func:`sim.outcomes.summarize`; or
* ``series = "displaced_total"`` and ``day = 7``: any timeseries column, read at the last
  record at or before that day (:func:`series_values`; NaN if the run ends before the day).
  Its key among a run's observations is ``"displaced_total@7"`` (:func:`series_key`).

and a tolerance of one of six kinds:

* ``relative``: within when ``|model - value| <= tolerance * |value|``;
* ``absolute``: within when ``|model - value| <= tolerance``;
* ``min``: within when ``model >= value`` (a lower bound, "more than 30 towns");
* ``max``: within when ``model <= value`` (an upper bound, "borders kept closed");
* ``range``: ``range = [low, high]``, within when ``low <= model <= high`` (a reported range;
  its ``value`` is the midpoint, its ``tolerance`` the half-width);
* ``day_range``: ``range = [a, b]`` in whole days: the event falls on one of days a..b, i.e.
  ``a <= model < b + 1`` (a day lasts 24 hours; midpoint ``(a + b + 1) / 2``, half-width
  ``(b + 1 - a) / 2``, at least half a day).

The *scaled error* of a target is the deviation from its value divided by its tolerance, so that
1 is the edge of the tolerance for the two-sided kinds; a ``range`` divides by the half-width
but never by less than ``RANGE_FLOOR`` (5%) of the midpoint, so that a narrow reported range
does not outweigh every other point; for the one-sided kinds it is the violation divided by the
target's ``scale`` (0 when the bound holds). An outcome that did not happen (NaN) scores
``MISSING_ERROR``; no target scores more than ``CAP_ERROR``.

The calibration distance (:func:`distance`) is the root mean square of the scaled errors with
**each targets file weighing equally** and each target equally within its file: the square root
of the mean over files of each file's mean squared error. With one file this is the plain root
mean square; with the article (14 modelled targets) and the record (28 points) each file counts
for half, so neither the many record points nor the article's few figures are drowned out.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.errors import ScenarioError

if TYPE_CHECKING:
    import pandas as pd

KINDS = ("relative", "absolute", "min", "max", "range", "day_range")
#: Smallest half-width by which a ``range`` target's deviation is divided: a share of its
#: midpoint (a 62,000-66,000 range counts as 60,800-67,200 in the distance, not in ``within``).
RANGE_FLOOR = 0.05
#: Scaled error given to an outcome that did not happen in a run (NaN), e.g. no collapse.
MISSING_ERROR = 5.0
#: Largest scaled error one target contributes (so one wild target cannot swamp the rest).
CAP_ERROR = 10.0


@dataclass(frozen=True)
class Target:
    """One figure of the article as the model must reproduce it."""

    id: str
    quantity: str
    value: float
    unit: str
    kind: str
    tolerance: float
    outcome: str
    line: int | None = None
    time: str = ""
    day: float | None = None
    scale: float | None = None
    modelled: bool = True
    never_ok: bool = False
    why: str = ""
    #: a timeseries column read at ``day`` (then ``outcome`` is ``series_key(series, day)``)
    series: str | None = None
    #: the file the target comes from (each file weighs equally in :func:`distance`)
    group: str = ""
    #: the source's key (e.g. ``OCHA-FU3``) and what it says, for record points
    source: str = ""
    says: str = ""
    #: a ``range``'s [low, high] (a ``day_range``'s [a, b + 1)) exactly as given
    interval: tuple[float, float] | None = None

    def bounds(self) -> tuple[float, float]:
        """The interval of model values counted as within tolerance (a ``day_range``'s upper
        end is open: ``[a, b + 1)``)."""
        v, t = self.value, self.tolerance
        if self.interval is not None:
            return self.interval
        if self.kind == "relative":
            return v - t * abs(v), v + t * abs(v)
        if self.kind in ("absolute", "range", "day_range"):
            return v - t, v + t
        if self.kind == "min":
            return v, math.inf
        return -math.inf, v

    def describe_tolerance(self) -> str:
        if self.kind == "relative":
            return f"±{self.tolerance:.0%}"
        if self.kind == "absolute":
            return f"±{self.tolerance:g}"
        if self.kind == "range":
            lo, hi = self.bounds()
            return f"range {_num(lo)}–{_num(hi)}"
        if self.kind == "day_range":
            lo, hi = self.bounds()
            a, b = round(lo), round(hi) - 1
            return f"day {a}" if a == b else f"days {a}–{b}"
        return "≥ value" if self.kind == "min" else "≤ value"

    def widened(self, share: float) -> tuple[float, float]:
        """The bounds widened by ``share`` of their own size on each side (e.g. 0.1: the range
        ±10%), for reporting how near a point the model comes."""
        lo, hi = self.bounds()
        return lo - share * abs(lo), hi + share * abs(hi)

    def error(self, model: float) -> float:
        """The scaled error of a model value (0 is a perfect fit, <= 1 is within tolerance
        for two-sided kinds; > 0 is outside for one-sided kinds)."""
        if model is None or (isinstance(model, float) and math.isnan(model)):
            return 0.0 if self.never_ok else MISSING_ERROR
        m = float(model)
        if self.kind in ("relative", "absolute", "range", "day_range"):
            width = self.tolerance * abs(self.value) if self.kind == "relative" else self.tolerance
            if self.kind == "range":
                width = max(width, RANGE_FLOOR * abs(self.value))
            dev = abs(m - self.value)
            if width <= 0:
                return 0.0 if dev <= 1e-9 else CAP_ERROR
            return min(dev / width, CAP_ERROR)
        violation = self.value - m if self.kind == "min" else m - self.value
        if violation <= 0:
            return 0.0
        scale = self.scale if self.scale else max(abs(self.value), 1.0)
        return min(violation / scale, CAP_ERROR)

    def within(self, model: float) -> bool:
        """Whether a model value is within the target's tolerance."""
        if model is None or (isinstance(model, float) and math.isnan(model)):
            return self.never_ok
        lo, hi = self.bounds()
        if self.kind == "day_range":
            return lo - 1e-9 <= float(model) < hi - 1e-9
        return lo - 1e-9 <= float(model) <= hi + 1e-9

    def within_widened(self, model: float, share: float = 0.1) -> bool:
        """Whether a model value is within the bounds widened by ``share`` (:meth:`widened`)."""
        if model is None or (isinstance(model, float) and math.isnan(model)):
            return self.never_ok
        lo, hi = self.widened(share)
        return lo - 1e-9 <= float(model) <= hi + 1e-9


def _num(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:g}"


def series_key(series: str, day: float) -> str:
    """The observation key of a timeseries column read at a day, e.g. ``displaced_total@7``."""
    return f"{series}@{day:g}"


_REQUIRED = ("id", "quantity", "unit", "kind", "why")


def _fail(path: Path, msg: str, field: str | None = None, fix: str | None = None) -> ScenarioError:
    return ScenarioError(msg, file=path, field=field, fix=fix)


def known_series() -> tuple[str, ...]:
    """Numeric timeseries columns every model writes (the case adds ``regime_share_<governorate>``
    columns, which :func:`load_targets` accepts by their prefix)."""
    from sim.model import TIMESERIES_COLUMNS

    return tuple(c for c in TIMESERIES_COLUMNS if c not in ("time", "negotiation_state"))


#: Per-region columns (one per governorate of the case), accepted by prefix.
REGION_SERIES_PREFIX = "regime_share_"


def _range(p: Path, t: Mapping[str, Any], tid: str, kind: str) -> tuple[float, float, float, float]:
    r = t.get("range")
    ok = isinstance(r, list) and len(r) == 2 and all(
        isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x) for x in r)
    if not ok or r[0] > r[1]:
        raise _fail(p, f"range must be two numbers [low, high] with low <= high, got {r!r}",
                    field=f"{tid}.range", fix="e.g. range = [45000, 50000]"
                    + ("; for days, range = [9, 12] (days 9 to 12)" if kind == "day_range" else ""))
    lo, hi = float(r[0]), float(r[1])
    if kind == "day_range":
        if not (lo.is_integer() and hi.is_integer()):
            raise _fail(p, f"a day_range names whole days, got {r!r}", field=f"{tid}.range",
                        fix="e.g. range = [9, 12] for days 9 to 12 (the event falls in [9, 13))")
        hi += 1.0
    return (lo + hi) / 2.0, (hi - lo) / 2.0, lo, hi


def load_target_files(paths: Sequence[str | Path], known_outcomes: Sequence[str] | None = None
                      ) -> list[Target]:
    """Read several targets files (e.g. the article's and the record's) as one list; target ids
    must be unique across them. Each file is a group of its own in :func:`distance`."""
    out: list[Target] = []
    where: dict[str, Path] = {}
    for path in paths:
        for t in load_targets(path, known_outcomes):
            if t.id in where:
                raise _fail(Path(path), f"target id '{t.id}' is also in {where[t.id]}",
                            field=t.id, fix="give each target its own id across the files")
            where[t.id] = Path(path)
            out.append(t)
    return out


def load_targets(path: str | Path, known_outcomes: Sequence[str] | None = None) -> list[Target]:
    """Read a targets file; every target checked (kind, tolerance or range, outcome or series)."""
    p = Path(path)
    if not p.exists():
        raise _fail(p, "file not found", fix="the article's targets are in seeds/targets.toml")
    if p.is_dir():
        raise _fail(p, "is a folder, not a targets file", fix="name a .toml file")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise _fail(p, f"TOML syntax error: {exc}", fix="see https://toml.io for the syntax") from None
    except UnicodeDecodeError:
        raise _fail(p, "is not a UTF-8 text file", fix="name a .toml file") from None
    raw = data.get("target")
    if not isinstance(raw, list) or not raw:
        raise _fail(p, "no [[target]] tables", field="target",
                    fix="add [[target]] tables with id, quantity, value, unit, kind, tolerance, "
                        "outcome and why (see seeds/targets.toml)")
    if known_outcomes is None:
        from sim.outcomes import OUTCOME_NAMES

        known_outcomes = OUTCOME_NAMES
    out: list[Target] = []
    seen: set[str] = set()
    for i, t in enumerate(raw):
        where = f"target[{i}]"
        if not isinstance(t, dict):
            raise _fail(p, "must be a table", field=where, fix="write it as a [[target]] table")
        missing = [k for k in _REQUIRED if k not in t]
        if missing:
            raise _fail(p, f"missing {', '.join(missing)}", field=f"{where} ({t.get('id', '?')})",
                        fix="each target needs " + ", ".join(_REQUIRED))
        tid = str(t["id"])
        if tid in seen:
            raise _fail(p, f"duplicate target id '{tid}'", field=where, fix="give each target its own id")
        seen.add(tid)
        kind = t["kind"]
        if kind not in KINDS:
            raise _fail(p, f"unknown tolerance kind '{kind}'", field=f"{tid}.kind",
                        fix=f"use one of {', '.join(KINDS)}")
        interval = None
        if kind in ("range", "day_range"):
            value, tol, lo, hi = _range(p, t, tid, kind)
            interval = (lo, hi)
        else:
            for k in ("value", "tolerance"):
                if k not in t:
                    raise _fail(p, f"missing {k}", field=f"{tid}",
                                fix=f"a '{kind}' target needs value and tolerance")
            try:
                value, tol = float(t["value"]), float(t["tolerance"])
            except (TypeError, ValueError):
                raise _fail(p, "value and tolerance must be numbers", field=tid,
                            fix="e.g. value = 150 and tolerance = 0.25") from None
        if tol < 0 or math.isnan(tol):
            raise _fail(p, f"tolerance must be >= 0, got {t['tolerance']}", field=f"{tid}.tolerance",
                        fix="0 for an exact or one-sided target, else the allowed deviation")
        modelled = bool(t.get("modelled", True))
        day = t.get("day")
        series = t.get("series")
        if series is not None:
            series = str(series)
            if "outcome" in t:
                raise _fail(p, "names both an outcome and a series", field=tid,
                            fix="use outcome = ... (a summary outcome) or series = ... with day = ...")
            if not isinstance(day, int | float) or isinstance(day, bool) or not math.isfinite(day) or day < 0:
                raise _fail(p, f"a series target needs a day >= 0, got {day!r}", field=f"{tid}.day",
                            fix="e.g. day = 7 (days since the scenario's start date)")
            columns = known_series()
            if series not in columns and not series.startswith(REGION_SERIES_PREFIX):
                import difflib

                close = difflib.get_close_matches(series, list(columns), n=1)
                raise _fail(p, f"unknown timeseries column '{series}'", field=f"{tid}.series",
                            fix=(f"did you mean '{close[0]}'? " if close else "")
                            + "a numeric column of timeseries.csv: " + ", ".join(columns)
                            + f", or {REGION_SERIES_PREFIX}<governorate>")
        outcome = series_key(series, float(day)) if series is not None else str(t.get("outcome", ""))
        if modelled and series is None and outcome not in known_outcomes:
            import difflib

            close = difflib.get_close_matches(outcome, list(known_outcomes), n=1)
            raise _fail(p, f"unknown outcome '{outcome}'", field=f"{tid}.outcome",
                        fix=(f"did you mean '{close[0]}'? " if close else "")
                        + "outcomes are the keys of sim.outcomes.summarize, or set modelled = false")
        scale = t.get("scale")
        out.append(Target(id=tid, quantity=str(t["quantity"]), value=value, unit=str(t["unit"]),
                          kind=kind, tolerance=tol, outcome=outcome,
                          line=int(t["line"]) if "line" in t else None, time=str(t.get("time", "")),
                          day=float(day) if day is not None else None,
                          scale=float(scale) if scale is not None else None,
                          modelled=modelled, never_ok=bool(t.get("never_ok", False)),
                          why=str(t["why"]), series=series, group=str(p),
                          source=str(t.get("source", "")), says=str(t.get("says", "")),
                          interval=interval))
    return out


def modelled(targets: Sequence[Target]) -> list[Target]:
    """The targets the model represents (``modelled = true``)."""
    return [t for t in targets if t.modelled]


def series_values(ts: pd.DataFrame, targets: Sequence[Target]) -> dict[str, float]:
    """The series targets' observations of one run: each column at the last record at or before
    its day (NaN if the run ends before that day)."""
    from sim.outcomes import value_at

    last = float(ts["day"].iloc[-1]) if len(ts) else -math.inf
    out: dict[str, float] = {}
    for t in targets:
        if t.series is None or not t.modelled or t.day is None:
            continue
        out[t.outcome] = value_at(ts, t.series, t.day) if t.day <= last + 1e-9 else math.nan
    return out


def observations(ts: pd.DataFrame, events: pd.DataFrame, targets: Sequence[Target]) -> dict[str, Any]:
    """Everything the targets read from one run: the summary outcomes and the series values."""
    from sim.outcomes import summarize

    return {**summarize(ts, events), **series_values(ts, targets)}


def errors(outcomes: Mapping[str, Any], targets: Sequence[Target]) -> dict[str, float]:
    """Scaled error of each modelled target for one run's outcomes (or observations)."""
    return {t.id: t.error(outcomes.get(t.outcome, math.nan)) for t in modelled(targets)}


def distance(outcomes: Mapping[str, Any], targets: Sequence[Target]) -> float:
    """Root mean square of the scaled errors, each file (``group``) weighing equally: the square
    root of the mean over files of each file's mean squared error (the plain root mean square
    when all targets come from one file). Each target weighs by its tolerance."""
    e = errors(outcomes, targets)
    groups: dict[str, list[float]] = {}
    for t in modelled(targets):
        groups.setdefault(t.group, []).append(e[t.id])
    if not groups:
        return 0.0
    return math.sqrt(sum(sum(x * x for x in g) / len(g) for g in groups.values()) / len(groups))


def days_needed(targets: Sequence[Target]) -> dict[str, float]:
    """Per modelled target (by id): the last day a run must reach for the target to be read as
    in a full run (``math.inf``: the whole run, e.g. a peak or a final value).

    Series targets and fixed-day outcomes need their day; event days need the latest day their
    tolerance allows (a lower bound that ``never_ok`` satisfies: its day); outcomes read in a
    window after the talks' collapse or resumption need that window past the latest collapse or
    resumption day a target of the set allows (:data:`sim.outcomes.AFTER_TALKS_DAYS`; the whole
    run if no target bounds those days). A run cut there can differ from a full run only where
    the full run is already outside a target's tolerance (a late event reads NaN, i.e.
    ``MISSING_ERROR``)."""
    from sim.outcomes import AFTER_TALKS_DAYS, EVENT_DAY_OUTCOMES, OUTCOME_DAY

    def event_day(t: Target) -> float:
        lo, hi = t.bounds()
        if t.kind == "min":
            return lo if t.never_ok else math.inf
        return hi

    mod = modelled(targets)
    talks = [event_day(t) for t in mod if t.outcome in ("first_collapse_day", "resume_day")]
    anchor = max(talks) if talks else math.inf
    out: dict[str, float] = {}
    for t in mod:
        if t.series is not None and t.day is not None:
            out[t.id] = t.day
        elif t.outcome in OUTCOME_DAY:
            out[t.id] = OUTCOME_DAY[t.outcome]
        elif t.outcome in EVENT_DAY_OUTCOMES:
            out[t.id] = event_day(t)
        elif t.outcome in AFTER_TALKS_DAYS:
            out[t.id] = anchor + AFTER_TALKS_DAYS[t.outcome]
        else:
            out[t.id] = math.inf
    return out


def horizon_needed(targets: Sequence[Target]) -> float:
    """The last day a run must reach for every target (:func:`days_needed`; 0 if none)."""
    return max(days_needed(targets).values(), default=0.0)
