"""`negsim effects` (paired and unpaired effects against a baseline) and `negsim discover` (PRIM).

Effects are checked on a real tiny batch (a copy of the baseline must have no effect; doubled
bombardment must raise deaths) and on synthetic batch stores with known effects; discovery on a
synthetic batch with a planted box (a known rule on two of four inputs).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.conditions import evaluate
from analysis.effects import effects_table, forest_figure
from analysis.store import load_batch
from sim.cli import main
from sim.errors import ScenarioError
from tests.conftest import SCENARIOS
from tests.test_batch import DATA

SMALL = ("[time]\nhorizon_days = 60\n[world]\npopulation_scale = 0.02\n"
         + "".join(f'{k}_file = "{DATA / f"{k}.csv"}"\n' for k in ("towns", "subdistricts", "zones", "borders")))


def small_library_file(folder: Path, name: str, extends: str) -> Path:
    """A library scenario at 2% population and 60 days (deaths_day60 is read), named ``name``."""
    path = folder / f"{name}.toml"
    path.write_text(f'extends = "{SCENARIOS / extends}"\nname = "{name}"\n{SMALL}', encoding="utf-8")
    return path


def synthetic_batch(out: Path, runs: pd.DataFrame, crn: bool) -> Path:
    """A batch folder in the engine's layout holding only ``runs`` (no time series)."""
    out.mkdir(parents=True, exist_ok=True)
    full = runs.assign(status="ok", error="", seed=np.where(crn, runs["replicate"], np.arange(len(runs))))
    full.to_parquet(out / "runs.parquet", index=False)
    manifest = {"root_seed": 0, "scenarios": {s: {"file": "", "sha256": ""} for s in dict.fromkeys(runs["scenario"])},
                "design": "grid", "sweeps": [], "replicates": int(runs["replicate"].max()) + 1,
                "common_random_numbers": crn, "posterior": None, "runs": []}
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return out


def three_scenarios(n: int = 40, seed: int = 3) -> pd.DataFrame:
    """baseline; 'same' (another sample of the same distribution); 'raise' (+500 displaced)."""
    rng = np.random.default_rng(seed)
    frames = []
    for name, shift in (("baseline", 0.0), ("same", 0.0), ("raise", 500.0)):
        frames.append(pd.DataFrame({"run_id": [f"{name}-{r}" for r in range(n)], "scenario": name, "point_id": 0,
                                    "replicate": range(n), "peak_displaced": rng.normal(10_000, 150, n) + shift,
                                    "deaths_day60": rng.poisson(50, n).astype(float)}))
    return pd.concat(frames, ignore_index=True)


# --- effects ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def paired_batch(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("eff")
    files = [small_library_file(d, "baseline", "baseline.toml"), small_library_file(d, "copy", "baseline.toml"),
             small_library_file(d, "doubled", "intensified_bombing.toml")]
    out = d / "b"
    assert main(["--quiet", "batch", *map(str, files), "-r", "6", "--crn", "--seed", "3", "--workers", "2",
                 "--out", str(out)]) == 0
    return out


def test_a_copy_of_the_baseline_has_no_effect_and_doubled_bombardment_raises_deaths(paired_batch):
    from analysis.effects import batch_effects

    table = batch_effects(load_batch(paired_batch), outcomes=["all"])
    assert (table["pairing"] == "paired").all()
    copy = table[table["scenario"] == "copy"]
    assert len(copy) > 10 and (copy["n"] > 0).any()
    used = copy[copy["n"] > 0]
    assert (used["effect"] == 0).all() and (used["lo"] <= 0).all() and (used["hi"] >= 0).all()
    assert (used["share_lower"] == 0).all()
    doubled = table[table["scenario"] == "doubled"].set_index("outcome")
    assert doubled.loc["deaths_day60", "effect"] > 0
    assert doubled.loc["deaths_day60", "share_lower"] < 0.5
    # The paired effect is the median of the differences of the runs with the same replicate.
    runs = pd.read_parquet(paired_batch / "runs.parquet")
    b = runs[runs["scenario"] == "baseline"].set_index("replicate")["deaths_day60"]
    x = runs[runs["scenario"] == "doubled"].set_index("replicate")["deaths_day60"]
    assert doubled.loc["deaths_day60", "effect"] == pytest.approx(float(np.median(x - b)))
    assert doubled.loc["deaths_day60", "n"] == 6


def test_effects_write_csv_markdown_latex_and_a_forest_plot(paired_batch):
    out = paired_batch / "effects_files"
    assert main(["--quiet", "effects", str(paired_batch), "--out", str(out)]) == 0
    for name in ("effects.csv", "effects.md", "effects.tex", "effects.png", "effects.svg"):
        assert (out / name).stat().st_size > 0, name
    md = (out / "effects.md").read_text()
    assert "Paired differences" in md and "| doubled | deaths_day60 |" in md
    tex = (out / "effects.tex").read_text()
    assert r"\begin{tabular}" in tex and r"deaths\_day60" in tex and r"\toprule" in tex
    # Refuses to replace a folder holding other files (e.g. the batch itself).
    assert main(["--quiet", "effects", str(paired_batch), "--out", str(paired_batch)]) == 2
    assert (paired_batch / "runs.parquet").exists()


def test_report_has_an_effects_section_when_the_batch_has_a_baseline(paired_batch):
    from analysis.report import build_report

    text = build_report(load_batch(paired_batch), reproduce=False)
    assert "<h2>Effects against the baseline (paired)</h2>" in text and "doubled" in text
    assert "stochastic variation only" in text


def test_unpaired_batches_get_a_bootstrap_interval_and_say_so(tmp_path, capsys):
    out = synthetic_batch(tmp_path / "u", three_scenarios(), crn=False)
    assert main(["effects", str(out), "--outcomes", "peak_displaced,deaths_day60", "--seed", "1"]) == 0
    printed = capsys.readouterr().out
    assert "UNPAIRED" in printed
    t = pd.read_csv(out / "effects" / "effects.csv").set_index(["scenario", "outcome"])
    assert (t["pairing"] == "unpaired").all() and t["interval"].str.contains("bootstrap").all()
    same, raised = t.loc[("same", "peak_displaced")], t.loc[("raise", "peak_displaced")]
    assert same["lo"] < 0 < same["hi"]
    assert 0 < raised["lo"] < raised["effect"] < raised["hi"] and raised["effect"] == pytest.approx(500, abs=120)
    assert raised["share_lower"] < 0.1
    for name in ("effects.md", "effects.tex"):
        assert "UNPAIRED" in (out / "effects" / name).read_text()
    fig = forest_figure(t.reset_index())
    assert "UNPAIRED" in fig._suptitle.get_text()
    # The same numbers with the same seed: the bootstrap is seeded.
    again = effects_table(pd.read_parquet(out / "runs.parquet"), outcomes=["peak_displaced"], paired=False, seed=1)
    assert again.set_index("scenario").loc["raise", "lo"] == pytest.approx(raised["lo"])


def test_paired_store_pairs_by_point_and_replicate(tmp_path):
    runs = three_scenarios(n=20)
    # Make the pairing visible: each replicate shares a large common component.
    common = np.repeat(np.arange(20) * 1000.0, 1)
    for s in ("baseline", "same", "raise"):
        runs.loc[runs["scenario"] == s, "peak_displaced"] += common
    out = synthetic_batch(tmp_path / "p", runs, crn=True)
    t = effects_table(load_batch(out).runs, outcomes=["peak_displaced"], paired=True).set_index("scenario")
    b = runs[runs["scenario"] == "baseline"]["peak_displaced"].to_numpy()
    r = runs[runs["scenario"] == "raise"]["peak_displaced"].to_numpy()
    assert t.loc["raise", "effect"] == pytest.approx(np.median(r - b))
    assert t.loc["raise", "lo"] == pytest.approx(np.quantile(r - b, 0.05))
    assert t.loc["raise", "share_lower"] == pytest.approx(np.mean(r - b < 0))
    assert t.loc["raise", "lo"] > 0  # the common component cancels in pairs


@pytest.mark.parametrize("args,words", [
    (["--baseline", "nope"], "no finished runs of the baseline scenario 'nope'"),
    (["--outcomes", "peak_displacd"], "unknown outcome"),
])
def test_effects_user_errors(tmp_path, capsys, args, words):
    out = synthetic_batch(tmp_path / "e", three_scenarios(n=5), crn=False)
    assert main(["effects", str(out), *args]) == 2
    assert words in capsys.readouterr().err


# --- discovery ----------------------------------------------------------------------------------

def planted(n: int = 500, seed: int = 11) -> pd.DataFrame:
    """An LHS-like batch where peak_displaced is low exactly when capacity < 45 and phases >= 3."""
    rng = np.random.default_rng(seed)
    cap = rng.uniform(20, 80, n)
    phases = rng.integers(1, 5, n)
    noise = rng.uniform(0, 1, n)
    passage = rng.random(n) < 0.5
    low = (cap < 45) & (phases >= 3)
    return pd.DataFrame({"run_id": [f"baseline-p{i:03d}-r0000" for i in range(n)], "scenario": "baseline",
                         "point_id": range(n), "replicate": 0, "regime.bombardment_capacity": cap,
                         "mediator.phases": phases, "negotiation.disarm_risk": noise,
                         "mediator.safe_passage": passage,
                         "peak_displaced": np.where(low, 100_000.0, 300_000.0) + rng.normal(0, 5_000, n),
                         "collapses": np.where(low, 0, 1 + (noise > 0.5)),
                         "deal_day": np.where(low | (noise < 0.3), 12.0, np.nan)})


def test_discover_finds_a_planted_box(tmp_path, capsys):
    out = synthetic_batch(tmp_path / "d", planted(), crn=False)
    assert main(["discover", str(out), "--outcome", "peak_displaced", "--below", "150000"]) == 0
    assert "Scenario discovery (PRIM)" in capsys.readouterr().out
    folder = out / "discovery" / "peak_displaced_lt_150000"
    box = pd.read_csv(folder / "box.csv").set_index("input")
    assert set(box.index) == {"regime.bombardment_capacity", "mediator.phases"}
    assert box["coverage"].iloc[0] > 0.8 and box["density"].iloc[0] > 0.8
    assert box.loc["regime.bombardment_capacity", "high"] == pytest.approx(45, abs=3)
    assert 2 <= box.loc["mediator.phases", "low"] <= 3
    assert box.loc["regime.bombardment_capacity", "qp_high"] < 1e-6
    traj = pd.read_csv(folder / "trajectory.csv")
    assert traj["coverage"].iloc[0] == 1.0 and len(traj) > 3
    for name in ("box.md", "trajectory.png", "trajectory.svg"):
        assert (folder / name).stat().st_size > 0


def test_discover_with_a_where_condition_and_a_chosen_box(tmp_path):
    from analysis.discover import discover

    runs = planted()
    d = discover(runs, where="deal_without_collapse")
    assert d.condition == "deal_without_collapse"
    assert d.n_interest == int(((runs["collapses"] == 0) & runs["deal_day"].notna()).sum())
    assert {"regime.bombardment_capacity", "mediator.phases"} <= set(d.limits["input"])
    assert d.stats["coverage"] >= 0.8
    first = discover(runs, where="collapses == 0", box=0)
    assert first.chosen == 0 and first.stats["coverage"] == 1.0 and first.limits.empty
    with pytest.raises(ScenarioError, match="not on the peeling trajectory"):
        discover(runs, where="collapses == 0", box=999)
    with pytest.raises(ScenarioError, match="no run meets the condition"):
        discover(runs, outcome="peak_displaced", below=0)


def test_condition_language():
    runs = planted(n=50)
    c, dl = runs["collapses"].to_numpy(), runs["deal_day"].to_numpy()
    assert (evaluate("collapses == 0", runs) == (c == 0)).all()
    assert (evaluate("notna(deal_day) and not collapses", runs) == (~np.isnan(dl) & (c == 0))).all()
    assert (evaluate("0 < collapses <= 1 or isna(deal_day)", runs) == (((c > 0) & (c <= 1)) | np.isnan(dl))).all()
    assert (evaluate("deal_day < 13", runs) == (dl < 13)).all()  # a missing value is never < 13
    assert (evaluate("mediator.phases >= 3", runs) == (runs["mediator.phases"] >= 3)).all()
    assert (evaluate("regime.bombardment_capacity > -1", runs)).all()


@pytest.mark.parametrize("text,words", [
    ("__import__('os').system('echo hacked')", "unknown function"),
    ("collapses.__class__", "unknown name"),
    ("(lambda: 1)()", "unknown function"),
    ("collapses + 1 > 0", "expected a column name or a number"),
    ("collapses in (0, 1)", "unsupported comparison"),
    ("collapsez == 0", "did you mean 'collapses'"),
    ("collapses ==", "not a condition"),
    ("[x for x in ()]", "is not a condition"),
    ("scenario == 0", "not a numeric column"),
])
def test_conditions_are_parsed_never_evaluated(text, words, capsys):
    with pytest.raises(ScenarioError) as exc:
        evaluate(text, planted(n=10))
    assert words in str(exc.value) and exc.value.field == "--where"
    assert "hacked" not in capsys.readouterr().out
