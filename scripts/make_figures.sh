#!/usr/bin/env bash
# Regenerate the README's figures (docs/figures/) from a real comparison batch of the scenario
# library, with the project's own commands. Takes a few minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${NEGSIM:-.venv/bin/negsim}
LIB="baseline phased_disarmament safe_passage phased_and_passage open_jordan_border
     open_golan_frontier ceasefire_enforced no_mediator intensified_bombing restrained_bombing
     aid_access nasib_truce"
files=(); for s in $LIB; do files+=("scenarios/$s.toml"); done
$N --quiet batch "${files[@]}" --replicates 4 --seed 2018 --workers 2 --out batches/library --overwrite
$N plot curves batches/library --to docs/figures/curves_displaced_total \
   --scenarios baseline,intensified_bombing,restrained_bombing,phased_and_passage,ceasefire_enforced
$N plot zones batches/library --to docs/figures/zones
$N plot compare batches/library --to docs/figures/compare
# the forecast: the calibrated baseline against the record to 5 July 2018, and what followed
$N --quiet batch scenarios/baseline.toml --replicates 20 --seed 2018 --workers 2 --out batches/forecast --overwrite
$N plot forecast batches/forecast --to docs/figures/forecast
$N --quiet run scenarios/baseline.toml --seed 1 --out runs/b1 --overwrite
$N plot map runs/b1 --day 16 --to docs/figures/map_day16
$N plot timeline runs/b1 --to docs/figures/timeline
$N --quiet sensitivity scenarios/baseline.toml --method morris --samples 3 --workers 2 \
   --out batches/library/sensitivity
cp batches/library/sensitivity/sensitivity.png docs/figures/sensitivity.png
$N report batches/library --sensitivity batches/library/sensitivity
rm -f docs/figures/*.svg   # keep the repository small: PNGs only
