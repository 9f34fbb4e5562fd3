"""Boolean conditions over a batch's runs, for ``negsim discover --where``: a small, safe language.

A condition is a comparison of run columns with numbers, combined with ``and``, ``or``, ``not``
and parentheses, e.g.::

    collapses == 0
    notna(deal_day) and collapses == 0          # a deal without a collapse
    peak_displaced < 150000 or deaths_day60 <= 100
    0 < collapses <= 2                          # chained comparisons

Names are columns of ``runs.parquet`` (outcomes, or parameters such as ``mediator.phases``);
``isna(x)`` / ``notna(x)`` test for a missing value (``deal_day`` is missing when no deal was
signed); a bare name means "present and not zero". A missing value makes every comparison
false. A few named conditions (:data:`NAMED`) can be used as words.

The text is parsed with :func:`ast.parse` into a syntax tree and interpreted here over a
whitelist of node types (never evaluated by Python): attribute access, calls other than the two
functions, subscripts, arithmetic and anything else is refused with a clear error.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import ScenarioError

#: Named conditions, usable as words in ``--where`` (each is itself a condition in this language).
NAMED: dict[str, str] = {
    "deal_without_collapse": "notna(deal_day) and collapses == 0",
    "no_collapse": "collapses == 0",
    "deal": "notna(deal_day)",
}
MAX_LENGTH = 500
_COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
    ast.Eq: operator.eq, ast.NotEq: operator.ne,
}


def _error(text: str, msg: str, columns: list[str] | None = None) -> ScenarioError:
    fix = ("e.g. \"notna(deal_day) and collapses == 0\"; names are columns of runs.parquet"
           + (": " + ", ".join(columns) if columns else "") + "; named conditions: " + ", ".join(NAMED))
    return ScenarioError(f"condition {text!r}: {msg}", field="--where", fix=fix)


def _dotted(node: ast.AST) -> str | None:
    """``mediator.phases`` parses as an attribute of a name: rebuild the dotted column name."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def evaluate(text: str, runs: pd.DataFrame) -> np.ndarray:
    """The condition ``text`` over every row of ``runs``: a boolean array. Raises ScenarioError."""
    if len(text) > MAX_LENGTH:
        raise _error(text[:40] + "...", f"longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise _error(text, f"not a condition ({exc.msg})") from None
    columns = [str(c) for c in runs.columns]
    return _Interpreter(text, runs, columns).boolean(tree.body, depth=0)


class _Interpreter:
    def __init__(self, text: str, runs: pd.DataFrame, columns: list[str]) -> None:
        self.text, self.runs, self.columns = text, runs, columns

    def fail(self, msg: str) -> ScenarioError:
        return _error(self.text, msg, self.columns)

    def column(self, node: ast.AST) -> np.ndarray:
        name = _dotted(node)
        if name is None or name not in self.runs.columns:
            import difflib

            close = difflib.get_close_matches(name or "", self.columns, n=1)
            raise self.fail(f"unknown name {name or ast.unparse(node)!r}"
                            + (f" (did you mean {close[0]!r}?)" if close else ""))
        col = self.runs[name]
        if not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)):
            raise self.fail(f"{name!r} is not a numeric column")
        return col.to_numpy(dtype=float, na_value=np.nan)

    def value(self, node: ast.AST) -> np.ndarray | float:
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return float(node.value)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant) \
                and isinstance(node.operand.value, (int, float)) and not isinstance(node.operand.value, bool):
            return -float(node.operand.value)
        if isinstance(node, (ast.Name, ast.Attribute)):
            return self.column(node)
        raise self.fail(f"expected a column name or a number, got {ast.unparse(node)!r}")

    def boolean(self, node: ast.AST, depth: int) -> np.ndarray:
        if depth > 50:
            raise self.fail("nested too deeply")
        n = len(self.runs)
        if isinstance(node, ast.BoolOp):
            parts = [self.boolean(v, depth + 1) for v in node.values]
            return np.logical_and.reduce(parts) if isinstance(node.op, ast.And) else np.logical_or.reduce(parts)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return ~self.boolean(node.operand, depth + 1)
        if isinstance(node, ast.Compare):
            left = self.value(node.left)
            out = np.ones(n, dtype=bool)
            for op, comp in zip(node.ops, node.comparators, strict=True):
                f = _COMPARE.get(type(op))
                if f is None:
                    raise self.fail(f"unsupported comparison ({type(op).__name__}); use <, <=, >, >=, == or !=")
                right = self.value(comp)
                with np.errstate(invalid="ignore"):
                    out &= np.asarray(f(left, right), dtype=np.bool_) & ~np.isnan(left) & ~np.isnan(right)
                left = right
            return np.broadcast_to(out, (n,)).copy()
        if isinstance(node, ast.Call):
            fname = node.func.id if isinstance(node.func, ast.Name) else None
            if fname not in ("isna", "notna") or len(node.args) != 1 or node.keywords:
                raise self.fail(f"unknown function {ast.unparse(node.func)!r}: only isna(name) and notna(name)")
            isna = np.isnan(self.column(node.args[0]))
            return isna if fname == "isna" else ~isna
        if isinstance(node, ast.Name) and node.id in NAMED and node.id not in self.runs.columns:
            return evaluate(NAMED[node.id], self.runs)
        if isinstance(node, (ast.Name, ast.Attribute)):
            v = self.column(node)
            return ~np.isnan(v) & (np.nan_to_num(v) != 0)
        if isinstance(node, ast.Constant) and isinstance(node.value, bool):
            return np.full(n, node.value)
        raise self.fail(f"{ast.unparse(node)!r} is not a condition")
