"""Calibration targets: the article's figures, their tolerances, and the distance to them.

A targets file (``seeds/targets.toml``) lists ``[[target]]`` tables, each naming a summary
outcome of :func:`sim.outcomes.summarize` and a tolerance of one of four kinds:

* ``relative``: within when ``|model - value| <= tolerance * |value|``;
* ``absolute``: within when ``|model - value| <= tolerance``;
* ``min``: within when ``model >= value`` (a lower bound, "more than 30 towns");
* ``max``: within when ``model <= value`` (an upper bound, "borders kept closed").

The *scaled error* of a target is the deviation divided by its tolerance, so that 1 is the edge
of the tolerance for the two-sided kinds; for the one-sided kinds it is the violation divided by
the target's ``scale`` (0 when the bound holds). The calibration distance is the root mean
square of the scaled errors: every target weighs by its own tolerance.
"""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim.errors import ScenarioError

KINDS = ("relative", "absolute", "min", "max")
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

    def bounds(self) -> tuple[float, float]:
        """The interval of model values counted as within tolerance."""
        v, t = self.value, self.tolerance
        if self.kind == "relative":
            return v - t * abs(v), v + t * abs(v)
        if self.kind == "absolute":
            return v - t, v + t
        if self.kind == "min":
            return v, math.inf
        return -math.inf, v

    def describe_tolerance(self) -> str:
        if self.kind == "relative":
            return f"±{self.tolerance:.0%}"
        if self.kind == "absolute":
            return f"±{self.tolerance:g}"
        return "≥ value" if self.kind == "min" else "≤ value"

    def error(self, model: float) -> float:
        """The scaled error of a model value (0 is a perfect fit, <= 1 is within tolerance
        for two-sided kinds; > 0 is outside for one-sided kinds)."""
        if model is None or (isinstance(model, float) and math.isnan(model)):
            return 0.0 if self.never_ok else MISSING_ERROR
        m = float(model)
        if self.kind in ("relative", "absolute"):
            width = self.tolerance * abs(self.value) if self.kind == "relative" else self.tolerance
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
        return lo - 1e-9 <= float(model) <= hi + 1e-9


def _fail(path: Path, msg: str, field: str | None = None, fix: str | None = None) -> ScenarioError:
    return ScenarioError(msg, file=path, field=field, fix=fix)


class TargetRow(BaseModel):
    """One ``[[target]]`` table of a targets file, as written (strict types: TOML has them, so
    ``modelled = "false"`` or ``line = "12"`` are errors, not silently converted)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    id: Annotated[str, Field(min_length=1)]
    quantity: str
    value: Annotated[float, Field(allow_inf_nan=False)]
    unit: str
    kind: Literal["relative", "absolute", "min", "max"]
    tolerance: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    why: str
    outcome: str = ""
    line: Annotated[int, Field(ge=1)] | None = None
    time: str | dt.date | dt.datetime = ""
    day: Annotated[float, Field(allow_inf_nan=False)] | None = None
    scale: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    modelled: bool = True
    never_ok: bool = False


_FIXES = {
    "value": "a finite number, e.g. value = 150",
    "tolerance": "a number >= 0: the allowed deviation (0 for an exact or one-sided target)",
    "line": "the article's line number, a whole number >= 1 (no quotes)",
    "day": "days since 2018-06-19, a finite number (no quotes)",
    "scale": "a number > 0: the violation that counts like the edge of a two-sided tolerance",
    "modelled": "true or false (no quotes)",
    "never_ok": "true or false (no quotes)",
    "kind": f"one of {', '.join(KINDS)}",
}


def load_targets(path: str | Path, known_outcomes: Sequence[str] | None = None) -> list[Target]:
    """Read a targets file; every target checked against :class:`TargetRow` (types, kinds,
    finite values, tolerances) and its outcome name; errors name the file, line and field."""
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
        from sim.outcomes import OUTCOME_NAMES

        known_outcomes = OUTCOME_NAMES
    out: list[Target] = []
    seen: set[str] = set()
    for i, t in enumerate(raw):
        if not isinstance(t, dict):
            raise _fail(p, "must be a table", field=f"target[{i}]", fix="write it as a [[target]] table")
        label = t["id"] if isinstance(t.get("id"), str) and t["id"] else f"target[{i}]"
        try:
            row = TargetRow.model_validate(t)
        except ValidationError as exc:
            err = exc.errors()[0]
            name = str(err["loc"][0]) if err["loc"] else ""
            if err["type"] == "missing":
                msg, fix = "required field is missing", "each target needs id, quantity, value, unit, kind, " \
                    "tolerance, why (and outcome unless modelled = false)"
            elif err["type"] == "extra_forbidden":
                import difflib

                close = difflib.get_close_matches(name, list(TargetRow.model_fields), n=1)
                msg = "unknown field"
                fix = (f"did you mean '{close[0]}'? " if close else "") + "allowed: " + ", ".join(
                    TargetRow.model_fields)
            else:
                msg, fix = f"{err['msg']} (got {err.get('input')!r})", _FIXES.get(name)
            raise ScenarioError(msg, file=p, field=f"{label}.{name}" if name else label,
                                line=find_line(text, ("target", i, name) if name else ("target", i)),
                                fix=fix) from None
        tid = row.id
        if tid in seen:
            raise ScenarioError(f"duplicate target id '{tid}'", file=p, field=f"target[{i}].id",
                                line=find_line(text, ("target", i, "id")), fix="give each target its own id")
        seen.add(tid)
        if row.modelled and row.outcome not in known_outcomes:
            import difflib

            close = difflib.get_close_matches(row.outcome, list(known_outcomes), n=1)
            raise ScenarioError(f"unknown outcome '{row.outcome}'", file=p, field=f"{tid}.outcome",
                                line=find_line(text, ("target", i, "outcome")),
                                fix=(f"did you mean '{close[0]}'? " if close else "")
                                + "outcomes are the keys of sim.outcomes.summarize, or set modelled = false")
        out.append(Target(id=tid, quantity=row.quantity, value=float(row.value), unit=row.unit,
                          kind=row.kind, tolerance=float(row.tolerance), outcome=row.outcome,
                          line=row.line, time=str(row.time), day=row.day, scale=row.scale,
                          modelled=row.modelled, never_ok=row.never_ok, why=row.why))
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
            t = replace(t, value=t.value * factor,
                        tolerance=t.tolerance * factor if t.kind == "absolute" else t.tolerance,
                        scale=t.scale * factor if t.scale is not None else None)
        out.append(t)
    return out


def modelled(targets: Sequence[Target]) -> list[Target]:
    """The targets the model represents (``modelled = true``)."""
    return [t for t in targets if t.modelled]


def errors(outcomes: Mapping[str, Any], targets: Sequence[Target]) -> dict[str, float]:
    """Scaled error of each modelled target for one run's outcomes."""
    return {t.id: t.error(outcomes.get(t.outcome, math.nan)) for t in modelled(targets)}


def distance(outcomes: Mapping[str, Any], targets: Sequence[Target]) -> float:
    """Root mean square of the scaled errors: each target weighed by its tolerance."""
    e = list(errors(outcomes, targets).values())
    return math.sqrt(sum(x * x for x in e) / len(e)) if e else 0.0
