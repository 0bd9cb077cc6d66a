#!/usr/bin/env bash
# The GPU check, in two halves (see /work/shared/gpu/README.md for the machine):
#   scripts/gpu-check.sh stage   on the build machine: build, then stage a self-contained bundle (jlink
#                                runtime, jars, test classes, JUnit console) into build/gpu-bundle/, packed
#                                as build/gpu-bundle.tar.xz: that archive is what travels (carry it alone).
#   scripts/gpu-check.sh run     on the GPU machine, from the repository root, with build/gpu-bundle.tar.xz
#                                carried: checks what the machine lacks, unpacks, then the smallest first:
#                                doctor, a smoke test (merge kernel bit-exact, golden generation), the
#                                gpu-tagged tests, the merge benchmark against torch (scripts/bench-merge.sh),
#                                config to first token, each kernel against the measured ceilings (amalgam bench
#                                kernels), the generation benchmark against transformers at 512 prompt tokens
#                                and at 2048 (the prefill target). Each step has its own time limit, all within
#                                540 s, and writes its results under $OUT as soon as it ends; the summary says
#                                which steps passed, failed, timed out or were skipped for time. Call it with
#                                a device timeout of 590 s or more.
# The GPU machine has no JDK and no Maven, and at most 64 MiB travel to it (archive + tracked files). The
# JVM's libjvm.so is most of the bundle and compresses well, hence the xz archive.
set -euo pipefail
cd "$(dirname "$0")/.."

BUNDLE=build/gpu-bundle
ARCHIVE=build/gpu-bundle.tar.xz
BUNDLE_LIMIT_MIB=60
CARRY_LIMIT_MIB=63
JUNIT_PLATFORM_VERSION=1.14.1
# The runtime leaves out java.desktop (JFreeChart's AWT, for sweep charts, 4 MB) to fit the carry limit;
# doctor --json in the run half proves Jackson works without java.sql and java.beans. java.xml (4 MB) would
# only serve the JUnit console's XML reports, so the tree log stands in for them.
MODULES=java.base,jdk.unsupported,java.logging,java.management

mib() { echo $(( ($1 + 1048575) / 1048576 )); }

stage() {
  mvn -o -q package -DskipTests
  # The GPU variant of the cluster bundle (scripts/dist.sh): runtime, jars without libtorch, bin/amalgam.
  DIST_MODULES=$MODULES scripts/dist.sh tree gpu "$BUNDLE"
  # Only the compiled tests: their resources (goldens, fixtures) are tracked files under src/test/resources,
  # which travel with the working tree and go on the class path there.
  local classes="$PWD/$BUNDLE/test-classes"
  mkdir -p "$classes"
  (cd target/test-classes && find . -name '*.class' -exec cp --parents {} "$classes" \;)
  cp "$HOME/.m2/repository/org/junit/platform/junit-platform-console-standalone/$JUNIT_PLATFORM_VERSION/junit-platform-console-standalone-$JUNIT_PLATFORM_VERSION.jar" \
    "$BUNDLE/junit-console.jar"

  rm -f "$ARCHIVE"
  tar -C "$(dirname "$BUNDLE")" -cf - "$(basename "$BUNDLE")" | xz -9 -T2 > "$ARCHIVE"

  local bundle_bytes tracked_bytes
  bundle_bytes=$(stat -c %s "$ARCHIVE")
  # Tracked files travel too (the tests read examples/, cuda-kernels/ and src/test/resources/ from the tree).
  tracked_bytes=$(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
  echo "bundle $ARCHIVE: $(mib "$bundle_bytes") MiB (limit $BUNDLE_LIMIT_MIB; $(du -sh "$BUNDLE" | cut -f1) unpacked); with tracked files: $(mib $((bundle_bytes + tracked_bytes))) MiB (limit $CARRY_LIMIT_MIB)"
  du -sh "$BUNDLE"/* | sort -h
  if (( bundle_bytes > BUNDLE_LIMIT_MIB * 1048576 )); then
    echo "error: bundle is over $BUNDLE_LIMIT_MIB MiB" >&2; exit 1
  fi
  if (( bundle_bytes + tracked_bytes > CARRY_LIMIT_MIB * 1048576 )); then
    echo "error: bundle plus tracked files are over $CARRY_LIMIT_MIB MiB" >&2; exit 1
  fi
}

# The CUDA 13.0 libraries, for the Java processes only: Python's torch must keep binding its own cuBLAS.
CUDA_LIBS=/usr/local/cuda-13.0/targets/x86_64-linux/lib
# One device call may run 600 s, and the machine is lent 15 minutes in all: every step fits in BUDGET_S.
BUDGET_S=540

# step NAME LIMIT_S COMMAND...: runs COMMAND under its own time limit if the budget still holds that limit,
# and records at once in $OUT/steps.tsv whether it passed, failed, timed out or was skipped for time.
step() {
  local name=$1 limit=$2
  shift 2
  local left=$(( BUDGET_S - (SECONDS - START) ))
  if (( left < limit )); then
    printf '%s\tskipped\tneeds %s s, %s s of the budget left\n' "$name" "$limit" "$left" >> "$OUT/steps.tsv"
    STATUS=1
    return
  fi
  local begin=$SECONDS code=0
  timeout "$limit" "$@" || code=$?
  local result=passed
  if (( code == 124 )); then result="timed out"; elif (( code != 0 )); then result="failed (exit $code)"; fi
  printf '%s\t%s\t%s s of %s\n' "$name" "$result" "$(( SECONDS - begin ))" "$limit" >> "$OUT/steps.tsv"
  [[ $result == passed ]] || STATUS=1
}

# What the machine may lack, said plainly rather than failing later and obscurely.
preflight() {
  local lacks=()
  ls "$CUDA_LIBS"/libnvrtc-builtins.so* >/dev/null 2>&1 || lacks+=("libnvrtc-builtins in $CUDA_LIBS (NVRTC cannot compile)")
  ls /usr/lib/libcuda.so.1 /usr/lib/x86_64-linux-gnu/libcuda.so.1 >/dev/null 2>&1 || lacks+=("libcuda.so.1 (no driver)")
  python3 -c "import lzma" 2>/dev/null || lacks+=("Python's lzma (the bundle is unpacked with tar instead)")
  python3 -c "import torch, transformers, safetensors" 2>/dev/null || lacks+=("python3 with torch, transformers and safetensors (no baselines)")
  { nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
    ls -l /usr/lib/libcuda.so.1 "$CUDA_LIBS"/lib{cudart,nvrtc,cublas,cublasLt}.so.13 || true
    printf 'lacks: %s\n' "${lacks[@]:-nothing}"
  } > "$OUT/machine.txt" 2>&1
}

# The bundle's java with the CUDA libraries on its library path, as one command for the scripts to call.
java_wrapper() {
  cat > "$BUNDLE/java-cuda" <<SH
#!/usr/bin/env bash
LD_LIBRARY_PATH=$CUDA_LIBS:/usr/lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH} exec "$PWD/$BUNDLE/runtime/bin/java" "\$@"
SH
  chmod +x "$BUNDLE/java-cuda"
}

run() {
  START=$SECONDS
  STATUS=0
  OUT=${OUT:-$(mktemp -d /tmp/gpu-check.XXXX)}
  mkdir -p "$OUT"
  : > "$OUT/steps.tsv"
  preflight
  if [[ ! -x "$BUNDLE/runtime/bin/java" && -f "$ARCHIVE" ]]; then
    if python3 -c "import lzma" 2>/dev/null; then
      python3 -m tarfile -e "$ARCHIVE" "$(dirname "$BUNDLE")"
    else
      tar -C "$(dirname "$BUNDLE")" -xJf "$ARCHIVE"
    fi
  fi
  [[ -x "$BUNDLE/runtime/bin/java" ]] || { echo "error: no $BUNDLE; run '$0 stage' and carry $ARCHIVE" >&2; exit 1; }
  # Java and the kernel cache want a writable home; a bare machine may not give one.
  if [[ ! -w ${HOME:-/nonexistent} ]]; then
    echo "note: HOME (${HOME:-unset}) is not writable; using $OUT/home" >> "$OUT/machine.txt"
    export HOME="$OUT/home"
    mkdir -p "$HOME"
  fi
  export AMALGAM_CACHE_DIR="$OUT/cubin-cache"
  java_wrapper
  local java="$BUNDLE/java-cuda"
  local cp="$BUNDLE/amalgam.jar"
  for jar in "$BUNDLE"/lib/*.jar; do cp="$cp:$jar"; done
  local tests=(-Xmx8g -cp "$BUNDLE/junit-console.jar:$cp:$BUNDLE/test-classes:src/test/resources"
    org.junit.platform.console.ConsoleLauncher execute --details=tree --disable-banner --disable-ansi-colors)

  # Smallest first: if the GPU path is broken, these say how within the first minute.
  step doctor 20 bash -c '"$0" -cp "$1" dev.amalgam.cli.Main doctor --json > "$2/doctor.json" 2> "$2/doctor.err"' \
    "$java" "$cp" "$OUT"
  step smoke 60 bash -c '"$0" "${@:2}" --select-class dev.amalgam.merge.CudaMergeKernelGpuTest \
    --select-class dev.amalgam.model.CudaTransformerGoldenGpuTest > "$1/smoke.log" 2>&1' "$java" "$OUT" "${tests[@]}"
  # The rest of the gpu tests; the smoke test's classes already ran.
  step gpu-tests 150 bash -c '"$0" "${@:3}" --scan-class-path "$2" --include-tag gpu \
    --exclude-classname ".*(CudaMergeKernelGpuTest|CudaTransformerGoldenGpuTest)" > "$1/gpu-tests.log" 2>&1' \
    "$java" "$OUT" "$BUNDLE/test-classes" "${tests[@]}"
  # The merge against the torch baseline; bench-merge.sh saves amalgam's JSON to $OUT before the baseline runs.
  step bench-merge 120 env OUT="$OUT" AMALGAM="$java -Xmx8g -cp $cp dev.amalgam.cli.Main" BASELINE_TIMEOUT=45 \
    bash -c 'scripts/bench-merge.sh cuda /tmp/amalgam-bench > "$OUT/bench-merge.json" 2> "$OUT/bench-merge.log"'
  # From the merge config to the first token, in memory on the GPU, against reading the inputs once.
  if [[ -f /tmp/amalgam-bench/linear.yml ]]; then
    step first-token 40 bash -c '"$0" -Xmx8g -cp "$1" dev.amalgam.cli.Main bench first-token \
      /tmp/amalgam-bench/linear.yml --device cuda --json > "$2/bench-first-token.json" 2> "$2/bench-first-token.log"' \
      "$java" "$cp" "$OUT"
  else
    printf 'first-token\tskipped\tbench-merge wrote no checkpoints\n' >> "$OUT/steps.tsv"
  fi
  # Each op of a decode step and of a 2048-token prefill, at the 1.5B shape, against ceilings measured in the run.
  step bench-kernels 35 bash -c '"$0" -Xmx8g -cp "$1" dev.amalgam.cli.Main bench kernels --device cuda \
    > "$2/bench-kernels.txt" 2> "$2/bench-kernels.log"' "$java" "$cp" "$OUT"
  # Generation against transformers on the same random 1.5B checkpoint; BENCH_GENERATE_ARGS overrides the sizes.
  step bench-generate 75 env AMALGAM_JAVA="$java" AMALGAM_CP="$cp" bash -c 'scripts/bench-generate.sh --device cuda \
    --out "$0/bench-generate" ${1:---prompt-len 512 --new-tokens 64 --batch 1,8,32} > "$0/bench-generate.txt" 2>&1' \
    "$OUT" "${BENCH_GENERATE_ARGS:-}"
  # The prefill target is set at 2048 prompt tokens: one prompt, a few tokens, both sides again.
  step bench-prefill 40 env AMALGAM_JAVA="$java" AMALGAM_CP="$cp" bash -c 'scripts/bench-generate.sh --device cuda \
    --out "$0/bench-prefill" --prompt-len 2048 --new-tokens 4 --batch 1 > "$0/bench-prefill.txt" 2>&1' "$OUT"

  summary "$OUT"
  return $STATUS
}

summary() {
  local out=$1
  echo
  echo "== gpu-check results in $out =="
  grep -E "GPU|H100|H200|NVIDIA|^lacks|^note" "$out/machine.txt" | head -4 || true
  column -t -s $'\t' "$out/steps.tsv" 2>/dev/null | sed 's/^/step          /' || sed 's/^/step          /' "$out/steps.tsv"
  python3 - "$out" <<'PY' || true
import json, os, sys
out = sys.argv[1]
try:
    doctor = json.load(open(os.path.join(out, "doctor.json")))
    cuda = doctor["cuda"]
    gpus = ", ".join(f'{g["name"]} (sm {g["computeMajor"]}.{g["computeMinor"]})' for g in cuda["gpus"])
    print(f'doctor        cuda {"available" if cuda["available"] else "UNAVAILABLE: " + str(cuda["reason"])}, '
          f'driver {cuda["driverVersion"]}, nvrtc {cuda["nvrtcVersion"]}, {gpus}')
except Exception as e:
    print(f"doctor        no report ({e})")
bench = os.path.join(out, "bench-merge.json")
ours = os.path.join(out, "merge-amalgam.json")  # saved before the baseline ran, in case it failed
if os.path.exists(bench) and os.path.getsize(bench) > 0 or os.path.exists(ours):
    b = json.load(open(bench))["amalgam"] if os.path.exists(bench) and os.path.getsize(bench) > 0 else json.load(open(ours))
    f = b["floor"]
    for when in ("before", "after"):
        w = f[when]
        print(f'floor {when:7s} read {w["read_s"]:.2f} s + write {w["write_s"]:.2f} s = {w["total_s"]:.2f} s ({b["page_cache"]})')
    for m in b["merges"]:
        torch = f', {m["speedup_over_torch"]:.2f} x faster than torch ({m["torch_seconds"]:.2f} s)' if "torch_seconds" in m else ""
        print(f'merge         {m["device"]}: {m["seconds"]:.2f} s, {m["ratio_to_floor"]:.2f} x floor, {m["gb_per_s"]:.2f} GB/s{torch}')
    first = os.path.join(out, "bench-first-token.json")
    if os.path.exists(first) and os.path.getsize(first) > 0:
        t = json.load(open(first))
        print(f'first token   {t["merge_to_first_token_s"]:.2f} s from config to first token, {t["ratio_to_read"]:.2f} x '
              f'reading the inputs ({t["read_inputs_s"]:.2f} s, {t["page_cache"]})')
    if "kernel" in b:
        k = b["kernel"]
        print(f'merge kernel  {k["kernel_tb_per_s"]:.2f} TB/s vs copy {k["copy_tb_per_s"]:.2f} TB/s: '
              f'{100 * k["kernel_to_copy_bandwidth"]:.0f}% of copy bandwidth')
PY
  # The CUDA generation backend against the goldens: logits error, and greedy agreement vs transformers' bf16.
  grep -hE "^cuda (a|b|merged)" "$out/smoke.log" "$out/gpu-tests.log" 2>/dev/null | sed 's/^/golden        /' || true
  # Decode with CUDA graphs against the same kernels launched one by one (same tokens asserted; speed is information).
  grep -E "^cuda graphs " "$out/gpu-tests.log" | sed 's/^cuda graphs /graphs        /' || true
  local log
  for log in smoke gpu-tests; do
    grep -E "tests (successful|failed|found)" "$out/$log.log" 2>/dev/null | tr -d '[]' \
      | sed -E "s/^ *([0-9]+) tests (.*[a-z]) *$/$log: tests \\2: \\1/" || true
  done
  if [[ -s "$out/bench-kernels.txt" ]]; then
    cat "$out/bench-kernels.txt"
  else
    echo "bench kernels: $(tail -2 "$out/bench-kernels.log" 2>/dev/null | tr '\n' ' ')"
  fi
  local bench
  for bench in bench-generate bench-prefill; do
    if grep -q "^generate benchmark" "$out/$bench.txt" 2>/dev/null; then
      sed -n '/^generate benchmark/,$p' "$out/$bench.txt"
    else
      echo "$bench: $(tail -2 "$out/$bench.txt" 2>/dev/null | tr '\n' ' ')"
    fi
  done
}

case "${1:-}" in
  stage) stage ;;
  run) run ;;
  *) echo "usage: $0 stage|run" >&2; exit 2 ;;
esac
