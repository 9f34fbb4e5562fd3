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

import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


_REQUIRED = ("id", "quantity", "value", "unit", "kind", "tolerance", "why")


def _fail(path: Path, msg: str, field: str | None = None, fix: str | None = None) -> ScenarioError:
    return ScenarioError(msg, file=path, field=field, fix=fix)


def load_targets(path: str | Path, known_outcomes: Sequence[str] | None = None) -> list[Target]:
    """Read a targets file; every target checked (kind, tolerance, outcome name)."""
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
        try:
            value, tol = float(t["value"]), float(t["tolerance"])
        except (TypeError, ValueError):
            raise _fail(p, "value and tolerance must be numbers", field=tid,
                        fix="e.g. value = 150 and tolerance = 0.25") from None
        if tol < 0 or math.isnan(tol):
            raise _fail(p, f"tolerance must be >= 0, got {t['tolerance']}", field=f"{tid}.tolerance",
                        fix="0 for an exact or one-sided target, else the allowed deviation")
        modelled = bool(t.get("modelled", True))
        outcome = str(t.get("outcome", ""))
        if modelled and outcome not in known_outcomes:
            import difflib

            close = difflib.get_close_matches(outcome, list(known_outcomes), n=1)
            raise _fail(p, f"unknown outcome '{outcome}'", field=f"{tid}.outcome",
                        fix=(f"did you mean '{close[0]}'? " if close else "")
                        + "outcomes are the keys of sim.outcomes.summarize, or set modelled = false")
        scale = t.get("scale")
        day = t.get("day")
        out.append(Target(id=tid, quantity=str(t["quantity"]), value=value, unit=str(t["unit"]),
                          kind=kind, tolerance=tol, outcome=outcome,
                          line=int(t["line"]) if "line" in t else None, time=str(t.get("time", "")),
                          day=float(day) if day is not None else None,
                          scale=float(scale) if scale is not None else None,
                          modelled=modelled, never_ok=bool(t.get("never_ok", False)),
                          why=str(t["why"])))
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
