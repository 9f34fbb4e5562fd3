#!/usr/bin/env bash
# The two cases side by side (docs/cases.md): the same levers -- disarmament in phases, safe
# passage (granted in Daraa, withdrawn in Eastern Ghouta: each case's counterfactual), the
# corridors into government-held areas (removed), the bombardment (halved) -- applied to each
# case's baseline, in paired batches (common random numbers) at full population, and their
# effects against the baseline; then each baseline's outcomes over 20 seeds.
#
#   scripts/make_cases.sh                 # REPS=10 replicates per scenario (about 5 min on 2 cores)
#   REPS=3 scripts/make_cases.sh          # a quick trial
set -euo pipefail
cd "$(dirname "$0")/.."
N=.venv/bin/negsim
W=${WORKERS:+--workers $WORKERS}
REPS=${REPS:-10}
OUT=${OUT:-batches/cases}
DOCS=docs/cases
mkdir -p "$DOCS"

$N --quiet batch scenarios/baseline.toml scenarios/phased_disarmament.toml \
    scenarios/safe_passage.toml scenarios/daraa2018/no_corridors.toml \
    scenarios/restrained_bombing.toml -r "$REPS" $W --crn --seed 2018 --out "$OUT/daraa" --overwrite
$N --quiet effects "$OUT/daraa" --baseline baseline --out "$OUT/daraa/effects" \
    --outcomes peak_displaced,displaced_day16,deaths_day16,deaths_final,collapses,deal_day,evacuated,returned,regime_share_final
$N --quiet batch summarize "$OUT/daraa" --csv "$DOCS/daraa_summary.csv"

$N --quiet batch scenarios/ghouta2018/baseline.toml scenarios/ghouta2018/phased_disarmament.toml \
    scenarios/ghouta2018/no_safe_passage.toml scenarios/ghouta2018/no_corridor.toml \
    scenarios/ghouta2018/restrained_bombing.toml -r "$REPS" $W --crn --seed 2018 --out "$OUT/ghouta" --overwrite
$N --quiet effects "$OUT/ghouta" --baseline ghouta_baseline --out "$OUT/ghouta/effects" \
    --outcomes peak_displaced,deaths_day28,deaths_final,collapses,deal_day,evacuated,arrived_government,returned,regime_share_day28
$N --quiet batch summarize "$OUT/ghouta" --csv "$DOCS/ghouta_summary.csv"

cp "$OUT/daraa/effects/effects.md" "$DOCS/daraa_effects.md"
cp "$OUT/ghouta/effects/effects.md" "$DOCS/ghouta_effects.md"
cp "$OUT/daraa/effects/effects.png" "$DOCS/daraa_effects.png"
cp "$OUT/ghouta/effects/effects.png" "$DOCS/ghouta_effects.png"

# Eastern Ghouta's baseline over 20 seeds: the fit to day 28 and the forecast of the talks
$N --quiet batch scenarios/ghouta2018/baseline.toml -r 20 $W --seed 2018 --out "$OUT/ghouta20" --overwrite
.venv/bin/python scripts/ghouta_fit_table.py "$OUT/ghouta20" > "$DOCS/ghouta_fit.md"
$N --quiet plot forecast "$OUT/ghouta20" --record seeds/ghouta2018/targets.toml --days 60 \
    --to "$DOCS/ghouta_forecast"
$N --quiet plot zones "$OUT/ghouta20" --to "$DOCS/ghouta_zones"
echo "wrote $DOCS/"
