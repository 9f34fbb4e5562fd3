"""Case data files: every bad table is "file, line, field, fix" (exit 2), never a traceback or a
silently wrong world; no file is ever taken from another copy of the data."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sim.cli import main
from sim.errors import ScenarioError
from sim.world.schema import TownRow, read_geojson, read_table
from tests.conftest import SCENARIOS

DATA = SCENARIOS / "data" / "daraa2018"


@pytest.fixture()
def lib(tmp_path) -> Path:
    """A copy of the scenario library with its case data (as a user would copy it)."""
    dst = tmp_path / "lib"
    shutil.copytree(SCENARIOS, dst, ignore=shutil.ignore_patterns("*.md"))
    return dst


def _cell(path: Path, line: int, column: str, value: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    cells = lines[line - 1].split(",", len(header) - 1)
    cells[header.index(column)] = value
    lines[line - 1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _validate(lib: Path, capsys) -> str:
    assert main(["scenario", "validate", str(lib / "baseline.toml")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize("value,words", [
    ("1e10", ["less than or equal to 20000000", "persons"]),
    ("1e30", ["less than or equal to 20000000"]),
    ("-40", ["greater than or equal to 0", "non-negative"]),
    ("12.5", ["whole number"]),
    ("many", ["not a number: 'many'"]),
    ("nan", ["finite"]),
])
def test_absurd_populations_are_refused_naming_file_line_and_field(lib, capsys, value, words):
    _cell(lib / "data/daraa2018/towns.csv", 3, "population", value)
    err = _validate(lib, capsys)
    assert "towns.csv:3: field 'population'" in err and "fix:" in err
    for w in words:
        assert w in err, (w, err)


def test_a_total_population_beyond_the_model_is_refused(lib, capsys):
    for line in range(2, 6):
        _cell(lib / "data/daraa2018/towns.csv", line, "population", "19000000")
    err = _validate(lib, capsys)
    assert "more than the model can simulate" in err and "check the units" in err


def test_a_latin1_csv_is_refused_with_the_line_and_a_fix(lib, capsys):
    towns = lib / "data/daraa2018/towns.csv"
    towns.write_bytes(towns.read_text(encoding="utf-8").encode("latin-1", errors="replace"))
    err = _validate(lib, capsys)
    assert "towns.csv:" in err and "not UTF-8" in err and "save the file as UTF-8" in err


def test_a_utf8_byte_order_mark_is_accepted(lib, capsys):
    towns = lib / "data/daraa2018/towns.csv"
    towns.write_bytes(b"\xef\xbb\xbf" + towns.read_bytes())
    assert main(["scenario", "validate", str(lib / "baseline.toml")]) == 0
    rows = read_table(towns, TownRow, "towns")
    assert rows[0].town_id == "tasil"


def test_a_csv_path_that_is_a_folder_is_refused(lib, capsys):
    (lib / "data/daraa2018/zones.csv").unlink()
    (lib / "data/daraa2018/zones.csv").mkdir()
    err = _validate(lib, capsys)
    assert "zones.csv: is a folder" in err


@pytest.mark.parametrize("table,key", [("subdistricts.csv", "sub-district"), ("towns.csv", "town"),
                                       ("borders.csv", "border vertex")])
def test_a_duplicated_row_is_refused_not_last_one_wins(lib, capsys, table, key):
    p = lib / "data/daraa2018" / table
    lines = p.read_text(encoding="utf-8").splitlines()
    p.write_text("\n".join([*lines, lines[2]]) + "\n", encoding="utf-8")
    err = _validate(lib, capsys)
    assert f"{table}:{len(lines) + 1}" in err and f"duplicate {key}" in err and "also on line 3" in err


def test_a_row_with_too_many_cells_is_refused(lib, capsys):
    p = lib / "data/daraa2018/subdistricts.csv"
    lines = p.read_text(encoding="utf-8").splitlines()
    lines[1] += ",surplus,cells"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert "subdistricts.csv:2" in _validate(lib, capsys)


def test_a_case_file_missing_from_the_scenarios_folder_is_an_error_not_the_installed_copy(lib, capsys,
                                                                                         tmp_path):
    (lib / "data/daraa2018/zones.csv").unlink()
    err = _validate(lib, capsys)
    assert f"{lib}/data/daraa2018/zones.csv: zones file not found" in err
    out = tmp_path / "r"
    assert main(["--quiet", "run", str(lib / "baseline.toml"), "--out", str(out)]) == 2
    assert not out.exists()


def test_a_scenario_saved_elsewhere_reads_the_case_data_of_the_file_it_extends(lib, tmp_path, capsys):
    """Paths no file sets are relative to the first file of the extends chain: a scenario in
    another folder extending the copied library reads the copy's data, not the project's."""
    mine = tmp_path / "elsewhere" / "mine.toml"
    mine.parent.mkdir()
    mine.write_text(f'extends = "{lib / "baseline.toml"}"\n', encoding="utf-8")
    from sim.model import load_case
    from sim.scenario.loader import case_files, load_scenario

    sc = load_scenario(mine)
    assert {p.parent for p in case_files(sc).values()} == {lib / "data" / "daraa2018"}
    assert load_case(sc).n_towns > 0
    _cell(lib / "data/daraa2018/towns.csv", 2, "population", "-1")
    assert main(["scenario", "validate", str(mine)]) == 2
    assert f"{lib}/data/daraa2018/towns.csv:2" in capsys.readouterr().err


@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_a_truncated_geojson_is_a_message_for_plot_map(lib, tmp_path, capsys, cut):
    gj = lib / "data/daraa2018/subdistricts.geojson"
    text = gj.read_text(encoding="utf-8")
    gj.write_text(text[: int(len(text) * cut)], encoding="utf-8")
    with pytest.raises(ScenarioError, match="not valid JSON.*truncated"):
        read_geojson(gj)
    out = tmp_path / "r"
    assert main(["--quiet", "run", str(lib / "baseline.toml"), "--no-plot", "--out", str(out)]) == 0
    assert main(["plot", "map", str(out)]) == 2
    err = capsys.readouterr().err
    assert "subdistricts.geojson" in err and "not valid JSON" in err and "Traceback" not in err


def test_a_geojson_that_is_not_polygons_is_refused(tmp_path):
    p = tmp_path / "x.geojson"
    p.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, '
                 '"geometry": {"type": "Polygon", "coordinates": [[[1, "a"]]]}}]}', encoding="utf-8")
    with pytest.raises(ScenarioError, match="features.0.geometry"):
        read_geojson(p)
