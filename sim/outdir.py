"""Output folders: what a command may replace, and safe default names.

``negsim run --out DIR`` and ``negsim calibrate --out DIR`` write a whole folder atomically
(:func:`sim.atomic.folder`), replacing what was there. Before any work starts,
:func:`check_output_folder` refuses a DIR that is not safe to replace:

* never (not even with ``--overwrite``): the current folder or one of its parents, the home
  folder, the file-system root, or a folder holding the inputs the command reads (its scenario
  files, its case data);
* without ``--overwrite``: a file, or a non-empty folder that is not a previous output of the
  same kind, recognised by its own files (a run's ``metadata.json``, a calibration's
  ``report.md``) and holding nothing but the files negsim writes there.

:func:`safe_name` turns a scenario name into one path component for default output folders
(``runs/<name>/<seed>``), so a name such as ``"../.."`` or ``"/etc"`` cannot steer them.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path

from sim.errors import ScenarioError

#: Files a ``negsim run`` folder holds (its outputs and the figures ``negsim plot`` adds to it).
RUN_FILES = ("timeseries.csv", "timeseries.parquet", "events.csv", "towns.csv", "metadata.json",
             "displacement.png", "map_day*.png", "map_day*.svg", "map.gif", "timeline.png",
             "timeline.svg")
#: Files a ``negsim calibrate`` folder holds.
CALIBRATION_FILES = ("posterior.parquet", "generations.csv", "candidates.csv", "replicates.csv",
                     "report.md", "curves.png", "posterior_marginals.png", "targets.csv",
                     "record.png")


def _json(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def is_run_folder(folder: Path) -> bool:
    """A folder written by ``negsim run`` (its metadata.json says so)."""
    meta = _json(folder / "metadata.json")
    return meta is not None and {"scenario_name", "seed", "package_version", "parameters"} <= set(meta)


def is_calibration_folder(folder: Path) -> bool:
    """A folder written by ``negsim calibrate`` (its report.md says so)."""
    try:
        with (folder / "report.md").open(encoding="utf-8") as fh:
            first = fh.readline()
    except (OSError, ValueError):
        return False
    return first.strip() == "# Calibration report" and (folder / "posterior.parquet").is_file()


#: kind -> (description, recogniser, the files such a folder may hold)
KINDS: dict[str, tuple[str, Callable[[Path], bool], tuple[str, ...]]] = {
    "run": ("a negsim run folder", is_run_folder, RUN_FILES),
    "calibration": ("a negsim calibration folder", is_calibration_folder, CALIBRATION_FILES),
}


def safe_name(name: str, fallback: str = "scenario") -> str:
    """``name`` as one safe path component: letters, digits, ``.``, ``_`` and ``-`` only, no
    leading dot (``"../.."`` -> ``"scenario"``, ``"/etc/x"`` -> ``"etc_x"``)."""
    out = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._-")
    return out[:100] or fallback


def _foreign(folder: Path, allowed: tuple[str, ...]) -> list[str]:
    """Entries of ``folder`` that are not files negsim writes there (hidden temp files aside)."""
    out = []
    for p in sorted(folder.iterdir()):
        if p.name.startswith(".") and p.name.endswith(".tmp"):
            continue
        if p.is_dir() or not any(fnmatch.fnmatchcase(p.name, pat) for pat in allowed):
            out.append(p.name + ("/" if p.is_dir() else ""))
    return out


def _never(out: Path, protect: Iterable[Path]) -> str | None:
    target = out.resolve()
    cwd = Path.cwd().resolve()
    if target == cwd or target in cwd.parents:
        return "is the current folder or one of its parents"
    if target == Path.home().resolve() or target.parent == target:
        return "is the home folder or the root of the file system"
    for p in protect:
        src = Path(p).resolve()
        if src == target or target in src.parents:
            return f"holds {src.name}, an input of this command"
    return None


def refuse_dangerous(out: str | Path, protect: Iterable[Path] = (), flag: str = "--out") -> None:
    """Refuse, even with ``--overwrite``, an output folder whose replacement would delete the
    current folder or one of its parents, the home folder, the root, or the command's inputs."""
    why = _never(Path(out), protect)
    if why:
        raise ScenarioError(f"{why}: writing there would delete it", file=out, field=flag,
                            fix=f"name a new folder for the output, e.g. {flag} batches/mine")


def check_output_folder(out: str | Path, kind: str, *, overwrite: bool = False,
                        protect: Iterable[Path] = (), flag: str = "--out") -> None:
    """Raise :class:`ScenarioError` unless ``out`` may be (re)placed by an output of ``kind``.

    ``protect`` lists input files (scenario files, case data) that must not be inside ``out``.
    """
    out = Path(out)
    what, recognise, allowed = KINDS[kind]
    why = _never(out, protect)
    if why:
        raise ScenarioError(f"{why}: writing there would delete it", file=out, field=flag,
                            fix=f"name a new folder for the output, e.g. {flag} {_example(kind)}")
    if not (out.exists() or out.is_symlink()) or overwrite:
        return
    if not out.is_dir():
        raise ScenarioError(f"is a file, not {what}", file=out, field=flag,
                            fix="name a new folder, or add --overwrite to replace the file")
    entries = [p for p in out.iterdir() if not (p.name.startswith(".") and p.name.endswith(".tmp"))]
    if not entries:
        return
    foreign = _foreign(out, allowed)
    if recognise(out) and not foreign:
        return  # a previous output of the same kind: replaced whole
    held = ", ".join(foreign[:5] or [p.name for p in entries[:5]])
    more = len(foreign or entries) - 5
    raise ScenarioError(
        f"is not empty and is not {what} (it holds {held}{f' and {more} more' if more > 0 else ''})",
        file=out, field=flag,
        fix="choose a new or empty folder, or add --overwrite to replace it (everything in it is "
            "deleted)")


def _example(kind: str) -> str:
    return "runs/mine" if kind == "run" else "calibration_new"
