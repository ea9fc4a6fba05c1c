#!/bin/bash
# Engine A/B: the engine bench of another built checkout (before) and of this one (after), one
# run a side in turn, for each model, so that both sides see the same machine load.
#   git worktree add ../before COMMIT && (cd ../before && npm ci && npm run build)
#   npm run build && bench/ab-engine.sh ../before [pairs=2] ["MODEL ROUNDS BATCH" ...]
# The other checkout reads ../shared from its own parent: link it there if needed.
set -euo pipefail
before=$(cd "$1" && pwd)
after=$(cd "$(dirname "$0")/.." && pwd)
pairs=${2:-2}
shift $(($# >= 2 ? 2 : 1))
specs=("$@")
[ ${#specs[@]} -gt 0 ] || specs=("resnet20 7 64" "mobilenetv2-w05 7 64" "mobilenetv2-imagenet 5 16")
for spec in "${specs[@]}"; do
  for pair in $(seq 1 "$pairs"); do
    for side in before after; do
      dir=$after
      [ $side = before ] && dir=$before
      echo "### $side ($dir) $spec, pair $pair, $(date +%T)"
      # shellcheck disable=SC2086
      (cd "$dir" && node dist/bench/engine.js $spec 2>&1 | grep -E '^\||kernels:')
    done
  done
done
