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

import datetime as dt
import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim.errors import ScenarioError
from sim.rules.clock import exact

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


def _tolerance_interval[N: (float, Fraction)](kind: str, v: N, t: N) -> tuple[N | float, N | float]:
    """The tolerance interval of a target of ``kind`` with value ``v`` and tolerance ``t``, in
    the arithmetic of ``v`` and ``t`` (floats, or exact fractions)."""
    if kind == "relative":
        return v - t * abs(v), v + t * abs(v)
    if kind in ("absolute", "range", "day_range"):
        return v - t, v + t
    if kind == "min":
        return v, math.inf
    return -math.inf, v


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
        if self.interval is not None:
            return self.interval
        return _tolerance_interval(self.kind, self.value, self.tolerance)

    def exact_bounds(self) -> tuple[Fraction | float, Fraction | float]:
        """:meth:`bounds` computed exactly from the decimals written in the targets file
        (:func:`sim.rules.clock.exact`), infinite ends as ``±inf``: a model value on a bound
        (150 persons for "120-150", day 15.25 for "day 15") is within it whatever the binary
        rounding of ``value - tolerance``."""
        if self.interval is not None:
            return _exact_or_inf(self.interval[0]), _exact_or_inf(self.interval[1])
        return _tolerance_interval(self.kind, exact(self.value), exact(self.tolerance))

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
            if width <= 0:  # an exact target: met only by its value exactly (as written)
                return 0.0 if _exact_or_inf(m) == exact(self.value) else CAP_ERROR
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
        lo, hi = self.exact_bounds()
        x = _exact_or_inf(float(model), binary=True)
        if self.kind == "day_range":
            return lo <= x < hi
        return lo <= x <= hi

    def within_widened(self, model: float, share: float = 0.1) -> bool:
        """Whether a model value is within the bounds widened by ``share`` of their own size on
        each side (e.g. 0.1: the range ±10%), for reporting how near a point the model comes."""
        if model is None or (isinstance(model, float) and math.isnan(model)):
            return self.never_ok
        lo, hi = self.exact_bounds()
        w = exact(share)
        x = _exact_or_inf(float(model), binary=True)
        return _widen(lo, -w) <= x <= _widen(hi, w)


def _exact_or_inf(x: float, binary: bool = False) -> Fraction | float:
    """A finite number as an exact fraction: the decimal it was written as (a file's), or with
    ``binary`` the float's own value (a model's); infinities stay floats."""
    if math.isinf(x):
        return x
    return Fraction(x) if binary else exact(x)


def _widen(bound: Fraction | float, share: Fraction) -> Fraction | float:
    """A bound moved outward by ``share`` of its own size (``share`` < 0: the lower bound)."""
    return bound if isinstance(bound, float) else bound + share * abs(bound)


def _num(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:g}"


def series_key(series: str, day: float) -> str:
    """The observation key of a timeseries column read at a day, e.g. ``displaced_total@7``."""
    return f"{series}@{day:g}"


def _fail(path: Path, msg: str, field: str | None = None, fix: str | None = None) -> ScenarioError:
    return ScenarioError(msg, file=path, field=field, fix=fix)


def known_series() -> tuple[str, ...]:
    """Numeric timeseries columns a run may write: the generic ones and every zone column of
    the project's cases (``scenarios/data/*/zones.csv``); the case adds
    ``regime_share_<governorate>`` columns, which :func:`load_targets` accepts by their prefix."""
    from sim.model import TIMESERIES_COLUMNS

    cols = [c for c in TIMESERIES_COLUMNS if c not in ("time", "negotiation_state")]
    from sim.world.case import read_folder_zones

    for zones in project_cases("zones.csv"):
        try:
            for z in read_folder_zones(zones.parent):
                cols += [c for c in (z.column, z.crossed_column, z.arrived_column) if c]
        except ScenarioError:
            continue
    return tuple(dict.fromkeys(cols))


def project_cases(name: str) -> list[Path]:
    """A file of every case of the project (``scenarios/data/<case>/<name>``) that exists."""
    from sim.scenario.loader import default_scenarios_dir

    return sorted(p for p in (default_scenarios_dir() / "data").glob(f"*/{name}") if p.is_file())


def project_outcomes() -> dict[str, Any]:
    """Every outcome a target may name when no case is given: the generic outcomes and those
    every case of the project declares (``scenarios/data/*/outcomes.toml``), by name."""
    from sim.outcomes import GENERIC_OUTCOMES, read_outcomes_file

    out = {o.name: o for o in GENERIC_OUTCOMES}
    for f in project_cases("outcomes.toml"):
        try:
            out.update({o.name: o for o in read_outcomes_file(f)})
        except ScenarioError:
            continue
    return out


#: Per-region columns (one per governorate of the case), accepted by prefix.
REGION_SERIES_PREFIX = "regime_share_"


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


Finite = Annotated[float, Field(allow_inf_nan=False)]


class TargetRow(BaseModel):
    """One ``[[target]]`` table of a targets file, as written (strict types: TOML has them, so
    ``modelled = "false"`` or ``line = "12"`` are errors, not silently converted)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    id: Annotated[str, Field(min_length=1)]
    quantity: str
    unit: str
    kind: Literal["relative", "absolute", "min", "max", "range", "day_range"]
    why: str
    value: Finite | None = None
    tolerance: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    range: Annotated[list[Finite], Field(min_length=2, max_length=2)] | None = None
    outcome: str | None = None
    series: Annotated[str, Field(min_length=1)] | None = None
    line: Annotated[int, Field(ge=1)] | None = None
    time: str | dt.date | dt.datetime = ""
    day: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    scale: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    modelled: bool = True
    never_ok: bool = False
    source: str = ""
    says: str = ""


_FIXES = {
    "value": "a finite number, e.g. value = 150",
    "tolerance": "a number >= 0: the allowed deviation (0 for an exact or one-sided target)",
    "range": "two numbers [low, high], e.g. range = [45000, 50000]; for days range = [9, 12]",
    "line": "the article's line number, a whole number >= 1 (no quotes)",
    "day": "days since the scenario's start date, a finite number >= 0 (no quotes)",
    "scale": "a number > 0: the violation that counts like the edge of a two-sided tolerance",
    "modelled": "true or false (no quotes)",
    "never_ok": "true or false (no quotes)",
    "kind": f"one of {', '.join(KINDS)}",
}


def _row_error(p: Path, text: str, i: int, label: str, exc: ValidationError) -> ScenarioError:
    from sim.scenario.loader import find_line

    err = exc.errors()[0]
    name = str(err["loc"][0]) if err["loc"] else ""
    fix: str | None
    if err["type"] == "missing":
        msg, fix = "required field is missing", "each target needs id, quantity, unit, kind, why"
    elif err["type"] == "extra_forbidden":
        import difflib

        close = difflib.get_close_matches(name, list(TargetRow.model_fields), n=1)
        msg = "unknown field"
        fix = (f"did you mean '{close[0]}'? " if close else "") + "allowed: " + ", ".join(
            TargetRow.model_fields)
    else:
        msg, fix = f"{err['msg']} (got {err.get('input')!r})", _FIXES.get(name)
    return ScenarioError(msg, file=p, field=f"{label}.{name}" if name else label,
                         line=find_line(text, ("target", i, name) if name else ("target", i)), fix=fix)


def _interval(row: TargetRow) -> tuple[float, float, float, float]:
    """(value, tolerance, low, high) of a ``range`` or ``day_range`` row (checked)."""
    assert row.range is not None
    lo, hi = float(row.range[0]), float(row.range[1])
    if lo > hi:
        raise ValueError(f"range must be [low, high] with low <= high, got {row.range!r}")
    if row.kind == "day_range":
        if not (lo.is_integer() and hi.is_integer()):
            raise ValueError(f"a day_range names whole days, got {row.range!r}; e.g. range = [9, 12] "
                             "for days 9 to 12 (the event falls in [9, 13))")
        hi += 1.0
    return (lo + hi) / 2.0, (hi - lo) / 2.0, lo, hi


def load_targets(path: str | Path, known_outcomes: Sequence[str] | None = None) -> list[Target]:
    """Read a targets file; every target checked against :class:`TargetRow` (types, kinds,
    finite values, tolerances or ranges) and its outcome or series; errors name the file, line
    and field."""
    from sim.scenario.loader import find_line

    p = Path(path)
    if not p.exists():
        raise _fail(p, "file not found", fix="the article's targets are in seeds/targets.toml")
    if p.is_dir():
        raise _fail(p, "is a folder, not a targets file", fix="name a .toml file")
    try:
        text = p.read_text(encoding="utf-8")
        data = tomllib.loads(text)
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
        known_outcomes = tuple(project_outcomes())
    out: list[Target] = []
    seen: set[str] = set()
    columns: tuple[str, ...] | None = None
    for i, t in enumerate(raw):
        if not isinstance(t, dict):
            raise _fail(p, "must be a table", field=f"target[{i}]", fix="write it as a [[target]] table")
        label = t["id"] if isinstance(t.get("id"), str) and t["id"] else f"target[{i}]"
        try:
            row = TargetRow.model_validate(t)
        except ValidationError as exc:
            raise _row_error(p, text, i, label, exc) from None
        tid = row.id

        def fail(msg: str, name: str, fix: str | None, tid: str = tid, i: int = i) -> ScenarioError:
            return ScenarioError(msg, file=p, field=f"{tid}.{name}",
                                 line=find_line(text, ("target", i, name)), fix=fix)

        if tid in seen:
            raise ScenarioError(f"duplicate target id '{tid}'", file=p, field=f"target[{i}].id",
                                line=find_line(text, ("target", i, "id")), fix="give each target its own id")
        seen.add(tid)
        interval = None
        if row.kind in ("range", "day_range"):
            if row.range is None:
                raise fail("required field is missing", "range", f"a '{row.kind}' target needs "
                           + _FIXES["range"])
            try:
                value, tol, lo, hi = _interval(row)
            except ValueError as exc:
                raise fail(str(exc), "range", _FIXES["range"]) from None
            interval = (lo, hi)
        else:
            for k in ("value", "tolerance"):
                if getattr(row, k) is None:
                    raise fail("required field is missing", k,
                               f"a '{row.kind}' target needs value and tolerance; {_FIXES[k]}")
            value, tol = float(row.value or 0.0), float(row.tolerance or 0.0)
        series = row.series
        if series is not None:
            if row.outcome is not None:
                raise fail("names both an outcome and a series", "series",
                           "use outcome = ... (a summary outcome) or series = ... with day = ...")
            if row.day is None:
                raise fail("a series target needs a day", "day",
                           "e.g. day = 7 (days since the scenario's start date)")
            if columns is None:  # the case files are read once per targets file
                columns = known_series()
            if series not in columns and not series.startswith(REGION_SERIES_PREFIX):
                import difflib

                close = difflib.get_close_matches(series, list(columns), n=1)
                raise fail(f"unknown timeseries column '{series}'", "series",
                           (f"did you mean '{close[0]}'? " if close else "")
                           + "a numeric column of timeseries.csv: " + ", ".join(columns)
                           + f", or {REGION_SERIES_PREFIX}<governorate>")
            outcome = series_key(series, float(row.day))
        else:
            outcome = row.outcome or ""
            if row.modelled and outcome not in known_outcomes:
                import difflib

                close = difflib.get_close_matches(outcome, list(known_outcomes), n=1)
                raise fail(f"unknown outcome '{outcome}'", "outcome",
                           (f"did you mean '{close[0]}'? " if close else "")
                           + "an outcome is a generic one (sim/outcomes.py) or one the case "
                             "declares in its outcomes.toml (or a series = timeseries column with "
                             "a day), or set modelled = false")
        out.append(Target(id=tid, quantity=row.quantity, value=value, unit=row.unit,
                          kind=row.kind, tolerance=tol, outcome=outcome, line=row.line,
                          time=str(row.time), day=row.day, scale=row.scale,
                          modelled=row.modelled, never_ok=row.never_ok, why=row.why,
                          series=series, group=str(p), source=row.source, says=row.says,
                          interval=interval))
    return out


#: Units of targets that count persons: they scale with the population (``world.population_scale``).
COUNT_UNITS = ("persons",)


def scale_counts(targets: Sequence[Target], factor: float) -> list[Target]:
    """The targets as they apply to a population scaled by ``factor``: a count of persons (its
    value, an absolute tolerance and a one-sided ``scale``) is multiplied by ``factor``, as
    ``negsim plot curves`` draws them; days, ratios and areas are unchanged."""
    if factor == 1:
        return list(targets)
    out = []
    for t in targets:
        if t.unit in COUNT_UNITS:
            interval = (t.interval[0] * factor, t.interval[1] * factor) \
                if t.interval is not None else None
            t = replace(t, value=t.value * factor,
                        tolerance=t.tolerance * factor if t.kind in ("absolute", "range")
                        else t.tolerance,
                        scale=t.scale * factor if t.scale is not None else None,
                        interval=interval)
        out.append(t)
    return out


def modelled(targets: Sequence[Target]) -> list[Target]:
    """The targets the model represents (``modelled = true``)."""
    return [t for t in targets if t.modelled]


def series_values(ts: pd.DataFrame, targets: Sequence[Target]) -> dict[str, float]:
    """The series targets' observations of one run: each column at the last record at or before
    its day (NaN if the run ends before that day)."""
    from sim.outcomes import value_at

    out: dict[str, float] = {}
    for t in targets:
        if t.series is None or not t.modelled or t.day is None:
            continue
        out[t.outcome] = value_at(ts, t.series, t.day)  # NaN past the run's last record
    return out


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


def days_needed(targets: Sequence[Target],
                outcomes: Mapping[str, Any] | None = None) -> dict[str, float]:
    """Per modelled target (by id): the last day a run must reach for the target to be read as
    in a full run (``math.inf``: the whole run, e.g. a peak or a final value).

    Series targets and fixed-day outcomes need their day; event days need the latest day their
    tolerance allows (a lower bound that ``never_ok`` satisfies: its day); outcomes read in a
    window after the talks' collapse or resumption need that window past the latest collapse or
    resumption day a target of the set allows (``Outcome.after_talks``; the whole
    run if no target bounds those days). Each outcome says which it is (:class:`sim.outcomes.
    Outcome`); ``outcomes`` maps names to them (default: the project's, :func:`project_outcomes`).
    A run cut there can differ from a full run only where
    the full run is already outside a target's tolerance (a late event reads NaN, i.e.
    ``MISSING_ERROR``)."""
    reg = dict(outcomes) if outcomes is not None else project_outcomes()

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
        o = reg.get(t.outcome)
        if t.series is not None and t.day is not None:
            out[t.id] = t.day
        elif o is not None and o.day is not None:
            out[t.id] = o.day
        elif o is not None and o.event:
            out[t.id] = event_day(t)
        elif o is not None and o.after_talks is not None:
            out[t.id] = anchor + o.after_talks
        else:
            out[t.id] = math.inf
    return out


def horizon_needed(targets: Sequence[Target]) -> float:
    """The last day a run must reach for every target (:func:`days_needed`; 0 if none)."""
    return max(days_needed(targets).values(), default=0.0)
