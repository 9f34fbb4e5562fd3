"""``negsim scenario show|validate|list|schema``: inspect and check scenario files.

* ``show FILE``: the fully resolved scenario (after ``extends`` and defaults) as TOML;
* ``validate FILE...``: check files against the schema and the case data (town and zone names);
* ``list [DIR]``: the library, with each file's one-line description;
* ``schema [--out FILE]``: the JSON Schema of scenario files, for editors.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from pathlib import Path
from typing import Any

from sim import atomic
from sim.errors import ScenarioError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("scenario", help="show, validate, list scenario files; write their JSON Schema",
                       description="Inspect and check scenario files (TOML).")
    ss = p.add_subparsers(dest="scenario_command", metavar="ACTION", required=True)
    s = ss.add_parser("show", help="print the fully resolved scenario as TOML",
                      description="Print a scenario after `extends` and defaults, as TOML.")
    s.add_argument("file", type=Path, help="scenario TOML file")
    s.set_defaults(func=cmd_show)
    v = ss.add_parser("validate", help="check scenario files (schema and case data)",
                      description="Check scenario files against the schema and the case data "
                                  "(town and zone names); exit code 2 if any is wrong.")
    v.add_argument("files", type=Path, nargs="+", help="scenario TOML files")
    v.set_defaults(func=cmd_validate)
    ls = ss.add_parser("list", help="list the scenario library with descriptions",
                       description="List the scenario files of a folder with their descriptions.")
    ls.add_argument("dir", type=Path, nargs="?", default=None,
                    help="folder (default: the project's scenarios/)")
    ls.set_defaults(func=cmd_list)
    js = ss.add_parser("schema", help="write the JSON Schema of scenario files",
                       description="Write the JSON Schema of scenario files (for editors such as "
                                   "VS Code with Even Better TOML / taplo).")
    js.add_argument("--out", type=Path, default=None, help="file to write (default: stdout)")
    js.set_defaults(func=cmd_schema)


def validate_file(path: Path) -> Any:
    """Load a scenario file and check it against its case data; returns the Scenario."""
    from sim.model import load_case
    from sim.scenario.loader import load_scenario
    from sim.scenario.targets import resolve_targets

    sc = load_scenario(path)
    resolve_targets(sc, load_case(sc))
    return sc


def cmd_show(args: argparse.Namespace) -> int:
    from sim.scenario.loader import resolve_chain
    from sim.scenario.toml_out import dumps

    sc = validate_file(args.file)
    chain = resolve_chain(args.file)
    header = (f"Scenario {sc.name}, fully resolved: {' <- '.join(p.name for p in reversed(chain))}"
              " <- schema defaults.\nData file paths are relative to "
              f"{Path(args.file).resolve().parent}.")
    sys.stdout.write(dumps(sc.model_dump(mode="python"), header=header))
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    bad = 0
    for f in args.files:
        try:
            sc = validate_file(f)
        except ScenarioError as exc:
            if args.debug:
                raise
            bad += 1
            print(f"error: {exc}", file=sys.stderr)
            continue
        if not args.quiet:
            print(f"ok  {f}  ({sc.name}: {sc.description or 'no description'})")
    if bad and not args.quiet:
        print(f"{bad} of {len(args.files)} file(s) invalid", file=sys.stderr)
    return 2 if bad else 0


def describe_library(folder: Path) -> list[tuple[str, str]]:
    """(file name, one-line description) for each .toml file of a folder and of its case
    subfolders (``ghouta2018/baseline.toml``: a second case's library), sorted by name."""
    out = []
    files = sorted(folder.glob("*.toml")) + sorted(p for p in folder.glob("*/*.toml")
                                                   if p.parent.name != "data")
    for f in files:
        try:
            data = tomllib.loads(f.read_text(encoding="utf-8"))
            desc = data.get("description")
            desc = str(desc) if desc else "(no description)"
            if "extends" in data:
                desc += f"  [extends {data['extends']}]"
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
            desc = f"(unreadable: {exc})"
        out.append((str(f.relative_to(folder)), desc))
    return out


def cmd_list(args: argparse.Namespace) -> int:
    from sim.scenario.loader import default_scenarios_dir

    folder = args.dir or default_scenarios_dir()
    if not folder.is_dir():
        raise ScenarioError("not a folder", file=folder, fix="name the folder holding scenario files")
    rows = describe_library(folder)
    if not rows:
        raise ScenarioError("no scenario files (*.toml) here", file=folder)
    width = max(len(n) for n, _ in rows)
    for name, desc in rows:
        print(f"{name:<{width}}  {desc}")
    return 0


def scenario_json_schema() -> dict[str, Any]:
    """The JSON Schema of a scenario file (the resolved schema plus ``extends``)."""
    from sim.scenario.schema import Scenario

    schema = Scenario.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "negsim scenario"
    schema["description"] = ("A negsim scenario file (TOML). Every field is optional; "
                             "`extends` names a scenario file to start from.")
    schema["properties"] = {"extends": {"type": "string", "description":
                                        "Scenario file this one starts from (relative path); "
                                        "tables merge, lists replace."},
                            **schema["properties"]}
    return schema


def cmd_schema(args: argparse.Namespace) -> int:
    text = json.dumps(scenario_json_schema(), indent=2, default=str) + "\n"
    if args.out is None:
        sys.stdout.write(text)
        return 0
    out = Path(args.out)
    if out.is_dir():
        raise ScenarioError("is a folder", file=out, fix="name a file, e.g. scenario.schema.json")
    atomic.write_text(out, text)
    if not args.quiet:
        print(f"wrote {out}")
    return 0
