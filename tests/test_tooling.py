"""CI runs the same checks as the git hook, at pinned versions: `.ci/run` runs `make check` (ruff
and mypy) before `make test`, every dependency (the check tools included) is pinned, and the
pre-commit hooks lint the folders `make lint` lints."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _commands(path: Path) -> list[str]:
    return [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()
            if ln.strip() and not ln.lstrip().startswith("#")]


def test_ci_runs_the_lint_and_type_checks_before_the_test_suite():
    cmds = _commands(ROOT / ".ci" / "run")
    assert "make check" in cmds and "make test" in cmds
    assert cmds.index("make check") < cmds.index("make test")


def test_every_dependency_and_check_tool_is_pinned_to_one_version():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    test_extra = project["optional-dependencies"]["test"]
    names = {re.split(r"[\[=<>~! ]", d, maxsplit=1)[0].lower() for d in test_extra}
    assert {"ruff", "mypy", "pytest", "hypothesis"} <= names
    unpinned = [d for d in [*project["dependencies"], *test_extra] if not re.fullmatch(r"[\w.\-\[\]]+==[\w.]+", d)]
    assert unpinned == []


def test_make_check_runs_ruff_and_mypy_from_the_installed_test_extra():
    make = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^check: lint$", make, re.M)
    assert "-e '.[test]'" in make
    lint = re.search(r"^lint:.*\n\t(.*)$", make, re.M)
    check = re.search(r"^check:.*\n\t(.*)$", make, re.M)
    assert lint and check
    assert lint.group(1).startswith("$(VENV)/bin/ruff check") and check.group(1) == "$(VENV)/bin/mypy"


def test_the_pre_commit_hooks_lint_the_folders_make_lints():
    make = (ROOT / "Makefile").read_text(encoding="utf-8")
    lint = re.search(r"^lint:.*\n\t\$\(VENV\)/bin/ruff check (.*)$", make, re.M)
    assert lint
    hooks = (ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8")
    ruff_files = re.search(r"id: ruff\n(?:.*\n)*?\s+files: \^\((.*)\)/", hooks)
    assert ruff_files
    assert set(ruff_files.group(1).split("|")) == set(lint.group(1).split())
    assert "entry: .venv/bin/mypy" in hooks
