"""mypy as pyproject.toml configures it, with train/ checked under its import name, prtriage.train.

pyproject.toml maps the folder train/ to the package prtriage.train (setuptools package-dir), a
mapping mypy cannot follow: plain `mypy` names those files train.* and, finding no prtriage.train,
treats every `from prtriage.train...` import as Any (ignore_missing_imports), so calls between
train modules go unchecked. This renames the sources, then builds and reports as `mypy` does.

    python scripts/typecheck.py [mypy arguments]   # none: the files in [tool.mypy]
"""

from __future__ import annotations

import sys
import time

from mypy import util
from mypy.fscache import FileSystemCache
from mypy.main import process_options, run_build
from mypy.modulefinder import BuildSource

PACKAGE_DIRS = {"train": "prtriage.train"}  # as [tool.setuptools] package-dir in pyproject.toml


def import_name(source: BuildSource) -> BuildSource:
    top, dot, rest = (source.module or "").partition(".")
    if top not in PACKAGE_DIRS:
        return source
    return BuildSource(source.path, PACKAGE_DIRS[top] + dot + rest, source.text, source.base_dir)


def main(argv: list[str]) -> int:
    fscache = FileSystemCache()
    sources, options = process_options(argv, fscache=fscache)
    sources = [import_name(s) for s in sources]
    # run_build prints each message as mypy does; the summary line and exit code follow mypy's main.
    _, messages, blockers = run_build(sources, options, fscache, time.time(), sys.stdout, sys.stderr)
    n_errors, n_notes, n_files = util.count_stats(messages)
    formatter = util.FancyFormatter(sys.stdout, sys.stderr, options.hide_error_codes)
    if n_errors:
        print(formatter.format_error(n_errors, n_files, len(sources), blockers=blockers, use_color=False))
        return 2 if blockers else 1
    print(formatter.format_success(len(sources), use_color=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
