"""Posterior-predictive batches (`negsim batch --posterior`): draws, levers, pairing, resume.

The posteriors here are synthetic (a few particles with known weights) over calibratable
parameters of the schema, so the tests do not depend on the committed calibration; the runs are
tiny (2% population, 20 days).
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chisquare

from sim.batch import load_runs, make_plan, run_batch
from sim.batch.plan import run_seed
from sim.batch.posterior import DRAW_COLUMN, DRAW_STREAM, is_calibration_point, load_posterior, own_parameters
from sim.batch.store import BatchStore
from sim.cli import main
from sim.scenario.schema import Scenario
from tests.conftest import SCENARIOS
from tests.test_batch import assert_same_dataset, tiny_toml

WEIGHTS = (0.1, 0.2, 0.3, 0.4)


def free_parameters(scenario_file: Path, k: int = 3) -> list[tuple[str, float, float]]:
    """k calibratable float parameters (path, prior lo, prior hi) the scenario does not set itself."""
    out = []
    for group, f in Scenario.model_fields.items():
        model = f.annotation
        for name, info in getattr(model, "model_fields", {}).items():
            extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
            if extra.get("prior") and info.annotation is float:
                out.append((f"{group}.{name}", *map(float, extra["prior"])))
    own = own_parameters(scenario_file, [p for p, *_ in out])
    free = [t for t in out if t[0] not in own]
    assert len(free) >= k, "the schema needs calibratable parameters for these tests"
    return free[:k]


def write_posterior(path: Path, params: list[tuple[str, float, float]], weights=WEIGHTS) -> Path:
    """Generation 0: uniform weights; generation 1: ``weights``; particle i at lo + (i+1)/(n+1) of the prior."""
    n = len(weights)
    rows = []
    for gen, w in ((0, [1.0 / n] * n), (1, list(weights))):
        for i in range(n):
            row = {"generation": gen}
            for j, (p, lo, hi) in enumerate(params):
                row[p] = lo + (hi - lo) * ((i + 1 + gen + j) % (n + 1) + 1) / (n + 2)
            row["weight"] = w[i]
            row["distance"] = 1.0 / (i + 1)
            rows.append(row)
    pd.DataFrame(rows).to_parquet(path, index=False)
    return path


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    d = tmp_path_factory.mktemp("post")
    tiny = tiny_toml(d)
    params = free_parameters(tiny)
    lever_path, lever_lo, lever_hi = params[0]
    lever_value = round((lever_lo + lever_hi) / 2, 3)
    g, f = lever_path.split(".")
    lever = tiny_toml(d, "lever", f"[{g}]\n{f} = {lever_value}\n")
    post = write_posterior(d / "posterior.parquet", params)
    return {"dir": d, "tiny": tiny, "lever": lever, "params": params, "post": post,
            "lever_path": lever_path, "lever_value": lever_value}


def test_draws_follow_the_posterior_weights(setup):
    reps = 2000
    plan = make_plan([setup["tiny"]], replicates=reps, root_seed=7, posterior=setup["post"])
    counts = Counter(r.draw for r in plan.runs)
    observed = [counts.get(i, 0) for i in range(len(WEIGHTS))]
    assert sum(observed) == reps
    # A fixed seed: the test is deterministic; at the 0.1% level it would fail for wrong weights
    # (uniform draws give chi-square ~ 400 here).
    assert chisquare(observed, [w * reps for w in WEIGHTS]).pvalue > 0.001
    uniform = make_plan([setup["tiny"]], replicates=reps, root_seed=7, posterior=setup["post"], generation=0)
    assert chisquare(observed, [reps / 4] * 4).pvalue < 1e-6  # generation 1 is not uniform ...
    assert chisquare([Counter(r.draw for r in uniform.runs)[i] for i in range(4)]).pvalue > 0.001  # ... 0 is


def test_a_run_draws_from_a_child_stream_of_its_own_seed_sequence(setup):
    plan = make_plan([setup["tiny"]], replicates=5, root_seed=3, posterior=setup["post"])
    post = load_posterior(setup["post"])
    for r in plan.runs:
        key = (0, 0, r.replicate)
        rng = np.random.default_rng(np.random.SeedSequence(3, spawn_key=(*key, DRAW_STREAM)))
        assert r.draw == int(rng.choice(4, p=post.weights))
        assert r.seed == run_seed(3, key)  # the model's seed is the one without a posterior
    assert [r.seed for r in plan.runs] == [r.seed for r in make_plan([setup["tiny"]], replicates=5,
                                                                       root_seed=3).runs]


def test_posterior_batch_parameters_vary_and_are_recorded(setup, tmp_path):
    out = tmp_path / "b"
    assert main(["--quiet", "batch", str(setup["tiny"]), "-r", "6", "--seed", "2", "--workers", "1",
                 "--posterior", str(setup["post"]), "--out", str(out)]) == 0
    runs = load_runs(out)
    manifest = json.loads((out / "manifest.json").read_text())
    post = load_posterior(setup["post"])
    assert manifest["posterior"] == {"sha256": post.sha256, "generation": 1}
    assert manifest["posterior_draws"]["parameters"] == post.paths
    assert runs[DRAW_COLUMN].nunique() > 1
    for (_, row), entry in zip(runs.iterrows(), manifest["runs"], strict=True):
        assert row[DRAW_COLUMN] == entry["draw"]
        for path in post.paths:
            assert row[path] == entry["params"][path] == pytest.approx(post.particles.loc[row[DRAW_COLUMN], path])
    for path in post.paths:
        assert runs[path].nunique() > 1
    assert main(["--quiet", "batch", "summarize", str(out)]) == 0
    assert DRAW_COLUMN not in set(pd.read_csv(out / "summary.csv")["outcome"])


def test_curves_say_whether_bands_include_parameter_uncertainty(setup, tmp_path):
    from analysis.figures import curves_figure
    from analysis.store import load_batch

    texts = {}
    for name, extra in (("drawn", ["--posterior", str(setup["post"])]), ("fixed", [])):
        out = tmp_path / name
        assert main(["--quiet", "batch", str(setup["tiny"]), "-r", "2", "--workers", "1", *extra,
                     "--out", str(out)]) == 0
        fig = curves_figure(load_batch(out), targets=[])
        texts[name] = [t.get_text() for t in fig.axes[0].get_legend().get_texts()] + [fig.axes[0].get_title()]
    assert any("include parameter uncertainty" in t for t in texts["drawn"])
    assert any("posterior draws" in t for t in texts["drawn"])
    assert any("stochastic variation only" in t for t in texts["fixed"])
    assert not any("parameter uncertainty" in t for t in texts["fixed"])


def test_scenario_values_and_sweeps_win_over_drawn_values(setup):
    (lever_path, *_), (swept, lo, hi), (drawn, *_) = setup["params"]
    plan = make_plan([setup["tiny"], setup["lever"]], replicates=20, root_seed=1, posterior=setup["post"],
                     sweeps=[f"{swept}={lo},{hi}"])
    assert plan.posterior_info["kept_from_scenario"] == {"tiny": [], "lever": [lever_path]}
    post = load_posterior(setup["post"])
    for r in plan.runs:
        assert r.params[swept] == (lo if r.point_id == 0 else hi)
        assert r.params[drawn] == pytest.approx(post.particles.loc[r.draw, drawn])
        if r.scenario == "lever":
            assert r.params[lever_path] == setup["lever_value"]
        else:
            assert r.params[lever_path] == pytest.approx(post.particles.loc[r.draw, lever_path])


def test_calibrate_output_is_the_point_a_posterior_replaces():
    import tomllib

    paths = list(load_posterior(SCENARIOS.parent / "calibration" / "daraa2018" / "posterior.parquet").paths)
    with open(SCENARIOS / "calibrated.toml", "rb") as f:
        assert is_calibration_point(tomllib.load(f), paths)
    with open(SCENARIOS / "baseline.toml", "rb") as f:
        assert not is_calibration_point(tomllib.load(f), paths)
    # So the library's baseline draws every posterior parameter.
    assert own_parameters(SCENARIOS / "baseline.toml", paths) == set()


def test_crn_gives_replicate_r_the_same_draw_and_seed_everywhere(setup):
    swept, lo, hi = setup["params"][1]
    kw = {"replicates": 12, "root_seed": 5, "posterior": setup["post"], "sweeps": [f"{swept}={lo},{hi}"]}
    paired = make_plan([setup["tiny"], setup["lever"]], common_random_numbers=True, **kw)
    by_rep: dict[int, set] = {}
    for r in paired.runs:
        by_rep.setdefault(r.replicate, set()).add((r.draw, r.seed))
    assert all(len(v) == 1 for v in by_rep.values())  # one (draw, seed) per replicate
    assert len({next(iter(v))[0] for v in by_rep.values()}) > 1  # draws still vary across replicates
    unpaired = make_plan([setup["tiny"], setup["lever"]], **kw)
    assert any(len({(r.draw, r.seed) for r in unpaired.runs if r.replicate == k}) > 1 for k in range(12))


def test_posterior_batches_are_identical_in_process_and_on_dask_and_after_resume(setup, tmp_path):
    pytest.importorskip("distributed")
    plan = make_plan([setup["tiny"], setup["lever"]], replicates=3, root_seed=4, posterior=setup["post"],
                     common_random_numbers=True)
    run_batch(plan, tmp_path / "serial", workers=1)
    res = run_batch(plan, tmp_path / "dask", scheduler="local", workers=2)
    assert res.workers == 2 and not res.failed
    assert_same_dataset(tmp_path / "serial", tmp_path / "dask")
    # Resume: forget half the runs (as if killed), run the same plan again.
    store = BatchStore(tmp_path / "dask")
    lost = [r.run_id for r in plan.runs[::2]]
    store.forget(lost)
    for r in plan.runs[::2]:
        store.part_path(r.scenario, r.run_id).unlink()
    again = run_batch(make_plan([setup["tiny"], setup["lever"]], replicates=3, root_seed=4,
                                posterior=setup["post"], common_random_numbers=True), tmp_path / "dask", workers=1)
    assert again.ran == len(lost)
    assert_same_dataset(tmp_path / "serial", tmp_path / "dask")


def test_resuming_with_another_posterior_or_generation_is_refused(setup, tmp_path, capsys):
    out = tmp_path / "r"
    args = ["--quiet", "batch", str(setup["tiny"]), "-r", "2", "--workers", "1", "--out", str(out)]
    assert main([*args, "--posterior", str(setup["post"])]) == 0
    capsys.readouterr()
    assert main([*args, "--posterior", str(setup["post"]), "--generation", "0"]) == 2
    assert "holds a different batch" in capsys.readouterr().err
    other = write_posterior(tmp_path / "other.parquet", setup["params"], weights=(0.4, 0.3, 0.2, 0.1))
    assert main([*args, "--posterior", str(other)]) == 2
    assert main(args) == 2  # nor without the posterior
    # The same file under another name is the same posterior: the batch resumes (nothing to run).
    moved = shutil.copy(setup["post"], tmp_path / "moved.parquet")
    assert main([*args, "--posterior", str(moved), "--generation", "1"]) == 0


@pytest.mark.parametrize("change,words", [
    ("missing", "posterior file not found"),
    ("no_weight", "no 'weight' column"),
    ("unknown_param", "is not a parameter"),
    ("generation", "generation 9 is not in the posterior"),
    ("out_of_range", "particle"),
])
def test_bad_posteriors_are_user_errors(setup, tmp_path, capsys, change, words):
    df = pd.read_parquet(setup["post"])
    path = tmp_path / "bad.parquet"
    extra = []
    if change == "no_weight":
        df = df.drop(columns="weight")
    elif change == "unknown_param":
        df = df.assign(**{"negotiation.no_such_field": 1.0})
    elif change == "generation":
        extra = ["--generation", "9"]
    elif change == "out_of_range":
        df[setup["params"][0][0]] = -1e9
    if change != "missing":
        df.to_parquet(path, index=False)
    out = tmp_path / "o"
    assert main(["batch", str(setup["tiny"]), "--workers", "1", "--out", str(out),
                 "--posterior", str(path), *extra]) == 2
    assert words in capsys.readouterr().err
    assert not out.exists()


def test_summarize_groups_a_posterior_grid_batch_by_point_not_by_draw(setup, tmp_path):
    swept, lo, hi = setup["params"][1]
    out = tmp_path / "g"
    assert main(["--quiet", "batch", str(setup["tiny"]), "-r", "4", "--workers", "1", "--posterior",
                 str(setup["post"]), "--sweep", f"{swept}={lo},{hi}", "--out", str(out)]) == 0
    assert load_runs(out)[setup["params"][2][0]].nunique() > 1  # drawn values vary within a point
    assert main(["--quiet", "batch", "summarize", str(out)]) == 0
    table = pd.read_csv(out / "summary.csv")
    peak = table[table["outcome"] == "peak_displaced"]
    assert len(peak) == 2 and (peak["n"] == 4).all()
    assert swept in table.columns and setup["params"][2][0] not in table.columns
