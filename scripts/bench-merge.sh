#!/usr/bin/env bash
# The merge benchmark with its baseline, side by side in one run:
#   1. `amalgam bench merge` (random 1.5B-shaped checkpoints, the I/O floor, amalgam's merge per device);
#   2. where python3 has torch and safetensors, the same merge in torch (mergekit's bf16 arithmetic) on the
#      same checkpoints, on the CPU and, when torch sees one, the GPU; page caches dropped first where allowed.
# Prints one JSON object with both and the ratios. Usage: scripts/bench-merge.sh [DEVICES] [WORK_DIR]
#   AMALGAM           how to run amalgam (default: ./amalgam; the GPU check sets it to its bundled java)
#   OUT               if set, amalgam's own JSON is saved there first (merge-amalgam.json), so a baseline that
#                     fails or hangs never loses it
#   BASELINE_TIMEOUT  seconds each torch baseline may take (default 300); one that fails or runs out is
#                     reported as unavailable, with its reason
set -euo pipefail
cd "$(dirname "$0")/.."
devices=${1:-auto}
work=${2:-${TMPDIR:-/tmp}/amalgam-bench}
amalgam=${AMALGAM:-./amalgam}
mkdir -p "$work"
ours="$work.amalgam.json"

$amalgam bench merge --devices "$devices" --work-dir "$work" --json > "$ours"
if [[ -n ${OUT:-} ]]; then
  cp "$ours" "$OUT/merge-amalgam.json"
fi

# Each baseline is a JSON object: its numbers, or {"device", "unavailable": reason}. Failures stay local.
baselines="[]"
add_baseline() {
  baselines=$(python3 -c 'import json,sys; l=json.loads(sys.argv[1]); l.append(json.loads(sys.argv[2])); print(json.dumps(l))' \
    "$baselines" "$1")
}
if python3 -c "import torch, safetensors" 2>/dev/null; then
  for device in cpu cuda; do
    if [[ $device == cuda ]] && ! python3 -c "import torch; assert torch.cuda.is_available()" 2>/dev/null; then
      continue
    fi
    sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
    status=0
    result=$(timeout "${BASELINE_TIMEOUT:-300}" python3 scripts/torch_merge_baseline.py "$work/a" "$work/b" \
      "$work/torch-out" "$device" 2> "$work.torch-$device.log") || status=$?
    rm -rf "$work/torch-out"
    if [[ $status -eq 0 ]] && python3 -c 'import json,sys; json.loads(sys.argv[1])' "$result" 2>/dev/null; then
      add_baseline "$result"
    else
      reason=$([[ $status -eq 124 ]] && echo "timed out after ${BASELINE_TIMEOUT:-300} s" \
        || echo "exit $status: $(tail -c 300 "$work.torch-$device.log" | tr '\n' ' ')")
      echo "note: the torch baseline on $device failed ($reason)" >&2
      add_baseline "$(python3 -c 'import json,sys; print(json.dumps({"device": sys.argv[1], "unavailable": sys.argv[2]}))' \
        "$device" "$reason")"
    fi
  done
else
  echo "note: python3 with torch and safetensors is not here; the torch baseline is unavailable" >&2
fi

python3 - "$ours" "$baselines" <<'PY'
import json, sys
amalgam = json.load(open(sys.argv[1]))
baselines = json.loads(sys.argv[2])
for m in amalgam["merges"]:
    kind = "cuda" if m["device"].startswith("cuda") else "cpu"
    same = [b for b in baselines if b["device"] == kind and "seconds" in b]
    if same:
        m["torch_seconds"] = same[0]["seconds"]
        m["speedup_over_torch"] = same[0]["seconds"] / m["seconds"]
print(json.dumps({"amalgam": amalgam, "torch_baseline": baselines or "unavailable (no torch here)"}, indent=1))
PY
