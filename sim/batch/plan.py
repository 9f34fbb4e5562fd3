"""Batch plans: which runs a batch makes, with which parameters and which seeds.

A plan is every (scenario, parameter point, replicate). Parameter points come from sweeps
(``--sweep "regime.bombardment_capacity=20:80:4"``) through a design: ``grid`` (every
combination), ``lhs`` (Latin hypercube) or ``sobol`` (scrambled Sobol sequence), the last two
with ``--samples N`` points drawn over each sweep's range.

Seeds come from one root seed: run (s, p, r) -- scenario s, point p, replicate r, all in the
order given -- gets ``SeedSequence(root, spawn_key=(s, p, r))``, which is exactly
``SeedSequence(root).spawn(...)[s].spawn(...)[p].spawn(...)[r]``. With ``common=True``
(common random numbers) replicate r gets ``spawn_key=(r,)`` in every scenario and point, so
comparisons between scenarios are paired. A seed depends on nothing else: not on the worker
count, the executor, the order runs finish in, or the machine.

With a posterior (``--posterior``), each run also draws one particle of the ABC posterior from
a child stream of its own seed sequence (see :mod:`sim.batch.posterior`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from sim.errors import ScenarioError
from sim.scenario.loader import file_sha256, load_scenario
from sim.scenario.schema import PARAM_ALIASES, Group, Scenario, is_zone_flag, set_param

Design = Literal["grid", "lhs", "sobol"]

#: Short names accepted in ``--sweep`` (the issue's shorthand) -> schema dotted paths.
ALIASES: dict[str, str] = {
    "bombardment.capacity": "regime.bombardment_capacity",
    "bombardment.escalation": "regime.escalation_factor",
    "population.scale": "world.population_scale",
    "horizon.days": "time.horizon_days",
    **PARAM_ALIASES,  # former names of parameters (sim/scenario/schema.py)
}


def resolve_path(path: str) -> str:
    """The schema path a sweep names (aliases resolved); raises ValueError if unknown.

    Any ``group.field`` of a parameter group of the schema is accepted (including ``time`` and
    ``world``, e.g. ``world.population_scale``), and ``borders.open.<zone>`` (one border or
    frontier of the case, open or not); lists (factions, axes) are not sweepable.
    """
    path = ALIASES.get(path, path)
    if is_zone_flag(path):  # borders.open.<zone>: whether one border or frontier is open
        return path
    parts = path.split(".")
    groups = {name: f.annotation for name, f in Scenario.model_fields.items()
              if isinstance(f.annotation, type) and issubclass(f.annotation, Group)}
    if len(parts) != 2 or parts[0] not in groups:
        raise ValueError(f"'{path}' is not a parameter; use 'group.field' with group one of "
                         f"{', '.join(groups)} (or an alias: {', '.join(ALIASES)})")
    group, name = parts
    fields = groups[group].model_fields
    if name not in fields:
        import difflib

        close = difflib.get_close_matches(name, list(fields), n=1)
        hint = f" (did you mean '{group}.{close[0]}'?)" if close else ""
        raise ValueError(f"'{path}' is not a parameter{hint}")
    ann = fields[name].annotation
    if typing.get_origin(ann) in (list, dict):
        raise ValueError(f"'{path}' is a list or table and cannot be swept")
    return path


def field_type(path: str) -> Any:
    """The type of a parameter's values (``group.field``, checked): the schema field's type
    (``X | None`` read as ``X``); ``bool`` for a zone's flag ``borders.open.<zone>``."""
    if is_zone_flag(path):
        return bool
    group, name = path.split(".")
    ann = type(getattr(Scenario(), group)).model_fields[name].annotation
    if typing.get_origin(ann) in (types.UnionType, typing.Union):
        ann = next(a for a in typing.get_args(ann) if a is not type(None))
    return ann


def apply_params(sc: Scenario, params: dict[str, Any]) -> Scenario:
    """A copy of ``sc`` with dotted parameters set (validated by the schema); raises ValueError."""
    out = sc.model_copy(deep=True)
    for path, value in params.items():
        if is_zone_flag(resolve_path(path)):
            try:
                set_param(out, resolve_path(path), value)
            except ValueError as exc:
                raise ValueError(f"{path} = {value!r}: {exc}") from None
            continue
        group, name = resolve_path(path).split(".")
        try:
            setattr(getattr(out, group), name, value)
        except Exception as exc:  # pydantic ValidationError: say which parameter and value
            msg = str(exc).splitlines()
            raise ValueError(f"{path} = {value!r}: {msg[-2].strip() if len(msg) > 1 else exc}") from None
    return out


@dataclass(frozen=True)
class Sweep:
    """One swept parameter: explicit ``values``, or a range ``lo:hi`` (with ``n`` grid points)."""

    path: str
    values: tuple[Any, ...] | None = None
    lo: float | None = None
    hi: float | None = None
    n: int | None = None
    spec: str = ""

    def grid_values(self) -> tuple[Any, ...]:
        if self.values is not None:
            return self.values
        if self.n is None or self.lo is None or self.hi is None:
            raise ValueError(f"--sweep {self.spec!r}: a grid needs a point count, e.g. "
                             f"{self.path}={self.lo}:{self.hi}:5 (or list values a,b,c)")
        vals = np.linspace(self.lo, self.hi, self.n)
        return tuple(_cast(self.path, float(v)) for v in vals)

    def from_unit(self, u: float) -> Any:
        """Map u in [0, 1) to a value: uniform over [lo, hi], or one of the listed values."""
        if self.values is not None:
            return self.values[min(int(u * len(self.values)), len(self.values) - 1)]
        assert self.lo is not None and self.hi is not None
        return _cast(self.path, self.lo + u * (self.hi - self.lo))


def _cast(path: str, v: float) -> Any:
    t = field_type(path)
    if t is int:
        return int(round(v))
    return float(v)


def _finite(path: str, v: float) -> float:
    if not math.isfinite(v):
        raise ValueError(f"{path}: {v} is not a finite number")
    return v


def _parse_scalar(path: str, text: str) -> Any:
    t = field_type(path)
    s = text.strip()
    if t is bool:
        if s.lower() in ("true", "1", "yes", "on"):
            return True
        if s.lower() in ("false", "0", "no", "off"):
            return False
        raise ValueError(f"{path} is a flag: use true or false, got {s!r}")
    try:
        if t is int:
            v = float(s)
            if v != int(v):
                raise ValueError
            return int(v)
        if t is float:
            return _finite(path, float(s))
    except (ValueError, OverflowError) as exc:
        if "finite" in str(exc):
            raise
        raise ValueError(f"{path} takes {'whole numbers' if t is int else 'numbers'}, got {s!r}") from None
    return s


def parse_sweep(spec: str) -> Sweep:
    """Parse ``path=lo:hi:n`` (n evenly spaced values), ``path=lo:hi`` (a range for lhs/sobol)
    or ``path=a,b,c`` (listed values; also the only form for flags and text)."""
    m = re.fullmatch(r"\s*([\w.]+)\s*=\s*(.+?)\s*", spec)
    if not m:
        raise ValueError(f"--sweep {spec!r}: expected PATH=LO:HI:N, PATH=LO:HI or PATH=A,B,C")
    path = resolve_path(m.group(1))
    rhs = m.group(2)
    if ":" in rhs and "," not in rhs and field_type(path) in (int, float):
        parts = rhs.split(":")
        if len(parts) not in (2, 3):
            raise ValueError(f"--sweep {spec!r}: a range is LO:HI or LO:HI:N")
        try:
            lo, hi = _finite(path, float(parts[0])), _finite(path, float(parts[1]))
            n = int(parts[2]) if len(parts) == 3 else None
        except ValueError as exc:
            if "finite" in str(exc):
                raise
            raise ValueError(f"--sweep {spec!r}: LO and HI must be numbers and N a whole number") from None
        if n is not None and n < 1:
            raise ValueError(f"--sweep {spec!r}: N must be at least 1")
        if hi < lo:
            raise ValueError(f"--sweep {spec!r}: LO must not exceed HI")
        return Sweep(path, lo=lo, hi=hi, n=n, spec=spec)
    values = tuple(_parse_scalar(path, v) for v in rhs.split(",") if v.strip())
    if not values:
        raise ValueError(f"--sweep {spec!r}: no values")
    return Sweep(path, values=values, spec=spec)


def design_points(sweeps: list[Sweep], design: Design, samples: int | None,
                  root_seed: int) -> list[dict[str, Any]]:
    """The parameter points of a design (a list of {dotted path: value}); one empty point if no sweeps."""
    if not sweeps:
        return [{}]
    paths = [s.path for s in sweeps]
    if len(set(paths)) != len(paths):
        raise ValueError(f"a parameter is swept twice: {paths}")
    if design == "grid":
        if samples is not None:
            raise ValueError("--samples is for --design lhs or sobol; a grid's size comes from the sweeps")
        grids = [s.grid_values() for s in sweeps]
        mesh = np.array(np.meshgrid(*[np.arange(len(g)) for g in grids], indexing="ij")).reshape(
            len(grids), -1).T
        return [{s.path: g[i] for s, g, i in zip(sweeps, grids, row, strict=True)} for row in mesh]
    if samples is None or samples < 1:
        raise ValueError(f"--design {design} needs --samples N (N >= 1)")
    from scipy.stats import qmc

    # The design's own stream: a child of the root seed that no run ever uses.
    rng = np.random.default_rng(np.random.SeedSequence(root_seed, spawn_key=(2**32 - 1,)))
    if design == "lhs":
        u = qmc.LatinHypercube(d=len(sweeps), rng=rng).random(samples)
    elif design == "sobol":
        if samples & (samples - 1):
            raise ValueError(f"--design sobol needs --samples a power of 2 (got {samples})")
        u = qmc.Sobol(d=len(sweeps), scramble=True, rng=rng).random(samples)
    else:
        raise ValueError(f"unknown design {design!r}: use grid, lhs or sobol")
    return [{s.path: s.from_unit(float(x)) for s, x in zip(sweeps, row, strict=True)} for row in u]


def run_seed(root_seed: int, key: tuple[int, ...]) -> int:
    """The model seed of the run with spawn key ``key`` (a non-negative int below 2**63)."""
    ss = np.random.SeedSequence(root_seed, spawn_key=key)
    return int(ss.generate_state(1, dtype=np.uint64)[0] % np.uint64(2**63))


def run_id(scenario: str, point_id: int, replicate: int) -> str:
    """Stable id of a run, e.g. ``baseline-p000-r0007``."""
    return f"{scenario}-p{point_id:03d}-r{replicate:04d}"


@dataclass(frozen=True)
class RunSpec:
    """One run of a batch: everything a worker needs (small and picklable)."""

    run_id: str
    scenario: str
    scenario_file: str
    point_id: int
    replicate: int
    seed: int
    params: dict[str, Any]
    draw: int | None = None  # the posterior particle drawn (None: no posterior)

    def manifest_entry(self) -> dict[str, Any]:
        entry = {"run_id": self.run_id, "scenario": self.scenario, "point_id": self.point_id,
                 "replicate": self.replicate, "seed": self.seed, "params": dict(self.params)}
        if self.draw is not None:
            entry["draw"] = self.draw
        return entry


@dataclass
class Plan:
    """Every run of a batch, in a fixed order, with the settings that produced it."""

    scenarios: dict[str, dict[str, Any]]  # file, sha256 and the inputs' hashes
    root_seed: int
    replicates: int
    design: Design
    samples: int | None
    sweeps: list[str]
    common_random_numbers: bool
    points: list[dict[str, Any]]
    runs: list[RunSpec] = field(default_factory=list)
    #: The posterior's identity ({"sha256", "generation"}) when runs draw from one, else None.
    posterior: dict[str, Any] | None = None
    #: Its description for the manifest: file, parameters, and what each scenario kept.
    posterior_info: dict[str, Any] | None = None

    def identity(self) -> dict[str, Any]:
        """What must match for an output folder to be resumed by this plan."""
        return {"root_seed": self.root_seed, "scenarios": self.scenarios, "design": self.design,
                "samples": self.samples, "sweeps": self.sweeps, "replicates": self.replicates,
                "common_random_numbers": self.common_random_numbers, "posterior": self.posterior}


#: Most runs a batch plans unless told otherwise (``--max-runs``): a plan is held in memory and
#: written to manifest.json, so an accidental 10^8-run plan is refused before it is built.
MAX_RUNS = 1_000_000


def plan_size(sweeps: list[Sweep], design: Design, samples: int | None, scenarios: int,
              replicates: int) -> int:
    """How many runs a plan would hold, counted without building it."""
    if not sweeps:
        points = 1
    elif design == "grid":
        points = math.prod(len(s.values) if s.values is not None else max(s.n or 1, 1) for s in sweeps)
    else:
        points = max(samples or 1, 1)
    return scenarios * points * replicates


def check_plan_size(n: int, max_runs: int | None, what: str) -> None:
    """Refuse a plan above ``max_runs`` (default :data:`MAX_RUNS`) before it is built."""
    limit = MAX_RUNS if max_runs is None else max_runs
    if n > limit:
        raise ScenarioError(f"the batch would make {n:,} runs ({what}), more than the limit of "
                            f"{limit:,}", field="--max-runs",
                            fix="fewer sweep values, samples or replicates, or split the batch; "
                                f"to go on anyway, raise the limit: --max-runs {n}")


def validate_scenario(sc: Scenario) -> None:
    """What ``negsim scenario validate`` checks beyond the schema: the case data loads and the
    interventions name real towns and zones (so a batch fails before its first run, not in it)."""
    from sim.model import load_case
    from sim.scenario.targets import resolve_targets

    resolve_targets(sc, load_case(sc))


def check_swept_files(sc: Scenario, path: Path, points: list[dict[str, Any]]) -> None:
    """A data file a sweep names must exist (a wrong one is found when its runs fail)."""
    from sim.scenario.loader import case_files

    for i, pt in enumerate(points):
        if not any(str(k).startswith("world.") and str(k).endswith("_file") for k in pt):
            continue
        for key, f in case_files(apply_params(sc, pt)).items():
            if not f.is_file():
                raise ScenarioError(f"parameter point {i}: world.{key} = {f}: file not found",
                                    file=path, field="--sweep",
                                    fix="sweep existing files (paths relative to the scenario file)")


def input_hashes(sc: Scenario, points: list[dict[str, Any]] | None = None) -> dict[str, str]:
    """SHA-256 of every file a scenario's runs read: its ``extends`` chain and its case data
    (also the data files a sweep names), by resolved path. A resumed batch compares them, so
    results made from two versions of an input are never mixed."""
    from sim.scenario.loader import case_files, resolve_chain, scenario_source

    files: list[Path] = []
    src = scenario_source(sc)
    if src is not None:
        files += resolve_chain(src)
    files += case_files(sc).values()
    for pt in points or []:
        if any(str(k).startswith("world.") and str(k).endswith("_file") for k in pt):
            with contextlib.suppress(ValueError):
                files += case_files(apply_params(sc, pt)).values()
    return {str(f): file_sha256(f) for f in dict.fromkeys(files) if f.is_file()}


def make_plan(scenario_files: list[str | Path], *, replicates: int = 1,
              sweeps: list[str] | None = None, design: Design = "grid",
              samples: int | None = None, root_seed: int = 0,
              common_random_numbers: bool = False, posterior: str | Path | None = None,
              generation: str | int = "last", max_runs: int | None = None) -> Plan:
    """Plan a batch. Raises :class:`ScenarioError` for a bad scenario file, sweep or posterior,
    or a plan of more than ``max_runs`` runs (default :data:`MAX_RUNS`), checked before the plan
    is built.

    With ``posterior`` (a posterior.parquet of ``negsim calibrate``), every run draws one
    particle of ``generation`` (see :mod:`sim.batch.posterior`).
    """
    if replicates < 1:
        raise ScenarioError("must be at least 1", field="--replicates")
    if root_seed < 0:
        raise ScenarioError("must be a non-negative integer", field="--seed")
    if samples is not None and samples < 1:
        raise ScenarioError("must be at least 1", field="--samples")
    if not scenario_files:
        raise ScenarioError("no scenario files given", fix="e.g. negsim batch scenarios/*.toml --out batches/x")
    sweep_specs = list(sweeps or [])
    try:
        parsed = [parse_sweep(s) for s in sweep_specs]
        n = plan_size(parsed, design, samples, len(scenario_files), replicates)
        check_plan_size(n, max_runs, f"{len(scenario_files)} scenario(s) x "
                                     f"{n // len(scenario_files) // replicates:,} point(s) x "
                                     f"{replicates:,} replicate(s)")
        points = design_points(parsed, design, samples, root_seed)
    except ValueError as exc:
        raise ScenarioError(str(exc), field="--sweep",
                            fix="sweep 'group.field' paths of the schema (negsim scenario show "
                                "scenarios/baseline.toml lists them)") from None
    scenarios: dict[str, dict[str, Any]] = {}
    loaded: list[tuple[str, Scenario, Path]] = []
    for f in scenario_files:
        p = Path(f)
        sc = load_scenario(p)
        if sc.name in scenarios:
            raise ScenarioError(f"two scenarios are named '{sc.name}'", file=p, field="name",
                                fix="give each scenario a distinct name (or file name)")
        if not sc.name or any(c in sc.name for c in "/\\=") or sc.name in (".", "..") \
                or not sc.name.isprintable():
            raise ScenarioError(f"scenario name {sc.name!r} may not be empty, '.' or '..', or contain "
                                "'/', '\\', '=' or control characters", file=p, field="name",
                                fix="name it with letters, digits, '_' or '-'")
        validate_scenario(sc)
        scenarios[sc.name] = {"file": str(p.resolve()), "sha256": file_sha256(p)}
        loaded.append((sc.name, sc, p))
    # Every point must be valid for every scenario: check now, not mid-batch.
    for name, sc, p in loaded:
        for i, pt in enumerate(points):
            try:
                apply_params(sc, pt)
            except ValueError as exc:
                raise ScenarioError(f"parameter point {i}: {exc}", file=p, field="--sweep",
                                    fix="keep swept values inside the schema's range") from None
        check_swept_files(sc, p, points)
        scenarios[name]["inputs"] = input_hashes(sc, points)
    plan = Plan(scenarios=scenarios, root_seed=root_seed, replicates=replicates, design=design,
                samples=samples, sweeps=sweep_specs, common_random_numbers=common_random_numbers,
                points=points)
    if posterior is not None:
        _plan_posterior_runs(plan, loaded, posterior, generation)
        return plan
    for s, (name, _sc, p) in enumerate(loaded):
        for pi, pt in enumerate(points):
            for r in range(replicates):
                key = (r,) if common_random_numbers else (s, pi, r)
                plan.runs.append(RunSpec(run_id(name, pi, r), name, str(p.resolve()), pi, r,
                                         run_seed(root_seed, key), dict(pt)))
    return plan


def _plan_posterior_runs(plan: Plan, loaded: list[tuple[str, Scenario, Path]], posterior: str | Path,
                         generation: str | int) -> None:
    """Add the runs of a posterior-predictive plan: the same runs and seeds as without a
    posterior, each with a drawn particle's parameters (checked against every scenario now)."""
    from sim.batch.posterior import load_posterior, own_parameters, run_parameters

    post = load_posterior(posterior, generation)
    kept: dict[str, list[str]] = {}
    checked: set[tuple[str, int]] = set()
    for s, (name, sc, p) in enumerate(loaded):
        own = own_parameters(p, post.paths)
        kept[name] = sorted(own)
        for pi, pt in enumerate(plan.points):
            for r in range(plan.replicates):
                key = (r,) if plan.common_random_numbers else (s, pi, r)
                draw = post.draw(plan.root_seed, key)
                params = run_parameters(post, draw, sc, pt, own)
                if (name, draw) not in checked:
                    checked.add((name, draw))
                    try:
                        apply_params(sc, {k: v for k, v in params.items() if k not in pt})
                    except ValueError as exc:
                        raise ScenarioError(f"generation {post.generation}, particle {draw}: {exc}",
                                            file=post.file, field="--posterior",
                                            fix="the posterior's values must lie in the schema's "
                                                "ranges; recalibrate or choose another generation") from None
                plan.runs.append(RunSpec(run_id(name, pi, r), name, str(p.resolve()), pi, r,
                                         run_seed(plan.root_seed, key), params, draw))
    plan.posterior = post.identity()
    plan.posterior_info = {**post.info(), "kept_from_scenario": kept}


def with_scenario_order(plan: Plan, first: list[str]) -> Plan:
    """The plan with the scenarios named in ``first`` placed first, in that order, then the
    others in their own order; seeds follow the new scenario indices.

    A batch grown with more scenarios keeps the order of the batch it grows (its manifest), so
    the runs it already holds keep their seeds whatever order the files are given in now.
    """
    names = list(plan.scenarios)
    order = [n for n in first if n in plan.scenarios] + [n for n in names if n not in first]
    if order == names:
        return plan
    if plan.posterior is not None:  # draws follow the scenario indices too: plan them again
        info = plan.posterior_info or {}
        again = make_plan([plan.scenarios[n]["file"] for n in order], replicates=plan.replicates,
                          sweeps=plan.sweeps, design=plan.design, samples=plan.samples,
                          root_seed=plan.root_seed,
                          common_random_numbers=plan.common_random_numbers,
                          posterior=info["file"], generation=plan.posterior["generation"],
                          max_runs=len(plan.runs))
        return again
    index = {n: i for i, n in enumerate(order)}
    runs = []
    for r in sorted(plan.runs, key=lambda r: index[r.scenario]):  # stable: points, replicates
        key = (r.replicate,) if plan.common_random_numbers else (index[r.scenario], r.point_id, r.replicate)
        runs.append(dataclasses.replace(r, seed=run_seed(plan.root_seed, key)))
    return dataclasses.replace(plan, scenarios={n: plan.scenarios[n] for n in order}, runs=runs)
