#!/usr/bin/env bash
# Builds one CPU emulator per cuda-kernels/*.cu file into OUT_DIR (the Maven build runs this before the tests,
# into target/kernel-emulators): the .cu source compiled unchanged by g++ against cuda_shim.h, with
# kernel_driver.cpp as its main, which runs one launch described by a file (see kernel_driver.cpp). The tests'
# dev.amalgam.cuda.EmulatedGpu sends the typed launchers' launches to these executables.
# An emulator newer than its .cu file and the harness is kept, so a rebuild costs nothing.
# Usage: native/emulation/build.sh OUT_DIR
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?usage: native/emulation/build.sh OUT_DIR}
harness=native/emulation
mkdir -p "$out"
if ! command -v g++ >/dev/null; then
  # A developer's machine may lack g++: the emulation tests then skip, saying why. CI makes them fail instead.
  echo "kernel emulators: g++ is not on PATH, none built" >&2
  exit 0
fi
for source in cuda-kernels/*.cu; do
  name=$(basename "$source" .cu)
  target="$out/$name"
  if [[ -x $target && $target -nt $source && $target -nt $harness/cuda_shim.h && $target -nt $harness/kernel_driver.cpp ]]; then
    continue
  fi
  # The kernel_driver looks kernels up by name: X(name) for every extern "C" kernel of the file.
  kernels=$(sed -nE 's/^extern "C" __global__ void ([A-Za-z0-9_]+)\(.*/X(\1)/p' "$source" | tr '\n' ' ')
  # -ffp-contract=off: no a*b+c fused into an FMA, so the arithmetic is the kernels' own roundings.
  g++ -std=c++20 -O1 -ffp-contract=off -pthread -include "$harness/cuda_shim.h" \
    -DKERNEL_SOURCE="\"$PWD/$source\"" -DKERNELS="$kernels" "$harness/kernel_driver.cpp" -o "$target.tmp"
  mv "$target.tmp" "$target"
  echo "kernel emulator: $target"
done
