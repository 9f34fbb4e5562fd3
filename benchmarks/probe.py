"""Measurements run inside a fresh child process (so each has its own peak memory).

``python benchmarks/probe.py model --persons 750000 --tick-hours 6 --reps 3`` prints one JSON
line: persons, households, ticks, and the CPU and wall seconds of building the model and of
running it (after the scenario and case data are loaded, before any output is collected or
written), one value per repetition. ``python benchmarks/probe.py mesa --persons 100000`` runs
the whole model, times its vectorised flight-and-return rule tick by tick while recording the
rule's per-town inputs, then replays the same inputs through the one-agent-per-person Mesa
reference (:mod:`benchmarks.mesa_reference`).

:func:`run.main` starts these children and reads their peak memory (``ru_maxrss``) from
``os.wait4``. Nothing here writes files.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from sim.model import NegotiationModel, load_case  # noqa: E402
from sim.scenario.loader import load_scenario  # noqa: E402
from sim.scenario.schema import Scenario  # noqa: E402

BASELINE = ROOT / "scenarios" / "baseline.toml"
#: Persons in the baseline case at ``world.population_scale = 1`` (the UN's 750,000).
BASELINE_PERSONS = 750_000


def scenario_for(persons: int, tick_hours: int, path: Path = BASELINE) -> Scenario:
    """The baseline scenario scaled to about ``persons`` persons, at ``tick_hours`` ticks."""
    sc = load_scenario(path)
    sc.world.population_scale = persons / BASELINE_PERSONS
    sc.time.tick_hours = tick_hours
    return sc


def time_model(sc: Scenario, reps: int, seed: int = 0) -> dict[str, Any]:
    """Build and run the model ``reps`` times (case data loaded once); CPU and wall seconds."""
    world = load_case(sc)
    out: dict[str, Any] = {"init_cpu": [], "init_wall": [], "run_cpu": [], "run_wall": []}
    for r in range(reps):
        c0, w0 = time.process_time(), time.perf_counter()
        m = NegotiationModel(sc, seed=seed + r, world=world)
        c1, w1 = time.process_time(), time.perf_counter()
        m.run()
        c2, w2 = time.process_time(), time.perf_counter()
        out["init_cpu"].append(c1 - c0)
        out["init_wall"].append(w1 - w0)
        out["run_cpu"].append(c2 - c1)
        out["run_wall"].append(w2 - w1)
        out.update(persons=int(m.civilians.initial), households=int(len(m.civilians.home)),
                   ticks=int(m.n_ticks), tick_hours=sc.time.tick_hours)
        del m
    return out


def record_rule(sc: Scenario, n_ticks: int, seed: int = 0) -> tuple[dict[str, Any], list[tuple]]:
    """Run the whole model for ``n_ticks``, timing its vectorised flight-and-return rule.

    Returns the timings and the rule's per-tick inputs (to replay through the reference).
    """
    m = NegotiationModel(sc, seed=seed)
    civ = m.civilians
    plain = civ.flee_and_return
    inputs: list[tuple] = []
    rule_cpu = [0.0]

    def timed(*args: Any) -> np.ndarray:
        c0 = time.process_time()
        res = plain(*args)
        rule_cpu[0] += time.process_time() - c0
        inputs.append(tuple(np.array(a, copy=True) if isinstance(a, np.ndarray) else a
                            for a in args))
        return res

    civ.flee_and_return = timed  # instance attribute: only this model is instrumented
    persons = int(civ.initial)
    persons_by_town = np.bincount(civ.home, weights=civ.size, minlength=civ.n_towns)
    c0 = time.process_time()
    for _ in range(min(n_ticks, m.n_ticks)):
        m.step()
    model_cpu = time.process_time() - c0
    ticks = len(inputs)
    return ({"persons": persons, "households": int(len(civ.home)), "ticks": ticks,
             "model_cpu": model_cpu, "rule_cpu": rule_cpu[0],
             "displaced_end": int(civ.away_by_home().sum()),
             "persons_by_town": persons_by_town.astype(np.int64).tolist(),
             "exit0": int(civ.exit0)}, inputs)


def time_reference(persons_by_town: list[int], exit0: int, inputs: list[tuple],
                   n_ticks: int, seed: int = 0) -> dict[str, Any]:
    """Replay the first ``n_ticks`` recorded inputs through the one-agent-per-person model."""
    from benchmarks.mesa_reference import PersonFlightModel

    c0 = time.process_time()
    ref = PersonFlightModel(np.asarray(persons_by_town), exit0, seed=seed)
    c1 = time.process_time()
    for args in inputs[:n_ticks]:
        ref.set_inputs(*args)
        ref.step()
    c2 = time.process_time()
    return {"agents": len(ref.agents), "ticks": min(n_ticks, len(inputs)),
            "build_cpu": c1 - c0, "rule_cpu": c2 - c1, "displaced_end": ref.displaced()}


# --- batch workers (imported by the process pool of benchmarks/run.py) ------------------------
_WORKER: dict[str, Any] = {}


def batch_init(scenario_path: str) -> None:
    """Once per worker process: load the scenario and the case data (amortised over runs)."""
    sc = load_scenario(scenario_path)
    _WORKER["scenario"] = sc
    _WORKER["world"] = load_case(sc)


def batch_one(seed: int) -> dict[str, Any]:
    """One full replicate: the model's run, then its outputs collected in memory (not written)."""
    from sim.run import collect, simulate

    c0, w0 = time.process_time(), time.perf_counter()
    m = simulate(_WORKER["scenario"], seed, world=_WORKER["world"])
    c1, w1 = time.process_time(), time.perf_counter()
    res = collect(m, wall_s=w1 - w0)
    c2, w2 = time.process_time(), time.perf_counter()
    return {"seed": seed, "model_cpu": c1 - c0, "model_wall": w1 - w0, "collect_cpu": c2 - c1,
            "collect_wall": w2 - w1, "displaced_day16": float(res.outcomes["displaced_day16"])}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="what", required=True)
    pm = sub.add_parser("model", help="time the model's run")
    pm.add_argument("--persons", type=int, default=BASELINE_PERSONS)
    pm.add_argument("--tick-hours", type=int, default=6)
    pm.add_argument("--reps", type=int, default=3)
    pr = sub.add_parser("mesa", help="vectorised rule vs the one-agent-per-person reference")
    pr.add_argument("--persons", type=int, default=100_000)
    pr.add_argument("--ticks", type=int, default=60, help="ticks of the vectorised model")
    pr.add_argument("--ref-ticks", type=int, default=20, help="ticks replayed by the reference")
    a = ap.parse_args(argv)
    if a.what == "model":
        res = time_model(scenario_for(a.persons, a.tick_hours), a.reps)
    else:
        vec, inputs = record_rule(scenario_for(a.persons, 6), a.ticks)
        ref = time_reference(vec.pop("persons_by_town"), vec.pop("exit0"), inputs, a.ref_ticks)
        # the vectorised rule over the same ticks as the reference, for a like-for-like check
        vec2, _ = record_rule(scenario_for(a.persons, 6), ref["ticks"])
        res = {"vectorised": vec, "vectorised_same_ticks": {k: vec2[k] for k in (
            "ticks", "rule_cpu", "displaced_end")}, "reference": ref}
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
