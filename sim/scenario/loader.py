"""Load a scenario file: TOML, ``extends`` chains (deep merge), schema validation, clear errors.

A scenario file is data: it is parsed with :mod:`tomllib` and validated by the pydantic schema
in :mod:`sim.scenario.schema`; nothing in it is ever evaluated. ``extends = "baseline.toml"``
(relative to the file) starts from another scenario and overrides only what differs: tables
merge key by key, lists (factions, axes, interventions) replace the parent's list whole.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from sim.errors import ScenarioError
from sim.scenario.schema import Scenario


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
    text = path.read_text(encoding="utf-8")
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


def _resolve_chain(path: Path, seen: tuple[Path, ...] = ()) -> tuple[dict[str, Any], list[Path]]:
    path = path.resolve()
    if path in seen:
        chain = " -> ".join(p.name for p in (*seen, path))
        raise ScenarioError(f"`extends` cycle: {chain}", file=seen[-1], field="extends",
                            fix="remove the cycle: a scenario may not extend itself")
    data, _ = _read_toml(path)
    parent = data.pop("extends", None)
    if parent is None:
        return data, [path]
    if not isinstance(parent, str):
        raise ScenarioError("must be a file name (a string)", file=path, field="extends",
                            fix='e.g. extends = "baseline.toml"')
    ppath = (path.parent / parent)
    if not ppath.exists():
        raise ScenarioError(f"extends a missing file: {parent}", file=path, field="extends",
                            fix=f"create {ppath} or name an existing scenario")
    base, chain = _resolve_chain(ppath, (*seen, path))
    # The child's name and description are its own, never inherited.
    base.pop("name", None)
    base.pop("description", None)
    return deep_merge(base, data), [*chain, path]


def _find_line(text: str, loc: tuple[Any, ...]) -> int | None:
    """Best-effort line of a field in the TOML text (for error messages)."""
    keys = [k for k in loc if isinstance(k, str)]
    if not keys:
        return None
    key = keys[-1]
    table = keys[0] if len(keys) > 1 else None
    current = None
    for i, line in enumerate(text.splitlines(), start=1):
        s = line.strip()
        m = re.match(r"^\[\[?\s*([\w.]+)\s*\]\]?", s)
        if m:
            current = m.group(1).split(".")[0]
            continue
        if re.match(rf"^{re.escape(key)}\s*=", s) and (table is None or current == table
                                                          or current is None):
            return i
        if table and current is None and re.match(rf"^{re.escape(table)}\.{re.escape(key)}\s*=", s):
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


def _explain(err: dict[str, Any]) -> tuple[str, str | None]:
    loc = tuple(err["loc"])
    kind = err["type"]
    if kind == "extra_forbidden":
        allowed = _allowed_fields(loc)
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        fix = f"did you mean '{close[0]}'?" if close else None
        if allowed:
            fix = (fix + " " if fix else "") + "allowed here: " + ", ".join(allowed)
        return "unknown field", fix
    ctx = err.get("ctx") or {}
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return f"{err['msg']} (got {err.get('input')!r})", "use a value in the allowed range " \
            "(see `negsim scenario schema`)"
    if ctx.get("error"):
        return str(ctx["error"]), None
    return f"{err['msg']} (got {err.get('input')!r})", None


def validate_data(data: dict[str, Any], *, file: Path, text: str = "") -> Scenario:
    """Validate a merged scenario dict against the schema; raise ScenarioError on the first error."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        first = errors[0]
        loc = tuple(first["loc"])
        field = ".".join(str(p) for p in loc) or None
        msg, fix = _explain(first)
        if len(errors) > 1:
            msg += f" (and {len(errors) - 1} more error(s))"
        raise ScenarioError(msg, file=file, field=field, line=_find_line(text, loc),
                            fix=fix) from None


def load_scenario(path: str | Path) -> Scenario:
    """Read, resolve (``extends``) and validate a scenario file."""
    p = Path(path)
    data, chain = _resolve_chain(p)
    data.setdefault("name", p.stem)
    text = p.read_text(encoding="utf-8")
    sc = validate_data(data, file=p, text=text)
    object.__setattr__(sc, "_source", p.resolve())
    return sc


def scenario_source(sc: Scenario) -> Path | None:
    """The file a scenario was loaded from (None for one built in code)."""
    return getattr(sc, "_source", None)


def resolve_path(sc: Scenario, rel: str) -> Path:
    """Resolve a data path relative to the scenario file's folder (or scenarios/ by default)."""
    src = scenario_source(sc)
    base = src.parent if src is not None else default_scenarios_dir()
    return (base / rel).resolve()


def default_scenarios_dir() -> Path:
    """The project's scenarios/ folder (next to the sim package)."""
    return Path(__file__).resolve().parents[2] / "scenarios"


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes, for run metadata."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
