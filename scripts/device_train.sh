#!/usr/bin/env bash
# Train the generator from a training pack on a lent GPU machine, within a time budget, and leave
# what comes back (config, history, the weights cut into parts) under $OUT.
# docs/generator.md, "Training on a lent GPU", has the whole procedure and why each step is there.
#
#   PACK=packs/motionbeat SIZE=small MINUTES=8 NAME=generator-gpu bash scripts/device_train.sh
#
# Settings (environment): PACK (pack folder), SIZE (generator size), MINUTES (time budget of the
# training run), NAME (checkpoint stem under $OUT), BATCH, LR, SEED, STEPS (upper bound),
# EXTRA (more `python -m generator.train` arguments), PART_BYTES (largest file handed back:
# the device tool returns files of at most 16 MiB), WHEELS (a folder of wheels to install first:
# what the machine's Python lacks; `roma` and `diffusers` there, see the docs), RUN_DIR (where
# the run writes: by default checkpoints/, where the weights will live once back, so the
# encoder's stem the config records relative to it stays right; the training state stays there).
set -euo pipefail

PACK=${PACK:-packs/motionbeat}
SIZE=${SIZE:-small}
MINUTES=${MINUTES:-8}
NAME=${NAME:-generator-gpu}
BATCH=${BATCH:-64}
LR=${LR:-2e-4}
SEED=${SEED:-0}
STEPS=${STEPS:-200000}
EXTRA=${EXTRA:---noise-power 1 --kinetic-weight 300}
PART_BYTES=${PART_BYTES:-15M}
WHEELS=${WHEELS:-packs/wheels}
RUN_DIR=${RUN_DIR:-checkpoints}
: "${OUT:?set OUT to the folder whose files come back}"

PYTHON=${PYTHON:-python3}
if compgen -G "$WHEELS/*.whl" > /dev/null; then
    site=$(mktemp -d)
    "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target "$site" \
        "$WHEELS"/*.whl
    export PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1

"$PYTHON" - <<'EOF'
import torch
print(f"torch {torch.__version__}, cuda {torch.cuda.is_available()}"
      + (f" ({torch.cuda.get_device_name(0)})" if torch.cuda.is_available() else ""))
EOF

run=$RUN_DIR  # only what $OUT holds comes back: not the training state
mkdir -p "$run"
# shellcheck disable=SC2086  # EXTRA is a list of arguments
"$PYTHON" -m generator.train --pack "$PACK" --out "$run/$NAME" --size "$SIZE" \
    --steps "$STEPS" --batch-size "$BATCH" --lr "$LR" --seed "$SEED" \
    --time-budget "$MINUTES" --quiet $EXTRA 2>&1 | tee "$OUT/$NAME.log"

cp "$run/$NAME.json" "$run/$NAME.train.json" "$OUT/"
split -b "$PART_BYTES" -d "$run/$NAME.safetensors" "$OUT/$NAME.safetensors.part-"
(cd "$run" && sha256sum "$NAME.safetensors") > "$OUT/$NAME.safetensors.sha256"  # `sha256sum -c`
ls -l "$OUT"
