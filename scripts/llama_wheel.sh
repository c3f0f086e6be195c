#!/usr/bin/env bash
# Build llama-cpp-python once into a wheelhouse keyed by (version, CMAKE_ARGS, OS/arch, CPU flags),
# then install from it. pip's own wheel cache ignores CMAKE_ARGS, so a CPU wheel could be reused
# for a CUDA request (or a -march=native wheel on another CPU); this key prevents both.
set -euo pipefail
VERSION="${LLAMA_CPP_PYTHON_VERSION:-0.3.36}"
ARGS="${CMAKE_ARGS:--DLLAVA_BUILD=OFF}"
PY="${PYTHON:-python}"
# Native builds use the builder's instruction set: key on the CPU flags too.
CPU_FLAGS="$(grep -m1 -o -E '\b(avx512f|avx2|avx|fma|f16c)\b' /proc/cpuinfo 2>/dev/null | sort -u | tr '\n' ',' || true)"
PYTAG="$("$PY" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')"
KEY="$(printf '%s|%s|%s|%s|%s' "$VERSION" "$ARGS" "$(uname -sm)" "$CPU_FLAGS" "$PYTAG" | sha256sum | cut -c1-16)"
WHEELHOUSE="${PRTRIAGE_WHEELHOUSE:-$HOME/.cache/prtriage/wheels}/llama-cpp-python-$VERSION-$KEY"
if ! ls "$WHEELHOUSE"/llama_cpp_python-*.whl >/dev/null 2>&1; then
  echo "building llama-cpp-python $VERSION (CMAKE_ARGS=$ARGS) into $WHEELHOUSE; about 10 minutes on 2 cores" >&2
  mkdir -p "$WHEELHOUSE.tmp"
  CMAKE_ARGS="$ARGS" "$PY" -m pip wheel --no-deps --no-cache-dir -w "$WHEELHOUSE.tmp" "llama-cpp-python==$VERSION"
  mv "$WHEELHOUSE.tmp" "$WHEELHOUSE"   # atomic: a half-built wheelhouse never looks complete
fi
"$PY" -m pip install --no-deps "$WHEELHOUSE"/llama_cpp_python-*.whl
