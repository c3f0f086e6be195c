"""`classify` on the current branch (or --staged, --range): git's change, classified and printed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from prtriage.commands.common import classify_and_print, result_code, stderr
from prtriage.core.settings import Settings
from prtriage.pipeline import git


@dataclass(frozen=True)
class ClassifyOptions:
    cwd: Path
    settings: Settings
    spec: git.DiffSpec
    fmt: str = "text"
    title: str | None = None  # None: from the branch's commits
    body: str | None = None


def run(options: ClassifyOptions) -> int:
    from prtriage.pipeline.change import change_from_git  # keeps `prtriage --help` fast

    o = options
    change = change_from_git(o.cwd, o.spec, o.settings.exclude, o.title, o.body)
    err = stderr()
    result = classify_and_print(change, o.settings, o.fmt, err)
    return result_code(result, o.settings, err)
