"""Scenario files: extends, the `negsim scenario` commands, targeted interventions, bad input.

Every user mistake must give exit code 2, a message naming the file, the line or field and
what is allowed, no traceback, and no output folder.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

from sim.cli import main
from sim.errors import ScenarioError
from sim.run import collect, simulate
from sim.scenario.cli import validate_file
from sim.scenario.loader import load_scenario
from sim.scenario.schema import Intervention, Scenario
from sim.scenario.toml_out import dumps
from tests.conftest import BASELINE, SCENARIOS

LIBRARY = sorted(SCENARIOS.glob("*.toml"))
DATA = SCENARIOS / "data" / "daraa2018"


# --- extends ------------------------------------------------------------------------------
def test_a_chain_of_extends_overrides_only_what_differs():
    sc = load_scenario(SCENARIOS / "phased_and_passage.toml")
    base = load_scenario(BASELINE)
    assert sc.mediator.phases == 3 and sc.mediator.safe_passage is True
    assert sc.name == "phased_and_passage" and sc.description != base.description
    rest = sc.model_dump(exclude={"name", "description", "mediator"})
    assert rest == base.model_dump(exclude={"name", "description", "mediator"})
    assert sc.mediator.model_dump(exclude={"phases", "safe_passage"}) == \
        base.mediator.model_dump(exclude={"phases", "safe_passage"})


def test_tables_merge_key_by_key_across_extends(tmp_path):
    (tmp_path / "a.toml").write_text(f'extends = "{BASELINE}"\n[regime]\nk_capture = 0.5\n')
    (tmp_path / "b.toml").write_text('extends = "a.toml"\n[regime]\nfront_km = 7.0\n')
    sc = load_scenario(tmp_path / "b.toml")
    assert sc.regime.k_capture == 0.5 and sc.regime.front_km == 7.0
    assert sc.regime.ground_capacity == Scenario().regime.ground_capacity


def test_a_scenario_saved_elsewhere_can_extend_the_library_and_find_the_case_data(tmp_path):
    (tmp_path / "mine.toml").write_text(f'extends = "{SCENARIOS / "safe_passage.toml"}"\n'
                                        'description = "mine"\n')
    sc = validate_file(tmp_path / "mine.toml")
    assert sc.mediator.safe_passage is True


# --- negsim scenario show / validate / list / schema ----------------------------------------
@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: p.stem)
def test_show_prints_the_resolved_scenario_as_toml_that_loads_back_the_same(path, tmp_path, capsys):
    assert main(["scenario", "show", str(path)]) == 0
    text = capsys.readouterr().out
    assert "extends" not in tomllib.loads(text)
    (tmp_path / path.name).write_text(text)
    again = load_scenario(tmp_path / path.name)
    assert again.model_dump() == load_scenario(path).model_dump()


def test_validate_accepts_every_library_file(capsys):
    assert main(["scenario", "validate", *map(str, LIBRARY)]) == 0
    out = capsys.readouterr().out
    assert all(p.name in out for p in LIBRARY)


def test_validate_reports_every_bad_file_and_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text(f'extends = "{BASELINE}"\n[mediator]\nphasez = 2\n')
    assert main(["scenario", "validate", str(BASELINE), str(bad), str(tmp_path / "nope.toml")]) == 2
    err = capsys.readouterr().err
    assert "bad.toml:3" in err and "nope.toml" in err and "2 of 3" in err


def test_list_shows_each_library_file_with_its_description(capsys):
    assert main(["scenario", "list"]) == 0
    out = capsys.readouterr().out
    for p in LIBRARY:
        desc = tomllib.loads(p.read_text())["description"]
        assert any(line.startswith(p.name) and desc in line for line in out.splitlines()), p.name


def _jsonable(x):
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_jsonable(v) for v in x]
    return x.isoformat() if isinstance(x, dt.date) else x


def test_schema_is_a_json_schema_that_accepts_the_library_and_rejects_mistakes(tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    out = tmp_path / "scenario.schema.json"
    assert main(["--quiet", "scenario", "schema", "--out", str(out)]) == 0
    schema = json.loads(out.read_text())
    assert "extends" in schema["properties"] and "interventions" in schema["properties"]
    phases = schema["$defs"]["MediatorParams"]["properties"]["phases"]
    assert (phases["minimum"], phases["maximum"], phases["unit"]) == (1, 10, "phases")
    assert phases["description"]
    validator = jsonschema.Draft202012Validator(schema)
    for p in LIBRARY:
        validator.validate(_jsonable(tomllib.loads(p.read_text())))
    assert not validator.is_valid({"mediator": {"phasez": 2}})
    assert not validator.is_valid({"mediator": {"phases": 20}})


# --- targeted and timed interventions ---------------------------------------------------------
def _small(*interventions: Intervention, horizon: float = 20.0) -> Scenario:
    sc = load_scenario(BASELINE)
    sc.world.population_scale = 0.05
    sc.time.horizon_days = horizon
    sc.interventions = list(interventions)
    return sc


def test_a_handover_settles_the_named_towns_on_its_day():
    res = collect(simulate(_small(Intervention(day=1, action="handover", towns=["nasib", "Saida"])), 3))
    ev = res.events
    done = ev[(ev["kind"] == "town_reconciled") & (ev["detail"] == "imposed")]
    assert set(done["target"]) == {"nasib", "saida"} and (done["day"] == 1.0).all()


def test_a_parameter_window_is_undone_at_until_day():
    iv = Intervention(day=5, until_day=8, set={"regime.bombardment_scale": 0.0})
    ts = collect(simulate(_small(iv), 3)).timeseries  # a row holds the tick that ends at `day`
    assert ts.loc[(ts["day"] > 5) & (ts["day"] <= 8), "strikes"].sum() == 0
    assert ts.loc[ts["day"] <= 5, "strikes"].sum() > 0 and ts.loc[ts["day"] > 8, "strikes"].sum() > 0


def test_an_open_border_window_lets_people_cross_only_while_open():
    iv = Intervention(day=4, until_day=10, action="open_border", zone="jordan_border")
    ts = collect(simulate(_small(iv), 3)).timeseries
    crossed = ts.set_index("day")["crossed_to_jordan"]
    assert crossed.loc[:4].max() == 0 and crossed.loc[10] > 0
    assert crossed.loc[10:].nunique() == 1  # nobody crosses after it closes


def test_a_ceasefire_protects_its_towns_from_strikes_and_assault():
    towns = ["daraa_al_balad", "nasib", "nasib_crossing", "saida", "busra_al_harir"]
    res = collect(simulate(_small(Intervention(day=0, action="ceasefire", towns=towns)), 3))
    ev = res.events
    hit = ev[ev["kind"].isin(["strike", "town_captured"]) & ev["target"].isin(towns)]
    assert hit.empty
    assert (ev["kind"] == "strike").any()


def test_a_safe_passage_after_the_first_collapse_starts_after_it():
    iv = Intervention(after="first_collapse", delay_hours=12, set={"mediator.safe_passage": True})
    res = collect(simulate(_small(iv, horizon=30.0), 2))
    ev = res.events
    collapse = ev.loc[ev["kind"] == "talks_collapsed", "day"]
    applied = ev.loc[ev["kind"] == "intervention", "day"]
    if len(collapse):
        assert len(applied) == 1 and np.isclose(applied.iloc[0], collapse.iloc[0] + 0.5)
    else:
        assert applied.empty


# --- bad input: exit 2, file + line/field + what is allowed, no output ------------------------
def _write_towns(tmp_path: Path, edit) -> None:
    lines = (DATA / "towns.csv").read_text(encoding="utf-8").splitlines()
    (tmp_path / "towns.csv").write_text("\n".join(edit(lines)) + "\n", encoding="utf-8")


def _drop_population(lines):
    header = lines[0].split(",")
    k = header.index("population")
    return [",".join(c for j, c in enumerate(line.split(",", len(header) - 1)) if j != k)
            for line in lines]


def _duplicate_town(lines):
    return [*lines[:3], lines[1], *lines[3:]]


def _negative_population(lines):
    k = lines[0].split(",").index("population")
    row = lines[1].split(",")
    row[k] = "-40"
    return [lines[0], ",".join(row), *lines[2:]]


WITH_TOWNS = f'extends = "{BASELINE}"\n[world]\ntowns_file = "towns.csv"\n'

BAD = {
    # name: (scenario text, towns.csv edit or None, substrings the message must contain)
    "toml_syntax": (f'extends = "{BASELINE}"\n\n[mediator\nphases = 2\n', None,
                    ["bad.toml:3", "TOML syntax error", "toml.io"]),
    "unknown_field": (f'extends = "{BASELINE}"\n[mediator]\nphasez = 2\n', None,
                      ["bad.toml:3", "mediator.phasez", "unknown field", "did you mean 'phases'"]),
    "wrong_type": (f'extends = "{BASELINE}"\n[mediator]\nsafe_passage = "yes"\n', None,
                   ["bad.toml:3", "mediator.safe_passage", "valid boolean", "allowed: true or false"]),
    "out_of_range": (f'extends = "{BASELINE}"\n[mediator]\nphases = 20\n', None,
                     ["bad.toml:3", "mediator.phases", "less than or equal to 10",
                      "allowed: a whole number from 1 to 10"]),
    "missing_extends": ('description = "x"\nextends = "no_such.toml"\n', None,
                        ["bad.toml:2", "'extends'", "missing file: no_such.toml",
                         "name an existing scenario file"]),
    "extends_cycle": ('extends = "other.toml"\n', None,
                      ["other.toml:2", "'extends'", "cycle", "may not extend itself"]),
    "unknown_town": (f'extends = "{BASELINE}"\n\n[[interventions]]\nday = 12\nuntil_day = 14\n'
                     'action = "ceasefire"\ntowns = ["nasib", "Nasieb"]\n', None,
                     ["bad.toml:7", "interventions[0].towns", "unknown town 'Nasieb'",
                      "did you mean 'Nasib'", "nasib_crossing"]),
    "unknown_zone": (f'extends = "{BASELINE}"\n[[interventions]]\nday = 10\naction = "open_border"\n'
                     'zone = "jordan"\n', None,
                     ["bad.toml:5", "interventions[0].zone", "unknown border zone 'jordan'",
                      "jordan_border, golan_frontier"]),
    "unknown_parameter_in_set": (f'extends = "{BASELINE}"\n[[interventions]]\nday = 10\n'
                                 'set = { "mediator.safe_pasage" = true }\n', None,
                                 ["bad.toml:4", "interventions[0].set", "mediator.safe_passage"]),
    "former_border_flag": (f'extends = "{BASELINE}"\n[borders]\njordan_open = true\n', None,
                           ["bad.toml:3", "borders.jordan_open", "list of open zones",
                            'open = ["jordan_border"]']),
    "unknown_open_zone": (f'extends = "{BASELINE}"\n[borders]\nopen = ["jordan"]\n', None,
                          ["bad.toml:3", "borders.open", "unknown border zone 'jordan'",
                           "jordan_border, golan_frontier"]),
    "intervention_after_horizon": (f'extends = "{BASELINE}"\n[[interventions]]\nday = 75\n'
                                   'set = { "borders.open.jordan_border" = true }\n', None,
                                   ["bad.toml:3", "interventions[0].day", "after the horizon",
                                    "use a day from 0 to 60"]),
    "missing_column": (WITH_TOWNS, _drop_population,
                       ["towns.csv", "population", "missing column", "needs columns"]),
    "duplicate_town": (WITH_TOWNS, _duplicate_town,
                       ["towns.csv:4", "town_id", "duplicate town", "each town appears once"]),
    "negative_numbers": (WITH_TOWNS, _negative_population,
                         ["towns.csv:2", "population", "-40", "non-negative"]),
    "empty_file": ("\n   \n", None, ["bad.toml", "empty", "fix:"]),
}


def _setup(tmp_path: Path, case: str) -> Path:
    text, edit, _ = BAD[case]
    bad = tmp_path / "bad.toml"
    bad.write_text(text, encoding="utf-8")
    if case == "extends_cycle":
        (tmp_path / "other.toml").write_text('description = "loop"\nextends = "bad.toml"\n')
    if edit is not None:
        _write_towns(tmp_path, edit)
    return bad


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_scenario_exits_2_naming_file_place_and_what_is_allowed_and_writes_nothing(
        case, tmp_path, capsys):
    bad = _setup(tmp_path, case)
    out = tmp_path / "out"
    assert main(["run", str(bad), "--seed", "1", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    for s in BAD[case][2]:
        assert s in err, (s, err)
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp folders
    assert main(["scenario", "validate", str(bad)]) == 2
    assert main(["scenario", "show", str(bad)]) == 2
    with pytest.raises(ScenarioError):
        validate_file(bad)


def test_a_user_mistake_never_prints_a_traceback_unless_debug(tmp_path):
    bad = _setup(tmp_path, "unknown_town")
    cmd = [sys.executable, "-m", "sim", "scenario", "validate", str(bad)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr and "unknown town" in r.stderr
    r = subprocess.run([*cmd[:3], "--debug", *cmd[3:]], capture_output=True, text=True)
    assert r.returncode != 0 and "Traceback" in r.stderr


def test_toml_writer_round_trips_the_value_types_scenarios_use():
    data = {"a": 1, "b": 2.5e-06, "c": True, "d": "x \"q\" ü", "e": dt.date(2018, 6, 19),
            "f": [1.0, 2.0], "t": {"g": "h", "n": None},
            "aot": [{"k": 1, "s": {"x.y": False}}, {"k": 2, "s": {}}]}
    back = tomllib.loads(dumps(data, header="a header\nline two"))
    assert back == {**data, "t": {"g": "h"}}


def test_the_readme_worked_example_is_the_library_file_nasib_truce():
    readme = (SCENARIOS.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Writing a scenario", 1)[1].split("\n## ", 1)[0]
    block = section.split("```toml\n", 1)[1].split("```", 1)[0]
    assert tomllib.loads(block) == tomllib.loads((SCENARIOS / "nasib_truce.toml").read_text())
