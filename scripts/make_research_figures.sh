#!/usr/bin/env bash
# The README's worked research question, end to end with the project's own commands:
#   "Which disarmament terms, and what bombardment, avoid the talks' collapse?"
# Regenerates docs/figures/research_*.png and docs/research/*.md (the numbers the README points
# to) from real batches drawn over the calibration's posterior. About 5 minutes on 2 cores.
# Sizes can be overridden for a quick trial, e.g. SAMPLES=16 REPS=1 EFFECT_REPS=4 SCALE=0.05.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${NEGSIM:-.venv/bin/negsim}
SAMPLES=${SAMPLES:-128}        # LHS points over the levers
REPS=${REPS:-2}                # replicates per point (each with its own posterior draw)
EFFECT_REPS=${EFFECT_REPS:-20} # paired replicates per library scenario
SCALE=${SCALE:-1.0}            # world.population_scale (1 = the whole population)
WORKERS=${WORKERS:-2}
POSTERIOR=calibration/daraa2018/posterior.parquet
OUT=batches/research
small=(); [ "$SCALE" != "1.0" ] && small=(--sweep "world.population_scale=$SCALE")

# 1. Scenario discovery: a Latin hypercube over the disarmament terms (phases, safe passage,
#    the mediator's guarantees) and the bombardment (a multiplier of the calibrated capacity);
#    every run draws the calibrated parameters from the ABC posterior (no --crn here: each run
#    draws its own particle, so PRIM sees the parameter uncertainty as inputs too).
$N --quiet batch scenarios/baseline.toml --design lhs --samples "$SAMPLES" -r "$REPS" \
   --sweep "mediator.phases=1,2,3,4" --sweep "mediator.safe_passage=false,true" \
   --sweep "mediator.guarantees=0:1" --sweep "regime.bombardment_scale=0.25:2" "${small[@]}" \
   --posterior "$POSTERIOR" --seed 2018 --workers "$WORKERS" --out "$OUT/lhs" --overwrite
$N --quiet discover "$OUT/lhs" --where "collapses == 0" --out "$OUT/lhs/discovery/no_collapse"
$N --quiet discover "$OUT/lhs" --where "collapses == 0" \
   --params mediator.phases,mediator.safe_passage,mediator.guarantees,regime.bombardment_scale \
   --out "$OUT/lhs/discovery/no_collapse_levers"

# 2. Effects: the library's disarmament and bombardment scenarios against the baseline, paired
#    (--crn: replicate r has the same seed and the same posterior draw in every scenario).
$N --quiet batch scenarios/baseline.toml scenarios/phased_disarmament.toml scenarios/safe_passage.toml \
   scenarios/phased_and_passage.toml scenarios/restrained_bombing.toml scenarios/intensified_bombing.toml \
   -r "$EFFECT_REPS" --crn --posterior "$POSTERIOR" "${small[@]}" --seed 2018 --workers "$WORKERS" \
   --out "$OUT/effects" --overwrite
$N --quiet effects "$OUT/effects" --baseline baseline --out "$OUT/effects/effects"
$N --quiet plot curves "$OUT/effects" --scenarios baseline,phased_and_passage,intensified_bombing \
   --to "$OUT/effects/figures/curves_displaced_total"

# 3. Publish: figures (PNG) and the tables the README refers to.
mkdir -p docs/figures docs/research
cp "$OUT/lhs/discovery/no_collapse/trajectory.png" docs/figures/research_discovery.png
cp "$OUT/lhs/discovery/no_collapse/box.md" docs/research/no_collapse_box.md
cp "$OUT/lhs/discovery/no_collapse_levers/box.md" docs/research/no_collapse_levers_box.md
cp "$OUT/effects/effects/effects.png" docs/figures/research_effects.png
cp "$OUT/effects/effects/effects.md" docs/research/effects.md
cp "$OUT/effects/figures/curves_displaced_total.png" docs/figures/research_curves.png
echo "research figures: docs/figures/research_{discovery,effects,curves}.png; tables: docs/research/"
