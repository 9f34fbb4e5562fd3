"""`negsim run`: the files it writes, and clear errors with no partial output on bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from sim.cli import main
from tests.conftest import BASELINE

REQUIRED_COLUMNS = [
    "time", "day", "displaced_total", "displaced_jordan_border", "displaced_golan",
    "displaced_other", "returned_cum", "evacuated_cum", "civilian_deaths_cum",
    "towns_reconciled", "towns_rebel", "regime_share_area", "area_handed_over_km2_cum",
    "bombardment_intensity", "negotiation_state",
]
EVENT_KINDS = {"ultimatum", "talks_opened", "offer_made", "offer_rejected", "talks_collapsed",
               "talks_resumed", "deal_signed", "town_reconciled", "area_handed_over", "strike",
               "strikes_halted"}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "baseline"
    assert main(["--quiet", "run", str(BASELINE), "--seed", "4", "--out", str(out)]) == 0
    return out


def test_run_writes_every_output_file(run_dir):
    for name in ("timeseries.csv", "timeseries.parquet", "events.csv", "towns.csv",
                 "metadata.json", "displacement.png"):
        assert (run_dir / name).is_file(), name
    assert (run_dir / "displacement.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_timeseries_has_the_required_columns_and_iso_times(run_dir):
    ts = pd.read_csv(run_dir / "timeseries.csv")
    assert list(ts.columns[: 2]) == ["time", "day"]
    assert set(REQUIRED_COLUMNS) <= set(ts.columns)
    assert ts["time"].iloc[0] == "2018-06-19T00:00:00"
    assert ts["time"].iloc[1] == "2018-06-19T06:00:00"
    assert ts["regime_share_area"].between(0, 1).all()


def test_events_use_the_named_kinds(run_dir):
    ev = pd.read_csv(run_dir / "events.csv", keep_default_na=False)
    assert list(ev.columns) == ["time", "day", "kind", "actor", "target", "detail", "value"]
    assert set(ev["kind"]) >= EVENT_KINDS


def test_towns_table_is_per_town_per_day(run_dir):
    towns = pd.read_csv(run_dir / "towns.csv")
    assert {"day", "town_id", "controller", "population_present", "displaced_out",
            "deaths_cum"} <= set(towns.columns)
    assert towns.groupby("day")["town_id"].nunique().nunique() == 1
    assert towns["day"].nunique() == 61


def test_metadata_records_scenario_hash_seed_version_and_parameters(run_dir):
    meta = json.loads((run_dir / "metadata.json").read_text())
    assert meta["seed"] == 4
    assert len(meta["scenario_sha256"]) == 64
    assert meta["package_version"]
    assert "git_commit" in meta and meta["wall_time_s"] > 0
    assert meta["parameters"]["mediator"]["phases"] == 1


def test_python_dash_m_sim_is_the_same_command(tmp_path):
    out = subprocess.run([sys.executable, "-m", "sim", "--help"], capture_output=True,
                         text=True, check=True).stdout
    assert "run" in out


def _bad(tmp_path, text: str) -> tuple[int, str]:
    p = tmp_path / "bad.toml"
    p.write_text(text)
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "sim", "run", str(p), "--out", str(out)],
                       capture_output=True, text=True)
    assert not out.exists(), "no partial outputs on bad input"
    assert "Traceback" not in r.stderr
    return r.returncode, r.stderr


def test_unknown_field_is_a_clear_error_with_exit_2(tmp_path):
    code, err = _bad(tmp_path, f'extends = "{BASELINE}"\n[mediator]\nphasez = 2\n')
    assert code == 2
    assert "bad.toml" in err and "mediator.phasez" in err and "phases" in err


def test_missing_file_is_a_clear_error_with_exit_2(tmp_path):
    r = subprocess.run([sys.executable, "-m", "sim", "run", str(tmp_path / "nope.toml")],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "nope.toml" in r.stderr and "not found" in r.stderr


def test_negative_population_is_a_clear_error_with_exit_2(tmp_path):
    src = (BASELINE.parent / "data/daraa2018/towns.csv").read_text().splitlines()
    header = src[0].split(",")
    col = header.index("population")
    row = src[1].split(",")
    row[col] = "-5"
    (tmp_path / "towns.csv").write_text("\n".join([src[0], ",".join(row), *src[2:]]) + "\n")
    data = BASELINE.parent / "data/daraa2018"
    code, err = _bad(tmp_path, f'extends = "{BASELINE}"\n[world]\n'
                               f'towns_file = "towns.csv"\n'
                               f'subdistricts_file = "{data}/subdistricts.csv"\n'
                               f'zones_file = "{data}/zones.csv"\n'
                               f'borders_file = "{data}/borders.csv"\n')
    assert code == 2 and "towns.csv" in err and "population" in err


def test_tick_that_does_not_divide_24_is_a_clear_error_with_exit_2(tmp_path):
    code, err = _bad(tmp_path, f'extends = "{BASELINE}"\n[time]\ntick_hours = 5\n')
    assert code == 2 and "time.tick_hours" in err and "divide 24" in err
