"""A bug's report (pre-commit's habit): the version, the command line and the whole traceback go to a
log file under the cache folder, whose path the one-line message names; in GitHub Actions the
traceback is also printed, folded in a group, since the runner's files are gone after the job."""

from __future__ import annotations

import os
import shlex
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from prtriage import __version__
from prtriage.core.atomic import atomic_path
from prtriage.pipeline.model_cache import cache_dir

GROUP_TITLE = "prtriage: internal error traceback"


def report_text(error: BaseException, argv: Sequence[str]) -> str:
    when = time.strftime("%Y-%m-%d %H:%M:%S %z")
    trace = "".join(traceback.format_exception(error))
    return (
        f"prtriage {__version__}, Python {sys.version.split()[0]}, {sys.platform}, {when}\n"
        f"command: {shlex.join(['prtriage', *argv])}\n\n{trace}"
    )


def write_log(text: str) -> Path | None:
    """The report as a new file under <cache>/logs; None when it cannot be written (read-only home)."""
    folder = cache_dir() / "logs"
    path = folder / f"internal-error-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with atomic_path(path, per_process=True) as tmp:
            tmp.write_text(text, encoding="utf-8")
    except OSError:
        return None
    return path


def print_group(text: str, out: TextIO) -> None:
    """The report folded in the Actions log; workflow commands stopped, since it quotes the change."""
    from prtriage.github.actions import commands_stopped

    out.write(f"::group::{GROUP_TITLE}\n")
    with commands_stopped(out):
        out.write(text if text.endswith("\n") else text + "\n")
    out.write("::endgroup::\n")
    out.flush()
