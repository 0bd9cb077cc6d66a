#!/usr/bin/env bash
# The full hostile-input run: SEED and COUNT choose the cases (the same pair gives the same cases), every one run
# as its own amalgam process and judged clean or not (see src/test/java/dev/amalgam/hostile/HostileRun.java);
# then SIGTERM at random moments of real merges, and a merge into a full filesystem (where this machine lets a
# test mount a small tmpfs; it says so where it does not). Prints `N/M hostile cases handled cleanly`.
# CI runs a quick subset of the same suite (seed 1, 21 cases) in `mvn -B test`.
# Usage: scripts/fuzz.sh [SEED] [COUNT]      (defaults: 1 and 700)
set -euo pipefail
cd "$(dirname "$0")/.."
seed=${1:-1}
count=${2:-700}
status=0
mvn -B -q test -Dtest='HostileFuzzTest,SignalDuringMergeTest,DiskFullTest' -Dsurefire.failIfNoSpecifiedTests=false \
  -Dfuzz.seed="$seed" -Dfuzz.cases="$count" > target/fuzz.log 2>&1 || status=$?
# The report lines, then what failed, if anything; the whole log stays in target/fuzz.log.
grep -E 'clean|signals during merges|^case |^    |skipped|Tests run:.*Fail' target/fuzz.log | grep -v '^\[INFO\]' || true
exit $status
