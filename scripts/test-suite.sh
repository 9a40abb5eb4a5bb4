#!/usr/bin/env bash
# `npm test`'s test suite step: jest (arguments passed through), then the step's wall time, jest's start-up and global
# setup included (jest's own "Time:" line leaves them out). .ci/run checks this line against the budget.
set -uo pipefail
start=$(date +%s%N)
jest --passWithNoTests --ci "$@"
rc=$?
end=$(date +%s%N)
awk -v ns="$((end - start))" -v cores="$(nproc)" \
  'BEGIN { printf "test suite: %.1f s wall on %d cores (budget: 60 s on 2 cores)\n", ns / 1e9, cores }'
exit "$rc"
