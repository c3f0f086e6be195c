#!/usr/bin/env bash
# A small repository to try prtriage on (README: the first screen): `main` with a division
# function, and the branch `fix`, checked out, that raises a clear error on division by zero.
# scripts/readme_examples.py makes the README's sample output on this very repository.
#
# Usage: bash examples/demo-repo.sh DIR      (DIR must not exist yet)
set -euo pipefail
dir="${1:?usage: bash examples/demo-repo.sh DIR}"
[ ! -e "$dir" ] || { echo "demo-repo.sh: $dir exists already: name a new folder" >&2; exit 2; }
export GIT_AUTHOR_NAME=Ada GIT_AUTHOR_EMAIL=ada@example.com GIT_AUTHOR_DATE=2026-01-01T12:00:00Z
export GIT_COMMITTER_NAME=Ada GIT_COMMITTER_EMAIL=ada@example.com GIT_COMMITTER_DATE=2026-01-01T12:00:00Z
export GIT_CONFIG_NOSYSTEM=1
mkdir -p "$dir/src"
cd "$dir"
git init -q -b main
printf 'def div(a, b):\n    return a / b\n' >src/app.py
git add .
git commit -qm init
git checkout -qb fix
printf "def div(a, b):\n    if b == 0:\n        raise ValueError('b is zero')\n    return a / b\n" >src/app.py
git commit -qam "Raise a clear error on division by zero" -m "It crashed deep in the stack."
echo "$dir: branch fix, one commit ahead of main; now: cd $dir && prtriage classify"
