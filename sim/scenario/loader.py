"""Load a scenario file: TOML, ``extends`` chains (deep merge), schema validation, clear errors.

A scenario file is data: it is parsed with :mod:`tomllib` and validated by the pydantic schema
in :mod:`sim.scenario.schema`; nothing in it is ever evaluated. ``extends = "baseline.toml"``
(relative to the file) starts from another scenario and overrides only what differs: tables
merge key by key, lists (factions, axes, interventions) replace the parent's list whole.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from sim.errors import ScenarioError
from sim.scenario.schema import PARAM_ALIASES, Scenario, WorldParams, describe_field


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Merge ``over`` into ``base``: tables merge recursively, everything else replaces."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _read_toml(path: Path) -> tuple[dict[str, Any], str]:
    if not path.exists():
        raise ScenarioError("file not found", file=path,
                            fix="check the path; scenario files live under scenarios/")
    if path.is_dir():
        raise ScenarioError("is a folder, not a scenario file", file=path,
                            fix="name a .toml file")
    try:
        text = path.read_text(encoding="utf-8-sig")  # a byte-order mark (Windows editors) is fine
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", file=path,
                            fix="save the scenario as UTF-8 text") from None
    except OSError as exc:
        raise ScenarioError(f"cannot read the file: {exc.strerror}", file=path) from None
    if not text.strip():
        raise ScenarioError("the file is empty", file=path,
                            fix='write at least a description, e.g. description = "..." '
                                'and extends = "baseline.toml"')
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise ScenarioError(f"TOML syntax error: {exc}", file=path,
                            line=int(m.group(1)) if m else None,
                            fix="see https://toml.io for the syntax") from None
    return data, text


def _rebase_world_paths(data: dict[str, Any], parent_dir: Path, child_dir: Path) -> None:
    """Keep a parent's data file paths pointing at the same files from the child's folder."""
    world = data.get("world")
    if parent_dir == child_dir or not isinstance(world, dict):
        return
    for key, value in world.items():
        if key.endswith("_file") and isinstance(value, str) and value.strip() \
                and not Path(value).is_absolute():  # "" (no such file) stays ""
            world[key] = os.path.relpath(parent_dir / value, child_dir)


def _anchor_default_data_paths(data: dict[str, Any]) -> None:
    """Write the schema's default data paths into the first file of an ``extends`` chain.

    A data path is relative to the folder of the file that sets it; one that no file sets is
    the schema default relative to the chain's first file (so a scenario saved anywhere that
    extends the library reads the library's case data, and a copied library reads its own).
    It is never looked up anywhere else: a missing file is an error, not a silent fallback.
    """
    world = data.setdefault("world", {})
    if not isinstance(world, dict):
        return  # the schema reports the wrong type
    for key, f in WorldParams.model_fields.items():
        if key.endswith("_file") and isinstance(f.default, str):
            world.setdefault(key, f.default)


def _migrate(data: dict[str, Any], path: Path, text: str) -> None:
    """Accept a parameter's former name (:data:`sim.scenario.schema.PARAM_ALIASES`, e.g. a
    calibrated.toml written before the destination utilities were keyed by zone kind) as its
    current one; refuse the former per-border flags with the fix."""
    for old, new in PARAM_ALIASES.items():
        group, field = old.split(".")
        table = data.get(group)
        if isinstance(table, dict) and field in table:
            nfield = new.split(".")[1]
            if nfield in table:
                raise ScenarioError(f"both '{field}' and its new name '{nfield}' are set",
                                    file=path, field=old, line=find_line(text, (group, field)),
                                    fix=f"keep only {new} ({old} is its former name)")
            table[nfield] = table.pop(field)
    borders = data.get("borders")
    if isinstance(borders, dict):
        for key in list(borders):
            if key.endswith("_open"):
                raise ScenarioError("the per-border flags were replaced by a list of open zones",
                                    file=path, field=f"borders.{key}",
                                    line=find_line(text, ("borders", key)),
                                    fix="write borders.open = [\"<zone>\", ...] with zone ids of "
                                        "the case's zones.csv (e.g. open = [\"jordan_border\"]), "
                                        "or [] for all closed")


def _resolve_chain(path: Path, seen: tuple[Path, ...] = ()) -> tuple[dict[str, Any], list[Path]]:
    path = path.resolve()
    if path in seen:
        cycle = " -> ".join(p.name for p in (*seen, path))
        last = seen[-1]
        raise ScenarioError(f"`extends` cycle: {cycle}", file=last, field="extends",
                            line=find_line(last.read_text(encoding="utf-8"), ("extends",)),
                            fix="remove the cycle: a scenario may not extend itself, directly "
                                "or through other files")
    data, text = _read_toml(path)
    _migrate(data, path, text)
    parent = data.pop("extends", None)
    if parent is None:
        _anchor_default_data_paths(data)
        return data, [path]
    line = find_line(text, ("extends",))
    if not isinstance(parent, str):
        raise ScenarioError("must be a file name (a string)", file=path, field="extends",
                            line=line, fix='e.g. extends = "baseline.toml"')
    ppath = (path.parent / parent)
    if not ppath.is_file():
        near = sorted(q.name for q in path.parent.glob("*.toml") if q.resolve() != path)
        raise ScenarioError(f"extends a missing file: {parent}", file=path, field="extends",
                            line=line,
                            fix=f"name an existing scenario file relative to {path.parent}"
                                + (f", e.g. one of: {', '.join(near[:8])}" if near else ""))
    base, chain = _resolve_chain(ppath, (*seen, path))
    _rebase_world_paths(base, ppath.resolve().parent, path.parent)
    # The child's name and description are its own, never inherited.
    base.pop("name", None)
    base.pop("description", None)
    return deep_merge(base, data), [*chain, path]


def find_line(text: str, loc: tuple[Any, ...]) -> int | None:
    """Best-effort line of a field in the TOML text (for error messages).

    ``loc`` is a pydantic location such as ``("mediator", "phases")`` or
    ``("interventions", 1, "towns")`` (the second ``[[interventions]]`` table).
    """
    keys = [k for k in loc if isinstance(k, str)]
    if not keys:
        return None
    lines = text.splitlines()
    header = re.compile(r"^\[\[?\s*([\w.]+)\s*\]\]?")
    # An array of tables: find the n-th [[name]] header, then the key inside it.
    if len(loc) >= 2 and isinstance(loc[0], str) and isinstance(loc[1], int):
        n = -1
        start = None
        for i, line in enumerate(lines, start=1):
            if re.match(rf"^\[\[\s*{re.escape(loc[0])}\s*\]\]", line.strip()):
                n += 1
                if n == loc[1]:
                    start = i
                    break
        if start is None:
            return None
        key = keys[1] if len(keys) > 1 else None
        if key is None:
            return start
        for i in range(start, len(lines)):
            s = lines[i].strip()
            if header.match(s):
                break
            if re.match(rf"^{re.escape(key)}\s*=", s):
                return i + 1
        return start
    key = keys[-1]
    table = keys[0] if len(keys) > 1 else None
    current = None
    for i, line in enumerate(lines, start=1):
        s = line.strip()
        m = header.match(s)
        if m:
            current = m.group(1).split(".")[0]
            continue
        if re.match(rf"^{re.escape(key)}\s*=", s) and (table is None and current is None
                                                          or current == table):
            return i
        if table and current is None and re.match(rf"^{re.escape(table)}\.{re.escape(key)}\s*=", s):
            return i
    if table is not None:  # the key is not written: point at its table
        for i, line in enumerate(lines, start=1):
            m = header.match(line.strip())
            if m and m.group(1) == table:
                return i
    return None


def _allowed_fields(loc: tuple[Any, ...]) -> list[str]:
    model: Any = Scenario
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return []
        ann = field.annotation
        args = getattr(ann, "__args__", ())
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            model = ann
        elif args and isinstance(args[0], type) and issubclass(args[0], BaseModel):
            model = args[0]
        else:
            return []
    return list(getattr(model, "model_fields", {}))


def _leaf_field(loc: tuple[Any, ...]) -> Any:
    """The pydantic FieldInfo at ``loc`` (None if the location is not a schema field)."""
    allowed_model: Any = Scenario
    info = None
    for part in loc:
        if isinstance(part, int):
            continue
        fields = getattr(allowed_model, "model_fields", None)
        if fields is None or part not in fields:
            return None
        info = fields[part]
        ann = info.annotation
        args = [a for a in getattr(ann, "__args__", ()) if isinstance(a, type)]
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            allowed_model = ann
        elif args and issubclass(args[0], BaseModel):
            allowed_model = args[0]
        else:
            allowed_model = None
    return info


_ROOT_LOC = re.compile(r"^(\w+)\[(\d+)\]\.(\w+): (.*)$", re.S)


def _explain(err: ErrorDetails) -> tuple[tuple[Any, ...], str, str | None]:
    """Location, message and fix for one pydantic error."""
    loc = tuple(err["loc"])
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "extra_forbidden":
        allowed = _allowed_fields(loc)
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        fix = f"did you mean '{close[0]}'?" if close else None
        if allowed:
            fix = (fix + " " if fix else "") + "allowed here: " + ", ".join(allowed)
        return loc, "unknown field", fix
    if kind == "missing":
        info = _leaf_field(loc)
        return loc, "required field is missing", describe_field(info) if info else None
    if ctx.get("error") is not None and kind == "value_error":
        msg = str(ctx["error"])
        m = _ROOT_LOC.match(msg)
        if not loc and m:  # a check across fields that names its own location
            return (m.group(1), int(m.group(2)), m.group(3)), m.group(4), None
        return loc, msg, None
    info = _leaf_field(loc)
    fix = describe_field(info) if info is not None else None
    return loc, f"{err['msg']} (got {err.get('input')!r})", fix


def validate_data(data: dict[str, Any], *, file: Path, text: str = "") -> Scenario:
    """Validate a merged scenario dict against the schema; raise ScenarioError on the first error.

    Validation is strict about types (TOML has them): ``phases = "2"`` or ``safe_passage = 1``
    are errors, not silently converted; a whole number is accepted where a number is expected.
    """
    try:
        return Scenario.model_validate(data, strict=True)
    except ValidationError as exc:
        errors = exc.errors()
        loc, msg, fix = _explain(errors[0])
        field = _dotted(loc) or None
        if len(errors) > 1:
            msg += f" (and {len(errors) - 1} more error(s))"
        raise ScenarioError(msg, file=file, field=field, line=find_line(text, loc),
                            fix=fix) from None


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def resolve_chain(path: str | Path) -> list[Path]:
    """The files a scenario is built from, base first (``baseline.toml``, ..., ``path``)."""
    return _resolve_chain(Path(path))[1]


def load_scenario(path: str | Path) -> Scenario:
    """Read, resolve (``extends``) and validate a scenario file."""
    p = Path(path)
    data, chain = _resolve_chain(p)
    data.setdefault("name", p.stem)
    text = p.read_text(encoding="utf-8-sig")
    sc = validate_data(data, file=p, text=text)
    object.__setattr__(sc, "_source", p.resolve())
    return sc


def scenario_source(sc: Scenario) -> Path | None:
    """The file a scenario was loaded from (None for one built in code)."""
    return getattr(sc, "_source", None)


def resolve_path(sc: Scenario, rel: str) -> Path:
    """Resolve a data path relative to the scenario file's folder (scenarios/ for a scenario
    built in code). The loader has already made inherited and default paths relative to it
    (:func:`_anchor_default_data_paths`); nothing falls back to another copy of the data."""
    src = scenario_source(sc)
    base = src.parent if src is not None else default_scenarios_dir()
    return (base / rel).resolve()


def case_files(sc: Scenario) -> dict[str, Path]:
    """The case data files a scenario reads (``[world]`` ``*_file`` fields), resolved."""
    return {k: resolve_path(sc, v) for k, v in sc.world.model_dump().items()
            if k.endswith("_file") and isinstance(v, str) and v.strip()}


def default_scenarios_dir() -> Path:
    """The project's scenarios/ folder (next to the sim package)."""
    return Path(__file__).resolve().parents[2] / "scenarios"


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes, for run metadata."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
