"""Outputs never destroy what is not theirs, are never half-written, honour the umask; the CLI
takes its flags anywhere and turns every failure into a message (no traceback without --debug)."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.cli import main
from tests.conftest import BASELINE, ROOT, SCENARIOS

DATA = SCENARIOS / "data" / "daraa2018"


def tiny(folder: Path, name: str = "tiny", extra: str = "") -> Path:
    """A 2%, 5-day scenario extending the library baseline (fast); without the baseline's dated
    interventions, which fall after its horizon."""
    p = folder / f"{name}.toml"
    p.write_text(f'extends = "{BASELINE}"\n{extra}\ninterventions = []\n[time]\nhorizon_days = 5\n'
                 "[world]\npopulation_scale = 0.02\n", encoding="utf-8")
    return p


def run(*args: str) -> int:
    return main(["--quiet", "run", *args, "--no-plot"])


# --- run --out: never deletes what is not a run ---------------------------------------------------

def test_run_out_refuses_a_folder_of_the_users_files_and_keeps_them(tmp_path, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("precious", encoding="utf-8")
    assert run(str(tiny(tmp_path)), "--out", str(mine)) == 2
    err = capsys.readouterr().err
    assert "is not empty and is not a negsim run folder" in err and "notes.txt" in err
    assert "--overwrite" in err
    assert (mine / "notes.txt").read_text(encoding="utf-8") == "precious"
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]


def test_run_out_refuses_a_file_and_keeps_it(tmp_path, capsys):
    f = tmp_path / "results"
    f.write_text("keep me", encoding="utf-8")
    assert run(str(tiny(tmp_path)), "--out", str(f)) == 2
    assert "is a file" in capsys.readouterr().err
    assert f.read_text(encoding="utf-8") == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results", "tiny.toml"]


@pytest.mark.parametrize("where", [".", "..", "scenarios"])
def test_run_out_never_replaces_the_current_folder_its_parents_or_the_inputs(tmp_path, monkeypatch,
                                                                            capsys, where):
    lib = tmp_path / "work" / "scenarios"
    lib.mkdir(parents=True)
    sc = tiny(lib)
    monkeypatch.chdir(tmp_path / "work")
    before = sorted(p.name for p in (tmp_path / "work").rglob("*"))
    # Not even with --overwrite.
    assert run(str(sc), "--out", where, "--overwrite") == 2
    err = capsys.readouterr().err
    assert "writing there would delete it" in err
    assert sorted(p.name for p in (tmp_path / "work").rglob("*")) == before


def test_run_out_replaces_a_previous_run_folder_and_overwrite_replaces_anything(tmp_path, capsys):
    sc = tiny(tmp_path)
    out = tmp_path / "r"
    assert run(str(sc), "--seed", "1", "--out", str(out)) == 0
    assert run(str(sc), "--seed", "2", "--out", str(out)) == 0  # a run folder: replaced
    assert json.loads((out / "metadata.json").read_text())["seed"] == 2
    (out / "notes.txt").write_text("x", encoding="utf-8")
    assert run(str(sc), "--seed", "3", "--out", str(out)) == 2  # now it holds a foreign file
    assert "notes.txt" in capsys.readouterr().err
    assert run(str(sc), "--seed", "3", "--out", str(out), "--overwrite") == 0
    assert not (out / "notes.txt").exists()
    f = tmp_path / "afile"
    f.write_text("x", encoding="utf-8")
    assert run(str(sc), "--out", str(f), "--overwrite") == 0 and (f / "metadata.json").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no .afile.old-PID


@pytest.mark.parametrize("name,folder", [("../..", "scenario"), ("/etc/passwd", "etc_passwd"),
                                         (".hidden", "hidden")])
def test_a_scenario_name_cannot_steer_the_default_output_folder(tmp_path, monkeypatch, name, folder):
    sc = tiny(tmp_path, "x", extra=f'name = "{name}"')
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert run(str(sc), "--seed", "5") == 0
    assert (work / "runs" / folder / "5" / "metadata.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work", "x.toml"]


def _modes_under(root: Path) -> dict[str, int]:
    """Permission bits of everything below ``root`` (relative path -> mode)."""
    return {str(p.relative_to(root)): p.stat().st_mode & 0o777 for p in sorted(root.rglob("*"))}


@pytest.mark.parametrize("mask", [0o022, 0o077], ids=["umask022", "umask077"])
def test_every_output_honours_the_umask(tmp_path, mask):
    """A run (with its plot), a batch and its summary, figures (PNG, SVG, a GIF), the report, a
    sensitivity analysis, a tiny calibration and the JSON Schema, all written under one umask:
    every file and folder gets the mode a new one gets under it (no 0600/0700 of mkstemp, no
    fixed 0644/0755), and no temporary file is left."""
    old = os.umask(mask)
    try:
        work = tmp_path / "work"
        work.mkdir()
        sc = tiny(work)
        coarse = work / "coarse.toml"  # calibration: the targets' horizon, 12-hour ticks
        coarse.write_text(f'extends = "{BASELINE}"\n[time]\ntick_hours = 12\nhorizon_days = 30\n',
                          encoding="utf-8")
        o = work / "out"
        commands = [
            ["run", str(sc), "--out", str(o / "run")],
            ["batch", str(sc), "-r", "2", "--workers", "1", "--out", str(o / "batch")],
            ["batch", "summarize", str(o / "batch")],
            ["plot", "curves", str(o / "batch")],
            ["plot", "map", str(o / "run"), "--day", "2", "--animate"],
            ["report", str(o / "batch"), "--no-maps"],
            ["sensitivity", str(sc), "--method", "morris", "--samples", "2", "--params",
             "regime.bombardment_capacity,casualties.lethality", "--out", str(o / "sens")],
            ["calibrate", str(coarse), "--budget", "8", "--population", "2", "--reps-per-particle", "1",
             "--replicates", "2", "--candidates", "1", "--select-reps", "1", "--workers", "1",
             "--population-scale", "0.01", "--out", str(o / "cal"),
             "--scenario-out", str(o / "cal.toml")],
            ["scenario", "schema", "--out", str(o / "schema" / "negsim.schema.json")],
        ]
        for argv in commands:
            assert main(["--quiet", *argv]) == 0, argv
    finally:
        os.umask(old)
    modes = _modes_under(work)
    for must in ("out/run/displacement.png", "out/run/metadata.json", "out/run/map.gif",
                 "out/batch/manifest.json", "out/batch/runs.parquet", "out/batch/_journal.jsonl",
                 "out/batch/summary.csv", "out/batch/report.html", "out/sens/indices.csv",
                 "out/sens/sensitivity.png", "out/cal/report.md", "out/cal.toml",
                 "out/schema/negsim.schema.json"):
        assert must in modes, must
    assert any(k.startswith("out/batch/timeseries/scenario=") and k.endswith(".parquet") for k in modes)
    assert any(k.startswith("out/batch/figures/curves") and k.endswith(".svg") for k in modes)
    file_mode, folder_mode = 0o666 & ~mask, 0o777 & ~mask
    wrong = {k: oct(m) for k, m in modes.items()
             if m != (folder_mode if (work / k).is_dir() else file_mode)}
    assert wrong == {}
    assert not [k for k in modes if Path(k).name.endswith(".tmp") or ".tmp." in Path(k).name]


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_a_run_cleans_temporary_folders_a_killed_run_left(tmp_path):
    out = tmp_path / "r"
    stale = tmp_path / f".r.{_dead_pid()}.abcd1234.tmp"
    stale.mkdir()
    (stale / "timeseries.csv").write_text("half", encoding="utf-8")
    live = tmp_path / f".r.{os.getppid()}.live.tmp"  # a live process's: left alone
    live.mkdir()
    assert run(str(tiny(tmp_path)), "--out", str(out)) == 0
    assert not stale.exists() and live.exists()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_a_killed_run_leaves_no_temporary_folder(tmp_path, sig):
    """Killed while writing its outputs (the plot is the slow part): SIGTERM cleans up at once;
    after kill -9 the next run removes what was left."""
    sc = tiny(tmp_path)
    out = tmp_path / "r"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "sim", "--quiet", "run", str(sc), "--out", str(out)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if any(p.name.startswith(".r.") for p in tmp_path.iterdir()):
                break
            time.sleep(0.002)
        assert proc.poll() is None, "the run ended before it could be stopped"
        proc.send_signal(sig)
    finally:
        proc.wait(timeout=60)
    assert not out.exists()
    hidden = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    if sig == signal.SIGTERM:
        assert proc.returncode == 130 and hidden == []
    else:
        assert hidden, "kill -9 leaves the temporary folder (nothing can remove it then)"
        assert run(str(sc), "--out", str(out)) == 0
        assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]


# --- the CLI: flags anywhere, messages not tracebacks ------------------------------------------

def test_quiet_and_debug_may_follow_the_subcommand(tmp_path, capsys):
    sc = tiny(tmp_path)
    assert main(["run", str(sc), "--no-plot", "--out", str(tmp_path / "a"), "--quiet"]) == 0
    assert capsys.readouterr().out == ""
    with pytest.raises(Exception, match="file not found"):
        main(["scenario", "validate", str(tmp_path / "nope.toml"), "--debug"])
    assert main(["scenario", "validate", str(tmp_path / "nope.toml"), "--quiet"]) == 2


def test_batch_summarize_has_its_own_help_without_doubled_percent_signs():
    def helptext(*argv: str) -> str:
        return subprocess.run([sys.executable, "-m", "sim", *argv, "--help"], capture_output=True, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True).stdout

    summ = helptext("batch", "summarize")
    assert summ.startswith("usage: negsim batch summarize") and "--csv" in summ and "OUT" in summ
    assert "--replicates" not in summ
    batch = helptext("batch")
    assert "%%" not in batch and "%%" not in summ and "90%" in batch


def test_a_full_disk_is_a_message_and_nothing_is_half_written(tmp_path, monkeypatch, capsys):
    import pandas as pd

    def full(*_a, **_k):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "x"))

    monkeypatch.setattr(pd.DataFrame, "to_csv", full)
    out = tmp_path / "r"
    assert run(str(tiny(tmp_path)), "--out", str(out)) == 2
    err = capsys.readouterr().err
    assert "no space left on device" in err and "free some disk space" in err
    assert "Traceback" not in err
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_an_unexpected_error_is_a_message_not_a_traceback(monkeypatch, capsys, tmp_path):
    import sim.run

    def bug(*_a, **_k):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(sim.run, "run_file", bug)
    assert run(str(tiny(tmp_path)), "--out", str(tmp_path / "r")) == 1
    err = capsys.readouterr().err
    assert "internal error: ZeroDivisionError: a bug" in err and "--debug" in err
    with pytest.raises(ZeroDivisionError):
        main(["run", str(tiny(tmp_path)), "--out", str(tmp_path / "r"), "--debug"])


# --- a battery of bad inputs: exit 2, a message naming what is wrong, never a traceback -----------

@pytest.fixture(scope="module")
def made(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("made")
    sc = tiny(d)
    assert main(["--quiet", "batch", str(sc), "-r", "2", "--workers", "1", "--out", str(d / "b")]) == 0
    assert main(["--quiet", "run", str(sc), "--no-plot", "--out", str(d / "r")]) == 0
    (d / "userdir").mkdir()
    (d / "userdir" / "keep.txt").write_text("keep", encoding="utf-8")
    (d / "afile").write_text("keep", encoding="utf-8")
    return {"dir": d, "sc": sc, "b": d / "b", "r": d / "r"}


BAD_CLI = [
    # (arguments with {sc} {b} {r} {d}, words the message must hold)
    ("batch {sc} --out . --overwrite", ["current folder or one of its parents"]),
    ("batch {sc} --out {d} --overwrite", ["an input of this command"]),
    ("batch {sc} --scheduler '' --out {d}/x", ["not a Dask scheduler address"]),
    ("batch {sc} --sweep regime.bombardment_capacity=nan --out {d}/x", ["not a finite number"]),
    ("batch {sc} --sweep regime.bombardment_capacity=a:b:3 --out {d}/x", ["LO and HI must be numbers"]),
    ("batch {sc} --sweep mediator.phases=inf --out {d}/x", ["mediator.phases takes whole numbers"]),
    ("batch {sc} --sweep world.towns_file=nope.csv --out {d}/x", ["world.towns_file", "file not found"]),
    ("run {sc} --out /proc/negsim-x --no-plot", ["cannot write in /proc"]),
    ("run {sc} --out {d}/afile/sub --no-plot", ["file exists", "in the way"]),
    ("run {sc} --seed -1", ["option '--seed'"]),
    ("plot map {r} --day nan", ["option '--day'", "outside the run"]),
    ("plot curves {b} --to {d}/afile/curves", ["file exists", "in the way"]),
    ("report {b} --to {d}/userdir --no-maps", ["is a folder"]),
    ("batch summarize {b} --csv {d}/userdir", ["is a folder"]),
    ("sensitivity {sc} --scheduler nonsense --out {d}/s", ["not a Dask scheduler address"]),
    ("calibrate {sc} --targets {d}/userdir", ["is a folder"]),
]


@pytest.mark.parametrize("argv,words", BAD_CLI, ids=[a for a, _ in BAD_CLI])
def test_bad_command_lines_are_messages(made, capsys, argv, words):
    import shlex

    args = [a.format(sc=made["sc"], b=made["b"], r=made["r"], d=made["dir"]) for a in shlex.split(argv)]
    before = sorted(str(p.relative_to(made["dir"])) for p in made["dir"].rglob("*"))
    rc = main(["--quiet", *args])
    err = capsys.readouterr().err
    assert rc == 2, err
    for w in words:
        assert w in err, (w, err)
    assert "Traceback" not in err and "internal error" not in err
    assert "<scenario>" not in err
    assert (made["dir"] / "userdir" / "keep.txt").read_text(encoding="utf-8") == "keep"
    assert (made["dir"] / "afile").read_text(encoding="utf-8") == "keep"
    if rc == 2:  # nothing written or removed
        assert sorted(str(p.relative_to(made["dir"])) for p in made["dir"].rglob("*")) == before
