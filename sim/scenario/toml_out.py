"""Write a scenario (a dict of TOML-compatible values) back as TOML text.

Used by ``negsim scenario show``. Only what scenarios hold is supported: tables, arrays of
tables, strings, booleans, numbers, dates, lists and small inline tables; ``None`` values are
left out (TOML has no null, and every such field defaults to None).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from typing import Any

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(k: str) -> str:
    return k if _BARE.match(k) else json.dumps(k, ensure_ascii=False)


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (dt.date, dt.datetime, dt.time)):
        return v.isoformat()
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v if x is not None) + "]"
    if isinstance(v, dict):
        items = [f"{_key(k)} = {_value(x)}" for k, x in v.items() if x is not None]
        return "{ " + ", ".join(items) + " }" if items else "{}"
    raise TypeError(f"cannot write {type(v).__name__} as TOML")


def _is_aot(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, dict) for x in v)


def _table(lines: list[str], prefix: str, d: dict[str, Any], inline_dicts: bool) -> None:
    for k, v in d.items():
        if v is None or (isinstance(v, dict) and not inline_dicts) or _is_aot(v):
            continue
        lines.append(f"{_key(k)} = {_value(v)}")
    for k, v in d.items():
        if isinstance(v, dict) and not inline_dicts:
            lines += ["", f"[{prefix}{_key(k)}]"]
            _table(lines, f"{prefix}{_key(k)}.", v, inline_dicts)
    for k, v in d.items():
        if _is_aot(v):
            for item in v:
                lines += ["", f"[[{prefix}{_key(k)}]]"]
                _table(lines, f"{prefix}{_key(k)}.", item, inline_dicts=True)


def dumps(data: dict[str, Any], header: str = "") -> str:
    """TOML text for ``data`` (tables as [sections], lists of tables as [[sections]])."""
    lines = [f"# {h}" if h else "#" for h in header.splitlines()] if header else []
    _table(lines, "", data, inline_dicts=False)
    return "\n".join(lines).lstrip("\n") + "\n"
