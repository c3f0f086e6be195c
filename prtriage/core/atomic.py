"""Files written whole or not at all: under a temporary sibling name, renamed into place when complete.

Every output prtriage and `prtriage train` write goes through `atomic_path`, so no reader (a later
run, the model cache, llama.cpp) ever sees a half-written file under the final name.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from prtriage.core.errors import UsageError


def partial_path(path: Path, per_process: bool = False) -> Path:
    """`path.partial`; with `per_process`, a hidden name of this process's own (for a shared cache)."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp" if per_process else path.name + ".partial")


@contextmanager
def atomic_path(path: Path, keep_partial: bool = False, per_process: bool = False) -> Iterator[Path]:
    """A temporary sibling of `path` to write, renamed to `path` only when the block succeeds.

    A failed block removes it, unless `keep_partial`: an interrupted JSONL output keeps its finished
    lines there. `per_process` is for files several processes may write at once.
    """
    partial = partial_path(path, per_process)
    try:
        yield partial
        os.replace(partial, path)
    finally:
        if not keep_partial:
            partial.unlink(missing_ok=True)


@contextmanager
def atomic_output(path: Path, binary: bool = False) -> Iterator[IO[Any]]:
    """`path` opened for writing through `atomic_path`; the `.partial` file stays if the block fails.

    An interrupted run leaves its finished lines in the .partial file and never a half-written
    `path`.
    """
    with atomic_path(path, keep_partial=True) as partial:
        try:
            f = partial.open("wb") if binary else partial.open("w", encoding="utf-8")
        except OSError as e:
            raise UsageError(f"cannot write {partial}: {e.strerror}") from None
        with f:
            yield f
