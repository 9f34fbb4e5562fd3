"""Batches that stop or change: torn journals, killed workers, a lost Dask scheduler, changed
inputs, growing batches, oversized plans, damaged files. A resumed batch must end with the
dataset of an uninterrupted one, or refuse with a clear message."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from sim.batch import load_runs, make_plan, run_batch
from sim.batch.executors import LocalExecutor, SerialExecutor
from sim.batch.store import BatchStore
from sim.cli import main
from sim.errors import InfrastructureError, ScenarioError
from tests.conftest import BASELINE, ROOT, SCENARIOS
from tests.test_batch import assert_same_dataset, tiny_toml

DATA = SCENARIOS / "data" / "daraa2018"


@pytest.fixture(scope="module")
def scen(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("scen")
    return {"tiny": tiny_toml(d), "passage": tiny_toml(d, "passage", "[mediator]\nsafe_passage = true\n")}


@pytest.fixture(scope="module")
def full8(scen, tmp_path_factory) -> Path:
    """The uninterrupted reference: tiny, 8 replicates, seed 6, one worker."""
    out = tmp_path_factory.mktemp("ref") / "full"
    run_batch(make_plan([scen["tiny"]], replicates=8, root_seed=6), out, workers=1)
    return out


# --- the journal --------------------------------------------------------------------------------

def test_a_torn_last_journal_line_is_repaired_and_that_run_runs_again(scen, full8, tmp_path):
    out = tmp_path / "torn"
    shutil.copytree(full8, out)
    (out / "runs.parquet").unlink()
    journal = out / "_journal.jsonl"
    data = journal.read_bytes()
    journal.write_bytes(data[: len(data) - 40])  # a kill or a full disk mid-append
    res = run_batch(make_plan([scen["tiny"]], replicates=8, root_seed=6), out, workers=1)
    assert res.ran == 1 and res.skipped == 7
    assert len(BatchStore(out).done_rows()) == 8 and len(load_runs(out)) == 8
    assert_same_dataset(full8, out)
    assert journal.read_bytes().endswith(b"\n") and journal.read_bytes().count(b"\n") == 8


def test_a_run_appended_to_a_torn_line_by_an_older_negsim_is_still_read(scen, full8, tmp_path):
    out = tmp_path / "old"
    shutil.copytree(full8, out)
    journal = out / "_journal.jsonl"
    lines = journal.read_text().splitlines(keepends=True)
    journal.write_text("".join(lines[:6]) + lines[6][:30] + lines[7])  # torn line 7, then line 8
    rows = BatchStore(out).done_rows()
    assert len(rows) == 7 and lines[7].split('"')[3] in rows


# --- infrastructure failures ----------------------------------------------------------------------

class _KillAWorker(LocalExecutor):
    """A process pool whose first worker is killed (SIGKILL) as soon as the first run is back."""

    def map_unordered(self, specs):
        for i, out in enumerate(super().map_unordered(specs)):
            if i == 0:
                pid = next(iter(self._pool._processes))
                os.kill(pid, signal.SIGKILL)
            yield out


def test_a_killed_worker_is_not_the_runs_failure_and_its_runs_run_on_resume(scen, full8, tmp_path):
    out = tmp_path / "killed"
    plan = make_plan([scen["tiny"]], replicates=8, root_seed=6)
    ex = _KillAWorker(2)
    try:
        res = run_batch(plan, out, executor=ex)
    finally:
        ex.close()
    assert res.interrupted, "killing a worker with runs in flight interrupts them"
    assert not res.failed
    assert all("worker process failed" in r["error"] for r in res.interrupted)
    rows = BatchStore(out).done_rows()
    assert all(r["status"] == "ok" for r in rows.values())  # nothing recorded as failed
    assert not {r["run_id"] for r in res.interrupted} & set(rows)
    again = run_batch(plan, out, workers=1)  # a plain resume, no --retry-failed
    assert again.ran == len(res.interrupted) and not again.interrupted
    assert_same_dataset(full8, out)


def test_the_cli_exits_3_and_says_to_resume_when_a_worker_dies(scen, tmp_path, monkeypatch, capsys):
    import sim.batch.api as api

    monkeypatch.setattr(api, "make_executor", lambda workers, scheduler: _KillAWorker(2))
    out = tmp_path / "k"
    rc = main(["--quiet", "batch", str(scen["tiny"]), "-r", "6", "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 3 and "worker process died" in err and "Rerun the same command" in err


def test_failures_an_older_negsim_recorded_for_a_dead_worker_run_again_on_resume(scen, full8, tmp_path):
    out = tmp_path / "legacy"
    shutil.copytree(full8, out)
    journal = out / "_journal.jsonl"
    lines = journal.read_text().splitlines()
    row = json.loads(lines[2])
    row.update(status="failed", outcomes={},
               error="BrokenProcessPool: A child process terminated abruptly (worker process failed)")
    lines[2] = json.dumps(row)
    journal.write_text("\n".join(lines) + "\n")
    res = run_batch(make_plan([scen["tiny"]], replicates=8, root_seed=6), out, workers=1)
    assert res.ran == 1 and not res.failed
    assert_same_dataset(full8, out)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_dask_scheduler_that_dies_mid_batch_fails_cleanly_and_the_batch_resumes(scen, full8, tmp_path):
    pytest.importorskip("distributed")
    from sim.batch.executors import DaskExecutor

    port = _free_port()
    addr = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    bindir = Path(sys.executable).parent
    sched = subprocess.Popen([str(bindir / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                              "--no-dashboard"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = subprocess.Popen([str(bindir / "dask"), "worker", addr, "--nthreads", "1", "--no-dashboard",
                               "--no-nanny"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)

    class KillScheduler(DaskExecutor):
        def map_unordered(self, specs):
            for i, out in enumerate(super().map_unordered(specs)):
                if i == 1:
                    sched.kill()
                    sched.wait(timeout=30)
                yield out

    out = tmp_path / "dask"
    plan = make_plan([scen["tiny"]], replicates=8, root_seed=6)
    try:
        ex = KillScheduler(addr, connect_timeout_s=60, heartbeat_s=0.5)
        t0 = time.monotonic()
        with pytest.raises(InfrastructureError, match="lost the connection to the Dask scheduler"):
            run_batch(plan, out, executor=ex)
        assert time.monotonic() - t0 < 120, "a lost scheduler must not hang the batch"
        ex.close()
    finally:
        for p in (sched, worker):
            p.kill()
            p.wait(timeout=30)
    done = len(BatchStore(out).done_rows())
    assert 2 <= done < 8 and (out / "runs.parquet").is_file()
    res = run_batch(plan, out, workers=1)
    assert res.ran == 8 - done
    assert_same_dataset(full8, out)


def test_a_scheduler_that_is_not_an_address_is_refused_before_anything(scen, tmp_path, capsys):
    out = tmp_path / "s"
    assert main(["--quiet", "batch", str(scen["tiny"]), "--scheduler", "not a url", "--out", str(out)]) == 2
    assert "not a Dask scheduler address" in capsys.readouterr().err
    assert not out.exists()


def test_an_unreachable_scheduler_exits_3_and_leaves_no_manifest_or_lock(scen, tmp_path, capsys, monkeypatch):
    pytest.importorskip("distributed")
    import sim.batch.executors as ex

    monkeypatch.setattr(ex, "CONNECT_TIMEOUT_S", 1.0)
    out = tmp_path / "u"
    rc = main(["--quiet", "batch", str(scen["tiny"]), "--scheduler", f"tcp://127.0.0.1:{_free_port()}",
               "--out", str(out)])
    assert rc == 3 and "cannot reach the Dask scheduler" in capsys.readouterr().err
    assert not out.exists()


# --- changed inputs ----------------------------------------------------------------------------------

def _chain(folder: Path) -> Path:
    """child.toml extends parent.toml (which extends the baseline); case data copied beside."""
    folder.mkdir()
    data = folder / "data"
    shutil.copytree(DATA, data)
    (folder / "parent.toml").write_text(
        f'extends = "{BASELINE}"\n[time]\nhorizon_days = 20\n[world]\npopulation_scale = 0.02\n'
        + "".join(f'{k}_file = "data/{k}.csv"\n' for k in ("towns", "subdistricts", "zones", "borders")),
        encoding="utf-8")
    child = folder / "child.toml"
    child.write_text('extends = "parent.toml"\n[mediator]\nphases = 2\n', encoding="utf-8")
    return child


def test_a_batch_killed_then_resumed_after_an_extended_file_changed_is_refused(tmp_path, capsys):
    child = _chain(tmp_path / "s")
    args = ["batch", str(child), "-r", "8", "--seed", "6", "--workers", "1"]
    out = tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "sim", "--quiet", *args, "--out", str(out)], env=env,
                            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    journal = out / "_journal.jsonl"
    deadline = time.monotonic() + 180
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if journal.exists() and journal.read_text().count("\n") >= 2:
                break
            time.sleep(0.02)
        assert proc.poll() is None, "the batch ended before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    parent = tmp_path / "s" / "parent.toml"
    original = parent.read_text(encoding="utf-8")
    parent.write_text(original.replace("[time]", "[regime]\nbombardment_scale = 1.5\n[time]"), encoding="utf-8")
    assert main(["--quiet", *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "an input of this batch changed since it started" in err and "parent.toml" in err
    # a case data file too
    parent.write_text(original, encoding="utf-8")
    towns = tmp_path / "s" / "data" / "towns.csv"
    before = towns.read_text(encoding="utf-8")
    rows = pd.read_csv(towns, dtype=str, keep_default_na=False)
    rows.loc[0, "population"] = str(int(rows.loc[0, "population"]) + 1)  # one person more in one town
    rows.to_csv(towns, index=False)
    assert towns.read_text(encoding="utf-8") != before
    assert main(["--quiet", *args, "--out", str(out)]) == 2
    assert "towns.csv" in capsys.readouterr().err
    # restored: the batch resumes and ends as an uninterrupted one
    shutil.copy(DATA / "towns.csv", towns)
    assert main(["--quiet", *args, "--out", str(out)]) == 0
    full = tmp_path / "full"
    assert main(["--quiet", *args, "--out", str(full)]) == 0
    assert_same_dataset(full, out)
    assert json.loads((out / "manifest.json").read_text())["scenarios"]["child"]["inputs"].keys() >= {
        str(parent.resolve()), str(towns.resolve()), str(BASELINE.resolve())}


# --- growing a batch --------------------------------------------------------------------------------

def test_more_replicates_run_only_the_new_runs_with_unchanged_seeds(scen, full8, tmp_path):
    out = tmp_path / "grow"
    r = run_batch(make_plan([scen["tiny"]], replicates=3, root_seed=6), out, workers=1)
    assert r.ran == 3
    r = run_batch(make_plan([scen["tiny"]], replicates=8, root_seed=6), out, workers=1)
    assert r.ran == 5 and r.skipped == 3
    assert_same_dataset(full8, out)


def test_more_scenarios_in_any_order_run_only_the_new_runs(scen, tmp_path):
    fresh = tmp_path / "fresh"
    run_batch(make_plan([scen["tiny"], scen["passage"]], replicates=2, root_seed=3), fresh, workers=1)
    out = tmp_path / "grow"
    run_batch(make_plan([scen["tiny"]], replicates=2, root_seed=3), out, workers=1)
    r = run_batch(make_plan([scen["passage"], scen["tiny"]], replicates=2, root_seed=3), out, workers=1)
    assert r.ran == 2 and r.skipped == 2
    assert_same_dataset(fresh, out)


def test_a_batch_cannot_shrink_or_change_its_seed(scen, tmp_path, capsys):
    out = tmp_path / "b"
    assert main(["--quiet", "batch", str(scen["tiny"]), "-r", "3", "--workers", "1", "--out", str(out)]) == 0
    for extra in (["-r", "2"], ["-r", "3", "--seed", "1"], ["-r", "3", "--sweep", "mediator.phases=1,2"]):
        assert main(["--quiet", "batch", str(scen["tiny"]), *extra, "--workers", "1", "--out", str(out)]) == 2
        assert "holds a different batch" in capsys.readouterr().err
    assert len(load_runs(out)) == 3


# --- plans ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("extra", [["--sweep", "regime.bombardment_capacity=20:80:100000000"],
                                   ["--sweep", "regime.bombardment_capacity=20:80", "--design", "lhs",
                                    "--samples", "100000000"],
                                   ["-r", "100000000"]])
def test_a_huge_plan_is_refused_before_it_is_built(scen, tmp_path, capsys, extra):
    out = tmp_path / "huge"
    t0 = time.process_time()
    assert main(["--quiet", "batch", str(scen["tiny"]), *extra, "--out", str(out)]) == 2
    assert time.process_time() - t0 < 30  # checked before planning (not a speed target)
    err = capsys.readouterr().err
    assert "100,000,000 runs" in err and "--max-runs" in err
    assert not out.exists()


def test_max_runs_sets_the_limit(scen):
    with pytest.raises(ScenarioError, match="more than the limit of 3"):
        make_plan([scen["tiny"]], replicates=4, max_runs=3)
    assert len(make_plan([scen["tiny"]], replicates=4, max_runs=4).runs) == 4


def test_batch_validates_every_scenario_against_its_case_data_before_it_starts(scen, tmp_path, capsys):
    bad = tiny_toml(tmp_path, "bad", '[[interventions]]\nday = 2\naction = "ceasefire"\ntowns = ["Nasieb"]\n')
    out = tmp_path / "o"
    assert main(["--quiet", "batch", str(scen["tiny"]), str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "bad.toml" in err and "unknown town 'Nasieb'" in err
    assert not out.exists()


@pytest.mark.parametrize("name", ["..", "a\\\\b", ""])
def test_a_scenario_name_that_is_not_a_folder_name_is_refused(scen, tmp_path, name):
    bad = tiny_toml(tmp_path, "bad", f'name = "{name}"')
    with pytest.raises(ScenarioError, match="scenario name"):
        make_plan([bad])


# --- damaged files -----------------------------------------------------------------------------------------

def test_a_damaged_manifest_is_a_message(scen, full8, tmp_path, capsys):
    out = tmp_path / "m"
    shutil.copytree(full8, out)
    (out / "manifest.json").write_text('{"root_seed": 6, "runs": [', encoding="utf-8")
    assert main(["--quiet", "batch", str(scen["tiny"]), "-r", "8", "--seed", "6", "--out", str(out)]) == 2
    assert "manifest.json" in capsys.readouterr().err
    for cmd in (["batch", "summarize", str(out)], ["plot", "compare", str(out)], ["report", str(out)]):
        assert main(["--quiet", *cmd]) == 2, cmd
        err = capsys.readouterr().err
        assert "manifest.json" in err and "is damaged" in err and "Traceback" not in err


def test_a_damaged_runs_table_is_rebuilt_from_the_journal(full8, tmp_path, capsys):
    out = tmp_path / "r"
    shutil.copytree(full8, out)
    (out / "runs.parquet").write_bytes(b"PAR1 not really")
    assert main(["--quiet", "batch", "summarize", str(out)]) == 0
    assert pd.read_parquet(out / "runs.parquet").equals(pd.read_parquet(full8 / "runs.parquet"))
    (out / "_journal.jsonl").unlink()
    (out / "runs.parquet").write_bytes(b"garbage")
    assert main(["--quiet", "batch", "summarize", str(out)]) == 2
    assert "runs.parquet" in capsys.readouterr().err


@pytest.mark.parametrize("name,text", [("metadata.json", "{not json"), ("timeseries.csv", ""),
                                       ("towns.csv", "a,b\n1,2\n")])
def test_a_damaged_run_folder_is_a_message(tmp_path, capsys, name, text):
    out = tmp_path / "run"
    sc = tiny_toml(tmp_path)
    assert main(["--quiet", "run", str(sc), "--no-plot", "--out", str(out)]) == 0
    (out / name).write_text(text, encoding="utf-8")
    assert main(["plot", "timeline", str(out)]) == 2
    err = capsys.readouterr().err
    assert name in err and "Traceback" not in err


def test_serial_executor_still_runs_everything(scen, tmp_path):  # the engine's plain path
    res = run_batch(make_plan([scen["tiny"]], replicates=2, root_seed=1), tmp_path / "s",
                    executor=SerialExecutor())
    assert res.ran == 2 and not res.interrupted and not res.failed


def test_a_damaged_time_series_part_is_a_message_and_rerunning_remakes_it(scen, full8, tmp_path, capsys):
    out = tmp_path / "p"
    shutil.copytree(full8, out)
    part = sorted((out / "timeseries").rglob("part-*.parquet"))[3]
    part.write_bytes(b"PAR1 broken")
    assert main(["--quiet", "plot", "curves", str(out)]) == 2
    err = capsys.readouterr().err
    assert part.name in err and "delete it and rerun" in err and "Traceback" not in err
    part.unlink()
    res = run_batch(make_plan([scen["tiny"]], replicates=8, root_seed=6), out, workers=1)
    assert res.ran == 1
    assert_same_dataset(full8, out)


def test_a_scenario_saved_with_a_byte_order_mark_loads(tmp_path):
    from sim.scenario.loader import load_scenario

    p = tmp_path / "bom.toml"
    p.write_bytes(b"\xef\xbb\xbf" + f'extends = "{BASELINE}"\n[mediator]\nphases = 2\n'.encode())
    assert load_scenario(p).mediator.phases == 2


def test_a_batch_started_by_other_code_resumes_but_overwrite_runs_it_again(scen, full8, tmp_path):
    out = tmp_path / "oldcode"
    shutil.copytree(full8, out)
    manifest = out / "manifest.json"
    m = json.loads(manifest.read_text())
    m["git_commit"] = "0" * 40  # as if another commit had started it
    manifest.write_text(json.dumps(m))
    plan = make_plan([scen["tiny"]], replicates=8, root_seed=6)
    with pytest.warns(UserWarning, match="resuming a batch started with code 0000"):
        res = run_batch(plan, out, workers=1)
    assert res.ran == 0 and res.skipped == 8  # without --overwrite: resumed, with a warning
    manifest.write_text(json.dumps(m))
    res = run_batch(plan, out, workers=1, overwrite=True)
    assert res.ran == 8 and res.skipped == 0  # --overwrite: every run again, by this code
    assert json.loads(manifest.read_text())["git_commit"] != "0" * 40
    assert_same_dataset(full8, out)
