"""Hypothesis strategies generated from the parameter schema (``sim/scenario/schema.py``).

Every numeric parameter is drawn from its declared range (the ``ge``/``le``/``gt``/``lt``
constraints in the pydantic field's metadata), booleans and choices from their values; so a new
parameter in the schema is covered without touching this file. Only what makes a property run
cheap is narrowed here (population scale, horizon) and what the case data fix (faction names,
file paths). Scenarios are drawn over **every case of the project** (:func:`cases`: each
``scenarios/baseline.toml`` and ``scenarios/<case>/baseline.toml``, i.e. Daraa and Eastern
Ghouta): its data files, its factions (and their blocs), its towns and its borders.
``invalid_assignments`` draws values just outside a field's range.
"""

from __future__ import annotations

import functools
import math
import typing
from dataclasses import dataclass
from typing import Any

import annotated_types as at
from hypothesis import strategies as st
from pydantic.fields import FieldInfo

from sim.scenario.loader import default_scenarios_dir, load_scenario, resolve_path
from sim.scenario.schema import (
    SETTABLE_GROUPS,
    ZONE_FLAG,
    Axis,
    FactionSpec,
    Group,
    Intervention,
    Scenario,
    set_param,
)

#: Tick lengths the schema accepts (divisors of 24 hours).
TICK_HOURS = (1, 2, 3, 4, 6, 8, 12, 24)
#: Faction names of the default case's towns table (Daraa; a scenario must define each one).
CASE_FACTIONS = ("joint_command", "hardline", "khalid")
#: Ranges that keep a property run small (population) and short (horizon).
SMALL_SCALE = (0.005, 0.05)
SHORT_HORIZON = (1.0, 20.0)
#: Fields never drawn: dates, file paths, names (fixed by the case data).
NOT_DRAWN = {"time.start_date", "world.towns_file", "world.subdistricts_file", "world.zones_file",
             "world.borders_file", "world.outcomes_file"}
WORLD_FILES = ("towns_file", "subdistricts_file", "zones_file", "borders_file", "outcomes_file")


@dataclass(frozen=True)
class Case:
    """What a drawn scenario needs of one case: its data files and the names they use."""

    name: str
    world: dict[str, str]                 # [world] *_file fields, absolute ("" for none)
    factions: tuple[tuple[str, str], ...]  # (faction, its bloc in the case's baseline)
    towns: tuple[str, ...]
    closable: tuple[str, ...]             # borders and frontiers (zone ids)
    lat: tuple[float, float]
    lon: tuple[float, float]

    def __hash__(self) -> int:
        return hash(self.name)


@functools.cache
def cases() -> tuple[Case, ...]:
    """Every case of the project: Daraa (scenarios/baseline.toml) first, then each
    scenarios/<case>/baseline.toml."""
    from sim.model import load_case

    root = default_scenarios_dir()
    out = []
    for f in [root / "baseline.toml", *sorted(root.glob("*/baseline.toml"))]:
        sc = load_scenario(f)
        w = load_case(sc)
        files = {k: (str(resolve_path(sc, getattr(sc.world, k)))
                     if getattr(sc.world, k).strip() else "") for k in WORLD_FILES}
        facs = tuple((fs.name, fs.bloc) for fs in sc.factions)
        pad = 0.05
        out.append(Case(f.parent.name if f.parent != root else "daraa2018", files, facs,
                        w.town_id, tuple(z.id for z in w.closable_zones),
                        (float(w.lat.min()) - pad, float(w.lat.max()) + pad),
                        (float(w.lon.min()) - pad, float(w.lon.max()) + pad)))
    return tuple(out)


def case_of(sc: Scenario) -> Case:
    """The case a scenario's towns file belongs to."""
    towns = str(resolve_path(sc, sc.world.towns_file))
    return next(c for c in cases() if c.world["towns_file"] == towns)


@dataclass(frozen=True)
class Bounds:
    """A numeric field's range: ``lo``/``hi`` (None = unbounded), strict if ``gt``/``lt``."""

    lo: float | None = None
    hi: float | None = None
    lo_strict: bool = False
    hi_strict: bool = False


def bounds(finfo: FieldInfo) -> Bounds:
    """The range a pydantic field declares."""
    lo = hi = None
    lo_s = hi_s = False
    for m in finfo.metadata:
        if isinstance(m, at.Ge):
            lo = float(m.ge)
        elif isinstance(m, at.Gt):
            lo, lo_s = float(m.gt), True
        elif isinstance(m, at.Le):
            hi = float(m.le)
        elif isinstance(m, at.Lt):
            hi, hi_s = float(m.lt), True
    return Bounds(lo, hi, lo_s, hi_s)


def field_strategy(finfo: FieldInfo) -> st.SearchStrategy[Any]:
    """A strategy for every valid value of one scalar field (float, int, bool or Literal)."""
    ann = finfo.annotation
    b = bounds(finfo)
    if ann is bool:
        return st.booleans()
    if typing.get_origin(ann) is typing.Literal:
        return st.sampled_from(typing.get_args(ann))
    if ann is int:
        lo = None if b.lo is None else int(math.floor(b.lo)) + (1 if b.lo_strict else 0)
        hi = None if b.hi is None else int(math.ceil(b.hi)) - (1 if b.hi_strict else 0)
        return st.integers(min_value=lo, max_value=hi)
    if ann is float:
        return st.floats(min_value=b.lo, max_value=b.hi, exclude_min=b.lo_strict,
                         exclude_max=b.hi_strict, allow_nan=False, allow_infinity=False,
                         allow_subnormal=False)
    raise TypeError(f"no strategy for a field of type {ann!r}")


def group_fields(group: type[Group]) -> dict[str, FieldInfo]:
    """The scalar fields of a parameter group (lists and nested models left out)."""
    out = {}
    for name, f in group.model_fields.items():
        ann = f.annotation
        if ann in (bool, int, float) or typing.get_origin(ann) is typing.Literal:
            out[name] = f
    return out


def group_classes() -> dict[str, type[Group]]:
    """Scenario group name -> its pydantic class (time, world, regime, ...)."""
    out = {}
    for name, f in Scenario.model_fields.items():
        ann = f.annotation
        if isinstance(ann, type) and issubclass(ann, Group):
            out[name] = ann
    return out


def settable_paths() -> dict[str, FieldInfo]:
    """Every "group.field" an intervention may set, with its field."""
    classes = group_classes()
    return {f"{g}.{n}": f for g in SETTABLE_GROUPS for n, f in group_fields(classes[g]).items()}


def _special(path: str) -> st.SearchStrategy[Any] | None:
    if path == "time.tick_hours":
        return st.sampled_from(TICK_HOURS)
    if path == "time.horizon_days":
        return st.floats(*SHORT_HORIZON)
    if path == "world.population_scale":
        return st.floats(*SMALL_SCALE)
    return None


@st.composite
def group_values(draw: st.DrawFn, group: str) -> dict[str, Any]:
    """Values for every scalar field of one group, each drawn from its range."""
    cls = group_classes()[group]
    out = {}
    for name, f in group_fields(cls).items():
        path = f"{group}.{name}"
        if path in NOT_DRAWN:
            continue
        special = _special(path)
        out[name] = draw(special if special is not None else field_strategy(f))
    return out


@st.composite
def axes(draw: st.DrawFn, case: Case | None = None) -> list[dict[str, Any]]:
    """0-5 offensive axes placed over the case area (lat/lon within the case's towns' box)."""
    case = case or cases()[0]
    fields = group_fields(Axis)
    n = draw(st.integers(0, 5))
    out = []
    for k in range(n):
        ax = {name: draw(field_strategy(f)) for name, f in fields.items()
              if name not in ("lat", "lon")}
        ax.update(name=f"axis{k}", lat=draw(st.floats(*case.lat)), lon=draw(st.floats(*case.lon)))
        out.append(ax)
    return out


@st.composite
def factions(draw: st.DrawFn, case: Case | None = None) -> list[dict[str, Any]]:
    """The case's factions, each with every attribute drawn from its range, and its bloc: the
    case's own, the joint command (none) or one bloc for all."""
    case = case or cases()[0]
    fields = group_fields(FactionSpec)
    how = draw(st.sampled_from(["case", "joint", "one"]))
    out = []
    for name, bloc in case.factions:
        spec = {k: draw(field_strategy(f)) for k, f in fields.items()}
        spec["name"] = name
        spec["bloc"] = {"case": bloc, "joint": "", "one": "all_factions"}[how]
        out.append(spec)
    return draw(st.permutations(out))


@st.composite
def interventions(draw: st.DrawFn, horizon: float, exclude: frozenset[str] = frozenset(),
                  max_size: int = 3, case: Case | None = None) -> list[dict[str, Any]]:
    """Timed changes: on a day (optionally a window) or after an event, of 0-3 parameters, with
    or without a targeted action (ceasefire or handover of 1-6 towns, open_border at a zone)."""
    case = case or cases()[0]
    paths = sorted(p for p in settable_paths() if p not in exclude)
    fields = settable_paths()
    actions = [None, "ceasefire", "handover"]
    if case.closable and "borders.open" not in exclude:
        actions.append("open_border")
    out = []
    for _ in range(draw(st.integers(0, max_size))):
        action = draw(st.sampled_from(actions))
        keys = draw(st.lists(st.sampled_from(paths), min_size=0 if action else 1, max_size=3,
                             unique=True))
        iv: dict[str, Any] = {"set": {k: draw(field_strategy(fields[k])) for k in keys}}
        if case.closable and "borders.open" not in exclude and draw(st.booleans()):
            iv["set"][ZONE_FLAG + draw(st.sampled_from(case.closable))] = draw(st.booleans())
        if action is not None:
            iv["action"] = action
        if action in ("ceasefire", "handover"):
            iv["towns"] = draw(st.lists(st.sampled_from(case.towns), min_size=1, max_size=6,
                                        unique=True))
        elif action == "open_border":
            iv["zone"] = draw(st.sampled_from(case.closable))
        if draw(st.booleans()):
            iv["day"] = draw(st.floats(0.0, horizon))
            if iv["day"] < horizon and action != "handover" and draw(st.booleans()):
                iv["until_day"] = draw(st.floats(iv["day"], horizon, exclude_min=True))
        else:
            iv["after"] = draw(st.sampled_from(
                typing.get_args(typing.get_args(Intervention.model_fields["after"].annotation)[0])))
            iv["delay_hours"] = draw(st.floats(0.0, 72.0))
        out.append(iv)
    return out


@st.composite
def scenario_dicts(draw: st.DrawFn, fixed: dict[str, Any] | None = None,
                   with_interventions: bool = True, with_factions: bool = True,
                   with_axes: bool = True) -> dict[str, Any]:
    """A valid scenario as a plain dict (what a TOML file holds), drawn over the whole schema.

    ``fixed`` maps dotted paths to values that override the draw and that no intervention may
    change (e.g. ``{"regime.bombardment_capacity": 0.0}`` for a causality property).
    """
    fixed = dict(fixed or {})
    case = draw(st.sampled_from(cases()))
    data: dict[str, Any] = {"name": "drawn"}
    for group in group_classes():
        data[group] = draw(group_values(group))
    data["world"].update(case.world)
    data["borders"] = {"open": draw(st.lists(st.sampled_from(case.closable), unique=True))
                       if case.closable and "borders.open" not in fixed else []}
    if with_axes:
        data["regime"]["axes"] = draw(axes(case))
    if with_factions:
        data["factions"] = draw(factions(case))
    elif case is not cases()[0]:
        data["factions"] = [{"name": n, "kind": "moderate", "strength": 1000.0, "bloc": b}
                            for n, b in case.factions]
    for path, value in fixed.items():
        g, f = path.split(".")
        data[g][f] = value
    if with_interventions:
        data["interventions"] = draw(interventions(data["time"]["horizon_days"],
                                                   frozenset(fixed), case=case))
    return data


def scenarios(**kw: Any) -> st.SearchStrategy[Scenario]:
    """Validated :class:`Scenario` objects (see :func:`scenario_dicts` for the options)."""
    return scenario_dicts(**kw).map(Scenario.model_validate)


@functools.cache
def case_town_ids() -> tuple[str, ...]:
    """Town ids of the default case (Daraa)."""
    return cases()[0].towns


def seeds() -> st.SearchStrategy[int]:
    return st.integers(0, 2**32 - 1)


@st.composite
def invalid_assignments(draw: st.DrawFn) -> tuple[str, Any]:
    """A dotted path of a bounded numeric field and a value outside its range."""
    cands = []
    for group, cls in group_classes().items():
        for name, f in group_fields(cls).items():
            b = bounds(f)
            if f.annotation in (int, float) and (b.lo is not None or b.hi is not None):
                cands.append((f"{group}.{name}", f, b))
    path, f, b = draw(st.sampled_from(cands))
    sides = [s for s, v in (("lo", b.lo), ("hi", b.hi)) if v is not None]
    side = draw(st.sampled_from(sides))
    gap = draw(st.floats(1e-3, 1e6) if f.annotation is float else st.integers(1, 10**6))
    if side == "lo":
        value = b.lo - gap if not b.lo_strict else b.lo - gap * draw(st.sampled_from([0, 1]))
    else:
        value = b.hi + gap if not b.hi_strict else b.hi + gap * draw(st.sampled_from([0, 1]))
    if f.annotation is int:
        value = int(value)
    return path, value


def with_params(sc: Scenario, **changes: Any) -> Scenario:
    """A copy of ``sc`` with dotted parameters changed (``regime__bombardment_capacity=0``)."""
    out = sc.model_copy(deep=True)
    for key, value in changes.items():
        if key.startswith("borders__open__"):  # one border's flag: borders.open.<zone>
            set_param(out, ZONE_FLAG + key[len("borders__open__"):], value)
            continue
        group, field = key.split("__")
        if group in SETTABLE_GROUPS:
            set_param(out, f"{group}.{field}", value)
        else:
            setattr(getattr(out, group), field, value)
    return out


@st.composite
def wrong_type_assignments(draw: st.DrawFn) -> tuple[str, Any]:
    """A dotted path of any scalar field and a value of a type it can never take."""
    cands = [(f"{g}.{n}", f) for g, cls in group_classes().items() for n, f in group_fields(cls).items()]
    path, f = draw(st.sampled_from(cands))
    ann = f.annotation
    if ann is bool:
        bad = st.sampled_from(["maybe", "open-ish", [True], {"x": 1}, 2, -1])
    elif typing.get_origin(ann) is typing.Literal:
        bad = st.text(min_size=1, max_size=12).filter(lambda s: s not in typing.get_args(ann)) \
            | st.sampled_from([[1], {"x": 1}, 3])
    else:
        bad = st.sampled_from(["abc", "", "12 km", [1.0], {"x": 1.0}, "1e999"])
    return path, draw(bad)


@st.composite
def unknown_field_names(draw: st.DrawFn) -> tuple[str, str]:
    """A group and a field name it does not have (a typo of a real one, or anything else)."""
    group = draw(st.sampled_from(sorted(group_classes())))
    known = set(group_classes()[group].model_fields)
    real = draw(st.sampled_from(sorted(known)))
    name = draw(st.sampled_from([real + "s", real.upper(), real[:-1], "x" + real])
                | st.from_regex(r"[a-z][a-z_]{0,15}", fullmatch=True))
    if name in known:
        name = name + "_typo"
    return group, name
