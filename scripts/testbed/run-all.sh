#!/usr/bin/env bash
# Regenerates the whole testbed from seeds: data → training (Python/torch, CPU)
# → rollouts → activations → report (docs/testbed.md) → committed fixture (testbed/).
# Usage: scripts/testbed/run-all.sh [world-dir]   (default .cache/testbed)
# Needs /usr/bin/python3 with torch 1.13 and OpenBLAS (Debian: apt-get install
# python3-torch libopenblas0-pthread; without OpenBLAS torch falls back to the
# reference BLAS and training is ≈ 15× slower). Nothing in npm start / npm test
# needs Python. Run time: see docs/testbed.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
WORLD="${1:-.cache/testbed}"
PY="${PYTHON:-/usr/bin/python3}"
export OPENBLAS_NUM_THREADS=1
if ! "$PY" -c 'import torch' 2>/dev/null; then echo "run-all: $PY cannot import torch (apt-get install python3-torch)" >&2; exit 1; fi
if ! ls /usr/lib/x86_64-linux-gnu/libopenblas.so.0 >/dev/null 2>&1; then echo "run-all: warning: no OpenBLAS; training will be ≈ 15× slower (apt-get install libopenblas0-pthread)" >&2; fi
mkdir -p "$WORLD/logs"
t0=$(date +%s)
npx tsx scripts/testbed/gen-data.ts --world "$WORLD" --labelled 22000 --unlabelled 100000
# At most two trainings at once, one torch thread each: tb-gen (the large member) in one lane, the ≈ 0.1M members one after another in the other.
MODELS=$(node -e 'console.log(require("./scripts/testbed/models.json").models.map(m=>m.id).join(" "))')
"$PY" scripts/testbed/train.py --world "$WORLD" --model tb-gen > "$WORLD/logs/train-tb-gen.log" 2>&1 &
lane=$!
for m in $MODELS; do
  [ "$m" = tb-gen ] && continue
  "$PY" scripts/testbed/train.py --world "$WORLD" --model "$m" > "$WORLD/logs/train-$m.log" 2>&1
done
wait $lane
t1=$(date +%s)
npx tsx scripts/testbed/rollouts.ts --world "$WORLD"
npx tsx scripts/testbed/activations.ts --world "$WORLD"
t2=$(date +%s)
npx tsx scripts/testbed/report.ts --world "$WORLD"
npx tsx scripts/testbed/fixture.ts --world "$WORLD"
t3=$(date +%s)
echo "run-all: data+training $((t1 - t0)) s, rollouts+activations $((t2 - t1)) s, report+fixture $((t3 - t2)) s, total $((t3 - t0)) s"
