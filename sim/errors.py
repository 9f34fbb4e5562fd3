"""User-facing errors.

Every mistake a user can make in a scenario or data file raises :class:`ScenarioError` with the
file, the field (or line) and what is allowed. The CLI turns it into a message and exit code 2;
no Python traceback reaches the user unless ``--debug`` is given.
"""

from __future__ import annotations

from pathlib import Path


class ScenarioError(Exception):
    """A user's scenario or data file is wrong: says where, what, and how to fix it."""

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        field: str | None = None,
        line: int | None = None,
        fix: str | None = None,
    ) -> None:
        self.file = str(file) if file is not None else None
        self.field = field
        self.line = line
        self.fix = fix
        self.message = message
        super().__init__(self.render())

    def render(self) -> str:
        option = bool(self.field and self.field.startswith("-"))
        where = self.file or ("" if option else "<scenario>")
        if self.line is not None:
            where += f":{self.line}"
        parts = [f"{where}: "] if where else []
        if self.field:
            parts.append(f"option '{self.field}': " if option else f"field '{self.field}': ")
        parts.append(self.message)
        if self.fix:
            parts.append(f"\n  fix: {self.fix}")
        return "".join(parts)


class InfrastructureError(ScenarioError):
    """The machinery failed, not the user's input or a run: a worker process died, the Dask
    scheduler was lost or cannot be reached. Nothing is half-written and rerunning the same
    command resumes (exit code 3 in the CLI)."""
