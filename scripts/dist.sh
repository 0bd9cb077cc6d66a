#!/usr/bin/env bash
# The self-contained bundle for Linux x86_64 nodes without Java: a jlink runtime, amalgam's jars (natives for
# other platforms, and the CUDA presets' libraries amalgam never calls, left out) and a launcher, bin/amalgam.
#   scripts/dist.sh                   builds amalgam, then both archives:
#     target/amalgam-VERSION-linux-x86_64.tar.gz       with the libtorch CPU backend (most of the size)
#     target/amalgam-VERSION-linux-x86_64-gpu.tar.gz   without it: merges on the CPU or a GPU, generation on a GPU
#   scripts/dist.sh tree full|gpu DIR  only the unpacked bundle, into DIR (what the GPU check builds on), from the
#                                      jars already built
# DIST_MODULES overrides the runtime's modules (the GPU check leaves java.desktop, the charts' AWT, out).
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=$(sed -n 's|^  <version>\(.*\)</version>|\1|p' pom.xml | head -1)
# jdeps names these for amalgam and its libraries: java.desktop is JFreeChart's AWT (sweep charts), java.sql
# and java.beans only optional parts of Jackson.
MODULES=${DIST_MODULES:-java.base,jdk.unsupported,java.logging,java.management,java.desktop}

# Drops the natives a jar bundles for other platforms (tokenizers, jna), and of the CUDA presets' JNI libraries
# all but the ones amalgam calls (driver/runtime, NVRTC, cuBLAS): NPP, cuDNN, cuSOLVER and the rest are 30 MB.
strip_other_platforms() {
  python3 - "$1" <<'PY'
import re, sys, zipfile, os
path = sys.argv[1]
native = re.compile(r'\.(so|dll|dylib|jnilib|a)$')
ours = re.compile(r'(^|/)linux[-_]x86[-_]64(/|$)')
unused_cuda = re.compile(r'org/bytedeco/cuda/.*/libjni(?!cudart\.so|nvrtc\.so|cublas\.so)[^/]*\.so$')
tmp = path + '.tmp'
with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, 'w', zipfile.ZIP_DEFLATED) as dst:
    for item in src.infolist():
        if native.search(item.filename) and not ours.search(item.filename):
            continue
        if unused_cuda.search(item.filename):
            continue
        dst.writestr(item, src.read(item.filename))
os.replace(tmp, path)
PY
}

# tree full|gpu DIR: the unpacked bundle.
tree() {
  local variant=$1 dir=$2
  [[ -f target/amalgam-$VERSION.jar ]] || { echo "error: build first (mvn -q package -DskipTests)" >&2; exit 1; }
  rm -rf "$dir"
  mkdir -p "$dir/lib" "$dir/bin"
  jlink --add-modules "$MODULES" --strip-debug --no-header-files --no-man-pages --output "$dir/runtime"
  # jlink's --strip-debug leaves the native symbols of libjvm.so (4 MB) in place.
  if command -v strip >/dev/null; then strip --strip-unneeded "$dir/runtime/lib/server/libjvm.so"; fi
  cp "target/amalgam-$VERSION.jar" "$dir/amalgam.jar"
  for jar in target/lib/*.jar; do
    case "$variant:$(basename "$jar")" in
      gpu:pytorch-*|gpu:openblas-*) continue ;;  # the CPU backend's libtorch and OpenBLAS: 108 MB
    esac
    cp "$jar" "$dir/lib/"
    strip_other_platforms "$dir/lib/$(basename "$jar")"
  done
  cat > "$dir/bin/amalgam" <<'SH'
#!/bin/sh
# amalgam with its own Java runtime: nothing needs to be installed. AMALGAM_JAVA_OPTS passes options to Java.
here=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
exec "$here/runtime/bin/java" ${AMALGAM_JAVA_OPTS:-} -cp "$here/amalgam.jar:$here/lib/*" dev.amalgam.cli.Main "$@"
SH
  chmod +x "$dir/bin/amalgam"
}

if [[ ${1:-} == tree ]]; then
  tree "${2:?usage: scripts/dist.sh tree full|gpu DIR}" "${3:?usage: scripts/dist.sh tree full|gpu DIR}"
  exit 0
fi
mvn -q -B package -DskipTests
for variant in full gpu; do
  name=amalgam-$VERSION-linux-x86_64$([[ $variant == gpu ]] && echo -gpu || true)
  tree "$variant" "target/dist/$name"
  tar -C target/dist -czf "target/$name.tar.gz" "$name"
  echo "target/$name.tar.gz: $(du -h "target/$name.tar.gz" | cut -f1) ($(du -sh "target/dist/$name" | cut -f1) unpacked)"
done
