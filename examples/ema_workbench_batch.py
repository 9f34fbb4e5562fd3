"""EMA Workbench driving negsim through ``sim.batch.run_scenario``.

    python examples/ema_workbench_batch.py --experiments 20 --replications 3 --scale 0.1

EMA samples bombardment capacity and the phases of disarmament (Latin hypercube), runs each
experiment ``--replications`` times with seeds spawned from one root seed, and returns the
outcomes (mean over replications here, through ``ScalarOutcome(function=...)``).
``run_scenario(params, seed)`` takes dotted schema paths; EMA's parameter names are plain
identifiers, so the model function maps them. Parallel: pass
``evaluator=MultiprocessingEvaluator(model)`` instead of the default sequential one.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np

with warnings.catch_warnings():  # EMA warns that the optional ipyparallel is missing
    warnings.simplefilter("ignore")
    from ema_workbench import IntegerParameter, RealParameter, ReplicatorModel, ScalarOutcome, perform_experiments

from sim.batch import run_scenario

OUTCOMES = ("peak_displaced", "deaths_day60", "collapses")


def negsim_model(bombardment_capacity: float, phases: int, seed: int, scale: float = 1.0,
                 scenario: str | None = None) -> dict[str, float]:
    """EMA's model function: plain keyword arguments in, outcomes out (base: the baseline)."""
    out = run_scenario({"regime.bombardment_capacity": bombardment_capacity, "mediator.phases": int(phases),
                        "world.population_scale": scale}, seed, base=scenario)
    return {k: float(out[k]) for k in OUTCOMES}


def build(replications: int, root_seed: int = 0, scale: float = 1.0) -> ReplicatorModel:
    model = ReplicatorModel("negsim", function=lambda **kw: negsim_model(**kw, scale=scale))
    model.uncertainties = [RealParameter("bombardment_capacity", 20.0, 80.0)]
    model.levers = [IntegerParameter("phases", 1, 3)]
    seeds = [int(s.generate_state(1, dtype=np.uint64)[0] % np.uint64(2**63))
             for s in np.random.SeedSequence(root_seed).spawn(replications)]
    model.replications = [{"seed": s} for s in seeds]
    model.outcomes = [ScalarOutcome(k, function=np.mean) for k in OUTCOMES]
    return model


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--experiments", type=int, default=20)
    ap.add_argument("--policies", type=int, default=3)
    ap.add_argument("--replications", type=int, default=3)
    ap.add_argument("--scale", type=float, default=1.0, help="world.population_scale")
    args = ap.parse_args()
    experiments, outcomes = perform_experiments(build(args.replications, scale=args.scale),
                                                scenarios=args.experiments, policies=args.policies)
    table = experiments[["bombardment_capacity", "phases"]].assign(**outcomes)
    print(table.to_string())


if __name__ == "__main__":
    main()
