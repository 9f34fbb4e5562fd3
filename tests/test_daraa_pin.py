"""Daraa's and Eastern Ghouta's results, pinned: the same frozen scenario and seeds must give the same runs. Pinned
before issue 14 generalised the model (cases as data, pockets, blocs, bus evacuation, shelter in
place), and again, deliberately, when issue 14 was merged with issue 12's later changes (the
localities column; a scaled population's strike deaths scaled with it), before issue 16's
refactor of the tick into phases.

``tests/data/daraa_pin.toml`` is a frozen, self-contained copy of the fully resolved Daraa
baseline (at fe01530, population scale 0.1) and ``daraa_pin_levers.toml`` the same with safe
passage, open borders, phases, a truce and a handover; ``tests/data/daraa_pin.json`` holds, for 5
seeds each, every summary outcome, every timeseries column every 4 days and the count of events
of each kind, as the model produced them before the change. The refactor keeps the random draws
in the same order, so the comparison is exact (floats to 1e-9 relative).

``tests/data/ghouta_pin.toml`` is the same for the second case: a frozen copy of the fully resolved
Eastern Ghouta baseline (at ee3dca9, population scale 0.05), pinned before issue 16's refactor in
``tests/data/ghouta_pin.json`` (3 seeds, the same measures).

The rationing of the mediator's offers (``mediator.offers_per_day``, issue 12's second round) came
after both pins; the frozen scenarios set it to 1000 (no limit), so they still pin everything
else: the prelude and the surge (absent from the frozen plans) and the refactors since. The
limit on what a host town takes in (``flight.host_room``) came later still: its default is no
limit (the Daraa pins are unchanged), and the frozen Ghouta scenario sets it to 1e6 (no limit)
where the Ghouta baseline sets 1.

Regenerate a JSON only for a deliberate change of the model's results for that case, never to make
this test pass after a refactor: ``python tests/test_daraa_pin.py --write daraa`` (or ``ghouta``).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).parent / "data"
PIN = DATA / "daraa_pin.json"
SCENARIOS = ("daraa_pin.toml", "daraa_pin_levers.toml")
SEEDS = (1, 2, 3, 4, 5)
GHOUTA_PIN = DATA / "ghouta_pin.json"
GHOUTA_SCENARIOS = ("ghouta_pin.toml",)
GHOUTA_SEEDS = (1, 2, 3)
EVERY_DAYS = 4
#: Outcomes whose definition changed on purpose, with the tolerance that change allows: before
#: issue 14 the area handed over was parsed back from event text, where each town's km2 was
#: rounded to 0.1; it is now the events' exact ``value`` (at most 0.05 km2 off per town, 73 towns).
CHANGED_DEFINITION = {"area_handed_over_48h_after_collapse": 0.05 * 73}


def measure(scenario: str, seed: int) -> dict[str, Any]:
    """What the pin records of one run."""
    from sim.run import run_file

    res = run_file(DATA / scenario, seed=seed)
    ts = res.timeseries
    sample = ts[(ts["day"] % EVERY_DAYS).abs() < 1e-9]
    cols = [c for c in ts.columns if c not in ("time",)]
    return {
        "outcomes": {k: (None if isinstance(v, float) and math.isnan(v) else v)
                     for k, v in res.outcomes.items()},
        "timeseries": {c: sample[c].tolist() for c in cols},
        "events": {k: int(v) for k, v in res.events["kind"].value_counts().sort_index().items()},
        "n_timeseries_rows": len(ts),
    }


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def _check(want: dict[str, Any], got: dict[str, Any]) -> None:
    assert got["n_timeseries_rows"] == want["n_timeseries_rows"]
    for k, v in want["outcomes"].items():
        assert k in got["outcomes"], f"outcome {k} no longer resolves"
        if k in CHANGED_DEFINITION and v is not None:
            assert abs(got["outcomes"][k] - v) <= CHANGED_DEFINITION[k], (k, got["outcomes"][k], v)
            continue
        assert _same(got["outcomes"][k], v), (k, got["outcomes"][k], v)
    for c, vals in want["timeseries"].items():
        assert c in got["timeseries"], f"column {c} is gone"
        mism = [(i, x, y) for i, (x, y) in enumerate(zip(got["timeseries"][c], vals, strict=True))
                if not _same(x, y)]
        assert not mism, (c, mism[:5])
    assert got["events"] == want["events"]


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("seed", SEEDS)
def test_daraa_runs_are_unchanged_by_the_generalisation(scenario, seed):
    _check(json.loads(PIN.read_text())[scenario][str(seed)], measure(scenario, seed))


@pytest.mark.parametrize("scenario", GHOUTA_SCENARIOS)
@pytest.mark.parametrize("seed", GHOUTA_SEEDS)
def test_ghouta_runs_are_unchanged_by_the_refactor(scenario, seed):
    _check(json.loads(GHOUTA_PIN.read_text())[scenario][str(seed)], measure(scenario, seed))


if __name__ == "__main__" and "--write" in sys.argv:
    case = sys.argv[sys.argv.index("--write") + 1] if len(sys.argv) > sys.argv.index("--write") + 1 \
        else ""
    cases = {"daraa": (PIN, SCENARIOS, SEEDS), "ghouta": (GHOUTA_PIN, GHOUTA_SCENARIOS, GHOUTA_SEEDS)}
    if case not in cases:
        sys.exit("usage: python tests/test_daraa_pin.py --write daraa|ghouta")
    path, scenarios, seeds = cases[case]
    out = {sc: {str(s): measure(sc, s) for s in seeds} for sc in scenarios}
    path.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    print(f"wrote {path}")
