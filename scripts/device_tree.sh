#!/usr/bin/env bash
# Slim the working tree for a call to a lent GPU machine, and restore it afterwards.
#
#   bash scripts/device_tree.sh slim      # take the tracked weights out of the working tree
#   bash scripts/device_tree.sh restore   # put them back from git
#   bash scripts/device_tree.sh size      # MiB that would travel, and the files that would
#
# A device call carries the working tree (tracked files and untracked files git does not ignore)
# plus the paths it names in `carry`, 64 MiB in all. The tracked weights (checkpoints/, 71 MiB)
# alone are over that, and a training on a pack needs none of them (the pack holds the encoder's
# features and names its hash). `slim` deletes them from the working tree only, after checking
# that they are the committed ones, so nothing is lost: `restore` checks them out of git again.
# Never commit between the two (`git status` lists them as deleted meanwhile).
# docs/generator.md, "Training on a lent GPU".
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"

weights() { git ls-files -- '*.safetensors'; }

case "${1:-}" in
slim)
    if ! git diff --quiet -- '*.safetensors'; then
        echo "error: tracked weights differ from the committed ones; commit or restore them first" >&2
        exit 2
    fi
    weights | while IFS= read -r f; do rm -f -- "$f"; done
    echo "weights out of the working tree; run 'bash scripts/device_tree.sh restore' after the call"
    ;;
restore)
    weights | xargs -r git checkout --
    git diff --quiet -- '*.safetensors' && echo "weights restored"
    ;;
size)
    { git ls-files -z; git ls-files -z --others --exclude-standard; } |
        while IFS= read -r -d '' f; do [ -f "$f" ] && stat -c %s -- "$f"; done |
        awk '{s += $1} END {printf "working tree that travels: %.2f MiB\n", s / 2^20}'
    shift
    for p in "$@"; do du -sb -- "$p" | awk '{printf "carry %s: %.2f MiB\n", $2, $1 / 2^20}'; done
    ;;
*)
    echo "usage: bash scripts/device_tree.sh slim|restore|size [carried paths...]" >&2
    exit 2
    ;;
esac
