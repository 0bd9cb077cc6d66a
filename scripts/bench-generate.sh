#!/usr/bin/env bash
# Generation benchmark against transformers, on one random checkpoint, in one run:
#   1. writes (or reuses) a random checkpoint at CONFIG's shape with `amalgam random-model`;
#   2. `amalgam bench generate --json` on it;
#   3. scripts/hf_generate_baseline.py (transformers eager generate, bf16) on it, same sizes;
#   4. prints one JSON with both and their ratios (saved as OUT/bench-generate.json), then a short table last.
# A failure of either side is recorded in the JSON and the other side still runs; the exit status is 1 if
# amalgam failed, 0 otherwise (an unavailable baseline is reported, not an error).
#
# usage: scripts/bench-generate.sh [--config CONFIG.json] [--model-dir DIR] [--prompt-len N] [--new-tokens N]
#                                  [--batch 1,8,32] [--device auto|cuda|cpu] [--out DIR]
# amalgam runs from, in order: $AMALGAM_JAVA with $AMALGAM_CP (as gpu-check.sh passes them), ./amalgam (a Maven
# build), or the staged GPU bundle build/gpu-bundle (which has no CPU backend).
set -uo pipefail
cd "$(dirname "$0")/.."

config=examples/deepseek-r1-distill-qwen-1.5b.config.json
model_dir=/tmp/amalgam-bench/a  # where `amalgam bench merge` writes the same 1.5B checkpoint (seed 1)
prompt_len=512
new_tokens=256
batches=1,8,32
device=auto
out=""
while (( $# )); do
  case "$1" in
    --config) config=$2; shift 2 ;;
    --model-dir) model_dir=$2; shift 2 ;;
    --prompt-len) prompt_len=$2; shift 2 ;;
    --new-tokens) new_tokens=$2; shift 2 ;;
    --batch) batches=$2; shift 2 ;;
    --device) device=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "unknown argument: $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
out=${out:-$(mktemp -d /tmp/bench-generate.XXXX)}
mkdir -p "$out"

if [[ -n "${AMALGAM_JAVA:-}" ]]; then
  amalgam=("$AMALGAM_JAVA" -Xmx8g -cp "$AMALGAM_CP" dev.amalgam.cli.Main)
elif [[ -f target/amalgam-0.1.0.jar ]]; then
  amalgam=(./amalgam)
elif [[ -x build/gpu-bundle/runtime/bin/java ]]; then
  cp=build/gpu-bundle/amalgam.jar
  for jar in build/gpu-bundle/lib/*.jar; do cp="$cp:$jar"; done
  amalgam=(build/gpu-bundle/runtime/bin/java -Xmx8g -cp "$cp" dev.amalgam.cli.Main)
else
  echo "error: amalgam is not built (mvn -o -q package -DskipTests) and no GPU bundle is staged" >&2
  exit 1
fi

# 1. The checkpoint: reused when its config.json is CONFIG byte for byte.
if [[ -f "$model_dir/config.json" ]] && cmp -s "$config" "$model_dir/config.json"; then
  echo "reusing checkpoint $model_dir" >&2
else
  mkdir -p "$(dirname "$model_dir")"
  echo "writing random checkpoint $model_dir from $config" >&2
  if ! "${amalgam[@]}" random-model --config "$config" "$model_dir" --seed 1 --overwrite --json \
      > "$out/random-model.json" 2> "$out/random-model.log"; then
    echo "error: random-model failed; see $out/random-model.log" >&2
    tail -5 "$out/random-model.log" >&2
    exit 1
  fi
fi

sizes=(--prompt-len "$prompt_len" --new-tokens "$new_tokens" --batch "$batches")

# 2. amalgam.
amalgam_status=0
"${amalgam[@]}" bench generate --model "$model_dir" "${sizes[@]}" --device "$device" --json \
  > "$out/amalgam.json" 2> "$out/amalgam.log" || amalgam_status=$?

# 3. transformers, on the device amalgam was asked for (auto: CUDA when torch sees one).
python3 scripts/hf_generate_baseline.py --model "$model_dir" "${sizes[@]}" --device "$device" \
  > "$out/transformers.json" 2> "$out/transformers.log"
baseline_status=$?

# 4. One JSON, then the table.
python3 - "$out" "$amalgam_status" "$baseline_status" "$model_dir" "$prompt_len" "$new_tokens" "$batches" <<'PY'
import json, os, sys
out, amalgam_status, baseline_status, model_dir, prompt_len, new_tokens, batches = sys.argv[1:]

def load(name, status, failure):
    path = os.path.join(out, name + ".json")
    log = os.path.join(out, name + ".log")
    lines = open(log, errors="replace").read().strip().splitlines() if os.path.exists(log) else []
    # The first error lines say what went wrong; a stack trace's last lines rarely do.
    tail = [l for l in lines if l.startswith(("error", "Exception", "Traceback", "RuntimeError"))][:3] or lines[-5:]
    try:
        data = json.load(open(path))
    except (OSError, ValueError):
        data = None
    if status != "0" and not (data and data.get("available") is False):
        return {failure: f"exit status {status}", "log_tail": tail}
    return data if data is not None else {failure: "no JSON output", "log_tail": tail}

amalgam = load("amalgam", amalgam_status, "error")
hf = load("transformers", baseline_status, "error")
result = {
    "benchmark": "generate vs transformers",
    "checkpoint": model_dir,
    "prompt_len": int(prompt_len), "new_tokens": int(new_tokens), "batches": [int(b) for b in batches.split(",")],
    "amalgam": amalgam,
    "transformers": hf,
    "ratios": [],
}
a_runs = {r["batch"]: r for r in amalgam.get("runs", [])}
h_runs = {r["batch"]: r for r in hf.get("runs", [])} if hf.get("available") else {}
for b in result["batches"]:
    if b in a_runs and b in h_runs:
        a, h = a_runs[b], h_runs[b]
        result["ratios"].append({
            "batch": b,
            "decode_amalgam_over_transformers": a["decode_tok_s"] / h["decode_tok_s"],
            "prefill_amalgam_over_transformers": a["prefill_tok_s"] / h["prefill_tok_s"],
            "batch_ttft_transformers_over_amalgam": h["ttft_ms"] / a["batch_ttft_ms"],
        })
json.dump(result, open(os.path.join(out, "bench-generate.json"), "w"), indent=1)
print(json.dumps(result))

print()
print(f"generate benchmark, results in {out}")
if "error" in amalgam:
    print(f"amalgam       FAILED ({amalgam['error']}): {' | '.join(amalgam.get('log_tail', []))[:300]}")
else:
    c = amalgam["batch1_ceiling"]
    ratio = f", batch 1 at {100 * c['ratio']:.1f}% of it" if "ratio" in c else ""
    print(f"amalgam       {amalgam['device']}; {amalgam['memory_bandwidth']['gb_per_s']:.0f} GB/s, "
          f"batch-1 ceiling {c['decode_tok_s']:.1f} tok/s{ratio}")
if hf.get("available") is False:
    print(f"transformers  baseline unavailable: {hf['reason']}")
elif "error" in hf:
    print(f"transformers  FAILED ({hf['error']}): {' | '.join(hf.get('log_tail', []))[:300]}")
else:
    print(f"transformers  {hf['transformers']} on {hf['device']}")
print(f"{'batch':>5} {'amalgam prefill':>16} {'hf prefill':>11} {'amalgam decode':>15} {'hf decode':>10} {'decode ratio':>13}")
for b in result["batches"]:
    a, h = a_runs.get(b), h_runs.get(b)
    fmt = lambda run, key: f"{run[key]:.1f}" if run else "-"
    ratio = f"{a['decode_tok_s'] / h['decode_tok_s']:.2f}x" if a and h else "-"
    print(f"{b:>5} {fmt(a, 'prefill_tok_s'):>16} {fmt(h, 'prefill_tok_s'):>11} {fmt(a, 'decode_tok_s'):>15} "
          f"{fmt(h, 'decode_tok_s'):>10} {ratio:>13}")
PY
exit $(( amalgam_status != 0 ))
