"""`negsim calibrate`: bad targets and options are "file, field, fix" before any work; outputs
never replace what negsim did not write; counts are compared at the simulated population."""

from __future__ import annotations

import pytest

from sim.cli import main
from sim.errors import ScenarioError
from sim.targets import load_targets, scale_counts
from tests.conftest import BASELINE, ROOT

TARGETS = ROOT / "seeds" / "targets.toml"
GOOD = ('[[target]]\nid = "a"\nquantity = "q"\nvalue = 150\nunit = "persons"\nkind = "relative"\n'
        'tolerance = 0.25\noutcome = "deaths_day16"\nwhy = "w"\n')


@pytest.mark.parametrize("line,field,words", [
    ('line = "twelve"', "a.line", ["valid integer", "whole number"]),
    ('day = "sixteen"', "a.day", ["valid number", "days since"]),
    ("value = nan", "a.value", ["finite number"]),
    ('modelled = "false"', "a.modelled", ["valid boolean", "true or false"]),
    ("tolerence = 1", "a.tolerence", ["unknown field", "did you mean 'tolerance'"]),
    ("scale = -2", "a.scale", ["greater than 0"]),
])
def test_a_bad_target_field_names_the_file_line_field_and_fix(tmp_path, line, field, words):
    p = tmp_path / "t.toml"
    text = GOOD.replace('value = 150\n', '') + ("value = 150\n" if "value" not in line else "") + line + "\n"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as exc:
        load_targets(p)
    e = exc.value
    assert e.field == field and e.file == str(p) and e.line == text.splitlines().index(line) + 1
    for w in words:
        assert w in str(e), (w, str(e))


def test_count_targets_scale_with_the_population_and_others_do_not():
    ts = {t.id: t for t in scale_counts(load_targets(TARGETS), 0.05)}
    full = {t.id: t for t in load_targets(TARGETS)}
    assert ts["displaced_day16"].value == pytest.approx(16_000)
    assert ts["displaced_day16"].tolerance == full["displaced_day16"].tolerance  # relative
    assert ts["deaths_in_one_town"].tolerance == pytest.approx(full["deaths_in_one_town"].tolerance * 0.05)
    assert ts["borders_closed"].scale == pytest.approx(50)
    assert ts["talks_collapse_day"] == full["talks_collapse_day"]
    assert scale_counts(list(full.values()), 1.0) == list(full.values())


def test_calibrate_compares_counts_at_the_simulated_population(tmp_path, monkeypatch):
    import analysis.calibration as cal

    seen = {}

    class Stop(Exception):
        pass

    def fake_abc(path, targets, *a, **k):
        seen.update({t.id: t.value for t in targets})
        raise Stop

    monkeypatch.setattr(cal, "run_abc", fake_abc)
    with pytest.raises(Stop):
        cal.calibrate(BASELINE, TARGETS, out_dir=tmp_path / "c", scenario_out=tmp_path / "c.toml",
                      population_scale=0.05, quiet=True)
    assert seen["displaced_day16"] == pytest.approx(320_000 * 0.05)
    assert seen["talks_collapse_day"] == pytest.approx(15.75)


def _calibrate(tmp_path, *extra: str) -> int:
    return main(["--quiet", "calibrate", str(BASELINE), "--targets", str(TARGETS), "--budget", "60",
                 "--population", "6", "--replicates", "2", "--candidates", "2", "--select-reps", "2",
                 "--procs", "1", "--population-scale", "0.02", "--scenario-out",
                 str(tmp_path / "cal.toml"), *extra])


@pytest.mark.parametrize("pop", ["-1", "0", "1"])
def test_calibrate_population_below_two_is_refused(tmp_path, capsys, pop):
    rc = main(["--quiet", "calibrate", str(BASELINE), "--population", pop, "--out", str(tmp_path / "c")])
    assert rc == 2 and "--population" in capsys.readouterr().err
    assert not (tmp_path / "c").exists()


def test_calibrate_out_refuses_a_folder_of_the_users_files_before_any_work(tmp_path, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("years of work", encoding="utf-8")
    assert _calibrate(tmp_path, "--out", str(mine)) == 2
    err = capsys.readouterr().err
    assert "is not empty and is not a negsim calibration folder" in err and "--overwrite" in err
    assert (mine / "thesis.tex").read_text(encoding="utf-8") == "years of work"


def test_calibrate_never_writes_over_the_scenarios_folder(tmp_path, capsys):
    assert main(["--quiet", "calibrate", str(BASELINE), "--out", str(BASELINE.parent), "--overwrite"]) == 2
    assert "an input of this command" in capsys.readouterr().err


def test_calibrate_scenario_out_refuses_a_scenario_it_did_not_write(tmp_path, capsys):
    mine = tmp_path / "mine.toml"
    mine.write_text('description = "mine"\n', encoding="utf-8")
    rc = main(["--quiet", "calibrate", str(BASELINE), "--out", str(tmp_path / "c"),
               "--scenario-out", str(mine)])
    assert rc == 2 and "was not written by negsim calibrate" in capsys.readouterr().err
    assert mine.read_text(encoding="utf-8") == 'description = "mine"\n'
    rc = main(["--quiet", "calibrate", str(BASELINE), "--out", str(tmp_path / "c"),
               "--scenario-out", str(BASELINE)])
    assert rc == 2 and "is an input of this calibration" in capsys.readouterr().err


def test_free_names_the_parameters_and_their_priors_and_refuses_bad_ones():
    from analysis.calibrate_cli import parse_free
    from sim.errors import ScenarioError

    free = parse_free("regime.bombardment_capacity=10:400, regime.k_capture,flight.asc_jordan_border")
    assert free["regime.bombardment_capacity"] == (10.0, 400.0)
    assert free["regime.k_capture"] == (0.02, 0.6)  # the schema's prior
    assert "flight.asc_border" in free  # a former name is the current parameter
    for bad, says in (("regime.bombardment_capacity=400:10", "LO must be below HI"),
                      ("regime.bombardment_capacity=10:5000", "less than or equal"),
                      ("regime.front_km", "no prior in the schema"),
                      ("mediator.phases=1:3", "not a number the calibration can vary"),
                      ("regime.nope=1:2", "not a parameter"), ("", "no parameter given")):
        with pytest.raises(ScenarioError, match=says):
            parse_free(bad)


def test_a_calibrated_file_can_extend_another_cases_calibration():
    import tomllib

    from analysis.calibration import calibrated_toml

    text = calibrated_toml({"regime.k_capture": 0.3}, ["Calibrated parameters: generated by x"],
                           extends="../calibrated.toml")
    data = tomllib.loads(text)
    assert data["extends"] == "../calibrated.toml" and data["regime"]["k_capture"] == 0.3
