"""`negsim batch`: seeds, executors (serial, process pool, Dask), streaming, resume, failures.

Batches here are tiny (population_scale 0.02, 20 days) so they test mechanics, not calibration.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.batch import load_runs, load_timeseries, make_plan, run_batch, run_scenario
from sim.batch.executors import SerialExecutor
from sim.batch.plan import parse_sweep, run_seed
from sim.batch.store import BatchStore
from sim.cli import main
from sim.errors import ScenarioError
from sim.run import collect, simulate
from sim.scenario.loader import load_scenario
from tests.conftest import BASELINE, ROOT, SCENARIOS

DATA = SCENARIOS / "data" / "daraa2018"


def tiny_toml(folder: Path, name: str = "tiny", extra: str = "") -> Path:
    """A scenario extending the baseline at 2% population and 20 days (data paths absolute)."""
    path = folder / f"{name}.toml"
    path.write_text(
        f'extends = "{BASELINE}"\n{extra}\n[time]\nhorizon_days = 20\n[world]\npopulation_scale = 0.02\n'
        f'towns_file = "{DATA / "towns.csv"}"\nsubdistricts_file = "{DATA / "subdistricts.csv"}"\n'
        f'zones_file = "{DATA / "zones.csv"}"\nborders_file = "{DATA / "borders.csv"}"\n',
        encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def scen(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("scen")
    return {"tiny": tiny_toml(d), "passage": tiny_toml(d, "passage", "[mediator]\nsafe_passage = true\n")}


def part_bytes(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted((out / "timeseries").rglob("*.parquet"))}


def assert_same_dataset(a: Path, b: Path) -> None:
    """Bit for bit: the run table and every time-series part file."""
    assert (a / "runs.parquet").read_bytes() == (b / "runs.parquet").read_bytes()
    pa, pb = part_bytes(a), part_bytes(b)
    assert pa.keys() == pb.keys() and pa == pb
    ma, mb = (json.loads((x / "manifest.json").read_text()) for x in (a, b))
    assert ma["runs"] == mb["runs"]


# --- plans and seeds ---------------------------------------------------------------------------

def test_run_seeds_are_the_spawned_children_of_the_root_seed(scen):
    plan = make_plan([scen["tiny"], scen["passage"]], replicates=3,
                     sweeps=["mediator.phases=1,2"], root_seed=11)
    assert len(plan.runs) == 2 * 2 * 3
    root = np.random.SeedSequence(11)
    for s, per_scen in enumerate(root.spawn(2)):
        for p, per_point in enumerate(per_scen.spawn(2)):
            for r, child in enumerate(per_point.spawn(3)):
                run = plan.runs[s * 6 + p * 3 + r]
                assert (run.point_id, run.replicate) == (p, r)
                assert run.seed == int(child.generate_state(1, dtype=np.uint64)[0] % np.uint64(2**63))
    assert len({r.seed for r in plan.runs}) == len(plan.runs)
    assert plan.runs[4].run_id == "tiny-p001-r0001"


def test_adding_replicates_keeps_the_seeds_of_existing_runs(scen):
    few = make_plan([scen["tiny"]], replicates=2, root_seed=3)
    more = make_plan([scen["tiny"]], replicates=5, root_seed=3)
    assert [r.seed for r in few.runs] == [r.seed for r in more.runs[:2]]


def test_common_random_numbers_pair_replicates_across_scenarios(scen):
    plan = make_plan([scen["tiny"], scen["passage"]], replicates=2, root_seed=5,
                     common_random_numbers=True)
    seeds = {(r.scenario, r.replicate): r.seed for r in plan.runs}
    assert seeds["tiny", 0] == seeds["passage", 0] == run_seed(5, (0,))
    assert seeds["tiny", 1] == seeds["passage", 1] != seeds["tiny", 0]


def test_sweep_forms_and_alias():
    g = parse_sweep("bombardment.capacity=0.5:2:4")
    assert g.path == "regime.bombardment_capacity"
    assert g.grid_values() == pytest.approx((0.5, 1.0, 1.5, 2.0))
    assert parse_sweep("mediator.phases=1,2,3").grid_values() == (1, 2, 3)
    assert parse_sweep("borders.open.jordan_border=true,false").grid_values() == (True, False)
    assert parse_sweep("mediator.phases=1:3:3").grid_values() == (1, 2, 3)


def test_grid_design_is_every_combination(scen):
    plan = make_plan([scen["tiny"]], sweeps=["regime.bombardment_capacity=20:60:3",
                                             "mediator.phases=1,2"])
    assert [tuple(p.values()) for p in plan.points] == [
        (20.0, 1), (20.0, 2), (40.0, 1), (40.0, 2), (60.0, 1), (60.0, 2)]


@pytest.mark.parametrize("design,n", [("lhs", 10), ("sobol", 8)])
def test_sampled_designs_stay_in_range_and_are_reproducible(scen, design, n):
    sweeps = ["regime.bombardment_capacity=20:80", "mediator.phases=1:4"]
    a = make_plan([scen["tiny"]], sweeps=sweeps, design=design, samples=n, root_seed=2)
    b = make_plan([scen["tiny"]], sweeps=sweeps, design=design, samples=n, root_seed=2)
    assert a.points == b.points and len(a.points) == n
    caps = [p["regime.bombardment_capacity"] for p in a.points]
    assert all(20 <= c <= 80 for c in caps) and len(set(caps)) == n
    assert all(isinstance(p["mediator.phases"], int) and 1 <= p["mediator.phases"] <= 4 for p in a.points)
    if design == "lhs":  # one sample in each of the n strata
        assert sorted(int((c - 20) / 60 * n) for c in caps) == list(range(n))


@pytest.mark.parametrize("sweep,words", [
    ("regime.bombardment_capcity=1,2", "did you mean 'regime.bombardment_capacity'"),
    ("nogroup.x=1,2", "not a parameter"),
    ("regime.bombardment_capacity=-5,10", "parameter point 0"),
    ("regime.bombardment_capacity", "expected PATH"),
])
def test_bad_sweeps_are_user_errors(scen, sweep, words):
    with pytest.raises(ScenarioError, match=words.replace("(", r"\(").replace(")", r"\)")):
        make_plan([scen["tiny"]], sweeps=[sweep])


def test_sobol_needs_a_power_of_two(scen):
    with pytest.raises(ScenarioError, match="power of 2"):
        make_plan([scen["tiny"]], sweeps=["regime.bombardment_capacity=20:80"], design="sobol", samples=6)


# --- running ---------------------------------------------------------------------------------

def test_batch_run_matches_negsim_run_and_run_scenario(scen, tmp_path):
    plan = make_plan([scen["tiny"]], replicates=1, sweeps=["mediator.phases=2"], root_seed=9)
    run_batch(plan, tmp_path / "b", workers=1)
    row = load_runs(tmp_path / "b").iloc[0]
    spec = plan.runs[0]
    sc = load_scenario(scen["tiny"])
    sc.mediator.phases = 2
    single = collect(simulate(sc, spec.seed))
    ts = load_timeseries(tmp_path / "b")
    assert ts[single.timeseries.columns].equals(single.timeseries)
    direct = run_scenario({"mediator.phases": 2}, spec.seed, base=scen["tiny"])
    assert direct == pytest.approx(single.outcomes, nan_ok=True)
    for k, v in single.outcomes.items():
        assert row[k] == pytest.approx(v, nan_ok=True), k


def test_results_are_identical_for_one_worker_and_a_process_pool(scen, tmp_path):
    plan = make_plan([scen["tiny"], scen["passage"]], replicates=3, root_seed=4)
    r1 = run_batch(plan, tmp_path / "serial", workers=1)
    r2 = run_batch(plan, tmp_path / "pool", workers=2)
    assert r1.workers == 1 and r2.workers == 2 and r1.ran == r2.ran == 6
    assert_same_dataset(tmp_path / "serial", tmp_path / "pool")


def test_dask_local_cluster_gives_the_local_results_bit_for_bit(scen, tmp_path):
    pytest.importorskip("distributed")
    plan = make_plan([scen["tiny"]], replicates=4, sweeps=["mediator.phases=1,3"], root_seed=8)
    run_batch(plan, tmp_path / "local", workers=1)
    res = run_batch(plan, tmp_path / "dask", scheduler="local", workers=2)
    assert res.workers == 2 and res.ran == 8 and not res.failed
    assert_same_dataset(tmp_path / "local", tmp_path / "dask")


class _Watching(SerialExecutor):
    """Records, before each run after the first, which earlier runs are already on disk."""

    def __init__(self, store: BatchStore) -> None:
        self.store = store
        self.seen: list[tuple[int, int]] = []

    def map_unordered(self, specs):
        for i, out in enumerate(super().map_unordered(specs)):
            parts = len(list((self.store.out / "timeseries").rglob("part-*.parquet"))) if i else 0
            self.seen.append((i, parts))
            yield out


def test_ordered_map_returns_results_in_the_items_order_on_every_executor():
    from sim.batch.executors import LocalExecutor, make_executor

    # larger factorials take longer: with two workers the first items finish last
    items = [3000, 2500, 2000, 1500, 1000, 10, 1, 0]
    expect = [math.factorial(n) for n in items]
    assert isinstance(make_executor(1), SerialExecutor)
    assert list(SerialExecutor().map_ordered(math.factorial, items)) == expect
    ex = LocalExecutor(2)
    try:
        assert list(ex.map_ordered(math.factorial, items, in_flight=3)) == expect
        assert list(ex.map_ordered(math.factorial, iter(items))) == expect
    finally:
        ex.close()


def test_ordered_map_raises_the_callables_error_and_stops_when_closed():
    from sim.batch.executors import LocalExecutor

    ex = LocalExecutor(2)
    try:
        with pytest.raises(ValueError):
            list(ex.map_ordered(math.sqrt, [4.0, -1.0, 9.0]))
        submitted = []

        def items():
            for n in range(1000):
                submitted.append(n)
                yield float(n)

        it = ex.map_ordered(math.sqrt, items(), in_flight=4)
        assert [next(it) for _ in range(3)] == [0.0, 1.0, math.sqrt(2)]
        it.close()  # the rest is never submitted
        assert len(submitted) <= 3 + 4
    finally:
        ex.close()


def test_ordered_map_on_a_dask_local_cluster():
    pytest.importorskip("distributed")
    from sim.batch.executors import DaskExecutor

    ex = DaskExecutor("local", workers=2)
    try:
        assert list(ex.map_ordered(math.factorial, [300, 200, 100, 5])) == [
            math.factorial(n) for n in (300, 200, 100, 5)]
    finally:
        ex.close()


def test_results_are_written_as_runs_finish(scen, tmp_path):
    plan = make_plan([scen["tiny"]], replicates=4, root_seed=1)
    ex = _Watching(BatchStore(tmp_path / "s"))
    run_batch(plan, tmp_path / "s", executor=ex)
    # When run i comes back, the i runs before it are already stored (part file + journal).
    assert ex.seen == [(0, 0), (1, 1), (2, 2), (3, 3)]
    assert len(BatchStore(tmp_path / "s").done_rows()) == 4


def test_a_failing_run_is_recorded_and_the_batch_goes_on(scen, tmp_path, capsys):
    broken = tmp_path / "broken_towns.csv"
    broken.write_text("town_id,name\nx,y\n", encoding="utf-8")
    out = tmp_path / "f"
    rc = main(["--quiet", "batch", str(scen["tiny"]), "-r", "2", "--workers", "1", "--out", str(out),
               "--sweep", f"world.towns_file={DATA / 'towns.csv'},{broken}"])
    assert rc == 1
    err = capsys.readouterr().err
    assert "2 run(s) failed" in err and "tiny-p001-r0000" in err and "tiny-p001-r0001" in err
    runs = load_runs(out)
    assert list(runs["status"]) == ["ok", "ok", "failed", "failed"]
    failed = runs[runs["status"] == "failed"]
    assert failed["error"].str.contains("ScenarioError").all()
    assert (failed["world.towns_file"] == str(broken)).all()
    assert failed["peak_displaced"].isna().all() and runs.loc[:1, "peak_displaced"].gt(0).all()
    assert len(list((out / "timeseries").rglob("*.parquet"))) == 2
    # Rerunning: the failures are kept (not rerun) and still make the exit code non-zero.
    assert main(["--quiet", "batch", str(scen["tiny"]), "-r", "2", "--workers", "1", "--out", str(out),
                 "--sweep", f"world.towns_file={DATA / 'towns.csv'},{broken}"]) == 1


def test_a_model_exception_in_the_worker_is_recorded(scen, tmp_path, monkeypatch):
    import sim.batch.worker as worker

    real = worker.simulate

    def boom(sc, seed, world=None):
        if sc.mediator.phases == 3:
            raise ZeroDivisionError("phases=3 breaks the model")
        return real(sc, seed, world=world)

    monkeypatch.setattr(worker, "simulate", boom)
    plan = make_plan([scen["tiny"]], sweeps=["mediator.phases=1,3,2"], root_seed=2)
    res = run_batch(plan, tmp_path / "m", workers=1)
    assert [f["run_id"] for f in res.failed] == ["tiny-p001-r0000"]
    assert "ZeroDivisionError: phases=3 breaks the model" in res.failed[0]["error"]
    assert list(load_runs(tmp_path / "m")["status"]) == ["ok", "failed", "ok"]


def test_resume_after_kill_9_ends_with_the_uninterrupted_dataset(scen, tmp_path):
    plan_args = ["batch", str(scen["tiny"]), "-r", "16", "--seed", "6", "--workers", "1"]
    full = tmp_path / "full"
    assert main(["--quiet", *plan_args, "--out", str(full)]) == 0
    out = tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "sim", "--quiet", *plan_args, "--out", str(out)],
                            env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    journal = out / "_journal.jsonl"
    deadline = time.monotonic() + 180
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if journal.exists() and journal.read_text().count("\n") >= 3:
                break
            time.sleep(0.02)
        assert proc.poll() is None, "the batch ended before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    done = len(BatchStore(out).done_rows())
    assert 3 <= done < 16
    assert not (out / "runs.parquet").exists()  # written only at the end
    plan = make_plan([scen["tiny"]], replicates=16, root_seed=6)
    res = run_batch(plan, out, workers=1)
    assert res.ran == 16 - done and res.skipped == done
    assert_same_dataset(full, out)
    assert not list(out.rglob(".*.tmp"))


def test_an_output_folder_with_another_batch_is_refused(scen, tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["--quiet", "batch", str(scen["tiny"]), "--workers", "1", "--out", str(out)]) == 0
    assert main(["--quiet", "batch", str(scen["tiny"]), "-r", "2", "--seed", "9", "--workers", "1",
                 "--out", str(out)]) == 2
    assert "holds a different batch" in capsys.readouterr().err
    assert main(["--quiet", "batch", str(scen["tiny"]), "-r", "2", "--seed", "9", "--workers", "1",
                 "--out", str(out), "--overwrite"]) == 0
    assert len(load_runs(out)) == 2


def test_missing_scenario_file_is_a_user_error(tmp_path, capsys):
    assert main(["batch", str(tmp_path / "nope.toml"), "--out", str(tmp_path / "o")]) == 2
    assert "file not found" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


# --- outputs -----------------------------------------------------------------------------------

def test_dataset_layout_and_summarize_table(scen, tmp_path, capsys):
    out = tmp_path / "lib"
    assert main(["--quiet", "batch", str(scen["tiny"]), str(scen["passage"]), "-r", "3", "--workers", "1",
                 "--out", str(out)]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["scenarios"]) == {"tiny", "passage"} and manifest["replicates"] == 3
    assert {"run_id", "scenario", "point_id", "replicate", "seed", "params"} <= set(manifest["runs"][0])
    runs = pd.read_parquet(out / "runs.parquet")
    assert list(runs["run_id"]) == [r["run_id"] for r in manifest["runs"]]
    for col in ("seed", "status", "error", "peak_displaced", "peak_day", "deaths_day16", "deaths_day60",
                "collapses", "deal_day", "evacuated", "returned"):
        assert col in runs, col
    ts = pd.read_parquet(out / "timeseries")  # every run's series in one call
    assert set(ts["scenario"].astype(str)) == {"tiny", "passage"}
    assert ts.groupby("run_id").size().nunique() == 1 and ts["run_id"].nunique() == 6
    assert main(["batch", "summarize", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "peak_displaced" in printed and "passage" in printed
    table = pd.read_csv(out / "summary.csv")
    got = table[(table["scenario"] == "passage") & (table["outcome"] == "peak_displaced")].iloc[0]
    vals = runs.loc[runs["scenario"] == "passage", "peak_displaced"]
    assert got["n"] == 3
    assert got["median"] == pytest.approx(vals.median())
    assert got["q05"] == pytest.approx(vals.quantile(0.05)) and got["q95"] == pytest.approx(vals.quantile(0.95))
    assert math.isfinite(got["median"])


def test_ema_workbench_example_drives_run_scenario():
    pytest.importorskip("ema_workbench")
    import warnings

    sys.path.insert(0, str(ROOT / "examples"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import ema_workbench_batch as ex
            from ema_workbench import perform_experiments
    finally:
        sys.path.pop(0)
    model = ex.build(replications=1, root_seed=3, scale=0.02)
    experiments, outcomes = perform_experiments(model, scenarios=2, policies=1)
    seed = model.replications[0]["seed"]
    for i, row in experiments.reset_index(drop=True).iterrows():
        direct = run_scenario({"regime.bombardment_capacity": row["bombardment_capacity"],
                               "mediator.phases": int(row["phases"]), "world.population_scale": 0.02}, seed)
        assert outcomes["peak_displaced"][i] == direct["peak_displaced"]


def test_a_folder_another_batch_is_writing_is_refused(scen, tmp_path, capsys):
    out = tmp_path / "busy"
    holder = BatchStore(out)
    holder.lock()
    try:
        assert main(["--quiet", "batch", str(scen["tiny"]), "--workers", "1", "--out", str(out)]) == 2
        assert "another batch is writing" in capsys.readouterr().err
    finally:
        holder.unlock()
    assert not out.exists()
    assert main(["--quiet", "batch", str(scen["tiny"]), "--workers", "1", "--out", str(out)]) == 0
