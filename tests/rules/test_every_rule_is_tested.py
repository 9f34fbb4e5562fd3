"""Every public function of every ``sim/rules`` module (and every public method of a class a rule
module defines) is called by a unit test in ``tests/rules/``, so a rule's contract is pinned
where it lives. A new rule function without a test fails here, naming it.

"Called by a test" is read from the test files' code (not their comments or strings): a test
file that imports the rule module (``from sim.rules.m import ...``, ``from sim.rules import m``
or ``import sim.rules.m``) and uses the function's name (or, for a method, an attribute of that
name).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import sim.rules

TESTS = Path(__file__).resolve().parent


def rule_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(sim.rules.__path__) if not m.name.startswith("_"))


def public_callables(module: str) -> tuple[list[str], list[str]]:
    """(functions, methods as ``Class.method``) defined in ``sim.rules.<module>``, public only."""
    mod = importlib.import_module(f"sim.rules.{module}")
    functions, methods = [], []
    for name, obj in vars(mod).items():
        if name.startswith("_") or getattr(obj, "__module__", None) != mod.__name__:
            continue
        if inspect.isfunction(obj):
            functions.append(name)
        elif inspect.isclass(obj):
            methods += [f"{name}.{m}" for m, f in vars(obj).items() if not m.startswith("_")
                        and (inspect.isfunction(f) or isinstance(f, classmethod | staticmethod))]
    return functions, methods


def _uses(tree: ast.AST) -> tuple[set[str], set[str], set[str]]:
    """(rule modules imported, names used, attributes used) in one parsed test file."""
    modules, names, attrs = set(), set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith("sim.rules."):
                modules.add(node.module.removeprefix("sim.rules."))
                names |= {a.name for a in node.names}
            elif node.module == "sim.rules":
                modules |= {a.name for a in node.names}
        elif isinstance(node, ast.Import):
            modules |= {a.name.removeprefix("sim.rules.") for a in node.names if a.name.startswith("sim.rules.")}
        elif isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Attribute):
            attrs.add(node.attr)
    return modules, names, attrs


def referenced(module: str) -> set[str]:
    """Names of ``module``'s functions and methods used by the test files that import it."""
    out: set[str] = set()
    for path in sorted(TESTS.glob("test_*.py")):
        if path.name == Path(__file__).name:
            continue
        modules, names, attrs = _uses(ast.parse(path.read_text(encoding="utf-8")))
        if module in modules:
            out |= names | attrs
    return out


@pytest.mark.parametrize("module", rule_modules())
def test_every_public_rule_function_and_method_is_called_by_a_unit_test(module):
    functions, methods = public_callables(module)
    used = referenced(module)
    untested = [f for f in functions if f not in used] + [m for m in methods if m.split(".")[1] not in used]
    assert untested == [], f"sim/rules/{module}.py: no test in tests/rules/ calls {untested}"


def test_the_reference_check_finds_uses_in_code_but_not_in_comments_or_strings():
    code = ("from sim.rules import flight\nfrom sim.rules.pockets import count\n"
            "# safety(...) is tested elsewhere\nx = 'travel_ticks'\nflight.choice_probabilities(u)\n"
            "count(lab)\nbus.board()\n")
    modules, names, attrs = _uses(ast.parse(code))
    assert modules == {"flight", "pockets"}
    assert {"count", "choice_probabilities", "board"} <= names | attrs
    assert not {"safety", "travel_ticks"} & (names | attrs)


def test_the_rule_listing_finds_functions_and_methods_but_not_imports_or_private_names():
    functions, methods = public_callables("evacuation")
    assert "Buses.board" in methods and "Buses.__init__" not in methods
    functions, _ = public_callables("pockets")
    assert {"pocket_labels", "count"} <= set(functions) and "csr_matrix" not in functions  # not imports
